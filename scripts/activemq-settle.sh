#!/usr/bin/env bash
# Applies a restart that activemq-configure.sh deferred (the master goes last), then waits until this broker is
# master or a slave standing by. Inputs: SELF_INDEX, HA_MODE, BROKER_PORT, REPLICATION_PORT.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_inputs SELF_INDEX HA_MODE BROKER_PORT REPLICATION_PORT
self=$SELF_INDEX mode=$HA_MODE broker_port=$BROKER_PORT replication=$REPLICATION_PORT
service_healthy() { [[ "$(broker_role "$mode" "$broker_port" "$replication")" =~ ^(master|slave)$ ]]; }

apply_deferred_restart activemq
# In replicated-leveldb a stuck master election (after ZooKeeper restarts) is healed by the election watchdog
# (scripts/host/election-watchdog.sh) within about 75 s, well inside this wait.
await_role activemq activemq.service 300 "node $self"
log "node $self: $(broker_role "$mode" "$broker_port" "$replication")"
