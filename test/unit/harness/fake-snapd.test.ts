// The fake snapd's change flows, checked against reference §A2/§A3/§B0 and the real-snapd
// observations in reference/snapd-vm-recipe.md §4, using a tiny fixture snap with sh hooks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeSnapd, SnapdChangeError } from '../../harness/fake-snapd.js';

const yaml = `
name: hooktest
base: core24
confinement: strict
environment:
  TOP: top-$SNAP_REVISION
apps:
  svc:
    command: bin/svc
    daemon: simple
    restart-delay: 200ms
  cmd:
    command: bin/cmd
hooks:
  configure:
    environment:
      HOOKVAR: only-configure
`;

function makeSnap(opts: { failInstall?: boolean; failPostRefresh?: boolean; failRemove?: boolean } = {}): string {
  const d = mkdtempSync(join(tmpdir(), 'fixture-snap-'));
  mkdirSync(join(d, 'meta/hooks'), { recursive: true });
  mkdirSync(join(d, 'bin'), { recursive: true });
  const w = (p: string, body: string) => {
    writeFileSync(join(d, p), `#!/bin/sh\n${body}\n`);
    chmodSync(join(d, p), 0o755);
  };
  const log = (h: string) => `echo "${h} $SNAP_REVISION" >> "$SNAP_COMMON/hooks.log"`;
  w('meta/hooks/install', `${log('install')}\nsnapctl set installed-by-hook=yes\necho "svc-running-at-install=$(cat "$SNAP_COMMON/svc.pid" 2>/dev/null || echo no)" >> "$SNAP_COMMON/hooks.log"\n${opts.failInstall ? 'echo "install failed on purpose" >&2; exit 1' : ''}`);
  w(
    'meta/hooks/configure',
    `${log('configure')}
echo "top=$TOP hookvar=$HOOKVAR" >> "$SNAP_COMMON/hooks.log"
k=$(snapctl get key)
snapctl set seen-key="$k"
[ "$k" = bad ] && { echo "key: bad is not allowed" >&2; exit 1; }
[ "$(snapctl get restart-svc)" = true ] && snapctl restart "$SNAP_INSTANCE_NAME.svc"
[ -f "$SNAP_COMMON/svc.pid" ] && echo "svc-during-configure=$(cat "$SNAP_COMMON/svc.pid")" >> "$SNAP_COMMON/hooks.log"
exit 0`,
  );
  w('meta/hooks/pre-refresh', `${log('pre-refresh')}\nsnapctl set previous-revision="$SNAP_REVISION"`);
  w('meta/hooks/post-refresh', `${log('post-refresh')}\necho touched > "$SNAP_COMMON/touched-by-post-refresh"\n${opts.failPostRefresh ? 'echo "migration failed" >&2; exit 1' : ''}`);
  w('meta/hooks/remove', `${log('remove')}\n${opts.failRemove ? 'exit 1' : ''}`);
  w('bin/svc', 'echo $$ > "$SNAP_COMMON/svc.pid"; echo "$SNAP_DATA" > "$SNAP_COMMON/svc.data"; exec sleep 1000');
  w('bin/cmd', 'snapctl set from-app="$1"; echo "cmd ran in $(pwd)"');
  return d;
}

async function fresh(opts: Parameters<typeof makeSnap>[0] = {}) {
  const from = makeSnap(opts);
  const snapd = await FakeSnapd.create({ instance: 'hooktest', from, snapcraftYaml: yaml, links: {} });
  return { snapd, from };
}

const hooksLog = (s: FakeSnapd) => readFileSync(join(s.layout.common, 'hooks.log'), 'utf8');

test('install: install hook → services start → configure, hook writes committed', async () => {
  const { snapd } = await fresh();
  try {
    await snapd.install();
    const log = hooksLog(snapd);
    assert.match(log, /^install x1\nsvc-running-at-install=no\nconfigure x1\ntop=top-x1 hookvar=only-configure\n/);
    assert.match(log, /svc-during-configure=\d+/, 'services were started before configure');
    assert.is(snapd.get('installed-by-hook'), 'yes');
    assert.is(readlinkSync(join(snapd.root, 'snap/hooktest/current')), 'x1');
    assert.ok(snapd.services.isActive('svc'));
  } finally {
    await snapd.destroy();
  }
});

test('a failing install hook undoes the install, $SNAP_COMMON and config included', async () => {
  const { snapd } = await fresh({ failInstall: true });
  try {
    const err = await snapd.install().catch((e: unknown) => e);
    assert.instance(err, SnapdChangeError);
    assert.is((err as Error).message, 'error: cannot perform the following tasks:\n- Run install hook of "hooktest" snap if present (run hook "install": install failed on purpose)');
    assert.not.ok(existsSync(join(snapd.root, 'var/snap/hooktest/common')));
    assert.not.ok(existsSync(join(snapd.root, 'snap/hooktest')));
    assert.equal(snapd.configPlain(), {});
    assert.not.ok(snapd.services.isActive('svc'));
  } finally {
    await snapd.destroy();
  }
});

test('snap set: rejected values roll back the whole patch; accepted ones commit', async () => {
  const { snapd } = await fresh();
  try {
    await snapd.install();
    await snapd.set(['key=good']);
    assert.is(snapd.get('key'), 'good');
    assert.is(snapd.get('seen-key'), 'good');
    const err = await snapd.set(['other=1', 'key=bad']).catch((e: unknown) => e);
    assert.instance(err, SnapdChangeError);
    assert.match((err as Error).message, 'Run configure hook of "hooktest" snap (run hook "configure": key: bad is not allowed)');
    assert.is(snapd.get('key'), 'good');
    assert.is(snapd.get('seen-key'), 'good');
    assert.throws(() => snapd.get('other'), /snap "hooktest" has no "other" configuration option/);
    assert.is(snapd.get('installed-by-hook'), 'yes');
  } finally {
    await snapd.destroy();
  }
});

