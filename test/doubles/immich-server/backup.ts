// TEST DOUBLE of Immich v3.2.0's built-in database backup:
//  - server/src/services/database-backup.service.ts (3.0.x text, index id 32468293245):
//    buildPostgresLaunchArguments, createDatabaseBackup, handleBackupDatabase, cleanupDatabaseBackups,
//    listBackups, the nightly `backupDatabase` cron;
//  - server/src/utils/database-backups.ts name helpers and UnsupportedPostgresError (index id 63310274501);
//  - system-config default backup.database (index id 57394767466),
// per docs/upstream/immich-runtime.md §3.
// Simplified: the cron understands only `M H * * *`; no BackupDatabase advisory lock (one process);
// no upload/download/delete endpoints.
import { createWriteStream } from 'node:fs';
import { readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from './database.js';
import type { ImmichConfig } from './env.js';
import { Logger } from './log.js';
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

export class UnsupportedPostgresError extends Error {
  constructor(databaseVersion: string) {
    super(`Unsupported PostgreSQL version: ${databaseVersion}`);
  }
}

export const isValidDatabaseBackupName = (filename: string) => /^[\d\w-.]+\.sql(?:\.gz)?$/.test(filename);
const isValidDatabaseRoutineBackupName = (filename: string) =>
  /^immich-db-backup-\d+\.sql\.gz$/.test(filename) || /^immich-db-backup-\d{8}T\d{6}-v.*-pg.*\.sql\.gz$/.test(filename);
const isFailedDatabaseBackupName = (filename: string) => /^immich-db-backup-.*\.sql\.gz\.tmp$/.test(filename);
export const findDatabaseBackupVersion = (filename: string) => /-v(.*)-/.exec(filename)?.[1];

const log = new Logger('DatabaseBackupService');

export interface LaunchArguments {
  bin: string;
  args: string[];
  databaseUsername: string;
  databasePassword: string;
  databaseVersion: string;
  databaseMajorVersion?: number;
}

export async function buildPostgresLaunchArguments(
  ctx: BackupContext,
  bin: 'pg_dump' | 'pg_dumpall' | 'psql',
  options: { singleTransaction?: boolean } = {},
): Promise<LaunchArguments> {
  const connection = ctx.config.database.config;
  const databaseVersion = await ctx.db.getPostgresVersion();
  const semver = coerce(databaseVersion);
  const databaseMajorVersion = semver?.[0];
  const args: string[] = [];
  let databaseUsername: string | undefined;

  if (connection.connectionType === 'url') {
    if (bin !== 'pg_dump') args.push('--dbname');
    let url = connection.url;
    if (URL.canParse(connection.url)) {
      const parsed = new URL(connection.url);
      parsed.searchParams.delete('uselibpqcompat');
      databaseUsername = parsed.username;
      url = parsed.toString();
    }
    databaseUsername ||= 'postgres';
    args.push(url);
  } else {
    databaseUsername = connection.username;
    args.push('--username', databaseUsername, '--host', connection.host, '--port', connection.port.toString());
    if (bin === 'pg_dumpall') args.push('--database');
    if (bin === 'psql') args.push('--dbname');
    args.push(connection.database);
  }

  if (bin === 'psql') {
    if (options.singleTransaction) args.push('--single-transaction', '--set', 'ON_ERROR_STOP=on');
    args.push('--echo-all', '--output=/dev/null');
  } else {
    args.push('--clean', '--if-exists');
  }

  if (!databaseMajorVersion || !semver || !satisfies(semver, '>=14.0.0 <19.0.0')) {
    log.error(`Database Restore Failure: Unsupported PostgreSQL version: ${databaseVersion}`);
    throw new UnsupportedPostgresError(databaseVersion);
  }

  return {
    bin: `/usr/lib/postgresql/${databaseMajorVersion}/bin/${bin}`,
    args,
    databaseUsername,
    // Immich passes its configured password (DB_PASSWORD, else the code default 'postgres'); with
    // the snap's peer authentication over the unix socket the server never asks for it.
    databasePassword: connection.connectionType === 'url' ? new URL(connection.url).password : connection.password,
    databaseVersion,
    databaseMajorVersion,
  };
}

/** luxon `DateTime.now().toFormat("yyyyLLdd'T'HHmmss")`: local time. */
function timestamp(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}T${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
}

/** The environment Immich gives pg_dump and psql: exactly these two variables. */
export function postgresChildEnv(password: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, PGPASSWORD: password };
}

