// TEST DOUBLE of Immich v3.2.0's Redis connection: the ioredis options built by
// server/src/repositories/config.repository.ts (3.x-derived, index id 69127333378) and used by
// BullMQ (prefix immich_bull), per docs/upstream/immich-runtime.md §6. ioredis connects to `path`
// (REDIS_SOCKET) when set, sends AUTH [username] password, SELECT db, and reconnects after a drop.
// Simplified: a minimal RESP2 client (AUTH, SELECT, PING only), no queues; a failed FIRST
// connection ends the start-up (ioredis itself would keep retrying).
import { type Socket, createConnection } from 'node:net';
import type { RedisOptions } from './env.js';
import { Logger } from './log.js';

type Reply = string | number | null | Reply[];

class ReplyError extends Error {
  override name = 'ReplyError';
}

/** One RESP2 reply from `buf` at `at`, or undefined when more bytes are needed. */
function parseReply(buf: Buffer, at: number): { value: Reply | ReplyError; end: number } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[at]!);
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new ReplyError(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return undefined;
      return { value: buf.toString('utf8', next, next + len), end: next + len + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let end = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, end);
        if (!item) return undefined;
        if (item.value instanceof ReplyError) return item;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`Protocol error, got ${JSON.stringify(type)} as reply type byte`);
  }
}

export class RedisClient {
  private socket?: Socket;
  private buffer = Buffer.alloc(0);
  private pending: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  private closing = false;
  private attempts = 0;
  private readonly log = new Logger('Redis');

  constructor(private readonly options: RedisOptions) {}

  /** Connects and authenticates; resolves with the PING answer. */
  async connect(): Promise<string> {
    await this.open();
    return this.handshake();
  }

  command(args: string[]): Promise<Reply> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.reject(new Error('Connection is closed.'));
    const parts = [`*${args.length}\r\n`, ...args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`)];
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      socket.write(parts.join(''));
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.command(['QUIT']).catch(() => undefined);
    this.socket?.destroy();
  }

  private open(): Promise<void> {
    const { path, host, port } = this.options;
    return new Promise((resolve, reject) => {
      const socket = path ? createConnection(path) : createConnection(port, host);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        this.socket = socket;
        this.buffer = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => this.onData(chunk));
        socket.on('error', (error) => this.log.error(`[ioredis] Unhandled error event: ${String(error)}`));
        socket.on('close', () => this.onClose());
        resolve();
      });
    });
  }

  private async handshake(): Promise<string> {
    const { username, password, db } = this.options;
    if (password) {
      try {
        await this.command(username ? ['AUTH', username, password] : ['AUTH', password]);
      } catch (error) {
        // ioredis only warns when the server has no password configured.
        if (!/no password is set|without any password configured/i.test((error as Error).message)) throw error;
        this.log.warn('[WARN] Redis server does not require a password, but a password was supplied.');
      }
    }
    if (db) await this.command(['SELECT', String(db)]);
    return String(await this.command(['PING']));
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const reply = parseReply(this.buffer, 0);
      if (!reply) return;
      this.buffer = this.buffer.subarray(reply.end);
      const waiter = this.pending.shift();
      if (!waiter) continue;
      if (reply.value instanceof ReplyError) waiter.reject(reply.value);
      else waiter.resolve(reply.value);
    }
  }

  private onClose(): void {
    for (const waiter of this.pending.splice(0)) waiter.reject(new Error('Connection is closed.'));
    this.socket = undefined;
    if (this.closing) return;
    // ioredis' default retryStrategy: min(times * 50, 2000) ms.
    this.attempts += 1;
    const delay = Math.min(this.attempts * 50, 2000);
    setTimeout(() => void this.reconnect(), delay).unref();
  }

  private async reconnect(): Promise<void> {
    if (this.closing) return;
    try {
      await this.open();
      await this.handshake();
      this.attempts = 0;
      this.log.log('Reconnected to Redis');
    } catch (error) {
      this.log.error(`[ioredis] Unhandled error event: ${String(error)}`);
      if (this.socket) this.socket.destroy();
      else this.onClose();
    }
  }
}
