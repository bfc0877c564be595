//! Fingerprints of an article's text: the exact content key, the "material" key that decides
//! revisions, the 64-bit SimHash and the MinHash signature.
//!
//! Every hash here is a fixed function of the text (FNV-1a and the SplitMix64 finaliser), so
//! fingerprints are the same in every process and across restarts: they are persisted.

/// Words of the text: runs of letters and digits (Unicode-aware), folded as the tagger folds
/// them ([`analysis::fold`]: lower case, `ё` as `е`, traditional Chinese as simplified). Punctuation,
/// whitespace and markup left-overs separate words, so that reflowed or re-punctuated copies
/// give the same words. Digits joined by `:`, `.` or `,` stay one word ("10:32", "1,234",
/// "3.5"), so that clock times and counts can be recognised as such. Chinese and Japanese
/// write no spaces: each ideograph and kana is a word of its own ([`is_cjk`]), so that a
/// clause is not one word and shingles are character 3-grams.
pub fn words(text: &str) -> Vec<String> {
    Words::of(text).iter().map(str::to_string).collect()
}

/// A text's [`words`], tokenised once for every key and feature computed from it: the words
/// lower-cased into one buffer, and for each whether it came from a link (a
/// whitespace-separated token that starts with `http://`, `https://` or `www.`, see
/// [`without_links`]). A record's text is read once this way, not once per fingerprint.
#[derive(Debug, Default, Clone)]
pub struct Words {
    buf: String,
    /// Where each word ends in `buf` (it starts where the previous one ends).
    ends: Vec<u32>,
    /// Whether each word is part of a link.
    in_link: Vec<bool>,
    /// How many words are one CJK character.
    cjk: usize,
}

impl Words {
    pub fn of(text: &str) -> Words {
        let mut words = Words {
            buf: String::with_capacity(text.len()),
            ends: Vec::with_capacity(text.len() / 5),
            in_link: Vec::with_capacity(text.len() / 5),
            cjk: 0,
        };
        // A word never spans whitespace, so the text can be read token by token, each
        // knowing whether it is a link.
        for token in text.split_whitespace() {
            words.push_token(token, is_link(token));
        }
        words
    }

    fn push_token(&mut self, token: &str, link: bool) {
        let mut start = self.buf.len();
        for c in token.chars() {
            if c.is_ascii() {
                let b = c as u8;
                if b.is_ascii_alphanumeric() {
                    self.buf.push(b.to_ascii_lowercase() as char);
                } else if (b == b':' || b == b'.' || b == b',')
                    && self.buf.len() > start
                    && self.buf.as_bytes()[self.buf.len() - 1].is_ascii_digit()
                {
                    self.buf.push(c);
                } else {
                    start = self.finish(start, link);
                }
            } else if is_cjk(c) {
                start = self.finish(start, link);
                analysis::fold(c, &mut self.buf);
                self.cjk += 1;
                start = self.finish(start, link);
            } else if c.is_alphanumeric() {
                analysis::fold(c, &mut self.buf);
            } else {
                start = self.finish(start, link);
            }
        }
        self.finish(start, link);
    }

    /// Ends the word begun at `start` (if any), without trailing `:`, `.` or `,`; returns
    /// where the next one starts.
    fn finish(&mut self, start: usize, link: bool) -> usize {
        while self.buf.len() > start && matches!(self.buf.as_bytes()[self.buf.len() - 1], b':' | b'.' | b',') {
            self.buf.pop();
        }
        if self.buf.len() > start {
            self.ends.push(u32::try_from(self.buf.len()).unwrap_or(u32::MAX));
            self.in_link.push(link);
        }
        self.buf.len()
    }

    /// How many words.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The words, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + Clone + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&e| e as usize));
        starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.buf[start..end as usize])
    }

    /// The words that are not part of a link.
    pub fn without_links(&self) -> impl Iterator<Item = &str> + Clone + '_ {
        self.iter()
            .zip(&self.in_link)
            .filter(|(_, link)| !**link)
            .map(|(w, _)| w)
    }

    /// How many words are not part of a link.
    pub fn len_without_links(&self) -> usize {
        self.in_link.iter().filter(|link| !**link).count()
    }

    /// The shingle size for these words: [`SHINGLE_WORDS`], or [`SHINGLE_CJK`] when most of
    /// them are CJK characters (a character is nearer a syllable than a word: three of them
    /// are a word or two, and different stories in one template share most such shingles).
    pub fn shingle_size(&self) -> usize {
        if self.cjk * 2 > self.len() {
            SHINGLE_CJK
        } else {
            SHINGLE_WORDS
        }
    }
}

