import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compareVersions, isPlaceholder, pythonSatisfies, SHARP_NEEDS_LIBVIPS, sharpLibvipsVerdict } from '../../../scripts/pins/checks.js';

const versions = suite('pins: version rules');
versions('numeric comparison, missing parts are zero', () => {
  assert.is(compareVersions('8.18.10', '8.18.9'), 1);
  assert.is(compareVersions('3.12', '3.12.0'), 0);
  assert.is(compareVersions('3.11', '3.12'), -1);
  assert.ok(isPlaceholder('0'.repeat(64)));
  assert.not.ok(isPlaceholder('0'.repeat(63) + '1'));
});

versions("Ubuntu's python against requires-python (PEP 440 subset)", () => {
  assert.ok(pythonSatisfies('>=3.11, <4.0', '3.12'));
  assert.not.ok(pythonSatisfies('>=3.11, <4.0', '3.10'));
  assert.not.ok(pythonSatisfies('>=3.13', '3.12'));
  assert.ok(pythonSatisfies('==3.12.*', '3.12'));
  assert.not.ok(pythonSatisfies('!=3.12.*', '3.12'));
  assert.ok(pythonSatisfies('~=3.11', '3.12'));
  assert.not.ok(pythonSatisfies('~=3.11.0', '3.12'));
  // 3.12 counts as 3.12.0: a patch-level floor is not assumed to be met.
  assert.not.ok(pythonSatisfies('>=3.12.4', '3.12'));
  assert.throws(() => pythonSatisfies('>=3.11a1', '3.12'), /not understood/);
  assert.throws(() => pythonSatisfies('>=3.*', '3.12'), /not valid/);
  assert.throws(() => pythonSatisfies('', '3.12'), /empty/);
});

versions('sharp → libvips: by the exact sharp version, which the table must know', () => {
  assert.equal(sharpLibvipsVerdict('0.35.3', '8.18.4'), { ok: true, needs: '8.18.3' });
  const old = sharpLibvipsVerdict('0.35.3', '8.18.0');
  assert.is(old.ok, false);
  if (!old.ok) assert.is(old.reason, 'sharp 0.35.3 needs libvips >= 8.18.3, but versions.json libvips.version is 8.18.0');
  // The requirement rises inside 0.35.x: 0.35.6 needs 8.18.8 (npm config.libvips).
  assert.is(sharpLibvipsVerdict('0.35.6', '8.18.5').ok, false);
  assert.equal(sharpLibvipsVerdict('0.34.5', '8.17.3'), { ok: true, needs: '8.17.3' });
  const unknown = sharpLibvipsVerdict('0.36.0', '9.0.0');
  assert.is(unknown.ok, false);
  if (!unknown.ok) assert.match(unknown.reason, 'npm view sharp@0.36.0 config.libvips');
  for (const [sharp, vips] of Object.entries(SHARP_NEEDS_LIBVIPS)) {
    assert.match(sharp, /^0\.3[45]\.\d+$/);
    assert.match(vips, /^8\.\d+\.\d+$/);
  }
});
versions.run();
