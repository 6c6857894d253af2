// TEST DOUBLE of Immich v3.2.0's database restore: `restoreDatabaseBackup`, `sql`, `sqlRollback`
// of server/src/services/database-backup.service.ts (index id 32468293245), per
// docs/upstream/immich-runtime.md §3 "Restore".
// Simplified: runs in the API process (Immich runs it in its maintenance worker and reports
// progress); the .gz is gunzipped in-process with node:zlib, as Immich does (createGunzip); the
// "migrations + API health check" after the restore are the double's migrations and `SELECT 1`.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import {
  type BackupContext,
  buildPostgresLaunchArguments,
  createDatabaseBackup,
  findDatabaseBackupVersion,
  isValidDatabaseBackupName,
  postgresChildEnv,
} from './backup.js';
import { Logger } from './log.js';
import { runMigrations } from './migrations.js';
import { spawnPiped } from './process.js';
import { coerce, satisfies } from './semver.js';
import { baseFolder } from './storage.js';

const log = new Logger('DatabaseBackupService');

const SQL_DROP_CONNECTIONS = `
  -- drop all other database connections
  SELECT pg_terminate_backend(pid)
  FROM pg_stat_activity
  WHERE datname = current_database()
    AND pid <> pg_backend_pid();
`;

const SQL_RESET_SCHEMA = (username: string) => `
  -- re-create the default schema
  DROP SCHEMA public CASCADE;
  CREATE SCHEMA public;

  -- restore access to schema
  GRANT ALL ON SCHEMA public TO "${username}";
  GRANT ALL ON SCHEMA public TO public;
`;

async function* sql(input: Readable, username: string, isPgClusterDump: boolean): AsyncGenerator<string | Buffer> {
  yield SQL_DROP_CONNECTIONS;
  yield isPgClusterDump ? '\n        \\c postgres\n      ' : SQL_RESET_SCHEMA(username);
  for await (const chunk of input) yield chunk as Buffer;
}

async function* sqlRollback(input: Readable, username: string): AsyncGenerator<string | Buffer> {
  yield SQL_DROP_CONNECTIONS;
  yield SQL_RESET_SCHEMA(username);
  for await (const chunk of input) yield chunk as Buffer;
}

function openDump(path: string): Readable {
  const file = createReadStream(path);
  if (!path.endsWith('.gz')) return file;
  const gunzip = createGunzip();
  file.once('error', (error) => gunzip.destroy(error));
  return file.pipe(gunzip);
}

/** psql fed from `input`; its echo (--echo-all) is drained, as Immich's progress sink does. */
async function runPsql(bin: string, args: string[], password: string, input: Readable): Promise<void> {
  const psql = spawnPiped(bin, args, { env: postgresChildEnv(password) }, input);
  psql.stdout.resume();
  await psql.done;
}

/** Throws on failure (after replaying the restore point when the restore itself went through). */
export async function restoreDatabaseBackup(ctx: BackupContext, filename: string): Promise<void> {
  log.debug('Database Restore Started');
  try {
    if (!isValidDatabaseBackupName(filename)) throw new Error('Invalid backup file format!');
    const backupFilePath = join(baseFolder(ctx.mediaLocation, 'backups'), filename);
    await stat(backupFilePath);

    const version = coerce(findDatabaseBackupVersion(filename) ?? '');
    const isPgClusterDump = !!version && satisfies(version, '<= 2.4');
    const { bin, args, databaseUsername, databasePassword, databaseMajorVersion } = await buildPostgresLaunchArguments(ctx, 'psql', {
      singleTransaction: !isPgClusterDump,
    });

    const restorePoint = await createDatabaseBackup(ctx, 'restore-point-');
    log.log(`Database Restore Starting. Database Version: ${databaseMajorVersion}`);
    try {
      await runPsql(bin, args, databasePassword, Readable.from(sql(openDump(backupFilePath), databaseUsername, isPgClusterDump)));
    } finally {
      // Every connection of ours was terminated by SQL_DROP_CONNECTIONS.
      await ctx.db.reconnect();
    }
    try {
      if (!ctx.config.database.skipMigrations) await runMigrations(ctx.db, ctx.state.vectorExtension === 'vchord' ? 'vchord' : 'vector');
      await ctx.db.query('SELECT 1');
    } catch (error) {
      log.warn(`Restore check failed, rolling back to ${restorePoint}: ${String(error)}`);
      await runPsql(bin, args, databasePassword, Readable.from(sqlRollback(openDump(restorePoint), databaseUsername)));
      await ctx.db.reconnect();
      throw error;
    }
  } catch (error) {
    log.error(`Database Restore Failure: ${String(error)}`);
    throw error;
  }
  log.log('Database Restore Success');
}
