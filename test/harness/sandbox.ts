/**
 * The sandbox: installs the snap into the harness (fake snapd, real Postgres/Redis/HAProxy from
 * Debian), starts its daemons and serves a `snap`-like client so a person can talk to it.
 *
 *   npm run sandbox              # runs until Ctrl-C
 *   npm run sandbox -- --check   # installs, runs a few commands, stops (used by the tests)
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { FakeSnapd, SnapdChangeError } from './fake-snapd.js';
import { repoRoot } from './fake-snap.js';

const sandboxDir = join(repoRoot, 'build/sandbox');
const controlSocket = join(sandboxDir, 'control.sock');
const binDir = join(sandboxDir, 'bin');
/**
 * The snap's root. Postgres, Redis and HAProxy put unix sockets under it, and a socket's path must
 * fit in 108 bytes (sun_path): below a checkout deep in a home folder, build/sandbox/root would not
 * (Postgres: "could not create any Unix-domain sockets"). So it is a short folder in /tmp, named
 * after this checkout, and build/sandbox/root points to it.
 */
const rootDir = join('/tmp', `immich-sandbox-${createHash('sha256').update(repoRoot).digest('hex').slice(0, 8)}`);

export interface ControlRequest {
  args: string[];
}
export interface ControlResponse {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** For `run`: the client executes the app itself with a TTY and this environment. */
  exec?: { file: string; args: string[]; env: Record<string, string>; cwd: string };
}

function out(s: string): ControlResponse {
  return { stdout: s.endsWith('\n') || s === '' ? s : `${s}\n`, stderr: '', exitCode: 0 };
}

/** Handles one `snap …` command against the fake snapd. */
export async function handle(snapd: FakeSnapd, args: string[]): Promise<ControlResponse> {
  const [verb, ...rest] = args;
  const snapArgIn = (words: string[]) => {
    const s = words[0];
    if (s !== snapd.instance) throw new SnapdChangeError(`error: snap "${s ?? ''}" is not installed (this sandbox has ${snapd.instance})`);
  };
  const snapArg = () => snapArgIn(rest);
  try {
    switch (verb) {
      case 'get': {
        const flags = rest.filter((a) => a.startsWith('-'));
        const words = rest.filter((a) => !a.startsWith('-'));
        snapArgIn(words);
        return snapd.snapGet(words.slice(1), { document: flags.includes('-d'), typed: flags.includes('-t') });
      }
      case 'set':
        snapArg();
        await snapd.set(rest.slice(1));
        return out('');
      case 'unset':
        snapArg();
        await snapd.unset(...rest.slice(1));
        return out('');
      case 'services': {
        const rows = snapd.services.status().map((s) => [`${snapd.instance}.${s.app}`, s.enabled ? 'enabled' : 'disabled', s.active ? 'active' : 'inactive', s.notes.length ? s.notes.join(',') : '-']);
        const table = [['Service', 'Startup', 'Current', 'Notes'], ...rows];
        const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
        return out(table.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 2))).join('')).join('\n'));
      }
      case 'start':
      case 'stop':
      case 'restart': {
        const names = rest.filter((a) => !a.startsWith('--'));
        for (const n of names) {
          const app = n.includes('.') ? n.split('.')[1]! : undefined;
          const apps = app ? [app] : snapd.apps.filter((a) => a.daemon && !a.timer).map((a) => a.name);
          for (const a of apps) {
            if (verb === 'start') await snapd.services.start(a);
            else if (verb === 'stop') await snapd.services.stop(a);
            else await snapd.services.restart(a);
          }
        }
        return out('');
      }
      case 'refresh':
        snapArg();
        await snapd.refresh();
        return out(`${snapd.instance} ${snapd.version} refreshed (revision ${snapd.layout.revision})`);
      case 'revert':
        snapArg();
        await snapd.revert();
        return out(`${snapd.instance} reverted to revision ${snapd.layout.revision}`);
      case 'connect':
        snapd.connect((rest[0] ?? '').split(':')[1] ?? '');
        return out('');
      case 'disconnect':
        snapd.disconnect((rest[0] ?? '').split(':')[1] ?? '');
        return out('');
      case 'logs':
        return out(`daemon logs are in ${snapd.logDir}/<app>.log`);
      case 'run': {
        const app = (rest[0] ?? '').split('.')[1] ?? '';
        const spec = snapd.apps.find((a) => a.name === app);
        if (!spec) throw new SnapdChangeError(`error: cannot find app "${app}" in "${snapd.instance}"`);
        const env = snapd.appEnv(app);
        const [cmd, ...cmdArgs] = spec.command.split(/\s+/);
        return { stdout: '', stderr: '', exitCode: 0, exec: { file: join(snapd.layout.snap, cmd!), args: [...cmdArgs, ...rest.slice(1)], env, cwd: snapd.layout.data } };
      }
      default:
        throw new SnapdChangeError(`error: the sandbox's snap does not know "${verb ?? ''}" (try get, set, unset, services, start, stop, restart, refresh, revert, connect, run)`);
    }
  } catch (err) {
    if (err instanceof SnapdChangeError) return { stdout: '', stderr: `${err.message}\n`, exitCode: 1 };
    throw err;
  }
}

