// The compiled configure hook as snapd runs it after `snap set` (fake snapd: per-hook config
// transactions, queued service operations), with real Postgres, Redis and HAProxy and the Immich
// stand-in behind HAProxy. SPEC §3 (configure), §5, §6; issue 4.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { FakeSnapd, SnapdChangeError } from '../harness/fake-snapd.js';
import { filesUnder } from '../harness/files.js';
import { waitFor } from '../harness/wait.js';
import { snapEnvFor } from '../harness/fake-snap.js';
import { snapPaths, type SnapPaths } from '../../hooks-src/snap/paths.js';
import { showProcOrUndefined } from '../../hooks-src/haproxy/reload.js';
import type { SnapEnv } from '../../hooks-src/snap/env.js';

const HTTP = 18_081;
const HTTPS = 18_443;

interface Ctx {
  snapd: FakeSnapd;
  paths: SnapPaths;
}

const test = suite<Ctx>('configure');

test.before(async (ctx) => {
  // This suite changes settings far faster than a person does (several restarts of immich-server
  // within 10 s), which systemd's default start limit (5 in 10 s) would refuse.
  ctx.snapd = await FakeSnapd.create({ startLimit: { burst: 50, intervalMs: 10_000 } });
  await ctx.snapd.install();
  ctx.paths = snapPaths(snapEnvFor(ctx.snapd.layout) as unknown as SnapEnv);
  await ctx.snapd.set([`http.port=${HTTP}`]);
  await waitFor('immich through haproxy', async () => (await get(`http://127.0.0.1:${HTTP}/api/server/ping`)).status === 200);
});

test.after(async (ctx) => {
  await ctx.snapd?.destroy();
});

async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: r.status, body: await r.text() };
}

/** sha256 of every file under $SNAP_DATA/etc and $SNAP_COMMON/certs. */
function renderedFiles(paths: SnapPaths): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dir of [paths.etcDir, paths.certsDir]) {
    for (const [file, bytes] of filesUnder(dir)) out[join(dir, file)] = createHash('sha256').update(bytes).digest('hex');
  }
  out[paths.appliedConfig] = createHash('sha256').update(readFileSync(paths.appliedConfig)).digest('hex');
  return out;
}

/** The master's reload count. Its CLI listens again a moment after a reload's new worker forks. */
async function masterReloads(paths: SnapPaths): Promise<number> {
  let reloads: number | undefined;
  await waitFor("HAProxy's master CLI", async () => {
    reloads = (await showProcOrUndefined(paths.haproxyMasterSocket))?.master?.reloads;
    return reloads !== undefined;
  }, 10_000);
  return reloads as number;
}

function haproxyLog(s: FakeSnapd): string {
  return readFileSync(s.services.logPath('haproxy'), 'utf8');
}

function pids(s: FakeSnapd): Record<string, number | undefined> {
  return Object.fromEntries(['postgres', 'redis', 'immich-server', 'immich-machine-learning', 'haproxy'].map((a) => [a, s.services.pid(a)]));
}

async function rejected(s: FakeSnapd, args: string[]): Promise<string> {
  const err = await s.set(args).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(err, SnapdChangeError, `snap set ${args.join(' ')} should have failed`);
  return (err as Error).message;
}

test('defaults are written back so snap get shows the effective config', ({ snapd, paths }) => {
  assert.is(snapd.get('http.port'), HTTP);
  assert.is(snapd.get('https.mode'), 'off');
  assert.is(snapd.get('proxy.timeout'), '10m');
  assert.is(snapd.get('media.location'), paths.defaultMedia);
  assert.is(snapd.get('backup.keep'), 7);
  assert.is(snapd.get('ml.enabled'), true);
  assert.match(String(snapd.get('database-password')), /^[A-Za-z0-9_-]{43}$/);
});

test('a rejected snap set changes nothing: config, rendered files, services', async ({ snapd, paths }) => {
  const files = renderedFiles(paths);
  const before = pids(snapd);
  const message = await rejected(snapd, ['http.port=0', 'log.level=loud', 'htp.port=1']);
  assert.match(message, 'http.port: "0" is not allowed');
  assert.match(message, 'log.level: "loud" is not allowed');
  assert.match(message, 'did you mean "http.port"');
  assert.match(message, 'nothing was changed');
  assert.is(snapd.get('http.port'), HTTP);
  assert.is(snapd.get('log.level'), 'log');
  assert.throws(() => snapd.get('htp'), /has no "htp" configuration option/);
  assert.equal(renderedFiles(paths), files);
  assert.equal(pids(snapd), before);
});

test('injection attempts are refused and no rendered file gains a line', async ({ snapd, paths }) => {
  const files = renderedFiles(paths);
  for (const args of [
    ['http.bind=127.0.0.1\nbind :9999'],
    ['proxy.trusted-proxies=10.0.0.1\nIMMICH_HOST=0.0.0.0'],
    ['server.node-options=--max-old-space-size=4096 --require /tmp/x.js'],
    ['media.location=/var/snap/x/common/media"\n'],
    ['log.level=log\r\nNODE_OPTIONS=--inspect'],
    [`https.acme.domain=${'a'.repeat(10_000)}`],
    ['https.acme.email=a@b.c%[req.hdr(host)]'],
    ['ml.url=http://h/$(id)'],
  ]) {
    await rejected(snapd, args);
  }
  assert.equal(renderedFiles(paths), files);
});

