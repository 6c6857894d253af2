import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type SqlClient,
  ensureRoleAndDatabase,
  ensureSchemaAndExtensions,
  ensureSuperuserPassword,
  extensionsFor,
  ident,
  literal,
} from '../../../hooks-src/postgres/bootstrap.js';
import { scramVerifier } from '../../../hooks-src/postgres/scram.js';

/** A fake connection: answers SELECTs from a table of prefixes, records everything else. */
function fakeDb(answers: Array<[RegExp, Record<string, unknown>[]]>) {
  const statements: string[] = [];
  const db: SqlClient = {
    async query<R>(sql: string) {
      for (const [re, rows] of answers) if (re.test(sql)) return { rows: rows as R[] };
      statements.push(sql);
      return { rows: [] as R[] };
    },
  };
  return { db, statements };
}

test('fresh cluster: creates the superuser role immich and its database', async () => {
  const { db, statements } = fakeDb([[/FROM pg_authid/, []], [/FROM pg_database/, []]]);
  await ensureRoleAndDatabase(db);
  assert.equal(statements, [
    'CREATE ROLE "immich" WITH LOGIN SUPERUSER',
    `CREATE DATABASE "immich" WITH OWNER "immich" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'`,
  ]);
});

test('rerun on a bootstrapped cluster issues no statement', async () => {
  const { db, statements } = fakeDb([
    [/FROM pg_authid/, [{ rolsuper: true, rolcanlogin: true, haspassword: false }]],
    [/FROM pg_database/, [{ owner: 'immich' }]],
  ]);
  await ensureRoleAndDatabase(db);
  assert.equal(statements, []);
});

test('a role that drifted (password set, not superuser) is put back', async () => {
  const { db, statements } = fakeDb([
    [/FROM pg_authid/, [{ rolsuper: false, rolcanlogin: true, haspassword: true }]],
    [/FROM pg_database/, [{ owner: 'postgres' }]],
  ]);
  await ensureRoleAndDatabase(db);
  assert.equal(statements, ['ALTER ROLE "immich" WITH LOGIN SUPERUSER PASSWORD NULL', 'ALTER DATABASE "immich" OWNER TO "immich"']);
});

test('extensions: created as immich in one transaction, vector first', async () => {
  const { db, statements } = fakeDb([[/FROM pg_namespace/, [{ owner: 'pg_database_owner' }]], [/FROM pg_extension/, [{ extname: 'plpgsql' }]]]);
  await ensureSchemaAndExtensions(db, 'vector');
  assert.equal(statements, [
    'ALTER SCHEMA public OWNER TO "immich"',
    'BEGIN',
    'SET LOCAL ROLE "immich"',
    'CREATE EXTENSION IF NOT EXISTS "vector" CASCADE',
    'CREATE EXTENSION IF NOT EXISTS "cube" CASCADE',
    'CREATE EXTENSION IF NOT EXISTS "earthdistance" CASCADE',
    'CREATE EXTENSION IF NOT EXISTS "pg_trgm" CASCADE',
    'CREATE EXTENSION IF NOT EXISTS "unaccent" CASCADE',
    'CREATE EXTENSION IF NOT EXISTS "uuid-ossp" CASCADE',
    'COMMIT',
  ]);
});

test('vchord: extensions plus the probes setting Immich sets when it creates vchord', async () => {
  const { db, statements } = fakeDb([
    [/FROM pg_namespace/, [{ owner: 'immich' }]],
    [/FROM pg_extension/, extensionsFor('vchord').filter((e) => e !== 'unaccent').map((extname) => ({ extname }))],
    [/FROM pg_db_role_setting/, [{ n: 0 }]],
  ]);
  await ensureSchemaAndExtensions(db, 'vchord');
  assert.equal(statements, [
    'BEGIN',
    'SET LOCAL ROLE "immich"',
    'CREATE EXTENSION IF NOT EXISTS "unaccent" CASCADE',
    'COMMIT',
    'ALTER DATABASE "immich" SET vchordrq.probes = 1',
  ]);
});

test('a failing CREATE EXTENSION rolls back', async () => {
  const statements: string[] = [];
  const db: SqlClient = {
    async query<R>(sql: string) {
      if (/FROM pg_namespace/.test(sql)) return { rows: [{ owner: 'immich' }] as R[] };
      if (/FROM pg_extension/.test(sql)) return { rows: [] as R[] };
      statements.push(sql);
      if (sql.includes('"cube"')) throw new Error('extension "cube" is not available');
      return { rows: [] as R[] };
    },
  };
  await ensureSchemaAndExtensions(db, 'vector').then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /cube/),
  );
  assert.is(statements.at(-1), 'ROLLBACK');
});

test('superuser password: sent as a verifier, only when it does not match', async () => {
  const password = 'A'.repeat(43);
  const fresh = fakeDb([[/FROM pg_authid/, [{ rolpassword: 'md5deadbeef' }]]]);
  assert.ok(await ensureSuperuserPassword(fresh.db, password));
  assert.is(fresh.statements.length, 1);
  assert.match(fresh.statements[0]!, /^ALTER ROLE "postgres" WITH PASSWORD 'SCRAM-SHA-256\$4096:/);
  assert.not.ok(fresh.statements[0]!.includes(password), 'the plain password never leaves the hook');

  const same = fakeDb([[/FROM pg_authid/, [{ rolpassword: scramVerifier(password) }]]]);
  assert.not.ok(await ensureSuperuserPassword(same.db, password));
  assert.equal(same.statements, []);
});

test('quoting', () => {
  assert.is(ident('uuid-ossp'), '"uuid-ossp"');
  assert.is(ident('a"b'), '"a""b"');
  assert.is(literal("it's"), "'it''s'");
  assert.throws(() => ident(''));
  assert.throws(() => literal('a\u0000b'));
});

test.run();
