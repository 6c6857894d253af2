// Shared by backup.test.ts and restore.test.ts: an installed fake snap with a populated Immich-like
// database and media tree, and the checksums that prove a round trip.
export { waitFor } from '../harness/wait.js';
import { waitFor } from '../harness/wait.js';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { FakeSnapd } from '../harness/fake-snapd.js';
import { snapPaths, type SnapPaths } from '../../hooks-src/snap/paths.js';
import type { SnapEnv } from '../../hooks-src/snap/env.js';
import { buildSnapDir, repoRoot, snapEnvFor } from '../harness/fake-snap.js';
import { pathToFileURL } from 'node:url';
import { DOUBLE_OWNED_TABLES } from '../doubles/immich-server/migrations.js';
import { sqlList } from './refresh-fixtures.js';

export interface Env {
  snapd: FakeSnapd;
  paths: SnapPaths;
  media: string;
  backups: string;
}

/**
 * A private copy of build/snap, taken only when complete: other work in the same tree may be
 * rebuilding build/snap (buildAll removes it first) while these tests run.
 */
async function stableBuild(into: string): Promise<string> {
  const dest = join(into, 'build-snap');
  // entries.mjs has no type declarations; a computed specifier keeps tsc from looking for them.
  const { executables } = (await import(pathToFileURL(join(repoRoot, 'entries.mjs')).href)) as { executables: Array<{ targets: string[] }> };
  const complete = (dir: string) => executables.every((x) => x.targets.every((t) => existsSync(join(dir, t))));
  for (let attempt = 0; attempt < 60; attempt++) {
    rmSync(dest, { recursive: true, force: true });
    try {
      if (complete(buildSnapDir)) {
        cpSync(buildSnapDir, dest, { recursive: true });
        if (complete(dest)) return dest;
      }
    } catch {
      /* changed under us */
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error('build/snap never became complete: run node build.mjs');
}

export async function installed(extraEnv: Record<string, string> = {}): Promise<Env> {
  const root = mkdtempSync(join(tmpdir(), 'backup-it-'));
  chmodSync(root, 0o755);
  const from = await stableBuild(root);
  const snapd = await FakeSnapd.create({ root, extraEnv, from });
  await snapd.install();
  const paths = snapPaths(snapEnvFor(snapd.layout) as unknown as SnapEnv);
  await waitFor('postgres', async () => {
    await query({ paths } as Env, 'SELECT 1', 'postgres');
    return true;
  });
  return { snapd, paths, media: paths.defaultMedia, backups: paths.defaultBackups };
}


export async function query<T = Record<string, unknown>>(e: Pick<Env, 'paths'>, sql: string, db = 'immich'): Promise<T[]> {
  const c = new pg.Client({ host: e.paths.pgSocketDir, port: 5432, user: 'postgres', database: db, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

/**
 * An Immich-like schema owned by `immich`: thousands of rows, a 512-d vector column with an HNSW
 * index. Its names (users, assets, embeddings) stay clear of the tables the Immich double creates
 * itself when it starts (DOUBLE_OWNED_TABLES, smart_search).
 */
export const POPULATE_SQL = `
SET ROLE immich;
CREATE TABLE users (id uuid PRIMARY KEY, email text UNIQUE NOT NULL, name text, created_at timestamptz NOT NULL);
INSERT INTO users SELECT md5('u'||i)::uuid, 'user'||i||'@example.com', 'User ' || i, timestamptz '2024-01-01' + i * interval '1 day' FROM generate_series(1,5) i;
CREATE TABLE assets (id uuid PRIMARY KEY, owner_id uuid NOT NULL REFERENCES users(id), original_path text NOT NULL,
  checksum bytea NOT NULL, file_created_at timestamptz, is_favorite boolean NOT NULL, type text NOT NULL);
INSERT INTO assets SELECT md5('a'||i)::uuid, md5('u'||(1 + i % 5))::uuid, '/data/upload/' || i || '.jpg', decode(md5(i::text), 'hex'),
  timestamptz '2020-01-01' + i * interval '1 hour', i % 7 = 0, CASE WHEN i % 10 = 0 THEN 'VIDEO' ELSE 'IMAGE' END FROM generate_series(1,3000) i;
CREATE TABLE exif (asset_id uuid PRIMARY KEY REFERENCES assets(id) ON DELETE CASCADE, make text, model text,
  latitude double precision, longitude double precision, description text);
INSERT INTO exif SELECT md5('a'||i)::uuid, 'Make' || (i % 13), 'Model ' || (i % 29), (i % 180) - 90 + 0.123, (i % 360) - 180 + 0.456,
  repeat('é✓', i % 5) FROM generate_series(1,3000) i;
CREATE TABLE embeddings (asset_id uuid PRIMARY KEY REFERENCES assets(id) ON DELETE CASCADE, embedding vector(512) NOT NULL);
INSERT INTO embeddings SELECT md5('a'||i)::uuid, (SELECT array_agg(sin(i * j)::real) FROM generate_series(1,512) j)::vector FROM generate_series(1,1500) i;
CREATE INDEX embeddings_hnsw ON embeddings USING hnsw (embedding vector_cosine_ops);
CREATE TABLE tags (id serial PRIMARY KEY, value text UNIQUE NOT NULL);
INSERT INTO tags (value) SELECT 'tag-' || i FROM generate_series(1,2000) i;
RESET ROLE;
`;

/** Changes every table and adds one, so that a restore has something to undo. */
export const WIPE_SQL = `
DELETE FROM embeddings WHERE asset_id IN (SELECT asset_id FROM embeddings LIMIT 300);
UPDATE exif SET make = 'Changed' WHERE latitude > 0;
DELETE FROM assets WHERE type = 'VIDEO';
DROP TABLE tags;
CREATE TABLE junk (x int); INSERT INTO junk SELECT generate_series(1,10);
`;

/** Per-table row count and md5 over every row's text form, ordered; plus the schema's tables. */
export async function tableChecksums(e: Pick<Env, 'paths'>, db = 'immich'): Promise<Record<string, string>> {
  const mine = sqlList(DOUBLE_OWNED_TABLES); // the Immich double's own tables: rewritten at every start
  const tables = await query<{ t: string }>(e, `SELECT c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> ALL (${mine}) ORDER BY 1`, db);
  const out: Record<string, string> = {};
  for (const { t } of tables) {
    const [r] = await query<{ n: number; h: string }>(e, `SELECT count(*)::int AS n, md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS h FROM public."${t}" x`, db);
    out[t] = `${r!.n}:${r!.h}`;
  }
  const idx = await query<{ i: string }>(e, `SELECT indexname AS i FROM pg_indexes WHERE schemaname = 'public' AND tablename <> ALL (${mine}) ORDER BY 1`, db);
  out['(indexes)'] = idx.map((r) => r.i).join(',');
  return out;
}

/**
 * ~2,000 originals in Immich's layout (sizes spread evenly over [minKiB, maxKiB]), some
 * library/profile files, thumbnails and .immich markers.
 */
export function populateMedia(root: string, files = 2000, size: { minKiB: number; maxKiB: number } = { minKiB: 4, maxKiB: 120 }): void {
  const users = ['11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222'];
  for (const f of ['upload', 'library', 'profile', 'thumbs', 'encoded-video']) {
    mkdirSync(join(root, f), { recursive: true });
    writeFileSync(join(root, f, '.immich'), String(Date.now()));
  }
  for (let i = 0; i < files; i++) {
    const u = users[i % 2]!;
    const h = createHash('md5').update(String(i)).digest('hex');
    const folder = i % 20 === 0 ? 'library' : 'upload';
    const dir = join(root, folder, u, h.slice(0, 2), h.slice(2, 4));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${h}.jpg`), randomBytes(size.minKiB * 1024 + ((i * 7919) % ((size.maxKiB - size.minKiB) * 1024))));
  }
  mkdirSync(join(root, 'profile', users[0]!), { recursive: true });
  writeFileSync(join(root, 'profile', users[0]!, 'avatar.jpg'), randomBytes(5000));
  mkdirSync(join(root, 'thumbs', users[0]!, 'aa'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(root, 'thumbs', users[0]!, 'aa', `t${i}_preview.jpeg`), randomBytes(2000));
}

/** Deletes, changes (same size and not) and adds files in the originals. */
export function changeMedia(root: string): void {
  const files = listFiles(root, ['upload']);
  files.slice(0, 100).forEach((f) => rmSync(join(root, f)));
  files.slice(100, 150).forEach((f) => writeFileSync(join(root, f), randomBytes(statSync(join(root, f)).size)));
  files.slice(150, 160).forEach((f) => writeFileSync(join(root, f), randomBytes(1234)));
  mkdirSync(join(root, 'upload/new'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(root, 'upload/new', `n${i}.jpg`), randomBytes(3000));
  rmSync(join(root, 'profile'), { recursive: true, force: true });
}

export function listFiles(root: string, folders: string[]): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const d of readdirSync(join(root, rel), { withFileTypes: true })) {
      if (d.isDirectory()) walk(`${rel}/${d.name}`);
      else out.push(`${rel}/${d.name}`);
    }
  };
  for (const f of folders) if (existsSync(join(root, f))) walk(f);
  return out.sort();
}

export const ORIGINALS = ['library', 'upload', 'profile'];

/**
 * path → sha256 of every file under the original folders (the round-trip proof for media), but
 * Immich's `.immich` markers, whose content (a time stamp) Immich rewrites at every start.
 */
export function fileHashes(root: string, folders = ORIGINALS): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of listFiles(root, folders)) {
    if (f.endsWith('/.immich')) continue;
    out[f] = createHash('sha256').update(readFileSync(join(root, f))).digest('hex');
  }
  return out;
}

export function backupDirs(location: string): string[] {
  return existsSync(location) ? readdirSync(location).filter((n) => /^\d{8}T\d{6}Z/.test(n)).sort() : [];
}

/** A tmpfs mounted at `dir` (created if needed); returns the unmount function. */
export function mountTmpfs(dir: string, size: string, opts = ''): () => void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${opts ? `,${opts}` : ''}`, 'tmpfs', dir]);
  return () => {
    try {
      execFileSync('umount', ['-l', dir]);
    } catch {
      /* already unmounted */
    }
  };
}

export async function teardown(e: Env | undefined): Promise<void> {
  if (e) await e.snapd.destroy();
}
