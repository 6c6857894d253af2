import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { STARTING_PAGE_MAX_BYTES, startingPageResponse } from '../../../hooks-src/haproxy/page.js';
import { firstHaproxyError } from '../../../hooks-src/haproxy/check.js';
import { parseShowProc } from '../../../hooks-src/haproxy/reload.js';

const response = startingPageResponse();
const [head = '', body = ''] = response.split('\r\n\r\n', 2);

test('a complete HTTP/1.0 503 response with the headers the page needs', () => {
  const lines = head.split('\r\n');
  assert.is(lines[0], 'HTTP/1.0 503 Service Unavailable');
  assert.ok(lines.includes('Cache-Control: no-store'));
  assert.ok(lines.some((l) => /^Retry-After: \d+$/.test(l)));
  assert.ok(lines.includes('Content-Type: text/html; charset=utf-8'));
  assert.ok(lines.includes(`Content-Length: ${Buffer.byteLength(body)}`));
  assert.not.match(head, /\n(?<!\r\n)/);
});

test('fits HAProxy errorfile limits (under 8 KiB; bufsize 16 KiB - maxrewrite 1 KiB)', () => {
  const size = Buffer.byteLength(response);
  assert.ok(size < STARTING_PAGE_MAX_BYTES, `${size} bytes`);
  assert.ok(size < 16384 - 1024);
});

test('says in plain words what is happening, self-contained', () => {
  assert.match(body, /Immich is starting/);
  assert.match(body, /upgrading its database/);
  assert.match(body, /continue to Immich by itself/);
  assert.not.match(body, /(src|href)=["']?(https?:)?\/\//i);
  assert.not.match(body, /@import|url\(/);
  assert.ok(/^[\x09\x0a\x0d\x20-\x7e]*$/.test(response), 'ASCII only (no encoding surprises in the errorfile)');
});

test('polls /api/server/ping every 2 s, reloads on {"res":"pong"}; meta refresh without JS', () => {
  assert.match(body, /fetch\('\/api\/server\/ping'/);
  assert.match(body, /setTimeout\(check, 2000\)/);
  assert.match(body, /body\.res === 'pong'/);
  assert.match(body, /window\.location\.reload\(\)/);
  assert.match(body, /<noscript><meta http-equiv="refresh" content="10"><\/noscript>/);
});

test('firstHaproxyError picks the first ALERT without its prefix', () => {
  const out = `[NOTICE]   (1) : haproxy version is 2.6.12\n[ALERT]    (1) : config : parsing [/x.cfg:3] : unknown keyword 'foo'.\n[ALERT]    (1) : config : Fatal errors found in configuration.\n`;
  assert.is(firstHaproxyError(out), "config : parsing [/x.cfg:3] : unknown keyword 'foo'.");
});

test('parseShowProc reads master, current and old workers', () => {
  const text = `#<PID>          <type>          <reloads>       <uptime>        <version>
1162            master          5 [failed: 1]   0d00h02m07s     2.6.12
# workers
1271            worker          0               0d00h00m00s     2.6.12
# old workers
1233            worker          3               0d00h00m43s     2.6.12
# programs
`;
  assert.equal(parseShowProc(text), {
    master: { pid: 1162, reloads: 5, failed: 1 },
    workers: [{ pid: 1271, reloads: 0 }],
    oldWorkers: [{ pid: 1233, reloads: 3 }],
  });
});

test.run();
