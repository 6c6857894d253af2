// The recipe builds as it stands (issue 12): no placeholder pin anywhere, every download verified,
// Immich built the way Immich builds itself (docs/upstream/immich-build.md §3-§5, from Immich's
// server/Dockerfile, root mise.toml and base images), and the runtime fixes Immich needs inside a
// snap (docs/upstream/immich-runtime.md) made by the one script every tier runs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { repoRoot } from '../../harness/fake-snap.js';

type Dict = Record<string, unknown>;
interface Part extends Dict {
  'override-build'?: string;
  'override-pull'?: string;
  'stage-packages'?: string[];
  'build-packages'?: string[];
  'build-snaps'?: string[];
}
const yamlText = readFileSync(join(repoRoot, 'snap/snapcraft.yaml'), 'utf8');
const project = parse(yamlText) as Dict & {
  parts: Record<string, Part>;
  apps: Record<string, Dict & { environment?: Record<string, string>; 'stop-mode'?: string }>;
  'package-repositories': Array<Dict & { 'key-id': string }>;
};
const versionsText = readFileSync(join(repoRoot, 'snap/versions.json'), 'utf8');
const versions = JSON.parse(versionsText) as Dict & {
  immich: { version: string; tag: string; commit: string };
  node: { version: string };
  postgresql: { major: number; upgradeFrom: number[] };
  lego: { go: string };
};
const script = (part: string): string => {
  const p = project.parts[part];
  assert.ok(p, `no part ${part}`);
  return `${p['override-pull'] ?? ''}\n${p['override-build'] ?? ''}`;
};

// ---------------------------------------------------------------------------------------------
// No placeholder, every download verified

/** Every string leaf of versions.json with its dotted path. */
function leaves(v: unknown, path = 'versions'): Array<[string, string]> {
  if (typeof v === 'string') return [[path, v]];
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, c]) => leaves(c, `${path}.${k}`));
  return [];
}

