import { statSync } from 'node:fs';
import { daemonUser } from './run-as.js';

/**
 * Runs a SYNCHRONOUS function with the effective uid/gid of `_daemon_`, then returns to root.
 *
 * Why: under strict confinement root has no CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH or CAP_KILL
 * (snapd's AppArmor template omits them on purpose so that DAC applies to root too). Root can
 * therefore neither look inside the 0700 `_daemon_`-owned Postgres directories nor signal the
 * postgres process. snapd's own advice is to temporarily drop to the owning user (seteuid), act,
 * and raise again; the real and saved uid stay 0, so raising needs no capability.
 * Outside root (unit tests, a developer's shell) the function simply runs as the current user.
 */
/** How to touch a directory's files: as their owner (asDaemon for ours, asUser for another). */
export type AsOwner = <T>(fn: () => T) => T;

export function asDaemon<T>(fn: () => T): T {
  return asUser(daemonUser(), fn);
}

/** asDaemon for another owner (the anchor snap's `snap_daemon`, whose files only it can read). */
export function asUser<T>(user: { uid: number; gid: number }, fn: () => T): T {
  const { geteuid, seteuid, setegid } = process;
  if (!geteuid || !seteuid || !setegid || geteuid() !== 0) return fn();
  const { uid, gid } = user;
  setegid(gid);
  seteuid(uid);
  try {
    return fn();
  } finally {
    seteuid(0);
    setegid(0);
  }
}

/**
 * Whether a path exists, decided with stat(2), which resolves the path with the EFFECTIVE uid.
 * Use it (never fs.existsSync) inside asDaemon: existsSync is access(2), which checks the REAL uid
 * (root) and, in a strict snap where root has no DAC override, says false for everything inside
 * `_daemon_`'s 0700 directories (found under real snapd: test/e2e/README.md).
 */
export function pathExists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false }) !== undefined;
}

/** Sends a signal (0: only check it exists) to a `_daemon_` process (see asDaemon), or as `as` says. False if it is gone. */
export function signalDaemonProcess(pid: number, signal: NodeJS.Signals | 0, as: AsOwner = asDaemon): boolean {
  try {
    as(() => process.kill(pid, signal));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
