import { isIP } from 'node:net';
import * as z from 'zod';
import { PROXY_NAME_RANGES, type ProxyName } from '../immich/trusted-proxies.js';

/**
 * The one description of every `snap set immich-distribution KEY=VALUE` setting (SPEC §5).
 *
 * Each key carries, side by side: its zod schema (what is accepted and the typed value it becomes),
 * its default, a human text of what is allowed (used in error messages and the README), a
 * description, which services a change touches and how (`affects`), which rendered files depend on
 * it (`render`), which one-off steps a change needs (`steps`), and when the key matters at all
 * (`activeWhen`). Validation (validate.ts), change planning (plan.ts) and the README table
 * (readme-table.ts) are all derived from this table; nothing about a key is written anywhere else.
 *
 * Values arrive as snapd stores them (reference §B3): `k=80` is the number 80, `k="80"` the string
 * "80", `k=true` a boolean, `k=off` a string. Where a person would expect it, both the typed and
 * the string form are accepted (`http.port=8080` and `http.port="8080"`, `ml.enabled=false` and
 * `ml.enabled="false"`); the typed value is what the rest of the code sees.
 *
 * Injection (SPEC §6): every string value of every key is first screened by `screenString`:
 * control and invisible formatting characters (C0, DEL, C1, U+2028/2029, bidi and zero-width
 * characters, lone surrogates), the characters `"` `'` `` ` `` `#` `$` `%` `\` and anything longer
 * than 1024 characters are rejected with the reason, whatever the key. Each key then allows only its
 * own narrow shape (a port, an enum, an address, a path of a safe charset, ...), with its own
 * length limit, so no value can carry a newline, quote or comment into HAProxy, env or Postgres
 * files. Renderers still receive typed values only.
 */

export interface SettingsContext {
  /** $SNAP_COMMON: defaults and allowed places of data locations are computed from it. */
  snapCommon: string;
}

// --- What a change can touch ----------------------------------------------------------------------

/** Snap apps (without the `<instance>.` prefix) that settings can touch. */
export const SERVICES = [
  'postgres',
  'immich-server',
  'immich-machine-learning',
  'haproxy',
  'backup-timer',
  'acme-renew',
] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * How a change of a key touches a service:
 * - `reload`: graceful reload (HAProxy master-worker reload; Postgres SIGHUP) — no dropped connection;
 * - `restart`: stop and start, only if the service is meant to run (a disabled service stays down);
 * - `enable-disable`: the key decides whether the service runs at all (see RUN_STATE): when that
 *   decision flips the service is started and enabled, or stopped and disabled.
 */
export type ServiceEffect = 'reload' | 'restart' | 'enable-disable';

/**
 * Files rendered from settings, in the order they are rendered. Names map to paths.ts:
 * postgresql.conf → pgConf, pg_hba.conf → pgHba, immich-server.env → immichServerEnv,
 * immich-ml.env → immichMlEnv, haproxy.cfg → haproxyCfg; backup-settings and acme-settings are the
 * validated values the backup and acme-renew timers read (so a timer never acts on unvalidated
 * config).
 */
export const RENDER_TARGETS = [
  'postgresql.conf',
  'pg_hba.conf',
  'immich-server.env',
  'immich-ml.env',
  'backup-settings',
  'acme-settings',
  'haproxy.cfg',
] as const;
export type RenderTarget = (typeof RENDER_TARGETS)[number];

/**
 * One-off steps a change needs besides rendering and service actions:
 * - `check-media-location` / `check-backup-location`: the new place is allowed (removable-media
 *   connected for /media, /mnt), writable, and holds the data when data exists (SPEC §5);
 * - `certificate`: make the certificate of the new HTTPS mode present (self-signed: generate once;
 *   custom: check and copy cert+key; acme: obtain with lego). A planned certificate step always
 *   brings a HAProxy reload with it (the certificate may have changed);
 * - `rotate-database-password`: ALTER ROLE + secret file, transactionally; nothing restarts;
 * - `update-immich-ml-config`: tell Immich whether and where machine learning runs (its stored
 *   system config; environment variables only seed Immich's defaults).
 */
export const STEPS = [
  'check-media-location',
  'check-backup-location',
  'certificate',
  'rotate-database-password',
  'update-immich-ml-config',
] as const;
export type StepName = (typeof STEPS)[number];

/** The value forms snapd stores and `snapctl set` writes for our keys. */
export type SnapValue = string | number | boolean;

/** A condition on other keys' typed values: every listed key must hold one of the listed values. */
export type ActiveWhen = Readonly<Record<string, readonly SnapValue[]>>;

export interface SettingDef<S extends z.ZodType = z.ZodType> {
  /** What is accepted and the typed value it becomes. Only the key's own shape; cross-key rules are in CROSS_RULES. */
  schema: (ctx: SettingsContext) => S;
  /** Default in snap form (written back by defaultsToWrite); undefined = no default (generated elsewhere). */
  default: SnapValue | ((ctx: SettingsContext) => SnapValue) | undefined;
  /** The default as the README shows it. */
  defaultDoc: string;
  /** What is allowed, completing "use …" in error messages and shown in the README. */
  allowed: string;
  description: string;
  affects: Readonly<Partial<Record<ServiceName, ServiceEffect>>>;
  render: readonly RenderTarget[];
  steps?: readonly StepName[];
  /** Service actions and steps of this key apply only when it matters (in the old or new settings). Files are always re-rendered. */
  activeWhen?: ActiveWhen;
  /** Never echoed in messages, never written back as a default, fingerprinted in records. */
  secret?: boolean;
  /** Typed value → the value to store with `snapctl set` (identity when absent). */
  toSnap?: (value: z.output<S>) => SnapValue;
}

