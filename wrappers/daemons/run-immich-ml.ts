import { runEntry } from '../../hooks-src/snap/main.js';

/**
 * The `immich-machine-learning` daemon: becomes `python3 -m immich_ml` from the snap's package
 * folder, with the rendered environment (no secret in it). immich_ml re-executes itself as
 * `python -m gunicorn` (docs/upstream/immich-runtime.md), so the unit's main process is Immich's. `ml.enabled=false` stops and disables this
 * service from the configure hook; it is never started with nothing to do.
 */
// Its work is in steps/run-immich-ml.ts, loaded only past --help (docs/startup.md).
runEntry({
  name: 'run-immich-ml',
  usage: 'run-immich-ml: the immich-machine-learning daemon of immich-distribution (run by snapd)\n',
  run: async () => (await import('./steps/run-immich-ml.js')).runImmichMl(),
});
