import { writeFileIfChanged } from '../snap/files.js';
import type { SnapPaths } from '../snap/paths.js';

/**
 * redis.conf (pure). Redis holds Immich's job queues (BullMQ), so:
 * - no TCP at all (`port 0`); a unix socket in a root-only directory, itself 0700, and a password
 *   on top (`requirepass`), which is why the rendered file is 0600 root;
 * - persistence that survives a crash or power loss with at most a second of jobs lost:
 *   append-only file with fsync every second, plus RDB snapshots for fast restarts;
 * - `maxmemory-policy noeviction`: evicting keys would silently lose queued jobs (BullMQ requires
 *   noeviction and warns otherwise);
 * - runs in the foreground (no `daemonize`), logs to stderr for the service manager.
 */

export interface RedisConfInput {
  socket: string;
  dir: string;
  password: string;
}

/**
 * A redis.conf argument in double quotes. Redis' parser (sdssplitargs) understands \\ and \"
 * inside quotes; control characters are refused so no value can start a new directive.
 */
export function redisString(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error('a redis.conf value may not contain control characters');
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function renderRedisConf(input: RedisConfInput): string {
  for (const [k, v] of [['socket', input.socket], ['dir', input.dir]] as const) {
    if (!v.startsWith('/')) throw new Error(`redis ${k} must be an absolute path`);
  }
  if (input.password.length < 16) throw new Error('the redis password is too short');
  return [
    '# Written by immich-distribution; edits are overwritten. Holds a secret: keep it 0600 root.',
    '',
    '# No TCP listener; clients use the unix socket (in a 0700 root directory) and the password.',
    'port 0',
    'bind 127.0.0.1 -::1',
    'protected-mode yes',
    `unixsocket ${redisString(input.socket)}`,
    'unixsocketperm 700',
    `requirepass ${redisString(input.password)}`,
    'enable-debug-command no',
    'enable-module-command no',
    '',
    '# Job queues: never evict, persist every second.',
    'maxmemory-policy noeviction',
    `dir ${redisString(input.dir)}`,
    'appendonly yes',
    'appendfsync everysec',
    'appendfilename "appendonly.aof"',
    'dbfilename "dump.rdb"',
    'save 3600 1 300 100 60 10000',
    'stop-writes-on-bgsave-error yes',
    '',
    '# Foreground, logs on stderr.',
    'daemonize no',
    'supervised no',
    'logfile ""',
    'loglevel notice',
    '',
  ].join('\n');
}

/** Writes $SNAP_DATA/etc/redis.conf, 0600 root (it holds the password). True when it changed. */
export function writeRedisConf(paths: Pick<SnapPaths, 'redisConf' | 'redisSocket' | 'redisDir'>, password: string): boolean {
  return writeFileIfChanged(paths.redisConf, renderRedisConf({ socket: paths.redisSocket, dir: paths.redisDir, password }), 0o600, { uid: 0, gid: 0 });
}
