#!/usr/bin/env python3
"""How long a Chinese word and a Chinese feed summary are, on the corpus: the two figures
behind `dedup-eval`'s Chinese summaries (`lead_words`: a word per two CJK characters, a
lead of 30 words).

    python3 -m venv /tmp/jieba && /tmp/jieba/bin/pip install jieba
    /tmp/jieba/bin/python bench/deduper/cjk_lengths.py --corpus ../shared/corpus

1. The mean length in CJK characters of the words jieba (default dictionary) cuts from the
   first 40 CCTV transcripts (`multilingual/cctv`, HTML tags removed).
2. The length in CJK characters of the pages' descriptions (`<meta name=description>` or
   `og:description`, the longest of a page) of `multilingual/pages` that are a lead: not
   the page's headline again (the description's first ten characters in its `<title>`) and
   more than five CJK characters; the keyword lists among them are shown, to be left out by
   eye.
"""
import argparse
import glob
import logging
import os
import re
import statistics

CJK = re.compile(r"[\u4e00-\u9fff]")


def word_length(corpus):
    import jieba

    jieba.setLogLevel(logging.WARNING)
    chars = words = 0
    for path in sorted(glob.glob(os.path.join(corpus, "multilingual/cctv/*.md")))[:40]:
        text = re.sub(r"<[^>]+>", "", open(path, encoding="utf-8").read())
        for word in jieba.cut(text):
            n = len(CJK.findall(word))
            if n:
                chars += n
                words += 1
    return chars / words, words


def descriptions(corpus):
    pages = os.path.join(corpus, "multilingual/pages")
    paths = (
        glob.glob(os.path.join(pages, "cn-wce/original/*"))
        + glob.glob(os.path.join(pages, "readability-zh/*/source.html"))
        + glob.glob(os.path.join(pages, "fundus/cn/*"))
        + glob.glob(os.path.join(pages, "newspaper4k/html/*"))
    )
    found = []
    for path in sorted(paths):
        raw = open(path, "rb").read()
        try:
            html = raw.decode("utf-8")
        except UnicodeDecodeError:
            html = raw.decode("gb18030", "ignore")
        title = re.search(r"<title[^>]*>(.*?)</title>", html, re.S | re.I)
        title = title.group(1) if title else ""
        best = (0, "")
        for meta in re.finditer(
            r"<meta[^>]+(?:name|property)=[\"'](?:description|og:description)[\"'][^>]*>", html, re.I
        ):
            content = re.search(r"content=[\"']([^\"']*)", meta.group(0))
            if not content:
                continue
            text = content.group(1).strip()
            if not text or text[:10] in title:
                continue
            best = max(best, (len(CJK.findall(text)), text))
        if best[0] > 5:
            found.append((best[0], os.path.relpath(path, pages), best[1][:60]))
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="../shared/corpus")
    args = ap.parse_args()
    mean, words = word_length(args.corpus)
    print(f"jieba words in CCTV transcripts: {words}, {mean:.2f} CJK characters each on average")
    found = descriptions(args.corpus)
    for n, path, text in sorted(found):
        keywords = "," in text and "，" not in text
        print(f"{n:4}  {path}  {'(keywords) ' if keywords else ''}{text}")
    leads = [n for n, _, text in found if not ("," in text and "，" not in text)]
    print(f"descriptions: {len(found)}; without keyword lists {len(leads)}, median {statistics.median(leads)}")


if __name__ == "__main__":
    main()
