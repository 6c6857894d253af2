/**
 * The semantics of `snapctl` as snapd's daemon runs it (`overlord/hookstate/ctlcmd/*.go`,
 * `daemon/api_snapctl.go`, `cmd/snapctl/tool/snapctl/main.go`), for the fake snapd.
 *
 * `runSnapctl` returns what the real `snapctl` binary would print and its exit code:
 * - success: the command's stdout/stderr, exit 0;
 * - a command error (HTTP 400 from snapd): stderr `error: error running snapctl: <message>\n`,
 *   exit 1 — this is the real text (daemon: `BadRequest("error running snapctl: %s", err)`, client:
 *   `error: %s`), as observed on snapd 2.57 in reference/snapd-vm-recipe.md §4;
 * - a forbidden command (non-root): stderr `error: cannot use "<cmd>" with uid <uid>, try with sudo\n`, exit 1;
 * - `is-connected` not connected: no output, exit 1 (UnsuccessfulError).
 */
import {
  type CommandResult,
  ConfigError,
  type ConfigTransaction,
  type JsonValue,
  NoOptionError,
  formatSnapctlGet,
  goQuote,
  parseConfigValues,
} from './config.js';

export type { CommandResult } from './config.js';

export interface SnapctlService {
  /** app name (without the snap name) */
  app: string;
  enabled: boolean;
  active: boolean;
  /** activation notes: `timer-activated`, `socket-activated`, `dbus-activated` */
  notes?: string[];
  /** a user daemon: Notes gets `user`, and Current is `-` in the global view */
  userDaemon?: boolean;
}

export interface ServiceControlRequest {
  action: 'start' | 'stop' | 'restart';
  /** app names, in the order given (all services, sorted, for `<instance>`) */
  apps: string[];
  enable?: boolean;
  disable?: boolean;
  reload?: boolean;
  /** `--system` / `--user` / `--users=all` */
  scope?: 'system' | 'user';
  users?: 'self' | 'all';
}

export interface HealthReport {
  status: 'okay' | 'waiting' | 'blocked' | 'error';
  /** truncated to 69 runes + "…" when over 70; absent for okay */
  message?: string;
  code?: string;
}

export interface SystemModeInfo {
  mode: string;
  seeded: boolean;
  factory?: boolean;
  storageEncrypted?: boolean;
}

/** What a snapctl call can see of its context. One host per call (the fake snapd resolves it from the cookie). */
export interface SnapctlHost {
  /** SNAP_INSTANCE_NAME (`name` or `name_key`) */
  instance: string;
  /** the caller's uid */
  uid: number;
  /** hook name, or null in an app ("ephemeral") context */
  hook: string | null;
  /**
   * The context's config transaction. Hook: one transaction for the whole hook, committed by the
   * caller only if the hook exits 0 (a failing `set a=1 B=2` keeps `a=1` in it, as in snapd).
   * App: a fresh transaction per call, committed only if the call succeeded (exit 0).
   */
  config: ConfigTransaction;
  /** the snap's services (apps with a daemon) */
  services(): SnapctlService[];
  /**
   * Start/stop/restart. In `configure`/`default-configure` the host queues it to run after the hook
   * succeeds; elsewhere it runs it and resolves when done. A rejection's message becomes the
   * snapctl error (e.g. `start command is taking too long`).
   */
  serviceControl(op: ServiceControlRequest): Promise<void>;
  /** the snap's plugs and slots, with their connection state */
  plugs(): { name: string; connected: boolean }[];
  /** record health (hook: keep it and store on success; app: store now) */
  setHealth(h: HealthReport): void;
  /** defaults to a seeded classic system in run mode */
  systemMode?(): SystemModeInfo;
}

// ------------------------------------------------------------------------------------------------
// Errors

/** A command error with snapd's message (printed as `error: error running snapctl: <message>`). */
export class SnapctlCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapctlCommandError';
  }
}

class UnsuccessfulError extends Error {
  constructor(readonly exitCode: number) {
    super(`unsuccessful with exit code: ${exitCode}`);
  }
}

class HelpRequested extends Error {}

export function missingContextMessage(verb: string): string {
  return `cannot invoke snapctl operation commands (here ${goQuote(verb)}) from outside of a snap`;
}

