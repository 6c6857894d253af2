// TEST DOUBLE of Immich v3.2.0's asset upload and download: server/src/controllers/asset-media.controller.ts
// (201 created / 200 duplicate, commit 01cc6522119c7d07f9149d23154378e09572a52f) and
// server/src/services/asset-media.service.ts (sha1 checksum per owner, `x-immich-checksum`,
// files under upload/<userId>/<id[0:2]>/<id[2:4]>/), shapes of `@immich/sdk@3.2.2`
// (docs/upstream/immich-runtime.md §7).
// Simplified: no thumbnails, metadata extraction, sidecars or live photos; the file is named after
// the asset id; the extension list is a subset of Immich's mime-types.ts.
import { randomUUID } from 'node:crypto';
import { createReadStream, mkdirSync } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, extname, join } from 'node:path';
import type { AuthUser } from './auth.js';
import type { Database } from './database.js';
import { HttpError } from './http-util.js';
import { parseMultipart } from './multipart.js';
import { baseFolder } from './storage.js';

const IMAGE = ['.avif', '.bmp', '.dng', '.gif', '.heic', '.heif', '.jpeg', '.jpg', '.jxl', '.png', '.raw', '.svg', '.tif', '.tiff', '.webp', '.cr2', '.nef', '.arw'];
const VIDEO = ['.3gp', '.avi', '.m2ts', '.m4v', '.mkv', '.mov', '.mp4', '.mpg', '.mts', '.webm', '.wmv'];
const CONTENT_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.heic': 'image/heic',
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
};

/** `x-immich-checksum`: sha1 as 40 hex digits or base64. */
function headerChecksum(req: IncomingMessage): Buffer | undefined {
  const value = req.headers['x-immich-checksum'];
  if (typeof value !== 'string' || value === '') return undefined;
  return /^[0-9a-f]{40}$/i.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
}

async function findDuplicate(db: Database, ownerId: string, checksum: Buffer): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM asset WHERE "ownerId" = $1 AND checksum = $2', [ownerId, checksum]);
  return rows[0]?.id;
}

const validDate = (value: string | undefined) => value !== undefined && !Number.isNaN(Date.parse(value));

/** POST /api/assets → [status, body]. */
export async function uploadAsset(db: Database, user: AuthUser, req: IncomingMessage, mediaLocation: string): Promise<[number, unknown]> {
  const claimed = headerChecksum(req);
  if (claimed) {
    const existing = await findDuplicate(db, user.id, claimed);
    if (existing) {
      req.resume();
      return [200, { id: existing, status: 'duplicate' }];
    }
  }

  const id = randomUUID();
  const folder = join(baseFolder(mediaLocation, 'upload'), user.id, id.slice(0, 2), id.slice(2, 4));
  let unsupported: string | undefined;
  const form = await parseMultipart(req, (field, filename) => {
    if (field !== 'assetData') return undefined;
    const ext = extname(filename).toLowerCase();
    if (!IMAGE.includes(ext) && !VIDEO.includes(ext)) {
      unsupported = filename;
      return undefined;
    }
    mkdirSync(folder, { recursive: true });
    return join(folder, `${id}${ext}`);
  });
  const file = form.files.find((f) => f.field === 'assetData');
  const problems: string[] = [];
  if (unsupported !== undefined) problems.push(`Unsupported file type ${unsupported}`);
  else if (!file) problems.push('assetData is required');
  if (!validDate(form.fields.fileCreatedAt)) problems.push('fileCreatedAt must be a Date instance');
  if (!validDate(form.fields.fileModifiedAt)) problems.push('fileModifiedAt must be a Date instance');
  if (problems.length > 0 || !file) {
    if (file) await unlink(file.path).catch(() => undefined);
    throw new HttpError(400, problems);
  }

  const duplicate = await findDuplicate(db, user.id, file.sha1);
  if (duplicate) {
    await unlink(file.path).catch(() => undefined);
    return [200, { id: duplicate, status: 'duplicate' }];
  }
  const filename = basename(form.fields.filename || file.filename);
  await db.query(
    `INSERT INTO asset (id, "ownerId", type, "originalPath", "originalFileName", checksum, "fileCreatedAt", "fileModifiedAt")
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [id, user.id, VIDEO.includes(extname(file.path)) ? 'VIDEO' : 'IMAGE', file.path, filename, file.sha1, form.fields.fileCreatedAt, form.fields.fileModifiedAt],
  );
  return [201, { id, status: 'created' }];
}

/** GET /api/assets/<id>/original: the stored bytes. */
export async function downloadOriginal(db: Database, user: AuthUser, id: string, res: ServerResponse): Promise<void> {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
  const { rows } = uuid
    ? await db.query<{ path: string; name: string }>('SELECT "originalPath" AS path, "originalFileName" AS name FROM asset WHERE id = $1 AND "ownerId" = $2', [id, user.id])
    : { rows: [] };
  const asset = rows[0];
  if (!asset) throw new HttpError(400, 'Not found or no asset.download access');
  const { size } = await stat(asset.path);
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(asset.path).toLowerCase()] ?? 'application/octet-stream',
    'content-length': size,
    'cache-control': 'private, max-age=86400, no-transform',
    'content-disposition': `inline; filename*=UTF-8''${encodeURIComponent(asset.name)}`,
  });
  await new Promise<void>((resolve) => {
    const stream = createReadStream(asset.path);
    stream.once('error', () => res.destroy());
    res.once('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}
