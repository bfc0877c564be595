//! Bytes to text for HTML files: the character set is taken from a byte-order mark, else the
//! bytes are used as UTF-8 when they are valid UTF-8 (whatever the page declares: a page that
//! declares Latin-1 but is valid UTF-8 with non-ASCII characters is mis-declared), else the
//! declared `<meta charset>` is used (and when it does not decode the bytes, the charset
//! chardetng guesses from them), else, undeclared, the guessed charset when it decodes them,
//! else windows-1252 (the web's default for undeclared pages) when the bytes hold no valid
//! multi-byte UTF-8 sequence at all. A page that is
//! mostly UTF-8 with a few broken sequences has them replaced by U+FFFD. Bytes that none of
//! these decode go to the legacy multi-byte charset (GBK, Big5, Shift_JIS, EUC-JP, EUC-KR)
//! that leaves the fewest characters undecodable among those whose text reads as their
//! language (Chinese with its commonest characters, Japanese with hiragana, Korean with
//! hangul); where more than 1% of the characters are undecodable whatever the charset, the
//! page is rejected.
//!
//! Text that was already mis-decoded before it reached the page (UTF-8 read as windows-1252
//! by the publisher's system: `Itâ€™s`) decodes cleanly here; it is repaired paragraph by
//! paragraph by [`crate::text::repair_mojibake`].

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("undecodable text: {0}")]
pub struct CharsetError(pub String);

/// The most undecodable characters a text may have, as a share of all characters.
const MAX_BAD: f64 = 0.01;

/// The charset label declared in the first 4 KiB (`<meta charset>` or `content="...; charset="`).
pub fn declared_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let label: String = head[at..]
        .trim_start_matches(['"', '\'', ' '])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    Encoding::for_label(label.as_bytes())
}

/// Decodes an HTML document; returns the text and the name of the encoding used.
pub fn decode_html(bytes: &[u8]) -> Result<(String, &'static str), CharsetError> {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return check(text.into_owned(), encoding.name(), had_errors);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_string(), UTF_8.name()));
    }
    let declared = declared_charset(bytes).filter(|e| *e != UTF_8);
    if let Some(encoding) = declared {
        let (text, _, had_errors) = encoding.decode(bytes);
        let declared = check(text.into_owned(), encoding.name(), had_errors);
        if declared.is_ok() {
            return declared;
        }
        // Mis-declared (a GBK page that says gb2312 and holds characters only GB18030 has, a
        // page that says one charset and is in another): the bytes' own evidence, or the error.
        return guessed(bytes).map_or(declared, Ok);
    }
    // Undeclared and not UTF-8: the bytes' own evidence (chardetng, as browsers guess: GBK,
    // Big5, windows-1251, Shift_JIS…).
    if let Some(decoded) = guessed(bytes) {
        return Ok(decoded);
    }
    let lossy = String::from_utf8_lossy(bytes);
    let has_multibyte = lossy.chars().any(|c| c != '\u{FFFD}' && !c.is_ascii());
    if !has_multibyte {
        let (text, _, had_errors) = WINDOWS_1252.decode(bytes);
        return check(text.into_owned(), WINDOWS_1252.name(), had_errors);
    }
    check(lossy.into_owned(), UTF_8.name(), true).or_else(|err| least_damaged(bytes).ok_or(err))
}

/// The legacy multi-byte charset that leaves the fewest characters of the bytes undecodable,
/// when that is within [`MAX_BAD`]: the last resort for bytes that are neither UTF-8 (not
/// even mostly) nor in a charset chardetng guesses. chardetng rules a charset out at its first
/// malformed sequence, as browsers do, so an undeclared GBK page with one broken character (a
/// stray byte, a character cut in two) comes out as windows-1252; and a single-byte guess is
/// refused for bytes that hold what reads as multi-byte UTF-8, which two-byte Chinese often
/// does by chance.
fn least_damaged(bytes: &[u8]) -> Option<(String, &'static str)> {
    use encoding_rs::{BIG5, EUC_JP, EUC_KR, GBK, SHIFT_JIS};
    let (bad, text, encoding) = [GBK, BIG5, SHIFT_JIS, EUC_JP, EUC_KR]
        .into_iter()
        .map(|encoding| {
            let (text, _, _) = encoding.decode(bytes);
            let bad = text.chars().filter(|&c| c == '\u{FFFD}').count();
            (bad, text, encoding)
        })
        .filter(|(_, text, encoding)| reads_as_its_language(text, encoding))
        .min_by_key(|(bad, _, _)| *bad)?;
    check(text.into_owned(), encoding.name(), bad > 0).ok()
}

/// Whether text decoded in a CJK charset reads as that language rather than as other bytes
/// (windows-1251 Cyrillic, say) paired into characters: Chinese prose has its commonest
/// characters in it (they make about a fifth of it; pairs of other bytes make rare ones),
/// Japanese its hiragana, Korean its hangul syllables.
fn reads_as_its_language(text: &str, encoding: &'static Encoding) -> bool {
    const COMMONEST: &str = "的一是不了在人有我他这個个们們中来來上大为為和国國地到以说說时時要就出会會可也你对對生能而子那得于於着著下自之年过過发發后後作里裡";
    let (mut ideographs, mut common, mut kana, mut hangul) = (0usize, 0usize, 0usize, 0usize);
    for c in text.chars() {
        match c {
            '\u{4E00}'..='\u{9FFF}' => {
                ideographs += 1;
                common += usize::from(COMMONEST.contains(c));
            }
            '\u{3040}'..='\u{30FF}' => kana += 1,
            '\u{AC00}'..='\u{D7A3}' => hangul += 1,
            _ => {}
        }
    }
    if encoding == encoding_rs::SHIFT_JIS || encoding == encoding_rs::EUC_JP {
        10 * kana >= ideographs + kana && kana > 0
    } else if encoding == encoding_rs::EUC_KR {
        2 * hangul >= ideographs + hangul && hangul > 0
    } else {
        20 * common >= ideographs && ideographs > 0
    }
}

