// planChanges: one case per key (a change touches only what that key affects), run-state flips,
// dependencies, ordering, first run, and the applied record.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type PlanStep, parseRecord, passwordFingerprint, planChanges, recordOf } from '../../../hooks-src/settings/plan.js';
import { RENDER_TARGETS, SETTING_KEYS, type SettingKey, type Settings, settingDef } from '../../../hooks-src/settings/schema.js';
import { PASSWORD, ctx, settingsWith } from './fixtures.js';

/** A plan in short words: "render haproxy.cfg", "haproxy reload", "certificate self-signed", ... */
function brief(steps: PlanStep[]): string[] {
  return steps.map((s) => {
    switch (s.kind) {
      case 'render':
        return `render ${s.file}`;
      case 'service':
        return `${s.service} ${s.action}${s.onlyIfChanged ? ` if ${s.onlyIfChanged.join('+')} changed` : ''}`;
      case 'check-location':
        return `check ${s.key} ${s.from ?? '-'} -> ${s.to}`;
      case 'certificate':
        return `certificate ${s.mode}`;
      default:
        return s.kind;
    }
  });
}

function planOf(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  return brief(planChanges(settingsWith(before), settingsWith(after)).steps);
}

const ACME = { 'https.mode': 'acme', 'https.acme.domain': 'photos.example.com', 'https.acme.email': 'me@example.com' };
const CUSTOM = { 'https.mode': 'custom', 'https.cert': '/etc/ssl/c.pem', 'https.key': '/etc/ssl/k.pem' };
const REMOTE_ML = { 'ml.url': 'http://gpu:3003' };

interface KeyCase {
  name: string;
  before?: Record<string, unknown>;
  change: Record<string, unknown>;
  expect: string[];
}

