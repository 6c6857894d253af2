// The daemon commands as snapd runs them, in situations only the daemons can handle.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { FakeSnapd } from '../harness/fake-snapd.js';
import { shippedNode, snapEnvFor } from '../harness/fake-snap.js';
import { allProcesses, ourProcesses, processInfo } from '../harness/processes.js';
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

test('rendered files never name a revision: after a refresh the old revision can go and everything still starts', async () => {
  const snapd = await FakeSnapd.create();
  try {
    await snapd.install();
    const old = snapd.layout;
    await snapd.refresh();
    for (const f of ['etc/postgres/postgresql.conf', 'etc/postgres/postgresql-setup.conf', 'etc/haproxy/haproxy.cfg']) {
      const text = readFileSync(join(snapd.layout.data, f), 'utf8');
      assert.not.match(text, `/${old.revision}/`, `${f} names revision ${old.revision}`);
      assert.not.match(text, `/${snapd.layout.revision}/`, `${f} names revision ${snapd.layout.revision}`);
    }
    // snapd removes revisions beyond refresh.retain; nothing may depend on them.
    await snapd.services.stopAll();
    rmSync(old.data, { recursive: true, force: true });
    rmSync(old.snap, { recursive: true, force: true });
    await snapd.services.startAll();
    const paths = snapPaths(snapEnvFor(snapd.layout) as unknown as SnapEnv);
    await waitFor('postgres after the old revision is gone', async () => {
      const c = new pg.Client({ host: paths.pgSocketDir, port: 5432, user: 'postgres', database: 'immich' });
      await c.connect();
      await c.end();
      return true;
    });
    assert.ok(snapd.services.isActive('haproxy'));
  } finally {
    await snapd.destroy();
  }
});

test('once the daemons are up, each unit\'s main process is the service itself and no process of ours stays resident', async () => {
  const snapd = await FakeSnapd.create();
  try {
    await snapd.install();
    const paths = snapPaths(snapEnvFor(snapd.layout) as unknown as SnapEnv);
    // What each wrapper must have become (execve keeps the pid the service manager knows).
    const expected: Record<string, { exe: string; arg?: string; uid?: number }> = {
      postgres: { exe: realpathSync(paths.pgBin(15, 'postgres')), uid: 584792 },
      redis: { exe: realpathSync(paths.redisServer), uid: 0 },
      haproxy: { exe: realpathSync(paths.haproxy), uid: 0 },
      // Immich's dist/main.js names itself `immich` (process.title; the double does as Immich does).
      'immich-server': { exe: realpathSync(shippedNode()), arg: 'immich', uid: 0 },
      'immich-machine-learning': { exe: realpathSync(paths.python), arg: 'immich_ml', uid: 0 },
    };
    for (const [app, want] of Object.entries(expected)) {
      await waitFor(`${app}'s main process to be the service`, () => {
        const pid = snapd.services.pid(app);
        const p = pid === undefined ? undefined : processInfo(pid);
        return p !== undefined && p.exe === want.exe && (want.arg === undefined || p.argv.includes(want.arg));
      }, 30_000);
      const p = processInfo(snapd.services.pid(app)!)!;
      assert.is(p.uid, want.uid, `${app} runs as uid ${p.uid}`);
    }
    const ours = ourProcesses(snapd.layout.snap, allProcesses());
    assert.equal(ours.map((p) => `${p.pid} ${p.argv.join(' ')}`), [], 'no wrapper, hook or command of ours is left running');
    // The services answer through their own signals: a stop of each leaves nothing behind.
    for (const app of ['haproxy', 'redis', 'postgres']) {
      const pid = snapd.services.pid(app)!;
      await snapd.services.stop(app);
      assert.not.ok(processInfo(pid), `${app} (${pid}) is gone after its stop`);
      assert.equal(snapd.services.leftovers(app), [], `${app} left processes behind`);
    }
  } finally {
    await snapd.destroy();
  }
});

test.run();
