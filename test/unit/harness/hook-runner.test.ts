// The hook runner, checked against reference §A3–§A5 (not against our hooks).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goDuration, hookTimeoutMs, outputErr, runHookProcess, truncateOutput } from '../../harness/hook-runner.js';

const dir = mkdtempSync(join(tmpdir(), 'hook-runner-'));
function hook(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

test('timeouts: 10 min default, 5 min configure, 30 s check-health', () => {
  assert.is(hookTimeoutMs('install'), 600_000);
  assert.is(hookTimeoutMs('post-refresh'), 600_000);
  assert.is(hookTimeoutMs('configure'), 300_000);
  assert.is(hookTimeoutMs('default-configure'), 300_000);
  assert.is(hookTimeoutMs('check-health'), 30_000);
  assert.is(goDuration(600_000), '10m0s');
  assert.is(goDuration(300_000), '5m0s');
  assert.is(goDuration(30_000), '30s');
});

test('output keeps the last 100 lines and the last 10 KiB', () => {
  const lines = Array.from({ length: 150 }, (_, i) => `line ${i}`).join('\n') + '\n';
  const kept = truncateOutput(Buffer.from(lines));
  assert.is(kept.split('\n').filter(Boolean).length, 100);
  assert.ok(kept.startsWith('line 50\n'));
  const big = 'x'.repeat(20_000) + '\n';
  assert.is(truncateOutput(Buffer.from(big)).length, 10 * 1024);
});

test('OutputErr: one line as is, several lines framed', () => {
  assert.is(outputErr('  boom \n', 'exit status 1'), 'boom');
  assert.is(outputErr('a\nb\n', 'exit status 1'), '\n-----\na\nb\n-----');
  assert.is(outputErr('', 'exit status 3'), 'exit status 3');
});

test('a hook gets no arguments, no stdin, cwd /, exactly the env given, combined output', async () => {
  const p = hook('install', 'echo "args=$# cwd=$(pwd) X=$X HOME=${HOME:-unset}"; read line && echo "read:$line"; echo err >&2; exit 0');
  const r = await runHookProcess({ hook: 'install', path: p, env: { X: '1', PATH: '/usr/bin:/bin' } });
  assert.is(r.exitCode, 0);
  assert.is(r.error, undefined);
  assert.is(r.output, 'args=0 cwd=/ X=1 HOME=unset\nerr\n');
});

test('failure becomes `run hook "<name>": <output>`', async () => {
  const p = hook('configure', 'echo "configure: http.port: 0 is not a port" >&2; exit 1');
  const r = await runHookProcess({ hook: 'configure', path: p, env: { PATH: '/usr/bin:/bin' } });
  assert.is(r.exitCode, 1);
  assert.is(r.error, 'run hook "configure": configure: http.port: 0 is not a port');
});

test('timeout kills the whole process group with SIGKILL and says so', async () => {
  const p = hook('post-refresh', 'echo started; (sleep 30; echo child-survived) & sleep 30');
  const r = await runHookProcess({ hook: 'post-refresh', path: p, env: { PATH: '/usr/bin:/bin' }, timeoutMs: 300 });
  assert.ok(r.timedOut);
  assert.is(r.signal, 'SIGKILL');
  assert.match(r.error ?? '', /^run hook "post-refresh": started\n<exceeded maximum runtime of 0s>$/);
  assert.ok(r.durationMs < 5000, 'the group (including the background child) was killed, so output closed');
});

test.run();
