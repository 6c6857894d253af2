import { existsSync, readFileSync } from 'node:fs';
import { parseEnvFile } from '../immich/env.js';
import { withConnection } from '../postgres/cluster.js';
import type { SqlClient } from '../postgres/bootstrap.js';
import { PG_PORT } from '../postgres/files.js';
import { type SnapEnv, snapEnv } from '../snap/env.js';
import { UserError, oneLine } from '../snap/errors.js';
import { type SnapPaths, shippedPgMajors, snapPaths } from '../snap/paths.js';
import { Snapctl } from '../snap/snapctl.js';
import { type State, readState } from '../state/state.js';
import type { Tools } from './database.js';
import { lockHolder, tryLock } from '../snap/lock.js';

/** What every user command starts from: root, the snap environment, its paths and state. */
export interface CommandContext {
  env: SnapEnv;
  paths: SnapPaths;
  state: State | undefined;
  snapctl: Snapctl;
}

/** SPEC §4: the wrappers are root only, with a clear message otherwise. */
export function requireRoot(command: string): void {
  if (process.geteuid?.() !== 0) throw new UserError(`${command} must run as root: sudo ${command}`, 77);
}

export function commandContext(command: string): CommandContext {
  const env = snapEnv();
  requireRoot(`${env.SNAP_INSTANCE_NAME}.${command}`);
  const paths = snapPaths(env);
  return { env, paths, state: readState(paths.stateFile), snapctl: new Snapctl() };
}

/**
 * The Postgres service's socket (the daemon's, not a hook's temporary server). The port names the
 * socket file (.s.PGSQL.<port>): taken from the rendered postgresql.conf (`internal.postgres-port`).
 */
export function pgTarget(paths: SnapPaths): { socketDir: string; port: number } {
  let port = PG_PORT;
  try {
    const m = /^\s*port\s*=\s*(\d+)/m.exec(readFileSync(paths.pgConf, 'utf8'));
    if (m) port = Number(m[1]);
  } catch {
    /* not rendered yet: the default */
  }
  return { socketDir: paths.pgSocketDir, port };
}

export function postgresDownMessage(instance: string): string {
  return `Postgres is not running; start it with: sudo snap start ${instance}.postgres (logs: sudo snap logs ${instance}.postgres)`;
}

/** Runs `fn` on a superuser connection to the service, or fails with "Postgres is not running". */
export async function withDatabase<T>(ctx: CommandContext, database: string, fn: (db: SqlClient) => Promise<T>): Promise<T> {
  try {
    return await withConnection(pgTarget(ctx.paths), database, fn);
  } catch (err) {
    if (err instanceof UserError && /cannot connect to Postgres/.test(err.message)) {
      const why = oneLine(err);
      if (/ENOENT|ECONNREFUSED|starting up|shutting down/.test(why)) throw new UserError(postgresDownMessage(ctx.env.SNAP_INSTANCE_NAME));
    }
    throw err;
  }
}

/** The newest shipped Postgres major: its pg_dump/pg_restore read every older server. */
export function tools(paths: SnapPaths): Tools {
  const major = shippedPgMajors(paths)[0];
  if (major === undefined) throw new UserError(`no PostgreSQL found under ${paths.pgRoot}; the snap is incomplete`);
  if (!existsSync(paths.zstd)) throw new UserError(`${paths.zstd} is missing; the snap is incomplete`);
  return { pgDump: paths.pgBin(major, 'pg_dump'), pgRestore: paths.pgBin(major, 'pg_restore'), zstd: paths.zstd };
}

/**
 * Where Immich keeps its media: what the server's environment file says (rendered by configure
 * from the validated `media.location`), else the setting itself, else the default.
 */
export async function mediaLocation(ctx: CommandContext): Promise<string> {
  if (existsSync(ctx.paths.immichServerEnv)) {
    const v = parseEnvFile(readFileSync(ctx.paths.immichServerEnv, 'utf8')).IMMICH_MEDIA_LOCATION;
    if (v) return v;
  }
  const s = await ctx.snapctl.get('media.location').catch(() => undefined);
  return typeof s === 'string' && s.startsWith('/') ? s : ctx.paths.defaultMedia;
}

export interface BackupSettings {
  schedule: 'off' | 'daily' | 'weekly';
  keep: number;
  location: string;
  assets: boolean;
}

/**
 * The backup.* settings: configure's validated rendering ($SNAP_DATA/etc/backup-settings.json)
 * when present, else the snap config through snapctl. Anything unexpected falls back to the
 * default rather than being acted on.
 */
export async function backupSettings(ctx: CommandContext): Promise<BackupSettings> {
  let b: Record<string, unknown> = {};
  if (existsSync(ctx.paths.backupSettings)) {
    // configure's rendering of the validated backup.* keys (hooks-src/configure/render.ts).
    try {
      b = JSON.parse(readFileSync(ctx.paths.backupSettings, 'utf8')) as Record<string, unknown>;
    } catch {
      b = {};
    }
  } else {
    try {
      const doc = await ctx.snapctl.getDocument(['backup']);
      if (typeof doc.backup === 'object' && doc.backup !== null) b = doc.backup as Record<string, unknown>;
    } catch {
      b = {};
    }
  }
  const schedule = b.schedule === 'daily' || b.schedule === 'weekly' ? b.schedule : 'off';
  const keepN = typeof b.keep === 'number' ? b.keep : typeof b.keep === 'string' && /^\d+$/.test(b.keep) ? Number(b.keep) : 7;
  const location = typeof b.location === 'string' && b.location.startsWith('/') && !b.location.includes('..') ? b.location : ctx.paths.defaultBackups;
  const assets = b.assets === true || b.assets === 'true';
  return { schedule, keep: keepN >= 1 && keepN <= 365 ? keepN : 7, location, assets };
}

// --- one backup or restore at a time ---------------------------------------------------------------

/**
 * Takes the lock shared by backup, restore and the timer (a pid file created exclusively). A lock
 * left by a process that no longer exists is taken over. Returns the release function.
 */
export function acquireLock(file: string, what: string): () => void {
  const release = tryLock(file);
  if (release) return release;
  const pid = lockHolder(file);
  throw new UserError(pid ? `another backup or restore is running (pid ${pid}); wait for it to finish before the ${what}` : `could not take the backup lock ${file}`);
}
