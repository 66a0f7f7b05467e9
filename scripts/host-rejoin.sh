#!/usr/bin/env bash
# After AWS stopped and started this node's instance (a change of instance type): waits until the host is up and
# every service installed on it has a role in its group again, so the next node's instance is stopped only then.
# A blank host (a replacement that the provisioning has yet to build) has nothing to wait for.
# Inputs: SELF_INDEX, HA_MODE, BROKER_PORT, REPLICATION_PORT, ZOOKEEPER_CLIENT_PORT.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_inputs SELF_INDEX HA_MODE BROKER_PORT REPLICATION_PORT ZOOKEEPER_CLIENT_PORT
self=$SELF_INDEX mode=$HA_MODE broker_port=$BROKER_PORT replication=$REPLICATION_PORT client_port=$ZOOKEEPER_CLIENT_PORT
state=$(timeout 300 systemctl is-system-running --wait 2>/dev/null || true)
case "$state" in
  running | degraded) ;;
  *) die "node $self: systemd is '$state' after its restart, expected running" ;;
esac
installed() { systemctl cat "$1" >/dev/null 2>&1; }
zookeeper_member() { [[ "$(zk_mode 127.0.0.1 "$client_port")" =~ ^(leader|follower|standalone)$ ]]; }
broker_member() { [[ "$(broker_role "$mode" "$broker_port" "$replication")" =~ ^(master|slave)$ ]]; }
waited=()
if installed zookeeper.service; then
  if ! wait_until 300 zookeeper_member; then
    show_log zookeeper.service
    die "node $self: ZooKeeper has no role in its ensemble 300 s after the host restarted"
  fi
  waited+=("ZooKeeper $(zk_mode 127.0.0.1 "$client_port")")
fi
if installed activemq.service; then
  if ! wait_until 300 broker_member; then
    show_log activemq.service
    die "node $self: the broker is neither master nor slave 300 s after the host restarted"
  fi
  waited+=("broker $(broker_role "$mode" "$broker_port" "$replication")")
fi
if ((${#waited[@]} == 0)); then
  log "node $self: nothing installed yet (a blank host); nothing to wait for"
else
  log "node $self back in its group: ${waited[*]}"
fi
