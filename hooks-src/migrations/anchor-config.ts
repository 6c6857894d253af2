/**
 * The anchor snap's `snap set` keys, translated to ours when post-refresh adopts its layout.
 *
 * The anchor stores its own keys (`haproxy-http-bind`, `https-enabled`, `acme-domain`,
 * `backup-database-daily`, `node-options`, an all-permission `admin-api-key`, `previous.*`, …).
 * Left in place, every one is an unknown key to our configure hook, which runs right after
 * post-refresh: it would refuse them and snapd would revert the refresh. So adoption maps what has a
 * meaning here, unsets every key that is not ours, and says what it did (key names only; the value
 * of a secret is never shown). The result is validated with our own schema; a mapping that would
 * not validate is dropped (with a note) rather than failing the refresh.
 *
 * Pure: the caller gives the config document and whether a file exists.
 */
import { KNOWN_ROOTS, type SettingsContext } from '../settings/schema.js';
import { flattenConfig, validateSettings } from '../settings/validate.js';

export interface AnchorTranslation {
  /** Our keys to set (snapctl set). */
  set: Record<string, string | number | boolean>;
  /** The anchor's top-level keys to unset (snapctl unset). */
  unset: string[];
  /** One line per decision, for the hook's log. */
  notes: string[];
}

/** The anchor's top-level keys (reference: anchor-immich-distribution.md §3), read by name if snapd cannot give the whole document. */
export const ANCHOR_KEYS = [
  'haproxy-http-bind', 'haproxy-https-bind', 'http-enabled', 'https-enabled', 'acme-domain', 'acme-email', 'acme-staging',
  'acme-challenge-type', 'acme-port', 'metrics-telemetry-include', 'metrics-telemetry-exclude', 'backup-database-daily',
  'node-options', 'admin-api-key', 'sent-notification-hash', 'previous', 'typesense-key', 'metrics-enabled',
  'manager-migrations-version', 'sync-enabled', 'sync-delete-threshold', 'sync',
] as const;

const LETS_ENCRYPT_STAGING = 'https://acme-staging-v02.api.letsencrypt.org/directory';
/** Keys the anchor kept secrets in: their values are never shown. */
const SECRET_KEYS = new Set(['database-password', 'admin-api-key']);

/** HAProxy `bind` as the anchor wrote it: `*:80`, `:80`, `0.0.0.0:80`, `192.0.2.1:8080`, `[::]:80`, `:::80`. */
export function parseAnchorBind(s: string): { address: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\*|[0-9.]*|::))?:(\d{1,5})$/.exec(s.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const raw = m[1] ?? m[2] ?? '';
  const address = raw === '*' || raw === '' || raw === '0.0.0.0' || raw === '::' ? '' : raw;
  return { address, port };
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function translateAnchorConfig(doc: Record<string, unknown>, ctx: SettingsContext & { fileExists: (p: string) => boolean }): AnchorTranslation {
  const ours = new Set(KNOWN_ROOTS);
  const get = (k: string) => str(doc[k]);
  const set: AnchorTranslation['set'] = {};
  const notes: string[] = [];

  // Ports and addresses of the frontends.
  const httpBind = get('haproxy-http-bind');
  const httpsBind = get('haproxy-https-bind');
  const http = httpBind === undefined ? undefined : parseAnchorBind(httpBind);
  const https = httpsBind === undefined ? undefined : parseAnchorBind(httpsBind);
  if (httpBind !== undefined && !http) notes.push(`haproxy-http-bind is not an address:port: http.port stays at its default`);
  if (httpsBind !== undefined && !https) notes.push(`haproxy-https-bind is not an address:port: https.port stays at its default`);
  if (http && http.port !== 80) set['http.port'] = http.port;
  if (https && https.port !== 443) set['https.port'] = https.port;
  const address = http?.address || https?.address || '';
  if (address) set['http.bind'] = address;

  // HTTPS: the anchor's ACME (lego) or hand-placed certificate.
  if (get('https-enabled') === 'true') {
    const domain = get('acme-domain');
    const email = get('acme-email');
    const certDir = `${ctx.snapCommon}/acme/haproxy`;
    if (domain && email) {
      Object.assign(set, { 'https.mode': 'acme', 'https.acme.domain': domain, 'https.acme.email': email });
      if (get('acme-staging') === 'true') set['https.acme.server'] = LETS_ENCRYPT_STAGING;
    } else if (ctx.fileExists(`${certDir}/cert.crt`) && ctx.fileExists(`${certDir}/cert.crt.key`)) {
      Object.assign(set, { 'https.mode': 'custom', 'https.cert': `${certDir}/cert.crt`, 'https.key': `${certDir}/cert.crt.key` });
    } else {
      notes.push('https-enabled=true but neither an ACME domain and e-mail nor a certificate were found: HTTPS stays off (set https.mode)');
    }
    if (get('http-enabled') === 'false') {
      // ACME's HTTP-01 challenge needs the HTTP frontend; it redirects everything else to HTTPS.
      if (set['https.mode'] === 'custom') set['http.port'] = 'off';
      else if (set['https.mode'] === 'acme') notes.push('http-enabled=false: HTTP stays on for the ACME challenge and redirects everything else to HTTPS');
    }
  }

  if (get('backup-database-daily') === 'true') set['backup.schedule'] = 'daily';
  const nodeOptions = get('node-options');
  if (nodeOptions) set['server.node-options'] = nodeOptions;
  // Our database-password is the same key (the postgres role's TCP password): kept when valid.
  const pw = get('database-password');
  if (pw !== undefined) set['database-password'] = pw;

  // Keep only what validates: each group alone (HTTPS keys belong together), then all together.
  const ctxOnly: SettingsContext = { snapCommon: ctx.snapCommon };
  const valid = (keys: string[]) => validateSettings(flattenConfig(Object.fromEntries(keys.map((k) => [k, set[k]]))), ctxOnly);
  const httpsGroup = Object.keys(set).filter((k) => k.startsWith('https.') || (k === 'http.port' && set[k] === 'off'));
  const groups = [httpsGroup, ...Object.keys(set).filter((k) => !httpsGroup.includes(k)).map((k) => [k])].filter((g) => g.length > 0);
  for (const group of groups) {
    const r = valid(group);
    if (r.ok) continue;
    for (const k of group) delete set[k];
    const shown = group.some((k) => SECRET_KEYS.has(k)) ? '' : ` (${r.problems[0]})`;
    notes.push(`${group.join(', ')} from the previous layout would not be valid here: left at the default${shown}`);
  }
  if (!valid(Object.keys(set)).ok) {
    for (const k of Object.keys(set).filter((k) => k.startsWith('http.') || k.startsWith('https.'))) delete set[k];
    notes.push('the previous HTTP/HTTPS settings do not combine into a valid setup here: HTTP/HTTPS left at their defaults');
  }

  const unset = Object.keys(doc)
    .filter((k) => !ours.has(k))
    .sort();
  // An anchor password our rules refuse would make configure fail: install generates a new one.
  if (pw !== undefined && set['database-password'] === undefined) unset.push('database-password');
  if (unset.length > 0) notes.push(`keys of the previous layout removed: ${unset.join(', ')}`);
  const mapped = Object.keys(set).sort();
  if (mapped.length > 0) notes.push(`settings taken over: ${mapped.join(', ')}`);
  return { set, unset, notes };
}
