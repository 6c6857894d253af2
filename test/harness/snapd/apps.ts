/**
 * `apps:` of snap/snapcraft.yaml, read the way snapd reads the apps of snap.yaml, so the harness
 * can run the snap's daemons with the settings snapd would hand to systemd
 * (snapd `snap/info_snap_yaml.go`, `snap/validate.go`, `wrappers/internal/service_unit_gen.go`).
 */
import { parse } from 'yaml';

export type DaemonType = 'simple' | 'forking' | 'oneshot' | 'notify' | 'dbus';
export type RestartCondition =
  | 'on-success'
  | 'on-failure'
  | 'on-abnormal'
  | 'on-abort'
  | 'on-watchdog'
  | 'always'
  | 'never';
export type StopMode =
  | 'sigterm'
  | 'sigterm-all'
  | 'sighup'
  | 'sighup-all'
  | 'sigusr1'
  | 'sigusr1-all'
  | 'sigusr2'
  | 'sigusr2-all'
  | 'sigint'
  | 'sigint-all';

export interface AppSpec {
  name: string;
  /** As declared: relative to $SNAP, may carry arguments and `$VAR`s (a leading `$SNAP/` is dropped). */
  command: string;
  /** `command-chain:` entries (relative to $SNAP), run in front of the command as snap-exec does. */
  commandChain: string[];
  /** Absent: not a service (a plain command such as `psql`). */
  daemon?: DaemonType;
  /** Top-level `environment:` merged under the app's own (unexpanded values). */
  environment: Record<string, string>;
  /** The same, as snap-exec applies it: top-level layer first, then the app's, each value expanded in order. */
  environmentLayers: Array<Record<string, string>>;
  /** snapd default `on-failure`; `oneshot` forces `never` (systemd `Restart=no`). */
  restartCondition: RestartCondition;
  /**
   * `restart-delay:`. When absent snapd writes no `RestartSec=`, so systemd's default (100 ms,
   * `DefaultRestartSec=`) applies: that is the default here.
   */
  restartDelayMs: number;
  /** `stop-mode:` as declared (undefined: snapd writes no KillMode/KillSignal: SIGTERM to the whole cgroup). */
  stopMode?: StopMode;
  /** Signal sent on stop (systemd `KillSignal=`). */
  stopSignal: NodeJS.Signals;
  /** true: signal every process of the service (KillMode=control-group); false: the main process only. */
  killAll: boolean;
  /** `stop-timeout:` (systemd `TimeoutStopSec=`), default 30 s (snapd `timeout.DefaultTimeout`). */
  stopTimeoutMs: number;
  stopCommand?: string;
  postStopCommand?: string;
  reloadCommand?: string;
  after: string[];
  before: string[];
  installMode: 'enable' | 'disable';
  timer?: string;
  plugs: string[];
  /** `success-exit-status:` (systemd `SuccessExitStatus=`), besides 0. */
  successExitStatus: number[];
}

const DAEMONS: readonly string[] = ['simple', 'forking', 'oneshot', 'notify', 'dbus'];
const RESTART_CONDITIONS: readonly string[] = [
  'on-success',
  'on-failure',
  'on-abnormal',
  'on-abort',
  'on-watchdog',
  'always',
  'never',
];
const STOP_MODES: readonly string[] = ['sigterm', 'sighup', 'sigusr1', 'sigusr2', 'sigint'].flatMap((s) => [s, `${s}-all`]);
const COMMAND_CHARS = /^[A-Za-z0-9/. _#:$-]*$/;

/** systemd's DefaultRestartSec= (snapd writes RestartSec= only when restart-delay is set). */
export const SYSTEMD_DEFAULT_RESTART_SEC_MS = 100;

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9 };

/**
 * A snapcraft/snapd duration (`^[0-9]+(ns|us|ms|s|m)*$` in the schema) in milliseconds.
 * snapd parses it with Go's time.ParseDuration, so a unit is required (except for "0") and only a
 * single number+unit pair passes both checks.
 */
export function parseSnapDuration(value: unknown, what = 'duration'): number {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^[0-9]+(ns|us|ms|s|m)*$/.test(text)) {
    throw new Error(`invalid ${what} ${JSON.stringify(value)}: expected e.g. 200ms, 10s, 2m`);
  }
  if (/^0+$/.test(text)) return 0;
  const m = /^([0-9]+)(ns|us|ms|s|m)$/.exec(text);
  if (!m) throw new Error(`invalid ${what} ${JSON.stringify(value)}: ${/^[0-9]+$/.test(text) ? 'missing unit' : 'unknown unit'}`);
  return (Number(m[1]) * UNIT_NS[m[2]!]!) / 1e6;
}

function isShellSpecial(c: string): boolean {
  return '*#$@!?-0123456789'.includes(c);
}
function isAlphaNum(c: string): boolean {
  return /^[A-Za-z0-9_]$/.test(c);
}

