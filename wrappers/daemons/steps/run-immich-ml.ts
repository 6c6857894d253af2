import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadEnvFile } from '../../../hooks-src/immich/daemon.js';
import { snapEnv } from '../../../hooks-src/snap/env.js';
import { UserError } from '../../../hooks-src/snap/errors.js';
import { execService } from '../../../hooks-src/snap/exec-service.js';
import { snapPaths } from '../../../hooks-src/snap/paths.js';

/** The work of `bin/run-immich-ml` past --help; what the daemon is: ../run-immich-ml.ts. */
export async function runImmichMl(): Promise<number | void> {
  const paths = snapPaths(snapEnv());
  const env = loadEnvFile(paths.immichMlEnv);
  if (!existsSync(join(paths.immichMlDir, 'immich_ml'))) throw new UserError(`${paths.immichMlDir}/immich_ml is missing; this snap was built without Immich machine learning`);
  const pythonPath = [paths.immichMlDir, join(paths.immichMlDir, 'site-packages')].join(':');
  execService({
    file: paths.python,
    args: ['-m', 'immich_ml'],
    env: { ...process.env, ...env, PYTHONPATH: pythonPath, PYTHONDONTWRITEBYTECODE: '1' },
  });
}
