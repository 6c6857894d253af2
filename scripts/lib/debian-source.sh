# Shared by the setup scripts (sourced, not run): fetch Debian SOURCE packages from any suite
# without touching the machine's apt configuration. apt reads a private sources list and keeps
# private list and cache state under the given work directory.
#
#   debian_source WORK SUITE... -- PACKAGE[/SUITE|=VERSION]...
#
# downloads each package's source files (.dsc, orig tarball, Debian tarball) into WORK/src; the
# caller unpacks what it needs (`dpkg-source -x` applies Debian's patches, `tar xf` on the orig
# tarball gives upstream's tree). The caller defines quiet() (run a command, show its output only
# on failure).

# The Debian mirror this machine already uses (the non-security one), else deb.debian.org.
debian_mirror() {
  local uri=""
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    uri="$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

debian_source() {
  local work="$1" suite uri keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  shift
  uri="$(debian_mirror)"
  mkdir -p "$work/lists/partial" "$work/src"
  : >"$work/sources.list"
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
    printf 'deb-src [signed-by=%s] %s %s main\n' "$keyring" "$uri" "$1" >>"$work/sources.list"
    shift
  done
  [ "${1:-}" = "--" ] && shift
  local apt_private=(
    -o "Dir::Etc::sourcelist=$work/sources.list"
    -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$work/lists"
    -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache="
    -o "APT::Sandbox::User=root"
  )
  quiet apt-get "${apt_private[@]}" update
  (cd "$work/src" && quiet apt-get "${apt_private[@]}" source --download-only "$@")
}
