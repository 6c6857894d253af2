// Tests for the snapctl stand-in's semantics, written from reference/snapd-and-nextcloud.md §B
// (and the VM observations in reference/snapd-vm-recipe.md §4). Vectors quoted from the
// reference are marked "ref".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigTransaction, fromPlain, type JsonObject, toPlain } from '../../harness/snapd/config.js';
import {
  type HealthReport,
  type ServiceControlRequest,
  type SnapctlHost,
  type SnapctlService,
  goTabwriter,
  runSnapctl,
} from '../../harness/snapd/snapctl-commands.js';

const SNAP = 'immich-distribution';

interface Fake extends SnapctlHost {
  ops: ServiceControlRequest[];
  health: HealthReport[];
}

function fakeHost(
  opts: {
    config?: unknown;
    uid?: number;
    hook?: string | null;
    instance?: string;
    services?: SnapctlService[];
    plugs?: { name: string; connected: boolean }[];
    failControl?: string;
  } = {},
): Fake {
  const instance = opts.instance ?? SNAP;
  const ops: ServiceControlRequest[] = [];
  const health: HealthReport[] = [];
  return {
    instance,
    uid: opts.uid ?? 0,
    hook: opts.hook === undefined ? 'configure' : opts.hook,
    config: new ConfigTransaction(fromPlain(opts.config ?? {}) as JsonObject, undefined, { snap: instance }),
    services: () => opts.services ?? [],
    serviceControl: async (op) => {
      if (opts.failControl) throw new Error(opts.failControl);
      ops.push(op);
    },
    plugs: () => opts.plugs ?? [],
    setHealth: (h) => health.push(h),
    ops,
    health,
  };
}

const out = (stdout: string) => ({ stdout, stderr: '', exitCode: 0 });
const err = (message: string) => ({ stdout: '', stderr: `error: error running snapctl: ${message}\n`, exitCode: 1 });

// ------------------------------------------------------------------------------------------------
// get

test('B2 ref: get test vectors (get_test.go)', async () => {
  const h = fakeHost({ config: { 'test-key1': 'test-value1', 'test-key2': 2 } });
  assert.equal(await runSnapctl(h, ['get', 'test-key1']), out('test-value1\n'));
  assert.equal(await runSnapctl(h, ['get', 'test-key2']), out('2\n'));
  assert.equal(await runSnapctl(h, ['get', 'missing-key']), out('\n'));
  assert.equal(await runSnapctl(h, ['get', '-t', 'test-key1']), out('"test-value1"\n'));
  assert.equal(await runSnapctl(h, ['get', '-t', 'missing-key']), out('null\n'));
  assert.equal(await runSnapctl(h, ['get', 'test-key1', 'test-key2']), out('{\n\t"test-key1": "test-value1",\n\t"test-key2": 2\n}\n'));
});

test('B2 ref (VM): -d with one key, no key, nested objects', async () => {
  const h = fakeHost({ config: { 'installed-by-hook': 'yes' } });
  assert.equal(await runSnapctl(h, ['get', '-d', 'installed-by-hook']), out('{\n\t"installed-by-hook": "yes"\n}\n'));
  assert.equal(await runSnapctl(h, ['get']), err('get which option?'));
  assert.equal(await runSnapctl(h, ['get', '-d']), err('get which option?'));
  assert.equal(await runSnapctl(h, ['set', 'obj.a=1', 'obj.b=two']), out(''));
  assert.equal(await runSnapctl(h, ['get', 'obj']), out('{\n\t"a": 1,\n\t"b": "two"\n}\n'));
  assert.equal(await runSnapctl(h, ['get', 'obj.a']), out('1\n'));
  assert.equal(await runSnapctl(h, ['get', 'ports.http', 'obj.b', 'nope']), out('{\n\t"obj.b": "two"\n}\n'));
  assert.equal(await runSnapctl(h, ['get', 'nope', 'nada']), out('{}\n'));
});

