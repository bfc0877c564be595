#!/usr/bin/env python3
"""Splits each extraction benchmark of ../shared/corpus into a part to tune on and a part
only to measure, and writes the split to bench/cleaner/splits.json.

A page goes to `measure` when the first byte of SHA-256("newswire-split-1:" + its id) is odd:
a fixed function of the id, so the split is reproducible, independent of file order, and
takes no look at the pages. Ids: the keys of scrapinghub-aeb/ground-truth.json, the
directory names of readability/, the URLs (keys) of trafilatura-eval/evaldata.json.

Run from the repository root:  python3 scripts/eval-split.py [--check]
--check exits 1 when the file in the repository differs from what the corpus gives.
"""
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus", "articles")
OUT = os.path.join(ROOT, "bench", "cleaner", "splits.json")


def part(page_id):
    digest = hashlib.sha256(("newswire-split-1:" + page_id).encode()).digest()
    return "measure" if digest[0] % 2 else "tune"


def ids():
    with open(os.path.join(CORPUS, "scrapinghub-aeb", "ground-truth.json")) as f:
        yield "scrapinghub-aeb", sorted(json.load(f))
    readability = os.path.join(CORPUS, "readability")
    yield "readability", sorted(d for d in os.listdir(readability) if os.path.isdir(os.path.join(readability, d)))
    with open(os.path.join(CORPUS, "trafilatura-eval", "evaldata.json")) as f:
        yield "trafilatura-eval", sorted(json.load(f))


def main():
    splits = {}
    for benchmark, names in ids():
        split = {"tune": [], "measure": []}
        for name in names:
            split[part(name)].append(name)
        splits[benchmark] = split
    text = json.dumps(
        {"rule": "sha256('newswire-split-1:' + id)[0] odd -> measure", "benchmarks": splits},
        indent=1,
        ensure_ascii=False,
    ) + "\n"
    if "--check" in sys.argv[1:]:
        with open(OUT) as f:
            if f.read() != text:
                print("bench/cleaner/splits.json is not what the corpus gives: run scripts/eval-split.py", file=sys.stderr)
                sys.exit(1)
        return
    with open(OUT, "w") as f:
        f.write(text)
    for benchmark, split in splits.items():
        print(f"{benchmark}: {len(split['tune'])} tune, {len(split['measure'])} measure")


if __name__ == "__main__":
    main()
