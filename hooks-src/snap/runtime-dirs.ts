import { asDaemon } from './as-daemon.js';
import { ensureDirExact } from './files.js';
import type { SnapPaths } from './paths.js';
import { daemonUser } from './run-as.js';

/**
 * The runtime folders under $SNAP_COMMON/run (sockets, pid files). Snapshots leave them out
 * (snap/snapshots.yaml), so after `snap restore` nothing but the daemons themselves can recreate
 * them: the install hook and every daemon command call this before use (found under real snapd).
 */
export function ensureRuntimeDirs(paths: SnapPaths): void {
  const daemon = daemonUser();
  const dirs: Array<[string, number, { uid: number; gid: number }]> = [
    [paths.runDir, 0o755, { uid: 0, gid: 0 }],
    // Postgres' socket: anyone may reach it, pg_hba lets only root and _daemon_ in (peer).
    [paths.pgSocketDir, 0o755, { uid: daemon.uid, gid: daemon.gid }],
    // The private socket of a hook's temporary server: _daemon_ creates it, group root may connect.
    [paths.pgSetupSocketDir, 0o750, { uid: daemon.uid, gid: 0 }],
    [paths.redisSocketDir, 0o700, { uid: 0, gid: 0 }],
    [paths.haproxyRunDir, 0o700, { uid: 0, gid: 0 }],
  ];
  for (const [dir, mode, owner] of dirs) ensureDirExact(dir, mode, owner, asDaemon);
}
