import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSecret, newSecret, readSecret } from '../../../hooks-src/secrets/secrets.js';
import { snapPaths } from '../../../hooks-src/snap/paths.js';

function paths() {
  const root = mkdtempSync(join(tmpdir(), 'secrets-'));
  const p = snapPaths({
    SNAP: join(root, 'snap'),
    SNAP_DATA: join(root, 'data'),
    SNAP_COMMON: join(root, 'common'),
    SNAP_NAME: 'immich-distribution',
    SNAP_INSTANCE_NAME: 'immich-distribution',
    SNAP_REVISION: 'x1',
    SNAP_VERSION: '0',
  });
  return { p, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

test('a new secret has 256 bits in 43 URL-safe characters', () => {
  const s = newSecret();
  assert.match(s, /^[A-Za-z0-9_-]{43}$/);
  assert.is.not(s, newSecret());
});

test('created once, 0600 in a 0700 directory, reused afterwards', () => {
  const { p, cleanup } = paths();
  try {
    const first = ensureSecret(p, 'database-password');
    assert.is((statSync(p.secretsDir).mode & 0o777), 0o700);
    assert.is((statSync(p.secret('database-password')).mode & 0o777), 0o600);
    assert.is(readFileSync(p.secret('database-password'), 'utf8'), first);
    assert.is(ensureSecret(p, 'database-password', () => 'never-used-never-used'), first);
    chmodSync(p.secret('database-password'), 0o644);
    ensureSecret(p, 'database-password');
    assert.is((statSync(p.secret('database-password')).mode & 0o777), 0o600, 'a too-open mode is fixed');
  } finally {
    cleanup();
  }
});

test('a damaged secret is an error that does not print the content', () => {
  const { p, cleanup } = paths();
  try {
    ensureSecret(p, 'redis-password');
    writeFileSync(p.secret('redis-password'), 'tiny-value\n');
    assert.throws(() => readSecret(p, 'redis-password'), (e: Error) => /damaged/.test(e.message) && !e.message.includes('tiny-value'));
  } finally {
    cleanup();
  }
});

test.run();
