#!/usr/bin/env bash
# Runs after AWS changed this node's instance (a stop and start for a new type or user data, or a replacement), and
# on the first deployment; the next node's instance changes only once it succeeds (lib/rollout.ts). It waits until
# the host is back in its groups: ZooKeeper a member of its ensemble, the broker master or slave and, in
# replicated-leveldb, a slave caught up with its master, and a master serving the group, so that stopping the next
# host loses nothing. A blank host
# in a group that serves is a replacement: it first rebuilds the host by running the node's own plan steps, whose
# payloads are this step's files (REBUILD_STEPS names them in order). When nothing else in the group serves (a first
# deployment) there is nothing to wait for.
# Inputs: SELF_INDEX, HA_MODE, BROKER_PORT, REPLICATION_PORT, ZOOKEEPER_CLIENT_PORT, ZOOKEEPER_DEPLOYED,
# PEER_ADDRESSES, SERVICE_SECONDS, REBUILD_STEPS.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_inputs SELF_INDEX HA_MODE BROKER_PORT REPLICATION_PORT ZOOKEEPER_CLIENT_PORT ZOOKEEPER_DEPLOYED \
  PEER_ADDRESSES SERVICE_SECONDS REBUILD_STEPS
self=$SELF_INDEX mode=$HA_MODE broker_port=$BROKER_PORT replication=$REPLICATION_PORT
client_port=$ZOOKEEPER_CLIENT_PORT
read -r -a peers <<<"$PEER_ADDRESSES"

state=$(timeout 300 systemctl is-system-running --wait 2>/dev/null || true)
case "$state" in
  running | degraded) ;;
  *) die "node $self: systemd is '$state' after the instance started, expected running" ;;
esac

installed() { systemctl cat "$1" >/dev/null 2>&1; }
# Only a master opens the client port (lib/tls.ts masterPort): a member whose port accepts is a serving master.
master_on() {
  # shellcheck disable=SC2016 # expanded by the inner shell, from its arguments
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$broker_port" 2>/dev/null
}
master_elsewhere() {
  local peer
  for peer in "${peers[@]}"; do
    master_on "$peer" && return 0
  done
  return 1
}
# The group serves without this host when another member's broker is master or another member's ZooKeeper is in a
# quorum.
group_serves_elsewhere() {
  local peer
  master_elsewhere && return 0
  for peer in "${peers[@]}"; do
    if [[ "$ZOOKEEPER_DEPLOYED" == true && "$(zk_mode "$peer" "$client_port")" =~ ^(leader|follower)$ ]]; then
      return 0
    fi
  done
  return 1
}
# A master serves the group: this host's broker or another member's.
group_has_master() { [[ "$(broker_role "$mode" "$broker_port" "$replication")" == master ]] || master_elsewhere; }
blank() { ! installed activemq.service && ! installed zookeeper.service; }
zookeeper_member() { [[ "$(zk_mode 127.0.0.1 "$client_port")" =~ ^(leader|follower|standalone)$ ]]; }
broker_member() { [[ "$(broker_role "$mode" "$broker_port" "$replication")" =~ ^(master|slave)$ ]]; }
# A replicated slave is caught up once its log of this run of the service says so (slave_caught_up).
caught_up() {
  local role invocation
  role=$(broker_role "$mode" "$broker_port" "$replication")
  [[ "$role" == master ]] && return 0
  [[ "$role" == slave ]] || return 1
  invocation=$(systemctl show -p InvocationID --value activemq.service)
  [[ -n "$invocation" ]] || return 1
  journalctl -q -o cat "_SYSTEMD_INVOCATION_ID=$invocation" 2>/dev/null | slave_caught_up
}

# Asked first: on a first deployment this step runs beside the node's own provisioning, and a half-built host must
# not be taken for one that left a serving group.
if ! group_serves_elsewhere; then
  log "node $self: nothing else in its group serves (a first deployment, or the whole group is down): nothing to wait for"
  exit 0
fi
if blank; then
  read -r -a rebuild <<<"$REBUILD_STEPS"
  log "node $self: a blank host in a serving group (a replacement): rebuilding it with ${#rebuild[@]} steps"
  # The payloads are the step's files 0 … n-1 in REBUILD_STEPS order; each bounds itself (lib/payload.ts).
  for i in "${!rebuild[@]}"; do
    log "node $self: rebuild step ${rebuild[$i]}"
    bash "$STEP_FILES/$i" </dev/null || die "node $self: rebuild step ${rebuild[$i]} failed (its output is above)"
  done
fi

waited=()
if installed zookeeper.service; then
  if ! wait_until "$SERVICE_SECONDS" zookeeper_member; then
    show_log zookeeper.service
    die "node $self: ZooKeeper has no role in its ensemble $SERVICE_SECONDS s after the host came back"
  fi
  waited+=("ZooKeeper $(zk_mode 127.0.0.1 "$client_port")")
fi
if installed activemq.service; then
  if ! wait_until "$SERVICE_SECONDS" broker_member; then
    show_log activemq.service
    die "node $self: the broker is neither master nor slave $SERVICE_SECONDS s after the host came back"
  fi
  if [[ "$mode" == replicated-leveldb ]] && ! wait_until "$SERVICE_SECONDS" caught_up; then
    show_log activemq.service
    die "node $self: the broker replicates but has not caught up with its master after $SERVICE_SECONDS s"
  fi
  # The next host goes down only while a master serves: an election still under way (or stuck, which the election
  # watchdog heals) must end first.
  if ! wait_until "$SERVICE_SECONDS" group_has_master; then
    show_log activemq.service
    die "node $self: no broker of its group accepts clients $SERVICE_SECONDS s after the host came back"
  fi
  waited+=("broker $(broker_role "$mode" "$broker_port" "$replication"), a master serving")
fi
log "node $self back in its group: ${waited[*]:-nothing installed}"
