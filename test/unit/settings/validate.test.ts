// validateSettings as a whole: all problems at once, cross-key rules, unknown keys and did-you-mean,
// flattening snapctl documents, defaults and what is written back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { snapPaths } from '../../../hooks-src/snap/paths.js';
import {
  RESERVED_COMMON_ENTRIES,
  SETTING_KEYS,
  SETTINGS,
  defaultOf,
  settingDef,
  showValue,
  toSnapValue,
} from '../../../hooks-src/settings/schema.js';
import { defaultsToWrite, didYouMean, editDistance, flattenConfig, validateSettings } from '../../../hooks-src/settings/validate.js';
import { COMMON, PASSWORD, ctx, problemsOf, settingsWith } from './fixtures.js';

test('empty config: every default, typed', () => {
  const s = settingsWith({});
  assert.equal(s, {
    'http.port': 80,
    'http.bind': '',
    'https.mode': 'off',
    'https.port': 443,
    'https.redirect': true,
    'https.hsts': false,
    'https.cert': '',
    'https.key': '',
    'https.acme.domain': '',
    'https.acme.email': '',
    'https.acme.server': 'https://acme-v02.api.letsencrypt.org/directory',
    'https.acme.server-ca': '',
    'proxy.timeout': 600,
    'proxy.trusted-proxies': [],
    'media.location': `${COMMON}/media`,
    'ml.enabled': true,
    'ml.url': '',
    // database-password: absent (no default; the hook keeps the generated one)
    'database.tcp': true,
    'backup.schedule': 'off',
    'backup.keep': 7,
    'backup.location': `${COMMON}/backups`,
    'backup.assets': false,
    'server.node-options': [],
    'log.level': 'log',
    'internal.server-port': 3001,
    'internal.ml-port': 3003,
    'internal.stats-port': 8080,
    'internal.postgres-port': 5432,
  });
});

test('defaults that depend on $SNAP_COMMON come from the context', () => {
  const r = validateSettings({}, { snapCommon: '/var/snap/immich-distribution_test/common' });
  assert.ok(r.ok);
  if (r.ok) {
    assert.is(r.settings['media.location'], '/var/snap/immich-distribution_test/common/media');
    assert.is(r.settings['backup.location'], '/var/snap/immich-distribution_test/common/backups');
  }
});

test('all problems are reported at once, unknown keys first, then in schema order, then cross-key rules', () => {
  const problems = problemsOf({
    'log.level': 'info',
    'http.port': 0,
    'http.prot': 8080,
    'https.mode': 'acme',
    'backup.keep': 0,
    'internal.ml-port': 8080,
    'database-password': 'short',
  });
  assert.equal(problems, [
    'unknown setting "http.prot"; did you mean "http.port"?',
    'http.port: "0" is not allowed; use a port 1–65535, or off when https.mode is on',
    'database-password: the value given (not shown) is 5 characters long; at least 16; use 16–128 characters of A–Z a–z 0–9 . _ ~ -',
    'backup.keep: "0" is not allowed; use a whole number 1–365',
    'log.level: "info" is not allowed; use verbose, debug, log, warn or error',
    'https.acme.domain: required when https.mode is acme; use a DNS name such as photos.example.com',
    'https.acme.email: required when https.mode is acme; use an e-mail address (letters, digits and . _ + - before the @)',
    'internal.ml-port: "8080" is already used by internal.stats-port; use a different port, or move internal.stats-port to another port in the same snap set',
  ]);
});

