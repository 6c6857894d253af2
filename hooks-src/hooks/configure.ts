import { runMain, wantsHelp } from '../snap/main.js';

// The hook's work is in steps/configure.ts, loaded only past --help: answering --help
// evaluates nothing else (docs/startup.md).
runMain('configure hook', async () => {
  if (wantsHelp()) {
    process.stdout.write('configure: the snapd configure hook of immich-distribution (run by snapd after snap set)\n');
    return 0;
  }
  return (await import('./steps/configure.js')).configure();
});
