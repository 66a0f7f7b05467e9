#!/usr/bin/env bash
# Applies a restart that zookeeper-configure.sh deferred, then waits until this server has a role in the ensemble.
# Usage: zookeeper-settle.sh SELF_INDEX CLIENT_PORT INDEX=ADDRESS...
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

self=$1 client_port=$2
service_healthy() { [[ "$(zk_mode 127.0.0.1 "$client_port")" =~ ^(leader|follower|standalone)$ ]]; }
settle_service zookeeper zookeeper.service 240 "node $self"
log "node $self: $(zk_mode 127.0.0.1 "$client_port")"
