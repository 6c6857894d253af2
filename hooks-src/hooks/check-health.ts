import { runEntry } from '../snap/main.js';

// The hook's work is in steps/check-health.ts, loaded only past --help: answering --help
// evaluates nothing else (docs/startup.md).
runEntry({
  name: 'check-health hook',
  usage: 'check-health: the snapd check-health hook of immich-distribution (run by snapd)\n',
  run: async () => (await import('./steps/check-health.js')).checkHealth(),
});