/// The bytes decoded in the charset chardetng guesses for them, when that decodes cleanly.
fn guessed(bytes: &[u8]) -> Option<(String, &'static str)> {
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    let encoding = detector.guess(None, true);
    // A single-byte charset decodes any bytes: for bytes that hold valid multi-byte UTF-8
    // (mostly UTF-8, some of it broken) it would only hide the damage.
    let utf8_like = String::from_utf8_lossy(bytes)
        .chars()
        .any(|c| c != '\u{FFFD}' && !c.is_ascii());
    if encoding.is_single_byte() && utf8_like {
        return None;
    }
    let (text, _, had_errors) = encoding.decode(bytes);
    check(text.into_owned(), encoding.name(), had_errors).ok()
}

fn check(text: String, encoding: &'static str, had_errors: bool) -> Result<(String, &'static str), CharsetError> {
    if had_errors {
        let bad = text.chars().filter(|&c| c == '\u{FFFD}').count();
        let share = bad as f64 / text.chars().count().max(1) as f64;
        if share > MAX_BAD {
            return Err(CharsetError(format!(
                "{bad} undecodable characters ({:.1}%) as {encoding}",
                share * 100.0
            )));
        }
    }
    Ok((text, encoding))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charsets() {
        assert_eq!(
            decode_html("<p>café</p>".as_bytes()).unwrap(),
            ("<p>café</p>".into(), "UTF-8")
        );
        let latin1 = b"<meta charset=\"iso-8859-1\"><p>caf\xe9</p>";
        assert_eq!(
            decode_html(latin1).unwrap().0,
            "<meta charset=\"iso-8859-1\"><p>café</p>"
        );
        // Declared Latin-1, but valid UTF-8: the declaration is wrong.
        let misdeclared = "<meta charset=\"iso-8859-1\"><p>café</p>".as_bytes();
        assert_eq!(
            decode_html(misdeclared).unwrap().0,
            "<meta charset=\"iso-8859-1\"><p>café</p>"
        );
        // Undeclared and not UTF-8: windows-1252.
        assert_eq!(
            decode_html(b"<p>caf\xe9 \x93q\x94</p>").unwrap().0,
            "<p>café \u{201c}q\u{201d}</p>"
        );
        let utf16 = b"\xff\xfe<\0p\0>\0";
        assert_eq!(decode_html(utf16).unwrap().0, "<p>");
        // Mostly UTF-8, but a tenth of it broken: rejected with a clear error.
        let mut broken = "é".repeat(50).into_bytes();
        broken.extend(std::iter::repeat_n(0xff, 20));
        let err = decode_html(&broken).unwrap_err();
        assert!(err.to_string().contains("undecodable characters"), "{err}");
        // Undeclared GBK, and GBK declared as gb2312 with characters only GB18030 has: the
        // bytes' own charset.
        let chinese = "<p>中俄签署天然气贸易协议，两国领导人出席了签字仪式。</p>";
        let (gbk, _, _) = encoding_rs::GBK.encode(chinese);
        assert_eq!(decode_html(&gbk).unwrap().0, chinese);
        // Undeclared GBK with a broken character, which rules GBK out for chardetng: the
        // multi-byte charset that decodes the rest.
        let mut broken = Vec::new();
        for _ in 0..40 {
            broken.extend_from_slice(&gbk);
        }
        broken.extend_from_slice(b"<p>\xc7</p>");
        broken.extend_from_slice(&gbk);
        let (text, encoding) = decode_html(&broken).unwrap();
        assert_eq!(encoding, "GBK");
        assert_eq!(text.matches(chinese).count(), 41, "{text}");
        assert_eq!(text.matches('\u{FFFD}').count(), 1, "{text}");
        // Cyrillic in windows-1251 pairs into rare Chinese characters in GBK and Big5: it does
        // not read as Chinese, so the last resort does not take either charset for it.
        let russian = "<p>Президент встретился с премьер-министром, переговоры продолжатся в Стамбуле.</p>";
        let russian = russian.repeat(3);
        let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(&russian);
        assert!(!reads_as_its_language(
            &encoding_rs::GBK.decode(&cp1251).0,
            encoding_rs::GBK
        ));
        assert!(!reads_as_its_language(
            &encoding_rs::BIG5.decode(&cp1251).0,
            encoding_rs::BIG5
        ));
        assert!(reads_as_its_language(chinese, encoding_rs::GBK));
        let declared = format!("<meta charset=\"utf-8\">{chinese}");
        let (gbk, _, _) = encoding_rs::GBK.encode(&declared);
        assert_eq!(decode_html(&gbk).unwrap().0, declared, "declared UTF-8, but GBK");
    }
}
