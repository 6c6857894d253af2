// immich-distribution.restore, compiled, against real Postgres 15 + pgvector: a backup → wipe →
// restore round trip (identical per-table checksums and file hashes), and failure injection:
// corrupt dump, checksum mismatch, disk full (tmpfs mounted over the media location), SIGKILL at
// every step (failpoints) and at a random moment of pg_restore. After each failure the previous
// state is intact and usable, and nothing is left behind.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Env, POPULATE_SQL, WIPE_SQL, changeMedia, fileHashes, installed, mountTmpfs, populateMedia, query, tableChecksums, teardown, waitFor } from './backup-fixtures.js';
import { parseManifest, renderManifest } from '../../hooks-src/backup/manifest.js';
import { processInfo } from '../harness/processes.js';

const test = suite('restore');
let e: Env | undefined;
let backupId = '';
let backupDir = '';
/** The state in the backup. */
let saved: { db: Record<string, string>; media: Record<string, string> };

interface State {
  db: Record<string, string>;
  media: Record<string, string>;
}

async function current(): Promise<State> {
  return { db: await tableChecksums(e!), media: fileHashes(e!.media) };
}

/** Nothing a restore makes for itself remains: databases, staging folders, journal, lock. */
async function assertNoLeftovers(): Promise<void> {
  const dbs = await query<{ datname: string }>(e!, "SELECT datname FROM pg_database WHERE datname LIKE 'immich_%'", 'postgres');
  assert.equal(dbs, [], `leftover databases: ${JSON.stringify(dbs)}`);
  assert.equal(readdirSync(e!.media).filter((n) => n.startsWith('.restore-')), [], 'leftover media folders');
  assert.not.ok(existsSync(e!.paths.restoreJournal), 'journal left');
}

/** The database answers queries and the media are readable: the state "works". */
async function assertUsable(): Promise<void> {
  const [r] = await query<{ n: number }>(e!, 'SELECT count(*)::int AS n FROM assets');
  assert.ok(r!.n > 0);
  const [c] = await query<{ ok: boolean }>(e!, "SELECT datallowconn AS ok FROM pg_database WHERE datname = 'immich'", 'postgres');
  assert.ok(c!.ok, 'immich accepts connections');
}

async function restore(args: string[], env: Record<string, string> = {}) {
  return e!.snapd.runApp('restore', args, { env });
}

/** Makes the live state differ from the backup again (after a restore that went through). */
async function diverge(): Promise<void> {
  await query(e!, WIPE_SQL.replace('DROP TABLE tags;', 'DROP TABLE IF EXISTS tags;').replace('CREATE TABLE junk', 'DROP TABLE IF EXISTS junk; CREATE TABLE junk'));
  changeMedia(e!.media);
}

test.before(async () => {
  e = await installed();
  await query(e, POPULATE_SQL);
  populateMedia(e.media);
  const r = await e.snapd.runApp('backup', ['--assets', '--json']);
  assert.is(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { id: string; path: string };
  backupId = out.id;
  backupDir = out.path;
  saved = await current();
  assert.ok(Object.keys(saved.media).length >= 2000);
  assert.ok(saved.db.embeddings!.startsWith('1500:'));
  await diverge();
});

test.after(async () => {
  await teardown(e);
});

test('refuses without --yes when not on a terminal, and names a missing backup clearly', async () => {
  const before = await current();
  const r = await restore([backupId]);
  assert.is(r.exitCode, 2);
  assert.match(r.stderr, /add --yes to confirm/);
  const m = await restore(['20200101T000000Z', '--yes']);
  assert.is(m.exitCode, 1);
  assert.match(m.stderr, /is not a complete backup \(no manifest\.json\)/);
  assert.equal(await current(), before);
});

test('corrupt dump (one byte flipped): checksum mismatch, nothing changed', async () => {
  const before = await current();
  const copy = join(e!.snapd.root, 'corrupt');
  cpSync(backupDir, copy, { recursive: true });
  const dump = join(copy, 'database.pgdump.zst');
  const bytes = readFileSync(dump);
  const mid = Math.floor(bytes.length / 2);
  bytes[mid] = bytes[mid]! ^ 0xff;
  writeFileSync(dump, bytes);
  const r = await restore([copy, '--yes']);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /checksum mismatch for database\.pgdump\.zst \(the backup is damaged\); nothing was changed/);
  assert.equal(await current(), before);
  await assertNoLeftovers();

  // The same damage with a manifest that agrees with it: zstd's own checksums catch it.
  const m = parseManifest(readFileSync(join(copy, 'manifest.json'), 'utf8'));
  m.database.sha256 = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(copy, 'manifest.json'), renderManifest(m));
  const r2 = await restore([copy, '--yes']);
  assert.is(r2.exitCode, 1);
  assert.match(r2.stderr, /the dump is damaged/);
  assert.equal(await current(), before);
  await assertNoLeftovers();
  rmSync(copy, { recursive: true });
});

