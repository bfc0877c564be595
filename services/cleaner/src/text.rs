//! HTML to clean plain text.

use scraper::{ElementRef, Html, Node, Selector};
use unicode_normalization::UnicodeNormalization;

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

/// One paragraph of clean text: NFC, no soft hyphens or zero-width characters, runs of
/// whitespace (including non-breaking spaces) folded to one space, trimmed. Quotes and
/// dashes are kept as they are.
pub fn normalize_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfc() {
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
