#!/bin/bash
# Runs INSIDE the VM as /host/run.sh (started by e2e-runner.service): runs every
# /host/scenarios/NN-*.sh in order, each under a hard time limit, with its output in
# /host/out/scenarios/<name>.log, then collects diagnostics and writes the closing line
# `N passed, N failed, N skipped` to /host/out/results.txt.
set -uo pipefail
OUT=/host/out
mkdir -p "$OUT/scenarios"
: > "$OUT/results.txt"; : > "$OUT/timings.txt"
SCENARIO_TIMEOUT="${E2E_SCENARIO_TIMEOUT:-600}"
[ -f /host/env ] && source /host/env
echo "guest uptime at driver start: $(cut -d' ' -f1 /proc/uptime) s" >> "$OUT/timings.txt"
{ snap version; echo; snap debug sandbox-features; echo; uname -a; } > "$OUT/snap-version.txt" 2>&1
snap wait system seed.loaded

for s in /host/scenarios/[0-9]*.sh; do
  name="$(basename "$s" .sh)"
  if [ -n "${E2E_ONLY:-}" ] && ! [[ "$name" =~ $E2E_ONLY ]]; then continue; fi
  echo "=== $name" | tee -a "$OUT/timings.txt"
  start=$(date +%s)
  E2E_SCENARIO="$name" timeout -k 10 "$SCENARIO_TIMEOUT" bash -c 'source /host/lib.sh; source "$1"' _ "$s" \
    > "$OUT/scenarios/$name.log" 2>&1
  rc=$?
  [ "$rc" = 124 ] && echo "FAIL $name/finished-in-time: killed after ${SCENARIO_TIMEOUT}s" >> "$OUT/results.txt"
  echo "$(( $(date +%s) - start )) s  $name (exit $rc)" >> "$OUT/timings.txt"
done

# Product bugs the test snap had to work around to get this far: each is a failure of the product.
while IFS= read -r w; do
  [ -n "$w" ] && echo "FAIL product-bug/${w%%:*}: ${w#*: } [worked around in the test snap]" >> "$OUT/results.txt"
done < <(cat /host/workarounds.txt 2> /dev/null)

# Diagnostics for the host (never asserted).
D="$OUT/diag"; mkdir -p "$D"
snap list --all > "$D/snap-list.txt" 2>&1
snap changes > "$D/snap-changes.txt" 2>&1
for id in $(snap changes 2> /dev/null | awk 'NR > 1 { print $1 }'); do echo "== change $id"; snap tasks "$id"; done > "$D/snap-tasks.txt" 2>&1
snap services > "$D/snap-services.txt" 2>&1
snap saved > "$D/snap-saved.txt" 2>&1
journalctl -b --no-pager -o short-monotonic > "$D/journal.txt" 2>&1
journalctl -b --no-pager -u 'snap.immich-distribution.*' > "$D/journal-snap-services.txt" 2>&1
dmesg | grep -i 'apparmor="DENIED"' > "$D/apparmor-denials.txt" 2>&1
echo "guest uptime at driver end: $(cut -d' ' -f1 /proc/uptime) s" >> "$OUT/timings.txt"

p=$(grep -c '^PASS ' "$OUT/results.txt"); f=$(grep -c '^FAIL ' "$OUT/results.txt"); k=$(grep -c '^SKIP ' "$OUT/results.txt")
echo "$p passed, $f failed, $k skipped" | tee -a "$OUT/results.txt"
sync
