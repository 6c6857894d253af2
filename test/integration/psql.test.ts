// immich-distribution.psql, compiled, as an app: superuser on database immich over the unix
// socket without a password, every argument passed through, psql's exit status kept, stdin piped,
// clear messages when not root or when Postgres is down.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { runCommand } from '../../hooks-src/snap/exec.js';
import { type Env, installed, teardown, waitFor, query } from './backup-fixtures.js';

const test = suite('psql');
let e: Env | undefined;

test.before(async () => {
  e = await installed();
});
test.after(async () => {
  await teardown(e);
});

test('superuser on immich by default; arguments pass through (-c, -At, -d, positional database)', async () => {
  const r = await e!.snapd.runApp('psql', ['-At', '-c', 'select current_user, current_database(), (select rolsuper from pg_roles where rolname = current_user)']);
  assert.is(r.exitCode, 0, r.stderr);
  assert.is(r.stdout, 'postgres|immich|t\n');
  const d = await e!.snapd.runApp('psql', ['-At', '-d', 'postgres', '-c', 'select current_database()']);
  assert.is(d.stdout, 'postgres\n');
  const p = await e!.snapd.runApp('psql', ['-At', '-c', 'select current_database()', 'template1']);
  assert.is(p.stdout, 'template1\n', p.stderr);
});

test("psql's exit status is kept; stdin is piped; \\copy works", async () => {
  const bad = await e!.snapd.runApp('psql', ['-c', 'select 1/0']);
  assert.is(bad.exitCode, 1);
  assert.match(bad.stderr, /division by zero/);
  const stop = await e!.snapd.runApp('psql', ['-v', 'ON_ERROR_STOP=1', '-f', '-'], { input: 'select 1;\nselect nope;\n' });
  assert.is(stop.exitCode, 3);
  const piped = await e!.snapd.runApp('psql', ['-At'], { input: 'create table t (x int);\ninsert into t select generate_series(1,5);\nselect sum(x) from t;\n' });
  assert.is(piped.exitCode, 0, piped.stderr);
  assert.match(piped.stdout, /^15$/m);
  const csv = join(e!.snapd.root, 'in.csv');
  writeFileSync(csv, '7\n8\n');
  const copy = await e!.snapd.runApp('psql', ['-c', `\\copy t from '${csv}' csv`]);
  assert.is(copy.exitCode, 0, copy.stderr);
  const [s] = await query<{ s: number }>(e!, 'select sum(x)::int as s from t');
  assert.is(s!.s, 30);
});

test('not root: one clear line, exit 77', async () => {
  const r = await runCommand(join(e!.snapd.layout.snap, 'bin/psql'), ['-c', 'select 1'], { env: e!.snapd.appEnv('psql'), replaceEnv: true, uid: 65534, gid: 65534, cwd: '/' });
  assert.is(r.exitCode, 77);
  assert.is(r.stderr, 'psql: immich-distribution.psql must run as root: sudo immich-distribution.psql\n');
});

test('Postgres down: a clear message naming the fix', async () => {
  await e!.snapd.services.stop('postgres');
  try {
    const r = await e!.snapd.runApp('psql', ['-c', 'select 1']);
    assert.is(r.exitCode, 1);
    assert.is(r.stderr, 'psql: Postgres is not running; start it with: sudo snap start immich-distribution.postgres (logs: sudo snap logs immich-distribution.postgres)\n');
  } finally {
    await e!.snapd.services.start('postgres');
    await waitFor('postgres', async () => (await query(e!, 'select 1', 'postgres')).length === 1);
  }
});

test.run();
