#!/usr/bin/env bash
# replicated-leveldb, installed on every host and run by activemq-election-watchdog.timer: heals a stuck master
# election of ActiveMQ 5.16.8. ZooKeeper restarting under the brokers (a rolling zoo.cfg change, hosts restarted
# one after another) can leave the electing broker waiting for good on a store position that never comes: it logs
# "Not enough cluster members have reported their update positions yet" and no broker serves, until that broker
# is restarted (seen in the cluster-in-a-box; restarting another broker did not help). Only the electing broker
# logs that line, so each host can tell whether it is the one to restart.
# Inputs (the unit's environment): BROKER_PORT (the client port only a master listens on),
# STATE_DIR, BROKERS (every broker's address, space-separated).
set -euo pipefail

: "${BROKER_PORT:?} ${STATE_DIR:?} ${BROKERS:?}"
read -r -a brokers <<<"$BROKERS"
since_file="$STATE_DIR/no-master-since"
# How long the group must have had no serving broker before this broker counts as stuck: normal elections take
# seconds (the failover rounds measure 3-5 s), so a minute is well clear of them.
STUCK_AFTER_SECONDS=60

port_open() {
  # shellcheck disable=SC2016 # expanded by the inner shell, from its arguments
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# What this host sees first, without a connection: its own broker is the master (it listens). Only otherwise does
# it ask the others' client ports: a connection that closes before the OpenWire handshake costs the master a WARN
# line in its log. A replication connection to a master is no proof that a broker serves: a slave can keep one to
# a master that stopped serving, and a stuck elector that trusted it would never be restarted (the box's quick
# ZooKeeper rolls stuck once so, with no broker serving for 180 s).
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
now=$(date +%s)
if [[ ! -f "$since_file" ]]; then
  printf '%s\n' "$now" >"$since_file"
  exit 0
fi
since=$(cat "$since_file")
((now - since >= STUCK_AFTER_SECONDS)) || exit 0
systemctl is-active --quiet activemq.service || exit 0
# This broker's last word on the election, this boot.
last=$(journalctl -b -u activemq.service -o cat --no-pager |
  grep -E "Not enough cluster members|Promoted to master|Master started|Demoted to slave|Master stopped|Slave started|Slave stopped|Attaching to master" |
  tail -n 1 || true)
[[ "$last" == *"Not enough cluster members have reported their update positions yet"* ]] || exit 0
echo "no broker of the group has served for $((now - since)) s and this broker's election waits on a position that never comes: restarting it"
# A minute before the next attempt.
printf '%s\n' "$now" >"$since_file"
systemctl restart activemq.service
