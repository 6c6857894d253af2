/**
 * A faithful, in-process stand-in for snapd, for one snap: it lays out revisions like snapd, runs
 * hooks as snap-exec does (hook-runner.ts), answers `snapctl` over a unix socket with the
 * semantics of reference §B (snapd/snapctl-commands.ts), keeps config transactions per hook, and
 * runs the snap's daemons from snap/snapcraft.yaml (snapd/services.ts). The change flows (install,
 * snap set, refresh, revert, remove) follow reference §A2/§A3 step by step, including their undo.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type FakeSnapLayout, buildSnapDir, layoutRevision, repoRoot, snapEnvFor } from './fake-snap.js';
import { type HookRunResult, runHookProcess } from './hook-runner.js';
import { ConfigError, ConfigTransaction, type ConfigDocument, type JsonValue, formatSnapGet, fromPlain, newObject, parseConfigValues, toPlain } from './snapd/config.js';
import { type SnapctlHost } from './snapd/snapctl-commands.js';
import { serveSnapctl } from './snapd/snapctl-server.js';
import { serveSnapdApi } from './snapd/snapd-api.js';
import { runCommand } from '../../hooks-src/snap/exec.js';
import { type AppSpec, commandArgv, layerEnvironment, loadApps, loadLayouts, type LayoutSpec } from './snapd/apps.js';
import { ServiceRunner, withLayouts } from './snapd/services.js';

export const harnessBin = join(repoRoot, 'test/harness/bin');

/** A failed change, with the message the `snap` command would print. */
export class SnapdChangeError extends Error {
  constructor(
    message: string,
    readonly hookResult?: HookRunResult,
  ) {
    super(message);
    this.name = 'SnapdChangeError';
  }
}

type ServiceOp = Parameters<SnapctlHost['serviceControl']>[0];

interface Context {
  cookie: string;
  hook: string | null;
  txn: ConfigTransaction;
  queue: ServiceOp[];
}

export interface FakeSnapdOptions {
  root?: string;
  instance?: string;
  /** Built snap tree to install (default build/snap). */
  from?: string;
  version?: string;
  /** host links added under $SNAP/usr (default fake-snap.hostLinks()). */
  links?: Record<string, string>;
  /** Extra variables for hooks and apps (test-only knobs such as fault injection). */
  extraEnv?: Record<string, string>;
  snapcraftYaml?: string;
  /** Plugs connected from the start (network and network-bind auto-connect). */
  connected?: string[];
  /** systemd's start limit for the services (default 5 starts in 10 s, as systemd's). */
  startLimit?: { burst: number; intervalMs: number };
  /**
   * Run hooks without root's DAC override, as under strict confinement (hook-runner.ts). Default
   * on (HARNESS_DROP_DAC=0 turns it off to tell a confinement problem from another one).
   */
  dropDac?: boolean;
}

export interface Snapshot {
  id: number;
  revision: string;
  path: string;
}

export class FakeSnapd {
  readonly root: string;
  readonly instance: string;
  readonly socketPath: string;
  readonly logDir: string;
  layout!: FakeSnapLayout;
  version: string;
  config: ConfigDocument = newObject();
  private revisionConfigs = new Map<string, ConfigDocument>();
  private contexts = new Map<string, Context>();
  private readonly appCookie = `app-${randomBytes(12).toString('hex')}`;
  private closeServer: () => Promise<void> | void = () => {};
  private yamlDoc: Record<string, unknown>;
  private readonly layouts: LayoutSpec[];
  readonly apps: AppSpec[];
  services!: ServiceRunner;
  private connected: Set<string>;
  health: { status: string; message?: string; code?: string } | undefined;
  private revisionCounter = 0;
  private disabledRevisions: string[] = [];
  private foreignRevisions = new Set<string>();
  extraEnv: Record<string, string>;
  private snapshots: Snapshot[] = [];
  installed = false;

