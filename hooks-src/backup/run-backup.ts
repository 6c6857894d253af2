import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, oneLine } from '../snap/errors.js';
import { debugEnabled, step } from '../snap/log.js';
import { type CommandContext, acquireLock, pgTarget, tools, withDatabase } from './context.js';
import { ToolError, dumpDatabase, sha256Stream } from './database.js';
import { IMMICH_DATABASE } from '../postgres/bootstrap.js';
import { runCommand } from '../snap/exec.js';
import { copyWithHash, fsyncDir, linkAll, makeParentDirs, resetDirCache, walkFolders } from './files.js';
import { onInterrupt } from './interrupt.js';
import {
  DATABASE_FILE,
  MANIFEST_FILE,
  MEDIA_DIR,
  MEDIA_INDEX_FILE,
  type Manifest,
  type MediaFolder,
  ORIGINAL_FOLDERS,
  REGENERABLE_FOLDERS,
  renderIndexLine,
  renderManifest,
  databaseEntry,
} from './manifest.js';
import { newBackupId, partialName } from './naming.js';
import { type IndexEntry, planMedia, summarize } from './plan.js';
import { Progress, formatBytes, formatDuration } from './progress.js';
import { type Trigger, planRetention } from './retention.js';
import { listBackups, previousMediaSnapshot, removePartials } from './store.js';

/**
 * One backup, in this order (the consistency guarantee, docs/backup.md):
 *   1. the database, dumped in one transaction snapshot (pg_dump), while Immich keeps running;
 *   2. the media, copied afterwards: every file an asset row of the dump points to was written
 *      before that row (Immich stores the file, then the row), so it is in the copy unless it was
 *      permanently deleted during the backup; files added meanwhile are extra and harmless.
 * Written as `.partial-<id>` and renamed to `<id>` only when the dump is verified, every file is
 * hashed and the manifest is written; any failure removes the partial directory.
 */

export interface BackupOptions {
  location: string;
  assets: boolean;
  /** Also thumbnails and encoded videos (regenerable). */
  regenerable: boolean;
  trigger: Trigger;
  /** Retention after success; with `pruneTriggers` only those kinds are counted and deleted. */
  keep?: number;
  pruneTriggers?: Trigger[];
  progress: Progress;
  mediaRoot: string;
}

export interface BackupResult {
  dir: string;
  manifest: Manifest;
  pruned: string[];
  durationMs: number;
}

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** Turns a filesystem or tool failure into the one line a person needs. */
function explain(err: unknown, location: string): Error {
  if (err instanceof UserError) return err;
  const code = (err as NodeJS.ErrnoException | ToolError).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new UserError(`not enough space in ${location} (disk full); the partial backup was removed`);
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return new UserError(`backup location ${location} is not writable (${code}); the partial backup was removed`);
  if (/No space left on device/i.test(oneLine(err))) return new UserError(`not enough space in ${location} (disk full); the partial backup was removed`);
  return new UserError(`backup failed: ${oneLine(err)}; the partial backup was removed`);
}

function prepareLocation(location: string): void {
  try {
    if (!existsSync(location)) mkdirSync(location, { recursive: true, mode: DIR_MODE });
    if (!statSync(location).isDirectory()) throw new UserError(`backup location ${location} is not a directory`);
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UserError(`backup location ${location} is not usable (${code}); check the path or backup.location`);
  }
}

