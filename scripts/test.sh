#!/usr/bin/env bash
# Every check CI runs, in order: formatting, lints, the build, then the unit and integration
# tests against a real Kafka broker that this script starts (deploy/kafka.sh) and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The integration tests run the service binaries as separate processes: build them all.
cargo build --workspace --bins --locked

broker_env=$(deploy/kafka.sh start)
eval "$broker_env"
trap 'deploy/kafka.sh stop' EXIT
echo "kafka: ${NEWSWIRE_KAFKA_BOOTSTRAP}" >&2

cargo test --workspace --locked
