import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SnapEnv } from './env.js';

/**
 * Every path the snap uses, derived from the snap environment (never from a hard-coded snap name,
 * so parallel installs `immich-distribution_foo` work). SPEC §2 "Paths contract".
 *
 * Where things live, and why:
 * - $SNAP_COMMON holds everything that must survive a refresh or revert unchanged and must stay
 *   paired: the Postgres clusters, media, backups, secrets (beside the data they unlock), the
 *   state record, and runtime sockets (never copied by snapd, so no stale socket is ever copied).
 * - $SNAP_DATA holds what is rendered from config by the revision's own code (configs, the record
 *   of the last applied settings): snapd copies it on refresh and restores it on revert, together
 *   with that revision's snap config.
 */
export function snapPaths(env: SnapEnv) {
  const snap = env.SNAP;
  const common = env.SNAP_COMMON;
  const data = env.SNAP_DATA;
  const run = join(common, 'run');
  const etc = join(data, 'etc');
  return {
    snap,
    common,
    data,
    instance: env.SNAP_INSTANCE_NAME,

    // Shipped binaries (Debian/Ubuntu layout under $SNAP).
    pgRoot: join(snap, 'usr/lib/postgresql'),
    pgBin: (major: number, tool: string) => join(snap, 'usr/lib/postgresql', String(major), 'bin', tool),
    pgExtensionDir: (major: number) => join(snap, 'usr/share/postgresql', String(major), 'extension'),
    pgLibDir: (major: number) => join(snap, 'usr/lib/postgresql', String(major), 'lib'),
    haproxy: join(snap, 'usr/sbin/haproxy'),
    redisServer: firstExisting([join(snap, 'usr/bin/redis-server'), join(snap, 'usr/bin/valkey-server')]),
    redisCli: firstExisting([join(snap, 'usr/bin/redis-cli'), join(snap, 'usr/bin/valkey-cli')]),
    node: firstExisting([join(snap, 'usr/bin/node'), join(snap, 'bin/node')]),
    openssl: join(snap, 'usr/bin/openssl'),
    lego: join(snap, 'usr/bin/lego'),
    python: firstExisting([join(snap, 'usr/bin/python3.12'), join(snap, 'usr/bin/python3')]),
    // Immich as the snap's parts install it (snapcraft.yaml: immich-server, immich-machine-learning).
    immichServerMain: join(snap, 'usr/lib/immich/server/dist/main.js'),
    immichMlDir: join(snap, 'usr/lib/immich/machine-learning'),
    templates: join(snap, 'share/immich-distribution'),
    /**
     * IMMICH_BUILD_DATA through the `current` symlink, not the revision: Immich stores plugin paths
     * under it in the database, so it must not change on refresh.
     */
    // The snap's layout maps /usr/lib/immich to $SNAP/usr/lib/immich: a path that does not change
    // with the revision, because Immich stores plugin paths in its database (snapcraft.yaml).
    immichBuildData: '/usr/lib/immich/build',
    versionsFile: join(snap, 'share/immich-distribution/versions.json'),
    /** zstd compresses database backups (multi-threaded); from the base's Ubuntu package. */
    zstd: join(snap, 'usr/bin/zstd'),

    // Persistent data ($SNAP_COMMON).
    secretsDir: join(common, 'secrets'),
    secret: (name: SecretName) => join(common, 'secrets', name),
    stateFile: join(common, 'state.json'),
    pgClustersDir: join(common, 'postgres'),
    pgCluster: (major: number) => join(common, 'postgres', String(major)),
    /** Where initdb builds a new cluster before it is renamed to pgCluster(major) in one step. */
    pgClusterStaging: (major: number) => join(common, 'postgres', `${major}.initdb`),
    /** Where pg_upgrade builds the next major before it is renamed to pgCluster(major) (post-refresh). */
    pgUpgradeStaging: (major: number) => join(common, 'postgres', `${major}.upgrade`),
    /** pg_upgrade's private socket, hba/ident files and logs (0700 `_daemon_`). */
    pgUpgradeWork: join(common, 'postgres', 'upgrade-work'),
    /** Record of the last major upgrade: which cluster it came from, when, how (post-refresh). */
    pgUpgradeMarker: join(common, 'postgres', 'upgrade.json'),
    /** Ledger of the migrations post-refresh has run (no secret). */
    migrationLedger: join(common, 'migrations.json'),
    /** What pre-refresh saw running (written by the old revision just before a refresh). */
    preRefreshRecord: join(common, 'pre-refresh.json'),
    /** The anchor snap's cluster and media (a refresh from it is adopted by post-refresh). */
    anchorPgData: join(common, 'pgsql', 'data'),
    anchorUpload: join(common, 'upload'),
    /** Present while post-refresh takes the anchor's layout over (until our state record exists). */
    anchorAdoptMarker: join(common, 'adopting-anchor'),
    /** Socket and log of the anchor's cluster while post-refresh copies it (owner: the anchor's user). */
    anchorAdoptRunDir: join(common, 'run', 'adopt'),
    redisDir: join(common, 'redis'),
    defaultMedia: join(common, 'media'),
    defaultBackups: join(common, 'backups'),
    mlCache: join(common, 'ml-cache'),
    certsDir: join(common, 'certs'),
    /** Present only while a restore swaps data in; the next restore finishes or undoes it. */
    restoreJournal: join(common, 'restore-journal.json'),
    /** Combined PEM (chain + key) for an HTTPS mode, 0600 root. */
    certFile: (mode: 'self-signed' | 'custom' | 'acme') => join(common, 'certs', `${mode}.pem`),
    acmeDir: join(common, 'certs', 'acme'),

    // Runtime (sockets, pids) under $SNAP_COMMON/run.
    runDir: run,
    pgSocketDir: join(run, 'postgres'),
    pgSetupSocketDir: join(run, 'postgres-setup'),
    pgSetupLog: join(run, 'postgres-setup', 'postgres.log'),
    redisSocketDir: join(run, 'redis'),
    redisSocket: join(run, 'redis', 'redis.sock'),
    haproxyRunDir: join(run, 'haproxy'),
    /** HAProxy's master CLI (`-S`): reload and `show proc`; root only (mode 600). */
    haproxyMasterSocket: join(run, 'haproxy', 'master.sock'),
    haproxyPidFile: join(run, 'haproxy', 'haproxy.pid'),
    /** One backup or restore at a time (pid file; backup, restore and the backup timer). */
    backupLock: join(run, 'backup.lock'),

    // Rendered per revision ($SNAP_DATA).
    etcDir: etc,
    pgConfDir: join(etc, 'postgres'),
    pgConf: join(etc, 'postgres', 'postgresql.conf'),
    pgHba: join(etc, 'postgres', 'pg_hba.conf'),
    pgIdent: join(etc, 'postgres', 'pg_ident.conf'),
    /** Same settings as pgConf but private: no TCP, socket in pgSetupSocketDir (hooks only). */
    pgSetupConf: join(etc, 'postgres', 'postgresql-setup.conf'),
    redisConf: join(etc, 'redis.conf'),
    immichServerEnv: join(etc, 'immich-server.env'),
    immichMlEnv: join(etc, 'immich-ml.env'),
    haproxyDir: join(etc, 'haproxy'),
    haproxyCfg: join(etc, 'haproxy', 'haproxy.cfg'),
    /** The "Immich is starting" 503 response (HAProxy errorfile). */
    haproxyErrorPage: join(etc, 'haproxy', '503.http'),
    appliedConfig: join(data, 'applied-config.json'),
    /** The revision whose code rendered the applied config (configure re-renders all on a change). */
    appliedRevision: join(data, 'applied-config.revision'),
    /**
     * The same rendered files named through $SNAP_DATA/../current, for paths written INTO other
     * rendered files: snapd copies $SNAP_DATA to the next revision on refresh and restores a
     * snapshot into whatever revision is current, so a revision-numbered path inside a file would
     * point at another revision's copy, or at nothing once that revision is gone (found under
     * real snapd: Postgres could not load pg_hba.conf after `snap restore`).
     */
    inFiles: {
      pgHba: join(dirname(data), 'current', 'etc', 'postgres', 'pg_hba.conf'),
      pgIdent: join(dirname(data), 'current', 'etc', 'postgres', 'pg_ident.conf'),
      haproxyErrorPage: join(dirname(data), 'current', 'etc', 'haproxy', '503.http'),
    },
    /** Validated settings the timers read (never raw snap config). */
    backupSettings: join(etc, 'backup-settings.json'),
    acmeSettings: join(etc, 'acme-settings.json'),

    /** `<instance>.<app>`, the name snapctl start/stop/restart expect. */
    service: (app: string) => `${env.SNAP_INSTANCE_NAME}.${app}`,
  };
}

export type SnapPaths = ReturnType<typeof snapPaths>;
export type SecretName = 'database-password' | 'redis-password';

function firstExisting(candidates: string[]): string {
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

/** Postgres majors shipped under $SNAP/usr/lib/postgresql, newest first. */
export function shippedPgMajors(paths: SnapPaths): number[] {
  if (!existsSync(paths.pgRoot)) return [];
  return readdirSync(paths.pgRoot)
    .filter((d) => /^\d+$/.test(d) && existsSync(join(paths.pgRoot, d, 'bin', 'postgres')))
    .map(Number)
    .sort((a, b) => b - a);
}