  private constructor(private readonly opts: FakeSnapdOptions) {
    this.root = opts.root ?? mkdtempSync(join(tmpdir(), 'fake-snapd-'));
    this.instance = opts.instance ?? 'immich-distribution';
    this.version = opts.version ?? '0.1.0';
    // The stand-in snapctl's line protocol; snapd's REST API for snapctl is at run/snapd-snap.socket.
    this.socketPath = join(this.root, 'run/fake-snapctl.socket');
    this.logDir = join(this.root, 'var/log/journal');
    this.extraEnv = opts.extraEnv ?? {};
    const yamlText = opts.snapcraftYaml ?? readFileSync(join(repoRoot, 'snap/snapcraft.yaml'), 'utf8');
    this.yamlDoc = parseYaml(yamlText) as Record<string, unknown>;
    this.apps = loadApps(yamlText);
    this.layouts = loadLayouts(yamlText);
    this.connected = new Set(opts.connected ?? ['network', 'network-bind']);
  }

  static async create(opts: FakeSnapdOptions = {}): Promise<FakeSnapd> {
    const d = new FakeSnapd(opts);
    // Like / on a real system (mkdtemp makes 0700): _daemon_ must be able to reach its files.
    mkdirSync(d.root, { recursive: true });
    chmodSync(d.root, 0o755);
    mkdirSync(join(d.root, 'run'), { recursive: true });
    mkdirSync(d.logDir, { recursive: true });
    const server = await serveSnapctl(d.socketPath, (cookie, uid) => d.hostFor(cookie, uid), (cookie, result) => d.afterCall(cookie, result));
    const api = await serveSnapdApi(join(d.root, 'run/snapd-snap.socket'), (cookie, uid) => d.hostFor(cookie, uid), (cookie, result) => d.afterCall(cookie, result));
    d.closeServer = async () => {
      await server.close();
      await api.close();
    };
    d.services = new ServiceRunner({
      apps: d.apps,
      snapDir: () => d.layout.snap,
      env: () => d.serviceBaseEnv(),
      layouts: d.layouts,
      logDir: d.logDir,
      startLimit: opts.startLimit,
    });
    return d;
  }

  // ---------------------------------------------------------------- environment

  private topEnvironment(): Record<string, string> {
    return (this.yamlDoc.environment as Record<string, string> | undefined) ?? {};
  }

  private basePath(l: FakeSnapLayout): string {
    // snapcraft's default PATH for core22+ (reference §A5), with our snapctl stand-in where the
    // base's /usr/bin/snapctl would be found.
    return [`${l.snap}/usr/sbin`, `${l.snap}/usr/bin`, `${l.snap}/sbin`, `${l.snap}/bin`, harnessBin, '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');
  }

  /** snapd's variables for a hook or app of revision `l`, before snap.yaml's `environment:` layers. */
  private baseEnv(l: FakeSnapLayout, cookie: string): Record<string, string> {
    // snap run creates the caller's $SNAP_USER_DATA (root's ~/snap/<instance>/<rev>) before every
    // hook and app it starts; the executables keep Node's compile cache there.
    const snap = snapEnvFor(l, this.version);
    mkdirSync(snap.SNAP_USER_DATA!, { recursive: true, mode: 0o755 });
    return { ...snap, PATH: this.basePath(l), SNAP_COOKIE: cookie, SNAP_CONTEXT: cookie, FAKE_SNAPD_SOCKET: this.socketPath, SNAPPY_GLOBAL_ROOT: this.root, ...this.extraEnv };
  }

  /** What the service runner gives a daemon before it layers the app's own `environment:`. */
  private serviceBaseEnv(): Record<string, string> {
    return this.baseEnv(this.layout, this.appCookie);
  }

  /** Environment of an app of the current revision (what `snap run <snap>.<app>` gives it). */
  appEnv(app: string): Record<string, string> {
    const spec = this.apps.find((a) => a.name === app);
    return layerEnvironment(this.serviceBaseEnv(), spec?.environmentLayers ?? [this.topEnvironment()]);
  }

  hookEnv(hook: string, cookie: string, l: FakeSnapLayout = this.layout): Record<string, string> {
    const hooks = (this.yamlDoc.hooks as Record<string, { environment?: Record<string, string> } | null> | undefined) ?? {};
    const hookLayer = Object.fromEntries(Object.entries(hooks[hook]?.environment ?? {}).map(([k, v]) => [k, String(v)]));
    return layerEnvironment(this.baseEnv(l, cookie), [this.topEnvironment(), hookLayer]);
  }

  // ---------------------------------------------------------------- snapctl host

