import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { layoutRevision, repoRoot, snapEnvFor, type FakeSnapLayout } from '../harness/fake-snap.js';
import { freePort, runLoad, startFakeImmich, type FakeImmich } from '../harness/http-load.js';
import { renderHaproxyConfig, type HaproxyInput } from '../../hooks-src/haproxy/render.js';
import { installHaproxyConfig, installStartingPage } from '../../hooks-src/haproxy/check.js';
import { showProcOrUndefined } from '../../hooks-src/haproxy/reload.js';
import { snapPaths, type SnapPaths } from '../../hooks-src/snap/paths.js';
import type { SnapEnv } from '../../hooks-src/snap/env.js';

/**
 * The compiled run-haproxy daemon with the real HAProxy, a loopback stand-in for Immich, and 20
 * graceful reloads under upload/download load: zero failed requests, and the master keeps its pid.
 */

const RELOADS = 20;
/** Upper bound; the load stops as soon as the reloads are done (so every reload is under load). */
const MAX_REQUESTS = 1000;

let layout: FakeSnapLayout;
let env: Record<string, string>;
let paths: SnapPaths;
let daemon: ChildProcess | undefined;
let daemonLog = '';
let backend: FakeImmich | undefined;
let httpPort = 0;
let serverPort = 0;
const statsPorts: number[] = [];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function input(i: number): HaproxyInput {
  return {
    http: { port: httpPort, bind: '127.0.0.1' },
    https: { mode: 'off', port: 443, redirect: true, hsts: i % 2 === 1 },
    timeoutSeconds: 600 + i,
    serverPort,
    statsPort: statsPorts[i % 2]!,
    paths: { runDir: paths.haproxyRunDir, errorPage: paths.haproxyErrorPage },
  };
}

function fetchText(port: number, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms\n${daemonLog.slice(-2000)}`);
    await sleep(100);
  }
}

function runReload(): Promise<{ code: number; out: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(join(layout.snap, 'bin/run-haproxy'), ['reload'], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}`.trim(), ms: Date.now() - t0 });
    });
  });
}

/** Pids of processes whose command line mentions our temp root (to prove nothing is left). */
function leftovers(): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(layout.root) && !l.includes('ps -eo'))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

test.before(async () => {
  execFileSync(process.execPath, [join(repoRoot, 'build.mjs')], { cwd: repoRoot, stdio: 'ignore' });
  const root = mkdtempSync('/tmp/ihr-');
  layout = layoutRevision({ root, revision: 'x1' });
  env = snapEnvFor(layout);
  paths = snapPaths(env as unknown as SnapEnv);
  httpPort = await freePort();
  serverPort = await freePort();
  statsPorts.push(await freePort(), await freePort());
  mkdirSync(paths.haproxyDir, { recursive: true });
});

