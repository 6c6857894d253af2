// Every key with valid values (typed and string forms → the typed value) and invalid values (each
// rejected with one line naming the key), table-driven; plus adversarial strings for every key.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SETTING_KEYS, type SettingKey } from '../../../hooks-src/settings/schema.js';
import { validateSettings } from '../../../hooks-src/settings/validate.js';
import { COMMON, ctx } from './fixtures.js';

interface Valid {
  in: unknown;
  out: unknown;
  /** Other keys needed for the value to be valid (cross-key rules). */
  with?: Record<string, unknown>;
}
interface Case {
  valid: Valid[];
  invalid: unknown[];
  /** Other keys set while testing invalid values. */
  invalidWith?: Record<string, unknown>;
}

const same = (...values: unknown[]): Valid[] => values.map((v) => ({ in: v, out: v }));
const BOOL: Case = {
  valid: [...same(true, false), { in: 'true', out: true }, { in: 'false', out: false }],
  invalid: ['yes', 'no', 'True', 'FALSE', 1, 0, '', 'on', [true], { a: 1 }],
};
const INTERNAL_PORT: Case = {
  valid: [...same(1024, 40000, 65535), { in: '41000', out: 41000 }],
  invalid: [1023, 80, 0, -1, 65536, 'off', '4000x', 4000.5, '', true, [4000]],
};
const ACME = { 'https.mode': 'acme', 'https.acme.domain': 'photos.example.com', 'https.acme.email': 'me@example.com' };
const CUSTOM = { 'https.mode': 'custom', 'https.cert': '/etc/ssl/c.pem', 'https.key': '/etc/ssl/k.pem' };
const CERT_PATH: Case = {
  valid: [...same('', '/etc/ssl/immich.pem', '/home/u/My Certs/chain.pem', '/media/usb/k.pem'), { in: '/etc/ssl/x/', out: '/etc/ssl/x' }],
  invalid: ['x.pem', './x.pem', '/etc/../x', '/etc/./x', '//etc/x', '/etc//x', '/etc/ssl /x', '/etc/ x', '/', 'C:\\x', 5, true, ['/a']],
};
const DATA_LOCATION_INVALID = [
  '/media',
  '/mnt',
  '/mnt/',
  '/run/media',
  '/etc/immich',
  '/home/u/photos',
  '/var/snap/immich-distribution/current/media',
  COMMON,
  `${COMMON}/postgres`,
  `${COMMON}/postgres/x`,
  `${COMMON}/secrets`,
  `${COMMON}/run`,
  `${COMMON}/certs`,
  `${COMMON}/redis`,
  `${COMMON}/ml-cache`,
  'relative/path',
  '/mnt/../etc',
  '/mnt/x/..',
  '/mnt//x',
  '/mnt/x /y',
  '/mnt/a:b',
  '/mnt/a*b',
  '/mnt/a;b',
  '/mnt/a(b)',
  `/mnt/${'x'.repeat(260)}`,
  5,
  true,
  ['/mnt/x'],
];

