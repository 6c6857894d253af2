// runMain: one line on failure, the exit code of the entry point, and never a silent success.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../harness/fake-snap.js';

function run(body: string) {
  const code = `import { runMain } from ${JSON.stringify(join(repoRoot, 'hooks-src/snap/main.ts'))};\nimport { UserError } from ${JSON.stringify(join(repoRoot, 'hooks-src/snap/errors.ts'))};\n${body}`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', cwd: repoRoot, env: { ...process.env, IMMICH_DISTRIBUTION_DEBUG: '' } });
}

test('a UserError is one line and its exit code', () => {
  const r = run("runMain('x', async () => { throw new UserError('the disk is full; free some space', 3); });");
  assert.is(r.status, 3);
  assert.is(r.stderr, 'x: the disk is full; free some space\n');
});

test('an unexpected error is one line, exit 1, no stack trace', () => {
  const r = run("runMain('x', async () => { throw new Error('boom\\nsecond line'); });");
  assert.is(r.status, 1);
  assert.is(r.stderr, 'x: boom\n');
});

test('work that can never finish is not reported as success', () => {
  const r = run("runMain('x', () => new Promise(() => {}));");
  assert.is(r.status, 70);
  assert.match(r.stderr, 'x: internal error: stopped before finishing its work');
});

test('a returned code is the exit code', () => {
  assert.is(run("runMain('x', async () => 0);").status, 0);
  assert.is(run("runMain('x', async () => 5);").status, 5);
});

test.run();
