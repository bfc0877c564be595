#!/usr/bin/env python3
"""Writes shared/analysis/src/calendar.rs: the month and weekday names newswire reads
feed dates in, from CLDR through babel (see README.md).

For each language in LANGUAGES: every month name CLDR gives (format and stand-alone, wide
and abbreviated; narrow left out), every weekday name (format and stand-alone, wide,
abbreviated and short), lower-cased, NFC, an abbreviation's trailing period stripped and
recorded; the words quoted in CLDR's date patterns ('de' of «30 de julio de 2018», 'г' of
«30 июля 2018 г.»); and, for the languages in STEM_LANGUAGES, each month's stem: the longest
common prefix of its CLDR forms, which the fetcher matches against the case forms CLDR does
not list («июле», «липні»). English (en) forms are written too, so the fetcher can tell a
foreign word from an English one. The output is sorted and deterministic.

Run from the repository root:
    python3 scripts/dates/generate.py            # writes shared/analysis/src/calendar.rs
    python3 scripts/dates/generate.py --check    # exits 1 if the checked-in file differs
"""

import argparse
import os
import re
import sys
import unicodedata

import babel
import babel.core

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "shared", "analysis", "src", "calendar.rs")

# The languages of the feeds: Russian, Ukrainian and the European press.
LANGUAGES = ("ru", "uk", "de", "fr", "es", "it", "pt", "pl", "nl", "cs")
# English: written so that the fetcher can tell whether a word is foreign, not to translate it.
REFERENCE = "en"
# Languages whose month words the fetcher also matches by stem (every case form).
STEM_LANGUAGES = ("ru", "uk")
# The shortest truncation of a stem the fetcher accepts as an abbreviation («фев» of «февр»):
# three letters, the length of RFC 2822's month names. Written to the output as MIN_TRUNCATION.
MIN_TRUNCATION = 3

MONTH_WIDTHS = ("wide", "abbreviated")
DAY_WIDTHS = ("wide", "abbreviated", "short")
ENGLISH_DAY_WIDTHS = ("wide", "abbreviated")
CONTEXTS = ("format", "stand-alone")
DATE_PATTERN_LENGTHS = ("full", "long", "medium", "short")


def normal(text):
    """Lower-cased, NFC, trimmed; returns (name, had a trailing period)."""
    text = unicodedata.normalize("NFC", text).strip().lower()
    period = text.endswith(".")
    return text.rstrip("."), period


def names(locale, kind, widths):
    """{(name, number): had a period} over CLDR's contexts and widths. Months are 1-12,
    weekdays 1 (Monday) to 7 (Sunday), as ISO 8601 and chrono number them."""
    table = getattr(locale, kind)
    found = {}
    for context in CONTEXTS:
        for width in widths:
            for index, value in table[context][width].items():
                number = index if kind == "months" else index + 1
                name, period = normal(value)
                if not name:
                    continue
                found[(name, number)] = found.get((name, number), False) or period
    return found


def literals(locale):
    """The words quoted in CLDR's date patterns (full, long, medium, short)."""
    words = set()
    for length in DATE_PATTERN_LENGTHS:
        pattern = locale.date_formats[length].pattern
        for quoted in re.findall(r"'([^']+)'", pattern):
            for word in quoted.split():
                word, _ = normal(word)
                if word and any(c.isalpha() for c in word):
                    words.add(word)
    return words


def common_prefix(words):
    prefix = os.path.commonprefix(sorted(words))
    return prefix


def accepts(stem, word):
    """The fetcher's stem rule: a case form starts with the stem, or the word is a
    truncation of it of at least MIN_TRUNCATION letters."""
    return word.startswith(stem) or (len(word) >= MIN_TRUNCATION and stem.startswith(word))


def stems(lang, months, days):
    """{month: stem} and the months that have none (with the reason)."""
    by_month = {}
    for (name, number) in months:
        by_month.setdefault(number, set()).add(name)
    result, missing = {}, []
    for number in sorted(by_month):
        stem = common_prefix(by_month[number])
        if len(stem) < MIN_TRUNCATION:
            missing.append((lang, number, stem, "shorter than %d letters" % MIN_TRUNCATION))
            continue
        clash = sorted(
            [name for (name, other) in months if other != number and accepts(stem, name)]
            + [name for (name, _) in days if accepts(stem, name)]
        )
        if clash:
            missing.append((lang, number, stem, "would match " + ", ".join(clash)))
            continue
        result[number] = stem
    # No two stems may accept the same truncation.
    for a in result:
        for b in result:
            if a < b and result[a][:MIN_TRUNCATION] == result[b][:MIN_TRUNCATION]:
                sys.exit("%s: stems %r and %r share a truncation" % (lang, result[a], result[b]))
    return result, missing


