// Postgres major upgrades, for real:
//
// 1. pg_upgrade 13 -> 15 with data, through the upgrade adapter the hook uses (inspect, initdb,
//    pg_upgrade in copy mode, rename, extension updates, analyze). PostgreSQL 13 comes from
//    scripts/setup-old-postgres.sh. Not through the install hook: Immich (and conf.ts) need >= 14.
// 2. Through the hooks, the upgrade the snap will make: a revision shipping PostgreSQL 15 refreshed
//    to one shipping 15 and 18 (scripts/build-postgres.sh: upstream 15.18 from bookworm's source,
//    18.6 from sid's). It succeeds with every row and checksum equal; a revert finds 15 as it was;
//    the next refresh upgrades again; the old cluster goes only after 18 has run; SIGKILL at every
//    step (also mid pg_upgrade) converges.
// 3. A real refusal: Debian's own 15.20 stores a column option (`pg_attver`) that 18.6 does not
//    know, so pg_upgrade from it fails; that proves a real pg_upgrade failure is one clear line,
//    snapd reverts and the previous revision serves every row.
// Run as root.
import { PG13_DIR, builtLinks, ensureOldPostgres } from '../harness/old-postgres.js';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SnapdChangeError } from '../harness/fake-snapd.js';
import { hostLinks, layoutRevision, snapEnvFor } from '../harness/fake-snap.js';
import { type Env, checksumsVia, destroy, installed, populateSql, query, readJson, tableChecksums, waitForPostgres, snapTree, stopStrayPostgres, processes } from './refresh-fixtures.js';
import { snapPaths, type SnapPaths } from '../../hooks-src/snap/paths.js';
import type { SnapEnv } from '../../hooks-src/snap/env.js';
import { createLayout } from '../../hooks-src/snap/layout.js';
import { writePostgresFiles } from '../../hooks-src/postgres/files.js';
import { detectMachine } from '../../hooks-src/postgres/machine.js';
import { startTemporary, withConnection } from '../../hooks-src/postgres/cluster.js';
import { analyzeAll, connectableDatabases, inspectOldCluster, prepareWorkDir, readControl, updateExtensions, upgradeCluster } from '../../hooks-src/postgres/upgrade.js';

const PG13 = PG13_DIR;
ensureOldPostgres();

/** Revisions shipping upstream PostgreSQL 15.18, then 15.18 + 18.6 (pg_upgrade reads 15 with 15's binaries). */
const OLD_LINKS = { ...hostLinks([]), ...builtLinks(15) };
const NEW_LINKS = { ...OLD_LINKS, ...builtLinks(18) };
/** Revisions shipping Debian's 15.20, then 15.20 + 18.6: pg_upgrade refuses (see the top). */
const DEBIAN_OLD_LINKS = hostLinks([15]);
const DEBIAN_NEW_LINKS = { ...DEBIAN_OLD_LINKS, ...builtLinks(18) };

// ------------------------------------------------------------------------------------------------
const Real = suite('pg-upgrade: a real 13 -> 15 upgrade with data, through the adapter the hook uses');
let realRoot = '';
let paths: SnapPaths;
const PORT = 5432;

async function sql13<T = Record<string, unknown>>(text: string, db = 'immich'): Promise<T[]> {
  const c = new pg.Client({ host: paths.pgSetupSocketDir, port: PORT, user: 'postgres', database: db });
  await c.connect();
  try {
    const r = await c.query(text);
    return (Array.isArray(r) ? (r.at(-1)?.rows ?? []) : r.rows) as T[];
  } finally {
    await c.end();
  }
}

function pgCtl13(args: string[]): void {
  const r = spawnSync('runuser', ['-u', '_daemon_', '--', join(PG13, 'bin/pg_ctl'), ...args], { encoding: 'utf8', cwd: '/' });
  if (r.status !== 0) throw new Error(`pg_ctl ${args[0]}: ${r.stderr}${r.stdout}`);
}

function start13(): void {
  const o = `-p ${PORT} -c listen_addresses='' -c unix_socket_directories=${paths.pgSetupSocketDir} -c hba_file=${paths.pgHba} -c ident_file=${paths.pgIdent}`;
  pgCtl13(['start', '-w', '-D', paths.pgCluster(13), '-l', join(paths.pgSetupSocketDir, '13.log'), '-o', o]);
}

let before: Record<string, string> = {};

Real.before(async () => {
  try {
    await setupReal();
  } catch (err) {
    // uvu reports a failing before() hook only as 0/N: say why.
    console.error(err);
    throw err;
  }
});

