import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { immichMlEnv, immichServerEnv, parseEnvFile, renderEnvFile } from '../../../hooks-src/immich/env.js';
import { PROXY_NAME_RANGES, renderTrustedProxies } from '../../../hooks-src/immich/trusted-proxies.js';

const server = {
  dbSocketDir: '/var/snap/i/common/run/postgres',
  dbPort: 5432,
  dbUser: 'immich',
  dbName: 'immich',
  vectorExtension: 'vector' as const,
  redisSocket: '/var/snap/i/common/run/redis/redis.sock',
  redisPassword: 'r'.repeat(43),
  mediaLocation: '/var/snap/i/common/media',
  buildData: '/snap/i/current/usr/src/immich/build',
  host: '127.0.0.1',
  port: 3001,
  mlUrl: 'http://127.0.0.1:3003',
  logLevel: 'log' as const,
};

test('server environment: socket DB without password, Redis socket + password, loopback', () => {
  const env = parseEnvFile(renderEnvFile(immichServerEnv(server), 'test'));
  assert.is(env.DB_HOSTNAME, server.dbSocketDir);
  assert.is(env.DB_USERNAME, 'immich');
  assert.is(env.DB_DATABASE_NAME, 'immich');
  assert.not.ok('DB_PASSWORD' in env);
  assert.not.ok('DB_URL' in env);
  assert.is(env.DB_VECTOR_EXTENSION, 'pgvector');
  assert.is(env.REDIS_SOCKET, server.redisSocket);
  assert.is(env.REDIS_PASSWORD, server.redisPassword);
  assert.is(env.IMMICH_HOST, '127.0.0.1');
  assert.is(env.IMMICH_PORT, '3001');
  assert.is(env.IMMICH_MEDIA_LOCATION, server.mediaLocation);
  assert.is(env.IMMICH_BUILD_DATA, server.buildData);
  assert.is(env.IMMICH_MACHINE_LEARNING_URL, 'http://127.0.0.1:3003');
  assert.is(env.IMMICH_LOG_LEVEL, 'log');
  assert.is(parseEnvFile(renderEnvFile(immichServerEnv({ ...server, vectorExtension: 'vchord' }), 't')).DB_VECTOR_EXTENSION, 'vectorchord');
});

test('IMMICH_TRUSTED_PROXIES is never empty: loopback only when nothing is set (Immich would trust the LAN)', () => {
  const env = parseEnvFile(renderEnvFile(immichServerEnv(server), 'test'));
  assert.is(env.IMMICH_TRUSTED_PROXIES, '127.0.0.0/8,::1/128');
  assert.is(renderTrustedProxies([]), '127.0.0.0/8,::1/128');
});

test('IMMICH_TRUSTED_PROXIES: names become the CIDRs proxy-addr gives them, duplicates once, order kept', () => {
  assert.is(renderTrustedProxies(['linklocal']), '127.0.0.0/8,::1/128,169.254.0.0/16,fe80::/10');
  assert.is(renderTrustedProxies(['uniquelocal']), `127.0.0.0/8,::1/128,${PROXY_NAME_RANGES.uniquelocal.join(',')}`);
  assert.is(renderTrustedProxies(['loopback', '203.0.113.7', '10.0.0.0/8', 'uniquelocal']), '127.0.0.0/8,::1/128,203.0.113.7,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7');
  const env = parseEnvFile(renderEnvFile(immichServerEnv({ ...server, trustedProxies: ['linklocal', '2001:db8::/32'] }), 't'));
  assert.is(env.IMMICH_TRUSTED_PROXIES, '127.0.0.0/8,::1/128,169.254.0.0/16,fe80::/10,2001:db8::/32');
  for (const name of Object.keys(PROXY_NAME_RANGES)) assert.not.match(env.IMMICH_TRUSTED_PROXIES!, name);
});

test('ML environment: loopback, cache folder, no secret', () => {
  const env = parseEnvFile(renderEnvFile(immichMlEnv({ host: '127.0.0.1', port: 3003, cacheFolder: '/c/ml', logLevel: 'warn' }), 't'));
  assert.equal(env, {
    IMMICH_HOST: '127.0.0.1',
    IMMICH_PORT: '3003',
    IMMICH_LOG_LEVEL: 'warning',
    MACHINE_LEARNING_CACHE_FOLDER: '/c/ml',
    MACHINE_LEARNING_WORKERS: '1',
    NO_COLOR: 'true',
  });
});

test('injection attempts are refused', () => {
  assert.throws(() => immichServerEnv({ ...server, mediaLocation: '/m\nDB_HOSTNAME=/evil' }), /control/);
  assert.throws(() => immichServerEnv({ ...server, redisPassword: 'pw\rX=1' }), /control/);
  assert.throws(() => immichServerEnv({ ...server, mediaLocation: 'relative' }), /absolute/);
  assert.throws(() => immichServerEnv({ ...server, host: '0.0.0.0 #' }), /IP/);
  assert.throws(() => immichServerEnv({ ...server, port: 0 }), /port/);
  assert.throws(() => immichServerEnv({ ...server, mlUrl: 'http://x y' }));
  assert.throws(() => immichServerEnv({ ...server, dbUser: 'immich; drop' }));
  assert.throws(() => renderEnvFile([['BAD-KEY', 'v']], 't'));
  assert.throws(() => renderEnvFile([['A', '1'], ['A', '2']], 't'), /duplicate/);
  assert.throws(() => renderEnvFile([['A', '1']], 'header\nB=2'));
});

test('values are verbatim: $, quotes, # and = survive a round trip without expansion', () => {
  const value = `/m/$HOME/"x" 'y' #z=1`;
  const env = parseEnvFile(renderEnvFile([['IMMICH_MEDIA_LOCATION', value]], 't'));
  assert.is(env.IMMICH_MEDIA_LOCATION, value);
  assert.throws(() => parseEnvFile('not a line\n'));
});

test.run();
