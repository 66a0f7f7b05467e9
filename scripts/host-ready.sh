#!/usr/bin/env bash
# Waits until a fresh host is fit to provision: cloud-init finished (where there is one), systemd up, root.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

[[ "$(id -u)" == 0 ]] || die "steps must run as root (through sudo)"
if command -v cloud-init >/dev/null; then
  # Exit 2 means finished with recoverable errors; the image is still usable.
  rc=0
  timeout 600 cloud-init status --wait >/dev/null || rc=$?
  [[ "$rc" != 124 ]] || die "cloud-init had not finished after 600 s; see /var/log/cloud-init-output.log"
  [[ "$rc" == 0 || "$rc" == 2 ]] || die "cloud-init failed (status $rc); see /var/log/cloud-init-output.log"
fi
state=$(timeout 300 systemctl is-system-running --wait 2>/dev/null || true)
case "$state" in
  running | degraded) ;;
  *) die "systemd is '$state', expected running" ;;
esac
# shellcheck disable=SC1091 # present on every supported image
. /etc/os-release
log "ready: $PRETTY_NAME, systemd $state"
