// Refresh hooks (pre-refresh, post-refresh) and the remove hook, run by the fake snapd exactly in
// snapd's order (pre-refresh on the old revision, stop, copy $SNAP_DATA, post-refresh on the new,
// start, configure), against real PostgreSQL 15 + pgvector. The major upgrade is in pg-upgrade.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SnapdChangeError } from '../harness/fake-snapd.js';
import { type Env, controlState, destroy, exists, installed, populateSql, query, readJson, tableChecksums, waitForPostgres } from './refresh-fixtures.js';
import { IMMICH_VERSION } from '../../hooks-src/state/state.js';
import { waitFor as waitForShared } from '../harness/wait.js';

const STATE = (e: Env) => e.paths.stateFile;

function state(e: Env): Record<string, unknown> & { immichVersion: string; postgresMajor: number; vectorExtension: { name: string; version: string } } {
  return readJson(STATE(e));
}

function setState(e: Env, patch: Record<string, unknown>): void {
  writeFileSync(STATE(e), `${JSON.stringify({ ...state(e), ...patch }, null, 2)}\n`);
}

function ledgerIds(e: Env): string[] {
  return exists(e.paths.migrationLedger) ? readJson<{ entries: Array<{ id: string }> }>(e.paths.migrationLedger).entries.map((x) => x.id) : [];
}

function safetyDumps(e: Env): string[] {
  const dir = join(e.paths.defaultBackups, 'pre-upgrade');
  return exists(dir) ? readdirSync(dir).filter((n) => !n.startsWith('.')).sort() : [];
}

async function refresh(e: Env): Promise<void> {
  resetStartLimits(e);
  await e.snapd.refresh();
}

async function refreshError(e: Env): Promise<SnapdChangeError> {
  resetStartLimits(e);
  try {
    await e.snapd.refresh();
  } catch (err) {
    if (err instanceof SnapdChangeError) return err;
    throw err;
  }
  throw new Error('refresh unexpectedly succeeded');
}

/** The live data the previous revision must still serve after a failed refresh. */
async function assertServing(e: Env, expected: Record<string, string>): Promise<void> {
  await waitForPostgres(e);
  assert.equal(await tableChecksums(e), expected);
}

/**
 * Makes the installed vector extension exactly pgvector 0.7.4 as far as the catalog goes: pgvector
 * ships only the newest base script, so an old version cannot be CREATEd; instead the objects that
 * vector--0.7.4--0.8.0.sql adds are removed and the recorded version set back. ALTER EXTENSION
 * UPDATE then runs that real upgrade script.
 */
async function makeVectorOld(e: Env): Promise<void> {
  const types = ['integer[]', 'real[]', 'double precision[]', 'numeric[]'];
  const sql = [
    ...types.flatMap((t) => [`ALTER EXTENSION vector DROP CAST (${t} AS sparsevec)`, `DROP CAST (${t} AS sparsevec)`]),
    ...types.flatMap((t) => [`ALTER EXTENSION vector DROP FUNCTION array_to_sparsevec(${t}, integer, boolean)`, `DROP FUNCTION array_to_sparsevec(${t}, integer, boolean)`]),
    `UPDATE pg_extension SET extversion = '0.7.4' WHERE extname = 'vector'`,
  ];
  await query(e, sql.join(';\n'));
  setState(e, { vectorExtension: { name: 'vector', version: '0.7.4' } });
}

/** Several refreshes in a row would trip systemd's start limit (5 starts in 10 s) on the harness; real refreshes are far apart. */
function resetStartLimits(e: Env): void {
  for (const a of e.snapd.apps) if (a.daemon) e.snapd.services.resetFailed(a.name);
}

// ------------------------------------------------------------------------------------------------
const Same = suite('refresh: same version');
let same: Env | undefined;
Same.before(async () => {
  same = await installed('refresh-same-');
  await query(same, populateSql(500));
});
Same.after(() => destroy(same));

