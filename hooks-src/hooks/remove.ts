import { runEntry } from '../snap/main.js';

// The hook's work is in steps/remove.ts, loaded only past --help: answering --help
// evaluates nothing else (docs/startup.md).
runEntry({
  name: 'remove hook',
  usage: 'remove: the snapd remove hook of immich-distribution (run by snapd, not by hand)\n',
  run: async () => (await import('./steps/remove.js')).remove(),
});
