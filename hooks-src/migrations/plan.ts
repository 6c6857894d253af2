import type { State } from '../state/state.js';
import { compareVersions, majorMinor } from './versions.js';

/**
 * The migration planner (pure): from what the data on disk IS (the state record and a few facts
 * read from the clusters) and what this revision ships, the ordered list of migrations that
 * post-refresh must run, or a refusal. Never keyed by revision numbers: local installs have
 * `x1`-style revisions, and a revert can put any revision in front of any data.
 *
 * Disk is the truth for which cluster holds the live data: the complete cluster whose pg_control
 * was written last (every start and every clean stop rewrites it). That catches the one case the
 * state record cannot: an upgrade to major N, then `snap revert` to a revision that runs major M
 * (snapd does not restore $SNAP_COMMON, so the record still says N while M has the newer writes).
 */

/** pg_control's DBState (src/include/catalog/pg_control.h, unchanged since 9.x). */
export type DbState =
  | 'starting up'
  | 'shut down'
  | 'shut down in recovery'
  | 'shutting down'
  | 'in crash recovery'
  | 'in archive recovery'
  | 'in production'
  | 'unknown';

export interface ClusterFact {
  major: number;
  /** When global/pg_control was last written (its mtime, ms since the epoch, sub-ms precision). */
  controlTime: number;
  state: DbState;
}

/** postgres/upgrade.json, written when pg_upgrade's result was put in place. */
export interface UpgradeMarker {
  from: number;
  to: number;
  mode: 'clone' | 'copy';
  /** When the new cluster was put in place (ISO). */
  upgradedAt: string;
  /** When the new cluster's pg_control was last written as post-refresh finished with it (readControl, ms); a later one means the service ran it. */
  controlTimeAfterHook?: number;
}

export interface Facts {
  state?: State;
  /** Why the state record is unusable (missing is not a problem: `state` is just undefined). */
  stateProblem?: string;
  /** Complete clusters under $SNAP_COMMON/postgres/<major>. */
  clusters: ClusterFact[];
  /** The anchor snap's cluster ($SNAP_COMMON/pgsql/data), when complete. */
  anchor?: ClusterFact;
  /** A take-over of the anchor's layout was started and has not finished (killed, then reverted). */
  adopting?: boolean;
  marker?: UpgradeMarker;
}

export interface Shipped {
  stateVersion: number;
  immichVersion: string;
  /** Postgres majors shipped by this revision, any order. */
  pgMajors: number[];
  /** The vector extension this revision would use, and the version its control file installs. */
  vector: { name: 'vchord' | 'vector'; defaultVersion: string | undefined };
}

export type Migration =
  | { kind: 'adopt-anchor'; major: number }
  | { kind: 'rebuild-state'; major: number }
  | { kind: 'set-aside-cluster'; major: number; reason: 'stale-unserved' | 'stale-served' }
  | { kind: 'state-version'; from: number; to: number }
  | { kind: 'upgrade-postgres'; from: number; to: number }
  | { kind: 'finish-upgrade'; major: number }
  | { kind: 'update-extensions'; major: number }
  | { kind: 'safety-dump'; fromImmich: string | 'unknown'; toImmich: string; major: number }
  | { kind: 'remove-old-cluster'; major: number; newMajor: number }
  | { kind: 'record-state'; major: number };

export type Plan = { ok: true; migrations: Migration[] } | { ok: false; refusal: string };

/** A stable name per migration: what is logged, recorded in the ledger and matched by the failpoint. */
export function migrationId(m: Migration): string {
  switch (m.kind) {
    case 'adopt-anchor':
      return `adopt-anchor-postgres-${m.major}`;
    case 'rebuild-state':
      return `rebuild-state-postgres-${m.major}`;
    case 'set-aside-cluster':
      return `set-aside-postgres-${m.major}`;
    case 'state-version':
      return `state-version-${m.from}-to-${m.to}`;
    case 'upgrade-postgres':
      return `upgrade-postgres-${m.from}-to-${m.to}`;
    case 'finish-upgrade':
      return `finish-upgrade-postgres-${m.major}`;
    case 'update-extensions':
      return `update-extensions`;
    case 'safety-dump':
      return `safety-dump-immich-${m.fromImmich}-to-${m.toImmich}`;
    case 'remove-old-cluster':
      return `remove-old-postgres-${m.major}`;
    case 'record-state':
      return 'record-state';
  }
}

