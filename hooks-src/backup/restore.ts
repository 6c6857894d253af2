import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { IMMICH_DATABASE, ident, literal } from '../postgres/bootstrap.js';
import { IMMICH_ROLE } from '../postgres/hba.js';
import { UserError, oneLine } from '../snap/errors.js';
import { writeFileAtomic } from '../snap/fs.js';
import { step } from '../snap/log.js';
import { runSteps } from '../snap/steps.js';
import { type CommandContext, acquireLock, pgTarget, tools, withDatabase } from './context.js';
import { ToolError, restoreDump, sha256Stream, verifyDump } from './database.js';
import { copyWithHash, freeBytes, makeParentDirs, resetDirCache } from './files.js';
import { interruptRequested } from './interrupt.js';
import { DATABASE_FILE, MANIFEST_FILE, MEDIA_DIR, MEDIA_INDEX_FILE, type Manifest, parseIndex, parseManifest } from './manifest.js';
import { timestampId } from './naming.js';
import type { IndexEntry } from './plan.js';
import { type Progress, formatBytes } from './progress.js';

/**
 * Restore, so that a failure at any point leaves the previous state working (SPEC §4, §6):
 *
 *   validate        manifest, sha256 of the dump and the media index, `zstd -t`, `pg_restore
 *                   --list`, versions, free space, every media file present with its size
 *   stage-media     copy the media into <media>/.restore-staging-<tag>/, checking every file's
 *                   sha256 as it is copied (a mismatch stops here; nothing live was touched)
 *   restore-database  pg_restore into a NEW database immich_restore_<tag> (Immich keeps running
 *                   on the old one meanwhile)
 *   stop-immich     snapctl stop of the Immich server and ML (only those that were running)
 *   swap-media      each folder: live → .restore-previous-<tag>/, staged → live (renames)
 *   swap-database   in ONE transaction: immich → immich_previous_<tag>, immich_restore_<tag> → immich
 *   cleanup         drop the previous database and media (only now: the swap succeeded)
 *   start-immich    start what was stopped
 *
 * A journal ($SNAP_COMMON/restore-journal.json) is written before the first change. If the
 * restore is killed, the next `restore` (or `restore --recover`) reads it: when the database swap
 * had committed (immich_previous_<tag> exists) it finishes the cleanup, otherwise it undoes the
 * media renames, drops the new database and starts Immich again: the previous state.
 */

export interface RestoreOptions {
  backupDir: string;
  media: boolean;
  progress: Progress;
  mediaRoot: string;
}

interface Journal {
  tag: string;
  backup: string;
  newDatabase: string;
  previousDatabase: string;
  mediaRoot: string;
  staging: string;
  previousMedia: string;
  folders: Array<{ name: string; hadLive: boolean }>;
  services: string[];
  phase: 'prepare' | 'swap' | 'committed';
}

const IMMICH_APPS = ['immich-server', 'immich-machine-learning'];

function writeJournal(ctx: CommandContext, j: Journal): void {
  writeFileAtomic(ctx.paths.restoreJournal, `${JSON.stringify(j, null, 2)}\n`, 0o600);
}

