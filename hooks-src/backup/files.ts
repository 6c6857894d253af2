import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readSync, readdirSync, statfsSync, utimesSync, writeSync, fchmodSync } from 'node:fs';
import { link, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { IndexEntry, SourceFile } from './plan.js';

/** Adapter: the media tree on disk (walk, copy while hashing, hard links, free space). */

const CHUNK = 1 << 20;

/**
 * Regular files under `root/<folder>` for each folder, as paths relative to root, sorted.
 * Symlinks, sockets and devices are skipped (Immich creates none); their count is returned.
 */
export function walkFolders(root: string, folders: readonly string[]): { files: SourceFile[]; skipped: number } {
  const files: SourceFile[] = [];
  let skipped = 0;
  const walk = (rel: string) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) {
        const st = lstatSync(join(root, r), { bigint: true });
        files.push({ path: r, size: Number(st.size), mtimeNs: st.mtimeNs, mode: Number(st.mode & 0o7777n) });
      } else skipped++;
    }
  };
  for (const f of folders) if (existsSync(join(root, f))) walk(f);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, skipped };
}

export function sha256File(path: string, onBytes?: (n: number) => void): string {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      onBytes?.(n);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

const madeDirs = new Set<string>();
function ensureParent(path: string, mode: number): void {
  const dir = path.slice(0, path.lastIndexOf('/'));
  if (madeDirs.has(dir)) return;
  mkdirSync(dir, { recursive: true, mode });
  madeDirs.add(dir);
}

/**
 * Copies `src` to a NEW file `dest` (never overwrites) with `mode`, hashing the bytes as they are
 * written: the returned sha256 is exactly what the copy holds. The copy gets the source's mtime.
 */
export function copyWithHash(src: string, dest: string, opts: { mode: number; dirMode: number; mtimeNs?: bigint; onBytes?: (n: number) => void }): { sha256: string; bytes: number } {
  ensureParent(dest, opts.dirMode);
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  const inFd = openSync(src, 'r');
  let bytes = 0;
  try {
    const outFd = openSync(dest, 'wx', opts.mode);
    try {
      fchmodSync(outFd, opts.mode);
      for (;;) {
        const n = readSync(inFd, buf, 0, CHUNK, null);
        if (n === 0) break;
        hash.update(buf.subarray(0, n));
        let off = 0;
        while (off < n) off += writeSync(outFd, buf, off, n - off);
        bytes += n;
        opts.onBytes?.(n);
      }
    } finally {
      closeSync(outFd);
    }
  } finally {
    closeSync(inFd);
  }
  if (opts.mtimeNs !== undefined) {
    const t = Number(opts.mtimeNs / 1000n) / 1e6; // seconds with microseconds
    utimesSync(dest, t, t);
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** A hard link `dest` to `existing` (same inode: no data is written). */
export function hardLink(existing: string, dest: string, dirMode: number): void {
  ensureParent(dest, dirMode);
  linkSync(existing, dest);
}

/** Bytes available to root-less writers on the filesystem holding `path`. */
export function freeBytes(path: string): number {
  const s = statfsSync(path);
  return Number(s.bavail) * Number(s.bsize);
}

/** fsync a directory so a rename inside it is durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Forget directories created earlier (a removed tree may be made again). */
export function resetDirCache(): void {
  madeDirs.clear();
}

export type { IndexEntry };

/** Runs `fn` over `items` with at most `limit` in flight (metadata operations overlap well). */
export async function parallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Creates the directories holding `relFiles` under `root` (parents first, one level at a time,
 * several at once). Directory creation, not data, dominates an incremental run over Immich's
 * deep `xx/yy/` layout, so it is done once per directory, without recursive mkdir's extra stats.
 */
export async function makeParentDirs(root: string, relFiles: readonly string[], mode: number): Promise<void> {
  const dirs = new Set<string>();
  for (const f of relFiles) {
    for (let d = dirname(f); d !== '.' && d !== '/' && !dirs.has(d); d = dirname(d)) dirs.add(d);
  }
  mkdirSync(root, { recursive: true, mode });
  const byDepth = new Map<number, string[]>();
  for (const d of dirs) {
    const depth = d.split('/').length;
    byDepth.set(depth, [...(byDepth.get(depth) ?? []), d]);
  }
  for (const depth of [...byDepth.keys()].sort((a, b) => a - b)) {
    await parallel(byDepth.get(depth)!, 16, async (d) => {
      try {
        await mkdir(join(root, d), { mode });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    });
  }
  for (const d of dirs) madeDirs.add(join(root, d));
  madeDirs.add(root);
}

/** Hard links, several at once; returns the pairs that could not be linked (to copy instead). */
export async function linkAll(pairs: ReadonlyArray<{ existing: string; dest: string }>): Promise<Set<number>> {
  const failed = new Set<number>();
  const indexed = pairs.map((p, i) => ({ ...p, i }));
  await parallel(indexed, 16, async (p) => {
    try {
      await link(p.existing, p.dest);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A different filesystem, the link limit, or the old copy is gone: the caller copies instead.
      if (code === 'EXDEV' || code === 'EMLINK' || code === 'ENOENT' || code === 'EPERM') failed.add(p.i);
      else throw err;
    }
  });
  return failed;
}
