#!/usr/bin/env bash
# Applies a restart that activemq-configure.sh deferred (the master goes last), then waits until this broker is
# master or a slave standing by. Usage: activemq-settle.sh SELF_INDEX HA_MODE OPENWIRE_PORT REPLICATION_PORT INDEX=ADDRESS...
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

self=$1 mode=$2 openwire=$3 replication=$4
if restart_pending activemq; then
  systemctl restart activemq.service
  clear_pending activemq
  log "broker restarted (deferred until the slaves had restarted)"
fi
has_role() { [[ "$(broker_role "$mode" "$openwire" "$replication")" =~ ^(master|slave)$ ]]; }
if ! wait_until 300 has_role; then
  show_log /var/log/activemq/activemq.out
  die "broker on node $self is '$(broker_role "$mode" "$openwire" "$replication")' after 300 s, expected master or slave"
fi
log "node $self: $(broker_role "$mode" "$openwire" "$replication")"
