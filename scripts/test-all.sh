#!/usr/bin/env bash
# The whole test suite (`npm test`): set up the machine, build, typecheck, then every uvu tier.
# Each tier's own output stays visible; the last line is the total, exactly
#   N passed, N failed[, N skipped]
# and the exit status is non-zero if anything failed (a failed setup, build or typecheck counts as
# one failure each) or if no test ran at all.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# uvu forces colour unless told not to; we also strip escape codes before reading its counts.
export FORCE_COLOR=0 NO_COLOR=1

passed=0
failed=0
skipped=0
summary=()
log_dir="$(mktemp -d "${TMPDIR:-/tmp}/immich-distribution-tests.XXXXXX")"
trap 'rm -rf "$log_dir"' EXIT

banner() { printf '\n=== %s ===\n' "$*"; }
now_ms() { date +%s%3N; }
elapsed() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f s", (b - a) / 1000 }'; }

# A step that is not a test tier (setup, build, typecheck): it passes silently into the summary or
# counts as one failure.
step() {
  local name="$1"
  shift
  banner "$name"
  local t0
  t0="$(now_ms)"
  if "$@"; then
    summary+=("$(printf '%-12s ok (%s)' "$name" "$(elapsed "$t0")")")
    return 0
  fi
  failed=$((failed + 1))
  summary+=("$(printf '%-12s FAILED: %s (%s)' "$name" "$*" "$(elapsed "$t0")")")
  return 1
}

# One uvu tier over a directory: only *.test.{ts,mts,cts,js,mjs,cjs} files are suites, so helper
# modules may sit beside them.
uvu_tier() {
  local name="$1" dir="$2"
  banner "$name ($dir)"
  if [ -z "$(find "$dir" -type f -regex '.*\.test\.[cm]?[jt]s$' -print -quit 2>/dev/null)" ]; then
    echo "no tests in $dir"
    summary+=("$(printf '%-12s no tests' "$name")")
    return 0
  fi
  local out="$log_dir/$name.log" t0 rc
  t0="$(now_ms)"
  node --import tsx node_modules/uvu/bin.js "$dir" '\.test\.[cm]?[jt]s$' --no-color 2>&1 | tee "$out"
  rc="${PIPESTATUS[0]}"
  local clean total pass skip fail
  clean="$(sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$out")"
  total="$(sed -n 's/^ *Total: *\([0-9][0-9]*\).*/\1/p' <<<"$clean" | tail -n 1)"
  pass="$(sed -n 's/^ *Passed: *\([0-9][0-9]*\).*/\1/p' <<<"$clean" | tail -n 1)"
  skip="$(sed -n 's/^ *Skipped: *\([0-9][0-9]*\).*/\1/p' <<<"$clean" | tail -n 1)"
  if [ -z "$total" ] || [ -z "$pass" ]; then
    # uvu died before its summary (e.g. a suite threw while loading): one failure.
    total=1 pass=0 skip=0
    echo "$name: uvu exited $rc without a summary; counting it as one failure"
  fi
  skip="${skip:-0}"
  fail=$((total - pass))
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
    fail=1
    echo "$name: uvu exited $rc although every test passed; counting it as one failure"
  fi
  passed=$((passed + pass))
  failed=$((failed + fail))
  skipped=$((skipped + skip))
  summary+=("$(printf '%-12s %d passed, %d failed, %d skipped (%s)' "$name" "$pass" "$fail" "$skip" "$(elapsed "$t0")")")
}

# A tier that is one script printing its own closing `N passed, N failed[, N skipped]` line.
script_tier() {
  local name="$1"
  shift
  banner "$name"
  local out="$log_dir/$name.log" t0 rc line pass fail skip
  t0="$(now_ms)"
  "$@" 2>&1 | tee "$out"
  rc="${PIPESTATUS[0]}"
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)"
  if [ -z "$line" ]; then
    pass=0 fail=1 skip=0
    echo "$name: no closing line (exit $rc); counting one failure"
  else
    pass="$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")"
    fail="$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")"
    skip="$(sed -nE 's/.*, ([0-9]+) skipped.*/\1/p' <<<"$line")"
    skip="${skip:-0}"
    if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
  fi
  passed=$((passed + pass))
  failed=$((failed + fail))
  skipped=$((skipped + skip))
  summary+=("$(printf '%-12s %d passed, %d failed, %d skipped (%s)' "$name" "$pass" "$fail" "$skip" "$(elapsed "$t0")")")
}

finish() {
  banner summary
  printf '%s\n' "${summary[@]}"
  local line="$passed passed, $failed failed"
  [ "$skipped" -gt 0 ] && line+=", $skipped skipped"
  echo
  echo "$line"
  if [ "$failed" -gt 0 ]; then exit 1; fi
  if [ "$passed" -eq 0 ]; then
    echo "no test ran" >&2
    exit 1
  fi
  exit 0
}

# Without its tools nothing below means anything: stop here.
step setup bash scripts/setup-test-env.sh || finish
run_e2e=1
if [ "${IMMICH_DISTRIBUTION_SKIP_E2E:-}" = 1 ] && [ -z "${CI:-}" ]; then run_e2e=0; fi
# The e2e tier's golden VM image (host packages, two debootstraps, one VM boot: minutes on a fresh
# machine, mostly downloads) is prepared in the background while the other tiers run; the e2e
# tier finds it ready (or waits for it: build-image.sh takes a lock).
prepare_pid=
if [ "$run_e2e" = 1 ]; then
  nice -n 19 bash test/e2e/run.sh --prepare > "$log_dir/e2e-prepare.log" 2>&1 &
  prepare_pid=$!
fi
# Likewise the second PostgreSQL majors of the upgrade tests (DEVELOPERS.md), at the lowest
# priority: the integration tests that need them wait for them (the scripts take a lock).
( nice -n 19 bash scripts/setup-old-postgres.sh && nice -n 19 bash scripts/build-postgres.sh 15 bookworm &&
  nice -n 19 bash scripts/build-postgres.sh 18 sid ) > "$log_dir/pg-builds.log" 2>&1 &
builds_pid=$!
step build node build.mjs
step typecheck npx --no-install tsc --noEmit -p .
uvu_tier unit test/unit
uvu_tier integration test/integration
# Failed background builds were rebuilt (and reported) by the tests that needed them.
wait "$builds_pid" 2> /dev/null || true
# Real snapd in a throw-away VM (test/e2e/README.md); IMMICH_DISTRIBUTION_SKIP_E2E=1 leaves it out
# of a local run (CI always runs it).
if [ "$run_e2e" = 0 ]; then
  summary+=("$(printf '%-12s left out (IMMICH_DISTRIBUTION_SKIP_E2E=1)' e2e)")
else
  if [ -n "$prepare_pid" ] && ! wait "$prepare_pid"; then
    # Not a failure by itself: run.sh builds the image again and fails if it cannot.
    echo "e2e: the background preparation failed; its log:"
    tail -n 20 "$log_dir/e2e-prepare.log"
  fi
  script_tier e2e bash test/e2e/run.sh
fi
finish
