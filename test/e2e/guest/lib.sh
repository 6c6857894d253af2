# Helpers for the scenario scripts (sourced INSIDE the guest, as root). Assertions are made from
# outside the snap, with the `snap` CLI and plain files; results go to /host/out/results.txt as
#   PASS <scenario>/<check>
#   FAIL <scenario>/<check>: <detail>
#   SKIP <scenario>/<check>: <why> (a feature the product does not have yet)
# A scenario never stops at a failed check (no `set -e`): every check is recorded.
set -uo pipefail

SNAP_NAME=immich-distribution
# In the VM the 9p share; the CI workflow (.github/workflows/snap.yml) sets its own directories.
SNAPS="${E2E_SNAPS:-/host/snaps}"
OUT="${E2E_OUT:-/host/out}"
mkdir -p "$OUT"
RESULTS=$OUT/results.txt
TIMINGS=$OUT/timings.txt
COMMON=/var/snap/$SNAP_NAME/common
SCENARIO="${E2E_SCENARIO:-adhoc}"

pass() { echo "PASS $SCENARIO/$1" | tee -a "$RESULTS"; }
fail() { echo "FAIL $SCENARIO/$1${2:+: $2}" | tee -a "$RESULTS"; }
skip() { echo "SKIP $SCENARIO/$1: $2" | tee -a "$RESULTS"; }
note() { echo "NOTE $SCENARIO: $*"; }

# check NAME CMD...: PASS if CMD exits 0.
check() {
  local name="$1"; shift
  local o
  if o="$("$@" 2>&1)"; then pass "$name"; else fail "$name" "$(printf '%s' "$o" | tail -n 3 | tr '\n' ' ' | cut -c1-300)"; fi
}
# check_eq NAME EXPECTED ACTUAL
check_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected [$2], got [$(printf '%s' "$3" | tr '\n' ' ' | cut -c1-200)]"; fi
}
# timed LABEL CMD...: runs CMD, appends its wall time to timings.txt, returns its status.
timed() {
  local label="$1"; shift
  local s e rc=0
  s=$(date +%s.%N)
  "$@" || rc=$?
  e=$(date +%s.%N)
  printf '%7.1f s  rc=%-3s %s/%s\n' "$(awk "BEGIN{print $e-$s}")" "$rc" "$SCENARIO" "$label" >> "$TIMINGS"
  return $rc
}
# wait_for SECONDS CMD...: retries CMD every second until it succeeds or time runs out.
wait_for() {
  local limit="$1"; shift
  local i
  for ((i = 0; i < limit; i++)); do "$@" > /dev/null 2>&1 && return 0; sleep 1; done
  "$@" > /dev/null 2>&1
}
installed() { snap list "$SNAP_NAME" > /dev/null 2>&1; }
current_rev() { readlink "/snap/$SNAP_NAME/current" 2> /dev/null; }
# service_state APP: the Current column of `snap services` (active/inactive/-).
service_state() { snap services "$SNAP_NAME.$1" 2> /dev/null | awk 'NR == 2 { print $3 }'; }
service_active() { [ "$(service_state "$1")" = active ]; }
# systemd's main process of an app's unit (0 when it is not running).
main_pid() { systemctl show -p MainPID --value "snap.$SNAP_NAME.$1.service" 2> /dev/null; }
# http_code URL: the HTTP status (000 when nothing answers).
http_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" 2> /dev/null || true; }

# Feature detection: the product's placeholders say so in fixed words.
STUB_TEXT='not available in this build yet'
hook_is_stub() { grep -q 'nothing to do yet' "/snap/$SNAP_NAME/current/meta/hooks/$1" 2> /dev/null; }
# app_is_stub APP: the command answers with the placeholder text.
app_is_stub() { "$SNAP_NAME.$1" 2>&1 < /dev/null | grep -q "$STUB_TEXT"; }

# sql DB QUERY: runs psql INSIDE the snap's sandbox (the psql app's confinement and environment)
# over Postgres' unix socket as OS root (peer map root -> postgres). Independent of the product's
# own psql command, so scenarios can read and write data before that command exists.
sql() {
  local db="$1" q="$2"
  snap run --shell "$SNAP_NAME.psql" -c \
    "exec \"\$SNAP\"/usr/lib/postgresql/*/bin/psql -X -qAt -v ON_ERROR_STOP=1 -h \"\$SNAP_COMMON/run/postgres\" -U postgres -d '$db' -c \"\$0\"" "$q" < /dev/null
}

# Where a failed snap change left its reason.
dump_last_change() {
  local id
  id="$(snap changes 2> /dev/null | awk 'NR > 1 { id = $1 } END { print id }')"
  [ -n "$id" ] && snap tasks "$id" 2>&1 | tail -n 40
}
# has_output CMD...: CMD succeeds and prints something.
has_output() { local o; o="$("$@" 2> /dev/null)" && [ -n "$o" ]; }
