// Postgres major-upgrade time for synthetic Immich-like databases, with the hook's own code and
// chosen mode (pg_upgrade in copy mode here: ext4 has no reflinks), against dump-and-restore
// (pg_dump -Fd -j N | pg_restore -j N, then analyze), measured in the same run on the same data.
//
//   sudo node --import tsx bench/upgrade.ts [sizes in GB, default "1 3"]
//   BENCH_PAIR=13-15 sudo node --import tsx bench/upgrade.ts …   (the pair of the first figures)
//
// The majors are 15.18 -> 18.6 by default, the upgrade the snap makes (scripts/build-postgres.sh;
// DEVELOPERS.md), or 13 -> 15 (scripts/setup-old-postgres.sh). pg_upgrade's cost is dominated by
// copying relation files and dumping/restoring the schema; dump-and-restore's by re-inserting rows
// and rebuilding indexes.
import { PG13_DIR, PG15_DIR, builtLinks, ensureOldPostgres } from '../test/harness/old-postgres.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { hostLinks, layoutRevision, snapEnvFor } from '../test/harness/fake-snap.js';
import { ensureCluster, startTemporary, withConnection } from '../hooks-src/postgres/cluster.js';
import { PG_PORT, writePostgresFiles } from '../hooks-src/postgres/files.js';
import { detectMachine } from '../hooks-src/postgres/machine.js';
import { analyzeAll, directoryBytes, inspectOldCluster, prepareWorkDir, upgradeCluster } from '../hooks-src/postgres/upgrade.js';
import { asDaemon } from '../hooks-src/snap/as-daemon.js';
import type { SnapEnv } from '../hooks-src/snap/env.js';
import { createLayout } from '../hooks-src/snap/layout.js';
import { snapPaths, type SnapPaths } from '../hooks-src/snap/paths.js';
import { runAsDaemon } from '../hooks-src/snap/run-as.js';

const OLD13 = process.env.BENCH_PAIR === '13-15';
if (OLD13) ensureOldPostgres();
const FROM = OLD13 ? 13 : 15;
const TO = OLD13 ? 15 : 18;
/** The old major's own binaries (pg_upgrade needs them; the bench starts and fills the old cluster with them). */
const oldBin = (name: string) => (OLD13 ? join(PG13_DIR, 'bin', name) : join(PG15_DIR, 'lib/postgresql/15/bin', name));
const LINKS = OLD13
  ? { ...hostLinks([15]), 'usr/lib/postgresql/13': PG13_DIR, 'usr/share/postgresql/13': join(PG13_DIR, 'share/postgresql') }
  : { ...hostLinks([]), ...builtLinks(15), ...builtLinks(18) };
const GiB = 1024 ** 3;
const JOBS = String(Math.max(1, Math.min(4, cpus().length)));
const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);

const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = Date.now();
  const r = await fn();
  return [r, Date.now() - t];
}

/** Immich-like data: assets (~700 B/row, 3 b-tree indexes) and 20k 512-d vectors with an HNSW index. */
function fillSql(gb: number): string[] {
  const rows = Math.round(gb * 1_250_000);
  const out = [
    `CREATE EXTENSION vector`,
    `CREATE TABLE assets (id uuid PRIMARY KEY, owner_id int NOT NULL, original_path text NOT NULL, checksum bytea NOT NULL,
       file_created_at timestamptz NOT NULL, exif jsonb NOT NULL)`,
  ];
  for (let from = 1; from <= rows; from += 250_000) {
    out.push(`INSERT INTO assets SELECT md5(i::text)::uuid, i % 50, '/var/snap/immich-distribution/common/media/upload/' || md5(i::text) || '/' || i || '.jpg',
      decode(md5('c' || i), 'hex'), timestamptz '2015-01-01' + i * interval '1 minute',
      jsonb_build_object('make', 'Make ' || (i % 40), 'model', 'Model ' || (i % 400), 'desc', repeat(md5((i * 7)::text), 8), 'lat', (i % 180) - 90.5, 'lon', (i % 360) - 180.25)
      FROM generate_series(${from}, ${Math.min(rows, from + 249_999)}) i`);
  }
  out.push(
    `CREATE INDEX assets_owner_date ON assets (owner_id, file_created_at)`,
    `CREATE INDEX assets_path ON assets (original_path)`,
    `CREATE TABLE embeddings (asset_id uuid PRIMARY KEY, embedding vector(512) NOT NULL)`,
    `INSERT INTO embeddings SELECT md5(i::text)::uuid, (SELECT array_agg(sin(i * j)::real) FROM generate_series(1, 512) j)::vector FROM generate_series(1, 20000) i`,
    `CREATE INDEX embeddings_hnsw ON embeddings USING hnsw (embedding vector_cosine_ops)`,
  );
  return out;
}

function pgCtlOld(_p: SnapPaths, args: string[]): void {
  const r = spawnSync('runuser', ['-u', '_daemon_', '--', oldBin('pg_ctl'), ...args], { encoding: 'utf8', cwd: '/' });
  if (r.status !== 0) throw new Error(`pg_ctl ${args[0]}: ${r.stderr}${r.stdout}`);
}
const optsOld = (p: SnapPaths) => `-p ${PG_PORT} -c listen_addresses='' -c unix_socket_directories=${p.pgSetupSocketDir} -c hba_file=${p.pgHba} -c ident_file=${p.pgIdent} -c maintenance_work_mem=256MB -c max_wal_size=4GB`;

