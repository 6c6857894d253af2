// https.mode=acme for real: Debian's pebble (a test ACME CA) and pebble-challtestsrv (a DNS server
// that answers 127.0.0.1 for every name) on loopback, lego from Debian run by the compiled
// acme-renew timer app, and the HTTP-01 challenge fetched by pebble through HAProxy's HTTP frontend
// to lego's listener (PEBBLE_VA_ALWAYS_VALID is NOT set). SPEC §5 https.acme.*; issue 4.4.
import { waitFor } from '../harness/wait.js';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { get as httpsGet } from 'node:https';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { FakeSnapd } from '../harness/fake-snapd.js';
import { snapEnvFor } from '../harness/fake-snap.js';
import { snapPaths, type SnapPaths } from '../../hooks-src/snap/paths.js';
import type { SnapEnv } from '../../hooks-src/snap/env.js';

const HTTP = 18_181;
const HTTPS = 18_543;
const PEBBLE = 18_140;
const PEBBLE_MGMT = 18_150;
const PEBBLE_TLS = 18_151; // tls-alpn-01 port pebble wants configured; unused (lego only does HTTP-01)
const DNS = 18_153;
const CHALLTEST_MGMT = 18_155;
const DOMAIN = 'photos.test';

interface Ctx {
  dir: string;
  snapd: FakeSnapd;
  paths: SnapPaths;
  procs: ChildProcess[];
  pebbleLog: string[];
  /** pebble's issuing root (from its management API), to verify what HAProxy serves. */
  root: string;
}

const test = suite<Ctx>('acme');



function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A CA and, signed by it, pebble's own HTTPS certificate for 127.0.0.1 (lego trusts the CA via https.acme.server-ca). */
function makePebbleTls(dir: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=acme-test server CA', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem')]);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'pebble.key'), '-out', join(dir, 'pebble.csr')]);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', join(dir, 'pebble.csr'), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-days', '2', '-extfile', join(dir, 'ext.cnf'), '-out', join(dir, 'pebble.pem')]);
}

function startProc(ctx: Ctx, file: string, args: string[], env: Record<string, string> = {}, log?: string[]): ChildProcess {
  const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (c: Buffer) => {
    if (log) log.push(...c.toString('utf8').split('\n').filter(Boolean));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  ctx.procs.push(child);
  return child;
}

function fetchText(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { ca, timeout: 5000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    });
    req.on('error', reject);
  });
}

/** The certificate HAProxy serves for DOMAIN on HTTPS, verified against pebble's root. */
function servedCertificate(root: string): Promise<{ serial: string; issuerCN: string; san: string }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: HTTPS, servername: DOMAIN, ca: root, rejectUnauthorized: true }, () => {
      const c = s.getPeerCertificate();
      s.end();
      resolve({ serial: c.serialNumber, issuerCN: String(c.issuer?.CN ?? ''), san: String(c.subjectaltname ?? '') });
    });
    s.setTimeout(5000, () => s.destroy(new Error('TLS handshake timed out')));
    s.on('error', reject);
  });
}

/** One request on a fresh connection to HAProxy's HTTP port with this Host header. */
function httpHead(path: string, host: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: HTTP, path, method: 'GET', headers: { host }, agent: false }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
    });
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

function haproxyMasterPid(paths: SnapPaths): number {
  return Number(readFileSync(paths.haproxyPidFile, 'utf8').trim());
}