Same('a refresh to a revision with the same versions is a no-op', async () => {
  const e = same!;
  const before = statSync(STATE(e));
  const sums = await tableChecksums(e);
  await refresh(e);
  await waitForPostgres(e);
  assert.is(statSync(STATE(e)).mtimeMs, before.mtimeMs, 'state.json untouched');
  assert.is(statSync(STATE(e)).ino, before.ino);
  assert.equal(ledgerIds(e), [], 'no migration ran');
  assert.equal(safetyDumps(e), []);
  assert.equal(await tableChecksums(e), sums);
  // pre-refresh recorded what was running
  const pre = readJson<{ revision: string; runningPostgresMajor: number | null; state: unknown }>(e.paths.preRefreshRecord);
  assert.is(pre.revision, 'x1');
  assert.is(pre.runningPostgresMajor, 15);
  assert.ok(pre.state);
});

Same('post-refresh says why it did nothing, in one line', async () => {
  const e = same!;
  const r = await e.snapd.runHook('post-refresh');
  assert.is(r.exitCode, 0, r.output);
  assert.match(r.output, /post-refresh: nothing to migrate \(Immich \d+\.\d+\.\d+, PostgreSQL 15\)/);
});

Same.run();

// ------------------------------------------------------------------------------------------------
const Pending = suite('refresh: pending migrations');
let pend: Env | undefined;
Pending.before(async () => {
  pend = await installed('refresh-pending-');
  await makeVectorOld(pend);
  await query(pend, populateSql(1000));
  setState(pend, { immichVersion: '3.0.2' });
});
Pending.after(() => destroy(pend));

Pending('runs the pending migrations in order, logs and records each', async () => {
  const e = pend!;
  const sums = await tableChecksums(e);
  const [idx] = await query<{ f: string }>(e, `SELECT pg_relation_filenode('embeddings_hnsw')::text AS f`);
  await refresh(e);
  await waitForPostgres(e);
  assert.equal(ledgerIds(e), ['update-extensions', `safety-dump-immich-3.0.2-to-${IMMICH_VERSION}`, 'record-state']);
  const [v] = await query<{ v: string }>(e, `SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'`);
  assert.is(v!.v, '0.8.0');
  const [idx2] = await query<{ f: string }>(e, `SELECT pg_relation_filenode('embeddings_hnsw')::text AS f`);
  assert.is.not(idx2!.f, idx!.f, 'the HNSW index was rebuilt after the vector minor changed');
  assert.equal(state(e).vectorExtension, { name: 'vector', version: v!.v });
  assert.is(state(e).immichVersion, IMMICH_VERSION);
  assert.equal(await tableChecksums(e), sums);
  // The safety dump: the backup command's format, verified, readable by pg_restore.
  const dumps = safetyDumps(e);
  assert.is(dumps.length, 1);
  const dir = join(e.paths.defaultBackups, 'pre-upgrade', dumps[0]!);
  const manifest = readJson<{ trigger: string; state: { immichVersion: string }; database: { file: string; tables: number } }>(join(dir, 'manifest.json'));
  assert.is(manifest.trigger, 'pre-upgrade');
  assert.is(manifest.state.immichVersion, '3.0.2');
  assert.ok(manifest.database.tables >= 4);
  const list = spawnSync('sh', ['-c', `zstd -dc '${join(dir, manifest.database.file)}' | /usr/lib/postgresql/15/bin/pg_restore --list`], { encoding: 'utf8' });
  assert.is(list.status, 0, list.stderr);
  assert.match(list.stdout, /TABLE DATA public assets/);
});

Pending('the next refresh finds nothing to do', async () => {
  const e = pend!;
  const before = ledgerIds(e).length;
  await refresh(e);
  assert.is(ledgerIds(e).length, before);
});

Pending('the last two safety dumps are kept', async () => {
  const e = pend!;
  for (const v of ['3.0.0', '2.7.5']) {
    setState(e, { immichVersion: v });
    await refresh(e);
  }
  const dumps = safetyDumps(e);
  assert.is(dumps.length, 2);
  const kept = dumps.map((d) => readJson<{ state: { immichVersion: string } }>(join(e.paths.defaultBackups, 'pre-upgrade', d, 'manifest.json')).state.immichVersion);
  assert.equal(kept, ['3.0.0', '2.7.5']);
});

