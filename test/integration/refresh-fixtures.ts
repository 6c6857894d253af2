// Shared by refresh.test.ts and pg-upgrade.test.ts: an installed fake snap, SQL helpers, per-table
// checksums, and the assets that prove a refresh kept the data.
import { waitFor as waitForShared } from '../harness/wait.js';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { FakeSnapd, type FakeSnapdOptions } from '../harness/fake-snapd.js';
import { buildSnapDir, repoRoot, snapEnvFor } from '../harness/fake-snap.js';
import { snapPaths, type SnapPaths } from '../../hooks-src/snap/paths.js';
import { DOUBLE_OWNED_TABLES } from '../doubles/immich-server/migrations.js';
import type { SnapEnv } from '../../hooks-src/snap/env.js';

export interface Env {
  snapd: FakeSnapd;
  paths: SnapPaths;
}

export function pathsOf(snapd: FakeSnapd): SnapPaths {
  return snapPaths(snapEnvFor(snapd.layout) as unknown as SnapEnv);
}

let privateTree: string | undefined;

/**
 * A private copy of build/snap for this test process. Other work in the same tree rebuilds
 * build/snap (build.mjs empties it first), so a test copies it once, complete, and uses the copy.
 */
export async function snapTree(): Promise<string> {
  if (privateTree) return privateTree;
  // entries.mjs has no type declarations; a computed specifier keeps tsc from looking for them.
  const { executables } = (await import(pathToFileURL(join(repoRoot, 'entries.mjs')).href)) as { executables: Array<{ targets: string[] }> };
  const complete = () => executables.every((x) => x.targets.every((t) => existsSync(join(buildSnapDir, t))));
  for (let i = 0; i < 120; i++) {
    if (complete()) {
      const dir = mkdtempSync(join(tmpdir(), 'snap-tree-'));
      chmodSync(dir, 0o755); // it becomes $SNAP, which _daemon_ must traverse
      cpSync(buildSnapDir, dir, { recursive: true, verbatimSymlinks: true });
      if (executables.every((x) => x.targets.every((t) => existsSync(join(dir, t))))) {
        privateTree = dir;
        process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
        return dir;
      }
      rmSync(dir, { recursive: true, force: true });
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('build/snap is incomplete: run node build.mjs');
}

export async function newSnapd(prefix: string, opts: FakeSnapdOptions = {}): Promise<FakeSnapd> {
  const root = opts.root ?? mkdtempSync(join(tmpdir(), prefix));
  chmodSync(root, 0o755); // _daemon_ must reach its cluster, as under /var/snap
  return FakeSnapd.create({ root, from: await snapTree(), ...opts });
}

export async function installed(prefix: string, opts: FakeSnapdOptions = {}): Promise<Env> {
  const snapd = await newSnapd(prefix, opts);
  await snapd.install();
  const e = { snapd, paths: pathsOf(snapd) };
  await waitForPostgres(e);
  return e;
}


/** The refresh suites wait longer by default: Postgres restarts after a refresh or an upgrade. */
export function waitFor(what: string, fn: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  return waitForShared(what, fn, ms);
}

export async function waitForPostgres(e: Env): Promise<void> {
  await waitFor('postgres', async () => {
    await query(e, 'SELECT 1', 'postgres');
    return true;
  });
}

export async function query<T = Record<string, unknown>>(e: Pick<Env, 'paths'>, sql: string, db = 'immich', params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ host: e.paths.pgSocketDir, port: 5432, user: 'postgres', database: db, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    const r = await c.query(sql, params);
    return (Array.isArray(r) ? (r.at(-1)?.rows ?? []) : r.rows) as T[];
  } finally {
    await c.end();
  }
}

/** An Immich-like schema owned by `immich`: rows of every common type, a 512-d vector column with an HNSW index. */
export function populateSql(rows = 3000): string {
  return `
SET ROLE immich;
CREATE TABLE users (id uuid PRIMARY KEY, email text UNIQUE NOT NULL, name text, created_at timestamptz NOT NULL);
INSERT INTO users SELECT md5('u'||i)::uuid, 'user'||i||'@example.com', 'User ' || i, timestamptz '2024-01-01' + i * interval '1 day' FROM generate_series(1,5) i;
CREATE TABLE assets (id uuid PRIMARY KEY, owner_id uuid NOT NULL REFERENCES users(id), original_path text NOT NULL,
  checksum bytea NOT NULL, file_created_at timestamptz, is_favorite boolean NOT NULL, type text NOT NULL, exif jsonb);
INSERT INTO assets SELECT md5('a'||i)::uuid, md5('u'||(1 + i % 5))::uuid, '/data/upload/' || i || '.jpg', decode(md5(i::text), 'hex'),
  timestamptz '2020-01-01' + i * interval '1 hour', i % 7 = 0, CASE WHEN i % 10 = 0 THEN 'VIDEO' ELSE 'IMAGE' END,
  jsonb_build_object('make', 'Make' || (i % 13), 'lat', (i % 180) - 90 + 0.123, 'desc', repeat('é✓', i % 5)) FROM generate_series(1,${rows}) i;
CREATE INDEX assets_owner ON assets (owner_id, file_created_at);
CREATE TABLE embeddings (asset_id uuid PRIMARY KEY REFERENCES assets(id) ON DELETE CASCADE, embedding vector(512) NOT NULL);
INSERT INTO embeddings SELECT md5('a'||i)::uuid, (SELECT array_agg(sin(i * j)::real) FROM generate_series(1,512) j)::vector FROM generate_series(1,${Math.min(rows, 1500)}) i;
CREATE INDEX embeddings_hnsw ON embeddings USING hnsw (embedding vector_cosine_ops);
CREATE TABLE tags (id serial PRIMARY KEY, value text UNIQUE NOT NULL);
INSERT INTO tags (value) SELECT 'tag-' || i FROM generate_series(1,2000) i;
RESET ROLE;
`;
}

/**
 * Row count and an order-independent checksum of every user table in `public` (but the Immich
 * double's own, which it writes at every start: DOUBLE_OWNED_TABLES), through any connection.
 */
export async function checksumsVia(run: (sql: string) => Promise<Array<Record<string, unknown>>>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const { t } of await run(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> ALL (${sqlList(DOUBLE_OWNED_TABLES)}) ORDER BY 1`)) {
    const [r] = await run(`SELECT count(*)::text AS n, coalesce(md5(string_agg(md5(x::text), '' ORDER BY md5(x::text))), '-') AS h FROM "${String(t)}" x`);
    out[String(t)] = `${String(r!.n)} rows ${String(r!.h)}`;
  }
  return out;
}

/** `ARRAY['a','b']` for names that are plain identifiers. */
export function sqlList(names: readonly string[]): string {
  if (!names.every((n) => /^[a-z_]+$/.test(n))) throw new Error(`not plain names: ${names.join(',')}`);
  return `ARRAY[${names.map((n) => `'${n}'`).join(',')}]::name[]`;
}

/** checksumsVia the snap's Postgres service. */
export function tableChecksums(e: Pick<Env, 'paths'>, db = 'immich'): Promise<Record<string, string>> {
  return checksumsVia((sql) => query<Record<string, unknown>>(e, sql, db));
}

/** Every running process with its command line (NUL-separated, as /proc gives it). */
export function processes(): Array<{ pid: string; cmd: string }> {
  const out: Array<{ pid: string; cmd: string }> = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      out.push({ pid, cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8') });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Stops every postgres a killed hook may have left under this root (tests must not leak processes). */
export function stopStrayPostgres(root: string): void {
  for (const { pid, cmd } of processes()) {
    if (!cmd.includes(root) || !/postgres|pg_upgrade|pg_ctl/.test(cmd)) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

export async function destroy(e: Env | undefined): Promise<void> {
  if (!e) return;
  await e.snapd.destroy({ keep: true });
  stopStrayPostgres(e.snapd.root);
  await new Promise((r) => setTimeout(r, 200));
  await e.snapd.destroy();
}

/** pg_control's state as pg_controldata prints it ("shut down", "in production"…). */
export function controlState(dir: string, bin = '/usr/lib/postgresql/15/bin/pg_controldata'): string {
  const r = spawnSync(bin, [dir], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return /Database cluster state:\s+(.*)/.exec(r.stdout)?.[1]?.trim() ?? `? ${r.stderr}`;
}

export function readJson<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

export function exists(p: string): boolean {
  return existsSync(p);
}
