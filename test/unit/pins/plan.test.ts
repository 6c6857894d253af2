import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PinError } from '../../../scripts/pins/errors.js';
import { planPins, type Facts } from '../../../scripts/pins/plan.js';
import { readPins, type Pins } from '../../../scripts/pins/versions.js';
import { FIXTURE_COMMIT, FIXTURES } from './fake-net.js';

const current = (): Pins => readPins(JSON.parse(readFileSync(join(FIXTURES, 'versions.before.json'), 'utf8')));

/** The facts that re-confirm `p` exactly, with the Immich tag moved to v3.2.4. */
function factsFor(p: Pins): Facts {
  return {
    immich: { tag: 'v3.2.4', version: '3.2.4', commit: FIXTURE_COMMIT },
    node: { version: p.node.version, sha256: { ...p.node.sha256 }, signer: 'F'.repeat(40) },
    pluginTools: structuredClone(p.pluginTools),
    uv: { version: p.uv.version, sha256: { ...p.uv.sha256 } },
    naturalEarth: { version: p.geodata.naturalEarthVersion, sha256: p.geodata.naturalEarthSha256 },
    git: {
      vectorchord: { version: p.vectorchord.version, commit: p.vectorchord.commit },
      lego: { version: p.lego.version, commit: p.lego.commit },
      libvips: { version: p.libvips.version, commit: p.libvips.commit },
    },
  };
}

function refusal(fn: () => unknown): PinError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PinError) return err;
    throw err;
  }
  throw new Error('expected a PinError');
}

const test = suite('pins: planPins');
test('a new Immich version resets the packaging revision; the same one keeps it', () => {
  const p = current();
  const next = planPins(p, factsFor(p));
  assert.equal(next.immich, { ...p.immich, version: '3.2.4', tag: 'v3.2.4', commit: FIXTURE_COMMIT });
  assert.is(next.snap.version, '3.2.4-1');
  assert.equal({ ...next, immich: p.immich, snap: p.snap }, p, 'nothing else changed');

  const at324 = structuredClone(p);
  at324.immich = { ...p.immich, version: '3.2.4', tag: 'v3.2.4', commit: FIXTURE_COMMIT };
  at324.snap.version = '3.2.4-3';
  assert.is(planPins(at324, factsFor(at324)).snap.version, '3.2.4-3');
});

test('new versions carry their verified values', () => {
  const p = current();
  const f = factsFor(p);
  f.node = { version: '24.16.0', sha256: { amd64: 'a'.repeat(64), arm64: 'b'.repeat(64) }, signer: 'F'.repeat(40) };
  f.uv = { version: '0.11.0', sha256: { amd64: 'c'.repeat(64), arm64: 'd'.repeat(64) } };
  f.git.lego = { version: '4.26.0', commit: 'e'.repeat(40) };
  f.pluginTools.binaryen = { version: 'version_125', url: { amd64: 'https://x/a', arm64: 'https://x/b' }, sha256: { amd64: '1'.repeat(64), arm64: '2'.repeat(64) } };
  const next = planPins(p, f);
  assert.equal(next.node, { version: '24.16.0', sha256: { amd64: 'a'.repeat(64), arm64: 'b'.repeat(64) } });
  assert.equal(next.uv, f.uv);
  assert.equal(next.lego, { ...p.lego, version: '4.26.0', commit: 'e'.repeat(40) });
  assert.equal(next.pluginTools.binaryen, f.pluginTools.binaryen);
});

test('same version, different checksum or commit: refused (a placeholder of zeros may be filled)', () => {
  const p = current();
  const node = factsFor(p);
  node.node.sha256.arm64 = 'a'.repeat(64);
  const e = refusal(() => planPins(p, node));
  assert.is(e.artifact, 'node-v24.15.0-linux-arm64.tar.xz');
  assert.match(e.detail, `versions.json pins ${p.node.sha256.arm64} for the same version`);

  const zeros = structuredClone(p);
  zeros.node.sha256.arm64 = '0'.repeat(64);
  assert.is(planPins(zeros, factsFor(p)).node.sha256.arm64, p.node.sha256.arm64);

  const uv = factsFor(p);
  uv.uv.sha256.amd64 = 'b'.repeat(64);
  assert.is(refusal(() => planPins(p, uv)).url, 'https://github.com/astral-sh/uv/releases/download/0.10.2/uv-x86_64-unknown-linux-gnu.tar.gz');

  const tool = factsFor(p);
  tool.pluginTools.extismJs.sha256.amd64 = 'c'.repeat(64);
  assert.match(refusal(() => planPins(p, tool)).artifact, 'extismJs 1.6.0 amd64');

  const moved = factsFor(p);
  moved.git.vectorchord.commit = 'd'.repeat(40);
  const m = refusal(() => planPins(p, moved));
  assert.is(m.artifact, 'vectorchord tag 1.1.1');
  assert.match(m.detail, 'the tag moved');

  const immich = factsFor(p);
  immich.immich = { tag: p.immich.tag, version: p.immich.version, commit: 'e'.repeat(40) };
  assert.is(refusal(() => planPins(p, immich)).artifact, 'Immich tag v3.2.0');
});

test('Natural Earth: only the pinned version with the pinned sha256', () => {
  const p = current();
  const other = factsFor(p);
  other.naturalEarth = { version: '5.1.3', sha256: 'a'.repeat(64) };
  assert.match(refusal(() => planPins(p, other)).detail, 'verify its sha256 by hand from two independent sources');
  const changed = factsFor(p);
  changed.naturalEarth.sha256 = 'a'.repeat(64);
  assert.match(refusal(() => planPins(p, changed)).detail, `versions.json pins ${p.geodata.naturalEarthSha256}`);
});
test.run();
