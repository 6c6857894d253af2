import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeImmichEnvFiles } from '../../immich/files.js';
import {
  IMMICH_DATABASE,
  type VectorExtensionName,
  ensureRoleAndDatabase,
  ensureSchemaAndExtensions,
  ensureSuperuserPassword,
  extensionVersion,
} from '../../postgres/bootstrap.js';
import { type TemporaryServer, clusterState, ensureCluster, startTemporary, withConnection } from '../../postgres/cluster.js';
import { PG_PORT, writePostgresFiles } from '../../postgres/files.js';
import { detectMachine } from '../../postgres/machine.js';
import { writeRedisConf } from '../../redis/conf.js';
import { ensureSecret } from '../../secrets/secrets.js';
import { snapEnv } from '../../snap/env.js';
import { UserError } from '../../snap/errors.js';
import { type SnapPaths, shippedPgMajors, snapPaths } from '../../snap/paths.js';
import { Snapctl } from '../../snap/snapctl.js';
import { runSteps } from '../../snap/steps.js';
import { createLayout } from '../../snap/layout.js';
import { IMMICH_VERSION, STATE_VERSION, writeState } from '../../state/state.js';

/**
 * The Postgres major to set up: the newest shipped major that already has a complete cluster
 * (data restored or kept from before: never hide it behind a new empty cluster; upgrading it is
 * post-refresh's job), else the newest shipped major.
 */
function chooseMajor(paths: SnapPaths): number {
  const majors = shippedPgMajors(paths);
  if (majors.length === 0) throw new UserError(`no PostgreSQL found under ${paths.pgRoot}; the snap is incomplete`);
  return majors.find((m) => clusterState(paths.pgCluster(m)) === 'complete') ?? majors[0]!;
}

function chooseVectorExtension(paths: SnapPaths, major: number): VectorExtensionName {
  const dir = paths.pgExtensionDir(major);
  if (existsSync(join(dir, 'vchord.control'))) return 'vchord';
  if (existsSync(join(dir, 'vector.control'))) return 'vector';
  throw new UserError(`neither VectorChord nor pgvector is installed in ${dir}; the snap is incomplete`);
}

export async function install(): Promise<number> {
  const paths = snapPaths(snapEnv());
  let major = 0;
  let vector: VectorExtensionName = 'vector';
  let dbPassword = '';
  let redisPassword = '';
  let server: TemporaryServer | undefined;
  let vectorVersion: string | undefined;

  try {
    await runSteps('install', [
      { name: 'create-layout', run: () => createLayout(paths) },
      {
        name: 'ensure-secrets',
        run: () => {
          dbPassword = ensureSecret(paths, 'database-password');
          redisPassword = ensureSecret(paths, 'redis-password');
        },
      },
      {
        name: 'init-cluster',
        run: async () => {
          major = chooseMajor(paths);
          vector = chooseVectorExtension(paths, major);
          await ensureCluster(paths, major, dbPassword);
        },
      },
      {
        name: 'render-postgres-config',
        // TCP on (the default of `database.tcp`); configure re-renders when the setting changes.
        run: () => void writePostgresFiles(paths, { major, vector, machine: detectMachine(), listenTcp: true }),
      },
      {
        name: 'start-temporary',
        run: async () => {
          server = await startTemporary(paths, major, PG_PORT);
        },
      },
      {
        name: 'bootstrap-database',
        run: async () => {
          const s = server!;
          await withConnection(s, 'postgres', async (db) => {
            await ensureRoleAndDatabase(db);
            await ensureSuperuserPassword(db, dbPassword);
          });
          vectorVersion = await withConnection(s, IMMICH_DATABASE, async (db) => {
            await ensureSchemaAndExtensions(db, vector);
            return extensionVersion(db, vector);
          });
          if (!vectorVersion) throw new UserError(`the ${vector} extension is missing after bootstrap`);
        },
      },
      {
        name: 'stop-temporary',
        run: async () => {
          const s = server;
          server = undefined;
          await s?.stop();
        },
      },
      { name: 'render-redis', run: () => void writeRedisConf(paths, redisPassword) },
      {
        name: 'render-immich-env',
        run: () => void writeImmichEnvFiles(paths, { vector, redisPassword }),
      },
      {
        name: 'publish-password',
        // SPEC: `sudo snap get immich-distribution database-password` shows postgres' TCP password.
        run: async () => {
          const snapctl = new Snapctl();
          if ((await snapctl.get('database-password')) !== dbPassword) await snapctl.set({ 'database-password': dbPassword }, { secret: true });
        },
      },
      {
        name: 'record-state',
        run: () => {
          writeState(paths.stateFile, {
            stateVersion: STATE_VERSION,
            postgresMajor: major,
            vectorExtension: { name: vector, version: vectorVersion! },
            immichVersion: IMMICH_VERSION,
          });
        },
      },
    ]);
  } finally {
    // A failed step must not leave the temporary server running (a killed hook can; the next
    // run stops it).
    await (server as TemporaryServer | undefined)?.stop().catch(() => undefined);
  }
  return 0;
}
