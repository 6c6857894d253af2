// The real adapter (scripts/pins/net.ts) without the internet: fetch against a local HTTP server,
// `git ls-remote` against a local repository, `gpgv` against a throw-away test key (fixtures/pins/gpg).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { NetError } from '../../../scripts/pins/errors.js';
import { createNet } from '../../../scripts/pins/net.js';
import { FIXTURES } from './fake-net.js';

const net = createNet();

const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
let server: Server;
let base = '';

const http = suite('pins: the real adapter over HTTP (local server)');
http.before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/text') res.end('24.15.0\n');
    else if (req.url === '/big') {
      // In pieces, as a large download arrives.
      let sent = 0;
      const step = () => {
        if (sent >= big.length) return res.end();
        const n = Math.min(256 * 1024, big.length - sent);
        res.write(big.subarray(sent, sent + n), () => setImmediate(step));
        sent += n;
      };
      step();
    } else if (req.url === '/redirect') {
      res.writeHead(302, { location: '/text' });
      res.end();
    } else if (req.url === '/latin1') res.end(Buffer.from([0xff, 0xfe, 0x00]));
    else {
      res.writeHead(404, 'Not Found');
      res.end('nope');
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
http.after(() => new Promise<void>((done) => server.close(() => done())));

http('fetchText follows redirects; sha256OfUrl hashes a streamed download', async () => {
  assert.is(await net.fetchText(`${base}/redirect`), '24.15.0\n');
  assert.equal([...(await net.fetchBytes(`${base}/text`))], [...Buffer.from('24.15.0\n')]);
  assert.is(await net.sha256OfUrl(`${base}/big`), createHash('sha256').update(big).digest('hex'));
});

http('HTTP errors, unreachable hosts and non-text are NetErrors', async () => {
  const err = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return e;
    }
    throw new Error('expected a failure');
  };
  const e404 = await err(net.sha256OfUrl(`${base}/missing`));
  assert.instance(e404, NetError);
  assert.is((e404 as Error).message, 'HTTP 404 Not Found');
  const closed = createServer();
  await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((done) => closed.close(() => done()));
  const refused = await err(net.fetchText(`http://127.0.0.1:${port}/x`));
  assert.instance(refused, NetError);
  assert.is((refused as Error).message, 'fetch failed: ECONNREFUSED');
  const binary = await err(net.fetchText(`${base}/latin1`));
  assert.is((binary as Error).message, 'not UTF-8 text');
});
http.run();

const git = suite('pins: the real adapter, git ls-remote (local repository)');
let repo = '';
git.before(() => {
  repo = mkdtempSync(join(tmpdir(), 'pins-git-'));
  const g = (...args: string[]) =>
    execFileSync('git', ['-C', repo, '-c', 'user.name=pins', '-c', 'user.email=pins@example.invalid', '-c', 'tag.gpgSign=false', '-c', 'commit.gpgSign=false', ...args], { encoding: 'utf8' }).trim();
  g('init', '-q');
  g('commit', '-q', '--allow-empty', '-m', 'one');
  g('tag', 'v1.0.0');
  g('commit', '-q', '--allow-empty', '-m', 'two');
  g('tag', '-a', 'v2.0.0', '-m', 'annotated');
});
git.after(() => rmSync(repo, { recursive: true, force: true }));

git('lists exactly the refs asked for, including the peeled line of an annotated tag', async () => {
  const head = execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const tagObject = execFileSync('git', ['-C', repo, 'rev-parse', 'v2.0.0'], { encoding: 'utf8' }).trim();
  const out = await net.gitLsRemote(repo, ['refs/tags/v2.0.0', 'refs/tags/v2.0.0^{}']);
  assert.is(out, `${tagObject}\trefs/tags/v2.0.0\n${head}\trefs/tags/v2.0.0^{}\n`);
  assert.is(await net.gitLsRemote(repo, ['refs/tags/v9.9.9']), '');
});

git('a repository that does not exist is a NetError, without prompting', async () => {
  try {
    await net.gitLsRemote(join(repo, 'nope'), ['refs/tags/v1']);
    assert.unreachable('expected a failure');
  } catch (e) {
    assert.instance(e, NetError);
    assert.match((e as Error).message, /^git ls-remote exit \d+: /);
  }
});
git.run();

const gpg = suite('pins: the real adapter, gpgv (throw-away test key)');
const G = join(FIXTURES, 'gpg');
const data = readFileSync(join(G, 'SHASUMS256.txt'));
const fpr = readFileSync(join(G, 'test-key.fpr'), 'utf8').trim();
const keyring = join(G, 'test-keyring.gpg');
let hasGpgv = true;
try {
  execFileSync('gpgv', ['--version'], { stdio: 'ignore' });
} catch {
  hasGpgv = false;
  process.stdout.write('SKIPPED: gpgv is not installed; the real signature check was not exercised (apt-get install gpgv)\n');
}
const gpgTest = hasGpgv ? gpg : gpg.skip;

gpgTest('a good detached signature names the signing key', async () => {
  assert.equal(await net.gpgVerify(keyring, readFileSync(join(G, 'SHASUMS256.txt.sig')), data), { ok: true, signer: fpr, detail: `good signature by ${fpr}` });
});

gpgTest('changed data, a key outside the keyring, a missing keyring and a non-signature all fail', async () => {
  const sig = readFileSync(join(G, 'SHASUMS256.txt.sig'));
  const tampered = Buffer.from(data.toString().replace('4726', '4727'));
  const bad = await net.gpgVerify(keyring, sig, tampered);
  assert.is(bad.ok, false);
  assert.match(bad.detail, 'BADSIG');
  const other = await net.gpgVerify(keyring, readFileSync(join(G, 'SHASUMS256.txt.other-key.sig')), data);
  assert.is(other.ok, false);
  assert.match(other.detail, 'not in the keyring');
  assert.is((await net.gpgVerify(join(G, 'absent.gpg'), sig, data)).ok, false);
  assert.is((await net.gpgVerify(keyring, Buffer.from('not a signature'), data)).ok, false);
});
gpg.run();