function setting<S extends z.ZodType>(def: SettingDef<S>): SettingDef<S> {
  return def;
}

// --- Screening every string -----------------------------------------------------------------------

/** No string value of any key may be longer than this (each key has its own tighter limit). */
export const MAX_STRING = 1024;

const CONTROL = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
const SPECIAL = /["'`#$%\\]/;

/** The first reason a string must be rejected whatever the key, or undefined. */
export function screenString(s: string): string | undefined {
  const control = CONTROL.exec(s);
  if (control) return `contains the control character ${escapeChar(control[0])}`;
  const special = SPECIAL.exec(s);
  if (special) return `contains ${showValue(special[0])}, which no setting allows`;
  if (s.length > MAX_STRING) return `is ${s.length} characters long; at most ${MAX_STRING}`;
  return undefined;
}

/** Every string inside a value (arrays included) passes screenString before the key's schema runs. */
function screened<S extends z.ZodType>(inner: S) {
  return z
    .unknown()
    .transform((value, ctx) => {
      const strings = typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v) => typeof v === 'string') : [];
      for (const s of strings) {
        const reason = screenString(s);
        if (reason) {
          ctx.addIssue({ code: 'custom', message: reason, input: value });
          return z.NEVER;
        }
      }
      return value;
    })
    .pipe(inner);
}

// --- Value display (shared with validate.ts) --------------------------------------------------------

/** How many characters of a bad value a message shows. */
export const SHOW_MAX = 60;

function escapeChar(c: string): string {
  switch (c) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    case '\0':
      return '\\0';
    case '"':
      return '\\"';
    case '\\':
      return '\\\\';
    default: {
      const cp = c.codePointAt(0) ?? 0;
      return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
    }
  }
}

/**
 * A value as one safe line: quoted, control/invisible characters, quotes and backslashes escaped,
 * cut after SHOW_MAX characters with the full length noted. Objects and arrays are shown as JSON.
 */
export function showValue(value: unknown): string {
  const text = typeof value === 'string' ? value : value === undefined ? 'undefined' : safeJson(value);
  let out = '';
  let shown = 0;
  for (const ch of text) {
    if (shown >= SHOW_MAX) {
      return `"${out}…" (${[...text].length} characters)`;
    }
    out += CONTROL.test(ch) || ch === '"' || ch === '\\' ? escapeChar(ch) : ch;
    shown++;
  }
  return `"${out}"`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

// --- Building blocks ------------------------------------------------------------------------------

/** "8080" → 8080 (digits only, as a person types a number); everything else unchanged. */
function digitsToNumber(v: unknown): unknown {
  return typeof v === 'string' && /^[0-9]{1,9}$/.test(v) ? Number(v) : v;
}

/** "true"/"false" → booleans; everything else unchanged. */
function wordsToBoolean(v: unknown): unknown {
  return v === 'true' ? true : v === 'false' ? false : v;
}

function port(min: number, max: number) {
  return z.preprocess(digitsToNumber, z.int().min(min).max(max));
}

const bool = () => z.preprocess(wordsToBoolean, z.boolean());

/**
 * A string checked and turned into a value by `parse`, which returns the value or the reason it is
 * refused. `max` is the key's own length limit.
 */
function text<T>(max: number, parse: (s: string) => { value: T } | { reason: string }) {
  return z.string().transform((s, ctx): T => {
    if (s.length > max) {
      ctx.addIssue({ code: 'custom', message: `is ${s.length} characters long; at most ${max}`, input: s });
      return z.NEVER;
    }
    const r = parse(s);
    if ('reason' in r) {
      ctx.addIssue({ code: 'custom', message: r.reason, input: s });
      return z.NEVER;
    }
    return r.value;
  });
}

const ok = <T>(value: T) => ({ value });
const no = (reason: string) => ({ reason });

/** A DNS host name: labels of a–z, 0–9 and inner dashes, ≤ 63 each, ≤ 253 in all; not an IP. */
export function dnsNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 253) return 'is longer than 253 characters';
  if (name.endsWith('.')) return 'ends with a dot';
  const labels = name.split('.');
  for (const l of labels) {
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(l)) {
      return l === '' ? 'has an empty label' : `has the invalid label ${showValue(l)} (letters, digits, inner dashes, at most 63)`;
    }
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return 'is not a DNS name (it looks like an IP address)';
  return undefined;
}

const PATH_SEGMENT = /^[\p{L}\p{M}\p{N}._+@~-](?:[\p{L}\p{M}\p{N} ._+@~-]*[\p{L}\p{M}\p{N}._+@~-])?$/u;

/**
 * An absolute path: `/` then segments of letters, digits, marks and `. _ + @ ~ -` with inner
 * spaces; no empty, `.` or `..` segment; one trailing `/` is dropped. ≤ 255 characters.
 */
