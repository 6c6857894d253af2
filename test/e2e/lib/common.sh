# Shared settings of the host-side e2e scripts (sourced, not run).
# Everything expensive lives in the cache dir, outside git, keyed by content hashes:
#   $E2E_CACHE/image-<hash>/   guest kernel+initrd, base.img, golden.qcow2, stand-in snaps, rootfs
#   $E2E_CACHE/debs-<hash>/    Debian .debs for the test snap (apt-get download)
#   $E2E_CACHE/runs/<stamp>/   per-run work dir (overlay, 9p share, logs); the last few are kept

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_ROOT="$(cd "$E2E_DIR/../.." && pwd)"
E2E_CACHE="${E2E_CACHE:-/var/cache/immich-distribution-e2e}"
# The guest OS that runs snapd. trixie: its snapd (2.68) knows the core24-era system user
# `_daemon_`; bookworm's 2.57 refuses it (README "Why a trixie guest").
E2E_GUEST_SUITE="${E2E_GUEST_SUITE:-trixie}"
# The Debian release the local `core24`-named base is made of: the same as the host, so the
# binaries staged into the test snap (host node, bookworm .debs) run against the libc they expect.
E2E_BASE_SUITE="${E2E_BASE_SUITE:-bookworm}"
E2E_MIRROR="${E2E_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}"
E2E_MIRROR="${E2E_MIRROR:-http://deb.debian.org/debian}"

log() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# sha256 of the given files' contents and names plus extra strings; 16 hex digits.
content_hash() {
  local f
  {
    for f in "$@"; do
      if [ -f "$f" ]; then printf '%s\n' "${f#"$E2E_DIR"/}"; cat "$f"; else printf '%s\n' "$f"; fi
    done
  } | sha256sum | cut -c1-16
}

image_hash() {
  content_hash "$E2E_DIR/build-image.sh" "$E2E_DIR/lib/common.sh" "$E2E_DIR/guest/prepare-golden.sh" \
    "guest=$E2E_GUEST_SUITE" "base=$E2E_BASE_SUITE"
}
image_dir() { printf '%s/image-%s\n' "$E2E_CACHE" "$(image_hash)"; }
