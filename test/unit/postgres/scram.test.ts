import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scramMatches, scramVerifier } from '../../../hooks-src/postgres/scram.js';

test('a verifier matches its password and nothing else', () => {
  const v = scramVerifier('s3cret-password');
  assert.match(v, /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
  assert.ok(scramMatches(v, 's3cret-password'));
  assert.not.ok(scramMatches(v, 's3cret-passwordX'));
});

test('fixed salt gives a fixed verifier; random salts differ', () => {
  const salt = Buffer.alloc(16, 7);
  assert.is(scramVerifier('pw', salt), scramVerifier('pw', salt));
  assert.is.not(scramVerifier('pw'), scramVerifier('pw'));
});

test('md5, NULL and garbage never match', () => {
  assert.not.ok(scramMatches(null, 'x'));
  assert.not.ok(scramMatches(undefined, 'x'));
  assert.not.ok(scramMatches('md5abcdef', 'x'));
  assert.not.ok(scramMatches('SCRAM-SHA-256$4096:AAAA$BBBB', 'x'));
});

test.run();
