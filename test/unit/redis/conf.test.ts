import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { redisString, renderRedisConf } from '../../../hooks-src/redis/conf.js';

const input = { socket: '/var/snap/i/common/run/redis/redis.sock', dir: '/var/snap/i/common/redis', password: 'x'.repeat(43) };

function directives(conf: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of conf.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [k, ...rest] = line.split(' ');
    assert.not.ok(m.has(k!), `${k} twice`);
    m.set(k!, rest.join(' '));
  }
  return m;
}

test('no TCP, a 700 unix socket, a password, noeviction, AOF everysec + RDB, foreground', () => {
  const d = directives(renderRedisConf(input));
  assert.is(d.get('port'), '0');
  assert.is(d.get('unixsocket'), `"${input.socket}"`);
  assert.is(d.get('unixsocketperm'), '700');
  assert.is(d.get('requirepass'), `"${input.password}"`);
  assert.is(d.get('maxmemory-policy'), 'noeviction');
  assert.is(d.get('appendonly'), 'yes');
  assert.is(d.get('appendfsync'), 'everysec');
  assert.ok(d.get('save')!.length > 0);
  assert.is(d.get('dir'), `"${input.dir}"`);
  assert.is(d.get('daemonize'), 'no');
});

test('a value cannot inject a directive', () => {
  assert.throws(() => renderRedisConf({ ...input, password: 'x'.repeat(20) + '\nport 6379' }), /control/);
  assert.throws(() => renderRedisConf({ ...input, dir: '/tmp/a\rport 6379' }), /control/);
  assert.is(redisString('a"b\\c'), '"a\\"b\\\\c"');
  const d = directives(renderRedisConf({ ...input, password: 'p"w port 6379 ' + 'x'.repeat(20) }));
  assert.is(d.get('port'), '0');
});

test('refuses relative paths and a short password', () => {
  assert.throws(() => renderRedisConf({ ...input, socket: 'redis.sock' }));
  assert.throws(() => renderRedisConf({ ...input, password: 'short' }));
});

test.run();
