import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SUPERUSER_ROLE } from '../postgres/hba.js';

/**
 * Adapter: pg_dump / pg_restore pipelines through zstd.
 *
 * Format decision (measured in bench/backup.ts, docs/backup.md): `pg_dump -Fc -Z0` (custom
 * format, no internal compression) piped into `zstd -T0 -1` (all cores, level 1). Postgres 15's
 * pg_dump compresses custom archives only with single-threaded gzip; Postgres 16+ adds zstd, still
 * one thread per archive. The custom format keeps pg_restore's selectivity (`--list`, `-t`) and is
 * verifiable. Level 1, not 3: an Immich database is mostly embeddings, UUIDs and hashes printed as
 * text, where level 3's shorter matches cost more than the literals they replace — level 1 makes a
 * smaller file (−6 %) with a third less CPU. Every level writes the same zstd frames, so restore
 * reads old and new dumps alike.
 */

/** zstd's compression arguments for a dump (see above). */
export const ZSTD_COMPRESS = ['-T0', '-1'] as const;

export interface PgTarget {
  socketDir: string;
  port: number;
}

export interface Tools {
  pgDump: string;
  pgRestore: string;
  zstd: string;
}

/** Children started by these functions, so an interrupted command can stop them. */
export const running = new Set<ChildProcess>();

const PG_ENV = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', PGAPPNAME: 'immich-distribution-backup' };
  for (const k of ['PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGPASSWORD', 'PGPASSFILE', 'PGSERVICE', 'PGOPTIONS']) delete env[k];
  return env;
};

function start(file: string, args: string[], stdio: Array<'ignore' | 'pipe' | NodeJS.ReadableStream>): ChildProcess & { stderrText: () => string; done: Promise<number> } {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- stdio accepts streams as well
  const child = spawn(file, args, { stdio: stdio as any, env: PG_ENV(), cwd: '/' });
  // A producer's stdout handed to this child as its stdin: the child holds its own copy now. Close
  // ours, or the producer would never see EPIPE if this child died.
  for (const s of stdio) if (typeof s === 'object') (s as NodeJS.ReadableStream & { destroy(): void }).destroy();
  running.add(child);
  let err = '';
  const stderrDone = new Promise<void>((resolve) => {
    if (!child.stderr) return resolve();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      err = (err + d).slice(-8192);
    });
    child.stderr.once('close', () => resolve());
  });
  const done = new Promise<number>((resolve) => {
    child.once('error', (e) => {
      running.delete(child);
      err += `${file}: ${e.message}\n`;
      resolve(127);
    });
    // 'exit', not 'close': 'close' waits for every stdio stream, including one passed on to
    // another child. stderr is read to its end before the status is reported.
    child.once('exit', (code, signal) => {
      running.delete(child);
      void stderrDone.then(() => resolve(code ?? (signal ? 128 + 9 : 1)));
    });
  });
  return Object.assign(child, { stderrText: () => err, done });
}

/** The last meaningful line a tool printed (without its program-name prefix). */
export function lastLine(text: string, fallback: string): string {
  const l = text.split('\n').map((s) => s.trim()).filter(Boolean).at(-1);
  return l ? l.replace(/^(pg_dump|pg_restore|zstd): (error: )?/, '') : fallback;
}

export class ToolError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

export interface DumpCheck {
  tocEntries: number;
  tables: number;
}

/**
 * `pg_dump -Fc -Z0 | zstd -T0 -1 > out` (out created new, 0600), verified while it is written:
 * every chunk of compressed bytes goes, in this order, into the sha256, into a `zstd -t` reading
 * the same stream (every frame's content checksum: the bytes decompress to exactly what pg_dump
 * produced), and into the file. Afterwards the file's size is checked and pg_restore reads its
 * table of contents back from the file (`--list`, which stops after the first few blocks). The
 * dump counts only when all of that passed. A write error (ENOSPC, EROFS…) surfaces as a ToolError
 * with its errno code.
 */
