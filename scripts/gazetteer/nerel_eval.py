#!/usr/bin/env python3
"""Document-level precision and recall of the gazetteer's entities on NEREL (Russian Wikinews
with Wikidata links): "entity X is mentioned in document D".

Gold: the QIDs that a document's `N<k> Reference T<j> Wikidata:Q<id>` lines link to, kept only
for entities the gazetteer ships. NEREL quirks folded in: Q22502 (Taiwan the island) counts as
Q865, Q1770357 (a second Erdoğan item) as Q39259, Q4359679 (a second Peskov item) as Q4359688.

Systems, each a simple matcher (the tagger's words and folding: lower case, ё→е; aliases as
word sequences on word boundaries; `cased` aliases with exact case):
  a   the hand-typed gazetteer of the last commit (git HEAD:deploy/gazetteer), ids mapped to
      today's by English name;
  b   the generated gazetteer (deploy/gazetteer);
  c   Snowball Russian stemming (snowballstemmer) of (a)'s aliases and of the text;
  d   Snowball stemming of (b)'s aliases and of the text.

Halves: a document is in `measure` if the first byte of
sha256("newswire-split-1:nerel:<file stem>") is odd, else `tune`. Look at errors only on tune:
    python3 scripts/gazetteer/nerel_eval.py            # the table
    python3 scripts/gazetteer/nerel_eval.py --errors b # tune-half errors of one system
"""

import glob
import hashlib
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict

import snowballstemmer
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NEREL = os.path.join(ROOT, "..", "shared", "corpus", "multilingual", "nerel")
FILES = ("countries", "people", "organisations")
QUIRKS = {"Q22502": "Q865", "Q1770357": "Q39259", "Q4359679": "Q4359688"}

STEM = snowballstemmer.stemmer("russian")


def half(stem):
    return "measure" if hashlib.sha256(f"newswire-split-1:nerel:{stem}".encode()).digest()[0] % 2 else "tune"


# --- the tagger's words (shared/analysis), simplified ---------------------------------------

WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+(?:['\u2019\u02bc][^\W_]+)*")


def words(text):
    """[(folded word, original word)]: runs of letters and digits, an apostrophe between
    letters inside a word, an English possessive dropped, every CJK character a word."""
    out = []
    for m in WORD.finditer(text):
        w = m.group(0)
        if len(w) > 2 and w[-2] in "'\u2019\u02bc" and w[-1] in "sS":
            w = w[:-2]
        folded = re.sub("['\u2019\u02bc]", "'", w.lower().replace("ё", "е"))
        out.append((folded, w))
    return out


def stem(word):
    return STEM.stemWord(word) if re.search("[а-я]", word) else word


# --- gazetteers -----------------------------------------------------------------------------

def load(texts):
    """{id: (name, [(alias words, cased)])} from the three files' texts."""
    out = {}
    for text in texts:
        for e in yaml.safe_load(text)["entities"]:
            names = [(a, False) for a in [e["name"]] + e.get("aliases", [])]
            names += [(a, True) for a in e.get("cased", [])]
            out[e["id"]] = (e["name"], names)
    return out


def generated():
    texts = []
    for f in FILES:
        with open(os.path.join(ROOT, "deploy", "gazetteer", f + ".yaml"), encoding="utf-8") as fh:
            texts.append(fh.read())
    return load(texts)


def hand_typed(rev, new):
    texts = [subprocess.run(["git", "-C", ROOT, "show", f"{rev}:deploy/gazetteer/{f}.yaml"],
                            check=True, capture_output=True, text=True).stdout for f in FILES]
    old = load(texts)
    by_name = {name: i for i, (name, _) in new.items()}
    return {by_name.get(name, i): v for i, (name, names) in old.items() for v in [(name, names)]}


class Matcher:
    def __init__(self, gazetteer, stemmed=False):
        self.stemmed = stemmed
        # first word -> [(entity, words, alias)], for folded and for cased aliases
        self.folded, self.cased = defaultdict(list), defaultdict(list)
        for ent, (_, names) in gazetteer.items():
            for alias, cased in names:
                ws = words(alias)
                if not ws:
                    continue
                if cased:
                    self.cased[ws[0][1]].append((ent, tuple(o for _, o in ws), alias))
                else:
                    key = tuple(self.norm(f) for f, _ in ws)
                    self.folded[key[0]].append((ent, key, alias))

    def norm(self, w):
        return stem(w) if self.stemmed else w

    def find(self, text):
        """{entity: the first alias that matched}."""
        ws = words(text)
        low = [self.norm(f) for f, _ in ws]
        orig = [o for _, o in ws]
        found = {}
        for i in range(len(ws)):
            for src, table in ((low, self.folded), (orig, self.cased)):
                for ent, seq, alias in table.get(src[i], ()):
                    if ent not in found and tuple(src[i:i + len(seq)]) == seq:
                        found[ent] = alias
        return found


def gold_docs(shipped):
    docs = []
    for ann in sorted(glob.glob(os.path.join(NEREL, "*", "*.ann"))):
        stem_ = os.path.basename(ann)[:-4]
        gold = set()
        with open(ann, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if not parts[0].startswith("N") or len(parts) < 2:
                    continue
                ref = parts[1].split()
                if len(ref) == 3 and ref[2].startswith("Wikidata:Q"):
                    q = QUIRKS.get(ref[2][9:], ref[2][9:])
                    if q in shipped:
                        gold.add(q)
        with open(ann[:-4] + ".txt", encoding="utf-8") as f:
            text = f.read()
        docs.append((stem_, half(stem_), text, gold))
    return docs


def main():
    new = generated()
    old = hand_typed(os.environ.get("GAZETTEER_BASE", "HEAD"), new)
    systems = {
        "a": ("hand-typed (HEAD)", Matcher(old)),
        "b": ("generated", Matcher(new)),
        "c": ("Snowball stems of (a)", Matcher(old, stemmed=True)),
        "d": ("Snowball stems of (b)", Matcher(new, stemmed=True)),
    }
    shipped = set(new)
    docs = gold_docs(shipped)
    errors_of = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--errors" else None
    print(f"NEREL train+dev: {len(docs)} documents ({sum(h == 'tune' for _, h, _, _ in docs)} tune, "
          f"{sum(h == 'measure' for _, h, _, _ in docs)} measure); {len(shipped)} shipped entities, "
          f"{len({q for *_, g in docs for q in g})} of them linked in NEREL")
    print(f"{'system':28} {'half':8} {'TP':>5} {'FP':>5} {'FN':>5} {'P':>6} {'R':>6} {'F1':>6}")
    for key, (label, matcher) in systems.items():
        fps, fns = Counter(), Counter()
        for h in ("tune", "measure"):
            tp = fp = fn = 0
            for stem_, hh, text, gold in docs:
                if hh != h:
                    continue
                found = matcher.find(text)
                pred = set(found)
                tp += len(pred & gold)
                fp += len(pred - gold)
                fn += len(gold - pred)
                if h == "tune" and key == errors_of:
                    for q in pred - gold:
                        fps[(q, new.get(q, ("?",))[0], found[q])] += 1
                    for q in gold - pred:
                        fns[(q, new.get(q, ("?",))[0])] += 1
            p = tp / (tp + fp) if tp + fp else 0
            r = tp / (tp + fn) if tp + fn else 0
            f1 = 2 * p * r / (p + r) if p + r else 0
            print(f"({key}) {label:24} {h:8} {tp:5} {fp:5} {fn:5} {p:6.3f} {r:6.3f} {f1:6.3f}")
        if key == errors_of:
            print(f"\ntune-half false positives of ({key}) (entity, name, alias that matched: documents):")
            for (q, name, alias), n in fps.most_common(40):
                print(f"  {n:3}  {q} {name}: «{alias}»")
            print(f"\ntune-half false negatives of ({key}) (entity, name: documents):")
            for (q, name), n in fns.most_common(40):
                print(f"  {n:3}  {q} {name}")
            print()


if __name__ == "__main__":
    main()
