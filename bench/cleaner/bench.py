#!/usr/bin/env python3
"""Throughput and quality of `newswire extract` vs Python trafilatura on the same pages.

Both run single-threaded on the article-extraction-benchmark pages of the corpus and on
trafilatura's own evaluation pages (`--set`), several times, alternating. Per page, each tool's own in-process time is taken (newswire reports
`elapsed_ms` per file: reading, gunzip, charset decoding, extraction and metadata;
the Python side times the same steps around `trafilatura.extract`). Reported: medians over
runs of pages/s and MB/s (uncompressed HTML) per core, the ratio, p99 per page, and the
quality of both from the same run: body F1 with the benchmark's metric on its pages;
trafilatura's snippet metric on its evaluation pages (each "with" snippet found in the
whitespace-folded text a true positive, each missing a false negative, each "without" snippet
found a false positive, summed over pages), for the tune and the measure part of
`bench/cleaner/splits.json` and both together.
"""
import argparse
import gzip
import json
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path


def tokens(text):
    return re.findall(r"\w+", text or "")


# CJK ideographs and kana, as `record::is_cjk` has them.
CJK_RANGES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
CJK_TOKEN = re.compile(f"[{CJK_RANGES}]|[^\\W{CJK_RANGES}]+")


def cjk_tokens(text):
    """`\\w+` runs with every CJK character a token of its own (cleaner::eval::metric)."""
    return CJK_TOKEN.findall(text or "")


def shingles(text, n=4, tokens=tokens):
    t = tokens(text)
    return Counter(tuple(t[i:i + n]) for i in range(max(1, len(t) - n + 1)) if t[i:i + n])


def match(expected, got, tokens=tokens):
    a, b = shingles(expected, tokens=tokens), shingles(got, tokens=tokens)
    tp = sum(min(a[k], b[k]) for k in a.keys() | b.keys())
    fp = sum(max(0, b[k] - a[k]) for k in a.keys() | b.keys())
    fn = sum(max(0, a[k] - b[k]) for k in a.keys() | b.keys())
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def prf(matches):
    def p(tp, fp, fn):
        return 1.0 if fp == fn == 0 else 0.0 if tp == fp == 0 else tp / (tp + fp)

    def r(tp, fp, fn):
        return 1.0 if fp == fn == 0 else 0.0 if tp == fn == 0 else tp / (tp + fn)

    P = statistics.mean(p(*m) for m in matches)
    R = statistics.mean(r(*m) for m in matches)
    return P, R, 2 * P * R / (P + R) if P + R else 0.0


def run_newswire(binary, files):
    start = time.perf_counter()
    out = subprocess.run([binary, "extract", *map(str, files)], capture_output=True, text=True)
    wall = time.perf_counter() - start
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    if len(lines) != len(files):
        sys.exit(f"newswire extract printed {len(lines)} lines for {len(files)} files:\n{out.stderr[-2000:]}")
    return {Path(d["file"]).name: (d.get("text") or "", d["elapsed_ms"] / 1000) for d in lines}, wall


def run_trafilatura(files):
    import trafilatura

    results = {}
    start = time.perf_counter()
    for f in files:
        t0 = time.perf_counter()
        data = f.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        text = trafilatura.extract(data, include_comments=False) or ""
        results[f.name] = (text, time.perf_counter() - t0)
    return results, time.perf_counter() - start


def fold(text):
    return " ".join((text or "").split())


def snippets(texts, cases):
    """trafilatura's metric over (text, with, without) per page: precision, recall, F1."""
    tp = fp = fn = 0
    for name, (want, avoid) in cases.items():
        text = fold(texts[name][0])
        found = sum(fold(w) in text for w in want)
        tp += found
        fn += len(want) - found
        fp += sum(fold(w) in text for w in avoid)
    P = tp / (tp + fp) if tp + fp else 0.0
    R = tp / (tp + fn) if tp + fn else 0.0
    return P, R, 2 * P * R / (P + R) if P + R else 0.0


def speed(runs, files, sizes):
    rates, mbs, p99s = [], [], []
    for res, _wall in runs:
        total = sum(t for _, t in res.values())
        rates.append(len(files) / total)
        mbs.append(sum(sizes.values()) / 1e6 / total)
        times = sorted(t for _, t in res.values())
        p99s.append(times[min(len(times) - 1, int(0.99 * len(times)))] * 1000)
    return rates, mbs, p99s


def summary(name, runs, files, sizes, truth):
    rates, mbs, p99s = speed(runs, files, sizes)
    last = runs[-1][0]
    P, R, F = prf([match(truth[f.name], last[f.name][0]) for f in files])
    return {
        "tool": name,
        "pages_per_s": statistics.median(rates),
        "mb_per_s": statistics.median(mbs),
        "p99_ms": statistics.median(p99s),
        "runs": len(runs),
        "rates": rates,
        "precision": P,
        "recall": R,
        "f1": F,
    }


