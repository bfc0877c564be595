//! Text analysis shared by the tagger and the deduper, so that a query term, a gazetteer
//! alias, an article and its fingerprint all cut text into words and fold letters the same way.
//!
//! **Folding** ([`fold`]): what two spellings of one word differ in, removed before matching.
//! - Case (Unicode lower case).
//! - `ё` → `е`: Russian writes `ё` optionally («Семёнов» and «Семенов» are one name).
//! - The apostrophes `'`, `’` and `ʼ` are one (Ukrainian writes all three: «п’ять», «пʼять»).
//! - Traditional Chinese characters → simplified (OpenCC's character table, through
//!   `ferrous-opencc`): «臺灣» and «台湾», «烏克蘭» and «乌克兰» are one word. Only the
//!   character table is used, not OpenCC's phrase tables: one character always folds to one
//!   character, so offsets into the original text stay exact.
//!
//! Folding does not depend on the record's language: a Russian query term must match a
//! Ukrainian or English article that quotes it, and none of these folds merges two words of
//! one language. What does depend on the language is the vocabulary, not the analysis: the
//! inflected forms of names (generated per language into the gazetteer) and the terms of a
//! query scoped with `lang:` (see the tagger).
//!
//! **Words** ([`tokenize`], [`words`]):
//! - A word is a maximal run of letters and digits (any script), folded.
//! - An apostrophe between two letters stays inside the word (`Xi'an`, `п'ять`), and an
//!   English possessive `'s` is dropped (`Russia's` is the word `russia`).
//! - Every CJK ideograph or kana is a word of its own: Chinese and Japanese have no spaces, so
//!   a CJK term (`习近平`) is a phrase of single characters and matches wherever that
//!   sequence of characters occurs. (Word segmentation with jieba was measured against this
//!   on the tagger's Chinese evaluation set; see ARCHITECTURE.md, "Text in four languages".)
//!
//! Matching runs over a *normalised* form of a field: its words joined by single spaces, with
//! a space before the first and after the last, so that a pattern ` word ` only matches whole
//! words and ` prefix` only matches word starts.

use std::collections::HashMap;
use std::sync::OnceLock;

pub use record::is_cjk;

/// Traditional → simplified, one character to one character (see the module docs).
fn t2s() -> &'static HashMap<char, char> {
    static TABLE: OnceLock<HashMap<char, char>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = HashMap::new();
        // The built-in configuration is compiled into the crate; it cannot fail to load but
        // for a broken build, and then no folding is the safe fallback.
        let Ok(opencc) = ferrous_opencc::OpenCC::from_config(ferrous_opencc::config::BuiltinConfig::T2s) else {
            return table;
        };
        let mut one = String::new();
        for cp in (0x3400u32..=0x4DBF).chain(0x4E00..=0x9FFF).chain(0xF900..=0xFAFF) {
            let Some(c) = char::from_u32(cp) else { continue };
            one.clear();
            one.push(c);
            let out = opencc.convert(&one);
            let mut chars = out.chars();
            if let (Some(s), None) = (chars.next(), chars.next()) {
                if s != c {
                    table.insert(c, s);
                }
            }
        }
        table
    })
}

/// Appends the folded form of `c` to `out` (see the module docs): lower case, `ё` → `е`, one
/// apostrophe, traditional Chinese → simplified.
#[inline]
pub fn fold(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
    } else if is_apostrophe(c) {
        out.push('\'');
    } else if matches!(c, 'ё' | 'Ё') {
        out.push('е');
    } else if is_cjk(c) {
        out.push(t2s().get(&c).copied().unwrap_or(c));
    } else {
        out.extend(c.to_lowercase());
    }
}

/// A string folded character by character ([`fold`]).
pub fn folded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        fold(c, &mut out);
    }
    out
}

/// One word of a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Byte offset of the word in the normalised string.
    pub norm: usize,
    /// Character offsets `[start, end)` of the word in the original field.
    pub start: u32,
    pub end: u32,
    /// Byte range of the word in the original field (for case-sensitive checks).
    pub bytes: (usize, usize),
}

/// A field cut into words, with its normalised form.
#[derive(Debug, Default)]
pub struct Tokens {
    pub norm: String,
    pub tokens: Vec<Token>,
}

impl Tokens {
    /// The index of the word that starts at byte `norm` of the normalised string.
    pub fn at_norm(&self, norm: usize) -> Option<usize> {
        self.tokens.binary_search_by_key(&norm, |t| t.norm).ok()
    }
}

/// Whether `c` is one of the apostrophes folded into one.
pub fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}')
}

