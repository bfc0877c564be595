"""Russian inflection of gazetteer names with pymorphy3 (+ pymorphy3-dicts-ru), and the guard
that keeps forms which are also ordinary words out of the case-insensitive aliases.

Three kinds of names (the seed says which, see entities/*.yaml):
- a noun phrase (`np`): countries, places, metonyms, organisations. The head is the first
  declinable noun; the adjectives (and participles) before it agree with it in case, number and
  gender; whatever follows the head (a genitive complement: «Совет Безопасности ООН», «Сектор
  Газа») stays as it is. A lone adjective («российский») gives every gender, case and the plural.
- a person's name (`person`): every word declines on its own, as a first name or surname of the
  person's sex (`sex: f` in the seed for women). Words the dictionary knows as a first name or
  surname decline as it says; other foreign names follow the school-grammar rules (see
  `_name_rule`): a man's name in a consonant declines (Байден → Байдена), one in -а/-я declines
  like «мама» (Кулеба → Кулебы), one in another vowel does not (Лукашенко, Трюдо); a woman's
  name declines only in -а/-я (Захарова → Захаровой), never in a consonant (Меркель, Харрис).
- `person_last`: only the last word declines (Си Цзиньпин → Си Цзиньпина, Ким Чен Ын → Ким
  Чен Ына).
"""

import pymorphy3

CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct")
# Tags that mark a proper-name reading: a form whose only other readings carry them is safe.
PROPER = {"Geox", "Name", "Surn", "Patr", "Orgn", "Trad", "Abbr", "Init"}
# Parts of speech of function words: a name that is also one («Того» = «того») is dropped,
# not kept case-sensitively, since function words start sentences capitalised.
FUNCTION = {"NPRO", "PREP", "CONJ", "PRCL", "INTJ", "PRED", "ADVB", "NUMR", "COMP"}
# A reading of another lemma at least this probable (pymorphy3's P(tag | word), estimated
# from the OpenCorpora corpus) makes a form unsafe.
UNSAFE_SCORE = 0.05
# ... and whose lemma occurs at least this often in lower case in the reference corpus.
MIN_LEMMA_COUNT = 3

_morph = None


def morph():
    global _morph
    if _morph is None:
        _morph = pymorphy3.MorphAnalyzer(lang="ru")
    return _morph


def _known(parse):
    """Whether a parse comes from the dictionary, not from a guesser."""
    return morph().word_is_known(parse.word) and type(parse.methods_stack[0][0]).__name__ == "DictionaryAnalyzer"


def restore_case(form, original):
    """Gives `form` (lower case) the capitalisation of `original`, part by part of a
    hyphenated word: «шри-ланки» after «Шри-Ланка» is «Шри-Ланки»."""
    if original.isupper() and len(original) > 1:
        return form.upper()
    parts, orig_parts = form.split("-"), original.split("-")
    out = []
    for i, part in enumerate(parts):
        o = orig_parts[i] if i < len(orig_parts) else orig_parts[-1]
        out.append(part[:1].upper() + part[1:] if o[:1].isupper() else part)
    return "-".join(out)


def _nomn(word, pos=None):
    """The nominative readings of `word`, best first."""
    parses = [p for p in morph().parse(word) if "nomn" in p.tag]
    if pos:
        parses = [p for p in parses if p.tag.POS in pos]
    return parses


def _inflect(parse, grammemes):
    """The form of `parse` with `grammemes`, or None; tries without animacy if needed."""
    got = parse.inflect(set(grammemes))
    if got is None:
        got = parse.inflect(set(grammemes) - {"anim", "inan"})
    return got.word if got else None


# --- people -------------------------------------------------------------------------------

VOWELS = set("аеёиоуыэюя")


