import { runMain, wantsHelp } from '../../hooks-src/snap/main.js';
import { snapEnv } from '../../hooks-src/snap/env.js';
import { UserError } from '../../hooks-src/snap/errors.js';

runMain('backup-timer', async () => {
  if (wantsHelp()) {
    process.stdout.write('backup-timer: daemon command of immich-distribution (run by snapd)\n');
    return 0;
  }
  snapEnv();
  throw new UserError('backup-timer is not available in this build yet');
});
