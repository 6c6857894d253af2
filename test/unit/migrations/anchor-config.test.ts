import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAnchorBind, translateAnchorConfig } from '../../../hooks-src/migrations/anchor-config.js';

const COMMON = '/var/snap/immich-distribution/common';
const none = { snapCommon: COMMON, fileExists: () => false };

test('bind strings as the anchor wrote them', () => {
  assert.equal(parseAnchorBind('*:80'), { address: '', port: 80 });
  assert.equal(parseAnchorBind(':8080'), { address: '', port: 8080 });
  assert.equal(parseAnchorBind('0.0.0.0:80'), { address: '', port: 80 });
  assert.equal(parseAnchorBind('192.0.2.7:8443'), { address: '192.0.2.7', port: 8443 });
  assert.equal(parseAnchorBind('[::]:80'), { address: '', port: 80 });
  assert.equal(parseAnchorBind('[2001:db8::1]:80'), { address: '2001:db8::1', port: 80 });
  for (const bad of ['80', '*:0', '*:70000', 'example.com:80', '*:80 ssl crt x', '']) assert.is(parseAnchorBind(bad), undefined, bad);
});

test('a default anchor install: its password kept, every other anchor key removed, nothing else set', () => {
  const t = translateAnchorConfig(
    {
      'database-password': 'abcdefghijklmnopqrst',
      'admin-api-key': 'k'.repeat(40),
      'haproxy-http-bind': '*:80',
      'https-enabled': 'false',
      previous: { version: 'v2.3.1', revision: '312', era: '3' },
      'sent-notification-hash': 'abc',
    },
    none,
  );
  assert.equal(t.set, { 'database-password': 'abcdefghijklmnopqrst' });
  assert.equal(t.unset, ['admin-api-key', 'haproxy-http-bind', 'https-enabled', 'previous', 'sent-notification-hash']);
  assert.not.match(t.notes.join('\n'), /abcdefghijklmnopqrst|kkkk/);
});

test('ACME with the HTTP frontend disabled (kept on for the challenge), ports moved, staging CA, daily backups, node options', () => {
  const t = translateAnchorConfig(
    {
      'haproxy-http-bind': '192.0.2.7:8088',
      'haproxy-https-bind': '192.0.2.7:8443',
      'https-enabled': 'true',
      'http-enabled': 'false',
      'acme-domain': 'photos.example.com',
      'acme-email': 'me@example.com',
      'acme-staging': 'true',
      'acme-port': '34567',
      'backup-database-daily': 'true',
      'node-options': '--max-old-space-size=4096',
    },
    none,
  );
  assert.equal(t.set, {
    'http.port': 8088,
    'https.port': 8443,
    'http.bind': '192.0.2.7',
    'https.mode': 'acme',
    'https.acme.domain': 'photos.example.com',
    'https.acme.email': 'me@example.com',
    'https.acme.server': 'https://acme-staging-v02.api.letsencrypt.org/directory',
    'backup.schedule': 'daily',
    'server.node-options': '--max-old-space-size=4096',
  });
  assert.ok(t.unset.includes('acme-port') && t.unset.includes('node-options'));
  assert.match(t.notes.join('\n'), /HTTP stays on for the ACME challenge/);
});

test('hand-placed certificate: custom mode on the anchor\'s files, only when they exist', () => {
  const withFiles = translateAnchorConfig({ 'https-enabled': 'true', 'http-enabled': 'false' }, { snapCommon: COMMON, fileExists: () => true });
  assert.equal(withFiles.set, { 'http.port': 'off', 'https.mode': 'custom', 'https.cert': `${COMMON}/acme/haproxy/cert.crt`, 'https.key': `${COMMON}/acme/haproxy/cert.crt.key` });
  const without = translateAnchorConfig({ 'https-enabled': 'true', 'http-enabled': 'false' }, none);
  assert.equal(without.set, {}, 'HTTPS stays off, so HTTP must stay on');
  assert.match(without.notes.join('\n'), /HTTPS stays off/);
});

test('values that would not validate are left at the default with a note; a bad password is never shown', () => {
  const t = translateAnchorConfig({ 'node-options': '--require /tmp/evil.js', 'database-password': 'short', 'haproxy-http-bind': 'garbage' }, none);
  assert.equal(t.set, {});
  const notes = t.notes.join('\n');
  assert.match(notes, /server\.node-options from the previous layout would not be valid here/);
  assert.match(notes, /database-password from the previous layout would not be valid here: left at the default$/m);
  assert.not.match(notes, /short/);
  assert.ok(t.unset.includes('database-password'), 'a refused password is unset so that install publishes a new one');
  assert.match(notes, /haproxy-http-bind is not an address:port/);
  // Port 8080 is our HAProxy statistics port: the conflict is found, the port stays 80.
  const clash = translateAnchorConfig({ 'haproxy-http-bind': '*:8080' }, none);
  assert.equal(clash.set, {});
  assert.match(clash.notes.join('\n'), /http\.port from the previous layout would not be valid here: .*8080/);
});

test('our own keys already present are neither unset nor touched', () => {
  const t = translateAnchorConfig({ http: { port: 8081 }, 'haproxy-http-bind': '*:80' }, none);
  assert.equal(t.unset, ['haproxy-http-bind']);
  assert.equal(t.set, {});
});

test.run();