test('configure: snapctl restart is queued until the hook succeeded', async () => {
  const { snapd } = await fresh();
  try {
    await snapd.install();
    const pid1 = snapd.services.pid('svc');
    await snapd.set(['restart-svc=true']);
    const pid2 = snapd.services.pid('svc');
    assert.ok(pid2 !== undefined && pid2 !== pid1, 'restarted after success');
    const log = hooksLog(snapd).trim().split('\n');
    assert.is(log.at(-1), `svc-during-configure=${pid1}`, 'still the old process while the hook ran');
    await snapd.set(['key=bad', 'restart-svc=true']).catch(() => undefined);
    assert.is(snapd.services.pid('svc'), pid2, 'a failed configure runs no queued restart');
  } finally {
    await snapd.destroy();
  }
});

test('refresh: pre-refresh (old) → copy $SNAP_DATA → post-refresh (new) → configure (new)', async () => {
  const { snapd, from } = await fresh();
  try {
    await snapd.install();
    writeFileSync(join(snapd.layout.data, 'per-revision'), 'kept');
    await snapd.refresh({ from });
    assert.match(hooksLog(snapd), /pre-refresh x1\npost-refresh x2\nconfigure x2\n/);
    assert.is(readFileSync(join(snapd.layout.data, 'per-revision'), 'utf8'), 'kept');
    assert.is(snapd.layout.revision, 'x2');
    assert.is(snapd.get('previous-revision'), 'x1');
    assert.is(readFileSync(join(snapd.layout.common, 'svc.data'), 'utf8').trim(), snapd.layout.data);
  } finally {
    await snapd.destroy();
  }
});

test('failing post-refresh: old revision back, new data dir gone, config restored, $SNAP_COMMON not undone', async () => {
  const { snapd } = await fresh();
  const bad = makeSnap({ failPostRefresh: true });
  try {
    await snapd.install();
    await snapd.set(['key=good']);
    const err = await snapd.refresh({ from: bad }).catch((e: unknown) => e);
    assert.instance(err, SnapdChangeError);
    assert.match((err as Error).message, 'Run post-refresh hook of "hooktest" snap if present (run hook "post-refresh": migration failed)');
    assert.is(snapd.layout.revision, 'x1');
    assert.is(readlinkSync(join(snapd.root, 'var/snap/hooktest/current')), 'x1');
    assert.not.ok(existsSync(join(snapd.root, 'var/snap/hooktest/x2')));
    // snapd saved the config at link time (after pre-refresh committed) and restored that copy.
    assert.is(snapd.get('previous-revision'), 'x1');
    assert.is(snapd.get('key'), 'good');
    assert.ok(existsSync(join(snapd.layout.common, 'touched-by-post-refresh')), '$SNAP_COMMON changes stay');
    assert.ok(snapd.services.isActive('svc'), 'old services started again');
    assert.is(readFileSync(join(snapd.layout.common, 'svc.data'), 'utf8').trim(), join(snapd.root, 'var/snap/hooktest/x1'));
    assert.match(hooksLog(snapd), /pre-refresh x1\npost-refresh x2\n$/);
  } finally {
    await snapd.destroy();
  }
});

test('app context: snapctl set from an app commits at once, no configure hook runs', async () => {
  const { snapd } = await fresh();
  try {
    await snapd.install();
    const before = hooksLog(snapd);
    const r = await snapd.runApp('cmd', ['hello']);
    assert.is(r.exitCode, 0);
    assert.is(r.stdout, `cmd ran in ${snapd.layout.data}\n`);
    assert.is(snapd.get('from-app'), 'hello');
    assert.is(hooksLog(snapd), before);
  } finally {
    await snapd.destroy();
  }
});

test('remove: a failing remove hook is ignored; the automatic snapshot is taken', async () => {
  const { snapd } = await fresh({ failRemove: true });
  try {
    await snapd.install();
    const { removeHook, snapshot } = await snapd.remove();
    assert.is(removeHook.exitCode, 1);
    assert.ok(snapshot);
    assert.match(readFileSync(join(snapshot!.path, 'common/hooks.log'), 'utf8'), /remove x1\n$/);
    assert.not.ok(existsSync(join(snapd.root, 'var/snap/hooktest')));
    assert.not.ok(snapd.services.isActive('svc'));
  } finally {
    await snapd.destroy();
  }
});

test('revert: no refresh hooks, no data copy; the old revision and its saved config come back', async () => {
  const { snapd, from } = await fresh();
  try {
    await snapd.install();
    await snapd.set(['key=one']);
    writeFileSync(join(snapd.layout.data, 'marker'), 'x1 data');
    await snapd.refresh({ from });
    writeFileSync(join(snapd.layout.data, 'marker'), 'x2 data');
    await snapd.set(['key=two']);
    const before = hooksLog(snapd);
    await snapd.revert();
    assert.is(snapd.layout.revision, 'x1');
    assert.is(readFileSync(join(snapd.layout.data, 'marker'), 'utf8'), 'x1 data');
    assert.is(snapd.get('key'), 'one');
    const after = hooksLog(snapd).slice(before.length);
    assert.not.match(after, /refresh/, 'no pre-/post-refresh on revert');
  } finally {
    await snapd.destroy();
  }
});

test.run();