export function absolutePath(s: string): { value: string } | { reason: string } {
  if (!s.startsWith('/')) return no('is not an absolute path');
  const trimmed = s.length > 1 && s.endsWith('/') ? s.slice(0, -1) : s;
  if (trimmed === '/') return no('is the root directory');
  const segments = trimmed.slice(1).split('/');
  for (const seg of segments) {
    if (seg === '') return no('contains an empty path segment ("//")');
    if (seg === '.' || seg === '..') return no(`contains a "${seg}" segment`);
    if (!PATH_SEGMENT.test(seg)) {
      return no(`has the segment ${showValue(seg)} with a character outside letters, digits, space and . _ + @ ~ - (or a leading/trailing space)`);
    }
  }
  return ok(trimmed);
}

/** Directories under $SNAP_COMMON the snap itself owns (paths.ts); a data location must not overlap them. */
export const RESERVED_COMMON_ENTRIES = [
  'postgres',
  'secrets',
  'run',
  'redis',
  'certs',
  'ml-cache',
  'state.json',
  'migrations.json',
  'pre-refresh.json',
  'restore-journal.json',
  // The anchor snap's cluster, adopted by post-refresh (its media folder `upload` stays usable as
  // a media location: that is where the anchor kept the photos).
  'pgsql',
  'adopting-anchor',
] as const;

/** True when a is b or lies below b. */
export function isWithin(a: string, b: string): boolean {
  return a === b || a.startsWith(b.endsWith('/') ? b : `${b}/`);
}

/**
 * A data directory (media, backups): an absolute path under $SNAP_COMMON (not one of the snap's own
 * directories), or under /media, /run/media or /mnt (removable-media, checked when applied). Strict
 * confinement gives the snap no other writable place.
 */
function dataLocation(ctx: SettingsContext) {
  return text(255, (s) => {
    const p = absolutePath(s);
    if ('reason' in p) return p;
    const path = p.value;
    if (isWithin(path, ctx.snapCommon)) {
      if (path === ctx.snapCommon) return no('is $SNAP_COMMON itself; use a directory inside it');
      const rel = path.slice(ctx.snapCommon.length + 1);
      const first = rel.split('/')[0]!;
      if ((RESERVED_COMMON_ENTRIES as readonly string[]).includes(first)) return no(`is inside the snap's own ${first} directory`);
      return ok(path);
    }
    for (const root of ['/media', '/run/media', '/mnt']) {
      if (path === root) return no(`is ${root} itself; use a directory inside it`);
      if (isWithin(path, root)) return ok(path);
    }
    return no('is outside the places the snap may write');
  });
}

const emptyOr = <T>(parse: (s: string) => { value: T } | { reason: string }) => (s: string) => (s === '' ? ok('' as const) : parse(s));

/** An http(s) URL: scheme, host (DNS name or IP), optional port and path; no credentials, query or fragment. */
export function httpUrl(s: string, schemes: readonly ('http:' | 'https:')[]): { value: string } | { reason: string } {
  if (!/^[A-Za-z0-9._~:/[\]-]+$/.test(s)) {
    return no('has a character outside letters, digits and . _ ~ : / [ ] - (no credentials, query or fragment)');
  }
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return no('is not a URL');
  }
  if (!(schemes as readonly string[]).includes(url.protocol)) return no(`has the scheme ${url.protocol.replace(/:$/, '')}`);
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(s)) return no('is not a URL of the form scheme://host');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) === 0) {
    const p = dnsNameProblem(host);
    if (p) return no(`has a host that ${p}`);
  }
  // "http://gpu:3003/" and "http://gpu:3003" are the same server; keep paths as given.
  return ok(url.pathname === '/' ? s.replace(/\/+$/, '') : s);
}

/** An e-mail address of a deliberately plain shape: local part of letters, digits and . _ + -. */
function email(s: string): { value: string } | { reason: string } {
  const at = s.lastIndexOf('@');
  if (at <= 0) return no('is not an e-mail address');
  const local = s.slice(0, at);
  const domain = s.slice(at + 1).toLowerCase();
  if (local.length > 64 || !/^[A-Za-z0-9._+-]+$/.test(local)) return no('has a local part outside letters, digits and . _ + - (at most 64)');
  const p = dnsNameProblem(domain);
  if (p) return no(`has a domain that ${p}`);
  if (!domain.includes('.')) return no('has a domain without a dot');
  return ok(`${local}@${domain}`);
}

const DURATION = /^(?:([0-9]{1,5})h)?(?:([0-9]{1,7})m)?(?:([0-9]{1,9})s)?$/;
export const MIN_PROXY_TIMEOUT_S = 30;
export const MAX_PROXY_TIMEOUT_S = 86_400;

/** Seconds → the shortest exact form (`1h`, `10m`, `90s`). */
export function formatDuration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function duration() {
  const fromText = text(20, (s) => {
    const m = DURATION.exec(s);
    if (!m || s === '') return no('is not a duration');
    return ok((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0));
  });
  return z.preprocess(digitsToNumber, z.union([z.int().nonnegative(), fromText])).transform((seconds, ctx) => {
    if (seconds < MIN_PROXY_TIMEOUT_S || seconds > MAX_PROXY_TIMEOUT_S) {
      const reason = seconds < MIN_PROXY_TIMEOUT_S ? `is shorter than ${MIN_PROXY_TIMEOUT_S}s` : 'is longer than 24h';
      ctx.addIssue({ code: 'custom', message: reason, input: seconds });
      return z.NEVER;
    }
    return seconds;
  });
}

/** Named groups express's proxy-addr understands (written out as their CIDRs for Immich). */
export const PROXY_NAMES = Object.keys(PROXY_NAME_RANGES) as readonly ProxyName[];

