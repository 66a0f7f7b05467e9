#!/usr/bin/env bash
# Builds an Apache-layout ActiveMQ 5.17.2 binary tarball from Debian bookworm's packages.
#
#   build-activemq-from-debian.sh OUTDIR
#
# Writes
#   OUTDIR/activemq/5.17.2/apache-activemq-5.17.2-bin.tar.gz   (top directory apache-activemq-5.17.2/)
#   OUTDIR/activemq/5.17.2/apache-activemq-5.17.2-bin.tar.gz.sha512
#   OUTDIR/schemas/activemq-5.17.2.xsd                          (XBean schema from activemq-spring)
#
# The .debs of `activemq`, `libactivemq-java` and of every Java library package they depend
# on (apt-cache depends, recursively, lib*-java only) are fetched with `apt-get download` into
# ARTIFACT_CACHE (default /var/cache/amq-artifacts), checked against the archive's SHA256 and
# unpacked with `dpkg-deb -x` into a temporary directory: nothing is installed on this machine.
# The jars that Debian's activemq package links into /usr/share/activemq/lib{,/optional} are
# copied as real files. bin/activemq is Debian's copy of the upstream script with its Debian
# paths put back to the upstream defaults (ACTIVEMQ_HOME from the script's location,
# ACTIVEMQ_BASE=ACTIVEMQ_HOME, bin/env as configuration), so ACTIVEMQ_HOME, ACTIVEMQ_BASE,
# ACTIVEMQ_CONF and ACTIVEMQ_DATA work as with the Apache distribution and
# `bin/activemq console` runs the broker in the foreground with $ACTIVEMQ_CONF/activemq.xml.
# No web console (Debian does not build it). Differences from the Apache tarball that matter:
#  - jars keep Debian's names (activemq's own jars get upstream's -5.17.2 suffix) and versions
#    (e.g. Spring 4.3.30, shiro 1.3.2); DEBIAN-PACKAGES.txt says where each file came from;
#  - logging is log4j 1.2 through slf4j-log4j12 (what Debian's package runs), configured by
#    conf/log4j.properties written here; conf/log4j2.properties is shipped but not read;
#  - lib/optional/httpclient.jar is left out (not needed here; its manifest Class-Path points
#    into the host's /usr/share/java), as are Debian's links to packages it only recommends.
# The output is reproducible: the same .debs give the same tarball, so running the script
# again changes nothing.
set -euo pipefail

readonly AMQ_VERSION="5.17.2"
readonly TOP="apache-activemq-${AMQ_VERSION}"

die() {
  printf 'build-activemq-from-debian: %s\n' "$*" >&2
  exit 1
}

log() {
  printf 'build-activemq-from-debian: %s\n' "$*" >&2
}

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  printf 'usage: %s OUTDIR\n' "$0" >&2
  exit 2
fi

OUTDIR="$1"
ARTIFACT_CACHE="${ARTIFACT_CACHE:-/var/cache/amq-artifacts}"
DEB_CACHE="${ARTIFACT_CACHE}/debs"

for tool in apt-get apt-cache dpkg-deb tar gzip sha256sum sha512sum awk sed find sort; do
  command -v "$tool" >/dev/null 2>&1 || die "missing tool: ${tool}"
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/amq-debian-build.XXXXXX")"
cleanup() {
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- 1. the candidate versions ---------------------------------------------------------

# candidates PACKAGE... -> "package version architecture filename sha256" per package (one
# apt-cache call: each call costs most of a second)
candidates() {
  apt-cache show --no-all-versions "$@" 2>/dev/null | awk '
    function flush() { if (p != "") print p, v, a, f, h; p = v = a = f = h = "" }
    /^Package: / { flush(); p = $2 }
    /^Version: / { v = $2 }
    /^Architecture: / { a = $2 }
    /^Filename: / { f = $2 }
    /^SHA256: / { h = $2 }
    END { flush() }'
}

amq_candidates="$(candidates activemq libactivemq-java || true)"
if [ -z "$amq_candidates" ] && [ "$(id -u)" = "0" ]; then
  log "no package lists for activemq; running apt-get update"
  apt-get update -qq
  amq_candidates="$(candidates activemq libactivemq-java || true)"
fi
for pkg in activemq libactivemq-java; do
  v="$(printf '%s\n' "$amq_candidates" | awk -v p="$pkg" '$1 == p { print $2; exit }')"
  [ -n "$v" ] || die "no candidate for ${pkg} (run apt-get update; a Debian bookworm source is needed)"
  case "$v" in
    "${AMQ_VERSION}"[+-]*) ;;
    *) die "${pkg} candidate is ${v}, expected ${AMQ_VERSION}*" ;;
  esac
