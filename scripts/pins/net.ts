// The only part of `npm run pins` that touches the network or runs programs. The core takes a `Net`,
// so the tests pass a fake that serves fixture files (test/unit/pins/fake-net.ts).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NetError } from './errors.js';
import { parseGpgvStatus, type GpgvResult } from './parse.js';

export interface Net {
  /** A small text file (UTF-8). Throws NetError when unreachable or not 2xx. */
  fetchText(url: string): Promise<string>;
  /** A small binary file (a detached signature). */
  fetchBytes(url: string): Promise<Uint8Array>;
  /** sha256 (lower-case hex) of a download, hashed while it streams; never held in memory. */
  sha256OfUrl(url: string): Promise<string>;
  /** Raw `git ls-remote <repository> <refs…>` output (`<sha>\t<ref>` lines). */
  gitLsRemote(repository: string, refs: string[]): Promise<string>;
  /** Checks a detached signature over `data` with `gpgv` against the keyring file. */
  gpgVerify(keyring: string, signature: Uint8Array, data: Uint8Array): Promise<GpgvResult>;
}

/** Abort a download when no byte arrived for this long (a total timeout would cut slow links). */
const IDLE_MS = 60_000;
const USER_AGENT = 'immich-distribution-pins';

async function stream(url: string, onChunk: (chunk: Uint8Array) => void): Promise<void> {
  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(), IDLE_MS);
  const poke = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(), IDLE_MS);
  };
  try {
    let res: Response;
    try {
      res = await fetch(url, { redirect: 'follow', signal: abort.signal, headers: { 'user-agent': USER_AGENT } });
    } catch (err) {
      const cause = (err as { cause?: { message?: string; code?: string } }).cause;
      throw new NetError(abort.signal.aborted ? `no response in ${IDLE_MS / 1000} s` : `fetch failed: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    if (!res.ok) throw new NetError(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    if (res.body === null) throw new NetError('empty response');
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        poke();
        onChunk(chunk);
      }
    } catch (err) {
      throw new NetError(abort.signal.aborted ? `stalled for ${IDLE_MS / 1000} s` : `download broke off: ${(err as Error).message}`);
    }
  } finally {
    clearTimeout(timer);
  }
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    execFile(cmd, args, { env: env ?? process.env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof (err as { code?: unknown }).code !== 'number') {
        fail(new NetError(`${cmd}: ${(err as Error).message}`));
        return;
      }
      done({ code: err ? Number((err as { code: number }).code) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export function createNet(): Net {
  const bytes = async (url: string): Promise<Uint8Array> => {
    const parts: Uint8Array[] = [];
    await stream(url, (c) => parts.push(c));
    return new Uint8Array(Buffer.concat(parts));
  };
  return {
    fetchBytes: bytes,
    async fetchText(url) {
      const b = await bytes(url);
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(b);
      } catch {
        throw new NetError('not UTF-8 text');
      }
    },
    async sha256OfUrl(url) {
      const hash = createHash('sha256');
      await stream(url, (c) => hash.update(c));
      return hash.digest('hex');
    },
    async gitLsRemote(repository, refs) {
      // Never ask for credentials: a missing or private repository fails instead of prompting.
      const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', SSH_ASKPASS: 'true' };
      const r = await run('git', ['ls-remote', repository, ...refs], env);
      if (r.code !== 0) throw new NetError(`git ls-remote exit ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
      return r.stdout;
    },
    async gpgVerify(keyring, signature, data) {
      const dir = mkdtempSync(join(tmpdir(), 'pins-gpgv-'));
      try {
        writeFileSync(join(dir, 'data'), data);
        writeFileSync(join(dir, 'data.sig'), signature);
        // gpgv trusts every key in the keyring it is given, and no other: the keyring is the anchor.
        const r = await run('gpgv', ['--status-fd', '1', '--keyring', resolve(keyring), join(dir, 'data.sig'), join(dir, 'data')]);
        const verdict = parseGpgvStatus(r.stdout, r.code);
        if (!verdict.ok && r.stdout.trim() === '' && r.stderr.trim() !== '') return { ok: false, detail: `gpgv: ${r.stderr.trim()}` };
        return verdict;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
