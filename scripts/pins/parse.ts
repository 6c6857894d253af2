// Pure parsers for the files `npm run pins` reads: the Immich tag's own version files (.nvmrc,
// mise.lock, machine-learning/uv.lock, server/package.json, pnpm-lock.yaml) and the upstreams'
// checksum lists (Node's SHASUMS256.txt, uv's .sha256 sidecars), plus `git ls-remote` and `gpgv`
// output. Each throws a plain Error whose message says what is wrong; the caller adds which file
// and URL it was (PinError).
import { parseToml, readString, tableAt, type TomlTable } from './toml.js';

const SHA256 = /^[0-9a-f]{64}$/;
const SEMVER = /^\d+\.\d+\.\d+$/;

/** `.nvmrc`: an exact Node version, `24.15.0` or `v24.15.0`; an alias (`lts/*`, `24`) is refused. */
export function parseNvmrc(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.replace(/#.*/, '').trim()).filter((l) => l !== '');
  if (lines.length !== 1) throw new Error(`expected one line with a Node version, found ${lines.length}`);
  const v = lines[0]!.replace(/^v/, '');
  if (!SEMVER.test(v)) throw new Error(`'${lines[0]}' is not an exact Node version (x.y.z)`);
  return v;
}

export interface LockedAsset {
  url: string;
  sha256: string;
}
export interface LockedTool {
  version: string;
  /** mise platform name (`linux-x64`, `linux-arm64`, …) → asset. */
  platforms: Record<string, LockedAsset | undefined>;
}

/**
 * One tool of mise.lock: `[[tools."<name>"]]` with its `version` and the
 * `[tools."<name>"."platforms.<platform>"]` tables (`checksum = "sha256:<hex>"`, `url`). The tool must
 * be locked exactly once; a platform whose checksum is missing or not sha256 is left out (the caller
 * refuses it when it needs that platform).
 */
export function miseLockedTool(lockText: string, name: string): LockedTool {
  const root = parseToml(lockText);
  const tools = tableAt(root['tools']);
  const entries = tools?.[name];
  if (entries === undefined) throw new Error(`no [[tools."${name}"]] entry`);
  if (!Array.isArray(entries)) throw new Error(`tools."${name}" is not an array of tables ([[…]])`);
  if (entries.length !== 1) throw new Error(`tools."${name}" is locked ${entries.length} times, expected once`);
  const entry: TomlTable = entries[0]!;
  const version = entry['version'];
  if (typeof version !== 'string' || version === '') throw new Error(`tools."${name}" has no version`);
  const platforms: Record<string, LockedAsset | undefined> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (!key.startsWith('platforms.')) continue;
    const t = tableAt(value);
    const checksum = t?.['checksum'];
    const url = t?.['url'];
    if (typeof checksum !== 'string' || typeof url !== 'string') continue;
    const m = /^sha256:([0-9a-fA-F]{64})$/.exec(checksum);
    if (m === null) continue;
    platforms[key.slice('platforms.'.length)] = { url, sha256: m[1]!.toLowerCase() };
  }
  return { version, platforms };
}

/**
 * `requires-python` from the head of uv.lock (the top-level keys before the first table). Only the
 * head is read: the rest of the file has multi-line arrays that the mise.lock reader does not take.
 */
export function uvLockRequiresPython(text: string): string {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('[')) break;
    const m = /^requires-python\s*=\s*/.exec(line);
    if (m === null) continue;
    return readString(line, m[0].length).value;
  }
  throw new Error('no top-level requires-python before the first table');
}

export interface ServerPackage {
  version: string;
  /** `dependencies.sharp`, the range Immich asks for. */
  sharpRange: string;
}

