// TEST DOUBLE of Immich v3.2.0's built-in database backup, its nightly schedule, and the restore
// from the web UI with its restore point, written from the behaviour recorded in
// docs/upstream/immich-runtime.md §3 (Immich: server/src/services/database-backup.service.ts,
// index id 32468293245; server/src/utils/database-backups.ts, index id 63310274501;
// server/src/repositories/process.repository.ts, index id 16968070176). What the snap depends on,
// and this file reproduces exactly:
//  - the client binary is /usr/lib/postgresql/<major of SHOW server_version>/bin/<tool>, absolute,
//    for majors 14-18 only ("Unsupported PostgreSQL version: <v>" otherwise);
//  - arguments: --username U --host H --port P, then the database (after --dbname for psql),
//    then `--clean --if-exists` for pg_dump, `[--single-transaction --set ON_ERROR_STOP=on]
//    --echo-all --output=/dev/null` for psql;
//  - the environment of pg_dump and psql is REPLACED by {PATH, PGPASSWORD}; `gzip --rsyncable`
//    is found on PATH and inherits the environment;
//  - <media>/backups/<prefix>immich-db-backup-<yyyyMMdd'T'HHmmss, local>-v<server>-pg<version>.sql.gz,
//    written as .tmp and renamed; the 14 newest routine backups are kept;
//  - a restore first takes a `restore-point-` backup, then feeds psql: other connections ended,
//    the public schema dropped and re-created for the user, then the dump.
// Simplified: a URL connection (DB_URL) is not supported; only .sql.gz dumps of Immich >= 2.5 are
// restored (not plain .sql, not the older pg_dumpall cluster dumps); the restore runs inside the API request
// (Immich: in maintenance mode, with progress); the nightly cron understands only `M H * * *`.
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Database } from './database.js';
import type { ImmichConfig } from './env.js';
import { Logger } from './log.js';
import { runMigrations } from './migrations.js';
import { allOrFirstError, spawnPiped } from './process.js';
import { coerce, satisfies } from './semver.js';
import type { DoubleState } from './state.js';
import { baseFolder } from './storage.js';
import { getMetadata } from './system-metadata.js';

export interface BackupContext {
  db: Database;
  config: ImmichConfig;
  mediaLocation: string;
  serverVersion: string;
  state: DoubleState;
}

const log = new Logger('DatabaseBackupService');

/** File names Immich lists, keeps and restores (its name checks, as patterns). */
const NAMES = {
  any: /^[\d\w-.]+\.sql(?:\.gz)?$/,
  routine: [/^immich-db-backup-\d{8}T\d{6}-v.*-pg.*\.sql\.gz$/, /^immich-db-backup-\d+\.sql\.gz$/],
  failed: /^immich-db-backup-.*\.sql\.gz\.tmp$/,
};
const KEEP_DEFAULT = 14;
const SUPPORTED_MAJORS = '>=14.0.0 <19.0.0';

type Tool = 'pg_dump' | 'psql';

interface Launch {
  bin: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  user: string;
  version: string;
}

/** How Immich starts a Postgres client tool (see the header). */
async function launch(ctx: BackupContext, tool: Tool, singleTransaction = false): Promise<Launch> {
  const c = ctx.config.database.config;
  if (c.connectionType === 'url') throw new Error('test double: DB_URL connections are not supported');
  const version = await ctx.db.getPostgresVersion();
  const v = coerce(version);
  if (!v || !satisfies(v, SUPPORTED_MAJORS)) {
    log.error(`Database Restore Failure: Unsupported PostgreSQL version: ${version}`);
    throw new Error(`Unsupported PostgreSQL version: ${version}`);
  }
  const connection = ['--username', c.username, '--host', c.host, '--port', String(c.port)];
  const tail =
    tool === 'pg_dump'
      ? [c.database, '--clean', '--if-exists']
      : ['--dbname', c.database, ...(singleTransaction ? ['--single-transaction', '--set', 'ON_ERROR_STOP=on'] : []), '--echo-all', '--output=/dev/null'];
  return {
    bin: `/usr/lib/postgresql/${v[0]}/bin/${tool}`,
    args: [...connection, ...tail],
    // Immich's configured password (DB_PASSWORD, else its default); peer authentication over the
    // snap's socket never asks for it.
    env: { PATH: process.env.PATH, PGPASSWORD: c.password },
    user: c.username,
    version,
  };
}

