#!/usr/bin/env python3
"""Publication dates of the Chinese pages of multilingual/pages/cn-wce against their ground truth.

    python3 bench/cleaner/dates_cn_wce.py --newswire target/release/newswire --corpus ../shared/corpus

For every page whose `date/<id>.txt` gives a date, `newswire extract` reads the page, and its
`published_at`, in China's zone (+08:00), is compared with the ground truth by what the ground
truth gives (year, month, day). Pages are in the tune or measure part by the project's rule
(`sha256("newswire-split-1:cn-wce:<id>")`, first byte odd: measure). Prints right / wrong /
no date per part; `--errors` lists the tune part's wrong and missing pages.
"""
import argparse
import datetime
import hashlib
import json
import os
import subprocess


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--newswire", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--errors", action="store_true")
    args = ap.parse_args()
    base = os.path.join(args.corpus, "multilingual", "pages", "cn-wce")
    china = datetime.timezone(datetime.timedelta(hours=8))
    counts = {"tune": [0, 0, 0], "measure": [0, 0, 0]}
    for name in sorted(os.listdir(os.path.join(base, "date"))):
        page = name[: -len(".txt")]
        want = open(os.path.join(base, "date", name), encoding="utf-8").read().strip()
        parts = want.split()[0].replace("/", "-").split("-") if want else []
        if not parts or not all(p.isdigit() for p in parts):
            continue  # no date given (empty or UNKNOWN)
        want_ymd = [int(p) for p in parts[:3]]
        digest = hashlib.sha256(f"newswire-split-1:cn-wce:{page}".encode()).digest()
        part = "measure" if digest[0] % 2 == 1 else "tune"
        out = subprocess.run(
            [args.newswire, "extract", os.path.join(base, "original", page + ".html")],
            capture_output=True, text=True,
        ).stdout
        try:
            got = json.loads(out).get("published_at")
        except json.JSONDecodeError:
            got = None
        if not got:
            counts[part][2] += 1
            if args.errors and part == "tune":
                print(f"none  {page}  want {want}")
            continue
        at = datetime.datetime.fromisoformat(got.replace("Z", "+00:00")).astimezone(china)
        right = [at.year, at.month, at.day][: len(want_ymd)] == want_ymd
        counts[part][0 if right else 1] += 1
        if args.errors and part == "tune" and not right:
            print(f"wrong {page}  want {want}  got {got}")
    for part, (right, wrong, none) in counts.items():
        print(f"{part}: {right} right, {wrong} wrong, {none} without a date, of {right + wrong + none}")


if __name__ == "__main__":
    main()
