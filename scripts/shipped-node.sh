#!/usr/bin/env bash
# Prints the path of the Node binary the snap ships (snap/versions.json `node.version`), installing
# it first when missing: the npm registry's `node-linux-<arch>` package carries the official
# nodejs.org binary, and `npm pack` checks the tarball against the registry's sha512 integrity.
# The harness runs every compiled hook, command and daemon with it (never the test runner's Node),
# so process.execve and the start-up figures are those of the snap.
#
# Cache: ${IMMICH_DISTRIBUTION_CACHE:-/var/cache/immich-distribution}/node/<version>/bin/node.
# Stdout is the path and nothing else; messages go to stderr.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="$(node -p 'require(process.argv[1]).node.version' "$root/snap/versions.json")"
case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) echo "shipped-node: no Node package for $(uname -m)" >&2; exit 1 ;; esac
dir="${IMMICH_DISTRIBUTION_CACHE:-/var/cache/immich-distribution}/node/$version"
bin="$dir/bin/node"
if [ ! -x "$bin" ]; then
  mkdir -p "$(dirname "$dir")"
  exec 9>"$dir.lock"
  flock 9
  if [ ! -x "$bin" ]; then
    work="$(mktemp -d "${TMPDIR:-/tmp}/shipped-node.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && npm pack --silent "node-linux-$arch@$version" >/dev/null)
    tar -xzf "$work"/node-linux-"$arch"-"$version".tgz -C "$work"
    got="$("$work/package/bin/node" -v)"
    [ "$got" = "v$version" ] || { echo "shipped-node: node-linux-$arch@$version says $got" >&2; exit 1; }
    rm -rf "$dir" && mkdir -p "$dir/bin"
    install -m 0755 "$work/package/bin/node" "$bin.tmp" && mv "$bin.tmp" "$bin"
    echo "shipped-node: installed Node $version (node-linux-$arch from the npm registry) in $dir" >&2
  fi
fi
echo "$bin"
