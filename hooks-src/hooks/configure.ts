import { runEntry } from '../snap/main.js';

// The hook's work is in steps/configure.ts, loaded only past --help: answering --help
// evaluates nothing else (docs/startup.md).
runEntry({
  name: 'configure hook',
  usage: 'configure: the snapd configure hook of immich-distribution (run by snapd after snap set)\n',
  run: async () => (await import('./steps/configure.js')).configure(),
});