test('proxy.timeout reloads HAProxy gracefully and touches nothing else', async ({ snapd, paths }) => {
  const before = pids(snapd);
  const reloads = await masterReloads(paths);
  const logAt = haproxyLog(snapd).length;
  const r = await snapd.set(['proxy.timeout=20m']);
  assert.match(readFileSync(paths.haproxyCfg, "utf8"), /timeout client 1200s/);
  assert.equal(pids(snapd), before, 'a reload keeps every process, HAProxy included');
  assert.is(await masterReloads(paths), reloads + 1, 'the master reloaded once');
  // The hook reloads through HAProxy's master CLI itself; no reload-command runs after it.
  assert.match(r.output, /configure: haproxy reloaded: worker \d+ serving/);
  assert.not.match(haproxyLog(snapd).slice(logAt), /haproxy reloaded/);
  assert.is((await get(`http://127.0.0.1:${HTTP}/api/server/ping`)).status, 200);
});

test("when HAProxy's master CLI does not answer, the reload is left to snapd's reload-command", async ({ snapd, paths }) => {
  const before = pids(snapd);
  const reloads = await masterReloads(paths);
  const away = `${paths.haproxyMasterSocket}.away`;
  renameSync(paths.haproxyMasterSocket, away);
  const logAt = haproxyLog(snapd).length;
  let r;
  try {
    r = await snapd.set(['proxy.timeout=30m']);
  } finally {
    // The re-executed master keeps its inherited listener: give the socket its name back.
    if (existsSync(paths.haproxyMasterSocket)) rmSync(away);
    else renameSync(away, paths.haproxyMasterSocket);
  }
  assert.match(readFileSync(paths.haproxyCfg, 'utf8'), /timeout client 1800s/);
  assert.not.match(r.output, /configure: haproxy reloaded/);
  assert.match(haproxyLog(snapd).slice(logAt), /haproxy reloaded: worker \d+ serving/, 'run-haproxy reload ran after the hook');
  assert.equal(pids(snapd), before);
  assert.is(await masterReloads(paths), reloads + 1);
  await snapd.set(['proxy.timeout=20m']);
});

test('a reload HAProxy refuses (its new port is taken) fails the snap set: settings, haproxy.cfg and the served port stay', async ({ snapd, paths }) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(HTTP + 7, '0.0.0.0', resolve));
  try {
    const cfg = readFileSync(paths.haproxyCfg, 'utf8');
    const before = pids(snapd);
    const message = await rejected(snapd, [`http.port=${HTTP + 7}`]);
    assert.match(message, /HAProxy kept its previous configuration/);
    assert.is(snapd.get('http.port'), HTTP, 'snapd rolled the setting back');
    assert.is(readFileSync(paths.haproxyCfg, 'utf8'), cfg, 'the served haproxy.cfg was put back');
    assert.equal(pids(snapd), before);
    assert.is((await get(`http://127.0.0.1:${HTTP}/api/server/ping`)).status, 200, 'HAProxy still serves the old port');
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
  // Nothing is left half-applied: the next change applies cleanly.
  await snapd.set(['proxy.timeout=10m']);
  assert.is((await get(`http://127.0.0.1:${HTTP}/api/server/ping`)).status, 200);
});

test('log.level restarts only the Immich server and machine learning', async ({ snapd, paths }) => {
  const before = pids(snapd);
  await snapd.set(['log.level=debug']);
  const after = pids(snapd);
  assert.is(after.postgres, before.postgres);
  assert.is(after.redis, before.redis);
  assert.is(after.haproxy, before.haproxy);
  assert.is.not(after['immich-server'], before['immich-server']);
  assert.is.not(after['immich-machine-learning'], before['immich-machine-learning']);
  assert.match(readFileSync(paths.immichServerEnv, 'utf8'), /^IMMICH_LOG_LEVEL=debug$/m);
});

test('database-password rotates the postgres TCP password transactionally; nothing restarts', async ({ snapd, paths }) => {
  const old = String(snapd.get('database-password'));
  const next = 'Rotated-password_0123456789';
  const before = pids(snapd);
  await snapd.set([`database-password=${next}`]);
  assert.is(snapd.get('database-password'), next);
  assert.is(readFileSync(paths.secret('database-password'), 'utf8'), next);
  assert.is((statSync(paths.secret('database-password')).mode & 0o777), 0o600);
  assert.equal(pids(snapd), before);
  const login = async (password: string) => {
    const c = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'immich', password, connectionTimeoutMillis: 5000 });
    await c.connect();
    await c.end();
  };
  await login(next);
  const failed = await login(old).then(
    () => false,
    () => true,
  );
  assert.ok(failed, 'the old password no longer works');
  assert.not.match(readFileSync(paths.appliedConfig, 'utf8'), next, 'the applied record keeps a fingerprint only');
});

