import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, chmodSync } from 'node:fs';
import { UserError } from '../snap/errors.js';
import { ensureDir, writeFileAtomic } from '../snap/fs.js';
import type { SecretName, SnapPaths } from '../snap/paths.js';

/**
 * Secrets live in $SNAP_COMMON/secrets (0700 root), one 0600 root file each, beside the data they
 * unlock, so a revert never pairs old secrets with new data. A secret is created once (32 random
 * bytes, base64url: 43 URL-safe characters, 256 bits) and reused on every later run. The value is
 * never logged or printed; error messages name the file, never the content.
 */

export const SECRET_BYTES = 32;

/** What a usable secret looks like: one line of printable ASCII without spaces or quotes. */
const USABLE = /^[\x21\x23-\x26\x28-\x7e]{16,}$/;

export function newSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

export function ensureSecretsDir(paths: SnapPaths): void {
  ensureDir(paths.secretsDir, 0o700);
}

/** Reads a secret; undefined when the file does not exist. */
export function readSecret(paths: SnapPaths, name: SecretName): string | undefined {
  const file = paths.secret(name);
  if (!existsSync(file)) return undefined;
  const value = readFileSync(file, 'utf8').replace(/\n$/, '');
  if (!USABLE.test(value)) {
    throw new UserError(`secret file ${file} is damaged (empty, too short or not one printable line); restore it from a backup or remove it and reinstall`);
  }
  return value;
}

/** Returns the secret, creating it (atomically, 0600) on first use. Fixes a too-open mode. */
export function ensureSecret(paths: SnapPaths, name: SecretName, generate: () => string = newSecret): string {
  ensureSecretsDir(paths);
  const existing = readSecret(paths, name);
  const file = paths.secret(name);
  if (existing !== undefined) {
    if ((statSync(file).mode & 0o777) !== 0o600) chmodSync(file, 0o600);
    return existing;
  }
  const value = generate();
  writeFileAtomic(file, value, 0o600);
  return value;
}
