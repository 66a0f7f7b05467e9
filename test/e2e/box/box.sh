#!/usr/bin/env bash
# box.sh - a cluster in a box: N Debian 12 hosts booted with systemd-nspawn,
# each in its own network namespace on the private bridge amqbr0 (10.88.0.0/24),
# reachable by SSH from the outer machine. See README.md beside this file.
#
#   box.sh up N            build/reuse the rootfs, boot hosts 1..N, print JSON
#   box.sh poweroff K      abrupt power loss of host K (SIGKILL of its init)
#   box.sh stop K          clean shutdown of host K (as EC2 stops an instance: systemd stops every service)
#   box.sh poweron K       boot host K again from its persistent disk
#   box.sh replace K       power host K off for good and boot a blank host at its address (a new
#                          instance on the same network interface); with BOX_HOST_KEYS it gets the
#                          key given there, without it a key of its own
#   box.sh linkdown K      cut host K's network (its veth goes down)
#   box.sh linkup K        restore host K's network
#   box.sh isolate K [P..] cut host K off from hosts P.. (default: every other host), silently, both ways;
#                          the outer machine (the clients) still reaches it
#   box.sh heal K          undo every isolate of host K
#   box.sh mirror DIR      serve DIR at http://10.88.0.1:8080/
#   box.sh status          show what is up
#   box.sh ssh K [CMD...]  ssh to host K as the admin user
#   box.sh down            tear everything down (the rootfs cache is kept)
#
# Environment: BOX_DIR (state, default /var/tmp/amq-box), BOX_CACHE (rootfs
# cache, default /var/cache/amq-box), BOX_BOOT_TIMEOUT (seconds, default 180),
# BOX_MIRROR (Debian mirror URL; default: taken from this machine's apt sources),
# BOX_SHARED_DIR and BOX_SHARED_MOUNT (at `up`: bind-mount that outer directory into
# every host at that path, a stand-in for a shared file system; kept until `down`),
# BOX_SHARED_GROUP_SIZE (with BOX_SHARED_DIR: hosts come in groups of that size and each group mounts
# a subdirectory gG of its own, as each HA group of the stack has its own file system),
# BOX_DISK (overlay, the default, or copy: how each host's disk is made),
# BOX_HOST_KEYS (a directory holding nK, host K's ED25519 private host key, and nK.pub: installed as the
# host's only key, as cloud-init does with the stack's key; unset, each host makes keys of its own).
set -euo pipefail

BOX_DIR="${BOX_DIR:-/var/tmp/amq-box}"
BOX_CACHE="${BOX_CACHE:-/var/cache/amq-box}"
BOOT_TIMEOUT="${BOX_BOOT_TIMEOUT:-180}"

readonly SUITE=bookworm
readonly BRIDGE=amqbr0
readonly NET=10.88.0
readonly BRIDGE_ADDR=10.88.0.1
readonly PREFIX_LEN=24
readonly MIRROR_PORT=8080
readonly SSH_USER=admin
readonly HOST_PREFIX=amqbox-n   # host / netns name: amqbox-n1, amqbox-n2, ...
readonly VETH_PREFIX=amqbox-v   # outer end of host K's veth: amqbox-v1, ...
readonly CGROUP_NAME=amq-box    # <cgroup root>/amq-box/nK holds host K
readonly MAX_HOSTS=50
readonly LOCK_FILE=/run/amq-box.lock

# The rootfs package list. The cache is keyed by a hash of this list and of
# customize_rootfs below: changing either rebuilds the rootfs.
readonly ROOTFS_PACKAGES=(
  systemd systemd-sysv dbus openssh-server sudo curl ca-certificates
  iproute2 procps openjdk-17-jre-headless nfs-common python3-minimal gnupg
  # Preinstalled like the JDK (the box has no internet); monitor-configure.sh installs it on real hosts.
  prometheus-node-exporter
)

# Units that fail or only cost time in a container without internet. The
# kernel here has no NFS support, so the rpc_pipefs mount always fails.
readonly MASKED_UNITS=(
  apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service
  dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer
  run-rpc_pipefs.mount rpc_pipefs.target rpc-gssd.service rpc-svcgssd.service
  getty@tty1.service systemd-pstore.service
)

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
readonly SELF

log() { printf 'box: %s\n' "$*" >&2; }
die() { printf 'box: error: %s\n' "$*" >&2; exit 1; }

now_ms() { local t; t="$(date +%s%N)"; printf '%s\n' "$((t / 1000000))"; }
# secs_since START_MS -> "12.3"
secs_since() {
  local d=$(( $(now_ms) - $1 ))
  printf '%d.%d\n' "$((d / 1000))" "$(((d % 1000) / 100))"
}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}

# ---------------------------------------------------------------- checks

