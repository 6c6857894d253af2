import { runEntry } from '../../hooks-src/snap/main.js';

/**
 * The haproxy daemon (snapcraft.yaml: `command: bin/run-haproxy`, `reload-command:
 * bin/run-haproxy reload`).
 *
 * Without arguments: checks the rendered config, then becomes HAProxy in master-worker mode in the
 * foreground (`-W -db`), with its master CLI on a root-only socket. Stopping is HAProxy's own:
 * snapd's SIGUSR1 (`stop-mode: sigusr1-all`) soft-stops master and workers (listeners close,
 * requests in flight may finish) until systemd's stop-timeout; SIGHUP/SIGUSR2 reload.
 *
 * `run-haproxy reload`: graceful reload of the running master (never a restart), exits 0 once a
 * new worker serves, 1 with one line otherwise.
 */
// Its work is in steps/run-haproxy.ts, loaded only past --help (docs/startup.md).
runEntry({
  name: 'run-haproxy',
  usage:
    'usage: run-haproxy          run HAProxy in the foreground (daemon command, run by snapd)\n' +
    '       run-haproxy reload   reload its configuration gracefully (no connection dropped)\n',
  run: async () => (await import('./steps/run-haproxy.js')).runHaproxy(),
});