export async function createDatabaseBackup(ctx: BackupContext, filenamePrefix = ''): Promise<string> {
  log.debug('Database Backup Started');
  const { bin, args, databasePassword, databaseVersion, databaseMajorVersion } = await buildPostgresLaunchArguments(ctx, 'pg_dump');
  log.log(`Database Backup Starting. Database Version: ${databaseMajorVersion}`);

  const filename = `${filenamePrefix}immich-db-backup-${timestamp()}-v${ctx.serverVersion}-pg${databaseVersion.split(' ')[0]}.sql.gz`;
  const backupFilePath = join(baseFolder(ctx.mediaLocation, 'backups'), filename);
  const temporaryFilePath = `${backupFilePath}.tmp`;

  try {
    const pgdump = spawnPiped(bin, args, { env: postgresChildEnv(databasePassword) });
    const gzip = spawnPiped('gzip', ['--rsyncable'], {}, pgdump.stdout);
    const file = createWriteStream(temporaryFilePath);
    const written = new Promise<void>((resolve, reject) => {
      file.once('error', reject);
      file.once('finish', resolve);
    });
    gzip.stdout.pipe(file);
    await allOrFirstError([pgdump.done, gzip.done, written]);
    await rename(temporaryFilePath, backupFilePath);
  } catch (error) {
    log.error(`Database Backup Failure: ${String(error)}`);
    await unlink(temporaryFilePath).catch((e: unknown) => log.error(`Failed to delete failed backup file: ${String(e)}`));
    throw error;
  }

  log.log('Database Backup Success');
  return backupFilePath;
}

interface BackupConfig {
  enabled: boolean;
  cronExpression: string;
  keepLastAmount: number;
}

/** system-config `backup.database` over the defaults (getConfig reads the `system-config` row). */
async function backupConfig(db: Database): Promise<BackupConfig> {
  const stored = await getMetadata<{ backup?: { database?: Partial<BackupConfig> } }>(db, 'system-config').catch(() => undefined);
  return { enabled: true, cronExpression: '0 02 * * *', keepLastAmount: 14, ...stored?.backup?.database };
}

/** JobName.DatabaseBackup: backup, then retention. Never throws; the result goes to the state. */
export async function handleBackupDatabase(ctx: BackupContext): Promise<void> {
  try {
    const file = await createDatabaseBackup(ctx);
    await cleanupDatabaseBackups(ctx);
    ctx.state.lastBackup = { ok: true, file, finishedAt: new Date().toISOString() };
  } catch (error) {
    ctx.state.lastBackup = { ok: false, error: (error as Error).message, finishedAt: new Date().toISOString() };
  }
}

export async function cleanupDatabaseBackups(ctx: BackupContext): Promise<void> {
  log.debug('Database Backup Cleanup Started');
  const { keepLastAmount } = await backupConfig(ctx.db);
  const folder = baseFolder(ctx.mediaLocation, 'backups');
  const files = await readdir(folder);
  const backups = files.filter(isValidDatabaseRoutineBackupName).sort().reverse();
  const toDelete = [...backups.slice(keepLastAmount), ...files.filter(isFailedDatabaseBackupName)];
  for (const file of toDelete) await unlink(join(folder, file));
  log.debug(`Database Backup Cleanup Finished, deleted ${toDelete.length} backups`);
}

export async function listBackups(mediaLocation: string): Promise<{ backups: Array<{ filename: string; filesize: number; timezone: string }> }> {
  const folder = baseFolder(mediaLocation, 'backups');
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const valid = (await readdir(folder))
    .filter(isValidDatabaseBackupName)
    .sort((a, b) => (a.startsWith('uploaded-') === b.startsWith('uploaded-') ? a.localeCompare(b) : 1))
    .reverse();
  const backups = await Promise.all(valid.map(async (filename) => ({ filename, filesize: (await stat(join(folder, filename))).size, timezone })));
  return { backups };
}

/** The `backupDatabase` cron (default `0 02 * * *`, local time); returns a stop function. */
export async function scheduleNightlyBackup(ctx: BackupContext): Promise<() => void> {
  const { enabled, cronExpression } = await backupConfig(ctx.db);
  const m = /^(\d{1,2}) (\d{1,2}) \* \* \*$/.exec(cronExpression.trim());
  if (!enabled) return () => undefined;
  if (!m) {
    log.warn(`test double: cron expression ${JSON.stringify(cronExpression)} is not supported; no nightly backup`);
    return () => undefined;
  }
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const next = new Date();
    next.setHours(Number(m[2]), Number(m[1]), 0, 0);
    if (next.getTime() <= Date.now()) next.setDate(next.getDate() + 1);
    timer = setTimeout(() => void handleBackupDatabase(ctx).finally(arm), next.getTime() - Date.now());
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