test('no placeholder pin: every sha256 is a real digest, every commit a full git id', () => {
  const all = leaves(versions);
  const shas = all.filter(([p]) => /sha256/i.test(p));
  const commits = all.filter(([p]) => /\.commit$/.test(p));
  assert.ok(shas.length >= 9 && commits.length >= 4, `expected pins, found ${shas.length} sha256 and ${commits.length} commits`);
  for (const [p, v] of shas) {
    assert.ok(/^[0-9a-f]{64}$/.test(v), `${p} is not a sha256: ${v}`);
    assert.not.ok(/^(.)\1+$/.test(v), `${p} is a placeholder (${v.slice(0, 8)}…)`);
  }
  for (const [p, v] of commits) {
    assert.ok(/^[0-9a-f]{40}$/.test(v), `${p} is not a full commit id: ${v}`);
    assert.not.ok(/^(.)\1+$/.test(v), `${p} is a placeholder`);
  }
  assert.not.ok(/placeholder|UNVERIFIED|TODO|XXX/i.test(versionsText.replace(/"\$comment": "[^"]*"/g, '')), 'versions.json has a placeholder value');
  const partsText = yamlText.slice(yamlText.indexOf('\nparts:'));
  assert.not.ok(/UNVERIFIED|placeholder/i.test(partsText), 'a part is marked UNVERIFIED or placeholder');
  for (const r of project['package-repositories']) assert.ok(/^[0-9A-F]{40}$/.test(r['key-id']), `apt key ${r['key-id']} is not a full fingerprint`);
});

test('every download goes through fetch-verified or git-verified; GeoNames (no checksums exist) is the one documented exception', () => {
  for (const [name, part] of Object.entries(project.parts)) {
    if (name === 'build-helpers') continue;
    const text = `${part['override-pull'] ?? ''}\n${part['override-build'] ?? ''}`;
    for (const line of text.split('\n')) {
      if (/\bcurl\b/.test(line)) assert.match(line, /download\.geonames\.org/, `parts.${name} downloads without a checksum: ${line.trim()}`);
      assert.not.ok(/\bgit (clone|fetch)\b/.test(line), `parts.${name} fetches git without verifying the commit: ${line.trim()}`);
      assert.not.ok(/\bwget\b|\| *(ba)?sh\b/.test(line), `parts.${name}: ${line.trim()}`);
    }
  }
  for (const [part, key] of [['immich-server', 'immich'], ['immich-machine-learning', 'immich'], ['libvips', 'libvips'], ['lego', 'lego'], ['vectorchord', 'vectorchord']] as const) {
    assert.match(script(part), `git-verified" "$("$H/pin" .${key}.repository)"`, `${part} is not pinned by ${key}'s commit`);
    assert.match(script(part), `.${key}.commit)`, part);
  }
  assert.match(script('build-helpers'), 'rev-parse \'FETCH_HEAD^{commit}\'');
  assert.ok(!('source-tag' in project.parts['immich-server']!) && !('source' in project.parts['immich-server']!));
});

// ---------------------------------------------------------------------------------------------
// Immich's own build steps (contract §A)

test('server: the three pnpm filters build, then `immich` is deployed for production with sharp on our libvips', () => {
  const s = script('immich-server');
  assert.match(s, 'F="--filter @immich/sdk --filter @immich/plugin-sdk --filter immich"');
  assert.match(s, 'SHARP_IGNORE_GLOBAL_LIBVIPS=true pnpm $F build');
  assert.match(s, 'SHARP_FORCE_GLOBAL_LIBVIPS=true pnpm --filter immich --prod --no-optional deploy');
  assert.not.ok(/pnpm --filter immich --frozen-lockfile build/.test(s), 'the old single-filter build is back');
  assert.match(s, 'corepack enable', 'pnpm must come from the tag\'s packageManager (corepack), as in Immich\'s Dockerfile');
  assert.match(s, '.nvmrc', "the tag's .nvmrc is not checked against node.version");
  assert.match(s, '.config.libvips', "sharp's libvips requirement is not checked");
});

test('plugin: built from packages/plugin-core with extism-js and binaryen at the tag\'s mise.lock checksums', () => {
  const s = script('immich-server');
  assert.match(s, 'F="--filter @immich/sdk --filter @immich/plugin-sdk --filter @immich/plugin-core"');
  assert.match(s, 'cp -a packages/plugin-core/dist packages/plugin-core/manifest.json');
  assert.match(s, 'build/plugins/immich-plugin-core');
  assert.not.ok(/plugins\/mise\.toml|plugins\/immich-plugin-core\/dist|\bmise (install|run)\b/.test(s), 'v2 plugin layout or a mise binary is back');
  assert.match(s, 'grep -q "sha256:$sum" mise.lock');
  const tools = (versions as unknown as { pluginTools: Record<string, { url: Record<string, string>; sha256: Record<string, string> }> }).pluginTools;
  assert.equal(Object.keys(tools).filter((k) => k !== '$comment').sort(), ['binaryen', 'extismJs']);
  for (const t of [tools['extismJs']!, tools['binaryen']!]) {
    assert.equal(Object.keys(t.url).sort(), ['amd64', 'arm64']);
    for (const u of Object.values(t.url)) assert.match(u, /^https:\/\/github\.com\/(extism\/js-pdk|WebAssembly\/binaryen)\/releases\/download\//);
  }
});

test('libvips: pinned commit, Immich\'s loader priorities, checked after the build', () => {
  const s = script('libvips');
  assert.match(s, 'snap/local/libvips-loader-priority.sh" src');
  assert.match(s, "grep -q 'priority=150'");
  assert.match(s, '-Dmodules=disabled');
});

test('jellyfin-ffmpeg: the server finds its libraries as Immich\'s start.sh arranges', () => {
  const env = project.apps['immich-server']!.environment ?? {};
  assert.is(env['LD_LIBRARY_PATH'], '$SNAP/usr/lib/jellyfin-ffmpeg/lib:$LD_LIBRARY_PATH');
  assert.match(script('ffmpeg'), 'test -d "$CRAFT_PART_INSTALL/usr/lib/jellyfin-ffmpeg/lib"');
});

test('runtime fixes (contract §B) are made by snap/local/runtime-fixes.sh in the parts that stage the binaries', () => {
  assert.match(script('postgresql'), 'runtime-fixes.sh" pg-client-rpath "$CRAFT_PART_INSTALL" "$CRAFT_ARCH_TRIPLET_BUILD_FOR"');
  assert.match(script('immich-machine-learning'), 'runtime-fixes.sh" python-alias "$CRAFT_PART_INSTALL"');
  assert.ok(project.parts['build-helpers']!['build-packages']!.includes('patchelf'));
  assert.ok(project.parts['tools']!['stage-packages']!.includes('gzip'), "Immich's backup pipes through GNU gzip --rsyncable");
  for (const f of ['runtime-fixes.sh', 'libvips-loader-priority.sh']) {
    assert.ok((statSync(join(repoRoot, 'snap/local', f)).mode & 0o111) !== 0, `snap/local/${f} is not executable`);
  }
});

test('Immich\'s services stop every process (the api worker and gunicorn outlive their parents otherwise)', () => {
  assert.is(project.apps['immich-server']!['stop-mode'], 'sigterm-all');
  assert.is(project.apps['immich-machine-learning']!['stop-mode'], 'sigterm-all');
});

test('toolchains match their pins: go track for lego, Postgres headers for every VectorChord major', () => {
  assert.ok(project.parts['lego']!['build-snaps']!.includes(`go/${versions.lego.go}/stable`));
  const majors = [versions.postgresql.major, ...versions.postgresql.upgradeFrom].sort();
  const headers = (project.parts['vectorchord']!['build-packages'] ?? []).map((p) => /^postgresql-server-dev-(\d+)$/.exec(p)?.[1]).filter((m) => m !== undefined).map(Number).sort();
  assert.equal(headers, majors);
  assert.ok(project.parts['vectorchord']!['build-snaps']!.includes('rustup'));
});

// ---------------------------------------------------------------------------------------------
// snap/local/libvips-loader-priority.sh on stand-in sources with the same anchor lines

test('the loader-priority edit applies once, and refuses sources it does not recognise', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vips-prio-'));
  try {
    const f = join(dir, 'libvips/foreign');
    mkdirSync(f, { recursive: true });
    writeFileSync(join(f, 'jpegload.c'), 'static void\nbase_class_init(void)\n{\n\tforeign_class->priority = 50;\n}\n');
    writeFileSync(join(f, 'heifload.c'), 'static void\nheif_class_init(void *class)\n{\n\tload_class->load = vips_foreign_load_heif_load;\n\n\tVIPS_ARG_INT(class, "page", 2);\n}\n');
    const run = () => execFileSync('bash', [join(repoRoot, 'snap/local/libvips-loader-priority.sh'), dir], { stdio: 'pipe' });
    run();
    assert.match(readFileSync(join(f, 'jpegload.c'), 'utf8'), '\tforeign_class->priority = 150;\n');
    assert.match(readFileSync(join(f, 'heifload.c'), 'utf8'), 'vips_foreign_load_heif_load;\n\t((VipsForeignClass *) class)->priority = 150;\n');
    assert.throws(run, 'a second application must fail (two heif priorities)');
    writeFileSync(join(f, 'jpegload.c'), '\tforeign_class->priority = 60;\n');
    assert.throws(run, 'an unrecognised jpegload must stop the build');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