const REFRESH_BACK = 'refresh to the newer revision again (snap refresh immich-distribution) or revert (snap revert immich-distribution)';

/** The cluster holding the live data: the one whose pg_control was written last (ties: the recorded major). */
export function liveCluster(clusters: readonly ClusterFact[], recordedMajor?: number): ClusterFact | undefined {
  return [...clusters].sort((a, b) => b.controlTime - a.controlTime || (b.major === recordedMajor ? 1 : 0) - (a.major === recordedMajor ? 1 : 0))[0];
}

/**
 * Before anything else: a state record must exist. Adopting the anchor snap's layout or rebuilding
 * a missing/corrupt record both end in a state record; then `plan` is asked again.
 */
export function planBootstrap(f: Facts, s: Shipped): Plan | undefined {
  if (f.state) return undefined;
  // An unfinished take-over continues as one (its copy is reused): rebuilding the state alone would
  // leave the anchor's settings for configure to refuse.
  if (f.anchor && f.adopting) return { ok: true, migrations: [{ kind: 'adopt-anchor', major: f.anchor.major }] };
  const live = liveCluster(f.clusters);
  if (live) return { ok: true, migrations: [{ kind: 'rebuild-state', major: live.major }] };
  if (f.anchor) {
    if (!s.pgMajors.includes(f.anchor.major)) {
      return {
        ok: false,
        refusal: `the database is PostgreSQL ${f.anchor.major} (previous immich-distribution layout) and this revision ships PostgreSQL ${s.pgMajors.join(', ')}; it cannot take it over: revert (snap revert immich-distribution)`,
      };
    }
    return { ok: true, migrations: [{ kind: 'adopt-anchor', major: f.anchor.major }] };
  }
  return {
    ok: false,
    refusal: `no database cluster and no state record in $SNAP_COMMON: nothing to migrate (${f.stateProblem ?? 'state.json is missing'}); restore a backup or reinstall the snap`,
  };
}

/**
 * Every migration from the recorded state to what this revision ships, in order. Registered
 * state-version migrations come from `stateSteps` (from → from+1), so tests can plan with their own.
 */
