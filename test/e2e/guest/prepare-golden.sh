#!/bin/bash
# Runs INSIDE the VM once, to turn a fresh overlay into the golden image: snapd seeded, and the
# local stand-ins for the store's `snapd` snap and the `core24` base installed.
set -euo pipefail
S=/host/snaps
t0=$(date +%s)
snap version
snap wait system seed.loaded
snap install --dangerous "$S/snapd.snap"
snap install --dangerous "$S/core24.snap"
snap list
echo "prepared in $(( $(date +%s) - t0 )) s (guest uptime $(cut -d' ' -f1 /proc/uptime) s)"
sync
