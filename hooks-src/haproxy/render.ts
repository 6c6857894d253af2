import { isIP } from 'node:net';

/**
 * HAProxy configuration from typed, already-validated settings (SPEC §3 configure, §5, §6).
 *
 * PURE: no I/O, byte-identical output for the same input. Every value that reaches the file is
 * re-checked here (ports are integers in range, addresses are IPs, paths use a small safe
 * alphabet) and the renderer THROWS rather than emit a line it cannot vouch for: a value from
 * `snap set` must never be able to add a directive.
 */
export interface HaproxyInput {
  http: {
    port: number | 'off';
    /** '' = all addresses (IPv4 and IPv6), else one IPv4 or IPv6 address. */
    bind: string;
  };
  https: {
    mode: 'off' | 'self-signed' | 'custom' | 'acme';
    port: number;
    /** Redirect HTTP to HTTPS (never the ACME HTTP-01 challenge path). */
    redirect: boolean;
    hsts: boolean;
    /** PEM holding certificate chain and key, under $SNAP_COMMON/certs; required unless mode is off. */
    certFile?: string;
  };
  /** proxy.timeout: client/server inactivity timeout, in seconds. */
  timeoutSeconds: number;
  /** Immich server on 127.0.0.1 (default 3001). */
  serverPort: number;
  /** HAProxy stats page, 127.0.0.1 only (default 8080). */
  statsPort: number;
  /** lego's HTTP-01 listener on 127.0.0.1 while ACME is in use. */
  acmeChallengePort?: number;
  /**
   * false when the host has no IPv6 (kernel booted with ipv6.disable=1): "all addresses" then binds
   * 0.0.0.0 only, because an IPv6 wildcard bind would stop HAProxy from starting. Default true.
   */
  ipv6?: boolean;
  paths: {
    /** Directory for the pid file (the master CLI socket is given on the command line). */
    runDir: string;
    /** The complete HTTP 503 response served while Immich starts or migrates (page.ts). */
    errorPage: string;
  };
}

/** Longest accepted proxy.timeout: HAProxy timeouts are 32-bit milliseconds (~24.8 days). */
export const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;
/** Old workers get this long after a reload to finish their transfers (multi-GB uploads). */
export const HARD_STOP_AFTER = '6h';
/** Time allowed to receive a request's headers (not its body: bodies are streamed). */
export const HTTP_REQUEST_TIMEOUT = '30s';
/** Websocket (and other upgraded) connections may stay idle this long. */
export const TUNNEL_TIMEOUT = '1h';
export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

export class HaproxyRenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HaproxyRenderError';
  }
}

function fail(message: string): never {
  throw new HaproxyRenderError(`haproxy config: ${message}`);
}

export function checkPort(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    fail(`${name} must be an integer from 1 to 65535, got ${describe(value)}`);
  }
  return value;
}

/** '' or a plain IPv4/IPv6 address (no zone id, no brackets, no port). */
export function checkBind(name: string, value: unknown): string {
  if (typeof value !== 'string') fail(`${name} must be a string, got ${describe(value)}`);
  if (value === '') return value;
  if (!/^[0-9A-Fa-f.:]{2,45}$/.test(value) || isIP(value) === 0) {
    fail(`${name} must be an IPv4 or IPv6 address, got ${describe(value)}`);
  }
  return value;
}

/** An absolute path made of [A-Za-z0-9/._-] only, with no `.` or `..` component. */
export function checkPath(name: string, value: unknown): string {
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9/._-]{1,4000}$/.test(value)) {
    fail(`${name} must be an absolute path of letters, digits and / . _ -, got ${describe(value)}`);
  }
  if (value.split('/').some((c) => c === '.' || c === '..')) fail(`${name} must not contain . or .. components, got ${describe(value)}`);
  return value;
}

