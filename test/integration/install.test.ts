// The compiled install hook run as snapd runs it (fake snapd: hook runner, snapctl stand-in,
// service runner), against real PostgreSQL 15 + pgvector and real Redis from Debian.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { FakeSnapd } from '../harness/fake-snapd.js';
import { layoutRevision, snapEnvFor } from '../harness/fake-snap.js';
import { snapPaths, type SnapPaths } from '../../hooks-src/snap/paths.js';
import type { SnapEnv } from '../../hooks-src/snap/env.js';
import { scramMatches } from '../../hooks-src/postgres/scram.js';

const EXTENSIONS = ['vector', 'cube', 'earthdistance', 'pg_trgm', 'unaccent', 'uuid-ossp'];
const GiB = 1024 ** 3;

interface Installed {
  snapd: FakeSnapd;
  paths: SnapPaths;
}

/** A fake snapd with revision x1 laid out (root traversable, as /var/snap is) but not installed. */
async function newSnapd(extraEnv: Record<string, string> = {}): Promise<Installed> {
  const root = mkdtempSync(join(tmpdir(), 'install-it-'));
  chmodSync(root, 0o755); // _daemon_ must be able to reach its cluster, as under /var/snap
  const snapd = await FakeSnapd.create({ root, extraEnv });
  snapd.layout = layoutRevision({ root, instance: snapd.instance, revision: 'x1' });
  return { snapd, paths: snapPaths(snapEnvFor(snapd.layout) as unknown as SnapEnv) };
}

async function install(i: Installed, env: Record<string, string> = {}) {
  return i.snapd.runHook('install', { extraEnv: env });
}

function secret(i: Installed, name: 'database-password' | 'redis-password'): string {
  return readFileSync(i.paths.secret(name), 'utf8');
}

async function client(opts: pg.ClientConfig): Promise<pg.Client> {
  const c = new pg.Client({ port: 5432, connectionTimeoutMillis: 5000, ...opts });
  await c.connect();
  return c;
}

async function waitFor(what: string, fn: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (await fn()) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function startPostgres(i: Installed): Promise<void> {
  await i.snapd.services.start('postgres');
  await waitFor('postgres', async () => {
    const c = await client({ host: i.paths.pgSocketDir, user: 'postgres', database: 'postgres' });
    await c.end();
    return true;
  });
}

async function query<T = Record<string, unknown>>(i: Installed, sql: string, db = 'immich', user = 'postgres'): Promise<T[]> {
  const c = await client({ host: i.paths.pgSocketDir, user, database: db });
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

/** Stops a postgres a killed hook left behind (so a failed test does not leak processes). */
function stopStray(i: Installed): void {
  const dir = i.paths.pgCluster(15);
  if (existsSync(join(dir, 'postmaster.pid'))) {
    spawnSync('runuser', ['-u', '_daemon_', '--', i.paths.pgBin(15, 'pg_ctl'), 'stop', '-D', dir, '-m', 'immediate', '-w'], { stdio: 'ignore' });
  }
}

async function destroy(i: Installed | undefined): Promise<void> {
  if (!i) return;
  await i.snapd.destroy({ keep: true });
  stopStray(i);
  await i.snapd.destroy();
}

/** Every regular file (not followed through symlinks) below dir. */
function walk(dir: string, skip: (p: string) => boolean = () => false): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (skip(p)) continue;
    const st = lstatSync(p);
    if (st.isDirectory()) out.push(...walk(p, skip));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

/** Content, mode, owner and inode of every file and directory the install hook manages. */
function fingerprint(i: Installed): Record<string, string> {
  const skip = (p: string) => p === i.paths.pgCluster(15) || p.startsWith(`${i.paths.runDir}/`);
  const out: Record<string, string> = {};
  const visit = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (skip(p)) continue;
      const st = lstatSync(p);
      const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ino=${st.ino}`;
      if (st.isDirectory()) {
        out[relative(i.snapd.root, p) + '/'] = meta;
        visit(p);
      } else {
        out[relative(i.snapd.root, p)] = `${meta} mtime=${st.mtimeMs} sha256=${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      }
    }
  };
  visit(i.paths.common);
  visit(i.paths.data);
  return out;
}

