#!/usr/bin/env bash
# Installs an Apache release: downloaded, checked against its published .sha512 (and a pinned one) and its signature
# by a pinned release key before it is unpacked, then moved into place and linked.
# Usage: install-artifact.sh URL PIN HOME LINK KEYS_URL FINGERPRINTS
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

install_release "$1" "$2" "$3" "$4" "$5" "$6"
