#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, no ZooKeeper) on 127.0.0.1 for development
# and tests. The broker comes from Maven Central through Maven, because that is
# the only place a Kafka distribution can be had on our machines.
#
# Usage:
#   deploy/kafka.sh fetch    download Kafka and its runtime jars (idempotent)
#   deploy/kafka.sh start    fresh cluster in the background; on success prints
#                            exactly one line on stdout:
#                              export NEWSWIRE_KAFKA_BOOTSTRAP=127.0.0.1:<port>
#                            so callers can: eval "$(deploy/kafka.sh start)"
#                            (under set -e, prefer line="$(deploy/kafka.sh start)";
#                            eval "$line": eval of an empty string succeeds, so
#                            the one-liner hides a failed start)
#   deploy/kafka.sh resume   start the broker again on the data of the last start
#                            (a restart: topics, offsets and transactions kept);
#                            prints the same export line
#   deploy/kafka.sh stop     stop the broker (idempotent)
#   deploy/kafka.sh kill     SIGKILL the broker, as a crash would (idempotent)
#   deploy/kafka.sh status   exit 0 and print the export line if running, else exit 1
#
# Environment:
#   NEWSWIRE_CACHE_DIR              jar cache        (default $HOME/.cache/newswire)
#   NEWSWIRE_KAFKA_DIR              run directory    (default $NEWSWIRE_CACHE_DIR/kafka-run)
#   NEWSWIRE_KAFKA_PORT             client port      (default 19092)
#   NEWSWIRE_KAFKA_CONTROLLER_PORT  controller port  (default 19093)
#   NEWSWIRE_KAFKA_VERSION          Kafka version    (default 4.4.0)
#   NEWSWIRE_KAFKA_LOG_LEVEL        broker log level (default INFO)
#   NEWSWIRE_KAFKA_JAVA_OPTS        JVM options      (default -Xms256m -Xmx768m -XX:TieredStopAtLevel=1)
#   NEWSWIRE_KAFKA_CDS              0 disables the class-data-sharing archive (default 1)
#   JAVA_HOME                       Java 17+ to use  (default: java on PATH)
#
# Everything except the final export line goes to stderr, so that the
# command substitution above only ever sees the export line.

set -euo pipefail

KAFKA_VERSION="${NEWSWIRE_KAFKA_VERSION:-4.4.0}"
# The kafka_2.13 POM brings log4j-api/core but no SLF4J binding, and Kafka logs
# almost everything through SLF4J 1.7: without log4j-slf4j-impl the broker runs
# silently (SLF4J NOP) and we could never see "Kafka Server started". Keep this
# equal to the log4j-core version that Kafka itself depends on (2.25.5 for 4.4.0).
LOG4J_VERSION="${NEWSWIRE_KAFKA_LOG4J_VERSION:-2.25.5}"
# Pinned because Maven 3.8's default for the prefix "dependency" is the 2.8
# plugin from 2013; 3.8.1 still supports Maven 3.6.3+.
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

CACHE_DIR="${NEWSWIRE_CACHE_DIR:-$HOME/.cache/newswire}"
RUN_DIR="${NEWSWIRE_KAFKA_DIR:-$CACHE_DIR/kafka-run}"
# Absolute paths: they end up in server.properties and in the pid check.
CACHE_DIR="$(realpath -m -- "$CACHE_DIR")"
RUN_DIR="$(realpath -m -- "$RUN_DIR")"
KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
LIBS="$KAFKA_HOME/libs"
MARKER="$KAFKA_HOME/.complete"

PORT="${NEWSWIRE_KAFKA_PORT:-19092}"
CONTROLLER_PORT="${NEWSWIRE_KAFKA_CONTROLLER_PORT:-19093}"
HOST=127.0.0.1
LOG_LEVEL="${NEWSWIRE_KAFKA_LOG_LEVEL:-INFO}"
# C1 only: on our 2-core machines C2 compiling Scala during start-up competes
# with the tests for CPU and makes the broker ~1.5 s slower to come up; a test
# broker never runs long enough for C2's peak speed to pay off. Benchmarks
# against this broker should override this.
JAVA_OPTS="${NEWSWIRE_KAFKA_JAVA_OPTS:--Xms256m -Xmx768m -XX:TieredStopAtLevel=1}"
USE_CDS="${NEWSWIRE_KAFKA_CDS:-1}"
START_TIMEOUT_S=90
STOP_TIMEOUT_S=30

