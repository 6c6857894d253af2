// runMain: one line on failure, the exit code of the entry point, and never a silent success.
// runEntry: an executable declared once, its usage answered before its work is looked at.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../harness/fake-snap.js';

function run(body: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  // process.argv as an executable sees it: [node, its file, ...args] ('x' stands for the file).
  const code = `import { runEntry, runMain } from ${JSON.stringify(join(repoRoot, 'hooks-src/snap/main.ts'))};\nimport { UserError } from ${JSON.stringify(join(repoRoot, 'hooks-src/snap/errors.ts'))};\n${body}`;
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SNAP')) base[k] = v;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, '--', 'x', ...args], { encoding: 'utf8', cwd: repoRoot, env: { ...base, IMMICH_DISTRIBUTION_DEBUG: '', ...env } });
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

test('parseCommandArgs: a mistake in the arguments is one line pointing at --help, exit 2', async () => {
  const { parseCommandArgs } = await import('../../../hooks-src/snap/main.js');
  const { UserError } = await import('../../../hooks-src/snap/errors.js');
  assert.equal({ ...parseCommandArgs({ args: ['--json'], options: { json: { type: 'boolean' } }, strict: true }).values }, { json: true });
  try {
    parseCommandArgs({ args: ['--jsn'], options: { json: { type: 'boolean' } }, strict: true });
    assert.unreachable('an unknown option is refused');
  } catch (err) {
    assert.instance(err, UserError);
    assert.is((err as InstanceType<typeof UserError>).exitCode, 2);
    assert.match((err as Error).message, /^Unknown option '--jsn'[^\n]* \(see --help\)$/);
  }
});

const ENTRY = "runEntry({ name: 'x', usage: 'usage: x [--y]\\n', run: async (argv) => { process.stdout.write(`work ${JSON.stringify(argv)}\\n`); return 4; } });";

test('runEntry: --help or -h anywhere prints the usage and nothing of the work', () => {
  for (const args of [['--help'], ['-h'], ['a', '--help']]) {
    const r = run(ENTRY, args);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'usage: x [--y]\n');
  }
});

test('runEntry: otherwise the work runs with the arguments, through runMain', () => {
  const r = run(ENTRY, ['a', 'b']);
  assert.is(r.status, 4);
  assert.is(r.stdout, 'work ["a","b"]\n');
  const failed = run("runEntry({ name: 'x', usage: '', run: async () => { throw new UserError('no', 2); } });");
  assert.equal([failed.status, failed.stderr], [2, 'x: no\n']);
});

test("runEntry: a wrapped program's help follows ours inside the snap, not outside it", () => {
  const wrapper = "runEntry({ name: 'x', usage: 'usage: x\\n', programHelpFollows: true, run: async (argv) => { process.stdout.write(`program ${argv.join(' ')}\\n`); return 0; } });";
  assert.is(run(wrapper, ['--help']).stdout, 'usage: x\n');
  const inSnap = { SNAP: '/snap/x/1', SNAP_DATA: '/var/snap/x/1', SNAP_COMMON: '/var/snap/x/common', SNAP_NAME: 'x', SNAP_INSTANCE_NAME: 'x', SNAP_REVISION: '1', SNAP_VERSION: '1' };
  assert.is(run(wrapper, ['--help'], inSnap).stdout, 'usage: x\nprogram --help\n');
  // With other arguments, --help is the program's own option.
  assert.is(run(wrapper, ['-c', '--help']).stdout, 'program -c --help\n');
});

test.run();
