# Immich as a user meets it, through HAProxy: ping, an admin, a photo uploaded and fetched back
# through the API, Immich's own built-in database backup (the job Immich runs nightly, which
# spawns pg_dump with only {PATH, PGPASSWORD}), and machine learning answering.
#
# The same script runs against the REAL Immich in the CI workflow (.github/workflows/snap.yml);
# here it runs against the Immich doubles (test/doubles). Checks that need a double's own view
# (its /api/double/state, a restore through the maintenance API) run only when it is the double.
# Environment: the scenario helpers (guest/lib.sh); E2E_HTTP_PORT overrides the port.
REV="$(current_rev)"
port="${E2E_HTTP_PORT:-$(snap get "$SNAP_NAME" http.port 2> /dev/null || echo 80)}"
U="http://127.0.0.1:$port"
W="$(mktemp -d)"
json_field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

# --- 1. The server answers through HAProxy.
wait_for 180 sh -c "[ \"\$(curl -s -m 3 $U/api/server/ping)\" = '{\"res\":\"pong\"}' ]"
check_eq ping-through-haproxy '{"res":"pong"}' "$(curl -s -m 5 "$U/api/server/ping")"
check version-is-3 sh -c "curl -s -m 5 '$U/api/server/version' | grep -q '\"major\":3'"

# --- 2. An admin, and a session.
EMAIL=admin@e2e.invalid
PASSWORD="e2e-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
code="$(curl -s -m 30 -o "$W/signup.json" -w '%{http_code}' -X POST "$U/api/auth/admin-sign-up" \
  -H 'content-type: application/json' -d "{\"email\":\"$EMAIL\",\"name\":\"E2E\",\"password\":\"$PASSWORD\"}")"
case "$code" in 200 | 201) pass admin-sign-up ;; *) fail admin-sign-up "HTTP $code $(head -c 200 "$W/signup.json")" ;; esac
curl -s -m 30 -X POST "$U/api/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" > "$W/login.json"
TOKEN="$(json_field accessToken < "$W/login.json")"
check login-token test -n "$TOKEN"
AUTH="authorization: Bearer $TOKEN"

# --- 3. A photo goes in and comes out byte for byte (an 8x8 PNG; Immich accepts it as an image).
upload() { # FILE -> prints the asset id
  curl -s -m 60 -H "$AUTH" -F "assetData=@$1;type=image/png" -F fileCreatedAt=2024-05-01T10:00:00.000Z \
    -F fileModifiedAt=2024-05-01T10:00:00.000Z "$U/api/assets" | json_field id
}
base64 -d > "$W/a.png" <<'PNG'
iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAbElEQVR4nBXNQRUAUQhCUaMYhShGeVGIQhSizB+XXA7ODDtouIHBQ4YOM8suWm5h8ZKl+0CskDiBsIioHhx76LiDw0eO3oN/4FVf+J8h0PduzBqZ8x/bxNQPwgaFy192SGgelC0q13/CJaXlA8Z7WAGfV950AAAAAElFTkSuQmCC
PNG
A_ID="$(upload "$W/a.png")"
check upload-photo test -n "$A_ID"
curl -s -m 60 -H "$AUTH" -o "$W/a.out" "$U/api/assets/$A_ID/original"
check fetch-photo-identical cmp -s "$W/a.png" "$W/a.out"

# --- 4. Immich's own database backup job ("Create backup" in the admin UI, nightly by default):
#        pg_dump runs with only {PATH, PGPASSWORD} (snap/local/runtime-fixes.sh pg-client-rpath).
BACKUPS="$COMMON/media/backups"
ls "$BACKUPS"/immich-db-backup-*.sql.gz > "$W/before.txt" 2> /dev/null || : > "$W/before.txt"
code="$(curl -s -m 30 -o /dev/null -w '%{http_code}' -X POST "$U/api/jobs" -H "$AUTH" \
  -H 'content-type: application/json' -d '{"name":"backup-database"}')"
check_eq backup-job-accepted 204 "$code"
new_backup() { ls "$BACKUPS"/immich-db-backup-*.sql.gz 2> /dev/null | grep -vxF -f "$W/before.txt" | tail -n 1; }
wait_for 180 sh -c "[ -n \"\$(ls $BACKUPS/immich-db-backup-*.sql.gz 2>/dev/null | grep -vxF -f $W/before.txt)\" ]"
DUMP="$(new_backup)"
if [ -n "$DUMP" ]; then
  pass builtin-backup-written
  check builtin-backup-gzip-ok gzip -t "$DUMP"
  check builtin-backup-is-pg-dump sh -c "zcat '$DUMP' | head -n 20 | grep -q 'PostgreSQL database dump'"
  check builtin-backup-has-assets sh -c "zcat '$DUMP' | grep -q '$A_ID'"
else
  fail builtin-backup-written "no new immich-db-backup-*.sql.gz in $BACKUPS; server log: $(journalctl -u "snap.$SNAP_NAME.immich-server" --no-pager -n 5 2> /dev/null | tr '\n' ' ' | cut -c1-300)"
