import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '../snap/errors.js';
import { step } from '../snap/log.js';
import { parseEnvFile } from './env.js';

/** Reads a rendered environment file (0600 root for the server: it holds the Redis password). */
export function loadEnvFile(path: string): Record<string, string> {
  if (!existsSync(path)) throw new UserError(`${path} is missing; the install hook did not complete (reinstall the snap)`);
  return parseEnvFile(readFileSync(path, 'utf8'));
}

/**
 * Waits until each path exists (the Postgres and Redis sockets), so Immich does not crash-loop
 * while its dependencies start: snapd's `after:` orders start-up but does not wait for readiness.
 * Gives up after `timeoutMs` and lets Immich report the real error.
 */
export async function waitForSockets(paths: string[], timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    const missing = paths.filter((p) => !existsSync(p));
    if (missing.length === 0) return;
    if (Date.now() > end) {
      step(`still waiting for ${missing.join(', ')}; starting anyway`);
      return;
    }
    if (!announced) {
      step(`waiting for ${missing.join(', ')}`);
      announced = true;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
