// A `Net` that serves test/fixtures/pins/ instead of the internet:
//   net/<host>/<path>            files, for fetchText/fetchBytes/sha256OfUrl (the URL's host and path)
//   digests.json                 sha256 of large downloads that are not stored (tarballs, geojson)
//   ls-remote/<host>/<path>.txt  `git ls-remote --tags` output of a repository URL
//   node-keyring.fake            fingerprints the fake gpgv trusts
// Tests override any of them per case (`files`, `digests`, `lsRemote`, `drop`) to tamper with one
// upstream, and read `requests` to see what was asked for.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetError } from '../../../scripts/pins/errors.js';
import type { Net } from '../../../scripts/pins/net.js';
import type { GpgvResult } from '../../../scripts/pins/parse.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'pins');
export const FAKE_KEYRING = join(FIXTURES, 'node-keyring.fake');
export const FIXTURE_COMMIT = '3204c0ffee3204c0ffee3204c0ffee3204c0ffee';
export const IMMICH_RAW = `https://raw.githubusercontent.com/immich-app/immich/${FIXTURE_COMMIT}`;

export interface FakeOverrides {
  /** URL → content, replacing or adding a served file. */
  files?: Record<string, string | Uint8Array>;
  /** URL → sha256 the download hashes to. */
  digests?: Record<string, string>;
  /** repository URL → `git ls-remote` output. */
  lsRemote?: Record<string, string>;
  /** URLs or repositories that answer 404 / fail. */
  drop?: string[];
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

function local(url: string, root: string, suffix = ''): string {
  const u = new URL(url);
  return join(FIXTURES, root, u.host, decodeURIComponent(u.pathname) + suffix);
}

export class FakeNet implements Net {
  readonly requests: string[] = [];
  private readonly digests: Record<string, string>;

  constructor(private readonly o: FakeOverrides = {}) {
    const stored = JSON.parse(readFileSync(join(FIXTURES, 'digests.json'), 'utf8')) as Record<string, string>;
    this.digests = { ...stored, ...o.digests };
  }

  private file(url: string): Uint8Array | undefined {
    if (this.o.drop?.includes(url)) return undefined;
    const o = this.o.files?.[url];
    if (o !== undefined) return typeof o === 'string' ? Buffer.from(o) : o;
    const path = local(url, 'net');
    return existsSync(path) ? readFileSync(path) : undefined;
  }

  async fetchBytes(url: string): Promise<Uint8Array> {
    this.requests.push(`GET ${url}`);
    const b = this.file(url);
    if (b === undefined) throw new NetError('HTTP 404 Not Found');
    return b;
  }

  async fetchText(url: string): Promise<string> {
    return new TextDecoder().decode(await this.fetchBytes(url));
  }

  async sha256OfUrl(url: string): Promise<string> {
    this.requests.push(`SHA ${url}`);
    if (this.o.drop?.includes(url)) throw new NetError('HTTP 404 Not Found');
    const b = this.file(url);
    if (b !== undefined) return sha256(b);
    const d = this.digests[url];
    if (d === undefined) throw new NetError('HTTP 404 Not Found');
    return d;
  }

  async gitLsRemote(repository: string, refs: string[]): Promise<string> {
    this.requests.push(`GIT ${repository} ${refs.join(' ')}`);
    if (this.o.drop?.includes(repository)) throw new NetError(`git ls-remote exit 128: fatal: unable to access '${repository}/': Could not resolve host`);
    const text = this.o.lsRemote?.[repository] ?? (existsSync(local(repository, 'ls-remote', '.txt')) ? readFileSync(local(repository, 'ls-remote', '.txt'), 'utf8') : undefined);
    if (text === undefined) throw new NetError(`git ls-remote exit 128: remote: Repository not found. fatal: repository '${repository}/' not found`);
    // Like git: only the refs asked for.
    return text
      .split('\n')
      .filter((l) => refs.some((r) => l.endsWith(`\t${r}`)))
      .map((l) => `${l}\n`)
      .join('');
  }

  /**
   * The fake signature is text: `sha256=<hex of the signed data>` and `signer=<fingerprint>`; it is
   * good when the hash matches the data and the keyring file lists the signer, as gpgv would decide.
   */
  async gpgVerify(keyring: string, signature: Uint8Array, data: Uint8Array): Promise<GpgvResult> {
    this.requests.push(`GPGV ${keyring}`);
    const sig = new TextDecoder().decode(signature);
    const hash = /^sha256=([0-9a-f]{64})$/m.exec(sig)?.[1];
    const signer = /^signer=([0-9A-F]{40})$/m.exec(sig)?.[1];
    if (hash === undefined || signer === undefined) return { ok: false, detail: 'no valid OpenPGP data found' };
    const trusted = readFileSync(keyring, 'utf8');
    if (!trusted.includes(signer)) return { ok: false, detail: `signed by a key not in the keyring (or unreadable): ${signer.slice(-16)}` };
    if (hash !== sha256(data)) return { ok: false, detail: `gpgv reports BADSIG: ${signer.slice(-16)}` };
    return { ok: true, signer, detail: `good signature by ${signer}` };
  }
}