/** Go's os.getShellName: the variable name after a `$` and how many characters it spans. */
function shellName(s: string): [string, number] {
  if (s[0] === '{') {
    if (s.length > 2 && isShellSpecial(s[1]!) && s[2] === '}') return [s[1]!, 3];
    for (let i = 1; i < s.length; i++) {
      if (s[i] === '}') return i === 1 ? ['', 2] : [s.slice(1, i), i + 1];
    }
    return ['', 1];
  }
  if (isShellSpecial(s[0]!)) return [s[0]!, 1];
  let i = 0;
  while (i < s.length && isAlphaNum(s[i]!)) i++;
  return [s.slice(0, i), i];
}

/**
 * `$VAR` / `${VAR}` expansion exactly as snapd does it (Go's os.Expand with unset = ""): used by
 * snap-exec for command arguments and for `environment:` values. `${}` and a lone `${` are dropped,
 * a `$` not followed by a name is kept.
 */
export function expandSnapVars(value: string, env: Record<string, string | undefined>): string {
  let out = '';
  let i = 0;
  for (let j = 0; j < value.length; j++) {
    if (value[j] === '$' && j + 1 < value.length) {
      out += value.slice(i, j);
      const [name, w] = shellName(value.slice(j + 1));
      if (name === '' && w > 0) {
        // invalid syntax: eaten
      } else if (name === '') {
        out += '$';
      } else {
        out += env[name] ?? '';
      }
      j += w;
      i = j + 1;
    }
  }
  return out + value.slice(i);
}

/** snap-exec's environment: `base`, then each layer's values expanded in order against what is set so far. */
export function layerEnvironment(base: Record<string, string>, layers: Array<Record<string, string>>): Record<string, string> {
  const env = { ...base };
  for (const layer of layers) for (const [k, v] of Object.entries(layer)) env[k] = expandSnapVars(v, env);
  return env;
}

/**
 * argv for a command string the way snap-exec builds it: shlex split (the allowed characters leave
 * only whitespace splitting and `#` comments), the first word joined to $SNAP unexpanded, the other
 * words expanded against `env` and dropped when they expand to "", command-chain entries in front.
 */
export function commandArgv(command: string, snapDir: string, env: Record<string, string>, chain: string[] = []): string[] {
  const words: string[] = [];
  for (const w of command.trim().split(/\s+/)) {
    if (w === '') continue;
    if (w.startsWith('#')) break;
    words.push(w);
  }
  const first = words.shift();
  if (first === undefined) throw new Error(`empty command`);
  const rel = first.replace(/^(\$SNAP|\$\{SNAP\})\//, '');
  const args = words.map((w) => expandSnapVars(w, env)).filter((w) => w !== '');
  return [...chain.map((c) => joinSnap(snapDir, c)), joinSnap(snapDir, rel), ...args];
}

function joinSnap(snapDir: string, rel: string): string {
  return `${snapDir.replace(/\/+$/, '')}/${rel.replace(/^\/+/, '')}`;
}

type Yaml = Record<string, unknown>;

function isMap(v: unknown): v is Yaml {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strMap(v: unknown, what: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isMap(v)) throw new Error(`${what} must be a map`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val === 'object' && val !== null) throw new Error(`${what}.${k} must be a scalar`);
    out[k] = String(val);
  }
  return out;
}

