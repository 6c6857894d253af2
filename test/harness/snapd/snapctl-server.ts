/**
 * The fake snapd's snapctl endpoint: a unix socket speaking one JSON line each way.
 *
 * request:  {"cookie": "<SNAP_COOKIE or empty>", "args": ["get", "key"], "uid": 0}\n
 * response: {"stdout": "...", "stderr": "...", "exitCode": 0}\n
 *
 * An unknown or empty cookie runs the command with no context, so each command fails where
 * snapd's would (`cannot invoke snapctl operation commands (here "get") from outside of a snap`,
 * but e.g. `get` with no key still says `get which option?` first).
 */
import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import type { CommandResult } from './config.js';
import { type SnapctlHost, runSnapctl } from './snapctl-commands.js';

export type ResolveHost = (cookie: string, uid: number) => Promise<SnapctlHost | undefined> | SnapctlHost | undefined;

/**
 * Called after each call that had a context, before the answer is sent (snapd commits an app's
 * ephemeral context here, `context.Done()`, and only when the call succeeded). If it throws, the
 * caller gets `error: set failed: <message>`, exit 1.
 */
export type AfterCall = (cookie: string, result: CommandResult) => void | Promise<void>;

export interface SnapctlServer {
  path: string;
  close(): Promise<void>;
}

interface Request {
  cookie: string;
  args: string[];
  uid: number;
}

function parseRequest(line: string): Request {
  const raw: unknown = JSON.parse(line);
  if (typeof raw !== 'object' || raw === null) throw new Error('request is not an object');
  const r = raw as Record<string, unknown>;
  const cookie = r.cookie ?? '';
  const args = r.args;
  const uid = r.uid;
  if (typeof cookie !== 'string') throw new Error('cookie must be a string');
  if (!Array.isArray(args) || !args.every((a): a is string => typeof a === 'string')) throw new Error('args must be a list of strings');
  if (typeof uid !== 'number' || !Number.isInteger(uid) || uid < 0) throw new Error('uid must be a non-negative integer');
  return { cookie, args, uid };
}

export async function handleSnapctlRequest(line: string, resolve: ResolveHost, afterCall?: AfterCall): Promise<CommandResult> {
  let req: Request;
  try {
    req = parseRequest(line);
  } catch (e) {
    return { stdout: '', stderr: `error: cannot decode snapctl request: ${(e as Error).message}\n`, exitCode: 1 };
  }
  const host = req.cookie === '' ? undefined : await resolve(req.cookie, req.uid);
  const result = await runSnapctl(host, req.args, req.uid);
  if (host && afterCall) {
    try {
      await afterCall(req.cookie, result);
    } catch (e) {
      return { stdout: '', stderr: `error: set failed: ${(e as Error).message}\n`, exitCode: 1 };
    }
  }
  return result;
}

/**
 * Listens on `socketPath` (a stale socket file there is removed first). The socket is made
 * world-writable like snapd's `/run/snapd-snap.socket`, so apps running as other users reach it.
 */
export async function serveSnapctl(socketPath: string, resolve: ResolveHost, afterCall?: AfterCall): Promise<SnapctlServer> {
  if (existsSync(socketPath) && lstatSync(socketPath).isSocket()) unlinkSync(socketPath);
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.setEncoding('utf8');
    let buf = '';
    let handled = false;
    sock.on('data', (chunk: string) => {
      if (handled) return;
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      handled = true;
      const line = buf.slice(0, nl);
      handleSnapctlRequest(line, resolve, afterCall)
        .catch((e: unknown): CommandResult => ({ stdout: '', stderr: `error: internal error: ${(e as Error)?.message ?? String(e)}\n`, exitCode: 1 }))
        .then((r) => {
          if (!sock.destroyed) sock.end(`${JSON.stringify({ stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode })}\n`);
        });
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(socketPath, () => {
      server.off('error', fail);
      chmodSync(socketPath, 0o666);
      ok();
    });
  });
  return {
    path: socketPath,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}
