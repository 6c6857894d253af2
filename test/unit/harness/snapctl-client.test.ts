// End-to-end: test/harness/bin/snapctl → unix socket → serveSnapctl → runSnapctl with a fake host.
// Expected texts from reference/snapd-and-nextcloud.md §B0 and reference/snapd-vm-recipe.md §4.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CommandResult, ConfigTransaction, type ConfigDocument, fromPlain, type JsonObject, toPlain } from '../../harness/snapd/config.js';
import type { HealthReport, ServiceControlRequest, SnapctlHost } from '../../harness/snapd/snapctl-commands.js';
import { type SnapctlServer, serveSnapctl } from '../../harness/snapd/snapctl-server.js';

const here = dirname(fileURLToPath(import.meta.url));
const SNAPCTL = resolve(here, '../../harness/bin/snapctl');
const SNAP = 'immich-distribution';

interface Run {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

function runClient(args: string[], env: Record<string, string | undefined>, opts: { uid?: number; gid?: number } = {}): Promise<Run> {
  return new Promise((ok, fail) => {
    const clean: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
    const child = spawn(SNAPCTL, args, { env: clean, stdio: ['ignore', 'pipe', 'pipe'], uid: opts.uid, gid: opts.gid });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => ok({ stdout, stderr, exitCode: code }));
  });
}

// A fake daemon: one hook context and one app context.
let dir = '';
let socket = '';
let server: SnapctlServer;
let committed: ConfigDocument = fromPlain({ 'test-key1': 'test-value1', 'test-key2': 2 }) as JsonObject;
let hookTx = new ConfigTransaction(committed);
const ops: ServiceControlRequest[] = [];
const health: HealthReport[] = [];
const calls: Array<{ cookie: string; uid: number }> = [];
const after: Array<{ cookie: string; result: CommandResult }> = [];
const appTx = new Map<string, ConfigTransaction>();

function host(cookie: string, uid: number, hook: string | null, config: ConfigTransaction): SnapctlHost {
  return {
    instance: SNAP,
    uid,
    hook,
    config,
    services: () => [
      { app: 'server', enabled: true, active: true },
      { app: 'postgres', enabled: true, active: false },
    ],
    serviceControl: async (op) => {
      ops.push(op);
    },
    plugs: () => [
      { name: 'network', connected: true },
      { name: 'removable-media', connected: false },
    ],
    setHealth: (h) => health.push(h),
  };
}

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'snapctl-client-'));
  chmodSync(dir, 0o755);
  socket = join(dir, 'snapd-snap.socket');
  server = await serveSnapctl(
    socket,
    (cookie, uid) => {
      calls.push({ cookie, uid });
      if (cookie === 'hook-cookie') return host(cookie, uid, 'configure', hookTx);
      if (cookie === 'app-cookie') {
        // ephemeral context: a fresh transaction per call
        const tx = new ConfigTransaction(committed);
        appTx.set(cookie, tx);
        return Promise.resolve(host(cookie, uid, null, tx));
      }
      return undefined;
    },
    (cookie, result) => {
      after.push({ cookie, result });
      const tx = appTx.get(cookie);
      if (tx && result.exitCode === 0) committed = tx.commit(committed);
      appTx.delete(cookie);
    },
  );
});

test.after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const hookEnv = () => ({ FAKE_SNAPD_SOCKET: socket, SNAP_COOKIE: 'hook-cookie' });

test('the wrapper and client are executable files', () => {
  for (const f of [SNAPCTL, `${SNAPCTL}-client.cjs`]) assert.ok((statSync(f).mode & 0o111) !== 0, f);
});

test('B2 ref: get through the socket prints exactly what snapctl prints', async () => {
  assert.equal(await runClient(['get', 'test-key1'], hookEnv()), { stdout: 'test-value1\n', stderr: '', exitCode: 0 });
  assert.equal(await runClient(['get', 'test-key2'], hookEnv()), { stdout: '2\n', stderr: '', exitCode: 0 });
  assert.equal(await runClient(['get', 'missing-key'], hookEnv()), { stdout: '\n', stderr: '', exitCode: 0 });
  assert.equal(await runClient(['get', '-t', 'test-key1'], hookEnv()), { stdout: '"test-value1"\n', stderr: '', exitCode: 0 });
  assert.equal(await runClient(['get', 'test-key1', 'test-key2'], hookEnv()), {
    stdout: '{\n\t"test-key1": "test-value1",\n\t"test-key2": 2\n}\n',
    stderr: '',
    exitCode: 0,
  });
  assert.ok(calls.every((c) => c.uid === process.getuid?.()));
});

test('B0 ref (VM): errors exit 1 with the daemon message on stderr', async () => {
  assert.equal(await runClient(['get'], hookEnv()), { stdout: '', stderr: 'error: error running snapctl: get which option?\n', exitCode: 1 });
  assert.equal(await runClient([], hookEnv()), { stdout: '', stderr: 'error: snapctl cannot run without args\n', exitCode: 1 });
});

