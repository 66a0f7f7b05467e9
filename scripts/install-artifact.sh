#!/usr/bin/env bash
# Installs an Apache release: downloaded, checked against its published .sha512 (and a pinned one) before it is
# unpacked, then moved into place and linked. Usage: install-artifact.sh URL SHA512_URL PIN HOME LINK
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

install_release "$1" "$2" "$3" "$4" "$5"
