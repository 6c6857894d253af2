import { IMMICH_ROLE, SUPERUSER_ROLE } from './hba.js';
import { scramMatches, scramVerifier } from './scram.js';

/**
 * Creates (idempotently) what Immich needs inside the cluster: its role, its database, the schema
 * ownership and the extensions. Every statement is safe to run again; nothing is dropped.
 *
 * Decision (docs/postgres.md, "Which role Immich uses"): Immich connects as the role `immich`,
 * which OWNS the database and is a SUPERUSER, authenticated only by peer over the unix socket
 * (it has no password, so it cannot log in over TCP). Superuser because Immich's built-in restore
 * drops schema `public` CASCADE (taking the vector extensions with it) and replays a dump that
 * re-creates them (`vchord` is `superuser = true`, `vector` is not trusted), and because
 * `ALTER EXTENSION … UPDATE` on a vector extension needs its owner or a superuser.
 */

export const IMMICH_DATABASE = 'immich';

/** The subset of pg.Client the bootstrap needs (a fake in unit tests). */
export interface SqlClient {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<{ rows: R[] }>;
}

export type VectorExtensionName = 'vchord' | 'vector';

/** Extensions Immich's initial migration creates; the vector one comes first (CASCADE). */
export function extensionsFor(vector: VectorExtensionName): string[] {
  return [vector, 'cube', 'earthdistance', 'pg_trgm', 'unaccent', 'uuid-ossp'];
}

/** A quoted SQL identifier. */
export function ident(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (name === '' || /[\u0000]/.test(name)) throw new Error('invalid SQL identifier');
  return `"${name.replace(/"/g, '""')}"`;
}

/** A quoted SQL string literal (standard_conforming_strings is on since Postgres 9.1). */
export function literal(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000]/.test(value)) throw new Error('invalid SQL literal');
  return `'${value.replace(/'/g, "''")}'`;
}

/** Step 1, connected to the `postgres` database: the role and the database. */
export async function ensureRoleAndDatabase(db: SqlClient): Promise<void> {
  const role = ident(IMMICH_ROLE);
  const { rows: roles } = await db.query<{ rolsuper: boolean; rolcanlogin: boolean; haspassword: boolean }>(
    'SELECT rolsuper, rolcanlogin, rolpassword IS NOT NULL AS haspassword FROM pg_authid WHERE rolname = $1',
    [IMMICH_ROLE],
  );
  const r = roles[0];
  if (!r) await db.query(`CREATE ROLE ${role} WITH LOGIN SUPERUSER`);
  else if (!r.rolsuper || !r.rolcanlogin || r.haspassword) await db.query(`ALTER ROLE ${role} WITH LOGIN SUPERUSER PASSWORD NULL`);

  const { rows: dbs } = await db.query<{ owner: string }>(
    'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1',
    [IMMICH_DATABASE],
  );
  const d = dbs[0];
  if (!d) {
    // CREATE DATABASE cannot run in a transaction block; a rerun after a kill finds it (or not).
    await db.query(
      `CREATE DATABASE ${ident(IMMICH_DATABASE)} WITH OWNER ${role} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'`,
    );
  } else if (d.owner !== IMMICH_ROLE) {
    await db.query(`ALTER DATABASE ${ident(IMMICH_DATABASE)} OWNER TO ${role}`);
  }
}

/** Step 2, connected to the `immich` database: schema owner and extensions (owned by `immich`). */
export async function ensureSchemaAndExtensions(db: SqlClient, vector: VectorExtensionName): Promise<void> {
  const role = ident(IMMICH_ROLE);
  const { rows } = await db.query<{ owner: string }>(
    "SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'public'",
  );
  if (rows[0]?.owner !== IMMICH_ROLE) await db.query(`ALTER SCHEMA public OWNER TO ${role}`);

  const { rows: installed } = await db.query<{ extname: string }>('SELECT extname FROM pg_extension');
  const have = new Set(installed.map((e) => e.extname));
  const missing = extensionsFor(vector).filter((e) => !have.has(e));
  if (missing.length > 0) {
    await db.query('BEGIN');
    try {
      await db.query(`SET LOCAL ROLE ${role}`);
      for (const ext of missing) await db.query(`CREATE EXTENSION IF NOT EXISTS ${ident(ext)} CASCADE`);
      await db.query('COMMIT');
    } catch (err) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
  if (vector === 'vchord') {
    // What Immich itself does when it creates vchord (it skips that when the extension exists).
    const { rows: probes } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
        WHERE d.datname = $1 AND s.setrole = 0 AND 'vchordrq.probes=1' = ANY (s.setconfig)`,
      [IMMICH_DATABASE],
    );
    if ((probes[0]?.n ?? 0) === 0) await db.query(`ALTER DATABASE ${ident(IMMICH_DATABASE)} SET vchordrq.probes = 1`);
  }
}

/**
 * Makes `postgres`' password the given secret, sending only a SCRAM verifier, and only when the
 * stored verifier does not already match (so a rerun changes nothing). Returns true if it changed.
 */
export async function ensureSuperuserPassword(db: SqlClient, password: string): Promise<boolean> {
  const { rows } = await db.query<{ rolpassword: string | null }>(
    'SELECT rolpassword FROM pg_authid WHERE rolname = $1',
    [SUPERUSER_ROLE],
  );
  if (scramMatches(rows[0]?.rolpassword, password)) return false;
  await db.query(`ALTER ROLE ${ident(SUPERUSER_ROLE)} WITH PASSWORD ${literal(scramVerifier(password))}`);
  return true;
}

export async function extensionVersion(db: SqlClient, name: string): Promise<string | undefined> {
  const { rows } = await db.query<{ extversion: string }>('SELECT extversion FROM pg_extension WHERE extname = $1', [name]);
  return rows[0]?.extversion;
}
