import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import pg from 'pg';
import { type AsOwner, asDaemon, pathExists, signalDaemonProcess } from '../snap/as-daemon.js';
import { UserError, oneLine } from '../snap/errors.js';
import type { RunResult } from '../snap/exec.js';
import { step } from '../snap/log.js';
import type { SnapPaths } from '../snap/paths.js';
import { runAsDaemon } from '../snap/run-as.js';
import type { SqlClient } from './bootstrap.js';
import { SUPERUSER_ROLE } from './hba.js';

/**
 * Adapter for the Postgres cluster on disk: initdb, a temporary server on the private socket,
 * SQL connections. Everything inside the cluster directory (0700 `_daemon_`) is touched as
 * `_daemon_`, never as root (see snap/as-daemon.ts for why).
 */

export const PG_ENV = { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', PGDATA: undefined, PGHOST: undefined, PGPORT: undefined };

export type ClusterState = 'complete' | 'incomplete' | 'absent';

/** A cluster is complete once initdb finished: PG_VERSION and global/pg_control both exist. */
export function clusterState(dir: string): ClusterState {
  return asDaemon(() => {
    if (!pathExists(dir)) return 'absent';
    return pathExists(join(dir, 'PG_VERSION')) && pathExists(join(dir, 'global', 'pg_control')) ? 'complete' : 'incomplete';
  });
}

/** The last non-empty line a tool printed (stderr first), for one-line errors. */
export function lastLine(r: RunResult): string {
  const lines = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.at(-1) ?? `exit ${r.exitCode}`;
}

/**
 * Creates the cluster of `major` unless a complete one exists. initdb builds it under a staging
 * name and it is renamed into place in one step, so pgCluster(major) exists only when complete.
 * A leftover staging directory (initdb killed) never held data and is removed; a cluster
 * directory that exists but is incomplete (unknown origin) is moved aside, never deleted.
 * The superuser password reaches initdb through a 0600 `_daemon_` file, never a command line.
 */
export async function ensureCluster(paths: SnapPaths, major: number, password: string): Promise<'created' | 'exists'> {
  const dir = paths.pgCluster(major);
  const staging = paths.pgClusterStaging(major);
  const state = clusterState(dir);
  if (state === 'complete') return 'exists';
  if (state === 'incomplete') {
    const aside = `${dir}.incomplete-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    asDaemon(() => renameSync(dir, aside));
    step(`install: moved an incomplete cluster aside to ${basename(aside)}`);
  }
  asDaemon(() => rmSync(staging, { recursive: true, force: true }));

  const pwfile = join(dirname(dir), `.pwfile-${randomBytes(6).toString('hex')}`);
  asDaemon(() => writeFileSync(pwfile, `${password}\n`, { mode: 0o600, flag: 'wx' }));
  let r: RunResult;
  try {
    r = await runAsDaemon(
      paths.pgBin(major, 'initdb'),
      [
        '-D', staging,
        '-U', SUPERUSER_ROLE,
        `--pwfile=${pwfile}`,
        '-E', 'UTF8',
        '--locale=C.UTF-8',
        '--data-checksums',
        '--auth-local=peer',
        '--auth-host=scram-sha-256',
      ],
      { env: PG_ENV, timeoutMs: 300_000 },
    );
  } finally {
    asDaemon(() => rmSync(pwfile, { force: true }));
  }
  if (r.exitCode !== 0) throw new UserError(`initdb failed: ${lastLine(r)}`);
  asDaemon(() => renameSync(staging, dir));
  return 'created';
}

export interface Postmaster {
  pid: number;
  socketDir: string;
  port: number;
}

/**
 * The postmaster running on this cluster, from postmaster.pid, if its process is alive. `as` reads
 * the file and signals as the cluster's owner (`_daemon_` unless told otherwise).
 */
export function runningPostmaster(dir: string, as: AsOwner = asDaemon): Postmaster | undefined {
  const content = as(() => {
    try {
      return readFileSync(join(dir, 'postmaster.pid'), 'utf8');
    } catch {
      return undefined;
    }
  });
  if (!content) return undefined;
  const lines = content.split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    if (!signalDaemonProcess(pid, 0, as)) return undefined;
  } catch {
    return undefined; // EPERM: a pid reused by some other user's process, not our postmaster
  }
  return { pid, socketDir: lines[4]?.trim() ?? '', port: Number(lines[3]) };
}

/** A single-quoted word for the /bin/sh command line pg_ctl builds from `-o`. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface TemporaryServer {
  socketDir: string;
  port: number;
  /** Whether this hook started it (and must stop it). */
  owned: boolean;
  stop(): Promise<void>;
}

async function pgCtlStop(paths: SnapPaths, major: number, dir: string): Promise<void> {
  const r = await runAsDaemon(paths.pgBin(major, 'pg_ctl'), ['stop', '-D', dir, '-m', 'fast', '-w', '-t', '120'], {
    env: PG_ENV,
    timeoutMs: 150_000,
  });
  if (r.exitCode !== 0 && runningPostmaster(dir)) throw new UserError(`could not stop the temporary Postgres: ${lastLine(r)}`);
}

/**
 * Starts the cluster with the setup configuration (no TCP, socket in the private setup directory)
 * and waits until it accepts connections. A temporary server left running by a killed hook is
 * stopped first; a server already running on the service socket (the postgres daemon) is used
 * as it is and left running.
 */
export async function startTemporary(paths: SnapPaths, major: number, port: number): Promise<TemporaryServer> {
  const dir = paths.pgCluster(major);
  const running = runningPostmaster(dir);
  if (running && running.socketDir === paths.pgSocketDir) {
    return { socketDir: running.socketDir, port: running.port, owned: false, stop: async () => undefined };
  }
  if (running) {
    step('install: stopping a temporary Postgres left by an interrupted run');
    await pgCtlStop(paths, major, dir);
  }
  asDaemon(() => rmSync(paths.pgSetupLog, { force: true }));
  const r = await runAsDaemon(
    paths.pgBin(major, 'pg_ctl'),
    ['start', '-w', '-t', '120', '-D', dir, '-l', paths.pgSetupLog, '-o', `-c config_file=${shQuote(paths.pgSetupConf)}`],
    { env: PG_ENV, timeoutMs: 150_000 },
  );
  if (r.exitCode !== 0) {
    const log = asDaemon(() => (pathExists(paths.pgSetupLog) ? readFileSync(paths.pgSetupLog, 'utf8') : ''));
    const why = log.split('\n').filter((l) => /FATAL|ERROR|PANIC/.test(l)).at(-1) ?? lastLine(r);
    throw new UserError(`the temporary Postgres did not start: ${oneLine(why)}`);
  }
  return {
    socketDir: paths.pgSetupSocketDir,
    port,
    owned: true,
    stop: async () => {
      await pgCtlStop(paths, major, dir);
      asDaemon(() => {
        try {
          unlinkSync(paths.pgSetupLog);
        } catch {
          /* already gone */
        }
      });
    },
  };
}

/** A connection over the unix socket as the given role (peer authentication: no password). */
export async function connect(socketDir: string, port: number, database: string, user = SUPERUSER_ROLE): Promise<pg.Client & SqlClient> {
  const client = new pg.Client({ host: socketDir, port, user, database, application_name: 'immich-distribution' });
  try {
    await client.connect();
  } catch (err) {
    throw new UserError(`cannot connect to Postgres at ${socketDir} as ${user}: ${oneLine(err)}`);
  }
  return client;
}

/** Runs `fn` with a connection and always closes it. */
export async function withConnection<T>(
  server: { socketDir: string; port: number },
  database: string,
  fn: (db: SqlClient) => Promise<T>,
): Promise<T> {
  const client = await connect(server.socketDir, server.port, database);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
