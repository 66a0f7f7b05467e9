#!/usr/bin/env bash
# Readiness gate: every ZooKeeper server answers and the ensemble has exactly one leader.
# Inputs: ZOOKEEPER_CLIENT_PORT, NODES (INDEX=ADDRESS, space-separated).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_inputs ZOOKEEPER_CLIENT_PORT NODES
client_port=$ZOOKEEPER_CLIENT_PORT
read -r -a nodes <<<"$NODES"
report=""
healthy() {
  local leaders=0 bad=() entry mode
  report=""
  for entry in "${nodes[@]}"; do
    mode=$(zk_mode "${entry#*=}" "$client_port")
    report+=" node ${entry%%=*} (${entry#*=}): ${mode:-no answer};"
    case "$mode" in
      leader) leaders=$((leaders + 1)) ;;
      follower) ;;
      *) bad+=("${entry%%=*}") ;;
    esac
  done
  ((${#bad[@]} == 0 && leaders == 1))
}
if ! wait_until 180 healthy; then
  die "ZooKeeper ensemble not healthy after 180 s:$report (each host's zookeeper-settle step shows its log)"
fi
log "ZooKeeper ensemble healthy:$report"
