import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderHba, renderIdent } from '../../../hooks-src/postgres/hba.js';

const rules = (s: string) => s.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).map((l) => l.split(/\s+/));

test('pg_hba: peer on the socket through the map, scram on loopback, nothing else', () => {
  const r = rules(renderHba());
  assert.equal(r, [
    ['local', 'all', 'all', 'peer', 'map=snap'],
    ['host', 'all', 'all', '127.0.0.1/32', 'scram-sha-256'],
    ['host', 'all', 'all', '::1/128', 'scram-sha-256'],
  ]);
  assert.not.match(renderHba(), /trust|md5|password\b|0\.0\.0\.0|replication/);
});

test('pg_ident: root and the daemon user as postgres, root as immich', () => {
  assert.equal(rules(renderIdent({ daemonUser: '_daemon_' })), [
    ['snap', 'root', 'postgres'],
    ['snap', '_daemon_', 'postgres'],
    ['snap', 'root', 'immich'],
  ]);
});

test('pg_ident refuses a user name that could add a mapping', () => {
  assert.throws(() => renderIdent({ daemonUser: '_daemon_ postgres\nsnap nobody' }));
  assert.throws(() => renderIdent({ daemonUser: '' }));
});

test.run();
