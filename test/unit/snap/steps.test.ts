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

test.run();
