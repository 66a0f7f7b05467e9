#!/usr/bin/env bash
# Writes the broker's configuration and unit; starts the broker, or restarts it when they changed. The master's
# restart is deferred to activemq-settle.sh, which runs after every slave has restarted.
# Usage: activemq-configure.sh HA_MODE OPENWIRE_PORT REPLICATION_PORT ACTIVEMQ_HOME
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

mode=$1 openwire=$2 replication=$3 home=$4
ensure_system_user activemq /var/lib/activemq
install -d -o activemq -g activemq -m 0750 /var/lib/activemq /var/lib/activemq/tmp /var/log/activemq
install -d -o root -g activemq -m 0750 /etc/activemq

# The distribution's logging configuration comes along unchanged. Nothing else of its conf/ does: its sample
# logins (admin/admin), keystores and JAAS files are not used by the rendered configuration.
for name in log4j.properties log4j2.properties logging.properties java.security; do
  source="$home/conf/$name"
  target="/etc/activemq/$name"
  [[ -f "$source" ]] || continue
  if ! cmp -s "$source" "$target"; then
    install -o root -g activemq -m 0640 "$source" "$target"
    CHANGED_FILES+=("$target")
  fi
done
distribution_changes=("${CHANGED_FILES[@]}")
apply_manifest
CHANGED_FILES+=("${distribution_changes[@]}")
service_leads() { [[ "$(broker_role "$mode" "$openwire" "$replication")" == master ]]; }
service_healthy() { [[ "$(broker_role "$mode" "$openwire" "$replication")" =~ ^(master|slave)$ ]]; }
apply_service activemq activemq.service 300