pub use analysis::is_cjk;

/// Whether a whitespace-separated token is a link (see [`without_links`]).
fn is_link(token: &str) -> bool {
    let starts = |prefix: &str| {
        token
            .as_bytes()
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
    };
    starts("http://") || starts("https://") || starts("www.")
}

/// FNV-1a over bytes, then the SplitMix64 finaliser for a good bit mix.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// The SplitMix64 finaliser: a bijection that spreads every input bit over the output.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hashes a sequence of words (order matters).
fn hash_words<'a>(words: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut h: u64 = 0x84222325cbf29ce4;
    for w in words {
        h = mix(h ^ hash_bytes(w.as_bytes()));
    }
    h
}

/// Separates the fields (title, text) in a hashed word sequence.
const FIELD_BREAK: &str = "\u{1}";

/// Below this many words of body text, the exact content key also covers the title: short
/// bodies (a one-line feed summary, a channel's boilerplate description) are shared by
/// different stories too often to identify one on their own.
pub const SHORT_BODY_WORDS: usize = 40;

/// The exact-duplicate key: a hash of the normalised words of the body (plus the title when
/// the body is short). Whitespace, case and punctuation do not count.
pub fn content_key(title: &str, text: &str) -> u64 {
    content_key_of(&Words::of(title), &Words::of(text))
}

/// [`content_key`] of words already read.
pub fn content_key_of(title: &Words, text: &Words) -> u64 {
    if text.len() >= SHORT_BODY_WORDS {
        hash_words(text.iter())
    } else {
        hash_words(title.iter().chain([FIELD_BREAK]).chain(text.iter()))
    }
}

/// Words that, after a number, make it a counter or a relative time that changes without the
/// story changing ("1,234 shares", "5 min read", "3 hours ago").
const VOLATILE_UNITS: &[&str] = &[
    "share",
    "shares",
    "comment",
    "comments",
    "view",
    "views",
    "like",
    "likes",
    "reads",
    "read",
    "min",
    "mins",
    "minute",
    "minutes",
    "hour",
    "hours",
    "hr",
    "hrs",
    "second",
    "seconds",
    "sec",
    "secs",
    "ago",
    "day",
    "days",
    "reactions",
    "retweets",
];

/// Words that introduce a time stamp ("updated 10 march 2024").
const STAMP_WORDS: &[&str] = &["updated", "published", "posted", "modified", "last"];

const MONTHS: &[&str] = &[
    "jan",
    "january",
    "feb",
    "february",
    "mar",
    "march",
    "apr",
    "april",
    "may",
    "jun",
    "june",
    "jul",
    "july",
    "aug",
    "august",
    "sep",
    "sept",
    "september",
    "oct",
    "october",
    "nov",
    "november",
    "dec",
    "december",
    "am",
    "pm",
    "gmt",
    "utc",
    "bst",
    "cet",
    "est",
    "edt",
    "pst",
    "pdt",
];

fn is_number(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_ascii_digit())
        && word.chars().all(|c| c.is_ascii_digit() || ":.,".contains(c))
}

/// The key that decides whether a changed article is a new revision: the content key of the
/// words that remain once the volatile ones are dropped: clock times (`10:32`), numbers
/// followed by a counter or time unit (`1,234 shares`, `3 hours ago`), and time stamps after
/// "updated"/"published" (`Updated 12 March 2024 10:32 GMT`). Every other change, including a
/// changed figure in the story itself ("12 dead" becoming "15 dead"), is material.
pub fn material_key(title: &str, text: &str) -> u64 {
    material_key_of(&Words::of(title), &Words::of(text))
}

/// [`material_key`] of words already read.
pub fn material_key_of(title: &Words, text: &Words) -> u64 {
    let mut kept: Vec<&str> = Vec::with_capacity(title.len() + text.len() + 3);
    let mut ws: Vec<&str> = Vec::new();
    for field in [Some(title), None, Some(text)] {
        ws.clear();
        ws.extend(field.into_iter().flat_map(Words::iter));
        let mut i = 0;
        while i < ws.len() {
            let w = ws[i];
            if STAMP_WORDS.contains(&w) {
                // Keep the stamp word, skip the date/time words after it.
                kept.push(w);
                i += 1;
                while i < ws.len() && (is_number(ws[i]) || MONTHS.contains(&ws[i]) || ws[i] == "on" || ws[i] == "at") {
                    i += 1;
                }
                continue;
            }
            if w.contains(':') && is_number(w) {
                i += 1;
                continue;
            }
            if is_number(w) && ws.get(i + 1).is_some_and(|next| VOLATILE_UNITS.contains(next)) {
                i += 1;
                continue;
            }
            kept.push(w);
            i += 1;
        }
        kept.push(FIELD_BREAK);
    }
    hash_words(kept)
}

