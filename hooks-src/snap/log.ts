/**
 * Progress lines go to stderr: snapd keeps hook output only when a hook fails, and then the last
 * 100 lines / 10 KiB are what the user sees. Keep lines short and never include a secret.
 */
export function step(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function debugEnabled(): boolean {
  return process.env.IMMICH_DISTRIBUTION_DEBUG === '1';
}
