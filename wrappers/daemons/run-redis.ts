import { runEntry } from '../../hooks-src/snap/main.js';

/**
 * The `redis` daemon: prepares the runtime folder, then becomes redis-server (as root, like every
 * snap daemon but Postgres) with the rendered redis.conf, in the foreground. snapd's SIGTERM
 * (`stop-mode: sigterm`) reaches Redis itself: it flushes the append-only file, writes a final
 * snapshot and exits 0.
 */
// Its work is in steps/run-redis.ts, loaded only past --help (docs/startup.md).
runEntry({
  name: 'run-redis',
  usage: 'run-redis: the redis daemon of immich-distribution (run by snapd)\n',
  run: async () => (await import('./steps/run-redis.js')).runRedis(),
});
