#!/usr/bin/env bash
# Writes zoo.cfg, myid and the unit; starts ZooKeeper, or restarts it when they changed. The leader's restart
# is deferred to zookeeper-settle.sh, which runs after every other host has restarted.
# Usage: zookeeper-configure.sh CLIENT_PORT
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

client_port=$1
ensure_system_user zookeeper /var/lib/zookeeper
install -d -o zookeeper -g zookeeper -m 0750 /var/lib/zookeeper /var/lib/zookeeper/txlog /var/log/zookeeper
install -d -m 0755 /etc/zookeeper
apply_manifest
if changed '/etc/systemd/system/*'; then
  systemctl daemon-reload
fi
systemctl enable --quiet zookeeper.service

if ! systemctl is-active --quiet zookeeper.service; then
  systemctl start zookeeper.service
  log "zookeeper started"
elif ((${#CHANGED_FILES[@]} > 0)); then
  if [[ "$(zk_mode 127.0.0.1 "$client_port")" == leader ]]; then
    defer_restart zookeeper
  else
    systemctl restart zookeeper.service
    log "zookeeper restarted; waiting until it serves again"
    serving() { [[ -n "$(zk_mode 127.0.0.1 "$client_port")" ]]; }
    if ! wait_until 180 serving; then
      show_log /var/log/zookeeper/zookeeper.out
      die "zookeeper did not rejoin its ensemble within 180 s"
    fi
  fi
else
  log "zookeeper unchanged and running"
fi
