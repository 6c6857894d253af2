import { UserError } from './errors.js';

/**
 * The last step of every long-running daemon's wrapper (bin/run-*): replace this Node process
 * with the service itself (execve(2), Node's `process.execve`, Node ≥ 22.15 / 23.11; the snap
 * ships Node 24). From then on the service IS the unit's main process: systemd (snapd's
 * `stop-mode`) signals it directly, no Node of ours stays resident, and nothing sits between the
 * service and its signals.
 *
 * What crosses the exec: the pid, stdin/stdout/stderr (the journal), the environment given here,
 * the credentials set here, and signal dispositions that are SIG_IGN. Node ignores SIGPIPE and
 * SIGXFSZ; every service we exec ignores both itself anyway (postmaster, redis-server, HAProxy,
 * CPython and Node all set them to SIG_IGN on start), so nothing changes for them. Node's own
 * handlers are reset by the kernel, and every other descriptor Node opened is close-on-exec.
 */
export interface ServiceExec {
  file: string;
  /** Arguments after argv[0] (argv[0] is `file`). */
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  /**
   * Run the service as this user: supplementary groups dropped, then gid, then uid, as snapd's
   * system-usernames documentation prescribes (its seccomp filter allows exactly setgroups(0, …)
   * and the snap's own user). Only when running as root; elsewhere the service keeps our user.
   */
  user?: { uid: number; gid: number };
}

export function execService(s: ServiceExec): never {
  if (typeof process.execve !== 'function') {
    throw new UserError(`Node ${process.version} cannot hand over to ${s.file} (process.execve needs Node 22.15 or later); run the daemon with the Node the snap ships`);
  }
  if (s.user && process.geteuid?.() === 0) {
    process.setgroups?.([]);
    process.setgid?.(s.user.gid);
    process.setuid?.(s.user.uid);
  }
  try {
    return process.execve(s.file, [s.file, ...s.args], definedOnly(s.env));
  } catch (err) {
    // execve(2) failed: we are still here (and may already be the service's user).
    throw new UserError(`cannot start ${s.file}: ${(err as Error).message}`);
  }
}

/** process.env's type allows undefined values; execve takes strings only. */
function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
