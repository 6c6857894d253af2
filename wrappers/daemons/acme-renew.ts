import { runEntry } from '../../hooks-src/snap/main.js';

/**
 * The acme-renew timer app (snapcraft.yaml: oneshot, twice a day; the configure hook also runs it
 * once, through `snapctl restart`, when https.mode becomes acme or an https.acme.* key changes).
 *
 * Does nothing unless the applied settings say https.mode=acme. Otherwise it obtains a certificate
 * with lego (HTTP-01: HAProxy routes /.well-known/acme-challenge/ to lego's listener on
 * 127.0.0.1:<challenge port>) when there is none, when it is not for the configured domain, or when
 * it expires within 30 days; writes the combined PEM HAProxy reads (0600, atomically); re-renders
 * haproxy.cfg (in acme mode HTTPS is rendered only once the certificate exists) and reloads HAProxy
 * gracefully (master-worker reload: same master, no connection dropped).
 *
 * A failure exits 1 with one line and leaves the previous certificate, haproxy.cfg and the running
 * HAProxy as they were.
 *
 * `--force`: obtain a new certificate now even if the current one is not due (tests; a person who
 * wants a fresh certificate: `sudo snap run immich-distribution.acme-renew --force`).
 *
 * The reload goes straight to HAProxy's master CLI (what the haproxy app's reload-command does),
 * not through `snapctl restart --reload`: when the configure hook asks for this run, snapd runs it
 * inside the configure change, and a service command from an app would conflict with that change
 * ("has a change in progress").
 */
// Its work is in steps/acme-renew.ts, loaded only past --help (docs/startup.md).
runEntry({
  name: 'acme-renew',
  usage:
    'usage: acme-renew [--force]\n' +
    '  Obtains or renews the https.mode=acme certificate with lego when it is missing or expires\n' +
    '  within 30 days, then reloads HAProxy gracefully. Run twice a day by snapd.\n' +
    '  --force  obtain a new certificate now even if the current one is not due\n',
  run: async (argv) => (await import('./steps/acme-renew.js')).acmeRenew(argv),
});
