import { existsSync, readFileSync } from 'node:fs';
import { type HaproxyInput, renderHaproxyConfig } from '../haproxy/render.js';
import { hostHasIpv6 } from '../haproxy/check.js';
import type { Settings } from '../settings/schema.js';
import type { SnapPaths } from '../snap/paths.js';

/** Where each HTTPS mode's combined PEM (chain + key) lives; HAProxy reads it from there. */
export function certificateFile(paths: SnapPaths, mode: Settings['https.mode']): string | undefined {
  return mode === 'off' ? undefined : paths.certFile(mode);
}

/** lego's HTTP-01 listener, on loopback, while ACME is in use. */
export const ACME_CHALLENGE_PORT = 8402;

/** The typed HAProxy input from validated settings (pure). */
export function haproxyInput(paths: SnapPaths, s: Settings, ipv6 = hostHasIpv6()): HaproxyInput {
  // In acme mode HTTPS is served once the acme-renew service has obtained a certificate; until
  // then HAProxy serves HTTP (with the challenge route) so that lego can get one.
  const mode = s['https.mode'] === 'acme' && !existsSync(paths.certFile('acme')) ? 'off' : s['https.mode'];
  return {
    http: { port: s['http.port'], bind: s['http.bind'] },
    https: {
      mode,
      port: s['https.port'],
      redirect: s['https.redirect'],
      hsts: s['https.hsts'],
      certFile: certificateFile(paths, mode),
    },
    timeoutSeconds: s['proxy.timeout'],
    serverPort: s['internal.server-port'],
    statsPort: s['internal.stats-port'],
    acmeChallengePort: s['https.mode'] === 'acme' ? ACME_CHALLENGE_PORT : undefined,
    ipv6,
    paths: { runDir: paths.haproxyRunDir, errorPage: paths.inFiles.haproxyErrorPage },
  };
}

export function renderHaproxy(paths: SnapPaths, s: Settings): string {
  return renderHaproxyConfig(haproxyInput(paths, s));
}

/** The settings the timers act on, already validated (a timer never reads raw snap config). */
export function renderTimerSettings(s: Settings, which: 'backup' | 'acme'): string {
  const pick =
    which === 'backup'
      ? { schedule: s['backup.schedule'], keep: s['backup.keep'], location: s['backup.location'], assets: s['backup.assets'] }
      : { domain: s['https.acme.domain'], email: s['https.acme.email'], server: s['https.acme.server'], challengePort: ACME_CHALLENGE_PORT, serverCa: s['https.acme.server-ca'] };
  return `${JSON.stringify(pick, null, 2)}\n`;
}

export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
