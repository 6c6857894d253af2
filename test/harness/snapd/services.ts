/**
 * Runs the daemons of `apps:` the way snapd's generated systemd units would (reference §A2, §A6,
 * §C3; snapd `wrappers/internal/service_unit_gen.go`): Restart=/RestartSec=, KillMode/KillSignal
 * from stop-mode, TimeoutStopSec=, ExecReload/ExecStop/ExecStopPost, WorkingDirectory=$SNAP_DATA,
 * systemd's start limit, output appended to <logDir>/<app>.log like the journal.
 *
 * A process group stands in for the service's cgroup: every command is spawned as the leader of a
 * new session, and a service counts as having processes while any non-zombie member of that group
 * is alive (PID 1 of a container may never reap orphans, so zombies are ignored).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandArgv, expandSnapVars, layerEnvironment, serviceOrder, type AppSpec, type LayoutSpec } from './apps.js';

const WITH_LAYOUTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'with-layouts');

export type UnitState = 'inactive' | 'activating' | 'active' | 'deactivating' | 'failed';

export interface ServiceStatus {
  app: string;
  enabled: boolean;
  active: boolean;
  state: UnitState;
  notes: string[];
}

export interface ServiceEvent {
  app: string;
  event: 'start' | 'exit' | 'stop' | 'restart-scheduled' | 'start-limit-hit' | 'reload' | 'run';
  pid?: number;
  code?: number | null;
  signal?: string | null;
}

export interface ServiceRunnerOptions {
  apps: AppSpec[];
  /** Current $SNAP (changes on refresh). */
  snapDir: () => string;
  /** Full environment for the app (snap env, PATH, cookie); the app's `environment:` goes on top. */
  env: (app: AppSpec) => Record<string, string>;
  /** <logDir>/<app>.log gets stdout+stderr (appended) and the runner's own notes. */
  logDir: string;
  /**
   * snap.yaml `layout:`. Daemons run in a private mount namespace where each target shows its
   * source, as in the snap's own namespace (test/harness/bin/with-layouts). A target the host
   * already provides with the same content (the fake $SNAP links /usr/lib/postgresql/<major> to
   * the host's own) is left alone: the host's directory IS the layout there.
   */
  layouts?: LayoutSpec[];
  /** systemd StartLimitBurst=/StartLimitIntervalSec= (defaults 5 in 10 s); burst 0 disables. */
  startLimit?: { burst: number; intervalMs: number };
  onEvent?: (e: ServiceEvent) => void;
}

/** `code: null, signal: null` = exit status unknown (a forking daemon that is not our child). */
interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Proc {
  /** Main PID; undefined when it could not be determined (forking daemon, several candidates). */
  pid?: number;
  /** Process group standing in for the cgroup. */
  pgid?: number;
  exited: Promise<Exit>;
  spawned: Promise<boolean>;
  done: boolean;
  /** The launcher of a `forking` service (its exit is the end of the start-up, not of the service). */
  launcher?: boolean;
}

type Result = 'success' | 'exit-code' | 'signal' | 'start-limit-hit';

interface Unit {
  app: AppSpec;
  enabled: boolean;
  state: UnitState;
  result?: Result;
  main?: Proc;
  pgid?: number;
  exits: number;
  stopping: boolean;
  restartTimer?: NodeJS.Timeout;
  limit: { begin?: number; num: number };
  starting?: Promise<void>;
  /** runOnce processes in flight. */
  runs: Set<Proc>;
  /** reload/stop/post-stop commands in flight. */
  helpers: Set<Proc>;
}

/** systemd's "clean" signals for daemons (is_clean_exit with EXIT_CLEAN_DAEMON). */
const CLEAN_SIGNALS: readonly string[] = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE'];
/** systemd's EXIT_EXEC, reported when the command cannot be executed. */
const EXIT_EXEC = 203;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor(pred: () => boolean, timeoutMs: number, everyMs = 10): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (pred()) return true;
    if (Date.now() >= end) return false;
    await sleep(Math.min(everyMs, Math.max(1, end - Date.now())));
  }
}

