#!/usr/bin/env node
// Builds the Immich TEST DOUBLES and lays them out under OUT_DIR exactly where the snap recipe
// installs Immich under $SNAP (Immich itself is not built in this repository):
//   usr/lib/immich/server/{dist/main.js,dist/workers/api.js,package.json}  server double (esbuild bundles, no node_modules)
//   usr/lib/immich/build/{www,geodata,plugins/immich-plugin-core}   build data (IMMICH_BUILD_DATA)
//   usr/lib/immich/machine-learning/{immich_ml,site-packages/gunicorn}   ML double + gunicorn stand-in
//   usr/lib/jellyfin-ffmpeg/{ffmpeg,ffprobe,lib/libimmich-double-va.so.2}, usr/bin/{ffmpeg,ffprobe} -> ../lib/jellyfin-ffmpeg/…
// Usage: node test/doubles/build.mjs OUT_DIR [--version 3.2.0]   (default: snap/versions.json immich.version)
// Everything is built in a temporary folder inside OUT_DIR and renamed into place, so a rebuild
// replaces the doubles' paths whole and leaves anything else in OUT_DIR alone.
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const run = promisify(execFile);

/** The paths under OUT_DIR that belong to the doubles (each replaced as a whole). */
const OWNED = ['usr/lib/immich', 'usr/lib/jellyfin-ffmpeg', 'usr/bin/ffmpeg', 'usr/bin/ffprobe'];

function versions() {
  return JSON.parse(readFileSync(join(root, 'snap/versions.json'), 'utf8'));
}

function write(path, content, mode) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, mode ? { mode } : undefined);
}

async function bundleServer(stage, version) {
  const server = join(stage, 'usr/lib/immich/server');
  // dist/main.js (the supervisor) forks dist/workers/api.js, as Immich's nest build lays them out.
  const common = {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
    legalComments: 'none',
    // pg loads pg-native only when asked to.
    external: ['pg-native'],
  };
  await build({ ...common, entryPoints: [join(here, 'immich-server/main.ts')], outfile: join(server, 'dist/main.js') });
  await build({ ...common, entryPoints: [join(here, 'immich-server/workers/api.ts')], outfile: join(server, 'dist/workers/api.js') });
  // Immich reads its version from here; no "type" field, so dist/*.js is CommonJS.
  write(join(server, 'package.json'), `${JSON.stringify({ name: 'immich', version }, null, 2)}\n`);
}

