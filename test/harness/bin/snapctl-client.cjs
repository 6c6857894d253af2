'use strict';
// The harness's `snapctl`: forwards argv to the fake snapd over the unix socket in
// $FAKE_SNAPD_SOCKET (one JSON line each way) and prints what the real snapctl would print.
// Plain CommonJS, no dependencies (it runs wherever the hooks run).
const net = require('node:net');

const args = process.argv.slice(2);
// cmd/snapctl: SNAP_COOKIE, or SNAP_CONTEXT for compatibility.
const cookie = process.env.SNAP_COOKIE || process.env.SNAP_CONTEXT || '';
const socketPath = process.env.FAKE_SNAPD_SOCKET || '';

function goQuote(s) {
  return JSON.stringify(s);
}

function finish(stdout, stderr, code) {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write(stdout, done);
  process.stderr.write(stderr, done);
}

if (socketPath === '') {
  if (cookie === '' && args.length > 0) {
    finish('', `error: error running snapctl: cannot invoke snapctl operation commands (here ${goQuote(args[0])}) from outside of a snap\n`, 1);
  } else {
    finish('', 'error: cannot communicate with server: FAKE_SNAPD_SOCKET is not set\n', 1);
  }
} else {
  const errnoText = {
    ENOENT: 'no such file or directory',
    ECONNREFUSED: 'connection refused',
    EACCES: 'permission denied',
    ENOTSOCK: 'socket operation on non-socket',
  };
  let buf = '';
  let answered = false;
  const sock = net.createConnection(socketPath);
  sock.setEncoding('utf8');
  sock.on('connect', () => {
    const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
    sock.write(JSON.stringify({ cookie, args, uid }) + '\n');
  });
  sock.on('data', (chunk) => {
    buf += chunk;
  });
  sock.on('error', (err) => {
    if (answered) return;
    answered = true;
    const reason = errnoText[err.code] || err.message;
    finish('', `error: cannot communicate with server: Post "http://localhost/v2/snapctl": dial unix ${socketPath}: connect: ${reason}\n`, 1);
  });
  sock.on('end', () => {
    if (answered) return;
    answered = true;
    const line = buf.split('\n')[0];
    let res;
    try {
      res = JSON.parse(line);
    } catch (e) {
      finish('', `error: cannot decode snapctl response: ${e.message}\n`, 1);
      return;
    }
    const code = Number.isInteger(res.exitCode) ? res.exitCode : 1;
    finish(typeof res.stdout === 'string' ? res.stdout : '', typeof res.stderr === 'string' ? res.stderr : '', code);
  });
}