function strList(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${what} must be a list of strings`);
  if (new Set(v).size !== v.length) throw new Error(`${what} has duplicates`);
  return v as string[];
}

function oneOf<T extends string>(v: unknown, allowed: readonly string[], what: string): T | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v)) throw new Error(`${what} must be one of ${allowed.join('|')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function commandField(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new Error(`${what} must be a non-empty string`);
  if (!COMMAND_CHARS.test(v)) throw new Error(`${what} contains illegal characters: ${JSON.stringify(v)}`);
  return v;
}

/** Parses `apps:` (in declaration order) and validates what snapd would reject at install time. */
export function loadApps(snapcraftYamlText: string): AppSpec[] {
  const doc: unknown = parse(snapcraftYamlText);
  if (!isMap(doc)) throw new Error('snapcraft.yaml is not a map');
  const topEnv = strMap(doc['environment'], 'environment');
  const appsNode = doc['apps'] ?? {};
  if (!isMap(appsNode)) throw new Error('apps must be a map');
  const apps: AppSpec[] = [];
  for (const [name, node] of Object.entries(appsNode)) {
    const where = `apps.${name}`;
    if (!isMap(node)) throw new Error(`${where} must be a map`);
    const command = commandField(node['command'], `${where}.command`);
    if (command === undefined) throw new Error(`${where}.command is required`);
    const daemon = oneOf<DaemonType>(node['daemon'], DAEMONS, `${where}.daemon`);
    const appEnv = strMap(node['environment'], `${where}.environment`);
    let restartCondition = oneOf<RestartCondition>(node['restart-condition'], RESTART_CONDITIONS, `${where}.restart-condition`) ?? 'on-failure';
    if (daemon === 'oneshot') restartCondition = 'never';
    const stopMode = oneOf<StopMode>(node['stop-mode'], STOP_MODES, `${where}.stop-mode`);
    const restartDelay = node['restart-delay'];
    const stopTimeout = node['stop-timeout'];
    const installMode = oneOf<'enable' | 'disable'>(node['install-mode'], ['enable', 'disable'], `${where}.install-mode`);
    const timer = node['timer'];
    if (timer !== undefined && typeof timer !== 'string') throw new Error(`${where}.timer must be a string`);
    const successExitStatus = node['success-exit-status'] ?? [];
    if (!Array.isArray(successExitStatus) || !successExitStatus.every((n) => Number.isInteger(n) && n >= 1 && n <= 255)) {
      throw new Error(`${where}.success-exit-status must be a list of integers 1-255`);
    }
    const app: AppSpec = {
      name,
      command,
      commandChain: strList(node['command-chain'], `${where}.command-chain`),
      daemon,
      environment: { ...topEnv, ...appEnv },
      environmentLayers: [topEnv, appEnv],
      restartCondition,
      restartDelayMs: restartDelay === undefined ? SYSTEMD_DEFAULT_RESTART_SEC_MS : parseSnapDuration(restartDelay, `${where}.restart-delay`),
      stopMode,
      stopSignal: (stopMode ? stopMode.replace(/-all$/, '').toUpperCase() : 'SIGTERM') as NodeJS.Signals,
      killAll: stopMode === undefined || stopMode.endsWith('-all'),
      stopTimeoutMs: stopTimeout === undefined ? 30_000 : parseSnapDuration(stopTimeout, `${where}.stop-timeout`),
      stopCommand: commandField(node['stop-command'], `${where}.stop-command`),
      postStopCommand: commandField(node['post-stop-command'], `${where}.post-stop-command`),
      reloadCommand: commandField(node['reload-command'], `${where}.reload-command`),
      after: strList(node['after'], `${where}.after`),
      before: strList(node['before'], `${where}.before`),
      installMode: installMode ?? 'enable',
      timer,
      plugs: strList(node['plugs'], `${where}.plugs`),
      successExitStatus: successExitStatus as number[],
    };
    if (!daemon) {
      for (const key of ['restart-condition', 'restart-delay', 'stop-mode', 'stop-timeout', 'stop-command', 'post-stop-command', 'reload-command', 'after', 'before', 'install-mode', 'timer']) {
        if (node[key] !== undefined) throw new Error(`${where}.${key} is only valid for daemons`);
      }
    }
    apps.push(app);
  }
  const services = new Set(apps.filter((a) => a.daemon).map((a) => a.name));
  for (const a of apps) {
    for (const dep of [...a.after, ...a.before]) {
      if (!services.has(dep)) throw new Error(`apps.${a.name}: after/before names ${JSON.stringify(dep)}, which is not a service of this snap`);
    }
  }
  serviceOrder(apps); // rejects cycles, as snapd's validation does
  return apps;
}

/**
 * Service start order honouring after/before (stop in reverse). Ties keep declaration order.
 * Throws on a cycle.
 */
export function serviceOrder(apps: AppSpec[]): string[] {
  const services = apps.filter((a) => a.daemon);
  const names = services.map((a) => a.name);
  const preds = new Map<string, Set<string>>(names.map((n) => [n, new Set<string>()]));
  for (const a of services) {
    for (const dep of a.after) preds.get(a.name)?.add(dep);
    for (const succ of a.before) preds.get(succ)?.add(a.name);
  }
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < names.length) {
    const next = names.find((n) => !done.has(n) && [...preds.get(n)!].every((p) => done.has(p) || !preds.has(p)));
    if (next === undefined) {
      throw new Error(`after/before form a cycle among: ${names.filter((n) => !done.has(n)).join(', ')}`);
    }
    order.push(next);
    done.add(next);
  }
  return order;
}

/** A `layout:` entry of snap.yaml: `target` inside the snap's mount namespace shows `source`. */
export interface LayoutSpec {
  target: string;
  kind: 'symlink' | 'bind' | 'bind-file';
  /** As declared, with `$SNAP`, `$SNAP_DATA` or `$SNAP_COMMON` unexpanded. */
  source: string;
}

/** Parses top-level `layout:` (snapd `snap/info_snap_yaml.go`: one of symlink, bind, bind-file per target). */
export function loadLayouts(snapcraftYamlText: string): LayoutSpec[] {
  const doc: unknown = parse(snapcraftYamlText);
  if (!isMap(doc) || doc['layout'] === undefined) return [];
  const node = doc['layout'];
  if (!isMap(node)) throw new Error('layout must be a map');
  return Object.entries(node).map(([target, spec]) => {
    if (!isMap(spec)) throw new Error(`layout.${target} must be a map`);
    const kinds = (['symlink', 'bind', 'bind-file'] as const).filter((k) => typeof spec[k] === 'string');
    if (kinds.length !== 1) throw new Error(`layout.${target} needs exactly one of symlink, bind, bind-file`);
    return { target, kind: kinds[0]!, source: String(spec[kinds[0]!]) };
  });
}
