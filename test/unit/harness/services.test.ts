import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandSnapVars, loadApps, parseSnapDuration, type AppSpec } from '../../harness/snapd/apps.js';
import { ServiceRunner, groupAlive, type ServiceEvent, type ServiceRunnerOptions } from '../../harness/snapd/services.js';

// ------------------------------------------------------------------------------------------------
// fixture: a fake $SNAP with sh scripts under bin/, $SNAP_DATA, $SNAP_COMMON and a log dir

interface Fixture {
  root: string;
  snap: string;
  data: string;
  common: string;
  logs: string;
  runner: ServiceRunner;
  events: ServiceEvent[];
  envCalls: string[];
  read(rel: string): string;
  log(app: string): string;
}

const cleanups: Array<() => Promise<void>> = [];

test.after.each(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const IDLE = 'while :; do sleep 0.05; done';

function fixture(
  yamlText: string,
  scripts: Record<string, string>,
  extra: Partial<ServiceRunnerOptions> = {},
  baseEnv: Record<string, string> = {},
): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'svc-runner-'));
  const snap = join(root, 'snap');
  const data = join(root, 'data');
  const common = join(root, 'common');
  const logs = join(root, 'logs');
  for (const d of [join(snap, 'bin'), data, common]) mkdirSync(d, { recursive: true });
  for (const [name, body] of Object.entries(scripts)) {
    const p = join(snap, 'bin', name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
  }
  const events: ServiceEvent[] = [];
  const envCalls: string[] = [];
  const runner = new ServiceRunner({
    apps: loadApps(yamlText),
    snapDir: () => snap,
    env: (app) => {
      envCalls.push(app.name);
      return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', SNAP: snap, SNAP_DATA: data, SNAP_COMMON: common, ...baseEnv };
    },
    logDir: logs,
    onEvent: (e) => events.push(e),
    ...extra,
  });
  cleanups.push(async () => {
    await runner.stopAll();
    rmSync(root, { recursive: true, force: true });
  });
  const read = (rel: string) => (existsSync(join(data, rel)) ? readFileSync(join(data, rel), 'utf8') : '');
  return { root, snap, data, common, logs, runner, events, envCalls, read, log: (app) => read(join('..', 'logs', `${app}.log`)) };
}