async function one(gb: number): Promise<Record<string, string>> {
  const root = mkdtempSync(join(tmpdir(), 'bench-upgrade-'));
  chmodSync(root, 0o755);
  try {
    const l = layoutRevision({ root, revision: 'x1', links: LINKS });
    const p = snapPaths(snapEnvFor(l) as unknown as SnapEnv);
    createLayout(p); // the directories and modes install makes
    writePostgresFiles(p, { major: TO, vector: 'vector', machine: detectMachine(), listenTcp: false });
    const dirOld = p.pgCluster(FROM);
    execFileSync('runuser', ['-u', '_daemon_', '--', oldBin('initdb'), '-D', dirOld, '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--data-checksums', '--auth-local=peer'], { stdio: 'ignore', cwd: '/' });
    pgCtlOld(p, ['start', '-w', '-D', dirOld, '-l', join(p.pgSetupSocketDir, 'old.log'), '-o', optsOld(p)]);
    const c = new pg.Client({ host: p.pgSetupSocketDir, port: PG_PORT, user: 'postgres', database: 'postgres' });
    await c.connect();
    await c.query(`CREATE DATABASE immich TEMPLATE template0`);
    await c.end();
    const db = new pg.Client({ host: p.pgSetupSocketDir, port: PG_PORT, user: 'postgres', database: 'immich' });
    await db.connect();
    for (const q of fillSql(gb)) await db.query(q);
    const size = Number((await db.query<{ n: string }>(`SELECT pg_database_size('immich')::text AS n`)).rows[0]!.n);
    await db.end();
    pgCtlOld(p, ['stop', '-w', '-m', 'fast', '-D', dirOld]);
    const oldBytes = directoryBytes(dirOld, ['pg_wal']);

    // A. The hook's path: inspect, pg_upgrade (copy), then analyze-in-stages on the new cluster.
    prepareWorkDir(p);
    const [info, tInspect] = await timed(() => inspectOldCluster(p, FROM, dirOld));
    const [, tUpgrade] = await timed(() => upgradeCluster(p, { from: FROM, to: TO, oldDir: dirOld, mode: 'copy', info }));
    const [, tAnalyze] = await timed(async () => {
      const s = await startTemporary(p, TO, PG_PORT);
      await analyzeAll(p, TO, s);
      await s.stop();
    });
    const hook = tInspect + tUpgrade + tAnalyze;
    asDaemon(() => rmSync(p.pgCluster(TO), { recursive: true, force: true }));

    // B. Dump and restore: the new major's pg_dump -Fd -j N from the old server, initdb, pg_restore -j N, analyze.
    const dumpDir = join(p.pgClustersDir, 'bench-dump');
    const [, tDump] = await timed(async () => {
      pgCtlOld(p, ['start', '-w', '-D', dirOld, '-l', join(p.pgSetupSocketDir, 'old.log'), '-o', optsOld(p)]);
      const r = await runAsDaemon(p.pgBin(TO, 'pg_dump'), ['-Fd', '-j', JOBS, '-Z', '0', '-f', dumpDir, '-h', p.pgSetupSocketDir, '-p', String(PG_PORT), '-U', 'postgres', 'immich'], { timeoutMs: 7_200_000 });
      pgCtlOld(p, ['stop', '-w', '-m', 'fast', '-D', dirOld]);
      if (r.exitCode !== 0) throw new Error(r.stderr);
    });
    const [, tRestore] = await timed(async () => {
      await ensureCluster(p, TO, 'bench-password-not-a-secret');
      const s = await startTemporary(p, TO, PG_PORT);
      await withConnection(s, 'postgres', async (q) => void (await q.query(`CREATE DATABASE immich TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'`)));
      const r = await runAsDaemon(p.pgBin(TO, 'pg_restore'), ['-j', JOBS, '-d', 'immich', '-h', s.socketDir, '-p', String(s.port), '-U', 'postgres', dumpDir], { timeoutMs: 7_200_000 });
      if (r.exitCode !== 0) throw new Error(r.stderr);
      await analyzeAll(p, TO, s);
      await s.stop();
    });
    return {
      majors: `${FROM} -> ${TO}`,
      database: `${(size / GiB).toFixed(2)} GB`,
      inspect: sec(tInspect),
      'pg_upgrade copy': sec(tUpgrade),
      'analyze in stages': sec(tAnalyze),
      'hook total': sec(hook),
      'dump + restore': `${sec(tDump + tRestore)} (${sec(tDump)} + ${sec(tRestore)})`,
      'dump/restore ÷ hook': `${((tDump + tRestore) / hook).toFixed(1)}×`,
      'of 10 min': `${((hook / 600_000) * 100).toFixed(0)}%`,
      'cluster files': `${(oldBytes / GiB).toFixed(2)} GB`,
    };
  } finally {
    spawnSync('sh', ['-c', `for f in ${root}/var/snap/*/common/postgres/*/postmaster.pid; do [ -e "$f" ] && kill -INT $(head -1 "$f") 2>/dev/null; done; sleep 2; true`]);
    rmSync(root, { recursive: true, force: true });
  }
}

const results: Array<Record<string, string>> = [];
for (const gb of sizes.length ? sizes : [1, 3]) {
  process.stderr.write(`bench/upgrade: ${gb} GB...\n`);
  results.push({ target: `${gb} GB`, ...(await one(gb)) });
  process.stderr.write(`${JSON.stringify(results.at(-1))}\n`);
}
console.table(results);
