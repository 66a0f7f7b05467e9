#!/usr/bin/env bash
# Installs the host monitor's source and unit and starts it, or restarts it when they changed; where a port is
# given, installs Debian's node exporter and runs it on that port, otherwise stops it. Neither restart touches the
# broker or ZooKeeper.
# Inputs: MONITOR_PORT, MONITOR_UNIT, NODE_EXPORTER_PACKAGE and NODE_EXPORTER_PORT (both empty: no node exporter),
# NODE_EXPORTER_UNIT.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_inputs MONITOR_PORT MONITOR_UNIT NODE_EXPORTER_PACKAGE NODE_EXPORTER_PORT NODE_EXPORTER_UNIT

if [[ -n "$NODE_EXPORTER_PORT" ]] && ! dpkg-query -W -f='${Status}' "$NODE_EXPORTER_PACKAGE" 2>/dev/null |
  grep -q 'install ok installed'; then
  log "installing $NODE_EXPORTER_PACKAGE"
  apt_install "$NODE_EXPORTER_PACKAGE"
  log_change "$NODE_EXPORTER_PACKAGE installed"
fi
apply_manifest
if changed '/etc/systemd/system/*'; then
  systemctl daemon-reload
fi

# The monitor answers once the launcher has compiled it (a few seconds).
monitor_answers() { local_http_get "$MONITOR_PORT" /health/master | head -n 1 | grep -q '^HTTP/1\.[01] [25]0[03]'; }
systemctl enable --quiet "$MONITOR_UNIT"
if ! systemctl is-active --quiet "$MONITOR_UNIT"; then
  systemctl start "$MONITOR_UNIT"
  log_change "host monitor started"
elif changed '*HostMonitor.java' || changed "/etc/systemd/system/$MONITOR_UNIT"; then
  systemctl restart "$MONITOR_UNIT"
  log_change "host monitor restarted"
else
  log "host monitor unchanged and running"
fi
if ! wait_until 120 monitor_answers; then
  show_log "$MONITOR_UNIT"
  die "the host monitor does not answer on port $MONITOR_PORT after 120 s"
fi

if [[ -n "$NODE_EXPORTER_PORT" ]]; then
  systemctl enable --quiet "$NODE_EXPORTER_UNIT"
  if changed "/etc/systemd/system/$NODE_EXPORTER_UNIT.d/*" ||
    ! systemctl is-active --quiet "$NODE_EXPORTER_UNIT"; then
    systemctl restart "$NODE_EXPORTER_UNIT"
    log_change "node exporter (re)started on port $NODE_EXPORTER_PORT"
  fi
  if ! wait_until 60 port_open 127.0.0.1 "$NODE_EXPORTER_PORT"; then
    show_log "$NODE_EXPORTER_UNIT"
    die "the node exporter does not listen on port $NODE_EXPORTER_PORT after 60 s"
  fi
elif systemctl is-enabled --quiet "$NODE_EXPORTER_UNIT" 2>/dev/null ||
  systemctl is-active --quiet "$NODE_EXPORTER_UNIT" 2>/dev/null; then
  # No one may scrape it (monitoringCidrs empty): nothing runs that answers no one.
  systemctl disable --now --quiet "$NODE_EXPORTER_UNIT"
  log_change "node exporter stopped and disabled"
fi
