import { spawn } from 'node:child_process';

/** snapd's hook timeouts (reference §A4). */
export function hookTimeoutMs(hook: string): number {
  if (hook === 'configure' || hook === 'default-configure') return 5 * 60_000;
  if (hook === 'check-health') return 30_000;
  return 10 * 60_000;
}

/** Go's time.Duration formatting for whole minutes/seconds, as in `<exceeded maximum runtime of 10m0s>`. */
export function goDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${s % 60}s` : `${s}s`;
}

/** snapd keeps the LAST 100 lines and the last 10 KiB of a hook's combined output (strutil.LimitedBuffer). */
export function truncateOutput(output: Buffer, maxLines = 100, maxBytes = 10 * 1024): string {
  let buf = output;
  // Count lines from the end.
  let lines = 0;
  for (let i = buf.length - 1; i >= 0; i--) {
    if (buf[i] === 0x0a && i !== buf.length - 1) {
      lines++;
      if (lines >= maxLines) {
        buf = buf.subarray(i + 1);
        break;
      }
    }
  }
  if (buf.length > maxBytes) buf = buf.subarray(buf.length - maxBytes);
  return buf.toString('utf8');
}

/** osutil.OutputErr: trimmed output, framed with ----- lines when it has several lines. */
export function outputErr(output: string, fallback: string): string {
  const t = output.trim();
  if (t === '') return fallback;
  return t.includes('\n') ? `\n-----\n${t}\n-----` : t;
}

export interface HookRunResult {
  hook: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Combined stdout+stderr, cut as snapd cuts it. */
  output: string;
  durationMs: number;
  /** The task error snapd would record, e.g. `run hook "configure": <output>`; undefined on success. */
  error?: string;
}

/**
 * Runs a hook executable the way snap-exec does: no arguments, no stdin, root, cwd `/`, the given
 * environment only, stdout+stderr combined, SIGKILL of the whole process group on timeout.
 */
export function runHookProcess(opts: {
  hook: string;
  path: string;
  env: Record<string, string>;
  timeoutMs?: number;
  /**
   * Strict confinement's missing capabilities: root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH
   * (snapd's AppArmor template omits them), so file modes apply to root too. setpriv drops them
   * from the bounding set before exec, so the hook and everything it starts lack them.
   */
  dropDac?: boolean;
}): Promise<HookRunResult> {
  const timeoutMs = opts.timeoutMs ?? hookTimeoutMs(opts.hook);
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const [file, args] = opts.dropDac ? ['setpriv', ['--bounding-set', '-dac_override,-dac_read_search', '--', opts.path]] : [opts.path, []];
    const child = spawn(file, args, { env: opts.env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      clearTimeout(timer);
      let output = truncateOutput(Buffer.concat(chunks));
      if (spawnError) output += `${spawnError.message}\n`;
      const ok = exitCode === 0 && !timedOut;
      let error: string | undefined;
      if (!ok) {
        const fallback = signal ? `signal: ${signal === 'SIGKILL' ? 'killed' : signal}` : `exit status ${exitCode ?? 1}`;
        error = `run hook "${opts.hook}": ${outputErr(output, fallback)}`;
        if (timedOut) error += `\n<exceeded maximum runtime of ${goDuration(timeoutMs)}>`;
      }
      resolve({ hook: opts.hook, exitCode, signal, timedOut, output, durationMs: Date.now() - started, error });
    };
    child.on('error', (err) => finish(null, null, err));
    child.on('close', (code, signal) => finish(code, signal));
  });
}
