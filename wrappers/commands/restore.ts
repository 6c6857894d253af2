import { runMain, wantsHelp } from '../../hooks-src/snap/main.js';
import { snapEnv } from '../../hooks-src/snap/env.js';
import { UserError } from '../../hooks-src/snap/errors.js';

runMain('restore', async () => {
  if (wantsHelp()) {
    process.stdout.write('usage: immich-distribution.restore\n');
    return 0;
  }
  snapEnv();
  throw new UserError('restore is not available in this build yet');
});