done

# --- 2. the Java package closure -------------------------------------------------------

declare -A seen=()
frontier=(activemq)
while [ "${#frontier[@]}" -gt 0 ]; do
  for pkg in "${frontier[@]}"; do
    seen[$pkg]=1
  done
  next=()
  while read -r dep; do
    case "$dep" in
      lib*-java)
        if [ -z "${seen[$dep]:-}" ]; then
          seen[$dep]=1
          next+=("$dep")
        fi
        ;;
      *) ;;
    esac
  done < <(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "${frontier[@]}" |
    awk '$1 == "Depends:" || $1 == "|Depends:" || $1 == "PreDepends:" { print $2 }' |
    grep -v '^<' | LC_ALL=C sort -u || true)
  frontier=("${next[@]}")
done
mapfile -t packages < <(printf '%s\n' "${!seen[@]}" | LC_ALL=C sort)
log "${#packages[@]} packages in the closure"

# --- 3. download into the cache (verified by SHA256) -----------------------------------

mkdir -p "$DEB_CACHE"
declare -A deb_of=() version_of=() arch_of=() sha256_of=()
while read -r pkg version arch filename sha256; do
  version_of[$pkg]="$version"
  arch_of[$pkg]="$arch"
  sha256_of[$pkg]="$sha256"
  deb_of[$pkg]="${DEB_CACHE}/$(basename "$filename")"
done < <(candidates "${packages[@]}")
missing=()
for pkg in "${packages[@]}"; do
  if [ -z "${deb_of[$pkg]:-}" ] || [ -z "${sha256_of[$pkg]}" ]; then
    die "no candidate record for ${pkg}"
  fi
  deb="${deb_of[$pkg]}"
  if [ -f "$deb" ] && [ "$(sha256sum "$deb" | awk '{ print $1 }')" = "${sha256_of[$pkg]}" ]; then
    continue
  fi
  missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
  log "downloading ${#missing[@]} packages into ${DEB_CACHE}"
  dl="$(mktemp -d "${DEB_CACHE}/.download.XXXXXX")"
  specs=()
  for pkg in "${missing[@]}"; do
    specs+=("${pkg}=${version_of[$pkg]}")
  done
  if ! (cd "$dl" && apt-get download -qq -o APT::Sandbox::User=root "${specs[@]}" >&2); then
    rm -rf "$dl"
    die "apt-get download failed"
  fi
  for pkg in "${missing[@]}"; do
    got="${dl}/${pkg}_${version_of[$pkg]//:/%3a}_${arch_of[$pkg]}.deb"
    if [ ! -f "$got" ]; then
      rm -rf "$dl"
      die "apt-get download left no ${got}"
    fi
    if [ "$(sha256sum "$got" | awk '{ print $1 }')" != "${sha256_of[$pkg]}" ]; then
      rm -rf "$dl"
      die "SHA256 mismatch for ${pkg}"
    fi
    mv -f "$got" "${deb_of[$pkg]}"
  done
  rm -rf "$dl"
fi

# --- 4. unpack everything into a private root ------------------------------------------

ROOT="${WORK}/root"
mkdir -p "$ROOT"
declare -A owner_of=()
for pkg in "${packages[@]}"; do
  dpkg-deb -x "${deb_of[$pkg]}" "$ROOT"
  while read -r path; do
    owner_of[$path]="$pkg"
  done < <(dpkg-deb -c "${deb_of[$pkg]}" | awk '$1 ~ /^-/ { print $6 }' | sed 's#^\./#/#')
done