test('B2: get errors: -d with -t, not a map, invalid name, no context', async () => {
  const h = fakeHost({ config: { port: 80 } });
  assert.equal(await runSnapctl(h, ['get', '-d', '-t', 'port']), err('cannot use -d and -t together'));
  assert.equal(await runSnapctl(h, ['get', '-dt', 'port']), err('cannot use -d and -t together'));
  assert.equal(await runSnapctl(h, ['get', 'port.http']), err(`snap "${SNAP}" option "port" is not a map`));
  assert.equal(await runSnapctl(h, ['get', 'Port']), err('invalid option name: "Port"'));
  assert.equal(await runSnapctl(h, ['get', 'x', '--bogus']), err("unknown flag `bogus'"));
  assert.equal(await runSnapctl(undefined, ['get', 'port'], 0), err('cannot invoke snapctl operation commands (here "get") from outside of a snap'));
  // "get which option?" is checked before the context
  assert.equal(await runSnapctl(undefined, ['get'], 0), err('get which option?'));
  assert.equal(await runSnapctl(h, ['get', ':db', 'x']), err('interface attributes can only be read during the execution of interface hooks'));
});

test('B2: 080 / 80 / "80" / empty string come back with their types', async () => {
  const h = fakeHost();
  assert.equal(await runSnapctl(h, ['set', 'a=080', 'b=80', 'c="80"', 'd=', 'e=1.50', 'f=<b>&']), out(''));
  assert.equal(await runSnapctl(h, ['get', '-t', 'a']), out('"080"\n'));
  assert.equal(await runSnapctl(h, ['get', '-t', 'b']), out('80\n'));
  assert.equal(await runSnapctl(h, ['get', '-t', 'c']), out('"80"\n'));
  assert.equal(await runSnapctl(h, ['get', 'd']), out('\n'));
  assert.equal(await runSnapctl(h, ['get', '-t', 'd']), out('""\n'));
  assert.equal(await runSnapctl(h, ['get', 'e']), out('1.50\n'));
  assert.equal(await runSnapctl(h, ['get', 'f']), out('<b>&\n'));
  assert.equal(await runSnapctl(h, ['get', '-d', 'f']), out('{\n\t"f": "\\u003cb\\u003e\\u0026"\n}\n'));
});

// ------------------------------------------------------------------------------------------------
// set / unset

test('B3: set -s, -t, null unsets, object replaces subtree', async () => {
  const h = fakeHost({ config: { ports: { http: 80, https: 443 }, gone: 1 } });
  assert.equal(await runSnapctl(h, ['set', '-s', 'n=80']), out(''));
  assert.equal(await runSnapctl(h, ['get', '-t', 'n']), out('"80"\n'));
  assert.equal(await runSnapctl(h, ['set', '-t', 'j=512M']), err('failed to parse JSON: cannot parse json value'));
  assert.equal(await runSnapctl(h, ['set', '-t', '-s', 'j=1']), err('cannot use -t and -s together'));
  assert.equal(await runSnapctl(h, ['set', 'gone=null']), out(''));
  assert.equal(await runSnapctl(h, ['get', '-t', 'gone']), out('null\n'));
  assert.equal(await runSnapctl(h, ['set', 'ports={"http":8080}']), out(''));
  assert.equal(toPlain(h.config.get('ports')), { http: 8080 });
  assert.equal(await runSnapctl(h, ['set', 'ports.http.x=1']), err(`snap "${SNAP}" option "ports.http" is not a map`));
});

