// immich-distribution.status, compiled, as an app: the human table and --json (services, health,
// versions, ports, disk use, last backup, pending migrations), root only.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { runCommand } from '../../hooks-src/snap/exec.js';
import type { StatusReport } from '../../hooks-src/status/collect.js';
import { type Env, installed, teardown } from './backup-fixtures.js';

const test = suite('status');
let e: Env | undefined;

test.before(async () => {
  e = await installed();
});
test.after(async () => {
  await teardown(e);
});

test('--json: services, health, versions, ports, disk, last backup, pending migrations', async () => {
  const b = await e!.snapd.runApp('backup', []);
  assert.is(b.exitCode, 0, b.stderr);
  const r = await e!.snapd.runApp('status', ['--json']);
  assert.ok(r.exitCode === 0 || r.exitCode === 1, r.stderr);
  const s = JSON.parse(r.stdout) as StatusReport;
  assert.is(s.snap.instance, 'immich-distribution');
  const pg = s.services.find((x) => x.name === 'immich-distribution.postgres');
  assert.ok(pg?.active, JSON.stringify(s.services));
  assert.ok(s.health.postgres.ok, s.health.postgres.detail);
  assert.ok(s.health.redis.ok, s.health.redis.detail);
  assert.match(s.versions.postgres.server ?? '', /^15\./);
  assert.ok(s.versions.extensions.some((x) => x.name === 'vector'));
  assert.is(s.versions.immich.shipped, (JSON.parse(readFileSync('snap/versions.json', 'utf8')) as { immich: { version: string } }).immich.version);
  const pgPort = s.ports.find((p) => p.what === 'Postgres');
  assert.ok(pgPort?.listening.includes('127.0.0.1'), JSON.stringify(pgPort));
  assert.ok(s.disk.find((d) => d.area === 'database')!.bytes! > 1_000_000);
  assert.ok(s.disk.some((d) => d.area === 'media/upload'));
  assert.is(s.lastBackup.count, 1);
  assert.match(s.lastBackup.id ?? '', /^\d{8}T\d{6}Z$/);
  assert.equal(s.pending.migrations, []);
  assert.is(s.pending.interruptedRestore, undefined);
  // No secret in the report.
  for (const name of ['database-password', 'redis-password'] as const) assert.not.ok(r.stdout.includes(readFileSync(e!.paths.secret(name), 'utf8').trim()));
  // The exit status says whether every probe passed.
  assert.is(r.exitCode, Object.values(s.health).every((h) => h.ok) ? 0 : 1);
});

test('human table: every section, one line per service', async () => {
  const r = await e!.snapd.runApp('status', []);
  for (const h of ['Services', 'Health', 'Versions', 'Listening ports', 'Disk use', 'Backups', 'Pending']) assert.match(r.stdout, new RegExp(`^${h}$`, 'm'));
  assert.match(r.stdout, /^ {2}postgres +enabled +active/m);
  assert.match(r.stdout, /^ {2}Postgres +5432 +loopback +127\.0\.0\.1/m);
});

test('Postgres down: reported, not a crash', async () => {
  await e!.snapd.services.stop('postgres');
  try {
    const r = await e!.snapd.runApp('status', ['--json']);
    assert.is(r.exitCode, 1, r.stderr);
    const s = JSON.parse(r.stdout) as StatusReport;
    assert.not.ok(s.health.postgres.ok);
    assert.match(s.health.postgres.detail, /Postgres is not running/);
  } finally {
    await e!.snapd.services.start('postgres');
  }
});

test('not root: refused with one line', async () => {
  const r = await runCommand(join(e!.snapd.layout.snap, 'bin/status'), [], { env: e!.snapd.appEnv('status'), replaceEnv: true, uid: 65534, gid: 65534, cwd: '/' });
  assert.is(r.exitCode, 77);
  assert.match(r.stderr, /^status: immich-distribution\.status must run as root/);
});

test.run();