test('hook context: writes stay in the hook transaction (the host commits on success)', async () => {
  assert.equal(await runClient(['set', 'obj.a=1', 'obj.b=two', 'arg=with space'], hookEnv()), { stdout: '', stderr: '', exitCode: 0 });
  assert.equal(await runClient(['get', 'obj.a'], hookEnv()), { stdout: '1\n', stderr: '', exitCode: 0 });
  assert.equal(await runClient(['get', 'arg'], hookEnv()), { stdout: 'with space\n', stderr: '', exitCode: 0 });
  assert.equal(toPlain(hookTx.get('obj')), { a: 1, b: 'two' });
  assert.ok(!('obj' in committed));
  hookTx = new ConfigTransaction(committed); // the "hook" failed: nothing committed
});

test('app context: each successful call is committed by afterCall, a failed one is not', async () => {
  const env = { FAKE_SNAPD_SOCKET: socket, SNAP_COOKIE: 'app-cookie' };
  assert.equal(await runClient(['set', 'from-app=1'], env), { stdout: '', stderr: '', exitCode: 0 });
  assert.equal(toPlain(committed['from-app'] ?? null), 1);
  assert.equal(await runClient(['set', 'partial=1', 'Bad=2'], env), { stdout: '', stderr: 'error: error running snapctl: invalid option name: "Bad"\n', exitCode: 1 });
  assert.ok(!('partial' in committed));
  assert.equal(after.at(-1)?.result.exitCode, 1);
  assert.equal(await runClient(['get', 'from-app'], env), { stdout: '1\n', stderr: '', exitCode: 0 });
});

test('B6: is-connected: exit 1 with no output when not connected', async () => {
  assert.equal(await runClient(['is-connected', 'network'], hookEnv()), { stdout: '', stderr: '', exitCode: 0 });
  assert.equal(await runClient(['is-connected', 'removable-media'], hookEnv()), { stdout: '', stderr: '', exitCode: 1 });
});

test('B4/B5: services table and queued service operations', async () => {
  assert.equal(await runClient(['services'], hookEnv()), {
    stdout: 'Service                       Startup  Current   Notes\nimmich-distribution.postgres  enabled  inactive  -\nimmich-distribution.server    enabled  active    -\n',
    stderr: '',
    exitCode: 0,
  });
  assert.equal(await runClient(['restart', '--reload', `${SNAP}.server`], hookEnv()), { stdout: '', stderr: '', exitCode: 0 });
  assert.equal(ops.at(-1), { action: 'restart', apps: ['server'], reload: true });
  assert.equal(await runClient(['set-health', 'waiting', 'database is starting', '--code=db-starting'], hookEnv()), { stdout: '', stderr: '', exitCode: 0 });
  assert.equal(health.at(-1), { status: 'waiting', message: 'database is starting', code: 'db-starting' });
});

test('B0 ref (VM): no or unknown cookie → "from outside of a snap"', async () => {
  const outside = { stdout: '', stderr: 'error: error running snapctl: cannot invoke snapctl operation commands (here "get") from outside of a snap\n', exitCode: 1 };
  assert.equal(await runClient(['get', 'key'], { FAKE_SNAPD_SOCKET: socket }), outside);
  assert.equal(await runClient(['get', 'key'], { FAKE_SNAPD_SOCKET: socket, SNAP_COOKIE: 'who-knows' }), outside);
  // without a daemon at all, the client says the same by itself
  assert.equal(await runClient(['get', 'key'], {}), outside);
  // SNAP_CONTEXT is the older name of the cookie
  assert.equal(await runClient(['get', 'test-key1'], { FAKE_SNAPD_SOCKET: socket, SNAP_CONTEXT: 'hook-cookie' }), { stdout: 'test-value1\n', stderr: '', exitCode: 0 });
});

test('unreachable socket: one error line, exit 1', async () => {
  const missing = join(dir, 'nope.socket');
  const r = await runClient(['get', 'key'], { FAKE_SNAPD_SOCKET: missing, SNAP_COOKIE: 'hook-cookie' });
  assert.is(r.exitCode, 1);
  assert.is(r.stdout, '');
  assert.is(r.stderr, `error: cannot communicate with server: Post "http://localhost/v2/snapctl": dial unix ${missing}: connect: no such file or directory\n`);
  const notSocket = join(dir, 'plain-file');
  writeFileSync(notSocket, '');
  const r2 = await runClient(['get', 'key'], { FAKE_SNAPD_SOCKET: notSocket, SNAP_COOKIE: 'hook-cookie' });
  assert.is(r2.exitCode, 1);
  assert.is(r2.stderr.split('\n').length, 2);
  assert.match(r2.stderr, /^error: cannot communicate with server: /);
});

test('B0: the real uid travels with the request; non-root cannot set', async () => {
  if (process.getuid?.() !== 0) {
    console.log('  (skipped the non-root half: tests are not running as root)');
    return;
  }
  const r = await runClient(['set', 'k=v'], hookEnv(), { uid: 65534, gid: 65534 });
  assert.equal(r, { stdout: '', stderr: 'error: cannot use "set" with uid 65534, try with sudo\n', exitCode: 1 });
  assert.equal(await runClient(['get', 'test-key1'], hookEnv(), { uid: 65534, gid: 65534 }), { stdout: 'test-value1\n', stderr: '', exitCode: 0 });
  assert.equal(calls.at(-1)?.uid, 65534);
});

test.run();
