// `npm run pins` end to end against the fake network (fixture files, no internet), on temporary
// copies of versions.json: what it writes, and that every refusal is one line and writes nothing.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { run } from '../../../scripts/pins/main.js';
import { FAKE_KEYRING, FakeNet, FIXTURE_COMMIT, FIXTURES, IMMICH_RAW, type FakeOverrides } from './fake-net.js';

const BEFORE = readFileSync(join(FIXTURES, 'versions.before.json'), 'utf8');
const AFTER = readFileSync(join(FIXTURES, 'versions.after-v3.2.4.json'), 'utf8');
const SHASUMS_URL = 'https://nodejs.org/dist/v24.15.0/SHASUMS256.txt';
const SHASUMS = readFileSync(join(FIXTURES, 'net/nodejs.org/dist/v24.15.0/SHASUMS256.txt'), 'utf8');
const NODE_X64 = 'https://nodejs.org/dist/v24.15.0/node-v24.15.0-linux-x64.tar.xz';
const UV_X64 = 'https://github.com/astral-sh/uv/releases/download/0.10.2/uv-x86_64-unknown-linux-gnu.tar.gz';
const BINARYEN_ARM64 = 'https://github.com/WebAssembly/binaryen/releases/download/version_124/binaryen-version_124-aarch64-linux.tar.gz';
const LEGO = 'https://github.com/go-acme/lego.git';
const NE_513 = 'https://raw.githubusercontent.com/nvkelso/natural-earth-vector/v5.1.3/geojson/ne_10m_admin_0_countries.geojson';

const dirs: string[] = [];
type Doc = Record<string, Record<string, unknown>>;

/** A temporary versions.json: the fixture, optionally edited. */
function versionsFile(edit?: (doc: Doc) => void): { path: string; text: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pins-test-'));
  dirs.push(dir);
  const path = join(dir, 'versions.json');
  let text = BEFORE;
  if (edit) {
    const doc = JSON.parse(BEFORE) as Doc;
    edit(doc);
    text = `${JSON.stringify(doc, null, 2)}\n`;
  }
  writeFileSync(path, text);
  return { path, text };
}

interface Result {
  code: number;
  out: string;
  err: string;
  net: FakeNet;
}

async function pins(path: string, args: string[], net: FakeNet | FakeOverrides = {}, env: Record<string, string> = {}): Promise<Result> {
  const fake = net instanceof FakeNet ? net : new FakeNet(net);
  let out = '';
  let err = '';
  const code = await run([...args, '--versions', path], {
    net: fake,
    env: { NODE_RELEASE_KEYRING: FAKE_KEYRING, ...env },
    cwd: FIXTURES,
    out: (t) => (out += t),
    err: (t) => (err += t),
  });
  return { code, out, err, net: fake };
}

/** The fake signature (fake-net.ts) over `text` by the key the fake keyring trusts. */
function fakeSig(text: string, signer = '5BE8A3F6C8A5C01D106C0AD820B1A390B168D356'): string {
  return `FAKE DETACHED SIGNATURE\nsha256=${createHash('sha256').update(text).digest('hex')}\nsigner=${signer}\n`;
}

/** A refusal: exit 1, exactly one line on stderr naming artifact and URL, the file untouched. */
function assertRefused(r: Result, file: { path: string; text: string }, ...expected: Array<string | RegExp>): void {
  assert.is(r.code, 1, `exit code (stderr: ${r.err})`);
  assert.is(r.out, '');
  assert.ok(r.err.endsWith('\n') && !r.err.slice(0, -1).includes('\n'), `not one line: ${JSON.stringify(r.err)}`);
  assert.match(r.err, /^pins: REFUSED .+ <https?:\/\/[^>]+>: .+; versions\.json not changed\n$/);
  for (const e of expected) assert.match(r.err, e);
  assert.is(readFileSync(file.path, 'utf8'), file.text, 'versions.json changed');
  assert.equal(readdirSync(join(file.path, '..')), ['versions.json'], 'a temporary file was left behind');
}

