import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../snap/errors.js';
import { runCommand, type CommandRunner } from '../snap/exec.js';
import { writeFileAtomic } from '../snap/fs.js';
import { startingPageResponse } from './page.js';

/**
 * Puts a candidate HAProxy config in place only if HAProxy accepts it: the text is written to a
 * temp file beside the target, checked with `haproxy -c -f <tmp>`, and renamed over the target
 * (atomic: a reader or a reloading master sees the old file or the new one, never a mix). On
 * failure the temp file is removed and the target is untouched; the error is HAProxy's first
 * error line.
 */
export async function installHaproxyConfig(opts: {
  /** $SNAP/usr/sbin/haproxy (paths.haproxy) */
  haproxy: string;
  /** paths.haproxyCfg */
  target: string;
  content: string;
  run?: CommandRunner;
}): Promise<{ changed: boolean }> {
  const run = opts.run ?? runCommand;
  const previous = existsSync(opts.target) ? readFileSync(opts.target, 'utf8') : undefined;
  const tmp = join(dirname(opts.target), `.${basename(opts.target)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    writeSync(fd, Buffer.from(opts.content));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    await checkHaproxyConfigFile(opts.haproxy, tmp, run, opts.target);
    renameSync(tmp, opts.target);
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }
  return { changed: previous !== opts.content };
}

/** Runs `haproxy -c -f <file>`; throws a UserError with HAProxy's first error line. */
export async function checkHaproxyConfigFile(haproxy: string, file: string, run: CommandRunner = runCommand, shownAs = file): Promise<void> {
  const result = await run(haproxy, ['-c', '-f', file], { timeoutMs: 30_000 });
  if (result.exitCode === 0) return;
  const why = firstHaproxyError(`${result.stderr}\n${result.stdout}`).split(file).join(shownAs);
  throw new UserError(`HAProxy rejected the new configuration, nothing was changed: ${why}`);
}

/** The first [ALERT] line without its `[ALERT] (pid) : ` prefix, else the first non-notice line. */
export function firstHaproxyError(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const alert = lines.find((l) => l.startsWith('[ALERT]')) ?? lines.find((l) => !l.startsWith('[NOTICE]')) ?? 'haproxy -c failed without a message';
  return alert.replace(/^\[ALERT\]\s*(\(\d+\)\s*)?:\s*/, '').slice(0, 300);
}

/** Writes the "Immich is starting" 503 response (errorfile) if it is missing or different. */
export function installStartingPage(path: string): { changed: boolean } {
  const content = startingPageResponse();
  if (existsSync(path) && readFileSync(path, 'utf8') === content) return { changed: false };
  writeFileAtomic(path, content, 0o644);
  return { changed: true };
}

/**
 * False when the kernel has IPv6 disabled (ipv6.disable=1): the renderer then binds "all
 * addresses" on 0.0.0.0 only, since an IPv6 wildcard bind would keep HAProxy from starting.
 */
export function hostHasIpv6(procFile = '/proc/net/if_inet6'): boolean {
  return existsSync(procFile);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
