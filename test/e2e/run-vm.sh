#!/usr/bin/env bash
# One throw-away VM run: boots a qcow2 overlay of $E2E_BACKING (default: the golden image), whose
# e2e-runner unit runs WORKDIR/share/run.sh from the 9p share and powers off. Results are plain
# files in WORKDIR/share/out/. The guest has NO network (-nic none).
#
# usage: run-vm.sh IMAGE_DIR WORKDIR
# env:   E2E_BACKING     backing image (default IMAGE_DIR/golden.qcow2)
#        E2E_VM_TIMEOUT  hard limit in seconds for the whole VM (default 3000); on expiry qemu is
#                        stopped by ITS OWN PID (TERM, then KILL) and the run fails
#        E2E_VM_MEM      guest memory (default 4G)
#        E2E_STOP_AFTER_RC  seconds to wait for the guest's own power-off once its runner wrote
#                        share/out/rc (the results are final then; the overlay is thrown away);
#                        qemu is stopped after that. Unset: wait for the power-off (golden image).
# The default hard limit leaves room for a machine twice as slow as the one the timings in
# test/e2e/README.md were measured on.
# Exit status: 0 if the VM powered off by itself, 124 on timeout, qemu's status otherwise.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

IMG="${1:?usage: run-vm.sh IMAGE_DIR WORKDIR}"
W="${2:?usage: run-vm.sh IMAGE_DIR WORKDIR}"
BACKING="${E2E_BACKING:-$IMG/golden.qcow2}"
TIMEOUT="${E2E_VM_TIMEOUT:-3000}"
case "$BACKING" in *.qcow2) BF=qcow2 ;; *) BF=raw ;; esac
[ -f "$W/share/run.sh" ] || die "$W/share/run.sh missing"
rm -rf "$W/share/out" "$W/overlay.qcow2" "$W/qemu.pid"
mkdir -p "$W/share/out"
qemu-img create -q -f qcow2 -b "$BACKING" -F "$BF" "$W/overlay.qcow2"

# KVM on this kind of machine is PVM-only (stock kernels hang at boot): software emulation (TCG).
ACCEL="${E2E_QEMU_ACCEL:--accel tcg,thread=multi -cpu max}"
# shellcheck disable=SC2086
qemu-system-x86_64 $ACCEL -m "${E2E_VM_MEM:-4G}" -smp 2 \
  -display none -monitor none -serial "file:$W/console.log" -nic none -no-reboot \
  -kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" \
  -append "console=ttyS0 root=/dev/vda rw quiet systemd.show_status=0 ${E2E_KERNEL_ARGS:-}" \
  -drive "file=$W/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe" \
  -virtfs "local,path=$W/share,mount_tag=host,security_model=none,id=host" &
qpid=$!
echo "$qpid" > "$W/qemu.pid"

stop_qemu() {
  if kill -0 "$qpid" 2> /dev/null; then
    kill -TERM "$qpid" 2> /dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$qpid" 2> /dev/null || return 0; sleep 1; done
    kill -KILL "$qpid" 2> /dev/null || true
  fi
}
trap 'stop_qemu' EXIT
trap 'log "interrupted: stopping qemu (pid $qpid)"; stop_qemu; exit 130' INT TERM

start=$SECONDS
rc=0
finished_at=
while kill -0 "$qpid" 2> /dev/null; do
  if [ -n "${E2E_STOP_AFTER_RC:-}" ] && [ -f "$W/share/out/rc" ]; then
    finished_at="${finished_at:-$SECONDS}"
    if [ $((SECONDS - finished_at)) -ge "$E2E_STOP_AFTER_RC" ]; then
      log "guest runner finished (rc $(cat "$W/share/out/rc")) but the guest has not powered off after ${E2E_STOP_AFTER_RC}s: stopping qemu"
      stop_qemu
      wait "$qpid" 2> /dev/null || true
      trap - EXIT
      log "VM ran $((SECONDS - start)) s (stopped after the runner finished)"
      exit 0
    fi
  fi
  if [ $((SECONDS - start)) -ge "$TIMEOUT" ]; then
    log "VM timeout after ${TIMEOUT}s: stopping qemu pid $qpid"
    stop_qemu
    wait "$qpid" 2> /dev/null || true
    echo "timeout after ${TIMEOUT}s" > "$W/vm-timeout"
    exit 124
  fi
  sleep 1
done
wait "$qpid" || rc=$?
trap - EXIT
log "VM ran $((SECONDS - start)) s (qemu exit $rc)"
exit "$rc"
