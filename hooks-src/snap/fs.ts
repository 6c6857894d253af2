import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Ownership {
  uid: number;
  gid: number;
}

/**
 * Writes a file atomically: a temp file in the same directory, fsync, chmod/chown, rename.
 * A reader sees either the old content or the new, never half a file, even after SIGKILL.
 */
export function writeFileAtomic(path: string, content: string | Buffer, mode = 0o644, owner?: Ownership): void {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, typeof content === 'string' ? Buffer.from(content) : content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    chmodSync(tmp, mode);
    if (owner) chownSync(tmp, owner.uid, owner.gid);
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw err;
  }
}

/** Creates a directory (and parents) and enforces mode and owner on the last component. */
export function ensureDir(path: string, mode: number, owner?: Ownership): void {
  mkdirSync(path, { recursive: true, mode });
  chmodSync(path, mode);
  if (owner) {
    const st = statSync(path);
    if (st.uid !== owner.uid || st.gid !== owner.gid) chownSync(path, owner.uid, owner.gid);
  }
}