const CASES: Record<SettingKey, Case> = {
  'http.port': {
    valid: [
      ...same(80, 8000, 1, 65535),
      { in: '8000', out: 8000 },
      { in: 8080, out: 8080, with: { 'internal.stats-port': 8081 } },
      { in: '080', out: 80 },
      { in: 'off', out: 'off', with: { 'https.mode': 'self-signed' } },
      { in: 'off', out: 'off', with: CUSTOM },
    ],
    invalid: [0, -1, 65536, '0', '80a', ' 80', 80.5, true, '', 'OFF', 'Off', 'none', [80], { port: 80 }],
  },
  'http.bind': {
    valid: [
      ...same('', '127.0.0.1', '0.0.0.0', '192.168.1.10', '::', '::1', '2001:db8::5'),
      { in: '[::1]', out: '::1' },
      { in: '[2001:db8::5]', out: '2001:db8::5' },
    ],
    invalid: ['localhost', '1.2.3.4:80', 'fe80::1%eth0', '256.1.1.1', '01.2.3.4', ' 1.2.3.4', '1.2.3.4 ', '*', 'all', 5, true, ['1.2.3.4']],
  },
  'https.mode': {
    valid: [
      { in: 'off', out: 'off' },
      { in: 'self-signed', out: 'self-signed' },
      { in: 'custom', out: 'custom', with: CUSTOM },
      { in: 'acme', out: 'acme', with: ACME },
    ],
    invalid: ['on', 'true', true, false, 'Acme', 'selfsigned', 'letsencrypt', '', 1],
  },
  'https.port': {
    valid: [...same(443, 8443, 1, 65535), { in: '8443', out: 8443 }],
    invalid: [0, 65536, 'off', '443s', 443.1, true, ''],
  },
  'https.redirect': BOOL,
  'https.hsts': BOOL,
  'https.cert': CERT_PATH,
  'https.key': CERT_PATH,
  'https.acme.domain': {
    valid: [
      ...same('', 'photos.example.com', 'localhost', 'xn--bcher-kva.example', 'a-b.c-d.example', 'x1.example.org'),
      { in: 'Photos.Example.COM', out: 'photos.example.com' },
    ],
    invalid: [
      '*.example.com',
      'ex ample.com',
      '1.2.3.4',
      'example.com.',
      '-a.example.com',
      'a-.example.com',
      'a..b',
      '.example.com',
      `${'a'.repeat(64)}.com`,
      `${'a.'.repeat(127)}com`,
      'https://example.com',
      'example.com/path',
      'exa_mple.com',
      'bücher.example',
      5,
      true,
    ],
  },
  'https.acme.email': {
    valid: [...same('', 'me@example.com', 'first.last+immich@mail.example.org', 'a_b-c@x.io'), { in: 'Me@Example.COM', out: 'Me@example.com' }],
    invalid: ['me', 'me@', '@example.com', 'me@localhost', 'a b@x.com', 'me@x.com,other@y.com', 'me@@x.com', 'me@x..com', '<me@x.com>', 'me(x)@x.com', `${'a'.repeat(65)}@x.com`, 5],
  },
  'https.acme.server': {
    valid: same(
      'https://acme-v02.api.letsencrypt.org/directory',
      'https://acme-staging-v02.api.letsencrypt.org/directory',
      'https://127.0.0.1:14000/dir',
      'https://[::1]:14000/dir',
      'https://ca.internal:9000/acme/acme/directory',
    ),
    invalid: ['http://127.0.0.1:14000/dir', 'ftp://x/dir', 'https://user:pw@x/dir', 'https://x/dir?x=1', 'https://x/dir#a', 'not a url', 'https:/x', 'https://', 'https://bad_host/dir', '', 'x.example.com/dir', 5],
  },
  'https.acme.server-ca': CERT_PATH,
  'proxy.timeout': {
    valid: [
      { in: 600, out: 600 },
      { in: '600', out: 600 },
      { in: '600s', out: 600 },
      { in: '10m', out: 600 },
      { in: '1h', out: 3600 },
      { in: '1h30m', out: 5400 },
      { in: '2m30s', out: 150 },
      { in: '30s', out: 30 },
      { in: 30, out: 30 },
      { in: 86400, out: 86400 },
      { in: '24h', out: 86400 },
    ],
    invalid: [29, '29s', 0, -5, '25h', 86401, '10 m', '10min', '1d', 'm', 's', '', 'off', true, 600.5, '1.5h', '10m1h'],
  },
  'proxy.trusted-proxies': {
    valid: [
      { in: '', out: [] },
      { in: [], out: [] },
      { in: '10.0.0.0/8', out: ['10.0.0.0/8'] },
      { in: '1.2.3.4, 2001:db8::/32', out: ['1.2.3.4', '2001:db8::/32'] },
      { in: '1.2.3.4,1.2.3.4', out: ['1.2.3.4'] },
      { in: ['1.2.3.4', '10.0.0.0/8'], out: ['1.2.3.4', '10.0.0.0/8'] },
      { in: 'loopback,linklocal,uniquelocal', out: ['loopback', 'linklocal', 'uniquelocal'] },
      { in: '0.0.0.0/0', out: ['0.0.0.0/0'] },
    ],
    invalid: [
      'x',
      'cdn.example.com',
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/-1',
      '10.0.0.0/',
      '1.2.3.4,,5.6.7.8',
      '1.2.3.4,',
      '1.2.3.4/8/8',
      '1.2.3.4 5.6.7.8',
      Array.from({ length: 33 }, (_, i) => `10.0.0.${i}`).join(','),
      5,
      [5],
      ['x'],
      true,
    ],
  },
  'media.location': {
    valid: [
      ...same(`${COMMON}/media`, `${COMMON}/photos`, `${COMMON}/library/2024`, '/media/usb/Photos', '/mnt/nas/immich', '/run/media/u/disk', '/mnt/My Passport/immich', '/mnt/Fotos-Müller'),
      { in: '/mnt/x/', out: '/mnt/x' },
    ],
    invalid: DATA_LOCATION_INVALID,
  },
  'ml.enabled': BOOL,
  'ml.url': {
    valid: [
      ...same('', 'http://gpu:3003', 'https://ml.example.com/immich', 'http://192.168.1.5:3003', 'http://[fd00::1]:3003'),
      { in: 'http://gpu:3003/', out: 'http://gpu:3003' },
    ],
    invalid: ['gpu:3003', 'ftp://x', 'http://u:p@x', 'http://x/?a=1', 'http://x/#a', 'http://', 'http://bad_host:1', 'http:gpu', 'local', 5, true],
  },
  'database-password': {
    valid: same('a'.repeat(16), 'a'.repeat(128), 'A-b_c.d~e0123456789', 'q3J8Zg2X9pV_rL0-kT4wYb7NcE1uHs6mAo5iDf-xRzQ'),
    invalid: ['a'.repeat(15), 'a'.repeat(129), 'with space 0123456789', 'pässwordpässword', 'abc:defghijklmnopq', 'abc@defghijklmnopq', 'abc/defghijklmnopq', '', 1234567890123456, true],
  },
  'database.tcp': BOOL,
  'backup.schedule': { valid: same('off', 'daily', 'weekly'), invalid: ['monthly', 'Daily', 'hourly', true, false, '', 1] },
  'backup.keep': {
    valid: [...same(1, 7, 365), { in: '7', out: 7 }],
    invalid: [0, 366, -1, '1.5', 2.5, 'seven', '', true],
  },
  'backup.location': {
    valid: same(`${COMMON}/backups`, `${COMMON}/dumps`, '/mnt/backup', '/media/usb/immich-backups'),
    invalid: [...DATA_LOCATION_INVALID, `${COMMON}/media/backups`],
  },
  'backup.assets': BOOL,
  'server.node-options': {
    valid: [
      { in: '', out: [] },
      { in: '   ', out: [] },
      { in: '--max-old-space-size=8192', out: ['--max-old-space-size=8192'] },
      { in: '--max-old-space-size=4096 --enable-source-maps', out: ['--max-old-space-size=4096', '--enable-source-maps'] },
      { in: '  --no-warnings  ', out: ['--no-warnings'] },
      { in: '--dns-result-order=ipv4first --trace-warnings', out: ['--dns-result-order=ipv4first', '--trace-warnings'] },
      { in: '--max-semi-space-size=64 --stack-trace-limit=50', out: ['--max-semi-space-size=64', '--stack-trace-limit=50'] },
      { in: ['--no-warnings', '--max-old-space-size=4096'], out: ['--no-warnings', '--max-old-space-size=4096'] },
      { in: [], out: [] },
    ],
    invalid: [
      '--inspect',
      '--inspect=0.0.0.0:9229',
      '--require=/tmp/x.js',
      '-r x',
      '--import=data:text/javascript,0',
      '--eval=1',
      '--max-old-space-size=abc',
      '--max-old-space-size=10',
      '--max-old-space-size',
      '--max-old-space-size=',
      '--enable-source-maps=1',
      '--no-warnings --no-warnings',
      '--dns-result-order=random',
      '--max-old-space-size=4096\t--no-warnings',
      5,
      ['--inspect'],
      ['--no-warnings', 5],
      ['--no-warnings --inspect'],
    ],
  },
  'log.level': { valid: same('verbose', 'debug', 'log', 'warn', 'error'), invalid: ['info', 'fatal', 'LOG', 'Warn', '', 3, true] },
  'internal.server-port': INTERNAL_PORT,
  'internal.ml-port': INTERNAL_PORT,
  'internal.stats-port': INTERNAL_PORT,
  'internal.postgres-port': INTERNAL_PORT,
};

