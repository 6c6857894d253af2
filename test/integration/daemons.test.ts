// The daemon commands as snapd runs them, in situations only the daemons can handle.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { FakeSnapd } from '../harness/fake-snapd.js';
import { snapEnvFor } from '../harness/fake-snap.js';
import { waitFor } from '../harness/wait.js';
import { snapPaths } from '../../hooks-src/snap/paths.js';
import type { SnapEnv } from '../../hooks-src/snap/env.js';

test('after snap restore (no $SNAP_COMMON/run: snapshots leave it out) the daemons recreate their runtime folders and start', async () => {
  const snapd = await FakeSnapd.create();
  try {
    await snapd.install();
    const paths = snapPaths(snapEnvFor(snapd.layout) as unknown as SnapEnv);
    await snapd.services.stopAll();
    rmSync(paths.runDir, { recursive: true, force: true });
    await snapd.services.startAll();
    await waitFor('postgres on its socket', async () => {
      const c = new pg.Client({ host: paths.pgSocketDir, port: 5432, user: 'postgres', database: 'immich' });
      await c.connect();
      await c.end();
      return true;
    });
    for (const app of ['postgres', 'redis', 'haproxy', 'immich-server']) assert.ok(snapd.services.isActive(app), `${app} is active`);
  } finally {
    await snapd.destroy();
  }
});

test.run();
