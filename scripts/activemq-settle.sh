#!/usr/bin/env bash
# Applies a restart that activemq-configure.sh deferred (the master goes last), then waits until this broker is
# master or a slave standing by. In replicated-leveldb it first heals an election that ZooKeeper restarts left
# stuck (see below). Inputs: SELF_INDEX, HA_MODE, OPENWIRE_PORT, REPLICATION_PORT, NODES (INDEX=ADDRESS, space-separated).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_inputs SELF_INDEX HA_MODE OPENWIRE_PORT REPLICATION_PORT NODES
self=$SELF_INDEX mode=$HA_MODE openwire=$OPENWIRE_PORT replication=$REPLICATION_PORT
read -r -a nodes <<<"$NODES"
service_healthy() { [[ "$(broker_role "$mode" "$openwire" "$replication")" =~ ^(master|slave)$ ]]; }
group_serves() {
  local entry accepting=0
  for entry in "${nodes[@]}"; do
    if port_open "${entry#*=}" "$openwire"; then accepting=$((accepting + 1)); fi
  done
  ((accepting == 1))
}

apply_deferred_restart activemq
# ZooKeeper restarting under the brokers (a rolling zoo.cfg change, seen in the cluster-in-a-box in 4 of 4 quick
# rolls) can leave 5.16.8's master election stuck: the electing broker's own store position stays -1 ("Not enough
# cluster members have reported their update positions yet") and no broker serves, for good. Restarting that
# broker heals it at once; restarting another does not. This step does not know which one it is, so each node's
# settle step, in node order, restarts its own broker when no broker of the group has served for 30 s.
if [[ "$mode" == replicated-leveldb ]] && ! wait_until 30 group_serves; then
  systemctl restart activemq.service
  log_change "no broker of the group served for 30 s (a stuck master election): broker restarted"
  if ! wait_until 60 group_serves; then
    log "node $self: still no broker serves; the next node's settle step restarts its own, and the gate checks the group"
    exit 0
  fi
fi
await_role activemq activemq.service 300 "node $self"
log "node $self: $(broker_role "$mode" "$openwire" "$replication")"