/** One or more cases per key: exactly what a change of that key does. */
const KEY_CASES: Record<SettingKey, KeyCase[]> = {
  'http.port': [{ name: '80 → 8000', change: { 'http.port': 8000 }, expect: ['render haproxy.cfg', 'haproxy reload'] }],
  'http.bind': [{ name: 'all → 127.0.0.1', change: { 'http.bind': '127.0.0.1' }, expect: ['render haproxy.cfg', 'haproxy reload'] }],
  'https.mode': [
    {
      name: 'off → self-signed',
      change: { 'https.mode': 'self-signed' },
      expect: ['certificate self-signed', 'render acme-settings', 'render haproxy.cfg', 'haproxy reload'],
    },
    {
      name: 'off → acme starts the renewal timer',
      before: { 'https.acme.domain': 'photos.example.com', 'https.acme.email': 'me@example.com' },
      change: ACME,
      expect: ['certificate acme', 'render acme-settings', 'render haproxy.cfg', 'haproxy reload', 'acme-renew start-enable'],
    },
    {
      name: 'acme → off stops the renewal timer, no certificate',
      before: ACME,
      change: { 'https.mode': 'off' },
      expect: ['render acme-settings', 'render haproxy.cfg', 'acme-renew stop-disable', 'haproxy reload'],
    },
  ],
  'https.port': [
    { name: 'while HTTPS is off: render only', change: { 'https.port': 8443 }, expect: ['render haproxy.cfg'] },
    { name: 'while HTTPS is on', before: { 'https.mode': 'self-signed' }, change: { 'https.port': 8443 }, expect: ['render haproxy.cfg', 'haproxy reload'] },
  ],
  'https.redirect': [
    { name: 'while HTTPS is off: render only', change: { 'https.redirect': false }, expect: ['render haproxy.cfg'] },
    { name: 'while HTTPS is on', before: { 'https.mode': 'self-signed' }, change: { 'https.redirect': false }, expect: ['render haproxy.cfg', 'haproxy reload'] },
  ],
  'https.hsts': [
    { name: 'while HTTPS is on', before: { 'https.mode': 'self-signed' }, change: { 'https.hsts': true }, expect: ['render haproxy.cfg', 'haproxy reload'] },
  ],
  'https.cert': [
    { name: 'while HTTPS is off: nothing', change: { 'https.cert': '/etc/ssl/c.pem' }, expect: [] },
    { name: 'while custom', before: CUSTOM, change: { 'https.cert': '/etc/ssl/new.pem' }, expect: ['certificate custom', 'haproxy reload'] },
  ],
  'https.key': [{ name: 'while custom', before: CUSTOM, change: { 'https.key': '/etc/ssl/new.key' }, expect: ['certificate custom', 'haproxy reload'] }],
  'https.acme.domain': [
    { name: 'while HTTPS is off: render only', change: { 'https.acme.domain': 'a.example.com' }, expect: ['render acme-settings', 'render haproxy.cfg'] },
    {
      name: 'while acme',
      before: ACME,
      change: { 'https.acme.domain': 'other.example.com' },
      expect: ['certificate acme', 'render acme-settings', 'render haproxy.cfg', 'haproxy reload'],
    },
  ],
  'https.acme.email': [
    { name: 'while acme', before: ACME, change: { 'https.acme.email': 'you@example.com' }, expect: ['certificate acme', 'render acme-settings', 'haproxy reload'] },
  ],
  'https.acme.server': [
    {
      name: 'while acme',
      before: ACME,
      change: { 'https.acme.server': 'https://acme-staging-v02.api.letsencrypt.org/directory' },
      expect: ['certificate acme', 'render acme-settings', 'haproxy reload'],
    },
  ],
  'https.acme.server-ca': [
    { name: 'while acme', before: ACME, change: { 'https.acme.server-ca': '/etc/ssl/pebble.pem' }, expect: ['certificate acme', 'render acme-settings', 'haproxy reload'] },
  ],
  'proxy.timeout': [{ name: '10m → 1h', change: { 'proxy.timeout': '1h' }, expect: ['render haproxy.cfg', 'haproxy reload'] }],
  'proxy.trusted-proxies': [{ name: 'a CDN', change: { 'proxy.trusted-proxies': '10.0.0.0/8' }, expect: ['render immich-server.env', 'immich-server restart'] }],
  'media.location': [
    {
      name: 'to a disk',
      change: { 'media.location': '/mnt/photos' },
      expect: [
        'check media.location /var/snap/immich-distribution/common/media -> /mnt/photos',
        'render immich-server.env',
        'render backup-settings',
        'immich-server restart',
      ],
    },
  ],
  'ml.enabled': [
    {
      name: 'true → false stops and disables ML, tells Immich',
      change: { 'ml.enabled': false },
      expect: ['render immich-server.env', 'immich-machine-learning stop-disable', 'update-immich-ml-config', 'immich-server restart'],
    },
    {
      name: 'false → true starts and enables ML',
      before: { 'ml.enabled': false },
      change: { 'ml.enabled': true },
      expect: ['render immich-server.env', 'update-immich-ml-config', 'immich-server restart', 'immich-machine-learning start-enable'],
    },
    {
      name: 'false → true with a remote server: local ML stays off',
      before: { 'ml.enabled': false, ...REMOTE_ML },
      change: { 'ml.enabled': true },
      expect: ['render immich-server.env', 'update-immich-ml-config', 'immich-server restart'],
    },
  ],
  'ml.url': [
    {
      name: 'local → remote stops and disables the local daemon',
      change: REMOTE_ML,
      expect: ['render immich-server.env', 'immich-machine-learning stop-disable', 'update-immich-ml-config', 'immich-server restart'],
    },
    {
      name: 'remote → remote',
      before: REMOTE_ML,
      change: { 'ml.url': 'http://gpu2:3003' },
      expect: ['render immich-server.env', 'update-immich-ml-config', 'immich-server restart'],
    },
    { name: 'while ML is disabled: render only', before: { 'ml.enabled': false }, change: REMOTE_ML, expect: ['render immich-server.env'] },
  ],
  'database-password': [
    { name: 'set: rotation only, nothing restarts', change: { 'database-password': PASSWORD }, expect: ['rotate-database-password'] },
    { name: 'changed', before: { 'database-password': PASSWORD }, change: { 'database-password': `${PASSWORD}2` }, expect: ['rotate-database-password'] },
    { name: 'unset: the current one is kept', before: { 'database-password': PASSWORD }, change: { 'database-password': undefined }, expect: [] },
  ],
  'database.tcp': [
    {
      name: 'true → false restarts Postgres (listen_addresses) and Immich after it',
      change: { 'database.tcp': false },
      expect: ['render postgresql.conf', 'render pg_hba.conf', 'postgres restart', 'immich-server restart'],
    },
  ],
  'backup.schedule': [
    { name: 'off → daily', change: { 'backup.schedule': 'daily' }, expect: ['render backup-settings', 'backup-timer start-enable'] },
    { name: 'daily → weekly', before: { 'backup.schedule': 'daily' }, change: { 'backup.schedule': 'weekly' }, expect: ['render backup-settings'] },
    { name: 'daily → off', before: { 'backup.schedule': 'daily' }, change: { 'backup.schedule': 'off' }, expect: ['render backup-settings', 'backup-timer stop-disable'] },
  ],
  'backup.keep': [{ name: '7 → 30', change: { 'backup.keep': 30 }, expect: ['render backup-settings'] }],
  'backup.location': [
    {
      name: 'to a disk',
      change: { 'backup.location': '/mnt/backups' },
      expect: ['check backup.location /var/snap/immich-distribution/common/backups -> /mnt/backups', 'render backup-settings'],
    },
  ],
  'backup.assets': [{ name: 'false → true', change: { 'backup.assets': true }, expect: ['render backup-settings'] }],
  'server.node-options': [
    { name: 'bigger heap', change: { 'server.node-options': '--max-old-space-size=8192' }, expect: ['render immich-server.env', 'immich-server restart'] },
  ],
  'log.level': [
    {
      name: 'log → debug',
      change: { 'log.level': 'debug' },
      expect: ['render immich-server.env', 'render immich-ml.env', 'immich-server restart', 'immich-machine-learning restart'],
    },
    {
      name: 'while ML is off: the ML daemon is not started by a restart',
      before: { 'ml.enabled': false },
      change: { 'log.level': 'debug' },
      expect: ['render immich-server.env', 'render immich-ml.env', 'immich-server restart'],
    },
  ],
  'internal.server-port': [
    {
      name: '3001 → 3101',
      change: { 'internal.server-port': 3101 },
      expect: ['render immich-server.env', 'render haproxy.cfg', 'immich-server restart', 'haproxy reload'],
    },
  ],
  'internal.ml-port': [
    {
      name: '3003 → 3103',
      change: { 'internal.ml-port': 3103 },
      expect: ['render immich-server.env', 'render immich-ml.env', 'immich-server restart', 'immich-machine-learning restart'],
    },
    {
      name: 'with a remote ML server: render only',
      before: REMOTE_ML,
      change: { 'internal.ml-port': 3103 },
      expect: ['render immich-server.env', 'render immich-ml.env'],
    },
  ],
  'internal.stats-port': [{ name: '8080 → 8181', change: { 'internal.stats-port': 8181 }, expect: ['render haproxy.cfg', 'haproxy reload'] }],
  'internal.postgres-port': [
    {
      name: '5432 → 5433',
      change: { 'internal.postgres-port': 5433 },
      expect: ['render postgresql.conf', 'render immich-server.env', 'postgres restart', 'immich-server restart'],
    },
  ],
};