export async function runBackup(ctx: CommandContext, o: BackupOptions): Promise<BackupResult> {
  const started = Date.now();
  const { paths } = ctx;
  if (existsSync(paths.restoreJournal)) {
    throw new UserError(`an interrupted restore must be finished first: sudo ${ctx.env.SNAP_INSTANCE_NAME}.restore --recover`);
  }
  prepareLocation(o.location);
  const release = acquireLock(paths.backupLock, 'backup');
  const unRelease = onInterrupt(release);
  let partial: string | undefined;
  const unPartial = onInterrupt(() => {
    if (partial) rmSync(partial, { recursive: true, force: true });
  });
  try {
    for (const gone of removePartials(o.location)) step(`backup: removed ${gone} left by an interrupted backup`);

    // Postgres must be up; what we record about it comes from the server itself.
    const info = await withDatabase(ctx, IMMICH_DATABASE, async (db) => {
      const v = await db.query<{ v: string; n: string }>("SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n");
      const ext = await db.query<{ name: string; version: string }>('SELECT extname AS name, extversion AS version FROM pg_extension ORDER BY extname');
      const size = await db.query<{ b: string }>('SELECT pg_database_size($1) AS b', [IMMICH_DATABASE]);
      return { version: v.rows[0]!.v, major: Math.floor(Number(v.rows[0]!.n) / 10000), extensions: ext.rows, bytes: Number(size.rows[0]!.b) };
    });

    const taken = new Set(readdirSync(o.location));
    const id = newBackupId(new Date(), taken);
    partial = join(o.location, partialName(id));
    try {
      mkdirSync(partial, { mode: DIR_MODE });
      chmodSync(partial, DIR_MODE);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      partial = undefined;
      throw new UserError(`backup location ${o.location} is not writable (${code})`);
    }

    // 1. Database.
    const t = tools(paths);
    const dumpFile = join(partial, DATABASE_FILE);
    const t0 = Date.now();
    step(`backup: dumping database ${IMMICH_DATABASE} (${formatBytes(info.bytes)} on disk)`);
    o.progress.start('database', 0);
    // Verified while it is written (zstd -t on the same stream, then pg_restore --list).
    const dumped = await dumpDatabase(t, pgTarget(paths), IMMICH_DATABASE, dumpFile, (n) => o.progress.tick(n));
    o.progress.end();
    const { check } = dumped;
    const dumpMs = Date.now() - t0;
    step(`backup: database ${formatBytes(dumped.bytes)} in ${formatDuration(dumpMs)}, verified (${check.tables} tables, ${check.tocEntries} entries)`);

    // 2. Media.
    let media: Manifest['media'] = null;
    if (o.assets) media = await backupMedia(o, partial);

    // 3. Manifest last: a backup directory with a manifest is complete.
    const manifest: Manifest = {
      format: 1,
      id,
      createdAt: new Date(started).toISOString(),
      trigger: o.trigger,
      snap: { version: ctx.env.SNAP_VERSION, revision: ctx.env.SNAP_REVISION },
      state: ctx.state
        ? {
            stateVersion: ctx.state.stateVersion,
            immichVersion: ctx.state.immichVersion,
            postgresMajor: ctx.state.postgresMajor,
            vectorExtension: ctx.state.vectorExtension,
          }
        : null,
      postgres: { serverVersion: info.version, serverMajor: info.major, extensions: info.extensions },
      database: databaseEntry(dumped, check, info.bytes, dumpMs),
      media,
    };
    writeFileSync(join(partial, MANIFEST_FILE), renderManifest(manifest), { mode: FILE_MODE, flag: 'wx' });
    // Everything on stable storage before the rename makes it count (syncfs of that filesystem).
    await runCommand('sync', ['-f', partial]);
    fsyncDir(partial);
    const dir = join(o.location, id);
    renameSync(partial, dir);
    partial = undefined;
    fsyncDir(o.location);

    // 4. Retention (only after a complete backup exists).
    const pruned: string[] = [];
    if (o.keep !== undefined) {
      const complete = listBackups(o.location).filter((b) => b.manifest).map((b) => ({ id: b.id, trigger: b.manifest!.trigger }));
      for (const old of planRetention(complete, o.keep, o.pruneTriggers)) {
        if (old === id) continue;
        rmSync(join(o.location, old), { recursive: true, force: true });
        pruned.push(old);
      }
      if (pruned.length > 0) step(`backup: removed ${pruned.length} old backup(s): ${pruned.join(', ')}`);
    }
    return { dir, manifest, pruned, durationMs: Date.now() - started };
  } catch (err) {
    o.progress.end();
    if (partial) rmSync(partial, { recursive: true, force: true });
    throw explain(err, o.location);
  } finally {
    unPartial();
    unRelease();
    release();
  }
}

