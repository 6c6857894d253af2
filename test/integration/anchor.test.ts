// A refresh from the anchor snap's data layout (nsg/immich-distribution) to ours, through the real
// post-refresh and configure hooks: its PostgreSQL 15 cluster in $SNAP_COMMON/pgsql/data (SQL_ASCII,
// md5 authentication, no checksums, owner snap_daemon), its media in $SNAP_COMMON/upload, and its own
// `snap set` keys (reference/anchor-immich-distribution.md). The anchor's revision is laid out with
// no hooks and no services (they are not modelled); its data is made with the same Debian
// PostgreSQL 15 the anchor ships. Run as root.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type Env, checksumsVia, controlState, destroy, newSnapd, pathsOf, populateSql, tableChecksums, waitForPostgres } from './refresh-fixtures.js';
import { waitFor } from '../harness/wait.js';
import { SnapdChangeError } from '../harness/fake-snapd.js';

const PG15 = '/usr/lib/postgresql/15/bin';
const SNAP_DAEMON_UID = 584788; // core22's snap_daemon, which owns the anchor's cluster
const ANCHOR_PASSWORD = 'QwErTyUiOpAsDfGhJkLz'; // the anchor generates 20 letters
const MEDIA = { 'library/admin/2024/IMG_0001.jpg': 'jpeg bytes 1', 'library/admin/2024/IMG_0002.heic': 'heic bytes 2', 'thumbs/x/y.webp': 'thumb' };

function ensureSnapDaemonUser(): void {
  if (spawnSync('getent', ['passwd', 'snap_daemon']).status === 0) return;
  execFileSync('useradd', ['--system', '--uid', String(SNAP_DAEMON_UID), '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', 'snap_daemon']);
}

