#!/usr/bin/env bash
# Installs an ActiveMQ release like install-artifact.sh, then the extra jars its JDK 17 fixes need into
# ACTIVEMQ_BASE/lib/optional (searched before the distribution's), each checked against its pinned SHA-1.
# Inputs: those of install-artifact.sh, ACTIVEMQ_BASE, and EXTRA_JARS (URL and SHA-1 pairs, space-separated).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_inputs RELEASE_URL RELEASE_SHA512 RELEASE_HOME RELEASE_LINK RELEASE_KEYS_URL RELEASE_SIGNERS \
  ACTIVEMQ_BASE EXTRA_JARS
install_release "$RELEASE_URL" "$RELEASE_SHA512" "$RELEASE_HOME" "$RELEASE_LINK" "$RELEASE_KEYS_URL" "$RELEASE_SIGNERS"
base=$ACTIVEMQ_BASE
read -r -a jar_pins <<<"$EXTRA_JARS"
set -- "${jar_pins[@]+"${jar_pins[@]}"}"
optional="$base/lib/optional"
install -d -m 0755 "$base" "$base/lib" "$optional"
wanted=()
while (($# >= 2)); do
  url=$1 sha1=$2
  shift 2
  jar="$optional/$(basename "$url")"
  wanted+=("$(basename "$url")")
  if [[ -f "$jar" ]] && sha1sum --status -c <<<"$sha1  $jar"; then
    continue
  fi
  fetch "$url" "$jar.download"
  if ! sha1sum --status -c <<<"$sha1  $jar.download"; then
    rm -f "$jar.download"
    die "checksum mismatch for $(basename "$url"): expected sha1 $sha1. Nothing was installed."
  fi
  chmod 0644 "$jar.download"
  mv -f "$jar.download" "$jar"
  log_change "added $(basename "$jar") (sha1 verified)"
done
# Exactly the wanted jars: one left from an older setting would shadow the distribution's.
for jar in "$optional"/*.jar; do
  [[ -e "$jar" ]] || continue
  name=$(basename "$jar")
  if [[ " ${wanted[*]} " != *" $name "* ]]; then
    rm -f "$jar"
    log_change "removed $name"
  fi
done