/** Live (non-zombie) members of a process group, with their parent PIDs. */
export function groupMembers(pgid: number): Array<{ pid: number; ppid: number }> {
  try {
    process.kill(-pgid, 0);
  } catch {
    return [];
  }
  const out: Array<{ pid: number; ppid: number }> = [];
  for (const d of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[2]) === pgid && f[0] !== 'Z' && f[0] !== 'X') out.push({ pid: Number(d), ppid: Number(f[1]) });
  }
  return out;
}

export function groupAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function send(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch {
    /* ESRCH: already gone */
  }
}

function classify(app: AppSpec, ex: Exit): Result {
  if (ex.signal) return app.daemon !== 'oneshot' && CLEAN_SIGNALS.includes(ex.signal) ? 'success' : 'signal';
  if (ex.code === 0 || (ex.code !== null && app.successExitStatus.includes(ex.code))) return 'success';
  return 'exit-code';
}

/** systemd service_shall_restart() for the results this runner can produce. */
function shallRestart(app: AppSpec, result: Result): boolean {
  switch (app.restartCondition) {
    case 'always':
      return true;
    case 'on-success':
      return result === 'success';
    case 'on-failure':
      return result !== 'success';
    case 'on-abnormal':
    case 'on-abort':
      return result === 'signal';
    case 'on-watchdog': // no watchdog here
    case 'never':
      return false;
  }
}

function describe(ex: Exit): string {
  if (ex.signal) return `code=killed, status=${(constants.signals as Record<string, number>)[ex.signal] ?? '?'}/${ex.signal.slice(3)}`;
  if (ex.code === null) return 'code=unknown';
  return `code=exited, status=${ex.code}/${ex.code === 0 ? 'SUCCESS' : 'FAILURE'}`;
}

export class ServiceRunner {
  private readonly units = new Map<string, Unit>();
  private readonly order: string[];
  private readonly groups = new Set<number>();
  private readonly groupOwner = new Map<number, Unit>();
  private readonly limit: { burst: number; intervalMs: number };

  constructor(private readonly opts: ServiceRunnerOptions) {
    for (const app of opts.apps) {
      this.units.set(app.name, {
        app,
        enabled: app.daemon !== undefined && app.installMode !== 'disable',
        state: 'inactive',
        exits: 0,
        stopping: false,
        limit: { num: 0 },
        runs: new Set(),
        helpers: new Set(),
      });
    }
    this.order = serviceOrder(opts.apps);
    this.limit = opts.startLimit ?? { burst: 5, intervalMs: 10_000 };
    mkdirSync(opts.logDir, { recursive: true });
  }

  logPath(app: string): string {
    return join(this.opts.logDir, `${app}.log`);
  }

  /** Service names in start order (after/before honoured). */
  startOrder(): string[] {
    return [...this.order];
  }

  async start(name: string): Promise<void> {
    const u = this.unit(name, true);
    if (u.app.timer) return; // starting a timer app arms its timer; runs happen through runOnce
    if (u.starting) return u.starting;
    if (u.main || u.state === 'active') return;
    if (u.restartTimer) clearTimeout(u.restartTimer);
    u.restartTimer = undefined;
    u.stopping = false;
    const p = this.launch(u).finally(() => {
      if (u.starting === p) u.starting = undefined;
    });
    u.starting = p;
    return p;
  }

  async stop(name: string): Promise<void> {
    const u = this.unit(name, true);
    u.stopping = true;
    if (u.restartTimer) clearTimeout(u.restartTimer);
    u.restartTimer = undefined;
    if (u.starting && u.app.daemon !== 'oneshot' && u.app.daemon !== 'forking') await u.starting.catch(() => undefined);
    const wasRunning = u.main !== undefined;
    if (!wasRunning && u.state === 'active' && u.app.stopCommand) {
      // a oneshot kept active by RemainAfterExit=yes: stopping it runs ExecStop= (and ExecStopPost=)
      await this.runToExit(u, u.app.stopCommand, {}, u.app.stopTimeoutMs);
    }
    const ranStopPost = wasRunning || u.state === 'active';
    await Promise.all([this.terminate(u, u.main, u.pgid), ...[...u.runs].map((r) => this.terminate(u, r, r.pgid))]);
    if (ranStopPost && u.app.postStopCommand) await this.runToExit(u, u.app.postStopCommand, {}, u.app.stopTimeoutMs);
    if (u.state !== 'failed' || wasRunning) u.state = 'inactive';
    this.emit({ app: name, event: 'stop' });
  }

