#!/usr/bin/env bash
# Installs an Apache release: downloaded, checked against its published .sha512 (and a pinned one) and its signature
# by a pinned release key before it is unpacked, then moved into place and linked.
# Inputs: RELEASE_URL, RELEASE_SHA512 (may be empty), RELEASE_HOME, RELEASE_LINK, RELEASE_KEYS_URL, RELEASE_SIGNERS.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_inputs RELEASE_URL RELEASE_SHA512 RELEASE_HOME RELEASE_LINK RELEASE_KEYS_URL RELEASE_SIGNERS
install_release "$RELEASE_URL" "$RELEASE_SHA512" "$RELEASE_HOME" "$RELEASE_LINK" "$RELEASE_KEYS_URL" "$RELEASE_SIGNERS"
