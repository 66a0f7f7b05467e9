#!/usr/bin/env bash
# Installs the JDK from the OS packages, unless a JDK of the wanted major version is already there.
# Inputs: JDK_PACKAGE, JDK_MAJOR.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_inputs JDK_PACKAGE JDK_MAJOR
package=$JDK_PACKAGE
major=$JDK_MAJOR
current=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1 || true)
if [[ "$current" == "$major" ]]; then
  log "JDK $major already present"
  exit 0
fi
log "installing $package"
apt_install "$package"
current=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1 || true)
[[ "$current" == "$major" ]] || die "$package installed, but java reports version '$current'"
log_change "JDK $major installed"
