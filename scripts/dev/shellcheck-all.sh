#!/usr/bin/env bash
# Runs shellcheck on every shell script the project tracks (and new ones not yet ignored).
# Without shellcheck on the machine the step is skipped with one line saying how to install it, and under CI it
# fails instead: the same rule as the unit tests' system tools (test/support/tools.ts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

status=0
skip=$(node --import tsx test/support/tools.ts shellcheck shellcheck) || status=$?
case $status in
  0) ;;
  3)
    echo "shellcheck: SKIPPED: $skip"
    exit 0
    ;;
  *)
    echo "shellcheck: FAILED: see the line above" >&2 # under CI: tools.ts has said what is missing
    exit "$status"
    ;;
esac

mapfile -t scripts < <(
  { git ls-files -co --exclude-standard -- '*.sh' '.ci/run' 2>/dev/null || find . -name '*.sh' -not -path './node_modules/*'; } | sort -u
)
((${#scripts[@]} > 0)) || { echo "no shell scripts found" >&2; exit 1; }
shellcheck -x "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts clean"
