import { execa } from 'execa';

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

export const runCommand: CommandRunner = async (file0, args0, options = {}) => {
  const { file, args, cwd } = afterUserSwitch(file0, args0, options);
  const result = await execa(file, args, {
    reject: false,
    stripFinalNewline: false,
    env: options.env,
    extendEnv: !options.replaceEnv,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : undefined,
    cwd,
    uid: options.uid,
    gid: options.gid,
    timeout: options.timeoutMs,
  });
  if (result.failed && result.exitCode === undefined) {
    // Could not start at all (ENOENT, EACCES) or killed by a signal/timeout.
    const why = result.timedOut ? 'timed out' : result.signal ? `killed by ${result.signal}` : result.shortMessage;
    return { exitCode: 127, stdout: String(result.stdout ?? ''), stderr: `${file0}: ${why}\n` };
  }
  return { exitCode: result.exitCode ?? 1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
};
