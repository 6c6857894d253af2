// Every file the hooks render, byte for byte, for fixed sets of settings on a fixed machine size:
// the guard for restructuring (issue 14: "rendered files are byte-identical for the same
// settings"). The compiled install and configure hooks run as snapd runs them; then everything
// under $SNAP_DATA/etc is compared with test/fixtures/rendered/<case>/, after two substitutions
// that depend on the run and not on the code: the fake snapd's root folder becomes <root>, and
// each generated secret (from $SNAP_COMMON/secrets) becomes <secret:NAME>.
//
// A deliberate change of a rendered file: UPDATE_RENDERED_FIXTURES=1 rewrites the fixtures, and
// the diff shows what changed, for review with the change.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FakeSnapd } from '../harness/fake-snapd.js';
import { filesUnder } from '../harness/files.js';
import { repoRoot, snapEnvFor } from '../harness/fake-snap.js';
import { snapPaths, type SnapPaths } from '../../hooks-src/snap/paths.js';
import type { SnapEnv } from '../../hooks-src/snap/env.js';

const FIXTURES = join(repoRoot, 'test/fixtures/rendered');
const UPDATE = process.env.UPDATE_RENDERED_FIXTURES === '1';

/**
 * The cases, applied in order on one install. Every bind is explicit (127.0.0.1): with the default
 * "all addresses" HAProxy's bind line depends on whether the host has IPv6 (unit-tested in
 * test/unit/haproxy/render.test.ts). Ports stay clear of the other suites' and of well-known ones.
 */
const CASES: Array<{ name: string; set: string[] }> = [
  { name: 'defaults', set: ['http.port=18281', 'http.bind=127.0.0.1', 'internal.stats-port=18280'] },
  {
    name: 'https-and-more',
    set: [
      'https.mode=self-signed',
      'https.port=18643',
      'https.hsts=true',
      'proxy.timeout=20m',
      'proxy.trusted-proxies=10.0.0.0/8,uniquelocal',
      'log.level=debug',
      'ml.enabled=false',
      'database.tcp=false',
      'internal.postgres-port=15433',
      'backup.schedule=weekly',
      'backup.keep=3',
      'backup.assets=true',
      'server.node-options=--max-old-space-size=2048',
    ],
  },
];

interface Ctx {
  snapd: FakeSnapd;
  paths: SnapPaths;
}

const test = suite<Ctx>('rendered files');

test.before(async (ctx) => {
  // The machine size Postgres is tuned to (hooks-src/postgres/machine.ts reads these overrides).
  ctx.snapd = await FakeSnapd.create({ extraEnv: { IMMICH_DISTRIBUTION_RAM_BYTES: String(4 * 2 ** 30), IMMICH_DISTRIBUTION_CPUS: '4' } });
  await ctx.snapd.install();
  ctx.paths = snapPaths(snapEnvFor(ctx.snapd.layout) as unknown as SnapEnv);
});

test.after(async (ctx) => {
  await ctx.snapd?.destroy();
});

function normalised(snapd: FakeSnapd, paths: SnapPaths): Map<string, string> {
  const secrets = [...filesUnder(paths.secretsDir)].map(([name, bytes]) => [name, bytes.toString('utf8')] as const).filter(([, value]) => value.length >= 8);
  const out = new Map<string, string>();
  for (const [file, bytes] of [...filesUnder(paths.etcDir)].sort(([a], [b]) => a.localeCompare(b))) {
    let t = bytes.toString('utf8').split(snapd.root).join('<root>');
    for (const [name, value] of secrets) t = t.split(value.trim()).join(`<secret:${name}>`);
    out.set(file, t);
  }
  return out;
}

for (const c of CASES) {
  test(`${c.name}: every rendered file is what it was`, async ({ snapd, paths }) => {
    await snapd.set(c.set);
    const now = normalised(snapd, paths);
    const dir = join(FIXTURES, c.name);
    if (UPDATE) {
      rmSync(dir, { recursive: true, force: true });
      for (const [file, text] of now) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), text);
      }
    }
    const recorded = filesUnder(dir);
    assert.equal([...now.keys()], [...recorded.keys()].sort((a, b) => a.localeCompare(b)), `the set of rendered files (${c.name})`);
    for (const [file, text] of now) assert.fixture(text, recorded.get(file)?.toString('utf8') ?? '', `${c.name}/${file}`);
    // The substitutions hid something: the secrets are in the files, and never in a fixture.
    assert.ok([...now.values()].some((t) => t.includes('<secret:')), 'the Redis password is rendered (and was replaced)');
  });
}

test.run();