test('B3 ref: set argument errors', async () => {
  const h = fakeHost();
  assert.equal(await runSnapctl(h, ['set']), err('set which option?'));
  assert.equal(await runSnapctl(h, ['set', 'x']), err('invalid configuration: "x" (want key=value)'));
  assert.equal(await runSnapctl(h, ['set', '=v']), err('configuration keys cannot be empty'));
  assert.equal(await runSnapctl(h, ['set', '!']), err('configuration keys cannot be empty (use key! to unset a key)'));
  assert.equal(await runSnapctl(h, ['set', 'Bad=1']), err('invalid option name: "Bad"'));
  assert.equal(await runSnapctl(h, ['set', 'a_b=1']), err('invalid option name: "a_b"'));
  assert.equal(await runSnapctl(undefined, ['set', 'a=1'], 0), err('cannot invoke snapctl operation commands (here "set") from outside of a snap'));
  assert.equal(await runSnapctl(h, ['set', ':db', 'x=1']), err('interface attributes can only be set during the execution of prepare hooks'));
  // a value may contain ':' and '='
  assert.equal(await runSnapctl(h, ['set', 'url=http://h:1/?a=b']), out(''));
  assert.equal(await runSnapctl(h, ['get', 'url']), out('http://h:1/?a=b\n'));
});

test('B3: keys apply in order; a failing key keeps the earlier ones in the hook transaction', async () => {
  const h = fakeHost();
  assert.equal(await runSnapctl(h, ['set', 'a=1', 'a!', 'b=2', 'B=3']), err('invalid option name: "B"'));
  assert.equal(toPlain(h.config.view()), { b: 2 });
  assert.equal(h.config.changes(), ['a', 'b']);
});

test('B3: key! unsets; unset ignores per-key errors; unset which option?', async () => {
  const h = fakeHost({ config: { a: { b: 1, c: 2 }, d: 4 } });
  assert.equal(await runSnapctl(h, ['set', 'a.b!']), out(''));
  assert.equal(toPlain(h.config.get('a')), { c: 2 });
  assert.equal(await runSnapctl(h, ['unset', 'a.c', 'Bad_Name', '', 'd.e.f', 'd']), out(''));
  assert.equal(toPlain(h.config.view()), { a: {} });
  assert.equal(await runSnapctl(h, ['unset']), err('unset which option?'));
});

// ------------------------------------------------------------------------------------------------
// root-only verbs

test('B0: set, unset, start, stop, restart need root; get, services, is-connected, set-health, system-mode do not', async () => {
  const h = fakeHost({ uid: 1000, config: { k: 'v' }, services: [{ app: 'server', enabled: true, active: true }], plugs: [{ name: 'network', connected: true }] });
  for (const args of [['set', 'k=1'], ['unset', 'k'], ['start', `${SNAP}.server`], ['stop', SNAP], ['restart', SNAP], ['bogus']]) {
    assert.equal(await runSnapctl(h, args), { stdout: '', stderr: `error: cannot use "${args[0]}" with uid 1000, try with sudo\n`, exitCode: 1 }, args.join(' '));
  }
  assert.equal(h.config.changes(), []);
  assert.equal(h.ops, []);
  assert.equal(await runSnapctl(h, ['get', 'k']), out('v\n'));
  assert.is((await runSnapctl(h, ['services'])).exitCode, 0);
  assert.equal(await runSnapctl(h, ['is-connected', 'network']), out(''));
  assert.equal(await runSnapctl(h, ['set-health', 'okay']), out(''));
  assert.equal(await runSnapctl(h, ['system-mode']), out('system-mode: run\nseed-loaded: true\n'));
  // help is always allowed
  assert.is((await runSnapctl(h, ['set', '--help'])).exitCode, 0);
  // uid given explicitly wins (no context)
  assert.is((await runSnapctl(undefined, ['set', 'a=1'], 1000)).stderr, 'error: cannot use "set" with uid 1000, try with sudo\n');
});

// ------------------------------------------------------------------------------------------------
// services

const SERVICES: SnapctlService[] = [
  { app: 'server', enabled: true, active: true },
  { app: 'backup-timer', enabled: true, active: false, notes: ['timer-activated'] },
  { app: 'ml', enabled: false, active: false },
];

