import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { immichServerEnv, parseEnvFile, renderEnvFile } from '../../../hooks-src/immich/env.js';
import { parseImmichEnv } from '../../doubles/immich-server/env.js';

/** The server environment the snap renders today (hooks-src/immich/env.ts), with realistic values. */
function snapEnv(trustedProxies?: string[]): Record<string, string> {
  const vars = immichServerEnv({
    dbSocketDir: '/var/snap/immich-distribution/common/run/postgres',
    dbPort: 5432,
    dbUser: 'immich',
    dbName: 'immich',
    vectorExtension: 'vchord',
    redisSocket: '/var/snap/immich-distribution/common/run/redis/redis.sock',
    redisPassword: 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5',
    mediaLocation: '/var/snap/immich-distribution/common/media',
    buildData: '/usr/lib/immich/build',
    host: '127.0.0.1',
    port: 3001,
    mlUrl: 'http://127.0.0.1:3003',
    logLevel: 'log',
    trustedProxies,
    nodeOptions: '--max-old-space-size=4096',
  });
  return parseEnvFile(renderEnvFile(vars, 'test'));
}

function ok(env: Record<string, string | undefined>) {
  const parsed = parseImmichEnv(env);
  if (!parsed.ok) throw new Error(`expected the environment to be accepted:\n${parsed.message}`);
  return parsed.config;
}

function refused(env: Record<string, string | undefined>): string {
  const parsed = parseImmichEnv(env);
  if (parsed.ok) throw new Error(`expected the environment to be refused: ${JSON.stringify(env)}`);
  return parsed.message;
}

test('the environment the snap renders is accepted and maps as Immich maps it', () => {
  const config = ok(snapEnv());
  assert.is(config.host, '127.0.0.1');
  assert.is(config.port, 3001);
  assert.is(config.environment, 'production');
  assert.is(config.storage.mediaLocation, '/var/snap/immich-distribution/common/media');
  assert.is(config.resourcePaths.geodata.dateFile, '/usr/lib/immich/build/geodata/geodata-date.txt');
  assert.is(config.resourcePaths.corePlugin, '/usr/lib/immich/build/plugins/immich-plugin-core');
  assert.is(config.database.vectorExtension, 'vchord');
  const db = config.database.config;
  assert.is(db.connectionType, 'parts');
  if (db.connectionType === 'parts') {
    assert.is(db.host, '/var/snap/immich-distribution/common/run/postgres');
    assert.is(db.socketPath, '/var/snap/immich-distribution/common/run/postgres/.s.PGSQL.5432');
    assert.is(db.username, 'immich');
    assert.is(db.database, 'immich');
    // No DB_PASSWORD in the snap's file: Immich's code default, unused with peer authentication.
    assert.is(db.password, 'postgres');
  }
  assert.equal(config.redis, {
    host: 'redis',
    port: 6379,
    db: 0,
    username: undefined,
    password: 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5',
    path: '/var/snap/immich-distribution/common/run/redis/redis.sock',
  });
  assert.equal(config.network.trustedProxies, ['127.0.0.0/8', '::1/128']);
  assert.equal(config.network.trustProxy, ['loopback', '127.0.0.0/8', '::1/128']);
  assert.equal(config.workers, ['api', 'microservices']);
  assert.equal(config.machineLearning, { enabled: true, urls: ['http://127.0.0.1:3003'] });
  assert.is(ok(snapEnv(['linklocal', '192.168.1.0/24'])).network.trustProxy.length, 6);
});

test('IMMICH_TRUSTED_PROXIES=linklocal is refused with Immich message', () => {
  assert.is(
    refused({ IMMICH_TRUSTED_PROXIES: 'linklocal' }),
    'Invalid environment variables: \n  - [IMMICH_TRUSTED_PROXIES] Must be an ip address or ip address range',
  );
  refused({ IMMICH_TRUSTED_PROXIES: 'loopback' });
  refused({ IMMICH_TRUSTED_PROXIES: '127.0.0.1,uniquelocal' });
});

test('IMMICH_TRUSTED_PROXIES unset or empty: Express trusts loopback, linklocal, uniquelocal', () => {
  assert.equal(ok({}).network.trustProxy, ['loopback', 'linklocal', 'uniquelocal']);
  assert.equal(ok({ IMMICH_TRUSTED_PROXIES: '' }).network.trustProxy, ['loopback', 'linklocal', 'uniquelocal']);
  // a lone comma or blank: an empty list, only loopback trusted
  assert.equal(ok({ IMMICH_TRUSTED_PROXIES: ',' }).network.trustProxy, ['loopback']);
  assert.equal(ok({ IMMICH_TRUSTED_PROXIES: ' ' }).network.trustProxy, ['loopback']);
});

