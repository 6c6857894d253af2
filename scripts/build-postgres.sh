#!/usr/bin/env bash
# A second PostgreSQL build for the real major-upgrade tests (test/integration/pg-upgrade.test.ts):
#
#   scripts/build-postgres.sh MAJOR SUITE      e.g.  18 sid   |   15 bookworm
#
# builds PostgreSQL MAJOR (server, client tools, Immich's contrib extensions) from Debian SUITE's
# postgresql-MAJOR SOURCE package, plus pgvector 0.8.0 from trixie's source (the pgvector our 15
# has), into /var/cache/immich-distribution/pg-other/MAJOR in Debian's layout (bin and pkglib under
# lib/postgresql/MAJOR, share under share/postgresql/MAJOR). Outside the project and kept between
# runs, like the e2e image. Upstream's tree is built (the orig tarball), not Debian's patched one.
#
# Why these two (docs/refresh.md): Debian 12 ships only 15, and its 15.20 stores a column option
# (`pg_attver`) that no other build here knows, so pg_upgrade from it to 18.6 refuses. The hook-level
# SUCCESSFUL upgrade therefore starts from bookworm's upstream 15.18 build and goes to sid's 18.6.
# Idempotent: nothing to do once .complete exists. Needs the Debian archive; ~3 min on 2 cores.
set -euo pipefail
major="${1:?usage: build-postgres.sh MAJOR SUITE}"
suite="${2:?usage: build-postgres.sh MAJOR SUITE}"
base="${IMMICH_DISTRIBUTION_CACHE:-/var/cache/immich-distribution}/pg-other"
dest="$base/$major"
say() { printf 'build-postgres %s: %s\n' "$major" "$*"; }
die() { printf 'build-postgres %s: %s\n' "$major" "$*" >&2; exit 1; }
quiet() { local log; log="$(mktemp)"; if ! "$@" >"$log" 2>&1; then tail -40 "$log" >&2; rm -f "$log"; die "failed: $*"; fi; rm -f "$log"; }
# shellcheck source=lib/debian-source.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/debian-source.sh"
[ -e "$dest/.complete" ] && exit 0
[ "$(id -u)" = 0 ] || die "must run as root (apt-get)"
# One builder at a time (npm test starts the builds in the background; a test that needs one
# waits here and finds it complete).
mkdir -p "$base"
exec 9> "$dest.lock"
flock 9
[ -e "$dest/.complete" ] && exit 0
started=$SECONDS
# PostgreSQL 18's source tarball no longer carries the generated parsers: bison and flex; uuid-ossp
# (an extension Immich uses) needs libuuid's headers.
for p in bison flex uuid-dev; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || { quiet apt-get install -y --no-install-recommends "$p"; say "installed $p"; }
done
work="$base/src-$major"
if ! ls -d "$work"/src/postgresql-"$major".*/ >/dev/null 2>&1 || ! ls -d "$work"/src/pgvector-*/ >/dev/null 2>&1; then
  debian_source "$work" "$suite" trixie -- "postgresql-$major/$suite" pgvector/trixie
  (cd "$work/src" && for t in postgresql-"$major"_*.orig.tar.*; do quiet tar xf "$t"; done)
  (cd "$work/src" && quiet dpkg-source -x pgvector_*.dsc)
fi
pgsrc="$(ls -d "$work"/src/postgresql-"$major".*/ | head -n1)"
vecsrc="$(ls -d "$work"/src/pgvector-*/ | head -n1)"
(cd "$pgsrc" && grep -q -- '--with-uuid=e2fs' config.status 2>/dev/null || quiet ./configure --prefix="$dest" --bindir="$dest/lib/postgresql/$major/bin" \
  --libdir="$dest/lib/postgresql/$major/lib" --datadir="$dest/share/postgresql/$major" --with-pgport=5432 \
  --with-uuid=e2fs --without-readline --without-icu --without-zlib --without-openssl --without-zstd --without-lz4)
quiet make -C "$pgsrc" -j"$(nproc)"
quiet make -C "$pgsrc" install
# Only the contrib extensions Immich creates (the rest of contrib would double the build time).
for m in cube earthdistance pg_trgm unaccent uuid-ossp; do
  quiet make -C "$pgsrc/contrib/$m" -j"$(nproc)"
  quiet make -C "$pgsrc/contrib/$m" install
done
pgc="$dest/lib/postgresql/$major/bin/pg_config"
if [ "$major" -ge 18 ]; then
  # pgvector 0.8.0 predates PostgreSQL 18: vacuum_delay_point() takes an is_analyze flag and
  # TupleDesc->attrs[] is gone (TupleDescAttr()); the same changes as upstream pgvector 0.8.1
  # (idempotent). Other source files are untouched.
  sed -i 's/vacuum_delay_point();/vacuum_delay_point(false);/' "$vecsrc"/src/*.c
  sed -i 's/buildstate->tupdesc->attrs\[0\]\.atttypid/TupleDescAttr(buildstate->tupdesc, 0)->atttypid/' "$vecsrc/src/ivfbuild.c"
fi
quiet make -C "$vecsrc" clean PG_CONFIG="$pgc"
quiet make -C "$vecsrc" -j"$(nproc)" PG_CONFIG="$pgc" OPTFLAGS=""
quiet make -C "$vecsrc" install PG_CONFIG="$pgc" OPTFLAGS=""
ext="$("$pgc" --sharedir)/extension"
[ -e "$ext/vector.control" ] || die "pgvector did not install into $ext"
touch "$dest/.complete"
say "PostgreSQL $("$dest/lib/postgresql/$major/bin/postgres" --version | awk '{print $3}') with contrib and pgvector $(basename "$vecsrc" | sed 's/pgvector-//') in $dest ($((SECONDS - started)) s)"
