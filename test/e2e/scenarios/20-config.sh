# snap get / snap set: the published database password, a valid change applied by the configure
# hook, an invalid one refused with the old value kept.
installed || { fail snap-installed "install scenario failed"; return 0 2> /dev/null || exit 0; }

pw="$(snap get "$SNAP_NAME" database-password 2>&1)"
if [ -n "$pw" ] && [ "${#pw}" -ge 16 ]; then pass get-database-password; else fail get-database-password "got [$pw]"; fi
# It is the password Postgres accepts over TCP (scram) for the superuser.
check_eq password-works-over-tcp 1 "$(snap run --shell "$SNAP_NAME.psql" -c \
  'PGPASSWORD="$0" exec "$SNAP"/usr/lib/postgresql/*/bin/psql -X -qAt -h 127.0.0.1 -p 5432 -U postgres -d immich -c "select 1"' "$pw" < /dev/null 2>&1)"
check_eq secret-file-matches "$pw" "$(cat "$COMMON/secrets/database-password" 2> /dev/null)"

# Valid change: http.port (8480: 8080 is the default internal.stats-port, and snap set refuses the clash).
# HAProxy reloads gracefully: the configure hook sends the reload to HAProxy's master CLI itself
# (over the unix socket in $SNAP_COMMON, which snapd's AppArmor template allows between a snap's
# hooks and apps), so the master keeps its pid.
haproxy_master="$(main_pid haproxy)"
# How often the unit's journal says so: HAProxy's master on every reload ("Reloading HAProxy"), the
# reload-command (`run-haproxy reload`) when snapd ran it ("haproxy reloaded: worker").
haproxy_log_count() { journalctl -u "snap.$SNAP_NAME.haproxy.service" --no-pager 2> /dev/null | grep -c "$1"; }
haproxy_log_count_above() { [ "$(haproxy_log_count "$1")" -gt "$2" ]; }
master_reloads_before="$(haproxy_log_count 'Reloading HAProxy')"
reload_commands_before="$(haproxy_log_count 'haproxy reloaded: worker')"
if timed set-http-port snap set "$SNAP_NAME" http.port=8480 > "$OUT/set-valid.out" 2>&1; then pass set-valid-rc0; else
  fail set-valid-rc0 "$(tail -n 5 "$OUT/set-valid.out" | tr '\n' ' ' | cut -c1-400)"; fi
check_eq set-valid-stored 8480 "$(snap get "$SNAP_NAME" http.port 2>&1)"
cfg=/var/snap/$SNAP_NAME/current/etc/haproxy/haproxy.cfg
if hook_is_stub configure; then
  skip haproxy-on-new-port "the configure hook is a placeholder (\"nothing to do yet\"): http.port is stored but not applied"
elif [ ! -f "$cfg" ]; then
  fail haproxy-on-new-port "configure ran but $cfg does not exist"
else
  if wait_for 30 sh -c "[ \"\$(curl -s -o /dev/null -m 3 -w '%{http_code}' http://127.0.0.1:8480/api/server/ping)\" != 000 ]"; then
    pass haproxy-on-new-port
  else
    fail haproxy-on-new-port "nothing answers on 8480 (haproxy $(service_state haproxy))"
  fi
  check_eq ping-through-haproxy '{"res":"pong"}' "$(curl -s -m 5 http://127.0.0.1:8480/api/server/ping)"
  check_eq haproxy-reloaded-not-restarted "$haproxy_master" "$(main_pid haproxy)"
  check set-reloaded-master wait_for 10 haproxy_log_count_above 'Reloading HAProxy' "$master_reloads_before"
  check_eq set-reloaded-by-hook-not-reload-command "$reload_commands_before" "$(haproxy_log_count 'haproxy reloaded: worker')"
fi

# snapd's own graceful reload (the app's reload-command, `run-haproxy reload`) against the master:
# what `snap restart --reload` runs, and the configure hook's fallback.
if timed restart-reload snap restart --reload "$SNAP_NAME.haproxy" > "$OUT/restart-reload.out" 2>&1; then pass restart-reload-rc0; else
  fail restart-reload-rc0 "$(tail -n 5 "$OUT/restart-reload.out" | tr '\n' ' ' | cut -c1-400)"; fi
check_eq restart-reload-same-master "$haproxy_master" "$(main_pid haproxy)"
check restart-reload-ran-reload-command wait_for 10 haproxy_log_count_above 'haproxy reloaded: worker' "$reload_commands_before"
check_eq ping-after-restart-reload '{"res":"pong"}' "$(curl -s -m 5 http://127.0.0.1:8480/api/server/ping)"

# Invalid change: refused, old value kept (snapd rolls the transaction back).
if timed set-invalid snap set "$SNAP_NAME" http.port=not-a-port > "$OUT/set-invalid.out" 2>&1; then
  if hook_is_stub configure; then
    skip set-invalid-fails "the configure hook is a placeholder: it validates nothing yet"
  else
    fail set-invalid-fails "snap set http.port=not-a-port succeeded"
  fi
  snap set "$SNAP_NAME" http.port=8480 > /dev/null 2>&1
else
  pass set-invalid-fails
  check set-invalid-names-key grep -q 'http.port' "$OUT/set-invalid.out"
fi
check_eq set-invalid-old-value-kept 8480 "$(snap get "$SNAP_NAME" http.port 2>&1)"
if [ -f "$cfg" ] && ! hook_is_stub configure; then
  check_eq haproxy-still-on-8480 '{"res":"pong"}' "$(curl -s -m 5 http://127.0.0.1:8480/api/server/ping)"
fi

# An unknown TOP-LEVEL key (a typo of http.port): configure reads the whole document with
# `snapctl get -d "" ""` (snapd's root document) and refuses it with a "did you mean"; nothing stored.
if timed set-unknown snap set "$SNAP_NAME" htp.port=8481 > "$OUT/set-unknown.out" 2>&1; then
  fail set-unknown-top-level-refused "snap set htp.port=8481 succeeded"
  snap unset "$SNAP_NAME" htp > /dev/null 2>&1
else
  pass set-unknown-top-level-refused
  check set-unknown-did-you-mean grep -q 'did you mean "http.port"' "$OUT/set-unknown.out"
fi
check_eq set-unknown-not-stored "" "$(snap get "$SNAP_NAME" htp 2> /dev/null)"
for app in postgres redis immich-server; do check "service-$app-still-active" service_active "$app"; done
