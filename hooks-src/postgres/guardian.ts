import { spawn } from 'node:child_process';
import type { SnapPaths } from '../snap/paths.js';
import { daemonUser } from '../snap/run-as.js';

/**
 * A guardian for the servers a hook starts. `pg_ctl start` (ours, and pg_upgrade's own) puts the
 * postmaster in a new session (setsid), so when snapd kills a hook that timed out (SIGKILL to the
 * hook's process group) the temporary server survives, holds the cluster's postmaster.pid, and the
 * previous revision's postgres daemon cannot start after snapd's undo. The guardian is a tiny
 * detached process that waits for the hook to exit (however it exits) and then stops, with a fast
 * shutdown, every postmaster on the given clusters whose socket is one of the hooks' private
 * directories, never the service's (its socket is elsewhere). On a normal exit nothing is running any more and it just ends.
 */
const SCRIPT = `
const { readFileSync } = require('node:fs');
const cfg = JSON.parse(process.argv[1]);
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
function asDaemon(fn) {
  const root = process.geteuid && process.geteuid() === 0;
  try { if (root) { process.setegid(cfg.gid); process.seteuid(cfg.uid); } return fn(); }
  catch { return undefined; }
  finally { if (root) { process.seteuid(0); process.setegid(0); } }
}
function sweep() {
  const pids = [];
  for (const dir of cfg.dirs) {
    const lines = asDaemon(() => readFileSync(dir + '/postmaster.pid', 'utf8').split('\\n'));
    if (!lines || !cfg.privateSockets.includes((lines[4] || '').trim())) continue;
    const pid = Number(lines[0]);
    // SIGINT: the postmaster's fast shutdown (a shutdown checkpoint, a clean pg_control).
    if (pid > 0 && asDaemon(() => { process.kill(pid, 'SIGINT'); return true; })) pids.push(pid);
  }
  const until = Date.now() + 120000;
  (function wait() { if (pids.some(alive) && Date.now() < until) setTimeout(wait, 100); else process.exit(0); })();
}
(function tick() { if (alive(cfg.pid)) setTimeout(tick, 100); else sweep(); })();
`;

/**
 * `dirs`: every cluster directory a server of the hook (or of pg_upgrade) may run on. The guardian
 * signals postmasters directly (SIGINT, as `_daemon_`) instead of running pg_ctl: after a failed
 * refresh snapd removes the new revision, binaries included, while the guardian is still at work.
 */
export function startGuardian(paths: SnapPaths, dirs: string[]): void {
  const { uid, gid } = daemonUser();
  const cfg = { pid: process.pid, uid, gid, dirs, privateSockets: [paths.pgSetupSocketDir, paths.pgUpgradeWork] };
  const child = spawn(process.execPath, ['-e', SCRIPT, JSON.stringify(cfg)], { detached: true, stdio: 'ignore', cwd: '/' });
  child.unref();
}
