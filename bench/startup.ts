// Cold-start cost of every compiled executable doing nothing (`--help`), against `node -e 0`
// measured in the same run: median wall time and median peak memory (max RSS) over RUNS runs each,
// runs interleaved round-robin so drift hits all alike. Run: npm run bench:startup
//
// Wall time: process.hrtime around spawnSync of `/usr/bin/time -f %M <program> ...` (the same
// wrapper for the baseline, so its small cost cancels in the ratio).
// Max RSS: GNU time's %M (the child's ru_maxrss in KiB, from wait4). Node cannot read a child's
// rusage itself, so without /usr/bin/time (scripts/setup-test-env.sh installs it) memory is n/a.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const snapDir = join(root, 'build', 'snap');
const gnuTime = '/usr/bin/time';
const haveTime = existsSync(gnuTime);

interface Executable {
  kind: 'hook' | 'command' | 'daemon';
  name: string;
  targets: string[];
}
// entries.mjs has no type declarations; a computed specifier keeps tsc from asking for them.
const { executables } = (await import(pathToFileURL(join(root, 'entries.mjs')).href)) as { executables: Executable[] };

interface Subject {
  label: string;
  kind: string;
  bytes: number | undefined;
  argv: string[];
  ms: number[];
  kib: number[];
}

const env: NodeJS.ProcessEnv = {};
for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SNAP') && !k.startsWith('NODE_')) env[k] = v;
env.PATH = `${dirname(process.execPath)}:${env.PATH ?? '/usr/bin:/bin'}`;

const subjects: Subject[] = [{ label: 'node -e 0', kind: 'baseline', bytes: undefined, argv: [process.execPath, '-e', '0'], ms: [], kib: [] }];
for (const e of executables) {
  const [first, ...copies] = e.targets;
  if (!first) continue;
  const file = join(snapDir, first);
  if (!existsSync(file)) throw new Error(`${file} is missing: run node build.mjs first`);
  // Extra targets (meta/hooks/X and snap/hooks/X) are byte-identical copies: measure one.
  for (const c of copies) {
    if (!readFileSync(join(snapDir, c)).equals(readFileSync(file))) throw new Error(`${c} differs from ${first}`);
  }
  subjects.push({ label: first, kind: e.kind, bytes: statSync(file).size, argv: [file, '--help'], ms: [], kib: [] });
}

function once(s: Subject): { ms: number; kib: number | undefined } {
  const argv = haveTime ? [gnuTime, '-f', '%M', ...s.argv] : s.argv;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0] as string, argv.slice(1), { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${s.label}: exit ${String(r.status)}: ${r.stderr}`);
  const last = r.stderr.trim().split('\n').pop() ?? '';
  return { ms, kib: haveTime ? Number(last) : undefined };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

for (const s of subjects) once(s); // warm the page cache; not counted
for (let i = 0; i < RUNS; i++) {
  for (const s of subjects) {
    const { ms, kib } = once(s);
    s.ms.push(ms);
    if (kib !== undefined && Number.isFinite(kib)) s.kib.push(kib);
  }
}

const base = subjects[0] as Subject;
const baseMs = median(base.ms);
const baseKib = base.kib.length ? median(base.kib) : NaN;
const rows = subjects.map((s) => {
  const ms = median(s.ms);
  const kib = s.kib.length ? median(s.kib) : NaN;
  return [
    s.label,
    s.kind,
    s.bytes === undefined ? '-' : (s.bytes / 1024).toFixed(0),
    ms.toFixed(1),
    `${Math.min(...s.ms).toFixed(1)}–${Math.max(...s.ms).toFixed(1)}`,
    (ms / baseMs).toFixed(2),
    Number.isNaN(kib) ? 'n/a' : (kib / 1024).toFixed(1),
    Number.isNaN(kib) ? 'n/a' : (kib / baseKib).toFixed(2),
  ];
});
const head = ['executable', 'kind', 'KiB', 'median ms', 'min–max ms', 'time ×node', 'max RSS MiB', 'mem ×node'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const fmt = (r: string[]): string => `| ${r.map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;

console.log(`startup: ${RUNS} runs each (interleaved, after 1 warm-up), node ${process.version}, ${haveTime ? 'max RSS from /usr/bin/time -f %M' : 'max RSS n/a (no /usr/bin/time)'}`);
console.log(fmt(head));
console.log(`|${widths.map((w, i) => (i < 2 ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|')}|`);
for (const r of rows) console.log(fmt(r));