export function plan(f: Facts, s: Shipped, stateSteps: ReadonlySet<number> = STATE_STEPS): Plan {
  const state = f.state;
  if (!state) return planBootstrap(f, s) ?? { ok: false, refusal: 'no state record' };
  const newest = Math.max(...s.pgMajors);
  const live = liveCluster(f.clusters, state.postgresMajor);
  if (!live) {
    return { ok: false, refusal: `no complete database cluster in $SNAP_COMMON/postgres although the state record names PostgreSQL ${state.postgresMajor}; restore a backup` };
  }

  // Downgrades: recorded (or live) state newer than this code.
  if (state.stateVersion > s.stateVersion) {
    return { ok: false, refusal: `downgrade refused: the data was written by a newer immich-distribution (state version ${state.stateVersion}, this revision knows ${s.stateVersion}); ${REFRESH_BACK}` };
  }
  if (compareVersions(state.immichVersion, s.immichVersion) > 0) {
    return { ok: false, refusal: `downgrade refused: the database belongs to Immich ${state.immichVersion} and this revision ships Immich ${s.immichVersion} (Immich cannot run on a newer schema); ${REFRESH_BACK}` };
  }
  if (live.major > newest) {
    return { ok: false, refusal: `downgrade refused: the database is PostgreSQL ${live.major} and this revision ships only PostgreSQL ${s.pgMajors.join(', ')}; ${REFRESH_BACK}` };
  }
  if (s.vector.name === state.vectorExtension.name && s.vector.defaultVersion && compareVersions(state.vectorExtension.version, s.vector.defaultVersion) > 0) {
    return { ok: false, refusal: `downgrade refused: the database has ${state.vectorExtension.name} ${state.vectorExtension.version} and this revision ships ${s.vector.defaultVersion}; ${REFRESH_BACK}` };
  }

  const out: Migration[] = [];
  let major = live.major;

  // A newer cluster than the live one is stale (the upgrade ran, then a revert went back to the
  // old major). Unserved (only this hook ever ran it): nothing unique in it. Served: keep it aside.
  for (const c of f.clusters) {
    if (c.major <= live.major) continue;
    // Services start only after post-refresh succeeded, which set controlTimeAfterHook: without it
    // the cluster was never served. A newer cluster of unknown origin counts as served (kept).
    const m = f.marker && f.marker.to === c.major ? f.marker : undefined;
    const served = !m || (m.controlTimeAfterHook !== undefined && c.controlTime > m.controlTimeAfterHook);
    out.push({ kind: 'set-aside-cluster', major: c.major, reason: served ? 'stale-served' : 'stale-unserved' });
  }

  for (let v = state.stateVersion; v < s.stateVersion; v++) {
    if (!stateSteps.has(v)) return { ok: false, refusal: `internal error: no migration from state version ${v} to ${v + 1}` };
    out.push({ kind: 'state-version', from: v, to: v + 1 });
  }

  let upgraded = false;
  if (major < newest) {
    if (!s.pgMajors.includes(major)) {
      return {
        ok: false,
        refusal: `the database is PostgreSQL ${major} but this revision ships only PostgreSQL ${s.pgMajors.join(', ')}, so pg_upgrade cannot read it; refresh to a revision that ships both first, or revert (snap revert immich-distribution)`,
      };
    }
    out.push({ kind: 'upgrade-postgres', from: major, to: newest }, { kind: 'finish-upgrade', major: newest });
    major = newest;
    upgraded = true;
  } else if (f.marker && f.marker.to === major && f.marker.controlTimeAfterHook === undefined) {
    // pg_upgrade's result is in place but the hook was stopped before finishing with it.
    out.push({ kind: 'finish-upgrade', major });
    upgraded = true;
  }

  const vectorOutdated =
    s.vector.defaultVersion !== undefined &&
    s.vector.name === state.vectorExtension.name &&
    compareVersions(state.vectorExtension.version, s.vector.defaultVersion) < 0;
  if (!upgraded && vectorOutdated) out.push({ kind: 'update-extensions', major });

  const immichChanged = majorMinor(state.immichVersion) !== majorMinor(s.immichVersion);
  if (immichChanged) out.push({ kind: 'safety-dump', fromImmich: state.immichVersion, toImmich: s.immichVersion, major });

  // The old cluster goes only once the new one has been run by the service (pg_control written
  // after this hook finished with it), i.e. on a later refresh; until then a revert can use it.
  if (!upgraded && f.marker && f.marker.to === major && f.marker.controlTimeAfterHook !== undefined && live.controlTime > f.marker.controlTimeAfterHook) {
    out.push({ kind: 'remove-old-cluster', major: f.marker.from, newMajor: major });
  }

  const recordDiffers =
    state.postgresMajor !== major ||
    state.stateVersion !== s.stateVersion ||
    state.immichVersion !== s.immichVersion ||
    (s.vector.name === state.vectorExtension.name && s.vector.defaultVersion !== undefined && state.vectorExtension.version !== s.vector.defaultVersion);
  if (out.length > 0 || recordDiffers) out.push({ kind: 'record-state', major });
  return { ok: true, migrations: out };
}

/**
 * Registered state-version migrations: a member `v` means "a migration from state version v to
 * v+1 exists" (hooks/post-refresh.ts runs it). STATE_VERSION is 1 and no layout change has been
 * released yet, so the set is empty; the planner refuses a gap rather than skipping one.
 */
export const STATE_STEPS: ReadonlySet<number> = new Set<number>();
