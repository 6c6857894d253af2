// snap/versions.json as far as `npm run pins` reads and writes it. The file stays the owner of its
// layout: values are read from and written back to their existing keys, so key order, the "$comment"
// entries and every section the script does not manage (postgresql, pgvector, redis, …) are kept.
import { isSha256 } from './parse.js';

export interface ArchPair {
  amd64: string;
  arm64: string;
}
export interface ToolPin {
  version: string;
  url: ArchPair;
  sha256: ArchPair;
}
export interface GitPin {
  version: string;
  repository: string;
  commit: string;
}
/** The values `npm run pins` manages, in the same nesting as versions.json. */
export interface Pins {
  snap: { version: string };
  immich: { version: string; tag: string; commit: string; repository: string };
  node: { version: string; sha256: ArchPair };
  pluginTools: { extismJs: ToolPin; binaryen: ToolPin };
  vectorchord: GitPin;
  lego: GitPin;
  libvips: GitPin;
  uv: { version: string; sha256: ArchPair };
  python: { version: string };
  geodata: { naturalEarthVersion: string; naturalEarthSha256: string };
}

type Kind = 'text' | 'sha256' | 'commit' | 'https';
type Shape = { readonly [k: string]: Kind | Shape };

const pair = (kind: Kind): Shape => ({ amd64: kind, arm64: kind });
const tool: Shape = { version: 'text', url: pair('https'), sha256: pair('sha256') };
const git: Shape = { version: 'text', repository: 'https', commit: 'commit' };

/** Every managed leaf and what it must look like. Mirrors `Pins`. */
const SHAPE: Shape = {
  snap: { version: 'text' },
  immich: { version: 'text', tag: 'text', commit: 'commit', repository: 'https' },
  node: { version: 'text', sha256: pair('sha256') },
  pluginTools: { extismJs: tool, binaryen: tool },
  vectorchord: git,
  lego: git,
  libvips: git,
  uv: { version: 'text', sha256: pair('sha256') },
  python: { version: 'text' },
  geodata: { naturalEarthVersion: 'text', naturalEarthSha256: 'sha256' },
};

const VALID: Record<Kind, (v: string) => boolean> = {
  text: (v) => v.trim() !== '',
  sha256: isSha256,
  commit: (v) => /^[0-9a-f]{40}$/.test(v),
  https: (v) => /^https:\/\/\S+$/.test(v),
};

type JsonObject = { [k: string]: unknown };
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function leaves(shape: Shape, prefix: string[] = []): Array<{ path: string[]; kind: Kind }> {
  return Object.entries(shape).flatMap(([k, v]) =>
    typeof v === 'string' ? [{ path: [...prefix, k], kind: v }] : leaves(v, [...prefix, k]),
  );
}

function get(doc: unknown, path: string[]): unknown {
  let v = doc;
  for (const k of path) v = isObject(v) ? v[k] : undefined;
  return v;
}

/** The managed values of a parsed versions.json; throws naming the first missing or malformed key. */
export function readPins(doc: unknown): Pins {
  for (const { path, kind } of leaves(SHAPE)) {
    const v = get(doc, path);
    if (typeof v !== 'string') throw new Error(`${path.join('.')} is missing or not a string`);
    if (!VALID[kind](v)) throw new Error(`${path.join('.')} = '${v}' is not a valid ${kind === 'text' ? 'value' : kind}`);
  }
  return structuredClone(pickShape(doc, SHAPE)) as unknown as Pins;
}

function pickShape(doc: unknown, shape: Shape): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(shape)) {
    const d = isObject(doc) ? doc[k] : undefined;
    out[k] = typeof v === 'string' ? d : pickShape(d, v);
  }
  return out;
}

/**
 * A copy of `doc` with every managed value taken from `pins`. Keys are assigned in place, so an
 * existing key keeps its position; the "$comment" entries and unmanaged sections are untouched.
 */
export function writePins(doc: unknown, pins: Pins): JsonObject {
  if (!isObject(doc)) throw new Error('versions.json is not a JSON object');
  const out = structuredClone(doc);
  for (const { path } of leaves(SHAPE)) {
    let t: JsonObject = out;
    for (const k of path.slice(0, -1)) {
      const next = t[k];
      if (!isObject(next)) throw new Error(`${path.join('.')}: ${k} is not an object`);
      t = next;
    }
    t[path[path.length - 1]!] = get(pins, path);
  }
  return out;
}

export interface Change {
  path: string;
  from: string;
  to: string;
}

/** The managed values that differ, in versions.json order. */
export function diffPins(before: Pins, after: Pins): Change[] {
  return leaves(SHAPE)
    .map(({ path }) => ({ path: path.join('.'), from: String(get(before, path)), to: String(get(after, path)) }))
    .filter((c) => c.from !== c.to);
}

/** versions.json's own formatting: 2-space JSON and a final newline. */
export function serializeVersions(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