/// The text without its links: whitespace-separated tokens that start with `http://`,
/// `https://` or `www.` are left out. Video and podcast descriptions end in long runs of
/// channel, playlist and social-media links that are the same under every item of a channel;
/// as shingles they would make different stories look alike.
pub fn without_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for token in text.split_whitespace() {
        let lower = token.get(..8).unwrap_or(token).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www.") {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(token);
    }
    out
}

/// Words per shingle for near-duplicate features.
pub const SHINGLE_WORDS: usize = 3;
/// Characters per shingle for text written in CJK characters (see [`Words::shingle_size`]).
pub const SHINGLE_CJK: usize = 5;

/// The hashed word shingles of the title and text: every run of [`SHINGLE_WORDS`] words
/// (a text shorter than that gives one shingle of all its words). Links do not count (see
/// [`without_links`]). Duplicates are removed.
pub fn shingles(title: &str, text: &str, size: usize) -> Vec<u64> {
    shingles_of(&Words::of(title), &Words::of(text), size)
}

/// [`shingles`] of words already read.
pub fn shingles_of(title: &Words, text: &Words, size: usize) -> Vec<u64> {
    let hashes: Vec<u64> = title
        .iter()
        .chain(text.without_links())
        .map(|w| hash_bytes(w.as_bytes()))
        .collect();
    let mut out: Vec<u64> = if hashes.len() <= size {
        if hashes.is_empty() {
            Vec::new()
        } else {
            vec![hashes.iter().fold(0u64, |h, w| mix(h ^ w))]
        }
    } else {
        hashes
            .windows(size)
            .map(|window| window.iter().fold(0u64, |h, w| mix(h.rotate_left(17) ^ w)))
            .collect()
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// The numbers of a text (links left out), for telling a template's instances apart: each
/// word of two or more characters that is a number («2023», «17.3», «6,731», «12:30»; one
/// digit is too common to say anything) with the word before it («增长 17», «day 366»), among its first
/// `within` words (`usize::MAX`: the whole text), as hashes, sorted and each once. The word
/// before makes a number a figure of the text: a long text holds most two-digit numbers
/// somewhere, but not «增长 18» unless it says so.
pub fn numbers(text: &Words, within: usize) -> Vec<u32> {
    let mut out = Vec::new();
    let mut before = "";
    for w in text.without_links().take(within) {
        if w.len() >= 2 && w.bytes().all(|b| b.is_ascii_digit() || b".,:".contains(&b)) {
            out.push((mix(hash_bytes(before.as_bytes()) ^ hash_bytes(w.as_bytes()).rotate_left(29)) >> 32) as u32);
        }
        before = w;
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The containment samples of a text (links left out): its word [`SHINGLE_WORDS`]-shingles
/// whose hash is a multiple of `every`, each as the high half of its hash, sorted and each
/// once; for each of `within`, those of the shingles that lie within its first that many
/// words (`usize::MAX`: the whole text). A shingle is sampled or not whatever text it is in,
/// so the share of one text's samples found among another's estimates the share of its
/// shingles contained in the other (Broder's containment), however different their lengths.
pub fn samples<const N: usize>(text: &Words, every: u64, within: [usize; N]) -> [Vec<u32>; N] {
    let hashes: Vec<u64> = text.without_links().map(|w| hash_bytes(w.as_bytes())).collect();
    let mut out: [Vec<u32>; N] = std::array::from_fn(|_| Vec::new());
    let size = text.shingle_size();
    for (start, window) in hashes.windows(size).enumerate() {
        let h = window.iter().fold(0u64, |h, w| mix(h.rotate_left(17) ^ w));
        if h % every != 0 {
            continue;
        }
        let value = (h >> 32) as u32;
        for (v, &words) in out.iter_mut().zip(&within) {
            if start + size <= words {
                v.push(value);
            }
        }
    }
    for v in &mut out {
        v.sort_unstable();
        v.dedup();
    }
    out
}

/// The 64-bit SimHash (Charikar; Manku et al., WWW 2007) of a set of hashed features, each
/// with weight 1: bit `i` is set when more features have bit `i` set than not.
pub fn simhash(features: &[u64]) -> u64 {
    let mut counts = [0i32; 64];
    for &f in features {
        for (bit, count) in counts.iter_mut().enumerate() {
            if f >> bit & 1 == 1 {
                *count += 1;
            } else {
                *count -= 1;
            }
        }
    }
    counts
        .iter()
        .enumerate()
        .fold(0u64, |h, (bit, &c)| if c > 0 { h | 1 << bit } else { h })
}

/// The similarity of two SimHashes: 1 − Hamming distance / 64.
pub fn simhash_similarity(a: u64, b: u64) -> f64 {
    1.0 - f64::from((a ^ b).count_ones()) / 64.0
}

/// The MinHash signature of a feature set: for each of `perms` hash functions
/// `h_i(x) = mix(x ^ seed_i)`, the minimum over the features (its low 32 bits kept, which is
/// plenty to estimate a Jaccard similarity).
pub fn minhash(features: &[u64], perms: usize) -> Vec<u32> {
    let seeds: Vec<u64> = (0..perms as u64)
        .map(|i| mix(i.wrapping_add(0x9e37_79b9_7f4a_7c15)))
        .collect();
    let mut sig = vec![u32::MAX; perms];
    for &f in features {
        for (slot, seed) in sig.iter_mut().zip(&seeds) {
            let h = mix(f ^ seed) as u32;
            if h < *slot {
                *slot = h;
            }
        }
    }
    sig
}

/// The estimated Jaccard similarity of two MinHash signatures of equal length.
pub fn minhash_similarity(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    equal as f64 / a.len() as f64
}

/// The exact Jaccard similarity of two sorted, de-duplicated feature sets.
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 { 0.0 } else { both as f64 / union as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tokeniser as first written (a `String` per word, links removed by re-joining the
    /// text), kept to check the one-pass [`Words`] against: the keys are persisted, so the
    /// same text must give the same words, byte for byte. (Once, deliberately, they changed:
    /// CJK characters became words of their own; then letters were folded as the tagger folds
    /// them (ё, traditional Chinese); an article remembered before either comes out once as a
    /// revision when it is seen again.)
    fn reference_words(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut current = String::new();
        let finish = |mut word: String| {
            while word.ends_with([':', '.', ',']) {
                word.pop();
            }
            word
        };
        for c in text.chars() {
            if is_cjk(c) {
                if !current.is_empty() {
                    out.push(finish(std::mem::take(&mut current)));
                }
                out.push(analysis::folded(&c.to_string()));
            } else if c.is_alphanumeric() {
                analysis::fold(c, &mut current);
            } else if (c == ':' || c == '.' || c == ',') && current.chars().last().is_some_and(|l| l.is_ascii_digit()) {
                current.push(c);
            } else if !current.is_empty() {
                out.push(finish(std::mem::take(&mut current)));
            }
        }
        if !current.is_empty() {
            out.push(finish(current));
        }
        out
    }

    fn corpus_texts() -> Vec<String> {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
        let mut texts: Vec<String> = [
            "Putin  and\nXi, at 10:32. 1,234 shares; 3.5% 10:. 7,, x.y,z 2024-03-10T10:32",
            "Watch: https://youtu.be/x and WWW.Example.com/a, then\nmore http://a.b HTTPS://X.Y www",
            "İSTANBUL ǅungla ΣΊΣΥΦΟΣ Straße ＦＵＬＬ 中俄签署天然气贸易协议 Зеленського ʼ 𝐁𝐨𝐥𝐝 ١٢٣ ²³",
            "wwW.é\u{a0}https://é\u{2003}httpé://x hé://",
        ]
        .map(String::from)
        .to_vec();
        let items = std::fs::read_to_string(corpus.join("news_items.jsonl")).expect("the corpus beside the checkout");
        for line in items.lines().take(3000) {
            let item: serde_json::Value = serde_json::from_str(line).unwrap();
            for field in ["title", "summary"] {
                if let Some(text) = item[field].as_str() {
                    texts.push(text.to_string());
                }
            }
        }
        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(corpus.join("articles/scrapinghub-aeb/ground-truth.json")).unwrap())
                .unwrap();
        for article in truth.as_object().unwrap().values().take(200) {
            texts.extend(article["articleBody"].as_str().map(String::from));
        }
        texts
    }

    #[test]
    fn one_pass_words_are_the_words_of_the_first_tokeniser() {
        let texts = corpus_texts();
        assert!(texts.len() > 1000, "the corpus was read");
        for text in &texts {
            let words = Words::of(text);
            assert_eq!(words.iter().collect::<Vec<_>>(), reference_words(text), "{text:?}");
            assert_eq!(
                words.without_links().collect::<Vec<_>>(),
                reference_words(&without_links(text)),
                "without links: {text:?}"
            );
            assert_eq!(words.len_without_links(), reference_words(&without_links(text)).len());
        }
    }

    #[test]
    fn words_ignore_case_punctuation_and_whitespace() {
        assert_eq!(
            words("Putin  and\nXi, at 10:32."),
            ["putin", "and", "xi", "at", "10:32"]
        );
        assert_eq!(words("1,234 shares"), ["1,234", "shares"]);
        assert_eq!(words("Путин и Си"), ["путин", "и", "си"]);
        assert_eq!(
            words("中俄签署协议，Xi访问"),
            ["中", "俄", "签", "署", "协", "议", "xi", "访", "问"]
        );
        // Kanji fold as traditional Chinese does (東 is 东), whatever the language: a copy
        // folds the same way as its original.
        assert_eq!(words("東京タワー 2024年"), ["东", "京", "タ", "ワ", "ー", "2024", "年"]);
        assert_eq!(words("Семёнов"), words("Семенов"));
    }

    #[test]
    fn content_key_ignores_formatting_but_not_words() {
        let body = "word ".repeat(SHORT_BODY_WORDS) + "end";
        assert_eq!(content_key("A", &body), content_key("B", &body.replace(' ', "\n\n")));
        assert_ne!(content_key("A", &body), content_key("A", &(body.clone() + " more")));
        // A short body is not enough on its own: the title counts too.
        assert_ne!(content_key("A", "Watch the video"), content_key("B", "Watch the video"));
        assert_eq!(
            content_key("A b", "Watch the video"),
            content_key("a, B", "watch the  video")
        );
    }

    #[test]
    fn material_key_ignores_volatile_words_only() {
        let check = |a: &str, b: &str, same: bool| {
            assert_eq!(material_key("T", a) == material_key("T", b), same, "{a:?} vs {b:?}");
        };
        check("Troops moved. 1,234 shares", "Troops moved. 1,240 shares", true);
        check(
            "Updated 10 March 2024 10:32 GMT. Troops moved.",
            "Updated 11 March 2024 09:00 GMT. Troops moved.",
            true,
        );
        check("Troops moved 3 hours ago.", "Troops moved 4 hours ago.", true);
        check("Troops   moved.", "Troops moved.", true);
        check("12 dead after the strike.", "15 dead after the strike.", false);
        check("Troops moved.", "Troops moved. A ceasefire was agreed.", false);
        assert_ne!(material_key("A", "x"), material_key("B", "x"), "the headline counts");
    }

    #[test]
    fn links_are_not_shingled() {
        assert_eq!(
            without_links("Watch: https://youtu.be/x and WWW.Example.com/a, then\nmore http://a.b"),
            "Watch: and then more"
        );
        assert_eq!(
            shingles("T", "one two three https://example.com/x/y", 3),
            shingles("T", "one two three", 3)
        );
    }

    #[test]
    fn near_copies_are_closer_than_different_texts() {
        let a = "the president met the visiting delegation in the capital on monday to discuss trade and security";
        let b = format!("{a} and climate");
        let c = "heavy rain flooded the valley overnight and the river rose above its banks near the old bridge";
        let (fa, fb, fc) = (shingles("", a, 3), shingles("", &b, 3), shingles("", c, 3));
        assert!(jaccard(&fa, &fb) > 0.8);
        assert_eq!(jaccard(&fa, &fc), 0.0);
        assert!(simhash_similarity(simhash(&fa), simhash(&fb)) > simhash_similarity(simhash(&fa), simhash(&fc)));
        let (ma, mb, mc) = (minhash(&fa, 128), minhash(&fb, 128), minhash(&fc, 128));
        assert!((minhash_similarity(&ma, &mb) - jaccard(&fa, &fb)).abs() < 0.15);
        assert!(minhash_similarity(&ma, &mc) < 0.1);
    }
}
