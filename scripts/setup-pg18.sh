#!/usr/bin/env bash
# A SECOND PostgreSQL major for the real major-upgrade tests (test/integration/pg-upgrade.test.ts,
# bench/upgrade.ts): PostgreSQL 18 built from Debian sid's postgresql-18 SOURCE package into
# /var/cache/immich-distribution/pg-other/18 (outside the project; kept between runs, like the e2e image), with pgvector (Debian's
# source package, as setup-test-env.sh does for 15). Debian 12 ships only 15, and Immich needs >= 14, so the
# upgrade tested is the one the snap will actually make, forward from Debian's 15 (to 18, pg_upgrade 18).
# The mirror here lacks trixie's postgresql-17 and sid's pgvector source files (404): 18 comes from
# sid, pgvector 0.8.0 from trixie (the same pgvector as our 15).
# (Older majors from npm's embedded-postgres lack pg_upgrade's old-side tools and cannot be paired
#  with pgvector; see docs/refresh.md.) Idempotent: nothing to do once .complete exists.
set -euo pipefail
base="${IMMICH_DISTRIBUTION_CACHE:-/var/cache/immich-distribution}/pg-other"
dest="$base/18"
say() { printf 'setup-pg18: %s\n' "$*"; }
die() { printf 'setup-pg18: %s\n' "$*" >&2; exit 1; }
quiet() { local log; log="$(mktemp)"; if ! "$@" >"$log" 2>&1; then tail -40 "$log" >&2; rm -f "$log"; die "failed: $*"; fi; rm -f "$log"; }
[ -e "$dest/.complete" ] && exit 0
[ "$(id -u)" = 0 ] || die "must run as root (apt-get source)"
started=$SECONDS
# PostgreSQL 18's source tarball no longer carries the generated parsers: bison and flex; uuid-ossp
# (an extension Immich uses) needs libuuid's headers.
for p in bison flex uuid-dev; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || { quiet apt-get install -y --no-install-recommends "$p"; say "installed $p"; }
done
work="$base/src"
mkdir -p "$work/lists/partial" "$work/src"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
uri=http://deb.debian.org/debian
if [ -r /etc/apt/sources.list.d/debian.sources ]; then
  u="$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
  [ -n "$u" ] && uri="$u"
fi
printf 'deb-src [signed-by=%s] %s sid main\ndeb-src [signed-by=%s] %s trixie main\n' "$keyring" "$uri" "$keyring" "$uri" >"$work/sources.list"
apt_private=(-o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "APT::Sandbox::User=root")
if ! ls -d "$work"/src/postgresql-18.*/ >/dev/null 2>&1 || ! ls -d "$work"/src/pgvector-*/ >/dev/null 2>&1; then
  quiet apt-get "${apt_private[@]}" update
  (cd "$work/src" && quiet apt-get "${apt_private[@]}" source --download-only postgresql-18/sid pgvector/trixie)
  (cd "$work/src" && for t in postgresql-18_*.orig.tar.*; do quiet tar xf "$t"; done)
  (cd "$work/src" && quiet dpkg-source -x pgvector_*.dsc)
fi
pgsrc="$(ls -d "$work"/src/postgresql-18.*/ | head -n1)"
vecsrc="$(ls -d "$work"/src/pgvector-*/ | head -n1)"
# Debian's layout: bin and pkglib under lib/postgresql/18, share under share/postgresql/18.
(cd "$pgsrc" && grep -q -- '--with-uuid=e2fs' config.status 2>/dev/null || quiet ./configure --prefix="$dest" --bindir="$dest/lib/postgresql/18/bin" \
  --libdir="$dest/lib/postgresql/18/lib" --datadir="$dest/share/postgresql/18" --with-pgport=5432 \
  --with-uuid=e2fs --without-readline --without-icu --without-zlib --without-openssl --without-zstd --without-lz4)
quiet make -C "$pgsrc" -j"$(nproc)"
quiet make -C "$pgsrc" install
quiet make -C "$pgsrc/contrib" -j"$(nproc)"
quiet make -C "$pgsrc/contrib" install
pgc="$dest/lib/postgresql/18/bin/pg_config"
# pgvector 0.8.0 predates PostgreSQL 18: vacuum_delay_point() takes an is_analyze flag and
# TupleDesc->attrs[] is gone (TupleDescAttr()); the same changes as upstream pgvector 0.8.1
# (idempotent). Other source files are untouched.
sed -i 's/vacuum_delay_point();/vacuum_delay_point(false);/' "$vecsrc"/src/*.c
sed -i 's/buildstate->tupdesc->attrs\[0\]\.atttypid/TupleDescAttr(buildstate->tupdesc, 0)->atttypid/' "$vecsrc/src/ivfbuild.c"
quiet make -C "$vecsrc" clean PG_CONFIG="$pgc"
quiet make -C "$vecsrc" -j"$(nproc)" PG_CONFIG="$pgc" OPTFLAGS=""
quiet make -C "$vecsrc" install PG_CONFIG="$pgc" OPTFLAGS=""
ext="$("$pgc" --sharedir)/extension"
[ -e "$ext/vector.control" ] || die "pgvector did not install into $ext"
touch "$dest/.complete"
say "PostgreSQL $("$dest/lib/postgresql/18/bin/postgres" --version | awk '{print $3}') with contrib and pgvector $(basename "$vecsrc" | sed 's/pgvector-//') in $dest ($((SECONDS - started)) s; lib $("$pgc" --pkglibdir), share $("$pgc" --sharedir))"