/**
 * One `proxy.trusted-proxies` entry: a proxy-addr name (rendered as its CIDRs), or what Immich's
 * IMMICH_TRUSTED_PROXIES validation accepts — validator's isIP, or isIPRange (a prefix of 1-3
 * digits without a leading zero, at most 32 for IPv4 and 128 for IPv6); docs/upstream/
 * immich-runtime.md §1.3. test/unit/settings/trusted-proxies.test.ts compares this with validator.
 */
function proxyEntryProblem(e: string): string | undefined {
  if ((PROXY_NAMES as readonly string[]).includes(e)) return undefined;
  const [addr, prefix, extra] = e.split('/');
  if (extra !== undefined || addr === undefined) return `has the entry ${showValue(e)}, which is not an IP address or CIDR`;
  const family = isIP(addr);
  if (family === 0) return `has the entry ${showValue(e)}, which is not an IP address or CIDR`;
  if (prefix !== undefined) {
    const max = family === 4 ? 32 : 128;
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(prefix) || Number(prefix) > max) return `has the entry ${showValue(e)} with a prefix length outside 0–${max} (or with a leading zero)`;
  }
  return undefined;
}

export const MAX_TRUSTED_PROXIES = 32;

function trustedProxies() {
  const list = (items: string[]) => {
    const entries = items.map((x) => x.trim());
    if (entries.length === 1 && entries[0] === '') return ok([] as string[]);
    if (entries.length > MAX_TRUSTED_PROXIES) return no(`has ${entries.length} entries; at most ${MAX_TRUSTED_PROXIES}`);
    for (const e of entries) {
      if (e === '') return no('has an empty entry');
      const p = proxyEntryProblem(e);
      if (p) return no(p);
    }
    return ok([...new Set(entries)]);
  };
  return z.union([
    text(1024, (s) => list(s.split(','))),
    z.array(z.string()).transform((items, ctx) => {
      const r = items.length === 0 ? ok([] as string[]) : list(items);
      if ('reason' in r) {
        ctx.addIssue({ code: 'custom', message: r.reason, input: items });
        return z.NEVER;
      }
      return r.value;
    }),
  ]);
}

/**
 * Node flags Immich may be started with: heap and GC sizes, diagnostics that only print, and DNS
 * order. Anything that loads code or opens a port (--require, --import, --inspect, --eval, ...) is
 * not on the list.
 */
export const NODE_OPTION_RULES: readonly { flag: string; value?: RegExp; range?: [number, number]; doc: string }[] = [
  { flag: '--max-old-space-size', range: [256, 1_048_576], doc: '--max-old-space-size=MiB (256–1048576)' },
  { flag: '--max-semi-space-size', range: [1, 1024], doc: '--max-semi-space-size=MiB (1–1024)' },
  { flag: '--stack-trace-limit', range: [1, 1000], doc: '--stack-trace-limit=N (1–1000)' },
  { flag: '--dns-result-order', value: /^(?:ipv4first|ipv6first|verbatim)$/, doc: '--dns-result-order=ipv4first|ipv6first|verbatim' },
  { flag: '--enable-source-maps', doc: '--enable-source-maps' },
  { flag: '--trace-warnings', doc: '--trace-warnings' },
  { flag: '--trace-uncaught', doc: '--trace-uncaught' },
  { flag: '--trace-deprecation', doc: '--trace-deprecation' },
  { flag: '--no-warnings', doc: '--no-warnings' },
  { flag: '--no-deprecation', doc: '--no-deprecation' },
];

function nodeOptionProblem(token: string): string | undefined {
  const eq = token.indexOf('=');
  const flag = eq === -1 ? token : token.slice(0, eq);
  const value = eq === -1 ? undefined : token.slice(eq + 1);
  const rule = NODE_OPTION_RULES.find((r) => r.flag === flag);
  if (!rule) return `has the flag ${showValue(token)}, which is not on the allow-list`;
  const wantsValue = rule.range !== undefined || rule.value !== undefined;
  if (!wantsValue) return value === undefined ? undefined : `has ${showValue(token)}; ${flag} takes no value`;
  if (value === undefined) return `has ${showValue(token)} without a value; use ${rule.doc}`;
  if (rule.range) {
    const n = /^[0-9]{1,7}$/.test(value) ? Number(value) : NaN;
    if (!(n >= rule.range[0] && n <= rule.range[1])) return `has ${showValue(token)}; use ${rule.doc}`;
  } else if (rule.value && !rule.value.test(value)) {
    return `has ${showValue(token)}; use ${rule.doc}`;
  }
  return undefined;
}

function nodeOptions() {
  const parse = (s: string) => {
    if (s.trim() === '') return ok([] as string[]);
    const tokens = s.trim().split(/ +/);
    const seen = new Set<string>();
    for (const t of tokens) {
      const p = nodeOptionProblem(t);
      if (p) return no(p);
      const flag = t.split('=')[0]!;
      if (seen.has(flag)) return no(`has ${flag} twice`);
      seen.add(flag);
    }
    return ok(tokens);
  };
  // A JSON list of flags is accepted too (and is what the typed value looks like).
  return z.union([text(256, parse), z.array(z.string()).transform((items) => items.join(' ')).pipe(text(256, parse))]);
}

/**
 * database-password: 16–128 characters of A–Z a–z 0–9 . _ ~ - (RFC 3986 "unreserved"). That set
 * needs no quoting or escaping anywhere the password goes: a SQL string literal, a libpq
 * connection string or URL, an env file, a command line. 16 characters of it still carry ~96 bits
 * when chosen at random; the generated password (base64url of ≥ 32 random bytes) fits it.
 */
