#!/usr/bin/env python3
"""Document-level precision and recall of the gazetteer's entities on NEREL (Russian Wikinews
with Wikidata links): "entity X is mentioned in document D".

Gold: the QIDs that a document's `N<k> Reference T<j> Wikidata:Q<id>` lines link to, kept only
for entities the gazetteer ships. NEREL quirks folded in: Q22502 (Taiwan the island) counts as
Q865, Q1770357 (a second Erdoğan item) as Q39259, Q4359679 (a second Peskov item) as Q4359688.

Systems, each a simple matcher (the tagger's words and folding: lower case, ё→е; aliases as
word sequences on word boundaries; `cased` aliases with exact case):
  a   the hand-typed gazetteer of commit a471872, the last before the generator
      (GAZETTEER_BASE=<rev> picks another), ids mapped to today's by English name; its
      capitals were aliases;
  b   the generated gazetteer (deploy/gazetteer), metonyms counted as mentions (what the
      gazetteer did before `metonyms` existed);
  e   the generated gazetteer as the tagger reads it: a metonym alone («Москве») is not a
      mention of the entity;
  f   (e), and the adjective forms («российский», «американских», «российско-») are not
      mentions either: the alternative the adjective statistics below are about;
  g   the tagger: (e), and an adjective before a person noun or «язык» («российский магнат»,
      «на испанском языке»: a nationality, a language) is no mention either
      (nationality_heads.py makes the nouns);
  c   Snowball Russian stemming (snowballstemmer) of (a)'s aliases and of the text;
  d   Snowball stemming of (b)'s aliases and of the text.

Adjective forms are the gazetteer's `adjectives`: the forms generate.py makes only from
lower-case seed entries (`ru`, `ru_fixed`, `uk`: the seeds write adjectives and
compound-adjective parts, and nothing else, in lower case). `--adjectives` also prints, for the documents where a country's only
matches are adjective forms, whether NEREL links the country there, only a nationality item
(Q492468 citizens of Russia, Q846570 Americans …: the items NEREL links NATIONALITY mentions
made of the country's adjective forms to), or neither.

Halves: a document is in `measure` if the first byte of
sha256("newswire-split-1:nerel:<file stem>") is odd, else `tune`. Look at errors only on tune:
    python3 scripts/gazetteer/nerel_eval.py            # the table
    python3 scripts/gazetteer/nerel_eval.py --errors e # tune-half errors of one system
    python3 scripts/gazetteer/nerel_eval.py --adjectives
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
    """{id: (name, [(alias, cased, kind)])} from the three files' texts; kind is "alias",
    "adjective" or "metonym", by the field the name is in."""
    out = {}
    for text in texts:
        for e in yaml.safe_load(text)["entities"]:
            names = [(a, False, "alias") for a in [e["name"]] + e.get("aliases", [])]
            names += [(a, False, "adjective") for a in e.get("adjectives", [])]
            names += [(a, False, "metonym") for a in e.get("metonyms", [])]
            names += [(a, True, "alias") for a in e.get("cased", [])]
            out[e["id"]] = (e["name"], names)
    return out


def heads():
    """The folded words after which an adjective is no mention (the tagger's
    services/tagger/data/ru-nationality-heads.txt, made by nationality_heads.py)."""
    paradigms, out = [], set()
    with open(os.path.join(ROOT, "services", "tagger", "data", "ru-nationality-heads.txt"), encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]
    for line in lines:
        if line.startswith("= "):
            paradigms.append(["" if e == "-" else e for e in line[2:].split(" ")])
    for line in lines:
        if not line.startswith("= "):
            stem, *numbers = line.split(" ")
            stem = "" if stem == "-" else stem
            out |= {stem + e for n in numbers for e in paradigms[int(n)]}
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
    """Finds the gazetteer's names in a text; names of the kinds in `mentions` make the entity
    mentioned (the others are matched but do not count)."""

    def __init__(self, gazetteer, stemmed=False, mentions=("alias", "metonym", "adjective"), heads=frozenset()):
        self.stemmed = stemmed
        self.mentions = set(mentions)
        self.heads = heads  # an adjective before one of these is no mention
        # first word -> [(entity, words, alias, kind)], for folded and for cased aliases
        self.folded, self.cased = defaultdict(list), defaultdict(list)
        for ent, (_, names) in gazetteer.items():
            for alias, cased, kind in names:
                ws = words(alias)
                if not ws:
                    continue
                if cased:
                    self.cased[ws[0][1]].append((ent, tuple(o for _, o in ws), alias, kind))
                else:
                    key = tuple(self.norm(f) for f, _ in ws)
                    self.folded[key[0]].append((ent, key, alias, kind))

    def norm(self, w):
        return stem(w) if self.stemmed else w

    def matches(self, text):
        """{entity: [(alias, kind)] in text order}: every name that matched; an adjective
        before a head is of kind "nationality"."""
        ws = words(text)
        low = [self.norm(f) for f, _ in ws]
        orig = [o for _, o in ws]
        found = defaultdict(list)
        for i in range(len(ws)):
            for src, table in ((low, self.folded), (orig, self.cased)):
                for ent, seq, alias, kind in table.get(src[i], ()):
                    if tuple(src[i:i + len(seq)]) == seq:
                        after = low[i + len(seq)] if i + len(seq) < len(low) else ""
                        head = kind == "adjective" and after in self.heads
                        found[ent].append((alias, "nationality" if head else kind))
        return found

    def find(self, text):
        """{entity: the first alias that makes it mentioned}."""
        out = {}
        for ent, ms in self.matches(text).items():
            for alias, kind in ms:
                if kind in self.mentions:
                    out[ent] = alias
                    break
        return out


def gold_docs(shipped):
    """[(stem, half, text, gold QIDs of shipped entities, every linked QID, NATIONALITY
    mentions [(text, QID)])]."""
    docs = []
    for ann in sorted(glob.glob(os.path.join(NEREL, "*", "*.ann"))):
        stem_ = os.path.basename(ann)[:-4]
        gold, linked, spans, link_of = set(), set(), {}, {}
        with open(ann, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if parts[0].startswith("T") and len(parts) > 2:
                    spans[parts[0]] = (parts[1].split()[0], parts[2])
                if not parts[0].startswith("N") or len(parts) < 2:
                    continue
                ref = parts[1].split()
                if len(ref) == 3 and ref[2].startswith("Wikidata:Q"):
                    q = QUIRKS.get(ref[2][9:], ref[2][9:])
                    linked.add(q)
                    link_of[ref[1]] = q
                    if q in shipped:
                        gold.add(q)
        nationality = [(t, link_of[k]) for k, (typ, t) in spans.items() if typ == "NATIONALITY" and k in link_of]
        with open(ann[:-4] + ".txt", encoding="utf-8") as f:
            text = f.read()
        docs.append((stem_, half(stem_), text, gold, linked, nationality))
    return docs


def adjective_statistics(docs, new, matcher):
    """For each document and country whose only matches are adjective forms: does NEREL link
    the country in that document, only one of its nationality items, or neither?"""
    countries = {i for i, (_, names) in new.items() if i.startswith("Q") and any(k == "adjective" for *_, k in names)}
    # A country's nationality items: what NEREL links NATIONALITY mentions that contain one of
    # its adjective forms to, other than the country itself.
    nat_items = defaultdict(Counter)
    for *_, nationality in docs:
        for t, q in nationality:
            for ent, ms in matcher.matches(t).items():
                if ent in countries and any(k == "adjective" for _, k in ms) and q != ent:
                    nat_items[ent][q] += 1
    print("\nNationality items NEREL links adjective NATIONALITY mentions to (mentions):")
    for ent, c in sorted(nat_items.items(), key=lambda x: -sum(x[1].values())):
        print(f"  {ent} {new[ent][0]}: " + ", ".join(f"{q} {n}" for q, n in c.most_common()))
    rows = defaultdict(Counter)  # (half, country or "all") -> outcome counts
    examples = defaultdict(Counter)
    for stem_, h, text, gold, linked, nationality in docs:
        for ent, ms in matcher.matches(text).items():
            if ent not in countries or any(k != "adjective" for _, k in ms):
                continue
            if ent in linked:
                outcome = "country"
            elif linked & set(nat_items[ent]):
                outcome = "nationality only"
            else:
                outcome = "neither"
            for key in ((h, "all"), ("both", "all"), ("both", ent)):
                rows[key][outcome] += 1
            if h == "tune":
                examples[(ent, outcome)][ms[0][0].lower()] += 1
    outcomes = ("country", "nationality only", "neither")
    print("\nDocument–country pairs where the country's only matches are adjective forms: what NEREL links there")
    print(f"{'half':8} {'country':28} {'pairs':>5} " + " ".join(f"{o:>16}" for o in outcomes))
    keys = [("tune", "all"), ("measure", "all"), ("both", "all")]
    keys += sorted((k for k in rows if k[0] == "both" and k[1] != "all"), key=lambda k: -sum(rows[k].values()))
    for h, ent in keys:
        c = rows[(h, ent)]
        n = sum(c.values())
        if not n:
            continue
        label = "all countries" if ent == "all" else f"{ent} {new[ent][0]}"
        print(f"{h:8} {label[:28]:28} {n:5} " + " ".join(f"{c[o]:5} ({c[o] / n:5.1%})" for o in outcomes))
    print("\ntune half, the first adjective of such documents, by outcome (the 12 commonest):")
    for o in outcomes:
        c = Counter()
        for (ent, oo), forms in examples.items():
            if oo == o:
                for form, n in forms.items():
                    c[(new[ent][0], form)] += n
        print(f"  {o}: " + ", ".join(f"{name} «{form}» {n}" for (name, form), n in c.most_common(12)))


def main():
    new = generated()
    base = os.environ.get("GAZETTEER_BASE", "a471872")
    old = hand_typed(base, new)
    systems = {
        "a": (f"hand-typed ({base})", Matcher(old)),
        "b": ("metonyms counted", Matcher(new)),
        "e": ("metonyms do not count", Matcher(new, mentions=("alias", "adjective"))),
        "f": ("nor adjectives", Matcher(new, mentions=("alias",))),
        "g": ("nor adjs before a person", Matcher(new, mentions=("alias", "adjective"), heads=heads())),
        "c": ("Snowball stems of (a)", Matcher(old, stemmed=True)),
        "d": ("Snowball stems of (b)", Matcher(new, stemmed=True)),
    }
    shipped = set(new)
    docs = gold_docs(shipped)
    errors_of = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--errors" else None
    print(f"NEREL train+dev: {len(docs)} documents ({sum(d[1] == 'tune' for d in docs)} tune, "
          f"{sum(d[1] == 'measure' for d in docs)} measure); {len(shipped)} shipped entities, "
          f"{len({q for d in docs for q in d[3]})} of them linked in NEREL")
    print(f"{'system':28} {'half':8} {'TP':>5} {'FP':>5} {'FN':>5} {'P':>6} {'R':>6} {'F1':>6}")
    for key, (label, matcher) in systems.items():
        fps, fns = Counter(), Counter()
        for h in ("tune", "measure"):
            tp = fp = fn = 0
            for stem_, hh, text, gold, *_ in docs:
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
            print(f"({key}) {label[:24]:24} {h:8} {tp:5} {fp:5} {fn:5} {p:6.3f} {r:6.3f} {f1:6.3f}")
        if key == errors_of:
            print(f"\ntune-half false positives of ({key}) (entity, name, alias that matched: documents):")
            for (q, name, alias), n in fps.most_common(40):
                print(f"  {n:3}  {q} {name}: «{alias}»")
            print(f"\ntune-half false negatives of ({key}) (entity, name: documents):")
            for (q, name), n in fns.most_common(40):
                print(f"  {n:3}  {q} {name}")
            print()
    if "--adjectives" in sys.argv[1:]:
        adjective_statistics(docs, new, systems["b"][1])


if __name__ == "__main__":
    main()