test('every key has a table of cases', () => {
  assert.equal(Object.keys(CASES).sort(), [...SETTING_KEYS].sort());
});

for (const key of SETTING_KEYS) {
  const c = CASES[key];
  test(`${key}: valid values`, () => {
    for (const v of c.valid) {
      const r = validateSettings({ ...v.with, [key]: v.in }, ctx);
      if (!r.ok) {
        assert.unreachable(`${key}=${JSON.stringify(v.in)} rejected: ${r.problems.join(' / ')}`);
        continue;
      }
      assert.equal(r.settings[key], v.out, `${key}=${JSON.stringify(v.in)}`);
    }
  });
  test(`${key}: invalid values are rejected with one line naming the key`, () => {
    for (const bad of c.invalid) {
      const r = validateSettings({ ...c.invalidWith, [key]: bad }, ctx);
      if (r.ok) {
        assert.unreachable(`${key}=${JSON.stringify(bad)} was accepted as ${JSON.stringify(r.settings[key])}`);
        continue;
      }
      assert.is(r.problems.length, 1, `${key}=${JSON.stringify(bad)}: ${r.problems.join(' / ')}`);
      assert.ok(r.problems[0]!.startsWith(`${key}: `), r.problems[0]);
      assert.ok(/; use /.test(r.problems[0]!), `says what is allowed: ${r.problems[0]}`);
      assert.not.match(r.problems[0]!, /[\u0000-\u001f\u007f]/, 'one printable line');
    }
  });
}

