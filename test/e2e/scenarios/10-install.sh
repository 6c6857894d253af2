# snap install --dangerous: the install hook ran, the services are up, the database answers.
timed install snap install --dangerous "$SNAPS/immich-distribution_r1.snap" > "$OUT/install.out" 2>&1
rc=$?
if [ "$rc" = 0 ]; then pass install-rc0; else
  fail install-rc0 "$(tail -n 5 "$OUT/install.out" | tr '\n' ' ' | cut -c1-400)"
  dump_last_change
  return 0 2> /dev/null || exit 0
fi
snap debug timings --last=install --verbose > "$OUT/install-timings.txt" 2>&1
check_eq current-is-x1 x1 "$(current_rev)"

# The system user snapd creates for `system-usernames: {_daemon_: shared}`.
check_eq daemon-user-uid 584792 "$(getent passwd _daemon_ | cut -d: -f3)"

# What the install hook leaves behind (seen from outside, as root).
check state-file test -s "$COMMON/state.json"
check cluster-complete test -s "$COMMON/postgres/15/PG_VERSION"
check_eq cluster-owned-by-daemon _daemon_ "$(stat -c %U "$COMMON/postgres/15")"
check_eq secrets-dir-mode 700 "$(stat -c %a "$COMMON/secrets")"
check postgres-conf-rendered test -s /var/snap/$SNAP_NAME/x1/etc/postgres/postgresql.conf
check redis-conf-rendered test -s /var/snap/$SNAP_NAME/x1/etc/redis.conf
check immich-env-rendered test -s /var/snap/$SNAP_NAME/x1/etc/immich-server.env

# Services, as `snap services` reports them.
snap services "$SNAP_NAME" > "$OUT/services-after-install.txt" 2>&1
for app in postgres redis immich-server; do
  if wait_for 60 service_active "$app"; then pass "service-$app-active"; else fail "service-$app-active" "state $(service_state "$app")"; fi
done
if [ -f /var/snap/$SNAP_NAME/x1/etc/haproxy/haproxy.cfg ]; then
  if wait_for 60 service_active haproxy; then pass service-haproxy-active; else fail service-haproxy-active "state $(service_state haproxy)"; fi
else
  skip service-haproxy-active "no haproxy.cfg after install+configure (configure does not render it yet)"
fi
check_eq timers-enabled-not-running "inactive inactive" "$(service_state backup-timer) $(service_state acme-renew)"

# The database answers (through psql run in the snap's sandbox, independent of our psql command).
wait_for 30 sql immich 'select 1'
check_eq sql-select-1 1 "$(sql immich 'select 1' 2>&1)"
check vector-extension has_output sql immich "select extversion from pg_extension where extname in ('vector','vchord')"

# The product's own psql command.
if app_is_stub psql; then
  skip psql-select-1 "immich-distribution.psql says: $STUB_TEXT"
else
  check_eq psql-select-1 1 "$(immich-distribution.psql -X -qAt -c 'select 1' 2>&1 < /dev/null)"
fi

# The Immich server (the double, run by bin/run-immich-server) answers on its port.
port="$(sed -n 's/^IMMICH_PORT=//p' /var/snap/$SNAP_NAME/x1/etc/immich-server.env)"
wait_for 30 sh -c "[ \"\$(curl -s -m 3 http://127.0.0.1:${port:-3001}/api/server/ping)\" = '{\"res\":\"pong\"}' ]"
check_eq server-ping '{"res":"pong"}' "$(curl -s -m 3 "http://127.0.0.1:${port:-3001}/api/server/ping")"

# Plain daemons: each unit's main process (systemd's MainPID) IS the service, because every
# bin/run-* wrapper execve's it; and no process of ours (a Node bundle under $SNAP/bin or
# meta/hooks) is left running once the daemons are up.
main_exe() {
  local pid
  pid="$(main_pid "$1")"
  [ -n "$pid" ] && [ "$pid" != 0 ] && readlink "/proc/$pid/exe"
}
wait_for 30 sh -c "systemctl show -p MainPID --value snap.$SNAP_NAME.immich-machine-learning.service | grep -qv '^0$'"
for pair in postgres:/usr/lib/postgresql/15/bin/postgres redis:/usr/bin/redis-server haproxy:/usr/sbin/haproxy \
  immich-server:/usr/bin/node immich-machine-learning:/usr/bin/python3; do
  app="${pair%%:*}" want="/snap/$SNAP_NAME/x1${pair#*:}"
  want="$(readlink -f "$want")" # python3 -> python3.11 inside the snap's tree
  want="${want#/snap/$SNAP_NAME/x1}"
  got="$(main_exe "$app")"
  # /proc/PID/exe names the file as the process sees it (/snap/<name>/<rev>/...).
  check_eq "main-process-is-$app" "$want" "$(printf '%s' "$got" | sed "s|^/snap/$SNAP_NAME/[^/]*||")"
done
check_eq postgres-main-runs-as-daemon 584792 "$(stat -c %u "/proc/$(main_pid postgres)")"
ours="$(ps -eo pid=,args= | awk -v s="/snap/$SNAP_NAME/" '$2 ~ "node$" && ($3 ~ "^" s "[^/]+/bin/" || $3 ~ "^" s "[^/]+/meta/hooks/") { print }')"
check_eq no-wrapper-resident "" "$ours"
ps -eo pid,ppid,rss,args --sort=pid | grep -E "/snap/$SNAP_NAME/|postgres:|immich|redis" | grep -v grep > "$OUT/processes-after-install.txt" 2>&1 || true

# Data for later scenarios (refresh, remove/restore): a row that must survive them.
sql immich "create table if not exists e2e_marker (v text); insert into e2e_marker values ('from-x1')" > /dev/null 2>&1
check_eq marker-row-written from-x1 "$(sql immich 'select v from e2e_marker' 2>&1)"
