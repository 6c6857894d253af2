import { request } from 'node:http';
import { join } from 'node:path';
import type { CommandRunner, RunResult } from './exec.js';

/**
 * snapctl's own transport: POST /v2/snapctl on snapd's snap socket with the hook's or app's
 * cookie. Used for calls whose arguments carry a secret (`snapctl set database-password=…`):
 * the arguments then never appear on a command line, where /proc makes them readable to every
 * local user. The socket path follows snapd's dirs package (honours SNAPPY_GLOBAL_ROOT, as the
 * real snapctl does; unset in a real snap).
 */
export function snapdSnapSocket(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.SNAPPY_GLOBAL_ROOT || '/', 'run/snapd-snap.socket');
}

interface SnapdResponse {
  type?: string;
  result?: { stdout?: string; stderr?: string; message?: string; kind?: string; value?: { stdout?: string; stderr?: string; 'exit-code'?: number } };
}

/** A CommandRunner that runs `snapctl <args>` through snapd's API (the file argument is ignored). */
export const snapdSocketRunner: CommandRunner = (_file, args, options = {}) => {
  const env = options.env ? { ...process.env, ...options.env } : process.env;
  const cookie = env.SNAP_COOKIE || env.SNAP_CONTEXT || '';
  const body = JSON.stringify({ 'context-id': cookie, args });
  return new Promise<RunResult>((resolve) => {
    const req = request(
      { socketPath: snapdSnapSocket(env), path: '/v2/snapctl', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(decode(text)));
      },
    );
    req.setTimeout(options.timeoutMs ?? 300_000, () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve({ exitCode: 1, stdout: '', stderr: `error: cannot communicate with snapd: ${err.message}\n` }));
    req.end(body);
  });
};

function decode(text: string): RunResult {
  let res: SnapdResponse;
  try {
    res = JSON.parse(text) as SnapdResponse;
  } catch {
    return { exitCode: 1, stdout: '', stderr: 'error: cannot decode the answer of snapd\n' };
  }
  const r = res.result ?? {};
  if (res.type === 'sync') return { exitCode: 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (r.kind === 'unsuccessful') return { exitCode: r.value?.['exit-code'] ?? 1, stdout: r.value?.stdout ?? '', stderr: r.value?.stderr ?? '' };
  return { exitCode: 1, stdout: '', stderr: `error: ${r.message ?? 'snapd refused the request'}\n` };
}
