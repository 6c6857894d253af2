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

test.run();
