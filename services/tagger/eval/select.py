#!/usr/bin/env python3
"""Deterministic selection of the topic-tagger dev set (Python stdlib only).

Usage (from this directory): python3 select.py > selected.jsonl
       (defaults: --n 460 --seed 20261128; --no-boost gives stage 1 only)

* Reads ../../../../shared/corpus/news_items.jsonl (the corpus beside the checkout).
* Skips exact duplicate (title, summary) pairs (first occurrence in file order kept).
* Year = 2021 for gesab001/headlines, 2022 for RSS-Link-Database-2022 and mediacloud,
  2023 for RSS-Link-Database-2023 (published is unreliable / null for some items).
* Stage 1 (n=460): pool K = items whose title+summary (HTML stripped) match KEYWORDS;
  pool O = all other items. 60% of n from K, 40% from O, each stratified by year
  proportionally to the pool's year sizes (largest remainder), sampled with random.Random(seed).
  Written in original file line order.
* Stage 2 (appended after stage 1, so stage-1 positions never move): every remaining item
  matching RARE (nato/taiwan/sanctions/xinjiang/hong kong/tibet/energy-supply words), plus
  round(2/3 * that) further O items (same rng, stratified by year), in file line order.
* Each output line is the original item plus "_line" (0-based line in news_items.jsonl) and
  "_pool" (K, O, R = stage-2 rare, O2 = stage-2 other); build.py drops both in topics-dev.jsonl.
"""
import os
import argparse
import html
import json
import random
import re
import sys

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../../shared/corpus/news_items.jsonl")
KEYWORDS = re.compile(
    r"\b(russia|russian|russians|moscow|kremlin|putin|china|chinese|beijing|xi|ukraine|ukrainian|"
    r"ukrainians|kyiv|kiev|zelensky|zelenskyy|taiwan|taiwanese|nato|sanction\w*|xinjiang|uyghurs?|"
    r"uighurs?|hong kong|gas|oil|pipelines?|opec\+?|energy)\b",
    re.I,
)

# stage-2 boost for the rarer topics
RARE = re.compile(
    r"\b(nato|taiwan\w*|sanction\w*|xinjiang|uyghurs?|uighurs?|hong kong|tibet\w*|opec\+?|"
    r"pipelines?|nord stream|lng|price cap|gas (?:supply|supplies|prices?)|oil prices?|energy (?:crisis|bills?|prices?|security))\b",
    re.I,
)


def strip_html(s):
    s = re.sub(r"<[^>]+>", " ", s or "")
    return re.sub(r"\s+", " ", html.unescape(s)).strip()


def year_of(d):
    repo = d["source_repo"]
    if repo.startswith("gesab001"):
        return 2021
    if repo.endswith("2023"):
        return 2023
    return 2022


def allocate(total, sizes):
    """Largest-remainder proportional allocation of total over dict sizes."""
    s = sum(sizes.values())
    raw = {k: total * v / s for k, v in sizes.items()}
    out = {k: int(r) for k, r in raw.items()}
    rest = total - sum(out.values())
    for k in sorted(raw, key=lambda k: (-(raw[k] - out[k]), k))[:rest]:
        out[k] += 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=460)
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--no-boost", action="store_true", help="stage 1 only")
    a = ap.parse_args()

    seen = set()
    pools = {"K": {}, "O": {}}
    for i, line in enumerate(open(CORPUS, encoding="utf-8")):
        d = json.loads(line)
        key = (d.get("title") or "", d.get("summary") or "")
        if key in seen:
            continue
        seen.add(key)
        text = strip_html(d.get("title")) + " " + strip_html(d.get("summary"))
        pool = "K" if KEYWORDS.search(text) else "O"
        d["_line"] = i
        d["_pool"] = pool
        d["_text"] = text
        pools[pool].setdefault(year_of(d), []).append(d)

    rng = random.Random(a.seed)
    n_k = round(a.n * 0.6)
    want = {"K": n_k, "O": a.n - n_k}
    chosen = []
    for pool in ("K", "O"):
        by_year = pools[pool]
        alloc = allocate(want[pool], {y: len(v) for y, v in by_year.items()})
        for y in sorted(by_year):
            chosen.extend(rng.sample(by_year[y], alloc[y]))
    chosen.sort(key=lambda d: d["_line"])
    stage1 = len(chosen)
    if not a.no_boost:
        # Stage 2 (appended after stage 1, so stage-1 positions never move): the rare topics
        # (nato, taiwan, sanctions, xinjiang/hong kong, energy supply) have few positives in a
        # 460-item random draw, so add EVERY remaining item matching RARE, plus other-pool items
        # (2 per 3 rare items, same seeded rng, stratified by year) to keep roughly 60/40.
        taken = {d["_line"] for d in chosen}
        rest = [d for p in pools.values() for v in p.values() for d in v if d["_line"] not in taken]
        rare = sorted((d for d in rest if RARE.search(d["_text"])), key=lambda d: d["_line"])
        for d in rare:
            d["_pool"] = "R"
        n_o = round(len(rare) * 2 / 3)
        o_left = {}
        for d in rest:
            if d["_pool"] == "O":
                o_left.setdefault(year_of(d), []).append(d)
        for v in o_left.values():
            v.sort(key=lambda d: d["_line"])
        alloc = allocate(n_o, {y: len(v) for y, v in o_left.items()})
        extra = []
        for y in sorted(o_left):
            extra.extend(rng.sample(o_left[y], alloc[y]))
        extra.sort(key=lambda d: d["_line"])
        for d in extra:
            d["_pool"] = "O2"
        chosen.extend(sorted(rare + extra, key=lambda d: d["_line"]))
    for d in chosen:
        d.pop("_text", None)
        sys.stdout.write(json.dumps(d, ensure_ascii=False) + "\n")
    print(
        "pool sizes: "
        + ", ".join(f"{p}{y}={len(v)}" for p in pools for y, v in sorted(pools[p].items()))
        + f"; stage1 {stage1}; selected {len(chosen)}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
