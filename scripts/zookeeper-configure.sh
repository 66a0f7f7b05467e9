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
service_leads() { [[ "$(zk_mode 127.0.0.1 "$client_port")" == leader ]]; }
service_healthy() { [[ "$(zk_mode 127.0.0.1 "$client_port")" =~ ^(leader|follower|standalone)$ ]]; }
apply_service zookeeper zookeeper.service 180
