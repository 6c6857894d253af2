import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../snap/errors.js';
import type { Snapctl } from '../snap/snapctl.js';

/** Immich's folders under the media location; each carries a `.immich` marker once Immich used it. */
export const MEDIA_FOLDERS = ['library', 'upload', 'thumbs', 'encoded-video', 'profile', 'backups'] as const;

/** True when the folder holds Immich media (a marker, or any file in an originals folder). */
export function holdsMedia(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return MEDIA_FOLDERS.some((f) => existsSync(join(dir, f, '.immich'))) || ['library', 'upload', 'profile'].some((f) => nonEmpty(join(dir, f)));
}

function nonEmpty(dir: string): boolean {
  try {
    return readdirSync(dir).some((e) => e !== '.immich');
  } catch {
    return false;
  }
}

/** Outside $SNAP_COMMON a strict snap reaches /media and /mnt only through removable-media. */
export function needsRemovableMedia(path: string): boolean {
  return /^\/(media|mnt)(\/|$)/.test(path);
}

/**
 * SPEC §5: a new media.location/backup.location must be reachable (removable-media connected for
 * /media, /mnt), writable, and — for media — must already hold the data when there is data: the
 * hook never moves or deletes photos; the person moves them and then points the setting there.
 */
export async function checkLocation(opts: {
  key: 'media.location' | 'backup.location';
  from: string | undefined;
  to: string;
  snapctl: Snapctl;
}): Promise<void> {
  const { key, from, to } = opts;
  if (needsRemovableMedia(to) && !(await opts.snapctl.isConnected('removable-media'))) {
    throw new UserError(`${key}: ${to} is outside the snap's folders; run \`sudo snap connect immich-distribution:removable-media\` first`);
  }
  try {
    mkdirSync(to, { recursive: true, mode: key === 'backup.location' ? 0o700 : 0o750 });
    const probe = join(to, `.immich-distribution-write-test-${process.pid}`);
    writeFileSync(probe, 'ok');
    rmSync(probe);
  } catch (err) {
    throw new UserError(`${key}: ${to} is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'}); check the disk is mounted and writable`);
  }
  if (key === 'media.location' && from !== undefined && from !== to && holdsMedia(from) && !holdsMedia(to)) {
    throw new UserError(`${key}: ${from} holds your media but ${to} does not; copy it there first (e.g. sudo rsync -a ${from}/ ${to}/), then set ${key} again. Nothing was moved`);
  }
}
