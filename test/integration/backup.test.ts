// immich-distribution.backup, compiled, run as snapd runs an app, against real Postgres 15 +
// pgvector from Debian: contents and verification, incremental media with hard links, retention,
// permissions, no secrets, and clean failures (not root, Postgres down, location not writable,
// disk full, a dump damaged between the compressor and the file) that leave no partial files.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../hooks-src/snap/exec.js';
import { parseIndex, parseManifest } from '../../hooks-src/backup/manifest.js';
import { type Env, POPULATE_SQL, backupDirs, installed, listFiles, mountTmpfs, populateMedia, query, teardown, waitFor } from './backup-fixtures.js';

const test = suite('backup');
let e: Env | undefined;

test.before(async () => {
  e = await installed();
  await query(e, POPULATE_SQL);
  // Photo-like sizes (0.25–1.75 MiB, ~2 GB in all; phone photos are 2–6 MB): the incremental
  // timing compares copying the data with a run that only walks the tree, makes its directories
  // and hard-links, whose cost is per file (~0.2 ms per file on this VM's disk).
  populateMedia(e.media, 2000, { minKiB: 256, maxKiB: 1792 });
});

test.after(async () => {
  await teardown(e);
});

function walkModes(dir: string, out: Array<[string, number, boolean]> = []): Array<[string, number, boolean]> {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    out.push([p, statSync(p).mode & 0o7777, d.isDirectory()]);
    if (d.isDirectory()) walkModes(p, out);
  }
  return out;
}