Pending.run();

// ------------------------------------------------------------------------------------------------
const Refused = suite('refresh: refusals and failures');
let ref: Env | undefined;
let refSums: Record<string, string> = {};
Refused.before(async () => {
  ref = await installed('refresh-refused-');
  await query(ref, populateSql(500));
  refSums = await tableChecksums(ref);
});
Refused.after(() => destroy(ref));

for (const [what, patch, pattern] of [
  ['a newer Immich', { immichVersion: '9.0.0' }, new RegExp(`downgrade refused: the database belongs to Immich 9\\.0\\.0 and this revision ships Immich ${IMMICH_VERSION.replaceAll('.', '\\.')}`)],
  ['a newer state version', { stateVersion: 7 }, /downgrade refused: the data was written by a newer immich-distribution \(state version 7, this revision knows 1\)/],
  ['a newer vector extension', { vectorExtension: { name: 'vector', version: '9.9.9' } }, /downgrade refused: the database has vector 9\.9\.9/],
] as const) {
  Refused(`a downgrade is refused (${what}), clearly, and the previous revision keeps serving`, async () => {
    const e = ref!;
    const original = readFileSync(STATE(e), 'utf8');
    setState(e, patch);
    const revBefore = e.snapd.layout.revision;
    const err = await refreshError(e);
    assert.match(err.message, pattern);
    const line = err.message.split('\n').filter((l) => l.includes('downgrade refused'));
    assert.is(line.length, 1, 'one line');
    assert.is(e.snapd.layout.revision, revBefore, 'snapd undid the refresh');
    assert.ok(e.snapd.services.isActive('postgres'));
    await assertServing(e, refSums);
    writeFileSync(STATE(e), original);
  });
}

Refused('pre-refresh exits 0 with a missing or corrupt state file, and post-refresh rebuilds the record', async () => {
  const e = ref!;
  const good = state(e);
  writeFileSync(STATE(e), '{ not json');
  const pre = await e.snapd.runHook('pre-refresh');
  assert.is(pre.exitCode, 0, pre.output);
  assert.match(pre.output, /state file .* is not valid JSON/);
  assert.ok(readJson<{ stateProblem: string }>(e.paths.preRefreshRecord).stateProblem);
  await refresh(e);
  await waitForPostgres(e);
  assert.equal(state(e), { ...good, immichVersion: IMMICH_VERSION });
  assert.ok(readdirSync(e.paths.common).some((n) => n.startsWith('state.json.corrupt-')), 'the bad file is kept aside');
  assert.ok(ledgerIds(e).some((id) => id.startsWith('rebuild-state-postgres-15')));
  await assertServing(e, refSums);
  // missing entirely
  const { rmSync } = await import('node:fs');
  rmSync(STATE(e));
  const pre2 = await e.snapd.runHook('pre-refresh');
  assert.is(pre2.exitCode, 0, pre2.output);
  await refresh(e);
  assert.equal(state(e), { ...good, immichVersion: IMMICH_VERSION });
});

Refused('pre-refresh is fast (< 2 s) and cannot fail even when $SNAP_COMMON is unwritable', async () => {
  const e = ref!;
  const t0 = Date.now();
  const r = await e.snapd.runHook('pre-refresh');
  assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
  assert.is(r.exitCode, 0);
  const r2 = await e.snapd.runHook('pre-refresh', { extraEnv: { SNAP_COMMON: '/proc/nonexistent' } });
  assert.is(r2.exitCode, 0, r2.output);
  assert.match(r2.output, /could not record the running revision/);
});

Refused.run();

// ------------------------------------------------------------------------------------------------
const Killed = suite('refresh: SIGKILL at any step converges');
let kil: Env | undefined;
let killSums: Record<string, string> = {};
Killed.before(async () => {
  kil = await installed('refresh-killed-');
  await query(kil, populateSql(800));
  await makeVectorOld(kil);
  killSums = await tableChecksums(kil);
});
Killed.after(() => destroy(kil));

