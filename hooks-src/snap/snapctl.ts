import { type CommandRunner, runCommand } from './exec.js';
import { snapdSocketRunner } from './snapd-socket.js';

/** A failed snapctl call: snapd prints `error: snapctl: <message>` and exits 1 (reference §B0). */
export class SnapctlError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(`snapctl ${args[0] ?? ''} failed: ${stderr.trim().replace(/^error: (error running snapctl: )?(snapctl: )?/, '') || `exit ${exitCode}`}`);
    this.name = 'SnapctlError';
  }
}

export interface ServiceStatus {
  /** `<instance>.<app>` */
  name: string;
  enabled: boolean;
  active: boolean;
  notes: string[];
}

export type Health = 'okay' | 'waiting' | 'blocked' | 'error';

/**
 * Typed client for the `snapctl` verbs the hooks use. Values are written as JSON (`key=<json>`),
 * which snapd parses back to the same type on every snapd version (reference §B3).
 */
export class Snapctl {
  constructor(
    private readonly run: CommandRunner = runCommand,
    private readonly bin = 'snapctl',
    /** How calls that carry a secret reach snapd: never as a command line (see snapd-socket.ts). */
    private readonly secretRun: CommandRunner = snapdSocketRunner,
  ) {}

  private async call(args: string[], opts: { secret?: boolean } = {}): Promise<string> {
    const r = await (opts.secret ? this.secretRun : this.run)(this.bin, args);
    if (r.exitCode !== 0) throw new SnapctlError(args, r.exitCode, r.stderr);
    return r.stdout;
  }

  /** One key, typed: `undefined` when unset (snapctl prints `null` with -t). */
  async get(key: string): Promise<unknown> {
    const out = await this.call(['get', '-t', key]);
    const value: unknown = JSON.parse(out);
    return value === null ? undefined : value;
  }

  /** Several keys as one document keyed by the requested strings; missing keys are absent. */
  async getDocument(keys: readonly string[]): Promise<Record<string, unknown>> {
    if (keys.length === 0) return {};
    const out = await this.call(['get', '-d', ...keys]);
    return JSON.parse(out) as Record<string, unknown>;
  }

  /**
   * The whole configuration document. snapctl has no documented "all keys" form, but snapd's
   * `get` takes its first word as an interface spec OR a key, refuses only when both it and the
   * key list are empty, and reads the key "" as the root document (config.ParseKey). So
   * `snapctl get -d "" ""` returns `{"": <root>}`. If a snapd ever refuses that, fall back to the
   * given top-level keys (unknown roots are then not visible).
   */
  async getAll(fallbackRoots: readonly string[]): Promise<{ doc: Record<string, unknown>; complete: boolean }> {
    try {
      const out = JSON.parse(await this.call(['get', '-d', '', ''])) as Record<string, unknown>;
      const root = out[''];
      if (root !== undefined && (typeof root !== 'object' || root === null || Array.isArray(root))) throw new Error('root is not an object');
      return { doc: (root as Record<string, unknown> | undefined) ?? {}, complete: true };
    } catch (err) {
      if (!(err instanceof SnapctlError)) throw err;
      return { doc: await this.getDocument(fallbackRoots), complete: false };
    }
  }

  /**
   * Sets keys in the order given; `undefined` unsets (`key!`). With `secret`, the values go to
   * snapd over its socket instead of a snapctl command line.
   */
  async set(values: Record<string, unknown>, opts: { secret?: boolean } = {}): Promise<void> {
    const args = Object.entries(values).map(([k, v]) => (v === undefined ? `${k}!` : `${k}=${JSON.stringify(v)}`));
    if (args.length > 0) await this.call(['set', ...args], opts);
  }

  async unset(...keys: string[]): Promise<void> {
    if (keys.length > 0) await this.call(['unset', ...keys]);
  }

  /** Parses snapd's services table (reference §B4). */
  async services(...names: string[]): Promise<ServiceStatus[]> {
    return parseServicesTable(await this.call(['services', ...names]));
  }

  async start(services: readonly string[], opts: { enable?: boolean } = {}): Promise<void> {
    await this.call(['start', ...(opts.enable ? ['--enable'] : []), ...services]);
  }

  async stop(services: readonly string[], opts: { disable?: boolean } = {}): Promise<void> {
    await this.call(['stop', ...(opts.disable ? ['--disable'] : []), ...services]);
  }

  async restart(services: readonly string[], opts: { reload?: boolean } = {}): Promise<void> {
    await this.call(['restart', ...(opts.reload ? ['--reload'] : []), ...services]);
  }

  /** Exit 0 = connected, exit 1 with no output = not connected; anything else is an error. */
  async isConnected(plug: string): Promise<boolean> {
    const r = await this.run(this.bin, ['is-connected', plug]);
    if (r.exitCode === 0) return true;
    if (r.exitCode === 1 && r.stderr.trim() === '') return false;
    throw new SnapctlError(['is-connected', plug], r.exitCode, r.stderr);
  }

  async setHealth(status: Health, message?: string, code?: string): Promise<void> {
    const args = ['set-health', status];
    if (status !== 'okay') {
      args.push(message ?? status);
      if (code) args.push(`--code=${code}`);
    }
    await this.call(args);
  }
}

/** snapd aligns the table with a tabwriter; columns start where the header's words start. */
export function parseServicesTable(out: string): ServiceStatus[] {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0];
  if (header === undefined) return [];
  const cols = ['Startup', 'Current', 'Notes'].map((h) => header.indexOf(h));
  if (cols.some((c) => c < 0)) throw new Error(`unexpected snapctl services header: ${header}`);
  const [s, c, n] = cols as [number, number, number];
  return lines.slice(1).map((line) => {
    const notes = line.slice(n).trim();
    return {
      name: line.slice(0, s).trim(),
      enabled: line.slice(s, c).trim() === 'enabled',
      active: line.slice(c, n).trim() === 'active',
      notes: notes === '-' || notes === '' ? [] : notes.split(','),
    };
  });
}
