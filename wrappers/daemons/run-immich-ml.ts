import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadEnvFile } from '../../hooks-src/immich/daemon.js';
import { snapEnv } from '../../hooks-src/snap/env.js';
import { UserError } from '../../hooks-src/snap/errors.js';
import { execService } from '../../hooks-src/snap/exec-service.js';
import { runMain, wantsHelp } from '../../hooks-src/snap/main.js';
import { snapPaths } from '../../hooks-src/snap/paths.js';

/**
 * The `immich-machine-learning` daemon: becomes `python3 -m immich_ml` from the snap's package
 * folder, with the rendered environment (no secret in it). immich_ml re-executes itself as
 * `python -m gunicorn` (docs/upstream/immich-runtime.md), so the unit's main process is Immich's. `ml.enabled=false` stops and disables this
 * service from the configure hook; it is never started with nothing to do.
 */
runMain('run-immich-ml', async () => {
  if (wantsHelp()) {
    process.stdout.write('run-immich-ml: the immich-machine-learning daemon of immich-distribution (run by snapd)\n');
    return 0;
  }
  const paths = snapPaths(snapEnv());
  const env = loadEnvFile(paths.immichMlEnv);
  if (!existsSync(join(paths.immichMlDir, 'immich_ml'))) throw new UserError(`${paths.immichMlDir}/immich_ml is missing; this snap was built without Immich machine learning`);
  const pythonPath = [paths.immichMlDir, join(paths.immichMlDir, 'site-packages')].join(':');
  execService({
    file: paths.python,
    args: ['-m', 'immich_ml'],
    env: { ...process.env, ...env, PYTHONPATH: pythonPath, PYTHONDONTWRITEBYTECODE: '1' },
  });
});