def rust_str(text):
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20:
            out.append("\\u{%x}" % ord(c))
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def render():
    languages = sorted(LANGUAGES + (REFERENCE,))
    month_rows, day_rows, stem_rows, literal_rows, missing = [], [], [], [], []
    for lang in languages:
        locale = babel.Locale.parse(lang)
        months = names(locale, "months", MONTH_WIDTHS)
        # English: the names RFC 2822 dates are written with, not the short «Mo», «Tu».
        days = names(locale, "days", DAY_WIDTHS if lang != REFERENCE else ENGLISH_DAY_WIDTHS)
        month_rows += [(lang, number, name, period) for (name, number), period in months.items()]
        day_rows += [(lang, number, name, period) for (name, number), period in days.items()]
        if lang in STEM_LANGUAGES:
            found, lacking = stems(lang, months, days)
            stem_rows += [(lang, number, stem) for number, stem in found.items()]
            missing += lacking
        if lang != REFERENCE:
            literal_rows += [(lang, word) for word in literals(locale)]
    month_rows.sort()
    day_rows.sort()
    stem_rows.sort()
    literal_rows.sort()

    lacking = "".join(
        "//!   - %s month %d: common prefix %s %s; its CLDR forms are matched exactly.\n"
        % (lang, number, rust_str(stem), why)
        for lang, number, stem, why in missing
    ) or "//!   - none.\n"
    out = []
    out.append(
        f"""\
//! Month and weekday names of the languages newswire reads dates in: the fetcher's feed dates,
//! the cleaner's datelines.
//!
//! GENERATED by `scripts/dates/generate.py` from CLDR {babel.core.get_cldr_version()} (babel {babel.__version__}).
//! Do not edit by hand: change the generator and rerun it (`scripts/dates/README.md`);
//! `generate.py --check` fails while this file differs from what it writes.
//!
//! Every name is lower-cased (NFC). [`MONTHS`]: CLDR's format and stand-alone, wide and
//! abbreviated month names (narrow left out); in Russian, Ukrainian, Polish and Czech the
//! format names are the genitive («июля», «липня») and the stand-alone ones the nominative
//! («июль», «липень»). [`WEEKDAYS`]: format and stand-alone, wide, abbreviated and short
//! weekday names, 1 = Monday to 7 = Sunday. An abbreviation's trailing period is stripped
//! («июл.» is `июл`) and `period` says CLDR writes one, so «июл.» and «июл» both match.
//! [`LITERALS`]: the words quoted in CLDR's date patterns («de» of «30 de julio de 2018»).
//! English (`en`: months, and wide and abbreviated weekdays) is there to tell a foreign word
//! from an English one, not to be translated.
//!
//! CLDR lists the nominative and the genitive of a month, not the other cases («июле»,
//! «липні»), nor three-letter truncations of its longer abbreviations («фев» of «февр.»,
//! «тра» of «трав.»). For {", ".join(STEM_LANGUAGES)}, [`MONTH_STEMS`] holds each month's longest common
//! prefix of its CLDR forms, computed by the generator: a word that starts with it, or is a
//! truncation of it of at least [`MIN_TRUNCATION`] letters, is that month. A stem is left out
//! where it is shorter than that or would match another month's or a weekday's name:
{lacking}//!
//! CLDR data: Unicode License v3 (Unicode, Inc.); babel: BSD-3-Clause.

/// A month or weekday name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Name {{
    /// The language (BCP 47).
    pub lang: &'static str,
    /// The name, lower-cased, without an abbreviation's trailing period.
    pub name: &'static str,
    /// The month (1–12) or the weekday (1 = Monday … 7 = Sunday).
    pub number: u32,
    /// CLDR writes the name with a trailing period (an abbreviation: «июл.», «Jan.»).
    pub period: bool,
}}

/// The languages the names are given for, besides English.
pub const LANGUAGES: &[&str] = &[{", ".join(rust_str(l) for l in LANGUAGES)}];

/// The shortest truncation of a stem that is read as the month.
pub const MIN_TRUNCATION: usize = {MIN_TRUNCATION};
"""
    )

    def table(doc, name, rows):
        out.append(f"\n/// {doc}\npub const {name}: &[Name] = &[\n")
        for lang, number, word, period in rows:
            out.append(
                f"    Name {{ lang: {rust_str(lang)}, name: {rust_str(word)}, number: {number}, period: {str(period).lower()} }},\n"
            )
        out.append("];\n")

    table("Month names, by language, month and name.", "MONTHS", month_rows)
    table("Weekday names, by language, weekday and name.", "WEEKDAYS", day_rows)
    out.append("\n/// Month stems (language, stem, month): the longest common prefix of a month's CLDR forms.\n")
    out.append("pub const MONTH_STEMS: &[(&str, &str, u32)] = &[\n")
    for lang, number, stem in stem_rows:
        out.append(f"    ({rust_str(lang)}, {rust_str(stem)}, {number}),\n")
    out.append("];\n")
    out.append("\n/// Words of CLDR's date patterns (language, word), which say nothing of the date.\n")
    out.append("pub const LITERALS: &[(&str, &str)] = &[\n")
    for lang, word in literal_rows:
        out.append(f"    ({rust_str(lang)}, {rust_str(word)}),\n")
    out.append("];\n")
    return "".join(out), missing


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the checked-in file differs")
    args = parser.parse_args()
    text, missing = render()
    for lang, number, stem, why in missing:
        print(f"note: {lang} month {number}: no stem ({stem!r} {why})", file=sys.stderr)
    if args.check:
        try:
            with open(OUT, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            print(f"{os.path.relpath(OUT, ROOT)} is not what scripts/dates/generate.py writes: rerun it", file=sys.stderr)
            return 1
        print(f"{os.path.relpath(OUT, ROOT)} is up to date (CLDR {babel.core.get_cldr_version()}, babel {babel.__version__})")
        return 0
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"wrote {os.path.relpath(OUT, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
