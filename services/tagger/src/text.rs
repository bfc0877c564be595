//! Unicode-aware tokenisation, shared by queries, gazetteer aliases and articles, so that a
//! term always cuts into words the same way as the text it is matched against.
//!
//! - A word is a maximal run of letters and digits (any script), lower-cased.
//! - An apostrophe between two letters stays inside the word (`Xi'an`, `п'ять`), and an
//!   English possessive `'s` is dropped (`Russia's` is the word `russia`).
//! - Every CJK ideograph or kana is a word of its own: Chinese and Japanese have no spaces, so
//!   a CJK term (`习近平`) is a phrase of single characters and matches wherever that
//!   sequence of characters occurs.
//!
//! Matching runs over a *normalised* form of a field: its words joined by single spaces, with
//! a space before the first and after the last, so that a pattern ` word ` only matches whole
//! words and ` prefix` only matches word starts.

/// One word of a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
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
pub(crate) struct Tokens {
    pub norm: String,
    pub tokens: Vec<Token>,
}

impl Tokens {
    /// The index of the word that starts at byte `norm` of the normalised string.
    pub fn at_norm(&self, norm: usize) -> Option<usize> {
        self.tokens.binary_search_by_key(&norm, |t| t.norm).ok()
    }
}

/// Whether `c` is written without spaces between words (CJK ideographs and kana).
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x2FFFF) // CJK Extensions B and later
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}')
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// Cuts `text` into words (see the module docs).
pub(crate) fn tokenize(text: &str) -> Tokens {
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
        if c.is_ascii() && c != '\'' {
            out.norm.push(c.to_ascii_lowercase());
        } else if is_apostrophe(c) {
            out.norm.push('\'');
        } else {
            out.norm.extend(c.to_lowercase());
        }
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
pub(crate) fn words(text: &str) -> Vec<String> {
    let tokens = tokenize(text);
    tokens
        .tokens
        .iter()
        .map(|t| tokens.norm[t.norm..].split(' ').next().unwrap_or_default().to_string())
        .collect()
}

/// The words of a term with their original case, for aliases matched case-sensitively.
pub(crate) fn cased_words(text: &str) -> Vec<String> {
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
    fn offsets_are_characters_of_the_original() {
        let t = tokenize("Путин's «Кремль»");
        assert_eq!(t.norm, " путин кремль ");
        assert_eq!((t.tokens[0].start, t.tokens[0].end), (0, 5));
        assert_eq!((t.tokens[1].start, t.tokens[1].end), (9, 15));
        assert_eq!(t.at_norm(12), Some(1), "Cyrillic letters are two bytes");
    }
}
