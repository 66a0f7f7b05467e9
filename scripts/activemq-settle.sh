#!/usr/bin/env bash
# Applies a restart that activemq-configure.sh deferred (the master goes last), then waits until this broker is
# master or a slave standing by. Usage: activemq-settle.sh SELF_INDEX HA_MODE OPENWIRE_PORT REPLICATION_PORT INDEX=ADDRESS...
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

self=$1 mode=$2 openwire=$3 replication=$4
service_healthy() { [[ "$(broker_role "$mode" "$openwire" "$replication")" =~ ^(master|slave)$ ]]; }
settle_service activemq activemq.service 300 "node $self"
log "node $self: $(broker_role "$mode" "$openwire" "$replication")"
