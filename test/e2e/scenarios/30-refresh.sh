# Refresh to a second revision (x2) with a pending migration: the data is made to look as if an
# older Immich wrote it (state.json immichVersion), so the new revision's post-refresh has work.
installed || { fail snap-installed "install scenario failed"; return 0 2> /dev/null || exit 0; }
pw_before="$(snap get "$SNAP_NAME" database-password 2>/dev/null)"
old_immich="$(sed -n 's/.*"immichVersion": *"\([^"]*\)".*/\1/p' "$COMMON/state.json")"
note "state.json before: $(tr -d '\n' < "$COMMON/state.json")"
# Pending migration: pretend the data was written by an older Immich.
sed -i 's/"immichVersion": *"[^"]*"/"immichVersion": "0.0.1-e2e-old"/' "$COMMON/state.json"

if timed refresh-to-x2 snap install --dangerous "$SNAPS/immich-distribution_r2.snap" > "$OUT/refresh-x2.out" 2>&1; then
  pass refresh-rc0
else
  fail refresh-rc0 "$(tail -n 5 "$OUT/refresh-x2.out" | tr '\n' ' ' | cut -c1-400)"; dump_last_change
fi
check_eq current-is-x2 x2 "$(current_rev)"
check_eq version-x2 "$(sed -n 's/^version: //p' /snap/$SNAP_NAME/x2/meta/snap.yaml)" "$(snap list "$SNAP_NAME" | awk 'NR == 2 { print $2 }')"
check x1-kept-disabled sh -c "snap list --all $SNAP_NAME | grep -q 'x1.*disabled'"
check data-x2-copied test -s /var/snap/$SNAP_NAME/x2/etc/postgres/postgresql.conf
for app in postgres redis immich-server; do
  if wait_for 60 service_active "$app"; then pass "service-$app-active-on-x2"; else fail "service-$app-active-on-x2" "state $(service_state "$app")"; fi
done
check postgres-runs-x2-binary sh -c "ps -eo args | grep -q '^/snap/$SNAP_NAME/x2/usr/lib/postgresql/[^ ]*/postgres'"
wait_for 30 sql immich 'select 1'
check_eq marker-row-survives-refresh from-x1 "$(sql immich 'select v from e2e_marker' 2>&1)"
check_eq password-unchanged "$pw_before" "$(snap get "$SNAP_NAME" database-password 2>/dev/null)"
check_eq http-port-kept 8480 "$(snap get "$SNAP_NAME" http.port 2>/dev/null)"

now_immich="$(sed -n 's/.*"immichVersion": *"\([^"]*\)".*/\1/p' "$COMMON/state.json")"
if hook_is_stub post-refresh; then
  skip migration-applied "the post-refresh hook is a placeholder (\"nothing to do yet\"): state.json still says immichVersion $now_immich"
  # Put the real value back so later scenarios see consistent data.
  sed -i "s/\"immichVersion\": *\"[^\"]*\"/\"immichVersion\": \"$old_immich\"/" "$COMMON/state.json"
else
  check_eq migration-applied "$old_immich" "$now_immich"
fi