def trafilatura_eval(args):
    """Both tools on trafilatura's evaluation pages, scored with its metric per part."""
    base = Path(args.corpus) / "trafilatura-eval"
    data = json.loads((base / "evaldata.json").read_text())
    splits = json.loads((Path(__file__).parent / "splits.json").read_text())["benchmarks"]["trafilatura-eval"]
    part = {k: p for p in ("tune", "measure") for k in splits[p]}
    files, cases = [], {"tune": {}, "measure": {}, "all": {}}
    for key, entry in sorted(data.items()):
        f = base / "html" / entry["file"]
        if not f.exists():
            f = base / "html" / (entry["file"] + ".gz")
        files.append(f)
        case = (entry["with"], entry["without"])
        cases[part.get(key, "tune")][f.name] = case
        cases["all"][f.name] = case
    sizes = {f.name: len(gzip.decompress(f.read_bytes())) for f in files}
    nw, tf = [], []
    for _ in range(args.runs):
        nw.append(run_newswire(args.newswire, files))
        tf.append(run_trafilatura(files))
    print(f"trafilatura-eval: {len(files)} pages ({len(cases['tune'])} tune, {len(cases['measure'])} measure), "
          f"{sum(sizes.values()) / 1e6:.1f} MB of HTML, {args.runs} runs each, alternating")
    rates = {}
    for name, runs in (("newswire extract", nw), ("trafilatura (Python)", tf)):
        r, mb, p99 = speed(runs, files, sizes)
        rates[name] = r
        scores = "  ".join(
            "{} P {:.3f} R {:.3f} F1 {:.3f}".format(p, *snippets(runs[-1][0], cases[p])) for p in ("tune", "measure", "all")
        )
        print(f"{name:<22} {statistics.median(r):8.1f} pages/s {statistics.median(mb):6.2f} MB/s  p99 "
              f"{statistics.median(p99):7.1f} ms/page  {scores}")
    ratios = sorted(x / y for x, y in zip(rates["newswire extract"], rates["trafilatura (Python)"]))
    print(f"ratio per run pair: {', '.join(f'{r:.2f}x' for r in ratios)} (median {statistics.median(ratios):.2f}x)")


def chinese_pages(args):
    """Both tools on the Chinese pages of multilingual/pages/cn-wce, CJK characters as tokens."""
    import hashlib

    base = Path(args.corpus).parent / "multilingual" / "pages" / "cn-wce"
    ids = sorted(p.stem for p in (base / "cleaned").glob("*.txt") if (base / "original" / f"{p.stem}.html").exists())
    files = [base / "original" / f"{i}.html" for i in ids]
    truth = {f.name: (base / "cleaned" / f"{f.stem}.txt").read_text(errors="replace") for f in files}
    part = {f.name: "measure" if hashlib.sha256(f"newswire-split-1:cn-wce:{f.stem}".encode()).digest()[0] % 2 else "tune" for f in files}
    nw = run_newswire(args.newswire, files)[0]
    tf = run_trafilatura(files)[0]
    print(f"cn-wce: {len(files)} Chinese pages, CJK characters as tokens")
    for tool, res in (("newswire extract", nw), ("trafilatura (Python)", tf)):
        for p in ("tune", "measure"):
            names = [f for f in files if part[f.name] == p]
            P, R, F = prf([match(truth[f.name], res[f.name][0], tokens=cjk_tokens) for f in names])
            empty = sum(not res[f.name][0].strip() for f in names)
            print(f"  {tool:<22} {p:<8} ({len(names)} pages) P {P:.3f} R {R:.3f} F1 {F:.3f}, {empty} empty")


def readability_pages(args):
    """Both tools on Readability's test pages, against the text of Readability.js's output
    (`expected.html`): one extractor's output, not a human ground truth."""
    from lxml import html as lxml_html

    base = Path(args.corpus) / "readability"
    splits = json.loads((Path(__file__).parent / "splits.json").read_text())["benchmarks"]["readability"]
    part = {k: p for p in ("tune", "measure") for k in splits[p]}
    names = sorted(d.name for d in base.iterdir() if (d / "source.html").exists() and (d / "expected.html").exists())
    files = [base / n / "source.html" for n in names]
    truth = {}
    for n in names:
        expected = (base / n / "expected.html").read_text(errors="replace")
        truth[n] = lxml_html.fromstring(expected).text_content() if expected.strip() else ""
    # The files are all called source.html: newswire's lines come back in the order given.
    out = subprocess.run([args.newswire, "extract", *map(str, files)], capture_output=True, text=True)
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    nw = {str(Path(d["file"])): d.get("text") or "" for d in lines}
    import trafilatura

    print(f"readability: {len(names)} pages of Readability's tests, against Readability.js's output")
    for tool in ("newswire extract", "trafilatura (Python)"):
        for p in ("tune", "measure"):
            ms = []
            for n, f in zip(names, files):
                if part.get(n, "tune") != p:
                    continue
                if tool == "newswire extract":
                    got = nw.get(str(f), "")
                else:
                    got = trafilatura.extract(f.read_bytes(), include_comments=False) or ""
                ms.append(match(truth[n], got))
            P, R, F = prf(ms)
            print(f"  {tool:<22} {p:<8} ({len(ms)} pages) P {P:.3f} R {R:.3f} F1 {F:.3f}")


