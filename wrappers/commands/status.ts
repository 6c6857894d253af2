import { runMain, wantsHelp } from '../../hooks-src/snap/main.js';
import { snapEnv } from '../../hooks-src/snap/env.js';
import { UserError } from '../../hooks-src/snap/errors.js';

runMain('status', async () => {
  if (wantsHelp()) {
    process.stdout.write('usage: immich-distribution.status\n');
    return 0;
  }
  snapEnv();
  throw new UserError('status is not available in this build yet');
});
