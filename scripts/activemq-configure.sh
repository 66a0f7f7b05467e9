#!/usr/bin/env bash
# Writes the broker's configuration and unit; starts the broker, or restarts it when they changed. The master's
# restart is deferred to activemq-settle.sh, which runs after every slave has restarted.
# Inputs: HA_MODE, BROKER_PORT, REPLICATION_PORT, ACTIVEMQ_HOME, ACTIVEMQ_USER, ACTIVEMQ_CONF_DIR, ACTIVEMQ_DATA_DIR,
# ACTIVEMQ_TMP_DIR, WATCHDOG_TIMER (replicated-leveldb's election watchdog timer; empty when there is none), and for
# TLS (all empty when it is off): TLS_DIR, TLS_CERTIFICATE, TLS_PRIVATE_KEY, TLS_PASSWORD_FILE, TLS_KEY_STORE, and
# TLS_CLIENT_CA, TLS_TRUST_STORE (empty when client certificates are off).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_inputs HA_MODE BROKER_PORT REPLICATION_PORT ACTIVEMQ_HOME ACTIVEMQ_USER ACTIVEMQ_CONF_DIR ACTIVEMQ_DATA_DIR \
  ACTIVEMQ_TMP_DIR WATCHDOG_TIMER TLS_DIR TLS_CERTIFICATE TLS_PRIVATE_KEY TLS_PASSWORD_FILE TLS_KEY_STORE TLS_CLIENT_CA \
  TLS_TRUST_STORE
mode=$HA_MODE broker_port=$BROKER_PORT replication=$REPLICATION_PORT home=$ACTIVEMQ_HOME user=$ACTIVEMQ_USER
ensure_system_user "$user" "$ACTIVEMQ_DATA_DIR"
install -d -o "$user" -g "$user" -m 0750 "$ACTIVEMQ_DATA_DIR" "$ACTIVEMQ_TMP_DIR"
install -d -o root -g "$user" -m 0750 "$ACTIVEMQ_CONF_DIR"
if [[ -n "$TLS_DIR" ]]; then
  install -d -o root -g "$user" -m 0750 "$TLS_DIR"
fi

# build_tls_stores: the broker reads PKCS#12 stores (the JDK has no PEM key reader); they are built here from the
# PEM files the plan sent, and again whenever one of those changed, so they always match them. The password is
# read from its file, never from the command line.
build_tls_stores() {
  local rebuild=false file work count=0 block
  [[ -n "$TLS_DIR" ]] || return 0
  for file in "${CHANGED_FILES[@]}"; do
    [[ "$file" != "$TLS_DIR"/* ]] || rebuild=true
  done
  [[ -f "$TLS_KEY_STORE" ]] || rebuild=true
  [[ -z "$TLS_TRUST_STORE" || -f "$TLS_TRUST_STORE" ]] || rebuild=true
  [[ "$rebuild" == true ]] || return 0
  command -v openssl >/dev/null || apt_install openssl
  work=$(mktemp -d "$TLS_DIR/.build.XXXXXX")
  timeout 60 openssl pkcs12 -export -name broker -in "$TLS_CERTIFICATE" -inkey "$TLS_PRIVATE_KEY" \
    -out "$work/key.p12" -passout "file:$TLS_PASSWORD_FILE" || die "building $TLS_KEY_STORE failed"
  install -o root -g "$user" -m 0640 "$work/key.p12" "$TLS_KEY_STORE"
  CHANGED_FILES+=("$TLS_KEY_STORE")
  if [[ -n "$TLS_TRUST_STORE" ]]; then
    # keytool imports one certificate a call: split the bundle.
    awk -v dir="$work" '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > (dir "/client-ca-" n ".pem") }' "$TLS_CLIENT_CA"
    for block in "$work"/client-ca-*.pem; do
      [[ -f "$block" ]] || die "$TLS_CLIENT_CA holds no certificate"
      count=$((count + 1))
      timeout 60 keytool -importcert -noprompt -alias "client-ca-$count" -file "$block" -storetype PKCS12 \
        -keystore "$work/trust.p12" -storepass:file "$TLS_PASSWORD_FILE" >/dev/null ||
        die "building $TLS_TRUST_STORE failed"
    done
    install -o root -g "$user" -m 0640 "$work/trust.p12" "$TLS_TRUST_STORE"
    CHANGED_FILES+=("$TLS_TRUST_STORE")
  fi
  rm -rf "$work"
  log_change "TLS stores rebuilt from the PEM files"
}

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
build_tls_stores
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
service_leads() { [[ "$(broker_role "$mode" "$broker_port" "$replication")" == master ]]; }
service_healthy() { [[ "$(broker_role "$mode" "$broker_port" "$replication")" =~ ^(master|slave)$ ]]; }
apply_service activemq activemq.service 300
if [[ -n "$WATCHDOG_TIMER" ]] && ! systemctl is-active --quiet "$WATCHDOG_TIMER"; then
  systemctl enable --now --quiet "$WATCHDOG_TIMER"
  log_change "$WATCHDOG_TIMER started"
fi
