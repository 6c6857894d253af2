import { spawn } from 'node:child_process';

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
  uid?: number;
  gid?: number;
  timeoutMs?: number;
  /** Use `env` as the whole environment instead of adding it to ours. */
  replaceEnv?: boolean;
}

/** Runs a program without a shell and never throws on a non-zero exit (callers decide). */
export type CommandRunner = (file: string, args: readonly string[], options?: RunOptions) => Promise<RunResult>;

/**
 * libuv changes into `cwd` BEFORE it drops to `uid`: as root without DAC override (a strict snap)
 * that fails with EACCES for a directory only the target user may enter (pg_upgrade's 0700
 * `_daemon_` work directory). So a child that changes user starts in `/` and lets coreutils'
 * `env --chdir` change directory after the switch.
 */
function afterUserSwitch(file: string, args: readonly string[], options: RunOptions): { file: string; args: string[]; cwd: string | undefined } {
  if (options.uid === undefined || options.cwd === undefined || options.cwd === '/') return { file, args: [...args], cwd: options.cwd };
  return { file: '/usr/bin/env', args: [`--chdir=${options.cwd}`, '--', file, ...args], cwd: '/' };
}

/**
 * Node's own spawn rather than execa: the same behaviour for what we use (no shell, output kept
 * verbatim, never rejects on a non-zero exit, a time limit), without loading execa and its
 * dependencies at every start of a hook (docs/startup.md).
 */
export const runCommand: CommandRunner = (file0, args0, options = {}) => {
  const { file, args, cwd } = afterUserSwitch(file0, args0, options);
  return new Promise((resolve) => {
    const env = options.replaceEnv ? options.env : options.env === undefined ? process.env : { ...process.env, ...options.env };
    const child = spawn(file, args, {
      env,
      cwd,
      uid: options.uid,
      gid: options.gid,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
            killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          }, options.timeoutMs);
    let failedToStart: Error | undefined;
    child.on('error', (e) => {
      failedToStart = e;
    });
    if (options.input !== undefined && child.stdin) {
      // A child that exits without reading its input must not fail us with EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (failedToStart || code === null) {
        // Could not start at all (ENOENT, EACCES) or killed by a signal/timeout.
        const why = timedOut ? 'timed out' : failedToStart ? oneLineError(file, failedToStart) : `killed by ${String(signal)}`;
        resolve({ exitCode: 127, stdout, stderr: `${file0}: ${why}\n` });
        return;
      }
      resolve({ exitCode: code, stdout, stderr });
    });
  });
};

function oneLineError(file: string, e: NodeJS.ErrnoException): string {
  return e.code ? `Command failed with ${e.code}: ${file}` : e.message.split('\n')[0] ?? String(e);
}
