import { runEntry } from '../../hooks-src/snap/main.js';

/**
 * The `postgres` daemon: prepares the runtime folders as root, drops to `_daemon_` and becomes the
 * postmaster of the newest complete cluster, in the foreground, with the rendered config. snapd's
 * SIGINT (`stop-mode: sigint`) reaches the postmaster itself: a fast shutdown (clients
 * disconnected, a checkpoint written, a clean exit). SIGHUP reloads.
 */
// Its work is in steps/run-postgres.ts, loaded only past --help (docs/startup.md).
runEntry({
  name: 'run-postgres',
  usage: 'run-postgres: the postgres daemon of immich-distribution (run by snapd)\n',
  run: async () => (await import('./steps/run-postgres.js')).runPostgres(),
});
