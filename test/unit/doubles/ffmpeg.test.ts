import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { builtDoubles } from './built.js';

/** The environment without any LD_LIBRARY_PATH. */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.LD_LIBRARY_PATH;
  return env;
}

test('ffmpeg and ffprobe start only with usr/lib/jellyfin-ffmpeg/lib on LD_LIBRARY_PATH', async () => {
  const out = await builtDoubles();
  const lib = join(out, 'usr/lib/jellyfin-ffmpeg/lib');
  for (const tool of ['ffmpeg', 'ffprobe']) {
    for (const path of [join(out, 'usr/lib/jellyfin-ffmpeg', tool), join(out, 'usr/bin', tool)]) {
      const without = spawnSync(path, ['-version'], { env: baseEnv(), encoding: 'utf8' });
      assert.is(without.status, 127, `${path} ran without its library`);
      assert.match(without.stderr, 'libimmich-double-va.so.2: cannot open shared object file');
      const withLib = spawnSync(path, ['-version'], { env: { ...baseEnv(), LD_LIBRARY_PATH: `/nonexistent:${lib}` }, encoding: 'utf8' });
      assert.is(withLib.status, 0, withLib.stderr);
      assert.match(withLib.stdout.split('\n')[0]!, new RegExp(`^${tool} version \\d+\\.\\d+\\.\\d+-Jellyfin \\(immich-distribution test double\\)$`));
    }
  }
});

test('ffmpeg needs its library by name, without RPATH or RUNPATH', async () => {
  const readelf = spawnSync('readelf', ['-d', join(await builtDoubles(), 'usr/lib/jellyfin-ffmpeg/ffmpeg')], { encoding: 'utf8' });
  if (readelf.error) return; // binutils missing: the LD_LIBRARY_PATH test above covers the behaviour
  assert.match(readelf.stdout, 'Shared library: [libimmich-double-va.so.2]');
  assert.not.match(readelf.stdout, /RPATH|RUNPATH/);
});

test.run();