export const PASSWORD_CHARSET = /^[A-Za-z0-9._~-]+$/;
export const PASSWORD_MIN = 16;
export const PASSWORD_MAX = 128;

function password() {
  // Unset (undefined): the hook keeps the current password and writes it back (never from defaults).
  return text(PASSWORD_MAX, (s) => {
    if (s.length < PASSWORD_MIN) return no(`is ${s.length} characters long; at least ${PASSWORD_MIN}`);
    if (!PASSWORD_CHARSET.test(s)) return no('has a character outside A–Z a–z 0–9 . _ ~ -');
    return ok(s);
  }).optional();
}

const TO_LIST = (sep: string) => (v: readonly string[]) => v.join(sep);

// --- The settings ---------------------------------------------------------------------------------

const HTTPS_ON = ['self-signed', 'custom', 'acme'] as const;
export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

export const SETTINGS = {
  'http.port': setting({
    schema: () => z.preprocess(digitsToNumber, z.union([z.int().min(1).max(65535), z.literal('off')])),
    default: 80,
    defaultDoc: '80',
    allowed: 'a port 1–65535, or off when https.mode is on',
    description: 'Port of the HTTP frontend (HAProxy). `off` serves HTTPS only.',
    affects: { haproxy: 'reload' },
    render: ['haproxy.cfg'],
  }),
  'http.bind': setting({
    schema: () =>
      text(64, (s) => {
        if (s === '') return ok('');
        const addr = /^\[.*\]$/.test(s) ? s.slice(1, -1) : s;
        return isIP(addr) === 0 ? no('is not an IPv4 or IPv6 address') : ok(addr);
      }),
    default: '',
    defaultDoc: '"" (all addresses)',
    allowed: 'an IPv4 or IPv6 address, or empty for all addresses',
    description: 'Address the HTTP and HTTPS frontends listen on.',
    affects: { haproxy: 'reload' },
    render: ['haproxy.cfg'],
  }),
  'https.mode': setting({
    schema: () => z.enum(['off', ...HTTPS_ON]),
    default: 'off',
    defaultDoc: 'off',
    allowed: 'off, self-signed, custom or acme',
    description:
      'HTTPS: `self-signed` (generated once, renewed before expiry), `custom` (https.cert + https.key), `acme` (Let\'s Encrypt or another ACME CA, HTTP-01 through HAProxy, renewed by a timer).',
    affects: { haproxy: 'reload', 'acme-renew': 'enable-disable' },
    render: ['haproxy.cfg', 'acme-settings'],
    steps: ['certificate'],
  }),
  'https.port': setting({
    schema: () => port(1, 65535),
    default: 443,
    defaultDoc: '443',
    allowed: 'a port 1–65535',
    description: 'Port of the HTTPS frontend.',
    affects: { haproxy: 'reload' },
    render: ['haproxy.cfg'],
    activeWhen: { 'https.mode': HTTPS_ON },
  }),
  'https.redirect': setting({
    schema: bool,
    default: true,
    defaultDoc: 'true',
    allowed: 'true or false',
    description: 'Redirect HTTP to HTTPS when HTTPS is on (ACME challenges are never redirected).',
    affects: { haproxy: 'reload' },
    render: ['haproxy.cfg'],
    activeWhen: { 'https.mode': HTTPS_ON },
  }),
  'https.hsts': setting({
    schema: bool,
    default: false,
    defaultDoc: 'false',
    allowed: 'true or false',
    description: 'Send Strict-Transport-Security on HTTPS responses.',
    affects: { haproxy: 'reload' },
    render: ['haproxy.cfg'],
    activeWhen: { 'https.mode': HTTPS_ON },
  }),
  'https.cert': setting({
    schema: () => text(255, emptyOr(absolutePath)),
    default: '',
    defaultDoc: '""',
    allowed: 'an absolute path to a PEM certificate (chain) file',
    description: 'Added key. Certificate for `https.mode=custom`; checked (parseable, matches the key, not expired) and copied into the snap.',
    affects: {},
    render: [],
    steps: ['certificate'],
    activeWhen: { 'https.mode': ['custom'] },
  }),
  'https.key': setting({
    schema: () => text(255, emptyOr(absolutePath)),
    default: '',
    defaultDoc: '""',
    allowed: 'an absolute path to a PEM private key file',
    description: 'Added key. Private key for `https.mode=custom`; copied into the snap (root-only).',
    affects: {},
    render: [],
    steps: ['certificate'],
    activeWhen: { 'https.mode': ['custom'] },
  }),
  'https.acme.domain': setting({
    schema: () =>
      text(253, (s) => {
        if (s === '') return ok('');
        const name = s.toLowerCase();
        const p = dnsNameProblem(name);
        return p ? no(p) : ok(name);
      }),
    default: '',
    defaultDoc: '""',
    allowed: 'a DNS name such as photos.example.com',
    description: 'Domain of the ACME certificate (required for `https.mode=acme`); it must reach this machine on http.port for HTTP-01.',
    affects: {},
    render: ['acme-settings', 'haproxy.cfg'],
    steps: ['certificate'],
    activeWhen: { 'https.mode': ['acme'] },
  }),
  'https.acme.email': setting({
    schema: () => text(254, emptyOr(email)),
    default: '',
    defaultDoc: '""',
    allowed: 'an e-mail address (letters, digits and . _ + - before the @)',
    description: 'Contact of the ACME account (required for `https.mode=acme`).',
    affects: {},
    render: ['acme-settings'],
    steps: ['certificate'],
    activeWhen: { 'https.mode': ['acme'] },
  }),
  'https.acme.server': setting({
    schema: () => text(256, (s) => httpUrl(s, ['https:'])),
    default: LETS_ENCRYPT_DIRECTORY,
    defaultDoc: `Let's Encrypt (${LETS_ENCRYPT_DIRECTORY})`,
    allowed: 'an https:// ACME directory URL',
    description: 'ACME directory URL (e.g. Let\'s Encrypt staging, a private step-ca, or a test `pebble`).',
    affects: {},
    render: ['acme-settings'],
    steps: ['certificate'],
    activeWhen: { 'https.mode': ['acme'] },
  }),
  'https.acme.server-ca': setting({
    schema: () => text(255, emptyOr(absolutePath)),
    default: '',
    defaultDoc: '"" (system CAs)',
    allowed: 'an absolute path to a PEM CA file, or empty for the system CAs',
    description: 'Added key. Extra CA that signs the ACME server\'s own HTTPS certificate (private ACME CAs, `pebble`).',
    affects: {},
    render: ['acme-settings'],
    steps: ['certificate'],
    activeWhen: { 'https.mode': ['acme'] },
  }),
  'proxy.timeout': setting({
    schema: duration,
    default: '10m',
    defaultDoc: '10m',
    allowed: `a duration such as 600s, 10m, 1h or 1h30m, or a number of seconds (${MIN_PROXY_TIMEOUT_S}s–24h)`,
    description: 'Idle timeout of client and server connections in HAProxy; long uploads and slow responses must not be cut.',
    affects: { haproxy: 'reload' },
    render: ['haproxy.cfg'],
    toSnap: formatDuration,
  }),
  'proxy.trusted-proxies': setting({
    schema: trustedProxies,
    default: '',
    defaultDoc: '"" (only HAProxy)',
    allowed: `a comma-separated list of IP addresses, CIDRs or ${PROXY_NAMES.join('/')} (at most ${MAX_TRUSTED_PROXIES}), or empty`,
    description:
      "Proxies/CDNs in front of HAProxy whose X-Forwarded-For Immich trusts (IMMICH_TRUSTED_PROXIES). Names are written out as their CIDRs (Immich accepts only addresses); loopback (HAProxy) is always trusted, and empty trusts nothing else (Immich's own default would trust every LAN client).",
    affects: { 'immich-server': 'restart' },
    render: ['immich-server.env'],
    toSnap: TO_LIST(','),
  }),
  'media.location': setting({
    schema: dataLocation,
    default: (ctx) => `${ctx.snapCommon}/media`,
    defaultDoc: '$SNAP_COMMON/media',
    allowed:
      'an absolute path under $SNAP_COMMON, /media, /run/media or /mnt (letters, digits, space and . _ + @ ~ -; no .. )',
    description:
      'Where Immich keeps photos (IMMICH_MEDIA_LOCATION). /media and /mnt need the removable-media plug; moving is refused unless the new place holds the data.',
    affects: { 'immich-server': 'restart' },
    render: ['immich-server.env', 'backup-settings'],
    steps: ['check-media-location'],
  }),
  'ml.enabled': setting({
    schema: bool,
    default: true,
    defaultDoc: 'true',
    allowed: 'true or false',
    description: 'Machine learning (search, faces, OCR). false stops and disables the ML daemon and turns ML off in Immich.',
    affects: { 'immich-machine-learning': 'enable-disable', 'immich-server': 'restart' },
    render: ['immich-server.env'],
    steps: ['update-immich-ml-config'],
  }),
  'ml.url': setting({
    schema: () => text(256, emptyOr((s) => httpUrl(s, ['http:', 'https:']))),
    default: '',
    defaultDoc: '"" (the local ML daemon)',
    allowed: 'an http:// or https:// URL of a machine-learning server, or empty for the local one',
    description: 'A remote machine-learning server (e.g. a GPU host). When set, the local ML daemon is stopped and disabled.',
    affects: { 'immich-machine-learning': 'enable-disable', 'immich-server': 'restart' },
    render: ['immich-server.env'],
    steps: ['update-immich-ml-config'],
    activeWhen: { 'ml.enabled': [true] },
  }),
  'database-password': setting({
    schema: password,
    default: undefined,
    defaultDoc: 'generated at install',
    allowed: `${PASSWORD_MIN}–${PASSWORD_MAX} characters of A–Z a–z 0–9 . _ ~ -`,
    description:
      'Password of the `postgres` user for TCP logins on 127.0.0.1 (`snap get` shows it). Setting it rotates the password (ALTER ROLE + secret file, transactionally).',
    affects: {},
    render: [],
    steps: ['rotate-database-password'],
    secret: true,
  }),
  'database.tcp': setting({
    schema: bool,
    default: true,
    defaultDoc: 'true',
    allowed: 'true or false',
    description: 'Postgres also listens on 127.0.0.1 (scram-sha-256) for external tools; false = unix socket only.',
    affects: { postgres: 'restart' },
    render: ['postgresql.conf', 'pg_hba.conf'],
  }),
  'backup.schedule': setting({
    schema: () => z.enum(['off', 'daily', 'weekly']),
    default: 'off',
    defaultDoc: 'off',
    allowed: 'off, daily or weekly',
    description: 'Scheduled backups by the backup timer.',
    affects: { 'backup-timer': 'enable-disable' },
    render: ['backup-settings'],
  }),
  'backup.keep': setting({
    schema: () => z.preprocess(digitsToNumber, z.int().min(1).max(365)),
    default: 7,
    defaultDoc: '7',
    allowed: 'a whole number 1–365',
    description: 'How many scheduled backups are kept.',
    affects: {},
    render: ['backup-settings'],
  }),
  'backup.location': setting({
    schema: dataLocation,
    default: (ctx) => `${ctx.snapCommon}/backups`,
    defaultDoc: '$SNAP_COMMON/backups',
    allowed:
      'an absolute path under $SNAP_COMMON, /media, /run/media or /mnt (letters, digits, space and . _ + @ ~ -; no .. ), not inside media.location',
    description: 'Where backups are written; same rules as media.location.',
    affects: {},
    render: ['backup-settings'],
    steps: ['check-backup-location'],
  }),
  'backup.assets': setting({
    schema: bool,
    default: false,
    defaultDoc: 'false',
    allowed: 'true or false',
    description: 'Scheduled backups include the media (incremental).',
    affects: {},
    render: ['backup-settings'],
  }),
  'server.node-options': setting({
    schema: nodeOptions,
    default: '',
    defaultDoc: '""',
    allowed: `space-separated flags from: ${NODE_OPTION_RULES.map((r) => r.doc).join(', ')}`,
    description: 'Extra Node.js flags of the Immich server (NODE_OPTIONS), e.g. a larger heap for very large libraries.',
    affects: { 'immich-server': 'restart' },
    render: ['immich-server.env'],
    toSnap: TO_LIST(' '),
  }),
  'log.level': setting({
    schema: () => z.enum(['verbose', 'debug', 'log', 'warn', 'error']),
    default: 'log',
    defaultDoc: 'log',
    allowed: 'verbose, debug, log, warn or error',
    description: 'Log level of the Immich server and machine learning (IMMICH_LOG_LEVEL).',
    affects: { 'immich-server': 'restart', 'immich-machine-learning': 'restart' },
    render: ['immich-server.env', 'immich-ml.env'],
  }),
  'internal.server-port': setting({
    schema: () => port(1024, 65535),
    default: 3001,
    defaultDoc: '3001',
    allowed: 'a port 1024–65535, different from every other port',
    description: 'Loopback port of the Immich server (HAProxy\'s backend).',
    affects: { 'immich-server': 'restart', haproxy: 'reload' },
    render: ['immich-server.env', 'haproxy.cfg'],
  }),
  'internal.ml-port': setting({
    schema: () => port(1024, 65535),
    default: 3003,
    defaultDoc: '3003',
    allowed: 'a port 1024–65535, different from every other port',
    description: 'Loopback port of the local machine-learning daemon.',
    affects: { 'immich-machine-learning': 'restart', 'immich-server': 'restart' },
    render: ['immich-ml.env', 'immich-server.env'],
    activeWhen: { 'ml.enabled': [true], 'ml.url': [''] },
  }),
  'internal.stats-port': setting({
    schema: () => port(1024, 65535),
    default: 8080,
    defaultDoc: '8080',
    allowed: 'a port 1024–65535, different from every other port',
    description: 'HAProxy statistics page on 127.0.0.1.',
    affects: { haproxy: 'reload' },
    render: ['haproxy.cfg'],
  }),
  'internal.postgres-port': setting({
    schema: () => port(1024, 65535),
    default: 5432,
    defaultDoc: '5432',
    allowed: 'a port 1024–65535, different from every other port',
    description: 'Postgres port on 127.0.0.1 (also names its unix socket).',
    affects: { postgres: 'restart', 'immich-server': 'restart' },
    render: ['postgresql.conf', 'immich-server.env'],
  }),
} as const;

