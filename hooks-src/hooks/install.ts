import { runMain, wantsHelp } from '../snap/main.js';

// The hook's work is in steps/install.ts, loaded only past --help: answering --help
// evaluates nothing else (docs/startup.md).
runMain('install hook', async () => {
  if (wantsHelp()) {
    process.stdout.write('install: the snapd install hook of immich-distribution (run by snapd, not by hand)\n');
    return 0;
  }
  return (await import('./steps/install.js')).install();
});
