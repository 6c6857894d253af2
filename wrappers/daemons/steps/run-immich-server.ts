import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadEnvFile, waitForSockets } from '../../../hooks-src/immich/daemon.js';
import { snapEnv } from '../../../hooks-src/snap/env.js';
import { UserError } from '../../../hooks-src/snap/errors.js';
import { execService } from '../../../hooks-src/snap/exec-service.js';
import { snapPaths } from '../../../hooks-src/snap/paths.js';

/** The work of `bin/run-immich-server` past --help; what the daemon is: ../run-immich-server.ts. */
export async function runImmichServer(): Promise<number | void> {
  const paths = snapPaths(snapEnv());
  if (existsSync(paths.restoreJournal)) {
    throw new UserError('a restore was interrupted; Immich stays stopped until `sudo immich-distribution.restore --recover` has finished or undone it');
  }
  const env = loadEnvFile(paths.immichServerEnv);
  if (!existsSync(paths.immichServerMain)) throw new UserError(`${paths.immichServerMain} is missing; this snap was built without the Immich server`);
  await waitForSockets([join(paths.pgSocketDir, `.s.PGSQL.${env.DB_PORT ?? '5432'}`), paths.redisSocket]);
  execService({ file: paths.node, args: [paths.immichServerMain], env: { ...process.env, ...env } });
}
