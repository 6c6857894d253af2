// test/e2e/build-image.sh on a COLD cache, with its heavy tools replaced by stubs that chatter on
// stdout the way the real ones do (mkfs.ext4 prints "Creating regular file …" even with -q; snap
// pack prints "built: …"). run.sh captures the script's stdout as the image dir, so the one thing
// checked here is that a cold build and a cached build both print exactly that dir and nothing
// else. A fresh machine found this: only a cached image had hidden it.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from '../../harness/fake-snap.js';

const STUBS: Record<string, string> = {
  // debootstrap [--variant=…] [--include=…] SUITE DIR MIRROR: a rootfs with what the script reads.
  debootstrap: `#!/bin/bash
dir="\${@: -2:1}"
echo "I: Retrieving InRelease (stub)"
mkdir -p "$dir"/boot "$dir"/usr/lib/snapd "$dir"/etc/apparmor.d "$dir"/usr/bin "$dir"/tmp
touch "$dir"/boot/vmlinuz-6.1.0-stub "$dir"/boot/initrd.img-6.1.0-stub "$dir"/etc/apparmor.d/usr.lib.snapd.snap-confine.real
echo VERSION=2.68.3 > "$dir"/usr/lib/snapd/info
echo "I: Base system installed successfully."
`,
  // chroot DIR CMD…: only `snap pack … SRC OUT` has an effect.
  chroot: `#!/bin/bash
root="$1"; shift
echo "chroot stub: $*"
if [ "$1" = snap ] && [ "$2" = pack ]; then
  src="\${@: -2:1}"; out="\${@: -1}"
  name="$(sed -n 's/^name: *//p' "$root$src/meta/snap.yaml")"
  : > "$root$out/\${name}_1_all.snap"
  echo "built: $out/\${name}_1_all.snap"
fi
exit 0
`,
  'mkfs.ext4': `#!/bin/bash
f="\${@: -2:1}"
echo "Creating regular file $f"
: > "$f"
`,
  'qemu-img': `#!/bin/bash
echo "Formatting '\${@: -1}', fmt=qcow2 (stub)"
: > "\${@: -1}"
`,
  // The golden boot: the guest's prepare script "ran" and wrote its status into the 9p share.
  'qemu-system-x86_64': `#!/bin/bash
for a in "$@"; do case "$a" in local,path=*) share="\${a#local,path=}"; share="\${share%%,*}" ;; esac; done
mkdir -p "$share/out"; echo prepared > "$share/out/run.log"; echo 0 > "$share/out/rc"
echo "qemu stub: booted and powered off"
`,
};

test('build-image.sh prints only the image dir, cold and cached', () => {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-cold-'));
  try {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const [name, body] of Object.entries(STUBS)) {
      writeFileSync(join(bin, name), body);
      chmodSync(join(bin, name), 0o755);
    }
    const env = { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, E2E_CACHE: join(dir, 'cache'), E2E_MIRROR: 'http://stub.invalid/debian' };
    const run = () => spawnSync('bash', [join(repoRoot, 'test/e2e/build-image.sh')], { env, encoding: 'utf8', timeout: 60_000 });

    const cold = run();
    assert.is(cold.status, 0, `cold build failed:\n${cold.stderr}`);
    const lines = cold.stdout.split('\n').filter((l) => l !== '');
    assert.is(lines.length, 1, `stdout must hold only the image dir, got:\n${cold.stdout}`);
    const img = lines[0]!;
    assert.ok(img.startsWith(join(dir, 'cache', 'image-')), img);
    assert.ok(existsSync(join(img, 'golden.qcow2')) && existsSync(join(img, 'COMPLETE')));
    assert.match(cold.stderr, 'Creating regular file', "the stubs' chatter went to stderr");
    assert.match(readFileSync(join(img, 'golden-prepare.log'), 'utf8'), 'prepared');

    const cached = run();
    assert.is(cached.status, 0, cached.stderr);
    assert.is(cached.stdout, `${img}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
