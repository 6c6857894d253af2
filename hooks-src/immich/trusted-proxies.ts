/**
 * IMMICH_TRUSTED_PROXIES from `proxy.trusted-proxies` (pure).
 *
 * Immich accepts in this variable only IP addresses and CIDRs, and treats an unset or empty value
 * as its default `linklocal,uniquelocal` — which trusts the X-Forwarded-For of every client on a
 * home LAN (docs/upstream/immich-runtime.md, "environment validation"). So the snap
 *  - expands the names people know from Express/proxy-addr (`loopback`, `linklocal`,
 *    `uniquelocal`) into the CIDRs proxy-addr gives them, and
 *  - always renders a non-empty value that starts with loopback (HAProxy connects from 127.0.0.1),
 *    so "no proxy beyond HAProxy" is said explicitly and Immich's LAN default never applies.
 */

/** proxy-addr 2.0.7 `IP_RANGES` (the names Express' `trust proxy` understands), as network CIDRs. */
export const PROXY_NAME_RANGES = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
} as const;

export type ProxyName = keyof typeof PROXY_NAME_RANGES;

function isProxyName(s: string): s is ProxyName {
  return Object.prototype.hasOwnProperty.call(PROXY_NAME_RANGES, s);
}

/**
 * The rendered value: loopback first, then each entry (a name expanded to its CIDRs), duplicates
 * dropped, order kept. Entries are already validated by the settings schema.
 */
export function renderTrustedProxies(entries: readonly string[]): string {
  const out: string[] = [...PROXY_NAME_RANGES.loopback];
  for (const e of entries) {
    for (const item of isProxyName(e) ? PROXY_NAME_RANGES[e] : [e]) {
      if (!out.includes(item)) out.push(item);
    }
  }
  return out.join(',');
}
