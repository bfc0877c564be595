//! HTML to clean plain text.

use scraper::{ElementRef, Html, Node, Selector};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// A `<br>` inside a paragraph, kept as a line break while other whitespace is folded.
const LINE_BREAK: char = '\u{2028}';

/// Elements whose content is never article text.
const SKIPPED: &[&str] = &[
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "canvas",
    "iframe",
    "object",
    "embed",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "button",
    "select",
    "textarea",
    "input",
    "figure",
    "figcaption",
    "picture",
    "video",
    "audio",
    "head",
    "title",
    "meta",
    "link",
    // Ruby readings over the characters: 子<rt>こ</rt>ども is 子ども.
    "rt",
    "rp",
];

/// Elements that start a new paragraph.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "table",
    "tr",
    "td",
    "th",
    "hr",
    "address",
    "details",
    "summary",
    "body",
];

/// Plain text of an HTML fragment (or of plain text, which passes through with its entities
/// decoded): paragraphs separated by a blank line, whitespace collapsed, Unicode NFC.
pub fn html_to_text(html: &str) -> String {
    let fragment = Html::parse_fragment(html);
    let mut out = String::new();
    walk(fragment.root_element(), &mut out);
    finish(&out)
}

/// The main text of a whole page: the `<article>` if there is one, else `<main>`, else the
/// body, without navigation, headers, footers, forms and figures.
pub fn main_text(page: &Html) -> String {
    for selector in ["article", "main", "[role=main]", "body"] {
        let Ok(selector) = Selector::parse(selector) else {
            continue;
        };
        let mut out = String::new();
        for element in page.select(&selector) {
            walk(element, &mut out);
            out.push_str("\n\n");
        }
        let text = finish(&out);
        if !text.is_empty() {
            return text;
        }
    }
    String::new()
}

fn walk(element: ElementRef<'_>, out: &mut String) {
    for child in element.children() {
        match child.value() {
            Node::Text(text) => out.push_str(text),
            Node::Element(el) => {
                let name = el.name();
                if SKIPPED.contains(&name) {
                    continue;
                }
                if name == "br" {
                    out.push(LINE_BREAK);
                    continue;
                }
                let block = BLOCKS.contains(&name);
                if block {
                    out.push_str("\n\n");
                }
                if let Some(child) = ElementRef::wrap(child) {
                    walk(child, out);
                }
                if block {
                    out.push_str("\n\n");
                }
            }
            _ => {}
        }
    }
}

/// Splits into paragraphs at blank lines and normalises each.
fn finish(raw: &str) -> String {
    raw.split("\n\n")
        .map(normalize_text)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// One paragraph of clean text: mojibake repaired ([`repair_mojibake`]), NFC, no soft
/// hyphens or zero-width characters, runs of whitespace (including non-breaking spaces)
/// folded to one space, trimmed. Quotes and dashes are kept as they are.
pub fn normalize_text(text: &str) -> String {
    let text = repair_mojibake(text);
    // Most text is already in NFC (all of it when it is ASCII): the quick check says so
    // without composing, which costs several times more than the rest of this function.
    if is_nfc_quick(text.chars()) == IsNormalized::Yes {
        normalize_chars(text.chars(), text.len())
    } else {
        normalize_chars(text.nfc(), text.len())
    }
}

fn normalize_chars(chars: impl Iterator<Item = char>, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut pending_space = false;
    for c in chars {
        match c {
            LINE_BREAK => {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                pending_space = false;
            }
            '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => {}
            c if c.is_whitespace() => pending_space = true,
            c if c.is_control() => {}
            c => {
                if pending_space && !out.is_empty() && !out.ends_with('\n') {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
            }
        }
    }
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

/// The windows-1252 byte that decodes to `c`, for the bytes 0x80–0xFF (a C1 control stands
/// for one of the five bytes windows-1252 leaves undefined, as decoders pass them through).
fn cp1252_byte(c: char) -> Option<u8> {
    static SPECIALS: std::sync::OnceLock<std::collections::HashMap<char, u8>> = std::sync::OnceLock::new();
    match c as u32 {
        code @ 0x80..=0xFF => u8::try_from(code).ok(),
        0x152..=0x2122 => SPECIALS
            .get_or_init(|| {
                (0x80u8..=0x9F)
                    .filter_map(|b| Some((encoding_rs::WINDOWS_1252.decode(&[b]).0.chars().next()?, b)))
                    .collect()
            })
            .get(&c)
            .copied(),
        _ => None,
    }
}

/// Repairs UTF-8 text that was decoded as windows-1252 somewhere upstream ("mojibake"):
/// `Itâ€™s` becomes `It’s`, `cafÃ©` becomes `café`, `Ð¡Ð¾` becomes `Со`. A run of
/// characters is re-encoded as windows-1252 and decoded as UTF-8 only where its bytes form
/// one valid UTF-8 sequence whose character is a plausible one (Latin letters, Cyrillic,
/// punctuation, emoji); ordinary accented text (`café`, `Straße`, `CAFÉ’S`) never forms
/// such a sequence and is left alone.
pub fn repair_mojibake(text: &str) -> std::borrow::Cow<'_, str> {
    // Fast path: every mojibake sequence starts with a character from U+00C2 to U+00F4.
    if !text.chars().any(|c| ('\u{C2}'..='\u{F4}').contains(&c)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let needed = match c as u32 {
            0xC2..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF4 => 3,
            _ => 0,
        };
        if needed > 0 && i + needed < chars.len() {
            let mut bytes = vec![c as u8];
            bytes.extend(
                chars[i + 1..=i + needed]
                    .iter()
                    .map_while(|&n| cp1252_byte(n).filter(|b| (0x80..=0xBF).contains(b))),
            );
            if bytes.len() == needed + 1
                && let Ok(s) = std::str::from_utf8(&bytes)
                && s.chars().all(plausible_repair)
            {
                out.push_str(s);
                changed = true;
                i += needed + 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    if changed {
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Characters that mojibake commonly hides: Latin-1 and Latin Extended-A letters, basic
/// Cyrillic, general punctuation, the euro and trade-mark signs, emoji.
fn plausible_repair(c: char) -> bool {
    matches!(c as u32, 0xA0..=0x17F | 0x400..=0x45F | 0x2010..=0x206F | 0x20AC | 0x2122 | 0x1F300..=0x1FAFF)
}
