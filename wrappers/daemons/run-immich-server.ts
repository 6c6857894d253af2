import { runEntry } from '../../hooks-src/snap/main.js';

/**
 * The `immich-server` daemon: waits for the Postgres and Redis sockets, then becomes Immich's own
 * `node dist/main.js` (its supervisor, which forks the api and microservices workers), with the
 * environment rendered by the hooks. The file is read here (0600 root) so the Redis password
 * never sits in a unit file or a world-readable place; the process environment of a root daemon
 * is readable by root only.
 */
// Its work is in steps/run-immich-server.ts, loaded only past --help (docs/startup.md).
runEntry({
  name: 'run-immich-server',
  usage: 'run-immich-server: the immich-server daemon of immich-distribution (run by snapd)\n',
  run: async () => (await import('./steps/run-immich-server.js')).runImmichServer(),
});
