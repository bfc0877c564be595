#!/usr/bin/env python3
"""Fetcher benchmark: polling 10,000 local feeds, and corpus parse rate against feedparser.

Usage (from the repository root):
    python3 -m venv $HOME/.cache/newswire/venv-fetcher
    $HOME/.cache/newswire/venv-fetcher/bin/pip install feedparser==6.0.11
    CARGO_TARGET_DIR=... cargo build --release -p fetcher --example bench
    $HOME/.cache/newswire/venv-fetcher/bin/python bench/fetcher/run.py [--runs 5] [--feeds 10000]

Prints each run's figures and the medians as JSON.
"""

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus", "feeds")


def bench_binary(profile):
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    path = os.path.join(target, profile, "examples", "bench")
    if not os.path.exists(path):
        sys.exit(f"build it first: cargo build --release -p fetcher --example bench ({path} missing)")
    return path


def corpus_files():
    files = []
    for path in sorted(glob.glob(os.path.join(CORPUS, "**", "*"), recursive=True)):
        if os.path.isfile(path) and not path.endswith((".serde.json", "_expected.json")):
            files.append(path)
    return files


def poll_run(binary, feeds):
    server = subprocess.Popen([binary, "serve", str(feeds), "30"], stdout=subprocess.PIPE, text=True)
    try:
        base = server.stdout.readline().split()[0]
        started = time.time()
        # /usr/bin/time measures the poll process alone (the server is a separate process).
        out = subprocess.run(
            ["/usr/bin/time", "-f", "RUSAGE %U %S %M", binary, "poll", base, str(feeds)],
            capture_output=True, text=True, check=True,
        )
        wall = time.time() - started
    finally:
        server.kill()
        server.wait()
    result = json.loads(out.stdout)
    usage = [line for line in out.stderr.splitlines() if line.startswith("RUSAGE ")][-1].split()
    cpu = float(usage[1]) + float(usage[2])
    polls = 2 * feeds
    warm = result["rounds"][1]
    return {
        "warm_feeds_per_sec": warm["feeds_per_sec"],
        "warm_outcomes": warm["outcomes"],
        "cold_feeds_per_sec": result["rounds"][0]["feeds_per_sec"],
        "cpu_ms_per_poll": 1000 * cpu / polls,
        "peak_rss_mb": int(usage[3]) / 1024,
        "wall_seconds": wall,
    }


def rust_parse(binary, files, runs):
    out = subprocess.run([binary, "parse", str(runs), *files], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    return [r["mb_per_sec"] for r in result["runs"]], result["bytes"]


def feedparser_parse(files, runs):
    import feedparser

    docs = [open(f, "rb").read() for f in files]
    total = sum(len(d) for d in docs)
    rates = []
    for _ in range(runs):
        started = time.perf_counter()
        for doc in docs:
            feedparser.parse(doc)
        rates.append(total / 1e6 / (time.perf_counter() - started))
    return rates, total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--feeds", type=int, default=10000)
    parser.add_argument("--profile", default="release", help="release, or debug (dependencies optimised, our code not)")
    parser.add_argument("--parse-only", action="store_true", help="skip the polling runs")
    args = parser.parse_args()
    binary = bench_binary(args.profile)
    files = corpus_files()

    polls = [] if args.parse_only else [poll_run(binary, args.feeds) for _ in range(args.runs)]
    for p in polls:
        print(json.dumps({"poll_run": p}))
    # Alternate the two parsers run by run, so that a noisy neighbour slows both alike.
    rust, python = [], []
    for _ in range(args.runs):
        # One pass over the corpus takes the Rust parser tens of milliseconds: each run's
        # figure is the median of five passes (feedparser's one pass takes about a second).
        r, total = rust_parse(binary, files, 5)
        f, _ = feedparser_parse(files, 1)
        rust.append(statistics.median(r))
        python += f
    print(json.dumps({"parse_runs": {"rust_mb_per_sec": rust, "feedparser_mb_per_sec": python, "bytes": total, "files": len(files)}}))
    median = statistics.median
    summary = {"feeds": args.feeds, "runs": args.runs, "profile": args.profile}
    if polls:
        summary.update({
            "warm_feeds_per_sec_median": median(p["warm_feeds_per_sec"] for p in polls),
            "cold_feeds_per_sec_median": median(p["cold_feeds_per_sec"] for p in polls),
            "cpu_ms_per_poll_median": median(p["cpu_ms_per_poll"] for p in polls),
            "peak_rss_mb_median": median(p["peak_rss_mb"] for p in polls),
        })
    summary.update({
        "parse_rust_mb_per_sec_median": median(rust),
        "parse_feedparser_mb_per_sec_median": median(python),
        "parse_ratio": median(rust) / median(python),
        "parse_ratio_per_run": [r / f for r, f in zip(rust, python)],
    })
    print(json.dumps({"summary": summary}, indent=2))


if __name__ == "__main__":
    main()
