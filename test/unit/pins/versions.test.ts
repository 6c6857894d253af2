import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { diffPins, readPins, serializeVersions, writePins } from '../../../scripts/pins/versions.js';
import { FIXTURES } from './fake-net.js';

const REPO_VERSIONS = join(FIXTURES, '..', '..', '..', 'snap', 'versions.json');
const BEFORE = join(FIXTURES, 'versions.before.json');

/** Every key path of a JSON document, in order (the layout, without values). */
function keyPaths(v: unknown, prefix = ''): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return [];
  return Object.entries(v).flatMap(([k, x]) => [`${prefix}${k}`, ...keyPaths(x, `${prefix}${k}.`)]);
}

const test = suite('pins: versions.json');
test("the repository's versions.json reads, and serializes back byte-identical", () => {
  const text = readFileSync(REPO_VERSIONS, 'utf8');
  const doc = JSON.parse(text) as unknown;
  const pins = readPins(doc);
  assert.is(pins.immich.repository, 'https://github.com/immich-app/immich.git');
  assert.is(serializeVersions(doc), text);
  assert.is(serializeVersions(writePins(doc, pins)), text);
});

test("the test fixture has the repository file's layout (so the tests keep producing the real format)", () => {
  assert.equal(keyPaths(JSON.parse(readFileSync(BEFORE, 'utf8'))), keyPaths(JSON.parse(readFileSync(REPO_VERSIONS, 'utf8'))));
});

test('writePins keeps key order, "$comment" entries and unmanaged sections; diffPins lists changes in file order', () => {
  const doc = JSON.parse(readFileSync(BEFORE, 'utf8')) as Record<string, unknown>;
  const pins = readPins(doc);
  const next = structuredClone(pins);
  next.libvips.version = '8.18.5';
  next.snap.version = '3.2.4-1';
  const out = writePins(doc, next);
  assert.equal(keyPaths(out), keyPaths(doc));
  assert.equal(out['postgresql'], doc['postgresql']);
  assert.is((out['libvips'] as Record<string, unknown>)['$comment'], (doc['libvips'] as Record<string, unknown>)['$comment']);
  assert.is((doc['libvips'] as Record<string, unknown>)['version'], '8.18.4', 'the input document is not modified');
  assert.equal(diffPins(pins, next), [
    { path: 'snap.version', from: '3.2.0-1', to: '3.2.4-1' },
    { path: 'libvips.version', from: '8.18.4', to: '8.18.5' },
  ]);
});

test('a missing or malformed managed value is named', () => {
  const doc = JSON.parse(readFileSync(BEFORE, 'utf8')) as Record<string, Record<string, unknown>>;
  const noCommit = structuredClone(doc);
  delete noCommit['lego']!['commit'];
  assert.throws(() => readPins(noCommit), /lego.commit is missing or not a string/);
  const shortSum = structuredClone(doc);
  (shortSum['node']!['sha256'] as Record<string, string>)['arm64'] = 'abc';
  assert.throws(() => readPins(shortSum), /node.sha256.arm64 = 'abc' is not a valid sha256/);
  const ssh = structuredClone(doc);
  ssh['libvips']!['repository'] = 'git@github.com:libvips/libvips.git';
  assert.throws(() => readPins(ssh), /libvips.repository = .* is not a valid https/);
});
test.run();