test('cross-key: http.port=off needs HTTPS, and not acme', () => {
  assert.equal(problemsOf({ 'http.port': 'off' }), [
    'http.port: "off" is not allowed while https.mode is off; use a port 1–65535, or turn HTTPS on in the same snap set',
  ]);
  assert.equal(problemsOf({ 'http.port': 'off', 'https.mode': 'self-signed' }), []);
  assert.match(
    problemsOf({ 'http.port': 'off', 'https.mode': 'acme', 'https.acme.domain': 'a.example.com', 'https.acme.email': 'a@example.com' })[0]!,
    /^http\.port: "off" is not allowed while https\.mode is acme \(the HTTP-01 challenge/,
  );
});

test('cross-key: custom needs cert and key; acme needs domain and email', () => {
  assert.equal(problemsOf({ 'https.mode': 'custom' }).map((p) => p.split(':')[0]), ['https.cert', 'https.key']);
  assert.equal(problemsOf({ 'https.mode': 'custom', 'https.cert': '/c.pem' }).map((p) => p.split(':')[0]), ['https.key']);
  assert.equal(problemsOf({ 'https.mode': 'acme', 'https.acme.email': 'a@example.com' }).map((p) => p.split(':')[0]), ['https.acme.domain']);
  // Set ahead of time while HTTPS is off: fine.
  assert.equal(problemsOf({ 'https.cert': '/c.pem', 'https.acme.domain': 'a.example.com' }), []);
});

test('cross-key: ports must all differ; https.port only counts while HTTPS is on', () => {
  assert.equal(problemsOf({ 'https.port': 80 }), []);
  assert.equal(problemsOf({ 'https.port': 80, 'https.mode': 'self-signed' }), [
    'https.port: "80" is already used by http.port; use a different port, or move http.port to another port in the same snap set',
  ]);
  assert.equal(problemsOf({ 'http.port': 'off', 'https.mode': 'self-signed', 'https.port': 3001 }).length, 1);
  // The key the user set is named, not the default it collides with.
  assert.match(problemsOf({ 'http.port': 5432 })[0]!, /^http\.port: "5432" is already used by internal\.postgres-port/);
  assert.match(problemsOf({ 'internal.stats-port': 3001 })[0]!, /^internal\.stats-port: "3001" is already used by internal\.server-port/);
  // Both set: the later key in schema order is named.
  assert.match(problemsOf({ 'internal.server-port': 4000, 'internal.ml-port': 4000 })[0]!, /^internal\.ml-port: "4000" is already used by internal\.server-port/);
  // http.port may be 8080 once the stats page moves in the same snap set.
  assert.equal(problemsOf({ 'http.port': 8080, 'internal.stats-port': 8081 }), []);
});

test('cross-key: media and backups must not contain each other', () => {
  assert.match(problemsOf({ 'backup.location': `${COMMON}/media/backups` })[0]!, /^backup\.location: .* is inside media\.location/);
  assert.match(problemsOf({ 'media.location': '/mnt/b/media', 'backup.location': '/mnt/b' })[0]!, /^media\.location: .* is inside backup\.location/);
  assert.match(problemsOf({ 'media.location': '/mnt/x', 'backup.location': '/mnt/x' })[0]!, /^backup\.location: /);
  assert.equal(problemsOf({ 'media.location': '/mnt/x', 'backup.location': '/mnt/xy' }), []);
});

test('a cross-key rule is skipped when one of its keys is itself invalid (no cascade)', () => {
  assert.equal(problemsOf({ 'https.mode': 'acmee' }).length, 1);
  assert.equal(problemsOf({ 'http.port': 'off', 'https.mode': 'tls' }).length, 1);
  assert.equal(problemsOf({ 'internal.ml-port': 'x', 'internal.stats-port': 3003 }).length, 1);
});

test('unknown keys: did-you-mean when close, the group\'s keys otherwise', () => {
  const cases: [string, string][] = [
    ['http.prot', 'unknown setting "http.prot"; did you mean "http.port"?'],
    ['https.acme.domian', 'unknown setting "https.acme.domian"; did you mean "https.acme.domain"?'],
    ['ml.enable', 'unknown setting "ml.enable"; did you mean "ml.enabled"?'],
    ['database.password', 'unknown setting "database.password"; did you mean "database-password"?'],
    ['backup.kep', 'unknown setting "backup.kep"; did you mean "backup.keep"?'],
    ['timeout', 'unknown setting "timeout"; did you mean "proxy.timeout"?'],
    ['acme.email', 'unknown setting "acme.email"; did you mean "https.acme.email"?'],
    ['http.xyzzy', 'unknown setting "http.xyzzy"; the http settings are http.port, http.bind'],
    ['redis.port', 'unknown setting "redis.port"; the settings are listed in the README and shown by snap get immich-distribution'],
    ['port', 'unknown setting "port"; the settings are listed in the README and shown by snap get immich-distribution'],
  ];
  for (const [key, line] of cases) assert.equal(problemsOf({ [key]: 1 }), [line], key);
});

test('did-you-mean stays quiet when nothing is close or the guess is ambiguous', () => {
  assert.is(didYouMean('completely-different'), undefined);
  assert.is(didYouMean('port'), undefined); // http.port and https.port
  assert.is(didYouMean('https.prot'), 'https.port');
  assert.is(editDistance('http.prot', 'http.port'), 1);
  assert.is(editDistance('abc', 'abc'), 0);
  assert.is(editDistance('', 'abc'), 3);
  assert.is(editDistance('ca', 'abc'), 3);
});

test('a group given a value, and a value given a group', () => {
  assert.equal(problemsOf({ http: 80 }), ['http: "80" is not allowed; http is a group of settings (http.port, http.bind), set one of those']);
  assert.equal(problemsOf({ 'http.port.x': 1 }), ['http.port: a group of values is not allowed (found "http.port.x"); use a port 1–65535, or off when https.mode is on']);
  assert.equal(problemsOf(flattenConfig({ http: { port: { x: 1 } } })), ['http.port: "{\\"x\\":1}" is not allowed; use a port 1–65535, or off when https.mode is on']);
});

test('flattenConfig: nested documents from snapctl get -d', () => {
  assert.equal(
    flattenConfig({
      http: { port: 80, bind: '' },
      https: { mode: 'acme', acme: { domain: 'a.example.com', email: 'a@example.com' } },
      'database-password': PASSWORD,
      database: { tcp: false },
      backup: {},
      ml: { url: null },
      proxy: { 'trusted-proxies': ['1.2.3.4'] },
    }),
    {
      'http.port': 80,
      'http.bind': '',
      'https.mode': 'acme',
      'https.acme.domain': 'a.example.com',
      'https.acme.email': 'a@example.com',
      'database-password': PASSWORD,
      'database.tcp': false,
      'proxy.trusted-proxies': ['1.2.3.4'],
    },
  );
});

test('null and undefined values count as unset', () => {
  assert.equal(settingsWith({ 'http.port': null, 'log.level': undefined }), settingsWith({}));
});

test('defaultsToWrite: every unset key in snap form, never the password', () => {
  const s = settingsWith({});
  const written = defaultsToWrite(s, {});
  assert.equal(Object.keys(written), SETTING_KEYS.filter((k) => k !== 'database-password'));
  assert.is(written['proxy.timeout'], '10m');
  assert.is(written['proxy.trusted-proxies'], '');
  assert.is(written['server.node-options'], '');
  assert.is(written['media.location'], `${COMMON}/media`);
  assert.is(written['http.port'], 80);
  assert.is(written['ml.enabled'], true);
  assert.not.ok('database-password' in written);
});

test('defaultsToWrite: keys the user set are left as the user wrote them', () => {
  const flat = { 'http.port': '8000', 'database-password': PASSWORD, 'proxy.timeout': 900 };
  const written = defaultsToWrite(settingsWith(flat), flat);
  assert.not.ok('http.port' in written);
  assert.not.ok('proxy.timeout' in written);
  assert.not.ok('database-password' in written);
  assert.is(written['https.port'], 443);
});

test('written-back values validate to the same settings (round trip of every key)', () => {
  for (const flat of [
    {},
    {
      'http.port': 'off',
      'http.bind': '[::1]',
      'https.mode': 'self-signed',
      'https.acme.domain': 'Photos.Example.com',
      'https.acme.email': 'me@example.com',
      'proxy.timeout': 5400,
      'proxy.trusted-proxies': ' 10.0.0.0/8 , 1.2.3.4',
      'server.node-options': '--max-old-space-size=8192  --no-warnings',
      'media.location': '/mnt/photos/',
      'ml.url': 'http://gpu:3003/',
      'backup.schedule': 'weekly',
      'database-password': PASSWORD,
    },
  ]) {
    const s = settingsWith(flat);
    const every = Object.fromEntries(SETTING_KEYS.filter((k) => s[k] !== undefined).map((k) => [k, toSnapValue(k, s[k])]));
    assert.equal(settingsWith(every), s);
  }
});

test('typed settings are valid input and validate to themselves', () => {
  for (const flat of [{}, { 'proxy.trusted-proxies': '10.0.0.0/8,1.2.3.4', 'server.node-options': '--no-warnings', 'proxy.timeout': '1h30m', 'http.bind': '[::1]' }]) {
    const s = settingsWith(flat);
    assert.equal(settingsWith(s), s);
  }
});

test('schema data: every activeWhen refers to real keys and values; every default validates; texts present', () => {
  for (const key of SETTING_KEYS) {
    const def = settingDef(key);
    assert.ok(def.allowed.length > 0 && def.description.length > 0 && def.defaultDoc.length > 0, key);
    for (const [k, values] of Object.entries(def.activeWhen ?? {})) {
      assert.ok((SETTING_KEYS as string[]).includes(k), `${key}.activeWhen names ${k}`);
      for (const v of values) assert.equal(problemsOf({ [k]: v, ...(v === 'custom' ? { 'https.cert': '/c', 'https.key': '/k' } : {}), ...(v === 'acme' ? { 'https.acme.domain': 'a.example.com', 'https.acme.email': 'a@example.com' } : {}) }), [], `${key}.activeWhen ${k}=${String(v)}`);
    }
    const d = defaultOf(key, ctx);
    if (d !== undefined) assert.equal(problemsOf({ [key]: d }), [], `default of ${key}`);
  }
  assert.is(SETTINGS['database-password'].secret, true);
});

test('the $SNAP_COMMON entries a data location may not use are exactly the snap\'s own (paths.ts)', () => {
  const p = snapPaths({
    SNAP: '/snap/immich-distribution/x1',
    SNAP_DATA: '/var/snap/immich-distribution/x1',
    SNAP_COMMON: COMMON,
    SNAP_NAME: 'immich-distribution',
    SNAP_INSTANCE_NAME: 'immich-distribution',
    SNAP_REVISION: 'x1',
    SNAP_VERSION: '0',
  });
  const own = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string' && v.startsWith(`${COMMON}/`)) own.add(v.slice(COMMON.length + 1).split('/')[0]!);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
  };
  walk(p);
  // Data locations: the defaults, and the anchor snap's media folder (adopted as media.location).
  for (const data of ['media', 'backups', 'upload']) own.delete(data);
  assert.equal([...own].sort(), [...RESERVED_COMMON_ENTRIES].sort());
});

test('showValue: quoted, escaped, cut', () => {
  assert.is(showValue('a"b\\c\n'), '"a\\"b\\\\c\\n"');
  assert.is(showValue(80), '"80"');
  assert.is(showValue({ a: 1 }), '"{\\"a\\":1}"');
  assert.is(showValue('x\u202e'), '"x\\u202e"');
  assert.is(showValue('y'.repeat(61)), `"${'y'.repeat(60)}…" (61 characters)`);
  assert.is(showValue('y'.repeat(60)), `"${'y'.repeat(60)}"`);
});

test('the password is never shown, whatever is wrong with it', () => {
  for (const bad of ['short-SECRET', `SECRET${'x'.repeat(200)}`, 'SECRET with spaces in it', 'SECRET\nnewline-here-x', 'SECRET"quote-here-xx']) {
    for (const line of problemsOf({ 'database-password': bad })) assert.not.ok(line.includes('SECRET'), line);
  }
});

test.run();
