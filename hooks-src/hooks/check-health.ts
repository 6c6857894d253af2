import { runMain, wantsHelp } from '../snap/main.js';

// The hook's work is in steps/check-health.ts, loaded only past --help: answering --help
// evaluates nothing else (docs/startup.md).
runMain('check-health hook', async () => {
  if (wantsHelp()) {
    process.stdout.write('check-health: the snapd check-health hook of immich-distribution (run by snapd)\n');
    return 0;
  }
  return (await import('./steps/check-health.js')).checkHealth();
});
