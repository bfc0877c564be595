#!/usr/bin/env bash
# The tagger benchmark: articles per second on one core with 10, 1,000 and 10,000 topics,
# newswire's tagger and Lucene Monitor side by side on the same queries and documents, in the
# same run. See README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${OUT:-$ROOT/bench/tagger/out}
RUNS=${RUNS:-5}
SIZES=${SIZES:-"10 1000 10000"}
ITEMS=${ITEMS:-$ROOT/../shared/corpus/news_items.jsonl}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

# The tagger crate optimised (opt-level 3, no debug assertions) inside the dev profile, whose
# dependencies are already built at opt-level 2: a release build would rebuild librdkafka.
cargo build -q -p tagger --example tagger_bench \
  --config 'profile.dev.package.tagger.opt-level=3' \
  --config 'profile.dev.package.tagger.debug-assertions=false' \
  --config 'profile.dev.package.tagger.overflow-checks=false'
BENCH=$CARGO_TARGET_DIR/debug/examples/tagger_bench
(cd bench/tagger/monitor && mvn -q -B package)
CP="bench/tagger/monitor/target/monitor-bench-1.jar:bench/tagger/monitor/target/lib/*"

"$BENCH" generate deploy/gazetteer "$ITEMS" "$OUT" $SIZES
: > "$OUT/results.jsonl"
for n in $SIZES; do
  # One core each, one after the other.
  taskset -c 0 "$BENCH" run "$OUT/topics-$n.yaml" "$OUT/docs.jsonl" "$RUNS" | tee -a "$OUT/results.jsonl"
  taskset -c 0 java -XX:ActiveProcessorCount=1 -Xmx2g -cp "$CP" newswire.bench.MonitorBench \
    "$OUT/topics-$n.json" "$OUT/docs.jsonl" "$RUNS" | tee -a "$OUT/results.jsonl"
done
python3 - "$OUT/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["topics"], {})[r["engine"]] = r
print(f"{'topics':>7} {'newswire docs/s':>16} {'monitor docs/s':>15} {'ratio':>6} {'matches nw/mon':>16} {'compile s nw/mon':>17}")
for n in sorted(by):
    a, b = by[n]["newswire"], by[n]["lucene-monitor"]
    ratio = a["median_docs_per_sec"] / b["median_docs_per_sec"]
    print(f"{n:>7} {a['median_docs_per_sec']:>16.0f} {b['median_docs_per_sec']:>15.0f} {ratio:>6.1f} "
          f"{str(a['matches'])+'/'+str(b['matches']):>16} {str(a['compile_seconds'])+'/'+str(b['compile_seconds']):>17}")
PY