fi

# --- 5. Machine learning answers on its own port (the server reaches it there).
mlport="$(sed -n 's/^IMMICH_PORT=//p' "/var/snap/$SNAP_NAME/$REV/etc/immich-ml.env" 2> /dev/null)"
mlport="${mlport:-3003}"
wait_for 180 sh -c "[ \"\$(curl -s -m 3 http://127.0.0.1:$mlport/ping)\" = pong ]"
check_eq ml-ping pong "$(curl -s -m 5 "http://127.0.0.1:$mlport/ping")"

# --- 6. What only the doubles can show.
if [ "$(http_code "$U/api/double/state")" != 200 ]; then
  note "not the Immich doubles: their own checks are left out"
  rm -rf "$W"
  return 0 2> /dev/null || exit 0
fi
curl -s -m 10 "$U/api/double/state" > "$OUT/immich-double-state.json"
# IMMICH_TRUSTED_PROXIES as Immich parsed it: loopback only (no LAN default).
check trusted-proxies-loopback-only grep -q '"trustProxy":\["loopback","127.0.0.0/8","::1/128"\]' "$OUT/immich-double-state.json"
check redis-authenticated grep -q '"redis":{"ping":"PONG"' "$OUT/immich-double-state.json"
check media-markers sh -c "for d in upload library thumbs encoded-video profile backups; do test -s '$COMMON/media/'\$d/.immich || exit 1; done"

# ML: immich_ml re-executed `python -m gunicorn`, and that `python` is the snap's.
gpid="$(pgrep -f -- '-m gunicorn immich_ml.main:app' | head -n 1)"
check ml-reexec-running test -n "$gpid"
exe="$(readlink "/proc/${gpid:-0}/exe" 2> /dev/null)"
case "$exe" in "/snap/$SNAP_NAME/"*/usr/bin/python3*) pass ml-reexec-snap-python ;; *) fail ml-reexec-snap-python "gunicorn runs $exe" ;; esac

# jellyfin-ffmpeg finds its own libraries in the server's environment (as Immich's start.sh).
check ffmpeg-in-server-env sh -c "snap run --shell $SNAP_NAME.immich-server -c 'ffmpeg -version' < /dev/null | head -n 1 | grep -q Jellyfin"

# A restore from the web UI takes a restore point first (pg_dump), then feeds psql: both with the
# stripped environment. The photo uploaded after the backup is gone afterwards; the first is back.
cp "$W/a.png" "$W/b.png" && printf 'x' >> "$W/b.png"
B_ID="$(upload "$W/b.png")"
check upload-second-photo test -n "$B_ID"
code="$(curl -s -m 300 -o "$W/restore.json" -w '%{http_code}' -X POST "$U/api/admin/maintenance" -H "$AUTH" \
  -H 'content-type: application/json' -d "{\"action\":\"restore_database\",\"restoreBackupFilename\":\"$(basename "${DUMP:-none}")\"}")"
check_eq restore-from-ui 200 "$code"
check restore-point-taken sh -c "ls $BACKUPS/restore-point-*.sql.gz"
curl -s -m 30 -X POST "$U/api/auth/login" -H 'content-type: application/json' -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" > "$W/login2.json"
AUTH="authorization: Bearer $(json_field accessToken < "$W/login2.json")"
check_eq restored-first-photo 200 "$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H "$AUTH" "$U/api/assets/$A_ID/original")"
check restored-without-second-photo sh -c "[ \"\$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H '$AUTH' '$U/api/assets/$B_ID/original')\" != 200 ]"

# Restarts: every process of the old instance goes (sigterm-all), so the new one gets the port.
timed restart-server snap restart "$SNAP_NAME.immich-server" > /dev/null 2>&1
# HAProxy marks the restarted server UP on its next health check (1 s later), which can come after
# a first request already got through on a connect retry (and after HAProxy marked the stopped one
# DOWN): until then it serves the starting page. Wait for three answers in a row, ~1.5 s apart.
pongs_in_a_row() {
  local i
  for i in 1 2 3; do
    [ "$(curl -s -m 3 "$U/api/server/ping")" = '{"res":"pong"}' ] || return 1
    sleep 0.7
  done
}
wait_for 120 pongs_in_a_row
check_eq ping-after-server-restart '{"res":"pong"}' "$(curl -s -m 5 "$U/api/server/ping")"
timed restart-ml snap restart "$SNAP_NAME.immich-machine-learning" > /dev/null 2>&1
wait_for 120 sh -c "[ \"\$(curl -s -m 3 http://127.0.0.1:$mlport/ping)\" = pong ]"
check_eq ml-ping-after-restart pong "$(curl -s -m 5 "http://127.0.0.1:$mlport/ping")"
check no-left-over-processes sh -c "! journalctl -u 'snap.$SNAP_NAME.immich-*' --no-pager | grep -q 'remains running after unit stopped'"
rm -rf "$W"
