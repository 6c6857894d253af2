// TEST DOUBLE of Immich v3.2.0's HTTP surface: API listen and Express setup of server/src/app.common.ts
// / workers/api.ts (index id 10133566183; `trust proxy = ['loopback', ...trustedProxies]`, global
// prefix /api, 24 h request timeout, SPA fallback to www/index.html), the routes of
// `@immich/sdk@3.2.2` listed in docs/upstream/immich-runtime.md §3 and §7, plus /api/double/* (test-only).
// Simplified: node:http with a hand-written router instead of NestJS/Express; no websockets, no
// helmet, no compression; the maintenance restore answers when it is done.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve, sep } from 'node:path';
import proxyaddr from 'proxy-addr';
import { downloadOriginal, uploadAsset } from './assets.js';
import { adminSignUp, authenticate, login } from './auth.js';
import { type BackupContext, listBackups, restoreDatabase, runBackupJob } from './backup.js';
import { HttpError, readJson, sendError, sendJson, stringField } from './http-util.js';

export interface AppContext extends BackupContext {
  indexHtml: string;
}

const MANUAL_JOBS = ['person-cleanup', 'tag-cleanup', 'user-cleanup', 'memory-cleanup', 'memory-create', 'backup-database'];

export function createApp(ctx: AppContext): Server {
  // Express compiles `trust proxy` with proxy-addr the same way (an invalid entry throws here, at start).
  const trust = proxyaddr.compile(ctx.config.network.trustProxy);
  const server = createServer((req, res) => {
    route(ctx, trust, req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, error);
      else res.destroy();
    });
  });
  server.requestTimeout = 24 * 60 * 60 * 1000;
  return server;
}

/** Nest's getUrl(): `::` is shown as [::1], `0.0.0.0` as 127.0.0.1, IPv6 bracketed. */
export function listenUrl(address: AddressInfo): string {
  const host = address.address === '::' ? '::1' : address.address === '0.0.0.0' ? '127.0.0.1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

async function route(ctx: AppContext, trust: (addr: string, i: number) => boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://double.invalid');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const { db } = ctx;
  const is = (m: string, p: string) => method === m && path === p;

  if (is('GET', '/api/server/ping')) return sendJson(res, 200, { res: 'pong' });
  if (is('GET', '/api/server/version')) {
    const [major, minor, patch] = ctx.serverVersion.split(/[.-]/).map(Number);
    return sendJson(res, 200, { major, minor, patch, prerelease: null });
  }
  if (is('POST', '/api/auth/admin-sign-up')) return sendJson(res, 201, await adminSignUp(db, await readJson(req)));
  if (is('POST', '/api/auth/login')) {
    const body = await login(db, await readJson(req));
    const cookie = (name: string, value: string) => `${name}=${value}; Path=/; Max-Age=34560000; HttpOnly; SameSite=Lax`;
    return sendJson(res, 201, body, {
      'set-cookie': [cookie('immich_access_token', body.accessToken), cookie('immich_auth_type', 'password'), 'immich_is_authenticated=true; Path=/; SameSite=Lax'],
    });
  }
  if (is('POST', '/api/assets')) {
    const user = await authenticate(db, req);
    const [status, body] = await uploadAsset(db, user, req, ctx.mediaLocation);
    return sendJson(res, status, body);
  }
  const original = /^\/api\/assets\/([^/]+)\/original$/.exec(path);
  if (original && method === 'GET') return downloadOriginal(db, await authenticate(db, req), original[1]!, res);

  if (is('POST', '/api/jobs')) {
    await authenticate(db, req, { admin: true });
    const name = stringField(await readJson(req), 'name');
    if (!name || !MANUAL_JOBS.includes(name)) throw new HttpError(400, [`name must be one of the following values: ${MANUAL_JOBS.join(', ')}`]);
    if (name === 'backup-database') void runBackupJob(ctx);
    res.writeHead(204).end();
    return;
  }
  if (is('GET', '/api/admin/database-backups')) {
    await authenticate(db, req, { admin: true });
    return sendJson(res, 200, await listBackups(ctx.mediaLocation));
  }
  if (is('POST', '/api/admin/maintenance')) {
    await authenticate(db, req, { admin: true });
    const body = await readJson(req);
    const action = stringField(body, 'action');
    const filename = stringField(body, 'restoreBackupFilename');
    if (action !== 'restore_database') throw new HttpError(400, `test double: only action restore_database is implemented (got ${String(action)})`);
    if (!filename) throw new HttpError(400, 'restoreBackupFilename is required');
    try {
      await restoreDatabase(ctx, filename);
      ctx.state.lastRestore = { ok: true, file: filename, finishedAt: new Date().toISOString() };
      return sendJson(res, 200, { ok: true });
    } catch (error) {
      ctx.state.lastRestore = { ok: false, file: filename, error: (error as Error).message, finishedAt: new Date().toISOString() };
      return sendJson(res, 500, { ok: false, error: (error as Error).message });
    }
  }

  // --- test-only endpoints ---------------------------------------------------------------------
  if (is('GET', '/api/double/whoami')) return sendJson(res, 200, { ip: proxyaddr(req, trust), remoteAddress: req.socket.remoteAddress });
  if (is('GET', '/api/double/state')) return sendJson(res, 200, ctx.state);
  if (is('POST', '/api/double/upload')) {
    let bytes = 0;
    for await (const chunk of req) bytes += (chunk as Buffer).length;
    return sendJson(res, 200, { bytes });
  }
  if (is('GET', '/api/double/download')) return sendBytes(res, Number(url.searchParams.get('bytes') ?? 0));

  if (path === '/api' || path.startsWith('/api/')) throw new HttpError(404, `Cannot ${method} ${path}`);
  if (method !== 'GET' && method !== 'HEAD') throw new HttpError(404, `Cannot ${method} ${path}`);
  return sendWeb(ctx, path, res);
}

/** A static file under www/, else index.html (SPA fallback; empty HTML when it is missing). */
async function sendWeb(ctx: AppContext, path: string, res: ServerResponse): Promise<void> {
  const root = ctx.config.resourcePaths.web.root;
  let file = '';
  try {
    file = resolve(root, `.${decodeURIComponent(path)}`);
  } catch {
    // a malformed escape: serve the SPA
  }
  if (path !== '/' && file.startsWith(root + sep)) {
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) {
      res.writeHead(200, { 'content-length': info.size, 'content-type': file.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/octet-stream' });
      createReadStream(file).pipe(res);
      return;
    }
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(ctx.indexHtml) });
  res.end(ctx.indexHtml);
}

function sendBytes(res: ServerResponse, total: number): void {
  if (!Number.isSafeInteger(total) || total < 0) throw new HttpError(400, 'bytes must be a non-negative integer');
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
  const chunk = Buffer.alloc(64 * 1024, 97);
  let left = total;
  const pump = () => {
    while (left > 0) {
      const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= part.length;
      if (!res.write(part)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}
