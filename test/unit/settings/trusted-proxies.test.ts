// `proxy.trusted-proxies` accepts exactly what Immich accepts in IMMICH_TRUSTED_PROXIES (after the
// snap writes names out as CIDRs): every entry that the settings schema lets through must pass
// Immich's check — validator.js `isIPRange(item) || isIP(item)` (docs/upstream/immich-runtime.md
// §1.3; validator 13.15.15, the version of Immich's lockfile) — and nothing Immich accepts is
// refused. Checked over a corpus of addresses, ranges and near-misses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import validator from 'validator';
import { renderTrustedProxies } from '../../../hooks-src/immich/trusted-proxies.js';
import { validateSettings } from '../../../hooks-src/settings/validate.js';
import { ctx } from './fixtures.js';

/**
 * Accepted by Immich, refused by the snap on purpose: an IPv6 zone index (`%eth0`) names an
 * interface of the proxy's host, is meaningless in a trust list, and `%` is kept out of settings.
 */
const REFUSED_BY_DESIGN = new Set(['fe80::1%eth0']);

const immichAccepts = (item: string): boolean => validator.isIPRange(item) || validator.isIP(item);

function snapAccepts(entry: string): string[] | undefined {
  const r = validateSettings({ 'proxy.trusted-proxies': entry }, ctx);
  return r.ok ? (r.settings['proxy.trusted-proxies'] as string[]) : undefined;
}

const CORPUS = [
  '1.2.3.4', '0.0.0.0', '255.255.255.255', '10.0.0.0/8', '10.0.0.0/0', '10.0.0.1/32', '192.168.1.0/24',
  '127.0.0.1/8', '172.16.0.0/12', '2001:db8::/32', '::1', '::1/128', '::/0', 'fe80::/10', 'fc00::/7',
  '::ffff:127.0.0.1', '::ffff:10.0.0.0/104', 'fe80::1%eth0', '2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001',
  // near-misses
  '10.0.0.0/33', '10.0.0.0/024', '10.0.0.0/08', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/1.5', '::/129', '::/0128',
  '010.0.0.1', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.4/8/9', 'a.b.c.d', '2001:db8::g', ':::1', '1.2.3.4 ', 'localhost',
  '10.0.0.0/8 ', '[::1]', '::1]',
];

test('every entry the settings accept passes Immich\'s check once rendered, and every address Immich accepts is accepted', () => {
  for (const e of CORPUS) {
    const accepted = snapAccepts(e);
    const trimmed = e.trim();
    if (accepted) {
      for (const item of renderTrustedProxies(accepted).split(',')) {
        assert.ok(immichAccepts(item), `the snap accepts ${JSON.stringify(e)}, but Immich would refuse ${JSON.stringify(item)}`);
      }
    } else if (!REFUSED_BY_DESIGN.has(e)) {
      assert.not.ok(immichAccepts(trimmed), `Immich accepts ${JSON.stringify(e)}, but the snap refuses it`);
    }
  }
});

test('names are refused by Immich and written out as CIDRs by the snap', () => {
  for (const name of ['loopback', 'linklocal', 'uniquelocal']) {
    assert.not.ok(immichAccepts(name), `Immich accepts ${name}?`);
    const accepted = snapAccepts(name);
    assert.ok(accepted, `the snap refuses ${name}`);
    const rendered = renderTrustedProxies(accepted).split(',');
    assert.ok(rendered.every(immichAccepts), rendered.join(','));
  }
});

test.run();
