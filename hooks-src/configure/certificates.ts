import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type CertInfo, inspectPem } from '../haproxy/certs.js';
import { UserError } from '../snap/errors.js';
import { type CommandRunner, runCommand } from '../snap/exec.js';
import { ensureDir } from '../snap/fs.js';
import { writeFileIfChanged } from '../snap/files.js';
import type { SnapPaths } from '../snap/paths.js';

/** Certificates are renewed when they expire within this many days. */
export const RENEW_BEFORE_DAYS = 30;
const DAY = 86_400_000;

function usable(file: string, now = Date.now()): boolean {
  if (!existsSync(file)) return false;
  try {
    const pem = readFileSync(file, 'utf8');
    return inspectPem(pem).notAfter.getTime() - now > RENEW_BEFORE_DAYS * DAY;
  } catch {
    return false;
  }
}

/**
 * `custom`: the person's cert (with chain) and key, checked (parseable, key matches, not expired)
 * and copied into the snap's data as one 0600 PEM for HAProxy. Returns true when it changed.
 */
export function installCustomCertificate(paths: SnapPaths, certPath: string, keyPath: string, now = Date.now()): boolean {
  let certPem: string;
  let keyPem: string;
  try {
    certPem = readFileSync(certPath, 'utf8');
    keyPem = readFileSync(keyPath, 'utf8');
  } catch (err) {
    throw new UserError(`https.cert/https.key: cannot read ${(err as NodeJS.ErrnoException).path ?? 'the files'} (${(err as NodeJS.ErrnoException).code}); give root-readable paths`);
  }
  let info: CertInfo;
  try {
    info = inspectPem(certPem, keyPem);
  } catch (err) {
    throw new UserError(`https.cert: ${certPath} ${(err as Error).message}`);
  }
  if (info.notAfter.getTime() <= now) throw new UserError(`https.cert: ${certPath} expired on ${info.notAfter.toISOString().slice(0, 10)}; give a current certificate`);
  ensureDir(paths.certsDir, 0o700);
  const pem = `${certPem.trim()}\n${keyPem.trim()}\n`;
  return writeFileIfChanged(paths.certFile('custom'), pem, 0o600);
}

/**
 * `self-signed`: generated once (EC P-256, 825 days, CN and SAN = this host's name) and reused;
 * regenerated only when it expires within RENEW_BEFORE_DAYS. Returns true when it changed.
 */
export async function ensureSelfSigned(paths: SnapPaths, run: CommandRunner = runCommand): Promise<boolean> {
  const target = paths.certFile('self-signed');
  if (usable(target)) return false;
  ensureDir(paths.certsDir, 0o700);
  const tmp = mkdtempSync(join(paths.certsDir, '.self-signed-'));
  try {
    const name = hostname().replace(/[^A-Za-z0-9.-]/g, '') || 'immich';
    const r = await run(paths.openssl, [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '825',
      '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name},DNS:localhost,IP:127.0.0.1`,
      '-keyout', join(tmp, 'key.pem'), '-out', join(tmp, 'cert.pem'),
    ]);
    if (r.exitCode !== 0) throw new UserError(`https.mode=self-signed: openssl could not make a certificate: ${r.stderr.trim().split('\n')[0] ?? ''}`);
    const pem = `${readFileSync(join(tmp, 'cert.pem'), 'utf8').trim()}\n${readFileSync(join(tmp, 'key.pem'), 'utf8').trim()}\n`;
    return writeFileIfChanged(target, pem, 0o600);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** `acme`: a usable certificate already obtained by lego (the acme-renew timer keeps it fresh). */
export function acmeCertificateUsable(paths: SnapPaths): boolean {
  return usable(paths.certFile('acme'));
}
