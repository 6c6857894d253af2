import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstLoggedError } from '../../../hooks-src/postgres/upgrade.js';

// Lines as pg_upgrade 18 leaves them when pg_restore fails in one database (--jobs).
function newCluster(logs: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgup-logs-'));
  chmodSync(dir, 0o755);
  const logDir = join(dir, 'pg_upgrade_output.d', '20261129T061324.284', 'log');
  mkdirSync(logDir, { recursive: true, mode: 0o755 });
  for (const [name, text] of Object.entries(logs)) writeFileSync(join(logDir, name), text, { mode: 0o644 });
  return dir;
}

test('the failing pg_restore error, not the connections pg_upgrade terminated afterwards', () => {
  const dir = newCluster({
    'pg_upgrade_dump_5.log': [
      'pg_restore: creating COMMENT "SCHEMA "public""',
      'pg_restore: error: could not execute query: FATAL:  terminating connection due to administrator command',
      'Command was: COMMENT ON SCHEMA "public" IS \'standard public schema\';',
    ].join('\n'),
    'pg_upgrade_server.log': 'waiting for server to shut down.... done\n2026-11-29 06:13:26.237 UTC [10415] LOG:  database system is shut down\n',
    'pg_upgrade_dump_16385.log': [
      'ALTER TABLE ONLY "public"."assets" ALTER COLUMN "id" SET (pg_attver=27000664);',
      'pg_restore: error: could not execute query: ERROR:  unrecognized parameter "pg_attver"',
      'Command was: ALTER TABLE ONLY "public"."assets" ALTER COLUMN "id" SET (pg_attver=27000664);',
    ].join('\n'),
  });
  try {
    const r = firstLoggedError(dir);
    assert.is(r?.error, 'unrecognized parameter "pg_attver"');
    assert.match(r?.file ?? '', /pg_upgrade_dump_16385\.log$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a server error when no database dump failed; nothing when there are no logs', () => {
  const dir = newCluster({ 'pg_upgrade_server.log': 'LOG:  starting\n2026-11-29 06:13:26 UTC [1] FATAL:  could not load library "$libdir/vchord": No such file\n' });
  try {
    assert.is(firstLoggedError(dir)?.error, 'could not load library "$libdir/vchord": No such file');
    assert.is(firstLoggedError(join(dir, 'missing')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
