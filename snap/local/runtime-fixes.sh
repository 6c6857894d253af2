#!/bin/bash
# The changes the recipe makes to staged binaries so that Immich runs inside the snap as Immich
# expects, one subcommand each. ONE copy of each step: snap/snapcraft.yaml's parts call it on
# $CRAFT_PART_INSTALL, and the e2e test snap (test/e2e/build-test-snap.sh) and the harness's fake
# $SNAP (test/harness/fake-snap.ts) call it on theirs, so every tier exercises the same change.
#
#   runtime-fixes.sh pg-client-rpath ROOT TRIPLET
#       Immich's built-in database backup and its restore point run
#       /usr/lib/postgresql/<major>/bin/pg_dump (psql for a restore) with the environment REPLACED
#       by {PATH, PGPASSWORD} (docs/upstream/immich-runtime.md, "built-in backup"): the snap's
#       LD_LIBRARY_PATH is gone, and Debian/PGDG client binaries carry no search path of their own
#       (NEEDED libpq.so.5, found only in $SNAP/usr/lib/<triplet>). This gives pg_dump, pg_dumpall,
#       pg_restore and psql of every shipped major a DT_RPATH relative to the binary ($ORIGIN).
#       DT_RPATH, not DT_RUNPATH: the loader also searches the executable's DT_RPATH for the
#       dependencies of its libraries (libpq needs libssl, libgssapi_krb5, libldap, ... from the
#       snap too), while a DT_RUNPATH applies to the executable's own NEEDED entries only.
#   runtime-fixes.sh python-alias ROOT
#       Immich ML's `python -m immich_ml` re-executes the literal name `python` (on PATH) to start
#       gunicorn (machine-learning/immich_ml/__main__.py); Ubuntu stages only python3.x. Adds
#       ROOT/usr/bin/python -> the newest python3.x staged there ($SNAP/usr/bin is first on PATH).
#   runtime-fixes.sh check ROOT TRIPLET
#       Fails unless both changes are in place (the build ends with it).
set -euo pipefail

die() { echo "runtime-fixes: $*" >&2; exit 1; }

pg_client_tools=(pg_dump pg_dumpall pg_restore psql)

pg_client_rpath() {
  local root="$1" triplet="$2" n=0 bin f rpath
  command -v patchelf > /dev/null || die "patchelf is needed (build-packages: patchelf)"
  # $ORIGIN = ROOT/usr/lib/postgresql/<major>/bin: three levels up is ROOT/usr/lib.
  rpath="\$ORIGIN/../../../$triplet:\$ORIGIN/../../../../../lib/$triplet"
  for bin in "$root"/usr/lib/postgresql/*/bin; do
    [ -d "$bin" ] || continue
    for f in "${pg_client_tools[@]}"; do
      [ -f "$bin/$f" ] && [ ! -L "$bin/$f" ] || continue
      patchelf --force-rpath --set-rpath "$rpath" "$bin/$f"
      n=$((n + 1))
    done
  done
  [ "$n" -gt 0 ] || die "no Postgres client binaries under $root/usr/lib/postgresql/*/bin"
  echo "runtime-fixes: DT_RPATH $rpath on $n Postgres client binaries" >&2
}

python_alias() {
  local root="$1" py
  py="$(cd "$root/usr/bin" && ls -1 python3.[0-9]* 2> /dev/null | grep -E '^python3\.[0-9]+$' | sort -V | tail -n 1 || true)"
  [ -n "$py" ] || py="$( [ -e "$root/usr/bin/python3" ] && echo python3 || true)"
  [ -n "$py" ] || die "no python3.x in $root/usr/bin"
  ln -sfn "$py" "$root/usr/bin/python"
  echo "runtime-fixes: usr/bin/python -> $py" >&2
}

check() {
  local root="$1" triplet="$2" bin f got
  for bin in "$root"/usr/lib/postgresql/*/bin; do
    for f in "${pg_client_tools[@]}"; do
      [ -f "$bin/$f" ] && [ ! -L "$bin/$f" ] || continue
      got="$(patchelf --print-rpath "$bin/$f")"
      [[ "$got" == *"\$ORIGIN/../../../$triplet"* ]] || die "$bin/$f has no \$ORIGIN rpath (got '$got')"
    done
  done
  [ -L "$root/usr/bin/python" ] && [ -e "$root/usr/bin/python" ] || die "$root/usr/bin/python is missing"
}

case "${1:-}" in
  pg-client-rpath) pg_client_rpath "${2:?ROOT}" "${3:?TRIPLET}" ;;
  python-alias) python_alias "${2:?ROOT}" ;;
  check) check "${2:?ROOT}" "${3:?TRIPLET}" ;;
  *) die "usage: runtime-fixes.sh pg-client-rpath ROOT TRIPLET | python-alias ROOT | check ROOT TRIPLET" ;;
esac
