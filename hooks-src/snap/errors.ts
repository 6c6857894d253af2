/**
 * An error meant for a person: its message is one line that says what is wrong and what to do.
 * Entry points print it without a stack trace (unless IMMICH_DISTRIBUTION_DEBUG=1).
 */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'UserError';
  }
}

/** Message of any thrown value, reduced to its first line. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown error';
}