# resolve PATH (absolute, as installed) through symlinks inside ROOT; prints the installed path
resolve_in_root() {
  local path="$1" target i
  for ((i = 0; i < 40; i++)); do
    if [ -L "${ROOT}${path}" ]; then
      target="$(readlink "${ROOT}${path}")"
      case "$target" in
        /*) path="$target" ;;
        *) path="$(dirname "$path")/${target}" ;;
      esac
      # normalise /x/../ and /./ without touching the real file system
      path="$(printf '%s\n' "$path" | awk -F/ '{
        n = 0
        for (i = 2; i <= NF; i++) {
          if ($i == "" || $i == ".") continue
          if ($i == "..") { if (n > 0) n--; continue }
          part[++n] = $i
        }
        out = ""
        for (i = 1; i <= n; i++) out = out "/" part[i]
        print out
      }')"
    else
      break
    fi
  done
  [ -f "${ROOT}${path}" ] || return 1
  printf '%s\n' "$path"
}

[ -x "${ROOT}/usr/bin/activemq" ] || die "the activemq package has no /usr/bin/activemq"

# --- 5. the Apache layout --------------------------------------------------------------

STAGE="${WORK}/stage"
DIST="${STAGE}/${TOP}"
mkdir -p "${DIST}/bin" "${DIST}/conf" "${DIST}/lib/optional" "${DIST}/data" "${DIST}/licenses"

provenance="${DIST}/DEBIAN-PACKAGES.txt"
{
  printf '# %s assembled from Debian packages (file<TAB>package<TAB>version<TAB>installed path)\n' "$TOP"
  printf '# closure:'
  for pkg in "${packages[@]}"; do
    printf ' %s=%s' "$pkg" "${version_of[$pkg]}"
  done
  printf '\n'
} >"$provenance"

declare -A licensed=()
copy_real() {
  # copy_real INSTALLED_LINK DEST_DIR [NAME] -> copies the resolved file as DEST_DIR/NAME (default:
  # the link's name; libactivemq-java's own jars get upstream's versioned names) and records
  # where it came from
  local link="$1" dir="$2" name="${3:-}" real pkg
  [ -n "$name" ] || name="$(basename "$link")"
  if ! real="$(resolve_in_root "$link")"; then
    log "skipping ${dir}/${name}: ${link} does not resolve within the downloaded packages"
    printf '%s/%s\t-\t-\t(unresolved: %s)\n' "$dir" "$name" "$link" >>"$provenance"
    return 0
  fi
  pkg="${owner_of[$real]:-unknown}"
  if [ "$pkg" = "libactivemq-java" ]; then
    case "$name" in
      activemq.jar | *-"${AMQ_VERSION}".jar) ;;
      activemq-*.jar) name="${name%.jar}-${AMQ_VERSION}.jar" ;;
      *) ;;
    esac
  fi
  install -m 0644 "${ROOT}${real}" "${DIST}/${dir}/${name}"
  printf '%s/%s\t%s\t%s\t%s\n' "$dir" "$name" "$pkg" "${version_of[$pkg]:-?}" "$real" >>"$provenance"
  licensed[$pkg]=1
}

# lib/ and lib/optional/: the jars Debian's activemq package puts on the broker's class path
for dir in lib lib/optional; do
  while read -r name; do
    case "$name" in
      # not needed by a KahaDB/OpenWire broker, and its manifest's Class-Path names
      # /usr/share/java/commons-logging.jar, which on a host with Debian's Java libraries
      # drags that host's log4j 1.2 onto the broker's class path ahead of the bridge
      httpclient.jar) continue ;;
      *) copy_real "/usr/share/activemq/${dir}/${name}" "$dir" ;;
    esac
  done < <(find "${ROOT}/usr/share/activemq/${dir}" -maxdepth 1 -name '*.jar' -printf '%f\n' | LC_ALL=C sort)
done
# bin/activemq.jar (the launcher, activemq-run)
copy_real /usr/share/activemq/bin/activemq.jar bin activemq.jar

# bin/activemq: Debian's copy of the upstream script with the upstream defaults restored
awk_restore_upstream_defaults() {
  cat <<'AWK'
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function indent(s) { match(s, /^[ \t]*/); return substr(s, 1, RLENGTH) }
BEGIN {
  repl["ACTIVEMQ_HOME=\"/usr/share/activemq\""] = "ACTIVEMQ_HOME=\"`getActiveMQHome`\""
  repl["ACTIVEMQ_BASE=\"/var/lib/activemq\""] = "ACTIVEMQ_BASE=\"$ACTIVEMQ_HOME\""
  repl["ACTIVEMQ_USER=\"activemq\""] = "ACTIVEMQ_USER=\"\""
  repl["ACTIVEMQ_PIDFILE=\"/run/activemq.pid\""] = "ACTIVEMQ_PIDFILE=\"$ACTIVEMQ_DATA/activemq.pid\""
  repl["ACTIVEMQ_CONFIGS=\"/usr/share/activemq/activemq-options\""] = "ACTIVEMQ_CONFIGS=\"/etc/default/activemq $HOME/.activemqrc $ACTIVEMQ_HOME/bin/env\""
  skip = 0; skipped = 0
}
{
  t = trim($0)
  if (skip) { if (t == "fi") skip = 0; next }
  if (t == "if [ -r \"/etc/activemq/instances-enabled/$INSTANCE/options\" ]; then") { skip = 1; skipped++; next }
  if (t in repl) { print indent($0) repl[t]; done[t]++; next }
  print
}
END {
  bad = 0
  for (k in repl) if (done[k] != 1) { print "not exactly once: " k > "/dev/stderr"; bad = 1 }
  if (skipped != 1) { print "instance options block not found exactly once" > "/dev/stderr"; bad = 1 }
  exit bad
}
AWK
}
awk "$(awk_restore_upstream_defaults)" "${ROOT}/usr/bin/activemq" >"${DIST}/bin/activemq" ||
  die "Debian's /usr/bin/activemq no longer has the expected Debian defaults"
