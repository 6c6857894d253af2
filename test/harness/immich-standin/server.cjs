// STAND-IN for the Immich server, used only by the harness (Immich itself is not built here).
// It answers what HAProxy, check-health and the tests look at, from the environment the snap
// renders: IMMICH_HOST/IMMICH_PORT, /api/server/ping, /api/server/version, uploads and downloads.
// STANDIN_START_DELAY_MS simulates a slow start (database migrations).
const http = require('node:http');

const host = process.env.IMMICH_HOST || '127.0.0.1';
const port = Number(process.env.IMMICH_PORT || 2283);
const required = ['IMMICH_MEDIA_LOCATION', 'IMMICH_BUILD_DATA', 'DB_DATABASE_NAME', 'REDIS_SOCKET'];
const missing = required.filter((k) => !process.env[k]);
if (missing.length) {
  process.stderr.write(`immich stand-in: missing environment: ${missing.join(', ')}\n`);
  process.exit(1);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/api/server/ping') return json(res, { res: 'pong' });
  if (url.pathname === '/api/server/version') return json(res, { major: 3, minor: 1, patch: 0 });
  if (url.pathname === '/api/standin/upload' && req.method === 'POST') {
    let bytes = 0;
    req.on('data', (c) => (bytes += c.length));
    req.on('end', () => json(res, { bytes }));
    return;
  }
  if (url.pathname === '/api/standin/download') {
    const n = Number(url.searchParams.get('bytes') || 0);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
    const chunk = Buffer.alloc(64 * 1024, 97);
    let left = n;
    const pump = () => {
      while (left > 0) {
        const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= part.length;
        if (!res.write(part)) return res.once('drain', pump);
      }
      res.end();
    };
    return pump();
  }
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><title>Immich</title><h1>Immich stand-in</h1>');
});

function json(res, body) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

setTimeout(() => {
  server.listen(port, host, () => process.stdout.write(`Immich Server is listening on ${host}:${port} [stand-in]\n`));
}, Number(process.env.STANDIN_START_DELAY_MS || 0));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
