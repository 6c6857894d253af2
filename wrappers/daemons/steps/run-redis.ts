import { existsSync } from 'node:fs';
import { snapEnv } from '../../../hooks-src/snap/env.js';
import { UserError } from '../../../hooks-src/snap/errors.js';
import { execService } from '../../../hooks-src/snap/exec-service.js';
import { snapPaths } from '../../../hooks-src/snap/paths.js';
import { ensureRuntimeDirs } from '../../../hooks-src/snap/runtime-dirs.js';

/** The work of `bin/run-redis` past --help; what the daemon is: ../run-redis.ts. */
export async function runRedis(): Promise<number | void> {
  const paths = snapPaths(snapEnv());
  ensureRuntimeDirs(paths);
  if (!existsSync(paths.redisConf)) throw new UserError(`${paths.redisConf} is missing; the install hook did not complete (reinstall the snap)`);
  if (!existsSync(paths.redisServer)) throw new UserError(`${paths.redisServer} is missing; the snap is incomplete`);
  execService({ file: paths.redisServer, args: [paths.redisConf], env: process.env });
}
