#!/usr/bin/env bash
# Benchmark: the cleaner's extraction vs Python trafilatura on the same pages, in the same run.
# Usage: bench/cleaner/run.sh [RUNS]   (from anywhere; RUNS defaults to 3)
# By default the Rust side is `extractor-compare extract` (compare/: the cleaner's own
# extraction source files in a light release binary). Set NEWSWIRE_BIN to a release build of
# `newswire` to time `newswire extract` itself (cargo build --release -p newswire).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-3}
venv=${NEWSWIRE_CLEANER_VENV:-$HOME/.cache/newswire/venv-cleaner}
corpus=${NEWSWIRE_CORPUS_DIR:-$root/../shared/corpus}/articles
if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'trafilatura==2.0.0' 'lxml_html_clean'
fi
bin=${NEWSWIRE_BIN:-}
if [[ -z $bin ]]; then
  (cd "$root/bench/cleaner/compare" && cargo build --release --locked)
  bin=${CARGO_TARGET_DIR:-$root/bench/cleaner/compare/target}/release/extractor-compare
fi
uptime
"$venv/bin/python" "$root/bench/cleaner/bench.py" --newswire "$bin" --corpus "$corpus" --runs "$runs"