// Adversarial strings: each is rejected for every key, the message stays one printable line of
// bounded length, and the value never appears unescaped.
const ADVERSARIAL: [string, string][] = [
  ['newline', 'x\ny'],
  ['CR', 'x\ry'],
  ['CRLF directive', 'x\r\n    bind 0.0.0.0:23'],
  ['NUL', 'x\u0000y'],
  ['ESC', 'x\u001b[2Jy'],
  ['tab', 'x\ty'],
  ['DEL', 'x\u007fy'],
  ['C1 NEL', 'x\u0085y'],
  ['line separator', 'x\u2028y'],
  ['bidi override', 'x\u202ey'],
  ['zero-width space', 'x\u200by'],
  ['BOM', '\ufeffx'],
  ['lone surrogate', 'x\ud800y'],
  ['double quote', 'x"y'],
  ['single quote', "x'y"],
  ['backtick', 'x`y'],
  ['hash', 'x#y'],
  ['dollar', 'x$y'],
  ['env expansion', '${HOME}'],
  ['haproxy sample', '%[env(HOME)]'],
  ['percent', 'x%y'],
  ['backslash', 'x\\y'],
  ['backslash-n', 'x\\ny'],
  ['10 KB', 'a'.repeat(10 * 1024)],
];

/** A value that would be valid for the key, so the payload is the only thing wrong. */
const CARRIER: Record<SettingKey, string> = {
  'http.port': '80',
  'http.bind': '127.0.0.1',
  'https.mode': 'self-signed',
  'https.port': '443',
  'https.redirect': 'true',
  'https.hsts': 'false',
  'https.cert': '/etc/ssl/c.pem',
  'https.key': '/etc/ssl/k.pem',
  'https.acme.domain': 'photos.example.com',
  'https.acme.email': 'me@example.com',
  'https.acme.server': 'https://acme.example.com/dir',
  'https.acme.server-ca': '/etc/ssl/ca.pem',
  'proxy.timeout': '10m',
  'proxy.trusted-proxies': '10.0.0.1',
  'media.location': '/mnt/photos',
  'ml.enabled': 'true',
  'ml.url': 'http://gpu:3003',
  'database-password': 'a'.repeat(20),
  'database.tcp': 'true',
  'backup.schedule': 'daily',
  'backup.keep': '7',
  'backup.location': '/mnt/backups',
  'backup.assets': 'false',
  'server.node-options': '--no-warnings',
  'log.level': 'log',
  'internal.server-port': '3001',
  'internal.ml-port': '3003',
  'internal.stats-port': '8080',
  'internal.postgres-port': '5432',
};