/** The stderr line for a command error, exactly as the real snapctl prints it. */
export function snapctlErrorLine(message: string): string {
  return `error: error running snapctl: ${message}\n`;
}

const ok = (stdout = '', stderr = ''): CommandResult => ({ stdout, stderr, exitCode: 0 });
const badRequest = (message: string): CommandResult => ({ stdout: '', stderr: snapctlErrorLine(message), exitCode: 1 });

// ------------------------------------------------------------------------------------------------
// Command table

/** Every command snapd 2.7x registers (`addCommand`), with `hidden` ones marked. */
const ALL_COMMANDS: Record<string, { hidden?: boolean; modelled: boolean }> = {
  change: { modelled: false },
  'fde-setup-request': { modelled: false },
  'fde-setup-result': { modelled: false },
  fail: { hidden: true, modelled: false },
  get: { modelled: true },
  install: { modelled: false },
  'is-connected': { modelled: true },
  'is-ready': { modelled: false },
  kmod: { modelled: false },
  model: { modelled: false },
  mount: { modelled: false },
  reboot: { modelled: false },
  refresh: { hidden: true, modelled: false },
  remove: { modelled: false },
  restart: { modelled: true },
  services: { modelled: true },
  set: { modelled: true },
  'set-health': { modelled: true },
  start: { modelled: true },
  stop: { modelled: true },
  'system-mode': { modelled: true },
  tasks: { modelled: false },
  umount: { modelled: false },
  unset: { modelled: true },
  version: { modelled: false },
};

/** `ctlcmd.nonRootAllowed` (current snapd; 2.57 allowed only get, services, set-health, is-connected, system-mode, model). */
const NON_ROOT_ALLOWED = ['get', 'services', 'set-health', 'is-connected', 'system-mode', 'refresh', 'model', 'version', 'is-ready', 'tasks', 'change'];

/** `isAllowedToRun`: root, a non-root verb, or -h/--help anywhere before `--`. */
function isAllowedToRun(uid: number, args: readonly string[]): boolean {
  if (uid === 0) return true;
  for (let idx = 0; idx < args.length; idx++) {
    const arg = args[idx] as string;
    if (idx === 0 && NON_ROOT_ALLOWED.includes(arg)) return true;
    if (arg === '-h' || arg === '--help') return true;
    if (arg === '--') break;
  }
  return false;
}

// ------------------------------------------------------------------------------------------------
// go-flags style option parsing

interface OptSpec {
  name: string;
  short?: string;
  long?: string;
  /** takes a value */
  arg?: boolean;
  /** an int option (value checked like go-flags) */
  int?: boolean;
}

interface Parsed {
  bools: Set<string>;
  values: Map<string, string[]>;
  positional: string[];
}

function optString(o: OptSpec): string {
  if (o.short && o.long) return `-${o.short}, --${o.long}`;
  if (o.short) return `-${o.short}`;
  return `--${o.long ?? o.name}`;
}

function argumentIsOption(arg: string): boolean {
  return arg.length > 1 && arg.startsWith('-');
}

