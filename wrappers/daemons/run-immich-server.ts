import { runMain, wantsHelp } from '../../hooks-src/snap/main.js';
import { snapEnv } from '../../hooks-src/snap/env.js';
import { UserError } from '../../hooks-src/snap/errors.js';

runMain('run-immich-server', async () => {
  if (wantsHelp()) {
    process.stdout.write('run-immich-server: daemon command of immich-distribution (run by snapd)\n');
    return 0;
  }
  snapEnv();
  throw new UserError('run-immich-server is not available in this build yet');
});