test('every key has plan cases', () => {
  assert.equal(Object.keys(KEY_CASES).sort(), [...SETTING_KEYS].sort());
});

for (const key of SETTING_KEYS) {
  for (const c of KEY_CASES[key]) {
    test(`plan: ${key}: ${c.name}`, () => {
      const before = c.before ?? {};
      const after = { ...before, ...c.change };
      for (const [k, v] of Object.entries(after)) if (v === undefined) delete after[k];
      assert.equal(planOf(before, after), c.expect);
    });
  }
}

test('a change touches only services the key declares (plus the two documented dependencies)', () => {
  for (const key of SETTING_KEYS) {
    const def = settingDef(key);
    for (const c of KEY_CASES[key]) {
      const before = c.before ?? {};
      const plan = planChanges(settingsWith(before), settingsWith({ ...before, ...c.change }));
      const allowed = new Set<string>(Object.keys(def.affects));
      if (def.steps?.includes('certificate')) allowed.add('haproxy');
      if (def.affects.postgres === 'restart') allowed.add('immich-server');
      // The mode switch decides the renewal timer; https.mode declares it.
      for (const s of plan.steps) if (s.kind === 'service') assert.ok(allowed.has(s.service), `${key} (${c.name}) touched ${s.service}`);
      const files = new Set(def.render);
      for (const s of plan.steps) if (s.kind === 'render') assert.ok(files.has(s.file), `${key} (${c.name}) rendered ${s.file}`);
    }
  }
});

test('nothing changed: an empty plan', () => {
  const s = settingsWith({ 'https.mode': 'self-signed', 'database-password': PASSWORD, 'backup.schedule': 'daily' });
  const plan = planChanges(s, settingsWith({ 'https.mode': 'self-signed', 'database-password': PASSWORD, 'backup.schedule': 'daily' }));
  assert.equal(plan, { firstRun: false, changed: [], steps: [] });
  // Same value in another form is no change either.
  assert.equal(planChanges(settingsWith({ 'proxy.timeout': '10m' }), settingsWith({ 'proxy.timeout': 600 })).steps, []);
});

test('many changes at once: deduplicated and in order (checks, render, stop, postgres, Immich, ML, HAProxy, timers)', () => {
  const steps = planOf(
    {},
    {
      'log.level': 'warn',
      'database.tcp': false,
      'http.port': 8000,
      'ml.enabled': false,
      'media.location': '/mnt/p',
      'backup.schedule': 'daily',
      'internal.server-port': 3101,
      'database-password': PASSWORD,
      'https.mode': 'self-signed',
    },
  );
  assert.equal(steps, [
    'check media.location /var/snap/immich-distribution/common/media -> /mnt/p',
    'certificate self-signed',
    'render postgresql.conf',
    'render pg_hba.conf',
    'render immich-server.env',
    'render immich-ml.env',
    'render backup-settings',
    'render acme-settings',
    'render haproxy.cfg',
    'immich-machine-learning stop-disable',
    'postgres restart',
    'rotate-database-password',
    'update-immich-ml-config',
    'immich-server restart',
    'haproxy reload',
    'backup-timer start-enable',
  ]);
});