function parseOptions(args: readonly string[], specs: readonly OptSpec[]): Parsed {
  const out: Parsed = { bools: new Set(), values: new Map(), positional: [] };
  const setValue = (o: OptSpec, v: string): void => {
    if (o.int && !/^[+-]?[0-9]+$/.test(v)) {
      throw new SnapctlCommandError(`invalid argument for flag \`${optString(o)}' (expected int): strconv.ParseInt: parsing ${goQuote(v)}: invalid syntax`);
    }
    const list = out.values.get(o.name) ?? [];
    list.push(v);
    out.values.set(o.name, list);
  };
  let rest = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (rest || a === '-' || !a.startsWith('-')) {
      out.positional.push(a);
      continue;
    }
    if (a === '--') {
      rest = true;
      continue;
    }
    const takeNext = (o: OptSpec): string => {
      const v = args[i + 1];
      if (v === undefined) throw new SnapctlCommandError(`expected argument for flag \`${optString(o)}'`);
      if (v === '--') throw new SnapctlCommandError(`expected argument for flag \`${optString(o)}', but got double dash \`--'`);
      if (argumentIsOption(v) && !(o.int && /^-[0-9]/.test(v))) {
        throw new SnapctlCommandError(`expected argument for flag \`${optString(o)}', but got option \`${v}'`);
      }
      i++;
      return v;
    };
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const value = eq < 0 ? undefined : a.slice(eq + 1);
      if (name === 'help') throw new HelpRequested();
      const o = specs.find((s) => s.long === name);
      if (!o) throw new SnapctlCommandError(`unknown flag \`${name}'`);
      if (!o.arg) {
        if (value !== undefined) throw new SnapctlCommandError(`bool flag \`${optString(o)}' cannot have an argument`);
        out.bools.add(o.name);
      } else {
        setValue(o, value ?? takeNext(o));
      }
      continue;
    }
    const cluster = Array.from(a.slice(1));
    for (let j = 0; j < cluster.length; j++) {
      const c = cluster[j] as string;
      if (c === 'h') throw new HelpRequested();
      const o = specs.find((s) => s.short === c);
      if (!o) throw new SnapctlCommandError(`unknown flag \`${c}'`);
      if (!o.arg) {
        out.bools.add(o.name);
        continue;
      }
      const inline = cluster.slice(j + 1).join('');
      setValue(o, inline !== '' ? inline : takeNext(o));
      break;
    }
  }
  return out;
}

function requiredArgMissing(name: string): SnapctlCommandError {
  return new SnapctlCommandError(`the required argument \`${name}\` was not provided`);
}

// ------------------------------------------------------------------------------------------------
// Go text/tabwriter (cells terminated by \t; the last cell of a line is not aligned)

export function goTabwriter(text: string, opts: { minwidth: number; tabwidth: number; padding: number; padchar: string }): string {
  const lines = text.split('\n');
  const trailingNewline = text.endsWith('\n');
  if (trailingNewline) lines.pop();
  const cells = lines.map((l) => l.split('\t'));
  const width = (s: string): number => Array.from(s).length;
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const line = cells[i] as string[];
      let s = '';
      line.forEach((c, j) => {
        if (j < widths.length && j < line.length - 1) {
          s += c + opts.padchar.repeat(Math.max(0, (widths[j] as number) - width(c)));
        } else {
          s += c;
        }
      });
      out.push(s);
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= (cells[t] as string[]).length - 1) continue;
      writeLines(line0, t);
      line0 = t;
      let w = opts.minwidth;
      for (; t < line1; t++) {
        const line = cells[t] as string[];
        if (column >= line.length - 1) break;
        const cw = width(line[column] as string) + opts.padding;
        if (cw > w) w = cw;
      }
      widths.push(w);
      format(line0, t);
      widths.pop();
      line0 = t;
    }
    writeLines(line0, line1);
  };

  format(0, cells.length);
  return out.join('\n') + (trailingNewline ? '\n' : '');
}

// ------------------------------------------------------------------------------------------------
// Service names (`maybePatchServiceNames`, `getServiceInfos`)

function splitInstanceName(instance: string): [string, string] {
  const i = instance.indexOf('_');
  return i < 0 ? [instance, ''] : [instance.slice(0, i), instance.slice(i + 1)];
}

function splitSnapApp(name: string): [string, string] {
  const i = name.indexOf('.');
  return i < 0 ? [name, name] : [name.slice(0, i), name.slice(i + 1)];
}

function maybePatchServiceNames(instance: string, names: readonly string[]): { names: string[]; patched: boolean } {
  const [snapName, key] = splitInstanceName(instance);
  if (key === '') return { names: [...names], patched: false };
  const updated: string[] = [];
  let patched = false;
  let withKey = 0;
  for (const n of names) {
    if (n === snapName) {
      updated.push(instance);
      patched = true;
      continue;
    }
    const [svcInstance, svcApp] = splitSnapApp(n);
    const [svcSnap, svcKey] = splitInstanceName(svcInstance);
    if (svcSnap === snapName) {
      if (svcKey === '') {
        updated.push(`${instance}.${svcApp}`);
        patched = true;
        continue;
      }
      withKey++;
      if (svcKey !== key) throw new SnapctlCommandError(`unexpected snap instance key: ${goQuote(svcKey)}`);
    }
    updated.push(n);
  }
  if (withKey !== 0 && withKey !== names.length) throw new SnapctlCommandError('inconsistent use of snap instance key');
  return { names: updated, patched };
}

