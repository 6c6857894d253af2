import { UserError, oneLine } from './errors.js';
import { debugEnabled } from './log.js';

/**
 * Runs an entry point: success exits 0; a failure prints ONE line (`<name>: <what is wrong>`) and
 * exits non-zero. Stack traces only with IMMICH_DISTRIBUTION_DEBUG=1.
 */
export function runMain(name: string, main: () => Promise<number | void>): void {
  main().then(
    (code) => {
      process.exitCode = typeof code === 'number' ? code : 0;
    },
    (err: unknown) => {
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
