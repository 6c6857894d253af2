import { spawn } from 'node:child_process';
import { UserError } from './errors.js';

/**
 * Runs a daemon in the foreground with inherited stdio (the service manager collects its logs),
 * forwards stop signals to it and resolves with the exit status the daemon command should use
 * (the child's code, or 128 + signal number when it was killed by a signal).
 */
export interface ForegroundOptions {
  file: string;
  args: readonly string[];
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
  /** Which signal each received signal becomes for the child. */
  forward: Partial<Record<NodeJS.Signals, NodeJS.Signals>>;
  /** How to deliver a signal to the child (e.g. as `_daemon_`); default process.kill. */
  signal?: (pid: number, signal: NodeJS.Signals) => void;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

export function runForeground(o: ForegroundOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(o.file, [...o.args], { stdio: 'inherit', uid: o.uid, gid: o.gid, env: o.env, cwd: '/' });
    const send = o.signal ?? ((pid: number, sig: NodeJS.Signals) => process.kill(pid, sig));
    const handlers = new Map<NodeJS.Signals, () => void>();
    for (const [received, sent] of Object.entries(o.forward) as Array<[NodeJS.Signals, NodeJS.Signals]>) {
      const h = () => {
        if (child.pid !== undefined && child.exitCode === null) {
          try {
            send(child.pid, sent);
          } catch (err) {
            process.stderr.write(`could not forward ${received} as ${sent}: ${(err as Error).message}\n`);
          }
        }
      };
      handlers.set(received, h);
      process.on(received, h);
    }
    const cleanup = () => {
      for (const [sig, h] of handlers) process.off(sig, h);
    };
    child.once('error', (err) => {
      cleanup();
      reject(new UserError(`cannot start ${o.file}: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolve(code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 1) : 1));
    });
  });
}
