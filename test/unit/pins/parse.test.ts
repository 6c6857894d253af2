import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  miseLockedTool,
  parseGpgvStatus,
  parseNvmrc,
  parseServerPackage,
  parseSha256Sidecar,
  parseShasums,
  pnpmLockServerSharp,
  tagCommit,
  uvLockRequiresPython,
} from '../../../scripts/pins/parse.js';
import { parseToml, Unparsed } from '../../../scripts/pins/toml.js';
import { FIXTURE_COMMIT, FIXTURES } from './fake-net.js';

const tagFile = (path: string) => readFileSync(join(FIXTURES, 'net/raw.githubusercontent.com/immich-app/immich', FIXTURE_COMMIT, path), 'utf8');

const toml = suite('pins: the mise.lock TOML reader');
toml('arrays of tables, sub-tables under the last element, quoted and dotted keys, escapes, comments', () => {
  const t = parseToml(
    [
      '# generated',
      '[[tools."github:a/b"]]',
      'version = "1.0"',
      "backend = 'literal \\n stays'",
      '[tools."github:a/b".options]',
      'asset_pattern = "x_*_y" # trailing comment',
      '[[tools."github:a/b"]]',
      'version = "2.0"',
      '[tools."github:a/b"."platforms.linux-x64"]',
      'checksum = "sha256:\\u0041"',
      'count = 3',
      'inline = { a = 1, b = [1, 2] }',
      '[tools.node]',
      'a.b = "dotted"',
    ].join('\n'),
  );
  const tools = t['tools'] as Record<string, unknown>;
  const ab = tools['github:a/b'] as Array<Record<string, unknown>>;
  assert.is(ab.length, 2);
  assert.is(ab[0]!['version'], '1.0');
  assert.is(ab[0]!['backend'], 'literal \\n stays');
  assert.equal(ab[0]!['options'], { asset_pattern: 'x_*_y' });
  assert.is(ab[1]!['version'], '2.0');
  assert.equal((ab[1]!['platforms.linux-x64'] as Record<string, unknown>)['checksum'], 'sha256:A');
  assert.instance((ab[1]!['platforms.linux-x64'] as Record<string, unknown>)['count'], Unparsed);
  assert.equal(tools['node'], { a: { b: 'dotted' } });
});

toml('what a line reader cannot do is an error naming the line, not a silent misread', () => {
  assert.throws(() => parseToml('a = """\nx\n"""'), /line 1: multi-line strings/);
  assert.throws(() => parseToml('ok = "1"\nwheels = [\n  "x",\n]'), /line 2: values spanning several lines/);
  assert.throws(() => parseToml('a = "1"\na = "2"'), /line 2: duplicate key 'a'/);
  assert.throws(() => parseToml('a = "unterminated'), /line 1: unterminated string/);
  assert.throws(() => parseToml('[x] junk'), /line 1: unexpected 'junk'/);
});
toml.run();

const mise = suite('pins: mise.lock tools');
mise("the fixture (Immich's real mise.lock at 235daff5) gives js-pdk and binaryen for both Linux platforms", () => {
  const lock = tagFile('mise.lock');
  const js = miseLockedTool(lock, 'github:extism/js-pdk');
  assert.is(js.version, '1.6.0');
  assert.equal(js.platforms['linux-x64'], {
    url: 'https://github.com/extism/js-pdk/releases/download/v1.6.0/extism-js-x86_64-linux-v1.6.0.gz',
    sha256: '4ded271ccf465031ccd0dc35e7a140e134d7f30721671cc4a8e1ff805d4aad68',
  });
  assert.equal(js.platforms['linux-arm64'], {
    url: 'https://github.com/extism/js-pdk/releases/download/v1.6.0/extism-js-aarch64-linux-v1.6.0.gz',
    sha256: '15a186250e68d6bff4ec839fff275d45a90e383a69209dcc1239eb9e3aee6e1b',
  });
  const bin = miseLockedTool(lock, 'github:webassembly/binaryen');
  assert.is(bin.version, 'version_124');
  assert.is(bin.platforms['linux-x64']?.sha256, '0290c3779fedf592b8da0ded3032ff55c41a2b7bfa2d6bf7b7bac6f0e6e28963');
  assert.is(bin.platforms['linux-arm64']?.sha256, '6291bd9a57d8e046f3bc099a4db386c147433a87f71c783a901c5b1792e38de3');
  assert.is(miseLockedTool(lock, 'node').version, '24.15.0');
});

mise('a tool locked several times, a missing tool and a checksum that is not sha256 are told apart', () => {
  const lock = tagFile('mise.lock');
  assert.throws(() => miseLockedTool(lock, 'github:jellyfin/jellyfin-ffmpeg'), /locked 5 times, expected once/);
  assert.throws(() => miseLockedTool(lock, 'github:nobody/nothing'), /no \[\[tools."github:nobody\/nothing"\]\] entry/);
  const md5 = '[[tools.x]]\nversion = "1"\n[tools.x."platforms.linux-x64"]\nchecksum = "md5:abc"\nurl = "https://e/x"\n';
  assert.equal(miseLockedTool(md5, 'x').platforms, {});
});
mise.run();

const files = suite("pins: the tag's other version files");
files('.nvmrc: an exact version, with or without v; aliases are refused', () => {
  assert.is(parseNvmrc(tagFile('.nvmrc')), '24.15.0');
  assert.is(parseNvmrc('v24.15.0\n'), '24.15.0');
  assert.throws(() => parseNvmrc('lts/*\n'), /not an exact Node version/);
  assert.throws(() => parseNvmrc('24\n'), /not an exact Node version/);
  assert.throws(() => parseNvmrc(''), /found 0/);
});

