// TEST DOUBLE of Immich v3.2.0's environment handling. Mirrors:
//  - server/src/dtos/env.dto.ts `EnvSchema` (index id 51975809274),
//  - server/src/validation.ts `IsIPRange` (index id 70469354938),
//  - server/src/repositories/config.repository.ts `getEnv()` (3.x-derived text, index id 69127333378),
//  - server/src/enum.ts ImmichEnvironment / LogLevel / ImmichWorker (index id 52527541635),
//    LogFormat (index id 70912590032, a 3.x fork's enum.ts),
// as described in docs/upstream/immich-runtime.md §1.
// Simplified: EnvData keeps only what the double uses (no helmet file, telemetry, bull or cls options).
import validator from 'validator';
import { z } from 'zod';
import type { LogLevel } from './log.js';

// --- EnvSchema -------------------------------------------------------------------------------

const absolutePath = z.string().regex(/^\//, 'Must be an absolute path').optional();
const stringBool = z.stringbool();

/** validator.isIPRange, or (requireCIDR false) a bare validator.isIP. */
function isIPOrRange(value: string, requireCIDR: boolean): boolean {
  return validator.isIPRange(value) || (!requireCIDR && validator.isIP(value));
}

function IsIPRange({ requireCIDR = true }: { requireCIDR?: boolean } = {}) {
  return z.array(z.string()).refine((items) => items.every((item) => isIPOrRange(item, requireCIDR)), 'Must be an ip address or ip address range');
}

const trustedProxiesSchema = z
  .string()
  .optional()
  .transform((s) =>
    s
      ? s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
      : undefined,
  )
  .pipe(z.union([z.undefined(), IsIPRange({ requireCIDR: false })]));

const int = () => z.coerce.number().int().optional();

export const EnvSchema = z.object({
  IMMICH_API_METRICS_PORT: int(),
  IMMICH_BUILD_DATA: z.string().optional(),
  IMMICH_BUILD: z.string().optional(),
  IMMICH_BUILD_URL: z.string().optional(),
  IMMICH_BUILD_IMAGE: z.string().optional(),
  IMMICH_BUILD_IMAGE_URL: z.string().optional(),
  IMMICH_CONFIG_FILE: z.string().optional(),
  IMMICH_HELMET_FILE: z.string().optional(),
  IMMICH_ENV: z.enum(['development', 'testing', 'production']).optional(),
  IMMICH_HOST: z.string().optional(),
  IMMICH_IGNORE_MOUNT_CHECK_ERRORS: stringBool.optional(),
  IMMICH_LOG_LEVEL: z.enum(['verbose', 'debug', 'log', 'warn', 'error', 'fatal']).optional(),
  IMMICH_LOG_FORMAT: z.enum(['console', 'json']).optional(),
  IMMICH_MEDIA_LOCATION: absolutePath,
  IMMICH_MICROSERVICES_METRICS_PORT: int(),
  IMMICH_ALLOW_EXTERNAL_PLUGINS: stringBool.optional(),
  IMMICH_PLUGINS_INSTALL_FOLDER: absolutePath,
  IMMICH_PORT: int(),
  IMMICH_REPOSITORY: z.string().optional(),
  IMMICH_REPOSITORY_URL: z.string().optional(),
  IMMICH_SOURCE_REF: z.string().optional(),
  IMMICH_SOURCE_COMMIT: z.string().optional(),
  IMMICH_SOURCE_URL: z.string().optional(),
  IMMICH_TELEMETRY_INCLUDE: z.string().optional(),
  IMMICH_TELEMETRY_EXCLUDE: z.string().optional(),
  IMMICH_THIRD_PARTY_SOURCE_URL: z.string().optional(),
  IMMICH_THIRD_PARTY_BUG_FEATURE_URL: z.string().optional(),
  IMMICH_THIRD_PARTY_DOCUMENTATION_URL: z.string().optional(),
  IMMICH_THIRD_PARTY_SUPPORT_URL: z.string().optional(),
  IMMICH_ALLOW_SETUP: stringBool.optional(),
  IMMICH_TRUSTED_PROXIES: trustedProxiesSchema,
  IMMICH_WORKERS_INCLUDE: z.string().optional(),
  IMMICH_WORKERS_EXCLUDE: z.string().optional(),
  DB_DATABASE_NAME: z.string().optional(),
  DB_HOSTNAME: z.string().optional(),
  DB_PASSWORD: z.string().optional(),
  DB_PORT: int(),
  DB_SKIP_MIGRATIONS: stringBool.optional(),
  DB_SSL_MODE: z.enum(['disable', 'allow', 'prefer', 'require', 'verify-full']).optional(),
  DB_URL: z.string().optional(),
  DB_USERNAME: z.string().optional(),
  // The upstream-shaped env.dto.ts still lists 'pgvecto.rs'; 3.x dropped pgvecto.rs (its
  // constants know only vchord and vector, and a 3.x-derived copy has this two-value enum). Which
  // of the two 3.2.0 ships is NOT CONFIRMED (immich-runtime.md §1.2): the double takes the 3.x one.
  DB_VECTOR_EXTENSION: z.enum(['pgvector', 'vectorchord']).optional(),
  NO_COLOR: z.string().optional(),
  REDIS_HOSTNAME: z.string().optional(),
  REDIS_PORT: int(),
  REDIS_DBINDEX: int(),
  REDIS_USERNAME: z.string().optional(),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_SOCKET: z.string().optional(),
  REDIS_URL: z.string().optional(),
});

// --- EnvData (what getEnv() derives) ----------------------------------------------------------

export type VectorExtension = 'vector' | 'vchord';

export type DatabaseConnection =
  | { connectionType: 'url'; url: string }
  | {
      connectionType: 'parts';
      host: string;
      port: number;
      username: string;
      password: string;
      database: string;
      ssl?: 'disable' | 'allow' | 'prefer' | 'require' | 'verify-full';
      /** postgres.js: a host containing `/` is a socket directory; the socket file is this. */
      socketPath?: string;
    };

export interface RedisOptions {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  path?: string;
}

export interface ImmichConfig {
  host?: string;
  port: number;
  environment: 'development' | 'testing' | 'production';
  logLevel?: LogLevel;
  buildFolder: string;
  resourcePaths: {
    lockFile: string;
    geodata: { dateFile: string; admin1: string; admin2: string; cities500: string; naturalEarthCountriesPath: string };
    web: { root: string; indexHtml: string };
    corePlugin: string;
  };
  database: { config: DatabaseConnection; skipMigrations: boolean; vectorExtension?: VectorExtension };
  redis: RedisOptions;
  network: {
    /** IMMICH_TRUSTED_PROXIES as parsed, or the code default. */
    trustedProxies: string[];
    /** What configureExpress gives Express: `trust proxy = ['loopback', ...trustedProxies]`. */
    trustProxy: string[];
  };
  storage: { ignoreMountCheckErrors: boolean; mediaLocation?: string };
  setup: { allow: boolean };
  workers: string[];
  plugins: { external: { allow: boolean; installFolder?: string } };
  /** Not in EnvSchema: read from process.env by the system-config defaults (index id 68911068822). */
  machineLearning: { enabled: boolean; urls: string[] };
  noColor: boolean;
}

export type ParsedEnv = { ok: true; config: ImmichConfig } | { ok: false; message: string };

const WORKERS = new Set(['api', 'maintenance', 'microservices']);

function asSet(value: string | undefined, defaults: string[]): Set<string> {
  const values = (value || '').replaceAll(/\s/g, '').split(',').filter(Boolean);
  return new Set(values.length === 0 ? defaults : values);
}

/** Pure: EnvSchema.safeParse plus getEnv()'s derivations; never throws. */
export function parseImmichEnv(env: Record<string, string | undefined>): ParsedEnv {
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    const messages = ['Invalid environment variables: '];
    for (const issue of result.error.issues) messages.push(`  - [${issue.path.join('.')}] ${issue.message}`);
    return { ok: false, message: messages.join('\n') };
  }
  const dto = result.data;

  const included = asSet(dto.IMMICH_WORKERS_INCLUDE, ['api', 'microservices']);
  const excluded = asSet(dto.IMMICH_WORKERS_EXCLUDE, []);
  const workers = [...included].filter((w) => !excluded.has(w));
  if (workers.some((w) => !WORKERS.has(w))) return { ok: false, message: `Invalid worker(s) found: ${workers.join(',')}` };

  let redis: RedisOptions = {
    host: dto.REDIS_HOSTNAME || 'redis',
    port: dto.REDIS_PORT || 6379,
    db: dto.REDIS_DBINDEX || 0,
    username: dto.REDIS_USERNAME || undefined,
    password: dto.REDIS_PASSWORD || undefined,
    path: dto.REDIS_SOCKET || undefined,
  };
  if (dto.REDIS_URL && dto.REDIS_URL.startsWith('ioredis://')) {
    try {
      redis = JSON.parse(Buffer.from(dto.REDIS_URL.slice(10), 'base64').toString()) as RedisOptions;
    } catch {
      return { ok: false, message: 'Failed to decode redis options' };
    }
  }

  let database: DatabaseConnection;
  if (dto.DB_URL) {
    database = { connectionType: 'url', url: dto.DB_URL };
  } else {
    const host = dto.DB_HOSTNAME || 'database';
    const port = dto.DB_PORT || 5432;
    database = {
      connectionType: 'parts',
      host,
      port,
      username: dto.DB_USERNAME || 'postgres',
      password: dto.DB_PASSWORD || 'postgres',
      database: dto.DB_DATABASE_NAME || 'immich',
      ssl: dto.DB_SSL_MODE || undefined,
      socketPath: host.includes('/') ? `${host}/.s.PGSQL.${port}` : undefined,
    };
  }

  const vectorExtension: VectorExtension | undefined =
    dto.DB_VECTOR_EXTENSION === 'pgvector' ? 'vector' : dto.DB_VECTOR_EXTENSION === 'vectorchord' ? 'vchord' : undefined;

  const buildFolder = dto.IMMICH_BUILD_DATA || '/build';
  const geodata = `${buildFolder}/geodata`;
  const web = `${buildFolder}/www`;
  const trustedProxies = dto.IMMICH_TRUSTED_PROXIES ?? ['linklocal', 'uniquelocal'];

  return {
    ok: true,
    config: {
      host: dto.IMMICH_HOST,
      port: dto.IMMICH_PORT || 2283,
      environment: dto.IMMICH_ENV || 'production',
      logLevel: dto.IMMICH_LOG_LEVEL,
      buildFolder,
      resourcePaths: {
        lockFile: `${buildFolder}/build-lock.json`,
        geodata: {
          dateFile: `${geodata}/geodata-date.txt`,
          admin1: `${geodata}/admin1CodesASCII.txt`,
          admin2: `${geodata}/admin2Codes.txt`,
          cities500: `${geodata}/cities500.txt`,
          naturalEarthCountriesPath: `${geodata}/ne_10m_admin_0_countries.geojson`,
        },
        web: { root: web, indexHtml: `${web}/index.html` },
        corePlugin: `${buildFolder}/plugins/immich-plugin-core`,
      },
      database: { config: database, skipMigrations: dto.DB_SKIP_MIGRATIONS ?? false, vectorExtension },
      redis,
      network: { trustedProxies, trustProxy: ['loopback', ...trustedProxies] },
      storage: { ignoreMountCheckErrors: !!dto.IMMICH_IGNORE_MOUNT_CHECK_ERRORS, mediaLocation: dto.IMMICH_MEDIA_LOCATION },
      setup: { allow: dto.IMMICH_ALLOW_SETUP ?? true },
      workers,
      plugins: { external: { allow: dto.IMMICH_ALLOW_EXTERNAL_PLUGINS ?? false, installFolder: dto.IMMICH_PLUGINS_INSTALL_FOLDER } },
      machineLearning: {
        enabled: env.IMMICH_MACHINE_LEARNING_ENABLED !== 'false',
        urls: [env.IMMICH_MACHINE_LEARNING_URL || 'http://immich-machine-learning:3003'],
      },
      noColor: !!dto.NO_COLOR,
    },
  };
}
