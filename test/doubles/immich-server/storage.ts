// TEST DOUBLE of Immich v3.2.0's server/src/services/storage.service.ts `onBootstrap`
// (index id 10266829878; StorageFolder and SystemMetadataKey from enum.ts, index id 52527541635),
// per docs/upstream/immich-runtime.md §4: mount-check markers and the media-location check.
// Simplified: the media-location migration rewrites only asset."originalPath".
import { existsSync, mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Database, DatabaseLock } from './database.js';
import type { ImmichConfig } from './env.js';
import { Logger } from './log.js';
import type { DoubleState } from './state.js';
import { getMetadata, setMetadata } from './system-metadata.js';

export const STORAGE_FOLDERS = ['encoded-video', 'library', 'upload', 'profile', 'thumbs', 'backups'] as const;
export type StorageFolder = (typeof STORAGE_FOLDERS)[number];

const docsMessage = 'Please see https://immich.app/docs/administration/system-integrity#folder-checks for more information.';

/** Thrown for the start-up errors Immich calls ImmichStartupError (logged, then exit 1). */
export class ImmichStartupError extends Error {}

export function detectMediaLocation(config: ImmichConfig): string {
  if (config.storage.mediaLocation) return config.storage.mediaLocation;
  const targets = ['/data', '/usr/src/app/upload'].filter((candidate) => existsSync(candidate));
  return targets.length === 1 ? targets[0]! : '/usr/src/app/upload';
}

export function baseFolder(mediaLocation: string, folder: StorageFolder): string {
  return join(mediaLocation, folder);
}

interface SystemFlags {
  mountChecks: Partial<Record<StorageFolder, boolean>>;
}

export async function storageBootstrap(db: Database, config: ImmichConfig, mediaLocation: string, state: DoubleState): Promise<void> {
  const log = new Logger('StorageService');
  state.mediaLocation = mediaLocation;

  await db.withLock(DatabaseLock.SystemFileMounts, async () => {
    const flags = (await getMetadata<SystemFlags>(db, 'system-flags')) ?? { mountChecks: {} };
    flags.mountChecks ??= {};
    let updated = false;
    log.log(`Verifying system mount folder checks, current state: ${JSON.stringify(flags)}`);
    try {
      for (const folder of STORAGE_FOLDERS) {
        const folderPath = baseFolder(mediaLocation, folder);
        const internalPath = join(folderPath, '.immich');
        const externalPath = `<UPLOAD_LOCATION>/${folder}/.immich`;
        let created = false;
        if (!flags.mountChecks[folder]) {
          log.log(`Writing initial mount file for the ${folder} folder`);
          created = await createMountFile(folderPath, internalPath, externalPath, log);
        }
        let previous: string;
        try {
          previous = await readFile(internalPath, 'utf8');
        } catch (error) {
          log.error(`Failed to read (${internalPath}): ${String(error)}`);
          throw new ImmichStartupError(`Failed to read: "${externalPath} (${internalPath}) - ${docsMessage}"`);
        }
        const written = `${Date.now()}`;
        try {
          await writeFile(internalPath, written, { flag: 'w' });
        } catch (error) {
          log.error(`Failed to write ${internalPath}: ${String(error)}`);
          throw new ImmichStartupError(`Failed to write "${externalPath} - ${docsMessage}"`);
        }
        state.markers.push({ folder, created, previous: created ? null : previous, written });
        if (!flags.mountChecks[folder]) {
          flags.mountChecks[folder] = true;
          updated = true;
        }
      }
      if (updated) {
        await setMetadata(db, 'system-flags', flags);
        log.log('Successfully enabled system mount folders checks');
      }
      log.log('Successfully verified system mount folder checks');
    } catch (error) {
      if (!config.storage.ignoreMountCheckErrors) throw error;
      log.error(String(error));
      log.warn('Ignoring mount folder errors');
      state.mountChecksIgnored = (error as Error).message;
    }
  });

  await db.withLock(DatabaseLock.MediaLocation, async () => {
    const { rows } = await db.query<{ path: string }>('SELECT "originalPath" AS path FROM asset LIMIT 3');
    const saved = await getMetadata<{ location: string }>(db, 'MediaLocation');
    const sample = rows[0]?.path;
    if (sample) {
      let previous = saved?.location || '';
      if (!previous && config.storage.mediaLocation) previous = mediaLocation;
      if (!previous) previous = sample.startsWith('upload/') ? 'upload' : '/usr/src/app/upload';
      if (previous !== mediaLocation) {
        log.log(`Media location changed (from=${previous}, to=${mediaLocation})`);
        if (!sample.startsWith(previous)) {
          throw new Error('Detected an inconsistent media location. For more information, see https://immich.app/errors#inconsistent-media-location');
        }
        log.warn(`Detected a change to media location, performing an automatic migration of file paths from ${previous} to ${mediaLocation}, this may take awhile`);
        const from = previous.replace(/\/$/, '');
        await db.query(`UPDATE asset SET "originalPath" = $2 || substr("originalPath", length($1) + 1) WHERE "originalPath" LIKE $1 || '%'`, [
          from,
          mediaLocation.replace(/\/$/, ''),
        ]);
      }
    }
    if (saved?.location !== mediaLocation) await setMetadata(db, 'MediaLocation', { location: mediaLocation });
  });
}

/** true when the marker was created now; an existing one is left (EEXIST only warns). */
async function createMountFile(folderPath: string, internalPath: string, externalPath: string, log: Logger): Promise<boolean> {
  try {
    if (!existsSync(folderPath)) mkdirSync(folderPath, { recursive: true });
    await writeFile(internalPath, `${Date.now()}`, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      log.warn('Found existing mount file, skipping creation');
      return false;
    }
    log.error(`Failed to create ${internalPath}: ${String(error)}`);
    throw new ImmichStartupError(`Failed to create "${externalPath} - ${docsMessage}"`);
  }
}
