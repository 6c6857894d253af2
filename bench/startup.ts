// Cold start of every compiled executable under the Node the snap ships (scripts/shipped-node.sh),
// against `node -e 0` with that same Node, measured in the same run: median wall time and median
// peak memory (max RSS) over RUNS runs each (default 15), runs interleaved round-robin so that drift
// hits all alike. Run: npm run bench:startup (or npx tsx bench/startup.ts after node build.mjs).
//
// Each executable runs as snapd runs it, through its `#!/usr/bin/env node` line, with the shipped
// Node first on PATH, and with $SNAP_USER_DATA set to a fresh folder, as snap run gives every hook
// and app: the executables keep V8's code cache there (build.mjs, docs/startup.md). Paths:
//   --help      answers and exits: the start-up itself (the figure the goal is about, ≤ 1.5×)
//   no cache    --help with NODE_DISABLE_COMPILE_CACHE=1: a first run, or an unusable folder
//   load        without arguments and outside the snap: each executable loads and evaluates the code
//               of its real work, then stops at its first look at the snap environment ("not
//               running inside the snap", exit 1); the real work then adds its own I/O
// The first run of each executable (not counted) writes its cache.
//
// Wall time: process.hrtime around spawnSync of `/usr/bin/time -f %M <program> ...` (the same
// wrapper for the baseline, so its small cost cancels in the ratio).
// Max RSS: GNU time's %M (the child's ru_maxrss in KiB, from wait4). Node cannot read a child's
// rusage itself, so without /usr/bin/time (scripts/setup-test-env.sh installs it) memory is n/a.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// BENCH_SNAP_DIR: another build laid out like build/snap. BENCH_BEFORE_DIR: an older build (e.g.
// `git worktree add`, `node build.mjs` there) measured in the same run, its rows marked "before".
const snapDir = process.env.BENCH_SNAP_DIR ?? join(root, 'build', 'snap');
const beforeDir = process.env.BENCH_BEFORE_DIR;
const gnuTime = '/usr/bin/time';
const haveTime = existsSync(gnuTime);
const node = execFileSync('bash', [join(root, 'scripts/shipped-node.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();

interface Executable {
  kind: 'hook' | 'command' | 'daemon';
  name: string;
  targets: string[];
}
// entries.mjs has no type declarations; a computed specifier keeps tsc from asking for them.
const { executables } = (await import(pathToFileURL(join(root, 'entries.mjs')).href)) as { executables: Executable[] };

type Path = 'help' | 'nocache' | 'load';
interface Run {
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** Exit status the run must end with. */
  status: number;
  ms: number[];
  kib: number[];
}
interface Subject {
  label: string;
  kind: string;
  bytes: number | undefined;
  runs: Partial<Record<Path, Run>>;
}

const userData = mkdtempSync(join(tmpdir(), 'bench-startup-'));
const env: NodeJS.ProcessEnv = {};
for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SNAP') && !k.startsWith('NODE_')) env[k] = v;
env.PATH = `${dirname(node)}:${env.PATH ?? '/usr/bin:/bin'}`;
env.SNAP_USER_DATA = userData;
const noCache = { ...env, NODE_DISABLE_COMPILE_CACHE: '1' };

const run = (argv: string[], e: NodeJS.ProcessEnv, status = 0): Run => ({ argv, env: e, status, ms: [], kib: [] });
const subjects: Subject[] = [{ label: 'node -e 0', kind: 'baseline', bytes: undefined, runs: { help: run([node, '-e', '0'], env) } }];
for (const [dir, before] of [[snapDir, false], ...(beforeDir ? [[beforeDir, true] as const] : [])] as const) {
  for (const e of executables) {
    const [first, ...copies] = e.targets;
    if (!first) continue;
    const file = join(dir, first);
    if (!existsSync(file)) throw new Error(`${file} is missing: run node build.mjs first`);
    // Extra targets are byte-identical copies: measure one.
    for (const c of copies) {
      if (!readFileSync(join(dir, c)).equals(readFileSync(file))) throw new Error(`${c} differs from ${first}`);
    }
    const runs: Subject['runs'] = { help: run([file, '--help'], env), nocache: run([file, '--help'], noCache) };
    runs.load = run([file], env, 1);
    subjects.push({ label: before ? `${first} (before)` : first, kind: e.kind, bytes: statSync(file).size, runs });
  }
}

function once(label: string, r: Run): { ms: number; kib: number | undefined } {
  const argv = haveTime ? [gnuTime, '-f', '%M', ...r.argv] : r.argv;
  const t0 = process.hrtime.bigint();
  const p = spawnSync(argv[0] as string, argv.slice(1), { env: r.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (p.error) throw p.error;
  if (p.status !== r.status) throw new Error(`${label} ${r.argv.slice(1).join(' ')}: exit ${String(p.status)}, expected ${r.status}: ${p.stderr}`);
  if (r.status !== 0 && !p.stderr.includes('not running inside the snap')) throw new Error(`${label}: did not stop at the snap environment: ${p.stderr}`);
  const last = p.stderr.trim().split('\n').pop() ?? '';
  return { ms, kib: haveTime ? Number(last) : undefined };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const loadBefore = loadavg()[0] as number;
try {
  // The first run writes each cache and warms the page cache; not counted.
  for (const s of subjects) for (const r of Object.values(s.runs)) once(s.label, r);
  for (let i = 0; i < RUNS; i++) {
    for (const s of subjects) {
      for (const r of Object.values(s.runs)) {
        const { ms, kib } = once(s.label, r);
        r.ms.push(ms);
        if (kib !== undefined && Number.isFinite(kib)) r.kib.push(kib);
      }
    }
  }
} finally {
  rmSync(userData, { recursive: true, force: true });
}
const loadAfter = loadavg()[0] as number;

const base = (subjects[0] as Subject).runs.help as Run;
const baseMs = median(base.ms);
const baseKib = base.kib.length ? median(base.kib) : NaN;
const timeCells = (r: Run | undefined): string[] => (r ? [median(r.ms).toFixed(1), (median(r.ms) / baseMs).toFixed(2)] : ['-', '-']);
const rows = subjects.map((s) => {
  const help = s.runs.help as Run;
  const kib = help.kib.length ? median(help.kib) : NaN;
  return [
    s.label,
    s.kind,
    s.bytes === undefined ? '-' : (s.bytes / 1024).toFixed(0),
    ...timeCells(help),
    `${Math.min(...help.ms).toFixed(1)}–${Math.max(...help.ms).toFixed(1)}`,
    ...timeCells(s.runs.nocache),
    ...timeCells(s.runs.load),
    Number.isNaN(kib) ? 'n/a' : (kib / 1024).toFixed(1),
    Number.isNaN(kib) ? 'n/a' : (kib / baseKib).toFixed(2),
  ];
});
const head = ['executable', 'kind', 'KiB', '--help ms', '×node', 'min–max ms', 'no cache ms', '×node', 'load ms', '×node', 'max RSS MiB', 'mem ×node'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const fmt = (r: string[]): string => `| ${r.map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;

console.log(
  `startup: ${RUNS} runs each (interleaved, after 1 uncounted run that writes the caches), node ${nodeVersion} (${node}), ` +
    `load average ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)}, ${haveTime ? 'max RSS (of --help) from /usr/bin/time -f %M' : 'max RSS n/a (no /usr/bin/time)'}`,
);
console.log(fmt(head));
console.log(`|${widths.map((w, i) => (i < 2 ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|')}|`);
for (const r of rows) console.log(fmt(r));
const now = rows.slice(1).filter((r) => !(r[0] as string).endsWith('(before)'));
const worst = (kinds: string[], col: number): number => now.filter((r) => kinds.includes(r[1] as string)).reduce((a, r) => Math.max(a, Number(r[col])), 0);
console.log(`every executable, --help: at most ${worst(['hook', 'command', 'daemon'], 4).toFixed(2)}× node -e 0 (goal ≤ 1.5×)`);
console.log(`every executable, load of its real work: at most ${worst(['hook', 'command', 'daemon'], 9).toFixed(2)}× node -e 0`);
