//! Byte scans of a page before it is parsed: its nesting and element count (the budget's
//! pre-check), the inert elements cut before parsing, the share of undecodable characters.

use super::*;

/// The largest element nesting depth and the number of elements, from a cheap scan of the
/// tags (not a parse: void elements and self-closing tags do not nest; the content of
/// `<script>` and `<style>` is skipped).
pub fn nesting(html: &str) -> (usize, usize) {
    const VOID: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    ];
    let bytes = html.as_bytes();
    let (mut depth, mut max_depth, mut elements) = (0usize, 0usize, 0usize);
    let mut i = 0;
    while let Some(off) = memchr(b'<', &bytes[i..]) {
        i += off + 1;
        let closing = bytes.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'-') {
            end += 1;
        }
        if end == start || !bytes[start].is_ascii_alphabetic() {
            continue;
        }
        let name = &bytes[start..end];
        if closing {
            depth = depth.saturating_sub(1);
            continue;
        }
        elements += 1;
        let tag_end = memchr(b'>', &bytes[end..]).map_or(bytes.len(), |o| end + o);
        let self_closing = tag_end > 0 && bytes.get(tag_end - 1) == Some(&b'/');
        if name.eq_ignore_ascii_case(b"script") || name.eq_ignore_ascii_case(b"style") {
            // Past `</script` (its closing tag neither opens nor closes a level).
            i = (find_closing(bytes, tag_end.min(bytes.len()), name) + 2 + name.len()).min(bytes.len());
            continue;
        }
        if !VOID.iter().any(|v| name.eq_ignore_ascii_case(v.as_bytes())) && !self_closing {
            depth += 1;
            max_depth = max_depth.max(depth);
        }
        i = tag_end.min(bytes.len());
    }
    (max_depth, elements)
}

/// The page without what no extractor reads: scripts (except JSON-LD, which the metadata
/// comes from), styles, inline SVG and comments. Half the bytes of a typical news page are
/// scripts and styles; the parser need not tokenise them only for dom_smoothie to remove
/// them. An element whose closing tag is missing is left in place (and so is the rest of the
/// page), as is anything the scan is unsure of, so the parse of what remains is the parse of
/// the page minus those elements.
pub fn strip_inert(html: &str) -> std::borrow::Cow<'_, str> {
    const INERT: &[&[u8]] = &[b"script", b"style", b"svg"];
    let bytes = html.as_bytes();
    let mut out = String::new();
    let (mut kept_to, mut i) = (0, 0);
    // Each search remembers what it found, so that no stretch of the page is searched twice
    // for the same thing: a page of many `<style>`s or `<!--`s that never close, or of `<`s
    // without a `>`, searched to its end from each of them (a 2 MB page took minutes; found
    // by fuzzing).
    let (mut comment_end, mut tag_end_at) = (Next::default(), Next::default());
    let mut closing = [Next::default(), Next::default(), Next::default()];
    // Open tags that end at one `>` (when it is far) share their end, and the last
    // `ld+json` before it: (the tag's end, where the search began, the last one found).
    let mut json_ld_before: Option<(usize, usize, Option<usize>)> = None;
    while let Some(off) = memchr(b'<', &bytes[i..]) {
        let start = i + off;
        let rest = &bytes[start + 1..];
        let cut_to = if rest.starts_with(b"!--") {
            let end = comment_end.find(start + 4, |from| {
                memchr::memmem::find(&bytes[from..], b"-->").map_or(bytes.len(), |e| from + e)
            });
            (end < bytes.len()).then_some(end + 3)
        } else {
            let name_len = rest.iter().take_while(|b| b.is_ascii_alphanumeric()).count();
            let name = &rest[..name_len];
            let after = rest.get(name_len).copied();
            let inert = INERT
                .iter()
                .position(|n| name.eq_ignore_ascii_case(n))
                .filter(|_| after.is_some_and(|b| b.is_ascii_whitespace() || b == b'>' || b == b'/'));
            let gt = |from: usize| memchr(b'>', &bytes[from..]).map_or(bytes.len(), |o| from + o);
            match inert.map(|k| (k, tag_end_at.find(start + 1, gt))) {
                Some((k, tag_end)) if tag_end < bytes.len() => {
                    let open = &bytes[start..tag_end];
                    let json_ld = name.eq_ignore_ascii_case(b"script") && {
                        let last = match json_ld_before {
                            Some((end, from, last)) if end == tag_end && from <= start => last,
                            _ => {
                                let last = open
                                    .windows(7)
                                    .rposition(|w| w.eq_ignore_ascii_case(b"ld+json"))
                                    .map(|p| start + p);
                                json_ld_before = Some((tag_end, start, last));
                                last
                            }
                        };
                        last.is_some_and(|p| p >= start)
                    };
                    if json_ld {
                        None
                    } else if name.eq_ignore_ascii_case(b"svg") && open.ends_with(b"/") {
                        Some(tag_end + 1)
                    } else {
                        let close = closing[k].find(tag_end + 1, |from| find_closing(bytes, from, name));
                        (close < bytes.len())
                            .then(|| tag_end_at.find(close, gt))
                            .filter(|end| *end < bytes.len())
                            .map(|end| end + 1)
                    }
                }
                _ => None,
            }
        };
        match cut_to {
            Some(end) => {
                out.push_str(&html[kept_to..start]);
                kept_to = end;
                i = end;
            }
            None => i = start + 1,
        }
    }
    if kept_to == 0 {
        return std::borrow::Cow::Borrowed(html);
    }
    out.push_str(&html[kept_to..]);
    std::borrow::Cow::Owned(out)
}

/// The last answer of one kind of search ("the next X at or after `from`, or the end"): it is
/// also the answer for any `from` between that search's start and what it found.
struct Next {
    from: usize,
    found: usize,
}

impl Default for Next {
    fn default() -> Self {
        Next {
            from: usize::MAX,
            found: 0,
        }
    }
}

impl Next {
    fn find(&mut self, from: usize, search: impl FnOnce(usize) -> usize) -> usize {
        if !(self.from <= from && from <= self.found) {
            self.found = search(from);
            self.from = from;
        }
        self.found
    }
}

/// Where `</name` (any case) starts at or after `from`, or the end of the input.
pub(super) fn find_closing(bytes: &[u8], from: usize, name: &[u8]) -> usize {
    let mut at = from;
    while let Some(off) = memchr(b'<', &bytes[at..]) {
        let start = at + off;
        let rest = &bytes[start + 1..];
        if rest.first() == Some(&b'/') && rest.len() > name.len() && rest[1..=name.len()].eq_ignore_ascii_case(name) {
            return start;
        }
        at = start + 1;
    }
    bytes.len()
}

/// The share of U+FFFD replacement characters among the characters of `text`.
pub(super) fn replacement_ratio(text: &str) -> f64 {
    if !text.contains('\u{FFFD}') {
        return 0.0;
    }
    let bad = text.matches('\u{FFFD}').count();
    bad as f64 / text.chars().count().max(1) as f64
}