function describe(value: unknown): string {
  const s = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** `bind` address part: `[addr]:port`, `addr:port`, or the all-addresses form. */
function bindAddress(bind: string, port: number, ipv6: boolean): string {
  if (bind === '') return ipv6 ? `:::${port} v4v6` : `0.0.0.0:${port}`;
  return isIP(bind) === 6 ? `[${bind}]:${port}` : `${bind}:${port}`;
}

/** Ports must not collide with each other: two listeners on one port would fail at bind time. */
function checkDistinct(ports: Array<[string, number | undefined]>): void {
  const seen = new Map<number, string>();
  for (const [name, port] of ports) {
    if (port === undefined) continue;
    const other = seen.get(port);
    if (other) fail(`${name} and ${other} are both ${port}; each listener needs its own port`);
    seen.set(port, name);
  }
}

export function renderHaproxyConfig(input: HaproxyInput): string {
  const httpPort = input.http.port === 'off' ? undefined : checkPort('http.port', input.http.port);
  const bind = checkBind('http.bind', input.http.bind);
  const mode = input.https.mode;
  if (!['off', 'self-signed', 'custom', 'acme'].includes(mode)) fail(`https.mode must be off, self-signed, custom or acme, got ${describe(mode)}`);
  const httpsOn = mode !== 'off';
  const httpsPort = httpsOn ? checkPort('https.port', input.https.port) : undefined;
  const certFile = httpsOn ? checkPath('https certificate file', input.https.certFile) : undefined;
  if (typeof input.https.redirect !== 'boolean') fail('https.redirect must be true or false');
  if (typeof input.https.hsts !== 'boolean') fail('https.hsts must be true or false');
  const timeout = input.timeoutSeconds;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > MAX_TIMEOUT_SECONDS) {
    fail(`proxy.timeout must be a whole number of seconds from 1 to ${MAX_TIMEOUT_SECONDS}, got ${describe(timeout)}`);
  }
  const serverPort = checkPort('server port', input.serverPort);
  const statsPort = checkPort('stats port', input.statsPort);
  const acmePort = input.acmeChallengePort === undefined ? undefined : checkPort('ACME challenge port', input.acmeChallengePort);
  const ipv6 = input.ipv6 ?? true;
  if (typeof ipv6 !== 'boolean') fail('ipv6 must be true or false');
  const runDir = checkPath('run directory', input.paths.runDir);
  const errorPage = checkPath('503 page', input.paths.errorPage);
  if (httpPort === undefined && !httpsOn) fail('http.port is off and https.mode is off: nothing would listen');
  checkDistinct([
    ['http.port', httpPort],
    ['https.port', httpsPort],
    ['server port', serverPort],
    ['stats port', statsPort],
    ['ACME challenge port', acmePort],
  ]);

  const redirect = httpsOn && input.https.redirect;
  const httpsSuffix = httpsPort === 443 ? '' : `:${httpsPort}`;
  const lines: string[] = [];
  const add = (...l: string[]) => lines.push(...l);

  add(
    '# Rendered by immich-distribution from its snap settings. Do not edit: it is rewritten on every',
    '# `snap set`; change settings with `sudo snap set immich-distribution KEY=VALUE` instead.',
    '',
    'global',
    '    master-worker',
    // Started with -W -db -S <run dir>/master.sock by run-haproxy; logs go to the journal via stdout.
    `    pidfile ${runDir}/haproxy.pid`,
    '    log stdout format raw local0 info',
    '    maxconn 4096',
    // A reload leaves old workers running until their transfers end (uploads of several GB);
    // this bounds how long, and mworker-max-reloads bounds how many pile up.
    `    hard-stop-after ${HARD_STOP_AFTER}`,
    '    mworker-max-reloads 50',
    // HAProxy's internal HTTP client serves Lua scripts and OCSP auto-update only, and this config
    // uses neither (test/unit/haproxy/render.test.ts keeps it so). Left at its default
    // (`@system-ca`, verify required) it reads the system's whole CA store (about 145 files here)
    // at every start: each `haproxy -c`, each reload's re-executed master. Not loading it takes
    // about 25 ms off each (HAProxy 2.6 here; the keyword exists in 2.6 and 2.8).
    '    httpclient.ssl.verify none',
    '    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets',
    '    ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305',
    '    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256',
    '',
    'defaults',
    '    mode http',
    '    log global',
    // One line per failed or aborted request; successful ones are not logged (photo libraries make
    // thousands of thumbnail requests).
    '    option httplog',
    '    option dontlog-normal',
    '    option forwardfor',
    // On a reload, idle keep-alive connections get "Connection: close" on their next response
    // instead of being closed under a client that may be sending a request at that moment.
    '    option idle-close-on-response',
    '    timeout connect 5s',
    `    timeout client ${timeout}s`,
    `    timeout server ${timeout}s`,
    // Headers only: request bodies are streamed to Immich as they arrive, never buffered or limited.
    `    timeout http-request ${HTTP_REQUEST_TIMEOUT}`,
    '    timeout http-keep-alive 60s',
    `    timeout tunnel ${TUNNEL_TIMEOUT}`,
    '    timeout client-fin 30s',
    '    timeout queue 30s',
    '    timeout check 5s',
    '    retries 3',
    `    errorfile 503 ${errorPage}`,
  );

  // acl first, then redirect and header rules, then backend selection (the order HAProxy runs them).
  const frontend = (proto: 'http' | 'https', port: number, tls: string): void => {
    add('', `frontend ${proto}`, `    bind ${bindAddress(bind, port, ipv6)}${tls}`);
    add(`    acl acme_challenge path_beg ${ACME_CHALLENGE_PREFIX}`);
    if (proto === 'http' && redirect) {
      // Keep the host the client used, drop its port (IPv6 literals keep their brackets), add ours.
      // The ACME HTTP-01 challenge is never redirected.
      add(
        `    http-request redirect prefix "https://%[req.hdr(host),regsub(':[0-9]+(?!.)','')]${httpsSuffix}" code 301 if { req.hdr(host) -m found } !acme_challenge`,
      );
    }
    add(
      `    http-request set-header X-Forwarded-Proto ${proto}`,
      '    http-request set-header X-Forwarded-Host %[req.hdr(host)] if { req.hdr(host) -m found }',
    );
    if (proto === 'https' && input.https.hsts) add('    http-response set-header Strict-Transport-Security "max-age=31536000"');
    if (acmePort !== undefined) add('    use_backend acme if acme_challenge');
    add('    default_backend immich');
  };

  if (httpPort !== undefined) frontend('http', httpPort, '');
  if (httpsPort !== undefined && certFile !== undefined) frontend('https', httpsPort, ` ssl crt ${certFile} alpn h2,http/1.1`);

  add(
    '',
    'backend immich',
    // Up as soon as one ping answers; until then (start, database migrations) clients get the
    // "Immich is starting" page, which polls the same endpoint and moves on by itself.
    '    option httpchk',
    '    http-check send meth GET uri /api/server/ping ver HTTP/1.1 hdr Host localhost',
    '    http-check expect status 200',
    `    server immich 127.0.0.1:${serverPort} check inter 5s fastinter 1s downinter 1s rise 1 fall 3`,
  );

  if (acmePort !== undefined) {
    add('', 'backend acme', `    server lego 127.0.0.1:${acmePort}`);
  }

  add(
    '',
    // Loopback only, never reachable through the public frontends (SPEC §6).
    'frontend stats',
    `    bind 127.0.0.1:${statsPort}`,
    '    stats enable',
    '    stats uri /',
    '    stats refresh 10s',
    '    stats hide-version',
    '',
  );

  const text = lines.join('\n');
  // Last line of defence: nothing but printable ASCII and newlines, whatever changed above.
  if (!/^[\x20-\x7e\n]*$/.test(text)) fail('rendered text contains a control or non-ASCII character');
  return text;
}