test('B4 ref: services table: header, sorted by app, tabwriter minwidth 5 / padding 2', async () => {
  const h = fakeHost({ instance: 'nextcloud', services: [{ app: 'apache', enabled: true, active: true }] });
  assert.equal(await runSnapctl(h, ['services']), out('Service           Startup  Current  Notes\nnextcloud.apache  enabled  active   -\n'));
  const h2 = fakeHost({ services: SERVICES });
  assert.equal(
    await runSnapctl(h2, ['services']),
    out(
      [
        'Service                           Startup   Current   Notes',
        'immich-distribution.backup-timer  enabled   inactive  timer-activated',
        'immich-distribution.ml            disabled  inactive  -',
        'immich-distribution.server        enabled   active    -',
        '',
      ].join('\n'),
    ),
  );
});

test('B4: services by name, <instance> = all, unknown names, no services, -g/-u', async () => {
  const h = fakeHost({ services: SERVICES });
  assert.equal(await runSnapctl(h, ['services', `${SNAP}.ml`]), out('Service                 Startup   Current   Notes\nimmich-distribution.ml  disabled  inactive  -\n'));
  assert.equal((await runSnapctl(h, ['services', SNAP])).stdout.split('\n').length, 5);
  assert.equal(await runSnapctl(h, ['services', `${SNAP}.nope`]), err(`unknown service: "${SNAP}.nope"`));
  assert.equal(await runSnapctl(h, ['services', 'server']), err('unknown service: "server"'));
  assert.equal(await runSnapctl(fakeHost(), ['services']), out(''));
  assert.equal(await runSnapctl(h, ['services', '-g', '-u']), err('cannot combine --global and --user switches.'));
  const u = fakeHost({ services: [{ app: 'agent', enabled: true, active: true, userDaemon: true }] });
  assert.equal(await runSnapctl(u, ['services']), out('Service                    Startup  Current  Notes\nimmich-distribution.agent  enabled  -        user\n'));
});

test('goTabwriter pads tab-terminated cells only, counting runes', () => {
  const opts = { minwidth: 5, tabwidth: 3, padding: 2, padchar: ' ' };
  assert.is(goTabwriter('a\tb\nccc\td\n', opts), 'a    b\nccc  d\n');
  assert.is(goTabwriter('é\tx\n', opts), 'é    x\n');
  assert.is(goTabwriter('abcdef\tx\n', opts), 'abcdef  x\n');
});

// ------------------------------------------------------------------------------------------------
// start / stop / restart

test('B5: start --enable, stop --disable, restart --reload, <instance> = all services', async () => {
  const h = fakeHost({ services: SERVICES });
  assert.equal(await runSnapctl(h, ['start', '--enable', `${SNAP}.server`, `${SNAP}.ml`]), out(''));
  assert.equal(await runSnapctl(h, ['stop', '--disable', SNAP]), out(''));
  assert.equal(await runSnapctl(h, ['restart', '--reload', `${SNAP}.server`]), out(''));
  assert.equal(await runSnapctl(h, ['restart', `${SNAP}.server`]), out(''));
  assert.equal(h.ops, [
    { action: 'start', apps: ['server', 'ml'], enable: true },
    { action: 'stop', apps: ['backup-timer', 'ml', 'server'], disable: true },
    { action: 'restart', apps: ['server'], reload: true },
    { action: 'restart', apps: ['server'] },
  ]);
});

