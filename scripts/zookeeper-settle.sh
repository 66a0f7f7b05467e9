#!/usr/bin/env bash
# Applies a restart that zookeeper-configure.sh deferred, then waits until this server has a role in the ensemble.
# Usage: zookeeper-settle.sh SELF_INDEX CLIENT_PORT INDEX=ADDRESS...
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

self=$1 client_port=$2
if restart_pending zookeeper; then
  systemctl restart zookeeper.service
  clear_pending zookeeper
  log "zookeeper restarted (deferred until its followers had restarted)"
fi
has_role() { [[ "$(zk_mode 127.0.0.1 "$client_port")" =~ ^(leader|follower|standalone)$ ]]; }
if ! wait_until 240 has_role; then
  show_log /var/log/zookeeper/zookeeper.out
  die "zookeeper on node $self has no role in the ensemble after 240 s (is a quorum of hosts up?)"
fi
log "node $self: $(zk_mode 127.0.0.1 "$client_port")"