# need_tools TOOL:PACKAGE ... - fail naming every missing Debian package.
need_tools() {
  local spec tool pkg missing=()
  for spec in "$@"; do
    tool="${spec%%:*}"
    pkg="${spec#*:}"
    if ! command -v "$tool" >/dev/null 2>&1; then
      missing+=("$tool (apt-get install $pkg)")
    fi
  done
  if ((${#missing[@]})); then
    die "missing tools: ${missing[*]}"
  fi
}

need_root() {
  [[ "$(id -u)" -eq 0 ]] || die "must run as root"
}

check_base_tools() {
  need_root
  need_tools ip:iproute2 systemd-nspawn:systemd-container ssh:openssh-client \
    ssh-keygen:openssh-client setsid:util-linux flock:util-linux \
    nsenter:util-linux mountpoint:util-linux timeout:coreutils sha256sum:coreutils
}

check_index() { # check_index K
  if ! [[ "$1" =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > MAX_HOSTS)); then
    die "host index must be 1..$MAX_HOSTS, got '$1'"
  fi
}

lock_box() {
  exec 9>"$LOCK_FILE"
  flock -w 900 9 || die "another box.sh holds $LOCK_FILE"
}

# ---------------------------------------------------------------- names

host_name() { printf '%s%s\n' "$HOST_PREFIX" "$1"; }
host_addr() { printf '%s.%s\n' "$NET" "$((10 + $1))"; }
veth_name() { printf '%s%s\n' "$VETH_PREFIX" "$1"; }
host_dir() { printf '%s/hosts/n%s\n' "$BOX_DIR" "$1"; }
ssh_key() { printf '%s/id_ed25519\n' "$BOX_DIR"; }

box_hosts() { # prints the number of hosts of the box that is up, or 0
  if [[ -f "$BOX_DIR/nhosts" ]]; then cat "$BOX_DIR/nhosts"; else echo 0; fi
}

require_host() { # require_host K - K is a host of the box that is up
  check_index "$1"
  local n
  n="$(box_hosts)"
  if (($1 > n)) || ! host_disk_exists "$1"; then
    die "host $1 is not part of the box (box has $n hosts; run 'box.sh up N')"
  fi
}

# ---------------------------------------------------------------- mirror URL

# apt_site SUITE - the URL this machine's apt sources use for SUITE/main.
apt_site() {
  # shellcheck disable=SC2016 # $(SITE) etc. are apt's placeholders, not shell
  apt-get indextargets --format '$(SITE) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' \
    2>/dev/null | awk -v s="$1" '$2 == s && $3 == "main" && !found { print $1; found = 1 }' || true
}

debian_mirror() {
  local url="${BOX_MIRROR:-}"
  if [[ -z "$url" ]]; then
    url="$(apt_site "$SUITE")"
  fi
  [[ -n "$url" ]] || die "no apt source for '$SUITE main' found in /etc/apt (set BOX_MIRROR)"
  printf '%s\n' "$url"
}

# ---------------------------------------------------------------- rootfs

# customize_rootfs ROOT MIRROR SECURITY_MIRROR - everything host-independent.
# (Its text is part of the cache key: edit it and the rootfs is rebuilt.)
customize_rootfs() {
  local root="$1" mirror="$2" security="$3"

  chroot "$root" /usr/sbin/useradd --create-home --shell /bin/bash \
    --groups adm,systemd-journal "$SSH_USER"
  printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\n' "$SSH_USER" >"$root/etc/sudoers.d/90-box-admin"
  chmod 0440 "$root/etc/sudoers.d/90-box-admin"
  install -d -m 0700 "$root/home/$SSH_USER/.ssh"
  chroot "$root" /bin/chown "$SSH_USER:$SSH_USER" "/home/$SSH_USER/.ssh"

  cat >"$root/etc/ssh/sshd_config.d/90-box.conf" <<'EOF'
# cluster-in-a-box: key-only logins, no DNS lookups (the box has no DNS)
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
EOF
  # Host keys and machine-id are made per host when the host is created.
  rm -f "$root"/etc/ssh/ssh_host_*
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
  ln -s /etc/machine-id "$root/var/lib/dbus/machine-id"

  # No DNS in the box: with no nameserver line glibc asks 127.0.0.1, which
  # refuses at once (a real but unreachable server would cost a time-out).
  printf '# cluster-in-a-box: no DNS; names are in /etc/hosts\n' >"$root/etc/resolv.conf"

  # apt sources as on a real host (the box has no internet: the JDK is preinstalled).
  rm -f "$root/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\n' \
      "$mirror" "$SUITE" "$SUITE"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    if [[ -n "$security" ]]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\n' \
        "$security" "$SUITE"
      printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    fi
  } >"$root/etc/apt/sources.list.d/debian.sources"

  printf 'LANG=C.UTF-8\n' >"$root/etc/default/locale"

  # Persistent journal: logs survive a power-off of the host.
  install -d -m 2755 "$root/var/log/journal"

  systemctl --root="$root" --quiet mask "${MASKED_UNITS[@]}"
  systemctl --root="$root" --quiet enable ssh.service

  # Smaller copies per host.
  rm -f "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin
  rm -rf "$root"/var/lib/apt/lists/*
  install -d "$root/var/lib/apt/lists/partial"
}

rootfs_key() {
  { printf '%s\n' "$SUITE" "${ROOTFS_PACKAGES[@]}"; declare -f customize_rootfs; } |
    sha256sum | cut -c1-16
}

# ensure_rootfs - prints the path of the cached rootfs, building it if needed.
ensure_rootfs() {
  local key dir tmp started mirror security buildlog
  key="$(rootfs_key)"
  dir="$BOX_CACHE/rootfs-$key"
  started="$(now_ms)"
  if [[ -f "$dir/.amq-box-rootfs" ]]; then
    log "rootfs: reusing cache $dir"
    log "timing: rootfs reuse $(secs_since "$started") s"
    printf '%s\n' "$dir"
    return
  fi
  need_tools debootstrap:debootstrap chroot:coreutils systemctl:systemd apt-get:apt
  mkdir -p "$BOX_CACHE"
  exec 8>"$BOX_CACHE/.build.lock"
  flock -w 1800 8 || die "another rootfs build holds $BOX_CACHE/.build.lock"
  if [[ ! -f "$dir/.amq-box-rootfs" ]]; then
    mirror="$(debian_mirror)"
    security="$(apt_site "$SUITE-security")"
    tmp="$dir.tmp"
    buildlog="$BOX_CACHE/rootfs-$key.log"
    rm -rf --one-file-system "$tmp" "$dir"
    log "rootfs: debootstrap $SUITE from $mirror into $tmp (log: $buildlog)"
    if ! debootstrap --variant=minbase --components=main \
      --include="$(IFS=,; printf '%s' "${ROOTFS_PACKAGES[*]}")" \
      "$SUITE" "$tmp" "$mirror" >"$buildlog" 2>&1; then
      tail -n 20 "$buildlog" >&2
      die "debootstrap failed (log: $buildlog)"
    fi
    customize_rootfs "$tmp" "$mirror" "$security" >>"$buildlog" 2>&1 ||
      die "customizing the rootfs failed (log: $buildlog)"
    printf '%s\n' "${ROOTFS_PACKAGES[@]}" >"$tmp/.amq-box-rootfs"
    mv "$tmp" "$dir"
    # Drop rootfs builds of older package lists.
    local old
    for old in "$BOX_CACHE"/rootfs-*; do
      [[ "$old" == "$dir" || "$old" == "$dir.log" ]] && continue
      [[ -f "$old" ]] && { rm -f "$old"; continue; }
      [[ -d "$old" ]] || continue
      if grep -qF "lowerdir=$old," /proc/self/mountinfo; then
        log "rootfs: keeping $old, a running box uses it"
        continue
      fi
      rm -rf --one-file-system "$old"
    done
    log "timing: rootfs build $(secs_since "$started") s"
  else
    log "timing: rootfs reuse (built by another run) $(secs_since "$started") s"
  fi
  exec 8>&-
  printf '%s\n' "$dir"
}

# ---------------------------------------------------------------- per-host disk

write_etc_hosts() { # write_etc_hosts FILE N
  local k
  {
    printf '127.0.0.1\tlocalhost\n'
    printf '::1\t\tlocalhost ip6-localhost ip6-loopback\n'
    printf 'ff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n\n'
    printf '# cluster-in-a-box\n%s\tamqbox-gw\n' "$BRIDGE_ADDR"
    for ((k = 1; k <= $2; k++)); do
      printf '%s\t%s\n' "$(host_addr "$k")" "$(host_name "$k")"
    done
  } >"$1"
}

# Host K's disk lives in hosts/nK. With BOX_DISK=overlay (the default) it is
# an overlayfs: the cached rootfs is the read-only lower layer, hosts/nK/upper
# keeps every change, hosts/nK/rootfs is the mount point. With BOX_DISK=copy it
# is a full copy (cp --reflink=auto -a) in hosts/nK/rootfs. Either way it
# survives power-off/power-on of the host until 'box.sh down'.
host_disk_exists() { # host_disk_exists K
  local dir
  dir="$(host_dir "$1")"
  [[ -f "$dir/disk-ready" ]]
}

# mount_host_disk K - (re)mount an overlay disk, e.g. after a reboot of the machine.
mount_host_disk() {
  local dir lower
  dir="$(host_dir "$1")"
  [[ -f "$dir/lower" ]] || return 0 # a copy, nothing to mount
  mountpoint -q "$dir/rootfs" && return 0
  lower="$(cat "$dir/lower")"
  [[ -f "$lower/.amq-box-rootfs" ]] ||
    die "host $1: its lower layer $lower is gone (run 'box.sh down' and 'box.sh up N')"
  mkdir -p "$dir/upper" "$dir/work" "$dir/rootfs"
  mount -t overlay "amqbox-disk$1" \
    -o "lowerdir=$lower,upperdir=$dir/upper,workdir=$dir/work" "$dir/rootfs" ||
    die "host $1: overlay mount failed (try BOX_DISK=copy)"
}

# create_host_disk K N CACHE - persistent disk of host K, configured for it.
create_host_disk() {
  local k="$1" n="$2" cache="$3" dir tmp name uidgid
  dir="$(host_dir "$k")"
  host_disk_exists "$k" && return 0
  name="$(host_name "$k")"
  umount_host_disk "$k"
  rm -rf --one-file-system "$dir"
  mkdir -p "$dir"
  case "${BOX_DISK:-overlay}" in
    overlay)
      printf '%s\n' "$cache" >"$dir/lower"
      mount_host_disk "$k"
      tmp="$dir/rootfs"
      ;;
    copy)
      tmp="$dir/rootfs.tmp"
      cp --reflink=auto -a "$cache" "$tmp"
      ;;
    *) die "BOX_DISK must be overlay or copy, not '$BOX_DISK'" ;;
  esac
  rm -f "$tmp/.amq-box-rootfs"
  printf '%s\n' "$name" >"$tmp/etc/hostname"
  write_etc_hosts "$tmp/etc/hosts" "$n"
  tr -d '-' </proc/sys/kernel/random/uuid >"$tmp/etc/machine-id"
  install_host_key "$k" "$tmp"
  uidgid="$(awk -F: -v u="$SSH_USER" '$1 == u { print $3 ":" $4 }' "$tmp/etc/passwd")"
  [[ -n "$uidgid" ]] || die "user $SSH_USER missing in $cache"
  install -m 0600 "$(ssh_key).pub" "$tmp/home/$SSH_USER/.ssh/authorized_keys"
  chown "$uidgid" "$tmp/home/$SSH_USER/.ssh/authorized_keys"
  [[ "$tmp" == "$dir/rootfs" ]] || mv "$tmp" "$dir/rootfs"
  : >"$dir/disk-ready"
}

# install_host_key K ROOT - host K's SSH host key: the one in BOX_HOST_KEYS (its only key, as the stack's
# cloud-config leaves it), or keys of its own.
install_host_key() {
  local k="$1" root="$2" given="${BOX_HOST_KEYS:-}/n$1"
  rm -f "$root"/etc/ssh/ssh_host_*
  if [[ -n "${BOX_HOST_KEYS:-}" && -f "$given" ]]; then
    install -m 0600 "$given" "$root/etc/ssh/ssh_host_ed25519_key"
    install -m 0644 "$given.pub" "$root/etc/ssh/ssh_host_ed25519_key.pub"
  else
    ssh-keygen -q -A -f "$root"
  fi
}

umount_host_disk() { # umount_host_disk K
  local root
  root="$(host_dir "$1")/rootfs"
  if mountpoint -q "$root" 2>/dev/null; then
    umount "$root" || umount -l "$root"
  fi
  return 0
}

# ---------------------------------------------------------------- network

ensure_bridge() {
  local other
  other="$(ip -4 -o addr show to "$NET.0/$PREFIX_LEN" | awk -v b="$BRIDGE" '$2 != b { print $2 }')"
  [[ -z "$other" ]] || die "$NET.0/$PREFIX_LEN is already used on this machine by: $other"
  if ! ip link show dev "$BRIDGE" >/dev/null 2>&1; then
    ip link add name "$BRIDGE" type bridge stp_state 0 forward_delay 0
  fi
  ip addr replace "$BRIDGE_ADDR/$PREFIX_LEN" dev "$BRIDGE"
  # Nothing from the box is forwarded anywhere, whatever ip_forward says.
  echo 0 >"/proc/sys/net/ipv4/conf/$BRIDGE/forwarding"
  if [[ -e "/proc/sys/net/ipv6/conf/$BRIDGE/disable_ipv6" ]]; then
    echo 1 >"/proc/sys/net/ipv6/conf/$BRIDGE/disable_ipv6"
  fi
  ip link set dev "$BRIDGE" up
}

netns_exists() { ip netns list | awk '{ print $1 }' | grep -qx -- "$1"; }

# ensure_host_net K - netns, veth pair into the bridge, address and route.
ensure_host_net() {
  local k="$1" ns veth addr
  ns="$(host_name "$k")"
  veth="$(veth_name "$k")"
  addr="$(host_addr "$k")"
  netns_exists "$ns" || ip netns add "$ns"
  if ! ip link show dev "$veth" >/dev/null 2>&1; then
    ip -n "$ns" link del dev host0 2>/dev/null || true
    ip link add name "$veth" type veth peer name host0 netns "$ns"
  fi
  ip link set dev "$veth" master "$BRIDGE"
  ip link set dev "$veth" up
  ip -n "$ns" link set dev lo up
  ip -n "$ns" addr replace "$addr/$PREFIX_LEN" dev host0
  ip -n "$ns" link set dev host0 up
  # (again after a power-off, which blackholed it)
  ip -n "$ns" route replace "$NET.0/$PREFIX_LEN" dev host0 proto kernel scope link src "$addr"
  ip -n "$ns" route replace default via "$BRIDGE_ADDR" dev host0
}

# ---------------------------------------------------------------- cgroups

# Mount points of the hierarchies systemd-nspawn uses: cgroup2 (unified) and
# the v1 name=systemd one when the machine runs the hybrid layout.
cgroup_roots() {
  awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break
         fs = $(i + 1); opts = $(i + 3)
         if (fs == "cgroup2" || (fs == "cgroup" && opts ~ /(^|,)name=systemd(,|$)/)) print $5 }' \
    /proc/self/mountinfo
}

host_cgroups() { # host_cgroups K
  local r
  while read -r r; do
    printf '%s/%s/n%s\n' "$r" "$CGROUP_NAME" "$1"
  done < <(cgroup_roots)
}

cgroup_pids() { # cgroup_pids DIR... - every pid in those cgroup trees
  local d
  for d in "$@"; do
    [[ -d "$d" ]] && find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
  done
  return 0
}

remove_cgroups() { # remove_cgroups DIR...
  local d
  for d in "$@"; do
    [[ -d "$d" ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  return 0
}

# ---------------------------------------------------------------- hosts

nspawn_pid() { # prints the live systemd-nspawn pid of host K, or nothing
  local f pid
  f="$(host_dir "$1")/nspawn.pid"
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if [[ -n "$pid" && -r "/proc/$pid/comm" ]] && [[ "$(cat "/proc/$pid/comm")" == systemd-nspawn ]]; then
    printf '%s\n' "$pid"
  fi
}

host_running() { [[ -n "$(nspawn_pid "$1")" ]]; }

# close_extra_fds - a daemon must not keep its caller's pipes open (a test
# harness reading box.sh's stdout would otherwise never see end-of-file).
close_extra_fds() {
  local f fd
  for f in /proc/"$BASHPID"/fd/*; do
    fd="${f##*/}"
    if [[ "$fd" =~ ^[0-9]+$ ]] && ((fd > 2)); then
      exec {fd}>&- 2>/dev/null || true
    fi
  done
}

# Internal: runs in the background as the future systemd-nspawn process.
cmd__spawn() {
  local k="$1" cg dir name
  close_extra_fds
  dir="$(host_dir "$k")"
  name="$(host_name "$k")"
  while read -r cg; do
    mkdir -p "$cg"
    echo "$$" >"$cg/cgroup.procs"
  done < <(host_cgroups "$k")
  printf '%s\n' "$$" >"$dir/nspawn.pid"
  printf '\n===== boot %s at %s =====\n' "$name" "$(date -Is)"
  local extra=() bind source size
  if [[ -f "$BOX_DIR/shared-bind" ]]; then
    bind="$(cat "$BOX_DIR/shared-bind")"
    if [[ -f "$BOX_DIR/shared-group-size" ]]; then
      size="$(cat "$BOX_DIR/shared-group-size")"
      source="${bind%%:*}/g$(((k - 1) / size + 1))"
      mkdir -p "$source"
      bind="$source:${bind#*:}"
    fi
    extra+=("--bind=$bind")
  fi
  exec systemd-nspawn --boot --directory="$dir/rootfs" --machine="$name" "${extra[@]}" \
    --hostname="$name" --register=no --keep-unit \
    --network-namespace-path="/run/netns/$name" --console=read-only \
    --resolv-conf=off --timezone=off --link-journal=no --settings=no \
    --private-users=no
}

# start_host K - launch host K (no wait). Sets STARTED_MS[K].
declare -A STARTED_MS=()
start_host() {
  local k="$1" dir pidfile i
  dir="$(host_dir "$k")"
  pidfile="$dir/nspawn.pid"
  STARTED_MS[$k]="$(now_ms)"
  if host_running "$k"; then
    log "host $k: already running"
    return
  fi
  kill_host "$k" quiet # leftovers of an earlier crash, if any
  mount_host_disk "$k"
  ensure_host_net "$k"
  rm -f "$pidfile"
  setsid "$SELF" _spawn "$k" </dev/null >>"$dir/console.log" 2>&1 3>&- 8>&- 9>&- &
  for ((i = 0; i < 100; i++)); do
    [[ -s "$pidfile" ]] && host_running "$k" && break
    sleep 0.1
  done
  host_running "$k" || { tail -n 20 "$dir/console.log" >&2; die "host $k: systemd-nspawn did not start"; }
  log "host $k: booting $(host_name "$k") at $(host_addr "$k") (console: $dir/console.log)"
}

ssh_opts() {
  printf '%s\n' -i "$(ssh_key)" -o BatchMode=yes -o StrictHostKeyChecking=yes \
    -o "UserKnownHostsFile=$BOX_DIR/known_hosts" -o LogLevel=ERROR -o ConnectTimeout=3
}

box_ssh() { # box_ssh K CMD...
  local k="$1" opts
  shift
  mapfile -t opts < <(ssh_opts)
  # shellcheck disable=SC2029 # the command is meant to run on the host
  ssh "${opts[@]}" "$SSH_USER@$(host_addr "$k")" "$@"
}

# wait_hosts K... - wait until sshd answers on each, then for boot to finish.
wait_hosts() {
  local k pending=("$@") left deadline state
  deadline=$(($(now_ms) + BOOT_TIMEOUT * 1000))
  while ((${#pending[@]})); do
    left=()
    for k in "${pending[@]}"; do
      if ! host_running "$k"; then
        tail -n 30 "$(host_dir "$k")/console.log" >&2
        die "host $k: container exited during boot"
      fi
      if box_ssh "$k" true </dev/null >/dev/null 2>&1; then
        log "timing: host $k sshd up after $(secs_since "${STARTED_MS[$k]}") s"
      else
        left+=("$k")
      fi
    done
    pending=("${left[@]+"${left[@]}"}")
    if ((${#pending[@]})); then
      (($(now_ms) < deadline)) || die "hosts ${pending[*]}: sshd not answering after ${BOOT_TIMEOUT}s"
      sleep 0.3
    fi
  done
  for k in "$@"; do
    state="$(box_ssh "$k" 'timeout 120 systemctl is-system-running --wait' </dev/null 2>/dev/null)" || true
    log "host $k: systemctl is-system-running: ${state:-unknown} (booted in $(secs_since "${STARTED_MS[$k]}") s)"
  done
}

# kill_host K [quiet] - SIGKILL everything of host K, return when it is gone.
kill_host() {
  local k="$1" quiet="${2:-}" pid init cgs pids i
  pid="$(nspawn_pid "$k")"
  mapfile -t cgs < <(host_cgroups "$k")
  if [[ -n "$pid" ]]; then
    # The container's init is the only child of systemd-nspawn; when it dies
    # the kernel kills every other process of the container's pid namespace.
    local children=()
    read -r -a children < <(cat "/proc/$pid/task/"*/children 2>/dev/null) || true
    for init in "${children[@]+"${children[@]}"}"; do
      kill -KILL "$init" 2>/dev/null || true
    done
  fi
  for ((i = 0; i < 300; i++)); do
    pids="$(cgroup_pids "${cgs[@]/%//payload}")"
    [[ -z "$pids" ]] && break
    # shellcheck disable=SC2086 # a list of pids
    kill -KILL $pids 2>/dev/null || true
    sleep 0.1
  done
  if [[ -n "$pid" ]]; then
    for ((i = 0; i < 300; i++)); do
      [[ -d "/proc/$pid" ]] || break
      ((i == 200)) && kill -KILL "$pid" 2>/dev/null
      sleep 0.1
    done
  fi
  # Anything else left in the host's cgroups (a stray nspawn of an earlier run).
  for ((i = 0; i < 100; i++)); do
    pids="$(cgroup_pids "${cgs[@]}")"
    [[ -z "$pids" ]] && break
    # shellcheck disable=SC2086 # a list of pids
    kill -KILL $pids 2>/dev/null || true
    sleep 0.1
  done
  [[ -z "$(cgroup_pids "${cgs[@]}")" ]] || die "host $k: processes survive in ${cgs[*]}"
  [[ -z "$pid" || ! -d "/proc/$pid" ]] || die "host $k: systemd-nspawn $pid does not exit"
  remove_cgroups "${cgs[@]}"
  rm -f "$(host_dir "$k")/nspawn.pid"
  rmdir "/run/systemd/nspawn/propagate/$(host_name "$k")" 2>/dev/null || true
  if [[ -n "$pid" && -z "$quiet" ]]; then
    printf '\n===== power lost at %s =====\n' "$(date -Is)" >>"$(host_dir "$k")/console.log"
  fi
  return 0
}

# ---------------------------------------------------------------- commands

print_json() { # print_json N
  local n="$1" k sep=""
  printf '{"hosts":['
  for ((k = 1; k <= n; k++)); do
    printf '%s{"index":%d,"address":"%s","name":"%s"}' "$sep" "$k" "$(host_addr "$k")" "$(host_name "$k")"
    sep=","
  done
  printf '],"sshUser":"%s","sshKey":"%s","bridgeAddress":"%s"}\n' "$SSH_USER" "$(ssh_key)" "$BRIDGE_ADDR"
}

write_ssh_files() { # known_hosts and an ssh_config for people
  local n="$1" k
  {
    for ((k = 1; k <= n; k++)); do
      printf '%s,%s %s\n' "$(host_addr "$k")" "$(host_name "$k")" \
        "$(cut -d' ' -f1-2 "$(host_dir "$k")/rootfs/etc/ssh/ssh_host_ed25519_key.pub")"
    done
  } >"$BOX_DIR/known_hosts"
  {
    printf 'Host %s*\n' "$HOST_PREFIX"
    printf '  User %s\n  IdentityFile %s\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n' \
      "$SSH_USER" "$(ssh_key)" "$BOX_DIR/known_hosts"
    for ((k = 1; k <= n; k++)); do
      printf 'Host %s\n  HostName %s\n' "$(host_name "$k")" "$(host_addr "$k")"
    done
  } >"$BOX_DIR/ssh_config"
}

cmd_up() {
  local n="${1:-}" have k cache started
  [[ -n "$n" ]] || usage
  check_index "$n"
  check_base_tools
  lock_box
  started="$(now_ms)"
  # stdout carries only the JSON: everything else goes to stderr.
  exec 3>&1 1>&2
  have="$(box_hosts)"
  if ((have != 0 && have != n)); then
    die "the box is up with $have hosts; run 'box.sh down' first"
  fi
  cache="$(ensure_rootfs)"
  mkdir -p "$BOX_DIR/hosts"
  chmod 0700 "$BOX_DIR"
  [[ -f "$(ssh_key)" ]] || ssh-keygen -q -t ed25519 -N '' -C "amq-box" -f "$(ssh_key)"
  printf '%s\n' "$n" >"$BOX_DIR/nhosts"
  if [[ -n "${BOX_SHARED_DIR:-}" ]]; then
    [[ -d "$BOX_SHARED_DIR" && "${BOX_SHARED_MOUNT:-}" == /* ]] ||
      die "BOX_SHARED_DIR must be a directory and BOX_SHARED_MOUNT an absolute path"
    printf '%s:%s\n' "$(readlink -f "$BOX_SHARED_DIR")" "$BOX_SHARED_MOUNT" >"$BOX_DIR/shared-bind"
    if [[ -n "${BOX_SHARED_GROUP_SIZE:-}" ]]; then
      [[ "$BOX_SHARED_GROUP_SIZE" =~ ^[1-9][0-9]*$ ]] || die "BOX_SHARED_GROUP_SIZE must be a positive integer"
      printf '%s\n' "$BOX_SHARED_GROUP_SIZE" >"$BOX_DIR/shared-group-size"
    fi
  fi
  local t
  for ((k = 1; k <= n; k++)); do
    if ! host_disk_exists "$k"; then
      t="$(now_ms)"
      create_host_disk "$k" "$n" "$cache"
      log "timing: host $k disk prepared in $(secs_since "$t") s"
    fi
  done
  write_ssh_files "$n"
  ensure_bridge
  local hosts=()
  for ((k = 1; k <= n; k++)); do
    start_host "$k"
    hosts+=("$k")
  done
  wait_hosts "${hosts[@]}"
  log "timing: up $n total $(secs_since "$started") s"
  print_json "$n" >&3
  exec 3>&-
}

# silence_host K - host K's packets go nowhere: no route out of its network namespace.
silence_host() {
  ip -n "$(host_name "$1")" route replace blackhole "$NET.0/$PREFIX_LEN"
  ip -n "$(host_name "$1")" route del default 2>/dev/null || true
}

cmd_poweroff() {
  local k="${1:-}" t
  [[ -n "$k" ]] || usage
  check_base_tools
  lock_box
  require_host "$k"
  t="$(now_ms)"
  if ! host_running "$k"; then
    log "host $k: already off"
  fi
  # A host that loses power says nothing as it dies: its routes go first, so the FIN and RST that the kernel sends
  # for its killed processes' connections never leave, and peers and clients find out only by timeouts. Afterwards
  # it answers nothing: the network namespace outlives the container and would otherwise refuse connections at once.
  silence_host "$k"
  kill_host "$k"
  log "host $k: power off (gone after $(secs_since "$t") s; its address now answers nothing)"
}

# A clean stop, as EC2's StopInstances: the host's systemd is asked to power off (SIGRTMIN+4 to its init), so
# services stop in order and say goodbye to their peers. If it has not finished within BOX_STOP_TIMEOUT seconds
# (default 120) it is killed, as EC2 forces a stop that hangs. Then its address answers nothing, as a stopped
# instance's.
cmd_stop() {
  local k="${1:-}" t pid init i
  [[ -n "$k" ]] || usage
  check_base_tools
  lock_box
  require_host "$k"
  t="$(now_ms)"
  pid="$(nspawn_pid "$k")"
  if [[ -z "$pid" ]]; then
    log "host $k: already off"
  else
    local children=()
    read -r -a children < <(cat "/proc/$pid/task/"*/children 2>/dev/null) || true
    for init in "${children[@]+"${children[@]}"}"; do
      kill -s SIGRTMIN+4 "$init" 2>/dev/null || true
    done
    for ((i = 0; i < ${BOX_STOP_TIMEOUT:-120} * 10; i++)); do
      [[ -d "/proc/$pid" ]] || break
      sleep 0.1
    done
    if [[ -d "/proc/$pid" ]]; then
      log "host $k: did not shut down within ${BOX_STOP_TIMEOUT:-120} s; forcing it off"
    fi
  fi
  kill_host "$k"
  silence_host "$k"
  log "host $k: stopped (clean shutdown took $(secs_since "$t") s; its address now answers nothing)"
}

cmd_poweron() {
  local k="${1:-}"
  [[ -n "$k" ]] || usage
  check_base_tools
  lock_box
  require_host "$k"
  ensure_bridge
  start_host "$k"
  wait_hosts "$k"
}

cmd_replace() {
  local k="${1:-}" n cache
  [[ -n "$k" ]] || usage
  check_base_tools
  lock_box
  require_host "$k"
  n="$(box_hosts)"
  kill_host "$k"
  umount_host_disk "$k"
  rm -rf --one-file-system "$(host_dir "$k")"
  cache="$(ensure_rootfs)"
  create_host_disk "$k" "$n" "$cache"
  write_ssh_files "$n"
  ensure_bridge
  start_host "$k"
  wait_hosts "$k"
  log "host $k: replaced by a blank host at $(host_addr "$k")"
}

cmd_link() { # cmd_link up|down K
  local state="$1" k="${2:-}"
  [[ -n "$k" ]] || usage
  check_base_tools
  lock_box
  require_host "$k"
  ip link show dev "$(veth_name "$k")" >/dev/null 2>&1 || ensure_host_net "$k"
  ip link set dev "$(veth_name "$k")" "$state"
  log "host $k: link $state"
}

# The bridge-family table that cuts host K off from some peers: packets between them are dropped inside the
# bridge, so neither side gets an error, only silence (a partition between zones, not a dead host).
isolation_table() { printf 'amqbox_isolate_%s\n' "$1"; }

cmd_isolate() { # cmd_isolate K [PEER...]
  local k="${1:-}" n p table peers=()
  [[ -n "$k" ]] || usage
  shift
  check_base_tools
  need_tools nft:nftables
  lock_box
  require_host "$k"
  n="$(box_hosts)"
  if (($#)); then
    peers=("$@")
  else
    for ((p = 1; p <= n; p++)); do
      ((p == k)) || peers+=("$p")
    done
  fi
  table="$(isolation_table "$k")"
  nft add table bridge "$table"
  nft add chain bridge "$table" cut '{ type filter hook forward priority 0; policy accept; }'
  for p in "${peers[@]}"; do
    require_host "$p"
    nft add rule bridge "$table" cut ip saddr "$(host_addr "$k")" ip daddr "$(host_addr "$p")" drop
    nft add rule bridge "$table" cut ip saddr "$(host_addr "$p")" ip daddr "$(host_addr "$k")" drop
  done
  log "host $k: cut off from host(s) ${peers[*]} (the outer machine still reaches it)"
}

cmd_heal() { # cmd_heal K
  local k="${1:-}"
  [[ -n "$k" ]] || usage
  check_base_tools
  need_tools nft:nftables
  lock_box
  check_index "$k"
  if nft list table bridge "$(isolation_table "$k")" >/dev/null 2>&1; then
    nft delete table bridge "$(isolation_table "$k")"
  fi
  log "host $k: no longer cut off from any host"
}

# Every isolation table of the box (they outlive its hosts; 'down' removes them).
heal_all() {
  local t
  command -v nft >/dev/null 2>&1 || return 0
  for t in $(nft list tables bridge 2>/dev/null | awk '$3 ~ /^amqbox_isolate_/ { print $3 }'); do
    nft delete table bridge "$t"
  done
}

stop_mirror() {
  local f="$BOX_DIR/mirror.pid" pid i
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -q http.server "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

python_bin() {
  if [[ -x /usr/bin/python3 ]]; then echo /usr/bin/python3; else command -v python3; fi
}

# Internal: runs in the background as the HTTP server.
cmd__serve() {
  close_extra_fds
  printf '%s\n' "$$" >"$BOX_DIR/mirror.pid"
  exec "$(python_bin)" -m http.server "$MIRROR_PORT" --bind "$BRIDGE_ADDR" --directory "$1"
}

cmd_mirror() {
  local dir="${1:-}" i
  [[ -n "$dir" ]] || usage
  [[ -d "$dir" ]] || die "not a directory: $dir"
  dir="$(readlink -f "$dir")"
  need_root
  need_tools python3:python3 setsid:util-linux
  lock_box
  if [[ ! -d "$BOX_DIR" ]] || ! ip -4 addr show dev "$BRIDGE" 2>/dev/null | grep -q "inet $BRIDGE_ADDR/"; then
    die "the box is not up (run 'box.sh up N' first)"
  fi
  stop_mirror
  rm -f "$BOX_DIR/mirror.pid"
  setsid "$SELF" _serve "$dir" </dev/null >>"$BOX_DIR/mirror.log" 2>&1 3>&- 8>&- 9>&- &
  for ((i = 0; i < 100; i++)); do
    if [[ -s "$BOX_DIR/mirror.pid" ]] && (exec 3<>"/dev/tcp/$BRIDGE_ADDR/$MIRROR_PORT") 2>/dev/null; then
      log "mirror: serving $dir at http://$BRIDGE_ADDR:$MIRROR_PORT/ (pid $(cat "$BOX_DIR/mirror.pid"))"
      printf 'http://%s:%s/\n' "$BRIDGE_ADDR" "$MIRROR_PORT"
      return
    fi
    sleep 0.1
  done
  tail -n 20 "$BOX_DIR/mirror.log" >&2
  die "mirror did not start"
}

# Every host index that has some trace: state dir, cgroup, netns or veth.
known_indexes() {
  {
    local d r
    for d in "$BOX_DIR"/hosts/n*; do
      [[ -d "$d" ]] && printf '%s\n' "${d##*/n}"
    done
    while read -r r; do
      for d in "$r/$CGROUP_NAME"/n*; do
        [[ -d "$d" ]] && printf '%s\n' "${d##*/n}"
      done
    done < <(cgroup_roots)
    ip netns list 2>/dev/null | awk -v p="$HOST_PREFIX" 'index($1, p) == 1 { print substr($1, length(p) + 1) }'
    ip -o link show 2>/dev/null | awk -F': ' -v p="$VETH_PREFIX" '{ sub(/@.*/, "", $2) }
      index($2, p) == 1 { print substr($2, length(p) + 1) }'
  } | { grep -E '^[0-9]+$' || true; } | sort -un
}

cmd_down() {
  local k r
  check_base_tools
  lock_box
  stop_mirror
  heal_all
  local indexes pid children
  indexes="$(known_indexes)"
  # Kill every container's init at once, then reap them one by one.
  for k in $indexes; do
    pid="$(nspawn_pid "$k")"
    [[ -n "$pid" ]] || continue
    children=()
    read -r -a children < <(cat "/proc/$pid/task/"*/children 2>/dev/null) || true
    if ((${#children[@]})); then kill -KILL "${children[@]}" 2>/dev/null || true; fi
  done
  for k in $indexes; do
    kill_host "$k" quiet
    umount_host_disk "$k"
    # The veth first: deleting the netns destroys it asynchronously.
    if ip link show dev "$(veth_name "$k")" >/dev/null 2>&1; then
      ip link del dev "$(veth_name "$k")" 2>/dev/null || true
    fi
    if netns_exists "$(host_name "$k")"; then ip netns del "$(host_name "$k")"; fi
  done
  if ip link show dev "$BRIDGE" >/dev/null 2>&1; then ip link del dev "$BRIDGE"; fi
  while read -r r; do
    [[ -d "$r/$CGROUP_NAME" ]] && rmdir "$r/$CGROUP_NAME" 2>/dev/null
  done < <(cgroup_roots)
  case "$BOX_DIR" in
    "" | / | /var | /var/tmp | /tmp | /root | /home) die "refusing to remove BOX_DIR=$BOX_DIR" ;;
  esac
  # Any disk still mounted under BOX_DIR (e.g. of an index no longer known).
  local m
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m"
  done < <(awk -v p="$BOX_DIR/hosts/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  rm -rf --one-file-system "$BOX_DIR"
  log "down: box removed (rootfs cache kept in $BOX_CACHE)"
}

cmd_status() {
  local n k state link
  n="$(box_hosts)"
  if ((n == 0)); then
    echo "box is down"
    return
  fi
  printf 'box: %s hosts, bridge %s %s, state %s\n' "$n" "$BRIDGE" "$BRIDGE_ADDR" "$BOX_DIR"
  for ((k = 1; k <= n; k++)); do
    state=off
    host_running "$k" && state="running (nspawn pid $(nspawn_pid "$k"))"
    link="$(ip -br link show dev "$(veth_name "$k")" 2>/dev/null | awk '{ print $2 }')" || link=""
    printf '  %s %s link=%s %s\n' "$(host_name "$k")" "$(host_addr "$k")" "${link:-none}" "$state"
  done
  if [[ -f "$BOX_DIR/mirror.pid" ]] && kill -0 "$(cat "$BOX_DIR/mirror.pid")" 2>/dev/null; then
    printf '  mirror http://%s:%s/ pid %s\n' "$BRIDGE_ADDR" "$MIRROR_PORT" "$(cat "$BOX_DIR/mirror.pid")"
  fi
}

main() {
  local cmd="${1:-}"
  [[ -n "$cmd" ]] || usage
  shift
  case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    poweroff) cmd_poweroff "$@" ;;
    stop) cmd_stop "$@" ;;
    poweron) cmd_poweron "$@" ;;
    replace) cmd_replace "$@" ;;
    linkdown) cmd_link down "$@" ;;
    linkup) cmd_link up "$@" ;;
    isolate) cmd_isolate "$@" ;;
    heal) cmd_heal "$@" ;;
    mirror) cmd_mirror "$@" ;;
    status) cmd_status ;;
    ssh)
      [[ -n "${1:-}" ]] || usage
      require_host "$1"
      box_ssh "$@"
      ;;
    _spawn) cmd__spawn "$@" ;;
    _serve) cmd__serve "$@" ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
