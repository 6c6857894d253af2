import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { type CommandContext, backupSettings, mediaLocation, pgTarget, withDatabase } from '../backup/context.js';
import { MEDIA_FOLDERS } from '../backup/manifest.js';
import { listBackups } from '../backup/store.js';
import { parseEnvFile } from '../immich/env.js';
import { gatherFacts, shippedFacts } from '../migrations/facts.js';
import { migrationId, plan } from '../migrations/plan.js';
import { oneLine } from '../snap/errors.js';
import { runCommand } from '../snap/exec.js';
import { shippedPgMajors } from '../snap/paths.js';
import { STATE_VERSION } from '../state/state.js';
import { type Probe, httpGet, redisPing, timed, withTimeout } from './probes.js';

export type { Probe };
import { readJournal } from '../backup/restore.js';

/** Adapter: everything `status` reports, gathered with short timeouts; nothing here changes state. */

export interface StatusReport {
  snap: { instance: string; version: string; revision: string };
  services: Array<{ name: string; enabled: boolean; active: boolean; notes: string[] }>;
  health: Record<'postgres' | 'redis' | 'immich' | 'haproxy', Probe>;
  versions: {
    immich: { shipped?: string; data?: string };
    postgres: { server?: string; shippedMajors: number[]; dataMajor?: number };
    extensions: Array<{ name: string; version: string }>;
  };
  ports: Array<{ what: string; port: number; expect: string; listening: string[] }>;
  disk: Array<{ area: string; path: string; bytes?: number; free?: number; problem?: string }>;
  lastBackup: { location: string; schedule: string; id?: string; createdAt?: string; trigger?: string; ageHours?: number; count: number; problem?: string };
  pending: { migrations: string[]; refusal?: string; stateVersion?: { data: number; shipped: number }; interruptedRestore?: string };
}

/** LISTEN sockets from /proc/net/tcp{,6}: port → local addresses. */
export function listeningSockets(): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [file, v6] of [['/proc/net/tcp', false], ['/proc/net/tcp6', true]] as const) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== '0A' || !f[1]) continue;
      const [hexAddr, hexPort] = f[1].split(':') as [string, string];
      const port = Number.parseInt(hexPort, 16);
      out.set(port, [...(out.get(port) ?? []), decodeAddr(hexAddr, v6)]);
    }
  }
  return out;
}

