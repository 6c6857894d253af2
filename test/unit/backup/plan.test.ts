import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compareIds, isBackupId, isPartialName, newBackupId, partialName, timestampId } from '../../../hooks-src/backup/naming.js';
import { planRetention } from '../../../hooks-src/backup/retention.js';
import { planMedia, summarize } from '../../../hooks-src/backup/plan.js';
import { parseIndex, parseManifest, renderIndexLine, safeMediaPath } from '../../../hooks-src/backup/manifest.js';

const naming = suite('backup naming');
naming('ids are UTC timestamps, unique within a second, partials are hidden names', () => {
  const now = new Date('2026-11-29T03:15:00.123Z');
  assert.is(timestampId(now), '20261129T031500Z');
  assert.is(newBackupId(now, new Set()), '20261129T031500Z');
  assert.is(newBackupId(now, new Set(['20261129T031500Z'])), '20261129T031500Z-2');
  assert.is(newBackupId(now, new Set([partialName('20261129T031500Z'), '20261129T031500Z-2'])), '20261129T031500Z-3');
  assert.ok(isBackupId('20261129T031500Z-2'));
  assert.not.ok(isBackupId('../etc'));
  assert.ok(isPartialName('.partial-20261129T031500Z'));
  assert.not.ok(isPartialName('.partial-x'));
  assert.equal(['20261129T031500Z-10', '20261129T031500Z', '20261129T031500Z-2', '20251129T000000Z'].sort(compareIds), ['20251129T000000Z', '20261129T031500Z', '20261129T031500Z-2', '20261129T031500Z-10']);
});
naming.run();

const retention = suite('backup retention');
retention('keeps the newest N, counting only the given triggers', () => {
  const b = [
    { id: '20260101T000000Z', trigger: 'scheduled' as const },
    { id: '20260102T000000Z', trigger: 'manual' as const },
    { id: '20260103T000000Z', trigger: 'scheduled' as const },
    { id: '20260104T000000Z', trigger: 'scheduled' as const },
  ];
  assert.equal(planRetention(b, 2), ['20260102T000000Z', '20260101T000000Z']);
  assert.equal(planRetention(b, 2, ['scheduled']), ['20260101T000000Z']);
  assert.equal(planRetention(b, 10), []);
  assert.throws(() => planRetention(b, 0));
});
retention.run();

const plan = suite('incremental media plan');
plan('unchanged (same path, size, mtime) → link with the recorded hash; anything else → copy', () => {
  const prev = new Map([
    ['upload/a.jpg', { path: 'upload/a.jpg', size: 10, mtimeNs: 5n, mode: 0o644, sha256: 'a'.repeat(64) }],
    ['upload/b.jpg', { path: 'upload/b.jpg', size: 10, mtimeNs: 5n, mode: 0o644, sha256: 'b'.repeat(64) }],
  ]);
  const ops = planMedia(
    [
      { path: 'upload/a.jpg', size: 10, mtimeNs: 5n, mode: 0o644 },
      { path: 'upload/b.jpg', size: 10, mtimeNs: 6n, mode: 0o644 },
      { path: 'upload/c.jpg', size: 3, mtimeNs: 5n, mode: 0o644 },
    ],
    prev,
  );
  assert.equal(ops.map((o) => o.kind), ['link', 'copy', 'copy']);
  assert.equal(summarize(ops), { files: 3, bytes: 23, link: 1, copy: 2, copyBytes: 13 });
  assert.equal(planMedia([{ path: 'upload/a.jpg', size: 10, mtimeNs: 5n, mode: 0o644 }]).map((o) => o.kind), ['copy']);
});
plan.run();

const manifest = suite('manifest and media index');
manifest('index lines round-trip; unsafe paths are refused', () => {
  const e = { path: 'upload/u/ab/cd/x y.jpg', size: 12, mtimeNs: 1732850000123456789n, mode: 0o644, sha256: 'f'.repeat(64) };
  assert.equal(parseIndex(renderIndexLine(e) + renderIndexLine({ ...e, path: 'profile/p.jpg' })), [e, { ...e, path: 'profile/p.jpg' }]);
  for (const bad of ['/etc/passwd', 'upload/../../x', 'upload', 'other/x', 'upload//x', 'upload/./x']) assert.not.ok(safeMediaPath(bad), bad);
  assert.throws(() => parseIndex('{"p":"../x","s":1,"m":"1","o":420,"h":"' + 'f'.repeat(64) + '"}\n'), /line 1 is malformed/);
  assert.throws(() => parseIndex('not json\n'), /line 1 is not valid JSON/);
});
manifest('manifests are validated strictly (unknown fields, wrong types)', () => {
  assert.throws(() => parseManifest('{'), /not valid JSON/);
  assert.throws(() => parseManifest('{"format":1}'), /manifest\.json is invalid/);
});
manifest.run();