  /** `snap restart [--reload]`: reload runs reload-command (systemctl reload-or-restart), else stop + start. */
  async restart(name: string, opts: { reload?: boolean } = {}): Promise<void> {
    const u = this.unit(name, true);
    if (opts.reload && u.app.reloadCommand && u.main && u.state === 'active') {
      this.emit({ app: name, event: 'reload', pid: u.main.pid });
      const ex = await this.runToExit(u, u.app.reloadCommand, u.main.pid ? { MAINPID: String(u.main.pid) } : {}, u.app.stopTimeoutMs);
      if (ex.code !== 0) {
        throw new Error(`${name}: reload-command failed (${describe(ex)})`);
      }
      return;
    }
    await this.stop(name);
    await this.start(name);
  }

  /** Enabled services in after/before order (timer apps are left to runOnce). Undoes its starts on failure, like snapd. */
  async startAll(): Promise<void> {
    const started: string[] = [];
    for (const name of this.order) {
      const u = this.units.get(name)!;
      if (!u.enabled || u.app.timer) continue;
      if (u.main || u.state === 'active') continue;
      try {
        await this.start(name);
      } catch (e) {
        for (const s of started.reverse()) await this.stop(s);
        throw e;
      }
      started.push(name);
    }
  }

  /** Stops every service in reverse order and makes sure nothing it spawned is left alive. */
  async stopAll(): Promise<void> {
    for (const name of [...this.order].reverse()) await this.stop(name);
    for (const u of this.units.values()) {
      await Promise.all([...u.runs, ...u.helpers].map((r) => this.terminate(u, r, r.pgid)));
    }
    for (const g of [...this.groups]) {
      send(-g, 'SIGKILL');
      await waitFor(() => !groupAlive(g), 5000);
      this.groups.delete(g);
    }
  }

  enable(name: string): void {
    this.unit(name, true).enabled = true;
  }

  disable(name: string): void {
    this.unit(name, true).enabled = false;
  }

  isEnabled(name: string): boolean {
    return this.unit(name, true).enabled;
  }

  /** Active (systemd ActiveState=active), or a runOnce of it in progress. */
  isActive(name: string): boolean {
    const u = this.unit(name, false);
    return u.state === 'active' || u.runs.size > 0;
  }

  state(name: string): UnitState {
    return this.unit(name, true).state;
  }

  status(): ServiceStatus[] {
    return this.opts.apps
      .filter((a) => a.daemon)
      .map((a) => {
        const u = this.units.get(a.name)!;
        const notes: string[] = [];
        if (a.timer) notes.push('timer-activated');
        if (u.result === 'start-limit-hit') notes.push('start-limit-hit');
        return { app: a.name, enabled: u.enabled, active: this.isActive(a.name), state: u.state, notes };
      });
  }

  pid(name: string): number | undefined {
    return this.unit(name, false).main?.pid;
  }

  /** How many times the app's main process (or a runOnce of it) exited. */
  exits(name: string): number {
    return this.unit(name, false).exits;
  }

  /** `systemctl reset-failed`: clears the failed state and the start-limit counter. */
  resetFailed(name: string): void {
    const u = this.unit(name, true);
    u.limit = { num: 0 };
    if (u.state === 'failed') u.state = 'inactive';
    u.result = undefined;
  }

