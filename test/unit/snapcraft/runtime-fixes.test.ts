// snap/local/runtime-fixes.sh, the recipe's changes to staged binaries, run on a stand-in $SNAP
// made of this machine's Debian binaries (the same script runs in snapcraft.yaml's parts, on the
// e2e test snap and on the harness's fake $SNAP).
//
// pg-client-rpath: Immich's built-in backup spawns /usr/lib/postgresql/<major>/bin/pg_dump with the
// environment replaced by {PATH, PGPASSWORD} (docs/upstream/immich-runtime.md §3). Inside a snap,
// libpq exists only under $SNAP/usr/lib/<triplet>. To see that here, the host's own libpq is hidden
// in a private mount namespace (as it is absent from core24): without the fix pg_dump cannot even
// start; with it, it runs.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from '../../harness/fake-snap.js';

const FIXES = join(repoRoot, 'snap/local/runtime-fixes.sh');
const TRIPLET = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
const HOST_LIBPQ = realpathSync(`/usr/lib/${TRIPLET}/libpq.so.5`);
/** The newest Postgres client of this machine (Debian 12 here: 15; Ubuntu runners: 16 or newer). */
const HOST_MAJOR = readdirSync('/usr/lib/postgresql').filter((m) => existsSync(`/usr/lib/postgresql/${m}/bin/pg_dump`)).sort((a, b) => Number(b) - Number(a))[0];
if (HOST_MAJOR === undefined) throw new Error('no /usr/lib/postgresql/<major>/bin/pg_dump on this machine (scripts/setup-test-env.sh installs it)');
const HOST_PG_DUMP = `/usr/lib/postgresql/${HOST_MAJOR}/bin/pg_dump`;

/** A stand-in $SNAP with pg_dump and libpq staged the Debian way, and python3. */
function stage(): string {
  const root = mkdtempSync(join(tmpdir(), 'runtime-fixes-'));
  mkdirSync(join(root, `usr/lib/postgresql/${HOST_MAJOR}/bin`), { recursive: true });
  mkdirSync(join(root, `usr/lib/${TRIPLET}`), { recursive: true });
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  copyFileSync(HOST_PG_DUMP, join(root, `usr/lib/postgresql/${HOST_MAJOR}/bin/pg_dump`));
  copyFileSync(HOST_LIBPQ, join(root, `usr/lib/${TRIPLET}/libpq.so.5`));
  symlinkSync('/usr/bin/python3', join(root, 'usr/bin/python3'));
  return root;
}

/** Runs pg_dump as Immich spawns it (env = {PATH, PGPASSWORD}) with the host's libpq hidden. */
function pgDumpWithoutHostLibpq(root: string): { status: number | null; stderr: string } {
  const pgDump = join(root, `usr/lib/postgresql/${HOST_MAJOR}/bin/pg_dump`);
  const r = spawnSync(
    'unshare',
    ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind /dev/null "$1" && exec env -i PATH=/usr/bin:/bin PGPASSWORD=x "$2" --version', 'sh', HOST_LIBPQ, pgDump],
    { encoding: 'utf8' },
  );
  return { status: r.status, stderr: r.stderr };
}

test('pg-client-rpath: pg_dump runs with Immich\'s stripped environment only after the fix', () => {
  const root = stage();
  try {
    const before = pgDumpWithoutHostLibpq(root);
    assert.is.not(before.status, 0, 'pg_dump ran without the fix: the test cannot tell the fix from none');
    assert.match(before.stderr, 'libpq.so.5');

    execFileSync('bash', [FIXES, 'pg-client-rpath', root, TRIPLET], { stdio: 'pipe' });
    const after = pgDumpWithoutHostLibpq(root);
    assert.is(after.status, 0, after.stderr);
    const rpath = execFileSync('patchelf', ['--print-rpath', join(root, `usr/lib/postgresql/${HOST_MAJOR}/bin/pg_dump`)], { encoding: 'utf8' }).trim();
    assert.is(rpath, `$ORIGIN/../../../${TRIPLET}:$ORIGIN/../../../../../lib/${TRIPLET}`);
    // DT_RPATH (searched for libpq's own dependencies too), not DT_RUNPATH.
    const dyn = execFileSync('readelf', ['-d', join(root, `usr/lib/postgresql/${HOST_MAJOR}/bin/pg_dump`)], { encoding: 'utf8' });
    assert.match(dyn, '(RPATH)');
    assert.not.match(dyn, '(RUNPATH)');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('python-alias: `python` on the snap\'s PATH is its python3 (Immich ML re-executes `python`)', () => {
  const root = stage();
  try {
    const path = `${join(root, 'usr/bin')}:/nonexistent`;
    const before = spawnSync('python', ['-c', 'print(1)'], { env: { PATH: path }, encoding: 'utf8' });
    assert.ok(before.error !== undefined || before.status !== 0, 'a `python` was found before the fix');
    execFileSync('bash', [FIXES, 'python-alias', root], { stdio: 'pipe' });
    assert.is(readlinkSync(join(root, 'usr/bin/python')), 'python3');
    const after = spawnSync('python', ['-c', 'import sys; print(sys.version_info[0])'], { env: { PATH: path }, encoding: 'utf8' });
    assert.is(after.stdout.trim(), '3', after.stderr);
    execFileSync('bash', [FIXES, 'pg-client-rpath', root, TRIPLET], { stdio: 'pipe' });
    execFileSync('bash', [FIXES, 'check', root, TRIPLET], { stdio: 'pipe' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('python-alias prefers the newest python3.x the recipe staged', () => {
  const root = stage();
  try {
    for (const v of ['3.9', '3.12', '3.11']) symlinkSync('/usr/bin/python3', join(root, `usr/bin/python${v}`));
    execFileSync('bash', [FIXES, 'python-alias', root], { stdio: 'pipe' });
    assert.is(readlinkSync(join(root, 'usr/bin/python')), 'python3.12');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('check fails when a fix is missing', () => {
  const root = stage();
  try {
    assert.throws(() => execFileSync('bash', [FIXES, 'check', root, TRIPLET], { stdio: 'pipe' }));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