function confValue(conf: string, key: string): string | undefined {
  return new RegExp(`^${key} = (.*)$`, 'm').exec(conf)?.[1];
}

// ------------------------------------------------------------------------------------------------
const Fresh = suite('install: fresh install');
let fresh: Installed | undefined;
let firstOutput = '';

Fresh.before(async () => {
  fresh = await newSnapd();
  const r = await install(fresh);
  firstOutput = r.output;
  assert.is(r.exitCode, 0, r.output);
  await startPostgres(fresh);
  await fresh.snapd.services.start('redis');
});
Fresh.after(() => destroy(fresh));

Fresh('logs its steps on stderr, concisely', () => {
  assert.match(firstOutput, /install: create-layout\n/);
  assert.match(firstOutput, /install: record-state\n?$/);
  assert.ok(firstOutput.split('\n').length < 20, firstOutput);
});

Fresh('cluster: UTF8 with a UTF-8 locale, data checksums, scram passwords', async () => {
  const i = fresh!;
  const [db] = await query<{ enc: string; collate: string; ctype: string }>(
    i,
    "SELECT pg_encoding_to_char(encoding) AS enc, datcollate AS collate, datctype AS ctype FROM pg_database WHERE datname = 'immich'",
  );
  assert.equal(db, { enc: 'UTF8', collate: 'C.UTF-8', ctype: 'C.UTF-8' });
  const [cs] = await query<{ data_checksums: string }>(i, 'SHOW data_checksums');
  assert.is(cs!.data_checksums, 'on');
  const [pe] = await query<{ password_encryption: string }>(i, 'SHOW password_encryption');
  assert.is(pe!.password_encryption, 'scram-sha-256');
  const roles = await query<{ rolname: string; rolpassword: string | null; rolsuper: boolean }>(
    i,
    "SELECT rolname, rolpassword, rolsuper FROM pg_authid WHERE rolname IN ('postgres', 'immich') ORDER BY rolname",
  );
  const immich = roles.find((r) => r.rolname === 'immich')!;
  const postgres = roles.find((r) => r.rolname === 'postgres')!;
  assert.ok(immich.rolsuper, 'immich is a superuser (docs/postgres.md)');
  assert.is(immich.rolpassword, null, 'immich has no password: peer only');
  assert.match(postgres.rolpassword!, /^SCRAM-SHA-256\$/);
  assert.ok(scramMatches(postgres.rolpassword, secret(i, 'database-password')));
  const [owner] = await query<{ owner: string }>(i, "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'immich'");
  assert.is(owner!.owner, 'immich');
});

Fresh('every extension Immich needs is present, owned by immich', async () => {
  const rows = await query<{ extname: string; owner: string }>(fresh!, 'SELECT extname, pg_get_userbyid(extowner) AS owner FROM pg_extension');
  for (const e of EXTENSIONS) {
    const row = rows.find((r) => r.extname === e);
    assert.ok(row, `extension ${e} missing`);
    assert.is(row!.owner, 'immich', e);
  }
});

Fresh('root reaches the database over the socket without a password, as postgres and as immich', async () => {
  const [a] = await query<{ u: string }>(fresh!, 'SELECT current_user AS u', 'immich', 'postgres');
  const [b] = await query<{ u: string }>(fresh!, 'SELECT current_user AS u', 'immich', 'immich');
  assert.is(a!.u, 'postgres');
  assert.is(b!.u, 'immich');
});

