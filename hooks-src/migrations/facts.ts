import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { anchorOwner, asAnchorOwner } from '../postgres/adopt.js';
import { clusterFact, listClusters, readMarker } from '../postgres/upgrade.js';
import { writeFileIfChanged } from '../snap/files.js';
import { type SnapPaths, shippedPgMajors } from '../snap/paths.js';
import { IMMICH_VERSION, STATE_VERSION, readState } from '../state/state.js';
import { type Ledger, type LedgerEntry, appendEntry, emptyLedger, parseLedger, renderLedger } from './ledger.js';
import type { Facts, Shipped } from './plan.js';

/** What the data on disk is: the state record, the complete clusters, the anchor's cluster, the upgrade marker. */
export function gatherFacts(paths: SnapPaths): Facts {
  let state: Facts['state'];
  let stateProblem: string | undefined;
  try {
    state = readState(paths.stateFile);
    if (!state) stateProblem = `${paths.stateFile} is missing`;
  } catch (err) {
    stateProblem = err instanceof Error ? err.message : String(err);
  }
  // The anchor's cluster is snap_daemon's (0700): read it as its owner.
  const anchor = existsSync(paths.anchorPgData) ? clusterFact(paths.anchorPgData, asAnchorOwner(anchorOwner(paths))) : undefined;
  return { state, stateProblem, clusters: listClusters(paths), anchor, adopting: existsSync(paths.anchorAdoptMarker), marker: readMarker(paths) };
}

/** `default_version` from an extension's control file, if the file exists. */
export function controlDefaultVersion(paths: SnapPaths, major: number, ext: string): string | undefined {
  const f = join(paths.pgExtensionDir(major), `${ext}.control`);
  if (!existsSync(f)) return undefined;
  const m = /^\s*default_version\s*=\s*'([^']+)'/m.exec(readFileSync(f, 'utf8'));
  return m?.[1];
}

/** What this revision ships: state version, Immich version, Postgres majors, the vector extension. */
export function shippedFacts(paths: SnapPaths): Shipped {
  const majors = shippedPgMajors(paths);
  const newest = majors[0];
  const name = newest !== undefined && existsSync(join(paths.pgExtensionDir(newest), 'vchord.control')) ? 'vchord' : 'vector';
  return {
    stateVersion: STATE_VERSION,
    immichVersion: IMMICH_VERSION,
    pgMajors: majors,
    vector: { name, defaultVersion: newest === undefined ? undefined : controlDefaultVersion(paths, newest, name) },
  };
}

/** Reads the ledger; an unreadable one is kept aside (`.corrupt-<time>`) and a fresh one started. */
export function readLedger(paths: SnapPaths, log: (m: string) => void): Ledger {
  if (!existsSync(paths.migrationLedger)) return emptyLedger();
  const { ledger, problem } = parseLedger(readFileSync(paths.migrationLedger, 'utf8'));
  if (problem) {
    const aside = `${paths.migrationLedger}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(paths.migrationLedger, aside);
    log(`post-refresh: the migration ledger was unreadable (${problem}); kept as ${aside}, starting a new one`);
  }
  return ledger;
}

export function recordInLedger(paths: SnapPaths, ledger: Ledger, entry: LedgerEntry): Ledger {
  const next = appendEntry(ledger, entry);
  writeFileIfChanged(paths.migrationLedger, renderLedger(next), 0o644);
  return next;
}
