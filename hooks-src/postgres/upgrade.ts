import { constants, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, join } from 'node:path';
import type { ClusterFact, DbState, UpgradeMarker } from '../migrations/plan.js';
import { compareVersions, majorMinor } from '../migrations/versions.js';
import { type AsOwner, asDaemon, pathExists } from '../snap/as-daemon.js';
import { UserError, oneLine } from '../snap/errors.js';
import { runCommand } from '../snap/exec.js';
import { writeFileAtomic } from '../snap/fs.js';
import { step } from '../snap/log.js';
import type { SnapPaths } from '../snap/paths.js';
import { runAsDaemon } from '../snap/run-as.js';
import { type SqlClient, ident } from './bootstrap.js';
import { connect, lastLine, runningPostmaster, shQuote } from './cluster.js';
import { SUPERUSER_ROLE } from './hba.js';

/**
 * Postgres major upgrades with pg_upgrade, revert-safe: the old cluster is never modified (pg_upgrade
 * in clone or copy mode reads it and writes a new one), so the previous revision can run on it
 * until the new major has run; the old cluster is removed later (hooks/post-refresh.ts).
 * `--link` is never used: it makes the old cluster unusable once the new one starts.
 */

const PG_ENV = { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', PGDATA: undefined, PGHOST: undefined, PGPORT: undefined, PGUSER: undefined, PGDATABASE: undefined, PGOPTIONS: undefined };
/** Ports of the private servers (sockets only, in directories nobody else can reach). */
const OLD_PORT = 50432;
const NEW_PORT = 50433;
const PROBE_PORT = 50431;
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

// ------------------------------------------------------------------------------------------ pg_control

const DB_STATES: DbState[] = ['starting up', 'shut down', 'shut down in recovery', 'shutting down', 'in crash recovery', 'in archive recovery', 'in production'];

/**
 * The head of global/pg_control (ControlFileData, src/include/catalog/pg_control.h): uint64
 * system_identifier, uint32 pg_control_version, uint32 catalog_version_no, DBState state (int32),
 * pg_time_t time (int64, 8-aligned at 24). This head has not changed since 9.x; every start and
 * every clean stop rewrites `state` and `time`. Little-endian (amd64, arm64).
 */
export function parseControlHead(buf: Buffer): { controlVersion: number; state: DbState; time: number } {
  if (buf.length < 32) throw new Error('pg_control is too short');
  const s = buf.readInt32LE(16);
  return { controlVersion: buf.readUInt32LE(8), state: DB_STATES[s] ?? 'unknown', time: Number(buf.readBigInt64LE(24)) };
}

/**
 * A cluster's state and WHEN pg_control was last written, in milliseconds with sub-millisecond
 * precision: the file's mtime, not pg_control's own `time` field, which has one-second resolution.
 * A revert, a start and a stop can all happen within one second, and "which cluster ran last" must
 * not tie then (a tie once made the planner pick the wrong live cluster; pg-upgrade.test.ts).
 */
export function readControl(dir: string, as: AsOwner = asDaemon): { state: DbState; time: number } {
  return as(() => {
    const file = join(dir, 'global', 'pg_control');
    const head = parseControlHead(readFileSync(file));
    return { state: head.state, time: Number(statSync(file, { bigint: true }).mtimeNs) / 1e6 };
  });
}

export function readMajor(dir: string, as: AsOwner = asDaemon): number | undefined {
  try {
    const v = as(() => readFileSync(join(dir, 'PG_VERSION'), 'utf8')).trim();
    return /^\d+$/.test(v) ? Number(v) : undefined;
  } catch {
    return undefined;
  }
}

/** A complete cluster (PG_VERSION + pg_control) as a planner fact, or undefined. */
export function clusterFact(dir: string, as: AsOwner = asDaemon): ClusterFact | undefined {
  const major = readMajor(dir, as);
  if (major === undefined) return undefined;
  try {
    const c = readControl(dir, as);
    return { major, controlTime: c.time, state: c.state };
  } catch {
    return undefined;
  }
}

/** Complete clusters at $SNAP_COMMON/postgres/<major> (staging and set-aside names are skipped). */
export function listClusters(paths: SnapPaths): ClusterFact[] {
  const names = asDaemon(() => (pathExists(paths.pgClustersDir) ? readdirSync(paths.pgClustersDir) : []));
  const out: ClusterFact[] = [];
  for (const n of names.filter((x) => /^\d+$/.test(x))) {
    const f = clusterFact(join(paths.pgClustersDir, n));
    if (f && f.major === Number(n)) out.push(f);
  }
  return out.sort((a, b) => a.major - b.major);
}

// ------------------------------------------------------------------------------------------ marker

export function readMarker(paths: SnapPaths): UpgradeMarker | undefined {
  try {
    const raw = JSON.parse(asDaemon(() => readFileSync(paths.pgUpgradeMarker, 'utf8'))) as Partial<UpgradeMarker>;
    if (typeof raw.from !== 'number' || typeof raw.to !== 'number' || (raw.mode !== 'clone' && raw.mode !== 'copy') || typeof raw.upgradedAt !== 'string') return undefined;
    return { from: raw.from, to: raw.to, mode: raw.mode, upgradedAt: raw.upgradedAt, ...(typeof raw.controlTimeAfterHook === 'number' ? { controlTimeAfterHook: raw.controlTimeAfterHook } : {}) };
  } catch {
    return undefined;
  }
}

export function writeMarker(paths: SnapPaths, m: UpgradeMarker): void {
  asDaemon(() => writeFileAtomic(paths.pgUpgradeMarker, `${JSON.stringify(m, null, 2)}\n`, 0o600));
}

export function removeMarker(paths: SnapPaths): void {
  asDaemon(() => rmSync(paths.pgUpgradeMarker, { force: true }));
}

// ------------------------------------------------------------------------------------------ transfer mode

/** Bytes of the files under dir (allocated blocks), skipping `skip` names at the top level. */
export function directoryBytes(dir: string, skip: readonly string[] = [], as: AsOwner = asDaemon): number {
  return as(() => {
    let total = 0;
    const walk = (d: string, top: boolean) => {
      for (const name of readdirSync(d)) {
        if (top && skip.includes(name)) continue;
        const p = join(d, name);
        const st = lstatSync(p);
        if (st.isDirectory()) walk(p, false);
        else total += st.blocks * 512;
      }
    };
    walk(dir, true);
    return total;
  });
}

/** Free bytes for an unprivileged writer on the filesystem of `dir` (test knob: IMMICH_DISTRIBUTION_FREE_BYTES). */
export function freeBytes(dir: string, env: NodeJS.ProcessEnv = process.env): number {
  const forced = env.IMMICH_DISTRIBUTION_FREE_BYTES;
  if (forced !== undefined && /^\d+$/.test(forced)) return Number(forced);
  const s = asDaemon(() => statfsSync(dir));
  return s.bavail * s.bsize;
}

/** Whether the filesystem of `dir` can clone files (reflinks: btrfs, XFS, bcachefs, ZFS 2.2+). */
export function canClone(dir: string): boolean {
  return asDaemon(() => {
    const a = join(dir, `.clone-probe-${process.pid}`);
    const b = `${a}.copy`;
    try {
      writeFileSync(a, 'x');
      copyFileSync(a, b, constants.COPYFILE_FICLONE_FORCE);
      return true;
    } catch {
      return false;
    } finally {
      rmSync(a, { force: true });
      rmSync(b, { force: true });
    }
  });
}

export type TransferDecision = { mode: 'clone' | 'copy'; needBytes: number; freeBytes: number } | { refusal: string; needBytes: number; freeBytes: number };

/**
 * Clone where the filesystem supports it (instant, no extra space until pages change); else copy
 * when the old cluster's data fits in the free space with a margin; else refuse, saying what to do.
 * pg_upgrade copies relation files only, so the old cluster's WAL (pg_wal) does not count.
 */
export function decideTransfer(i: { clone: boolean; oldBytes: number; freeBytes: number; from: number; to: number; where: string }): TransferDecision {
  const margin = Math.max(256 * MiB, Math.round(i.oldBytes * 0.05));
  if (i.clone) return { mode: 'clone', needBytes: 64 * MiB, freeBytes: i.freeBytes };
  const need = i.oldBytes + margin;
  if (i.freeBytes >= need) return { mode: 'copy', needBytes: need, freeBytes: i.freeBytes };
  const gb = (n: number) => `${(n / GiB).toFixed(1)} GB`;
  return {
    needBytes: need,
    freeBytes: i.freeBytes,
    refusal:
      `cannot upgrade PostgreSQL ${i.from} to ${i.to}: the upgrade copies the database (${gb(i.oldBytes)}) and keeps the old one until the new one has run, ` +
      `which needs ${gb(need)} free on the filesystem of ${i.where} but only ${gb(i.freeBytes)} is free; ` +
      `free ${gb(need - i.freeBytes)} (or move media.location to another disk) and refresh again. Nothing was changed; the previous revision keeps running`,
  };
}

// ------------------------------------------------------------------------------------------ servers



/** Server options for every private server here: no TCP, our hba/ident (peer map), a private socket. */
function privateOptions(paths: SnapPaths, socketDir: string, preload: string): string {
  const opts = [
    `-c listen_addresses=''`,
    `-c unix_socket_directories=${shQuote(socketDir)}`,
    `-c hba_file=${shQuote(paths.pgHba)}`,
    `-c ident_file=${shQuote(paths.pgIdent)}`,
  ];
  if (preload) opts.push(`-c shared_preload_libraries=${shQuote(preload)}`);
  return opts.join(' ');
}

/** Stops a postmaster left running on `dir` (a killed hook's or pg_upgrade's), with major's pg_ctl. */
export async function stopLeftover(paths: SnapPaths, major: number, dir: string): Promise<void> {
  if (!runningPostmaster(dir)) return;
  step(`post-refresh: stopping a PostgreSQL ${major} server left by an interrupted run`);
  const r = await runAsDaemon(paths.pgBin(major, 'pg_ctl'), ['stop', '-D', dir, '-m', 'fast', '-w', '-t', '120'], { env: PG_ENV, timeoutMs: 150_000 });
  if (r.exitCode !== 0 && runningPostmaster(dir)) throw new UserError(`could not stop a leftover PostgreSQL ${major} server on ${dir}: ${lastLine(r)}`);
}

export interface OldClusterInfo {
  encoding: string;
  collate: string;
  ctype: string;
  checksums: boolean;
  /** shared_preload_libraries the databases need (vchord). */
  preload: string;
}

/**
 * Starts the old cluster with its own binaries on the hook's private socket, reads what the new
 * cluster must match (template0's encoding and locale, data checksums, preloaded libraries) and
 * stops it cleanly. Starting it also completes crash recovery if it was not shut down cleanly,
 * which pg_upgrade requires.
 */
export async function inspectOldCluster(paths: SnapPaths, major: number, dir: string, port = PROBE_PORT): Promise<OldClusterInfo> {
  await stopLeftover(paths, major, dir);
  const log = join(paths.pgUpgradeWork, `inspect-${major}.log`);
  const start = await runAsDaemon(
    paths.pgBin(major, 'pg_ctl'),
    ['start', '-w', '-t', '300', '-D', dir, '-l', log, '-o', `-p ${port} ${privateOptions(paths, paths.pgSetupSocketDir, hasVchord(paths, major) ? 'vchord.so' : '')}`],
    { env: PG_ENV, timeoutMs: 330_000, cwd: paths.pgUpgradeWork },
  );
  if (start.exitCode !== 0) {
    const text = asDaemon(() => (pathExists(log) ? readFileSync(log, 'utf8') : ''));
    const why = text.split('\n').filter((l) => /FATAL|PANIC|ERROR/.test(l)).at(-1) ?? lastLine(start);
    throw new UserError(`the PostgreSQL ${major} cluster did not start for inspection: ${oneLine(why)}`);
  }
  try {
    const db = await connect(paths.pgSetupSocketDir, port, 'postgres', SUPERUSER_ROLE);
    try {
      const t = (await db.query<{ enc: string; coll: string; ctype: string }>(
        `SELECT pg_encoding_to_char(encoding) AS enc, datcollate AS coll, datctype AS ctype FROM pg_database WHERE datname = 'template0'`,
      )).rows[0];
      const c = (await db.query<{ data_checksums: string }>('SHOW data_checksums')).rows[0];
      const dbs = (await db.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datallowconn AND datname <> 'template0'`)).rows;
      let vchord = false;
      for (const { datname } of dbs) {
        const d = await connect(paths.pgSetupSocketDir, port, datname, SUPERUSER_ROLE);
        try {
          if ((await d.query(`SELECT 1 FROM pg_extension WHERE extname = 'vchord'`)).rows.length > 0) vchord = true;
        } finally {
          await d.end().catch(() => undefined);
        }
      }
      if (!t) throw new UserError('template0 is missing from the old cluster');
      return { encoding: t.enc, collate: t.coll, ctype: t.ctype, checksums: c?.data_checksums === 'on', preload: vchord ? 'vchord.so' : '' };
    } finally {
      await db.end().catch(() => undefined);
    }
  } finally {
    const stop = await runAsDaemon(paths.pgBin(major, 'pg_ctl'), ['stop', '-D', dir, '-m', 'fast', '-w', '-t', '120'], { env: PG_ENV, timeoutMs: 150_000 });
    if (stop.exitCode !== 0 && runningPostmaster(dir)) throw new UserError(`could not stop the PostgreSQL ${major} cluster after inspection: ${lastLine(stop)}`);
  }
}

function hasVchord(paths: SnapPaths, major: number): boolean {
  return existsSync(join(paths.pgLibDir(major), 'vchord.so'));
}

export interface UpgradeResult {
  mode: 'clone' | 'copy';
  durationMs: number;
}

/**
 * pg_upgrade from `from` (dir) to a new cluster of major `to`, built under pgUpgradeStaging(to) and
 * renamed to pgCluster(to) in one step once pg_upgrade succeeded, so pgCluster(to) exists only when
 * complete. A rerun after a kill stops the servers pg_upgrade left, throws the staging away and
 * starts over; the old cluster was only read.
 */
export async function upgradeCluster(
  paths: SnapPaths,
  opts: { from: number; to: number; oldDir: string; mode: 'clone' | 'copy'; info: OldClusterInfo; jobs?: number; onPhase?: (phase: 'initdb' | 'pg_upgrade' | 'rename') => void },
): Promise<UpgradeResult> {
  const { from, to, oldDir, mode, info } = opts;
  const staging = paths.pgUpgradeStaging(to);
  const work = paths.pgUpgradeWork;
  const started = Date.now();
  await stopLeftover(paths, from, oldDir);
  await stopLeftover(paths, to, staging);
  asDaemon(() => rmSync(staging, { recursive: true, force: true }));

  opts.onPhase?.('initdb');
  const localeArgs = info.collate === info.ctype ? [`--locale=${info.collate}`] : [`--lc-collate=${info.collate}`, `--lc-ctype=${info.ctype}`];
  const init = await runAsDaemon(
    paths.pgBin(to, 'initdb'),
    // Checksums must match the old cluster's; PostgreSQL 18's initdb turns them on by default.
    ['-D', staging, '-U', SUPERUSER_ROLE, '-E', info.encoding, ...localeArgs, ...(info.checksums ? ['--data-checksums'] : to >= 18 ? ['--no-data-checksums'] : []), '--auth-local=peer', '--auth-host=scram-sha-256'],
    { env: PG_ENV, timeoutMs: 300_000, cwd: work },
  );
  if (init.exitCode !== 0) throw new UserError(`initdb of PostgreSQL ${to} failed: ${lastLine(init)}`);

  opts.onPhase?.('pg_upgrade');
  const jobs = opts.jobs ?? Math.max(1, Math.min(4, cpus().length));
  const args = [
    '--old-bindir', join(paths.pgRoot, String(from), 'bin'),
    '--new-bindir', join(paths.pgRoot, String(to), 'bin'),
    '--old-datadir', oldDir,
    '--new-datadir', staging,
    '--username', SUPERUSER_ROLE,
    '--socketdir', work,
    '--old-port', String(OLD_PORT),
    '--new-port', String(NEW_PORT),
    '--jobs', String(jobs),
    '--old-options', privateOptions(paths, work, info.preload),
    '--new-options', privateOptions(paths, work, info.preload),
    ...(mode === 'clone' ? ['--clone'] : []),
  ];
  const r = await runAsDaemon(paths.pgBin(to, 'pg_upgrade'), args, { env: PG_ENV, cwd: work, timeoutMs: 9 * 60_000 });
  if (r.exitCode !== 0) {
    // pg_upgrade prints its reason on stdout, then "Failure, exiting".
    const lines = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).filter((l) => l && !/^Failure, exiting/.test(l));
    await stopLeftover(paths, from, oldDir).catch(() => undefined);
    await stopLeftover(paths, to, staging).catch(() => undefined);
    const logged = firstLoggedError(staging);
    const why = logged ? `${logged.error}, see ${logged.file}` : explainFailure(lines);
    throw new UserError(`pg_upgrade from PostgreSQL ${from} to ${to} failed: ${why} (the old cluster is unchanged)`);
  }
  opts.onPhase?.('rename');
  asDaemon(() => renameSync(staging, paths.pgCluster(to)));
  return { mode, durationMs: Date.now() - started };
}

/**
 * With --jobs, pg_upgrade's own output ends in "child process exited abnormally"; the cause is in
 * its logs (pg_upgrade_output.d/<time>/log/*.log under the new cluster, kept until the next
 * attempt). The first server or pg_restore error there, without the ones that only follow from it
 * (connections terminated as pg_upgrade stops its servers). Object names and SQL error text: no
 * secret (role passwords are never part of an error line).
 */
export function firstLoggedError(newDir: string): { error: string; file: string } | undefined {
  const root = join(newDir, 'pg_upgrade_output.d');
  const found: Array<{ error: string; file: string; order: number }> = [];
  asDaemon(() => {
    if (!pathExists(root)) return;
    for (const run of readdirSync(root)) {
      const logDir = join(root, run, 'log');
      if (!pathExists(logDir)) continue;
      for (const name of readdirSync(logDir).filter((n) => n.endsWith('.log'))) {
        const file = join(logDir, name);
        const lines = readFileSync(file, 'utf8').split('\n');
        const i = lines.findIndex((l) => /\b(ERROR|FATAL|error):\s/.test(l) && !/terminating connection due to administrator command|could not execute query: FATAL/.test(l));
        if (i >= 0) found.push({ error: oneLine(lines[i]!.replace(/^.*?\b(?:ERROR|FATAL):\s+/, '').replace(/^.*?error:\s+/, '')), file, order: i });
      }
    }
  });
  // Per-database logs first (pg_upgrade_dump_*.log name the object), then the server's.
  found.sort((a, b) => Number(!/dump_/.test(a.file)) - Number(!/dump_/.test(b.file)) || a.order - b.order);
  return found[0] && { error: found[0].error, file: found[0].file };
}

/**
 * pg_upgrade's last lines often only name a report file (`…/loadable_libraries.txt`,
 * `…/tables_using_…txt`). Say what it found instead: the line before it, and the report's first
 * entries (library or object names: no secret).
 */
function explainFailure(lines: string[]): string {
  const last = lines.at(-1) ?? 'unknown error';
  if (!/\.txt$/.test(last) || !last.startsWith('/')) return last;
  const why = [...lines].reverse().find((l) => !l.startsWith('/') && !/^(ok|In database:|\s)/.test(l) && l.length > 20) ?? 'see the report';
  let items = '';
  try {
    items = asDaemon(() => readFileSync(last, 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !/^In database/.test(l))
      .slice(0, 5)
      .join(', ');
  } catch {
    /* report already removed */
  }
  return `${why.replace(/\s+/g, ' ')}${items ? `: ${items}` : ''}`;
}

/** Creates pg_upgrade's work directory (0700 `_daemon_`) and empties it of old logs. */
export function prepareWorkDir(paths: SnapPaths): void {
  asDaemon(() => {
    mkdirSync(paths.pgUpgradeWork, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(paths.pgUpgradeWork)) {
      if (/\.(log|sql|sh)$/.test(name) || name.startsWith('.s.PGSQL')) rmSync(join(paths.pgUpgradeWork, name), { recursive: true, force: true });
    }
  });
}

/**
 * Moves a cluster out of the way without deleting it: `<major>.set-aside-<time>`. Used for a stale
 * newer cluster that the service ran (it may hold writes made before a revert).
 */
export function setClusterAside(paths: SnapPaths, major: number, now = new Date()): string {
  const aside = `${paths.pgCluster(major)}.set-aside-${now.toISOString().replace(/[:.]/g, '-')}`;
  asDaemon(() => renameSync(paths.pgCluster(major), aside));
  return basename(aside);
}

/** Deletes a cluster directory: renamed first (one step), then removed, so a kill never leaves half a cluster under its name. */
export function deleteCluster(paths: SnapPaths, dir: string): void {
  const doomed = `${dir}.deleting`;
  asDaemon(() => {
    if (pathExists(dir)) {
      rmSync(doomed, { recursive: true, force: true });
      renameSync(dir, doomed);
    }
    rmSync(doomed, { recursive: true, force: true });
  });
}

/** Leftovers a killed run may have left: `<major>.deleting` directories. */
export function removeDeletingLeftovers(paths: SnapPaths): void {
  asDaemon(() => {
    if (!pathExists(paths.pgClustersDir)) return;
    for (const n of readdirSync(paths.pgClustersDir)) if (n.endsWith('.deleting')) rmSync(join(paths.pgClustersDir, n), { recursive: true, force: true });
  });
}

// ------------------------------------------------------------------------------------------ after the upgrade


/** Index access methods of each vector extension: their indexes are rebuilt when it changes minor. */
const VECTOR_AMS: Record<string, string[]> = { vector: ['hnsw', 'ivfflat'], vchord: ['vchordrq', 'vchordg'] };

export interface ExtensionUpdate {
  database: string;
  name: string;
  from: string;
  to: string;
  reindexed: string[];
}

/**
 * `ALTER EXTENSION … UPDATE` for every extension whose installed version differs from what the
 * shipped files install by default (pg_upgrade keeps the old versions; so does a new package).
 * When a vector extension moves to a new minor (0.7 → 0.8, 1.0 → 1.1), the indexes built with its
 * access methods are rebuilt, as Immich and the extensions' release notes advise after such updates.
 * An extension already at its default version is left alone, so a rerun does nothing.
 */
export async function updateExtensions(db: SqlClient, database: string): Promise<ExtensionUpdate[]> {
  const { rows } = await db.query<{ name: string; installed: string; available: string }>(
    `SELECT e.extname AS name, e.extversion AS installed, a.default_version AS available
       FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname
      WHERE a.default_version IS NOT NULL AND e.extversion <> a.default_version ORDER BY e.extname`,
  );
  const out: ExtensionUpdate[] = [];
  for (const r of rows) {
    let newer = true;
    try {
      newer = compareVersions(r.available, r.installed) > 0;
    } catch {
      newer = true; // a non-numeric version (e.g. "unpackaged"): let Postgres decide
    }
    if (!newer) continue;
    await db.query(`ALTER EXTENSION ${ident(r.name)} UPDATE`);
    const now = (await db.query<{ v: string }>('SELECT extversion AS v FROM pg_extension WHERE extname = $1', [r.name])).rows[0]?.v ?? r.available;
    const reindexed: string[] = [];
    const ams = VECTOR_AMS[r.name];
    let minorChanged = true;
    try {
      minorChanged = majorMinor(r.installed) !== majorMinor(now);
    } catch {
      /* treat as changed */
    }
    if (ams && minorChanged) {
      const idx = await db.query<{ name: string }>(
        `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am am ON am.oid = c.relam WHERE am.amname = ANY($1) ORDER BY 1`,
        [ams],
      );
      for (const { name } of idx.rows) {
        await db.query(`REINDEX INDEX ${name}`);
        reindexed.push(name);
      }
    }
    out.push({ database, name: r.name, from: r.installed, to: now, reindexed });
  }
  return out;
}

/** Databases one can connect to (template0 cannot be). */
export async function connectableDatabases(db: SqlClient): Promise<string[]> {
  const { rows } = await db.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname`);
  return rows.map((r) => r.datname);
}

/**
 * Statistics: pg_upgrade does not carry the planner's statistics over. `vacuumdb --all
 * --analyze-in-stages` gives every table minimal statistics first, then better ones.
 */
export async function analyzeAll(paths: SnapPaths, major: number, server: { socketDir: string; port: number }): Promise<void> {
  const jobs = String(Math.max(1, Math.min(4, cpus().length)));
  const r = await runCommand(
    paths.pgBin(major, 'vacuumdb'),
    ['--all', '--analyze-in-stages', '--jobs', jobs, '--host', server.socketDir, '--port', String(server.port), '--username', SUPERUSER_ROLE, '--no-password', '--quiet'],
    { env: { ...PG_ENV, PGAPPNAME: 'immich-distribution' }, cwd: '/', timeoutMs: 9 * 60_000 },
  );
  if (r.exitCode !== 0) throw new UserError(`vacuumdb --analyze-in-stages failed: ${lastLine(r)}`);
}

/**
 * Brings a cluster that was not shut down cleanly (the service was killed) to a clean shutdown:
 * start it on the private setup socket (Postgres replays its WAL: crash recovery), then a fast
 * stop, which writes a shutdown checkpoint. Returns the state pg_control reports afterwards.
 */
export async function recoverCluster(paths: SnapPaths, major: number, dir: string): Promise<DbState> {
  await stopLeftover(paths, major, dir);
  const opts = privateOptions(paths, paths.pgSetupSocketDir, hasVchord(paths, major) ? 'vchord.so' : '');
  // -l: the postmaster must not inherit our output pipes (we would wait for them to close).
  const start = await runAsDaemon(paths.pgBin(major, 'pg_ctl'), ['start', '-w', '-t', '300', '-D', dir, '-l', paths.pgSetupLog, '-o', `-p ${PROBE_PORT} ${opts}`], {
    env: PG_ENV,
    timeoutMs: 330_000,
  });
  if (start.exitCode !== 0) throw new UserError(`PostgreSQL ${major} did not start to recover: ${lastLine(start)}`);
  const stop = await runAsDaemon(paths.pgBin(major, 'pg_ctl'), ['stop', '-D', dir, '-m', 'fast', '-w', '-t', '120'], { env: PG_ENV, timeoutMs: 150_000 });
  if (stop.exitCode !== 0) throw new UserError(`PostgreSQL ${major} did not stop after recovery: ${lastLine(stop)}`);
  return readControl(dir).state;
}
