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

export const runCommand: CommandRunner = async (file, args, options = {}) => {
  const result = await execa(file, [...args], {
    reject: false,
    stripFinalNewline: false,
    env: options.env,
    extendEnv: !options.replaceEnv,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : undefined,
    cwd: options.cwd,
    uid: options.uid,
    gid: options.gid,
    timeout: options.timeoutMs,
  });
  if (result.failed && result.exitCode === undefined) {
    // Could not start at all (ENOENT, EACCES) or killed by a signal/timeout.
    const why = result.timedOut ? 'timed out' : result.signal ? `killed by ${result.signal}` : result.shortMessage;
    return { exitCode: 127, stdout: String(result.stdout ?? ''), stderr: `${file}: ${why}\n` };
  }
  return { exitCode: result.exitCode ?? 1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
};
