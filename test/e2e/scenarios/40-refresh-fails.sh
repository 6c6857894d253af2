# A refresh whose post-refresh fails (x3: the real hook, then an injected failure): snapd undoes it,
# x2 stays current, and x2's services start on their data.
installed || { fail snap-installed "install scenario failed"; return 0 2> /dev/null || exit 0; }
before="$(current_rev)"
if timed refresh-to-x3-failing snap install --dangerous "$SNAPS/immich-distribution_r3.snap" > "$OUT/refresh-x3.out" 2>&1; then
  fail refresh-fails "the refresh to x3 succeeded although its post-refresh fails"
else
  pass refresh-fails
fi
check error-names-post-refresh grep -q 'post-refresh' "$OUT/refresh-x3.out"
check error-shows-hook-output grep -q 'injected post-refresh failure' "$OUT/refresh-x3.out"
check_eq reverted-to-previous "$before" "$(current_rev)"
check x3-gone test ! -e /snap/$SNAP_NAME/x3
for app in postgres redis immich-server; do
  if wait_for 90 service_active "$app"; then pass "service-$app-active-after-undo"; else fail "service-$app-active-after-undo" "state $(service_state "$app")"; fi
done
check postgres-runs-old-binary sh -c "ps -eo args | grep -q '^/snap/$SNAP_NAME/$before/usr/lib/postgresql/[^ ]*/postgres'"
wait_for 30 sql immich 'select 1'
check_eq marker-row-survives-undo from-x1 "$(sql immich 'select v from e2e_marker' 2>&1)"
check_eq http-port-kept 8480 "$(snap get "$SNAP_NAME" http.port 2>/dev/null)"
