import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type ClusterFact, type Facts, type Shipped, liveCluster, migrationId, plan, planBootstrap } from '../../../hooks-src/migrations/plan.js';
import { compareVersions, majorMinor } from '../../../hooks-src/migrations/versions.js';
import type { State } from '../../../hooks-src/state/state.js';

const state = (p: Partial<State> = {}): State => ({
  stateVersion: 1,
  postgresMajor: 15,
  vectorExtension: { name: 'vector', version: '0.8.0' },
  immichVersion: '3.1.0',
  ...p,
});
const shipped = (p: Partial<Shipped> = {}): Shipped => ({
  stateVersion: 1,
  immichVersion: '3.1.0',
  pgMajors: [15],
  vector: { name: 'vector', defaultVersion: '0.8.0' },
  ...p,
});
const c = (major: number, controlTime: number): ClusterFact => ({ major, controlTime, state: 'shut down' });
const facts = (p: Partial<Facts> = {}): Facts => ({ state: state(), clusters: [c(15, 1000)], ...p });
const ids = (f: Facts, s: Shipped = shipped(), steps?: Set<number>) => {
  const p = plan(f, s, steps);
  if (!p.ok) throw new Error(p.refusal);
  return p.migrations.map(migrationId);
};
const refusal = (f: Facts, s: Shipped = shipped()) => {
  const p = plan(f, s);
  if (p.ok) throw new Error(`planned ${p.migrations.map(migrationId).join(', ')}`);
  return p.refusal;
};

const P = suite('migrations: planner');

P('same versions: nothing to do', () => {
  assert.equal(ids(facts()), []);
});

P('an Immich patch release records the version without a safety dump', () => {
  assert.equal(ids(facts({ state: state({ immichVersion: '3.1.0' }) }), shipped({ immichVersion: '3.1.4' })), ['record-state']);
});

P('a new Immich minor or major gets a safety dump first', () => {
  assert.equal(ids(facts({ state: state({ immichVersion: '3.0.9' }) })), ['safety-dump-immich-3.0.9-to-3.1.0', 'record-state']);
  assert.equal(ids(facts({ state: state({ immichVersion: '2.7.5' }) })), ['safety-dump-immich-2.7.5-to-3.1.0', 'record-state']);
});

P('an older vector extension is updated', () => {
  assert.equal(ids(facts({ state: state({ vectorExtension: { name: 'vector', version: '0.7.0' } }) })), ['update-extensions', 'record-state']);
});

P('a newer shipped Postgres major: upgrade, finish, then the dump on the new cluster', () => {
  const f = facts({ state: state({ immichVersion: '3.0.0' }) });
  assert.equal(ids(f, shipped({ pgMajors: [16, 15] })), ['upgrade-postgres-15-to-16', 'finish-upgrade-postgres-16', 'safety-dump-immich-3.0.0-to-3.1.0', 'record-state']);
  const p = plan(f, shipped({ pgMajors: [16, 15] }));
  assert.ok(p.ok && p.migrations.find((m) => m.kind === 'safety-dump' && m.major === 16));
});

P('the old major must be shipped for pg_upgrade to read it', () => {
  assert.match(refusal(facts({ clusters: [c(14, 5)], state: state({ postgresMajor: 14 }) }), shipped({ pgMajors: [16, 15] })), /PostgreSQL 14 but this revision ships only PostgreSQL 16, 15, so pg_upgrade cannot read it/);
});

P('killed after pg_upgrade put the new cluster in place: finish it, do not upgrade again', () => {
  const f = facts({ state: state({ postgresMajor: 15 }), clusters: [c(15, 100), c(16, 200)], marker: { from: 15, to: 16, mode: 'copy', upgradedAt: 'x' } });
  assert.equal(ids(f, shipped({ pgMajors: [16, 15] })), ['finish-upgrade-postgres-16', 'record-state']);
});

P('the old cluster is removed only after the new one has run (pg_control written after the hook)', () => {
  const marker = { from: 15, to: 16, mode: 'copy' as const, upgradedAt: 'x', controlTimeAfterHook: 200 };
  const s16 = shipped({ pgMajors: [16, 15] });
  // Right after the upgrade refresh (hook finished, service not yet run): keep it.
  assert.equal(ids(facts({ state: state({ postgresMajor: 16 }), clusters: [c(15, 100), c(16, 200)], marker }), s16), []);
  // The service ran 16: the next refresh removes 15.
  assert.equal(ids(facts({ state: state({ postgresMajor: 16 }), clusters: [c(15, 100), c(16, 300)], marker }), s16), ['remove-old-postgres-15', 'record-state']);
  // Even when the new revision no longer ships 15.
  assert.equal(ids(facts({ state: state({ postgresMajor: 16 }), clusters: [c(15, 100), c(16, 300)], marker }), shipped({ pgMajors: [16] })), ['remove-old-postgres-15', 'record-state']);
});

