import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../../hooks-src/snap/exec.js';
import { daemonUser } from '../../../hooks-src/snap/run-as.js';

test('a child that changes user enters cwd after the switch: a 0700 directory of that user works', async () => {
  if (process.getuid?.() !== 0) return; // needs root to switch users
  const d = daemonUser();
  const dir = mkdtempSync(join(tmpdir(), 'exec-cwd-'));
  try {
    chmodSync(dir, 0o700);
    chownSync(dir, d.uid, d.gid);
    const r = await runCommand('/bin/sh', ['-c', 'pwd; id -u; touch written'], { uid: d.uid, gid: d.gid, cwd: dir });
    assert.is(r.exitCode, 0, r.stderr);
    assert.is(r.stdout, `${dir}\n${d.uid}\n`);
    const missing = await runCommand('/bin/true', [], { uid: d.uid, gid: d.gid, cwd: join(dir, 'nope') });
    assert.is.not(missing.exitCode, 0);
    assert.match(missing.stderr, /cannot change directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without a user switch, cwd is used as given', async () => {
  const r = await runCommand('/bin/pwd', [], { cwd: tmpdir() });
  assert.is(r.stdout.trim(), tmpdir());
});

test('output is kept verbatim, a non-zero exit is returned, input reaches stdin', async () => {
  assert.equal(await runCommand('/bin/sh', ['-c', 'printf "out\\n\\n"; echo err >&2; exit 3']), { exitCode: 3, stdout: 'out\n\n', stderr: 'err\n' });
  assert.equal(await runCommand('/bin/cat', [], { input: 'line 1\nline 2' }), { exitCode: 0, stdout: 'line 1\nline 2', stderr: '' });
  // A child that stops reading its input early is not an error of ours.
  assert.equal(await runCommand('/usr/bin/head', ['-c', '1'], { input: 'x'.repeat(4 << 20) }), { exitCode: 0, stdout: 'x', stderr: '' });
  // Without input, stdin is closed: a program that reads it sees end of file at once.
  assert.equal(await runCommand('/bin/cat', []), { exitCode: 0, stdout: '', stderr: '' });
});

test('the environment is added to ours, or replaces it with replaceEnv', async () => {
  process.env.EXEC_TEST_OURS = 'ours';
  try {
    const added = await runCommand('/bin/sh', ['-c', 'echo "$EXEC_TEST_OURS-$EXEC_TEST_GIVEN"'], { env: { EXEC_TEST_GIVEN: 'given' } });
    assert.is(added.stdout, 'ours-given\n');
    const replaced = await runCommand('/bin/sh', ['-c', 'echo "$EXEC_TEST_OURS-$EXEC_TEST_GIVEN"'], { env: { EXEC_TEST_GIVEN: 'given' }, replaceEnv: true });
    assert.is(replaced.stdout, '-given\n');
  } finally {
    delete process.env.EXEC_TEST_OURS;
  }
});

test('a program that cannot start, runs out of time or is killed: exit 127 and one line naming it', async () => {
  const missing = await runCommand('/nonexistent/program', []);
  assert.is(missing.exitCode, 127);
  assert.is(missing.stderr, '/nonexistent/program: Command failed with ENOENT: /nonexistent/program\n');
  const t0 = Date.now();
  const slow = await runCommand('/bin/sleep', ['10'], { timeoutMs: 200 });
  assert.equal(slow, { exitCode: 127, stdout: '', stderr: '/bin/sleep: timed out\n' });
  assert.ok(Date.now() - t0 < 5000, 'stopped at the time limit');
  const killed = await runCommand('/bin/sh', ['-c', 'echo before; kill -KILL $$']);
  assert.equal(killed, { exitCode: 127, stdout: 'before\n', stderr: '/bin/sh: killed by SIGKILL\n' });
});

test.run();
