// Wall time of the compiled install hook run as snapd runs it (fake snapd), first install and a
// rerun on an installed snap, against a baseline measured in the same run: the bare minimum the
// hook must do — initdb with the same flags, pg_ctl start -w, pg_ctl stop -m fast -w, run
// directly as _daemon_. Median of RUNS runs each, interleaved. Goal: first install < 10 s.
// Run: node build.mjs && node --import tsx bench/install.ts   (as root, after setup-test-env.sh)
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeSnapd } from '../test/harness/fake-snapd.js';
import { layoutRevision } from '../test/harness/fake-snap.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PG = '/usr/lib/postgresql/15/bin';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function asDaemon(args: string[]): void {
  const r = spawnSync('runuser', ['-u', '_daemon_', '--', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, LANG: 'C.UTF-8' } });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
}

/** initdb + start + stop, nothing else: what any install must pay. */
function baseline(): number {
  const root = mkdtempSync(join(tmpdir(), 'bench-base-'));
  chmodSync(root, 0o755);
  const data = join(root, 'data');
  const sock = join(root, 'sock');
  mkdirSync(sock);
  const pw = join(root, 'pw');
  writeFileSync(pw, 'benchmark-password\n', { mode: 0o600 });
  spawnSync('chown', ['-R', '_daemon_:_daemon_', root]);
  const t0 = process.hrtime.bigint();
  asDaemon([`${PG}/initdb`, '-D', data, '-U', 'postgres', `--pwfile=${pw}`, '-E', 'UTF8', '--locale=C.UTF-8', '--data-checksums', '--auth-local=peer', '--auth-host=scram-sha-256']);
  asDaemon([`${PG}/pg_ctl`, 'start', '-w', '-D', data, '-l', join(root, 'log'), '-o', `-c listen_addresses='' -c unix_socket_directories=${sock}`]);
  asDaemon([`${PG}/pg_ctl`, 'stop', '-w', '-D', data, '-m', 'fast']);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  rmSync(root, { recursive: true, force: true });
  return ms;
}

async function hook(): Promise<{ first: number; rerun: number }> {
  const root = mkdtempSync(join(tmpdir(), 'bench-install-'));
  chmodSync(root, 0o755);
  const snapd = await FakeSnapd.create({ root });
  try {
    snapd.layout = layoutRevision({ root, instance: snapd.instance, revision: 'x1' });
    const a = await snapd.runHook('install');
    if (a.exitCode !== 0) throw new Error(`install failed: ${a.output}`);
    const b = await snapd.runHook('install');
    if (b.exitCode !== 0) throw new Error(`install rerun failed: ${b.output}`);
    return { first: a.durationMs, rerun: b.durationMs };
  } finally {
    await snapd.destroy();
  }
}

const base: number[] = [];
const first: number[] = [];
const rerun: number[] = [];
baseline(); // warm the page cache; not counted
for (let i = 0; i < RUNS; i++) {
  base.push(baseline());
  const h = await hook();
  first.push(h.first);
  rerun.push(h.rerun);
}

const b = median(base);
const row = (label: string, ms: number) => `${label.padEnd(44)} ${(ms / 1000).toFixed(2).padStart(6)} s  ${(ms / b).toFixed(2).padStart(5)}×`;
console.log(`install hook wall time, median of ${RUNS} runs (ratio to the baseline)`);
console.log(row('baseline: initdb + pg_ctl start + stop', b));
console.log(row('install hook, fresh', median(first)));
console.log(row('install hook, rerun on an installed snap', median(rerun)));
console.log(`goal: fresh install under 10 s: ${median(first) < 10_000 ? 'met' : 'NOT met'}`);