type Table = typeof SETTINGS;
export type SettingKey = keyof Table & string;
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** The validated settings: every key, typed, defaults filled (database-password may be undefined). */
export type Settings = { [K in SettingKey]: z.output<ReturnType<Table[K]['schema']>> };

/** The first dotted segment of every key: config under these roots is ours and fully validated. */
export const KNOWN_ROOTS: readonly string[] = [...new Set(SETTING_KEYS.map((k) => k.split('.')[0]!))];

export function settingDef(key: SettingKey): SettingDef {
  // Widening each key's precise schema type to the common definition type.
  return SETTINGS[key] as unknown as SettingDef;
}

export function defaultOf(key: SettingKey, ctx: SettingsContext): SnapValue | undefined {
  const d = settingDef(key).default;
  return typeof d === 'function' ? d(ctx) : d;
}

/** A typed value → the form `snapctl set` stores (what `snap get` should show). */
export function toSnapValue(key: SettingKey, value: unknown): SnapValue {
  const def = settingDef(key);
  if (def.toSnap) return def.toSnap(value);
  return value as SnapValue;
}

// --- When keys matter; whether toggleable services should run ---------------------------------------

export function isActive(key: SettingKey, s: Settings): boolean {
  const when = settingDef(key).activeWhen;
  if (!when) return true;
  return Object.entries(when).every(([k, values]) => values.includes(s[k as SettingKey] as SnapValue));
}

