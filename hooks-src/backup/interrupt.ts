import { stopRunning } from './database.js';

/**
 * SIGINT/SIGTERM (Ctrl-C, `snap stop`, a refresh stopping the timer) during a backup or restore.
 * - `exit` mode (backup): stop the child processes, run the registered cleanups (remove the
 *   partial backup, release the lock) and exit 130/143 at once.
 * - `abort` mode (restore): stop the child processes and remember the request; the running step
 *   then fails and the restore rolls back through its ordinary error path.
 */
const cleanups = new Set<() => void>();
let installed = false;
let requested: NodeJS.Signals | undefined;

export function onInterrupt(fn: () => void): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

export function interruptRequested(): NodeJS.Signals | undefined {
  return requested;
}

export function installInterruptHandlers(mode: 'exit' | 'abort'): void {
  if (installed) return;
  installed = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      requested = sig;
      stopRunning();
      if (mode === 'abort') return;
      for (const fn of cleanups) {
        try {
          fn();
        } catch {
          /* best effort */
        }
      }
      process.stderr.write(`\ninterrupted (${sig}); the partial backup was removed\n`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}
