#!/usr/bin/env python3
"""Select Xinwen Lianbo (CCTV) stories for the Chinese topic evaluation set.

Stdlib only, deterministic. Writes JSONL to stdout, one selected story per line:
  {"id": "cctv:<YYYYMMDD>:<n>", "date": "YYYY-MM-DD", "title", "text", "half", "pool"}

  python3 select.py > selected.jsonl          # default corpus path
  python3 select.py --corpus DIR --stats      # per pool/half counts on stderr

* Every `### ` section under `## 详细新闻` is a story; n is its 0-based index there
  (stories that are skipped for being short still take up their index).
* text = body with HTML stripped: one paragraph per <p> / <br>, joined by "\n\n",
  entities unescaped, the `[查看原文](...)` line and the `(更新时间戳: ...)` trailer dropped.
* Stories whose text is under 80 characters are skipped.
* half (by day, same scheme as the project's other splits): sha256 of
  "newswire-split-1:cctv:<YYYYMMDD>.md"; first byte odd -> "measure", else "tune".
* pool "K": title or first 300 characters of text match KEYWORDS (below).
  pool "O": a 25% sample of the remaining stories, random.Random(20261201), one draw per
  non-K story in file order (files sorted by name, stories in order).
"""
import argparse
import hashlib
import html
import json
import os
import random
import re
import sys

DEFAULT_CORPUS = "/work/shared/corpus/multilingual/cctv"
SEED = 20261201
O_RATE = 0.25
MIN_CHARS = 80

# Broad keyword list, chosen from the topic names and general knowledge of the vocabulary
# of Chinese state media, not from any tagger query.
KEYWORDS = [
    # Russia
    "俄", "普京", "莫斯科", "克里姆林", "拉夫罗夫", "梅德韦杰夫", "佩斯科夫", "瓦格纳", "普里戈任",
    # Ukraine and the war
    "乌克兰", "乌方", "乌军", "乌称", "泽连斯基", "基辅", "顿巴斯", "顿涅茨克", "卢甘斯克",
    "扎波罗热", "赫尔松", "克里米亚", "哈尔科夫", "巴赫穆特", "特别军事行动", "黑海", "白俄罗斯",
    # Taiwan ("台" alone would match 平台/电视台/出台/台风…)
    "台湾", "台岛", "台独", "台海", "两岸", "涉台", "对台", "赴台", "窜美", "台当局",
    "民进党", "国民党", "蔡英文", "赖清德", "马英九",
    # US
    "美国", "美方", "美军", "美中", "中美", "白宫", "华盛顿", "拜登", "布林肯", "耶伦", "沙利文",
    "国务卿", "五角大楼", "气球", "旧金山",
    # sanctions and export controls
    "制裁", "反制", "出口管制", "实体清单", "冻结", "禁运", "限价", "脱钩", "断链",
    # NATO and Europe
    "北约", "北大西洋", "欧盟", "欧洲", "七国集团", "G7", "芬兰", "瑞典",
    # Xinjiang, Hong Kong, Tibet
    "新疆", "维吾尔", "涉疆", "香港", "涉港", "国安法", "西藏", "涉藏", "达赖", "人权",
    # energy
    "能源", "石油", "原油", "油价", "天然气", "油气", "管道", "管线", "北溪", "液化", "欧佩克",
    "OPEC",
    # multilateral fora where these relations show up
    "上合", "上海合作组织", "金砖", "G20", "二十国集团", "亚太经合", "APEC", "安理会",
]
KEYWORD_RE = re.compile("|".join(re.escape(k) for k in KEYWORDS), re.IGNORECASE)

BLOCK_RE = re.compile(r"</p\s*>|<br\s*/?>|<p(?:\s[^>]*)?>", re.IGNORECASE)
TAG_RE = re.compile(r"<[^>]+>")
LINK_RE = re.compile(r"^\s*\[查看原文\]\([^)]*\)\s*$")
STAMP_RE = re.compile(r"^\s*\(更新时间戳:[^)]*\)\s*$")


def half_of(fname):
    digest = hashlib.sha256(("newswire-split-1:cctv:" + fname).encode("utf-8")).digest()
    return "measure" if digest[0] % 2 == 1 else "tune"


def strip_html(body):
    lines = [l for l in body.split("\n") if not LINK_RE.match(l) and not STAMP_RE.match(l)
             and l.strip() != "---"]
    raw = "\n".join(lines)
    paras = []
    for chunk in BLOCK_RE.split(raw):
        t = html.unescape(TAG_RE.sub("", chunk))
        t = re.sub(r"[ \t\r\n\u3000\xa0]+", " ", t).strip()
        if t:
            paras.append(t)
    return "\n\n".join(paras)


def stories(path):
    """Yield (index, title, text) for each ### section after ## 详细新闻."""
    with open(path, encoding="utf-8") as f:
        content = f.read()
    pos = content.find("\n## 详细新闻")
    if pos < 0:
        return
    detail = content[pos + len("\n## 详细新闻"):]
    parts = re.split(r"^### ", detail, flags=re.MULTILINE)
    for n, part in enumerate(parts[1:]):
        title, _, body = part.partition("\n")
        yield n, title.strip(), strip_html(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--stats", action="store_true")
    args = ap.parse_args()
    rng = random.Random(SEED)
    counts = {}
    skipped = 0
    for fname in sorted(os.listdir(args.corpus)):
        if not re.fullmatch(r"\d{8}\.md", fname):
            continue
        day = fname[:8]
        half = half_of(fname)
        for n, title, text in stories(os.path.join(args.corpus, fname)):
            if len(text) < MIN_CHARS:
                skipped += 1
                continue
            if KEYWORD_RE.search(title) or KEYWORD_RE.search(text[:300]):
                pool = "K"
            elif rng.random() < O_RATE:
                pool = "O"
            else:
                continue
            counts[(pool, half)] = counts.get((pool, half), 0) + 1
            item = {"id": "cctv:%s:%d" % (day, n),
                    "date": "%s-%s-%s" % (day[:4], day[4:6], day[6:]),
                    "title": title, "text": text, "half": half, "pool": pool}
            sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
    if args.stats:
        for k in sorted(counts):
            print("%s %s %d" % (k[0], k[1], counts[k]), file=sys.stderr)
        print("total %d, skipped short %d" % (sum(counts.values()), skipped), file=sys.stderr)


if __name__ == "__main__":
    main()
