//! The article-extraction-benchmark's body-text metric.
//!
//! Tokens are runs of word characters (`\w+`: Unicode letters, digits, marks and `_`),
//! shingles are token 4-grams (a text of fewer than four tokens is one shorter shingle).
//! For one page, true positives, false positives and false negatives are counted over the
//! two shingle multisets and normalised to sum to 1. Precision and recall are computed per
//! page and averaged over pages; F1 is computed from the two averages.

use std::collections::HashMap;

/// The shingle length.
const N: usize = 4;

/// One page's normalised counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// Shingles in both texts.
    pub tp: f64,
    /// Shingles only in the extracted text.
    pub fp: f64,
    /// Shingles only in the expected text.
    pub fn_: f64,
}

impl Match {
    /// Precision of this page (1 when both texts are empty, 0 when nothing matched).
    pub fn precision(&self) -> f64 {
        if self.fp == 0.0 && self.fn_ == 0.0 {
            1.0
        } else if self.tp == 0.0 && self.fp == 0.0 {
            0.0
        } else {
            self.tp / (self.tp + self.fp)
        }
    }

    /// Recall of this page (1 when both texts are empty, 0 when nothing matched).
    pub fn recall(&self) -> f64 {
        if self.fp == 0.0 && self.fn_ == 0.0 {
            1.0
        } else if self.tp == 0.0 && self.fn_ == 0.0 {
            0.0
        } else {
            self.tp / (self.tp + self.fn_)
        }
    }

    /// F1 of this page alone.
    pub fn f1(&self) -> f64 {
        f1(self.precision(), self.recall())
    }
}

/// Averages over pages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Mean per-page precision.
    pub precision: f64,
    /// Mean per-page recall.
    pub recall: f64,
    /// F1 of the two means.
    pub f1: f64,
}

fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || unicode_mark(c)
}

/// Combining marks count as word characters, as in Python's `\w` on Devanagari and similar.
fn unicode_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x0900..=0x0DFF | 0x1AB0..=0x1AFF | 0x20D0..=0x20FF) && !c.is_whitespace()
}

/// The `\w+` tokens of a text.
pub fn tokens(text: &str) -> Vec<&str> {
    text.split(|c: char| !is_word_char(c))
        .filter(|t| !t.is_empty())
        .collect()
}

fn shingles<'a>(tokens: &'a [&'a str]) -> HashMap<&'a [&'a str], u32> {
    let mut counts = HashMap::new();
    if tokens.is_empty() {
        return counts;
    }
    let windows = tokens.len().saturating_sub(N) + 1;
    for i in 0..windows {
        let end = (i + N).min(tokens.len());
        *counts.entry(&tokens[i..end]).or_insert(0) += 1;
    }
    counts
}

/// The tokens of a text with every CJK ideograph and kana a token of its own (a `\w+` run
/// would be a whole clause): the metric for Chinese pages.
pub fn cjk_tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if record::is_cjk(c) {
            if let Some(s) = start.take() {
                out.push(&text[s..i]);
            }
            out.push(&text[i..i + c.len_utf8()]);
        } else if is_word_char(c) {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            out.push(&text[s..i]);
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// Scores one extracted text against the expected one.
pub fn shingle_match(expected: &str, extracted: &str) -> Match {
    shingle_match_by(expected, extracted, tokens)
}

/// [`shingle_match`] with CJK characters as tokens ([`cjk_tokens`]).
pub fn shingle_match_cjk(expected: &str, extracted: &str) -> Match {
    shingle_match_by(expected, extracted, cjk_tokens)
}

fn shingle_match_by(expected: &str, extracted: &str, tokens: fn(&str) -> Vec<&str>) -> Match {
    let expected_tokens = tokens(expected);
    let extracted_tokens = tokens(extracted);
    let truth = shingles(&expected_tokens);
    let pred = shingles(&extracted_tokens);
    let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
    for (shingle, &t) in &truth {
        let p = pred.get(shingle).copied().unwrap_or(0);
        tp += f64::from(t.min(p));
        fn_ += f64::from(t.saturating_sub(p));
        fp += f64::from(p.saturating_sub(t));
    }
    for (shingle, &p) in &pred {
        if !truth.contains_key(shingle) {
            fp += f64::from(p);
        }
    }
    let sum = tp + fp + fn_;
    if sum > 0.0 {
        tp /= sum;
        fp /= sum;
        fn_ /= sum;
    }
    Match { tp, fp, fn_ }
}

/// Mean precision and recall over pages, and their F1.
pub fn summarize(pages: &[Match]) -> Summary {
    if pages.is_empty() {
        return Summary {
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
        };
    }
    let n = pages.len() as f64;
    let precision = pages.iter().map(Match::precision).sum::<f64>() / n;
    let recall = pages.iter().map(Match::recall).sum::<f64>() / n;
    Summary {
        precision,
        recall,
        f1: f1(precision, recall),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_characters_are_tokens_of_their_own() {
        assert_eq!(
            cjk_tokens("中俄签署,Xi访问 2024年"),
            ["中", "俄", "签", "署", "Xi", "访", "问", "2024", "年"]
        );
        assert_eq!(tokens("中俄签署,Xi访问"), ["中俄签署", "Xi访问"]);
        // One changed character costs a few shingles, not the whole clause.
        let m = shingle_match_cjk("我们今天签署了天然气协议", "我们今天签署了天然油协议");
        assert!(m.precision() > 0.5 && m.precision() < 1.0, "{m:?}");
        assert_eq!(
            shingle_match("我们今天签署了天然气协议", "我们今天签署了天然油协议").tp,
            0.0
        );
    }
}
