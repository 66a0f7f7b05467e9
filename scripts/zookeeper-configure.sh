#!/usr/bin/env bash
# Writes zoo.cfg, myid and the unit; starts ZooKeeper, or restarts it when they changed. The leader's restart
# is deferred to zookeeper-settle.sh, which runs after every other host has restarted.
# Inputs: ZOOKEEPER_CLIENT_PORT, ZOOKEEPER_USER, ZOOKEEPER_CONF_DIR, ZOOKEEPER_DATA_DIR, ZOOKEEPER_TXLOG_DIR,
# ZOOKEEPER_LOG_DIR.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_inputs ZOOKEEPER_CLIENT_PORT ZOOKEEPER_USER ZOOKEEPER_CONF_DIR ZOOKEEPER_DATA_DIR ZOOKEEPER_TXLOG_DIR \
  ZOOKEEPER_LOG_DIR
client_port=$ZOOKEEPER_CLIENT_PORT user=$ZOOKEEPER_USER
ensure_system_user "$user" "$ZOOKEEPER_DATA_DIR"
install -d -o "$user" -g "$user" -m 0750 "$ZOOKEEPER_DATA_DIR" "$ZOOKEEPER_TXLOG_DIR" "$ZOOKEEPER_LOG_DIR"
install -d -m 0755 "$ZOOKEEPER_CONF_DIR"
apply_manifest
service_leads() { [[ "$(zk_mode 127.0.0.1 "$client_port")" == leader ]]; }
service_healthy() { [[ "$(zk_mode 127.0.0.1 "$client_port")" =~ ^(leader|follower|standalone)$ ]]; }
apply_service zookeeper zookeeper.service 180