test('a database-only backup: verified custom-format dump, manifest without secrets, root-only files', async () => {
  const r = await e!.snapd.runApp('backup', ['--json']);
  assert.is(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { id: string; path: string };
  const m = parseManifest(readFileSync(join(out.path, 'manifest.json'), 'utf8'));
  assert.is(m.media, null);
  assert.is(m.trigger, 'manual');
  assert.ok(m.database.tables >= 5, `tables: ${m.database.tables}`);
  assert.is(m.state?.immichVersion !== undefined, true);
  assert.ok(m.postgres.extensions.some((x) => x.name === 'vector'));
  const dump = join(out.path, 'database.pgdump.zst');
  assert.is(createHash('sha256').update(readFileSync(dump)).digest('hex'), m.database.sha256);
  // Every zstd frame checks out, and the archive is a real pg_dump custom archive.
  execFileSync('zstd', ['-t', '-q', dump]);
  const list = execFileSync('sh', ['-c', `zstd -dc '${dump}' | pg_restore --list`], { encoding: 'utf8' });
  assert.match(list, /TABLE DATA public embeddings/);
  // Root only: 0700 directories, 0600 files.
  assert.is(statSync(out.path).mode & 0o777, 0o700);
  for (const [p, mode, isDir] of walkModes(out.path)) assert.is(mode, isDir ? 0o700 : 0o600, p);
  // No secret anywhere in the manifest.
  const manifestText = readFileSync(join(out.path, 'manifest.json'), 'utf8');
  for (const s of ['database-password', 'redis-password']) {
    const secret = readFileSync(e!.paths.secret(s as 'database-password'), 'utf8').trim();
    assert.not.ok(manifestText.includes(secret), `${s} leaked into the manifest`);
    assert.not.ok(r.stdout.includes(secret) || r.stderr.includes(secret), `${s} printed`);
  }
  assert.not.match(manifestText, /PASSWORD|REDIS_|secret/i);
  // No progress bar escape codes when not on a terminal.
  assert.not.match(r.stderr, /\x1b\[/);
});

test('--assets: originals backed up with a sha256 per file; thumbnails only with --with-thumbnails', async () => {
  // A first backup reads the photos from disk; the 2 GB this suite just wrote would otherwise be
  // read from the page cache, which makes the first run (the baseline of the 10 % check below)
  // unrealistically fast and the check a coin toss on a busy machine.
  execFileSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3\n');
  const t0 = Date.now();
  const r = await e!.snapd.runApp('backup', ['--assets', '--json']);
  const first = Date.now() - t0;
  assert.is(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { path: string };
  const m = parseManifest(readFileSync(join(out.path, 'manifest.json'), 'utf8'));
  const expected = listFiles(e!.media, ['library', 'upload', 'profile']);
  assert.ok(expected.length >= 2000);
  assert.is(m.media!.files, expected.length);
  assert.equal(m.media!.folders, ['library', 'upload', 'profile']);
  const index = parseIndex(readFileSync(join(out.path, 'media-index.jsonl'), 'utf8'));
  assert.equal(index.map((x) => x.path), expected);
  for (const x of index.slice(0, 200)) {
    assert.is(createHash('sha256').update(readFileSync(join(e!.media, x.path))).digest('hex'), x.sha256, x.path);
    assert.is(statSync(join(out.path, 'media', x.path)).mode & 0o777, 0o600);
  }
  assert.not.ok(existsSync(join(out.path, 'media/thumbs')));

  // Second run over unchanged files: everything hard-linked (same inodes), a fraction of the time.
  const t1 = Date.now();
  const r2 = await e!.snapd.runApp('backup', ['--assets', '--json']);
  const second = Date.now() - t1;
  assert.is(r2.exitCode, 0, r2.stderr);
  const out2 = JSON.parse(r2.stdout) as { path: string };
  const m2 = parseManifest(readFileSync(join(out2.path, 'manifest.json'), 'utf8'));
  assert.is(m2.media!.linked, m.media!.files);
  assert.is(m2.media!.copied, 0);
  assert.is(m2.media!.previous, m.id);
  for (const x of index) assert.is(statSync(join(out2.path, 'media', x.path)).ino, statSync(join(out.path, 'media', x.path)).ino, x.path);
  const ratio = m2.media!.durationMs / m.media!.durationMs;
  process.stderr.write(`  media phase: first ${m.media!.durationMs} ms, second ${m2.media!.durationMs} ms (${(ratio * 100).toFixed(1)} %); whole command ${first} ms vs ${second} ms\n`);
  assert.ok(ratio < 0.1, `second media run took ${(ratio * 100).toFixed(1)} % of the first`);
  assert.ok(second / first < 0.15, `second command took ${((second / first) * 100).toFixed(1)} % of the first`);

  const r3 = await e!.snapd.runApp('backup', ['--assets', '--with-thumbnails', '--json']);
  assert.is(r3.exitCode, 0, r3.stderr);
  const m3 = parseManifest(readFileSync(join((JSON.parse(r3.stdout) as { path: string }).path, 'manifest.json'), 'utf8'));
  assert.ok(m3.media!.folders.includes('thumbs'));
  assert.is(m3.media!.copied, 21 + 1); // 20 previews + thumbs/.immich + encoded-video/.immich
});

test('--list (table and --json) and --keep N retention', async () => {
  const before = backupDirs(e!.backups);
  assert.ok(before.length >= 4, `backups: ${before.join(' ')}`);
  const l = await e!.snapd.runApp('backup', ['--list']);
  assert.is(l.exitCode, 0, l.stderr);
  for (const id of before) assert.match(l.stdout, id);
  const lj = JSON.parse((await e!.snapd.runApp('backup', ['--list', '--json'])).stdout) as Array<{ id: string }>;
  assert.equal(lj.map((b) => b.id), before);
  const r = await e!.snapd.runApp('backup', ['--keep', '2']);
  assert.is(r.exitCode, 0, r.stderr);
  const after = backupDirs(e!.backups);
  assert.is(after.length, 2);
  assert.is(after[0], before.at(-1));
  const bad = await e!.snapd.runApp('backup', ['--keep', 'many']);
  assert.is(bad.exitCode, 2);
  assert.match(bad.stderr, /--keep needs a whole number/);
});

test('not root: a clear one-line refusal', async () => {
  const env = e!.snapd.appEnv('backup');
  const r = await runCommand(join(e!.snapd.layout.snap, 'bin/backup'), [], { env, replaceEnv: true, uid: 65534, gid: 65534, cwd: '/' });
  assert.is(r.exitCode, 77);
  assert.is(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /must run as root: sudo immich-distribution\.backup/);
});

test('Postgres down: clear message, nothing left behind', async () => {
  const before = readdirSync(e!.backups);
  await e!.snapd.services.stop('postgres');
  try {
    const r = await e!.snapd.runApp('backup', ['--assets']);
    assert.is(r.exitCode, 1);
    assert.match(r.stderr, /Postgres is not running; start it with: sudo snap start immich-distribution\.postgres/);
    assert.equal(readdirSync(e!.backups), before);
  } finally {
    await e!.snapd.services.start('postgres');
  }
  // The next tests need Postgres answering again (a fixed pause was too short on a busy machine).
  await waitFor('postgres', async () => {
    await query(e!, 'SELECT 1');
    return true;
  });
});

test('location not writable (read-only filesystem): clear message, nothing written', async () => {
  const dir = join(e!.snapd.root, 'ro');
  const umount = mountTmpfs(dir, '4m', 'ro');
  try {
    const r = await e!.snapd.runApp('backup', ['--to', dir]);
    assert.is(r.exitCode, 1);
    assert.match(r.stderr, /backup location .*ro is not writable \(EROFS\)/);
    assert.is(r.stderr.trim().split('\n').filter((l) => l.startsWith('backup:')).at(-1)?.includes('EROFS'), true);
  } finally {
    umount();
  }
});

test('disk full (a 3 MiB tmpfs): clear message and the partial backup removed', async () => {
  const dir = join(e!.snapd.root, 'small');
  const umount = mountTmpfs(dir, '3m');
  try {
    const r = await e!.snapd.runApp('backup', ['--assets', '--to', dir]);
    assert.is(r.exitCode, 1, r.stderr);
    assert.match(r.stderr, /not enough space in .*small \(disk full\); the partial backup was removed/);
    assert.equal(readdirSync(dir).filter((n) => n !== 'lost+found'), []);
    assert.not.ok(existsSync(e!.paths.backupLock), 'lock released');
  } finally {
    umount();
  }
});

/**
 * Runs fn with the snap's zstd replaced by a shell script: compressing runs `compress` (with the
 * real zstd at /usr/bin/zstd), while testing (-t) and decompressing (-d) reach the real zstd. So
 * the damage happens between the compressor and the file, where only the backup's own
 * verification can see it.
 */
async function withCompressor(compress: string, fn: () => Promise<void>): Promise<void> {
  const link = join(e!.snapd.layout.snap, 'usr/bin/zstd');
  const target = readlinkSync(link);
  rmSync(link);
  writeFileSync(link, `#!/bin/sh\ncase " $* " in *" -t "*|*" -d"*) exec /usr/bin/zstd "$@" ;; esac\n${compress}\n`, { mode: 0o755 });
  try {
    await fn();
  } finally {
    rmSync(link);
    symlinkSync(target, link);
  }
}

const PY = (expr: string) => `/usr/bin/python3 -c 'import sys; b = bytearray(sys.stdin.buffer.read()); ${expr}'`;

test('a dump damaged on its way to the disk is refused: flipped byte, truncated stream, not an archive', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['flipped', `/usr/bin/zstd "$@" | ${PY('b[len(b) // 2] ^= 0xFF; sys.stdout.buffer.write(b)')}`, /the dump is damaged \(zstd: .*(checksum|corrupt|error)/i],
    ['truncated', `/usr/bin/zstd "$@" | ${PY('sys.stdout.buffer.write(b[: len(b) // 2])')}`, /the dump is damaged \(zstd: .*(truncated|incomplete|error)/i],
    ['not-archive', 'cat > /dev/null; echo "not a pg_dump archive" | /usr/bin/zstd "$@"', /the dump is not a readable pg_dump archive \(pg_restore: .*\)/],
  ];
  for (const [name, compress, message] of cases) {
    const dir = join(e!.snapd.root, `damaged-${name}`);
    mkdirSync(dir, { mode: 0o700 });
    await withCompressor(compress, async () => {
      const r = await e!.snapd.runApp('backup', ['--json', '--to', dir]);
      assert.is(r.exitCode, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, message, `${name}: ${r.stderr}`);
      assert.match(r.stderr, /; the partial backup was removed/, `${name}: ${r.stderr}`);
      assert.equal(readdirSync(dir), [], `${name}: nothing may remain`);
      assert.not.ok(existsSync(e!.paths.backupLock), `${name}: lock released`);
    });
  }
  // The real compressor again: the same command succeeds (the cases failed for their damage only).
  const ok = await e!.snapd.runApp('backup', ['--json', '--to', join(e!.snapd.root, 'damaged-flipped')]);
  assert.is(ok.exitCode, 0, ok.stderr);
});

test('a killed backup leaves only a partial directory, removed by the next run', async () => {
  const dir = join(e!.snapd.root, 'killed');
  mkdirSync(dir, { mode: 0o700 });
  chmodSync(dir, 0o700);
  // Simulate: a partial left by a run killed with SIGKILL, plus its stale lock.
  mkdirSync(join(dir, '.partial-20200101T000000Z'));
  const r = await e!.snapd.runApp('backup', ['--to', dir]);
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stderr, /removed \.partial-20200101T000000Z/);
  assert.is(readdirSync(dir).filter((n) => n.startsWith('.partial')).length, 0);
});

test('backup-timer: nothing when backup.schedule=off; daily keeps backup.keep scheduled backups and never a manual one', async () => {
  const loc = join(e!.snapd.root, 'scheduled');
  mkdirSync(loc, { mode: 0o700 });
  // What configure renders from the validated backup.* keys (hooks-src/configure/render.ts).
  const settings = (o: Record<string, unknown>) => writeFileSync(e!.paths.backupSettings, `${JSON.stringify({ schedule: 'off', keep: 2, location: loc, assets: false, ...o })}\n`);
  settings({ schedule: 'off' });
  assert.is(await e!.snapd.services.runOnce('backup-timer'), 0);
  assert.equal(backupDirs(loc), []);
  const manual = await e!.snapd.runApp('backup', ['--to', loc, '--json']);
  assert.is(manual.exitCode, 0, manual.stderr);
  const manualId = (JSON.parse(manual.stdout) as { id: string }).id;
  settings({ schedule: 'daily', assets: true });
  for (let i = 0; i < 3; i++) {
    assert.is(await e!.snapd.services.runOnce('backup-timer'), 0);
    await new Promise((r) => setTimeout(r, 1100)); // distinct ids
  }
  const left = backupDirs(loc);
  assert.is(left.length, 3, left.join(' '));
  assert.ok(left.includes(manualId), 'the manual backup is kept');
  const scheduled = left.filter((id) => id !== manualId).map((id) => parseManifest(readFileSync(join(loc, id, 'manifest.json'), 'utf8')));
  assert.ok(scheduled.every((m) => m.trigger === 'scheduled' && m.media !== null));
  // weekly: a recent scheduled backup means nothing to do.
  settings({ schedule: 'weekly' });
  assert.is(await e!.snapd.services.runOnce('backup-timer'), 0);
  assert.equal(backupDirs(loc), left);
});

test.run();