for (const point of ['update-extensions', `safety-dump-immich-3.0.2-to-${IMMICH_VERSION}`, 'record-state']) {
  Killed(`killed at ${point}: snapd reverts, the old revision serves, a rerun converges`, async () => {
    const e = kil!;
    setState(e, { immichVersion: '3.0.2' });
    e.snapd.extraEnv = { IMMICH_DISTRIBUTION_FAILPOINT: `post-refresh:${point}` };
    const err = await refreshError(e);
    assert.match(err.message, /post-refresh/);
    e.snapd.extraEnv = {};
    await assertServing(e, killSums);
    await refresh(e);
    await waitForPostgres(e);
    assert.is(state(e).immichVersion, IMMICH_VERSION);
    const [v] = await query<{ v: string }>(e, `SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'`);
    assert.equal(state(e).vectorExtension.version, v!.v);
    assert.equal(await tableChecksums(e), killSums);
    assert.ok(safetyDumps(e).length <= 2);
    assert.ok(!readdirSync(join(e.paths.defaultBackups, 'pre-upgrade')).some((n) => n.startsWith('.partial-')), 'no partial dump left');
  });
}

Killed.run();

// ------------------------------------------------------------------------------------------------
const Remove = suite('remove: consistent data for the snapshot');

Remove('a cleanly stopped cluster is reported consistent and is in the snapshot', async () => {
  const e = await installed('remove-clean-');
  try {
    await query(e, populateSql(300));
    // A user's thumbnails (regenerable, left out) beside Immich's folder marker (kept: without it
    // Immich refuses to start after `snap restore`).
    const thumbs = join(e.paths.defaultMedia, 'thumbs');
    await waitForShared('the Immich double wrote its markers', () => exists(join(thumbs, '.immich')));
    mkdirSync(join(thumbs, '0f8fad5b-d9cb-469f-a165-70867728950e/0f'), { recursive: true });
    writeFileSync(join(thumbs, '0f8fad5b-d9cb-469f-a165-70867728950e/0f/a.webp'), 'thumbnail');
    const { removeHook, snapshot } = await e.snapd.remove();
    assert.is(removeHook.exitCode, 0, removeHook.output);
    assert.match(removeHook.output, /remove: PostgreSQL 15 was shut down cleanly/);
    assert.ok(exists(join(snapshot!.path, 'common/media/thumbs/.immich')), "Immich's thumbs marker is in the snapshot");
    assert.ok(!exists(join(snapshot!.path, 'common/media/thumbs/0f8fad5b-d9cb-469f-a165-70867728950e')), "a user's thumbnails are left out");
    const snapCluster = join(snapshot!.path, 'common/postgres/15');
    assert.ok(exists(join(snapCluster, 'PG_VERSION')));
    assert.is(controlState(snapCluster), 'shut down');
    assert.ok(!exists(join(snapshot!.path, 'common/run')), 'runtime files are excluded');
  } finally {
    await destroy(e);
  }
});

Remove('a cluster that was killed is recovered and stopped cleanly before the snapshot', async () => {
  const e = await installed('remove-killed-');
  try {
    await query(e, populateSql(300));
    await query(e, `CREATE TABLE after_kill AS SELECT 42 AS answer`);
    const pid = Number(readFileSync(join(e.paths.pgCluster(15), 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    assert.is(controlState(e.paths.pgCluster(15)), 'in production');
    const { removeHook, snapshot } = await e.snapd.remove();
    assert.is(removeHook.exitCode, 0, removeHook.output);
    assert.match(removeHook.output, /remove: PostgreSQL 15 is "in production" \(not shut down cleanly\)/);
    assert.match(removeHook.output, /remove: PostgreSQL 15 recovered and stopped: shut down/);
    assert.is(controlState(join(snapshot!.path, 'common/postgres/15')), 'shut down');
  } finally {
    await destroy(e);
  }
});

Remove.run();
