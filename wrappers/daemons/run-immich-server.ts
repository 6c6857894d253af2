import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadEnvFile, waitForSockets } from '../../hooks-src/immich/daemon.js';
import { snapEnv } from '../../hooks-src/snap/env.js';
import { UserError } from '../../hooks-src/snap/errors.js';
import { execService } from '../../hooks-src/snap/exec-service.js';
import { runMain, wantsHelp } from '../../hooks-src/snap/main.js';
import { snapPaths } from '../../hooks-src/snap/paths.js';

/**
 * The `immich-server` daemon: waits for the Postgres and Redis sockets, then becomes Immich's own
 * `node dist/main.js` (its supervisor, which forks the api and microservices workers), with the
 * environment rendered by the hooks. The file is read here (0600 root) so the Redis password
 * never sits in a unit file or a world-readable place; the process environment of a root daemon
 * is readable by root only.
 */
runMain('run-immich-server', async () => {
  if (wantsHelp()) {
    process.stdout.write('run-immich-server: the immich-server daemon of immich-distribution (run by snapd)\n');
    return 0;
  }
  const paths = snapPaths(snapEnv());
  if (existsSync(paths.restoreJournal)) {
    throw new UserError('a restore was interrupted; Immich stays stopped until `sudo immich-distribution.restore --recover` has finished or undone it');
  }
  const env = loadEnvFile(paths.immichServerEnv);
  if (!existsSync(paths.immichServerMain)) throw new UserError(`${paths.immichServerMain} is missing; this snap was built without the Immich server`);
  await waitForSockets([join(paths.pgSocketDir, `.s.PGSQL.${env.DB_PORT ?? '5432'}`), paths.redisSocket]);
  execService({ file: paths.node, args: [paths.immichServerMain], env: { ...process.env, ...env } });
});
