// The sandbox's `snap` client: sends argv to the sandbox over its control socket. For `run`, the
// sandbox answers with the app's command and environment and the client runs it here, with the
// terminal attached (so `immich-distribution.psql` is interactive).
const net = require('node:net');
const { spawn } = require('node:child_process');

const socket = process.env.SANDBOX_CONTROL;
const sock = net.connect(socket);
let buf = '';
sock.on('error', (e) => {
  process.stderr.write(`error: the sandbox is not running (${e.code || e.message}); start it with npm run sandbox\n`);
  process.exit(1);
});
sock.on('connect', () => sock.write(JSON.stringify({ args: process.argv.slice(2) }) + '\n'));
sock.on('data', (d) => (buf += d));
sock.on('end', () => {
  const res = JSON.parse(buf);
  if (res.exec) {
    const child = spawn(res.exec.file, res.exec.args, { env: res.exec.env, cwd: res.exec.cwd, stdio: 'inherit' });
    child.on('exit', (code, signal) => process.exit(signal ? 128 : code ?? 1));
    return;
  }
  process.stdout.write(res.stdout);
  process.stderr.write(res.stderr);
  process.exit(res.exitCode);
});
