/**
 * The fake snapd's REST endpoint for snapctl, POST /v2/snapctl on `<root>/run/snapd-snap.socket`
 * (snapd's daemon/api_snapctl.go): body {"context-id", "args"}; a sync response
 * {"type":"sync","result":{"stdout","stderr"}}; an error {"type":"error","result":{"message"}}
 * ("error running snapctl: …", 400; a refusal, 403); an UnsuccessfulError (is-connected) as
 * {"type":"error","result":{"kind":"unsuccessful","value":{"stdout","stderr","exit-code"}}}.
 * It shares the command semantics of the stand-in (runSnapctl); the caller is taken to be root
 * (snapd reads the peer's uid from the socket; the hooks that use this endpoint run as root).
 */
import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import type { CommandResult } from './config.js';
import type { AfterCall, ResolveHost } from './snapctl-server.js';
import { runSnapctl } from './snapctl-commands.js';

export function toApiResponse(r: CommandResult): { status: number; body: unknown } {
  if (r.exitCode === 0) return { status: 200, body: { type: 'sync', 'status-code': 200, status: 'OK', result: { stdout: r.stdout, stderr: r.stderr } } };
  const line = r.stderr.trim();
  if (line.startsWith('error: error running snapctl: ')) {
    return { status: 400, body: { type: 'error', 'status-code': 400, status: 'Bad Request', result: { message: line.slice('error: '.length) } } };
  }
  if (line.startsWith('error: ')) return { status: 403, body: { type: 'error', 'status-code': 403, status: 'Forbidden', result: { message: line.slice('error: '.length) } } };
  return {
    status: 200,
    body: { type: 'error', 'status-code': 200, status: 'OK', result: { message: '', kind: 'unsuccessful', value: { stdout: r.stdout, stderr: r.stderr, 'exit-code': r.exitCode } } },
  };
}

export async function serveSnapdApi(socketPath: string, resolve: ResolveHost, afterCall?: AfterCall): Promise<{ close(): Promise<void> }> {
  if (existsSync(socketPath) && lstatSync(socketPath).isSocket()) unlinkSync(socketPath);
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', async () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || req.url !== '/v2/snapctl') return send(404, { type: 'error', result: { message: 'not found' } });
      let cookie = '';
      let args: string[] = [];
      try {
        const body = JSON.parse(text) as { 'context-id'?: unknown; args?: unknown };
        cookie = typeof body['context-id'] === 'string' ? body['context-id'] : '';
        if (!Array.isArray(body.args) || !body.args.every((a): a is string => typeof a === 'string')) throw new Error('args must be a list of strings');
        args = body.args;
      } catch (e) {
        return send(400, { type: 'error', result: { message: `cannot decode request body into snapctl options: ${(e as Error).message}` } });
      }
      const host = cookie === '' ? undefined : await resolve(cookie, 0);
      const result = await runSnapctl(host, args, 0);
      if (host && afterCall) await afterCall(cookie, result);
      const { status, body } = toApiResponse(result);
      send(status, body);
    });
  });
  await new Promise<void>((ok) => server.listen(socketPath, ok));
  chmodSync(socketPath, 0o666);
  return { close: () => new Promise<void>((ok) => server.close(() => ok())) };
}