chmod 0755 "${DIST}/bin/activemq"

# bin/env: the variables of upstream's bin/env
cat >"${DIST}/bin/env" <<'ENV'
# Configuration sourced by bin/activemq (written by build-activemq-from-debian.sh).
# It sets the same variables as the bin/env of the Apache distribution, so that a
# provisioning step that edits one works on the other.
# ACTIVEMQ_HOME, ACTIVEMQ_BASE, ACTIVEMQ_CONF, ACTIVEMQ_DATA and ACTIVEMQ_TMP may be set in
# the environment; bin/activemq derives them from its own location otherwise.

if [ -z "$ACTIVEMQ_OPTS_MEMORY" ] ; then
    ACTIVEMQ_OPTS_MEMORY="-Xms64M -Xmx1G"
fi
if [ -z "$ACTIVEMQ_OPTS" ] ; then
    ACTIVEMQ_OPTS="$ACTIVEMQ_OPTS_MEMORY -Djava.util.logging.config.file=logging.properties -Djava.security.auth.login.config=$ACTIVEMQ_CONF/login.config"
fi

if [ -z "$ACTIVEMQ_OUT" ]; then
   ACTIVEMQ_OUT="/dev/null"
fi

# The local JMX agent, as upstream's bin/env enables it.
ACTIVEMQ_SUNJMX_START="$ACTIVEMQ_SUNJMX_START -Dcom.sun.management.jmxremote"
ACTIVEMQ_SUNJMX_CONTROL=""

if [ -z "$ACTIVEMQ_QUEUEMANAGERURL" ]; then
    ACTIVEMQ_QUEUEMANAGERURL="--amqurl tcp://localhost:61616"
fi

if [ -z "$ACTIVEMQ_SSL_OPTS" ] ; then
    ACTIVEMQ_SSL_OPTS=""
fi

if [ -z "$ACTIVEMQ_KILL_MAXSECONDS" ]; then
    ACTIVEMQ_KILL_MAXSECONDS=30
fi

# Run as the user that starts the script.
ACTIVEMQ_USER=""
ENV
chmod 0644 "${DIST}/bin/env"

# conf/: the "main" instance (KahaDB, OpenWire on 127.0.0.1:61616) and the shipped samples
install -m 0644 "${ROOT}/etc/activemq/instances-available/main/activemq.xml" "${DIST}/conf/activemq.xml"
install -m 0644 "${ROOT}/etc/activemq/instances-available/main/log4j2.properties" "${DIST}/conf/log4j2.properties"
examples="${ROOT}/usr/share/doc/activemq/examples/conf"
for f in credentials.properties credentials-enc.properties users.properties groups.properties \
  jetty.xml jetty-realm.properties jolokia-access.xml logging.properties; do
  if [ -f "${examples}/${f}" ]; then
    install -m 0644 "${examples}/${f}" "${DIST}/conf/${f}"
  elif [ -f "${examples}/${f}.gz" ]; then
    gzip -dc "${examples}/${f}.gz" >"${DIST}/conf/${f}"
    chmod 0644 "${DIST}/conf/${f}"
  else
    log "conf/${f} is not shipped by Debian; left out"
  fi
