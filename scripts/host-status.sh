#!/usr/bin/env bash
# What `npm run status` asks each host (lib/status.ts): its services' roles and resources, one key=value a line.
# Read-only: it changes nothing on the host.
# Inputs: HA_MODE, BROKER_PORT, REPLICATION_PORT, ZOOKEEPER_CLIENT_PORT (empty: no ZooKeeper deployed),
# STORE_DIR (where the broker's store lives), ACTIVEMQ_LINK, ZOOKEEPER_LINK, MONITOR_PORT (the host monitor's
# port, whose /status adds heap and destinations; empty: a stack deployed before the monitor).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_inputs HA_MODE BROKER_PORT REPLICATION_PORT ZOOKEEPER_CLIENT_PORT STORE_DIR ACTIVEMQ_LINK ZOOKEEPER_LINK \
  MONITOR_PORT

# The release a /opt symlink points at: apache-activemq-5.16.8 → 5.16.8; nothing when not installed.
release_of() {
  local target
  target=$(readlink -f "$1" 2>/dev/null) || return 0
  [[ -d "$target" ]] || return 0
  basename "$target" | sed -E 's/^apache-(activemq|zookeeper)-//; s/-bin$//'
}

# Established connections on the replication port: into a master from its slaves, out of a slave to its master.
replication_links() {
  local role=$1 filter
  case "$role" in
    master) filter="sport = :$REPLICATION_PORT" ;;
    slave) filter="dport = :$REPLICATION_PORT" ;;
    *) echo 0 && return 0 ;;
  esac
  ss -Htn state established "( $filter )" | wc -l
}

zookeeper=none
if [[ -n "$ZOOKEEPER_CLIENT_PORT" ]]; then
  zookeeper=$(zk_mode 127.0.0.1 "$ZOOKEEPER_CLIENT_PORT")
  zookeeper=${zookeeper:-down}
fi
broker=$(broker_role "$HA_MODE" "$BROKER_PORT" "$REPLICATION_PORT")
replicas=""
if [[ "$HA_MODE" == replicated-leveldb ]]; then
  replicas=$(replication_links "$broker")
fi
disk=$(timeout 10 df -P "$STORE_DIR" 2>/dev/null | awk 'NR == 2 { sub(/%/, "", $5); print $5 }') || disk=""
broker_since=$(systemctl show -p ActiveEnterTimestampMonotonic --value activemq.service 2>/dev/null || echo 0)
uptime_s=$(cut -d. -f1 /proc/uptime)

printf 'zookeeper=%s\n' "$zookeeper"
printf 'broker=%s\n' "$broker"
printf 'replication_links=%s\n' "$replicas"
printf 'store_disk_used_pct=%s\n' "$disk"
printf 'host_uptime_s=%s\n' "$uptime_s"
printf 'broker_uptime_s=%s\n' "$(((broker_since > 0) ? uptime_s - broker_since / 1000000 : 0))"
printf 'activemq_version=%s\n' "$(release_of "$ACTIVEMQ_LINK")"
printf 'zookeeper_version=%s\n' "$(release_of "$ZOOKEEPER_LINK")"

# The monitor's own key=value lines (heap, DLQ, deepest queues), its body only, if it answers within 5 s.
if [[ -n "$MONITOR_PORT" ]]; then
  local_http_get "$MONITOR_PORT" /status | sed '1,/^$/d' | grep -E '^[a-z_]+=' || true
fi
