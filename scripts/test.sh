#!/usr/bin/env bash
# Every check CI runs, in order: the set-up of what a fresh machine lacks, formatting, lints,
# the build, then the unit and integration tests against a real Kafka broker that this script
# starts (deploy/kafka.sh) and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

# Whatever a fresh machine lacks (kcat, promtool, ...): installed as root, else named.
scripts/setup.sh

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The integration tests run the service binaries as separate processes: build them all.
cargo build --workspace --bins --locked

# --- deployment (issue 8): Helm chart, docker-compose, Dockerfile --------------------------------
# helm lint/template, Kubernetes schema validation, helm-unittest, checkov, compose schema.
# The tools (helm, helm-unittest, a Python venv) are built once into $NEWSWIRE_CACHE_DIR.
scripts/helm-check.sh
# --- end deployment ----------------------------------------------------------------------------
# --- observability: Prometheus rules (promtool, Debian package `prometheus`) ---
promtool check rules deploy/prometheus/newswire.rules.yaml
promtool test rules deploy/prometheus/tests/*.test.yaml
# --- end observability ---
# --- fuzzing (issue 18): every target for 15 s on its seeds and their mutants, on the debug
# build made above (overflow checks on); a finding fails here, its input saved under
# target/fuzz-artifacts/<target>/ with the command that replays it.
cargo run --locked -p fuzz --bin newswire-fuzz -- all --seconds 15
# --- end fuzzing ---

log=$(mktemp)
trap 'deploy/kafka.sh stop; rm -f "$log"' EXIT
broker_env=$(deploy/kafka.sh start)
eval "$broker_env"
echo "kafka: ${NEWSWIRE_KAFKA_BOOTSTRAP}" >&2

# cargo prints one summary per test binary; the closing line adds them up.
status=0
cargo test --workspace --locked 2>&1 | tee "$log" || status=$?
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