async function backupMedia(o: BackupOptions, partial: string): Promise<NonNullable<Manifest['media']>> {
  const t0 = Date.now();
  const folders: MediaFolder[] = [...ORIGINAL_FOLDERS, ...(o.regenerable ? REGENERABLE_FOLDERS : [])];
  const present = folders.filter((f) => existsSync(join(o.mediaRoot, f)));
  const lap = laps();
  const { files, skipped } = walkFolders(o.mediaRoot, present);
  lap('walk');
  if (skipped > 0) step(`backup: skipped ${skipped} entries that are not regular files (symlinks, sockets)`);
  const prev = previousMediaSnapshot(o.location);
  lap('previous index');
  const ops = planMedia(files, prev?.index);
  const plan = summarize(ops);
  step(`backup: media ${plan.files} files (${formatBytes(plan.bytes)}): ${plan.copy} to copy (${formatBytes(plan.copyBytes)}), ${plan.link} unchanged${prev ? ` since ${prev.backup.id}` : ''}`);
  resetDirCache();
  const mediaDir = join(partial, MEDIA_DIR);
  mkdirSync(mediaDir, { mode: DIR_MODE });
  await makeParentDirs(mediaDir, ops.map((op) => op.file.path), DIR_MODE);
  lap('directories');
  // Unchanged files: hard links to the previous snapshot (several at once: no data moves).
  const links = ops.filter((op) => op.kind === 'link');
  const failed = await linkAll(links.map((op) => ({ existing: join(prev!.backup.dir, MEDIA_DIR, op.file.path), dest: join(mediaDir, op.file.path) })));
  lap('hard links');
  const shaByPath = new Map<string, string>();
  links.forEach((op, i) => {
    if (!failed.has(i)) shaByPath.set(op.file.path, op.previous.sha256);
  });
  const linked = shaByPath.size;
  let copied = 0;
  let copiedBytes = 0;
  const index: IndexEntry[] = [];
  o.progress.start('media', plan.copyBytes);
  let sinceYield = 0;
  for (const op of ops) {
    const known = shaByPath.get(op.file.path);
    if (known !== undefined) {
      index.push({ ...op.file, sha256: known });
      continue;
    }
    const dest = join(mediaDir, op.file.path);
    const r = copyWithHash(join(o.mediaRoot, op.file.path), dest, { mode: FILE_MODE, dirMode: DIR_MODE, mtimeNs: op.file.mtimeNs, onBytes: (n) => o.progress.tick(n) });
    index.push({ ...op.file, size: r.bytes, sha256: r.sha256 });
    copied++;
    copiedBytes += r.bytes;
    // Let signals and the progress bar through now and then.
    if (++sinceYield >= 64) {
      sinceYield = 0;
      await new Promise((res) => setImmediate(res));
    }
  }
  o.progress.end();
  lap('copies');
  const indexFile = join(partial, MEDIA_INDEX_FILE);
  writeFileSync(indexFile, index.map(renderIndexLine).join(''), { mode: FILE_MODE, flag: 'wx' });
  const indexSha = await sha256Stream(indexFile);
  lap('index');
  const bytes = index.reduce((s, e) => s + e.size, 0);
  const durationMs = Date.now() - t0;
  step(`backup: media done in ${formatDuration(durationMs)}: ${copied} copied (${formatBytes(copiedBytes)}), ${linked} hard-linked`);
  return {
    folders: present,
    index: { file: MEDIA_INDEX_FILE, bytes: statSync(indexFile).size, sha256: indexSha },
    files: index.length,
    bytes,
    linked,
    copied,
    copiedBytes,
    previous: prev?.backup.id ?? null,
    durationMs,
  };
}

/** Phase timings on stderr with IMMICH_DISTRIBUTION_DEBUG=1. */
function laps(): (what: string) => void {
  let t = Date.now();
  return (what) => {
    if (debugEnabled()) step(`backup: [debug] ${what} ${Date.now() - t} ms`);
    t = Date.now();
  };
}
