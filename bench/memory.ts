// Resident memory of the snap after start-up and idle: the RSS of every process of each service,
// split into OURS (a Node bundle under $SNAP/bin or meta/hooks: a wrapper that stayed alive) and
// the SERVICES' own (postgres and its backends, redis-server, haproxy and its worker, Immich's
// node processes, python). BEFORE is the last commit whose wrappers supervised their service
// (BENCH_BEFORE, default cde6e2d), built into a temporary worktree; AFTER is this checkout. Both
// run in the harness (FakeSnapd: the snap's own hooks install it and the services start as snapd
// starts them), with the Node the snap ships, the Immich doubles standing in for Immich.
// Run: node build.mjs && npx tsx bench/memory.ts   (root; about 3 minutes)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { FakeSnapd } from '../test/harness/fake-snapd.js';
import { repoRoot, buildSnapDir } from '../test/harness/fake-snap.js';
import { allProcesses, ourProcesses, processTree } from '../test/harness/processes.js';

const BEFORE = process.env.BENCH_BEFORE ?? 'cde6e2d';
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 20_000);
const APPS = ['postgres', 'redis', 'haproxy', 'immich-server', 'immich-machine-learning'];
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface AppMemory {
  app: string;
  oursKiB: number;
  oursCount: number;
  serviceKiB: number;
  serviceCount: number;
  oursPssKiB: number;
  servicePssKiB: number;
}

async function measure(label: string, opts: { from?: string; snapcraftYaml?: string }): Promise<AppMemory[]> {
  const snapd = await FakeSnapd.create(opts);
  try {
    await snapd.install();
    for (const app of APPS) {
      const end = Date.now() + 60_000;
      while (snapd.services.pid(app) === undefined && Date.now() < end) await sleep(200);
    }
    await sleep(IDLE_MS); // start-up done (Immich's workers forked, gunicorn up), then idle
    const all = allProcesses();
    const ours = new Set(ourProcesses(snapd.layout.snap, all).map((p) => p.pid));
    const rows = APPS.map((app) => {
      const pid = snapd.services.pid(app);
      const tree = pid === undefined ? [] : processTree(pid, all);
      const o = tree.filter((p) => ours.has(p.pid));
      const s = tree.filter((p) => !ours.has(p.pid));
      const sum = (ps: typeof tree, k: 'rssKiB' | 'pssKiB' = 'rssKiB') => ps.reduce((n, p) => n + p[k], 0);
      return { app, oursKiB: sum(o), oursCount: o.length, serviceKiB: sum(s), serviceCount: s.length, oursPssKiB: sum(o, 'pssKiB'), servicePssKiB: sum(s, 'pssKiB') };
    });
    // Anything of ours running outside the services' trees (a hook or command that never ended).
    const inTrees = new Set(APPS.flatMap((app) => processTree(snapd.services.pid(app) ?? -1, all).map((p) => p.pid)));
    const stray = [...ours].filter((pid) => !inTrees.has(pid));
    if (stray.length > 0) process.stderr.write(`${label}: ${stray.length} process(es) of ours outside the services: ${stray.join(', ')}\n`);
    return rows;
  } finally {
    await snapd.destroy();
  }
}

function beforeBuild(): { from: string; snapcraftYaml: string; cleanup: () => void } {
  const dir = mkdtempSync('/tmp/bench-memory-before-');
  execFileSync('git', ['worktree', 'add', '--detach', dir, BEFORE], { cwd: repoRoot, stdio: 'ignore' });
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  execFileSync(process.execPath, [join(dir, 'build.mjs')], { cwd: dir, stdio: 'ignore' });
  return {
    from: join(dir, 'build/snap'),
    snapcraftYaml: readFileSync(join(dir, 'snap/snapcraft.yaml'), 'utf8'),
    cleanup: () => {
      execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: repoRoot, stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (!existsSync(join(buildSnapDir, 'bin/run-postgres'))) throw new Error('run `node build.mjs` first');
const before = beforeBuild();
let rowsBefore: AppMemory[];
try {
  rowsBefore = await measure(`before (${BEFORE})`, before);
} finally {
  before.cleanup();
}
const rowsAfter = await measure('after', {});

const mib = (k: number) => (k / 1024).toFixed(1);
const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
console.log(`\nRSS after start-up + ${IDLE_MS / 1000} s idle, MiB (processes): ours = our Node wrappers, service = the service's own processes\n`);
console.log(line(['service', `before (${BEFORE}): ours`, 'before: service', 'after: ours', 'after: service']));
console.log(line(['---', '---:', '---:', '---:', '---:']));
const total = (rows: AppMemory[], k: 'oursKiB' | 'serviceKiB' | 'oursPssKiB' | 'servicePssKiB') => rows.reduce((n, r) => n + r[k], 0);
const count = (rows: AppMemory[], k: 'oursCount' | 'serviceCount') => rows.reduce((n, r) => n + r[k], 0);
for (const app of APPS) {
  const b = rowsBefore.find((r) => r.app === app)!;
  const a = rowsAfter.find((r) => r.app === app)!;
  console.log(line([app, `${mib(b.oursKiB)} (${b.oursCount})`, `${mib(b.serviceKiB)} (${b.serviceCount})`, `${mib(a.oursKiB)} (${a.oursCount})`, `${mib(a.serviceKiB)} (${a.serviceCount})`]));
}
console.log(
  line([
    '**all**',
    `${mib(total(rowsBefore, 'oursKiB'))} (${count(rowsBefore, 'oursCount')})`,
    `${mib(total(rowsBefore, 'serviceKiB'))} (${count(rowsBefore, 'serviceCount')})`,
    `${mib(total(rowsAfter, 'oursKiB'))} (${count(rowsAfter, 'oursCount')})`,
    `${mib(total(rowsAfter, 'serviceKiB'))} (${count(rowsAfter, 'serviceCount')})`,
  ]),
);
console.log(
  `\nPSS (shared pages split among the processes that map them, so it adds up): ours ${mib(total(rowsBefore, 'oursPssKiB'))} → ${mib(total(rowsAfter, 'oursPssKiB'))} MiB; ` +
    `services ${mib(total(rowsBefore, 'servicePssKiB'))} → ${mib(total(rowsAfter, 'servicePssKiB'))} MiB; ` +
    `whole snap ${mib(total(rowsBefore, 'oursPssKiB') + total(rowsBefore, 'servicePssKiB'))} → ${mib(total(rowsAfter, 'oursPssKiB') + total(rowsAfter, 'servicePssKiB'))} MiB`,
);