async function setupReal(): Promise<void> {
  realRoot = mkdtempSync(join(tmpdir(), 'pgup-real-'));
  chmodSync(realRoot, 0o755);
  const l = layoutRevision({ root: realRoot, revision: 'x1', from: await snapTree(), links: { ...OLD_LINKS, 'usr/lib/postgresql/13': PG13, 'usr/share/postgresql/13': join(PG13, 'share/postgresql') } });
  paths = snapPaths(snapEnvFor(l) as unknown as SnapEnv);
  createLayout(paths); // the directories and modes install makes
  writePostgresFiles(paths, { major: 15, vector: 'vector', machine: detectMachine(), listenTcp: false, port: PORT });
  // A 13 cluster made exactly as install makes its clusters.
  const init = spawnSync('runuser', ['-u', '_daemon_', '--', join(PG13, 'bin/initdb'), '-D', paths.pgCluster(13), '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--data-checksums', '--auth-local=peer', '--auth-host=scram-sha-256'], { encoding: 'utf8', cwd: '/' });
  assert.is(init.status, 0, init.stderr);
  start13();
  await sql13(`CREATE ROLE immich LOGIN SUPERUSER`, 'postgres');
  await sql13(`CREATE DATABASE immich OWNER immich TEMPLATE template0`, 'postgres');
  await sql13(`SET ROLE immich; CREATE EXTENSION vector; CREATE EXTENSION cube; CREATE EXTENSION earthdistance; CREATE EXTENSION pg_trgm; CREATE EXTENSION unaccent; CREATE EXTENSION "uuid-ossp"`);
  await sql13(populateSql(3000));
  before = await checksumsVia((q) => sql13(q));
  pgCtl13(['stop', '-w', '-m', 'fast', '-D', paths.pgCluster(13)]);
}

Real.after(() => {
  stopStrayPostgres(realRoot);
  rmSync(realRoot, { recursive: true, force: true });
});

