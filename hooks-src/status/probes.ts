import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { oneLine } from '../snap/errors.js';
import { runCommand } from '../snap/exec.js';
import type { SnapPaths } from '../snap/paths.js';

/** One health probe's outcome (status and check-health share them). */
export interface Probe {
  ok: boolean;
  detail: string;
  ms: number;
}

export async function timed(fn: () => Promise<string>): Promise<Probe> {
  const t = Date.now();
  try {
    return { ok: true, detail: await fn(), ms: Date.now() - t };
  } catch (err) {
    return { ok: false, detail: oneLine(err), ms: Date.now() - t };
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms).unref())]);
}

/** GET on loopback; resolves with a short description for status < 400, else rejects with the status. */
export function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d.slice(0, 200)));
      res.on('end', () => ((res.statusCode ?? 0) < 400 ? resolve(`HTTP ${res.statusCode} ${body.trim().slice(0, 60)}`) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Redis PING over its socket; the password reaches redis-cli through REDISCLI_AUTH, never its arguments. */
export async function redisPing(paths: SnapPaths): Promise<string> {
  const password = existsSync(paths.secret('redis-password')) ? readFileSync(paths.secret('redis-password'), 'utf8').trim() : '';
  const r = await runCommand(paths.redisCli, ['-s', paths.redisSocket, 'ping'], { env: { REDISCLI_AUTH: password }, timeoutMs: 3000 });
  if (r.exitCode !== 0 || !/PONG/.test(r.stdout)) throw new Error(oneLine(r.stderr || r.stdout || `exit ${r.exitCode}`));
  return 'PONG';
}
