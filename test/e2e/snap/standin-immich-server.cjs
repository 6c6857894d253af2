#!/usr/bin/env node
// E2E STAND-IN for the Immich server and ML service (neither is in the e2e test snap).
// As bin/e2e-standin-immich-server (app `immich-server`): GET /api/server/ping -> {"res":"pong"}
// on IMMICH_PORT from $SNAP_DATA/etc/immich-server.env (else 3001).
// As bin/e2e-standin-immich-ml (app `immich-machine-learning`): GET /ping -> pong on IMMICH_PORT
// from $SNAP_DATA/etc/immich-ml.env (else 3003). Everything else: 404. Listens on 127.0.0.1.
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const ml = path.basename(process.argv[1] || '').includes('-ml');
const ENV_FILE = ml ? 'immich-ml.env' : 'immich-server.env';
const PING = ml ? '/ping' : '/api/server/ping';
const PONG = ml ? 'pong' : '{"res":"pong"}';

function envFile() {
  try {
    const text = fs.readFileSync(path.join(process.env.SNAP_DATA || '.', 'etc', ENV_FILE), 'utf8');
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

const port = Number(envFile().IMMICH_PORT || (ml ? 3003 : 3001));
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === PING) {
    res.writeHead(200, { 'content-type': ml ? 'text/plain' : 'application/json', 'x-e2e-standin': ml ? 'immich-ml' : 'immich-server' });
    res.end(PONG);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end(`e2e stand-in: only ${PING}\n`);
});
server.listen(port, '127.0.0.1', () => process.stderr.write(`e2e stand-in ${ml ? 'immich-ml' : 'immich-server'} listening on 127.0.0.1:${port}\n`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
