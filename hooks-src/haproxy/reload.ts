import { existsSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { UserError } from '../snap/errors.js';

/**
 * Graceful reload of the running HAProxy master (master-worker mode).
 *
 * The master re-executes itself with the same command line (so it re-reads haproxy.cfg), takes
 * the listening sockets over from the current worker through its internal socketpair (no port is
 * ever closed, no connection refused), forks a new worker, and soft-stops the old one: the old
 * worker stops accepting, finishes every request in flight (uploads included, up to
 * hard-stop-after) and exits. The master keeps its pid: a reload is never a restart.
 */

export interface HaproxyProc {
  pid: number;
  reloads: number;
}

export interface ShowProc {
  master: (HaproxyProc & { failed: number }) | undefined;
  workers: HaproxyProc[];
  oldWorkers: HaproxyProc[];
}

/** Parses the master CLI's `show proc` table (2.6 and 2.8 print the same layout). */
export function parseShowProc(text: string): ShowProc {
  const out: ShowProc = { master: undefined, workers: [], oldWorkers: [] };
  let section: 'current' | 'old' | 'other' = 'current';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#<')) continue;
    if (line.startsWith('#')) {
      section = /^#\s*workers/.test(line) ? 'current' : /^#\s*old workers/.test(line) ? 'old' : 'other';
      continue;
    }
    const m = /^(\d+)\s+(\S+)\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?/.exec(line);
    if (!m) continue;
    const proc = { pid: Number(m[1]), reloads: Number(m[3]) };
    if (m[2] === 'master') out.master = { ...proc, failed: Number(m[4] ?? 0) };
    else if (m[2] === 'worker' && section === 'current') out.workers.push(proc);
    else if (m[2] === 'worker' && section === 'old') out.oldWorkers.push(proc);
  }
  return out;
}

/** Sends one command to the master CLI and returns everything it answers before closing. */
export function masterCommand(socket: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = createConnection({ path: socket });
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(() => done(new Error(`no answer from HAProxy's master socket within ${timeoutMs} ms`)), timeoutMs);
    conn.on('connect', () => conn.end(`${command}\n`));
    conn.on('data', (c: Buffer) => chunks.push(c));
    conn.on('end', () => done());
    conn.on('close', () => done());
    conn.on('error', (err: NodeJS.ErrnoException) => {
      // A reload re-executes the master, which may reset the connection instead of closing it.
      if (command === 'reload' && err.code === 'ECONNRESET') done();
      else done(err);
    });
  });
}

export interface ReloadResult {
  masterPid: number;
  previousWorkers: number[];
  newWorkers: number[];
  elapsedMs: number;
}

/**
 * Reloads HAProxy and waits until a new worker is running. Uses the master CLI (`reload`), or
 * SIGUSR2 to the master from the pid file when the socket is unusable. Throws a UserError (one
 * line) if HAProxy is not running, if the master reports the new configuration failed (it then
 * keeps the old workers serving), or if no new worker appears in time.
 */
export async function reloadHaproxy(opts: {
  masterSocket: string;
  pidFile: string;
  timeoutMs?: number;
  /** What the master CLI answered just now, when the caller already asked (saves asking twice). */
  before?: ShowProc;
}): Promise<ReloadResult> {
  const started = Date.now();
  const deadline = started + (opts.timeoutMs ?? 15_000);
  const before = opts.before ?? (await showProcOrUndefined(opts.masterSocket));
  let masterPid: number;
  if (before?.master) {
    masterPid = before.master.pid;
    const answer = await masterCommand(opts.masterSocket, 'reload').catch((err: Error) => {
      throw new UserError(`could not ask HAProxy to reload through ${opts.masterSocket}: ${err.message}`);
    });
    // 2.7+ answers "Success=0|1" followed by the startup messages; 2.6 just closes the connection.
    if (/^Success=0/m.test(answer)) {
      const why = answer.split('\n').find((l) => l.includes('[ALERT]')) ?? 'see `snap logs immich-distribution.haproxy`';
      throw new UserError(`HAProxy kept its previous configuration, the new one failed to load: ${why.trim()}`);
    }
  } else {
    masterPid = readMasterPid(opts.pidFile);
    try {
      process.kill(masterPid, 'SIGUSR2');
    } catch (err) {
      throw new UserError(`HAProxy is not running (pid ${masterPid} from ${opts.pidFile}: ${(err as Error).message})`);
    }
  }
  const previous = new Set((before?.workers ?? []).map((w) => w.pid));
  const previousWorkers = [...previous];
  const childrenBefore = before ? undefined : new Set(childPids(masterPid));
  for (;;) {
    // Poll finely: every poll step adds to each `snap set` that reloads, and a `show proc` on the
    // master's unix socket is cheap.
    await sleep(10);
    const now = await showProcOrUndefined(opts.masterSocket);
    if (now?.master) {
      if (before?.master && now.master.failed > before.master.failed) {
        throw new UserError('HAProxy kept its previous configuration, the new one failed to load (see `snap logs immich-distribution.haproxy`)');
      }
      const fresh = now.workers.filter((w) => !previous.has(w.pid));
      if (fresh.length > 0 && (before !== undefined || now.workers.length > 0)) {
        return { masterPid: now.master.pid, previousWorkers, newWorkers: fresh.map((w) => w.pid), elapsedMs: Date.now() - started };
      }
    } else if (childrenBefore) {
      const fresh = childPids(masterPid).filter((p) => !childrenBefore.has(p));
      if (fresh.length > 0) return { masterPid, previousWorkers, newWorkers: fresh, elapsedMs: Date.now() - started };
    }
    if (Date.now() > deadline) {
      throw new UserError(`HAProxy did not start a new worker within ${Math.round((deadline - started) / 1000)} s of the reload request`);
    }
  }
}

export async function showProcOrUndefined(socket: string): Promise<ShowProc | undefined> {
  if (!existsSync(socket)) return undefined;
  try {
    const parsed = parseShowProc(await masterCommand(socket, 'show proc', 2000));
    return parsed.master ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function readMasterPid(pidFile: string): number {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8');
  } catch {
    throw new UserError(`HAProxy is not running (no ${pidFile}); start it with: sudo snap start immich-distribution.haproxy`);
  }
  const pid = Number(text.split('\n')[0]?.trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new UserError(`${pidFile} does not hold a process id`);
  return pid;
}

/** Direct children of a process (Linux /proc), for the pid-file fallback. */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
