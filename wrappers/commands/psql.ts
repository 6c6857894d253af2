import { runMain, wantsHelp } from '../../hooks-src/snap/main.js';
import { snapEnv } from '../../hooks-src/snap/env.js';
import { UserError } from '../../hooks-src/snap/errors.js';

runMain('psql', async () => {
  if (wantsHelp()) {
    process.stdout.write('usage: immich-distribution.psql\n');
    return 0;
  }
  snapEnv();
  throw new UserError('psql is not available in this build yet');
});
