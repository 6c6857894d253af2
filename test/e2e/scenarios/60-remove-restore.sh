# snap remove: the automatic snapshot is taken and honours meta/snapshots.yaml's exclusions;
# then the snap is installed again and `snap restore` brings the old data back.
installed || { fail snap-installed "install scenario failed"; return 0 2> /dev/null || exit 0; }
pw_before="$(snap get "$SNAP_NAME" database-password 2>/dev/null)"
# Markers: kept (uploads, Immich's .immich folder markers) and excluded (a user's thumbnails,
# run/, ml-cache) paths. Thumbnails live in thumbs/<user id (a UUID)>/...
THUMBS_USER=thumbs/0f8fad5b-d9cb-469f-a165-70867728950e
mkdir -p "$COMMON/media/upload" "$COMMON/media/$THUMBS_USER/e2" "$COMMON/ml-cache"
echo keep > "$COMMON/media/upload/e2e-kept"
echo drop > "$COMMON/media/$THUMBS_USER/e2/e2e-excluded"
echo drop > "$COMMON/ml-cache/e2e-excluded"
echo drop > "$COMMON/run/e2e-excluded"
rev="$(current_rev)"

if timed remove snap remove "$SNAP_NAME" > "$OUT/remove.out" 2>&1; then pass remove-rc0; else
  fail remove-rc0 "$(tail -n 3 "$OUT/remove.out" | tr '\n' ' ')"; dump_last_change; fi
check snap-gone sh -c "! snap list $SNAP_NAME"
check data-gone test ! -e "$COMMON"
snap saved > "$OUT/saved.txt" 2>&1
set_id="$(awk -v s="$SNAP_NAME" '$2 == s { id = $1 } END { print id }' "$OUT/saved.txt")"
if [ -n "$set_id" ]; then pass automatic-snapshot-taken; else fail automatic-snapshot-taken "$(cat "$OUT/saved.txt")"; fi
zip="$(ls -t /var/lib/snapd/snapshots/"${set_id}"_"${SNAP_NAME}"_*.zip 2> /dev/null | head -n 1)"
rm -rf /tmp/snapshot && mkdir -p /tmp/snapshot
if [ -n "$zip" ] && (cd /tmp/snapshot && busybox unzip -q "$zip"); then
  ls -la /tmp/snapshot > "$OUT/snapshot-members.txt"
  tar -tzf /tmp/snapshot/archive.tgz > "$OUT/snapshot-archive.txt" 2>&1
  for a in /tmp/snapshot/*.tgz; do [ "$a" = /tmp/snapshot/archive.tgz ] || tar -tzf "$a" | sed "s|^|$(basename "$a"): |"; done >> "$OUT/snapshot-archive.txt" 2>&1
fi
check snapshot-has-uploads grep -q 'common/media/upload/e2e-kept' "$OUT/snapshot-archive.txt"
check snapshot-has-cluster grep -q 'common/postgres/15/PG_VERSION' "$OUT/snapshot-archive.txt"
check snapshot-has-secrets grep -q 'common/secrets/database-password' "$OUT/snapshot-archive.txt"
check snapshot-has-revision-data grep -q "^$rev/etc/postgres/postgresql.conf" "$OUT/snapshot-archive.txt"
for p in "media/$THUMBS_USER/e2/e2e-excluded" ml-cache/e2e-excluded run/e2e-excluded; do
  check "snapshot-excludes-${p%%/*}" sh -c "! grep -q 'common/$p' '$OUT/snapshot-archive.txt'"
done
check snapshot-keeps-thumbs-marker grep -q 'common/media/thumbs/.immich' "$OUT/snapshot-archive.txt"

# Install again, then restore the snapshot over the fresh data.
if timed reinstall snap install --dangerous "$SNAPS/immich-distribution_r1.snap" > "$OUT/reinstall.out" 2>&1; then pass reinstall-rc0; else
  fail reinstall-rc0 "$(tail -n 3 "$OUT/reinstall.out" | tr '\n' ' ')"; fi
snap stop "$SNAP_NAME" > /dev/null 2>&1
if timed snap-restore snap restore "$set_id" > "$OUT/restore-snapshot.out" 2>&1; then pass snap-restore-rc0; else
  fail snap-restore-rc0 "$(tail -n 3 "$OUT/restore-snapshot.out" | tr '\n' ' ')"; fi
snap start "$SNAP_NAME" > "$OUT/start-after-restore.out" 2>&1
check restored-upload test -s "$COMMON/media/upload/e2e-kept"
check_eq restored-password "$pw_before" "$(snap get "$SNAP_NAME" database-password 2>/dev/null)"
for app in postgres redis immich-server; do
  if wait_for 90 service_active "$app"; then pass "service-$app-active-after-restore"; else fail "service-$app-active-after-restore" "state $(service_state "$app")"; fi
done
# Immich itself starts on the restored data (it refuses to when a folder it set up lost its
# .immich marker) and answers.
iport="$(sed -n 's/^IMMICH_PORT=//p' "/var/snap/$SNAP_NAME/$(current_rev)/etc/immich-server.env" 2> /dev/null)"
wait_for 120 sh -c "[ \"\$(curl -s -m 3 http://127.0.0.1:${iport:-3001}/api/server/ping)\" = '{\"res\":\"pong\"}' ]"
check_eq immich-answers-after-restore '{"res":"pong"}' "$(curl -s -m 5 "http://127.0.0.1:${iport:-3001}/api/server/ping")"
wait_for 30 sql immich 'select 1'
check_eq restored-marker-row from-x1 "$(sql immich "select v from e2e_marker where v = 'from-x1'" 2>&1)"
