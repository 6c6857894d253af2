import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Tools, ToolError, dumpDatabase, verifyDump } from '../backup/database.js';
import { DATABASE_FILE, MANIFEST_FILE, databaseEntry } from '../backup/manifest.js';
import { compareIds, isBackupId, newBackupId, partialName } from '../backup/naming.js';
import { IMMICH_DATABASE, type SqlClient } from '../postgres/bootstrap.js';
import { UserError } from '../snap/errors.js';
import type { SnapEnv } from '../snap/env.js';
import { step } from '../snap/log.js';
import type { State } from '../state/state.js';

/**
 * The safety dump taken before a new Immich minor or major first starts (its schema migrations
 * cannot be undone). It is written in the backup command's format (hooks-src/backup: a directory
 * `<id>/` with `database.pgdump.zst` and `manifest.json`, media not included) under
 * `<backup.location>/pre-upgrade/`, so `immich-distribution.restore <that directory>` can use it.
 * The newest SAFETY_DUMPS_KEPT are kept.
 */
export const SAFETY_DUMPS_KEPT = 2;
export const SAFETY_DIR = 'pre-upgrade';

export interface SafetyDumpInput {
  location: string;
  tools: Tools;
  server: { socketDir: string; port: number };
  db: SqlClient;
  env: SnapEnv;
  recorded: State | undefined;
  toImmich: string;
  now?: Date;
}

export async function takeSafetyDump(i: SafetyDumpInput): Promise<{ dir: string; bytes: number; removed: string[] }> {
  const root = join(i.location, SAFETY_DIR);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  // A killed run leaves only a partial directory: remove it.
  for (const n of readdirSync(root)) if (n.startsWith('.partial-')) rmSync(join(root, n), { recursive: true, force: true });
  const id = newBackupId(i.now ?? new Date(), new Set(readdirSync(root)));
  const partial = join(root, partialName(id));
  mkdirSync(partial, { mode: 0o700 });
  const started = Date.now();
  const meta = await databaseFacts(i.db);
  let dumped: { bytes: number; sha256: string };
  let check: { tocEntries: number; tables: number };
  try {
    dumped = await dumpDatabase(i.tools, i.server, IMMICH_DATABASE, join(partial, DATABASE_FILE));
    check = await verifyDump(i.tools, join(partial, DATABASE_FILE));
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    if (err instanceof ToolError && err.code === 'ENOSPC') {
      throw new UserError(`not enough space in ${root} for the safety dump taken before Immich ${i.toImmich} first starts; free space or set backup.location to a bigger disk, then refresh again`);
    }
    throw new UserError(`the safety dump before Immich ${i.toImmich} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  const manifest = {
    format: 1,
    id,
    createdAt: new Date(started).toISOString(),
    trigger: 'pre-upgrade',
    snap: { version: i.env.SNAP_VERSION, revision: i.env.SNAP_REVISION },
    state: i.recorded ?? null,
    postgres: meta.postgres,
    database: databaseEntry(dumped, check, meta.databaseBytes, Date.now() - started),
    media: null,
  };
  writeFileSync(join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  renameSync(partial, join(root, id));

  const ids = readdirSync(root).filter(isBackupId).sort(compareIds);
  const removed = ids.slice(0, Math.max(0, ids.length - SAFETY_DUMPS_KEPT));
  for (const old of removed) rmSync(join(root, old), { recursive: true, force: true });
  step(`post-refresh: safety dump ${join(root, id)} (${(dumped.bytes / 1024 ** 2).toFixed(1)} MiB)`);
  return { dir: join(root, id), bytes: dumped.bytes, removed };
}

async function databaseFacts(db: SqlClient) {
  const v = (await db.query<{ v: string; n: number; size: string }>(
    `SELECT current_setting('server_version') AS v, current_setting('server_version_num')::int AS n, pg_database_size(current_database())::text AS size`,
  )).rows[0]!;
  const ext = (await db.query<{ name: string; version: string }>('SELECT extname AS name, extversion AS version FROM pg_extension ORDER BY 1')).rows;
  return {
    postgres: { serverVersion: v.v, serverMajor: Math.floor(v.n / 10000), extensions: ext.map((e) => ({ name: e.name, version: e.version })) },
    databaseBytes: Number(v.size),
  };
}

export function safetyDumpsIn(location: string): string[] {
  const root = join(location, SAFETY_DIR);
  return existsSync(root) ? readdirSync(root).filter(isBackupId).sort(compareIds) : [];
}
