import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { builtDoubles, loadBuilder, repoRoot } from './built.js';

const versions = JSON.parse(readFileSync(join(repoRoot, 'snap/versions.json'), 'utf8')) as { immich: { version: string } };

const FILES = [
  'usr/lib/immich/server/dist/main.js',
  'usr/lib/immich/server/package.json',
  'usr/lib/immich/build/www/index.html',
  'usr/lib/immich/build/geodata/cities500.txt',
  'usr/lib/immich/build/geodata/admin1CodesASCII.txt',
  'usr/lib/immich/build/geodata/admin2Codes.txt',
  'usr/lib/immich/build/geodata/ne_10m_admin_0_countries.geojson',
  'usr/lib/immich/build/geodata/geodata-date.txt',
  'usr/lib/immich/build/plugins/immich-plugin-core/manifest.json',
  'usr/lib/immich/build/plugins/immich-plugin-core/dist/plugin.wasm',
  ...['__init__.py', '__main__.py', 'main.py', 'config.py', 'gunicorn_conf.py', 'log_conf.json'].map((f) => `usr/lib/immich/machine-learning/immich_ml/${f}`),
  'usr/lib/immich/machine-learning/site-packages/gunicorn/__init__.py',
  'usr/lib/immich/machine-learning/site-packages/gunicorn/__main__.py',
  'usr/lib/jellyfin-ffmpeg/ffmpeg',
  'usr/lib/jellyfin-ffmpeg/ffprobe',
  'usr/lib/jellyfin-ffmpeg/lib/libimmich-double-va.so.2',
];

test('the tree is laid out as the recipe installs Immich under $SNAP', async () => {
  const out = await builtDoubles();
  for (const f of FILES) {
    assert.ok(existsSync(join(out, f)), f);
    assert.ok(lstatSync(join(out, f)).size > 0, `${f} is empty`);
  }
  for (const tool of ['ffmpeg', 'ffprobe']) {
    assert.ok(lstatSync(join(out, 'usr/bin', tool)).isSymbolicLink());
    assert.is(readlinkSync(join(out, 'usr/bin', tool)), `../lib/jellyfin-ffmpeg/${tool}`);
  }
  assert.equal(JSON.parse(readFileSync(join(out, 'usr/lib/immich/server/package.json'), 'utf8')), { name: 'immich', version: versions.immich.version });
  const date = readFileSync(join(out, 'usr/lib/immich/build/geodata/geodata-date.txt'), 'utf8');
  assert.match(date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)$/);
  const manifest = JSON.parse(readFileSync(join(out, 'usr/lib/immich/build/plugins/immich-plugin-core/manifest.json'), 'utf8')) as Record<string, unknown>;
  assert.is(manifest.name, 'immich-plugin-core');
  assert.is(manifest.wasmPath, 'dist/plugin.wasm');
  for (const key of ['version', 'title', 'description', 'author', 'templates', 'methods']) assert.ok(key in manifest, key);
  const wasm = readFileSync(join(out, 'usr/lib/immich/build/plugins/immich-plugin-core/dist/plugin.wasm'));
  assert.equal([...wasm], [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  assert.ok(WebAssembly.validate(wasm));
  const geojson = JSON.parse(readFileSync(join(out, 'usr/lib/immich/build/geodata/ne_10m_admin_0_countries.geojson'), 'utf8')) as { type: string };
  assert.is(geojson.type, 'FeatureCollection');
  assert.is(readFileSync(join(out, 'usr/lib/immich/build/geodata/cities500.txt'), 'utf8').split('\n')[0]!.split('\t').length, 19);
});

test('main.js needs no node_modules: an invalid environment ends it with Immich message, exit 1', async () => {
  const main = join(await builtDoubles(), 'usr/lib/immich/server/dist/main.js');
  const bad = spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH, IMMICH_TRUSTED_PROXIES: 'linklocal' }, encoding: 'utf8', cwd: tmpdir() });
  assert.is(bad.status, 1);
  // Immich's supervisor throws from getEnv() in an un-awaited promise: Node reports the unhandled
  // rejection (message and stack) and exits 1.
  assert.match(bad.stderr, 'Error: Invalid environment variables: \n  - [IMMICH_TRUSTED_PROXIES] Must be an ip address or ip address range\n');
  // An empty environment is VALID for Immich (every variable is optional): it then fails to reach
  // its database (here a socket directory that does not exist) and exits 1.
  const empty = spawnSync(process.execPath, [main], { env: { DB_HOSTNAME: '/nonexistent-immich-double' }, encoding: 'utf8', cwd: tmpdir(), timeout: 20_000 });
  assert.is(empty.status, 1);
  assert.match(empty.stderr, 'ENOENT /nonexistent-immich-double/.s.PGSQL.5432');
  const unknown = spawnSync(process.execPath, [main, 'frobnicate'], { encoding: 'utf8' });
  assert.is(unknown.status, 1);
  assert.is(unknown.stderr, 'Unknown command: "frobnicate"\n');
});

test('a rebuild replaces the doubles whole, keeps other files, takes --version', async () => {
  const out = mkdtempSync(join(tmpdir(), 'immich-doubles-rebuild-'));
  try {
    const buildDoubles = await loadBuilder();
    await buildDoubles(out);
    writeFileSync(join(out, 'usr/lib/immich/stale-file'), 'x');
    writeFileSync(join(out, 'keep-me'), 'x');
    const started = Date.now();
    await buildDoubles(out, { immichVersion: '3.2.9' });
    const took = Date.now() - started;
    assert.ok(took < 10_000, `rebuild took ${took} ms`);
    assert.not.ok(existsSync(join(out, 'usr/lib/immich/stale-file')));
    assert.ok(existsSync(join(out, 'keep-me')));
    assert.is((JSON.parse(readFileSync(join(out, 'usr/lib/immich/server/package.json'), 'utf8')) as { version: string }).version, '3.2.9');
    const cli = spawnSync(process.execPath, [join(repoRoot, 'test/doubles/build.mjs'), out, '--version', '3.2.1'], { encoding: 'utf8' });
    assert.is(cli.status, 0, cli.stderr);
    assert.is((JSON.parse(readFileSync(join(out, 'usr/lib/immich/server/package.json'), 'utf8')) as { version: string }).version, '3.2.1');
    // no temporary folder left behind
    assert.equal(spawnSync('ls', ['-A', out], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).sort(), ['keep-me', 'usr']);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test.run();
