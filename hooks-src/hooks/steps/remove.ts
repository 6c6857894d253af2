import { existsSync } from 'node:fs';
import { recoverCluster, listClusters, readControl } from '../../postgres/upgrade.js';
import { runningPostmaster } from '../../postgres/cluster.js';
import { snapEnv } from '../../snap/env.js';
import { oneLine } from '../../snap/errors.js';
import { step } from '../../snap/log.js';
import { shippedPgMajors, snapPaths } from '../../snap/paths.js';

/**
 * The remove hook. snapd has stopped the services; after this hook it takes the automatic snapshot
 * of $SNAP_DATA and $SNAP_COMMON (minus snap/snapshots.yaml's exclusions), then deletes them.
 * What matters is that the snapshot holds a consistent database: for every cluster, pg_control
 * must say "shut down". A cluster that is not (the service was killed, power cut) is started on
 * the private socket and stopped again, which replays its WAL and writes a shutdown checkpoint.
 * If that is impossible (its major is not shipped, or it fails) the cluster is left as it is: it
 * is still crash-consistent (the WAL is in the snapshot) and Postgres recovers it when the
 * snapshot is restored and started; the hook says so. Nothing is ever deleted here. snapd ignores
 * this hook's exit status; it exits 0.
 */
export async function remove(): Promise<number> {
  const paths = snapPaths(snapEnv());
  const shipped = shippedPgMajors(paths);
  const clusters = listClusters(paths).map((c) => ({ ...c, dir: paths.pgCluster(c.major) }));
  if (existsSync(paths.anchorPgData)) {
    try {
      const c = readControl(paths.anchorPgData);
      step(`remove: the previous layout's cluster ${paths.anchorPgData} is ${c.state}`);
    } catch {
      /* not a cluster */
    }
  }
  for (const c of clusters) {
    let state = c.state;
    if (state === 'shut down') {
      step(`remove: PostgreSQL ${c.major} was shut down cleanly; consistent for the snapshot`);
      continue;
    }
    const live = runningPostmaster(c.dir);
    step(`remove: PostgreSQL ${c.major} is "${state}"${live ? ` and still running (pid ${live.pid})` : ' (not shut down cleanly)'}`);
    if (!shipped.includes(c.major)) {
      step(`remove: PostgreSQL ${c.major} is not shipped by this revision; left crash-consistent (its WAL is in the snapshot; Postgres recovers it on its next start)`);
      continue;
    }
    try {
      state = await recoverCluster(paths, c.major, c.dir);
      step(`remove: PostgreSQL ${c.major} recovered and stopped: ${state}`);
    } catch (err) {
      step(`remove: could not recover PostgreSQL ${c.major} (${oneLine(err)}); left crash-consistent (its WAL is in the snapshot; Postgres recovers it on its next start)`);
    }
  }
  return 0;
}