function asSnapDaemon(cmd: string, args: string[]): string {
  const r = spawnSync('runuser', ['-u', 'snap_daemon', '--', cmd, ...args], { encoding: 'utf8', cwd: '/' });
  if (r.status !== 0) throw new Error(`${cmd} ${args[0]}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/**
 * What a revert to the anchor needs from its cluster: cleanly shut down, still snap_daemon's, and
 * the same rows when the anchor's own way of starting it (as snap_daemon, md5) starts it.
 */
async function anchorClusterIntact(data: string, expected: Record<string, string>): Promise<void> {
  assert.is(controlState(data), 'shut down');
  const st = statSync(data);
  assert.equal([st.uid, st.mode & 0o777], [SNAP_DAEMON_UID, 0o700]);
  assert.equal(await withAnchorServer(data, anchorSums), expected);
}

async function withAnchorServer<T>(data: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const sock = mkdtempSync(join(tmpdir(), 'anchor-sock-'));
  chmodSync(sock, 0o777);
  asSnapDaemon(join(PG15, 'pg_ctl'), ['start', '-w', '-D', data, '-l', join(sock, 'log'), '-o', `-p 5499 -c listen_addresses='' -c unix_socket_directories=${sock}`]);
  try {
    return await fn(async (text, database) => {
      const c = new pg.Client({ host: sock, port: 5499, user: 'postgres', password: ANCHOR_PASSWORD, database });
      await c.connect();
      try {
        const r = await c.query(text);
        return (Array.isArray(r) ? r.at(-1)!.rows : r.rows) as Array<Record<string, string>>;
      } finally {
        await c.end();
      }
    });
  } finally {
    asSnapDaemon(join(PG15, 'pg_ctl'), ['stop', '-w', '-m', 'fast', '-D', data]);
    rmSync(sock, { recursive: true, force: true });
  }
}

type Sql = (text: string, database: string) => Promise<Array<Record<string, string>>>;

const anchorSums = (sql: Sql) => checksumsVia((q) => sql(q, 'immich'));

/** The anchor's layout, made as its bash hooks make it: initdb as snap_daemon, md5, SQL_ASCII, no checksums. */
async function makeAnchorData(common: string): Promise<Record<string, string>> {
  ensureSnapDaemonUser();
  const data = join(common, 'pgsql/data');
  mkdirSync(join(common, 'pgsql'), { recursive: true, mode: 0o755 });
  chownSync(join(common, 'pgsql'), SNAP_DAEMON_UID, SNAP_DAEMON_UID);
  const pwfile = join(common, 'pgsql/.pw');
  writeFileSync(pwfile, `${ANCHOR_PASSWORD}\n`, { mode: 0o600 });
  chownSync(pwfile, SNAP_DAEMON_UID, SNAP_DAEMON_UID);
  asSnapDaemon(join(PG15, 'initdb'), ['-D', data, '-U', 'postgres', '-E', 'SQL_ASCII', '--no-locale', '--auth=md5', `--pwfile=${pwfile}`]);
  rmSync(pwfile);
  const sums = await withAnchorServer(data, async (sql) => {
    await sql('CREATE DATABASE immich', 'postgres');
    // The anchor's Immich connects as postgres: no immich role; pgvector stands for its VectorChord.
    await sql(`CREATE EXTENSION vector; ${populateSql(1200).replace(/SET ROLE immich;|RESET ROLE;/g, '')}`, 'immich');
    const [enc] = await sql(`SELECT pg_encoding_to_char(encoding) AS e FROM pg_database WHERE datname = 'immich'`, 'postgres');
    assert.is(enc!.e, 'SQL_ASCII');
    return anchorSums(sql);
  });
  for (const [rel, body] of Object.entries(MEDIA)) {
    const f = join(common, 'upload', rel);
    mkdirSync(join(f, '..'), { recursive: true });
    writeFileSync(f, body);
  }
  return sums;
}

function anchorTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'anchor-snap-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'meta/hooks'), { recursive: true });
  writeFileSync(join(dir, 'meta/snap.yaml'), 'name: immich-distribution\nversion: v2.3.1\nbase: core22\n');
  return dir;
}

const ANCHOR_CONFIG = {
  'database-password': ANCHOR_PASSWORD,
  'haproxy-http-bind': '*:8088',
  'haproxy-https-bind': '*:443',
  'https-enabled': 'false',
  'backup-database-daily': 'true',
  'admin-api-key': 'k'.repeat(43),
  previous: { version: 'v2.3.1', revision: '312', era: '3' },
};

async function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

const Anchor = suite('refresh from the anchor snap: its cluster, media and settings taken over; its own cluster left usable');
let e: Env | undefined;
let sums: Record<string, string> = {};
let tree = '';

Anchor.before(async () => {
  tree = anchorTree();
  // Hooks run without root's DAC override, as under strict confinement (said explicitly here, the
  // harness default): neither root nor `_daemon_` can read snap_daemon's 0700 cluster.
  const snapd = await newSnapd('anchor-', { dropDac: true });
  await snapd.installOther({ from: tree, config: ANCHOR_CONFIG, version: 'v2.3.1' });
  e = { snapd, paths: pathsOf(snapd) };
  sums = await makeAnchorData(e.paths.common);
});
Anchor.after(async () => {
  await destroy(e);
  rmSync(tree, { recursive: true, force: true });
});

Anchor('a kill in the middle of the take-over: snapd reverts to the anchor revision, whose cluster is intact', async () => {
  const env = e!;
  env.snapd.extraEnv = { IMMICH_DISTRIBUTION_FAILPOINT: 'post-refresh:adopt-anchor/install' };
  let failure = '';
  let killed = false;
  try {
    await env.snapd.refresh();
  } catch (err) {
    if (!(err instanceof SnapdChangeError)) throw err;
    failure = err.message;
    killed = err.hookResult?.signal === 'SIGKILL';
  }
  assert.match(failure, /Run post-refresh hook of "immich-distribution" snap if present/);
  assert.match(failure, /post-refresh: adopt-anchor-postgres-15[\s\S]*copying the database of the previous layout/);
  assert.is(killed, true, `killed at the failpoint, not failed otherwise: ${failure}`);
  env.snapd.extraEnv = {};
  assert.is(env.snapd.layout.revision, 'x1');
  await anchorClusterIntact(env.paths.anchorPgData, sums);
  assert.equal(env.snapd.configPlain(), ANCHOR_CONFIG, 'the anchor revision gets its own config back');
});

Anchor('the refresh succeeds: every table and checksum equal, served by our PostgreSQL service', async () => {
  const env = e!;
  try {
    await env.snapd.refresh();
  } catch (err) {
    console.error(err instanceof SnapdChangeError ? err.message : err);
    throw err;
  }
  assert.ok(env.snapd.layout.revision !== 'x1');
  env.paths = pathsOf(env.snapd);
  await waitForPostgres(env);
  assert.equal(await tableChecksums(env), sums);
  const st = statSync(env.paths.pgCluster(15));
  assert.is(st.uid, Number(execFileSync('id', ['-u', '_daemon_'], { encoding: 'utf8' }).trim()), 'our copy belongs to _daemon_');
  assert.ok(existsSync(join(env.paths.defaultBackups, 'pre-upgrade')), 'a safety dump was taken before our Immich starts');
});

Anchor('the anchor\'s cluster is left cleanly shut down with every row (a revert to the anchor finds it usable)', async () => {
  await anchorClusterIntact(e!.paths.anchorPgData, sums);
});

Anchor('settings: port and daily backups taken over, media where the anchor kept it, the anchor\'s own keys gone', async () => {
  const env = e!;
  const c = env.snapd.configPlain() as Record<string, Record<string, unknown> | unknown>;
  assert.is((c.http as Record<string, unknown>).port, 8088);
  assert.is((c.backup as Record<string, unknown>).schedule, 'daily');
  assert.is((c.media as Record<string, unknown>).location, join(env.paths.common, 'upload'));
  for (const k of ['haproxy-http-bind', 'haproxy-https-bind', 'https-enabled', 'backup-database-daily', 'admin-api-key', 'previous']) assert.not.ok(k in c, k);
  assert.match(readFileSync(env.paths.immichServerEnv, 'utf8'), new RegExp(`IMMICH_MEDIA_LOCATION=.*${join(env.paths.common, 'upload')}`));
  for (const rel of Object.keys(MEDIA)) assert.ok(existsSync(join(env.paths.common, 'upload', rel)), rel);
  await waitFor('haproxy on 8088', () => tcpOpen(8088));
});

Anchor('the anchor\'s database password still logs in over TCP, now hashed with scram; Immich\'s role exists', async () => {
  const env = e!;
  assert.is(env.snapd.configPlain()['database-password'], ANCHOR_PASSWORD);
  const c = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', password: ANCHOR_PASSWORD, database: 'immich' });
  await c.connect();
  try {
    const r = await c.query<{ h: string; immich: boolean }>(`SELECT left(rolpassword, 13) AS h, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'immich') AS immich FROM pg_authid WHERE rolname = 'postgres'`);
    assert.equal(r.rows[0], { h: 'SCRAM-SHA-256', immich: true });
  } finally {
    await c.end();
  }
});

Anchor.run();
