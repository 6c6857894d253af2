import { UserError, oneLine } from './errors.js';
import { debugEnabled } from './log.js';

/**
 * Runs an entry point: success exits 0; a failure prints ONE line (`<name>: <what is wrong>`) and
 * exits non-zero. Stack traces only with IMMICH_DISTRIBUTION_DEBUG=1.
 */
export function runMain(name: string, main: () => Promise<number | void>): void {
  let settled = false;
  // A promise that can never settle (nothing left on the event loop) must not pass for success.
  process.once('beforeExit', () => {
    if (settled) return;
    process.stderr.write(`${name}: internal error: stopped before finishing its work\n`);
    process.exitCode = 70;
  });
  main().then(
    (code) => {
      settled = true;
      process.exitCode = typeof code === 'number' ? code : 0;
    },
    (err: unknown) => {
      settled = true;
      if (debugEnabled() && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
      process.stderr.write(`${name}: ${oneLine(err)}\n`);
      process.exitCode = err instanceof UserError ? err.exitCode : 1;
    },
  );
}

/** True when argv asks for help; every executable answers `--help` without touching the system. */
export function wantsHelp(argv: string[] = process.argv.slice(2)): boolean {
  return argv.includes('--help') || argv.includes('-h');
}
