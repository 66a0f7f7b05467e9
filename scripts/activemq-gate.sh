#!/usr/bin/env bash
# Readiness gate: exactly one broker of the group accepts clients; the others stand by.
# Inputs: HA_MODE, BROKER_PORT, REPLICATION_PORT, NODES (INDEX=ADDRESS, space-separated).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_inputs BROKER_PORT NODES
broker_port=$BROKER_PORT
read -r -a nodes <<<"$NODES"
report=""
one_master() {
  local accepting=0 entry
  report=""
  for entry in "${nodes[@]}"; do
    if port_open "${entry#*=}" "$broker_port"; then
      accepting=$((accepting + 1))
      report+=" node ${entry%%=*} (${entry#*=}): master;"
    else
      report+=" node ${entry%%=*} (${entry#*=}): standing by;"
    fi
  done
  ((accepting == 1))
}
if ! wait_until 300 one_master; then
  die "expected exactly one broker accepting on port $broker_port after 300 s:$report (each host's activemq-settle step shows its log)"
fi
log "broker group ready:$report"