  /**
   * Runs the app's command to completion now (a timer firing, a oneshot, or any app), with the
   * same environment and log. Returns the exit code (128 + signal number when killed).
   */
  async runOnce(name: string): Promise<number> {
    const u = this.unit(name, false);
    if (u.main) throw new Error(`${name} is running as a service; stop it first`);
    const p = this.spawnIn(u, u.app.command, {});
    u.runs.add(p);
    this.emit({ app: name, event: 'run', pid: p.pid });
    const ex = await p.exited;
    u.runs.delete(p);
    u.exits++;
    this.note(name, `Run finished, ${describe(ex)}`);
    await this.endGroup(u, p.pgid);
    if (ex.signal) return 128 + ((constants.signals as Record<string, number>)[ex.signal] ?? 0);
    return ex.code ?? 0;
  }

  // ---------------------------------------------------------------------------------------------

  private unit(name: string, service: boolean): Unit {
    const u = this.units.get(name);
    if (!u) throw new Error(`unknown app ${JSON.stringify(name)}`);
    if (service && !u.app.daemon) throw new Error(`${name} is not a service`);
    return u;
  }

  private emit(e: ServiceEvent): void {
    this.opts.onEvent?.(e);
  }

  private note(app: string, text: string): void {
    appendFileSync(this.logPath(app), `[harness] ${new Date().toISOString()} ${app}: ${text}\n`);
  }

  /** systemd ratelimit_below() on StartLimitIntervalSec/StartLimitBurst. */
  private startAllowed(u: Unit): boolean {
    if (this.limit.burst <= 0) return true;
    const now = performance.now();
    if (u.limit.begin === undefined || now - u.limit.begin > this.limit.intervalMs) {
      u.limit = { begin: now, num: 1 };
      return true;
    }
    u.limit.num++;
    return u.limit.num <= this.limit.burst;
  }

  private async launch(u: Unit): Promise<void> {
    const name = u.app.name;
    if (!this.startAllowed(u)) {
      u.state = 'failed';
      u.result = 'start-limit-hit';
      this.note(name, 'Start request repeated too quickly. Failed with result start-limit-hit.');
      this.emit({ app: name, event: 'start-limit-hit' });
      throw new Error(`${name}: start request repeated too quickly (start-limit-hit)`);
    }
    u.state = 'activating';
    u.result = undefined;
    for (const pid of this.leftovers(name)) this.note(name, `Found left-over process ${pid} (${comm(pid)}) in control group while starting unit. Ignoring.`);
    let p: Proc;
    try {
      p = this.spawnIn(u, u.app.command, {});
    } catch (e) {
      u.state = 'failed';
      throw e;
    }
    p.launcher = u.app.daemon === 'forking';
    u.main = p;
    u.pgid = p.pgid;
    void p.exited.then((ex) => this.onExit(u, p, ex));
    const ok = await p.spawned;
    this.emit({ app: name, event: 'start', pid: p.pid });
    if (!ok) throw new Error(`${name}: cannot execute ${u.app.command} (see ${this.logPath(name)})`);
    if (u.app.daemon === 'oneshot' || u.app.daemon === 'forking') {
      await p.exited;
      await sleep(0); // let onExit (registered first) settle the state
      const result = u.result as Result | undefined; // set by onExit meanwhile
      if (u.stopping || (result !== undefined && result !== 'success')) {
        throw new Error(`${name}: start failed (${u.stopping ? 'cancelled by stop' : result}), see ${this.logPath(name)}`);
      }
    } else if (u.main === p) {
      u.state = 'active';
    }
  }