/** Tiny but well-formed samples of what Immich's build data holds. */
function writeBuildData(stage, geodataDate) {
  const b = join(stage, 'usr/lib/immich/build');
  write(join(b, 'www/index.html'), '<!doctype html>\n<html><head><title>Immich</title></head><body><div id="app">Immich (immich-distribution test double)</div></body></html>\n');
  const geo = join(b, 'geodata');
  // geonames cities500.txt: 19 tab-separated columns.
  write(
    join(geo, 'cities500.txt'),
    '2950159\tBerlin\tBerlin\tBerlin\t52.52437\t13.41053\tP\tPPLC\tDE\t\t16\t00\t11000\t11000000\t3426354\t74\t43\tEurope/Berlin\t2022-03-09\n' +
      '2988507\tParis\tParis\tParis\t48.85341\t2.3488\tP\tPPLC\tFR\t\t11\t75\t751\t75056\t2138551\t\t42\tEurope/Paris\t2023-02-28\n',
  );
  write(join(geo, 'admin1CodesASCII.txt'), 'DE.16\tBerlin\tBerlin\t2950157\nFR.11\tÎle-de-France\tIle-de-France\t3012874\n');
  write(join(geo, 'admin2Codes.txt'), 'DE.16.00\tBerlin\tBerlin\t6547383\nFR.11.75\tParis\tParis\t2968815\n');
  const feature = (name, a3, ring) => ({
    type: 'Feature',
    properties: { ADMIN: name, ADM0_A3: a3, TYPE: 'Sovereign country' },
    geometry: { type: 'Polygon', coordinates: [ring] },
  });
  write(
    join(geo, 'ne_10m_admin_0_countries.geojson'),
    `${JSON.stringify({
      type: 'FeatureCollection',
      features: [
        feature('Germany', 'DEU', [[5.9, 47.3], [15.0, 47.3], [15.0, 55.1], [5.9, 55.1], [5.9, 47.3]]),
        feature('France', 'FRA', [[-4.8, 42.3], [8.2, 42.3], [8.2, 51.1], [-4.8, 51.1], [-4.8, 42.3]]),
      ],
    })}\n`,
  );
  write(join(geo, 'geodata-date.txt'), geodataDate);
  const plugin = join(b, 'plugins/immich-plugin-core');
  write(
    join(plugin, 'manifest.json'),
    `${JSON.stringify(
      {
        name: 'immich-plugin-core',
        version: '2.0.0',
        title: 'Immich Core Plugin',
        description: 'Core workflow capabilities for Immich (immich-distribution test double)',
        author: 'Immich Team',
        wasmPath: 'dist/plugin.wasm',
        templates: [],
        methods: [{ name: 'noop', title: 'No operation', description: 'Does nothing (test double)', types: ['AssetV1'], schema: { type: 'object', properties: {} } }],
      },
      null,
      2,
    )}\n`,
  );
  // The smallest valid WebAssembly module: magic + version.
  write(join(plugin, 'dist/plugin.wasm'), Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
}

function copyMl(stage) {
  const ml = join(stage, 'usr/lib/immich/machine-learning');
  const filter = (src) => !src.includes('__pycache__');
  cpSync(join(here, 'immich-ml/immich_ml'), join(ml, 'immich_ml'), { recursive: true, filter });
  cpSync(join(here, 'immich-ml/site-packages/gunicorn'), join(ml, 'site-packages/gunicorn'), { recursive: true, filter });
}

/** ffmpeg/ffprobe NEED libimmich-double-va.so.2 and carry no RPATH: they start only with LD_LIBRARY_PATH. */
async function compileFfmpeg(stage, ffmpegVersion) {
  const src = join(here, 'jellyfin-ffmpeg');
  const dir = join(stage, 'usr/lib/jellyfin-ffmpeg');
  const lib = join(dir, 'lib');
  mkdirSync(lib, { recursive: true });
  await run('cc', ['-shared', '-fPIC', '-O2', '-Wl,-soname,libimmich-double-va.so.2', '-o', join(lib, 'libimmich-double-va.so.2'), join(src, 'libimmich-double-va.c')]);
  await Promise.all(
    ['ffmpeg', 'ffprobe'].map((tool) =>
      run('cc', ['-O2', `-DTOOL="${tool}"`, `-DVERSION="${ffmpegVersion}"`, '-o', join(dir, tool), join(src, 'tool.c'), `-L${lib}`, '-l:libimmich-double-va.so.2']),
    ),
  );
  mkdirSync(join(stage, 'usr/bin'), { recursive: true });
  for (const tool of ['ffmpeg', 'ffprobe']) symlinkSync(`../lib/jellyfin-ffmpeg/${tool}`, join(stage, 'usr/bin', tool));
}

function exists(path) {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Moves `from` to `to`, replacing whatever was there: the old tree is renamed into `trash` first,
 * so a reader never sees half a tree. Retries when a concurrent build put its own tree there.
 */
function replace(from, to, trash) {
  mkdirSync(dirname(to), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      if (exists(to)) renameSync(to, join(trash, `${attempt}-${String(Math.random()).slice(2)}`));
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
    try {
      renameSync(from, to);
      return;
    } catch (error) {
      if (attempt >= 5 || !['ENOTEMPTY', 'EEXIST'].includes(error.code)) throw error;
    }
  }
}

export async function buildDoubles(outDir, { immichVersion } = {}) {
  const pins = versions();
  const version = immichVersion ?? pins.immich.version;
  const ffmpegVersion = /^\d+(\.\d+)*/.exec(pins.jellyfinFfmpeg.version)?.[0] ?? '7.1.4';
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true });
  const stage = mkdtempSync(join(out, '.doubles-build-'));
  try {
    await Promise.all([bundleServer(stage, version), compileFfmpeg(stage, ffmpegVersion)]);
    writeBuildData(stage, pins.geodata?.date ?? '2026-08-01T00:00:00+00:00');
    copyMl(stage);
    const trash = join(stage, '.trash');
    mkdirSync(trash);
    for (const rel of OWNED) replace(join(stage, rel), join(out, rel), trash);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--version');
  const immichVersion = at >= 0 ? args.splice(at, 2)[1] : undefined;
  if (args.length !== 1 || (at >= 0 && !immichVersion)) {
    process.stderr.write('usage: node test/doubles/build.mjs OUT_DIR [--version 3.2.0]\n');
    process.exit(2);
  }
  const started = Date.now();
  const out = await buildDoubles(args[0], { immichVersion });
  process.stdout.write(`Immich test doubles built in ${out} (${Date.now() - started} ms)\n`);
}
