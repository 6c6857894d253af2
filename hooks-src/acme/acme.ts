import { X509Certificate } from 'node:crypto';
import { inspectPem } from '../haproxy/certs.js';
import * as z from 'zod';

/**
 * Pure pieces of the acme-renew timer (wrappers/daemons/acme-renew.ts): the lego command line,
 * the renewal decision, and the combined PEM HAProxy reads. No I/O here.
 */

/** Certificates are renewed when they expire within this many days (Let's Encrypt's advice). */
export const ACME_RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86_400_000;

/** The validated settings the timer acts on (paths.acmeSettings, written by the configure hook). */
export interface AcmeSettings {
  domain: string;
  email: string;
  /** ACME directory URL (https). */
  server: string;
  /** lego's HTTP-01 listener port on 127.0.0.1; HAProxy routes /.well-known/acme-challenge/ there. */
  challengePort: number;
  /** Extra CA for the ACME server's own HTTPS (a private CA, pebble); '' = system CAs. */
  serverCa: string;
}

const AcmeSettingsSchema = z.object({
  domain: z.string().regex(/^[a-z0-9.-]{1,253}$/),
  email: z.string().min(3).max(254),
  server: z.string().startsWith('https://'),
  challengePort: z.number().int().min(1).max(65535),
  serverCa: z.string().default(''),
});

/** Parses paths.acmeSettings; throws an Error with one line when it is not what configure writes. */
export function parseAcmeSettings(json: string): AcmeSettings {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new Error('is not JSON');
  }
  const r = AcmeSettingsSchema.safeParse(doc);
  if (!r.success) throw new Error(`has an invalid ${r.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  return r.data;
}

export type LegoAction = 'run' | 'renew';

/**
 * lego's arguments. `run` registers the account if needed and obtains a certificate; `renew`
 * renews the one lego already holds for the domain when it expires within `days` (our timer
 * already spreads its runs, hence --no-random-sleep).
 */
export function legoArgs(s: AcmeSettings, acmeDir: string, action: LegoAction, days = ACME_RENEW_BEFORE_DAYS): string[] {
  const args = [
    '--accept-tos',
    '--server', s.server,
    '--email', s.email,
    '--domains', s.domain,
    '--key-type', 'ec256',
    '--http',
    '--http.port', `127.0.0.1:${s.challengePort}`,
    '--path', acmeDir,
    action,
  ];
  if (action === 'renew') args.push('--days', String(days), '--no-random-sleep');
  return args;
}

/** lego's environment additions: the extra CA for the ACME server, if any. */
export function legoEnv(s: AcmeSettings): Record<string, string> {
  return s.serverCa === '' ? {} : { LEGO_CA_CERTIFICATES: s.serverCa };
}

/** Where lego keeps the certificate of a domain under its --path (lego's sanitizedDomain). */
export function legoCertificateFiles(acmeDir: string, domain: string): { cert: string; key: string } {
  const name = domain.replace(/\*/g, '_');
  return { cert: `${acmeDir}/certificates/${name}.crt`, key: `${acmeDir}/certificates/${name}.key` };
}

export interface CertFacts {
  notAfter: Date;
  /** True when the certificate is valid for the domain (SAN, wildcard rules of X509Certificate.checkHost). */
  coversDomain: boolean;
  issuer: string;
}

/** Facts about the first certificate of a PEM; undefined when it does not parse. */
export function certFacts(pem: string, domain: string): CertFacts | undefined {
  try {
    const cert = new X509Certificate(pem);
    return { notAfter: new Date(cert.validTo), coversDomain: cert.checkHost(domain) !== undefined, issuer: cert.issuer };
  } catch {
    return undefined;
  }
}

export type Decision =
  | { action: 'none'; why: string }
  /** lego already holds a good certificate that HAProxy does not serve yet: install it, no ACME call. */
  | { action: 'install'; why: string }
  | { action: 'obtain'; lego: LegoAction; why: string };

/**
 * What the timer does now.
 * - installed: the combined PEM HAProxy serves (undefined when absent);
 * - held: lego's own certificate for the domain (undefined when lego has none);
 * - force: renew even though nothing is due (tests, or a person who wants a fresh certificate).
 */
export function decide(opts: { now: number; domain: string; installed?: string; held?: string; force?: boolean; renewBeforeDays?: number }): Decision {
  const margin = (opts.renewBeforeDays ?? ACME_RENEW_BEFORE_DAYS) * DAY_MS;
  const fresh = (f: CertFacts | undefined): boolean => f !== undefined && f.coversDomain && f.notAfter.getTime() - opts.now > margin;
  const installed = opts.installed === undefined ? undefined : certFacts(opts.installed, opts.domain);
  const held = opts.held === undefined ? undefined : certFacts(opts.held, opts.domain);
  const heldUsable = held !== undefined && held.coversDomain;
  if (opts.force) {
    // `run` obtains a new certificate unconditionally (renew would skip one that is not due).
    return { action: 'obtain', lego: 'run', why: 'renewal forced' };
  }
  if (installed && fresh(installed)) return { action: 'none', why: `the certificate for ${opts.domain} is valid until ${day(installed.notAfter)}` };
  if (held && fresh(held)) return { action: 'install', why: `lego holds a certificate for ${opts.domain} valid until ${day(held.notAfter)} that is not served yet` };
  if (held && heldUsable) return { action: 'obtain', lego: 'renew', why: `the certificate for ${opts.domain} expires on ${day(held.notAfter)}` };
  if (installed === undefined) return { action: 'obtain', lego: 'run', why: `no certificate for ${opts.domain} yet` };
  if (!installed.coversDomain) return { action: 'obtain', lego: 'run', why: `the served certificate is not for ${opts.domain}` };
  return { action: 'obtain', lego: 'run', why: `the certificate for ${opts.domain} expires on ${day(installed.notAfter)}` };
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/**
 * The PEM HAProxy reads (`crt`): lego's certificate bundle (leaf first, then its issuers) followed
 * by the private key. Checked: parseable, the key is the leaf's, the leaf covers the domain and is
 * not expired. Throws an Error whose message is one line.
 */
export function combinedPem(certBundle: string, keyPem: string, domain: string, now: number): string {
  let cert: X509Certificate;
  try {
    ({ cert } = inspectPem(certBundle, keyPem));
  } catch (err) {
    throw new Error(`lego left a certificate that ${(err as Error).message.replace(/^the key /, 'has a key that ')}`);
  }
  if (cert.checkHost(domain) === undefined) throw new Error(`lego's certificate is not valid for ${domain}`);
  if (new Date(cert.validTo).getTime() <= now) throw new Error(`lego's certificate expired on ${day(new Date(cert.validTo))}`);
  const blocks = certBundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const keyBlock = keyPem.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/)?.[0];
  if (blocks.length === 0 || keyBlock === undefined) throw new Error('lego left files without PEM blocks');
  return `${[...blocks, keyBlock].join('\n')}\n`;
}

/**
 * One line from lego's output for an error message: its last error line, without timestamps.
 * lego logs `2024/01/01 00:00:00 [ERROR] …` or ends with `… error: …` / `Could not obtain …`.
 */
export function legoFailureLine(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.replace(/^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} /, '').trim())
    .filter((l) => l !== '');
  const pick =
    [...lines].reverse().find((l) => /\[ERROR\]|error:|Could not obtain|acme: /i.test(l) && !/^\[INFO\]/.test(l)) ??
    lines[lines.length - 1] ??
    'lego failed without a message';
  return pick.replace(/\s+/g, ' ').slice(0, 400);
}
