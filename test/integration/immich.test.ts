// The snap as the real Immich needs it (contract §B, docs/upstream/immich-runtime.md), with the
// Immich doubles (test/doubles) in place of Immich, run by the product's own daemons and hooks
// under the harness: environment validation, Postgres and Redis over their sockets, media markers
// and build data, Immich's built-in backup and restore point (pg_dump/psql with only {PATH,
// PGPASSWORD}), IMMICH_TRUSTED_PROXIES as Immich applies it, ML's `python -m gunicorn` re-exec,
// jellyfin-ffmpeg's libraries, and stopping every process of Immich's services.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { FakeSnapd } from '../harness/fake-snapd.js';
import { repoRoot } from '../harness/fake-snap.js';
import { groupMembers } from '../harness/snapd/services.js';
import { type Env, installed, teardown, waitFor } from './backup-fixtures.js';

const HTTP = 18_180;
/** A LAN address of this machine for the test (on lo): uniquelocal, as a phone on a home network. */
const LAN_IP = '10.213.7.1';

interface Res {
  status: number;
  body: string;
}
function http(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string; localAddress?: string } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, localAddress: opts.localAddress, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
const U = `http://127.0.0.1:${HTTP}`;
const json = (b: string) => JSON.parse(b) as Record<string, unknown>;

async function state(): Promise<Record<string, unknown>> {
  return json((await http(`${U}/api/double/state`)).body);
}

/** An admin session on the double (sign-up is refused once an admin exists: then log in). */
async function session(): Promise<string> {
  const body = JSON.stringify({ email: 'admin@it.invalid', name: 'IT', password: 'it-Passw0rd-123' });
  await http(`${U}/api/auth/admin-sign-up`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const r = await http(`${U}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.is(r.status, 201, r.body);
  return `Bearer ${String(json(r.body)['accessToken'])}`;
}

function multipart(file: Buffer, name: string): { body: Buffer; type: string } {
  const b = `----it${Date.now()}`;
  const field = (k: string, v: string) => `--${b}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  const head = field('fileCreatedAt', '2024-05-01T10:00:00.000Z') + field('fileModifiedAt', '2024-05-01T10:00:00.000Z') +
    `--${b}\r\ncontent-disposition: form-data; name="assetData"; filename="${name}"\r\ncontent-type: image/png\r\n\r\n`;
  return { body: Buffer.concat([Buffer.from(head), file, Buffer.from(`\r\n--${b}--\r\n`)]), type: `multipart/form-data; boundary=${b}` };
}
async function upload(auth: string, file: Buffer, name: string): Promise<string> {
  const m = multipart(file, name);
  const r = await http(`${U}/api/assets`, { method: 'POST', headers: { authorization: auth, 'content-type': m.type }, body: m.body });
  assert.is(r.status, 201, r.body);
  return String(json(r.body)['id']);
}

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAbElEQVR4nBXNQRUAUQhCUaMYhShGeVGIQhSizB+XXA7ODDtouIHBQ4YOM8suWm5h8ZKl+0CskDiBsIioHhx76LiDw0eO3oN/4FVf+J8h0PduzBqZ8x/bxNQPwgaFy192SGgelC0q13/CJaXlA8Z7WAGfV950AAAAAElFTkSuQmCC',
  'base64',
);

const test = suite('immich');
let e: Env | undefined;

test.before(async () => {
  e = await installed();
  await e.snapd.set([`http.port=${HTTP}`]);
  await waitFor('immich through haproxy', async () => (await http(`${U}/api/server/ping`).catch(() => ({ status: 0, body: '' }))).status === 200, 60_000);
});
test.after(async () => {
  spawnSync('ip', ['addr', 'del', `${LAN_IP}/32`, 'dev', 'lo']);
  await teardown(e);
});

test('the double started as Immich does: env valid, Postgres over the socket, Redis with its password, markers, build data', async () => {
  const s = await state();
  assert.match(JSON.stringify(s['postgres']), /"version":"15\./);
  assert.is(s['vectorExtension'], 'vector');
  assert.is((s['redis'] as { ping: string }).ping, 'PONG');
  for (const d of ['upload', 'library', 'thumbs', 'encoded-video', 'profile', 'backups']) {
    assert.ok(existsSync(join(e!.media, d, '.immich')), `no .immich marker in ${d}`);
  }
  assert.is((s['geodata'] as { date: string }).date, readFileSync(join(e!.snapd.layout.snap, 'usr/lib/immich/build/geodata/geodata-date.txt'), 'utf8'));
  assert.ok(s['plugin'], 'the core plugin was not synced');
});

test('IMMICH_TRUSTED_PROXIES: empty trusts only HAProxy; a LAN client cannot spoof X-Forwarded-For', async () => {
  assert.equal((await state())['trustProxy'], ['loopback', '127.0.0.0/8', '::1/128']);
  execFileSync('ip', ['addr', 'replace', `${LAN_IP}/32`, 'dev', 'lo']);
  // HAProxy listens on an IPv6 socket that takes IPv4 too: it forwards the client as ::ffff:a.b.c.d.
  const whoami = async () =>
    String(json((await http(`http://${LAN_IP}:${HTTP}/api/double/whoami`, { localAddress: LAN_IP, headers: { 'x-forwarded-for': '6.6.6.6' } })).body)['ip']).replace(/^::ffff:/, '');
  assert.is(await whoami(), LAN_IP, "with Immich's default (unset variable) this would be 6.6.6.6");
  // A name Immich itself refuses in the variable: written out as CIDRs, and the server stays up.
  await e!.snapd.set(['proxy.trusted-proxies=uniquelocal']);
  await waitFor('immich restarted', async () => (await http(`${U}/api/server/ping`).catch(() => ({ status: 0, body: '' }))).status === 200, 60_000);
  assert.ok(e!.snapd.services.isActive('immich-server'));
  assert.is(await whoami(), '6.6.6.6', 'a proxy in 10/8 is now trusted');
  await e!.snapd.set(['proxy.trusted-proxies=']);
  await waitFor('immich restarted', async () => (await http(`${U}/api/server/ping`).catch(() => ({ status: 0, body: '' }))).status === 200, 60_000);
  assert.is(await whoami(), LAN_IP);
});

test("Immich's built-in backup job and its restore point run pg_dump and psql with only {PATH, PGPASSWORD}", async () => {
  const auth = await session();
  const a = await upload(auth, PNG, 'a.png');
  const backups = join(e!.media, 'backups');
  const before = new Set(readdirSync(backups));
  const r = await http(`${U}/api/jobs`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: '{"name":"backup-database"}' });
  assert.is(r.status, 204, r.body);
  let dump = '';
  await waitFor('backup file', () => {
    dump = readdirSync(backups).find((f) => !before.has(f) && /^immich-db-backup-\d{8}T\d{6}-v.*-pg15\..*\.sql\.gz$|^immich-db-backup-\d{8}T\d{6}-v.*-pg.*\.sql\.gz$/.test(f)) ?? '';
    return dump !== '';
  }, 60_000);
  execFileSync('gzip', ['-t', join(backups, dump)]);
  assert.match(execFileSync('sh', ['-c', `zcat '${join(backups, dump)}' | head -n 5`], { encoding: 'utf8' }), 'PostgreSQL database dump');

  const b = await upload(auth, Buffer.concat([PNG, Buffer.from('b')]), 'b.png');
  const restore = await http(`${U}/api/admin/maintenance`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'restore_database', restoreBackupFilename: dump }),
  });
  assert.is(restore.status, 200, restore.body);
  assert.ok(readdirSync(backups).some((f) => f.startsWith('restore-point-') && f.endsWith('.sql.gz')), 'no restore point');
  const auth2 = await session();
  assert.is((await http(`${U}/api/assets/${a}/original`, { headers: { authorization: auth2 } })).status, 200);
  assert.is.not((await http(`${U}/api/assets/${b}/original`, { headers: { authorization: auth2 } })).status, 200, 'the asset added after the backup survived the restore');
});

