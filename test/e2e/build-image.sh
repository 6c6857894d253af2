#!/usr/bin/env bash
# Builds (once per content hash) the throw-away VM's golden image into $(image_dir):
#   rootfs/         the guest's Debian ($E2E_GUEST_SUITE) with snapd, kernel, a 9p test-runner unit
#   vmlinuz, initrd.img, base.img (raw ext4 of rootfs, sparse)
#   snaps/          local stand-ins snapd has no store to fetch: `snapd` (type snapd, no binaries)
#                   and `core24` (type base, a Debian $E2E_BASE_SUITE minbase rootfs)
#   golden.qcow2    overlay of base.img after one boot: seeded, both stand-ins installed
# Prints the image dir on stdout, and nothing else: run.sh captures it. Every command below writes
# to stderr (fd 1 is pointed there at once; the result goes to the saved stdout, fd 3), so no tool's
# chatter (mkfs.ext4 prints "Creating regular file ..." on a cold build even with -q) can become
# part of the result. Idempotent: an existing complete image is reused as it is.
set -euo pipefail
exec 3>&1 1>&2
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

IMG="$(image_dir)"
mkdir -p "$E2E_CACHE"
# One builder at a time per image (npm test prepares the image in the background while the other
# tiers run; run.sh then waits here and finds it complete).
exec 9> "$IMG.lock"
flock 9
if [ -f "$IMG/golden.qcow2" ] && [ -f "$IMG/COMPLETE" ]; then
  log "golden image cached: $IMG"
  echo "$IMG" >&3
  exit 0
fi
[ "$(id -u)" = 0 ] || die "build-image.sh needs root (debootstrap, chroot)"
mkdir -p "$IMG"
t0=$SECONDS

