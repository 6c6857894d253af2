import { runMain, wantsHelp } from '../snap/main.js';
import { snapEnv } from '../snap/env.js';
import { step } from '../snap/log.js';

// The pre-refresh hook. snapd runs it as root with no arguments and no stdin (SPEC §3).
runMain('pre-refresh hook', async () => {
  if (wantsHelp()) {
    process.stdout.write('pre-refresh: the snapd pre-refresh hook of immich-distribution (run by snapd, not by hand)\n');
    return 0;
  }
  const env = snapEnv();
  step(`pre-refresh: revision ${env.SNAP_REVISION}: nothing to do yet`);
  return 0;
});