test('a media file changed inside the backup: checksum mismatch while staging, live data untouched', async () => {
  const before = await current();
  const copy = join(e!.snapd.root, 'tampered');
  cpSync(backupDir, copy, { recursive: true });
  const lines = readFileSync(join(copy, 'media-index.jsonl'), 'utf8').trim().split('\n');
  const victim = (JSON.parse(lines[1500]!) as { p: string }).p;
  const f = join(copy, 'media', victim);
  const b = readFileSync(f);
  b[0] = b[0]! ^ 1;
  rmSync(f); // the copy shares inodes with nothing, but be explicit
  writeFileSync(f, b);
  const r = await restore([copy, '--yes']);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, new RegExp(`checksum mismatch for ${victim.replace(/[.]/g, '\\.')} in backup .*nothing was changed`));
  assert.equal(await current(), before);
  await assertUsable();
  await assertNoLeftovers();
  rmSync(copy, { recursive: true });
});

test('disk full: too little space is refused up front; the disk filling up mid-staging rolls back', async () => {
  // The media location becomes a small tmpfs holding a copy of the current media.
  const before = await current();
  const keep = join(e!.snapd.root, 'media-keep');
  cpSync(e!.media, keep, { recursive: true });
  const logical = Object.keys(saved.media).reduce((s, p) => s + statSync(join(backupDir, 'media', p)).size, 0);
  const liveBytes = Object.keys(before.media).reduce((s, p) => s + statSync(join(e!.media, p)).size, 0);

  // 1. Not enough room for the backup's media: refused before anything is written.
  let umount = mountTmpfs(e!.media, `${Math.ceil((liveBytes * 1.3 + logical / 2) / 4096) * 4096}`);
  try {
    cpSync(keep, e!.media, { recursive: true });
    const r = await restore([backupId, '--yes']);
    assert.is(r.exitCode, 1, r.stderr);
    assert.match(r.stderr, /not enough free space for the media: .* free in .*, .* needed; nothing was changed/);
    assert.equal(await current(), before);
    await assertNoLeftovers();
  } finally {
    umount();
  }

  // 2. Room enough when checked, then something else (an upload) fills the disk while the media
  //    are being staged: ENOSPC mid-copy. The command stops itself as staging begins (the test-only
  //    failpoint `restore:stage-media:stop`, after the space check), the disk is filled, and it
  //    goes on: the copy meets a full disk whatever the machine's speed.
  umount = mountTmpfs(e!.media, `${Math.ceil((liveBytes * 1.3 + logical * 1.5 + 80 * 2 ** 20) / 4096) * 4096}`);
  try {
    cpSync(keep, e!.media, { recursive: true });
    const env = { ...e!.snapd.appEnv('restore'), IMMICH_DISTRIBUTION_FAILPOINT: 'restore:stage-media:stop' };
    const child = spawn(join(e!.snapd.layout.snap, 'bin/restore'), [backupId, '--yes'], { env, stdio: ['ignore', 'ignore', 'pipe'], cwd: '/' });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number>((r) => child.once('exit', (code) => r(code ?? -1)));
    await waitFor('restore stopped as staging begins', () => processInfo(child.pid!)?.state === 'T', 60_000);
    assert.not.ok(readdirSync(e!.media).some((n) => n.startsWith('.restore-staging-')), 'stopped before staging');
    const filler = join(e!.media, 'upload', 'filler.bin');
    try {
      const fs = statfsSync(e!.media);
      execFileSync('fallocate', ['-l', String(fs.bavail * fs.bsize - 4096), filler]);
    } catch {
      /* as much as fits */
    }
    process.kill(child.pid!, 'SIGCONT');
    const code = await exited;
    rmSync(filler, { force: true });
    assert.is(code, 1, stderr);
    assert.match(stderr, /not enough space in .* \(disk full\) while staging the media; the previous state was kept/);
    process.stderr.write(`  disk full mid-staging: ${stderr.trim().split('\n').at(-1)}\n`);
    assert.equal(await current(), before);
    await assertUsable();
    await assertNoLeftovers();
  } finally {
    umount();
  }
  rmSync(keep, { recursive: true });
});

const STEPS = ['recover', 'validate', 'stage-media', 'restore-database', 'stop-immich', 'swap-media', 'swap-database', 'cleanup', 'start-immich'];
const COMMITTED_FROM = STEPS.indexOf('cleanup');

