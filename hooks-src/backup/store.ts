import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE, MEDIA_INDEX_FILE, type Manifest, parseIndex, parseManifest } from './manifest.js';
import { compareIds, isBackupId, isPartialName } from './naming.js';
import type { IndexEntry } from './plan.js';

/** Adapter: the backups in one location. */

export interface StoredBackup {
  id: string;
  dir: string;
  manifest?: Manifest;
  /** Why the manifest could not be read (an incomplete or damaged backup). */
  problem?: string;
}

/** Every backup directory in `location`, oldest first; partial ones are not listed. */
export function listBackups(location: string): StoredBackup[] {
  if (!existsSync(location)) return [];
  return readdirSync(location)
    .filter(isBackupId)
    .sort(compareIds)
    .map((id) => {
      const dir = join(location, id);
      try {
        return { id, dir, manifest: parseManifest(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) };
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        return { id, dir, problem: e.code === 'ENOENT' ? 'no manifest.json (incomplete)' : e.message };
      }
    });
}

/** The newest complete backup that holds media, and its index (for hard links). */
export function previousMediaSnapshot(location: string): { backup: StoredBackup; index: Map<string, IndexEntry> } | undefined {
  const withMedia = listBackups(location).filter((b) => b.manifest?.media);
  for (const b of withMedia.reverse()) {
    try {
      const entries = parseIndex(readFileSync(join(b.dir, MEDIA_INDEX_FILE), 'utf8'));
      return { backup: b, index: new Map(entries.map((e) => [e.path, e])) };
    } catch {
      /* damaged index: try an older one */
    }
  }
  return undefined;
}

/** Removes partial backups left by an interrupted run (call only while holding the lock). */
export function removePartials(location: string): string[] {
  if (!existsSync(location)) return [];
  const gone = readdirSync(location).filter(isPartialName);
  for (const name of gone) rmSync(join(location, name), { recursive: true, force: true });
  return gone;
}

/** Resolves what the user typed: a backup id in `location`, or a path to a backup directory. */
export function resolveBackup(location: string, arg: string): string {
  if (isBackupId(arg)) return join(location, arg);
  return arg;
}
