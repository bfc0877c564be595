#!/usr/bin/env python3
"""Deduper benchmark: `newswire dedup` (release) against Python datasketch MinHashLSH.

Both tools read the same JSON-lines files in the same run: first PRELOAD distinct articles
(so that the index holds that many fingerprints), then a measured stream of MEASURED articles
(a third of them near copies of preloaded ones, the rest new). Reported per tool: articles/s
over the measured stream (with PRELOAD fingerprints in memory; both are single-threaded, so
this is per core), articles/s over the preload, and memory per remembered article (peak RSS
growth / articles). Medians of RUNS runs, and the ratio newswire / datasketch.

Usage: bench.py [--preload 1000000] [--measured 20000] [--runs 3] [--binary PATH] [--python PATH]
See README.md in this directory.
"""

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CORPUS = os.path.abspath(os.path.join(ROOT, "..", "shared", "corpus", "news_items.jsonl"))

WORD = re.compile(r"\w+", re.UNICODE)


def vocabulary():
    """Words of the real news items, by frequency (so that generated text has news-like word statistics)."""
    counts = {}
    with open(CORPUS, encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            for w in WORD.findall(((item.get("title") or "") + " " + (item.get("summary") or "")).lower()):
                counts[w] = counts.get(w, 0) + 1
    words = sorted(counts, key=lambda w: (-counts[w], w))
    weights = [counts[w] for w in words]
    return words, weights


def generate(path_preload, path_measured, preload, measured, seed=20261128):
    rng = random.Random(seed)
    words, weights = vocabulary()
    cum = []
    total = 0
    for w in weights:
        total += w
        cum.append(total)

    def sample(n):
        return rng.choices(words, cum_weights=cum, k=n)

    kept = []  # a sample of preloaded docs to copy from
    with open(path_preload, "w", encoding="utf-8") as out:
        for i in range(preload):
            title = " ".join(sample(8))
            text = " ".join(sample(60))
            out.write(json.dumps({"url": f"https://bench{i % 97}.example/a/{i}", "title": title, "text": text}) + "\n")
            if i % 50 == 0:
                kept.append((title, text))
    with open(path_measured, "w", encoding="utf-8") as out:
        for i in range(measured):
            if i % 3 == 0:
                title, text = kept[rng.randrange(len(kept))]
                ws = text.split()
                for _ in range(4):  # a few words changed, a tail added: a near copy
                    ws[rng.randrange(len(ws))] = sample(1)[0]
                text = " ".join(ws) + " read more on our website"
            else:
                title, text = " ".join(sample(8)), " ".join(sample(60))
            out.write(json.dumps({"url": f"https://copy{i % 89}.example/b/{i}", "title": title, "text": text}) + "\n")


def rss_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def run_newswire(binary, preload_file, measured_file, preload):
    """Runs `newswire dedup` on preload + measured (one process); returns (measured/s, preload/s, bytes/article)."""
    # /usr/bin/time reports this process's own peak RSS. (getrusage(RUSAGE_CHILDREN) would
    # report the largest of every child so far, datasketch's of an earlier run included.)
    cmd = ["/usr/bin/time", "-f", "RUSAGE %M", binary, "dedup", "--stats", "--measure-after", str(preload), "-"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Feed both files through stdin (the tool reads stdin when FILE is "-" or absent).
    with open(preload_file, "rb") as a, open(measured_file, "rb") as b:
        for f in (a, b):
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                proc.stdin.write(chunk)
    proc.stdin.close()
    stderr = proc.stderr.read().decode()
    proc.wait()
    if proc.returncode != 0:
        sys.exit(f"newswire dedup failed: {stderr}")
    peak = int([l for l in stderr.splitlines() if l.startswith("RUSAGE ")][-1].split()[1]) * 1024
    m = re.search(r"measured: (\d+) records in ([\d.]+) s; preload: (\d+) records in ([\d.]+) s", stderr)
    if not m:
        sys.exit(f"no measurement in: {stderr}")
    measured_rate = int(m.group(1)) / float(m.group(2))
    preload_rate = int(m.group(3)) / float(m.group(4))
    est = re.search(r"(\d+) articles remembered, (\d+) bytes", stderr)
    remembered = int(est.group(1))
    return measured_rate, preload_rate, peak / remembered, int(est.group(2)) / remembered


DATASKETCH = r'''
import json, re, sys, time, resource
from datasketch import MinHash, MinHashLSH
WORD = re.compile(r"\w+", re.UNICODE)
def shingles(title, text):
    ws = WORD.findall((title + " " + text).lower())
    if len(ws) <= 3:
        return {" ".join(ws).encode()} if ws else set()
    return {" ".join(ws[i:i + 3]).encode() for i in range(len(ws) - 2)}
lsh = MinHashLSH(threshold=0.5, num_perm=64)
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
def run(path, offset):
    n = dups = 0
    for line in open(path, encoding="utf-8"):
        d = json.loads(line)
        m = MinHash(num_perm=64)
        m.update_batch(list(shingles(d["title"], d["text"])))
        if lsh.query(m):
            dups += 1
        lsh.insert(str(offset + n), m, check_duplication=False)
        n += 1
    return n, dups
base = rss()
t = time.perf_counter(); pn, _ = run(sys.argv[1], 0); pt = time.perf_counter() - t
after = rss()
t = time.perf_counter(); mn, dups = run(sys.argv[2], pn); mt = time.perf_counter() - t
print(json.dumps({"preload": pn, "preload_s": pt, "measured": mn, "measured_s": mt, "dups": dups,
                  "bytes_per_article": (after - base) / pn}))
'''


def run_datasketch(python, preload_file, measured_file):
    out = subprocess.run([python, "-c", DATASKETCH, preload_file, measured_file], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"datasketch failed: {out.stderr}")
    r = json.loads(out.stdout)
    return r["measured"] / r["measured_s"], r["preload"] / r["preload_s"], r["bytes_per_article"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--preload", type=int, default=1_000_000)
    p.add_argument("--measured", type=int, default=20_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--binary", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "newswire"))
    p.add_argument("--python", default=os.path.expanduser("~/.cache/newswire/venv-deduper/bin/python"))
    p.add_argument("--workdir", default=None)
    args = p.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="dedup-bench-")
    os.makedirs(work, exist_ok=True)
    pre, mea = os.path.join(work, "preload.jsonl"), os.path.join(work, "measured.jsonl")
    if not (os.path.exists(pre) and os.path.exists(mea)):
        print(f"generating {args.preload} + {args.measured} articles in {work} ...", flush=True)
        generate(pre, mea, args.preload, args.measured)
    results = {"newswire": [], "datasketch": []}
    for run in range(args.runs):
        n = run_newswire(args.binary, pre, mea, args.preload)
        results["newswire"].append(n)
        print(f"run {run + 1} newswire dedup: {n[0]:.0f} articles/s measured, {n[1]:.0f}/s preload, "
              f"{n[2]:.0f} B/article peak RSS, {n[3]:.0f} B/article estimated", flush=True)
        d = run_datasketch(args.python, pre, mea)
        results["datasketch"].append(d)
        print(f"run {run + 1} datasketch MinHashLSH: {d[0]:.0f} articles/s measured, {d[1]:.0f}/s preload, "
              f"{d[2]:.0f} B/article RSS growth", flush=True)
    med = {k: [statistics.median(x[i] for x in v) for i in range(len(v[0]))] for k, v in results.items()}
    n, d = med["newswire"], med["datasketch"]
    print()
    print(f"fingerprints in memory: {args.preload}; measured stream: {args.measured}; runs: {args.runs} (medians)")
    print(f"{'tool':<24}{'articles/s (1 core)':>22}{'preload articles/s':>20}{'bytes/article':>16}")
    print(f"{'newswire dedup':<24}{n[0]:>22.0f}{n[1]:>20.0f}{n[2]:>16.0f}")
    print(f"{'datasketch MinHashLSH':<24}{d[0]:>22.0f}{d[1]:>20.0f}{d[2]:>16.0f}")
    print(f"ratio newswire/datasketch: throughput x{n[0] / d[0]:.1f}, memory per article x{n[2] / d[2]:.2f}")


if __name__ == "__main__":
    main()