const ok = suite('pins: writing');
ok.after(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

ok('--tag v3.2.4 --libvips 8.18.5 writes exactly the expected versions.json and prints old → new', async () => {
  const f = versionsFile();
  const r = await pins(f.path, ['--tag', 'v3.2.4', '--libvips', '8.18.5']);
  assert.is(r.err, '');
  assert.is(r.code, 0);
  assert.is(readFileSync(f.path, 'utf8'), AFTER);
  assert.equal(readdirSync(join(f.path, '..')), ['versions.json'], 'no temporary file left');
  assert.match(r.out, `changed 6 values in ${f.path} for Immich v3.2.4 (${FIXTURE_COMMIT}):`);
  assert.match(r.out, /\n {2}snap\.version +3\.2\.0-1 → 3\.2\.4-1\n/);
  assert.match(r.out, /\n {2}immich\.commit +1b6098c9dbfffe978bec2d414606ed7a4c8e019a → 3204c0ffee/);
  assert.match(r.out, /\n {2}libvips\.commit +e01a4797cabe77d457fdfa7d776b7a7e7ca6d6a7 → 7c28da9c2b8b5b8defe54f2ae92ee474c0e2d6e4\n/);
  assert.match(r.out, 'verified: Node 24.15.0 SHASUMS256.txt: good signature by 5BE8A3F6C8A5C01D106C0AD820B1A390B168D356');
  assert.match(r.out, 'verified: sharp 0.35.3 (server/package.json "^0.35.3") needs libvips >= 8.18.3: 8.18.5 is enough');
  assert.match(r.out, 'verified: 9 downloads hashed, 4 git tags resolved');
  // Immich's files are read at the tag's peeled commit, not the tag object.
  assert.ok(r.net.requests.includes(`GET ${IMMICH_RAW}/.nvmrc`));
  assert.ok(r.net.requests.includes(`GIT https://github.com/immich-app/immich.git refs/tags/v3.2.4 refs/tags/v3.2.4^{}`));
});

ok('stale node, plugin tools and uv are replaced by the verified values of the tag and --uv', async () => {
  const f = versionsFile((d) => {
    d['node'] = { ...d['node'], version: '24.14.1', sha256: { amd64: '1'.repeat(64), arm64: '2'.repeat(64) } };
    const tools = d['pluginTools'] as Doc;
    tools['extismJs'] = {
      version: '1.5.1',
      url: { amd64: 'https://github.com/extism/js-pdk/releases/download/v1.5.1/extism-js-x86_64-linux-v1.5.1.gz', arm64: 'https://github.com/extism/js-pdk/releases/download/v1.5.1/extism-js-aarch64-linux-v1.5.1.gz' },
      sha256: { amd64: '3'.repeat(64), arm64: '4'.repeat(64) },
    };
    d['uv'] = { ...d['uv'], version: '0.9.0', sha256: { amd64: '5'.repeat(64), arm64: '6'.repeat(64) } };
  });
  const r = await pins(f.path, ['--tag', 'v3.2.4', '--libvips', '8.18.5', '--uv', '0.10.2']);
  assert.is(r.err, '');
  assert.is(readFileSync(f.path, 'utf8'), AFTER);
  assert.match(r.out, /\n {2}node\.version +24\.14\.1 → 24\.15\.0\n/);
  assert.match(r.out, /\n {2}pluginTools\.extismJs\.url\.arm64 +https:\/\/github\.com\/extism\/js-pdk\/releases\/download\/v1\.5\.1\/extism-js-aarch64-linux-v1\.5\.1\.gz → https:\/\/github\.com\/extism\/js-pdk\/releases\/download\/v1\.6\.0\//);
  assert.match(r.out, /\n {2}uv\.sha256\.arm64 +6{64} → 4998f545/);
});

ok('a Node version that goes down (the tag\'s .nvmrc is older) is written, with a warning', async () => {
  const f = versionsFile((d) => {
    d['node'] = { ...d['node'], version: '24.16.0', sha256: { amd64: '1'.repeat(64), arm64: '2'.repeat(64) } };
  });
  const r = await pins(f.path, ['--tag', 'v3.2.4', '--libvips', '8.18.5']);
  assert.is(r.code, 0, r.err);
  assert.is(readFileSync(f.path, 'utf8'), AFTER);
  assert.match(r.out, /\nwarning: Node goes down from 24\.16\.0 to 24\.15\.0 \(the tag's \.nvmrc\)\n/);
});

ok('--dry-run prints the same table and writes nothing', async () => {
  const f = versionsFile();
  const r = await pins(f.path, ['--tag', 'v3.2.4', '--libvips', '8.18.5', '--dry-run']);
  assert.is(r.code, 0);
  assert.match(r.out, 'dry run: would change 6 values');
  assert.match(r.out, /snap\.version +3\.2\.0-1 → 3\.2\.4-1/);
  assert.match(r.out, 'dry run: nothing written');
  assert.is(readFileSync(f.path, 'utf8'), f.text);
});

ok('a second run on the same tag changes nothing and keeps the packaging revision', async () => {
  const f = versionsFile((d) => {
    d['snap'] = { ...d['snap'], version: '3.2.4-3' };
    d['immich'] = { ...d['immich'], version: '3.2.4', tag: 'v3.2.4', commit: FIXTURE_COMMIT };
  });
  const r = await pins(f.path, ['--tag', 'v3.2.4']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, `${f.path} already matches Immich v3.2.4 (${FIXTURE_COMMIT}); nothing to write`);
  assert.is(readFileSync(f.path, 'utf8'), f.text);
});

ok('--lego and --vectorchord pin the commit their tag resolves to', async () => {
  const f = versionsFile();
  const r = await pins(f.path, ['--tag', 'v3.2.4', '--lego', '4.26.0', '--vectorchord', '1.2.0'], {
    lsRemote: {
      [LEGO]: `${'a'.repeat(40)}\trefs/tags/v4.26.0\n`,
      'https://github.com/tensorchord/VectorChord.git': `${'b'.repeat(40)}\trefs/tags/1.2.0\n${'c'.repeat(40)}\trefs/tags/1.2.0^{}\n`,
    },
  });
  assert.is(r.code, 0, r.err);
  const doc = JSON.parse(readFileSync(f.path, 'utf8')) as Doc;
  assert.equal([doc['lego']!['version'], doc['lego']!['commit']], ['4.26.0', 'a'.repeat(40)]);
  assert.equal([doc['vectorchord']!['version'], doc['vectorchord']!['commit']], ['1.2.0', 'c'.repeat(40)]);
});
ok.run();

const no = suite('pins: refusals (one line, exit 1, versions.json byte-identical)');
no.after(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

no('a Node tarball whose sha256 differs from the signed SHASUMS256.txt', async () => {
  const f = versionsFile();
  const r = await pins(f.path, ['--tag', 'v3.2.4'], { digests: { [NODE_X64]: 'f'.repeat(64) } });
  assertRefused(r, f, `node-v24.15.0-linux-x64.tar.xz <${NODE_X64}>: sha256 is ${'f'.repeat(64)}, the signed SHASUMS256.txt says 472655581fb851559730c48763e0c9d3bc25975c59d518003fc0849d3e4ba0f6`);
});

no('a SHASUMS256.txt that does not match its signature, or is signed by a key outside the keyring', async () => {
  const f = versionsFile();
  const tampered = SHASUMS.replace('472655581fb8', '000000000000');
  const bad = await pins(f.path, ['--tag', 'v3.2.4'], { files: { [SHASUMS_URL]: tampered } });
  assertRefused(bad, f, `Node 24.15.0 SHASUMS256.txt.sig <${SHASUMS_URL}.sig>: signature does not verify against ${FAKE_KEYRING}: gpgv reports BADSIG`);
  assert.not.ok(bad.net.requests.some((q) => q.startsWith('SHA https://nodejs.org')), 'no tarball is hashed against an unsigned list');

  const stranger = await pins(f.path, ['--tag', 'v3.2.4'], {
    files: { [SHASUMS_URL]: tampered, [`${SHASUMS_URL}.sig`]: fakeSig(tampered, 'A'.repeat(40)) },
  });
  assertRefused(stranger, f, 'signed by a key not in the keyring');
});

no('a signed SHASUMS256.txt without the tarball line is a missing checksum', async () => {
  const f = versionsFile();
  const noArm = SHASUMS.split('\n').filter((l) => !l.endsWith('linux-arm64.tar.xz')).join('\n');
  const r = await pins(f.path, ['--tag', 'v3.2.4'], { files: { [SHASUMS_URL]: noArm, [`${SHASUMS_URL}.sig`]: fakeSig(noArm) } });
  assertRefused(r, f, `Node 24.15.0 SHASUMS256.txt <${SHASUMS_URL}>: no line for node-v24.15.0-linux-arm64.tar.xz`);
});

no("a plugin tool whose download differs from the tag's mise.lock, or a platform the lock lacks", async () => {
  const f = versionsFile();
  const r = await pins(f.path, ['--tag', 'v3.2.4'], { digests: { [BINARYEN_ARM64]: 'e'.repeat(64) } });
  assertRefused(r, f, `github:webassembly/binaryen version_124 arm64 <${BINARYEN_ARM64}>: sha256 is ${'e'.repeat(64)}, the tag's mise.lock says 6291bd9a57d8e046f3bc099a4db386c147433a87f71c783a901c5b1792e38de3`);

  const lockUrl = `${IMMICH_RAW}/mise.lock`;
  const lock = readFileSync(join(FIXTURES, 'net/raw.githubusercontent.com/immich-app/immich', FIXTURE_COMMIT, 'mise.lock'), 'utf8');
  const noArm = lock.replace(/\[tools\."github:webassembly\/binaryen"\."platforms\.linux-arm64"\]\n[^[]*/, '');
  assert.is.not(noArm, lock);
  const missing = await pins(f.path, ['--tag', 'v3.2.4'], { files: { [lockUrl]: noArm } });
  assertRefused(missing, f, `Immich v3.2.4 mise.lock <${lockUrl}>: no sha256 checksum and url for github:webassembly/binaryen version_124 platforms.linux-arm64`);
});

no('a uv tarball that differs from its .sha256 sidecar, and a sidecar that cannot be read', async () => {
  const f = versionsFile();
  const r = await pins(f.path, ['--tag', 'v3.2.4'], { files: { [`${UV_X64}.sha256`]: `${'d'.repeat(64)}  uv-x86_64-unknown-linux-gnu.tar.gz\n` } });
  assertRefused(r, f, `uv 0.10.2 uv-x86_64-unknown-linux-gnu.tar.gz <${UV_X64}>: sha256 is 6aa4576c31f791c0b9d4739e256d07358d45e7535695287fec03cf6839e25512, uv-x86_64-unknown-linux-gnu.tar.gz.sha256 says ${'d'.repeat(64)}`);
  const gone = await pins(f.path, ['--tag', 'v3.2.4', '--uv', '0.11.0']);
  assertRefused(gone, f, 'uv 0.11.0 uv-x86_64-unknown-linux-gnu.tar.gz.sha256 <https://github.com/astral-sh/uv/releases/download/0.11.0/uv-x86_64-unknown-linux-gnu.tar.gz.sha256>: unreachable: HTTP 404 Not Found');
});

no('a new Natural Earth version is never written, and nothing is downloaded for it', async () => {
  const f = versionsFile();
  const r = await pins(f.path, ['--tag', 'v3.2.4', '--natural-earth', '5.1.3']);
  assertRefused(r, f, `Natural Earth 5.1.3 geojson <${NE_513}>: no upstream checksum exists`, 'verify its sha256 by hand from two independent sources and edit');
  assert.equal(r.net.requests, []);
});

no('the pinned Natural Earth file no longer hashes to the pin', async () => {
  const f = versionsFile();
  const ne = 'https://raw.githubusercontent.com/nvkelso/natural-earth-vector/v5.1.2/geojson/ne_10m_admin_0_countries.geojson';
  const r = await pins(f.path, ['--tag', 'v3.2.4', '--libvips', '8.18.5'], { digests: { [ne]: '9'.repeat(64) } });
  assertRefused(r, f, `sha256 is ${'9'.repeat(64)}, versions.json pins 239eec57`);
});

no('a git tag that moved (lego v4.25.2 now names another commit)', async () => {
  const f = versionsFile();
  const r = await pins(f.path, ['--tag', 'v3.2.4'], { lsRemote: { [LEGO]: `${'a'.repeat(40)}\trefs/tags/v4.25.2\n` } });
  assertRefused(r, f, `lego tag v4.25.2 <${LEGO}>: the tag now resolves to ${'a'.repeat(40)}, versions.json pins 8737b36c859540bf102df044bbb8e237c6de814f (the tag moved)`);
});

no("the tag's sharp needs a newer libvips than versions.json has (or than --libvips gives)", async () => {
  const f = versionsFile((d) => {
    d['libvips'] = { ...d['libvips'], version: '8.18.0', commit: '36fe7461e07f71107a9108e5778eec81ce00fe73' };
  });
  const r = await pins(f.path, ['--tag', 'v3.2.4']);
  assertRefused(r, f, `Immich v3.2.4 pnpm-lock.yaml <${IMMICH_RAW}/pnpm-lock.yaml>: sharp 0.35.3 (server/package.json "^0.35.3") needs libvips >= 8.18.3, but versions.json libvips.version is 8.18.0`);

  const lockUrl = `${IMMICH_RAW}/pnpm-lock.yaml`;
  const lock = readFileSync(join(FIXTURES, 'net/raw.githubusercontent.com/immich-app/immich', FIXTURE_COMMIT, 'pnpm-lock.yaml'), 'utf8');
  const newer = await pins(f.path, ['--tag', 'v3.2.4', '--libvips', '8.18.5'], { files: { [lockUrl]: lock.replaceAll('version: 0.35.3', 'version: 0.35.6') } });
  assertRefused(newer, f, 'sharp 0.35.6 (server/package.json "^0.35.3") needs libvips >= 8.18.8, but versions.json libvips.version would be 8.18.5 (--libvips)');
});

no("Ubuntu's python is older than the ML lock's requires-python", async () => {
  const f = versionsFile((d) => {
    d['python'] = { ...d['python'], version: '3.10' };
  });
  const r = await pins(f.path, ['--tag', 'v3.2.4']);
  assertRefused(r, f, `Immich v3.2.4 machine-learning/uv.lock <${IMMICH_RAW}/machine-learning/uv.lock>: requires-python '>=3.11, <4.0' is not satisfied by Ubuntu's python 3.10`);
});

no('a tag that does not exist, a repository that cannot be reached, a server/package.json of another version', async () => {
  const f = versionsFile();
  assertRefused(await pins(f.path, ['--tag', 'v9.9.9']), f, 'Immich tag v9.9.9 <https://github.com/immich-app/immich.git>: no tag refs/tags/v9.9.9');
  assertRefused(await pins(f.path, ['--tag', 'v3.2.4'], { drop: [LEGO] }), f, `lego tag v4.25.2 <${LEGO}>: unreachable: git ls-remote exit 128`);
  const pkgUrl = `${IMMICH_RAW}/server/package.json`;
  const pkg = readFileSync(join(FIXTURES, 'net/raw.githubusercontent.com/immich-app/immich', FIXTURE_COMMIT, 'server/package.json'), 'utf8');
  assertRefused(await pins(f.path, ['--tag', 'v3.2.4'], { files: { [pkgUrl]: pkg.replace('"3.2.4"', '"3.2.3"') } }), f, 'says version 3.2.3, the tag is 3.2.4');
});

no('versions.json edited by someone else while the script ran is not overwritten', async () => {
  const f = versionsFile();
  const edited = f.text.replace('"go": "1.24"', '"go": "1.25"');
  class Racing extends FakeNet {
    override async gitLsRemote(repository: string, refs: string[]): Promise<string> {
      if (repository === LEGO) writeFileSync(f.path, edited);
      return super.gitLsRemote(repository, refs);
    }
  }
  const r = await pins(f.path, ['--tag', 'v3.2.4'], new Racing());
  assert.is(r.code, 1);
  assert.is(r.err, `pins: REFUSED versions.json <${f.path}>: changed on disk while the script ran; versions.json not changed\n`);
  assert.is(readFileSync(f.path, 'utf8'), edited);
});
no.run();

const usage = suite('pins: command line');
usage.after(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

usage('no keyring: one line saying how to make one, before any network access', async () => {
  const f = versionsFile();
  const net = new FakeNet();
  let err = '';
  const code = await run(['--tag', 'v3.2.4', '--versions', f.path], { net, env: {}, cwd: FIXTURES, out: () => {}, err: (t) => (err += t) });
  assert.is(code, 1);
  assert.match(err, /^pins: no Node\.js release keyring: pass --node-keyring FILE or set NODE_RELEASE_KEYRING; make one with `git clone https:\/\/github\.com\/nodejs\/release-keys && .*gpg --dearmor.*` \(npm run pins -- --help\)\n$/);
  assert.equal(net.requests, []);
  assert.is(readFileSync(f.path, 'utf8'), f.text);
});

usage('bad arguments are one line; --help exits 0', async () => {
  const f = versionsFile();
  for (const [args, msg] of [
    [[], '--tag is required'],
    [['--tag', '3.2.4'], '--tag 3.2.4 is not an Immich release tag'],
    [['--tag', 'v3.2.4', '--libvips', 'v8.18.5'], '--libvips v8.18.5: give the version as X.Y.Z'],
    [['--tag', 'v3.2.4', '--bogus'], "Unknown option '--bogus'"],
    [['--tag', 'v3.2.4', '--node-keyring', 'nowhere.gpg'], `Node.js release keyring ${join(FIXTURES, 'nowhere.gpg')} does not exist`],
  ] as Array<[string[], string]>) {
    const r = await pins(f.path, args);
    assert.is(r.code, 1, args.join(' '));
    assert.ok(r.err.startsWith('pins: ') && r.err.endsWith('\n') && !r.err.slice(0, -1).includes('\n'), r.err);
    assert.match(r.err, msg);
  }
  const help = await pins(f.path, ['--help']);
  assert.is(help.code, 0);
  assert.match(help.out, /^usage: npm run pins -- --tag vX\.Y\.Z/);
  assert.is(readFileSync(f.path, 'utf8'), f.text);
});

usage('IMMICH_DISTRIBUTION_DEBUG=1 adds the stack traces after the one line', async () => {
  const f = versionsFile();
  const r = await pins(f.path, ['--tag', 'v3.2.4', '--uv', '0.11.0'], {}, { IMMICH_DISTRIBUTION_DEBUG: '1' });
  assert.is(r.code, 1);
  const [first, ...rest] = r.err.split('\n');
  assert.match(first!, /^pins: REFUSED uv 0\.11\.0/);
  assert.match(rest.join('\n'), /PinError: .*\n\s+at /);
  assert.match(rest.join('\n'), /NetError: HTTP 404 Not Found\n\s+at /);
});

usage('a versions.json that lacks a managed value is refused by name', async () => {
  const f = versionsFile((d) => {
    delete d['uv']!['sha256'];
  });
  const r = await pins(f.path, ['--tag', 'v3.2.4']);
  assert.is(r.err, `pins: REFUSED versions.json <${f.path}>: uv.sha256.amd64 is missing or not a string; versions.json not changed\n`);
  assert.equal(r.net.requests, []);
});
usage.run();
