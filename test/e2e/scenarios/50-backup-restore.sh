# Backup and restore through the apps.
installed || { fail snap-installed "install scenario failed"; return 0 2> /dev/null || exit 0; }
if app_is_stub backup || app_is_stub restore; then
  skip backup-restore "immich-distribution.backup/.restore say: $STUB_TEXT"
  return 0 2> /dev/null || exit 0
fi
sql immich "insert into e2e_marker values ('before-backup')" > /dev/null 2>&1
if timed backup immich-distribution.backup > "$OUT/backup.out" 2>&1 < /dev/null; then pass backup-rc0; else
  fail backup-rc0 "$(tail -n 3 "$OUT/backup.out" | tr '\n' ' ')"; fi
# A backup is a directory $COMMON/backups/<id>/ (manifest, dump, media).
b="$(ls -1dt "$COMMON"/backups/*/ 2> /dev/null | head -n 1)"; b="${b%/}"
check backup-dir-exists test -d "$b"
check backup-has-files has_output ls -A "$b"
sql immich "insert into e2e_marker values ('after-backup')" > /dev/null 2>&1
if timed restore immich-distribution.restore "$b" --yes > "$OUT/restore.out" 2>&1 < /dev/null; then pass restore-rc0; else
  fail restore-rc0 "$(tail -n 3 "$OUT/restore.out" | tr '\n' ' ')"; fi
for app in postgres redis immich-server; do wait_for 90 service_active "$app"; check "service-$app-active-after-restore" service_active "$app"; done
wait_for 30 sql immich 'select 1'
check_eq restored-rows "before-backup from-x1" "$(sql immich 'select v from e2e_marker order by v' 2>&1 | tr '\n' ' ' | sed 's/ $//')"
