import * as z from 'zod';
import type { IndexEntry } from './plan.js';
import { TRIGGERS } from './retention.js';
import { IMMICH_DATABASE } from '../postgres/bootstrap.js';

/**
 * What one backup directory holds and how it is described (pure). No secret is ever written here:
 * the manifest records versions, sizes and checksums, never a password, a key or an environment.
 *
 *   <location>/<id>/manifest.json        this description (written last: its presence = complete)
 *   <location>/<id>/database.pgdump.zst  `pg_dump -Fc -Z0` of database `immich`, compressed by zstd
 *   <location>/<id>/media-index.jsonl    one line per media file: path, size, mtime, mode, sha256
 *   <location>/<id>/media/<folder>/…     the media files (hard links to the previous snapshot's
 *                                        copy when unchanged)
 */

export const MANIFEST_FILE = 'manifest.json';
export const DATABASE_FILE = 'database.pgdump.zst';
export const MEDIA_INDEX_FILE = 'media-index.jsonl';
export const MEDIA_DIR = 'media';
export const MANIFEST_FORMAT = 1;

/** Immich's storage folders holding what cannot be regenerated (immich-requirements §4–§5). */
export const ORIGINAL_FOLDERS = ['library', 'upload', 'profile'] as const;
/** Regenerable folders: thumbnails and transcodes, backed up only when asked for. */
export const REGENERABLE_FOLDERS = ['thumbs', 'encoded-video'] as const;
export type MediaFolder = (typeof ORIGINAL_FOLDERS)[number] | (typeof REGENERABLE_FOLDERS)[number];
export const MEDIA_FOLDERS: readonly MediaFolder[] = [...ORIGINAL_FOLDERS, ...REGENERABLE_FOLDERS];

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const fileRef = z.object({ file: z.string().regex(/^[A-Za-z0-9._-]+$/), bytes: z.number().int().nonnegative(), sha256 }).strict();

export const ManifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    id: z.string(),
    createdAt: z.string(),
    trigger: z.enum(TRIGGERS),
    snap: z.object({ version: z.string(), revision: z.string() }).strict(),
    state: z
      .object({
        stateVersion: z.number().int(),
        immichVersion: z.string(),
        postgresMajor: z.number().int(),
        vectorExtension: z.object({ name: z.string(), version: z.string() }).strict(),
      })
      .strict()
      .nullable(),
    postgres: z
      .object({
        serverVersion: z.string(),
        serverMajor: z.number().int(),
        extensions: z.array(z.object({ name: z.string(), version: z.string() }).strict()),
      })
      .strict(),
    database: fileRef
      .extend({
        name: z.string(),
        format: z.literal('pg_dump-custom'),
        compression: z.literal('zstd'),
        /** pg_database_size when dumped: what a restore needs free on the cluster's filesystem. */
        databaseBytes: z.number().int().nonnegative(),
        tables: z.number().int().nonnegative(),
        tocEntries: z.number().int().nonnegative(),
        durationMs: z.number().nonnegative(),
      })
      .strict(),
    media: z
      .object({
        folders: z.array(z.enum(MEDIA_FOLDERS as [MediaFolder, ...MediaFolder[]])),
        index: fileRef,
        files: z.number().int().nonnegative(),
        bytes: z.number().int().nonnegative(),
        linked: z.number().int().nonnegative(),
        copied: z.number().int().nonnegative(),
        copiedBytes: z.number().int().nonnegative(),
        previous: z.string().nullable(),
        durationMs: z.number().nonnegative(),
      })
      .strict()
      .nullable(),
  })
  .strict();

export type Manifest = z.infer<typeof ManifestSchema>;

/** The manifest's database entry for a dump made by dumpDatabase and checked by verifyDump. */
export function databaseEntry(
  dumped: { bytes: number; sha256: string },
  check: { tables: number; tocEntries: number },
  databaseBytes: number,
  durationMs: number,
): Manifest['database'] {
  return {
    file: DATABASE_FILE,
    bytes: dumped.bytes,
    sha256: dumped.sha256,
    name: IMMICH_DATABASE,
    format: 'pg_dump-custom',
    compression: 'zstd',
    databaseBytes,
    tables: check.tables,
    tocEntries: check.tocEntries,
    durationMs,
  };
}

export function renderManifest(m: Manifest): string {
  return `${JSON.stringify(ManifestSchema.parse(m), null, 2)}\n`;
}

/** Parses a manifest; the error names the first problem (one line). */
export function parseManifest(text: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('manifest.json is not valid JSON');
  }
  const r = ManifestSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`manifest.json is invalid (${i ? `${i.path.join('.') || 'root'}: ${i.message}` : 'unknown'})`);
  }
  return r.data;
}

// --- media index: one JSON object per line, sorted by path --------------------------------------

interface IndexLine {
  p: string;
  s: number;
  m: string;
  o: number;
  h: string;
}

export function renderIndexLine(e: IndexEntry): string {
  const line: IndexLine = { p: e.path, s: e.size, m: e.mtimeNs.toString(), o: e.mode, h: e.sha256 };
  return `${JSON.stringify(line)}\n`;
}

/** A relative media path that stays inside its folder: no absolute path, no `..`, no empty part. */
export function safeMediaPath(p: string): boolean {
  if (p === '' || p.startsWith('/') || p.includes('\0')) return false;
  const parts = p.split('/');
  return parts.length >= 2 && MEDIA_FOLDERS.includes(parts[0] as MediaFolder) && parts.every((s) => s !== '' && s !== '.' && s !== '..');
}

export function parseIndex(text: string): IndexEntry[] {
  const out: IndexEntry[] = [];
  let n = 0;
  for (const line of text.split('\n')) {
    n++;
    if (line === '') continue;
    let o: Partial<IndexLine>;
    try {
      o = JSON.parse(line) as Partial<IndexLine>;
    } catch {
      throw new Error(`media index line ${n} is not valid JSON`);
    }
    if (
      typeof o.p !== 'string' || !safeMediaPath(o.p) ||
      typeof o.s !== 'number' || !Number.isInteger(o.s) || o.s < 0 ||
      typeof o.m !== 'string' || !/^\d+$/.test(o.m) ||
      typeof o.o !== 'number' || !Number.isInteger(o.o) ||
      typeof o.h !== 'string' || !/^[0-9a-f]{64}$/.test(o.h)
    ) {
      throw new Error(`media index line ${n} is malformed`);
    }
    out.push({ path: o.p, size: o.s, mtimeNs: BigInt(o.m), mode: o.o & 0o7777, sha256: o.h });
  }
  return out;
}
