import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderHaproxyConfig, type HaproxyInput } from '../../../hooks-src/haproxy/render.js';
import { startingPageResponse } from '../../../hooks-src/haproxy/page.js';

const HAPROXY = '/usr/sbin/haproxy';
const dir = mkdtempSync(join(tmpdir(), 'haproxy-render-'));
const certFile = join(dir, 'cert.pem');
const errorPage = join(dir, '503.http');

function base(overrides: Partial<HaproxyInput> = {}): HaproxyInput {
  return {
    http: { port: 80, bind: '' },
    https: { mode: 'off', port: 443, redirect: true, hsts: false },
    timeoutSeconds: 600,
    serverPort: 3001,
    statsPort: 8080,
    paths: { runDir: join(dir, 'run'), errorPage },
    ...overrides,
  };
}
const https = (o: Partial<HaproxyInput['https']> = {}): HaproxyInput['https'] => ({ mode: 'self-signed', port: 443, redirect: true, hsts: false, certFile, ...o });

/** Lines of one section (`frontend http`, `backend immich` ...), without the header. */
function section(cfg: string, header: string): string[] {
  const lines = cfg.split('\n');
  const start = lines.indexOf(header);
  if (start < 0) return [];
  const out: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (!l.startsWith(' ')) break;
    out.push(l.trim());
  }
  return out;
}