// uvu does not report an exception thrown by a before hook; say what it was.
test.before(async (ctx) => {
  try {
    await setUp(ctx);
  } catch (err) {
    process.stderr.write(`acme: set-up failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    throw err;
  }
});

async function setUp(ctx: Ctx): Promise<void> {
  ctx.procs = [];
  ctx.pebbleLog = [];
  ctx.dir = mkdtempSync(join(tmpdir(), 'acme-it-'));
  makePebbleTls(ctx.dir);
  writeFileSync(
    join(ctx.dir, 'pebble-config.json'),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${PEBBLE}`,
        managementListenAddress: `127.0.0.1:${PEBBLE_MGMT}`,
        certificate: join(ctx.dir, 'pebble.pem'),
        privateKey: join(ctx.dir, 'pebble.key'),
        httpPort: HTTP,
        tlsPort: PEBBLE_TLS,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  startProc(ctx, '/usr/bin/pebble-challtestsrv', [
    '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${DNS}`,
    '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${CHALLTEST_MGMT}`,
  ]);
  // No random validation delay, no rejected nonces, no reused authorizations: every issuance
  // really fetches the challenge through HAProxy.
  startProc(ctx, '/usr/bin/pebble', ['-config', join(ctx.dir, 'pebble-config.json'), '-dnsserver', `127.0.0.1:${DNS}`], { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' }, ctx.pebbleLog);
  await waitFor('pebble and its DNS', async () => (await listening(PEBBLE)) && (await listening(PEBBLE_MGMT)) && (await listening(CHALLTEST_MGMT)));

  ctx.snapd = await FakeSnapd.create({ startLimit: { burst: 50, intervalMs: 10_000 } });
  await ctx.snapd.install();
  ctx.paths = snapPaths(snapEnvFor(ctx.snapd.layout) as unknown as SnapEnv);
  await ctx.snapd.set([`http.port=${HTTP}`]);
  await waitFor('immich through haproxy', async () => (await fetch(`http://127.0.0.1:${HTTP}/api/server/ping`, { signal: AbortSignal.timeout(3000) })).status === 200);
}

test.after(async (ctx) => {
  await ctx.snapd?.destroy();
  for (const p of ctx.procs ?? []) {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          p.kill('SIGKILL');
          r(undefined);
        }, 3000);
        p.once('exit', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    }
  }
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

test('acme-renew does nothing while https.mode is not acme', async ({ snapd }) => {
  const r = await snapd.runApp('acme-renew');
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stderr, 'https.mode is off, not acme; nothing to do');
});

test('snap set https.mode=acme: lego gets a certificate from pebble through HAProxy; HTTPS serves it; HAProxy only reloaded', async (ctx) => {
  const { snapd, paths } = ctx;
  const servicePid = snapd.services.pid('haproxy');
  const masterPid = haproxyMasterPid(paths);
  const t0 = Date.now();
  await snapd.set([
    'https.mode=acme',
    `https.acme.domain=${DOMAIN}`,
    'https.acme.email=a@b.test',
    `https.acme.server=https://127.0.0.1:${PEBBLE}/dir`,
    `https.acme.server-ca=${join(ctx.dir, 'ca.pem')}`,
    `https.port=${HTTPS}`,
  ]);
  const took = Date.now() - t0;
  ctx.root = await fetchText(`https://127.0.0.1:${PEBBLE_MGMT}/roots/0`, readFileSync(join(ctx.dir, 'ca.pem'), 'utf8'));
  const served = await servedCertificate(ctx.root);
  assert.match(served.issuerCN, /Pebble/, 'issued by pebble');
  assert.ok(served.san.split(', ').includes(`DNS:${DOMAIN}`), served.san);
  // The challenge was fetched from HAProxy's HTTP port (lego listens on loopback 8402 only).
  assert.ok(
    ctx.pebbleLog.some((l) => l.includes(`http://${DOMAIN}:${HTTP}/.well-known/acme-challenge/`)),
    `pebble validated through http.port:\n${ctx.pebbleLog.slice(-15).join('\n')}`,
  );
  assert.is(snapd.services.pid('haproxy'), servicePid, 'the haproxy service was not restarted');
  assert.is(haproxyMasterPid(paths), masterPid, 'the HAProxy master was not restarted');
  const pem = paths.certFile('acme');
  assert.is(statSync(pem).mode & 0o777, 0o600);
  assert.ok(new X509Certificate(readFileSync(pem, 'utf8')).checkHost(DOMAIN));
  assert.match(readFileSync(paths.haproxyCfg, 'utf8'), `ssl crt ${pem}`);
  assert.ok(snapd.services.isEnabled('acme-renew'), 'the renewal timer is enabled');
  // HTTP redirects to HTTPS (default), except the challenge path.
  // (A new connection: an idle keep-alive one may still be served by the worker before the reload.)
  const redirect = await httpHead(`/photos`, DOMAIN);
  assert.is(redirect.status, 301);
  assert.is(redirect.location, `https://${DOMAIN}:${HTTPS}/photos`);
  const challenge = await httpHead('/.well-known/acme-challenge/unknown-token', DOMAIN);
  assert.is.not(challenge.status, 301, 'the challenge path is never redirected');
  process.stderr.write(`  [acme] snap set https.mode=acme → certificate served: ${took} ms\n`);
});

test('a second run is a no-op: the certificate is not due', async ({ snapd, paths }) => {
  const before = readFileSync(paths.certFile('acme'), 'utf8');
  const r = await snapd.runApp('acme-renew');
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stderr, `the certificate for ${DOMAIN} is valid until`);
  assert.is(readFileSync(paths.certFile('acme'), 'utf8'), before);
});

/** A slow HTTPS download through HAProxy (~5 MB/s); resolves with the bytes received. */
function slowDownload(root: string, bytes: number, onFirstByte: () => void): Promise<{ status: number; received: number }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(
      { host: '127.0.0.1', port: HTTPS, servername: DOMAIN, ca: root, path: `/api/double/download?bytes=${bytes}`, headers: { host: DOMAIN }, agent: false },
      (res) => {
        let received = 0;
        let first = true;
        res.on('data', (c: Buffer) => {
          if (first) {
            first = false;
            onFirstByte();
          }
          received += c.length;
          res.pause();
          setTimeout(() => res.resume(), Math.ceil(c.length / 5_000)); // ~5 MB/s
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, received }));
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error('download stalled')));
    req.on('error', reject);
  });
}

