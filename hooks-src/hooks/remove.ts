import { runMain, wantsHelp } from '../snap/main.js';

// The hook's work is in steps/remove.ts, loaded only past --help: answering --help
// evaluates nothing else (docs/startup.md).
runMain('remove hook', async () => {
  if (wantsHelp()) {
    process.stdout.write('remove: the snapd remove hook of immich-distribution (run by snapd, not by hand)\n');
    return 0;
  }
  return (await import('./steps/remove.js')).remove();
});