def _name_rule(word, sex):
    """School-grammar declension of a foreign name the dictionary does not know, by case;
    None where the name does not decline."""
    w = word.lower()
    last, stem = w[-1], w[:-1]
    hard_i = stem[-1:] in set("гкхжшчщ")  # spelling rule: ы → и after these
    if last in "ая":
        if last == "а":
            gen = stem + ("и" if hard_i else "ы")
            return {"gent": gen, "datv": stem + "е", "accs": stem + "у",
                    "ablt": stem + ("ей" if stem[-1:] in set("жшчщц") else "ой"), "loct": stem + "е"}
        return {"gent": stem + "и", "datv": stem + "е", "accs": stem + "ю", "ablt": stem + "ей", "loct": stem + "е"}
    if sex == "f" or last in VOWELS:
        return None
    if last == "й":
        return {"gent": stem + "я", "datv": stem + "ю", "accs": stem + "я", "ablt": stem + "ем", "loct": stem + "е"}
    if last == "ь":
        return {"gent": stem + "я", "datv": stem + "ю", "accs": stem + "я", "ablt": stem + "ем", "loct": stem + "е"}
    soft = last in set("жшчщц")
    return {"gent": w + "а", "datv": w + "у", "accs": w + "а", "ablt": w + ("ем" if soft else "ом"), "loct": w + "е"}


def _person_word(word, sex):
    """{case: form} for one word of a person's name (one form for every case if it does not
    decline), and the lemmas that the guard treats as the name's own (an adjectival
    surname's adjective; a name's own proper reading is never in competition)."""
    gender = "femn" if sex == "f" else "masc"
    parses = [p for p in _nomn(word, {"NOUN"}) if _known(p) and ({"Name", "Surn", "Patr"} & p.tag.grammemes)
              and (p.tag.gender in (gender, None) or "ms-f" in p.tag.grammemes)]
    if parses:
        p = parses[0]
        if "Fixd" in p.tag:
            return {c: word for c in CASES}, set()
        forms = {c: _inflect(p, {c, "sing"}) or word.lower() for c in CASES}
        return {c: restore_case(f, word) for c, f in forms.items()}, set()
    # Adjectival surnames (Зеленский, Навальный, Тихановская) decline as adjectives.
    adj = [p for p in _nomn(word, {"ADJF"}) if p.tag.gender == gender and p.tag.number == "sing"]
    if adj and word.lower().endswith(("ский", "цкий", "ый", "ой", "ская", "цкая", "ая")):
        p = adj[0]
        forms = {c: _inflect(p, {c, gender, "sing", "anim"} if c == "accs" else {c, gender, "sing"}) for c in CASES}
        return {c: restore_case(f or word.lower(), word) for c, f in forms.items()}, {p.normal_form}
    rule = _name_rule(word, sex)
    if rule is None:
        return {c: word for c in CASES}, set()
    rule["nomn"] = word.lower()
    return {c: restore_case(f, word) for c, f in rule.items()}, set()


# Lower-case name particles: they never decline («Мухаммед бин Салман», «фон дер Ляйен»).
PARTICLES = {"бин", "ибн", "аль", "фон", "дер", "де", "ди", "дель", "ван", "да", "ла", "ле"}


def person_forms(name, sex, last_only=False):
    """Every case form of a person's name: (forms, own lemmas)."""
    words = name.split(" ")
    table, lemmas = [], set()
    for i, w in enumerate(words):
        if (last_only and i < len(words) - 1) or w in PARTICLES:
            table.append({c: w for c in CASES})
            continue
        forms, own = _person_word(w, sex)
        table.append(forms)
        lemmas |= own
    return {" ".join(t[c] for t in table) for c in CASES}, lemmas


# --- noun phrases -------------------------------------------------------------------------

ADJ_POS = {"ADJF", "PRTF"}


def _adjective_forms(parse, original):
    forms = set()
    for number, genders in (("sing", ("masc", "femn", "neut")), ("plur", (None,))):
        for gender in genders:
            for case in CASES:
                g = {case, number} | ({gender} if gender else set())
                for anim in (("anim", "inan") if case == "accs" else (None,)):
                    f = _inflect(parse, g | ({anim} if anim else set()))
                    if f:
                        forms.add(restore_case(f, original))
    return forms