test('B5: restart has no --enable/--disable; a name is required; names must be ours', async () => {
  const h = fakeHost({ services: SERVICES });
  assert.equal(await runSnapctl(h, ['restart', '--enable', SNAP]), err("unknown flag `enable'"));
  assert.equal(await runSnapctl(h, ['restart', '--disable', SNAP]), err("unknown flag `disable'"));
  assert.equal(await runSnapctl(h, ['start', '--disable', SNAP]), err("unknown flag `disable'"));
  assert.equal(await runSnapctl(h, ['stop', '--enable', SNAP]), err("unknown flag `enable'"));
  for (const verb of ['start', 'stop', 'restart']) {
    assert.equal(await runSnapctl(h, [verb]), err('the required argument `<service> (at least 1 argument)` was not provided'));
  }
  assert.equal(await runSnapctl(h, ['start', 'other-snap.server']), err('unknown service: "other-snap.server"'));
  assert.equal(await runSnapctl(h, ['stop', `${SNAP}.nope`]), err(`unknown service: "${SNAP}.nope"`));
  assert.equal(await runSnapctl(h, ['start', '--system', '--user', SNAP]), err('--system and --user cannot be used in conjunction with each other'));
  assert.equal(await runSnapctl(h, ['start', '--users=bob', SNAP]), err('only "all" is supported as a value for --users'));
  assert.equal(await runSnapctl(undefined, ['start', SNAP], 0), err('cannot invoke snapctl operation commands (here "start") from outside of a snap'));
  assert.equal(h.ops, []);
  const failing = fakeHost({ services: SERVICES, failControl: 'start command is taking too long' });
  assert.equal(await runSnapctl(failing, ['start', SNAP]), err('start command is taking too long'));
});

test('B5: parallel installs: snap.app is patched to the instance', async () => {
  const h = fakeHost({ instance: `${SNAP}_two`, services: SERVICES });
  assert.equal(await runSnapctl(h, ['restart', `${SNAP}.server`]), out(''));
  assert.equal(await runSnapctl(h, ['restart', `${SNAP}_two.ml`]), out(''));
  assert.equal(await runSnapctl(h, ['restart', `${SNAP}_one.ml`]), err('unexpected snap instance key: "one"'));
  assert.equal(await runSnapctl(h, ['restart', `${SNAP}_two.ml`, `${SNAP}.server`]), err('inconsistent use of snap instance key'));
  assert.equal(h.ops, [
    { action: 'restart', apps: ['server'] },
    { action: 'restart', apps: ['ml'] },
  ]);
  // the services table then drops the instance key
  assert.match((await runSnapctl(h, ['services', SNAP])).stdout, /^immich-distribution\.server {2}/m);
});

// ------------------------------------------------------------------------------------------------
// is-connected

test('B6: is-connected exit codes and --list', async () => {
  const h = fakeHost({
    plugs: [
      { name: 'network-bind', connected: true },
      { name: 'removable-media', connected: false },
      { name: 'network', connected: true },
    ],
  });
  assert.equal(await runSnapctl(h, ['is-connected', 'network']), { stdout: '', stderr: '', exitCode: 0 });
  assert.equal(await runSnapctl(h, ['is-connected', 'removable-media']), { stdout: '', stderr: '', exitCode: 1 });
  assert.equal(await runSnapctl(h, ['is-connected', 'home']), err(`snap "${SNAP}" has no plug or slot named "home"`));
  assert.equal(await runSnapctl(h, ['is-connected', '--list']), out('network\nnetwork-bind\n'));
  assert.equal(await runSnapctl(h, ['is-connected', '--list', 'network']), err('cannot specify both a plug/slot name and --list'));
  assert.equal(await runSnapctl(h, ['is-connected']), err('must specify either a plug/slot name or --list'));
  assert.equal(await runSnapctl(h, ['is-connected', '--pid=12', 'network']), err(`cannot use --pid check with ${SNAP}:network`));
  assert.equal(await runSnapctl(undefined, ['is-connected', 'network'], 0), err('cannot invoke snapctl operation commands (here "is-connected") from outside of a snap'));
});

// ------------------------------------------------------------------------------------------------
// set-health

test('B6: set-health okay takes no message or code', async () => {
  const h = fakeHost();
  assert.equal(await runSnapctl(h, ['set-health', 'okay']), out(''));
  assert.equal(await runSnapctl(h, ['set-health', 'okay', 'all good here']), err('when status is "okay", message and code must be empty'));
  assert.equal(await runSnapctl(h, ['set-health', '--code=abc', 'okay']), err('when status is "okay", message and code must be empty'));
  assert.equal(h.health, [{ status: 'okay' }]);
});

