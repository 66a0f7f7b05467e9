#!/usr/bin/env bash
# build-zookeeper-artifact.sh OUTDIR [--no-verify]
#
# Builds OUTDIR/zookeeper/zookeeper-3.8.0/apache-zookeeper-3.8.0-bin.tar.gz and
# its .sha512 (Apache's format: "<128 hex>  apache-zookeeper-3.8.0-bin.tar.gz")
# from Debian bookworm's zookeeper 3.8.0 packages, in the layout of Apache's
# binary release:
#   apache-zookeeper-3.8.0-bin/bin/{zkServer.sh,zkEnv.sh,zkCli.sh,zkCleanup.sh}
#   apache-zookeeper-3.8.0-bin/conf/{zoo_sample.cfg,log4j.properties,configuration.xsl}
#   apache-zookeeper-3.8.0-bin/lib/*.jar     (real files, no symlinks)
# so that on a Debian 12 host with openjdk-17
#   java -cp '/opt/zookeeper/lib/*:/opt/zookeeper/conf' \
#     org.apache.zookeeper.server.quorum.QuorumPeerMain /etc/zookeeper/zoo.cfg
# runs a real ZooKeeper server. The .debs are fetched with 'apt-get download'
# into BOX_CACHE (default /var/cache/amq-box) and only unpacked with
# dpkg-deb -x; nothing is installed on this machine.
#
# Unless --no-verify is given, the result is proved on this machine: the
# tarball is unpacked into a temp dir and a standalone server is run on
# 127.0.0.1 (a free port, admin server off) until it answers 'srvr'; then
# zkCli.sh writes and reads a znode and zkServer.sh status reports the mode.
set -euo pipefail

readonly ZK_VERSION=3.8.0
readonly NAME="apache-zookeeper-$ZK_VERSION-bin"
BOX_CACHE="${BOX_CACHE:-/var/cache/amq-box}"

# Debian packages whose jars make up lib/ (zookeeper's run-time class path
# as named in its manifest, plus the log4j 1.2 binding Debian builds it for).
readonly PACKAGES=(
  zookeeper libzookeeper-java
  libcommons-cli-java libcommons-io-java libdropwizard-metrics-java
  libjackson2-annotations-java libjackson2-core-java libjackson2-databind-java
  libjetty9-java libjetty9-extra-java libservlet-api-java
  libnetty-java libsnappy-java libjline2-java libjansi1-java
  libslf4j-java liblog4j1.2-java
)

# Jars (as named in /usr/share/java) copied into lib/.
readonly JARS=(
  zookeeper.jar zookeeper-jute.jar
  commons-cli.jar commons-io.jar metrics-core.jar
  jackson-annotations.jar jackson-core.jar jackson-databind.jar
  jetty9-client.jar jetty9-http.jar jetty9-io.jar jetty9-security.jar
  jetty9-server.jar jetty9-servlet.jar jetty9-util.jar jetty9-util-ajax.jar
  servlet-api.jar
  netty-buffer.jar netty-codec.jar netty-common.jar netty-handler.jar
  netty-resolver.jar netty-transport.jar netty-transport-native-epoll.jar
  netty-transport-native-unix-common.jar
  snappy-java.jar jline2.jar jansi1.jar
  slf4j-api.jar slf4j-log4j12.jar log4j-1.2.jar
)

log() { printf 'zk-artifact: %s\n' "$*" >&2; }
die() { printf 'zk-artifact: error: %s\n' "$*" >&2; exit 1; }

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}

