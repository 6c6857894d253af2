// Cost of applying an HAProxy-only settings change: re-render + `haproxy -c` + atomic swap + the
// compiled `run-haproxy reload` (what snapd's reload-command runs), against a full HAProxy restart
// (stop the daemon, start it again, wait until the app answers through it), in the same run, each
// under the same upload/download load, with the count of failed requests during each.
// Median of RUNS (default 10) each. Loopback only. Run: node build.mjs && npx tsx bench/configure.ts
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { layoutRevision, repoRoot, snapEnvFor } from '../test/harness/fake-snap.js';
import { freePort, runLoad, startFakeImmich, type LoadResult } from '../test/harness/http-load.js';
import { renderHaproxyConfig, type HaproxyInput } from '../hooks-src/haproxy/render.js';
import { installHaproxyConfig, installStartingPage } from '../hooks-src/haproxy/check.js';
import { snapPaths } from '../hooks-src/snap/paths.js';
import type { SnapEnv } from '../hooks-src/snap/env.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

execFileSync(process.execPath, [join(repoRoot, 'build.mjs')], { cwd: repoRoot, stdio: 'ignore' });
const layout = layoutRevision({ root: mkdtempSync('/tmp/bcfg-'), revision: 'x1' });
const env = { ...process.env, ...snapEnvFor(layout) };
const paths = snapPaths(env as unknown as SnapEnv);
const runHaproxy = join(layout.snap, 'bin/run-haproxy');
const httpPort = await freePort();
const serverPort = await freePort();
const statsPort = await freePort();
mkdirSync(paths.haproxyDir, { recursive: true });
installStartingPage(paths.haproxyErrorPage);

const input = (i: number): HaproxyInput => ({
  http: { port: httpPort, bind: '127.0.0.1' },
  https: { mode: 'off', port: 443, redirect: true, hsts: false },
  timeoutSeconds: 600 + (i % 2),
  serverPort,
  statsPort,
  paths: { runDir: paths.haproxyRunDir, errorPage: paths.haproxyErrorPage },
});

let daemon: ChildProcess | undefined;
function startDaemon(): ChildProcess {
  const d = spawn(runHaproxy, [], { env, stdio: ['ignore', 'ignore', 'ignore'] });
  daemon = d;
  return d;
}
async function stopDaemon(): Promise<void> {
  const d = daemon;
  if (!d || d.exitCode !== null || d.signalCode !== null) return;
  const exited = new Promise((r) => d.once('exit', r));
  d.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
}

function ping(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port: httpPort, path: '/api/server/ping', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => req.destroy());
  });
}
async function untilReachable(ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ping())) {
    if (Date.now() > deadline) throw new Error(`HAProxy did not serve the app within ${ms} ms`);
    await sleep(10);
  }
}

function reloadCommand(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(runHaproxy, ['reload'], { env, timeout: 30_000 }, (err, _o, stderr) => (err ? reject(new Error(stderr.trim() || err.message)) : resolve()));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Phase {
  label: string;
  ms: number[];
  load: LoadResult;
}

/** Runs `step` RUNS times while the load generator runs; the load stops when the steps are done. */
async function phase(label: string, step: (i: number) => Promise<void>, withLoad = true): Promise<Phase> {
  let done = false;
  const noLoad: LoadResult = { ok: 0, failed: 0, failures: [], spans: [], bytesUp: 0, bytesDown: 0, elapsedMs: 0 };
  const loadP = !withLoad ? Promise.resolve(noLoad) : runLoad({ port: httpPort, requests: 100_000, concurrency: 8, deadlineMs: 120_000, chunkDelayMs: 15, failurePauseMs: 100, stop: () => done });
  await sleep(300);
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    await step(i);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await sleep(200);
  }
  done = true;
  return { label, ms, load: await loadP };
}

const backend = await startFakeImmich(serverPort);
try {
  await installHaproxyConfig({ haproxy: paths.haproxy, target: paths.haproxyCfg, content: renderHaproxyConfig(input(0)) });
  startDaemon();
  await untilReachable(15_000);

  const renderCheckMs: number[] = [];
  const reload = await phase('re-render + check + reload', async (i) => {
    const t0 = process.hrtime.bigint();
    await installHaproxyConfig({ haproxy: paths.haproxy, target: paths.haproxyCfg, content: renderHaproxyConfig(input(i + 1)) });
    renderCheckMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await reloadCommand();
  });
  const idleReload = await phase(
    're-render + check + reload, no load',
    async (i) => {
      await installHaproxyConfig({ haproxy: paths.haproxy, target: paths.haproxyCfg, content: renderHaproxyConfig(input(i)) });
      await reloadCommand();
    },
    false,
  );
  const restart = await phase('re-render + check + restart', async (i) => {
    await installHaproxyConfig({ haproxy: paths.haproxy, target: paths.haproxyCfg, content: renderHaproxyConfig(input(i)) });
    await stopDaemon();
    startDaemon();
    await untilReachable(15_000);
  });

  console.log(`HAProxy config change, ${RUNS} runs each, under load (8 concurrent 1-5 MB uploads/downloads, loopback; a worker pauses 100 ms after a failure)`);
  console.log(`${(await import('node:os')).cpus().length} CPUs, load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)} at the end`);
  console.log(`haproxy ${execFileSync(paths.haproxy, ['-v'], { encoding: 'utf8' }).split('\n')[0]}, node ${process.version}`);
  console.log('');
  console.log('| how | median ms | min ms | max ms | requests during | failed |');
  console.log('|---|---|---|---|---|---|');
  for (const p of [reload, restart, idleReload]) {
    console.log(`| ${p.label} | ${median(p.ms).toFixed(0)} | ${Math.min(...p.ms).toFixed(0)} | ${Math.max(...p.ms).toFixed(0)} | ${p.load.ok + p.load.failed} | ${p.load.failed} |`);
  }
  console.log('');
  console.log(`render + haproxy -c + rename alone: median ${median(renderCheckMs).toFixed(0)} ms`);
  for (const p of [reload, restart]) if (p.load.failures.length) console.log(`${p.label}, first failures:\n  ${p.load.failures.slice(0, 5).join('\n  ')}`);
} finally {
  await stopDaemon();
  await backend.close();
  rmSync(layout.root, { recursive: true, force: true });
}