files('uv.lock: requires-python from the head only', () => {
  assert.is(uvLockRequiresPython(tagFile('machine-learning/uv.lock')), '>=3.11, <4.0');
  assert.throws(() => uvLockRequiresPython('version = 1\n[[package]]\nrequires-python = ">=3.9"\n'), /no top-level requires-python/);
});

files('server/package.json: version and the sharp range; pnpm-lock.yaml: the sharp the server installs', () => {
  assert.equal(parseServerPackage(tagFile('server/package.json')), { version: '3.2.4', sharpRange: '^0.35.3' });
  assert.throws(() => parseServerPackage('{"version":"1.0.0","dependencies":{}}'), /no "sharp"/);
  assert.throws(() => parseServerPackage('{'), /not JSON/);
  assert.equal(pnpmLockServerSharp(tagFile('pnpm-lock.yaml')), { specifier: '^0.35.3', version: '0.35.3' });
  // Only importers.server.dependencies counts: not e2e's, not a devDependency.
  const elsewhere = 'importers:\n\n  e2e:\n    dependencies:\n      sharp:\n        specifier: ^0.35.3\n        version: 0.35.3\n\n  server:\n    devDependencies:\n      sharp:\n        specifier: ^0.35.3\n        version: 0.35.3\n';
  assert.throws(() => pnpmLockServerSharp(elsewhere), /no importers.server.dependencies.sharp entry/);
  const peers = "importers:\n  server:\n    dependencies:\n      sharp:\n        specifier: '^0.35.6'\n        version: 0.35.6(patch_hash=abc)\n";
  assert.equal(pnpmLockServerSharp(peers), { specifier: '^0.35.6', version: '0.35.6' });
});
files.run();

const sums = suite('pins: checksum lists, ls-remote and gpgv output');
sums("SHASUMS256.txt (the real 24.15.0 lines); a name with two different sums is an error", () => {
  const s = parseShasums(readFileSync(join(FIXTURES, 'net/nodejs.org/dist/v24.15.0/SHASUMS256.txt'), 'utf8'));
  assert.is(s.get('node-v24.15.0-linux-x64.tar.xz'), '472655581fb851559730c48763e0c9d3bc25975c59d518003fc0849d3e4ba0f6');
  assert.is(s.get('node-v24.15.0-linux-arm64.tar.xz'), 'f3d5a797b5d210ce8e2cb265544c8e482eaedcb8aa409a8b46da7e8595d0dda0');
  assert.is(s.size, 4);
  assert.throws(() => parseShasums(`${'a'.repeat(64)}  f\n${'b'.repeat(64)}  f\n`), /two different sums for f/);
  assert.throws(() => parseShasums('-----BEGIN PGP SIGNED MESSAGE-----\n'), /unexpected line/);
});

sums('.sha256 sidecars: hex first, the name optional and possibly *-marked', () => {
  assert.equal(parseSha256Sidecar(`${'A'.repeat(64)}  uv-x.tar.gz\n`), { sha256: 'a'.repeat(64), name: 'uv-x.tar.gz' });
  assert.equal(parseSha256Sidecar(`${'a'.repeat(64)} *uv-x.tar.gz`), { sha256: 'a'.repeat(64), name: 'uv-x.tar.gz' });
  assert.equal(parseSha256Sidecar(`${'a'.repeat(64)}\n`), { sha256: 'a'.repeat(64) });
  assert.throws(() => parseSha256Sidecar('<html>Not Found</html>'), /not '<sha256>  <file>'/);
});

sums('ls-remote: the peeled commit of an annotated tag wins; a lightweight tag is its own commit', () => {
  const annotated = `${'1'.repeat(40)}\trefs/tags/v3.2.4\n${'2'.repeat(40)}\trefs/tags/v3.2.4^{}\n`;
  assert.is(tagCommit(annotated, 'v3.2.4'), '2'.repeat(40));
  assert.is(tagCommit(`${'3'.repeat(40)}\trefs/tags/1.1.1\n`, '1.1.1'), '3'.repeat(40));
  assert.is(tagCommit(`${'3'.repeat(40)}\trefs/tags/v1.1.1\n`, '1.1.1'), undefined);
  assert.is(tagCommit('', 'v1'), undefined);
});

sums('gpgv status: good only with GOODSIG and VALIDSIG and exit 0; the signer is the primary fingerprint', () => {
  const good = [
    '[GNUPG:] NEWSIG',
    '[GNUPG:] GOODSIG FAD57D8C6E09BDC0 pins test release key',
    '[GNUPG:] VALIDSIG 0A178CD0FE03CB4F8780980A039F94E89826F891 2026-04-15 1 0 4 0 22 8 00 5BE8A3F6C8A5C01D106C0AD820B1A390B168D356',
  ].join('\n');
  assert.equal(parseGpgvStatus(good, 0), { ok: true, signer: '5BE8A3F6C8A5C01D106C0AD820B1A390B168D356', detail: 'good signature by 5BE8A3F6C8A5C01D106C0AD820B1A390B168D356' });
  assert.is(parseGpgvStatus(good, 1).ok, false);
  assert.is(parseGpgvStatus('[GNUPG:] BADSIG FAD57D8C6E09BDC0 x', 1).detail, 'gpgv reports BADSIG: FAD57D8C6E09BDC0');
  assert.match(parseGpgvStatus('[GNUPG:] ERRSIG F5C3480103683A7E 22 8 00 1 9 X\n[GNUPG:] NO_PUBKEY F5C3480103683A7E', 2).detail, /not in the keyring/);
  assert.match(parseGpgvStatus(`${good}\n[GNUPG:] EXPKEYSIG FAD57D8C6E09BDC0 x`, 0).detail, /EXPKEYSIG/);
  assert.is(parseGpgvStatus('', 2).ok, false);
});
sums.run();