test('IMMICH_TRUSTED_PROXIES lists of IPs and CIDRs', () => {
  assert.equal(ok({ IMMICH_TRUSTED_PROXIES: '127.0.0.0/8,::1/128' }).network.trustProxy, ['loopback', '127.0.0.0/8', '::1/128']);
  assert.equal(ok({ IMMICH_TRUSTED_PROXIES: ' 127.0.0.1 , ::1/128 ' }).network.trustedProxies, ['127.0.0.1', '::1/128']);
  ok({ IMMICH_TRUSTED_PROXIES: 'fe80::1%eth0,::ffff:127.0.0.1' });
  for (const bad of ['192.168.1.0/024', '10.0.0.0/33', '2001:db8::/129', 'example.com']) {
    assert.match(refused({ IMMICH_TRUSTED_PROXIES: bad }), '[IMMICH_TRUSTED_PROXIES] Must be an ip address or ip address range', bad);
  }
});

test('other variables Immich validates', () => {
  assert.match(refused({ IMMICH_MEDIA_LOCATION: 'media' }), '  - [IMMICH_MEDIA_LOCATION] Must be an absolute path');
  assert.match(refused({ IMMICH_PLUGINS_INSTALL_FOLDER: './plugins' }), '[IMMICH_PLUGINS_INSTALL_FOLDER] Must be an absolute path');
  assert.match(refused({ DB_VECTOR_EXTENSION: 'pgvecto.rs' }), '  - [DB_VECTOR_EXTENSION] Invalid option: expected one of "pgvector"|"vectorchord"');
  assert.match(refused({ DB_VECTOR_EXTENSION: 'vector' }), '[DB_VECTOR_EXTENSION]');
  assert.is(ok({ DB_VECTOR_EXTENSION: 'pgvector' }).database.vectorExtension, 'vector');
  assert.is(ok({}).database.vectorExtension, undefined);
  assert.match(refused({ IMMICH_PORT: 'abc' }), '[IMMICH_PORT] Invalid input: expected number, received NaN');
  assert.is(ok({ IMMICH_PORT: '' }).port, 2283);
  assert.match(refused({ IMMICH_IGNORE_MOUNT_CHECK_ERRORS: 'maybe' }), '[IMMICH_IGNORE_MOUNT_CHECK_ERRORS] Invalid option');
  assert.is(ok({ IMMICH_IGNORE_MOUNT_CHECK_ERRORS: 'TRUE' }).storage.ignoreMountCheckErrors, true);
  assert.match(refused({ IMMICH_LOG_LEVEL: 'info' }), '[IMMICH_LOG_LEVEL]');
  assert.match(refused({ IMMICH_ENV: 'prod' }), '[IMMICH_ENV]');
  // several problems: one line each, in schema order
  assert.is(refused({ IMMICH_MEDIA_LOCATION: 'x', DB_PORT: 'y' }).split('\n').length, 3);
  assert.is(refused({ IMMICH_WORKERS_INCLUDE: 'api,web' }), 'Invalid worker(s) found: api,web');
});

test('database and Redis defaults, DB_URL and ioredis:// URLs', () => {
  const config = ok({});
  assert.equal(config.database.config, {
    connectionType: 'parts',
    host: 'database',
    port: 5432,
    username: 'postgres',
    password: 'postgres',
    database: 'immich',
    ssl: undefined,
    socketPath: undefined,
  });
  assert.is(config.port, 2283);
  assert.is(config.host, undefined);
  assert.is(config.buildFolder, '/build');
  assert.equal(ok({ DB_URL: 'postgres://u:p@h/db' }).database.config, { connectionType: 'url', url: 'postgres://u:p@h/db' });
  const redis = { host: 'r', port: 1, db: 2, path: '/s' };
  assert.equal(ok({ REDIS_URL: `ioredis://${Buffer.from(JSON.stringify(redis)).toString('base64')}` }).redis, redis);
  assert.is(refused({ REDIS_URL: 'ioredis://not-json' }), 'Failed to decode redis options');
  assert.equal(ok({ REDIS_DBINDEX: '3', REDIS_HOSTNAME: 'h', REDIS_PORT: '7000' }).redis, { host: 'h', port: 7000, db: 3, username: undefined, password: undefined, path: undefined });
  assert.is(ok({ IMMICH_MACHINE_LEARNING_ENABLED: 'false' }).machineLearning.enabled, false);
});

test.run();