test('database.tcp=false restarts Postgres without TCP; Redis and HAProxy untouched', async ({ snapd }) => {
  const before = pids(snapd);
  await snapd.set(['database.tcp=false']);
  await waitFor('postgres back', () => snapd.services.isActive('postgres'));
  const after = pids(snapd);
  assert.is.not(after.postgres, before.postgres);
  assert.is(after.redis, before.redis);
  assert.is(after.haproxy, before.haproxy);
  const c = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', password: 'x', connectionTimeoutMillis: 3000 });
  const err = await c.connect().then(
    () => undefined,
    (e: unknown) => e as NodeJS.ErrnoException,
  );
  assert.is(err?.code, 'ECONNREFUSED');
  await snapd.set(['database.tcp=true']);
});

test('ml.enabled=false stops and disables machine learning and tells Immich', async ({ snapd, paths }) => {
  await snapd.set(['ml.enabled=false']);
  assert.not.ok(snapd.services.isActive('immich-machine-learning'));
  assert.not.ok(snapd.services.isEnabled('immich-machine-learning'));
  assert.match(readFileSync(paths.immichServerEnv, 'utf8'), /^IMMICH_MACHINE_LEARNING_ENABLED=false$/m);
  await snapd.set(['ml.enabled=true']);
  assert.ok(snapd.services.isEnabled('immich-machine-learning'));
  await waitFor('ml active', () => snapd.services.isActive('immich-machine-learning'));
});

test('media.location: removable-media must be connected, and data is never left behind', async ({ snapd, paths }) => {
  const mnt = mkdtempSync('/mnt/immich-it-');
  try {
    assert.match(await rejected(snapd, [`media.location=${mnt}/photos`]), 'snap connect immich-distribution:removable-media');
    snapd.connect('removable-media');
    writeFileSync(join(paths.defaultMedia, 'library-marker'), 'x');
    execFileSync('mkdir', ['-p', join(paths.defaultMedia, 'library')]);
    writeFileSync(join(paths.defaultMedia, 'library', 'IMG_0001.jpg'), 'photo');
    assert.match(await rejected(snapd, [`media.location=${mnt}/photos`]), 'holds your media');
    execFileSync('cp', ['-a', `${paths.defaultMedia}/.`, `${mnt}/photos/`]);
    await snapd.set([`media.location=${mnt}/photos`]);
    assert.match(readFileSync(paths.immichServerEnv, 'utf8'), new RegExp(`^IMMICH_MEDIA_LOCATION=${mnt}/photos$`, 'm'));
    await snapd.set([`media.location=${paths.defaultMedia}`]);
  } finally {
    snapd.disconnect('removable-media');
    rmSync(mnt, { recursive: true, force: true });
  }
});

function tlsSubject(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/api/server/ping', rejectUnauthorized: false, servername: 'localhost' }, (res) => {
      const cert = (res.socket as import('node:tls').TLSSocket).getPeerCertificate();
      res.resume();
      resolve(String(cert.subject?.CN ?? ''));
    });
    req.on('error', reject);
    req.end();
  });
}

test('https.mode=self-signed: generated once, served, reused', async ({ snapd, paths }) => {
  await snapd.set(['https.mode=self-signed', `https.port=${HTTPS}`, 'https.redirect=false']);
  const pem = paths.certFile('self-signed');
  assert.is(statSync(pem).mode & 0o777, 0o600);
  await waitFor('https', async () => (await tlsSubject(HTTPS)) !== '');
  const first = readFileSync(pem, 'utf8');
  await snapd.set(['https.hsts=true']);
  assert.is(readFileSync(pem, 'utf8'), first, 'not regenerated');
  assert.is((await get(`http://127.0.0.1:${HTTP}/api/server/ping`)).status, 200, 'HTTP still served (no redirect)');
});

test('https.mode=custom: checked (key matches, not expired) and served', async ({ snapd, paths }) => {
  const dir = mkdtempSync(join(tmpdir(), 'custom-cert-'));
  const mk = (name: string, cn: string) =>
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30', '-subj', `/CN=${cn}`, '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`)], { stdio: 'ignore' });
  mk('a', 'photos.example');
  mk('b', 'other.example');
  const files = renderedFiles(paths);
  const message = await rejected(snapd, ['https.mode=custom', `https.cert=${dir}/a.crt`, `https.key=${dir}/b.key`]);
  assert.match(message, 'does not belong to the certificate');
  assert.equal(renderedFiles(paths), files, 'a bad certificate changes nothing');
  await snapd.set(['https.mode=custom', `https.cert=${dir}/a.crt`, `https.key=${dir}/a.key`]);
  await waitFor('custom cert served', async () => (await tlsSubject(HTTPS)) === 'photos.example');
  await snapd.set(['https.mode=off']);
  rmSync(dir, { recursive: true, force: true });
});

test.run();