  private hostFor(cookie: string, uid: number): SnapctlHost | undefined {
    let ctx = this.contexts.get(cookie);
    if (!ctx && cookie === this.appCookie) {
      // Ephemeral context: every call commits immediately (reference §B0).
      ctx = { cookie, hook: null, txn: this.transaction(), queue: [] };
      this.contexts.set(cookie, ctx);
    }
    if (!ctx) return undefined;
    const c = ctx;
    return {
      instance: this.instance,
      uid,
      hook: c.hook,
      config: c.txn,
      services: () =>
        this.apps
          .filter((a) => a.daemon)
          .map((a) => ({ app: a.name, enabled: this.services.isEnabled(a.name), active: this.services.isActive(a.name), notes: a.timer ? ['timer-activated'] : [] })),
      serviceControl: async (op) => {
        if (c.hook === 'configure') c.queue.push(op);
        else await this.applyServiceOp(op);
      },
      plugs: () => this.plugNames().map((name) => ({ name, connected: this.connected.has(name) })),
      setHealth: (h) => {
        this.health = h;
      },
    };
  }

  /** Ephemeral (app) contexts commit after each successful call (reference §B0). */
  private afterCall(cookie: string, result?: { exitCode: number }): void {
    if (cookie !== this.appCookie) return;
    const ctx = this.contexts.get(cookie);
    if (ctx) {
      if (!result || result.exitCode === 0) this.config = ctx.txn.commit(this.config);
      this.contexts.delete(cookie);
    }
  }

  private transaction(patch?: Map<string, JsonValue>): ConfigTransaction {
    return new ConfigTransaction(this.config, patch, { snap: this.instance });
  }

  private plugNames(): string[] {
    const names = new Set<string>(Object.keys((this.yamlDoc.plugs as Record<string, unknown> | undefined) ?? {}));
    for (const a of this.apps) for (const p of a.plugs ?? []) names.add(p);
    const hooks = (this.yamlDoc.hooks as Record<string, { plugs?: string[] } | null> | undefined) ?? {};
    for (const h of Object.values(hooks)) for (const p of h?.plugs ?? []) names.add(p);
    return [...names].sort();
  }

  connect(plug: string): void {
    this.connected.add(plug);
  }

  disconnect(plug: string): void {
    this.connected.delete(plug);
  }

  private async applyServiceOp(op: ServiceOp): Promise<void> {
    for (const app of op.apps) {
      if (op.action === 'start') {
        if (op.enable) this.services.enable(app);
        await this.services.start(app);
      } else if (op.action === 'stop') {
        if (op.disable) this.services.disable(app);
        await this.services.stop(app);
      } else if (this.apps.find((a) => a.name === app)?.timer) {
        // snapd restarts the app's .service unit (not its .timer; wrappers.RestartServices with the
        // app named explicitly, so even while inactive): for a oneshot, systemctl runs it to the end
        // and fails when it fails. `start` of a timer app only arms the timer (wrappers.StartServices).
        const code = await this.services.runOnce(app);
        if (code !== 0) throw new Error(`restart of [${this.instance}.${app}] failed: ${app} exited with status ${code} (see ${this.services.logPath(app)})`);
      } else {
        await this.services.restart(app, { reload: op.reload });
      }
    }
  }

  // ---------------------------------------------------------------- hooks

  private hookPath(hook: string, l: FakeSnapLayout = this.layout): string {
    return join(l.snap, 'meta/hooks', hook);
  }

  /**
   * Runs one hook as snapd would, with its own config transaction: on exit 0 the transaction is
   * committed and (configure only) queued service operations run; otherwise both are discarded.
   */
  async runHook(
    hook: string,
    opts: { patch?: Map<string, JsonValue>; layout?: FakeSnapLayout; timeoutMs?: number; extraEnv?: Record<string, string> } = {},
  ): Promise<HookRunResult> {
    const l = opts.layout ?? this.layout;
    const path = this.hookPath(hook, l);
    const cookie = `hook-${randomBytes(12).toString('hex')}`;
    let txn: ConfigTransaction;
    try {
      txn = this.transaction(opts.patch);
    } catch (err) {
      // A bad patch (e.g. an invalid key name) fails the change before the hook runs.
      const message = err instanceof Error ? err.message : String(err);
      return { hook, exitCode: 1, signal: null, timedOut: false, output: message, durationMs: 0, error: message };
    }
    const ctx: Context = { cookie, hook, txn, queue: [] };
    this.contexts.set(cookie, ctx);
    try {
      if (!existsSync(path)) {
        // A hook that is not shipped simply does not run; its patch still applies.
        this.config = txn.commit(this.config);
        return { hook, exitCode: 0, signal: null, timedOut: false, output: '', durationMs: 0 };
      }
      const result = await runHookProcess({ hook, path, env: { ...this.hookEnv(hook, cookie, l), ...(opts.extraEnv ?? {}) }, timeoutMs: opts.timeoutMs, dropDac: this.opts.dropDac ?? process.env.HARNESS_DROP_DAC !== '0' });
      if (result.exitCode === 0 && !result.timedOut) {
        this.config = txn.commit(this.config);
        for (const op of ctx.queue) await this.applyServiceOp(op);
      }
      return result;
    } finally {
      this.contexts.delete(cookie);
    }
  }