PID_FILE="$RUN_DIR/kafka.pid"
ENV_FILE="$RUN_DIR/env"
LOG_DIR="$RUN_DIR/logs"
SERVER_LOG="$LOG_DIR/server.log"
CONSOLE_LOG="$LOG_DIR/console.log"
CDS_PENDING="$RUN_DIR/cds-pending"
JAVA_ID=""  # set by check_java: identifies the JVM build a CDS archive is valid for

log() { printf 'kafka: %s\n' "$*" >&2; }
die() { printf 'kafka: error: %s\n' "$*" >&2; exit 1; }

now() { printf '%s\n' "${EPOCHREALTIME/,/.}"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

java_bin() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    printf '%s\n' "$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    command -v java
  else
    die "no java found (set JAVA_HOME or put Java 17+ on PATH)"
  fi
}

check_java() {
  local java full version major
  java="$(java_bin)"
  full="$("$java" -version 2>&1)" || die "$java -version failed: $full"
  version="$(awk -F'"' '/version/ { print $2; exit }' <<<"$full")"
  JAVA_ID="$(printf '%s\n%s\n' "$(realpath "$java")" "$full" | sha256sum | cut -c1-12)"
  major="${version%%.*}"
  # Kafka 4.x brokers refuse to run on anything older than Java 17.
  [[ "$major" =~ ^[0-9]+$ && "$major" -ge 17 ]] \
    || die "$java is Java '${version:-unknown}', Kafka $KAFKA_VERSION needs Java 17 or newer"
}

# Connect-only probe; the timeout guards against a firewall that drops SYNs.
port_open() {
  # shellcheck disable=SC2016 # expanded by the inner bash, on purpose
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$HOST" "$1" 2>/dev/null
}

# fd 9 is the lock; the broker must not inherit it or it would hold the lock
# for its whole life, hence the 9>&- on every long-lived child below.
lock() {
  mkdir -p "$(dirname "$1")"
  exec 9>"$1"
  flock -w 300 9 || die "timed out waiting for lock $1 (another deploy/kafka.sh running?)"
}

pom() {
  cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by deploy/kafka.sh: only used to resolve the broker's classpath. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>newswire.deploy</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencyManagement>
    <dependencies>
      <!-- Keeps log4j-api, log4j-core and the SLF4J binding on one version. -->
      <dependency>
        <groupId>org.apache.logging.log4j</groupId>
        <artifactId>log4j-bom</artifactId>
        <version>$LOG4J_VERSION</version>
        <type>pom</type>
        <scope>import</scope>
      </dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
    </dependency>
  </dependencies>
</project>
EOF
}

fetch() {
  local fingerprint partial mvn_log t0
  fingerprint="$(pom | sha256sum | cut -d' ' -f1)"
  # Cheap check first so that a warm start never takes the lock or runs Maven.
  if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$fingerprint" ]]; then
    return 0
  fi
  lock "$KAFKA_HOME.lock"
  if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$fingerprint" ]]; then
    return 0  # another process finished the download while we waited
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH; it is needed to download Kafka from Maven Central"

  t0="$(now)"
  log "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its runtime jars with Maven into $LIBS"
  rm -f "$MARKER"
  partial="$KAFKA_HOME/libs.partial"
  mvn_log="$KAFKA_HOME/maven.log"
  rm -rf "$partial"
  mkdir -p "$partial"
  pom >"$KAFKA_HOME/pom.xml"
  if ! mvn -B -ntp -f "$KAFKA_HOME/pom.xml" \
      "$DEPENDENCY_PLUGIN:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$partial" \
      >"$mvn_log" 2>&1 9>&-; then
    tail -n 40 "$mvn_log" >&2
    rm -rf "$partial"
    die "Maven could not download Kafka $KAFKA_VERSION (full log: $mvn_log)"
  fi
  [[ -f "$partial/kafka_2.13-$KAFKA_VERSION.jar" ]] \
    || die "Maven succeeded but $partial has no kafka_2.13-$KAFKA_VERSION.jar (log: $mvn_log)"
  rm -rf "$LIBS" "$KAFKA_HOME/cds"  # a CDS archive is only valid for the jars it was made from
  mv "$partial" "$LIBS"
  # The marker goes last and atomically: its presence means libs/ is whole.
  printf '%s\n' "$fingerprint" >"$MARKER.tmp"
  mv "$MARKER.tmp" "$MARKER"
  log "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars in $(elapsed "$t0") s"
}