test('HAProxy is never restarted, whatever changes', () => {
  const plan = planChanges(settingsWith({}), settingsWith({ ...ACME, 'http.port': 81, 'internal.stats-port': 8181, 'proxy.timeout': '1h' }));
  const ha = plan.steps.filter((s) => s.kind === 'service' && s.service === 'haproxy');
  assert.equal(brief(ha), ['haproxy reload']);
});

test('the reasons for a service action are recorded', () => {
  const plan = planChanges(settingsWith({}), settingsWith({ 'database.tcp': false, 'log.level': 'warn' }));
  const server = plan.steps.find((s) => s.kind === 'service' && s.service === 'immich-server');
  assert.equal(server && server.kind === 'service' ? server.because : [], ['log.level', 'postgres restart']);
  assert.equal(plan.changed, ['database.tcp', 'log.level']);
});

test('first run: render everything, check, restart only if files changed, bring timers and ML to their state', () => {
  const plan = planChanges(undefined, settingsWith({}));
  assert.ok(plan.firstRun);
  assert.equal(plan.changed, SETTING_KEYS);
  assert.equal(brief(plan.steps), [
    'check media.location - -> /var/snap/immich-distribution/common/media',
    'check backup.location - -> /var/snap/immich-distribution/common/backups',
    ...RENDER_TARGETS.map((f) => `render ${f}`),
    'backup-timer stop-disable',
    'acme-renew stop-disable',
    'postgres restart if postgresql.conf+pg_hba.conf changed',
    'update-immich-ml-config',
    'immich-server restart if immich-server.env+postgresql.conf+pg_hba.conf changed',
    'immich-machine-learning restart if immich-ml.env changed',
    'immich-machine-learning start-enable',
    'haproxy reload',
  ]);
});

test('first run with HTTPS, a password, scheduled backups and remote ML', () => {
  const plan = planChanges(undefined, settingsWith({ ...ACME, 'database-password': PASSWORD, 'backup.schedule': 'weekly', ...REMOTE_ML }));
  const b = brief(plan.steps);
  assert.ok(b.includes('certificate acme'));
  assert.ok(b.includes('rotate-database-password'));
  assert.ok(b.includes('immich-machine-learning stop-disable'));
  assert.ok(b.includes('backup-timer start-enable'));
  assert.ok(b.includes('acme-renew start-enable'));
  assert.not.ok(b.some((x) => x.startsWith('immich-machine-learning restart')));
  assert.ok(b.indexOf('certificate acme') < b.indexOf('render haproxy.cfg'));
});

test('record: the password is fingerprinted, the record reads back, and compares equal', () => {
  const s = settingsWith({ 'database-password': PASSWORD, 'http.port': 8000, 'proxy.trusted-proxies': '10.0.0.0/8' });
  const record = recordOf(s);
  const json = JSON.stringify(record);
  assert.not.ok(json.includes(PASSWORD));
  assert.match(String(record['database-password']), /^sha256:[0-9a-f]{64}$/);
  const back = parseRecord(json, ctx);
  assert.equal(back, record);
  assert.equal(planChanges(back, s).steps, []);
  assert.equal(brief(planChanges(back, settingsWith({ 'database-password': `${PASSWORD}x`, 'http.port': 8000, 'proxy.trusted-proxies': '10.0.0.0/8' })).steps), [
    'rotate-database-password',
  ]);
  assert.is(passwordFingerprint(passwordFingerprint(PASSWORD)), passwordFingerprint(PASSWORD));
});

test('record: a record without a password, a broken or outdated record', () => {
  const s: Settings = settingsWith({});
  assert.equal(parseRecord(JSON.stringify(recordOf(s)), ctx), { ...s, 'database-password': undefined });
  assert.is(parseRecord('{not json', ctx), undefined);
  assert.is(parseRecord('[]', ctx), undefined);
  assert.is(parseRecord(JSON.stringify({ ...s, 'old.key': 1 }), ctx), undefined);
  assert.is(parseRecord(JSON.stringify({ ...s, 'http.port': 'x' }), ctx), undefined);
  // A password in clear text in a record is not trusted as a fingerprint.
  assert.is(parseRecord(JSON.stringify({ ...s, 'database-password': PASSWORD }), ctx)?.['database-password'], undefined);
});

test.run();
