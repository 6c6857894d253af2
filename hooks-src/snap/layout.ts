import { asDaemon } from './as-daemon.js';
import { ensureDirExact } from './files.js';
import type { SnapPaths } from './paths.js';
import { daemonUser } from './run-as.js';
import { ensureRuntimeDirs } from './runtime-dirs.js';

const ROOT = { uid: 0, gid: 0 };

/** Data layout and modes (docs/postgres.md, "Layout"): install, and post-refresh taking over the anchor's layout. */
export function createLayout(paths: SnapPaths): void {
  const daemon = daemonUser();
  const daemonOwned = { uid: daemon.uid, gid: daemon.gid };
  const dirs: Array<[string, number, { uid: number; gid: number }]> = [
    [paths.secretsDir, 0o700, ROOT],
    [paths.pgClustersDir, 0o700, daemonOwned],
    [paths.redisDir, 0o700, ROOT],
    [paths.defaultMedia, 0o750, ROOT],
    [paths.defaultBackups, 0o700, ROOT],
    [paths.mlCache, 0o700, ROOT],
    [paths.etcDir, 0o755, ROOT],
    // Rendered Postgres config: written by root, read by _daemon_ (group), nobody else.
    [paths.pgConfDir, 0o750, { uid: 0, gid: daemon.gid }],
  ];
  for (const [dir, mode, owner] of dirs) ensureDirExact(dir, mode, owner, asDaemon);
  ensureRuntimeDirs(paths);
}