function stamp(d = new Date()): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}T${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}`;
}

/** pg_dump | gzip --rsyncable into <media>/backups; returns the file's path. */
export async function backupDatabase(ctx: BackupContext, prefix = ''): Promise<string> {
  const l = await launch(ctx, 'pg_dump');
  const file = join(baseFolder(ctx.mediaLocation, 'backups'), `${prefix}immich-db-backup-${stamp()}-v${ctx.serverVersion}-pg${l.version.split(' ')[0]}.sql.gz`);
  const tmp = `${file}.tmp`;
  log.log(`Database Backup Starting. Database Version: ${coerce(l.version)?.[0]}`);
  try {
    const dump = spawnPiped(l.bin, l.args, { env: l.env });
    const gzip = spawnPiped('gzip', ['--rsyncable'], {}, dump.stdout);
    const out = createWriteStream(tmp);
    const closed = new Promise<void>((resolve, reject) => out.once('finish', resolve).once('error', reject));
    gzip.stdout.pipe(out);
    await allOrFirstError([dump.done, gzip.done, closed]);
    await rename(tmp, file);
  } catch (error) {
    log.error(`Database Backup Failure: ${String(error)}`);
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  log.log('Database Backup Success');
  return file;
}

async function keepLast(db: Database): Promise<{ enabled: boolean; cron: string; keep: number }> {
  const stored = await getMetadata<{ backup?: { database?: { enabled?: boolean; cronExpression?: string; keepLastAmount?: number } } }>(db, 'system-config').catch(() => undefined);
  const d = stored?.backup?.database ?? {};
  return { enabled: d.enabled ?? true, cron: d.cronExpression ?? '0 02 * * *', keep: d.keepLastAmount ?? KEEP_DEFAULT };
}

/** Deletes routine backups beyond the newest `keepLastAmount`, and failed (.tmp) ones. */
async function prune(ctx: BackupContext): Promise<void> {
  const { keep } = await keepLast(ctx.db);
  const dir = baseFolder(ctx.mediaLocation, 'backups');
  const names = await readdir(dir);
  const routine = names.filter((n) => NAMES.routine.some((re) => re.test(n))).sort().reverse();
  for (const n of [...routine.slice(keep), ...names.filter((x) => NAMES.failed.test(x))]) await unlink(join(dir, n));
}

/** The `backup-database` job: a backup, then pruning. Records the result; never throws. */
export async function runBackupJob(ctx: BackupContext): Promise<void> {
  try {
    const file = await backupDatabase(ctx);
    await prune(ctx);
    ctx.state.lastBackup = { ok: true, file, finishedAt: new Date().toISOString() };
  } catch (error) {
    ctx.state.lastBackup = { ok: false, error: (error as Error).message, finishedAt: new Date().toISOString() };
  }
}

/** GET /api/admin/database-backups: every valid name, uploaded ones last, newest first. */
export async function listBackups(mediaLocation: string): Promise<{ backups: Array<{ filename: string; filesize: number; timezone: string }> }> {
  const dir = baseFolder(mediaLocation, 'backups');
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const names = (await readdir(dir)).filter((n) => NAMES.any.test(n));
  const uploaded = (n: string) => n.startsWith('uploaded-');
  names.sort((a, b) => (uploaded(a) === uploaded(b) ? b.localeCompare(a) : uploaded(a) ? 1 : -1));
  return { backups: await Promise.all(names.map(async (filename) => ({ filename, filesize: (await stat(join(dir, filename))).size, timezone }))) };
}

/** The nightly job at `M H * * *` local time (Immich's default 0 02 * * *); returns a stop function. */
export async function scheduleNightlyBackup(ctx: BackupContext): Promise<() => void> {
  const { enabled, cron } = await keepLast(ctx.db);
  const m = /^(\d{1,2}) (\d{1,2}) \* \* \*$/.exec(cron.trim());
  if (!enabled || !m) {
    if (enabled) log.warn(`test double: cron expression ${JSON.stringify(cron)} is not supported; no nightly backup`);
    return () => undefined;
  }
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const at = new Date();
    at.setHours(Number(m[2]), Number(m[1]), 0, 0);
    if (at.getTime() <= Date.now()) at.setDate(at.getDate() + 1);
    timer = setTimeout(() => void runBackupJob(ctx).finally(arm), at.getTime() - Date.now());
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}

/** What psql is fed before the dump: end other sessions, an empty public schema owned as before. */
function preamble(user: string): string {
  const quoted = `"${user.replaceAll('"', '""')}"`;
  return [
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid();',
    'DROP SCHEMA public CASCADE;',
    'CREATE SCHEMA public;',
    `GRANT ALL ON SCHEMA public TO ${quoted};`,
    'GRANT ALL ON SCHEMA public TO public;',
    '',
  ].join('\n');
}

async function* withPreamble(user: string, dump: Readable): AsyncGenerator<string | Buffer> {
  yield preamble(user);
  for await (const chunk of dump) yield chunk as Buffer;
}

/** psql with the preamble and a (gzipped) dump on stdin. */
async function feedPsql(l: Launch, dumpFile: string): Promise<void> {
  const file = createReadStream(dumpFile);
  const gunzip = createGunzip();
  file.once('error', (error) => gunzip.destroy(error));
  const psql = spawnPiped(l.bin, l.args, { env: l.env }, Readable.from(withPreamble(l.user, file.pipe(gunzip))));
  psql.stdout.resume(); // --echo-all output, which Immich reads for its progress
  await psql.done;
}

/**
 * POST /api/admin/maintenance {action: restore_database}: a restore point first, then the chosen
 * dump through psql in one transaction; if the database does not come back (migrations, a
 * query), the restore point is fed back and the error reported.
 */
export async function restoreDatabase(ctx: BackupContext, filename: string): Promise<void> {
  try {
    if (!NAMES.any.test(filename) || !filename.endsWith('.gz')) throw new Error('Invalid backup file format!');
    const dumpFile = join(baseFolder(ctx.mediaLocation, 'backups'), filename);
    await stat(dumpFile);
    const l = await launch(ctx, 'psql', true);
    const restorePoint = await backupDatabase(ctx, 'restore-point-');
    log.log(`Database Restore Starting. Database Version: ${coerce(l.version)?.[0]}`);
    try {
      await feedPsql(l, dumpFile);
    } finally {
      await ctx.db.reconnect(); // the preamble ended our own sessions too
    }
    try {
      if (!ctx.config.database.skipMigrations) await runMigrations(ctx.db, ctx.state.vectorExtension === 'vchord' ? 'vchord' : 'vector');
      await ctx.db.query('SELECT 1');
    } catch (error) {
      await feedPsql(l, restorePoint);
      await ctx.db.reconnect();
      throw error;
    }
  } catch (error) {
    log.error(`Database Restore Failure: ${String(error)}`);
    throw error;
  }
  log.log('Database Restore Success');
}
