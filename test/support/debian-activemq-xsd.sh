#!/usr/bin/env bash
# Extracts the ActiveMQ broker schema (activemq.xsd, the XBean schema) of Debian's ActiveMQ from the
# activemq-spring jar in the libactivemq-java package, for validating rendered configuration of 5.17+.
# Usage: debian-activemq-xsd.sh OUTFILE   Prints the version the schema belongs to.
# The package is cached in ARTIFACT_CACHE (default /var/cache/amq-artifacts, or ~/.cache/amq-artifacts where that
# cannot be written). Needs apt-cache, apt-get (package lists with libactivemq-java), dpkg-deb and python3.
# Exit 3: the package cannot be had here (not in the package lists, or the download failed): the caller may skip;
# any other non-zero exit is a real failure.
set -euo pipefail

out=${1:?usage: debian-activemq-xsd.sh OUTFILE}
unavailable() {
  echo "$1" >&2
  exit 3
}
cache="${ARTIFACT_CACHE:-/var/cache/amq-artifacts}/xsd"
if ! mkdir -p "$cache" 2>/dev/null || [[ ! -w "$cache" ]]; then
  [[ -z "${ARTIFACT_CACHE:-}" ]] || { echo "cannot write the cache $cache (ARTIFACT_CACHE)" >&2; exit 1; }
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/amq-artifacts/xsd"
  mkdir -p "$cache"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

version=$(apt-cache policy libactivemq-java 2>/dev/null | sed -n 's/^ *Candidate: //p')
[[ -n "$version" && "$version" != "(none)" ]] ||
  unavailable "libactivemq-java is not in the apt package lists (apt-get update, with Debian's main archive in the sources)"
deb=$(find "$cache" -name "libactivemq-java_${version//:/%3a}_*.deb" -print -quit)
if [[ -z "$deb" ]]; then
  (cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "libactivemq-java=$version" >/dev/null 2>"$work/download.err") ||
    unavailable "could not download libactivemq-java $version: $(tail -n 1 "$work/download.err")"
  deb=$(find "$cache" -name "libactivemq-java_${version//:/%3a}_*.deb" -print -quit)
fi
[[ -n "$deb" ]] || { echo "apt-get download left no libactivemq-java $version in $cache" >&2; exit 1; }
dpkg-deb -x "$deb" "$work/root"
jar=$(find "$work/root" -name 'activemq-spring*.jar' -type f -print -quit)
[[ -n "$jar" ]] || { echo "no activemq-spring jar in $deb" >&2; exit 1; }
python3 - "$jar" "$out" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    data = z.read("activemq.xsd")
if b"http://activemq.apache.org/schema/core" not in data:
    sys.exit("activemq.xsd is not the XBean broker schema")
open(sys.argv[2], "wb").write(data)
PY
echo "${version%%+*}"
