#!/bin/bash
# libvips-loader-priority.sh SRC_DIR
#
# The loader-priority change Immich makes to libvips (immich-app/base-images, "fix(server): loader
# priority", docs/upstream/immich-build.md §5), written here in our own words: libvips 8.18 added
# `dcrawload` (LibRaw) at priority 100, above jpegload (50) and heifload (default 0), so a JPEG or
# HEIC file could be opened by the RAW loader. Both are raised to 150 so they are tried first; their
# is_a checks are cheap signature tests.
#
# Each edit must apply exactly once: if a libvips release changes these lines, the build stops here
# instead of silently shipping the upstream priorities.
set -euo pipefail
src="${1:?usage: libvips-loader-priority.sh SRC_DIR}"

# edit FILE SED_EXPR MARKER: apply SED_EXPR, then require MARKER exactly once in FILE.
edit() {
  local file="$src/$1" expr="$2" marker="$3" n
  [ -f "$file" ] || { echo "libvips-loader-priority: $file is missing" >&2; exit 1; }
  sed -i "$expr" "$file"
  n="$(grep -cF "$marker" "$file" || true)"
  [ "$n" = 1 ] || { echo "libvips-loader-priority: expected one '$marker' in $1 after the edit, found $n" >&2; exit 1; }
}

# jpegload_base sets its priority once, in its class_init.
edit libvips/foreign/jpegload.c 's/^\(\t*\)foreign_class->priority = 50;$/\1foreign_class->priority = 150;/' \
  'foreign_class->priority = 150;'
# heifload_base sets none: add one after its class_init's last loader hook (the subclasses
# heifload, heifload_buffer and heifload_source inherit the base class's priority).
edit libvips/foreign/heifload.c \
  's/^\(\t*\)load_class->load = vips_foreign_load_heif_load;$/&\n\1((VipsForeignClass *) class)->priority = 150;/' \
  '((VipsForeignClass *) class)->priority = 150;'
echo "libvips-loader-priority: jpegload and heifload at priority 150 (dcrawload stays at 100)" >&2
