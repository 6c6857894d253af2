/**
 * The "Immich is starting" page: the complete HTTP response HAProxy sends (`errorfile 503`) while
 * the Immich server is not answering its health check (first start, restart, database migrations
 * after a refresh). Self-contained: no external resource, works without JavaScript (meta refresh),
 * and with JavaScript polls /api/server/ping every 2 s and reloads once Immich answers.
 *
 * HAProxy serves an errorfile from one buffer: the whole response must stay below tune.bufsize
 * (16 KiB) minus tune.maxrewrite (1 KiB). We keep it well under 8 KiB (a test asserts it).
 */

/** Must stay below HAProxy's usable buffer (16384 - 1024 bytes by default). */
export const STARTING_PAGE_MAX_BYTES = 8 * 1024;

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<noscript><meta http-equiv="refresh" content="10"></noscript>
<meta name="robots" content="noindex">
<title>Immich is starting</title>
<style>
:root { color-scheme: light dark; }
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #f6f7fb; color: #1f2937; }
main { max-width: 34rem; margin: 1.5rem; padding: 2rem 2.25rem; background: #fff; border-radius: 1rem;
  box-shadow: 0 4px 24px rgba(0,0,0,.08); text-align: center; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
p { line-height: 1.5; margin: .75rem 0; }
.small { font-size: .875rem; color: #6b7280; }
.spinner { width: 2.5rem; height: 2.5rem; margin: 0 auto; border-radius: 50%;
  border: .3rem solid #dbe3ff; border-top-color: #4250af; animation: spin 1s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .spinner { animation: none; } }
@media (prefers-color-scheme: dark) {
  body { background: #111827; color: #e5e7eb; }
  main { background: #1f2937; box-shadow: none; }
  .small { color: #9ca3af; }
  .spinner { border-color: #374151; border-top-color: #adcbfa; }
}
</style>
</head>
<body>
<main>
<div class="spinner" aria-hidden="true"></div>
<h1>Immich is starting</h1>
<p>The Immich server is starting, or upgrading its database after an update.
This usually takes less than a minute; a large library can take a few minutes.</p>
<p>This page will continue to Immich by itself as soon as it is ready. Your photos are safe.</p>
<p class="small" id="status" role="status" aria-live="polite">Checking again every few seconds&hellip;</p>
<noscript><p class="small">This page reloads itself every 10 seconds.</p></noscript>
</main>
<script>
(function () {
  var status = document.getElementById('status');
  var tries = 0;
  function check() {
    tries++;
    fetch('/api/server/ping', { cache: 'no-store', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (body && body.res === 'pong') {
          status.textContent = 'Immich is ready. Opening it now\\u2026';
          window.location.reload();
        } else { later(); }
      })
      .catch(later);
  }
  function later() {
    status.textContent = 'Still starting (checked ' + tries + (tries === 1 ? ' time' : ' times') + ')\\u2026';
    setTimeout(check, 2000);
  }
  setTimeout(check, 2000);
})();
</script>
</body>
</html>
`;

/** The full HTTP/1.0 response for HAProxy's errorfile (CRLF header lines, then the HTML body). */
export function startingPageResponse(): string {
  const body = html;
  const headers = [
    'HTTP/1.0 503 Service Unavailable',
    'Content-Type: text/html; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Retry-After: 10',
    'Connection: close',
  ];
  return `${headers.join('\r\n')}\r\n\r\n${body}`;
}
