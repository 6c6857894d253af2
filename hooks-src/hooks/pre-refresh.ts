import { oneLine } from '../snap/errors.js';
import { wantsHelp } from '../snap/main.js';

// The hook's work is steps/pre-refresh.ts, loaded only past --help: answering --help evaluates
// nothing else (docs/startup.md). It must never block a refresh: should even loading the steps
// fail, the refresh goes on (see steps/pre-refresh.ts). So it is the one entry that does not go
// through runEntry, whose failures exit non-zero.
if (wantsHelp()) {
  process.stdout.write('pre-refresh: the snapd pre-refresh hook of immich-distribution (run by snapd, not by hand)\n');
} else {
  import('./steps/pre-refresh.js').then(
    (steps) => steps.preRefresh(),
    (err: unknown) => {
      process.stderr.write(`pre-refresh: could not record the running revision (${oneLine(err)}); continuing\n`);
      process.exitCode = 0;
    },
  );
}
