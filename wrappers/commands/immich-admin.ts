import { runMain, wantsHelp } from '../../hooks-src/snap/main.js';
import { snapEnv } from '../../hooks-src/snap/env.js';
import { UserError } from '../../hooks-src/snap/errors.js';

runMain('immich-admin', async () => {
  if (wantsHelp()) {
    process.stdout.write('usage: immich-distribution.immich-admin\n');
    return 0;
  }
  snapEnv();
  throw new UserError('immich-admin is not available in this build yet');
});
