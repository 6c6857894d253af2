import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asDaemon } from '../../snap/as-daemon.js';
import { snapEnv } from '../../snap/env.js';
import { UserError, oneLine } from '../../snap/errors.js';
import { writeFileAtomic } from '../../snap/fs.js';
import { step } from '../../snap/log.js';
import { snapPaths } from '../../snap/paths.js';
import { readState } from '../../state/state.js';

/**
 * The pre-refresh hook. It runs the OLD revision's code just before every refresh, so a bug here
 * would block every future update (the anchor snap did that twice): it only records what is running
 * ($SNAP_COMMON/pre-refresh.json: revision, version, the state it found, the Postgres major the
 * service is running) and ALWAYS exits 0. Nothing depends on the record: post-refresh decides from
 * the state record and the disk. A missing or unreadable state file is noted, never fatal.
 * No SQL, no child process, no network: a few small file reads and one small atomic write.
 */

function runningMajor(pgClustersDir: string): number | undefined {
  // postmaster.pid of the service: line 5 is its socket directory (inside the 0700 `_daemon_` tree).
  try {
    return asDaemon(() => {
      for (const major of [20, 19, 18, 17, 16, 15, 14, 13]) {
        try {
          readFileSync(join(pgClustersDir, String(major), 'postmaster.pid'), 'utf8');
          return major;
        } catch {
          /* not this one */
        }
      }
      return undefined;
    });
  } catch {
    return undefined;
  }
}

function main(): void {
  const env = snapEnv();
  const paths = snapPaths(env);
  let state: unknown = null;
  let stateProblem: string | undefined;
  try {
    state = readState(paths.stateFile) ?? null;
    if (state === null) stateProblem = 'state.json is missing';
  } catch (err) {
    stateProblem = oneLine(err);
  }
  const record = {
    revision: env.SNAP_REVISION,
    version: env.SNAP_VERSION,
    at: new Date().toISOString(),
    state,
    ...(stateProblem ? { stateProblem } : {}),
    runningPostgresMajor: runningMajor(paths.pgClustersDir) ?? null,
  };
  writeFileAtomic(paths.preRefreshRecord, `${JSON.stringify(record, null, 2)}\n`, 0o644);
  step(`pre-refresh: revision ${env.SNAP_REVISION} (${env.SNAP_VERSION}) recorded${stateProblem ? `; ${stateProblem} (post-refresh will rebuild it)` : ''}`);
}

/**
 * Never fails inside the snap: whatever goes wrong is reported on stderr and the refresh goes on.
 * Only outside a snap (no snap environment at all: not run by snapd) is it an error, in one line.
 */
export function preRefresh(): void {
  try {
    snapEnv();
  } catch (err) {
    process.stderr.write(`pre-refresh hook: ${oneLine(err)}\n`);
    process.exit(err instanceof UserError ? err.exitCode : 1);
  }
  try {
    main();
  } catch (err) {
    process.stderr.write(`pre-refresh: could not record the running revision (${oneLine(err)}); continuing\n`);
  }
  process.exitCode = 0;
}