test('SIGKILL at the start of every step: the previous state (or, after the commit point, the restored one) survives', async () => {
  for (const [i, s] of STEPS.entries()) {
    const before = await current();
    const r = await restore([backupId, '--yes'], { IMMICH_DISTRIBUTION_FAILPOINT: `restore:${s}` });
    assert.is(r.exitCode, 127, `${s}: ${r.stderr}`); // killed by SIGKILL
    if (i < STEPS.indexOf('swap-media')) {
      // Nothing live was touched yet: usable as it is, before any recovery.
      assert.equal(await current(), before, s);
      await assertUsable();
    }
    const rec = await restore(['--recover']);
    assert.is(rec.exitCode, 0, `${s}: ${rec.stderr}`);
    const after = await current();
    if (i < COMMITTED_FROM) assert.equal(after, before, `${s}: rolled back`);
    else assert.equal(after, saved, `${s}: rolled forward`);
    await assertUsable();
    await assertNoLeftovers();
    if (i >= COMMITTED_FROM) await diverge();
  }
});

test('SIGKILL at a random moment while pg_restore runs: consistent state after recovery', async () => {
  for (const delayMs of [150, 400]) {
    const before = await current();
    const env = e!.snapd.appEnv('restore');
    const child = spawn(join(e!.snapd.layout.snap, 'bin/restore'), [backupId, '--yes'], { env, stdio: 'ignore', cwd: '/' });
    // Wait until the new database is being filled, then kill the command (its children are orphaned,
    // as with a real SIGKILL, and recovery must cope with them).
    await waitFor('pg_restore', async () => (await query(e!, "SELECT 1 FROM pg_stat_activity WHERE datname LIKE 'immich_restore_%'", 'postgres')).length > 0, 60_000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, delayMs));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // The live database is whole (the swap is one transaction).
    const dbNow = await tableChecksums(e!);
    assert.ok(JSON.stringify(dbNow) === JSON.stringify(before.db) || JSON.stringify(dbNow) === JSON.stringify(saved.db), 'live database is old or new, never mixed');
    const rec = await restore(['--recover']);
    assert.is(rec.exitCode, 0, rec.stderr);
    const after = await current();
    assert.ok(JSON.stringify(after) === JSON.stringify(before) || JSON.stringify(after) === JSON.stringify(saved), 'database and media belong together');
    await assertUsable();
    await assertNoLeftovers();
    if (JSON.stringify(after) === JSON.stringify(saved)) await diverge();
  }
});

test('round trip: restore brings back identical per-table checksums (vector column included) and file hashes', async () => {
  const before = await current();
  assert.not.equal(before, saved);
  const t0 = Date.now();
  const r = await restore([backupId, '--yes', '--json']);
  assert.is(r.exitCode, 0, r.stderr);
  const ms = Date.now() - t0;
  process.stderr.write(`  round trip restore of ${Object.keys(saved.media).length} files + database: ${ms} ms\n`);
  assert.equal(JSON.parse(r.stdout).restored, backupId);
  const after = await current();
  assert.equal(after.db, saved.db);
  assert.equal(after.media, saved.media);
  // Thumbnails are not in the backup and stay as they were.
  assert.ok(existsSync(join(e!.media, 'thumbs/.immich')));
  // The vector index works on the restored table.
  const near = await query<{ n: number }>(e!, "SELECT count(*)::int AS n FROM (SELECT asset_id FROM embeddings ORDER BY embedding <=> (SELECT embedding FROM embeddings LIMIT 1) LIMIT 5) s");
  assert.is(near[0]!.n, 5);
  await assertUsable();
  await assertNoLeftovers();
  // Database-only restore leaves the media alone.
  await diverge();
  const mediaBefore = fileHashes(e!.media);
  const d = await restore([backupId, '--yes', '--database-only']);
  assert.is(d.exitCode, 0, d.stderr);
  assert.equal(await tableChecksums(e!), saved.db);
  assert.equal(fileHashes(e!.media), mediaBefore);
  await assertNoLeftovers();
});

test('a backup made before the level change (zstd -T0 -3) restores the same database', async () => {
  await diverge();
  const older = join(e!.snapd.root, 'older-level');
  mkdirSync(older, { mode: 0o700 });
  cpSync(join(backupDir, 'manifest.json'), join(older, 'manifest.json'));
  const dump = join(older, 'database.pgdump.zst');
  execFileSync('sh', ['-c', `zstd -dc -q '${join(backupDir, 'database.pgdump.zst')}' | zstd -T0 -3 -q -c > '${dump}'`]);
  const bytes = readFileSync(dump);
  const m = parseManifest(readFileSync(join(older, 'manifest.json'), 'utf8'));
  assert.is.not(createHash('sha256').update(bytes).digest('hex'), m.database.sha256, 'a different encoding of the same archive');
  m.database.bytes = bytes.length;
  m.database.sha256 = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(older, 'manifest.json'), renderManifest(m));
  const r = await restore([older, '--yes', '--database-only']);
  assert.is(r.exitCode, 0, r.stderr);
  assert.equal(await tableChecksums(e!), saved.db);
  await assertNoLeftovers();
});

test.run();