/// Whether `c` is part of a word of letters and digits (CJK characters are words of their own).
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// Cuts `text` into words (see the module docs).
pub fn tokenize(text: &str) -> Tokens {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Tokens {
        norm: String::with_capacity(text.len() + 2),
        tokens: Vec::new(),
    };
    out.norm.push(' ');
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        if is_cjk(c) {
            push_word(&mut out, text, i, i + 1, &chars);
            i += 1;
            continue;
        }
        if !is_word_char(c) {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i + 1;
        loop {
            while end < chars.len() && is_word_char(chars[end].1) {
                end += 1;
            }
            // An apostrophe between letters joins the word.
            if end + 1 < chars.len() && is_apostrophe(chars[end].1) && is_word_char(chars[end + 1].1) {
                end += 2;
                continue;
            }
            break;
        }
        // Drop an English possessive: "Russia's" -> "russia".
        let mut word_end = end;
        if end - start > 2 && is_apostrophe(chars[end - 2].1) && matches!(chars[end - 1].1, 's' | 'S') {
            word_end = end - 2;
        }
        push_word(&mut out, text, start, word_end, &chars);
        i = end;
    }
    out
}

fn push_word(out: &mut Tokens, text: &str, start: usize, end: usize, chars: &[(usize, char)]) {
    let byte_start = chars[start].0;
    let byte_end = chars.get(end).map_or(text.len(), |(b, _)| *b);
    let norm = out.norm.len();
    for c in text[byte_start..byte_end].chars() {
        fold(c, &mut out.norm);
    }
    out.norm.push(' ');
    out.tokens.push(Token {
        norm,
        start: start as u32,
        end: end as u32,
        bytes: (byte_start, byte_end),
    });
}

/// The lower-cased words of a term, as they appear in a normalised field.
pub fn words(text: &str) -> Vec<String> {
    let tokens = tokenize(text);
    tokens
        .tokens
        .iter()
        .map(|t| tokens.norm[t.norm..].split(' ').next().unwrap_or_default().to_string())
        .collect()
}

/// The words of a term with their original case, for aliases matched case-sensitively.
pub fn cased_words(text: &str) -> Vec<String> {
    tokenize(text)
        .tokens
        .iter()
        .map(|t| text[t.bytes.0..t.bytes.1].to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: &[&str]) {
        assert_eq!(words(text), expected, "{text:?}");
    }

    #[test]
    fn words_in_every_script() {
        check("Putin and Xi", &["putin", "and", "xi"]);
        check("Russia's ties, U.S.-China", &["russia", "ties", "u", "s", "china"]);
        check("Xi'an and O’Brien", &["xi'an", "and", "o'brien"]);
        check("Путин и Си Цзиньпин", &["путин", "и", "си", "цзиньпин"]);
        check("Зеленський п'ять", &["зеленський", "п'ять"]);
        check("习近平会见普京", &["习", "近", "平", "会", "见", "普", "京"]);
        check("NATO峰会 2023", &["nato", "峰", "会", "2023"]);
        check("  --  ", &[]);
    }

    #[test]
    fn spellings_of_one_word_fold_together() {
        check("Семёнов СЕМЕНОВ", &["семенов", "семенов"]);
        check("п'ять п’ять пʼять", &["п'ять", "п'ять", "п'ять"]);
        check("臺灣 烏克蘭 習近平", &["台", "湾", "乌", "克", "兰", "习", "近", "平"]);
        assert_eq!(folded("中華人民共和國"), "中华人民共和国");
        assert_eq!(folded("Ёлка"), "елка");
        // Simplified text and other scripts are left as they are.
        assert_eq!(folded("俄罗斯 Україна"), "俄罗斯 україна");
    }

    #[test]
    fn folding_keeps_one_character_for_one() {
        let text = "國際 «臺灣» Ёж";
        let t = tokenize(text);
        assert_eq!(t.norm, " 国 际 台 湾 еж ");
        let chars: Vec<char> = text.chars().collect();
        let last = t.tokens.last().map(|t| (t.start, t.end));
        assert_eq!(last, Some((8, 10)));
        assert_eq!(chars[8..10].iter().collect::<String>(), "Ёж");
    }

    #[test]
    fn offsets_are_characters_of_the_original() {
        let t = tokenize("Путин's «Кремль»");
        assert_eq!(t.norm, " путин кремль ");
        assert_eq!((t.tokens[0].start, t.tokens[0].end), (0, 5));
        assert_eq!((t.tokens[1].start, t.tokens[1].end), (9, 15));
        assert_eq!(t.at_norm(12), Some(1), "Cyrillic letters are two bytes");
    }
}
