import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { type Ownership, writeFileAtomic } from './fs.js';

/**
 * Writes a file atomically only when its content differs, and enforces mode and owner either way.
 * Hooks call this for every rendered file so that a rerun leaves the files byte-identical and
 * untouched (same inode, same mtime). Returns true when the content changed.
 */
export function writeFileIfChanged(path: string, content: string | Buffer, mode: number, owner?: Ownership): boolean {
  const next = typeof content === 'string' ? Buffer.from(content) : content;
  if (existsSync(path)) {
    const st = statSync(path);
    if (st.isFile() && readFileSync(path).equals(next)) {
      if ((st.mode & 0o7777) !== mode) chmodSync(path, mode);
      if (owner && (st.uid !== owner.uid || st.gid !== owner.gid)) chownSync(path, owner.uid, owner.gid);
      return false;
    }
  }
  writeFileAtomic(path, next, mode, owner);
  return true;
}

/**
 * Creates a directory (and missing parents, as root) and makes its mode and owner exactly these.
 * Unlike ensureDir it changes nothing that is already right, and it changes the mode of a
 * directory owned by `_daemon_` AS that user: confined root has no CAP_FOWNER, so it may chown
 * (CAP_CHOWN is granted) but not chmod someone else's directory.
 */
export function ensureDirExact(path: string, mode: number, owner: Ownership, asOwner: <T>(fn: () => T) => T = (fn) => fn()): void {
  const me = process.geteuid?.();
  mkdirSync(path, { recursive: true, mode });
  let st = statSync(path);
  // While we still own it, set the mode ourselves; after a chown only the new owner may.
  if ((st.mode & 0o7777) !== mode && st.uid === me) chmodSync(path, mode);
  if (st.uid !== owner.uid || st.gid !== owner.gid) chownSync(path, owner.uid, owner.gid);
  st = statSync(path);
  if ((st.mode & 0o7777) !== mode) {
    if (st.uid === me) chmodSync(path, mode);
    else asOwner(() => chmodSync(path, mode));
  }
}
