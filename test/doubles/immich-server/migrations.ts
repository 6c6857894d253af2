// TEST DOUBLE of Immich v3.2.0's schema migrations (server/src/schema/, kysely migrations run by
// DatabaseRepository.runMigrations, index id 66441619870; extensions declared by the schema,
// index ids 2723145020, 6425073634, 69166822933 — docs/upstream/immich-runtime.md §2).
// vectorIndexQuery: server/src/utils/database.ts (index id 57392373069).
// Simplified: one idempotent script with only the tables the double uses, Immich's 3.x (singular)
// table names and camelCase columns; no kysely_migrations ledger, no asset_face/person tables.
import type { Database } from './database.js';
import type { VectorExtension } from './env.js';
import { Logger } from './log.js';

/**
 * The tables the double creates (Immich's own state: users, sessions, assets, embeddings, plugins,
 * system metadata). Tests that compare their fixture data before and after a refresh, backup or
 * restore leave these out: Immich writes them at every start. The fixtures use other names.
 */
export const DOUBLE_OWNED_TABLES: readonly string[] = ['system_metadata', 'user', 'session', 'asset', 'smart_search', 'face_search', 'plugin'];

const SCHEMA = [
  'CREATE EXTENSION IF NOT EXISTS "uuid-ossp"',
  'CREATE EXTENSION IF NOT EXISTS unaccent',
  'CREATE EXTENSION IF NOT EXISTS cube',
  'CREATE EXTENSION IF NOT EXISTS earthdistance',
  'CREATE EXTENSION IF NOT EXISTS pg_trgm',
  `CREATE TABLE IF NOT EXISTS system_metadata (key character varying PRIMARY KEY, value jsonb NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS "user" (
     id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
     email character varying NOT NULL UNIQUE,
     name character varying NOT NULL DEFAULT '',
     password character varying NOT NULL DEFAULT '',
     "isAdmin" boolean NOT NULL DEFAULT false,
     "storageLabel" character varying UNIQUE,
     "shouldChangePassword" boolean NOT NULL DEFAULT true,
     "createdAt" timestamptz NOT NULL DEFAULT now(),
     "updatedAt" timestamptz NOT NULL DEFAULT now())`,
  `CREATE TABLE IF NOT EXISTS session (
     id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
     token character varying NOT NULL UNIQUE,
     "userId" uuid NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
     "createdAt" timestamptz NOT NULL DEFAULT now())`,
  `CREATE TABLE IF NOT EXISTS asset (
     id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
     "ownerId" uuid NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
     type character varying NOT NULL,
     "originalPath" character varying NOT NULL,
     "originalFileName" character varying NOT NULL,
     checksum bytea NOT NULL,
     "fileCreatedAt" timestamptz NOT NULL,
     "fileModifiedAt" timestamptz NOT NULL,
     "createdAt" timestamptz NOT NULL DEFAULT now(),
     CONSTRAINT "UQ_asset_owner_checksum" UNIQUE ("ownerId", checksum))`,
  `CREATE TABLE IF NOT EXISTS smart_search (
     "assetId" uuid PRIMARY KEY REFERENCES asset(id) ON DELETE CASCADE,
     embedding vector(512) NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS face_search ("faceId" uuid PRIMARY KEY, embedding vector(512) NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS plugin (
     id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
     name character varying NOT NULL UNIQUE,
     version character varying NOT NULL,
     title character varying NOT NULL,
     description character varying NOT NULL,
     author character varying NOT NULL,
     "wasmSha256" character varying NOT NULL,
     "wasmSize" integer NOT NULL,
     sha256hash bytea NOT NULL,
     "updatedAt" timestamptz NOT NULL DEFAULT now())`,
];

export function vectorIndexQuery(extension: VectorExtension, table: string, indexName: string, lists?: number): string {
  if (extension === 'vchord') {
    return `
        CREATE INDEX IF NOT EXISTS ${indexName} ON ${table} USING vchordrq (embedding vector_cosine_ops) WITH (options = $$
        residual_quantization = false
        [build.internal]
        lists = [${lists ?? 1}]
        spherical_centroids = true
        build_threads = 4
        sampling_factor = 1024
        $$)`;
  }
  return `
        CREATE INDEX IF NOT EXISTS ${indexName} ON ${table}
        USING hnsw (embedding vector_cosine_ops)
        WITH (ef_construction = 300, m = 16)`;
}

export async function runMigrations(db: Database, extension: VectorExtension): Promise<void> {
  const log = new Logger('DatabaseRepository');
  log.log('Running migrations');
  await db.transaction(async (tx) => {
    for (const statement of SCHEMA) await tx.query(statement);
    await tx.query(vectorIndexQuery(extension, 'smart_search', 'clip_index'));
    await tx.query(vectorIndexQuery(extension, 'face_search', 'face_index'));
  });
  log.log('Finished running migrations');
}
