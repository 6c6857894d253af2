/**
 * The environment files of the Immich daemons (pure). Format: one `KEY=value` per line, the value
 * taken verbatim up to the end of the line (no quoting, no expansion), `#` comments only at the
 * start of a line. Keys and values are validated when rendering, so no value can add a line or a
 * variable; parseEnvFile() is the one reader (the daemon commands use it).
 *
 * The server file holds REDIS_PASSWORD and is written 0600 root; the machine-learning file holds no
 * secret. Postgres needs no password: Immich connects over the unix socket by peer as `immich`.
 */

import { renderTrustedProxies } from './trusted-proxies.js';

export type LogLevel = 'verbose' | 'debug' | 'log' | 'warn' | 'error';

export interface ImmichServerEnvInput {
  /** Postgres unix socket directory (postgres.js and libpq treat a host starting with / as one). */
  dbSocketDir: string;
  dbPort: number;
  dbUser: string;
  dbName: string;
  vectorExtension: 'vchord' | 'vector';
  redisSocket: string;
  redisPassword: string;
  mediaLocation: string;
  buildData: string;
  host: string;
  port: number;
  mlUrl: string;
  logLevel: LogLevel;
  /** `ml.enabled` (seeds Immich's default; the configure hook also updates Immich's stored config). */
  mlEnabled?: boolean;
  /**
   * `proxy.trusted-proxies` entries, validated by the settings schema (IPs, CIDRs or proxy-addr
   * names); rendered by renderTrustedProxies, always non-empty (loopback first).
   */
  trustedProxies?: readonly string[];
  /** `server.node-options`, validated by the settings schema (an allow-list of node flags). */
  nodeOptions?: string;
}

export interface ImmichMlEnvInput {
  host: string;
  port: number;
  cacheFolder: string;
  logLevel: LogLevel;
}

const KEY = /^[A-Z_][A-Z0-9_]*$/;

/** A value that cannot break the file: no control characters (newline, CR, NUL, …). */
function checkValue(key: string, value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error(`${key} may not contain control characters`);
  return value;
}

function checkPath(key: string, value: string): string {
  if (!value.startsWith('/')) throw new Error(`${key} must be an absolute path`);
  return checkValue(key, value);
}

function checkPort(key: string, value: number): string {
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${key} must be a port (1-65535)`);
  return String(value);
}

function checkHost(key: string, value: string): string {
  if (!/^[0-9a-fA-F:.]+$/.test(value)) throw new Error(`${key} must be an IP address`);
  return value;
}

export function renderEnvFile(vars: ReadonlyArray<readonly [string, string]>, header: string): string {
  const seen = new Set<string>();
  const lines = [`# ${checkValue('header', header)}`];
  for (const [key, value] of vars) {
    if (!KEY.test(key)) throw new Error(`invalid variable name: ${JSON.stringify(key)}`);
    if (seen.has(key)) throw new Error(`duplicate variable: ${key}`);
    seen.add(key);
    lines.push(`${key}=${checkValue(key, value)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function parseEnvFile(content: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of content.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq) : '';
    if (!KEY.test(key)) throw new Error(`malformed line in environment file: ${JSON.stringify(line.slice(0, 40))}`);
    out[key] = line.slice(eq + 1);
  }
  return out;
}

const ML_LOG_LEVEL: Record<LogLevel, string> = { verbose: 'debug', debug: 'debug', log: 'info', warn: 'warning', error: 'error' };

export function immichServerEnv(i: ImmichServerEnvInput): Array<[string, string]> {
  if (!/^[a-z_][a-z0-9_]*$/.test(i.dbUser) || !/^[a-z_][a-z0-9_]*$/.test(i.dbName)) throw new Error('invalid database user or name');
  if (!/^https?:\/\/[^\s]+$/.test(i.mlUrl)) throw new Error('IMMICH_MACHINE_LEARNING_URL must be an http(s) URL');
  if (i.redisPassword === '') throw new Error('REDIS_PASSWORD is empty');
  return [
    ['IMMICH_ENV', 'production'],
    ['IMMICH_HOST', checkHost('IMMICH_HOST', i.host)],
    ['IMMICH_PORT', checkPort('IMMICH_PORT', i.port)],
    ['IMMICH_LOG_LEVEL', i.logLevel],
    ['IMMICH_MEDIA_LOCATION', checkPath('IMMICH_MEDIA_LOCATION', i.mediaLocation)],
    ['IMMICH_BUILD_DATA', checkPath('IMMICH_BUILD_DATA', i.buildData)],
    ['IMMICH_MACHINE_LEARNING_URL', checkValue('IMMICH_MACHINE_LEARNING_URL', i.mlUrl)],
    ['DB_HOSTNAME', checkPath('DB_HOSTNAME', i.dbSocketDir)],
    ['DB_PORT', checkPort('DB_PORT', i.dbPort)],
    ['DB_USERNAME', i.dbUser],
    ['DB_DATABASE_NAME', i.dbName],
    ['DB_VECTOR_EXTENSION', i.vectorExtension === 'vchord' ? 'vectorchord' : 'pgvector'],
    ['REDIS_SOCKET', checkPath('REDIS_SOCKET', i.redisSocket)],
    ['REDIS_PASSWORD', checkValue('REDIS_PASSWORD', i.redisPassword)],
    ['IMMICH_MACHINE_LEARNING_ENABLED', i.mlEnabled === false ? 'false' : 'true'],
    ['IMMICH_TRUSTED_PROXIES', checkList('IMMICH_TRUSTED_PROXIES', renderTrustedProxies(i.trustedProxies ?? []))],
    ...(i.nodeOptions ? ([['NODE_OPTIONS', checkList('NODE_OPTIONS', i.nodeOptions)]] as Array<[string, string]>) : []),
    ['NO_COLOR', 'true'],
  ];
}

/** A list value (addresses, node flags): printable ASCII without quotes, `$`, `#` or backslashes. */
function checkList(key: string, value: string): string {
  if (!/^[A-Za-z0-9 ,./:=_-]+$/.test(value)) throw new Error(`${key} contains characters that are not allowed`);
  return value;
}

export function immichMlEnv(i: ImmichMlEnvInput): Array<[string, string]> {
  return [
    ['IMMICH_HOST', checkHost('IMMICH_HOST', i.host)],
    ['IMMICH_PORT', checkPort('IMMICH_PORT', i.port)],
    ['IMMICH_LOG_LEVEL', ML_LOG_LEVEL[i.logLevel]],
    ['MACHINE_LEARNING_CACHE_FOLDER', checkPath('MACHINE_LEARNING_CACHE_FOLDER', i.cacheFolder)],
    ['MACHINE_LEARNING_WORKERS', '1'],
    ['NO_COLOR', 'true'],
  ];
}