# A process is gone once /proc has no entry or only a zombie: the broker is
# reparented when start exits, and a container's pid 1 may never reap it.
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" != Z ]]
}

# Prints the pid of the broker that belongs to RUN_DIR, if it is alive. The
# command-line check protects against a recycled pid in a stale pid file.
running_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $RUN_DIR/server.properties" || return 1
  printf '%s\n' "$pid"
}

stop_broker() {
  local pid i killed=0
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE" "$ENV_FILE"
    finish_cds_archive 1
    log "not running"
    return 0
  fi
  log "stopping broker pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  # SIGTERM runs Kafka's controlled shutdown (and writes the CDS archive on the
  # first run); give it time, but never wait forever.
  for ((i = 0; i < STOP_TIMEOUT_S * 10; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    log "broker pid $pid ignored SIGTERM for ${STOP_TIMEOUT_S}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    killed=1
    for ((i = 0; i < 100; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    alive "$pid" && die "broker pid $pid survived SIGKILL"
  fi
  rm -f "$PID_FILE" "$ENV_FILE"
  finish_cds_archive "$killed"
  log "stopped"
}

# Class-data sharing: the JVM's first clean exit dumps the classes it loaded
# into an archive that later JVMs map instead of parsing ~6000 Scala/Kafka
# classes again; this halves start-up (about 8 s -> 4 s on 2 cores). The
# archive belongs to one set of jars and one JVM build, so it lives under
# KAFKA_HOME, keyed by JAVA_ID, and fetch deletes it with the jars it matches.
cds_archive() { printf '%s\n' "$KAFKA_HOME/cds/broker-$JAVA_ID.jsa"; }

# Prints the JVM options that use or create the archive, one per line.
cds_options() {
  local archive tmp
  [[ "$USE_CDS" != 0 ]] || return 0
  archive="$(cds_archive)"
  mkdir -p "${archive%/*}"
  # Dumps left by brokers that were never stopped cleanly; a dump in progress
  # takes seconds, so anything older than 10 minutes is abandoned.
  find "${archive%/*}" -name '*.tmp.*' -mmin +10 -delete 2>/dev/null || true
  if [[ -s "$archive" ]]; then
    printf '%s\n' "-XX:SharedArchiveFile=$archive"
  elif [[ "${1:-}" == dump ]]; then
    # The JVM writes the dump in place at exit, so it goes to a private name
    # and stop renames it only once the broker is gone: no JVM ever maps a
    # half-written archive.
    tmp="$archive.tmp.$$.$RANDOM"
    printf '%s\n' "$tmp" >"$CDS_PENDING"
    printf '%s\n' "-XX:ArchiveClassesAtExit=$tmp"
  fi
}

finish_cds_archive() {
  local killed="$1" tmp
  [[ -f "$CDS_PENDING" ]] || return 0
  tmp="$(cat "$CDS_PENDING")"
  rm -f "$CDS_PENDING"
  if [[ "$killed" == 0 && "$tmp" == *.jsa.tmp.* && -s "$tmp" ]]; then
    mv -f "$tmp" "${tmp%.tmp.*}"
    log "saved class-data-sharing archive ${tmp%.tmp.*} for faster starts"
  else
    rm -f "$tmp"
  fi
}

port_owner() {
  local owner
  command -v ss >/dev/null 2>&1 || return 0
  owner="$(ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'users:.*' | head -n 1)" || true
  [[ -z "$owner" ]] || printf ' (%s)' "$owner"
}

write_config() {
  cat >"$RUN_DIR/server.properties" <<EOF
# Generated by deploy/kafka.sh on every start; edit the script, not this file.
node.id=1
process.roles=broker,controller
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
# Dynamic quorum (KIP-853), the 4.x default; pairs with 'format --standalone'.
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT

log.dirs=$RUN_DIR/data

# The application creates its own topics; auto-creation would hide bugs there.
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
min.insync.replicas=1

# One node: every internal topic must live with a single replica, or
# consumer groups, transactions and share groups never become available.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fewer partitions for internal topics make the first group/transaction in a
# test faster to set up; there is only one broker to spread them over anyway.
offsets.topic.num.partitions=5
transaction.state.log.num.partitions=5

# Tests should not wait 3 s for every first consumer-group join.
group.initial.rebalance.delay.ms=0
# Exactly-once tests rely on timed-out transactions being aborted promptly.
transaction.abort.timed.out.transaction.cleanup.interval.ms=5000
transaction.max.timeout.ms=900000
EOF

  # Properties format rather than Kafka's log4j2.yaml: no YAML parser needed.
  cat >"$RUN_DIR/log4j2.properties" <<EOF
# Generated by deploy/kafka.sh.
status = warn
name = newswire-kafka
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = \${sys:newswire.kafka.logfile}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = $LOG_LEVEL
rootLogger.appenderRef.file.ref = FILE
# One line per request at INFO would drown everything else.
logger.request.name = kafka.request.logger
logger.request.level = WARN
EOF
}

show_logs() {
  local f
  for f in "$CONSOLE_LOG" "$SERVER_LOG"; do
    if [[ -s "$f" ]]; then
      printf -- '--- last 50 lines of %s ---\n' "$f" >&2
      tail -n 50 "$f" >&2
    fi
  done
}

# A half-started broker is useless to callers and would block the ports.
abort_start() {
  show_logs
  kill -KILL "$1" 2>/dev/null || true
  rm -f "$PID_FILE"
  finish_cds_archive 1
  die "$2 (logs in $LOG_DIR)"
}

start() {
  local mode="${1:-fresh}" t0 java cluster_id port
  local -a cds_format cds_broker
  t0="$(now)"
  check_java
  fetch
  lock "$RUN_DIR/.lock"

  # A fresh cluster on every start: stop whatever this run dir still runs.
  if running_pid >/dev/null; then
    stop_broker
  fi
  for port in "$PORT" "$CONTROLLER_PORT"; do
    if port_open "$port"; then
      die "port $port on $HOST is already in use by another process$(port_owner "$port"); stop it or set NEWSWIRE_KAFKA_PORT / NEWSWIRE_KAFKA_CONTROLLER_PORT"
    fi
  done
  [[ "$PORT" != "$CONTROLLER_PORT" ]] || die "NEWSWIRE_KAFKA_PORT and NEWSWIRE_KAFKA_CONTROLLER_PORT are both $PORT"

  java="$(java_bin)"
  if [[ "$mode" == resume ]]; then
    # The same cluster on the same data: what a restarted broker sees.
    [[ -f "$RUN_DIR/data/meta.properties" ]] || die "no broker data in $RUN_DIR/data to resume (run start first)"
    rm -f "$PID_FILE" "$ENV_FILE"
    mkdir -p "$LOG_DIR"
    mapfile -t cds_broker < <(cds_options)
    launch "$t0" "$java" "${cds_broker[@]}"
    return
  fi

  rm -rf "$RUN_DIR/data" "$LOG_DIR" "$PID_FILE" "$ENV_FILE" "$CDS_PENDING"
  mkdir -p "$RUN_DIR/data" "$LOG_DIR"
  write_config

  mapfile -t cds_format < <(cds_options)
  mapfile -t cds_broker < <(cds_options dump)
  # A Kafka cluster id is 16 random bytes in URL-safe base64 without padding,
  # which is what 'kafka-storage.sh random-uuid' prints; doing it here saves a
  # JVM. Like Kafka's Uuid.randomUuid() we reject ids starting with '-': the
  # storage tool's argument parser would take such an id for an option.
  cluster_id=-
  while [[ "$cluster_id" == -* ]]; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done
  # shellcheck disable=SC2086 # JAVA_OPTS is a list of options on purpose
  if ! "$java" $JAVA_OPTS "${cds_format[@]}" \
      -Dlog4j2.configurationFile="$RUN_DIR/log4j2.properties" \
      -Dnewswire.kafka.logfile="$LOG_DIR/format.log" \
      -cp "$LIBS/*" kafka.tools.StorageTool format \
      --config "$RUN_DIR/server.properties" --cluster-id "$cluster_id" --standalone \
      >"$LOG_DIR/format.out" 2>&1 9>&-; then
    cat "$LOG_DIR/format.out" >&2
    die "formatting KRaft storage in $RUN_DIR/data failed (kafka.tools.StorageTool format)"
  fi
  launch "$t0" "$java" "${cds_broker[@]}"
}

# Starts the broker on the formatted data and waits until it is ready.
launch() {
  local t0="$1" java="$2" pid deadline
  shift 2
  local -a cds_broker=("$@")

  # setsid: the broker must survive the caller's Ctrl-C and terminal; its
  # stdio is redirected so that $(deploy/kafka.sh start) does not wait for it.
  # shellcheck disable=SC2086 # JAVA_OPTS is a list of options on purpose
  setsid "$java" $JAVA_OPTS "${cds_broker[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$RUN_DIR/log4j2.properties" \
    -Dnewswire.kafka.logfile="$SERVER_LOG" \
    -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$LIBS/*" kafka.Kafka "$RUN_DIR/server.properties" \
    </dev/null >"$CONSOLE_LOG" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"

  # Ready means the broker says so AND clients can connect: the log line alone
  # can precede the socket server accepting, the port alone can precede the
  # controller having elected itself.
  deadline=$((SECONDS + START_TIMEOUT_S))
  while :; do
    # alive, not kill -0: until this script exits a dead broker is our zombie.
    alive "$pid" || abort_start "$pid" "broker (pid $pid) exited during start-up"
    if grep -q 'Kafka Server started' "$SERVER_LOG" 2>/dev/null && port_open "$PORT"; then
      break
    fi
    ((SECONDS < deadline)) \
      || abort_start "$pid" "broker did not become ready within ${START_TIMEOUT_S}s"
    sleep 0.1
  done
  # kcat's -t is the topic, not a timeout: -m bounds the metadata request.
  if command -v kcat >/dev/null 2>&1 && ! kcat -L -b "$HOST:$PORT" -m 5 >/dev/null 2>&1; then
    abort_start "$pid" "broker accepts connections but 'kcat -L -b $HOST:$PORT' fails"
  fi

  printf 'export NEWSWIRE_KAFKA_BOOTSTRAP=%s:%s\n' "$HOST" "$PORT" >"$ENV_FILE"
  log "started in $(elapsed "$t0") s (pid $pid, logs in $LOG_DIR)"
  cat "$ENV_FILE"
}

# A hard stop, as a crashed or killed broker: SIGKILL, no controlled shutdown.
kill_broker() {
  local pid i
  if ! pid="$(running_pid)"; then
    log "not running"
    return 0
  fi
  log "killing broker pid $pid"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  alive "$pid" && die "broker pid $pid survived SIGKILL"
  rm -f "$PID_FILE" "$ENV_FILE"
}

status() {
  local pid
  if pid="$(running_pid)" && [[ -f "$ENV_FILE" ]]; then
    log "running (pid $pid)"
    cat "$ENV_FILE"
    return 0
  fi
  log "not running"
  return 1
}

main() {
  case "${1:-}" in
    fetch) check_java; fetch ;;
    start) start ;;
    resume) start resume ;;
    stop) lock "$RUN_DIR/.lock"; stop_broker ;;
    kill) kill_broker ;;
    status) status ;;
    *)
      printf 'usage: %s fetch|start|resume|stop|kill|status\n' "$0" >&2
      exit 2
      ;;
  esac
}

main "$@"
