import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Snapctl, SnapctlError, parseServicesTable } from '../../../hooks-src/snap/snapctl.js';
import type { CommandRunner } from '../../../hooks-src/snap/exec.js';

function fake(responses: Record<string, { exitCode?: number; stdout?: string; stderr?: string }>) {
  const calls: string[][] = [];
  const run: CommandRunner = async (_file, args) => {
    calls.push([...args]);
    const r = responses[args.join(' ')] ?? { exitCode: 1, stderr: 'error: snapctl: unexpected\n' };
    return { exitCode: r.exitCode ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  return { snapctl: new Snapctl(run), calls };
}

test('get -t parses typed values and null as unset', async () => {
  const { snapctl } = fake({ 'get -t http.port': { stdout: '80\n' }, 'get -t missing': { stdout: 'null\n' }, 'get -t s': { stdout: '"080"\n' } });
  assert.is(await snapctl.get('http.port'), 80);
  assert.is(await snapctl.get('missing'), undefined);
  assert.is(await snapctl.get('s'), '080');
});

test('set writes JSON so types survive; undefined unsets', async () => {
  const { snapctl, calls } = fake({ 'set a="080" b=80 c!': {} });
  await snapctl.set({ a: '080', b: 80, c: undefined });
  assert.equal(calls, [['set', 'a="080"', 'b=80', 'c!']]);
});

test('errors carry snapd message without the error: prefix', async () => {
  const { snapctl } = fake({ 'get -d': { exitCode: 1, stderr: 'error: snapctl: get which option?\n' } });
  try {
    await snapctl.getDocument([]);
    assert.unreachable();
  } catch {
    /* empty key list short-circuits */
  }
  const { snapctl: s2 } = fake({});
  const err = await s2.get('x').catch((e: unknown) => e);
  assert.instance(err, SnapctlError);
  assert.match((err as Error).message, 'snapctl get failed: unexpected');
});

test('is-connected maps exit 1 without output to false', async () => {
  const { snapctl } = fake({ 'is-connected removable-media': { exitCode: 1 }, 'is-connected network': {} });
  assert.is(await snapctl.isConnected('removable-media'), false);
  assert.is(await snapctl.isConnected('network'), true);
});

test('services table', () => {
  const rows = parseServicesTable(
    'Service                           Startup   Current   Notes\n' +
      'immich-distribution.haproxy       enabled   active    -\n' +
      'immich-distribution.backup-timer  disabled  inactive  timer-activated\n',
  );
  assert.equal(rows, [
    { name: 'immich-distribution.haproxy', enabled: true, active: true, notes: [] },
    { name: 'immich-distribution.backup-timer', enabled: false, active: false, notes: ['timer-activated'] },
  ]);
});

test.run();