P('after a revert to the old major, the newer cluster is stale: set aside (served) or dropped (never served), then upgrade again', () => {
  const s16 = shipped({ pgMajors: [16, 15] });
  const served = facts({ state: state({ postgresMajor: 16 }), clusters: [c(15, 500), c(16, 300)], marker: { from: 15, to: 16, mode: 'copy', upgradedAt: 'x', controlTimeAfterHook: 200 } });
  const p = plan(served, s16);
  assert.ok(p.ok);
  assert.equal(p.ok && p.migrations[0], { kind: 'set-aside-cluster', major: 16, reason: 'stale-served' });
  assert.equal(ids(served, s16), ['set-aside-postgres-16', 'upgrade-postgres-15-to-16', 'finish-upgrade-postgres-16', 'record-state']);
  const unserved = facts({ clusters: [c(15, 500), c(16, 200)], marker: { from: 15, to: 16, mode: 'copy', upgradedAt: 'x', controlTimeAfterHook: 200 } });
  const q = plan(unserved, s16);
  assert.equal(q.ok && q.migrations[0], { kind: 'set-aside-cluster', major: 16, reason: 'stale-unserved' });
  // An upgrade whose hook never finished (no controlTimeAfterHook) was never served either.
  const unfinished = facts({ clusters: [c(15, 500), c(16, 400)], marker: { from: 15, to: 16, mode: 'copy', upgradedAt: 'x' } });
  const u = plan(unfinished, s16);
  assert.equal(u.ok && u.migrations[0], { kind: 'set-aside-cluster', major: 16, reason: 'stale-unserved' });
  // A newer cluster nobody recorded is kept aside.
  const unknown = plan(facts({ clusters: [c(15, 500), c(16, 400)] }), s16);
  assert.equal(unknown.ok && unknown.migrations[0], { kind: 'set-aside-cluster', major: 16, reason: 'stale-served' });
});

P('downgrades are refused with a message that says what to do', () => {
  assert.match(refusal(facts({ state: state({ immichVersion: '3.2.0' }) })), /^downgrade refused: the database belongs to Immich 3\.2\.0 and this revision ships Immich 3\.1\.0 .*snap refresh immich-distribution.*snap revert immich-distribution/);
  assert.match(refusal(facts({ state: state({ stateVersion: 2 }) })), /^downgrade refused: the data was written by a newer immich-distribution \(state version 2, this revision knows 1\)/);
  assert.match(refusal(facts({ clusters: [c(16, 5)], state: state({ postgresMajor: 16 }) })), /^downgrade refused: the database is PostgreSQL 16 and this revision ships only PostgreSQL 15/);
  assert.match(refusal(facts({ state: state({ vectorExtension: { name: 'vector', version: '0.9.0' } }) })), /^downgrade refused: the database has vector 0\.9\.0 and this revision ships 0\.8\.0/);
  for (const r of [refusal(facts({ state: state({ immichVersion: '9.0.0' }) }))]) assert.not.match(r, /\n/);
});

P('state-version migrations run in order and a gap is refused', () => {
  assert.equal(ids(facts({ state: state({ stateVersion: 1 }) }), shipped({ stateVersion: 3 }), new Set([1, 2])), ['state-version-1-to-2', 'state-version-2-to-3', 'record-state']);
  const p = plan(facts(), shipped({ stateVersion: 3 }), new Set([1]));
  assert.ok(!p.ok && /no migration from state version 2 to 3/.test(p.refusal));
});

P('no state record: rebuild it from the live cluster, or adopt the previous layout, or refuse', () => {
  assert.equal(planBootstrap(facts(), shipped()), undefined);
  assert.equal(planBootstrap({ clusters: [c(15, 1)], stateProblem: 'bad' }, shipped()), { ok: true, migrations: [{ kind: 'rebuild-state', major: 15 }] });
  assert.equal(planBootstrap({ clusters: [], anchor: c(15, 1) }, shipped()), { ok: true, migrations: [{ kind: 'adopt-anchor', major: 15 }] });
  // A take-over killed after its copy: it continues as a take-over, not as a bare state rebuild.
  assert.equal(planBootstrap({ clusters: [c(15, 2)], anchor: c(15, 1), adopting: true }, shipped()), { ok: true, migrations: [{ kind: 'adopt-anchor', major: 15 }] });
  // Our own cluster beside an old anchor cluster, no take-over under way: rebuild from ours.
  assert.equal(planBootstrap({ clusters: [c(15, 2)], anchor: c(15, 1) }, shipped()), { ok: true, migrations: [{ kind: 'rebuild-state', major: 15 }] });
  const r = planBootstrap({ clusters: [], anchor: c(14, 1) }, shipped());
  assert.ok(r && !r.ok && /PostgreSQL 14 \(previous immich-distribution layout\)/.test(r.refusal));
  const none = planBootstrap({ clusters: [] }, shipped());
  assert.ok(none && !none.ok && /no database cluster and no state record/.test(none.refusal));
});

P('the live cluster is the one whose pg_control was written last; ties go to the recorded major', () => {
  assert.is(liveCluster([c(15, 10), c(16, 20)])!.major, 16);
  assert.is(liveCluster([c(15, 30), c(16, 20)])!.major, 15);
  assert.is(liveCluster([c(15, 20), c(16, 20)], 15)!.major, 15);
  assert.is(liveCluster([c(15, 20), c(16, 20)], 16)!.major, 16);
});

P('revision numbers play no part: x1-style and numeric revisions plan the same', () => {
  // Nothing in Facts or Shipped carries a revision: the type system enforces it; this documents it.
  assert.equal(ids(facts({ state: state({ immichVersion: '3.0.0' }) })), ['safety-dump-immich-3.0.0-to-3.1.0', 'record-state']);
});

P.run();

const V = suite('migrations: versions');
V('compares dotted versions numerically', () => {
  assert.is(compareVersions('0.10.0', '0.9.9'), 1);
  assert.is(compareVersions('3.1', '3.1.0'), 0);
  assert.is(compareVersions('1.107.2', '1.133.0'), -1);
  assert.is(majorMinor('3.1.4'), '3.1');
  assert.throws(() => compareVersions('abc', '1'));
});
V.run();
