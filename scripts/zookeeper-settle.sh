#!/usr/bin/env bash
# Applies a restart that zookeeper-configure.sh deferred, then waits until this server has a role in the ensemble.
# Inputs: SELF_INDEX, ZOOKEEPER_CLIENT_PORT.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_inputs SELF_INDEX ZOOKEEPER_CLIENT_PORT
self=$SELF_INDEX client_port=$ZOOKEEPER_CLIENT_PORT
service_healthy() { [[ "$(zk_mode 127.0.0.1 "$client_port")" =~ ^(leader|follower|standalone)$ ]]; }
settle_service zookeeper zookeeper.service 240 "node $self"
log "node $self: $(zk_mode 127.0.0.1 "$client_port")"
