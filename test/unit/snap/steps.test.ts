import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { failpointHit, runSteps } from '../../../hooks-src/snap/steps.js';

test('steps run in order and stop at the first failure', async () => {
  const ran: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  const logged: string[] = [];
  process.stderr.write = ((s: string) => (logged.push(s), true)) as typeof process.stderr.write;
  try {
    await runSteps(
      'install',
      [
        { name: 'a', run: () => void ran.push('a') },
        { name: 'b', run: async () => { ran.push('b'); throw new Error('b broke'); } },
        { name: 'c', run: () => void ran.push('c') },
      ],
      {},
    ).then(
      () => assert.unreachable(),
      (e: Error) => assert.is(e.message, 'b broke'),
    );
  } finally {
    process.stderr.write = write;
  }
  assert.equal(ran, ['a', 'b']);
  assert.equal(logged, ['install: a\n', 'install: b\n']);
});

test('duplicate step names are a programming error', async () => {
  await runSteps('x', [{ name: 'a', run: () => undefined }, { name: 'a', run: () => undefined }], {}).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /duplicate/),
  );
});

test('the failpoint matches <hook>:<step> exactly', () => {
  assert.ok(failpointHit('install', 'init-cluster', { IMMICH_DISTRIBUTION_FAILPOINT: 'install:init-cluster' }));
  assert.not.ok(failpointHit('install', 'init-cluster', { IMMICH_DISTRIBUTION_FAILPOINT: 'configure:init-cluster' }));
  assert.not.ok(failpointHit('install', 'init', { IMMICH_DISTRIBUTION_FAILPOINT: 'install:init-cluster' }));
  assert.not.ok(failpointHit('install', 'init-cluster', {}));
});

test('<hook>:<step>:stop stops the process as that step begins; SIGCONT lets it go on', async () => {
  const { spawn } = await import('node:child_process');
  const { processInfo } = await import('../../harness/processes.js');
  const stepsModule = new URL('../../../hooks-src/snap/steps.ts', import.meta.url).href;
  const program = `const { runSteps } = await import(${JSON.stringify(stepsModule)});
    await runSteps('x', [{ name: 'a', run: () => process.stdout.write('a ') }, { name: 'b', run: () => process.stdout.write('b') }]);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], {
    env: { ...process.env, IMMICH_DISTRIBUTION_FAILPOINT: 'x:b:stop' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const state = () => processInfo(child.pid!)?.state;
  for (let i = 0; i < 400 && state() !== 'T'; i++) await new Promise((r) => setTimeout(r, 25));
  assert.is(state(), 'T', 'stopped');
  assert.is(out, 'a ', 'step a ran, step b did not start');
  process.kill(child.pid!, 'SIGCONT');
  assert.is(await exited, 0);
  assert.is(out, 'a b');
});

test.run();