Fresh('TCP on 127.0.0.1: works with the password, fails without it or with a wrong one', async () => {
  const i = fresh!;
  const pw = secret(i, 'database-password');
  const c = await client({ host: '127.0.0.1', user: 'postgres', password: pw, database: 'immich' });
  assert.is((await c.query('SELECT inet_server_addr()::text AS a')).rows[0].a, '127.0.0.1/32');
  await c.end();
  const psql = (env: Record<string, string>, user = 'postgres') =>
    spawnSync(i.paths.pgBin(15, 'psql'), ['-h', '127.0.0.1', '-p', '5432', '-U', user, '-d', 'immich', '-w', '-c', 'select 1'], {
      env: { PATH: process.env.PATH, PGCONNECT_TIMEOUT: '5', ...env },
      encoding: 'utf8',
    });
  const none = psql({});
  assert.is.not(none.status, 0);
  assert.match(none.stderr, /no password supplied|password authentication failed/);
  const wrong = psql({ PGPASSWORD: `${pw}x` });
  assert.is.not(wrong.status, 0);
  assert.match(wrong.stderr, /password authentication failed/);
  const immich = psql({ PGPASSWORD: pw }, 'immich');
  assert.is.not(immich.status, 0, 'immich cannot log in over TCP');
  assert.is(psql({ PGPASSWORD: pw }).status, 0);
});

Fresh('snap get database-password shows the postgres TCP password', () => {
  assert.is(fresh!.snapd.get('database-password'), secret(fresh!, 'database-password'));
});