test.before(() => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  writeFileSync(certFile, execFileSync('cat', [join(dir, 'c.pem'), join(dir, 'k.pem')]));
  writeFileSync(errorPage, startingPageResponse());
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('default: master-worker, stdout logs, HTTP on all addresses, no HTTPS frontend', () => {
  const cfg = renderHaproxyConfig(base());
  const g = section(cfg, 'global');
  assert.ok(g.includes('master-worker'));
  assert.ok(g.includes('log stdout format raw local0 info'));
  assert.ok(g.some((l) => /^hard-stop-after \d+h$/.test(l)));
  assert.ok(g.includes(`pidfile ${join(dir, 'run')}/haproxy.pid`));
  assert.equal(section(cfg, 'frontend http').filter((l) => l.startsWith('bind ')), ['bind :::80 v4v6']);
  assert.equal(section(cfg, 'frontend https'), []);
  assert.not.match(cfg, /redirect/);
  assert.not.match(cfg, /Strict-Transport-Security/);
});

test("HAProxy's internal HTTP client stays unused, so not loading the CA store for it changes nothing", () => {
  for (const input of [base(), base({ https: https() }), base({ https: https({ mode: 'acme' }), acmeChallengePort: 8402 })]) {
    const cfg = renderHaproxyConfig(input);
    assert.match(cfg, /^ {4}httpclient\.ssl\.verify none$/m);
    // Its only users: Lua (lua-load, lua-prepend-path), OCSP auto-update, HAProxy's own ACME client.
    assert.not.match(cfg, /lua|ocsp-update|^acme\b|httpclient\.(resolvers|ssl\.ca-file)/m);
  }
  // And without the CA store, HAProxy does not open it (the time this saves).
  const cfgFile = join(dir, 'no-ca.cfg');
  writeFileSync(cfgFile, renderHaproxyConfig(base({ http: { port: 18_099, bind: '127.0.0.1' } })));
  // strace: scripts/setup-test-env.sh installs it.
  const trace = spawnSync('strace', ['-f', '-e', 'trace=openat', HAPROXY, '-c', '-f', cfgFile], { encoding: 'utf8' });
  assert.is(trace.error, undefined, 'strace is missing: run scripts/setup-test-env.sh');
  assert.is(trace.status, 0, trace.stderr);
  assert.match(trace.stderr, /openat\(AT_FDCWD, "[^"]*no-ca\.cfg"/, 'the trace shows what HAProxy opened');
  assert.not.match(trace.stderr, /\/certs\/[^"]+\.pem/);
});

test('deterministic: same input, byte-identical output', () => {
  assert.is(renderHaproxyConfig(base({ https: https({ hsts: true }) })), renderHaproxyConfig(base({ https: https({ hsts: true }) })));
});

test('timeouts: client/server follow proxy.timeout, headers 30s, tunnel 1h, keep-alive set', () => {
  const d = section(renderHaproxyConfig(base({ timeoutSeconds: 3600 })), 'defaults');
  for (const l of ['timeout client 3600s', 'timeout server 3600s', 'timeout http-request 30s', 'timeout tunnel 1h', 'timeout http-keep-alive 60s', 'timeout connect 5s']) {
    assert.ok(d.includes(l), l);
  }
});

test('bodies are streamed: no buffering, no size limit anywhere', () => {
  for (const input of [base(), base({ https: https({ hsts: true }), acmeChallengePort: 8402 })]) {
    const cfg = renderHaproxyConfig(input);
    assert.not.match(cfg, /buffer-request/);
    assert.not.match(cfg, /req\.body_size|req_body|maxbody|max-body|tune\.bufsize|content-length/i);
    assert.not.match(cfg, /deny/);
  }
});

test('forwarded headers and health check', () => {
  const cfg = renderHaproxyConfig(base());
  assert.ok(section(cfg, 'defaults').includes('option forwardfor'));
  const fe = section(cfg, 'frontend http');
  assert.ok(fe.includes('http-request set-header X-Forwarded-Proto http'));
  assert.ok(fe.some((l) => l.startsWith('http-request set-header X-Forwarded-Host %[req.hdr(host)]')));
  const be = section(cfg, 'backend immich');
  assert.ok(be.includes('http-check send meth GET uri /api/server/ping ver HTTP/1.1 hdr Host localhost'));
  assert.ok(be.includes('http-check expect status 200'));
  assert.ok(be.some((l) => /^server immich 127\.0\.0\.1:3001 check .*rise 1\b/.test(l)));
  assert.ok(section(cfg, 'defaults').includes(`errorfile 503 ${errorPage}`));
});

test('HTTPS only (http off): one TLS frontend, proto https, no redirect', () => {
  const cfg = renderHaproxyConfig(base({ http: { port: 'off', bind: '' }, https: https() }));
  assert.equal(section(cfg, 'frontend http'), []);
  const fe = section(cfg, 'frontend https');
  assert.ok(fe.includes(`bind :::443 v4v6 ssl crt ${certFile} alpn h2,http/1.1`));
  assert.ok(fe.includes('http-request set-header X-Forwarded-Proto https'));
  assert.not.match(cfg, /redirect/);
});

test('redirect: HTTP to HTTPS except the ACME challenge; port kept only when not 443', () => {
  const r443 = section(renderHaproxyConfig(base({ https: https() })), 'frontend http').find((l) => l.includes('redirect'));
  assert.is(r443, `http-request redirect prefix "https://%[req.hdr(host),regsub(':[0-9]+(?!.)','')]" code 301 if { req.hdr(host) -m found } !acme_challenge`);
  const r8443 = section(renderHaproxyConfig(base({ https: https({ port: 8443 }) })), 'frontend http').find((l) => l.includes('redirect'));
  assert.match(r8443 ?? '', /\]:8443" code 301/);
  assert.not.match(renderHaproxyConfig(base({ https: https({ redirect: false }) })), /redirect/);
});

test('HSTS only when asked, only on the HTTPS frontend', () => {
  const on = renderHaproxyConfig(base({ https: https({ hsts: true }) }));
  assert.ok(section(on, 'frontend https').includes('http-response set-header Strict-Transport-Security "max-age=31536000"'));
  assert.not.match(section(on, 'frontend http').join('\n'), /Strict-Transport/);
  assert.not.match(renderHaproxyConfig(base({ https: https({ hsts: false }) })), /Strict-Transport/);
  // hsts with HTTPS off has no HTTPS frontend to put it on.
  assert.not.match(renderHaproxyConfig(base({ https: { mode: 'off', port: 443, redirect: true, hsts: true } })), /Strict-Transport/);
});

test('ACME: challenge path routed to lego on loopback', () => {
  const cfg = renderHaproxyConfig(base({ https: https({ mode: 'acme' }), acmeChallengePort: 8402 }));
  for (const fe of ['frontend http', 'frontend https']) {
    const s = section(cfg, fe);
    assert.ok(s.includes('acl acme_challenge path_beg /.well-known/acme-challenge/'));
    assert.ok(s.includes('use_backend acme if acme_challenge'));
  }
  assert.equal(section(cfg, 'backend acme'), ['server lego 127.0.0.1:8402']);
  assert.not.match(renderHaproxyConfig(base()), /backend acme/);
});

test('binds: IPv4 address, IPv6 address in brackets, IPv4-only host', () => {
  const v4 = renderHaproxyConfig(base({ http: { port: 8081, bind: '192.168.1.10' }, https: https({ port: 8443 }) }));
  assert.ok(section(v4, 'frontend http').includes('bind 192.168.1.10:8081'));
  assert.ok(section(v4, 'frontend https')[0]?.startsWith('bind 192.168.1.10:8443 ssl'));
  const v6 = renderHaproxyConfig(base({ http: { port: 80, bind: '2001:db8::1' } }));
  assert.ok(section(v6, 'frontend http').includes('bind [2001:db8::1]:80'));
  const noV6 = renderHaproxyConfig(base({ ipv6: false }));
  assert.ok(section(noV6, 'frontend http').includes('bind 0.0.0.0:80'));
});

test('stats: only on 127.0.0.1:<statsPort>, never on a public frontend', () => {
  const cfg = renderHaproxyConfig(base({ statsPort: 8181, https: https({ hsts: true }), acmeChallengePort: 8402 }));
  const stats = section(cfg, 'frontend stats');
  assert.equal(stats.filter((l) => l.startsWith('bind ')), ['bind 127.0.0.1:8181']);
  assert.ok(stats.includes('stats enable'));
  for (const fe of ['frontend http', 'frontend https', 'defaults', 'backend immich']) {
    assert.not.match(section(cfg, fe).join('\n'), /stats/, fe);
  }
  assert.is(cfg.split('\n').filter((l) => l.includes('stats enable')).length, 1);
});

const throws = (input: HaproxyInput, re: RegExp) => assert.throws(() => renderHaproxyConfig(input), re);

test('adversarial: bad binds throw', () => {
  for (const bind of ['127.0.0.1\n    stats enable', '0.0.0.0 ssl', '::1]', 'localhost', '127.0.0.1:80', 'fe80::1%eth0', '"', '1.2.3.4#', '${X}']) {
    throws(base({ http: { port: 80, bind } }), /http\.bind/);
  }
});

test('adversarial: bad paths throw', () => {
  for (const p of ['/tmp/a b.pem', '/tmp/"x".pem', "/tmp/'x'", '/tmp/%[env(HOME)]', 'relative.pem', '/tmp/x\nstats enable', '/tmp/../etc/passwd', '/tmp/${HOME}', '/tmp/#x', '/tmp/x\\y', '']) {
    throws(base({ https: https({ certFile: p }) }), /certificate file/);
    throws(base({ paths: { runDir: p, errorPage } }), /run directory/);
    throws(base({ paths: { runDir: dir, errorPage: p } }), /503 page/);
  }
  throws(base({ https: https({ certFile: undefined }) }), /certificate file/);
});

test('adversarial: ports, timeouts, modes, collisions', () => {
  for (const port of [0, 65536, -1, 80.5, Number.NaN, '80' as unknown as number]) {
    throws(base({ http: { port, bind: '' } }), /http\.port/);
    throws(base({ statsPort: port }), /stats port/);
    throws(base({ serverPort: port }), /server port/);
    throws(base({ https: https({ port }) }), /https\.port/);
  }
  for (const t of [0, -5, 1.5, 10 ** 9, Number.POSITIVE_INFINITY]) throws(base({ timeoutSeconds: t }), /proxy\.timeout/);
  throws(base({ https: https({ mode: 'tls' as unknown as 'off' }) }), /https\.mode/);
  throws(base({ http: { port: 'off', bind: '' } }), /nothing would listen/);
  throws(base({ statsPort: 80 }), /stats port and http\.port/);
  throws(base({ https: https({ port: 80 }) }), /https\.port and http\.port/);
  throws(base({ acmeChallengePort: 3001 }), /ACME challenge port and server port/);
});

/** Every variant the settings can produce, checked by the real HAProxy. */
const variants: Array<[string, HaproxyInput]> = [
  ['http only', base()],
  ['http on one IPv4 address', base({ http: { port: 18080, bind: '127.0.0.1' } })],
  ['http on one IPv6 address', base({ http: { port: 18080, bind: '::1' } })],
  ['http on an IPv4-only host', base({ ipv6: false })],
  ['https only', base({ http: { port: 'off', bind: '' }, https: https() })],
  ['https + redirect + hsts', base({ https: https({ hsts: true }) })],
  ['https on 8443 without redirect', base({ https: https({ port: 8443, redirect: false }) })],
  ['custom cert on IPv6', base({ http: { port: 80, bind: '::' }, https: https({ mode: 'custom' }) })],
  ['acme', base({ https: https({ mode: 'acme', hsts: true }), acmeChallengePort: 8402 })],
  ['long timeout', base({ timeoutSeconds: 86400 })],
];

const haproxyPresent = existsSync(HAPROXY);
for (const [name, input] of variants) {
  test(`haproxy -c accepts: ${name} (no warnings)`, () => {
    if (!haproxyPresent) throw new Error(`${HAPROXY} is missing (apt-get install haproxy)`);
    const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.cfg`);
    writeFileSync(file, renderHaproxyConfig(input));
    const r = spawnSync(HAPROXY, ['-c', '-f', file], { encoding: 'utf8' });
    assert.is(r.status, 0, `${r.stderr}${r.stdout}`);
    assert.not.match(r.stderr, /\[(WARNING|ALERT)\]/, r.stderr);
  });
}

test.run();
