// TEST DOUBLE of Immich v3.2.0's server/src/repositories/process.repository.ts
// `spawnDuplexStream` (index id 16968070176): spawn with the options passed through (so an `env`
// REPLACES the environment), stdin fed from a stream, stdout exposed, stderr collected, and a
// non-zero exit failing with `<command> non-zero exit code (<n>)\n<stderr>`.
// Simplified: a plain child process plus a `done` promise instead of a Duplex stream.
import { type SpawnOptionsWithoutStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface Spawned {
  stdout: Readable;
  done: Promise<void>;
}

export function spawnPiped(command: string, args: readonly string[], options: SpawnOptionsWithoutStdio = {}, input?: Readable): Spawned {
  const child = spawn(command, args, options);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // A process that exits early closes its stdin: drain the rest of the input (EPIPE is not an error here).
  child.stdin.on('error', () => undefined);
  let inputError: Error | undefined;
  if (input) {
    input.pipe(child.stdin);
    // A broken input (e.g. a corrupt .gz) stops the process instead of leaving it waiting.
    input.once('error', (error) => {
      inputError = error;
      child.kill('SIGTERM');
    });
  } else {
    child.stdin.end();
  }
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (inputError) reject(inputError);
      else if (code === 0) resolve();
      else reject(new Error(`${command} non-zero exit code (${code})\n${stderr}`));
    });
  });
  return { stdout: child.stdout, done };
}

/** Waits for every promise, then rethrows the first failure in order (nothing left running). */
export async function allOrFirstError(promises: Array<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
