import { runEntry } from '../snap/main.js';

// The hook's work is in steps/post-refresh.ts, loaded only past --help: answering --help
// evaluates nothing else (docs/startup.md).
runEntry({
  name: 'post-refresh hook',
  usage: 'post-refresh: the snapd post-refresh hook of immich-distribution (run by snapd, not by hand)\n',
  run: async () => (await import('./steps/post-refresh.js')).postRefresh(),
});
