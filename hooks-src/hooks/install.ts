import { runMain, wantsHelp } from '../snap/main.js';
import { snapEnv } from '../snap/env.js';
import { step } from '../snap/log.js';

// The install hook. snapd runs it as root with no arguments and no stdin (SPEC §3).
runMain('install hook', async () => {
  if (wantsHelp()) {
    process.stdout.write('install: the snapd install hook of immich-distribution (run by snapd, not by hand)\n');
    return 0;
  }
  const env = snapEnv();
  step(`install: revision ${env.SNAP_REVISION}: nothing to do yet`);
  return 0;
});
