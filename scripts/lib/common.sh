# shellcheck shell=bash
# Functions shared by every provisioning step. Each step's payload carries this file beside the step's script
# (see lib/payload.ts); steps run as root through `sudo bash -s`. Nothing here prints a secret.

PROVISION_STATE_DIR=/var/lib/amq-provision
ARTIFACT_CACHE=/var/cache/amq-provision
export DEBIAN_FRONTEND=noninteractive

log() { printf '[%s] %s\n' "${STEP_ID:-step}" "$*"; }

# require_inputs NAME...: the named inputs a step's script reads (lib/plan.ts hands them over as variables); a
# missing one stops the step before it changes anything. An input may be empty.
require_inputs() {
  local name missing=()
  for name in "$@"; do
    [[ -v "$name" ]] || missing+=("$name")
  done
  ((${#missing[@]} == 0)) || die "missing inputs: ${missing[*]} (the plan must give them)"
}
# log_change: every change a step makes to a host is logged through here, so "changed:" tells a run that
# changed something from one that changed nothing (the e2e idempotency check reads it).
log_change() { log "changed: $*"; }
die() {
  printf '[%s] ERROR: %s\n' "${STEP_ID:-step}" "$*" >&2
  exit 1
}

# wait_until SECONDS COMMAND...: runs COMMAND every second until it succeeds; fails after SECONDS.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 1
  done
}

# retry_every SECONDS PAUSE WHAT COMMAND...: runs COMMAND until it succeeds, PAUSE seconds between tries, and
# fails after SECONDS; each failed try is logged as WHAT.
retry_every() {
  local deadline=$((SECONDS + $1)) pause=$2 what=$3
  shift 3
  until "$@"; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    log "$what failed; trying again in $pause s"
    sleep "$pause"
  done
}

# ensure_system_user NAME HOME: a locked system account with its own group and no login shell.
ensure_system_user() {
  local name=$1 home=$2
  if ! getent group "$name" >/dev/null; then
    groupadd --system "$name"
  fi
  if ! getent passwd "$name" >/dev/null; then
    useradd --system --gid "$name" --home-dir "$home" --no-create-home --shell /usr/sbin/nologin "$name"
    log_change "created system user $name"
  fi
}

# apply_manifest: installs every file the step carries (STEP_FILES/MANIFEST: index, path, owner, group, mode)
# atomically, and only where content or ownership differ. Fills CHANGED_FILES with the paths it changed.
CHANGED_FILES=()
apply_manifest() {
  local index target owner group mode staged
  CHANGED_FILES=()
  while IFS=$'\t' read -r index target owner group mode; do
    [[ -n "$index" ]] || continue
    staged="$STEP_FILES/$index"
    # Create a missing parent only: install -d would also reset the mode of an existing one.
    [[ -d "$(dirname "$target")" ]] || install -d -m 0755 "$(dirname "$target")"
    if [[ -f "$target" ]] && cmp -s "$staged" "$target" &&
      [[ "$(stat -c '%U:%G:%a' "$target")" == "$owner:$group:${mode#0}" ]]; then
      continue
    fi
    install -o "$owner" -g "$group" -m "$mode" "$staged" "$target.amq-new"
    mv -f "$target.amq-new" "$target"
    CHANGED_FILES+=("$target")
    log_change "updated $target"
  done <"$STEP_FILES/MANIFEST"
}

# changed PATTERN: true when a file matching the glob PATTERN was changed by apply_manifest.
changed() {
  local f
  for f in "${CHANGED_FILES[@]}"; do
    # shellcheck disable=SC2053 # the pattern is meant to glob
    [[ "$f" == $1 ]] && return 0
  done
  return 1
}

# fetch URL DEST: download over https (http only where the test harness allows it: the settings refuse it
# elsewhere), with retries, a connect and a total time limit, and an abort when the transfer stalls (under 10 KiB/s
# for 30 s); a partial file never stays at DEST.
fetch() {
  local url=$1 dest=$2
  curl --fail --silent --show-error --location --proto '=https,http' --retry 5 --retry-delay 2 \
    --retry-connrefused --connect-timeout 15 --max-time 900 --speed-limit 10240 --speed-time 30 \
    --output "$dest.part" "$url" || {
    rm -f "$dest.part"
    die "download failed: $url"
  }
  mv -f "$dest.part" "$dest"
}

# apt_install PACKAGE...: installs OS packages, bounded: 5 minutes for dpkg's lock (cloud-init's own upgrades may
# hold it), 30 s per stalled connection, three tries of the package lists, 15 minutes for each command. Steps of one
# host run at once (the JDK and the shared mount, say), and apt's lists lock does not wait the way dpkg's does
# (DPkg::Lock::Timeout covers dpkg only): so every apt run of the steps takes APT_LOCK first, waiting up to 15 minutes.
APT_LOCK=${APT_LOCK:-/run/lock/amq-provision-apt.lock}
APT_RETRY_SECONDS=${APT_RETRY_SECONDS:-10}
apt_install() (
  local options=(-o DPkg::Lock::Timeout=300 -o Acquire::http::Timeout=30 -o Acquire::Retries=3 -q) attempt
  exec {lock}>"$APT_LOCK"
  flock -w 900 "$lock" || die "another step of this host held the apt lock ($APT_LOCK) for over 15 minutes"
  for attempt in 1 2 3; do
    if timeout 900 apt-get "${options[@]}" update; then
      break
    fi
    ((attempt < 3)) || die "apt-get update failed 3 times, or took over 15 minutes"
    log "apt-get update failed (try $attempt of 3); trying again in $((attempt * APT_RETRY_SECONDS)) s"
    sleep $((attempt * APT_RETRY_SECONDS))
  done
  timeout 900 apt-get "${options[@]}" install -y --no-install-recommends "$@" ||
    die "installing $* failed or took over 15 minutes"
)

# checksum_from_file FILE: the hex digest in an Apache .sha512/.sha1 file. Accepts "HEX  name", "HEX", and
# gpg's "name: HEX HEX ..." layout (upper case, split in groups).
checksum_from_file() {
  local text
  text=$(tr -d '\r' <"$1")
  if [[ "$text" == *:* && ! "$text" =~ ^[0-9a-fA-F]{40,}[[:space:]] ]]; then
    text=${text#*:}
  else
    text=${text%%[[:space:]]*}
  fi
  tr -d '[:space:]' <<<"$text" | tr '[:upper:]' '[:lower:]'
}

# verify_digest ALGORITHM FILE EXPECTED WHAT: fails, naming the file, unless FILE's digest is EXPECTED.
verify_digest() {
  local algorithm=$1 file=$2 expected=$3 what=$4 actual
  actual=$("${algorithm}sum" "$file" | cut -d' ' -f1)
  if [[ "$actual" != "$expected" ]]; then
    die "checksum mismatch for $what: expected ${algorithm} $expected, got $actual. Nothing was installed."
  fi
}

# verify_signature FILE KEYS FINGERPRINTS WHAT: FILE.asc must be a good signature of FILE by a key whose primary
# fingerprint is one of FINGERPRINTS (comma-separated, upper-case hex). KEYS may come from the same mirror as the
# file: only the pinned fingerprints are trusted, so a mirror cannot slip in a key of its own.
verify_signature() {
  local file=$1 keys=$2 fingerprints=$3 what=$4 home status signer
  command -v gpg >/dev/null || apt_install gnupg
  home=$(mktemp -d)
  if ! timeout 60 gpg --homedir "$home" --batch --quiet --import "$keys" 2>/dev/null; then
    rm -rf "$home"
    die "cannot read the release signing keys for $what. Nothing was installed."
  fi
  status=$(timeout 60 gpg --homedir "$home" --batch --status-fd 1 --verify "$file.asc" "$file" 2>/dev/null || true)
  rm -rf "$home"
  signer=$(awk '$2 == "VALIDSIG" { print $NF }' <<<"$status")
  [[ -n "$signer" ]] || die "no good signature of $what in $(basename "$file").asc. Nothing was installed."
  if [[ ",$fingerprints," != *",$signer,"* ]]; then
    die "$what is signed by key $signer, which is not a pinned release key ($fingerprints). Nothing was installed."
  fi
  log "$what: signature by $signer verified"
}

# install_release URL PIN HOME LINK KEYS_URL FINGERPRINTS: downloads an Apache release tarball, checks it against
# the .sha512 published beside it (which must equal PIN when PIN is set) and its .asc signature against the pinned
# release keys (verify_signature) before unpacking, moves it into HOME in one step and points LINK at it. A second
# run with the same release changes nothing.
install_release() {
  local url=$1 pin=$2 home=$3 link=$4 keys_url=$5 fingerprints=$6
  local name expected marker="$home/.amq-release-sha512" tarball unpack top
  name=$(basename "$url")
  if [[ -f "$marker" ]] && { [[ -z "$pin" ]] || [[ "$(cat "$marker")" == "$pin" ]]; }; then
    log "$(basename "$home") already present (verified)"
  else
    install -d -m 0755 "$ARTIFACT_CACHE"
    tarball="$ARTIFACT_CACHE/$name"
    fetch "$url.sha512" "$tarball.sha512"
    expected=$(checksum_from_file "$tarball.sha512")
    [[ "$expected" =~ ^[0-9a-f]{128}$ ]] || die "no SHA-512 digest found in $url.sha512"
    if [[ -n "$pin" && "$pin" != "$expected" ]]; then
      die "the published SHA-512 of $name ($expected) differs from the pinned one ($pin). Nothing was installed."
    fi
    if [[ ! -f "$tarball" ]] || ! sha512sum --status -c <<<"$expected  $tarball"; then
      fetch "$url" "$tarball"
    fi
    verify_digest sha512 "$tarball" "$expected" "$name"
    fetch "$url.asc" "$tarball.asc"
    fetch "$keys_url" "$ARTIFACT_CACHE/$name.KEYS"
    verify_signature "$tarball" "$ARTIFACT_CACHE/$name.KEYS" "$fingerprints" "$name"
    unpack=$(mktemp -d "$(dirname "$home")/.amq-unpack.XXXXXX")
    tar -xzf "$tarball" -C "$unpack" --no-same-owner
    top=$(find "$unpack" -mindepth 1 -maxdepth 1 -printf '%f\n')
    [[ "$top" == "$(basename "$home")" ]] || {
      rm -rf "$unpack"
      die "$name unpacks to '$top', expected $(basename "$home")"
    }
    printf '%s\n' "$expected" >"$unpack/$top/.amq-release-sha512"
    rm -rf "$home"
    mv "$unpack/$top" "$home"
    rmdir "$unpack"
    log_change "installed $(basename "$home") (sha512 and signature verified)"
  fi
  if [[ "$(readlink "$link" 2>/dev/null || true)" != "$home" ]]; then
    ln -sfn "$home" "$link"
    log_change "$link -> $home"
  fi
}

# port_open HOST PORT: true when something accepts TCP connections there (2 s limit).
port_open() {
  # shellcheck disable=SC2016 # expanded by the inner shell, from its arguments
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# local_http_get PORT PATH: the answer to GET PATH on 127.0.0.1:PORT (status line, headers, blank line, body;
# no carriage returns), within 5 s; nothing when nothing answers.
local_http_get() {
  # shellcheck disable=SC2016 # expanded by the inner shell, from its arguments
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "GET %s HTTP/1.0\r\n\r\n" "$2" >&3 && cat <&3' \
    _ "$1" "$2" 2>/dev/null | tr -d '\r' || true
}

# zk_mode HOST PORT: ZooKeeper's role from its srvr answer (leader, follower, standalone), or nothing.
zk_mode() {
  # shellcheck disable=SC2016 # expanded by the inner shell, from its arguments
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf srvr >&3 && cat <&3' _ "$1" "$2" 2>/dev/null |
    sed -n 's/^Mode: //p' || true
}

# slave_caught_up: reads a replicated broker's log (one run of it) on stdin; succeeds when its state transfer from
# the master finished after it last became a slave. 5.16.x logs "Attached" there (SlaveLevelDBStore, where it sets
# caughtUp), earlier releases "Slave has now caught up"; "Slave started" (MasterElector) begins another transfer.
slave_caught_up() {
  local last
  last=$(grep -E 'Slave started|[|] Attached *$|Slave has now caught up' | tail -n 1 || true)
  [[ -n "$last" && "$last" != *"Slave started"* ]]
}

# Restarts that wait for the rest of the group: the leader or master of a group is restarted last.
defer_restart() {
  install -d -m 0700 "$PROVISION_STATE_DIR"
  touch "$PROVISION_STATE_DIR/$1.restart-pending"
  log_change "$1 leads its group: its restart waits until every other host has been restarted"
}
restart_pending() { [[ -f "$PROVISION_STATE_DIR/$1.restart-pending" ]]; }
clear_pending() { rm -f "$PROVISION_STATE_DIR/$1.restart-pending"; }

# show_log UNIT: the last lines of a service's journal (its unit logs there), for a failing step's message.
show_log() {
  printf -- '--- last lines of the journal of %s on %s ---\n' "$1" "$(hostname)" >&2
  journalctl -u "$1" -n 40 --no-pager >&2 2>/dev/null || printf '(no journal)\n' >&2
}

# broker_role HA_MODE BROKER_PORT REPLICATION_PORT: this host's broker is master (accepts clients), slave
# (replicating from the master, or waiting for the shared store's lock), starting, or stopped.
broker_role() {
  local mode=$1 broker_port=$2 replication=$3 since
  if ! systemctl is-active --quiet activemq.service; then
    echo stopped
  elif [[ -n "$(ss -Hltn "( sport = :$broker_port )")" ]]; then
    echo master
  elif [[ "$mode" == replicated-leveldb ]]; then
    # Slaves open no client port; they hold a replication connection to the master.
    if [[ -n "$(ss -Htn state established "( dport = :$replication )")" ]]; then echo slave; else echo starting; fi
  else
    # A shared-store slave is a running broker that waits for the lock without listening.
    since=$(systemctl show -p ActiveEnterTimestampMonotonic --value activemq.service)
    if (($(cut -d' ' -f1 /proc/uptime | tr -d .)0000 - since > 15000000)); then echo slave; else echo starting; fi
  fi
}

# The caller of apply_service and settle_service defines two probes for its service:
#   service_leads    true when this host leads its group (ZooKeeper leader, broker master);
#   service_healthy  true when the service has a role in its group again.

# apply_service NAME LOG_UNIT TIMEOUT: after apply_manifest, reload systemd if a unit changed and enable NAME; then
# start it, or, when its files changed while it runs, restart it and wait until it is healthy. The leader's
# restart is deferred to settle_service, which runs after every other host has restarted.
apply_service() {
  local name=$1 log_unit=$2 timeout=$3
  if changed '/etc/systemd/system/*'; then
    systemctl daemon-reload
  fi
  systemctl enable --quiet "$name.service"
  if ! systemctl is-active --quiet "$name.service"; then
    systemctl start "$name.service"
    log_change "$name started"
  elif ((${#CHANGED_FILES[@]} > 0)); then
    if service_leads; then
      defer_restart "$name"
    else
      systemctl restart "$name.service"
      log_change "$name restarted; waiting until it rejoins its group"
      if ! wait_until "$timeout" service_healthy; then
        show_log "$log_unit"
        die "$name did not rejoin its group within $timeout s"
      fi
    fi
  else
    log "$name unchanged and running"
  fi
}

# settle_service NAME LOG_UNIT TIMEOUT WHAT: applies a restart that apply_service deferred, then waits until the
# service is healthy; WHAT names the host in the failure message.
settle_service() {
  local name=$1 log_unit=$2 timeout=$3 what=$4
  apply_deferred_restart "$name"
  await_role "$name" "$log_unit" "$timeout" "$what"
}

# apply_deferred_restart NAME: the restart apply_service deferred, if there is one.
apply_deferred_restart() {
  if restart_pending "$1"; then
    systemctl restart "$1.service"
    clear_pending "$1"
    log_change "$1 restarted (deferred until the rest of its group had restarted)"
  fi
}

# await_role NAME LOG TIMEOUT WHAT: waits until service_healthy; fails naming WHAT and showing the log otherwise.
await_role() {
  local name=$1 log_unit=$2 timeout=$3 what=$4
  if ! wait_until "$timeout" service_healthy; then
    show_log "$log_unit"
    die "$name on $what has no role in its group after $timeout s (is a quorum of hosts up?)"
  fi
}
