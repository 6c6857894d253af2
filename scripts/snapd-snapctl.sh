#!/usr/bin/env bash
# Prints the path of snapd's own `snapctl` (the Go client of Debian 12's snapd package), extracting
# it first when missing: `apt-get download snapd` (signed by Debian's archive keys through apt) and
# `dpkg-deb -x`, nothing installed system-wide. bench/snap-set.ts runs the hooks with it against
# the fake snapd's REST API ($SNAPPY_GLOBAL_ROOT/run/snapd-snap.socket), so a `snap set` costs
# what snapctl costs under real snapd (a static Go binary), not what the harness's Node stand-in
# costs.
#
# Cache: ${IMMICH_DISTRIBUTION_CACHE:-/var/cache/immich-distribution}/snapctl/<deb version>/snapctl.
set -euo pipefail
cache="${IMMICH_DISTRIBUTION_CACHE:-/var/cache/immich-distribution}/snapctl"
found="$(find "$cache" -mindepth 2 -maxdepth 2 -name snapctl -type f -perm -u+x 2>/dev/null | sort | tail -n 1 || true)"
if [ -z "$found" ]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/snapd-snapctl.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  chmod 755 "$work" # apt's _apt user downloads into it
  (cd "$work" && apt-get download -q snapd >/dev/null 2>"$work/err") || { cat "$work/err" >&2; exit 1; }
  deb="$(ls "$work"/snapd_*.deb)"
  version="$(dpkg-deb -f "$deb" Version)"
  dpkg-deb -x "$deb" "$work/x"
  mkdir -p "$cache/$version"
  install -m 0755 "$work/x/usr/lib/snapd/snapctl" "$cache/$version/snapctl"
  found="$cache/$version/snapctl"
  echo "snapd-snapctl: extracted snapctl of snapd $version (Debian) into $cache/$version" >&2
fi
echo "$found"
