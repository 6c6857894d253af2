// Our typed snapctl client (hooks-src/snap/snapctl.ts) against the snapctl stand-in, which follows
// snapd's formats: values round-trip with their types, errors and exit codes are understood.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeSnapd, harnessBin } from '../../harness/fake-snapd.js';
import { Snapctl, SnapctlError } from '../../../hooks-src/snap/snapctl.js';
import { runCommand } from '../../../hooks-src/snap/exec.js';
import { snapdSocketRunner } from '../../../hooks-src/snap/snapd-socket.js';

const yaml = `
name: clienttest
base: core24
confinement: strict
plugs:
  removable-media: {}
apps:
  svc:
    command: bin/svc
    daemon: simple
  cmd:
    command: bin/cmd
`;

async function setup() {
  const from = mkdtempSync(join(tmpdir(), 'client-snap-'));
  mkdirSync(join(from, 'meta/hooks'), { recursive: true });
  mkdirSync(join(from, 'bin'), { recursive: true });
  for (const [p, body] of [
    ['bin/svc', 'exec sleep 1000'],
    ['bin/cmd', 'true'],
    ['meta/hooks/configure', 'true'],
  ] as const) {
    writeFileSync(join(from, p), `#!/bin/sh\n${body}\n`);
    chmodSync(join(from, p), 0o755);
  }
  const snapd = await FakeSnapd.create({ instance: 'clienttest', from, snapcraftYaml: yaml, links: {} });
  await snapd.install();
  const env = snapd.appEnv('cmd');
  const api = (file: string, args: readonly string[]) => snapdSocketRunner(file, args, { env });
  const client = new Snapctl((file, args) => runCommand(file, args, { env, replaceEnv: true }), join(harnessBin, 'snapctl'), api);
  const viaApi = new Snapctl(api, 'unused', api);
  return { snapd, client, viaApi };
}

test('typed values round-trip: numbers, strings that look like numbers, booleans, objects', async () => {
  const { snapd, client } = await setup();
  try {
    await client.set({ 'http.port': 8080, 'a.code': '080', 'ml.enabled': false, obj: { x: 1, y: 'two' }, empty: '' });
    assert.is(await client.get('http.port'), 8080);
    assert.is(await client.get('a.code'), '080');
    assert.is(await client.get('ml.enabled'), false);
    assert.equal(await client.get('obj'), { x: 1, y: 'two' });
    assert.is(await client.get('empty'), '');
    assert.is(await client.get('missing'), undefined);
    assert.equal(await client.getDocument(['http', 'missing', 'ml.enabled']), { http: { port: 8080 }, 'ml.enabled': false });
    await client.set({ 'http.port': undefined });
    assert.is(await client.get('http.port'), undefined);
    assert.equal(await client.get('http'), {});
    assert.is(snapd.get('a.code'), '080');
  } finally {
    await snapd.destroy();
  }
});

test('getAll reads the whole document, unknown top-level keys included', async () => {
  const { snapd, client } = await setup();
  try {
    await snapd.set(['htp.port=8080', 'http.port=80']);
    const { doc, complete } = await client.getAll(['http']);
    assert.ok(complete);
    assert.equal(doc, { htp: { port: 8080 }, http: { port: 80 } });
  } finally {
    await snapd.destroy();
  }
});

test('secrets go through snapd\'s REST API, never a command line; errors and exit codes survive it', async () => {
  const { snapd, client, viaApi } = await setup();
  try {
    await client.set({ 'database-password': 's3cret-value_0123456789' }, { secret: true });
    assert.is(snapd.get('database-password'), 's3cret-value_0123456789');
    assert.is(await viaApi.get('database-password'), 's3cret-value_0123456789');
    const err = await viaApi.set({ Bad: 1 }).catch((e: unknown) => e);
    assert.instance(err, SnapctlError);
    assert.match((err as Error).message, 'invalid option name: "Bad"');
    assert.is(await viaApi.isConnected('removable-media'), false);
    snapd.connect('removable-media');
    assert.is(await viaApi.isConnected('removable-media'), true);
  } finally {
    await snapd.destroy();
  }
});

test('errors surface as SnapctlError with snapd\'s message', async () => {
  const { snapd, client } = await setup();
  try {
    const err = await client.set({ 'Bad_Key': 1 }).catch((e: unknown) => e);
    assert.instance(err, SnapctlError);
    assert.is((err as SnapctlError).exitCode, 1);
    assert.match((err as Error).message, 'invalid option name: "Bad_Key"');
  } finally {
    await snapd.destroy();
  }
});

test('services, is-connected and service control through the stand-in', async () => {
  const { snapd, client } = await setup();
  try {
    const rows = await client.services();
    assert.equal(rows.map((r) => [r.name, r.enabled, r.active]), [['clienttest.svc', true, true]]);
    assert.is(await client.isConnected('removable-media'), false);
    snapd.connect('removable-media');
    assert.is(await client.isConnected('removable-media'), true);
    await client.stop(['clienttest.svc'], { disable: true });
    assert.equal((await client.services()).map((r) => [r.enabled, r.active]), [[false, false]]);
    await client.start(['clienttest.svc'], { enable: true });
    assert.equal((await client.services()).map((r) => [r.enabled, r.active]), [[true, true]]);
    const err = await client.isConnected('no-such-plug').catch((e: unknown) => e);
    assert.instance(err, SnapctlError);
  } finally {
    await snapd.destroy();
  }
});

test.run();
