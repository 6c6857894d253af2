// TEST DOUBLE of Immich v3.2.0's database start-up. Mirrors:
//  - server/src/services/database.service.ts `onBootstrap` and its messages (index id 3779957753),
//  - server/src/repositories/database.repository.ts (3.x-shaped, index id 66441619870):
//    getVectorExtension, getExtensionVersions, createExtension, updateVectorExtension,
//    reindexVectorsIfNeeded/reindexVectors, dropExtension, prewarm, withLock,
//  - server/src/enum.ts DatabaseLock / VectorIndex (index id 52527541635),
//  - server/src/constants.ts ranges (index id 54602442722),
// per docs/upstream/immich-runtime.md §2.
// Simplified: `pg` instead of kysely/postgres.js; migrations are a fixed schema (migrations.ts).
import pg from 'pg';
import type { DatabaseConnection, ImmichConfig, VectorExtension } from './env.js';
import { Logger } from './log.js';
import { runMigrations, vectorIndexQuery } from './migrations.js';
import { coerce, compare, parse, satisfies } from './semver.js';
import type { DoubleState } from './state.js';

export const DatabaseLock = {
  GeodataImport: 100,
  Migrations: 200,
  SystemFileMounts: 300,
  PluginImport: 666,
  MediaLocation: 700,
  BackupDatabase: 42,
  MaintenanceOperation: 621,
} as const;

export const POSTGRES_VERSION_RANGE = '>=14.0.0';
const VERSION_RANGES: Record<VectorExtension, string> = { vchord: '>=0.3 <2', vector: '>=0.5 <1' };
export const VECTOR_EXTENSIONS: VectorExtension[] = ['vchord', 'vector'];
const EXTENSION_NAMES: Record<string, string> = { vector: 'pgvector', vchord: 'VectorChord', cube: 'cube', earthdistance: 'earthdistance' };
type VectorIndex = 'clip_index' | 'face_index';
const VECTOR_INDEX_TABLES: Record<VectorIndex, string> = { clip_index: 'smart_search', face_index: 'face_search' };
const VECTORCHORD_LIST_SLACK_FACTOR = 1.2;

/**
 * The first line of each of Immich's start-up messages (what a user, and a test, recognises them
 * by); Immich adds a paragraph of advice to each, which the double leaves out.
 */
const messages = {
  notInstalled: (name: string) => `The ${name} extension is not available in this Postgres instance.`,
  nightlyVersion: (name: string, _extension: string) => `The ${name} extension version is 0.0.0, which means it is a nightly release.`,
  outOfRange: (name: string, version: string, range: string) => `The ${name} extension version is ${version}, but Immich only supports ${range}.`,
  createFailed: (name: string, _extension: string) => `Failed to activate ${name} extension.`,
  updateFailed: (name: string, _extension: string, availableVersion: string) => `The ${name} extension can be updated to ${availableVersion}.`,
  dropFailed: (name: string, _extension: string) => `The ${name} extension is no longer needed, but could not be dropped.`,
  invalidDowngrade: (name: string, installedVersion: string, availableVersion: string) =>
    `The database currently has ${name} ${installedVersion} activated, but the Postgres instance only has ${availableVersion} available.`,
};

/** The connection pool (postgres.js in Immich): a socket directory in `host` works the same way in `pg`. */
export class Database {
  pool: pg.Pool;
  private readonly log = new Logger('DatabaseRepository');

  constructor(private readonly connection: DatabaseConnection) {
    this.pool = this.createPool();
  }

  private createPool(): pg.Pool {
    const c = this.connection;
    const options: pg.PoolConfig =
      c.connectionType === 'url'
        ? { connectionString: c.url }
        : {
            host: c.host,
            port: c.port,
            user: c.username,
            password: c.password,
            database: c.database,
            ssl: c.ssl === 'require' ? { rejectUnauthorized: false } : c.ssl === 'verify-full' ? true : undefined,
          };
    const pool = new pg.Pool({ ...options, max: 5, connectionTimeoutMillis: 10_000 });
    // A restore terminates every other connection: drop the dead client and carry on (postgres.js reconnects too).
    pool.on('error', (error) => this.log.warn(`Database connection lost: ${error.message}`));
    return pool;
  }

