import { type ParseArgsConfig, parseArgs } from 'node:util';
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

/** node:util's parseArgs for a command: a mistake in the arguments is one line and exit 2 (usage). */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UserError(`${(err as Error).message.split('\n')[0]} (see --help)`, 2);
  }
}

/** One executable, declared once: what `--help` prints, and the work it loads past `--help`. */
export interface Entry {
  /** Names the executable in its one-line errors (`<name>: <what is wrong>`). */
  name: string;
  /** Printed as-is for `--help`/`-h`, before anything else is evaluated (docs/startup.md). */
  usage: string;
  /**
   * For wrappers of another program (psql, Immich's admin CLI): a lone `--help` prints the usage
   * and then, inside the snap, goes on to the program, which prints its own help after ours.
   */
  programHelpFollows?: boolean;
  run: (argv: string[]) => Promise<number | void>;
}

/** Runs an entry through runMain: `--help` answered from `usage`, otherwise its work. */
export function runEntry(e: Entry): void {
  runMain(e.name, async () => {
    const argv = process.argv.slice(2);
    if (e.programHelpFollows) {
      if (argv.length === 1 && wantsHelp(argv)) {
        process.stdout.write(e.usage);
        // Outside the snap (or a copy of the file on its own) there is no program to ask.
        if (!process.env.SNAP || !(await import('./env.js')).SnapEnvSchema.safeParse(process.env).success) return 0;
      }
    } else if (wantsHelp(argv)) {
      process.stdout.write(e.usage);
      return 0;
    }
    return e.run(argv);
  });
}