export async function dumpDatabase(
  tools: Tools,
  target: PgTarget,
  database: string,
  out: string,
  onBytes?: (n: number) => void,
): Promise<{ bytes: number; sha256: string; check: DumpCheck }> {
  const dump = start(tools.pgDump, ['-Fc', '-Z0', '-h', target.socketDir, '-p', String(target.port), '-U', SUPERUSER_ROLE, '-d', database, '--no-password'], ['ignore', 'pipe', 'pipe']);
  const zstd = start(tools.zstd, [...ZSTD_COMPRESS, '-q', '-c'], [dump.stdout!, 'pipe', 'pipe']);
  const test = start(tools.zstd, ['-t', '-q', '-'], ['pipe', 'ignore', 'pipe']);
  const testIn = test.stdin!;
  // The verifier stops reading only when it found damage (or died): its exit status says which.
  let testGone = false;
  testIn.on('error', () => {
    testGone = true;
  });
  testIn.once('close', () => {
    testGone = true;
  });
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      onBytes?.(chunk.length);
      if (testGone || testIn.write(chunk)) return cb(null, chunk);
      const go = () => {
        testIn.off('drain', go);
        testIn.off('close', go);
        cb(null, chunk);
      };
      testIn.once('drain', go);
      testIn.once('close', go);
    },
    flush(cb) {
      testIn.end();
      cb();
    },
  });
  let writeError: NodeJS.ErrnoException | undefined;
  try {
    await pipeline(zstd.stdout!, tap, createWriteStream(out, { flags: 'wx', mode: 0o600, flush: true }));
  } catch (e) {
    writeError = e as NodeJS.ErrnoException;
    dump.kill('SIGTERM');
    zstd.kill('SIGTERM');
    test.kill('SIGTERM');
  }
  if (!testIn.writableEnded) testIn.end();
  const [dumpCode, zstdCode, testCode] = await Promise.all([dump.done, zstd.done, test.done]);
  if (writeError) throw new ToolError(`writing ${out}: ${writeError.message}`, writeError.code);
  if (dumpCode !== 0) throw new ToolError(`pg_dump failed: ${lastLine(dump.stderrText(), `exit ${dumpCode}`)}`);
  if (zstdCode !== 0) throw new ToolError(`zstd failed: ${lastLine(zstd.stderrText(), `exit ${zstdCode}`)}`);
  if (testCode !== 0) throw new ToolError(damaged(test.stderrText(), testCode));
  const onDisk = statSync(out).size;
  if (onDisk !== bytes) throw new ToolError(`the dump is damaged (${onDisk} bytes on disk, ${bytes} written)`);
  return { bytes, sha256: hash.digest('hex'), check: await listDump(tools, out) };
}

const damaged = (stderr: string, code: number): string => `the dump is damaged (zstd: ${lastLine(stderr, `exit ${code}`)})`;

/**
 * Verifies a compressed dump file end to end: zstd's frame checksums over every byte (`zstd -t`),
 * then pg_restore reads the archive's table of contents (`--list`). Both must pass before the dump
 * counts. Used on a backup before it is restored; a new dump is verified while it is written.
 */
export async function verifyDump(tools: Tools, file: string): Promise<DumpCheck> {
  const test = start(tools.zstd, ['-t', '-q', file], ['ignore', 'ignore', 'pipe']);
  const t = await test.done;
  if (t !== 0) throw new ToolError(damaged(test.stderrText(), t));
  return listDump(tools, file);
}

/** `zstd -dc file | pg_restore --list`: the archive's table of contents reads back and is not empty. */
async function listDump(tools: Tools, file: string): Promise<DumpCheck> {
  const zcat = start(tools.zstd, ['-dc', '-q', file], ['ignore', 'pipe', 'pipe']);
  const list = start(tools.pgRestore, ['--list'], [zcat.stdout!, 'pipe', 'pipe']);
  let out = '';
  list.stdout!.setEncoding('utf8');
  list.stdout!.on('data', (d: string) => {
    out += d;
  });
  // zstd's own status is not checked: pg_restore stops reading after the table of contents, and
  // zstd then dies of the closed pipe. Its frames were checked by `zstd -t`.
  const [, l] = await Promise.all([zcat.done, list.done]);
  if (l !== 0) throw new ToolError(`the dump is not a readable pg_dump archive (pg_restore: ${lastLine(list.stderrText(), `exit ${l}`)})`);
  const entries = out.split('\n').filter((s) => s.trim() !== '' && !s.startsWith(';'));
  if (entries.length === 0) throw new ToolError('the dump has an empty table of contents');
  return { tocEntries: entries.length, tables: entries.filter((s) => / TABLE DATA /.test(s)).length };
}

/** `zstd -dc file | pg_restore -d database --exit-on-error` as the Postgres superuser. */
export async function restoreDump(tools: Tools, target: PgTarget, file: string, database: string): Promise<void> {
  const zcat = start(tools.zstd, ['-dc', '-q', file], ['ignore', 'pipe', 'pipe']);
  const restore = start(
    tools.pgRestore,
    ['-h', target.socketDir, '-p', String(target.port), '-U', SUPERUSER_ROLE, '-d', database, '--exit-on-error', '--no-password'],
    [zcat.stdout!, 'ignore', 'pipe'],
  );
  const [z, r] = await Promise.all([zcat.done, restore.done]);
  if (r !== 0) throw new ToolError(`pg_restore failed: ${lastLine(restore.stderrText(), `exit ${r}`)}`);
  if (z !== 0) throw new ToolError(`zstd failed: ${lastLine(zcat.stderrText(), `exit ${z}`)}`);
}

/** sha256 of a file, streamed (large dumps). */
export async function sha256Stream(file: string, onBytes?: (n: number) => void): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    onBytes?.((chunk as Buffer).length);
  }
  return hash.digest('hex');
}

export function stopRunning(): void {
  for (const c of running) c.kill('SIGTERM');
}