def np_forms(phrase):
    """Every case form of a noun phrase (see the module docs): (forms, own lemmas)."""
    # A word may name its lemma where the dictionary has two equally likely readings:
    # «Большая|большой семёрка» (not «больший»).
    hints = {}
    words = []
    for i, w in enumerate(phrase.split(" ")):
        w, _, hint = w.partition("|")
        words.append(w)
        if hint:
            hints[i] = hint
    phrase = " ".join(words)
    parsed = []
    head = None
    for i, w in enumerate(words):
        if head is not None:
            parsed.append(None)
            continue
        if not any(ch.isalpha() and "\u0400" <= ch <= "\u04ff" for ch in w):
            parsed.append(None)  # Latin, digits: as written
            continue
        nouns = [p for p in _nomn(w, {"NOUN"}) if "Fixd" not in p.tag and "Abbr" not in p.tag]
        adjs = _nomn(w, ADJ_POS)
        if i in hints:
            adjs = [p for p in adjs if p.normal_form == hints[i]]
            nouns = [p for p in nouns if p.normal_form == hints[i]]
        # An adjective before a noun modifies it; otherwise the first noun is the head.
        rest_has_noun = any(_nomn(x, {"NOUN"}) for x in words[i + 1:])
        if adjs and (rest_has_noun or not nouns):
            parsed.append(("adj", adjs[0]))
        elif nouns:
            # Prefer a dictionary reading, then a proper-name reading.
            nouns.sort(key=lambda p: (not _known(p), not (PROPER & p.tag.grammemes), -p.score))
            parsed.append(("noun", nouns[0]))
            head = i
        else:
            parsed.append(None)
    if head is None:
        adjs = [(i, p) for i, p in enumerate(parsed) if p and p[0] == "adj"]
        if len(words) == 1 and adjs:
            p = adjs[0][1][1]
            return _adjective_forms(p, words[0]), {p.normal_form}
        return {phrase}, set()
    hp = parsed[head][1]
    number = hp.tag.number or "sing"
    gender = hp.tag.gender
    animacy = hp.tag.animacy
    forms = set()
    # loc2: the locative of «на берегу», «в аэропорту»; its adjectives are in the loct.
    head_loc2 = hp.inflect({"loc2", number})
    for case in CASES + (("loc2",) if head_loc2 and head_loc2.word != _inflect(hp, {"loct", number}) else ()):
        out = []
        for i, w in enumerate(words):
            p = parsed[i]
            if p is None or i > head:
                out.append(w)
            elif p[0] == "noun":
                out.append(restore_case(_inflect(p[1], {case, number}) or w.lower(), w))
            else:
                g = {"loct" if case == "loc2" else case, number}
                if number == "sing" and gender:
                    g.add(gender)
                if case == "accs" and animacy:
                    g.add(animacy)
                out.append(restore_case(_inflect(p[1], g) or w.lower(), w))
        forms.add(" ".join(out))
    # The guard exempts readings of the phrase's own common words (кремль, дом, семёрка), not
    # of its proper names: «вена» (a vein) competes with «Вена».
    lemmas = {p[1].normal_form for p in parsed if p and not (PROPER & p[1].tag.grammemes)}
    return forms, lemmas


# --- guard --------------------------------------------------------------------------------

def competing_readings(form, own_lemmas):
    """The dictionary readings of a one-word form that could make it unsafe as a
    case-insensitive alias: another lemma, not a proper name, with at least UNSAFE_SCORE of
    the form's probability («Того» → «тот», «Песков» → «песок»). A form the dictionary does
    not know has none (pymorphy3's guesses for unknown words are not evidence)."""
    if " " in form or "-" in form:
        return []
    word = form.lower()
    if not morph().word_is_known(word):
        return []
    own = {l.replace("ё", "е") for l in own_lemmas}
    out = []
    for p in morph().parse(word):
        if p.tag.POS is None or PROPER & p.tag.grammemes:
            continue
        lemma = p.normal_form.replace("ё", "е")
        # Own lemmas, and words made from them («венгерское», the wine, of «венгерский»).
        if lemma in own or any(len(l) > 5 and lemma.startswith(l[:-2]) for l in own):
            continue
        if p.score >= UNSAFE_SCORE:
            out.append(p)
    return out


def unsafe_reading(form, own_lemmas, lemma_count):
    """The reading that makes `form` unsafe, or None: a function word («того»), or an
    ordinary word whose lemma is in use: at least MIN_LEMMA_COUNT lower-case occurrences of
    any of its forms in the reference corpus (`lemma_count`: lemma → count). «Песков» is
    unsafe («песок» is common), «Францию» is not («франций», the element, never occurs)."""
    for p in competing_readings(form, own_lemmas):
        if is_function_word(p) or lemma_count(p.normal_form) >= MIN_LEMMA_COUNT:
            return p
    return None


def is_function_word(parse):
    return parse.tag.POS in FUNCTION or "Apro" in parse.tag.grammemes