  query<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]): Promise<pg.QueryResult<T>> {
    return this.pool.query<T>(text, params);
  }

  async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** `pg_advisory_lock` held on one connection while `fn` runs (DatabaseRepository.withLock). */
  async withLock<T>(lock: number, fn: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [lock]);
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [lock]).catch(() => undefined);
      }
    } finally {
      client.release();
    }
  }

  async getPostgresVersion(): Promise<string> {
    const { rows } = await this.query<{ server_version: string }>('SHOW server_version');
    return rows[0]!.server_version;
  }

  async getExtensionVersions(names: string[]): Promise<Array<{ name: string; availableVersion: string | null; installedVersion: string | null }>> {
    const { rows } = await this.query<{ name: string; availableVersion: string | null; installedVersion: string | null }>(
      `SELECT name, default_version AS "availableVersion", installed_version AS "installedVersion"
       FROM pg_available_extensions WHERE name = ANY($1)`,
      [names],
    );
    return rows;
  }

  async installedExtensions(): Promise<Record<string, string>> {
    const { rows } = await this.query<{ extname: string; extversion: string }>('SELECT extname, extversion FROM pg_extension ORDER BY extname');
    return Object.fromEntries(rows.map((r) => [r.extname, r.extversion]));
  }

  /** After a restore: a fresh pool (the old connections were terminated by the restore's SQL). */
  async reconnect(): Promise<void> {
    const old = this.pool;
    this.pool = this.createPool();
    await old.end().catch(() => undefined);
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

export async function getVectorExtension(db: Database, configured: VectorExtension | undefined): Promise<VectorExtension> {
  if (configured) return configured;
  const { rows } = await db.query<{ name: VectorExtension }>(
    `SELECT name FROM pg_available_extensions WHERE name IN (${VECTOR_EXTENSIONS.map((e) => `'${e}'`).join(', ')})`,
  );
  const names = new Set(rows.map((r) => r.name));
  const found = VECTOR_EXTENSIONS.find((e) => names.has(e));
  if (!found) throw new Error(`No vector extension found. Available extensions: ${VECTOR_EXTENSIONS.join(', ')}`);
  return found;
}

/** DatabaseService.onBootstrap: version check, then under the Migrations lock the extension work and migrations. */
export async function databaseBootstrap(db: Database, config: ImmichConfig, state: DoubleState): Promise<void> {
  const log = new Logger('DatabaseService');
  const version = await db.getPostgresVersion();
  const current = coerce(version);
  state.postgres = { version, major: current?.[0] ?? 0 };
  if (!current || !satisfies(current, POSTGRES_VERSION_RANGE)) {
    throw new Error(`Invalid PostgreSQL version. Found ${version}, but needed ${POSTGRES_VERSION_RANGE}. Please use a supported version.`);
  }

  await db.withLock(DatabaseLock.Migrations, async () => {
    const extension = await getVectorExtension(db, config.database.vectorExtension);
    state.vectorExtension = extension;
    const name = EXTENSION_NAMES[extension]!;
    const range = VERSION_RANGES[extension];
    const versions = await db.getExtensionVersions(VECTOR_EXTENSIONS);
    const { installedVersion, availableVersion } = versions.find((v) => v.name === extension) ?? {};
    if (!availableVersion) throw new Error(messages.notInstalled(name));
    const available = parse(availableVersion)!;
    const installed = parse(installedVersion);
    if ([available, installed].some((v) => v && compare(v, [0, 0, 0]) === 0)) throw new Error(messages.nightlyVersion(name, extension));
    if (!satisfies(available, range)) throw new Error(messages.outOfRange(name, availableVersion, range));

    if (!installed) await createExtension(db, extension, log);
    if (installed && compare(available, installed) > 0) {
      log.log(`Updating ${name} extension to ${availableVersion}`);
      try {
        await updateVectorExtension(db, extension, availableVersion);
      } catch (error) {
        log.warn(messages.updateFailed(name, extension, availableVersion));
        throw error;
      }
    } else if (installed && !satisfies(installed, range)) {
      throw new Error(messages.outOfRange(name, installedVersion!, range));
    } else if (installed && compare(available, installed) < 0) {
      throw new Error(messages.invalidDowngrade(name, installedVersion!, availableVersion));
    }

    try {
      await reindexVectorsIfNeeded(db, extension, ['clip_index', 'face_index']);
    } catch (error) {
      log.warn('Could not run vector reindexing checks.');
      throw error;
    }

    for (const { name: other, installedVersion: otherInstalled } of versions) {
      const isDepended = other === 'vector' && extension === 'vchord';
      if (other !== extension && otherInstalled && !isDepended) {
        try {
          log.log(`Dropping ${EXTENSION_NAMES[other]} extension`);
          await db.query(`DROP EXTENSION IF EXISTS ${other}`);
        } catch (error) {
          log.warn(`${messages.dropFailed(EXTENSION_NAMES[other]!, other)} ${String(error)}`);
        }
      }
    }

    if (config.database.skipMigrations) {
      state.migrations = 'skipped';
    } else {
      await runMigrations(db, extension);
      state.migrations = 'ran';
    }
    if (extension === 'vchord') {
      await Promise.all((['clip_index', 'face_index'] as const).map((index) => db.query('SELECT vchordrq_prewarm($1)', [index])));
    }
  });
  state.extensions = await db.installedExtensions();
}

async function createExtension(db: Database, extension: string, log: Logger): Promise<void> {
  const name = EXTENSION_NAMES[extension] ?? extension;
  try {
    new Logger('DatabaseRepository').log(`Creating ${name} extension`);
    await db.query(`CREATE EXTENSION IF NOT EXISTS ${extension} CASCADE`);
    if (extension === 'vchord') {
      const { rows } = await db.query<{ db: string }>('SELECT current_database() AS db');
      await db.query(`ALTER DATABASE ${pg.escapeIdentifier(rows[0]!.db)} SET vchordrq.probes = 1`);
      await db.query('SET vchordrq.probes = 1');
    }
  } catch (error) {
    log.fatal(messages.createFailed(name, extension));
    throw error;
  }
}

async function updateVectorExtension(db: Database, extension: VectorExtension, target: string): Promise<void> {
  const [row] = await db.getExtensionVersions([extension]);
  if (!row?.installedVersion) throw new Error(`${EXTENSION_NAMES[extension]} extension is not installed`);
  if (row.installedVersion === target) return;
  await db.query('DROP INDEX IF EXISTS clip_index');
  await db.query('DROP INDEX IF EXISTS face_index');
  await db.query(`ALTER EXTENSION ${extension} UPDATE TO ${pg.escapeLiteral(target)}`);
  await reindexVectors(db, extension, 'clip_index');
  await reindexVectors(db, extension, 'face_index');
}

function targetListCount(count: number): number {
  if (count < 128_000) return 1;
  return count < 2_048_000 ? 1 << (32 - Math.clz32(count / 1000)) : 1 << (33 - Math.clz32(Math.sqrt(count)));
}

async function rowCount(db: Database, table: string): Promise<number> {
  const { rows } = await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${table}`);
  return rows[0]!.count;
}

async function reindexVectorsIfNeeded(db: Database, extension: VectorExtension, names: VectorIndex[]): Promise<void> {
  const { rows } = await db.query<{ indexdef: string; indexname: string }>('SELECT indexdef, indexname FROM pg_indexes WHERE indexname = ANY($1)', [names]);
  for (const indexName of names) {
    const row = rows.find((r) => r.indexname === indexName);
    if (!row) {
      await reindexVectors(db, extension, indexName);
      continue;
    }
    const def = row.indexdef.toLowerCase();
    if (extension === 'vector') {
      if (!def.includes('using hnsw')) await reindexVectors(db, extension, indexName);
      continue;
    }
    const lists = Number(/(?<=lists = \[)\d+/.exec(row.indexdef)?.[0] ?? 1);
    const count = await rowCount(db, VECTOR_INDEX_TABLES[indexName]);
    const target = targetListCount(count);
    if (!def.includes('using vchordrq') || (lists !== target && lists !== targetListCount(count * VECTORCHORD_LIST_SLACK_FACTOR))) {
      await reindexVectors(db, extension, indexName, target);
    }
  }
}

async function reindexVectors(db: Database, extension: VectorExtension, indexName: VectorIndex, lists?: number): Promise<void> {
  const log = new Logger('DatabaseRepository');
  log.log(`Reindexing ${indexName} (This may take a while, do not restart)`);
  const table = VECTOR_INDEX_TABLES[indexName];
  const { rows } = await db.query<{ columnName: string }>('SELECT column_name AS "columnName" FROM information_schema.columns WHERE table_name = $1', [table]);
  if (rows.length === 0) {
    log.warn(`Table ${table} does not exist, skipping reindexing. This is only normal if this is a new Immich instance.`);
    return;
  }
  const { rows: dims } = await db.query<{ dimsize: number }>(
    `SELECT atttypmod AS dimsize FROM pg_attribute f JOIN pg_class c ON c.oid = f.attrelid
     WHERE c.relkind = 'r'::char AND f.attnum > 0 AND c.relname = $1::text AND f.attname = 'embedding'`,
    [table],
  );
  const dimSize = dims[0] && dims[0].dimsize >= 1 && dims[0].dimsize <= 2 ** 16 ? dims[0].dimsize : 512;
  const listCount = lists || targetListCount(await rowCount(db, table));
  await db.transaction(async (tx) => {
    await tx.query(`DROP INDEX IF EXISTS ${indexName}`);
    if (table === 'smart_search') await tx.query(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS dim_size_constraint`);
    if (rows.every((r) => r.columnName !== 'embedding')) {
      log.warn(`Column 'embedding' does not exist in table '${table}', truncating and adding column.`);
      await tx.query(`TRUNCATE TABLE ${table}`);
      await tx.query(`ALTER TABLE ${table} ADD COLUMN embedding real[] NOT NULL`);
    }
    await tx.query(`ALTER TABLE ${table} ALTER COLUMN embedding SET DATA TYPE real[]`);
    await tx.query(`ALTER TABLE ${table} ALTER COLUMN embedding SET DATA TYPE vector(${dimSize})`);
    await tx.query(vectorIndexQuery(extension, table, indexName, listCount));
  });
  await db.query(`VACUUM ANALYZE ${table}`).catch((error) => log.warn(`Failed to vacuum table '${table}'. The DB will temporarily use more disk space: ${String(error)}`));
  log.log(`Reindexed ${indexName}`);
}