test('B6: set-health message length limits (runes), truncation to 69 + …', async () => {
  const h = fakeHost();
  assert.equal(await runSnapctl(h, ['set-health', 'waiting']), err('when status is not "okay", message is required'));
  assert.equal(await runSnapctl(h, ['set-health', 'waiting', '123456']), err('message must be at least 7 characters long (got 6)'));
  assert.equal(await runSnapctl(h, ['set-health', 'blocked', 'éééééé']), err('message must be at least 7 characters long (got 6)'));
  assert.equal(await runSnapctl(h, ['set-health', 'waiting', '1234567']), out(''));
  const seventy = 'm'.repeat(70);
  assert.equal(await runSnapctl(h, ['set-health', 'error', seventy]), out(''));
  assert.equal(await runSnapctl(h, ['set-health', 'error', `${'é'.repeat(70)}X`, '--code', 'db-down']), out(''));
  assert.equal(h.health, [
    { status: 'waiting', message: '1234567' },
    { status: 'error', message: seventy },
    { status: 'error', message: `${'é'.repeat(69)}…`, code: 'db-down' },
  ]);
});

test('B6: set-health codes and statuses', async () => {
  const h = fakeHost();
  const msg = 'something broke';
  assert.equal(await runSnapctl(h, ['set-health', 'error', msg, '--code=ab']), err('code must have between 3 and 30 characters, got 2'));
  assert.equal(await runSnapctl(h, ['set-health', 'error', msg, `--code=${'a'.repeat(31)}`]), err('code must have between 3 and 30 characters, got 31'));
  assert.equal(await runSnapctl(h, ['set-health', 'error', msg, `--code=${'a'.repeat(30)}`]), out(''));
  for (const bad of ['Abc', 'a--b', '1ab', 'ab-', 'a_b']) {
    assert.equal(
      await runSnapctl(h, ['set-health', 'error', msg, `--code=${bad}`]),
      err(`invalid code "${bad}" (code must start with lowercase ASCII letters, and contain only ASCII letters and numbers, optionally separated by single dashes)`),
      bad,
    );
  }
  assert.equal(await runSnapctl(h, ['set-health', 'unknown', msg]), err('status cannot be manually set to "unknown"'));
  assert.equal(await runSnapctl(h, ['set-health', 'fine', msg]), err('invalid status "fine", must be one of "unknown", "okay", "waiting", "blocked", "error"'));
  assert.equal(await runSnapctl(h, ['set-health']), err('the required argument `<status>` was not provided'));
  assert.equal(h.health.length, 1);
  // argument checks come before the context check
  assert.equal(await runSnapctl(undefined, ['set-health', 'waiting', 'short'], 0), err('message must be at least 7 characters long (got 5)'));
  assert.equal(await runSnapctl(undefined, ['set-health', 'okay'], 0), err('cannot invoke snapctl operation commands (here "set-health") from outside of a snap'));
});

// ------------------------------------------------------------------------------------------------
// others

test('B6: system-mode on classic', async () => {
  assert.equal(await runSnapctl(fakeHost({ hook: null }), ['system-mode']), out('system-mode: run\nseed-loaded: true\n'));
});

test('unknown commands and flags, like go-flags', async () => {
  const h = fakeHost();
  assert.equal(await runSnapctl(h, ['gett', 'x']), err("Unknown command `gett', did you mean `get'?"));
  const r = await runSnapctl(h, ['frobnicate']);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /^error: error running snapctl: Unknown command `frobnicate'\. Please specify one command of: change, .*get, .* or version\n$/);
  assert.equal(await runSnapctl(h, ['-x']), err("unknown flag `x'"));
  assert.equal(await runSnapctl(h, []), { stdout: '', stderr: 'error: snapctl cannot run without args\n', exitCode: 1 });
  assert.equal(await runSnapctl(h, ['model']), err('"model" is not modelled by the snapctl stand-in'));
  assert.equal(await runSnapctl(h, ['get', '--', '-weird']), err('invalid option name: "-weird"'));
});

test.run();