function sortedServices(host: SnapctlHost): SnapctlService[] {
  return [...host.services()].sort((a, b) => (a.app < b.app ? -1 : a.app > b.app ? 1 : 0));
}

function getServiceInfos(host: SnapctlHost, names: readonly string[]): SnapctlService[] {
  const all = sortedServices(host);
  if (names.length === 0) return all;
  const out: SnapctlService[] = [];
  for (const n of names) {
    if (n === host.instance) return all;
    if (!n.startsWith(`${host.instance}.`)) throw new SnapctlCommandError(`unknown service: ${goQuote(n)}`);
    const app = n.slice(host.instance.length + 1);
    const svc = all.find((s) => s.app === app);
    if (!svc) throw new SnapctlCommandError(`unknown service: ${goQuote(n)}`);
    out.push(svc);
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Commands

type Ctx = { host: SnapctlHost | undefined; uid: number; verb: string };

function ensureContext(ctx: Ctx): SnapctlHost {
  if (!ctx.host) throw new SnapctlCommandError(missingContextMessage(ctx.verb));
  return ctx.host;
}

const CONFDB_DISABLED = `"confdb" feature flag is disabled: set 'experimental.confdb' to true`;

const INTERFACE_HOOK_PREFIXES = [
  'prepare-plug-',
  'connect-plug-',
  'prepare-slot-',
  'connect-slot-',
  'disconnect-plug-',
  'disconnect-slot-',
  'unprepare-slot-',
  'unprepare-plug-',
];

function cmdGet(ctx: Ctx, args: readonly string[]): CommandResult {
  const p = parseOptions(args, [
    { name: 'slot', long: 'slot' },
    { name: 'plug', long: 'plug' },
    { name: 'view', long: 'view' },
    { name: 'previous', long: 'previous' },
    { name: 'with', long: 'with', arg: true },
    { name: 'default', long: 'default', arg: true },
    { name: 'wait-for', long: 'wait-for', arg: true },
    { name: 'd', short: 'd' },
    { name: 't', short: 't' },
  ]);
  const [spec = '', ...keys] = p.positional;
  if (keys.length === 0 && spec === '') throw new SnapctlCommandError('get which option?');
  const host = ensureContext(ctx);
  const document = p.bools.has('d');
  const typed = p.bools.has('t');
  const view = p.bools.has('view');
  if (typed && document) throw new SnapctlCommandError('cannot use -d and -t together');
  if (p.bools.has('previous')) {
    if (!view) throw new SnapctlCommandError('cannot use --previous without --view');
    const h = host.hook ?? '';
    if (host.hook === null || !(h.startsWith('save-view-') || h.startsWith('change-view-') || h.startsWith('observe-view-'))) {
      throw new SnapctlCommandError('cannot use --previous outside of save-view, change-view or observe-view hooks');
    }
  }
  if ((p.values.get('default')?.at(-1) ?? '') !== '' && !view) {
    throw new SnapctlCommandError('cannot use --default with non-confdb read (missing --view)');
  }
  if ((p.values.get('with')?.length ?? 0) > 0 && !view) throw new SnapctlCommandError('cannot use --with with non-confdb read (missing --view)');

  if (spec.includes(':')) {
    const colon = spec.indexOf(':');
    const snap = spec.slice(0, colon);
    const name = spec.slice(colon + 1);
    if (name === '') throw new SnapctlCommandError('plug or slot name not provided');
    if (snap !== '') throw new SnapctlCommandError(`"snapctl get ${spec}" not supported, use "snapctl get :${name}" instead`);
    if (view) throw new SnapctlCommandError(CONFDB_DISABLED);
    if (keys.length === 0) throw new SnapctlCommandError('get which attribute?');
    if (host.hook === null || !INTERFACE_HOOK_PREFIXES.some((x) => (host.hook as string).startsWith(x))) {
      throw new SnapctlCommandError('interface attributes can only be read during the execution of interface hooks');
    }
    throw new SnapctlCommandError('interface attributes are not modelled by the snapctl stand-in');
  }

  const allKeys = [spec, ...keys];
  if (p.bools.has('plug') || p.bools.has('slot')) {
    throw new SnapctlCommandError('cannot use --plug or --slot without <snap>:<plug|slot> argument');
  }
  const values = new Map<string, JsonValue>();
  for (const key of allKeys) {
    try {
      values.set(key, host.config.get(key));
    } catch (e) {
      if (e instanceof NoOptionError) continue;
      throw e;
    }
  }
  return ok(formatSnapctlGet(allKeys, values, { document, typed }));
}

function cmdSet(ctx: Ctx, args: readonly string[]): CommandResult {
  const p = parseOptions(args, [
    { name: 'view', long: 'view' },
    { name: 'wait-for', long: 'wait-for', arg: true },
    { name: 's', short: 's' },
    { name: 't', short: 't' },
  ]);
  const [spec = '', ...words] = p.positional;
  if (spec === '' && words.length === 0) throw new SnapctlCommandError('set which option?');
  const host = ensureContext(ctx);
  const asString = p.bools.has('s');
  const typed = p.bools.has('t');
  if (typed && asString) throw new SnapctlCommandError('cannot use -t and -s together');

  if (spec.includes('=') || !spec.includes(':')) {
    const { values, keys } = parseConfigValues([spec, ...words], { string: asString, typed });
    for (const key of keys) host.config.set(key, values.get(key) as JsonValue);
    return ok();
  }
  const colon = spec.indexOf(':');
  const snap = spec.slice(0, colon);
  const name = spec.slice(colon + 1);
  if (name === '') throw new SnapctlCommandError('plug or slot name not provided');
  if (snap !== '') throw new SnapctlCommandError(`"snapctl set ${spec}" not supported, use "snapctl set :${name}" instead`);
  if (p.bools.has('view')) throw new SnapctlCommandError(CONFDB_DISABLED);
  const h = host.hook ?? '';
  if (host.hook === null || !(h.startsWith('prepare-plug-') || h.startsWith('prepare-slot-'))) {
    throw new SnapctlCommandError('interface attributes can only be set during the execution of prepare hooks');
  }
  throw new SnapctlCommandError('interface attributes are not modelled by the snapctl stand-in');
}

function cmdUnset(ctx: Ctx, args: readonly string[]): CommandResult {
  const p = parseOptions(args, [
    { name: 'view', long: 'view' },
    { name: 'wait-for', long: 'wait-for', arg: true },
  ]);
  if (p.positional.length === 0) throw new SnapctlCommandError('unset which option?');
  const host = ensureContext(ctx);
  if (p.bools.has('view')) throw new SnapctlCommandError(CONFDB_DISABLED);
  for (const key of p.positional) {
    try {
      host.config.set(key, null);
    } catch {
      // unset.go ignores the error of every tr.Set (even for an invalid name)
    }
  }
  return ok();
}

function cmdServices(ctx: Ctx, args: readonly string[]): CommandResult {
  const p = parseOptions(args, [
    { name: 'global', short: 'g', long: 'global' },
    { name: 'user', short: 'u', long: 'user' },
  ]);
  const host = ensureContext(ctx);
  const global = p.bools.has('global');
  const user = p.bools.has('user');
  if (global && user) throw new SnapctlCommandError('cannot combine --global and --user switches.');
  const { names, patched } = maybePatchServiceNames(host.instance, p.positional);
  const svcs = getServiceInfos(host, names);
  if (svcs.length === 0) return ok();
  const isGlobal = (ctx.uid === 0 && !user) || (ctx.uid !== 0 && global);
  const snapName = patched ? splitInstanceName(host.instance)[0] : host.instance;
  let table = 'Service\tStartup\tCurrent\tNotes\n';
  for (const s of svcs) {
    const startup = s.enabled ? 'enabled' : 'disabled';
    const current = s.userDaemon && isGlobal ? '-' : s.active ? 'active' : 'inactive';
    const notes = [...(s.userDaemon ? ['user'] : []), ...(s.notes ?? [])];
    table += `${snapName}.${s.app}\t${startup}\t${current}\t${notes.length > 0 ? notes.join(',') : '-'}\n`;
  }
  return ok(goTabwriter(table, { minwidth: 5, tabwidth: 3, padding: 2, padchar: ' ' }));
}

async function cmdServiceControl(ctx: Ctx, action: 'start' | 'stop' | 'restart', args: readonly string[]): Promise<CommandResult> {
  const extra: OptSpec =
    action === 'start' ? { name: 'enable', long: 'enable' } : action === 'stop' ? { name: 'disable', long: 'disable' } : { name: 'reload', long: 'reload' };
  const p = parseOptions(args, [extra, { name: 'system', long: 'system' }, { name: 'user', long: 'user' }, { name: 'users', long: 'users', arg: true }]);
  if (p.positional.length === 0) throw requiredArgMissing('<service> (at least 1 argument)');
  const system = p.bools.has('system');
  const user = p.bools.has('user');
  const users = p.values.get('users')?.at(-1) ?? '';
  if (system && user) throw new SnapctlCommandError('--system and --user cannot be used in conjunction with each other');
  if (users !== '' && user) throw new SnapctlCommandError('--user and --users cannot be used in conjunction with each other');
  if (users !== '' && users !== 'all') throw new SnapctlCommandError('only "all" is supported as a value for --users');
  if (!ctx.host) throw new SnapctlCommandError(missingContextMessage(action));
  const host = ctx.host;
  const { names } = maybePatchServiceNames(host.instance, p.positional);
  const svcs = getServiceInfos(host, names);
  const op: ServiceControlRequest = { action, apps: svcs.map((s) => s.app) };
  if (action === 'start' && p.bools.has('enable')) op.enable = true;
  if (action === 'stop' && p.bools.has('disable')) op.disable = true;
  if (action === 'restart' && p.bools.has('reload')) op.reload = true;
  const wantsUser = user || users !== '';
  if (wantsUser && !system) op.scope = 'user';
  else if (!wantsUser && system) op.scope = 'system';
  if (user) op.users = 'self';
  else if (users === 'all') op.users = 'all';
  try {
    await host.serviceControl(op);
  } catch (e) {
    throw new SnapctlCommandError(e instanceof Error ? e.message : String(e));
  }
  return ok();
}

function cmdIsConnected(ctx: Ctx, args: readonly string[]): CommandResult {
  const p = parseOptions(args, [
    { name: 'pid', long: 'pid', arg: true, int: true },
    { name: 'apparmor-label', long: 'apparmor-label', arg: true },
    { name: 'list', long: 'list' },
  ]);
  const spec = p.positional[0] ?? '';
  const list = p.bools.has('list');
  if (spec !== '' && list) throw new SnapctlCommandError('cannot specify both a plug/slot name and --list');
  if (spec === '' && !list) throw new SnapctlCommandError('must specify either a plug/slot name or --list');
  const host = ensureContext(ctx);
  const plugs = host.plugs();
  if (spec !== '' && !plugs.some((x) => x.name === spec)) {
    throw new SnapctlCommandError(`snap ${goQuote(host.instance)} has no plug or slot named ${goQuote(spec)}`);
  }
  const label = p.values.get('apparmor-label')?.at(-1) ?? '';
  const pid = Number(p.values.get('pid')?.at(-1) ?? '0');
  // Only pulseaudio/audio-record/cups-control slots allow these checks; the host models none.
  if (label !== '') {
    if (spec === '') throw new SnapctlCommandError('cannot use --apparmor-label check without plug/slot');
    throw new SnapctlCommandError(`cannot use --apparmor-label check with ${host.instance}:${spec}`);
  } else if (pid !== 0) {
    if (spec === '') throw new SnapctlCommandError('cannot use --pid check without plug/slot');
    throw new SnapctlCommandError(`cannot use --pid check with ${host.instance}:${spec}`);
  }
  if (list) {
    const names = [...new Set(plugs.filter((x) => x.connected).map((x) => x.name))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return ok(names.map((n) => `${n}\n`).join(''));
  }
  if (plugs.some((x) => x.name === spec && x.connected)) return ok();
  throw new UnsuccessfulError(1);
}

const KNOWN_STATUSES = ['unknown', 'okay', 'waiting', 'blocked', 'error'];
const VALID_CODE = /^[a-z](?:-?[a-z0-9])+$/;

function cmdSetHealth(ctx: Ctx, args: readonly string[]): CommandResult {
  const p = parseOptions(args, [{ name: 'code', long: 'code', arg: true }]);
  const status = p.positional[0];
  if (status === undefined) throw requiredArgMissing('<status>');
  let message = p.positional[1] ?? '';
  const code = p.values.get('code')?.at(-1) ?? '';
  if (status === 'okay' && (message.length > 0 || code.length > 0)) {
    throw new SnapctlCommandError('when status is "okay", message and code must be empty');
  }
  if (!KNOWN_STATUSES.includes(status)) {
    throw new SnapctlCommandError(`invalid status ${goQuote(status)}, must be one of ${KNOWN_STATUSES.map((s) => goQuote(s)).join(', ')}`);
  }
  if (status === 'unknown') throw new SnapctlCommandError('status cannot be manually set to "unknown"');
  if (code.length > 0) {
    const bytes = Buffer.byteLength(code, 'utf8');
    if (bytes < 3 || bytes > 30) throw new SnapctlCommandError(`code must have between 3 and 30 characters, got ${bytes}`);
    if (!VALID_CODE.test(code)) {
      throw new SnapctlCommandError(
        `invalid code ${goQuote(code)} (code must start with lowercase ASCII letters, and contain only ASCII letters and numbers, optionally separated by single dashes)`,
      );
    }
  }
  if (status !== 'okay') {
    if (message.length === 0) throw new SnapctlCommandError('when status is not "okay", message is required');
    const runes = Array.from(message);
    if (runes.length < 7) throw new SnapctlCommandError(`message must be at least 7 characters long (got ${runes.length})`);
    if (runes.length > 70) message = `${runes.slice(0, 69).join('')}…`;
  }
  const host = ensureContext(ctx);
  const report: HealthReport = { status: status as HealthReport['status'] };
  if (message !== '') report.message = message;
  if (code !== '') report.code = code;
  host.setHealth(report);
  return ok();
}

function cmdSystemMode(ctx: Ctx, args: readonly string[]): CommandResult {
  parseOptions(args, []);
  const host = ensureContext(ctx);
  const info = host.systemMode?.() ?? { mode: 'run', seeded: true };
  let out = '';
  if (info.mode !== '') out += `system-mode: ${info.mode}\n`;
  out += `seed-loaded: ${info.seeded ? 'true' : 'false'}\n`;
  if (info.factory) out += 'factory: true\n';
  if (info.storageEncrypted) out += 'storage-encrypted: managed\n';
  return ok(out);
}

// ------------------------------------------------------------------------------------------------
// Unknown commands (go-flags `estimateCommand`, `closestChoice`)

/** go-flags' levenshtein, byte-indexed and with its uninitialised last cell of row 0, as written. */
function goFlagsLevenshtein(s: string, t: string): number {
  const sb = Buffer.from(s, 'utf8');
  const tb = Buffer.from(t, 'utf8');
  if (sb.length === 0) return tb.length;
  if (tb.length === 0) return sb.length;
  const runesWithOffsets = (str: string): [number, number][] => {
    const out: [number, number][] = [];
    let off = 0;
    for (const ch of str) {
      out.push([off, ch.codePointAt(0) as number]);
      off += Buffer.byteLength(ch, 'utf8');
    }
    return out;
  };
  const d: number[][] = [];
  for (let i = 0; i <= sb.length; i++) {
    d.push(new Array<number>(tb.length + 1).fill(0));
    (d[i] as number[])[0] = i;
  }
  const tr = runesWithOffsets(t);
  for (const [j] of tr) (d[0] as number[])[j] = j;
  for (const [i, sc] of runesWithOffsets(s)) {
    for (const [j, tc] of tr) {
      const row = d[i + 1] as number[];
      const prev = d[i] as number[];
      if (sc === tc) {
        row[j + 1] = prev[j] as number;
      } else {
        row[j + 1] = (prev[j] as number) + 1;
        if ((row[j] as number) < (row[j + 1] as number)) row[j + 1] = (row[j] as number) + 1;
        if ((prev[j + 1] as number) < (row[j + 1] as number)) row[j + 1] = (prev[j + 1] as number) + 1;
      }
    }
  }
  return (d[sb.length] as number[])[tb.length] as number;
}

function visibleCommands(): string[] {
  return Object.keys(ALL_COMMANDS)
    .filter((n) => !ALL_COMMANDS[n]?.hidden)
    .sort();
}

function commandRequiredMessage(): string {
  const names = visibleCommands();
  return `Please specify one command of: ${names.slice(0, -1).join(', ')} or ${names.at(-1) as string}`;
}

function unknownCommandMessage(cmd: string): string {
  const names = visibleCommands();
  let best = names[0] as string;
  let bestDist = -1;
  for (const n of names) {
    const l = goFlagsLevenshtein(cmd, n);
    if (bestDist < 0 || l < bestDist) {
      bestDist = l;
      best = n;
    }
  }
  let msg = `Unknown command \`${cmd}'`;
  if (bestDist / Buffer.byteLength(best, 'utf8') < 0.5) msg += `, did you mean \`${best}'?`;
  else msg += `. Please specify one command of: ${names.slice(0, -1).join(', ')} or ${names.at(-1) as string}`;
  return msg;
}

// ------------------------------------------------------------------------------------------------
// Entry point

/**
 * Runs one snapctl invocation (argv without the program name) in `host`'s context, or with no
 * context (`host` undefined: unknown or missing cookie) — then `uid` says who called.
 */
export async function runSnapctl(host: SnapctlHost | undefined, args: readonly string[], uid: number = host?.uid ?? 0): Promise<CommandResult> {
  if (args.length === 0) return { stdout: '', stderr: 'error: snapctl cannot run without args\n', exitCode: 1 };
  if (!isAllowedToRun(uid, args)) {
    return { stdout: '', stderr: `error: cannot use ${goQuote(args[0] as string)} with uid ${uid}, try with sudo\n`, exitCode: 1 };
  }
  const verb = args[0] as string;
  const rest = args.slice(1);
  const ctx: Ctx = { host, uid, verb };
  try {
    if (verb === '--') throw new SnapctlCommandError(commandRequiredMessage());
    if (verb.startsWith('-') && verb !== '-') {
      // Only -h/--help exist before the command; anything else is an unknown flag.
      parseOptions([verb], []);
    }
    const known = Object.hasOwn(ALL_COMMANDS, verb) ? ALL_COMMANDS[verb] : undefined;
    if (!known) {
      if (rest.includes('-h') || rest.includes('--help')) throw new HelpRequested();
      throw new SnapctlCommandError(unknownCommandMessage(verb));
    }
    switch (verb) {
      case 'get':
        return cmdGet(ctx, rest);
      case 'set':
        return cmdSet(ctx, rest);
      case 'unset':
        return cmdUnset(ctx, rest);
      case 'services':
        return cmdServices(ctx, rest);
      case 'start':
      case 'stop':
      case 'restart':
        return await cmdServiceControl(ctx, verb, rest);
      case 'is-connected':
        return cmdIsConnected(ctx, rest);
      case 'set-health':
        return cmdSetHealth(ctx, rest);
      case 'system-mode':
        return cmdSystemMode(ctx, rest);
      default:
        if (rest.includes('-h') || rest.includes('--help')) throw new HelpRequested();
        throw new SnapctlCommandError(`${goQuote(verb)} is not modelled by the snapctl stand-in`);
    }
  } catch (e) {
    if (e instanceof HelpRequested) {
      const known = Object.hasOwn(ALL_COMMANDS, verb) && !verb.startsWith('-');
      return ok(known ? `Usage:\n  snapctl [OPTIONS] ${verb} [${verb}-OPTIONS]\n` : 'Usage:\n  snapctl [OPTIONS] <command>\n');
    }
    if (e instanceof UnsuccessfulError) return { stdout: '', stderr: '', exitCode: e.exitCode };
    if (e instanceof SnapctlCommandError || e instanceof ConfigError) return badRequest(e.message);
    throw e;
  }
}