test('ML: `python -m immich_ml` re-executes `python -m gunicorn`, found as the snap\'s `python`', async () => {
  const env = e!.snapd.appEnv('immich-machine-learning');
  const port = /^IMMICH_PORT=(\d+)$/m.exec(readFileSync(e!.paths.immichMlEnv, 'utf8'))![1];
  await waitFor('ml ping', async () => (await http(`http://127.0.0.1:${port}/ping`).catch(() => ({ status: 0, body: '' }))).body === 'pong', 60_000);
  const pgid = e!.snapd.services.pid('immich-machine-learning')!;
  const child = groupMembers(pgid).find((m) => readFileSync(`/proc/${m.pid}/cmdline`, 'utf8').split('\0').slice(0, 3).join(' ') === 'python -m gunicorn');
  assert.ok(child, 'no `python -m gunicorn` process in the ML service');
  const which = execFileSync('sh', ['-c', 'command -v python'], { env, encoding: 'utf8' }).trim();
  assert.is(which, join(e!.snapd.layout.snap, 'usr/bin/python'), "the `python` on the daemon's PATH is not the snap's");
});

test("jellyfin-ffmpeg runs in the server's environment (its libraries on LD_LIBRARY_PATH), not without it", () => {
  const ok = spawnSync('ffmpeg', ['-version'], { env: e!.snapd.appEnv('immich-server'), encoding: 'utf8' });
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, 'Jellyfin');
  const without = spawnSync('ffmpeg', ['-version'], { env: e!.snapd.appEnv('psql'), encoding: 'utf8' });
  assert.is.not(without.status, 0, 'ffmpeg ran without its library directory');
});

test('stopping Immich\'s services stops every process of theirs (sigterm-all): a restart gets the port', async () => {
  for (const app of ['immich-server', 'immich-machine-learning']) {
    await e!.snapd.services.restart(app);
    assert.equal(e!.snapd.services.leftovers(app), [], `${app} left processes behind`);
  }
  await waitFor('immich after restart', async () => (await http(`${U}/api/server/ping`).catch(() => ({ status: 0, body: '' }))).status === 200, 60_000);
});

test('with stop-mode sigterm (the main process only), Immich\'s api worker outlives the stop and blocks the next start', async () => {
  // The same snap with the stop mode the services had before: the supervisor dies on SIGTERM, its
  // forked api worker (no signal) keeps the port.
  const doc = parse(readFileSync(join(repoRoot, 'snap/snapcraft.yaml'), 'utf8')) as { apps: Record<string, Record<string, unknown>> };
  doc.apps['immich-server']!['stop-mode'] = 'sigterm';
  await e!.snapd.services.stopAll(); // the ports are the same
  const snapd = await FakeSnapd.create({ snapcraftYaml: stringify(doc) });
  try {
    await snapd.install();
    const port = /^IMMICH_PORT=(\d+)$/m.exec(readFileSync(join(snapd.layout.data, 'etc/immich-server.env'), 'utf8'))![1];
    const ping = async () => (await http(`http://127.0.0.1:${port}/api/server/ping`).catch(() => ({ status: 0, body: '' }))).status;
    await waitFor('immich (sigterm)', async () => (await ping()) === 200, 60_000);
    await snapd.services.stop('immich-server');
    assert.ok(snapd.services.leftovers('immich-server').length > 0, 'no api worker left behind: the double does not reproduce Immich');
    assert.is(await ping(), 200, 'the orphaned api worker still answers');
  } finally {
    await snapd.destroy();
  }
});

test.run();