  private onExit(u: Unit, p: Proc, ex: Exit): void {
    if (u.main !== p) return;
    u.main = undefined;
    const name = u.app.name;
    if (p.launcher && !u.stopping && classify(u.app, ex) === 'success') {
      const adopted = this.adoptForked(p.pgid);
      if (adopted) {
        u.main = adopted;
        u.state = 'active';
        void adopted.exited.then((e) => this.onExit(u, adopted, e));
        return;
      }
    }
    u.exits++;
    this.note(name, `Main process exited, ${describe(ex)}`);
    this.emit({ app: name, event: 'exit', pid: p.pid, code: ex.code, signal: ex.signal });
    if (u.stopping) return; // stop() finishes the job
    // The service is over: what is left of its "cgroup" is killed for KillMode=control-group (the
    // default and every `-all` stop mode); KillMode=process leaves it running, as systemd does.
    void this.endGroup(u, u.pgid);
    const result = classify(u.app, ex);
    u.result = result;
    if (shallRestart(u.app, result)) {
      u.state = 'activating';
      this.emit({ app: name, event: 'restart-scheduled', code: ex.code, signal: ex.signal });
      u.restartTimer = setTimeout(() => {
        u.restartTimer = undefined;
        if (u.stopping || u.main) return;
        const s = this.launch(u).catch(() => undefined).finally(() => {
          if (u.starting === s) u.starting = undefined;
        });
        u.starting = s;
      }, u.app.restartDelayMs);
    } else if (result === 'success') {
      // RemainAfterExit=yes is what snapd sets for a oneshot with a stop-command.
      u.state = u.app.daemon === 'oneshot' && u.app.stopCommand ? 'active' : 'inactive';
    } else {
      u.state = 'failed';
    }
  }

  /** systemd's GuessMainPID for Type=forking: the one group member whose parent is outside the group. */
  private adoptForked(pgid: number | undefined): Proc | undefined {
    if (!pgid) return undefined;
    const members = groupMembers(pgid);
    if (members.length === 0) return undefined;
    const pids = new Set(members.map((m) => m.pid));
    const roots = members.filter((m) => !pids.has(m.ppid));
    const pid = roots.length === 1 ? roots[0]!.pid : undefined;
    const p: Proc = { pid, pgid, done: false, spawned: Promise.resolve(true), exited: Promise.resolve({ code: null, signal: null }) };
    p.exited = (async () => {
      await waitFor(() => (pid ? !pidAlive(pid) : !groupAlive(pgid)), Number.MAX_SAFE_INTEGER, 50);
      p.done = true;
      return { code: null, signal: null };
    })();
    return p;
  }