  private hookFailure(summary: string, r: HookRunResult): SnapdChangeError {
    return new SnapdChangeError(`error: cannot perform the following tasks:\n- ${summary} (${r.error ?? 'failed'})`, r);
  }

  // ---------------------------------------------------------------- changes

  private nextRevision(): string {
    this.revisionCounter += 1;
    return `x${this.revisionCounter}`;
  }

  private link(l: FakeSnapLayout): void {
    for (const dir of [join(this.root, 'snap', this.instance), join(this.root, 'var/snap', this.instance)]) {
      const cur = join(dir, 'current');
      if (existsSync(cur) || isSymlink(cur)) unlinkSync(cur);
      symlinkSync(l.revision, cur);
    }
    // snapd's doLinkSnap saves the config of the revision being replaced; undo and revert restore it.
    if (this.layout && this.layout.revision !== l.revision) this.revisionConfigs.set(this.layout.revision, this.transaction().view());
    this.layout = l;
  }

  /** `snap install --dangerous`: install hook → start services → configure → check-health, undone on failure. */
  async install(opts: { from?: string } = {}): Promise<void> {
    if (this.installed) throw new SnapdChangeError(`error: snap "${this.instance}" is already installed`);
    const l = layoutRevision({ root: this.root, instance: this.instance, revision: this.nextRevision(), from: opts.from ?? this.opts.from ?? buildSnapDir, links: this.opts.links });
    this.link(l);
    for (const a of this.apps) if (a.daemon && a.installMode === 'disable') this.services.disable(a.name);
    const undo = async () => {
      await this.services.stopAll();
      rmSync(join(this.root, 'snap', this.instance), { recursive: true, force: true });
      rmSync(join(this.root, 'var/snap', this.instance), { recursive: true, force: true });
      this.config = newObject();
      this.revisionConfigs.clear();
      this.installed = false;
    };
    const install = await this.runHook('install');
    if (install.error) {
      await undo();
      throw this.hookFailure(`Run install hook of "${this.instance}" snap if present`, install);
    }
    this.installed = true;
    await this.services.startAll();
    const configure = await this.runHook('configure');
    if (configure.error) {
      await undo();
      throw this.hookFailure(`Run configure hook of "${this.instance}" snap if present`, configure);
    }
    await this.checkHealth();
  }

  /**
   * A revision of ANOTHER build of this snap, e.g. the anchor snap's: laid out from `from` and
   * linked, its `snap set` config in place, no hook run and no service started (its daemons are not
   * modelled; tests put its data in $SNAP_COMMON themselves). A later refresh() runs our hooks on it.
   */
  async installOther(opts: { from: string; config?: Record<string, unknown>; version?: string }): Promise<void> {
    if (this.installed) throw new SnapdChangeError(`error: snap "${this.instance}" is already installed`);
    const l = layoutRevision({ root: this.root, instance: this.instance, revision: this.nextRevision(), from: opts.from, links: {} });
    this.link(l);
    if (opts.version) this.version = opts.version;
    this.config = this.transaction(new Map(Object.entries(opts.config ?? {}).map(([k, v]) => [k, fromPlain(v)]))).commit(this.config);
    this.foreignRevisions.add(l.revision);
    this.installed = true;
  }

  /** Starts the current revision's services; those of another build (installOther) are not modelled. */
  private async startServices(): Promise<void> {
    if (!this.foreignRevisions.has(this.layout.revision)) await this.services.startAll();
  }

  private async checkHealth(): Promise<void> {
    const r = await this.runHook('check-health');
    if (r.error) this.health = { status: 'unknown', code: 'snapd-hook-failed' };
  }

