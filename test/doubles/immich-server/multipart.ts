// TEST DOUBLE stand-in for multer, which Immich v3.2.0 uses for `POST /api/assets`
// (server/src/middleware/file-upload.interceptor.ts; not re-read): streams multipart/form-data
// files to disk while hashing them with sha1, and collects the text fields.
// Simplified: one pass, files only where `target` says, text fields up to 1 MiB, no charset handling.
import { createHash, type Hash } from 'node:crypto';
import { type WriteStream, createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { HttpError } from './http-util.js';

export interface FilePart {
  field: string;
  filename: string;
  path: string;
  size: number;
  sha1: Buffer;
}

export interface Multipart {
  fields: Record<string, string>;
  files: FilePart[];
}

/** Where to write a file part (undefined: discard it). */
export type FileTarget = (field: string, filename: string) => string | undefined;

interface Part {
  field: string;
  filename?: string;
  path?: string;
  out?: WriteStream;
  hash?: Hash;
  chunks?: Buffer[];
  size: number;
}

const FIELD_LIMIT = 1024 * 1024;

export async function parseMultipart(req: IncomingMessage, target: FileTarget): Promise<Multipart> {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(req.headers['content-type'] ?? '');
  const boundary = m?.[1] ?? m?.[2];
  if (!/^multipart\/form-data/i.test(req.headers['content-type'] ?? '') || !boundary) throw new HttpError(400, 'Multipart: Boundary not found');
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const result: Multipart = { fields: {}, files: [] };
  const created: string[] = [];
  // A leading CRLF lets the first boundary match the same `\r\n--boundary` as the others.
  let buf = Buffer.from('\r\n');
  type State = 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'end';
  let state = 'preamble' as State;
  let part: Part | undefined;

  const emit = async (data: Buffer) => {
    if (!part || data.length === 0) return;
    part.size += data.length;
    if (part.out) {
      part.hash!.update(data);
      if (!part.out.write(data)) await once(part.out, 'drain');
    } else if (part.chunks) {
      if (part.size > FIELD_LIMIT) throw new HttpError(413, 'Field value too long');
      part.chunks.push(data);
    }
  };

  const finishPart = async () => {
    if (!part) return;
    if (part.out) {
      part.out.end();
      await finished(part.out);
      result.files.push({ field: part.field, filename: part.filename!, path: part.path!, size: part.size, sha1: part.hash!.digest() });
    } else if (part.chunks) {
      result.fields[part.field] = Buffer.concat(part.chunks).toString('utf8');
    }
    part = undefined;
  };

  const startPart = (headerText: string) => {
    const disposition = /^content-disposition:(.*)$/im.exec(headerText)?.[1] ?? '';
    const field = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    if (field === undefined) throw new HttpError(400, 'Multipart: missing field name');
    if (filename === undefined) {
      part = { field, chunks: [], size: 0 };
      return;
    }
    const path = target(field, filename);
    part = { field, filename, size: 0 };
    if (path) {
      created.push(path);
      part.path = path;
      part.out = createWriteStream(path, { flags: 'wx' });
      part.hash = createHash('sha1');
    }
  };

  const advance = async () => {
    for (;;) {
      if (state === 'end') return;
      if (state === 'preamble' || state === 'body') {
        const i = buf.indexOf(delimiter);
        if (i < 0) {
          const keep = Math.min(buf.length, delimiter.length - 1);
          if (state === 'body') await emit(buf.subarray(0, buf.length - keep));
          buf = buf.subarray(buf.length - keep);
          return;
        }
        if (state === 'body') {
          await emit(buf.subarray(0, i));
          await finishPart();
        }
        buf = buf.subarray(i + delimiter.length);
        state = 'after-delimiter';
      } else if (state === 'after-delimiter') {
        if (buf.length < 2) return;
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          state = 'end';
          return;
        }
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        buf = buf.subarray(eol + 2);
        state = 'headers';
      } else {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buf.length > 16 * 1024) throw new HttpError(400, 'Multipart: headers too long');
          return;
        }
        startPart(buf.toString('utf8', 0, end));
        buf = buf.subarray(end + 4);
        state = 'body';
      }
    }
  };

  try {
    for await (const chunk of req) {
      buf = Buffer.concat([buf, chunk as Buffer]);
      await advance();
    }
    if (state !== 'end') throw new HttpError(400, 'Unexpected end of form');
    return result;
  } catch (error) {
    part?.out?.destroy();
    await Promise.all(created.map((p) => unlink(p).catch(() => undefined)));
    throw error;
  }
}
