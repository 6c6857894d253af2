// The compiled check-health hook as snapd runs it: real probes, reported with snapctl set-health,
// and never a failure that would make snapd undo an install or refresh.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeSnapd } from '../harness/fake-snapd.js';

test('okay when everything answers; waiting while Immich starts; error when Postgres is down; always exit 0', async () => {
  const snapd = await FakeSnapd.create();
  try {
    await snapd.install();
    // install ran check-health itself (after configure), as snapd does.
    assert.equal(snapd.health, { status: 'okay' });

    await snapd.services.stop('immich-server');
    const waiting = await snapd.runHook('check-health');
    assert.is(waiting.exitCode, 0, waiting.output);
    assert.equal(snapd.health, { status: 'waiting', message: 'Immich is starting (or migrating its database)', code: 'immich-starting' });
    assert.ok(waiting.durationMs < 30_000, 'within snapd\'s 30 s check-health timeout');

    await snapd.services.stop('postgres');
    const down = await snapd.runHook('check-health');
    assert.is(down.exitCode, 0, down.output);
    assert.is(snapd.health?.status, 'error');
    assert.is(snapd.health?.code, 'postgres-down');
  } finally {
    await snapd.destroy();
  }
});

test.run();
