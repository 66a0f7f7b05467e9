#!/usr/bin/env bash
# replicated-leveldb, installed on every host and run by activemq-election-watchdog.timer: heals a stuck master
# election of ActiveMQ 5.16.8, in every form the cluster-in-a-box has produced, without a person.
#
# 5.16.8's elector (MasterElector.scala) acts only on ZooKeeper events, and a broker whose store start or stop
# never completes stays "updating" for good. The forms seen after ZooKeeper restarts, connection losses and a
# partitioned master that was healed:
#   elector-waiting      "Not enough cluster members have reported their update positions yet." (the elector waits
#                        on a position that never comes; only restarting the elector helps)
#   too-few-members      "Not enough cluster members connected to elect a master." with every host up (another
#                        broker never registered again)
#   replication-stopped  "Store replication stopped" after "Demoted to slave" (its store is half stopped)
#   bad-version          "BadVersionException" from MasterElector.update (its registration is stale)
#   lock-timeout         "timeout reached while waiting on the lock" (its store never opened)
# Rather than trust a list of log lines, the rule is what they share: no broker of the group has served for a
# while although ZooKeeper has a quorum. Then each host restarts its own broker, one host at a time: the stuck
# elector first (STUCK_AFTER_SECONDS), every other broker after STAGGER_SECONDS more per node index, so that
# restarts never overlap and every broker is restarted once if need be. The form is named in the log.
# Never restarted: a broker that serves (it listens on the client port), any broker while another serves, a broker
# promoted less than PROMOTION_GRACE_SECONDS ago (its store may take that long to open), and any broker while no
# ZooKeeper server serves (no election is possible; the period starts again when one does).
# Inputs (the unit's environment): BROKER_PORT (the client port only a master listens on), STATE_DIR,
# BROKERS (every broker's address, space-separated), SELF_INDEX (this node, 1-based), ZOOKEEPERS (host:port of
# every ZooKeeper server, space-separated).
set -euo pipefail

: "${BROKER_PORT:?} ${STATE_DIR:?} ${BROKERS:?} ${SELF_INDEX:?} ${ZOOKEEPERS:?}"
read -r -a brokers <<<"$BROKERS"
read -r -a zookeepers <<<"$ZOOKEEPERS"
since_file="$STATE_DIR/no-master-since"
# Normal elections take seconds (the failover rounds measure 3-20 s under silent deaths): a minute is clear of them.
STUCK_AFTER_SECONDS=60
# Longer than a broker's restart (restartDelaySeconds, then the JVM and the store) and the election after it.
STAGGER_SECONDS=45
PROMOTION_GRACE_SECONDS=300

port_open() {
  # shellcheck disable=SC2016 # expanded by the inner shell, from its arguments
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# Whether a ZooKeeper server at host:port serves requests (srvr is the one four-letter word allowed by default).
zookeeper_serves() {
  # shellcheck disable=SC2016 # expanded by the inner shell, from its arguments
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf srvr >&3 && cat <&3' _ "${1%:*}" "${1##*:}" 2>/dev/null |
    grep -qE '^Mode: (leader|follower|standalone)'
}

# What this host sees first, without a connection: its own broker is the master (it listens). Only otherwise does
# it ask the others' client ports: a connection that closes before the OpenWire handshake costs the master a WARN
# line in its log. A replication connection to a master is no proof that a broker serves: a slave can keep one to
# a master that stopped serving.
if [[ -n "$(ss -Hltn "( sport = :$BROKER_PORT )")" ]]; then
  rm -f "$since_file"
  exit 0
fi
for address in "${brokers[@]}"; do
  if port_open "$address" "$BROKER_PORT"; then
    rm -f "$since_file"
    exit 0
  fi
done
quorum=no
for server in "${zookeepers[@]}"; do
  if zookeeper_serves "$server"; then
    quorum=yes
    break
  fi
done
if [[ "$quorum" == no ]]; then
  rm -f "$since_file"
  exit 0
fi
now=$(date +%s)
if [[ ! -f "$since_file" ]]; then
  printf '%s\n' "$now" >"$since_file"
  exit 0
fi
since=$(cat "$since_file")
systemctl is-active --quiet activemq.service || exit 0

# This broker's election lines this boot, `epoch message` each; its last one decides what it is doing.
journal=$(journalctl -b -u activemq.service -o short-unix --no-pager | grep -E \
  "Not enough cluster members|Promoted to master|Master started|Demoted to slave|Master stopped|Slave started|Slave stopped|Attaching to master|Store replication stopped|BadVersionException|waiting on the lock" || true)
last=$(tail -n 1 <<<"$journal")
form=no-master
case "$last" in
  *"Not enough cluster members have reported their update positions yet"*) form=elector-waiting ;;
  *"Not enough cluster members connected to elect"*) form=too-few-members ;;
  *"Store replication stopped"*) form=replication-stopped ;;
  *BadVersionException*) form=bad-version ;;
  *"waiting on the lock"*) form=lock-timeout ;;
  *"Promoted to master"*)
    promoted=${last%%.*}
    if [[ "$promoted" =~ ^[0-9]+$ ]] && ((now - promoted < PROMOTION_GRACE_SECONDS)); then
      exit 0
    fi
    form=promotion-never-finished
    ;;
esac
wait=$STUCK_AFTER_SECONDS
if [[ "$form" != elector-waiting ]]; then
  wait=$((STUCK_AFTER_SECONDS + SELF_INDEX * STAGGER_SECONDS))
fi
((now - since >= wait)) || exit 0
echo "no broker of the group has served for $((now - since)) s while ZooKeeper has a quorum; this broker's state: $form: restarting it"
# A whole period before this host acts again.
printf '%s\n' "$now" >"$since_file"
systemctl restart activemq.service
