import type { z } from 'zod';
import {
  KNOWN_ROOTS,
  SETTING_KEYS,
  type SettingKey,
  type Settings,
  type SettingsContext,
  type SnapValue,
  settingDef,
  settingsSchema,
  showValue,
  toSnapValue,
} from './schema.js';

export type ValidationResult = { ok: true; settings: Settings } | { ok: false; problems: string[] };

const KNOWN = new Set<string>(SETTING_KEYS);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The config document of `snapctl get -d <roots…>` flattened to dotted keys:
 * `{ http: { port: 80 } }` → `{ 'http.port': 80 }`. Descent stops at a known setting key, so an
 * object given where a value belongs (`http.port='{"a":1}'`) stays one bad value of that key
 * instead of becoming unknown keys. Empty groups (left by `snap unset`) and nulls (unset) vanish.
 */
export function flattenConfig(doc: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    const key = prefix === '' ? k : `${prefix}.${k}`;
    if (v === null || v === undefined) continue;
    if (!KNOWN.has(key) && isPlainObject(v)) {
      Object.assign(out, flattenConfig(v, key));
    } else {
      out[key] = v;
    }
  }
  return out;
}

/**
 * Validates the whole flat config at once. Every problem is one line that names the key, shows the
 * bad value (quoted, escaped, cut) and says what is allowed; all problems are returned together:
 * unknown keys first (they often explain the rest), then the keys in schema order, then rules that
 * involve several keys. The value of a secret key is never shown.
 */
export function validateSettings(flat: Record<string, unknown>, ctx: SettingsContext): ValidationResult {
  const problems: string[] = [];
  const known: Record<string, unknown> = {};
  for (const key of Object.keys(flat).sort()) {
    const value = flat[key];
    if (value === null || value === undefined) continue;
    if (KNOWN.has(key)) known[key] = value;
    else problems.push(unknownKeyProblem(key, value));
  }

  const parsed = settingsSchema(ctx, new Set(Object.keys(known))).safeParse(known);
  if (parsed.success && problems.length === 0) return { ok: true, settings: parsed.data };
  if (!parsed.success) {
    const perKey = new Map<string, string>();
    const cross: string[] = [];
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      const line: unknown = issue.code === 'custom' ? issue.params?.['line'] : undefined;
      if (typeof line === 'string') {
        cross.push(line);
        continue;
      }
      if (!KNOWN.has(key) || perKey.has(key)) continue;
      perKey.set(key, keyProblem(key as SettingKey, known[key], issue));
    }
    for (const key of SETTING_KEYS) {
      const line = perKey.get(key);
      if (line) problems.push(line);
    }
    problems.push(...cross);
  }
  return { ok: false, problems };
}

function keyProblem(key: SettingKey, value: unknown, issue: z.core.$ZodIssue): string {
  const def = settingDef(key);
  const shown = def.secret ? 'the value given (not shown)' : showValue(value);
  const reason = reasonOf(issue);
  return `${key}: ${shown} ${reason ?? 'is not allowed'}; use ${def.allowed}`;
}

/**
 * The reason our own checks gave (custom issues), looking into the one union branch whose type
 * matched. Zod's generic messages ("Too small: expected number to be >=1") are not shown: the
 * key's `allowed` text says the same thing in the user's terms.
 */
function reasonOf(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code === 'custom') return issue.message;
  if (issue.code === 'invalid_union') {
    for (const branch of issue.errors) {
      if (branch.every((i) => i.code === 'invalid_type')) continue;
      for (const i of branch) {
        const r = reasonOf(i);
        if (r) return r;
      }
    }
  }
  return undefined;
}

function unknownKeyProblem(key: string, value: unknown): string {
  const shownKey = showValue(key);
  const parent = SETTING_KEYS.find((k) => key.startsWith(`${k}.`));
  if (parent) {
    return `${parent}: a group of values is not allowed (found ${shownKey}); use ${settingDef(parent).allowed}`;
  }
  const children = SETTING_KEYS.filter((k) => k.startsWith(`${key}.`));
  if (children.length > 0) {
    return `${key}: ${showValue(value)} is not allowed; ${key} is a group of settings (${children.join(', ')}), set one of those`;
  }
  const suggestion = didYouMean(key);
  if (suggestion) return `unknown setting ${shownKey}; did you mean "${suggestion}"?`;
  const root = key.split('.')[0]!;
  if (KNOWN_ROOTS.includes(root)) {
    const siblings = SETTING_KEYS.filter((k) => k.startsWith(`${root}.`));
    return `unknown setting ${shownKey}; the ${root} settings are ${siblings.join(', ')}`;
  }
  return `unknown setting ${shownKey}; the settings are listed in the README and shown by snap get immich-distribution`;
}

/**
 * Optimal-string-alignment distance (Damerau-Levenshtein where a transposition counts as one edit
 * and no substring is edited twice): `http.prot` → `http.port` is 1.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => d[i]![j]!;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i]![j] = v;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known key an unknown one most likely meant, or undefined when nothing is close: the single
 * nearest key within 1 edit (keys up to 7 characters) or 2 edits (longer), or else the single key
 * that ends with what was typed (`timeout` → `proxy.timeout`, `acme.domain` → `https.acme.domain`).
 */
export function didYouMean(key: string): string | undefined {
  const limit = key.length <= 7 ? 1 : 2;
  let best: string[] = [];
  let bestD = Infinity;
  for (const k of SETTING_KEYS) {
    const dist = editDistance(key, k);
    if (dist < bestD) {
      bestD = dist;
      best = [k];
    } else if (dist === bestD) {
      best.push(k);
    }
  }
  if (bestD <= limit && best.length === 1) return best[0];
  const bySuffix = SETTING_KEYS.filter((k) => k.endsWith(`.${key}`));
  return bySuffix.length === 1 ? bySuffix[0] : undefined;
}

/**
 * The keys that are unset in `flat` and should be written back with their effective value, so
 * `snap get immich-distribution` shows the whole effective config. Values are in the form
 * `snapctl set` stores (numbers, booleans, strings such as `10m`). database-password is never
 * written from here: the hook writes back the current password from its secret file.
 */
export function defaultsToWrite(settings: Settings, flat: Record<string, unknown>): Partial<Record<SettingKey, SnapValue>> {
  const out: Partial<Record<SettingKey, SnapValue>> = {};
  for (const key of SETTING_KEYS) {
    if (settingDef(key).secret) continue;
    if (flat[key] !== undefined && flat[key] !== null) continue;
    out[key] = toSnapValue(key, settings[key]);
  }
  return out;
}
