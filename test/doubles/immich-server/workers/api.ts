// TEST DOUBLE of Immich v3.2.0's `api` worker, dist/workers/api.js, which the supervisor
// (dist/main.js, ../main.ts) forks as its own process: the bootstrap order of Immich's api and
// microservices workers (index id 10133566183): environment → database checks + migrations →
// storage markers → Redis → build data → listen.
// Simplified: the microservices work (geodata, plugin sync, backups) runs in this same process
// instead of a worker thread of the supervisor; no maintenance mode; STANDIN_START_DELAY_MS
// (test-only) delays the listen to mimic slow migrations.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scheduleNightlyBackup } from '../backup.js';
import { initGeodata, readIndexHtml, syncCorePlugin } from '../build-data.js';
import { Database, databaseBootstrap } from '../database.js';
import { parseImmichEnv } from '../env.js';
import { createApp, listenUrl } from '../http.js';
import { Logger, setLogLevel } from '../log.js';
import { RedisClient } from '../redis.js';
import { type DoubleState, initialState } from '../state.js';
import { ImmichStartupError, detectMediaLocation, storageBootstrap } from '../storage.js';

/** Immich reads its version from the server folder's package.json (dist/workers/../../package.json). */
function serverVersion(): string {
  const dir = typeof __dirname === 'string' ? __dirname : process.cwd();
  try {
    return (JSON.parse(readFileSync(join(dir, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

const log = new Logger('ImmichDouble');

function step(state: DoubleState, text: string): void {
  state.steps.push(text);
  log.log(`step ${state.steps.length}: ${text}`);
}

async function start(): Promise<void> {
  const version = serverVersion();
  const parsed = parseImmichEnv(process.env);
  if (!parsed.ok) {
    process.stderr.write(`${parsed.message}\n`);
    process.exit(1);
  }
  const { config } = parsed;
  setLogLevel(config.logLevel);
  const state = initialState(version);
  state.trustedProxies = config.network.trustedProxies;
  state.trustProxy = config.network.trustProxy;
  state.buildFolder = config.buildFolder;
  step(state, `environment valid (trust proxy: ${config.network.trustProxy.join(',')})`);

  const db = new Database(config.database.config);
  await databaseBootstrap(db, config, state);
  step(state, `database ready (PostgreSQL ${state.postgres?.version}, ${state.vectorExtension} ${state.extensions[state.vectorExtension ?? ''] ?? '?'})`);

  const mediaLocation = detectMediaLocation(config);
  await storageBootstrap(db, config, mediaLocation, state);
  step(state, `media markers checked under ${mediaLocation}`);

  const redis = new RedisClient(config.redis);
  try {
    const ping = await redis.connect();
    state.redis = { ping, path: config.redis.path, db: config.redis.db };
  } catch (error) {
    new Logger('Redis').error(`[ioredis] Unhandled error event: ${String(error)}`);
    process.exit(1);
  }
  step(state, `redis answered ${state.redis?.ping}`);

  await initGeodata(db, config, state);
  await syncCorePlugin(db, config, state);
  const indexHtml = await readIndexHtml(config, state);
  step(state, `build data loaded (geodata ${state.geodata?.date})`);

  const ctx = { db, config, mediaLocation, serverVersion: version, state, indexHtml };
  const stopCron = await scheduleNightlyBackup(ctx);
  const delay = Number(process.env.STANDIN_START_DELAY_MS || 0);
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));

  const server = createApp(ctx);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (config.host) server.listen(config.port, config.host, resolve);
    else server.listen(config.port, resolve);
  });
  const address = server.address();
  if (address && typeof address === 'object') {
    state.listen = { host: config.host ?? null, port: address.port };
    new Logger('Api:Bootstrap').log(`Immich Server is listening on ${listenUrl(address)} [v${version}] [${config.environment}]`);
  }
  step(state, 'listening');

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    stopCron();
    server.close();
    server.closeAllConnections();
    await redis.close().catch(() => undefined);
    await db.end().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

// Immich's api worker ends its bootstrap errors with exit 1 (workers/api.ts, commit
// 012a83456ab75e8f3f382f7ffdbc597eb5276d3c); the supervisor then exits with the same code.
start().catch((error: unknown) => {
  log.error(error instanceof ImmichStartupError ? error.message : String(error));
  process.exit(1);
});
