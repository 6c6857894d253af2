// snap/hooks/<hook> is committed (snapcraft copies it verbatim to meta/hooks/<hook>); it must be
// exactly what a fresh build of the committed sources produces.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../../harness/fake-snap.js';

const { hooks } = (await import(pathToFileURL(join(repoRoot, 'entries.mjs')).href)) as { hooks: string[] };
const { buildAll } = (await import(pathToFileURL(join(repoRoot, 'build.mjs')).href)) as { buildAll: (o?: { quiet?: boolean }) => Promise<void> };

test('snap/hooks holds a fresh build of every hook (run `npm run build:hooks` and commit)', async () => {
  await buildAll({ quiet: true });
  const stale: string[] = [];
  for (const h of hooks) {
    const committed = join(repoRoot, 'snap/hooks', h);
    const fresh = readFileSync(join(repoRoot, 'build/snap/meta/hooks', h));
    let same = false;
    try {
      same = readFileSync(committed).equals(fresh) && (statSync(committed).mode & 0o777) === 0o755;
    } catch {
      same = false;
    }
    if (!same) stale.push(h);
  }
  assert.equal(stale, [], `stale or missing in snap/hooks: ${stale.join(', ')}; run npm run build:hooks and commit`);
});

test.run();