async function until(pred: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------------
// apps.ts

test('loadApps: defaults, merged environment, oneshot forces never, declared settings', () => {
  const apps = loadApps(`
name: x
environment: { A: top, B: top-b }
apps:
  d:
    command: bin/d --flag
    daemon: simple
    environment: { A: app }
  o: { command: bin/o, daemon: oneshot, restart-condition: always }
  c: { command: bin/c, plugs: [network] }
  t:
    command: bin/t
    daemon: simple
    timer: 00:00-24:00/96
    restart-delay: 200ms
    stop-timeout: 2m
    stop-mode: sigint
    install-mode: disable
    reload-command: bin/reload
    success-exit-status: [3]
    after: [d]
`);
  const by = Object.fromEntries(apps.map((a) => [a.name, a])) as Record<string, AppSpec>;
  assert.equal(apps.map((a) => a.name), ['d', 'o', 'c', 't']);
  const d = by['d']!;
  assert.is(d.command, 'bin/d --flag');
  assert.is(d.daemon, 'simple');
  assert.is(d.restartCondition, 'on-failure');
  assert.is(d.restartDelayMs, 100); // systemd DefaultRestartSec: snapd writes no RestartSec= without restart-delay
  assert.is(d.stopTimeoutMs, 30_000);
  assert.is(d.stopMode, undefined);
  assert.is(d.stopSignal, 'SIGTERM');
  assert.is(d.killAll, true); // snapd: no stop-mode => KillMode left at control-group
  assert.is(d.installMode, 'enable');
  assert.equal(d.environment, { A: 'app', B: 'top-b' });
  assert.equal(d.environmentLayers, [{ A: 'top', B: 'top-b' }, { A: 'app' }]);
  assert.is(by['o']!.restartCondition, 'never');
  assert.is(by['c']!.daemon, undefined);
  assert.equal(by['c']!.plugs, ['network']);
  const t = by['t']!;
  assert.is(t.timer, '00:00-24:00/96');
  assert.is(t.restartDelayMs, 200);
  assert.is(t.stopTimeoutMs, 120_000);
  assert.is(t.stopSignal, 'SIGINT');
  assert.is(t.killAll, false); // explicit non -all mode => KillMode=process
  assert.is(t.installMode, 'disable');
  assert.is(t.reloadCommand, 'bin/reload');
  assert.equal(t.successExitStatus, [3]);
  assert.equal(t.after, ['d']);
  assert.is(loadApps('apps: { a: { command: a, daemon: simple, stop-mode: sigusr2-all } }')[0]!.stopSignal, 'SIGUSR2');
});

test('durations follow snapd (Go ParseDuration on the schema pattern)', () => {
  assert.is(parseSnapDuration('200ms'), 200);
  assert.is(parseSnapDuration('10s'), 10_000);
  assert.is(parseSnapDuration('2m'), 120_000);
  assert.is(parseSnapDuration('1500us'), 1.5);
  assert.is(parseSnapDuration('5000000ns'), 5);
  assert.is(parseSnapDuration('0'), 0);
  for (const bad of ['10', '1h', '1m30s', '10sm', '-1s', '1.5s', '']) {
    assert.throws(() => parseSnapDuration(bad), undefined, bad);
  }
});

test('loadApps rejects what snapd rejects', () => {
  const bad = [
    'apps: { a: { daemon: simple } }', // command required
    'apps: { a: { command: "bin/a;rm", daemon: simple } }', // illegal characters
    'apps: { a: { command: "bin/a ${SNAP}", daemon: simple } }', // braces are not in snapd's command charset
    'apps: { a: { command: a, daemon: simple, after: [nope] } }',
    'apps: { a: { command: a, daemon: simple, after: [b] }, b: { command: b } }', // b not a service
    'apps: { a: { command: a, daemon: simple, after: [b] }, b: { command: b, daemon: simple, after: [a] } }',
    'apps: { a: { command: a, daemon: simple, before: [b] }, b: { command: b, daemon: simple, before: [a] } }',
    'apps: { a: { command: a, restart-condition: always } }', // not a daemon
    'apps: { a: { command: a, daemon: simple, stop-mode: sigkill } }',
    'apps: { a: { command: a, daemon: simple, restart-delay: 10 } }',
    'apps: { a: { command: a, daemon: sometimes } }',
  ];
  for (const y of bad) assert.throws(() => loadApps(y), undefined, y);
});

test('expandSnapVars matches Go os.Expand as snapd uses it', () => {
  const env = { SNAP: '/snap/x/1', A: 'a', A_B: 'ab', N: '' };
  assert.is(expandSnapVars('$SNAP/bin', env), '/snap/x/1/bin');
  assert.is(expandSnapVars('${SNAP}x', env), '/snap/x/1x');
  assert.is(expandSnapVars('$A_B-$A.$UNSET.', env), 'ab-a..');
  assert.is(expandSnapVars('pre${A}post', env), 'preapost');
  assert.is(expandSnapVars('cost $', env), 'cost $'); // trailing $ kept
  assert.is(expandSnapVars('a$/b', env), 'a$/b'); // $ not followed by a name kept
  assert.is(expandSnapVars('x${}y', env), 'xy'); // bad syntax eaten
  assert.is(expandSnapVars('x${Ay', env), 'xAy'); // unterminated: "${" eaten
  assert.is(expandSnapVars('$1abc', env), 'abc'); // special single-char name
  assert.is(expandSnapVars('no vars', env), 'no vars');
});

// ------------------------------------------------------------------------------------------------
// services.ts

test('command resolution: relative to $SNAP, args expanded, empty args dropped, cwd $SNAP_DATA', async () => {
  const f = fixture(
    `apps:
  args: { command: "$SNAP/bin/args one $SNAP_DATA/x $SNAP_COMMON/y $UNSET z #comment", daemon: oneshot }`,
    { args: 'out="$SNAP_DATA/args.out"; echo "0=$0" > "$out"; echo "cwd=$(pwd)" >> "$out"; echo "n=$#" >> "$out"; for a; do echo "arg=$a" >> "$out"; done' },
  );
  assert.is(await f.runner.runOnce('args'), 0);
  assert.equal(f.read('args.out').trim().split('\n'), [
    `0=${f.snap}/bin/args`,
    `cwd=${f.data}`,
    'n=4',
    'arg=one',
    `arg=${f.data}/x`,
    `arg=${f.common}/y`,
    'arg=z',
  ]);
});

test('environment: runner env, then top-level environment, then the app one, each expanded in order', async () => {
  const f = fixture(
    `environment:
  A: top-$A
  B: $A-b
apps:
  e:
    command: bin/env
    daemon: oneshot
    environment:
      A: app-$A
      C: \${B}/c
      LIB: $SNAP/lib`,
    { env: 'for v in A B C LIB BASE; do eval "echo $v=\\$$v"; done > "$SNAP_DATA/env.out"' },
    {},
    { BASE: 'base', A: 'base-a' },
  );
  assert.is(await f.runner.runOnce('e'), 0);
  assert.equal(f.read('env.out').trim().split('\n'), [
    'A=app-top-base-a',
    'B=top-base-a-b',
    'C=top-base-a-b/c',
    `LIB=${f.snap}/lib`,
    'BASE=base',
  ]);
  assert.equal(f.envCalls, ['e']);
});

test('restart on failure after restart-delay', async () => {
  const f = fixture(
    `apps:
  flaky: { command: bin/flaky, daemon: simple, restart-delay: 300ms }`,
    { flaky: `n=$(cat "$SNAP_DATA/count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$SNAP_DATA/count"; [ $n -eq 1 ] && exit 3; ${IDLE}` },
  );
  await f.runner.start('flaky');
  const first = f.runner.pid('flaky');
  await until(() => f.runner.exits('flaky') === 1, 3000, 'first exit');
  const t0 = Date.now();
  await sleep(120);
  assert.is(f.runner.isActive('flaky'), false, 'not active during the restart delay');
  assert.is(f.runner.state('flaky'), 'activating');
  assert.is(f.read('count').trim(), '1');
  await until(() => f.runner.isActive('flaky'), 3000, 'restart');
  const elapsed = Date.now() - t0;
  assert.ok(elapsed >= 250, `restarted after ${elapsed}ms, delay is 300ms`);
  await until(() => f.read('count').trim() === '2', 2000, 'second run');
  assert.is.not(f.runner.pid('flaky'), first);
  assert.ok(f.events.some((e) => e.app === 'flaky' && e.event === 'restart-scheduled' && e.code === 3));
});

test('on-failure: SIGKILL from outside restarts, a clean SIGTERM does not (systemd clean signals)', async () => {
  const f = fixture(
    `apps:
  d: { command: bin/d, daemon: simple, restart-delay: 50ms }`,
    { d: `echo run >> "$SNAP_DATA/runs"; ${IDLE}` },
  );
  await f.runner.start('d');
  await until(() => f.read('runs') === 'run\n', 2000, 'first run');
  process.kill(f.runner.pid('d')!, 'SIGKILL');
  await until(() => f.read('runs') === 'run\nrun\n', 3000, 'restart after SIGKILL');
  assert.ok(f.runner.isActive('d'));
  process.kill(f.runner.pid('d')!, 'SIGTERM');
  await until(() => f.runner.exits('d') === 2, 3000, 'second exit');
  await sleep(250);
  assert.is(f.runner.isActive('d'), false);
  assert.is(f.runner.state('d'), 'inactive');
  assert.is(f.read('runs'), 'run\nrun\n');
});

test('a stopped service is not restarted, even with restart-condition: always', async () => {
  const f = fixture(
    `apps:
  d: { command: bin/d, daemon: simple, restart-condition: always, restart-delay: 50ms }`,
    { d: `echo run >> "$SNAP_DATA/runs"; trap 'exit 0' TERM; ${IDLE}` },
  );
  await f.runner.start('d');
  await until(() => f.read('runs') === 'run\n', 2000, 'first run');
  const pgid = f.runner.pid('d')!;
  await f.runner.stop('d');
  await sleep(300);
  assert.is(f.runner.pid('d'), undefined);
  assert.is(f.runner.isActive('d'), false);
  assert.is(f.runner.exits('d'), 1);
  assert.is(f.read('runs'), 'run\n');
  assert.is(groupAlive(pgid), false);
});

test('crash loop stops after 5 starts within 10 s (start-limit-hit), reset-failed allows a start', async () => {
  const f = fixture(
    `apps:
  crash: { command: bin/crash, daemon: simple, restart-condition: always, restart-delay: 20ms }`,
    { crash: 'echo run >> "$SNAP_DATA/runs"; exit 1' },
  );
  await f.runner.start('crash');
  await until(() => f.runner.state('crash') === 'failed', 5000, 'failed state');
  await sleep(150);
  assert.is(f.read('runs').split('\n').filter(Boolean).length, 5);
  assert.is(f.runner.exits('crash'), 5);
  assert.ok(f.runner.status().find((s) => s.app === 'crash')!.notes.includes('start-limit-hit'));
  assert.ok(f.log('crash').includes('start-limit-hit'));
  try {
    await f.runner.start('crash');
    assert.unreachable('start within the interval must be refused');
  } catch (e) {
    assert.match((e as Error).message, 'start-limit-hit');
  }
  assert.is(f.read('runs').split('\n').filter(Boolean).length, 5);
  f.runner.resetFailed('crash');
  await f.runner.start('crash');
  await until(() => f.read('runs').split('\n').filter(Boolean).length >= 6, 2000, 'run after reset-failed');
});

test('stop-mode sigint delivers SIGINT (not SIGTERM) and waits for a clean exit', async () => {
  const f = fixture(
    `apps:
  pg: { command: bin/pg, daemon: simple, stop-mode: sigint, stop-timeout: 5s }`,
    { pg: `trap 'echo INT >> "$SNAP_DATA/sig"; exit 0' INT; trap 'echo TERM >> "$SNAP_DATA/sig"; exit 0' TERM; echo up > "$SNAP_DATA/up"; ${IDLE}` },
  );
  await f.runner.start('pg');
  await until(() => f.read('up') !== '', 2000, 'daemon up');
  const t0 = Date.now();
  await f.runner.stop('pg');
  assert.ok(Date.now() - t0 < 2000, 'clean stop does not wait for the timeout');
  assert.is(f.read('sig'), 'INT\n');
  assert.is(f.runner.isActive('pg'), false);
});

test('stop-timeout: a daemon ignoring SIGTERM is SIGKILLed after the timeout', async () => {
  const f = fixture(
    `apps:
  stubborn: { command: bin/stubborn, daemon: simple, stop-timeout: 300ms }`,
    { stubborn: `trap '' TERM; echo up > "$SNAP_DATA/up"; ${IDLE}` },
  );
  await f.runner.start('stubborn');
  await until(() => f.read('up') !== '', 2000, 'daemon up');
  const pgid = f.runner.pid('stubborn')!;
  const t0 = Date.now();
  await f.runner.stop('stubborn');
  const took = Date.now() - t0;
  assert.ok(took >= 280 && took < 3000, `stop took ${took}ms`);
  assert.is(groupAlive(pgid), false);
  assert.ok(f.log('stubborn').includes('timed out'));
  assert.ok(f.events.some((e) => e.app === 'stubborn' && e.event === 'exit' && e.signal === 'SIGKILL'));
});

test('-all stop modes (and the default) signal the whole group; plain modes only the main process, and leave the rest running as systemd does', async () => {
  const parent = `trap 'exit 0' TERM; "$SNAP/bin/child" "$1" & ${IDLE}`;
  const child = `trap 'echo child-term >> "$SNAP_DATA/$1.marker"; exit 0' TERM; echo up > "$SNAP_DATA/$1.up"; ${IDLE}`;
  const f = fixture(
    `apps:
  all: { command: bin/parent all, daemon: simple, stop-mode: sigterm-all, stop-timeout: 3s }
  dflt: { command: bin/parent dflt, daemon: simple, stop-timeout: 3s }
  one: { command: bin/parent one, daemon: simple, stop-mode: sigterm, stop-timeout: 3s }`,
    { parent, child },
  );
  await f.runner.startAll();
  await until(() => ['all', 'dflt', 'one'].every((n) => f.read(`${n}.up`) !== ''), 3000, 'children up');
  const groups = ['all', 'dflt', 'one'].map((n) => f.runner.pid(n)!);
  for (const n of ['all', 'dflt', 'one']) await f.runner.stop(n);
  assert.is(f.read('all.marker'), 'child-term\n');
  assert.is(f.read('dflt.marker'), 'child-term\n');
  assert.is(f.read('one.marker'), '', 'KillMode=process: the child gets no SIGTERM');
  assert.is(groupAlive(groups[0]!), false, 'KillMode=control-group: nothing is left');
  assert.is(groupAlive(groups[1]!), false, 'default (control-group): nothing is left');
  // KillMode=process: systemd leaves the child running after the unit stopped, and says so; a new
  // start finds it. (The api worker of Immich's server, or gunicorn under immich_ml, would be that
  // child: snapcraft.yaml gives both services sigterm-all.)
  assert.is(groupAlive(groups[2]!), true, 'KillMode=process: the child outlives the stop');
  assert.ok(f.runner.leftovers('one').length >= 1, 'the child (and its sleep) are listed as leftovers');
  assert.match(readFileSync(f.runner.logPath('one'), 'utf8'), /remains running after unit stopped/);
  await f.runner.start('one');
  assert.match(readFileSync(f.runner.logPath('one'), 'utf8'), /Found left-over process \d+ \(\S+\) in control group while starting unit/);
  await f.runner.stopAll();
  for (const g of groups) assert.is(groupAlive(g), false, `group ${g} left behind after stopAll (teardown)`);
});

test('startAll honours after/before (ties in declaration order), stopAll reverses it', async () => {
  const f = fixture(
    `apps:
  web: { command: bin/idle, daemon: simple, after: [db] }
  db: { command: bin/idle, daemon: simple }
  cache: { command: bin/idle, daemon: simple, before: [db] }
  cli: { command: bin/idle }
  lonely: { command: bin/idle, daemon: simple }`,
    { idle: `trap 'exit 0' TERM; ${IDLE}` },
  );
  assert.equal(f.runner.startOrder(), ['cache', 'db', 'web', 'lonely']);
  await f.runner.startAll();
  assert.equal(f.events.filter((e) => e.event === 'start').map((e) => e.app), ['cache', 'db', 'web', 'lonely']);
  assert.equal(f.runner.status().map((s) => [s.app, s.active]), [['web', true], ['db', true], ['cache', true], ['lonely', true]]);
  await f.runner.stopAll();
  assert.equal(f.events.filter((e) => e.event === 'stop').map((e) => e.app), ['lonely', 'web', 'db', 'cache']);
  assert.throws(() => f.runner.enable('cli'), /not a service/);
});

test('install-mode: disable leaves the service disabled and not started until enabled', async () => {
  const f = fixture(
    `apps:
  main: { command: bin/idle, daemon: simple }
  opt: { command: bin/idle, daemon: simple, install-mode: disable }`,
    { idle: `trap 'exit 0' TERM; ${IDLE}` },
  );
  await f.runner.startAll();
  assert.is(f.runner.isActive('main'), true);
  assert.is(f.runner.isActive('opt'), false);
  assert.is(f.runner.isEnabled('opt'), false);
  assert.equal(f.runner.status().find((s) => s.app === 'opt'), { app: 'opt', enabled: false, active: false, state: 'inactive', notes: [] });
  f.runner.enable('opt');
  await f.runner.startAll();
  assert.is(f.runner.isActive('opt'), true);
  f.runner.disable('opt');
  assert.is(f.runner.isActive('opt'), true, 'disable does not stop');
});

test('restart --reload runs reload-command with MAINPID; plain restart replaces the process', async () => {
  const f = fixture(
    `apps:
  proxy: { command: bin/idle, daemon: simple, reload-command: bin/reload arg }
  plain: { command: bin/idle, daemon: simple }`,
    { idle: `trap 'exit 0' TERM; ${IDLE}`, reload: 'echo "reload $1 $MAINPID" >> "$SNAP_DATA/reloads"' },
  );
  await f.runner.startAll();
  const pid = f.runner.pid('proxy')!;
  await f.runner.restart('proxy', { reload: true });
  assert.is(f.read('reloads'), `reload arg ${pid}\n`);
  assert.is(f.runner.pid('proxy'), pid);
  assert.is(f.runner.exits('proxy'), 0);
  await f.runner.restart('proxy');
  assert.is.not(f.runner.pid('proxy'), pid);
  assert.is(f.runner.exits('proxy'), 1);
  assert.is(f.read('reloads'), `reload arg ${pid}\n`);
  const plainPid = f.runner.pid('plain');
  await f.runner.restart('plain', { reload: true }); // no reload-command: restart
  assert.is.not(f.runner.pid('plain'), plainPid);
  assert.is(f.runner.isActive('plain'), true);
});

test('oneshot and timer apps: runOnce exit codes, start semantics, timer apps not started by startAll', async () => {
  const f = fixture(
    `apps:
  fail: { command: bin/fail, daemon: oneshot, install-mode: disable }
  ok: { command: bin/ok, daemon: oneshot }
  tick: { command: bin/tick, daemon: simple, timer: "00:00-24:00/24" }
  killed: { command: bin/killed, daemon: oneshot, install-mode: disable }`,
    { fail: 'exit 7', ok: 'echo ok >> "$SNAP_DATA/ok"', tick: 'echo tick >> "$SNAP_DATA/ticks"', killed: 'kill -9 $$' },
  );
  assert.is(await f.runner.runOnce('fail'), 7);
  assert.is(f.runner.exits('fail'), 1);
  assert.is(await f.runner.runOnce('killed'), 137);
  await f.runner.startAll();
  await sleep(100);
  assert.is(f.read('ticks'), '', 'timer app not started by startAll');
  assert.is(f.read('ok'), 'ok\n', 'oneshot ran to completion during startAll');
  assert.is(f.runner.state('ok'), 'inactive');
  assert.equal(f.runner.status().find((s) => s.app === 'tick'), { app: 'tick', enabled: true, active: false, state: 'inactive', notes: ['timer-activated'] });
  assert.is(await f.runner.runOnce('tick'), 0);
  assert.is(f.read('ticks'), 'tick\n');
  assert.is(f.runner.exits('tick'), 1);
});

test('stop-command and post-stop-command run on stop; a oneshot with a stop-command stays active until stopped', async () => {
  const f = fixture(
    `apps:
  d: { command: bin/idle, daemon: simple, stop-command: bin/note stop-d, post-stop-command: bin/note post-d, stop-timeout: 3s }
  setup: { command: bin/note start-setup, daemon: oneshot, stop-command: bin/note stop-setup }`,
    { idle: `trap 'echo term >> "$SNAP_DATA/notes"; exit 0' TERM; ${IDLE}`, note: 'echo "$1 ${MAINPID:-none}" >> "$SNAP_DATA/notes"' },
  );
  await f.runner.startAll();
  assert.is(f.runner.state('setup'), 'active', 'RemainAfterExit=yes');
  const pid = f.runner.pid('d');
  await f.runner.stop('d');
  await f.runner.stop('setup');
  assert.is(f.runner.state('setup'), 'inactive');
  assert.equal(f.read('notes').trim().split('\n'), ['start-setup none', `stop-d ${pid}`, 'term', 'post-d none', 'stop-setup none']);
});

test('startAll fails and undoes its starts when a oneshot fails; start of a failing oneshot rejects', async () => {
  const f = fixture(
    `apps:
  first: { command: bin/idle, daemon: simple }
  bad: { command: bin/bad, daemon: oneshot, after: [first] }`,
    { idle: `trap 'exit 0' TERM; ${IDLE}`, bad: 'exit 2' },
  );
  try {
    await f.runner.startAll();
    assert.unreachable('startAll should fail');
  } catch (e) {
    assert.match((e as Error).message, /bad: start failed/);
  }
  assert.is(f.runner.isActive('first'), false, 'undone');
  assert.is(f.runner.state('bad'), 'failed');
  assert.is(f.runner.exits('bad'), 1, 'oneshot is never restarted');
});

test('start of an active service is a no-op; exec failure rejects and is logged', async () => {
  const f = fixture(
    `apps:
  d: { command: bin/d, daemon: simple }
  missing: { command: bin/missing, daemon: simple, restart-condition: never }`,
    { d: `echo run >> "$SNAP_DATA/runs"; trap 'exit 0' TERM; ${IDLE}` },
  );
  await f.runner.start('d');
  const pid = f.runner.pid('d');
  await f.runner.start('d');
  await sleep(100);
  assert.is(f.runner.pid('d'), pid);
  assert.is(f.read('runs'), 'run\n');
  try {
    await f.runner.start('missing');
    assert.unreachable('missing executable');
  } catch (e) {
    assert.match((e as Error).message, 'cannot execute');
  }
  await until(() => f.runner.state('missing') === 'failed', 2000, 'failed');
  assert.match(f.log('missing'), /Failed to execute .*bin\/missing/);
});

test('logs: stdout and stderr appended across restarts, with exit notes', async () => {
  const f = fixture(
    `apps:
  chatty: { command: bin/chatty, daemon: simple, restart-delay: 50ms }`,
    { chatty: `n=$(cat "$SNAP_DATA/count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$SNAP_DATA/count"; echo "out $n"; echo "err $n" >&2; [ $n -eq 1 ] && exit 3; trap 'exit 0' TERM; ${IDLE}` },
  );
  await f.runner.start('chatty');
  await until(() => f.log('chatty').includes('err 2'), 3000, 'second run logged');
  const log = f.log('chatty');
  for (const s of ['out 1', 'err 1', 'out 2', 'err 2', 'Main process exited, code=exited, status=3/FAILURE']) assert.ok(log.includes(s), s);
  assert.ok(log.indexOf('out 1') < log.indexOf('out 2'));
});

test('forking: the launcher exits, the daemon it left behind is adopted and stopped', async () => {
  const f = fixture(
    `apps:
  fork: { command: bin/fork, daemon: forking, stop-timeout: 3s }`,
    { fork: `sh -c 'trap "echo term > \\"$SNAP_DATA/forked.term\\"; exit 0" TERM; echo $$ > "$SNAP_DATA/forked.pid"; ${IDLE}' & sleep 0.1; exit 0` },
  );
  await f.runner.start('fork');
  assert.is(f.runner.isActive('fork'), true);
  const daemonPid = Number(f.read('forked.pid').trim());
  assert.ok(daemonPid > 0);
  assert.is(f.runner.pid('fork'), daemonPid);
  await f.runner.stop('fork');
  assert.is(f.read('forked.term'), 'term\n');
  assert.is(f.runner.isActive('fork'), false);
});

test('when the main process exits, what is left of its group is killed (service crash and runOnce)', async () => {
  const f = fixture(
    `apps:
  crashy: { command: bin/bg crashy 1, daemon: simple, restart-condition: never }
  once: { command: bin/bg once 0, daemon: oneshot }`,
    { bg: `sh -c '${IDLE}' & echo $! > "$SNAP_DATA/$1.child"; exit $2` },
  );
  const childAlive = (n: string) => {
    try {
      return !readFileSync(`/proc/${Number(f.read(`${n}.child`))}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
    } catch {
      return false;
    }
  };
  await f.runner.start('crashy');
  const pgid = f.runner.pid('crashy')!;
  await until(() => f.runner.state('crashy') === 'failed', 2000, 'crash');
  await until(() => !groupAlive(pgid), 1000, 'group of the crashed service gone');
  assert.is(childAlive('crashy'), false);
  assert.is(await f.runner.runOnce('once'), 0);
  await until(() => !childAlive('once'), 1000, 'child of the run gone');
  assert.ok(f.read('once.child') !== '');
});

test('stopAll leaves nothing behind: leftovers of KillMode=process services and runs in flight', async () => {
  const f = fixture(
    `apps:
  leaky: { command: bin/leaky, daemon: simple, stop-mode: sigterm, stop-timeout: 2s }
  job: { command: bin/job, daemon: oneshot, timer: "00:00~24:00" }`,
    {
      leaky: `sh -c 'trap "" TERM; ${IDLE}' & echo $! > "$SNAP_DATA/leftover.pid"; trap 'exit 0' TERM; ${IDLE}`,
      job: `echo $$ > "$SNAP_DATA/job.pid"; ${IDLE}`,
    },
  );
  await f.runner.startAll();
  const run = f.runner.runOnce('job');
  await until(() => f.read('leftover.pid') !== '' && f.read('job.pid') !== '', 3000, 'processes up');
  assert.is(f.runner.isActive('job'), true, 'a run in flight counts as active');
  const pgids = [f.runner.pid('leaky')!, Number(f.read('job.pid'))];
  const leftover = Number(f.read('leftover.pid'));
  await f.runner.stopAll();
  assert.ok([143, 137].includes(await run));
  for (const g of pgids) assert.is(groupAlive(g), false);
  const alive = (() => {
    try {
      return !readFileSync(`/proc/${leftover}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
    } catch {
      return false;
    }
  })();
  assert.is(alive, false, 'leftover child killed');
});

test.run();