function writeClients(snapd: FakeSnapd): void {
  mkdirSync(binDir, { recursive: true });
  const client = join(repoRoot, 'test/harness/sandbox-client.cjs');
  const snap = join(binDir, 'snap');
  writeFileSync(snap, `#!/bin/sh\nSANDBOX_CONTROL='${controlSocket}' exec node '${client}' "$@"\n`);
  chmodSync(snap, 0o755);
  for (const a of snapd.apps.filter((x) => !x.daemon)) {
    const p = join(binDir, `${snapd.instance}.${a.name}`);
    writeFileSync(p, `#!/bin/sh\nexec '${snap}' run '${snapd.instance}.${a.name}' "$@"\n`);
    chmodSync(p, 0o755);
  }
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const root = rootDir;
  rmSync(sandboxDir, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
  mkdirSync(sandboxDir, { recursive: true });
  symlinkSync(root, join(sandboxDir, 'root'));
  const snapd = await FakeSnapd.create({ root });
  const stop = async (code: number) => {
    await snapd.destroy({ keep: true });
    server.close();
    process.exit(code);
  };
  const server = createServer((sock) => {
    let buf = '';
    sock.on('data', async (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const req = JSON.parse(buf.slice(0, nl)) as ControlRequest;
      const res = await handle(snapd, req.args).catch((e: unknown) => ({ stdout: '', stderr: `sandbox: ${String(e)}\n`, exitCode: 1 }));
      sock.end(`${JSON.stringify(res)}\n`);
    });
  });
  if (existsSync(controlSocket)) rmSync(controlSocket);
  await new Promise<void>((r) => server.listen(controlSocket, r));
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  process.stderr.write('sandbox: installing immich-distribution into the harness…\n');
  const started = Date.now();
  try {
    await snapd.install();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    await stop(1);
  }
  writeClients(snapd);
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  const b = rel(binDir);
  const status = snapd.services.status();
  process.stdout.write(
    [
      `immich-distribution is installed in the sandbox (revision ${snapd.layout.revision}, ${Date.now() - started} ms).`,
      `  root:      ${rel(join(sandboxDir, 'root'))} → ${root}   ($SNAP=${snapd.layout.snap}, $SNAP_COMMON=${snapd.layout.common})`,
      `  services:  ${status.map((s) => `${s.app}=${s.active ? 'active' : s.enabled ? 'inactive' : 'disabled'}`).join(' ')}`,
      `  logs:      ${snapd.logDir.startsWith(root) ? join(rel(join(sandboxDir, 'root')), relative(root, snapd.logDir)) : rel(snapd.logDir)}/<app>.log`,
      '',
      'Talk to it from another terminal:',
      `  ${b}/snap get ${snapd.instance} database-password`,
      `  ${b}/snap set ${snapd.instance} http.port=8080`,
      `  ${b}/snap services`,
      `  ${b}/${snapd.instance}.psql -c 'select version()'`,
      `  ${b}/${snapd.instance}.status`,
      `  ${b}/snap refresh ${snapd.instance}        # simulate a refresh to a new revision`,
      check ? '' : 'Ctrl-C stops every service.',
      '',
    ].join('\n'),
  );
  if (check) {
    const res = await handle(snapd, ['services']);
    process.stdout.write(res.stdout);
    await stop(0);
  }
}

if (process.argv[1] && process.argv[1].endsWith('sandbox.ts')) {
  void main();
}
