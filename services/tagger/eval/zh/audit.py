#!/usr/bin/env python3
"""The items of the pool-O audit (LABELLING.md, "Audit of pool O"): every pool-O item of
topics-zh.jsonl whose whole text (not only its first 300 characters, as the pool-K rule reads)
matches select.py's KEYWORDS. Prints them as JSON lines with id, title and text, the form the
second annotator read (without labels).

    python3 audit.py > items.jsonl      # stdlib only, deterministic
"""
import importlib.util
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("select_items", os.path.join(HERE, "select.py"))
select = importlib.util.module_from_spec(spec)
spec.loader.exec_module(select)

for line in open(os.path.join(HERE, "topics-zh.jsonl"), encoding="utf-8"):
    item = json.loads(line)
    if item["pool"] == "O" and select.KEYWORD_RE.search(item["text"]):
        print(json.dumps({k: item[k] for k in ("id", "title", "text")}, ensure_ascii=False))
