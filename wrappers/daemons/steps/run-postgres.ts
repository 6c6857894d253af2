import { existsSync } from 'node:fs';
import { clusterState } from '../../../hooks-src/postgres/cluster.js';
import { snapEnv } from '../../../hooks-src/snap/env.js';
import { UserError } from '../../../hooks-src/snap/errors.js';
import { execService } from '../../../hooks-src/snap/exec-service.js';
import { type SnapPaths, shippedPgMajors, snapPaths } from '../../../hooks-src/snap/paths.js';
import { daemonUser } from '../../../hooks-src/snap/run-as.js';
import { ensureRuntimeDirs } from '../../../hooks-src/snap/runtime-dirs.js';

/** The newest shipped major that has a complete cluster (older ones exist only to upgrade from). */
function pickCluster(paths: SnapPaths): { major: number; dir: string } {
  for (const major of shippedPgMajors(paths)) {
    const dir = paths.pgCluster(major);
    if (clusterState(dir) === 'complete') return { major, dir };
  }
  throw new UserError(`no database cluster in ${paths.pgClustersDir}; the install hook did not complete (reinstall the snap)`);
}

/** The work of `bin/run-postgres` past --help; what the daemon is: ../run-postgres.ts. */
export async function runPostgres(): Promise<number | void> {
  const paths = snapPaths(snapEnv());
  ensureRuntimeDirs(paths);
  const { major, dir } = pickCluster(paths);
  if (!existsSync(paths.pgConf)) throw new UserError(`${paths.pgConf} is missing; the install hook did not complete (reinstall the snap)`);
  execService({
    file: paths.pgBin(major, 'postgres'),
    args: ['-D', dir, '-c', `config_file=${paths.pgConf}`],
    env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
    user: daemonUser(),
  });
}
