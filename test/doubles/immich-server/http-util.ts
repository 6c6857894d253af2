// TEST DOUBLE helpers for the HTTP layer of Immich v3.2.0 (NestJS + Express, server/src/app.common.ts,
// index id 10133566183): JSON bodies and Nest's error shape `{message, error, statusCode}`.
// Simplified: no correlation ids, no class/zod DTO validation pipeline.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string | string[],
  ) {
    super(Array.isArray(message) ? message.join(', ') : message);
    this.body = { message, error: STATUS_CODES[status] ?? 'Error', statusCode: status };
  }
  readonly body: { message: string | string[]; error: string; statusCode: number };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, error: unknown): void {
  if (error instanceof HttpError) return sendJson(res, error.status, error.body);
  sendJson(res, 500, { message: 'Internal server error', error: String(error), statusCode: 500 });
}

/** A JSON object body (Express' json parser, 100 kB limit here). */
export async function readJson(req: IncomingMessage, limit = 100 * 1024): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, 'request entity too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new HttpError(400, 'Invalid JSON body');
}

export function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  return typeof value === 'string' ? value : undefined;
}