test('a forced renewal reloads HAProxy without dropping an in-flight download', async (ctx) => {
  const { snapd, paths } = ctx;
  const servicePid = snapd.services.pid('haproxy');
  const masterPid = haproxyMasterPid(paths);
  const before = await servedCertificate(ctx.root);
  const bytes = 40 * 1024 * 1024;
  let started!: () => void;
  const firstByte = new Promise<void>((r) => (started = r));
  let finishedAt = 0;
  const download = slowDownload(ctx.root, bytes, () => started()).then((r) => {
    finishedAt = Date.now();
    return r;
  });
  await firstByte;
  const r = await snapd.runApp('acme-renew', ['--force']);
  const renewedAt = Date.now();
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stderr, 'HAProxy reloaded');
  assert.is(finishedAt, 0, 'the download was still in flight when the reload happened');
  const after = await servedCertificate(ctx.root);
  assert.is.not(after.serial, before.serial, 'a new certificate is served');
  const done = await download;
  assert.is(done.status, 200);
  assert.is(done.received, bytes, 'the in-flight download completed in full');
  assert.is(snapd.services.pid('haproxy'), servicePid);
  assert.is(haproxyMasterPid(paths), masterPid, 'the HAProxy master kept its pid');
  process.stderr.write(`  [acme] forced renewal: download finished ${finishedAt - renewedAt} ms after the reload\n`);
});

test('a failed renewal exits 1 with one line and changes nothing', async (ctx) => {
  const { snapd, paths } = ctx;
  const cert = readFileSync(paths.certFile('acme'), 'utf8');
  const cfg = readFileSync(paths.haproxyCfg, 'utf8');
  const masterPid = haproxyMasterPid(paths);
  const before = await servedCertificate(ctx.root);
  // The CA goes away.
  const pebble = ctx.procs[1]!;
  pebble.kill('SIGTERM');
  await waitFor('pebble gone', async () => !(await listening(PEBBLE)));
  const r = await snapd.runApp('acme-renew', ['--force']);
  assert.is(r.exitCode, 1);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('acme-renew: renewal forced'));
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^acme-renew: lego could not get a certificate for photos\.test from https:\/\/127\.0\.0\.1:\d+\/dir: .+; the previous certificate stays in use$/);
  assert.is(readFileSync(paths.certFile('acme'), 'utf8'), cert);
  assert.is(readFileSync(paths.haproxyCfg, 'utf8'), cfg);
  assert.is(haproxyMasterPid(paths), masterPid);
  assert.is((await servedCertificate(ctx.root)).serial, before.serial);
});

test('https.mode=off: HTTPS stops being served, the timer is disabled, HTTP serves Immich again', async ({ snapd }) => {
  await snapd.set(['https.mode=off']);
  assert.not.ok(snapd.services.isEnabled('acme-renew'));
  await waitFor('https closed', async () => !(await listening(HTTPS)), 10_000);
  const r = await fetch(`http://127.0.0.1:${HTTP}/api/server/ping`);
  assert.is(r.status, 200);
});

test.run();
