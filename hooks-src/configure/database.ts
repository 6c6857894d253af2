import { IMMICH_DATABASE, ensureSuperuserPassword } from '../postgres/bootstrap.js';
import { connect } from '../postgres/cluster.js';
import type pg from 'pg';
import { readSecret } from '../secrets/secrets.js';
import type { Settings } from '../settings/schema.js';
import { writeFileAtomic } from '../snap/fs.js';
import type { SnapPaths } from '../snap/paths.js';

/**
 * Connects over the unix socket, waiting up to `timeoutMs` for a Postgres that is (re)starting:
 * a `snapctl restart` queued by an earlier configure returns before Postgres accepts connections.
 */
export async function connectWhenReady(socketDir: string, port: number, database: string, timeoutMs = 60_000): Promise<pg.Client> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await connect(socketDir, port, database);
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * `database-password`: the password of `postgres` for TCP logins. Rotated transactionally: the
 * ALTER ROLE runs in a transaction, the secret file is replaced, and only then is the transaction
 * committed; if the commit fails the old file is put back. Nothing restarts: Immich connects over
 * the unix socket by peer and never uses this password. Returns true when it changed.
 */
export async function rotateDatabasePassword(paths: SnapPaths, port: number, password: string): Promise<boolean> {
  const file = paths.secret('database-password');
  const old = readSecret(paths, 'database-password');
  const db = await connectWhenReady(paths.pgSocketDir, port, 'postgres');
  try {
    await db.query('BEGIN');
    const changed = await ensureSuperuserPassword(db, password);
    if (!changed && old === password) {
      await db.query('ROLLBACK');
      return false;
    }
    writeFileAtomic(file, password, 0o600);
    try {
      await db.query('COMMIT');
    } catch (err) {
      if (old !== undefined) writeFileAtomic(file, old, 0o600);
      throw err;
    }
    return true;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await db.end().catch(() => undefined);
  }
}

/**
 * Immich keeps its machine-learning settings in its own stored config (system_metadata key
 * `system-config`); IMMICH_MACHINE_LEARNING_* only seed defaults. Update `machineLearning.enabled`
 * and `.urls` there when Immich has created its tables (before the first start there is nothing
 * to update, and the environment seeds the same values).
 */
export async function updateImmichMlConfig(paths: SnapPaths, s: Settings, runningPort: number): Promise<boolean> {
  const url = s['ml.url'] || `http://127.0.0.1:${s['internal.ml-port']}`;
  const db = await connectWhenReady(paths.pgSocketDir, runningPort, IMMICH_DATABASE);
  try {
    const { rows } = await db.query<{ present: boolean }>("SELECT to_regclass('public.system_metadata') IS NOT NULL AS present");
    if (!rows[0]?.present) return false;
    const patch = JSON.stringify({ machineLearning: { enabled: s['ml.enabled'], urls: [url] } });
    // jsonb || merges one level; merge machineLearning itself so other keys of it are kept.
    await db.query(
      `INSERT INTO system_metadata (key, value) VALUES ('system-config', $1::jsonb)
       ON CONFLICT (key) DO UPDATE SET value = system_metadata.value
         || jsonb_build_object('machineLearning', COALESCE(system_metadata.value->'machineLearning', '{}'::jsonb) || ($1::jsonb->'machineLearning'))`,
      [patch],
    );
    return true;
  } finally {
    await db.end().catch(() => undefined);
  }
}
