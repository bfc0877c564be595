#!/usr/bin/env python3
"""Select NEREL (Russian Wikinews) documents for the Russian topic evaluation set.

Stdlib only, deterministic. Writes JSONL to stdout, one selected document per line:
  {"id": "nerel:<stem>", "title", "text", "half", "pool"}

  python3 select.py > selected.jsonl          # default corpus path
  python3 select.py --corpus DIR --stats      # per pool/half counts on stderr

* A document is `<split>/<stem>.txt` of the corpus's `multilingual/nerel` (train and dev): its
  title on the first line, then the body.
* half: the first byte of sha256("newswire-split-1:nerel:<stem>") odd -> "measure", else
  "tune" (the split of the entity evaluation and of the deduper's, so one document is on one
  side everywhere).
* pool "K": the title or the first 600 characters of the text match KEYWORDS (below).
  pool "O": a 25% sample of the remaining documents, random.Random(20261203), one draw per
  non-K document in order of stem.
"""
import argparse
import hashlib
import json
import os
import random
import re
import sys

DEFAULT_CORPUS = os.path.join(os.path.dirname(__file__), "../../../../../shared/corpus/multilingual/nerel")
SEED = 20261203
O_RATE = 0.25
LEAD_CHARS = 600

# Broad stems, chosen from the topic names and general knowledge of Russian news vocabulary,
# not from any tagger query. «Росси» is left out: Russia is in most of these documents.
KEYWORDS = [
    # China
    "Кита", "китайск", "КНР", "Пекин", "Си Цзиньпин", "Ху Цзиньтао",
    # Ukraine
    "Украин", "украинск", "Киев", "Донбасс", "Донецк", "Луганск", "Крым", "Порошенко", "Янукович",
    "Зеленск", "Тимошенко", "Майдан",
    # the US
    "США", "Америк", "американск", "Вашингтон", "Белый дом", "Белого дома", "Обам", "Трамп",
    "Байден", "Клинтон", "Госдеп", "Пентагон", "Сенат",
    # sanctions
    "санкци", "эмбарго", "ембарго",
    # NATO
    "НАТО", "Североатлантическ", "альянс",
    # Taiwan, Xinjiang, Hong Kong, Tibet
    "Тайван", "Синьцзян", "уйгур", "Гонконг", "Тибет", "далай",
    # energy
    "газ(?!ет)", "нефт", "ОПЕК", "энергет", "трубопровод", "Газпром", "Роснефть", "электроэнерг",
    # fora where these relations show up
    "ШОС", "БРИКС", "G20", "G8", "Совбез", "Совет Безопасности",
]
# Entries are regular expressions: «газ(?!ет)» is gas, not «газета» (a newspaper).
KEYWORD_RE = re.compile("|".join(KEYWORDS), re.IGNORECASE)


def half_of(stem):
    digest = hashlib.sha256(("newswire-split-1:nerel:" + stem).encode("utf-8")).digest()
    return "measure" if digest[0] % 2 == 1 else "tune"


def documents(corpus):
    found = []
    for split in sorted(os.listdir(corpus)):
        folder = os.path.join(corpus, split)
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            if name.endswith(".txt"):
                found.append((name[:-4], os.path.join(folder, name)))
    return sorted(found)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--stats", action="store_true")
    args = ap.parse_args()
    rng = random.Random(SEED)
    counts = {}
    for stem, path in documents(args.corpus):
        with open(path, encoding="utf-8") as f:
            raw = f.read()
        title, _, text = raw.partition("\n")
        title, text = title.strip(), text.strip()
        if KEYWORD_RE.search(title) or KEYWORD_RE.search(text[:LEAD_CHARS]):
            pool = "K"
        elif rng.random() < O_RATE:
            pool = "O"
        else:
            continue
        half = half_of(stem)
        counts[(pool, half)] = counts.get((pool, half), 0) + 1
        print(json.dumps({"id": "nerel:" + stem, "title": title, "text": text, "half": half, "pool": pool},
                         ensure_ascii=False))
    if args.stats:
        for key in sorted(counts):
            print(*key, counts[key], file=sys.stderr)


if __name__ == "__main__":
    main()
