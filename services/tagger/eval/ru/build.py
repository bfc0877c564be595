#!/usr/bin/env python3
"""Build a set's TSV from its selection and its labels.

  python3 select.py > selected.jsonl
  python3 build.py [--stats]               # selected.jsonl + labels-{A,B}.txt -> topics-ru.tsv
  python3 select_bsnlp.py > selected-bsnlp.jsonl
  python3 build.py --set bsnlp [--stats]   # selected-bsnlp.jsonl + labels-bsnlp-{A,B}.txt -> topics-bsnlp.tsv

A TSV: one selected document per line, `id<TAB>language<TAB>half<TAB>pool<TAB>labels`, labels
sorted and comma-separated, empty for none. The texts stay in the corpus; the evaluation reads
them from there by id.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SLUGS = {"russia-china", "ukraine", "us-china", "us-russia", "sanctions", "taiwan", "nato",
         "xinjiang-hong-kong", "energy-security"}


def read_labels(path):
    labels, done = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith("# done"):
                done = int(line.split()[2])
                continue
            if line.startswith("#"):
                continue
            doc, *slugs = line.split()
            bad = [s for s in slugs if s not in SLUGS]
            if bad or not slugs:
                sys.exit(f"{path}: bad line {line!r}")
            labels.setdefault(doc, set()).update(slugs)
    if done is None:
        sys.exit(f"{path}: no '# done N' line: the labelling did not finish")
    return labels, done


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stats", action="store_true")
    ap.add_argument("--set", choices=("nerel", "bsnlp"), default="nerel")
    args = ap.parse_args()
    suffix = "" if args.set == "nerel" else "-bsnlp"
    output = "topics-ru.tsv" if args.set == "nerel" else "topics-bsnlp.tsv"
    with open(os.path.join(HERE, f"selected{suffix}.jsonl"), encoding="utf-8") as f:
        docs = [json.loads(l) for l in f]
    labels = {}
    read = 0
    for part in ("A", "B"):
        got, done = read_labels(os.path.join(HERE, f"labels{suffix}-{part}.txt"))
        read += done
        labels.update(got)
    ids = {d["id"] for d in docs}
    stray = sorted(set(labels) - ids)
    if stray:
        sys.exit(f"labels for documents not selected: {stray[:5]}")
    if read != len(docs):
        sys.exit(f"the annotators read {read} documents, {len(docs)} are selected")
    with open(os.path.join(HERE, output), "w", encoding="utf-8") as out:
        for d in docs:
            fields = [d["id"], d.get("language", "ru"), d["half"], d["pool"], ",".join(sorted(labels.get(d["id"], ())))]
            out.write("\t".join(fields) + "\n")
    if args.stats:
        counts = {}
        for d in docs:
            for s in labels.get(d["id"], ()):
                counts[(s, d["half"])] = counts.get((s, d["half"]), 0) + 1
        for s in sorted(SLUGS):
            print(f"{s:20} tune {counts.get((s, 'tune'), 0):3} measure {counts.get((s, 'measure'), 0):3}")


if __name__ == "__main__":
    main()