Real('pg_upgrade (copy mode) 13 -> 15: every row, every table checksum equal; vector index, statistics and extensions work', async () => {
  prepareWorkDir(paths);
  const info = await inspectOldCluster(paths, 13, paths.pgCluster(13));
  assert.equal(info, { encoding: 'UTF8', collate: 'C.UTF-8', ctype: 'C.UTF-8', checksums: true, preload: '' });
  const r = await upgradeCluster(paths, { from: 13, to: 15, oldDir: paths.pgCluster(13), mode: 'copy', info });
  assert.is(r.mode, 'copy');
  assert.ok(!existsSync(paths.pgUpgradeStaging(15)), 'the staging directory was renamed into place');
  const s = await startTemporary(paths, 15, PORT);
  try {
    const v = await withConnection(s, 'postgres', async (db) => (await db.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v);
    assert.ok(v.startsWith('15'), v);
    const dbs = await withConnection(s, 'postgres', connectableDatabases);
    const updates = [];
    for (const db of dbs) updates.push(...(await withConnection(s, db, (c) => updateExtensions(c, db))));
    // contrib extensions whose default version moved between 13 and 15 are updated (pg_trgm 1.5 -> 1.6)
    assert.ok(updates.some((u) => u.name === 'pg_trgm'), JSON.stringify(updates));
    await analyzeAll(paths, 15, s);
    const after = await withConnection(s, 'immich', async (db) => checksumsVia(async (q) => (await db.query<Record<string, unknown>>(q)).rows));
    assert.equal(after, before);
    const stats = await withConnection(s, 'immich', async (db) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stats WHERE schemaname = 'public'`)).rows[0]!.n);
    assert.ok(stats > 10, `pg_stats rows: ${stats}`);
    const near = await withConnection(s, 'immich', async (db) => (await db.query(`SET enable_seqscan = off; SELECT asset_id FROM embeddings ORDER BY embedding <=> (SELECT embedding FROM embeddings LIMIT 1) LIMIT 3`)));
    assert.ok(near);
    const enc = await withConnection(s, 'postgres', async (db) => (await db.query<{ e: string; c: string; k: string }>(`SELECT pg_encoding_to_char(encoding) AS e, datcollate AS c, current_setting('data_checksums') AS k FROM pg_database WHERE datname = 'immich'`)).rows[0]);
    assert.equal(enc, { e: 'UTF8', c: 'C.UTF-8', k: 'on' });
  } finally {
    await s.stop();
  }
});

Real('the old cluster was only read: it still starts with its own binaries and holds the same data (revert-safe)', async () => {
  assert.is(readControl(paths.pgCluster(13)).state, 'shut down');
  start13();
  try {
    assert.equal(await checksumsVia((q) => sql13(q)), before);
  } finally {
    pgCtl13(['stop', '-w', '-m', 'fast', '-D', paths.pgCluster(13)]);
  }
});

Real.run();

async function serverMajor(e: Env): Promise<number> {
  const [r] = await query<{ v: string }>(e, `SELECT current_setting('server_version_num') AS v`, 'postgres');
  return Math.floor(Number(r!.v) / 10000);
}

async function oldInstall(prefix: string, rows: number, links = OLD_LINKS, root?: string): Promise<{ e: Env; sums: Record<string, string> }> {
  const e = await installed(prefix, { links, ...(root ? { root } : {}) });
  assert.is(await serverMajor(e), 15);
  await query(e, populateSql(rows));
  return { e, sums: await tableChecksums(e) };
}

/** Several refreshes in a row would trip systemd's start limit (5 starts in 10 s) on the harness; real refreshes are far apart. */
function resetStartLimits(e: Env): void {
  for (const a of e.snapd.apps) if (a.daemon) e.snapd.services.resetFailed(a.name);
}

async function refresh(e: Env, links = NEW_LINKS): Promise<void> {
  resetStartLimits(e);
  try {
    await e.snapd.refresh({ links });
  } catch (err) {
    // Say why when a service is involved: the end of the postgres service's journal.
    if (err instanceof SnapdChangeError && /configure hook/.test(err.message)) {
      const log = e.snapd.services.logPath('postgres');
      err.message += `\n--- postgres service log (tail) ---\n${existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-25).join('\n') : '(none)'}`;
    }
    throw err;
  }
}

async function refreshError(e: Env, links = NEW_LINKS): Promise<SnapdChangeError> {
  try {
    await refresh(e, links);
  } catch (err) {
    if (err instanceof SnapdChangeError) return err;
    throw err;
  }
  throw new Error('refresh unexpectedly succeeded');
}

function clusterDirs(e: Env): string[] {
  return readdirSync(e.paths.pgClustersDir).filter((d) => !d.startsWith('.')).sort();
}

function ledgerIds(e: Env): string[] {
  return readJson<{ entries: Array<{ id: string }> }>(e.paths.migrationLedger).entries.map((x) => x.id);
}

/** The service is up on `major` and every table has the rows and checksum it had. */
async function assertServes(e: Env, major: number, sums: Record<string, string>): Promise<void> {
  await waitForPostgres(e);
  assert.is(await serverMajor(e), major);
  assert.equal(await tableChecksums(e), sums);
}

/** What the service must see after an upgrade: statistics, the HNSW index in use, checksums on, extensions current. */
async function assertHealthy18(e: Env): Promise<void> {
  assert.is(await serverMajor(e), 18);
  const [st] = await query<{ n: number }>(e, `SELECT count(*)::int AS n FROM pg_stats WHERE schemaname = 'public'`);
  assert.ok(st!.n > 10, `pg_stats rows after the upgrade: ${st!.n}`);
  const plan = (await query<{ 'QUERY PLAN': string }>(e, `EXPLAIN SELECT asset_id FROM embeddings ORDER BY embedding <=> (SELECT embedding FROM embeddings LIMIT 1) LIMIT 3`)).map((r) => r['QUERY PLAN']).join('\n');
  assert.match(plan, /embeddings_hnsw/);
  const [k] = await query<{ k: string }>(e, `SELECT current_setting('data_checksums') AS k`, 'postgres');
  assert.is(k!.k, 'on');
  const stale = await query<{ name: string }>(e, `SELECT name FROM pg_available_extensions WHERE installed_version IS NOT NULL AND installed_version <> default_version`);
  assert.equal(stale, [], 'every extension at the version 18 ships');
}

// ------------------------------------------------------------------------------------------------
const Up = suite('pg-upgrade: 15 -> 18 through post-refresh, revert, upgrade again, old cluster removed after 18 ran');
let up: Env | undefined;
let upSums: Record<string, string> = {};
Up.before(async () => {
  const r = await oldInstall('pgup-ok-', 2000);
  up = r.e;
  upSums = r.sums;
});
Up.after(() => destroy(up));

Up('the refresh succeeds: 18 serves every row with equal checksums; 15 is kept until 18 has run', async () => {
  const e = up!;
  await refresh(e);
  assert.is(e.snapd.layout.revision, 'x2');
  await assertServes(e, 18, upSums);
  await assertHealthy18(e);
  assert.equal(ledgerIds(e), ['upgrade-postgres-15-to-18', 'finish-upgrade-postgres-18', 'record-state']);
  assert.is(readJson<{ postgresMajor: number }>(e.paths.stateFile).postgresMajor, 18);
  assert.equal(clusterDirs(e).filter((d) => /^\d+$/.test(d)), ['15', '18']);
  const marker = readJson<{ from: number; to: number; mode: string; controlTimeAfterHook?: number }>(e.paths.pgUpgradeMarker);
  assert.equal([marker.from, marker.to, marker.mode], [15, 18, 'copy']);
  assert.ok(marker.controlTimeAfterHook, 'the hook recorded when it last touched the new cluster');
  await query(e, `INSERT INTO tags (value) VALUES ('written-on-18')`);
});

Up('snap revert: the previous revision serves 15 exactly as it was before the upgrade', async () => {
  const e = up!;
  resetStartLimits(e);
  await e.snapd.revert();
  assert.is(e.snapd.layout.revision, 'x1');
  await assertServes(e, 15, upSums);
});

Up('refreshing again after the revert sets the served 18 aside (never deleted) and upgrades again', async () => {
  const e = up!;
  await refresh(e);
  await assertServes(e, 18, upSums);
  await assertHealthy18(e);
  const aside = clusterDirs(e).filter((d) => d.startsWith('18') && d !== '18');
  assert.is(aside.length, 1, clusterDirs(e).join(' '));
  assert.ok(ledgerIds(e).includes('set-aside-postgres-18'), ledgerIds(e).join(' '));
});

Up('the next refresh, after 18 has run as the service, removes the 15 cluster; nothing else changes', async () => {
  const e = up!;
  await query(e, `INSERT INTO tags (value) VALUES ('written-on-18-again')`);
  const sums = await tableChecksums(e);
  await refresh(e);
  await assertServes(e, 18, sums);
  assert.ok(!clusterDirs(e).includes('15'), clusterDirs(e).join(' '));
  assert.ok(ledgerIds(e).includes('remove-old-postgres-15'), ledgerIds(e).join(' '));
  assert.not.ok(existsSync(e.paths.pgUpgradeMarker), 'the upgrade marker is gone with the old cluster');
});

Up.run();

// ------------------------------------------------------------------------------------------------
// Clone mode for real: $SNAP_COMMON on a reflink-capable XFS (a loop device), so post-refresh picks
// `pg_upgrade --clone`, which needs no room for a second copy.
const Clone = suite('pg-upgrade: on a filesystem with reflinks, --clone (no room needed for a copy), revert-safe');
let cl: Env | undefined;
let clSums: Record<string, string> = {};
let mnt = '';
let image = '';
Clone.before(async () => {
  image = join(tmpdir(), `pgup-xfs-${process.pid}.img`);
  mnt = mkdtempSync(join(tmpdir(), 'pgup-xfs-'));
  execFileSync('truncate', ['-s', '2G', image]);
  execFileSync('mkfs.xfs', ['-q', '-m', 'reflink=1', image]);
  execFileSync('mount', ['-o', 'loop', image, mnt]);
  chmodSync(mnt, 0o755);
  const r = await oldInstall('pgup-clone-', 1500, { ...OLD_LINKS }, mkdtempSync(join(mnt, 'root-')));
  cl = r.e;
  clSums = r.sums;
});
Clone.after(async () => {
  await destroy(cl);
  spawnSync('umount', [mnt]);
  rmSync(mnt, { recursive: true, force: true });
  rmSync(image, { force: true });
});

Clone('with less free space than the database, the upgrade still runs, in clone mode; 18 serves every row', async () => {
  const e = cl!;
  e.snapd.extraEnv = { IMMICH_DISTRIBUTION_FREE_BYTES: String(100 * 1024 * 1024) };
  await refresh(e);
  e.snapd.extraEnv = {};
  await assertServes(e, 18, clSums);
  await assertHealthy18(e);
  assert.is(readJson<{ mode: string }>(e.paths.pgUpgradeMarker).mode, 'clone');
});

Clone('snap revert: 15 serves the data as it was (the clone shares blocks but not writes)', async () => {
  const e = cl!;
  await query(e, `UPDATE tags SET value = value || '-on-18'`);
  resetStartLimits(e);
  await e.snapd.revert();
  await assertServes(e, 15, clSums);
});

Clone.run();

// ------------------------------------------------------------------------------------------------
const Fail = suite('pg-upgrade: a failing upgrade leaves the previous revision running');

Fail('not enough room to copy, then pg_upgrade refusing: clear one-line errors, snapd reverts, the old revision serves PostgreSQL 15', async () => {
  const { e, sums } = await oldInstall('pgup-nospace-', 500, DEBIAN_OLD_LINKS);
  try {
    e.snapd.extraEnv = { IMMICH_DISTRIBUTION_FREE_BYTES: String(100 * 1024 * 1024) };
    const err = await refreshError(e, DEBIAN_NEW_LINKS);
    assert.match(err.message, /post-refresh hook: cannot upgrade PostgreSQL 15 to 18: the upgrade copies the database \(\d+\.\d GB\) and keeps the old one until the new one has run, which needs \d+\.\d GB free on the filesystem of .* but only 0\.1 GB is free; free \d+\.\d GB \(or move media\.location to another disk\) and refresh again/);
    assert.is(e.snapd.layout.revision, 'x1');
    await assertServes(e, 15, sums);
    assert.equal(clusterDirs(e).filter((d) => d.startsWith('18')), []);
    // With room, pg_upgrade itself runs and refuses (Debian's 15.20 stores pg_attver, unknown to
    // 18.6): one clear line naming the cause from pg_upgrade's logs, snapd reverts, the old revision serves every row.
    e.snapd.extraEnv = {};
    const err2 = await refreshError(e, DEBIAN_NEW_LINKS);
    assert.match(err2.message, /post-refresh hook: pg_upgrade from PostgreSQL 15 to 18 failed: unrecognized parameter "pg_attver", see \/\S+\/pg_upgrade_output\.d\/\S+\/log\/pg_upgrade_dump_\d+\.log \(the old cluster is unchanged\)$/m);
    await assertServes(e, 15, sums);
    assert.ok(!clusterDirs(e).includes('18'), 'no half-made cluster under its real name');
  } finally {
    await destroy(e);
  }
});

Fail.run();

// ------------------------------------------------------------------------------------------------
const Kill = suite('pg-upgrade: SIGKILL at every step, then a rerun converges');
let kil: Env | undefined;
let killSums: Record<string, string> = {};
Kill.before(async () => {
  const r = await oldInstall('pgup-kill-', 800);
  kil = r.e;
  killSums = r.sums;
});
Kill.after(() => destroy(kil));

// Every point of the upgrade, from before it starts to the state record after it.
const POINTS = [
  'upgrade-postgres-15-to-18',
  'upgrade-postgres-15-to-18/inspected',
  'upgrade-postgres-15-to-18/initdb',
  'upgrade-postgres-15-to-18/pg_upgrade',
  'upgrade-postgres-15-to-18/rename',
  'finish-upgrade-postgres-18',
  'finish-upgrade-postgres-18/analyze',
  'record-state',
];

for (const point of POINTS) {
  Kill(`killed at ${point}: the old revision still serves 15 with every row`, async () => {
    const e = kil!;
    e.snapd.extraEnv = { IMMICH_DISTRIBUTION_FAILPOINT: `post-refresh:${point}` };
    const err = await refreshError(e);
    assert.is(err.hookResult?.signal, 'SIGKILL', `killed at the failpoint, not failed otherwise: ${err.message}`);
    e.snapd.extraEnv = {};
    assert.is(e.snapd.layout.revision, 'x1');
    await assertServes(e, 15, killSums);
  });
}

Kill('pg_upgrade itself killed mid-run (the whole hook process group, as snapd times out)', async () => {
  const e = kil!;
  const root = e.snapd.root;
  let killed = false;
  const watcher = setInterval(() => {
    for (const { pid, cmd } of processes()) {
      if (!killed && cmd.includes('pg_upgrade') && cmd.includes(root)) {
        // The hook is pg_upgrade's parent's group leader: kill that group, as snapd does on timeout.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
        try {
          process.kill(-pgid, 'SIGKILL');
          killed = true;
        } catch {
          /* gone */
        }
      }
    }
  }, 20);
  try {
    const err = await refreshError(e);
    assert.match(err.message, /post-refresh/);
  } finally {
    clearInterval(watcher);
  }
  assert.ok(killed, 'pg_upgrade was seen and killed');
  await assertServes(e, 15, killSums);
});

Kill('after all that, a refresh without faults upgrades: 18 serves every row; no staging, no half-made or stray cluster', async () => {
  const e = kil!;
  await refresh(e);
  await assertServes(e, 18, killSums);
  await assertHealthy18(e);
  assert.equal(clusterDirs(e).filter((d) => !/^(upgrade-work|upgrade\.json)$/.test(d)), ['15', '18']);
  assert.is(readJson<{ postgresMajor: number }>(e.paths.stateFile).postgresMajor, 18);
});

Kill.run();
