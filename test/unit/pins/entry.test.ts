// `tsx scripts/pins/main.ts` as `npm run pins` starts it: a real process, stopped before it would
// need the network, so the entry point, exit codes and the one-line stderr are the real ones.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FIXTURES } from './fake-net.js';

const ROOT = join(FIXTURES, '..', '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function pins(args: string[], extraEnv: Record<string, string> = {}) {
  const env: Record<string, string | undefined> = { ...process.env, ...extraEnv };
  delete env['NODE_RELEASE_KEYRING'];
  // Both set (the test runner's FORCE_COLOR, test-all.sh's NO_COLOR) make node print a warning.
  delete env['FORCE_COLOR'];
  delete env['NO_COLOR'];
  if (!('IMMICH_DISTRIBUTION_DEBUG' in extraEnv)) delete env['IMMICH_DISTRIBUTION_DEBUG'];
  const r = spawnSync(TSX, ['scripts/pins/main.ts', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const test = suite('pins: the command (a real process)');
let dir = '';
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pins-entry-'));
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('--help prints the usage and exits 0', () => {
  const r = pins(['--help']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /^usage: npm run pins -- --tag vX\.Y\.Z/);
  assert.match(r.out, 'https://github.com/nodejs/release-keys');
  assert.is(r.err, '');
});

test('a failure is one line on stderr and exit 1; the stack only with IMMICH_DISTRIBUTION_DEBUG=1', () => {
  const file = join(dir, 'versions.json');
  const text = readFileSync(join(FIXTURES, 'versions.before.json'), 'utf8');
  writeFileSync(file, text);
  const r = pins(['--tag', 'v3.2.4', '--versions', file]);
  assert.is(r.code, 1);
  assert.is(r.out, '');
  assert.ok(r.err.startsWith('pins: no Node.js release keyring') && r.err.endsWith('\n') && !r.err.slice(0, -1).includes('\n'), r.err);
  const d = pins(['--tag', 'v3.2.4', '--versions', file], { IMMICH_DISTRIBUTION_DEBUG: '1' });
  assert.is(d.code, 1);
  assert.match(d.err, /^pins: no Node\.js release keyring.*\nUsageError: .*\n\s+at /);
  assert.is(readFileSync(file, 'utf8'), text);
});
test.run();