test.after(async () => {
  if (daemon && daemon.exitCode === null) {
    daemon.kill('SIGTERM');
    await Promise.race([new Promise((r) => daemon!.once('exit', r)), sleep(10_000)]);
  }
  await backend?.close();
  for (const pid of leftovers()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(layout.root, { recursive: true, force: true });
});

test('run-haproxy refuses with one line when the config is missing', async () => {
  const r = await new Promise<{ code: number; err: string }>((resolve) => {
    execFile(join(layout.snap, 'bin/run-haproxy'), [], { env: { ...process.env, ...env } }, (err, _o, stderr) => resolve({ code: err ? 1 : 0, err: stderr }));
  });
  assert.is(r.code, 1);
  assert.is(r.err.trim().split('\n').length, 1, r.err);
  assert.match(r.err, /^run-haproxy: .*haproxy\.cfg is missing/);
});

test('starts; serves the starting page while Immich is down, the app once it is up', async () => {
  // What the configure hook does: the starting page, then the checked config.
  installStartingPage(paths.haproxyErrorPage);
  await installHaproxyConfig({ haproxy: paths.haproxy, target: paths.haproxyCfg, content: renderHaproxyConfig(input(0)) });
  daemon = spawn(join(layout.snap, 'bin/run-haproxy'), [], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  daemon.stdout!.on('data', (c: Buffer) => (daemonLog += c.toString()));
  daemon.stderr!.on('data', (c: Buffer) => (daemonLog += c.toString()));
  await until('master CLI answers', 10_000, () => showProcOrUndefined(paths.haproxyMasterSocket));

  const down = await until('503 page', 10_000, async () => {
    const r = await fetchText(httpPort, '/photos');
    return r.status === 503 ? r : undefined;
  });
  assert.match(down.body, /Immich is starting/);
  assert.is(down.headers['cache-control'], 'no-store');
  assert.ok(down.headers['retry-after']);

  backend = await startFakeImmich(serverPort);
  const t0 = Date.now();
  const up = await until('app reachable', 10_000, async () => {
    const r = await fetchText(httpPort, '/api/server/ping');
    return r.status === 200 ? r : undefined;
  });
  assert.is(up.body, '{"res":"pong"}');
  console.log(`  app reachable ${Date.now() - t0} ms after the backend started`);
  const stats = await fetchText(statsPorts[0]!, '/;csv');
  assert.is(stats.status, 200);
});

test(`${RELOADS} reloads under upload/download load: zero failed requests, same master pid`, async () => {
  const before = await showProcOrUndefined(paths.haproxyMasterSocket);
  assert.ok(before?.master);
  const masterPid = before!.master!.pid;
  const pidFromFile = Number(readFileSync(paths.haproxyPidFile, 'utf8').trim());
  assert.is(pidFromFile, masterPid);

  let reloadsDone = false;
  // The load lasts until the last reload is done (`stop`); the deadline only bounds a hang. On a
  // busy shared machine a reload can take over a second, so 30 s left the last reloads unloaded.
  const load = runLoad({ port: httpPort, requests: MAX_REQUESTS, concurrency: 8, deadlineMs: 180_000, chunkDelayMs: 15, stop: () => reloadsDone });
  const reloads: Array<{ at: number; code: number; out: string; ms: number }> = [];
  await sleep(300);
  for (let i = 1; i <= RELOADS; i++) {
    await installHaproxyConfig({ haproxy: paths.haproxy, target: paths.haproxyCfg, content: renderHaproxyConfig(input(i)) });
    const at = Date.now();
    const r = await runReload();
    reloads.push({ at, ...r });
    await sleep(50);
  }
  reloadsDone = true;
  const result = await load;

  const inFlightAtReload = reloads.map((r) => result.spans.filter(([s, e]) => s < r.at && e > r.at).length);
  const ms = reloads.map((r) => r.ms).sort((a, b) => a - b);
  console.log(
    `  ${result.ok} ok / ${result.failed} failed in ${result.elapsedMs} ms; ` +
      `${(result.bytesUp / 1048576).toFixed(0)} MiB up, ${(result.bytesDown / 1048576).toFixed(0)} MiB down; ` +
      `${reloads.length} reloads, median ${ms[Math.floor(ms.length / 2)]} ms (max ${ms[ms.length - 1]} ms), ` +
      `requests in flight at each reload: ${inFlightAtReload.join(" ")}`,
  );
  for (const r of reloads) assert.is(r.code, 0, r.out);
  assert.equal(result.failures, []);
  assert.is(result.failed, 0);
  assert.ok(result.ok >= 100, `${result.ok} requests`);
  assert.ok(Math.min(...inFlightAtReload) > 0, 'requests were in flight at every reload');

  const after = await showProcOrUndefined(paths.haproxyMasterSocket);
  assert.is(after?.master?.pid, masterPid, 'master pid unchanged: reloads, not restarts');
  assert.is(after?.master?.reloads, RELOADS);
  assert.is(after?.master?.failed, 0);
  assert.is(daemon?.exitCode, null, 'the daemon is still running');
  // The last config is in force: its stats port answers.
  assert.is((await fetchText(statsPorts[RELOADS % 2]!, '/;csv')).status, 200);
});

test("snapd's stop signal (SIGUSR1, stop-mode sigusr1-all) soft-stops HAProxy, which is the daemon's process itself: exit 0, no process left", async () => {
  // run-haproxy handed over to HAProxy (execve): the pid snapd knows is HAProxy's master.
  assert.match(readFileSync(`/proc/${daemon!.pid}/cmdline`, 'utf8').split('\0')[0]!, /\/usr\/sbin\/haproxy$/);
  const t0 = Date.now();
  daemon!.kill('SIGUSR1');
  const code = await Promise.race([new Promise<number | null>((r) => daemon!.once('exit', (c) => r(c))), sleep(10_000).then(() => -1)]);
  console.log(`  stopped in ${Date.now() - t0} ms`);
  assert.is(code, 0, daemonLog.slice(-2000));
  await until('no leftover process', 5000, async () => (leftovers().length === 0 ? true : undefined));
});

test.run();
