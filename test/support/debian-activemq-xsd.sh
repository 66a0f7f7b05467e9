#!/usr/bin/env bash
# Extracts the ActiveMQ broker schema (activemq.xsd, the XBean schema) of Debian's ActiveMQ from the
# activemq-spring jar in the libactivemq-java package, for validating rendered configuration of 5.17+.
# Usage: debian-activemq-xsd.sh OUTFILE   (the package is cached in ARTIFACT_CACHE, default /var/cache/amq-artifacts)
# Prints the version the schema belongs to.
set -euo pipefail

out=${1:?usage: debian-activemq-xsd.sh OUTFILE}
cache="${ARTIFACT_CACHE:-/var/cache/amq-artifacts}/xsd"
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

version=$(apt-cache policy libactivemq-java | sed -n 's/^ *Candidate: //p')
[[ -n "$version" && "$version" != "(none)" ]] || {
  echo "libactivemq-java is not available from the configured apt sources (run apt-get update?)" >&2
  exit 1
}
deb=$(find "$cache" -name "libactivemq-java_${version//:/%3a}_*.deb" -print -quit)
if [[ -z "$deb" ]]; then
  (cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "libactivemq-java=$version" >/dev/null)
  deb=$(find "$cache" -name "libactivemq-java_${version//:/%3a}_*.deb" -print -quit)
fi
[[ -n "$deb" ]] || { echo "could not download libactivemq-java $version" >&2; exit 1; }
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