export function parseServerPackage(text: string): ServerPackage {
  let pkg: unknown;
  try {
    pkg = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON (${(err as Error).message})`);
  }
  const p = pkg as { version?: unknown; dependencies?: Record<string, unknown> };
  if (typeof p.version !== 'string') throw new Error('no "version"');
  const sharp = p.dependencies?.['sharp'];
  if (typeof sharp !== 'string') throw new Error('no "sharp" in "dependencies"');
  return { version: p.version, sharpRange: sharp };
}

function yamlScalar(raw: string): string {
  const v = raw.trim();
  if ((v.startsWith("'") && v.endsWith("'")) || (v.startsWith('"') && v.endsWith('"'))) return v.slice(1, -1);
  return v;
}

/**
 * The sharp version pnpm installs for the server: `importers: server: dependencies: sharp: version`
 * in pnpm-lock.yaml (lockfile v9 layout; the snap installs with --frozen-lockfile). A line scanner
 * over that one path, not a YAML parser: the file is a megabyte and only this entry matters.
 */
export function pnpmLockServerSharp(text: string): { specifier: string; version: string } {
  const lines = text.split(/\r?\n/);
  const indent = (l: string): number => l.length - l.trimStart().length;
  const path = ['importers:', 'server:', 'dependencies:', 'sharp:'];
  let depth = 0;
  let i = 0;
  for (; i < lines.length && depth < path.length; i += 1) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const ind = indent(line);
    // Leaving the block we are inside of (an entry at the parent's indentation or less): not found.
    if (depth > 0 && ind <= (depth - 1) * 2) break;
    if (ind === depth * 2 && line.trim() === path[depth]) depth += 1;
  }
  if (depth < path.length) throw new Error(`no ${path.map((p) => p.slice(0, -1)).join('.')} entry`);
  let specifier: string | undefined;
  let version: string | undefined;
  for (; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    if (indent(line) <= 6) break;
    const m = /^\s+(specifier|version):\s*(.+)$/.exec(line);
    if (m?.[1] === 'specifier') specifier = yamlScalar(m[2]!);
    if (m?.[1] === 'version') version = yamlScalar(m[2]!).replace(/\(.*$/, '');
  }
  if (specifier === undefined || version === undefined) throw new Error('the server sharp entry has no specifier or version');
  if (!SEMVER.test(version)) throw new Error(`server sharp version '${version}' is not x.y.z`);
  return { specifier, version };
}

/** SHASUMS256.txt: `<64 hex>  <file name>` per line → file name → sha256. */
export function parseShasums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const m = /^([0-9a-fA-F]{64})\s+\*?(\S+)$/.exec(line);
    if (m === null) throw new Error(`unexpected line '${line}'`);
    const name = m[2]!.replace(/^\.\//, '');
    const hex = m[1]!.toLowerCase();
    const seen = sums.get(name);
    if (seen !== undefined && seen !== hex) throw new Error(`two different sums for ${name}`);
    sums.set(name, hex);
  }
  return sums;
}

/** A cargo-dist `<asset>.sha256` sidecar: `<hex>  <asset name>` (the name may carry `*`). */
export function parseSha256Sidecar(text: string): { sha256: string; name?: string } {
  const first = text.split(/\r?\n/).find((l) => l.trim() !== '');
  const m = first === undefined ? null : /^([0-9a-fA-F]{64})(?:\s+\*?(\S+))?\s*$/.exec(first.trim());
  if (m === null) throw new Error(`not '<sha256>  <file>': '${(first ?? '').trim().slice(0, 80)}'`);
  const sha256 = m[1]!.toLowerCase();
  return m[2] === undefined ? { sha256 } : { sha256, name: m[2] };
}

/**
 * The commit a tag names in `git ls-remote <repo> refs/tags/<t> refs/tags/<t>^{}` output: the peeled
 * line (`^{}`, annotated tags) when present, otherwise the tag ref itself (lightweight tags point at
 * the commit directly). Undefined when the tag does not exist.
 */
export function tagCommit(lsRemote: string, tag: string): string | undefined {
  let direct: string | undefined;
  let peeled: string | undefined;
  for (const raw of lsRemote.split(/\r?\n/)) {
    const m = /^([0-9a-f]{40}|[0-9a-f]{64})\s+(\S+)$/.exec(raw.trim());
    if (m === null) continue;
    if (m[2] === `refs/tags/${tag}^{}`) peeled = m[1];
    if (m[2] === `refs/tags/${tag}`) direct = m[1];
  }
  return peeled ?? direct;
}

export interface GpgvResult {
  ok: boolean;
  /** Primary key fingerprint of a good signature (VALIDSIG's last field). */
  signer?: string;
  detail: string;
}

/**
 * `gpgv --status-fd 1` output and exit code → verdict. Good only with exit 0, GOODSIG and VALIDSIG,
 * and none of BADSIG, ERRSIG, EXPKEYSIG, REVKEYSIG, EXPSIG, NO_PUBKEY.
 */
export function parseGpgvStatus(status: string, exitCode: number): GpgvResult {
  const lines = status
    .split(/\r?\n/)
    .filter((l) => l.startsWith('[GNUPG:] '))
    .map((l) => l.slice('[GNUPG:] '.length).split(' '));
  const has = (kw: string) => lines.find((l) => l[0] === kw);
  for (const kw of ['BADSIG', 'ERRSIG', 'EXPKEYSIG', 'REVKEYSIG', 'EXPSIG', 'NO_PUBKEY']) {
    const l = has(kw);
    if (l !== undefined) {
      const why = kw === 'NO_PUBKEY' || kw === 'ERRSIG' ? 'signed by a key not in the keyring (or unreadable)' : `gpgv reports ${kw}`;
      return { ok: false, detail: `${why}: ${l.slice(1, 2).join(' ')}`.trim() };
    }
  }
  const valid = has('VALIDSIG');
  if (exitCode !== 0 || has('GOODSIG') === undefined || valid === undefined) {
    return { ok: false, detail: `no good signature (gpgv exit ${exitCode})` };
  }
  const signer = valid[valid.length - 1] ?? valid[1];
  return signer === undefined ? { ok: true, detail: 'good signature' } : { ok: true, signer, detail: `good signature by ${signer}` };
}

export function isSha256(hex: string): boolean {
  return SHA256.test(hex);
}
