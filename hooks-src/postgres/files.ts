import type { SnapPaths } from '../snap/paths.js';
import { DAEMON_USER, daemonUser } from '../snap/run-as.js';
import { writeFileIfChanged } from '../snap/files.js';
import type { VectorExtensionName } from './bootstrap.js';
import { renderPostgresConf } from './conf.js';
import { renderHba, renderIdent } from './hba.js';
import type { Machine } from './machine.js';

/** Postgres listens here on 127.0.0.1 (and names its socket .s.PGSQL.<port>). */
export const PG_PORT = 5432;

export interface PostgresFilesInput {
  major: number;
  vector: VectorExtensionName;
  machine: Machine;
  /** `database.tcp`: listen on 127.0.0.1 (scram) or unix socket only. */
  listenTcp: boolean;
  port?: number;
}

/**
 * Writes the rendered Postgres configuration into $SNAP_DATA/etc/postgres, 0640 root:_daemon_
 * (Postgres reads it, nobody else; it holds no secret): postgresql.conf for the daemon,
 * postgresql-setup.conf for a hook's temporary server (same settings, no TCP, private socket),
 * pg_hba.conf and pg_ident.conf. Unchanged files are left untouched. Returns the names of the
 * files that changed (for the caller to decide between reload and restart).
 */
export function writePostgresFiles(paths: SnapPaths, i: PostgresFilesInput): string[] {
  const group = { uid: 0, gid: daemonUser().gid };
  const base = {
    major: i.major,
    ...i.machine,
    port: i.port ?? PG_PORT,
    vectorchord: i.vector === 'vchord',
    dataDir: paths.pgCluster(i.major),
    hbaFile: paths.inFiles.pgHba,
    identFile: paths.inFiles.pgIdent,
  };
  const files: Array<[string, string]> = [
    [paths.pgConf, renderPostgresConf({ ...base, socketDir: paths.pgSocketDir, listenTcp: i.listenTcp })],
    [paths.pgSetupConf, renderPostgresConf({ ...base, socketDir: paths.pgSetupSocketDir, listenTcp: false })],
    [paths.pgHba, renderHba()],
    [paths.pgIdent, renderIdent({ daemonUser: DAEMON_USER })],
  ];
  return files.filter(([file, content]) => writeFileIfChanged(file, content, 0o640, group)).map(([file]) => file);
}
