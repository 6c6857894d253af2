import { runEntry } from '../snap/main.js';

// The hook's work is in steps/install.ts, loaded only past --help: answering --help
// evaluates nothing else (docs/startup.md).
runEntry({
  name: 'install hook',
  usage: 'install: the snapd install hook of immich-distribution (run by snapd, not by hand)\n',
  run: async () => (await import('./steps/install.js')).install(),
});