done
# the JAAS configuration that ACTIVEMQ_OPTS points at (Debian ships none)
cat >"${DIST}/conf/login.config" <<'JAAS'
activemq {
    org.apache.activemq.jaas.PropertiesLoginModule required
        org.apache.activemq.jaas.properties.user="users.properties"
        org.apache.activemq.jaas.properties.group="groups.properties";
};
JAAS
chmod 0644 "${DIST}/conf/login.config"
# Debian's broker logs through slf4j-log4j12 to log4j 1.2 (Debian has no log4j2 binding for
# slf4j, and the log4j 1.2 bridge of log4j2 breaks the broker's MDC use), so conf/log4j2.properties
# is shipped but not read; this is the configuration log4j 1.2 finds on the class path
cat >"${DIST}/conf/log4j.properties" <<'LOG4J'
# Broker logging (log4j 1.2 through slf4j-log4j12, as Debian's ActiveMQ 5.17.2 runs it).
log4j.rootLogger=INFO, console, logfile
log4j.logger.org.apache.activemq.spring=WARN
log4j.logger.org.apache.activemq.web.handler=WARN
log4j.logger.org.springframework=WARN
log4j.logger.org.apache.xbean=WARN
log4j.logger.org.eclipse.jetty=WARN

log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.threshold=INFO
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%5p | %m%n

log4j.appender.logfile=org.apache.log4j.RollingFileAppender
log4j.appender.logfile.file=${activemq.data}/activemq.log
log4j.appender.logfile.maxFileSize=1024KB
log4j.appender.logfile.maxBackupIndex=5
log4j.appender.logfile.append=true
log4j.appender.logfile.layout=org.apache.log4j.PatternLayout
log4j.appender.logfile.layout.ConversionPattern=%d | %-5p | %m | %c | %t%n
LOG4J
chmod 0644 "${DIST}/conf/log4j.properties"

# top-level documents and the Debian copyright files of everything included
if [ -f "${ROOT}/usr/share/doc/activemq/README.txt" ]; then
  install -m 0644 "${ROOT}/usr/share/doc/activemq/README.txt" "${DIST}/README.txt"
fi
if [ -f "${ROOT}/usr/share/doc/libactivemq-java/NOTICE" ]; then
  install -m 0644 "${ROOT}/usr/share/doc/libactivemq-java/NOTICE" "${DIST}/NOTICE"
fi
licensed[activemq]=1
for pkg in "${!licensed[@]}"; do
  if [ -f "${ROOT}/usr/share/doc/${pkg}/copyright" ]; then
    install -m 0644 "${ROOT}/usr/share/doc/${pkg}/copyright" "${DIST}/licenses/${pkg}.copyright"
  fi
done

# no symlinks, sane modes
if [ -n "$(find "$DIST" -type l -print -quit)" ]; then
  die "symlinks left in the layout"
fi
find "$DIST" -type d -exec chmod 0755 {} +

# --- 6. the tarball, its checksum and the schema ---------------------------------------

epoch="$(stat -c '%Y' "${ROOT}/usr/bin/activemq")"
outdir="${OUTDIR}/activemq/${AMQ_VERSION}"
tarball="apache-activemq-${AMQ_VERSION}-bin.tar.gz"
mkdir -p "$outdir" "${OUTDIR}/schemas"
(
  cd "$STAGE"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@${epoch}" -cf - "$TOP"
) | gzip -9n >"${WORK}/${tarball}"
mv -f "${WORK}/${tarball}" "${outdir}/${tarball}"
(cd "$outdir" && sha512sum "$tarball" >"${tarball}.sha512.tmp" && mv -f "${tarball}.sha512.tmp" "${tarball}.sha512")

spring_jar="${DIST}/lib/optional/activemq-spring-${AMQ_VERSION}.jar"
[ -f "$spring_jar" ] || spring_jar="$(find "$DIST/lib" -name "activemq-spring*.jar" -print -quit)"
if [ -z "$spring_jar" ] || [ ! -f "$spring_jar" ]; then
  die "no activemq-spring jar in the layout"
fi
xsd_tmp="${WORK}/activemq.xsd"
if command -v unzip >/dev/null 2>&1; then
  unzip -p "$spring_jar" activemq.xsd >"$xsd_tmp"
elif command -v jar >/dev/null 2>&1; then
  (cd "$WORK" && jar xf "$spring_jar" activemq.xsd)
else
  die "need unzip or jar to read activemq.xsd from ${spring_jar}"
fi
grep -Eq "targetNamespace=['\"]http://activemq.apache.org/schema/core['\"]" "$xsd_tmp" ||
  die "activemq.xsd from ${spring_jar} is not the XBean schema"
install -m 0644 "$xsd_tmp" "${OUTDIR}/schemas/activemq-${AMQ_VERSION}.xsd"

log "wrote ${outdir}/${tarball} ($(cut -c1-16 "${outdir}/${tarball}.sha512")...) and ${OUTDIR}/schemas/activemq-${AMQ_VERSION}.xsd"
