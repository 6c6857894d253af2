#!/usr/bin/env bash
# `npm run test:e2e`: the product under REAL snapd, in a throw-away qemu VM with no network.
#   1. host tools (apt, idempotent)            4. one VM: driver + scenarios/*.sh inside the guest
#   2. golden image (cached by content hash)   5. results: PASS/FAIL/SKIP lines, then the closing
#   3. the test snaps (3 revisions)               line `N passed, N failed, N skipped`
# env: E2E_CACHE (default /var/cache/immich-distribution-e2e), E2E_ONLY (regex of scenario names),
#      E2E_VM_TIMEOUT (hard limit for the test VM, default 3000 s), E2E_KEEP_RUNS (default 3).
# Exit status: 0 only if the VM finished, at least one check passed and none failed.
# `run.sh --prepare` does only steps 1 and 2 (host tools, golden image) and exits: npm test starts
# it in the background at the beginning, so a fresh machine downloads and builds the image while
# the other tiers run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
T0=$SECONDS

[ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot, apt); CI and the dev machines are root"

# --- 1. Host tools.
HOST_PKGS=(qemu-system-x86 qemu-utils debootstrap e2fsprogs squashfs-tools busybox-static curl)
missing=()
for p in "${HOST_PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing host packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q > /dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" > /dev/null
fi
# pgvector, node and the npm dependencies come from the project's own set-up.
if [ ! -f /usr/lib/postgresql/15/lib/vector.so ] || [ ! -d "$REPO_ROOT/node_modules/yaml" ]; then
  bash "$REPO_ROOT/scripts/setup-test-env.sh"
fi
mkdir -p "$E2E_CACHE"

# --- 2. Image.
t=$SECONDS
IMG="$("$E2E_DIR/build-image.sh")"
# The builder's one result: an image dir with a golden image. Anything else is a builder bug.
[ -d "$IMG" ] && [ -f "$IMG/golden.qcow2" ] || die "build-image.sh printed '$(head -c 200 <<<"$IMG")', not an image dir with golden.qcow2"
T_IMAGE=$((SECONDS - t))

if [ "${1:-}" = --prepare ]; then
  log "prepared in $T_IMAGE s: $IMG"
  exit 0
fi

# --- 3. Work dir and test snaps.
W="$E2E_CACHE/runs/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$W/share"
t=$SECONDS
"$E2E_DIR/build-test-snap.sh" "$IMG" "$W/snaps"
mkdir -p "$W/share/snaps"
mv "$W"/snaps/*.snap "$W/share/snaps/"
T_SNAPS=$((SECONDS - t))
cp "$W/snaps/workarounds.txt" "$W/share/workarounds.txt" 2> /dev/null || : > "$W/share/workarounds.txt"
cp "$E2E_DIR/guest/driver.sh" "$W/share/run.sh"
cp "$E2E_DIR/guest/lib.sh" "$W/share/lib.sh"
mkdir -p "$W/share/scenarios"
cp "$E2E_DIR"/scenarios/[0-9]*.sh "$W/share/scenarios/"
{ [ -n "${E2E_ONLY:-}" ] && printf 'E2E_ONLY=%q\n' "$E2E_ONLY"; true; } > "$W/share/env"

# --- 4. The VM.
t=$SECONDS
vm_rc=0
E2E_VM_TIMEOUT="${E2E_VM_TIMEOUT:-3000}" E2E_STOP_AFTER_RC="${E2E_STOP_AFTER_RC:-30}" "$E2E_DIR/run-vm.sh" "$IMG" "$W" || vm_rc=$?
T_VM=$((SECONDS - t))
rm -f "$W/overlay.qcow2"

# --- 5. Results.
R="$W/share/out/results.txt"
echo
echo "=== e2e results (work dir $W)"
[ -f "$R" ] && grep -E '^(PASS|FAIL|SKIP) ' "$R"
passed=$(grep -c '^PASS ' "$R" 2> /dev/null || true)
failed=$(grep -c '^FAIL ' "$R" 2> /dev/null || true)
skipped=$(grep -c '^SKIP ' "$R" 2> /dev/null || true)
if [ "$vm_rc" != 0 ] || ! grep -qE '^[0-9]+ passed, [0-9]+ failed' "$R" 2> /dev/null; then
  echo "FAIL e2e/vm-finished: qemu exit $vm_rc; guest driver rc $(cat "$W/share/out/rc" 2> /dev/null || echo none); see $W/console.log"
  failed=$((failed + 1))
fi
echo
echo "--- timings"
cat "$W/share/out/timings.txt" 2> /dev/null || true
echo "image ${T_IMAGE} s, test snaps ${T_SNAPS} s, VM ${T_VM} s, total $((SECONDS - T0)) s"
# Keep the last few work dirs for inspection.
ls -1dt "$E2E_CACHE"/runs/*/ 2> /dev/null | tail -n +"$(( ${E2E_KEEP_RUNS:-3} + 1 ))" | xargs -r rm -rf
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
