#!/usr/bin/env bash
# Runs shellcheck on every shell script the project tracks (and new ones not yet ignored).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
mapfile -t scripts < <(
  { git ls-files -co --exclude-standard -- '*.sh' '.ci/run' 2>/dev/null || find . -name '*.sh' -not -path './node_modules/*'; } | sort -u
)
((${#scripts[@]} > 0)) || { echo "no shell scripts found" >&2; exit 1; }
shellcheck -x "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts clean"
