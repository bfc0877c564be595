#!/usr/bin/env python3
"""selected.jsonl + labels_raw.txt -> topics-zh.jsonl (stdlib only).

  python3 select.py > selected.jsonl && python3 build.py

Each output line: {"id", "date", "half", "pool", "title", "text", "labels": [sorted slugs],
"labelled": true}. Items absent from labels_raw.txt get "labels": []. "labelled" says whether
the item's day was read by the annotator (all 121 days were, so it is always true; it is kept
so that a partial re-labelling can mark unread days false). --stats prints counts on stderr.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SLUGS = {"russia-china", "ukraine", "us-china", "us-russia", "sanctions", "taiwan", "nato",
         "xinjiang-hong-kong", "energy-security"}
# Days (YYYYMMDD) whose items were all read. None = every day in selected.jsonl.
LABELLED_DAYS = None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--selected", default=os.path.join(HERE, "selected.jsonl"))
    ap.add_argument("--labels", default=os.path.join(HERE, "labels_raw.txt"))
    ap.add_argument("--out", default=os.path.join(HERE, "topics-zh.jsonl"))
    ap.add_argument("--stats", action="store_true")
    args = ap.parse_args()

    items = [json.loads(l) for l in open(args.selected, encoding="utf-8") if l.strip()]
    ids = {it["id"] for it in items}
    labels = {}
    for n, line in enumerate(open(args.labels, encoding="utf-8"), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        iid, slugs = parts[0], parts[1:]
        if iid not in ids:
            sys.exit("labels_raw.txt:%d: unknown id %s" % (n, iid))
        if iid in labels:
            sys.exit("labels_raw.txt:%d: duplicate id %s" % (n, iid))
        bad = [s for s in slugs if s not in SLUGS]
        if bad or not slugs:
            sys.exit("labels_raw.txt:%d: bad slugs %r" % (n, bad or slugs))
        labels[iid] = sorted(set(slugs))

    counts = {}
    with open(args.out, "w", encoding="utf-8") as out:
        for it in items:
            day = it["id"].split(":")[1]
            rec = {"id": it["id"], "date": it["date"], "half": it["half"], "pool": it["pool"],
                   "title": it["title"], "text": it["text"],
                   "labels": labels.get(it["id"], []),
                   "labelled": LABELLED_DAYS is None or day in LABELLED_DAYS}
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            for key in [("items", it["half"]), ("items", it["pool"])]:
                counts[key] = counts.get(key, 0) + 1
            for s in rec["labels"]:
                for key in [(s, it["half"]), (s, it["pool"]), (s, "all")]:
                    counts[key] = counts.get(key, 0) + 1
            if rec["labels"]:
                for key in [("any", it["half"]), ("any", it["pool"]), ("any", "all")]:
                    counts[key] = counts.get(key, 0) + 1
    if args.stats:
        cols = ["all", "tune", "measure", "K", "O"]
        print("%-20s %s" % ("topic", " ".join("%7s" % c for c in cols)), file=sys.stderr)
        for s in sorted(SLUGS) + ["any"]:
            print("%-20s %s" % (s, " ".join("%7d" % counts.get((s, c), 0) for c in cols)),
                  file=sys.stderr)
        print("items: %d (tune %d, measure %d; K %d, O %d)" % (
            len(items), counts.get(("items", "tune"), 0), counts.get(("items", "measure"), 0),
            counts.get(("items", "K"), 0), counts.get(("items", "O"), 0)), file=sys.stderr)


if __name__ == "__main__":
    main()
