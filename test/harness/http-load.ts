import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createNetServer } from 'node:net';

/**
 * Loopback stand-ins for HAProxy tests and benchmarks: a tiny "Immich server" (ping, streamed
 * uploads and downloads) and a bounded load generator that checks every byte it gets back.
 */

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const CHUNK = 256 * 1024;

/** Random bytes that payloads are cut from (no per-byte JavaScript on the hot path). */
const SOURCE = randomBytes(8 * 1024 * 1024);

/** Bytes offset..offset+length of the payload with this seed. */
function pattern(seed: number, offset: number, length: number): Buffer {
  const start = ((seed * 104_729) % (1024 * 1024)) + offset;
  if (start + length > SOURCE.length) throw new Error('payload larger than the pattern source');
  return SOURCE.subarray(start, start + length);
}

function digest(parts: Buffer[]): string {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface FakeImmich {
  port: number;
  server: Server;
  close(): Promise<void>;
}

/**
 * GET /api/server/ping → {"res":"pong"}; POST /upload → {"bytes","sha1"} of the streamed body;
 * GET /download?size=N&seed=S&delay=D → N pattern bytes in 256 KiB chunks, D ms apart.
 */
export function startFakeImmich(port: number): Promise<FakeImmich> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/server/ping') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"res":"pong"}');
      return;
    }
    if (url.pathname === '/upload' && req.method === 'POST') {
      let bytes = 0;
      const h = createHash('sha1');
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        h.update(c);
      });
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ bytes, sha1: h.digest('hex') }));
      });
      return;
    }
    if (url.pathname === '/download') {
      const size = Number(url.searchParams.get('size') ?? 0);
      const seed = Number(url.searchParams.get('seed') ?? 0);
      const delay = Number(url.searchParams.get('delay') ?? 0);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
      void (async () => {
        for (let off = 0; off < size; off += CHUNK) {
          if (res.destroyed) return;
          const ok = res.write(pattern(seed, off, Math.min(CHUNK, size - off)));
          if (!ok) await new Promise((r) => res.once('drain', r));
          if (delay > 0) await sleep(delay);
        }
        res.end();
      })();
      return;
    }
    res.writeHead(404).end();
  });
  server.keepAliveTimeout = 120_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve({
        port,
        server,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      }),
    );
  });
}

export interface LoadOptions {
  port: number;
  /** Requests to send in total (fixed count). */
  requests: number;
  concurrency: number;
  /** Stop starting new requests after this long (bound). */
  deadlineMs: number;
  /** Pause between 256 KiB chunks of upload and download, to keep requests in flight longer. */
  chunkDelayMs?: number;
  minBytes?: number;
  maxBytes?: number;
  /** Stop starting new requests once this returns true (e.g. when the reloads under test are done). */
  stop?: () => boolean;
  /** Pause after a failed request, so a refused connection does not spin the worker (0 = none). */
  failurePauseMs?: number;
}

export interface LoadResult {
  ok: number;
  failed: number;
  failures: string[];
  /** [start, end] in Date.now() ms of every finished request. */
  spans: Array<[number, number]>;
  bytesUp: number;
  bytesDown: number;
  elapsedMs: number;
}

/**
 * Runs `requests` requests, `concurrency` at a time, alternating uploads and downloads of
 * minBytes..maxBytes; half of the workers reuse keep-alive connections, half open a new
 * connection per request. A request fails on any error, a non-200 status or a wrong byte.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const started = Date.now();
  const min = opts.minBytes ?? 1024 * 1024;
  const max = opts.maxBytes ?? 5 * 1024 * 1024;
  const delay = opts.chunkDelayMs ?? 0;
  const keepAlive = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const result: LoadResult = { ok: 0, failed: 0, failures: [], spans: [], bytesUp: 0, bytesDown: 0, elapsedMs: 0 };
  let next = 0;
  const worker = async (w: number) => {
    const agent = w % 2 === 0 ? keepAlive : false;
    for (;;) {
      const n = next++;
      if (n >= opts.requests || Date.now() - started > opts.deadlineMs || opts.stop?.()) return;
      const size = min + ((n * 2654435761) % (max - min + 1));
      const t0 = Date.now();
      try {
        if (n % 2 === 0) await upload(opts.port, agent, size, n, delay);
        else await download(opts.port, agent, size, n, delay);
        result.ok++;
        if (n % 2 === 0) result.bytesUp += size;
        else result.bytesDown += size;
      } catch (err) {
        result.failed++;
        if (result.failures.length < 20) result.failures.push(`#${n} ${n % 2 === 0 ? 'upload' : 'download'} ${size} B: ${(err as Error).message}`);
        result.spans.push([t0, Date.now()]);
        if (opts.failurePauseMs) await sleep(opts.failurePauseMs);
        continue;
      }
      result.spans.push([t0, Date.now()]);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, (_, w) => worker(w)));
  keepAlive.destroy();
  result.elapsedMs = Date.now() - started;
  return result;
}

function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('response aborted')));
  });
}

function upload(port: number, agent: Agent | false, size: number, seed: number, delay: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/upload', agent, headers: { 'content-length': String(size), 'content-type': 'application/octet-stream', ...(agent ? {} : { connection: 'close' }) } },
      (res) => {
        readAll(res).then((body) => {
          if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
          const got = JSON.parse(body.toString()) as { bytes: number; sha1: string };
          const sent = digest([pattern(seed, 0, size)]);
          if (got.bytes !== size || got.sha1 !== sent) return reject(new Error(`backend got ${got.bytes} B (sha1 ${got.sha1}), sent ${size} B (sha1 ${sent})`));
          resolve();
        }, reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('timed out after 30 s')));
    void (async () => {
      for (let off = 0; off < size; off += CHUNK) {
        if (req.destroyed) return;
        const ok = req.write(pattern(seed, off, Math.min(CHUNK, size - off)));
        if (!ok) await new Promise((r) => req.once('drain', r));
        if (delay > 0) await sleep(delay);
      }
      req.end();
    })();
  });
}

function download(port: number, agent: Agent | false, size: number, seed: number, delay: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'GET', path: `/download?size=${size}&seed=${seed}&delay=${delay}`, agent, headers: agent ? {} : { connection: 'close' } },
      (res) => {
        readAll(res).then((body) => {
          if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
          if (body.length !== size) return reject(new Error(`got ${body.length} B, expected ${size} B`));
          if (digest([body]) !== digest([pattern(seed, 0, size)])) return reject(new Error('content differs'));
          resolve();
        }, reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('timed out after 30 s')));
    req.end();
  });
}