need_tools() { # need_tools TOOL:PACKAGE ...
  local spec missing=()
  for spec in "$@"; do
    command -v "${spec%%:*}" >/dev/null 2>&1 || missing+=("${spec%%:*} (apt-get install ${spec#*:})")
  done
  ((${#missing[@]} == 0)) || die "missing tools: ${missing[*]}"
}

# ---------------------------------------------------------------- download

# newest_deb DIR PACKAGE - the newest cached .deb of PACKAGE, or nothing.
newest_deb() {
  local f best="" v bestv=""
  for f in "$1/$2"_*.deb; do
    [[ -f "$f" ]] || continue
    v="$(dpkg-deb -f "$f" Version)"
    if [[ -z "$best" ]] || dpkg --compare-versions "$v" gt "$bestv"; then
      best="$f"
      bestv="$v"
    fi
  done
  [[ -z "$best" ]] || printf '%s\n' "$best"
}

fetch_debs() { # fetch_debs DIR - ensure one .deb of every package is in DIR
  local dir="$1" p missing=()
  mkdir -p "$dir"
  for p in "${PACKAGES[@]}"; do
    [[ -n "$(newest_deb "$dir" "$p")" ]] || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "downloading ${missing[*]}"
    (cd "$dir" && apt-get -q -o APT::Sandbox::User=root download "${missing[@]}") >&2 ||
      die "apt-get download failed (has 'apt-get update' run?)"
  else
    log "using cached .debs in $dir"
  fi
}

# ---------------------------------------------------------------- assembly

# strip_class_path JAR - drop the Class-Path header of the jar's manifest:
# Debian's point at /usr/share/java/*.jar, which must not leak onto the
# class path of a host where other versions may live there.
strip_class_path() {
  python3 - "$1" <<'PY'
import os, re, sys, zipfile
path = sys.argv[1]
with zipfile.ZipFile(path) as z:
    names = z.namelist()
    signed = any(re.match(r"META-INF/[^/]+\.(SF|RSA|DSA|EC)$", n) for n in names)
    if signed or "META-INF/MANIFEST.MF" not in names:
        sys.exit(0)
    lines = z.read("META-INF/MANIFEST.MF").decode("utf-8").splitlines()
    out, skip = [], False
    for line in lines:
        if line.startswith(" "):
            if not skip:
                out.append(line)
            continue
        skip = line.lower().startswith("class-path:")
        if not skip:
            out.append(line)
    if len(out) == len(lines):
        sys.exit(0)
    while out and out[-1] == "":
        out.pop()
    manifest = ("\r\n".join(out) + "\r\n\r\n").encode("utf-8")
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w") as w:
        for info in z.infolist():
            data = manifest if info.filename == "META-INF/MANIFEST.MF" else z.read(info.filename)
            w.writestr(info, data, compress_type=info.compress_type)
os.replace(tmp, path)
PY
}

# index_jar_names DIR - fills LIB_NAME[real file] with the name to use in
# lib/: the longest versioned name Debian links to that file
# (jetty9-http-9.4.57.v20241219.jar), else the real file's name.
declare -A LIB_NAME=()
index_jar_names() {
  local f real name
  for f in "$1"/*.jar; do
    real="$(readlink -f "$f")"
    name="${f##*/}"
    [[ -n "${LIB_NAME[$real]:-}" ]] || LIB_NAME[$real]="${real##*/}"
    if [[ "$name" =~ -[0-9][0-9.]*[^/]*\.jar$ ]] && ((${#name} > ${#LIB_NAME[$real]})); then
      LIB_NAME[$real]="$name"
    fi
  done
}

write_zkenv() { # the Apache release's bin/zkEnv.sh, for this layout
  cat >"$1" <<'EOF'
#!/usr/bin/env bash
# zkEnv.sh - sourced by zkServer.sh, zkCli.sh and zkCleanup.sh to set up the
# environment (cluster-in-a-box build of ZooKeeper from Debian's packages).
#
# Honours ZOOCFGDIR, ZOOCFG, ZOO_LOG_DIR, JAVA_HOME, JVMFLAGS, SERVER_JVMFLAGS,
# CLIENT_JVMFLAGS, ZK_SERVER_HEAP and ZK_CLIENT_HEAP (MB) like Apache's, and
# reads conf/zookeeper-env.sh and conf/java.env when present.

ZOOBINDIR="${ZOOBINDIR:-/usr/bin}"
ZOOKEEPER_PREFIX="${ZOOBINDIR}/.."

# "--config DIR" as the first arguments selects the configuration directory.
if [ $# -gt 1 ] && [ "--config" = "$1" ]; then
  shift
  ZOOCFGDIR="$1"
  shift
fi

if [ -z "$ZOOCFGDIR" ]; then
  ZOOCFGDIR="$ZOOKEEPER_PREFIX/conf"
fi

if [ -f "$ZOOCFGDIR/zookeeper-env.sh" ]; then
  . "$ZOOCFGDIR/zookeeper-env.sh"
fi

if [ -z "$ZOOCFG" ]; then
  ZOOCFG="zoo.cfg"
fi
ZOOCFG="$ZOOCFGDIR/$ZOOCFG"

if [ -f "$ZOOCFGDIR/java.env" ]; then
  . "$ZOOCFGDIR/java.env"
fi

if [ -z "$ZOO_LOG_DIR" ]; then
  ZOO_LOG_DIR="$ZOOKEEPER_PREFIX/logs"
fi

if [ -n "$JAVA_HOME" ] && [ -x "$JAVA_HOME/bin/java" ]; then
  JAVA="$JAVA_HOME/bin/java"
elif type -p java >/dev/null 2>&1; then
  JAVA=java
else
  echo "Error: JAVA_HOME is not set and java could not be found in PATH." 1>&2
  exit 1
fi

# The configuration directory first (log4j.properties), then every jar.
CLASSPATH="$ZOOCFGDIR:$ZOOKEEPER_PREFIX/lib/*${CLASSPATH:+:$CLASSPATH}"
export CLASSPATH

ZK_SERVER_HEAP="${ZK_SERVER_HEAP:-1000}"
export SERVER_JVMFLAGS="-Xmx${ZK_SERVER_HEAP}m $SERVER_JVMFLAGS"
ZK_CLIENT_HEAP="${ZK_CLIENT_HEAP:-256}"
export CLIENT_JVMFLAGS="-Xmx${ZK_CLIENT_HEAP}m $CLIENT_JVMFLAGS"
EOF
}

write_log4j() {
  cat >"$1" <<'EOF'
# ZooKeeper logging (log4j 1.2 through slf4j-log4j12, as Debian builds it).
# Defaults: INFO to the console (stdout; the journal under systemd).
# Override with -Dzookeeper.root.logger=INFO,ROLLINGFILE -Dzookeeper.log.dir=DIR
zookeeper.root.logger=INFO, CONSOLE
zookeeper.console.threshold=INFO
zookeeper.log.dir=.
zookeeper.log.file=zookeeper.log
zookeeper.log.threshold=INFO
zookeeper.log.maxfilesize=64MB
zookeeper.log.maxbackupindex=10

log4j.rootLogger=${zookeeper.root.logger}

log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.Threshold=${zookeeper.console.threshold}
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n

log4j.appender.ROLLINGFILE=org.apache.log4j.RollingFileAppender
log4j.appender.ROLLINGFILE.Threshold=${zookeeper.log.threshold}
log4j.appender.ROLLINGFILE.File=${zookeeper.log.dir}/${zookeeper.log.file}
log4j.appender.ROLLINGFILE.MaxFileSize=${zookeeper.log.maxfilesize}
log4j.appender.ROLLINGFILE.MaxBackupIndex=${zookeeper.log.maxbackupindex}
log4j.appender.ROLLINGFILE.layout=org.apache.log4j.PatternLayout
log4j.appender.ROLLINGFILE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n
EOF
}

write_zoo_sample() {
  cat >"$1" <<'EOF'
# The number of milliseconds of each tick
tickTime=2000
# The number of ticks that the initial synchronization phase can take
initLimit=10
# The number of ticks that can pass between sending a request and getting an acknowledgement
syncLimit=5
# the directory where the snapshot is stored.
dataDir=/tmp/zookeeper
# the port at which the clients will connect
clientPort=2181
# Purge old snapshots and logs (keep 3, every hour)
autopurge.snapRetainCount=3
autopurge.purgeInterval=1
# The AdminServer listens on 8080 unless disabled or moved
admin.enableServer=false
## For a quorum, one line per server with its real address:
#server.1=10.0.0.11:2888:3888
#server.2=10.0.0.12:2888:3888
#server.3=10.0.0.13:2888:3888
EOF
}

assemble() { # assemble DEBDIR STAGE - builds STAGE/$NAME
  local debdir="$1" stage="$2" x top p deb jar src out versions=()
  x="$stage/extract"
  top="$stage/$NAME"
  mkdir -p "$x" "$top/bin" "$top/conf" "$top/lib" "$top/licenses"
  for p in "${PACKAGES[@]}"; do
    deb="$(newest_deb "$debdir" "$p")"
    [[ -n "$deb" ]] || die "no .deb for $p in $debdir"
    dpkg-deb -x "$deb" "$x"
    versions+=("$p $(dpkg-deb -f "$deb" Version)")
    if [[ -f "$x/usr/share/doc/$p/copyright" ]]; then
      install -m 0644 "$x/usr/share/doc/$p/copyright" "$top/licenses/$p.copyright"
    fi
  done
  local zkver
  zkver="$(dpkg-deb -f "$(newest_deb "$debdir" zookeeper)" Version)"
  [[ "$zkver" == "$ZK_VERSION"-* ]] || die "Debian's zookeeper is $zkver, not $ZK_VERSION"

  local java="$x/usr/share/java"
  index_jar_names "$java"
  for jar in "${JARS[@]}"; do
    src="$(readlink -f "$java/$jar")" || true
    [[ -n "$src" && -f "$src" ]] || die "jar $jar missing from the Debian packages"
    out="${LIB_NAME[$src]}"
    case "$jar" in
      zookeeper.jar) out="zookeeper-$ZK_VERSION.jar" ;;
      zookeeper-jute.jar) out="zookeeper-jute-$ZK_VERSION.jar" ;;
    esac
    install -m 0644 "$src" "$top/lib/$out"
    strip_class_path "$top/lib/$out"
  done

  local zkbin="$x/usr/share/zookeeper/bin"
  for p in zkServer.sh zkCli.sh zkCleanup.sh; do
    install -m 0755 "$(readlink -f "$zkbin/$p")" "$top/bin/$p"
  done
  write_zkenv "$top/bin/zkEnv.sh"
  chmod 0755 "$top/bin/zkEnv.sh"
  write_log4j "$top/conf/log4j.properties"
  write_zoo_sample "$top/conf/zoo_sample.cfg"
  install -m 0644 "$x/etc/zookeeper/conf_example/configuration.xsl" "$top/conf/configuration.xsl"
  chmod 0644 "$top/conf/log4j.properties" "$top/conf/zoo_sample.cfg"
  if [[ -f "$x/usr/share/doc/zookeeper/NOTICE.txt" ]]; then
    install -m 0644 "$x/usr/share/doc/zookeeper/NOTICE.txt" "$top/NOTICE.txt"
  fi
  {
    printf 'Apache ZooKeeper %s, binary layout, assembled from Debian bookworm packages\n' "$ZK_VERSION"
    printf '(unpacked with dpkg-deb -x; jars copied as real files, manifest Class-Path removed).\n\n'
    printf 'Run: java -cp "lib/*:conf" org.apache.zookeeper.server.quorum.QuorumPeerMain conf/zoo.cfg\n'
    printf '  or bin/zkServer.sh start-foreground\n\nDebian packages:\n'
    printf '  %s\n' "${versions[@]}"
    printf '\nLicenses: licenses/*.copyright (Apache License 2.0 and others, as Debian states them).\n'
  } >"$top/README.txt"
  chmod 0644 "$top/README.txt"
  rm -rf "$x"

  if find "$top" -type l | grep -q .; then
    die "symlinks left in the artifact"
  fi
}

# ---------------------------------------------------------------- verification

free_port() {
  local p
  for p in $(shuf -i 20000-40000 -n 50); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      printf '%s\n' "$p"
      return
    fi
  done
  die "no free port found"
}

ZK_PID=""
VERIFY_DIR=""
cleanup_verify() {
  if [[ -n "$ZK_PID" ]] && kill -0 "$ZK_PID" 2>/dev/null; then
    kill -TERM "$ZK_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
      kill -0 "$ZK_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$ZK_PID" 2>/dev/null || true
    wait "$ZK_PID" 2>/dev/null || true
  fi
  ZK_PID=""
  [[ -z "$VERIFY_DIR" ]] || rm -rf "$VERIFY_DIR"
  VERIFY_DIR=""
}

srvr() { # srvr PORT - ZooKeeper's srvr four-letter word on 127.0.0.1
  local reply
  # shellcheck disable=SC2016 # $1 is expanded by the inner bash
  reply="$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf srvr >&3 && cat <&3' _ "$1" 2>/dev/null)" || true
  printf '%s' "$reply"
}

verify() { # verify TARBALL
  local tarball="$1" home port reply i out
  need_tools java:openjdk-17-jre-headless
  VERIFY_DIR="$(mktemp -d /tmp/zk-verify.XXXXXX)"
  tar -xzf "$tarball" -C "$VERIFY_DIR"
  home="$VERIFY_DIR/$NAME"
  [[ -z "$(find "$home" -type l)" ]] || die "verify: symlinks in the tarball"
  port="$(free_port)"
  mkdir -p "$VERIFY_DIR/data"
  cat >"$home/conf/zoo.cfg" <<EOF
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$VERIFY_DIR/data
clientPort=$port
clientPortAddress=127.0.0.1
admin.enableServer=false
EOF
  log "verify: standalone server on 127.0.0.1:$port from $home"
  java -cp "$home/lib/*:$home/conf" org.apache.zookeeper.server.quorum.QuorumPeerMain \
    "$home/conf/zoo.cfg" </dev/null >"$VERIFY_DIR/server.log" 2>&1 &
  ZK_PID=$!
  reply=""
  for ((i = 0; i < 150; i++)); do
    kill -0 "$ZK_PID" 2>/dev/null || { tail -n 30 "$VERIFY_DIR/server.log" >&2; die "verify: server exited"; }
    reply="$(srvr "$port")"
    [[ "$reply" == *"Mode: standalone"* ]] && break
    sleep 0.2
  done
  [[ "$reply" == *"Zookeeper version: $ZK_VERSION"* && "$reply" == *"Mode: standalone"* ]] ||
    { tail -n 30 "$VERIFY_DIR/server.log" >&2; die "verify: no srvr answer from the server"; }
  printf '%s\n' "$reply" | sed 's/^/zk-artifact: srvr: /' >&2

  out="$("$home/bin/zkCli.sh" -server "127.0.0.1:$port" create /amq-box-check built-from-debian 2>&1)" ||
    { printf '%s\n' "$out" >&2; die "verify: zkCli.sh create failed"; }
  out="$("$home/bin/zkCli.sh" -server "127.0.0.1:$port" get /amq-box-check 2>&1)" ||
    { printf '%s\n' "$out" >&2; die "verify: zkCli.sh get failed"; }
  [[ "$out" == *built-from-debian* ]] || { printf '%s\n' "$out" >&2; die "verify: znode not read back"; }
  log "verify: zkCli.sh created and read /amq-box-check"
  out="$(ZOO_LOG_DIR="$VERIFY_DIR/logs" "$home/bin/zkServer.sh" status 2>&1)" || true
  [[ "$out" == *"Mode: standalone"* ]] || { printf '%s\n' "$out" >&2; die "verify: zkServer.sh status failed"; }
  log "verify: zkServer.sh status: Mode: standalone"
  cleanup_verify
  log "verify: OK (server stopped)"
}

# ---------------------------------------------------------------- main

main() {
  local outdir="" verify_it=1 a
  for a in "$@"; do
    case "$a" in
      --no-verify) verify_it=0 ;;
      -h | --help) usage ;;
      -*) usage ;;
      *) [[ -z "$outdir" ]] || usage; outdir="$a" ;;
    esac
  done
  [[ -n "$outdir" ]] || usage
  need_tools apt-get:apt dpkg-deb:dpkg python3:python3 sha512sum:coreutils tar:tar gzip:gzip shuf:coreutils

  local debdir="$BOX_CACHE/debs/zookeeper-$ZK_VERSION" stage dest tarball epoch started
  started="$(date +%s)"
  fetch_debs "$debdir"
  stage="$(mktemp -d /tmp/zk-artifact.XXXXXX)"
  # shellcheck disable=SC2064 # expand now: the paths are fixed
  trap "cleanup_verify; rm -rf '$stage'" EXIT
  assemble "$debdir" "$stage"

  dest="$outdir/zookeeper/zookeeper-$ZK_VERSION"
  mkdir -p "$dest"
  tarball="$dest/$NAME.tar.gz"
  # Reproducible: fixed order, owners and times (those of Debian's zookeeper.jar).
  epoch="$(dpkg-deb --fsys-tarfile "$(newest_deb "$debdir" libzookeeper-java)" |
    tar -tv --full-time 2>/dev/null | awk '$6 ~ /\/zookeeper\.jar$/ && !done { print $4 " " $5; done = 1 }')"
  epoch="$(date -u -d "${epoch:-2022-03-07 00:00:00}" +%s)"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    --format=gnu -C "$stage" -cf - "$NAME" | gzip -9n >"$tarball.tmp"
  mv "$tarball.tmp" "$tarball"
  (cd "$dest" && sha512sum "$NAME.tar.gz" >"$NAME.tar.gz.sha512.tmp" && mv "$NAME.tar.gz.sha512.tmp" "$NAME.tar.gz.sha512")
  log "built $tarball ($(du -h "$tarball" | cut -f1), $(tar -tzf "$tarball" | grep -c '\.jar$') jars)"
  log "sha512: $(cut -c1-32 "$tarball.sha512")..."

  if ((verify_it)); then
    verify "$tarball"
  fi
  log "done in $(($(date +%s) - started)) s"
  printf '%s\n' "$tarball"
}

main "$@"