  /** Spawns a command of the app as snap-exec + systemd would: env layered, cwd $SNAP_DATA, own process group, output to the log. */
  private spawnIn(u: Unit, command: string, extraEnv: Record<string, string>): Proc {
    const app = u.app;
    const env = { ...layerEnvironment(this.opts.env(app), app.environmentLayers), ...extraEnv };
    const argv = withLayouts(commandArgv(command, this.opts.snapDir(), env, app.commandChain), this.opts.layouts ?? [], env);
    const cwd = env['SNAP_DATA'];
    if (!cwd) throw new Error(`${app.name}: the environment has no SNAP_DATA (WorkingDirectory)`);
    const fd = openSync(this.logPath(app.name), 'a');
    let child;
    try {
      child = spawn(argv[0]!, argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const p: Proc = { pid: child.pid, pgid: child.pid, done: false, spawned: Promise.resolve(false), exited: Promise.resolve({ code: null, signal: null }) };
    if (child.pid) {
      this.groups.add(child.pid);
      this.groupOwner.set(child.pid, u);
    }
    let spawnedOk = false;
    p.spawned = new Promise((resolve) => {
      child.once('spawn', () => {
        spawnedOk = true;
        resolve(true);
      });
      child.once('error', () => resolve(spawnedOk));
    });
    p.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        p.done = true;
        resolve({ code, signal });
      });
      child.once('error', (err) => {
        if (spawnedOk) return;
        this.note(app.name, `Failed to execute ${argv[0]}: ${err.message}`);
        p.done = true;
        resolve({ code: EXIT_EXEC, signal: null });
      });
    });
    return p;
  }

  /** Runs a helper command (reload/stop/post-stop) to completion, SIGKILLing its group after `timeoutMs`. */
  private async runToExit(u: Unit, command: string, extraEnv: Record<string, string>, timeoutMs: number): Promise<Exit> {
    const p = this.spawnIn(u, command, extraEnv);
    u.helpers.add(p);
    let timer: NodeJS.Timeout | undefined;
    try {
      const timedOut = new Promise<null>((r) => (timer = setTimeout(() => r(null), timeoutMs)));
      const ex = await Promise.race([p.exited, timedOut]);
      if (ex === null) {
        this.note(u.app.name, `${command}: timed out, killing`);
        if (p.pgid) send(-p.pgid, 'SIGKILL');
        return await p.exited;
      }
      return ex;
    } finally {
      clearTimeout(timer);
      u.helpers.delete(p);
      if (p.pgid) send(-p.pgid, 'SIGKILL');
    }
  }

  /**
   * systemd's stop: ExecStop= (stop-command) if any, then KillSignal= to the main process
   * (KillMode=process) or to the whole group (-all / default), SIGCONT after it, wait up to
   * TimeoutStopSec=, then SIGKILL; finally nothing of the group survives.
   */
  private async terminate(u: Unit, p: Proc | undefined, pgid: number | undefined): Promise<void> {
    const app = u.app;
    if (p && !p.done && p === u.main) {
      u.state = 'deactivating';
      if (app.stopCommand) await this.runToExit(u, app.stopCommand, p.pid ? { MAINPID: String(p.pid) } : {}, app.stopTimeoutMs);
    }
    if (p && !p.done) {
      const target = app.killAll || !p.pid ? (pgid ? -pgid : undefined) : p.pid;
      if (target !== undefined) {
        send(target, app.stopSignal);
        if (app.killAll && pgid) send(-pgid, 'SIGCONT');
        const gone = await waitFor(() => p.done && (!app.killAll || !pgid || !groupAlive(pgid)), app.stopTimeoutMs);
        if (!gone) {
          this.note(app.name, `State 'stop-sigterm' timed out after ${app.stopTimeoutMs}ms. Killing.`);
          send(app.killAll && pgid ? -pgid : target, 'SIGKILL');
        }
      }
      await waitFor(() => p.done, 5000);
    }
    if (pgid) await this.endGroup(u, pgid);
  }

  /**
   * The rest of a stopped service's process group. KillMode=control-group (default and `-all`
   * stop modes): SIGKILL and wait. KillMode=process (sigterm, sigint, ...): systemd leaves the
   * processes running ("remains running after unit stopped"); so does the harness, and notes it
   * in the app's log. They are still killed at teardown (stopAll), where systemd has no equivalent.
   */
  private async endGroup(u: Unit, pgid: number | undefined): Promise<void> {
    if (!pgid) return;
    if (u.app.killAll) {
      send(-pgid, 'SIGKILL');
      await waitFor(() => !groupAlive(pgid), 5000);
      this.groups.delete(pgid);
      return;
    }
    for (const m of groupMembers(pgid)) this.note(u.app.name, `Unit process ${m.pid} (${comm(m.pid)}) remains running after unit stopped.`);
  }

  /** Processes of earlier runs of the service still alive (KillMode=process leftovers). */
  leftovers(name: string): number[] {
    const u = this.unit(name, false);
    return [...this.groups].filter((g) => g !== u.main?.pgid && this.groupOwner.get(g) === u).flatMap((g) => groupMembers(g).map((m) => m.pid));
  }
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/**
 * `argv` prefixed with the layout wrapper for every layout the host does not already provide.
 * A layout is provided by the host when its target resolves to its source, or when every entry of
 * the source resolves to the same-named entry of the target (the harness links Debian's
 * /usr/lib/postgresql/15 into the fake $SNAP: binding that over /usr/lib/postgresql would make each
 * link point at itself).
 */
export function withLayouts(argv: string[], layouts: LayoutSpec[], env: Record<string, string>): string[] {
  const pairs: string[] = [];
  for (const l of layouts) {
    const source = expandSnapVars(l.source, env);
    if (!existsSync(source)) continue;
    if (existsSync(l.target) && hostProvides(l.target, source)) continue;
    pairs.push(l.target, source);
  }
  return pairs.length === 0 ? argv : [WITH_LAYOUTS, ...pairs, '--', ...argv];
}

function hostProvides(target: string, source: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return undefined;
    }
  };
  if (real(target) === real(source)) return true;
  let entries: string[];
  try {
    entries = readdirSync(source);
  } catch {
    return false;
  }
  return entries.length > 0 && entries.every((e) => real(join(source, e)) !== undefined && real(join(source, e)) === real(join(target, e)));
}
