import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * SCRAM-SHA-256 verifiers as Postgres stores them in pg_authid.rolpassword (RFC 5802/7677):
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
 *
 * Computing the verifier here means `ALTER ROLE … PASSWORD '<verifier>'` never sends the
 * password itself to the server, so it cannot end up in a server log or pg_stat_activity.
 *
 * Postgres applies SASLprep to the password; for ASCII (every generated secret) that is the
 * identity, and NFKC normalisation approximates it for other input.
 */
export const SCRAM_ITERATIONS = 4096;

function keys(password: string, salt: Buffer, iterations: number) {
  const salted = pbkdf2Sync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return {
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: createHmac('sha256', salted).update('Server Key').digest(),
  };
}

export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  const { storedKey, serverKey } = keys(password, salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

const VERIFIER = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;

/** True when `stored` is a SCRAM verifier of `password` (false for md5, NULL or anything else). */
export function scramMatches(stored: string | null | undefined, password: string): boolean {
  const m = stored ? VERIFIER.exec(stored) : null;
  if (!m) return false;
  const [, iter, salt, storedKey, serverKey] = m as unknown as [string, string, string, string, string];
  const k = keys(password, Buffer.from(salt, 'base64'), Number(iter));
  const a = Buffer.concat([k.storedKey, k.serverKey]);
  const b = Buffer.concat([Buffer.from(storedKey, 'base64'), Buffer.from(serverKey, 'base64')]);
  return a.length === b.length && timingSafeEqual(a, b);
}