# --- 1. Debian minbase rootfs for the local `core24` base (in the background, beside step 2).
build_base() {
  local B="$IMG/base-rootfs"
  [ -f "$B/.complete" ] && return 0
  rm -rf "$B"
  debootstrap --variant=minbase "$E2E_BASE_SUITE" "$B" "$E2E_MIRROR" > "$IMG/debootstrap-base.log" 2>&1
  rm -rf "$B"/var/cache/apt/* "$B"/var/lib/apt/lists/* "$B"/usr/share/doc "$B"/usr/share/man \
    "$B"/usr/share/locale "$B"/usr/share/info
  # Mount points snap-confine needs in a base, and snapctl where core24 has it.
  mkdir -p "$B"/{meta,snap,var/snap,var/lib/snapd,usr/lib/snapd,lib/modules,lib/firmware,usr/src,writable,media,mnt,var/lib/extrausers,home,root,tmp,run}
  ln -sfn ../lib/snapd/snapctl "$B/usr/bin/snapctl"
  cat > "$B/meta/snap.yaml" <<Y
name: core24
version: 'e2e-debian-$E2E_BASE_SUITE-minbase'
summary: local stand-in for core24 (Debian $E2E_BASE_SUITE minbase)
description: made by test/e2e/build-image.sh; NOT Ubuntu 24.04
type: base
Y
  touch "$B/.complete"
}
build_base &
base_pid=$!

# --- 2. The guest rootfs.
R="$IMG/rootfs"
if [ ! -f "$R/.complete" ]; then
  rm -rf "$R"
  log "debootstrap $E2E_GUEST_SUITE guest rootfs (about 2-3 min)"
  # debootstrap resolves no virtual packages or alternatives: name dbus-user-session and
  # libpam-systemd (snapd's default-dbus-session-bus | dbus-session-bus) and gnupg ourselves.
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,udev,dbus,dbus-user-session,libpam-systemd,kmod,snapd,squashfs-tools,linux-image-amd64,initramfs-tools,busybox-static,procps,curl,ca-certificates,gnupg,openssh-client,sudo,iproute2 \
    "$E2E_GUEST_SUITE" "$R" "$E2E_MIRROR" > "$IMG/debootstrap-guest.log" 2>&1 || {
    tail -30 "$IMG/debootstrap-guest.log" >&2; die "debootstrap of the guest failed"; }
  chroot "$R" dpkg -s snapd > /dev/null || die "snapd did not configure in the guest rootfs"
  echo e2e-snapvm > "$R/etc/hostname"
  : > "$R/etc/resolv.conf"
  cat > "$R/etc/fstab" <<'T'
/dev/vda  /      ext4  rw,errors=remount-ro  0 1
host      /host  9p    trans=virtio,version=9p2000.L,msize=262144,nofail,x-systemd.device-timeout=5s  0 0
T
  mkdir -p "$R/host"
  chroot "$R" passwd -d root > /dev/null
  # Root autologin on the serial console (only for debugging with E2E_INTERACTIVE=1).
  mkdir -p "$R/etc/systemd/system/serial-getty@ttyS0.service.d"
  printf '[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --noclear %%I 115200 linux\n' \
    > "$R/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf"
  # The test runner: runs /host/run.sh from the 9p share, records its status, powers off.
  # Ordered only after the share and snapd.socket: ordering it after multi-user.target would wait
  # for snapd.seeded.service (~35 s offline).
  cat > "$R/etc/systemd/system/e2e-runner.service" <<'T'
[Unit]
Description=immich-distribution e2e: run /host/run.sh from the 9p share, then power off
Wants=snapd.socket
After=host.mount snapd.socket
RequiresMountsFor=/host
ConditionPathExists=/host/run.sh

[Service]
Type=oneshot
StandardOutput=journal+console
StandardError=journal+console
ExecStart=/bin/sh -c 'mkdir -p /host/out; /bin/bash /host/run.sh > /host/out/run.log 2>&1; echo $? > /host/out/rc; sync'
ExecStopPost=/bin/systemctl --no-block poweroff
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
T
  chroot "$R" systemctl enable e2e-runner.service > /dev/null 2>&1
  # Offline: a fresh /var/cache/snapd/names postpones snapd's store catalog refresh, which would
  # otherwise block its ensure loop (and every queued change) for ~35 s after each start.
  mkdir -p "$R/etc/systemd/system/snapd.service.d"
  cat > "$R/etc/systemd/system/snapd.service.d/offline.conf" <<'T'
[Service]
ExecStartPre=/bin/sh -c 'mkdir -p /var/cache/snapd && touch /var/cache/snapd/names'
T
  # No network in the guest: don't wait for it.
  chroot "$R" systemctl mask systemd-networkd-wait-online.service > /dev/null 2>&1 || true
  rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/*
  touch "$R/.complete"
fi
cp "$(ls "$R"/boot/vmlinuz-* | sort -V | tail -1)" "$IMG/vmlinuz"
cp "$(ls "$R"/boot/initrd.img-* | sort -V | tail -1)" "$IMG/initrd.img"
rm -f "$IMG/base.img"
mkfs.ext4 -q -L root -d "$R" "$IMG/base.img" 4G

wait "$base_pid" || { tail -30 "$IMG/debootstrap-base.log" >&2; die "debootstrap of the base failed"; }

# --- 3. Stand-in snaps, packed by the guest's own `snap pack` in a chroot (no daemon needed).
S="$IMG/snaps-src"; rm -rf "$S"; mkdir -p "$S/snapd/meta" "$S/snapd/etc/apparmor.d" "$S/snapd/usr/lib/snapd"
# `snapd` (type snapd): the prerequisite snapd insists on before any non-core base. It holds only
# the vanilla snap-confine AppArmor profile and the info file, no binaries, so the deb's snapd
# never re-executes into it.
conf="$R/etc/apparmor.d/usr.lib.snapd.snap-confine.real"
[ -f "$conf" ] || conf="$R/etc/apparmor.d/usr.lib.snapd.snap-confine"
cp "$conf" "$S/snapd/etc/apparmor.d/usr.lib.snapd.snap-confine"
cp "$R/usr/lib/snapd/info" "$S/snapd/usr/lib/snapd/info"
snapd_ver="$(sed -n 's/^VERSION=//p' "$R/usr/lib/snapd/info")"
printf "name: snapd\nversion: '%s'\nsummary: local stand-in for the snapd snap\ndescription: offline prerequisite, no binaries\ntype: snapd\n" \
  "${snapd_ver%%+*}" > "$S/snapd/meta/snap.yaml"
mkdir -p "$IMG/snaps"
pack_in_guest_rootfs() { # SRC_DIR OUT_DIR
  local src="$1" out="$2" name
  name="$(basename "$src")"
  rm -rf "$R/tmp/pack"; mkdir -p "$R/tmp/pack/out"
  cp -a "$src" "$R/tmp/pack/$name"
  chroot "$R" snap pack --compression=lzo "/tmp/pack/$name" /tmp/pack/out 2>&1 | grep -v '/proc/self/exe' >&2 || true
  ls "$R"/tmp/pack/out/*.snap > /dev/null 2>&1 || die "snap pack of $name failed"
  mv "$R"/tmp/pack/out/*.snap "$out/"
  rm -rf "$R/tmp/pack"
}
rm -f "$IMG"/snaps/*.snap
pack_in_guest_rootfs "$S/snapd" "$IMG/snaps"
pack_in_guest_rootfs "$IMG/base-rootfs" "$IMG/snaps"
(cd "$IMG/snaps" && for f in snapd_*.snap; do mv "$f" snapd.snap; done && for f in base-rootfs*.snap core24_*.snap; do [ -f "$f" ] && mv "$f" core24.snap; done; true)
ls -la "$IMG/snaps" >&2
log "image files built in $((SECONDS - t0)) s; making the golden image"

# --- 4. Golden image: boot once, let snapd seed, install the stand-ins, power off.
W="$IMG/golden-run"; rm -rf "$W"; mkdir -p "$W/share/snaps"
cp "$IMG/snaps/snapd.snap" "$IMG/snaps/core24.snap" "$W/share/snaps/"
cp "$E2E_DIR/guest/prepare-golden.sh" "$W/share/run.sh"
E2E_BACKING="$IMG/base.img" E2E_VM_TIMEOUT="${E2E_GOLDEN_TIMEOUT:-900}" \
  "$E2E_DIR/run-vm.sh" "$IMG" "$W" || die "golden image boot failed; see $W/console.log and $W/share/out/"
[ "$(cat "$W/share/out/rc" 2>/dev/null)" = 0 ] || { cat "$W/share/out/run.log" >&2 || true; die "golden image preparation failed"; }
mv "$W/overlay.qcow2" "$IMG/golden.qcow2"
cp "$W/share/out/run.log" "$IMG/golden-prepare.log"
touch "$IMG/COMPLETE"
log "golden image ready in $((SECONDS - t0)) s: $IMG"
echo "$IMG" >&3