def silver_pages(corpus):
    """The other article pages of multilingual/pages with a parser's output as their text
    (silver truth): fundus's People's Daily, Kommersant and Ukrainska Pravda pages, and
    newspaper4k's three Chinese pages. Returns (name, file, expected text) per page."""
    base = Path(corpus).parent / "multilingual" / "pages"
    pages = []
    for lang in ("cn", "ru", "ua"):
        d = base / "fundus" / lang
        for truth in sorted(d.glob("*.json")):
            body = next(iter(json.loads(truth.read_text()).values()))["body"]
            parts = list(body.get("summary") or [])
            for section in body.get("sections") or []:
                parts += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
            html = next(d.glob(f"{truth.stem}_*.html.gz"))
            pages.append((f"fundus/{lang}/{truth.stem}", html, "\n\n".join(parts)))
    d = base / "newspaper4k"
    for txt in sorted((d / "txt").glob("*.txt")):
        pages.append((f"newspaper4k/{txt.stem}", d / "html" / f"{txt.stem}.html", txt.read_text()))
    return pages


def silver(args):
    """Both tools on the silver-truth pages, every CJK character a token."""
    pages = silver_pages(args.corpus)
    files = [f for _, f, _ in pages]
    nw = run_newswire(args.newswire, files)[0]
    tf = run_trafilatura(files)[0]
    print(f"silver: {len(pages)} Russian, Ukrainian-edition and Chinese pages against fundus's or newspaper4k's own "
          "output, CJK characters as tokens")
    scores = {"newswire extract": [], "trafilatura (Python)": []}
    for name, f, truth in pages:
        row = []
        for tool, res in (("newswire extract", nw), ("trafilatura (Python)", tf)):
            m = match(truth, res[f.name][0], tokens=cjk_tokens)
            scores[tool].append(m)
            row.append("{} F1 {:.3f}".format(tool.split()[0], prf([m])[2]))
        print(f"  {name:<32} {'  '.join(row)}")
    for tool, ms in scores.items():
        P, R, F = prf(ms)
        print(f"  {tool:<22} P {P:.3f} R {R:.3f} F1 {F:.3f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--newswire", required=True, help="release build of newswire")
    ap.add_argument("--corpus", required=True, help="shared/corpus/articles")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--set", choices=("aeb", "trafilatura-eval", "cn-wce", "silver", "readability", "all"), default="all")
    args = ap.parse_args()
    if args.set in ("cn-wce", "all"):
        chinese_pages(args)
    if args.set == "cn-wce":
        return
    if args.set in ("silver", "all"):
        silver(args)
    if args.set == "silver":
        return
    if args.set in ("readability", "all"):
        readability_pages(args)
    if args.set == "readability":
        return
    if args.set in ("trafilatura-eval", "all"):
        trafilatura_eval(args)
    if args.set == "trafilatura-eval":
        return
    aeb = Path(args.corpus) / "scrapinghub-aeb"
    gt = json.loads((aeb / "ground-truth.json").read_text())
    files = sorted(aeb / "html" / f"{k}.html.gz" for k in gt)
    truth = {f.name: gt[f.name.split(".")[0]]["articleBody"] for f in files}
    sizes = {f.name: len(gzip.decompress(f.read_bytes())) for f in files}
    nw, tf = [], []
    for _ in range(args.runs):
        nw.append(run_newswire(args.newswire, files))
        tf.append(run_trafilatura(files))
    a = summary("newswire extract", nw, files, sizes, truth)
    b = summary("trafilatura (Python)", tf, files, sizes, truth)
    import trafilatura

    print(f"{len(files)} pages, {sum(sizes.values()) / 1e6:.1f} MB of HTML, {args.runs} runs each, alternating; trafilatura {trafilatura.__version__}")
    for s in (a, b):
        print(
            f"{s['tool']:<22} {s['pages_per_s']:8.1f} pages/s {s['mb_per_s']:6.2f} MB/s  p99 {s['p99_ms']:7.1f} ms/page"
            f"  P {s['precision']:.3f} R {s['recall']:.3f} F1 {s['f1']:.3f}"
        )
    splits = json.loads((Path(__file__).parent / "splits.json").read_text())["benchmarks"]["scrapinghub-aeb"]
    for part in ("tune", "measure"):
        names = [f for f in files if f.name.split(".")[0] in set(splits[part])]
        for tool, runs in (("newswire extract", nw), ("trafilatura (Python)", tf)):
            P, R, F = prf([match(truth[f.name], runs[-1][0][f.name][0]) for f in names])
            print(f"  {part} part ({len(names)} pages) {tool:<22} P {P:.3f} R {R:.3f} F1 {F:.3f}")
    print(f"throughput ratio newswire/trafilatura: {a['pages_per_s'] / b['pages_per_s']:.2f}x")
    # Each run of one tool is paired with the run of the other that followed it.
    ratios = sorted(x / y for x, y in zip(a["rates"], b["rates"]))
    print(f"ratio per run pair: {', '.join(f'{r:.2f}x' for r in ratios)} (median {statistics.median(ratios):.2f}x)")


if __name__ == "__main__":
    main()
