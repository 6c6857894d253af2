import { existsSync } from 'node:fs';
import { snapEnv } from '../../hooks-src/snap/env.js';
import { UserError } from '../../hooks-src/snap/errors.js';
import { execService } from '../../hooks-src/snap/exec-service.js';
import { runMain, wantsHelp } from '../../hooks-src/snap/main.js';
import { snapPaths } from '../../hooks-src/snap/paths.js';
import { ensureRuntimeDirs } from '../../hooks-src/snap/runtime-dirs.js';

/**
 * The `redis` daemon: prepares the runtime folder, then becomes redis-server (as root, like every
 * snap daemon but Postgres) with the rendered redis.conf, in the foreground. snapd's SIGTERM
 * (`stop-mode: sigterm`) reaches Redis itself: it flushes the append-only file, writes a final
 * snapshot and exits 0.
 */
runMain('run-redis', async () => {
  if (wantsHelp()) {
    process.stdout.write('run-redis: the redis daemon of immich-distribution (run by snapd)\n');
    return 0;
  }
  const paths = snapPaths(snapEnv());
  ensureRuntimeDirs(paths);
  if (!existsSync(paths.redisConf)) throw new UserError(`${paths.redisConf} is missing; the install hook did not complete (reinstall the snap)`);
  if (!existsSync(paths.redisServer)) throw new UserError(`${paths.redisServer} is missing; the snap is incomplete`);
  execService({ file: paths.redisServer, args: [paths.redisConf], env: process.env });
});
