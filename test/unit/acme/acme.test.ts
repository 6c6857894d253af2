import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AcmeSettings, combinedPem, decide, legoArgs, legoCertificateFiles, legoEnv, legoFailureLine, parseAcmeSettings } from '../../../hooks-src/acme/acme.js';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'acme-unit-'));

/** A self-signed EC certificate for `cn` valid `days` days from now, and its key. */
function cert(name: string, cn: string, days: number): { cert: string; key: string } {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', String(days),
    '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`),
  ], { stdio: 'ignore' });
  return { cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
}

const long = cert('long', 'photos.example', 90);
const short = cert('short', 'photos.example', 10);
const other = cert('other', 'other.example', 90);
const now = Date.now();

const settings: AcmeSettings = { domain: 'photos.example', email: 'a@b.example', server: 'https://acme.example/dir', challengePort: 8402, serverCa: '' };

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('lego run: HTTP-01 on loopback only, our --path, accepted terms', () => {
  assert.equal(legoArgs(settings, '/c/certs/acme', 'run'), [
    '--accept-tos', '--server', 'https://acme.example/dir', '--email', 'a@b.example', '--domains', 'photos.example',
    '--key-type', 'ec256', '--http', '--http.port', '127.0.0.1:8402', '--path', '/c/certs/acme', 'run',
  ]);
});

test('lego renew: --days and no random sleep (the snapd timer already spreads runs)', () => {
  const args = legoArgs(settings, '/p', 'renew');
  assert.equal(args.slice(-4), ['renew', '--days', '30', '--no-random-sleep']);
});

test('LEGO_CA_CERTIFICATES only when https.acme.server-ca is set', () => {
  assert.equal(legoEnv(settings), {});
  assert.equal(legoEnv({ ...settings, serverCa: '/etc/pebble.pem' }), { LEGO_CA_CERTIFICATES: '/etc/pebble.pem' });
});

test('lego certificate files', () => {
  assert.equal(legoCertificateFiles('/p', 'photos.example'), { cert: '/p/certificates/photos.example.crt', key: '/p/certificates/photos.example.key' });
});

test('settings file: parsed, older files without serverCa accepted, bad ones refused in one line', () => {
  const { serverCa: _unused, ...old } = settings;
  assert.equal(parseAcmeSettings(JSON.stringify(old)), settings);
  assert.throws(() => parseAcmeSettings('{'), /not JSON/);
  assert.throws(() => parseAcmeSettings(JSON.stringify({ ...settings, domain: 'a b' })), /invalid domain/);
  assert.throws(() => parseAcmeSettings(JSON.stringify({ ...settings, server: 'http://x' })), /invalid server/);
});

test('decide: nothing to do while the served certificate is fresh', () => {
  assert.is(decide({ now, domain: 'photos.example', installed: long.cert, held: long.cert }).action, 'none');
});

test('decide: first certificate is obtained with run', () => {
  assert.equal(decide({ now, domain: 'photos.example' }), { action: 'obtain', lego: 'run', why: 'no certificate for photos.example yet' });
});

test('decide: expiring within 30 days is renewed with renew when lego holds it', () => {
  const d = decide({ now, domain: 'photos.example', installed: short.cert, held: short.cert });
  assert.is(d.action, 'obtain');
  assert.is(d.action === 'obtain' && d.lego, 'renew');
  assert.match(d.why, 'expires on');
  // Same certificate 25 days earlier: not due yet.
  assert.is(decide({ now: now - 25 * DAY, domain: 'photos.example', installed: short.cert, held: short.cert }).action, 'none');
});

test('decide: a fresh certificate lego holds but HAProxy does not serve is installed without an ACME call', () => {
  assert.is(decide({ now, domain: 'photos.example', held: long.cert }).action, 'install');
  assert.is(decide({ now, domain: 'photos.example', installed: short.cert, held: long.cert }).action, 'install');
});

test('decide: a new domain gets a new certificate', () => {
  const d = decide({ now, domain: 'photos.example', installed: other.cert });
  assert.equal(d, { action: 'obtain', lego: 'run', why: 'the served certificate is not for photos.example' });
});

test('decide: force obtains a new one even when fresh', () => {
  const d = decide({ now, domain: 'photos.example', installed: long.cert, held: long.cert, force: true });
  assert.equal(d.action === 'obtain' && d.lego, 'run');
});

test('decide: unparseable files count as absent', () => {
  assert.is(decide({ now, domain: 'photos.example', installed: 'garbage', held: 'garbage' }).action, 'obtain');
});

test('combined PEM: certificates then key, checked', () => {
  const pem = combinedPem(`${long.cert}\n${other.cert}`, long.key, 'photos.example', now);
  assert.is((pem.match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
  assert.ok(pem.indexOf('PRIVATE KEY') > pem.lastIndexOf('END CERTIFICATE'));
  assert.ok(pem.endsWith('-----\n'));
  assert.throws(() => combinedPem(long.cert, other.key, 'photos.example', now), /does not belong/);
  assert.throws(() => combinedPem(long.cert, long.key, 'other.example', now), /not valid for other.example/);
  assert.throws(() => combinedPem(long.cert, long.key, 'photos.example', now + 200 * DAY), /expired on/);
  assert.throws(() => combinedPem('x', long.key, 'photos.example', now), /does not parse/);
});

test('lego failure line: the last error, without timestamps, one line', () => {
  const out = [
    '2024/05/01 10:00:00 [INFO] [photos.example] acme: Obtaining bundled SAN certificate',
    '2024/05/01 10:00:01 [INFO] [photos.example] acme: Could not find solver for: tls-alpn-01',
    '2024/05/01 10:00:02 Could not obtain certificates:',
    '\terror: one or more domains had a problem:',
    '[photos.example] acme: error: 400 :: urn:ietf:params:acme:error:connection :: Fetching http://photos.example/.well-known/acme-challenge/x: Connection refused',
  ].join('\n');
  assert.is(legoFailureLine(out), '[photos.example] acme: error: 400 :: urn:ietf:params:acme:error:connection :: Fetching http://photos.example/.well-known/acme-challenge/x: Connection refused');
  assert.is(legoFailureLine(''), 'lego failed without a message');
});

test.run();
