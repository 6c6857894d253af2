import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { builtDoubles } from './built.js';

/** The real interpreter behind `python3` (not a pyenv shim script): what the snap ships as python3. */
function hostPython3(): string {
  const found = spawnSync('python3', ['-c', 'import os, sys; print(os.path.realpath(sys.executable))'], { encoding: 'utf8' });
  if (found.status !== 0) throw new Error(`python3 not found: ${found.stderr}`);
  return found.stdout.trim();
}

/** A free port in 55000-55999 (the range this machine's other test runs leave alone). */
async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 55000 + Math.floor(Math.random() * 1000);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 55000-55999');
}

const work = mkdtempSync(join(tmpdir(), 'immich-ml-double-'));
const python3 = hostPython3();
/** Only a python3 (symlink): no `python` anywhere on this PATH. */
const onlyPython3 = join(work, 'only-python3');
/** A `python` of its own (a copy of the interpreter, so /proc/<pid>/exe tells which one ran). */
const withPython = join(work, 'with-python');
mkdirSync(onlyPython3);
mkdirSync(withPython);
symlinkSync(python3, join(onlyPython3, 'python3'));
copyFileSync(python3, join(withPython, 'python'));

const started: ChildProcess[] = [];

async function mlEnv(path: string, host: string, port: number): Promise<NodeJS.ProcessEnv> {
  const ml = join(await builtDoubles(), 'usr/lib/immich/machine-learning');
  return {
    PATH: path,
    HOME: work,
    PYTHONPATH: [ml, join(ml, 'site-packages')].join(':'),
    PYTHONDONTWRITEBYTECODE: '1',
    IMMICH_HOST: host,
    IMMICH_PORT: String(port),
    IMMICH_LOG_LEVEL: 'info',
    MACHINE_LEARNING_CACHE_FOLDER: join(work, 'cache'),
    MACHINE_LEARNING_WORKERS: '1',
    NO_COLOR: 'true',
  };
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return new RegExp(`^PPid:\\s*${pid}$`, 'm').test(readFileSync(`/proc/${d}/status`, 'utf8'));
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await Promise.resolve(fn()).catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

test.after(async () => {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      // the process group of the python we started (it and its gunicorn child)
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  rmSync(work, { recursive: true, force: true });
});

test('without a `python` on PATH, `python3 -m immich_ml` fails: it re-runs the literal name "python"', async () => {
  const result = spawnSync('python3', ['-m', 'immich_ml'], { env: await mlEnv(onlyPython3, '127.0.0.1', await freePort()), encoding: 'utf8', timeout: 20_000 });
  assert.is.not(result.status, 0);
  assert.match(result.stderr, "No such file or directory: 'python'");
});

test('with `python` first on PATH it serves /ping through the gunicorn stand-in; SIGINT is forwarded', async () => {
  const port = await freePort();
  const env = await mlEnv([withPython, onlyPython3].join(':'), '127.0.0.1', port);
  let stderr = '';
  const parent = spawn('python3', ['-m', 'immich_ml'], { env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(parent);
  parent.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));

  const ping = await until('GET /ping', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/ping`);
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  });
  assert.equal(ping, { status: 200, type: 'text/plain; charset=utf-8', body: 'pong' });
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).json(), { message: 'Immich ML' });

  const [child] = childrenOf(parent.pid!);
  assert.ok(child, 'the gunicorn process is a child of python3 -m immich_ml');
  // The re-exec went through PATH's `python`, not sys.executable:
  assert.is(readlinkSync(`/proc/${child}/exe`), join(withPython, 'python'));
  assert.is(readlinkSync(`/proc/${parent.pid}/exe`), python3);
  const argv = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const ml = join(await builtDoubles(), 'usr/lib/immich/machine-learning');
  assert.equal(argv, [
    'python', '-m', 'gunicorn', 'immich_ml.main:app', '-k', 'immich_ml.config.CustomUvicornWorker',
    '-c', join(ml, 'immich_ml/gunicorn_conf.py'), '-b', `127.0.0.1:${port}`, '-w', '1', '-t', '300',
    '--log-config-json', join(ml, 'immich_ml/log_conf.json'), '--keep-alive', '2', '--graceful-timeout', '10',
  ]);
  assert.match(stderr, 'Initializing Immich ML');

  // Ctrl-C: the parent forwards SIGINT to gunicorn and exits with its code (0).
  process.kill(parent.pid!, 'SIGINT');
  assert.is(await exited(parent), 0);
  await until('gunicorn to stop', () => (childrenOf(parent.pid!).length === 0 && !readdirSync('/proc').includes(String(child)) ? true : undefined));
});

test('IPv6 IMMICH_HOST is bracketed in -b; the config default "[::]" is not an IP and fails', async () => {
  const port = await freePort();
  const parent = spawn('python3', ['-m', 'immich_ml'], { env: await mlEnv([withPython, onlyPython3].join(':'), '::1', port), detached: true, stdio: 'ignore' });
  started.push(parent);
  const child = await until('the gunicorn child', () => childrenOf(parent.pid!)[0]);
  const argv = await until('its bind argument', () => {
    const a = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0');
    return a[0] === 'python' ? a : undefined;
  });
  assert.is(argv[argv.indexOf('-b') + 1], `[::1]:${port}`);
  process.kill(-parent.pid!, 'SIGTERM');
  await exited(parent);

  const env = await mlEnv([withPython, onlyPython3].join(':'), '', port);
  delete env.IMMICH_HOST;
  const result = spawnSync('python3', ['-m', 'immich_ml'], { env, encoding: 'utf8', timeout: 20_000 });
  assert.is.not(result.status, 0);
  assert.match(result.stderr, "ValueError: '[::]' does not appear to be an IPv4 or IPv6 address");
});

test.run();
