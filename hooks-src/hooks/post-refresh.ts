import { runMain, wantsHelp } from '../snap/main.js';

// The hook's work is in steps/post-refresh.ts, loaded only past --help: answering --help
// evaluates nothing else (docs/startup.md).
runMain('post-refresh hook', async () => {
  if (wantsHelp()) {
    process.stdout.write('post-refresh: the snapd post-refresh hook of immich-distribution (run by snapd, not by hand)\n');
    return 0;
  }
  return (await import('./steps/post-refresh.js')).postRefresh();
});
