#!/usr/bin/env python3
"""Select BSNLP's Russian and Ukrainian news for the topic evaluation: every document.

Stdlib only, deterministic. Writes JSONL to stdout, one document per line:
  {"id": "bsnlp:<topic>/raw/<lang>/<file>", "language": "ru"|"uk", "title", "text", "half", "pool"}

  python3 select_bsnlp.py > selected-bsnlp.jsonl

* A raw file holds the document id, the language, the date, the URL and the title, one per
  line, then the text (the corpus README, `bsnlp/`).
* half: the first byte of sha256("newswire-split-1:bsnlp:<topic>:<document id>") odd ->
  "measure", else "tune": the split of the Ukrainian entity evaluation.
* pool: "K" for all (every document is taken).
"""
import hashlib
import json
import os

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../../../shared/corpus/multilingual/bsnlp")


def main():
    for topic in sorted(os.listdir(CORPUS)):
        for lang in ("ru", "uk"):
            folder = os.path.join(CORPUS, topic, "raw", lang)
            if not os.path.isdir(folder):
                continue
            for name in sorted(os.listdir(folder)):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    lines = f.read().split("\n")
                doc = lines[0].strip()
                title = lines[4].strip() if len(lines) > 4 else ""
                text = "\n".join(lines[5:]).strip()
                digest = hashlib.sha256(f"newswire-split-1:bsnlp:{topic}:{doc}".encode("utf-8")).digest()
                half = "measure" if digest[0] % 2 == 1 else "tune"
                print(json.dumps({"id": f"bsnlp:{topic}/raw/{lang}/{name}", "language": lang, "title": title,
                                  "text": text, "half": half, "pool": "K"}, ensure_ascii=False))


if __name__ == "__main__":
    main()
