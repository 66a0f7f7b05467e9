#!/usr/bin/env bash
# Writes the broker's configuration and unit; starts the broker, or restarts it when they changed. The master's
# restart is deferred to activemq-settle.sh, which runs after every slave has restarted.
# Inputs: HA_MODE, OPENWIRE_PORT, REPLICATION_PORT, ACTIVEMQ_HOME, ACTIVEMQ_USER, ACTIVEMQ_CONF_DIR, ACTIVEMQ_DATA_DIR,
# ACTIVEMQ_TMP_DIR, WATCHDOG_TIMER (replicated-leveldb's election watchdog timer; empty when there is none).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_inputs HA_MODE OPENWIRE_PORT REPLICATION_PORT ACTIVEMQ_HOME ACTIVEMQ_USER ACTIVEMQ_CONF_DIR ACTIVEMQ_DATA_DIR \
  ACTIVEMQ_TMP_DIR WATCHDOG_TIMER
mode=$HA_MODE openwire=$OPENWIRE_PORT replication=$REPLICATION_PORT home=$ACTIVEMQ_HOME user=$ACTIVEMQ_USER
ensure_system_user "$user" "$ACTIVEMQ_DATA_DIR"
install -d -o "$user" -g "$user" -m 0750 "$ACTIVEMQ_DATA_DIR" "$ACTIVEMQ_TMP_DIR"
install -d -o root -g "$user" -m 0750 "$ACTIVEMQ_CONF_DIR"

# The distribution's logging configuration comes along unchanged. Nothing else of its conf/ does: its sample
# logins (admin/admin), keystores and JAAS files are not used by the rendered configuration.
for name in log4j.properties log4j2.properties logging.properties java.security; do
  source="$home/conf/$name"
  target="$ACTIVEMQ_CONF_DIR/$name"
  [[ -f "$source" ]] || continue
  if ! cmp -s "$source" "$target"; then
    install -o root -g "$user" -m 0640 "$source" "$target"
    CHANGED_FILES+=("$target")
  fi
done
distribution_changes=("${CHANGED_FILES[@]}")
apply_manifest
# The election watchdog's files are not the broker's: a change to them reloads systemd, never restarts the broker.
broker_changes=() watchdog_changed=false
for file in "${CHANGED_FILES[@]}"; do
  case "$file" in
    */activemq-election-watchdog.* | */election-watchdog) watchdog_changed=true ;;
    *) broker_changes+=("$file") ;;
  esac
done
CHANGED_FILES=("${broker_changes[@]}" "${distribution_changes[@]}")
if [[ "$watchdog_changed" == true ]]; then
  systemctl daemon-reload
fi
service_leads() { [[ "$(broker_role "$mode" "$openwire" "$replication")" == master ]]; }
service_healthy() { [[ "$(broker_role "$mode" "$openwire" "$replication")" =~ ^(master|slave)$ ]]; }
apply_service activemq activemq.service 300
if [[ -n "$WATCHDOG_TIMER" ]] && ! systemctl is-active --quiet "$WATCHDOG_TIMER"; then
  systemctl enable --now --quiet "$WATCHDOG_TIMER"
  log_change "$WATCHDOG_TIMER started"
fi