/** Services that settings switch on and off; every other service always runs. */
export const RUN_STATE: Partial<Record<ServiceName, (s: Settings) => boolean>> = {
  'immich-machine-learning': (s) => s['ml.enabled'] && s['ml.url'] === '',
  'backup-timer': (s) => s['backup.schedule'] !== 'off',
  'acme-renew': (s) => s['https.mode'] === 'acme',
};

export function shouldRun(service: ServiceName, s: Settings): boolean {
  return RUN_STATE[service]?.(s) ?? true;
}

// --- Rules across keys ----------------------------------------------------------------------------

type Problem = { key: SettingKey; line: string };

/** Ports that are listened on, in key order. */
function listeningPorts(s: Settings): [SettingKey, number][] {
  const out: [SettingKey, number][] = [];
  if (s['http.port'] !== 'off') out.push(['http.port', s['http.port']]);
  if (s['https.mode'] !== 'off') out.push(['https.port', s['https.port']]);
  for (const k of ['internal.server-port', 'internal.ml-port', 'internal.stats-port', 'internal.postgres-port'] as const) out.push([k, s[k]]);
  return out;
}

/**
 * Rules that involve several keys. `s` holds every key; a rule involving a key in `invalid` is
 * skipped (that key already has its own problem). Each problem names the key, shows its value and
 * says what is allowed.
 */