export function decodeAddr(hex: string, v6: boolean): string {
  if (!v6) return [3, 2, 1, 0].map((i) => Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  // Four little-endian 32-bit words.
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) for (let b = 3; b >= 0; b--) bytes.push(Number.parseInt(hex.slice(w * 8 + b * 2, w * 8 + b * 2 + 2), 16));
  if (bytes.every((b) => b === 0)) return '::';
  if (bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) return '::1';
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

async function du(path: string): Promise<number | undefined> {
  if (!existsSync(path)) return 0;
  const r = await runCommand('du', ['-s', '-B1', '-x', path], { timeoutMs: 60_000 });
  const n = Number(r.stdout.split(/\s/)[0]);
  return r.exitCode === 0 && Number.isFinite(n) ? n : undefined;
}

function free(path: string): number | undefined {
  try {
    const s = statfsSync(path);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}

export async function collectStatus(ctx: CommandContext): Promise<StatusReport> {
  const { paths, env } = ctx;
  const serverEnv = existsSync(paths.immichServerEnv) ? parseEnvFile(readFileSync(paths.immichServerEnv, 'utf8')) : {};
  const conf = (await ctx.snapctl.getDocument(['http', 'https', 'internal']).catch(() => ({}))) as Record<string, Record<string, unknown> | undefined>;
  const num = (v: unknown, d: number) => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : d);
  const serverPort = num(serverEnv.IMMICH_PORT ?? conf.internal?.['server-port'], 3001);
  const mlPort = num(conf.internal?.['ml-port'], 3003);
  const statsPort = num(conf.internal?.['stats-port'], 8080);
  const httpPort = conf.http?.port === 'off' ? undefined : num(conf.http?.port, 80);
  const httpsOn = typeof conf.https?.mode === 'string' && conf.https.mode !== 'off';
  const httpsPort = httpsOn ? num(conf.https?.port, 443) : undefined;
  const pg = pgTarget(paths);

  const services = await ctx.snapctl.services().catch(() => []);

  let server: string | undefined;
  let extensions: Array<{ name: string; version: string }> = [];
  let dbBytes: number | undefined;
  const postgres = await timed(async () =>
    withTimeout(
      withDatabase(ctx, 'immich', async (db) => {
        server = (await db.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v;
        extensions = (await db.query<{ name: string; version: string }>('SELECT extname AS name, extversion AS version FROM pg_extension ORDER BY 1')).rows;
        dbBytes = Number((await db.query<{ b: string }>('SELECT sum(pg_database_size(datname))::bigint AS b FROM pg_database')).rows[0]?.b);
        return `accepting connections on ${pg.socketDir} (${server})`;
      }),
      5000,
      'postgres',
    ),
  );
  const redis = await timed(() => redisPing(paths));
  const immich = await timed(() => httpGet(serverPort, '/api/server/ping'));
  const haproxy = await timed(() => (httpPort ? httpGet(httpPort, '/api/server/ping') : httpsPort ? Promise.resolve(`HTTPS on ${httpsPort}`) : Promise.reject(new Error('no HTTP port'))));

  const listening = listeningSockets();
  const ports: StatusReport['ports'] = [
    ...(httpPort ? [{ what: 'HTTP (haproxy)', port: httpPort, expect: 'all addresses' }] : []),
    ...(httpsPort ? [{ what: 'HTTPS (haproxy)', port: httpsPort, expect: 'all addresses' }] : []),
    { what: 'Immich server', port: serverPort, expect: 'loopback' },
    { what: 'machine learning', port: mlPort, expect: 'loopback' },
    { what: 'HAProxy stats', port: statsPort, expect: 'loopback' },
    { what: 'Postgres', port: pg.port, expect: 'loopback' },
  ].map((p) => ({ ...p, listening: listening.get(p.port) ?? [] }));

  const media = await mediaLocation(ctx);
  const settings = await backupSettings(ctx);
  const areas: Array<[string, string, (() => Promise<number | undefined>)?]> = [
    ...MEDIA_FOLDERS.map((f) => [`media/${f}`, join(media, f)] as [string, string]),
    ['database', paths.pgClustersDir, async () => dbBytes],
    ['backups', settings.location],
    ['redis', paths.redisDir],
    ['ml-cache', paths.mlCache],
  ];
  const disk = await Promise.all(
    areas.map(async ([area, path, size]) => {
      try {
        return { area, path, bytes: await (size ? size() : du(path)), free: free(existsSync(path) ? path : media) };
      } catch (err) {
        return { area, path, problem: oneLine(err) };
      }
    }),
  );

  const backups = listBackups(settings.location).filter((b) => b.manifest);
  const last = backups.at(-1)?.manifest;
  const lastBackup: StatusReport['lastBackup'] = {
    location: settings.location,
    schedule: settings.schedule,
    count: backups.length,
    ...(last ? { id: last.id, createdAt: last.createdAt, trigger: last.trigger, ageHours: Math.round(((Date.now() - Date.parse(last.createdAt)) / 3_600_000) * 10) / 10 } : {}),
  };

  const pending: StatusReport['pending'] = { migrations: [] };
  try {
    const p = plan(gatherFacts(paths), shippedFacts(paths));
    if (p.ok) pending.migrations = p.migrations.map(migrationId);
    else pending.refusal = p.refusal;
  } catch (err) {
    pending.refusal = `cannot plan: ${oneLine(err)}`;
  }
  if (ctx.state) pending.stateVersion = { data: ctx.state.stateVersion, shipped: STATE_VERSION };
  try {
    const j = readJournal(ctx);
    if (j) pending.interruptedRestore = `restore ${j.tag} was interrupted: run sudo ${env.SNAP_INSTANCE_NAME}.restore --recover`;
  } catch (err) {
    pending.interruptedRestore = oneLine(err);
  }

  let shippedImmich: string | undefined;
  try {
    shippedImmich = (JSON.parse(readFileSync(paths.versionsFile, 'utf8')) as { immich?: { version?: string } }).immich?.version;
  } catch {
    shippedImmich = undefined;
  }

  return {
    snap: { instance: env.SNAP_INSTANCE_NAME, version: env.SNAP_VERSION, revision: env.SNAP_REVISION },
    services,
    health: { postgres, redis, immich, haproxy },
    versions: {
      immich: { shipped: shippedImmich, data: ctx.state?.immichVersion },
      postgres: { server, shippedMajors: shippedPgMajors(paths), dataMajor: ctx.state?.postgresMajor },
      extensions,
    },
    ports,
    disk,
    lastBackup,
    pending,
  };
}