for (const key of SETTING_KEYS) {
  test(`${key}: adversarial strings are rejected`, () => {
    const carrier = CARRIER[key];
    assert.ok(validateSettings({ [key]: carrier }, ctx).ok, `carrier ${carrier} is valid`);
    for (const [name, payload] of ADVERSARIAL) {
      for (const value of [payload, `${carrier}${payload}`, `${payload}${carrier}`, `${carrier.slice(0, 2)}${payload}${carrier.slice(2)}`]) {
        const r = validateSettings({ [key]: value }, ctx);
        if (r.ok) {
          assert.unreachable(`${key} accepted ${name}: ${JSON.stringify(value)} → ${JSON.stringify(r.settings[key])}`);
          continue;
        }
        assert.is(r.problems.length, 1, `${key} ${name}`);
        const line = r.problems[0]!;
        assert.ok(line.startsWith(`${key}: `), line);
        assert.not.match(line, /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/u, `${key} ${name}: printable line`);
        assert.ok(line.length < 700, `${key} ${name}: bounded line (${line.length})`);
        if (key === 'database-password') assert.not.ok(line.includes('aaaaaaaaaa'), 'the password is never shown');
      }
    }
  });
}

test('the 10 KB value is cut in the message with its length noted', () => {
  const r = validateSettings({ 'media.location': `/mnt/${'x'.repeat(10_235)}` }, ctx);
  assert.not.ok(r.ok);
  if (!r.ok) {
    assert.match(r.problems[0]!, /^media\.location: "\/mnt\/x{55}…" \(10240 characters\) is 10240 characters long; at most 1024; use /);
  }
});

test('control characters are shown escaped with the reason', () => {
  const r = validateSettings({ 'http.bind': '127.0.0.1\nbind *:23' }, ctx);
  assert.not.ok(r.ok);
  if (!r.ok) {
    assert.is(r.problems[0], 'http.bind: "127.0.0.1\\nbind *:23" contains the control character \\n; use an IPv4 or IPv6 address, or empty for all addresses');
  }
  const q = validateSettings({ 'https.acme.email': 'a"b@x.com' }, ctx);
  if (!q.ok) assert.match(q.problems[0]!, /^https\.acme\.email: "a\\"b@x\.com" contains "\\"", which no setting allows; use /);
  else assert.unreachable('quote accepted');
});

test('typed and string forms give the same typed settings', () => {
  const typed = validateSettings({ 'http.port': 8000, 'ml.enabled': false, 'backup.keep': 3, 'proxy.timeout': 900, 'database.tcp': false }, ctx);
  const strings = validateSettings({ 'http.port': '8000', 'ml.enabled': 'false', 'backup.keep': '3', 'proxy.timeout': '15m', 'database.tcp': 'false' }, ctx);
  assert.ok(typed.ok && strings.ok);
  if (typed.ok && strings.ok) assert.equal(typed.settings, strings.settings);
});

test.run();
