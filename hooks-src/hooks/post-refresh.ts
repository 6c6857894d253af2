import { runMain, wantsHelp } from '../snap/main.js';
import { snapEnv } from '../snap/env.js';
import { step } from '../snap/log.js';

// The post-refresh hook. snapd runs it as root with no arguments and no stdin (SPEC §3).
runMain('post-refresh hook', async () => {
  if (wantsHelp()) {
    process.stdout.write('post-refresh: the snapd post-refresh hook of immich-distribution (run by snapd, not by hand)\n');
    return 0;
  }
  const env = snapEnv();
  step(`post-refresh: revision ${env.SNAP_REVISION}: nothing to do yet`);
  return 0;
});