export function readJournal(ctx: CommandContext): Journal | undefined {
  if (!existsSync(ctx.paths.restoreJournal)) return undefined;
  try {
    return JSON.parse(readFileSync(ctx.paths.restoreJournal, 'utf8')) as Journal;
  } catch {
    throw new UserError(`${ctx.paths.restoreJournal} is unreadable; inspect it, then remove it by hand`);
  }
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

function checkAborted(): void {
  const sig = interruptRequested();
  if (sig) throw new UserError(`interrupted (${sig})`);
}

// --- validation --------------------------------------------------------------------------------------

export interface Validated {
  manifest: Manifest;
  index: IndexEntry[];
}

/** Checks the whole backup without changing anything. Throws one line naming the first problem. */
export async function validateBackup(ctx: CommandContext, dir: string, o: { media: boolean; mediaRoot: string; progress: Progress }): Promise<Validated> {
  if (!existsSync(join(dir, MANIFEST_FILE))) throw new UserError(`${dir} is not a complete backup (no ${MANIFEST_FILE})`);
  let manifest: Manifest;
  try {
    manifest = parseManifest(readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
  } catch (err) {
    throw new UserError(`${dir}: ${oneLine(err)}`);
  }
  const dump = join(dir, manifest.database.file);
  if (!existsSync(dump)) throw new UserError(`${dir}: ${DATABASE_FILE} is missing`);
  if (statSync(dump).size !== manifest.database.bytes) throw new UserError(`${dir}: ${manifest.database.file} has the wrong size (damaged or truncated backup)`);
  o.progress.start('checking database dump', manifest.database.bytes);
  const dumpSha = await sha256Stream(dump, (n) => o.progress.tick(n));
  o.progress.end();
  if (dumpSha !== manifest.database.sha256) throw new UserError(`${dir}: checksum mismatch for ${manifest.database.file} (the backup is damaged); nothing was changed`);
  try {
    await verifyDump(tools(ctx.paths), dump);
  } catch (err) {
    throw new UserError(`${dir}: ${oneLine(err)}; nothing was changed`);
  }

  // Versions: Postgres and the vector extension must be able to hold it; Immich must not be older.
  const server = await withDatabase(ctx, 'postgres', async (db) => {
    const v = await db.query<{ n: string }>("SELECT current_setting('server_version_num') AS n");
    const av = await db.query<{ name: string }>('SELECT name FROM pg_available_extensions');
    return { major: Math.floor(Number(v.rows[0]!.n) / 10000), available: new Set(av.rows.map((r) => r.name)) };
  });
  if (manifest.postgres.serverMajor > server.major) {
    throw new UserError(`the backup comes from PostgreSQL ${manifest.postgres.serverMajor}, newer than the running ${server.major}; refresh the snap first`);
  }
  for (const e of manifest.postgres.extensions) {
    if (e.name !== 'plpgsql' && !server.available.has(e.name)) throw new UserError(`the backup needs the Postgres extension ${e.name}, which this snap does not ship`);
  }
  const immichNow = ctx.state?.immichVersion;
  const immichThen = manifest.state?.immichVersion;
  if (immichNow && immichThen && compareVersions(immichThen, immichNow) > 0) {
    throw new UserError(`the backup comes from Immich ${immichThen}, newer than this snap's ${immichNow}; refresh the snap first`);
  }

  // Free space: the database needs about its on-disk size again while both copies exist.
  const pgFree = freeBytes(ctx.paths.pgClustersDir);
  if (pgFree < manifest.database.databaseBytes * 1.1 + 64 * 2 ** 20) {
    throw new UserError(`not enough free space for the database: ${formatBytes(pgFree)} free in ${ctx.paths.pgClustersDir}, about ${formatBytes(manifest.database.databaseBytes * 1.1)} needed; nothing was changed`);
  }

  let index: IndexEntry[] = [];
  if (o.media && manifest.media) {
    const indexFile = join(dir, manifest.media.index.file);
    if (!existsSync(indexFile)) throw new UserError(`${dir}: ${MEDIA_INDEX_FILE} is missing`);
    if ((await sha256Stream(indexFile)) !== manifest.media.index.sha256) throw new UserError(`${dir}: checksum mismatch for ${MEDIA_INDEX_FILE} (the backup is damaged); nothing was changed`);
    try {
      index = parseIndex(readFileSync(indexFile, 'utf8'));
    } catch (err) {
      throw new UserError(`${dir}: ${oneLine(err)}`);
    }
    if (index.length !== manifest.media.files) throw new UserError(`${dir}: the media index lists ${index.length} files, the manifest ${manifest.media.files}`);
    for (const e of index) {
      if (!manifest.media.folders.some((f) => e.path.startsWith(`${f}/`))) throw new UserError(`${dir}: media index entry outside the backed-up folders: ${e.path}`);
      let size: number;
      try {
        size = statSync(join(dir, MEDIA_DIR, e.path)).size;
      } catch {
        throw new UserError(`${dir}: media file missing from the backup: ${e.path}; nothing was changed`);
      }
      if (size !== e.size) throw new UserError(`${dir}: media file has the wrong size: ${e.path} (the backup is damaged); nothing was changed`);
    }
    const free = freeBytes(o.mediaRoot);
    if (free < manifest.media.bytes * 1.01 + 64 * 2 ** 20) {
      throw new UserError(`not enough free space for the media: ${formatBytes(free)} free in ${o.mediaRoot}, ${formatBytes(manifest.media.bytes)} needed; nothing was changed`);
    }
  }
  return { manifest, index };
}

// --- recovery ---------------------------------------------------------------------------------------------

async function databaseExists(ctx: CommandContext, name: string): Promise<boolean> {
  return withDatabase(ctx, 'postgres', async (db) => (await db.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rows.length > 0);
}

async function startServices(ctx: CommandContext, apps: string[]): Promise<void> {
  if (apps.length === 0) return;
  step(`restore: starting ${apps.join(', ')}`);
  await ctx.snapctl.start(apps.map((a) => ctx.paths.service(a)));
}

function undoMediaSwap(j: Journal): void {
  for (const f of [...j.folders].reverse()) {
    const live = join(j.mediaRoot, f.name);
    const prev = join(j.previousMedia, f.name);
    const staged = join(j.staging, f.name);
    if (existsSync(prev)) {
      if (existsSync(live)) {
        mkdirSync(j.staging, { recursive: true, mode: 0o700 });
        renameSync(live, staged);
      }
      renameSync(prev, live);
    } else if (!f.hadLive && existsSync(live) && !existsSync(staged)) {
      mkdirSync(j.staging, { recursive: true, mode: 0o700 });
      renameSync(live, staged);
    }
  }
  rmSync(j.staging, { recursive: true, force: true });
  rmSync(j.previousMedia, { recursive: true, force: true });
}

/** Back to the state before the restore began (nothing was committed). */
async function rollBack(ctx: CommandContext, j: Journal): Promise<void> {
  undoMediaSwap(j);
  await withDatabase(ctx, 'postgres', async (db) => {
    const live = await db.query('SELECT 1 FROM pg_database WHERE datname = $1', [IMMICH_DATABASE]);
    if (live.rows.length > 0) await db.query(`ALTER DATABASE ${ident(IMMICH_DATABASE)} ALLOW_CONNECTIONS true`);
    await db.query(`DROP DATABASE IF EXISTS ${ident(j.newDatabase)} WITH (FORCE)`);
  });
  await startServices(ctx, j.services);
  rmSync(ctx.paths.restoreJournal, { force: true });
}

/** The swap committed: remove what it replaced and start Immich. */
async function rollForward(ctx: CommandContext, j: Journal): Promise<void> {
  if (j.phase !== 'committed') writeJournal(ctx, { ...j, phase: 'committed' });
  await withDatabase(ctx, 'postgres', (db) => db.query(`DROP DATABASE IF EXISTS ${ident(j.previousDatabase)} WITH (FORCE)`));
  rmSync(j.previousMedia, { recursive: true, force: true });
  rmSync(j.staging, { recursive: true, force: true });
  await startServices(ctx, j.services);
  rmSync(ctx.paths.restoreJournal, { force: true });
}

/** Finishes or undoes a restore that was interrupted (journal present). Returns what it did. */
export async function recoverInterrupted(ctx: CommandContext): Promise<'none' | 'rolled-back' | 'completed'> {
  const j = readJournal(ctx);
  if (!j) return 'none';
  if (j.phase === 'committed' || (await databaseExists(ctx, j.previousDatabase))) {
    step(`restore: completing the interrupted restore ${j.tag} (its database swap had succeeded)`);
    await rollForward(ctx, j);
    return 'completed';
  }
  step(`restore: undoing the interrupted restore ${j.tag} (nothing had been swapped in for good)`);
  await rollBack(ctx, j);
  return 'rolled-back';
}

// --- the restore ------------------------------------------------------------------------------------------

export async function runRestore(ctx: CommandContext, o: RestoreOptions): Promise<{ manifest: Manifest; tag: string }> {
  const release = acquireLock(ctx.paths.backupLock, 'restore');
  try {
    const t = tools(ctx.paths);
    let v: Validated | undefined;
    let j: Journal | undefined;
    const tag = timestampId(new Date()).toLowerCase();
    await runSteps('restore', [
      { name: 'recover', run: async () => void (await recoverInterrupted(ctx)) },
      {
        name: 'validate',
        run: async () => {
          v = await validateBackup(ctx, o.backupDir, { media: o.media, mediaRoot: o.mediaRoot, progress: o.progress });
          const m = v.manifest;
          step(`restore: backup ${m.id} is valid (database ${formatBytes(m.database.bytes)}${m.media && o.media ? `, ${m.media.files} media files, ${formatBytes(m.media.bytes)}` : ''})`);
          j = {
            tag,
            backup: o.backupDir,
            newDatabase: `${IMMICH_DATABASE}_restore_${tag}`,
            previousDatabase: `${IMMICH_DATABASE}_previous_${tag}`,
            mediaRoot: o.mediaRoot,
            staging: join(o.mediaRoot, `.restore-staging-${tag}`),
            previousMedia: join(o.mediaRoot, `.restore-previous-${tag}`),
            folders: o.media && m.media ? m.media.folders.map((name) => ({ name, hadLive: existsSync(join(o.mediaRoot, name)) })) : [],
            services: [],
            phase: 'prepare',
          };
          writeJournal(ctx, j);
        },
      },
      {
        name: 'stage-media',
        run: async () => {
          const { manifest, index } = v!;
          if (!o.media || !manifest.media) return;
          const jj = j!;
          mkdirSync(jj.staging, { mode: 0o700 });
          for (const f of jj.folders) mkdirSync(join(jj.staging, f.name), { mode: 0o755 });
          resetDirCache();
          await makeParentDirs(jj.staging, index.map((e) => e.path), 0o755);
          o.progress.start('staging media', manifest.media.bytes);
          let n = 0;
          for (const e of index) {
            const r = copyWithHash(join(o.backupDir, MEDIA_DIR, e.path), join(jj.staging, e.path), { mode: e.mode, dirMode: 0o755, onBytes: (b) => o.progress.tick(b) });
            if (r.sha256 !== e.sha256) throw new UserError(`checksum mismatch for ${e.path} in backup ${manifest.id} (the backup is damaged); nothing was changed`);
            const s = Number(e.mtimeNs / 1000n) / 1e6;
            utimesSync(join(jj.staging, e.path), s, s);
            if (++n % 64 === 0) {
              await new Promise((res) => setImmediate(res));
              checkAborted();
            }
          }
          o.progress.end();
          step(`restore: ${index.length} media files staged and verified`);
        },
      },
      {
        name: 'restore-database',
        run: async () => {
          const jj = j!;
          await withDatabase(ctx, 'postgres', async (db) => {
            await db.query(`DROP DATABASE IF EXISTS ${ident(jj.newDatabase)} WITH (FORCE)`);
            await db.query(`CREATE DATABASE ${ident(jj.newDatabase)} WITH OWNER ${ident(IMMICH_ROLE)} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'`);
            // Database-level settings (e.g. vchordrq.probes) are the snap's, not the backup's: carry them over.
            const s = await db.query<{ setconfig: string[] }>(
              'SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1 AND s.setrole = 0',
              [IMMICH_DATABASE],
            );
            for (const kv of s.rows[0]?.setconfig ?? []) {
              const eq = kv.indexOf('=');
              if (eq > 0) await db.query(`ALTER DATABASE ${ident(jj.newDatabase)} SET ${ident(kv.slice(0, eq))} = ${literal(kv.slice(eq + 1))}`);
            }
          });
          step(`restore: restoring the database into ${jj.newDatabase}`);
          try {
            await restoreDump(t, pgTarget(ctx.paths), join(o.backupDir, v!.manifest.database.file), jj.newDatabase);
          } catch (err) {
            checkAborted();
            throw err instanceof ToolError ? new UserError(`${oneLine(err)}; the current database was not changed`) : err;
          }
          checkAborted();
          await withDatabase(ctx, jj.newDatabase, (db) => db.query('ANALYZE'));
        },
      },
      {
        name: 'stop-immich',
        run: async () => {
          const jj = j!;
          const st = await ctx.snapctl.services(...IMMICH_APPS.map((a) => ctx.paths.service(a)));
          jj.services = IMMICH_APPS.filter((a) => st.find((s) => s.name === ctx.paths.service(a))?.active);
          writeJournal(ctx, jj);
          if (jj.services.length > 0) {
            step(`restore: stopping ${jj.services.join(', ')}`);
            await ctx.snapctl.stop(jj.services.map((a) => ctx.paths.service(a)));
          }
        },
      },
      {
        name: 'swap-media',
        run: () => {
          const jj = j!;
          jj.phase = 'swap';
          writeJournal(ctx, jj);
          if (jj.folders.length === 0) return;
          mkdirSync(jj.previousMedia, { mode: 0o700 });
          for (const f of jj.folders) {
            const live = join(jj.mediaRoot, f.name);
            if (existsSync(live)) renameSync(live, join(jj.previousMedia, f.name));
            renameSync(join(jj.staging, f.name), live);
          }
        },
      },
      {
        name: 'swap-database',
        run: async () => {
          const jj = j!;
          await withDatabase(ctx, 'postgres', async (db) => {
            await db.query(`ALTER DATABASE ${ident(IMMICH_DATABASE)} ALLOW_CONNECTIONS false`);
            try {
              await db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid()', [[IMMICH_DATABASE, jj.newDatabase]]);
              await db.query('BEGIN');
              await db.query(`ALTER DATABASE ${ident(IMMICH_DATABASE)} RENAME TO ${ident(jj.previousDatabase)}`);
              await db.query(`ALTER DATABASE ${ident(jj.newDatabase)} RENAME TO ${ident(IMMICH_DATABASE)}`);
              await db.query('COMMIT');
            } catch (err) {
              await db.query('ROLLBACK').catch(() => undefined);
              await db.query(`ALTER DATABASE ${ident(IMMICH_DATABASE)} ALLOW_CONNECTIONS true`).catch(() => undefined);
              throw err;
            }
          });
          jj.phase = 'committed';
          writeJournal(ctx, jj);
        },
      },
      {
        name: 'cleanup',
        run: async () => {
          const jj = j!;
          await withDatabase(ctx, 'postgres', (db) => db.query(`DROP DATABASE IF EXISTS ${ident(jj.previousDatabase)} WITH (FORCE)`));
          rmSync(jj.previousMedia, { recursive: true, force: true });
          rmSync(jj.staging, { recursive: true, force: true });
        },
      },
      {
        name: 'start-immich',
        run: async () => {
          await startServices(ctx, j!.services);
          rmSync(ctx.paths.restoreJournal, { force: true });
        },
      },
    ]).catch(async (err: unknown) => {
      o.progress.end();
      const jj = j;
      if (jj && existsSync(ctx.paths.restoreJournal)) {
        try {
          if (jj.phase === 'committed') await rollForward(ctx, jj);
          else await rollBack(ctx, jj);
        } catch (undoErr) {
          throw new UserError(`${oneLine(err)}; undoing it also failed (${oneLine(undoErr)}): run sudo ${ctx.env.SNAP_INSTANCE_NAME}.restore --recover`);
        }
        if (jj.phase === 'committed') return; // the data is restored; only the tidy-up had failed
      }
      if (err instanceof UserError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') throw new UserError(`not enough space in ${o.mediaRoot} (disk full) while staging the media; the previous state was kept`);
      throw new UserError(`restore failed: ${oneLine(err)}; the previous state was kept`);
    });
    return { manifest: v!.manifest, tag };
  } finally {
    release();
  }
}
