#!/usr/bin/env node
// E2E STAND-IN for the Immich server (the real one is not in the e2e test snap): the
// `immich-server` app runs this instead of bin/run-immich-server. It answers
// GET /api/server/ping with Immich's {"res":"pong"} and everything else with 404, on the port the
// install hook wrote to $SNAP_DATA/etc/immich-server.env (IMMICH_PORT, else 3001), on 127.0.0.1.
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

function envFile() {
  try {
    const text = fs.readFileSync(path.join(process.env.SNAP_DATA || '.', 'etc', 'immich-server.env'), 'utf8');
    const out = {};
    for (const line of text.split('\n')) {
      const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
    }
    return out;
  } catch {
    return {};
  }
}

const port = Number(envFile().IMMICH_PORT || 3001);
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/api/server/ping') {
    res.writeHead(200, { 'content-type': 'application/json', 'x-e2e-standin': 'immich-server' });
    res.end('{"res":"pong"}');
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('e2e stand-in: only /api/server/ping\n');
});
server.listen(port, '127.0.0.1', () => process.stderr.write(`e2e stand-in immich-server listening on 127.0.0.1:${port}\n`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
