/**
 * Copying the anchor snap's cluster ($SNAP_COMMON/pgsql/data, owner `snap_daemon`, 0700) into ours
 * (`postgres/<major>`, owner `_daemon_`, 0700) under strict confinement, where root has no DAC
 * override: no single user may read the one and write the other. So Postgres copies it, with its
 * own tool: the anchor's cluster is started AS ITS OWNER on a private socket (no TCP), and
 * `pg_basebackup` runs AS `_daemon_` into our staging directory, streaming the WAL it needs, so the
 * copy is consistent and every file is `_daemon_`'s with Postgres' own modes. The anchor's cluster
 * is only started and cleanly stopped (pg_control and WAL move on; its data stays usable by a
 * revert to the anchor revision). Needs `snap_daemon` in snapcraft.yaml's system-usernames (a strict
 * snap may only setuid to declared users).
 */
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type AsOwner, asDaemon, asUser } from '../snap/as-daemon.js';
import { UserError } from '../snap/errors.js';
import { runCommand } from '../snap/exec.js';
import type { SnapPaths } from '../snap/paths.js';
import { DAEMON_USER, runAsDaemon, userNameOf } from '../snap/run-as.js';
import { PG_ENV, lastLine, runningPostmaster, shQuote } from './cluster.js';
import { SUPERUSER_ROLE } from './hba.js';

const ADOPT_PORT = 5439;
const ADOPT_ENV = { ...PG_ENV, PGPASSWORD: undefined };
const MAP = 'adopt';

export interface Owner {
  uid: number;
  gid: number;
  /** The name Postgres' peer authentication sees (from /etc/passwd), or the uid. */
  name: string;
}

/** Who owns the anchor's cluster: its data directory, else (0700 parent) its parent directory. */
export function anchorOwner(paths: SnapPaths): Owner {
  const st = statSync(paths.anchorPgData, { throwIfNoEntry: false }) ?? statSync(dirname(paths.anchorPgData));
  return { uid: st.uid, gid: st.gid, name: userNameOf(st.uid) };
}

/** Reads the anchor's files as their owner. */
export function asAnchorOwner(owner: Owner): AsOwner {
  return (fn) => asUser(owner, fn);
}

/**
 * Copies the anchor's cluster of `major` into `to` (a staging path; the caller renames it into
 * place). Idempotent: a server left by a killed run is stopped, `to` is started over.
 */
export async function copyAnchorCluster(paths: SnapPaths, opts: { major: number; owner: Owner; to: string }): Promise<void> {
  const { major, owner, to } = opts;
  const from = paths.anchorPgData;
  const run = paths.anchorAdoptRunDir;
  const pgCtl = (args: string[], timeoutMs: number) =>
    runCommand(paths.pgBin(major, 'pg_ctl'), args, { cwd: '/', env: ADOPT_ENV, uid: owner.uid, gid: owner.gid, timeoutMs });
  const stop = async () => {
    if (runningPostmaster(from, asAnchorOwner(owner)) === undefined) return;
    const r = await pgCtl(['stop', '-w', '-t', '120', '-m', 'fast', '-D', from], 150_000);
    if (r.exitCode !== 0) throw new UserError(`could not stop the previous layout's PostgreSQL: ${lastLine(r)}`);
  };

  // Without DAC override root may not delete inside the owner's directory: the owner empties it.
  const removeRun = () => {
    if (!existsSync(run)) return;
    asUser(owner, () => {
      for (const name of readdirSync(run)) rmSync(join(run, name), { recursive: true, force: true });
    });
    rmSync(run, { recursive: true, force: true });
  };

  await stop();
  // The private socket directory: the anchor's owner writes its socket and log there, `_daemon_`
  // connects through it. Authentication: peer, `_daemon_` as postgres, replication included. Root
  // writes the two files first, then hands the directory over.
  removeRun();
  mkdirSync(run, { mode: 0o755 });
  writeFileSync(join(run, 'pg_hba.conf'), `local replication ${SUPERUSER_ROLE} peer map=${MAP}\nlocal all ${SUPERUSER_ROLE} peer map=${MAP}\n`, { mode: 0o644 });
  writeFileSync(join(run, 'pg_ident.conf'), `${MAP} ${DAEMON_USER} ${SUPERUSER_ROLE}\n${MAP} ${owner.name} ${SUPERUSER_ROLE}\n`, { mode: 0o644 });
  chownSync(run, owner.uid, owner.gid);
  const options = [
    "-c listen_addresses=''",
    `-c unix_socket_directories=${shQuote(run)}`,
    `-p ${ADOPT_PORT}`,
    `-c hba_file=${shQuote(join(run, 'pg_hba.conf'))}`,
    `-c ident_file=${shQuote(join(run, 'pg_ident.conf'))}`,
    '-c wal_level=replica',
    '-c max_wal_senders=2',
    '-c archive_mode=off',
  ].join(' ');
  const started = await pgCtl(['start', '-w', '-t', '300', '-D', from, '-l', join(run, 'server.log'), '-o', options], 330_000);
  if (started.exitCode !== 0) throw new UserError(`could not start the previous layout's PostgreSQL ${major} to copy it: ${lastLine(started)} (see ${join(run, 'server.log')})`);
  try {
    asDaemon(() => rmSync(to, { recursive: true, force: true }));
    const r = await runAsDaemon(
      paths.pgBin(major, 'pg_basebackup'),
      ['-h', run, '-p', String(ADOPT_PORT), '-U', SUPERUSER_ROLE, '-D', to, '-X', 'stream', '-c', 'fast', '--no-password'],
      { env: ADOPT_ENV, timeoutMs: 8 * 60_000 },
    );
    if (r.exitCode !== 0) throw new UserError(`pg_basebackup of the previous layout's database failed: ${lastLine(r)}`);
  } finally {
    await stop();
    removeRun();
  }
}
