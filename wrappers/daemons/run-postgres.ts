import { runMain, wantsHelp } from '../../hooks-src/snap/main.js';
import { snapEnv } from '../../hooks-src/snap/env.js';
import { UserError } from '../../hooks-src/snap/errors.js';

runMain('run-postgres', async () => {
  if (wantsHelp()) {
    process.stdout.write('run-postgres: daemon command of immich-distribution (run by snapd)\n');
    return 0;
  }
  snapEnv();
  throw new UserError('run-postgres is not available in this build yet');
});
