#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian 12 (bookworm) machine, as root:
# Debian packages (PostgreSQL 15, HAProxy, Redis, lego, pebble, chromium, build tools), pgvector built from
# Debian trixie's source package, the core24 daemon user `_daemon_`, and the npm dependencies.
#
# Idempotent and quiet: every step checks first and does nothing when its thing is present; it
# prints one line per thing it installed (and the tool's output only when a step fails). On a
# machine already set up it takes well under a few seconds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DEBIAN_FRONTEND=noninteractive

say() { printf 'setup-test-env: %s\n' "$*"; }
die() { printf 'setup-test-env: %s\n' "$*" >&2; exit 1; }

# Runs a command with its output kept in a log; shows the log only if the command fails.
quiet() {
  local log
  log="$(mktemp)"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "failed: $*"
  fi
  rm -f "$log"
}

# shellcheck source=lib/debian-source.sh
. "$root/scripts/lib/debian-source.sh"

need_root() {
  [ "$(id -u)" = 0 ] || die "must run as root to install $1 (run: sudo bash scripts/setup-test-env.sh)"
}

# ---------------------------------------------------------------------------------------------
# 1. Debian packages.
packages=(
  postgresql-15 postgresql-client-15 postgresql-contrib postgresql-server-dev-15
  haproxy redis-server lego pebble build-essential zstd openssl util-linux ca-certificates
  time # /usr/bin/time -f %M: peak memory in bench/startup.ts
  strace # which files HAProxy opens at start: test/unit/haproxy/render.test.ts
  chromium # headless browser: test/integration/starting-page.test.ts
  xfsprogs # a reflink XFS on a loop device: pg_upgrade --clone in test/integration/pg-upgrade.test.ts
  patchelf # snap/local/runtime-fixes.sh (the recipe's DT_RPATH on Postgres client binaries), tested as-is
  # the e2e tier's VM (test/e2e/run.sh installs them too when run on its own); installed here so
  # that no apt runs while npm test prepares the VM image in the background
  qemu-system-x86 qemu-utils debootstrap e2fsprogs squashfs-tools busybox-static curl
  bison flex uuid-dev # the second PostgreSQL majors of the upgrade tests (scripts/build-postgres.sh)
)
missing=()
# One dpkg-query for all; a package that is unknown or not fully installed counts as missing.
installed="$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null || true)"
for p in "${packages[@]}"; do
  grep -qx "$p installed" <<<"$installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  need_root "${missing[*]}"
  quiet apt-get update
  quiet apt-get install -y --no-install-recommends "${missing[@]}"
  for p in "${missing[@]}"; do say "installed $p"; done
fi

# ---------------------------------------------------------------------------------------------
# 2. The system's own PostgreSQL/Redis/HAProxy services must not hold the ports the tests use.
#    (No systemd here: they run only if something started them through their init scripts.)
if command -v pg_lsclusters >/dev/null 2>&1; then
  while read -r ver cluster _port status _rest; do
    if [ "$status" = online ]; then
      quiet pg_ctlcluster "$ver" "$cluster" stop
      say "stopped the system PostgreSQL cluster $ver/$cluster"
    fi
  done < <(pg_lsclusters --no-header 2>/dev/null || true)
fi
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop_service() {
  if [ -x "/etc/init.d/$1" ]; then quiet "/etc/init.d/$1" stop; else quiet service "$1" stop; fi
  say "stopped the system $1 service"
}
if pid_alive /run/redis/redis-server.pid; then stop_service redis-server; fi
if pid_alive /run/haproxy.pid; then stop_service haproxy; fi

# ---------------------------------------------------------------------------------------------
# 3. pgvector for PostgreSQL 15: not packaged for bookworm, so build Debian trixie's source
#    package. apt reads a private sources list and keeps a private list/cache state, so nothing
#    root-wide changes.
pg_config=/usr/lib/postgresql/15/bin/pg_config
if [ ! -e /usr/share/postgresql/15/extension/vector.control ]; then
  need_root pgvector
  started=$SECONDS
  work="$(mktemp -d "${TMPDIR:-/tmp}/immich-distribution-pgvector.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  debian_source "$work" trixie -- pgvector/trixie
  (cd "$work/src" && quiet dpkg-source -x pgvector_*.dsc)
  srcdir="$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)"
  [ -n "$srcdir" ] || die "apt-get source pgvector left no pgvector-* directory"
  # OPTFLAGS="" as Debian builds it (pgvector defaults to -march=native).
  quiet make -C "$srcdir" -j"$(nproc)" PG_CONFIG="$pg_config" OPTFLAGS=""
  quiet make -C "$srcdir" install PG_CONFIG="$pg_config" OPTFLAGS=""
  [ -e /usr/share/postgresql/15/extension/vector.control ] || die "pgvector installed no vector.control"
  rm -rf "$work"
  trap - EXIT
  say "installed pgvector $(basename "$srcdir" | sed 's/^pgvector-//') for PostgreSQL 15 (from trixie's source package, $((SECONDS - started)) s)"
fi

# ---------------------------------------------------------------------------------------------
# 4. core24's daemon user (snap_daemon's successor): `_daemon_`, uid = gid = 584792.
if ! getent passwd _daemon_ >/dev/null; then
  need_root "the _daemon_ user"
  getent group _daemon_ >/dev/null || quiet groupadd --system --gid 584792 _daemon_
  quiet useradd --system --no-create-home --home-dir /nonexistent --uid 584792 --gid 584792 \
    --shell /usr/sbin/nologin _daemon_
  say "created user _daemon_ (uid 584792, gid 584792)"
fi
[ "$(id -u _daemon_)" = 584792 ] && [ "$(id -g _daemon_)" = 584792 ] ||
  die "user _daemon_ exists but is not uid/gid 584792 ($(id _daemon_))"

# ---------------------------------------------------------------------------------------------
# 5. npm dependencies, exactly as locked.
if [ ! -d "$root/node_modules" ] || [ ! -e "$root/node_modules/.package-lock.json" ] ||
  [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
  (cd "$root" && quiet npm ci --no-audit --no-fund --loglevel=error)
  say "installed npm dependencies (npm ci)"
fi

# ---------------------------------------------------------------------------------------------
# 6. The Node the snap ships (snap/versions.json): the harness runs every compiled executable
#    with it, never with this machine's Node (scripts/shipped-node.sh; prints its own line).
bash "$root/scripts/shipped-node.sh" >/dev/null