  /** `snap set <snap> k=v …`: configure hook with the patch; nothing is committed unless it succeeds. */
  async set(args: string[] | Record<string, unknown>): Promise<HookRunResult> {
    let patch: Map<string, JsonValue>;
    try {
      patch = Array.isArray(args) ? parseConfigValues(args).values : new Map(Object.entries(args).map(([k, v]) => [k, v === undefined ? null : fromPlain(v)]));
    } catch (err) {
      throw new SnapdChangeError(`error: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!existsSync(this.hookPath('configure'))) throw new SnapdChangeError(`error: snap "${this.instance}" has no "configure" hook`);
    const r = await this.runHook('configure', { patch });
    if (r.error) throw this.hookFailure(`Run configure hook of "${this.instance}" snap`, r);
    return r;
  }

  async unset(...keys: string[]): Promise<void> {
    await this.set(keys.map((k) => `${k}!`));
  }

  /** `snap get <snap> <key>` (user command): the value as plain data, or snapd's error when it is missing. */
  get(key: string): unknown {
    try {
      return toPlain(this.transaction().get(key));
    } catch (err) {
      if (err instanceof ConfigError) throw new SnapdChangeError(`error: ${err.message}`);
      throw err;
    }
  }

  /** `snap get [-d] <snap> [keys…]` exactly as the CLI prints it. */
  snapGet(keys: string[], opts: { document?: boolean; typed?: boolean } = {}) {
    return formatSnapGet(this.instance, this.config, keys, opts);
  }

  /** The committed config as plain data. */
  configPlain(): Record<string, unknown> {
    return toPlain(this.config) as Record<string, unknown>;
  }

  /**
   * `snap refresh` to a new local revision: pre-refresh (old) → stop services → copy $SNAP_DATA →
   * link new → post-refresh (new) → start services → configure → check-health. A failure after the
   * link undoes it: old revision relinked, the new $SNAP_DATA removed, config restored, old
   * services started. $SNAP_COMMON is NOT restored (as in snapd). `links` gives the new revision
   * other host files under $SNAP/usr (e.g. a revision that ships a newer Postgres major).
   */
  async refresh(opts: { from?: string; version?: string; links?: Record<string, string> } = {}): Promise<void> {
    const old = this.layout;
    const oldVersion = this.version;
    const pre = await this.runHook('pre-refresh');
    if (pre.error) throw this.hookFailure(`Run pre-refresh hook of "${this.instance}" snap if present`, pre);
    await this.services.stopAll();
    const revision = this.nextRevision();
    const l = layoutRevision({ root: this.root, instance: this.instance, revision, from: opts.from ?? this.opts.from ?? buildSnapDir, links: opts.links ?? this.opts.links, createData: false });
    cpSync(old.data, l.data, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    copyOwnership(old.data, l.data);
    const savedConfig = this.transaction().view();
    if (opts.version) this.version = opts.version;
    this.link(l);
    const undo = async (summary: string, r: HookRunResult) => {
      await this.services.stopAll();
      this.version = oldVersion;
      this.config = savedConfig;
      this.link(old);
      rmSync(l.data, { recursive: true, force: true });
      rmSync(l.snap, { recursive: true, force: true });
      await this.startServices();
      return this.hookFailure(summary, r);
    };
    const post = await this.runHook('post-refresh');
    if (post.error) throw await undo(`Run post-refresh hook of "${this.instance}" snap if present`, post);
    await this.services.startAll();
    const configure = await this.runHook('configure');
    if (configure.error) throw await undo(`Run configure hook of "${this.instance}" snap if present`, configure);
    this.disabledRevisions.push(old.revision);
    await this.checkHealth();
  }

  /** `snap revert`: no refresh hooks, no data copy; the old revision's data and config come back. */
  async revert(): Promise<void> {
    const previous = this.disabledRevisions.pop();
    if (!previous) throw new SnapdChangeError(`error: no revision to revert to`);
    await this.services.stopAll();
    const l = { ...this.layout, revision: previous, snap: join(this.root, 'snap', this.instance, previous), data: join(this.root, 'var/snap', this.instance, previous) };
    this.config = this.revisionConfigs.get(previous) ?? newObject();
    this.link(l);
    await this.startServices();
    const configure = await this.runHook('configure');
    if (configure.error) throw this.hookFailure(`Run configure hook of "${this.instance}" snap if present`, configure);
  }

  /** `snap remove`: stop services → remove hook (errors ignored) → automatic snapshot → data removed. */
  async remove(opts: { purge?: boolean } = {}): Promise<{ removeHook: HookRunResult; snapshot?: Snapshot }> {
    await this.services.stopAll();
    const removeHook = await this.runHook('remove');
    let snapshot: Snapshot | undefined;
    if (!opts.purge) snapshot = this.takeSnapshot();
    rmSync(join(this.root, 'snap', this.instance), { recursive: true, force: true });
    rmSync(join(this.root, 'var/snap', this.instance), { recursive: true, force: true });
    this.installed = false;
    this.config = newObject();
    return { removeHook, snapshot };
  }

  /** snapd's automatic snapshot: $SNAP_DATA of the current revision and $SNAP_COMMON, minus snapshots.yaml exclusions. */
  private takeSnapshot(): Snapshot {
    const id = this.snapshots.length + 1;
    const path = join(this.root, 'var/lib/snapd/snapshots', `${id}_${this.instance}_${this.version}_${this.layout.revision}`);
    const excludes = this.snapshotExcludes();
    // A pattern excludes the paths it matches and everything below them; `*` matches within one
    // path component (snapd passes the patterns to tar as wildcards; `*` is the only one allowed).
    const res = excludes.map((e) => new RegExp(`^${e.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}(?:/|$)`));
    const keep = (src: string) => !res.some((re) => re.test(src));
    mkdirSync(path, { recursive: true });
    cpSync(this.layout.data, join(path, this.layout.revision), { recursive: true, filter: keep, verbatimSymlinks: true });
    cpSync(this.layout.common, join(path, 'common'), { recursive: true, filter: keep, verbatimSymlinks: true });
    writeFileSync(join(path, 'config.json'), JSON.stringify(this.configPlain()));
    const s = { id, revision: this.layout.revision, path };
    this.snapshots.push(s);
    return s;
  }

  private snapshotExcludes(): string[] {
    const file = join(this.layout.snap, 'meta/snapshots.yaml');
    const fromRepo = join(repoRoot, 'snap/snapshots.yaml');
    const src = existsSync(file) ? file : existsSync(fromRepo) ? fromRepo : undefined;
    if (!src) return [];
    const doc = parseYaml(readFileSync(src, 'utf8')) as { exclude?: string[] } | null;
    return (doc?.exclude ?? []).map((e) => e.replace(/\$SNAP_COMMON/g, this.layout.common).replace(/\$SNAP_DATA/g, this.layout.data).replace(/\/\*$/, ''));
  }

  listSnapshots(): Snapshot[] {
    return [...this.snapshots];
  }

  /** Runs an app's command like `snap run <snap>.<app> args…` and collects its output. */
  async runApp(app: string, args: string[] = [], opts: { input?: string; env?: Record<string, string> } = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const spec = this.apps.find((a) => a.name === app);
    if (!spec) throw new Error(`no app ${app}`);
    const env = { ...this.appEnv(app), ...(opts.env ?? {}) };
    const [file, ...argv] = withLayouts(commandArgv(spec.command, this.layout.snap, env, spec.commandChain), this.layouts, env);
    const r = await runCommand(file!, [...argv, ...args], { env, input: opts.input, cwd: this.layout.data, replaceEnv: true });
    return r;
  }

  /** Stops every service and the snapctl socket; removes the root unless asked to keep it. */
  async destroy(opts: { keep?: boolean } = {}): Promise<void> {
    await this.services.stopAll();
    await this.closeServer();
    if (!opts.keep) rmSync(this.root, { recursive: true, force: true });
  }

  listRevisions(): string[] {
    const dir = join(this.root, 'snap', this.instance);
    return existsSync(dir) ? readdirSync(dir).filter((d) => d !== 'current') : [];
  }
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** cpSync does not keep owners; snapd's copy preserves them (CopyFlagPreserveAll). */
function copyOwnership(src: string, dst: string): void {
  const walk = (s: string, d: string) => {
    const st = lstatSync(s);
    lchownSync(d, st.uid, st.gid);
    if (st.isDirectory()) for (const e of readdirSync(s)) walk(join(s, e), join(d, e));
  };
  walk(src, dst);
}