export function crossProblems(s: Settings, invalid: ReadonlySet<string>, given: ReadonlySet<string> = new Set()): Problem[] {
  const out: Problem[] = [];
  const valid = (...keys: SettingKey[]) => keys.every((k) => !invalid.has(k));
  const mode = s['https.mode'];

  if (valid('http.port', 'https.mode') && s['http.port'] === 'off') {
    if (mode === 'off') {
      out.push({ key: 'http.port', line: `http.port: "off" is not allowed while https.mode is off; use a port 1–65535, or turn HTTPS on in the same snap set` });
    } else if (mode === 'acme') {
      out.push({
        key: 'http.port',
        line: `http.port: "off" is not allowed while https.mode is acme (the HTTP-01 challenge is answered on the HTTP port); use a port 1–65535`,
      });
    }
  }
  if (valid('https.mode') && mode === 'custom') {
    for (const k of ['https.cert', 'https.key'] as const) {
      if (valid(k) && s[k] === '') out.push({ key: k, line: `${k}: required when https.mode is custom; use ${settingDef(k).allowed}` });
    }
  }
  if (valid('https.mode') && mode === 'acme') {
    for (const k of ['https.acme.domain', 'https.acme.email'] as const) {
      if (valid(k) && s[k] === '') out.push({ key: k, line: `${k}: required when https.mode is acme; use ${settingDef(k).allowed}` });
    }
  }

  const seen = new Map<number, SettingKey>();
  for (const [k, p] of listeningPorts(s)) {
    if (!valid(k) || (k === 'https.port' && !valid('https.mode'))) continue;
    const first = seen.get(p);
    if (first) {
      // Blame the key the user set, not the one that kept its default.
      const [bad, other] = given.has(first) && !given.has(k) ? [first, k] : [k, first];
      out.push({ key: bad, line: `${bad}: ${showValue(p)} is already used by ${other}; use a different port, or move ${other} to another port in the same snap set` });
    } else {
      seen.set(p, k);
    }
  }

  if (valid('media.location', 'backup.location')) {
    const media = s['media.location'];
    const backup = s['backup.location'];
    if (isWithin(backup, media)) {
      out.push({ key: 'backup.location', line: `backup.location: ${showValue(backup)} is inside media.location; use a place outside the media` });
    } else if (isWithin(media, backup)) {
      out.push({ key: 'media.location', line: `media.location: ${showValue(media)} is inside backup.location; use a place outside the backups` });
    }
  }
  return out;
}

type Fields = { [K in SettingKey]: z.ZodType<Settings[K], unknown> };
const fieldCache = new Map<string, z.ZodObject<Fields>>();

/** Every key's screened schema with its default, built once per $SNAP_COMMON (schemas are immutable). */
function fieldsFor(ctx: SettingsContext): z.ZodObject<Fields> {
  const cached = fieldCache.get(ctx.snapCommon);
  if (cached) return cached;
  const shape = Object.fromEntries(
    SETTING_KEYS.map((key) => {
      const def = settingDef(key);
      const field = screened(def.schema(ctx));
      const d = defaultOf(key, ctx);
      return [key, d === undefined ? field.optional() : field.prefault(d)];
    }),
  ) as unknown as Fields;
  const fields = z.object(shape);
  fieldCache.set(ctx.snapCommon, fields);
  return fields;
}

/**
 * The zod schema of the whole flat configuration (dotted keys → values) for a machine: each key's
 * screened schema with its default, and the cross-key rules. Unknown keys are not its business
 * (validate.ts reports them with a did-you-mean). Cross-key problems are custom issues with
 * `params.line` holding the whole message line. `given` (the keys the user set) only decides
 * which of two clashing keys a problem names.
 */
export function settingsSchema(ctx: SettingsContext, given: ReadonlySet<string> = new Set()) {
  return fieldsFor(ctx).check(
    z.superRefine(
      (value, rc) => {
        const invalid = new Set(rc.issues.map((i) => String(i.path?.[0])));
        for (const p of crossProblems(value as Settings, invalid, given)) {
          rc.addIssue({ code: 'custom', path: [p.key], message: p.line, params: { line: p.line }, input: value[p.key] });
        }
      },
      // Run even when some keys failed, so every problem is reported at once.
      { when: () => true },
    ),
  );
}
