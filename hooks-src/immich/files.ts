import { IMMICH_DATABASE, type VectorExtensionName } from '../postgres/bootstrap.js';
import { PG_PORT } from '../postgres/files.js';
import { IMMICH_ROLE } from '../postgres/hba.js';
import { writeFileIfChanged } from '../snap/files.js';
import type { SnapPaths } from '../snap/paths.js';
import { type LogLevel, immichMlEnv, immichServerEnv, renderEnvFile } from './env.js';

export const IMMICH_SERVER_PORT = 3001;
export const IMMICH_ML_PORT = 3003;

export interface ImmichFilesInput {
  vector: VectorExtensionName;
  redisPassword: string;
  mediaLocation?: string;
  logLevel?: LogLevel;
  serverPort?: number;
  mlPort?: number;
  /** A remote ML server; default the local one. */
  mlUrl?: string;
  mlEnabled?: boolean;
  dbPort?: number;
  trustedProxies?: readonly string[];
  nodeOptions?: string;
}

const ROOT = { uid: 0, gid: 0 };

/**
 * Writes $SNAP_DATA/etc/immich-server.env (0600 root: it holds REDIS_PASSWORD) and
 * immich-ml.env (0644: no secret). Unchanged files are left untouched; returns the changed ones.
 */
export function writeImmichEnvFiles(paths: SnapPaths, i: ImmichFilesInput): string[] {
  const serverPort = i.serverPort ?? IMMICH_SERVER_PORT;
  const mlPort = i.mlPort ?? IMMICH_ML_PORT;
  const logLevel = i.logLevel ?? 'log';
  const server = immichServerEnv({
    dbSocketDir: paths.pgSocketDir,
    dbPort: i.dbPort ?? PG_PORT,
    dbUser: IMMICH_ROLE,
    dbName: IMMICH_DATABASE,
    vectorExtension: i.vector,
    redisSocket: paths.redisSocket,
    redisPassword: i.redisPassword,
    mediaLocation: i.mediaLocation ?? paths.defaultMedia,
    buildData: paths.immichBuildData,
    host: '127.0.0.1',
    port: serverPort,
    mlUrl: i.mlUrl || `http://127.0.0.1:${mlPort}`,
    logLevel,
    mlEnabled: i.mlEnabled,
    trustedProxies: i.trustedProxies,
    nodeOptions: i.nodeOptions,
  });
  const ml = immichMlEnv({ host: '127.0.0.1', port: mlPort, cacheFolder: paths.mlCache, logLevel });
  const files: Array<[string, string, number]> = [
    [paths.immichServerEnv, renderEnvFile(server, 'immich-server environment, written by immich-distribution'), 0o600],
    [paths.immichMlEnv, renderEnvFile(ml, 'immich-machine-learning environment, written by immich-distribution'), 0o644],
  ];
  return files.filter(([file, content, mode]) => writeFileIfChanged(file, content, mode, ROOT)).map(([file]) => file);
}
