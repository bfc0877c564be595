#!/usr/bin/env bash
# Benchmark: `newswire extract` vs Python trafilatura on the same pages, in the same run.
# Usage: bench/cleaner/run.sh [RUNS]   (from anywhere; RUNS defaults to 3)
# Builds `newswire` in release mode (CARGO_TARGET_DIR is honoured), or times NEWSWIRE_BIN when
# set. NEWSWIRE_BENCH_LIGHT=1 times `extractor-compare extract` instead (compare/: the
# cleaner's page extraction alone, without the record around it; a much smaller build).
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
if [[ -z $bin && ${NEWSWIRE_BENCH_LIGHT:-0} == 1 ]]; then
  (cd "$root/bench/cleaner/compare" && cargo build --release --locked)
  bin=${CARGO_TARGET_DIR:-$root/bench/cleaner/compare/target}/release/extractor-compare
elif [[ -z $bin ]]; then
  (cd "$root" && cargo build --release --locked -p newswire)
  bin=${CARGO_TARGET_DIR:-$root/target}/release/newswire
fi
uptime
"$venv/bin/python" "$root/bench/cleaner/bench.py" --newswire "$bin" --corpus "$corpus" --runs "$runs"
