#!/usr/bin/env bash
# shared-kahadb: mounts the shared file system through a systemd mount unit (the broker's unit requires it, so
# a broker never starts on an empty local directory) and prepares the KahaDB directory on it.
# Inputs: MOUNT_POINT, MOUNT_UNIT, KAHADB_DIR, ACTIVEMQ_USER, ACTIVEMQ_DATA_DIR.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_inputs MOUNT_POINT MOUNT_UNIT KAHADB_DIR ACTIVEMQ_USER ACTIVEMQ_DATA_DIR
mount_point=$MOUNT_POINT unit=$MOUNT_UNIT kahadb=$KAHADB_DIR user=$ACTIVEMQ_USER
if ! command -v mount.nfs4 >/dev/null; then
  apt_install nfs-common
fi
ensure_system_user "$user" "$ACTIVEMQ_DATA_DIR"
install -d -m 0755 "$mount_point"
apply_manifest
if ((${#CHANGED_FILES[@]} > 0)); then
  systemctl daemon-reload
fi
systemctl enable --quiet "$unit"
mount_once() {
  systemctl reset-failed "$unit" 2>/dev/null || true
  systemctl start "$unit"
}
if ! mountpoint -q "$mount_point"; then
  # A new mount target's DNS name resolves some time after AWS reports it available, and NFS may refuse at first:
  # the mount is tried again every 10 s for 5 minutes (each try bounded by the mount unit's own timeout).
  retry_every "${MOUNT_RETRY_SECONDS:-300}" 10 "mounting $mount_point" mount_once ||
    die "cannot mount the shared store at $mount_point: $(systemctl status --no-pager "$unit" 2>&1 | tail -n 5)"
  log_change "mounted $mount_point"
elif ((${#CHANGED_FILES[@]} > 0)); then
  # Remounting under a running broker would pull its store away; new options apply at the next boot.
  log_change "mount options changed; they take effect when $mount_point is next mounted"
fi
install -d -o "$user" -g "$user" -m 0750 "$kahadb"
log "shared store ready: $(findmnt -n -o SOURCE,FSTYPE "$mount_point")"