Fresh('Redis: refuses unauthenticated clients, answers with the password, no TCP listener', async () => {
  const i = fresh!;
  const sock = i.paths.redisSocket;
  await waitFor('redis socket', () => existsSync(sock));
  const cli = (env: Record<string, string>) =>
    spawnSync('redis-cli', ['-s', sock, 'ping'], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  await waitFor('redis', () => cli({ REDISCLI_AUTH: secret(i, 'redis-password') }).stdout.trim() === 'PONG');
  assert.match(cli({}).stdout, /NOAUTH/);
  assert.match(cli({ REDISCLI_AUTH: 'wrong-password-wrong' }).stdout + cli({ REDISCLI_AUTH: 'wrong-password-wrong' }).stderr, /WRONGPASS|invalid/);
  const pid = i.snapd.services.pid('redis');
  assert.ok(pid);
  const tcp = execFileSync('ss', ['-Hltnp'], { encoding: 'utf8' });
  assert.not.match(tcp, /redis-server/, tcp);
  assert.is((lstatSync(sock).mode & 0o777), 0o700);
  assert.is((lstatSync(i.paths.redisSocketDir).mode & 0o777), 0o700);
});

Fresh('modes: secrets 0600 in a 0700 dir, cluster 0700 _daemon_, secret-bearing configs 0600 root', () => {
  const i = fresh!;
  const uid = Number(execFileSync('id', ['-u', '_daemon_'], { encoding: 'utf8' }));
  const mode = (p: string) => lstatSync(p).mode & 0o7777;
  assert.is(mode(i.paths.secretsDir), 0o700);
  for (const f of readdirSync(i.paths.secretsDir)) {
    const st = lstatSync(join(i.paths.secretsDir, f));
    assert.is(st.mode & 0o7777, 0o600, f);
    assert.is(st.uid, 0, f);
  }
  for (const d of [i.paths.pgClustersDir, i.paths.pgCluster(15)]) {
    assert.is(mode(d), 0o700, d);
    assert.is(lstatSync(d).uid, uid, d);
  }
  for (const f of [i.paths.redisConf, i.paths.immichServerEnv]) {
    assert.is(mode(f), 0o600, f);
    assert.is(lstatSync(f).uid, 0, f);
  }
  assert.is(mode(i.paths.pgConfDir), 0o750);
  assert.is(mode(i.paths.pgConf), 0o640);
});

Fresh('no secret in the hook output or in any file outside the secrets directory (but the two that need it)', () => {
  const i = fresh!;
  const secrets = [secret(i, 'database-password'), secret(i, 'redis-password')];
  for (const s of secrets) {
    assert.match(s, /^[A-Za-z0-9_-]{43}$/);
    assert.not.ok(firstOutput.includes(s), 'secret in hook output');
  }
  // Allowed holders: the secret files, Redis' own config and the server's environment (both 0600 root).
  const allowed = new Set([i.paths.redisConf, i.paths.immichServerEnv]);
  const leaks: string[] = [];
  for (const f of walk(i.snapd.root, (p) => p === i.paths.secretsDir)) {
    const content = readFileSync(f);
    for (const s of secrets) if (content.includes(s) && !allowed.has(f)) leaks.push(relative(i.snapd.root, f));
  }
  assert.equal(leaks, []);
  assert.ok(readFileSync(i.paths.redisConf, 'utf8').includes(secrets[1]!));
  assert.not.ok(readFileSync(i.paths.immichServerEnv, 'utf8').includes(secrets[0]!), 'Immich does not need the postgres password');
});

Fresh('state file records versions', () => {
  const state = JSON.parse(readFileSync(fresh!.paths.stateFile, 'utf8'));
  assert.is(state.stateVersion, 1);
  assert.is(state.postgresMajor, 15);
  assert.is(state.vectorExtension.name, 'vector');
  assert.match(state.vectorExtension.version, /^0\.\d+\.\d+$/);
  assert.match(state.immichVersion, /^\d+\.\d+\.\d+/);
});

Fresh('postgres daemon stops with a fast shutdown on SIGTERM/SIGINT and exits 0', async () => {
  const i = fresh!;
  const t0 = Date.now();
  await i.snapd.services.stop('postgres');
  assert.ok(Date.now() - t0 < 10_000);
  assert.not.ok(existsSync(join(i.paths.pgCluster(15), 'postmaster.pid')), 'postmaster.pid removed: clean shutdown');
  const log = readFileSync(i.snapd.services.logPath('postgres'), 'utf8');
  assert.match(log, /received fast shutdown request/);
  assert.match(log, /database system is shut down/);
  await startPostgres(i);
});

Fresh.run();

// ------------------------------------------------------------------------------------------------
const Rerun = suite('install: running it again');
let again: Installed | undefined;
Rerun.after(() => destroy(again));

Rerun('changes nothing: every file byte-identical and untouched, same secrets, same roles', async () => {
  again = await newSnapd();
  assert.is((await install(again)).exitCode, 0);
  await startPostgres(again);
  const before = await query(again, "SELECT rolname, rolpassword FROM pg_authid WHERE rolname IN ('postgres','immich') ORDER BY 1");
  await again.snapd.services.stop('postgres');
  const f1 = fingerprint(again);
  const config1 = JSON.stringify(again.snapd.config);
  const r = await install(again);
  assert.is(r.exitCode, 0, r.output);
  assert.equal(fingerprint(again), f1);
  assert.is(JSON.stringify(again.snapd.config), config1);
  await startPostgres(again);
  assert.equal(await query(again, "SELECT rolname, rolpassword FROM pg_authid WHERE rolname IN ('postgres','immich') ORDER BY 1"), before);
});

Rerun.run();

// ------------------------------------------------------------------------------------------------
const Kill = suite('install: SIGKILL at any step, then run again');

/** A working install: the DB answers as immich with every extension, TCP password matches snap get. */
async function assertWorking(i: Installed): Promise<void> {
  await startPostgres(i);
  const rows = await query<{ extname: string }>(i, 'SELECT extname FROM pg_extension', 'immich', 'immich');
  for (const e of EXTENSIONS) assert.ok(rows.some((r) => r.extname === e), e);
  const pw = String(i.snapd.get('database-password'));
  const c = await client({ host: '127.0.0.1', user: 'postgres', password: pw, database: 'immich' });
  await c.end();
  assert.ok(existsSync(i.paths.stateFile));
  assert.ok(existsSync(i.paths.immichServerEnv));
  assert.ok(readFileSync(i.paths.redisConf, 'utf8').includes(secret(i, 'redis-password')));
  await i.snapd.services.stop('postgres');
}

for (const step of ['ensure-secrets', 'init-cluster', 'render-postgres-config', 'bootstrap-database', 'stop-temporary', 'render-immich-env', 'record-state']) {
  Kill(`killed at ${step}`, async () => {
    const i = await newSnapd();
    try {
      const killed = await install(i, { IMMICH_DISTRIBUTION_FAILPOINT: `install:${step}` });
      assert.is(killed.signal, 'SIGKILL', killed.output);
      assert.match(killed.output, /install: create-layout/);
      const r = await install(i);
      assert.is(r.exitCode, 0, r.output);
      await assertWorking(i);
      // And once more: still converged, nothing changes.
      const f = fingerprint(i);
      assert.is((await install(i)).exitCode, 0);
      assert.equal(fingerprint(i), f);
    } finally {
      await destroy(i);
    }
  });
}

Kill('a cluster half-made by a killed initdb is cleaned up; an incomplete cluster is moved aside, not deleted', async () => {
  const i = await newSnapd();
  try {
    const killed = await install(i, { IMMICH_DISTRIBUTION_FAILPOINT: 'install:init-cluster' });
    assert.is(killed.signal, 'SIGKILL');
    // What initdb leaves when killed half-way: the staging directory with some files…
    const staging = i.paths.pgClusterStaging(15);
    mkdirSync(join(staging, 'base'), { recursive: true });
    writeFileSync(join(staging, 'PG_VERSION'), '15\n');
    // …and, from an unknown origin, an incomplete cluster directory holding a file someone may want.
    mkdirSync(i.paths.pgCluster(15), { recursive: true });
    writeFileSync(join(i.paths.pgCluster(15), 'precious'), 'keep me');
    execFileSync('chown', ['-R', '_daemon_:_daemon_', staging, i.paths.pgCluster(15)]);
    const r = await install(i);
    assert.is(r.exitCode, 0, r.output);
    assert.match(r.output, /moved an incomplete cluster aside/);
    assert.not.ok(existsSync(staging));
    const aside = readdirSync(i.paths.pgClustersDir).filter((d) => d.startsWith('15.incomplete-'));
    assert.is(aside.length, 1);
    assert.is(readFileSync(join(i.paths.pgClustersDir, aside[0]!, 'precious'), 'utf8'), 'keep me');
    await assertWorking(i);
  } finally {
    await destroy(i);
  }
});

Kill.run();

// ------------------------------------------------------------------------------------------------
const Tuning = suite('install: tuning follows the machine');

Tuning('a 1 GiB and a 16 GiB machine get different memory settings, and both start', async () => {
  const confs: string[] = [];
  for (const [ram, cpus] of [[1 * GiB, 1], [16 * GiB, 8]] as const) {
    const i = await newSnapd({ IMMICH_DISTRIBUTION_RAM_BYTES: String(ram), IMMICH_DISTRIBUTION_CPUS: String(cpus) });
    try {
      const r = await install(i);
      assert.is(r.exitCode, 0, r.output); // the temporary server ran with these settings
      confs.push(readFileSync(i.paths.pgConf, 'utf8'));
    } finally {
      await destroy(i);
    }
  }
  const [small, big] = confs as [string, string];
  assert.is(confValue(small, 'shared_buffers'), '256MB');
  assert.is(confValue(big, 'shared_buffers'), '4096MB');
  assert.is(confValue(small, 'work_mem'), '4MB');
  assert.is(confValue(big, 'work_mem'), '32MB');
  assert.is(confValue(small, 'maintenance_work_mem'), '64MB');
  assert.is(confValue(big, 'maintenance_work_mem'), '1024MB');
  assert.is(confValue(small, 'effective_cache_size'), '512MB');
  assert.is(confValue(big, 'effective_cache_size'), '8192MB');
  assert.is(confValue(small, 'max_parallel_workers_per_gather'), '0');
  assert.is(confValue(big, 'max_parallel_workers_per_gather'), '4');
  assert.is(confValue(small, 'max_wal_size'), confValue(big, 'max_wal_size'));
});

Tuning.run();
