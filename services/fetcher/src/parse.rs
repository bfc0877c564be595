//! Feed documents to raw records, with the quirks of real feeds: wrong or missing charsets,
//! HTML in titles, relative links, odd or missing dates, JSON Feeds that name their version
//! "1.0", items without a guid.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use record::{FeedRef, RawRecord, Record};

use crate::FeedEntry;

/// A feed document that could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("not a feed: {0}")]
pub struct ParseError(String);

/// A parsed feed document.
#[derive(Debug)]
pub struct ParsedFeed {
    /// The feed's own title, as plain text.
    pub title: Option<String>,
    /// One record per item, in the feed's order.
    pub records: Vec<RawRecord>,
    /// Items' own publication dates (`None` where the feed gave none and the record's
    /// `published_at` is the first sighting), parallel to `records`.
    pub published: Vec<Option<DateTime<Utc>>>,
    /// RSS `<ttl>`: how long the feed may be cached.
    pub ttl: Option<std::time::Duration>,
    /// The charset the document was read in.
    pub encoding: &'static str,
    /// The WebSub hub the feed advertises (`<link rel="hub">`), and ...
    pub hub: Option<String>,
    /// ... its own URL (`rel="self"`), the topic to subscribe to.
    pub self_url: Option<String>,
}

/// Parses a feed document (RSS, Atom or JSON Feed) into raw records, one per item, in the
/// feed's order. Relative links resolve against `base_url` (the URL the feed was served from)
/// and `xml:base`.
pub fn parse_feed(
    feed: &FeedEntry,
    body: &[u8],
    base_url: &str,
    fetched_at: DateTime<Utc>,
) -> Result<Vec<RawRecord>, ParseError> {
    parse_document(feed, body, None, base_url, fetched_at).map(|parsed| parsed.records)
}

/// Like [`parse_feed`], with the HTTP `Content-Type` (its charset is a hint) and what else
/// the document says (TTL, own dates).
pub fn parse_document(
    feed: &FeedEntry,
    body: &[u8],
    content_type: Option<&str>,
    base_url: &str,
    fetched_at: DateTime<Utc>,
) -> Result<ParsedFeed, ParseError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError("the document is empty".into()));
    }
    let (text, encoding) = decode(body, content_type);
    let utf8 = declare_utf8(&text);
    let parsed = match read_feed(&utf8, base_url) {
        Some(parsed) => parsed?,
        // feed-rs 3.0 panics on an e-mail address next to a non-ASCII character in an author
        // field ("张三（zhang@example.com）": it cuts the name one byte off the address, inside
        // the character). Once more with such addresses set apart by spaces; a document it
        // still panics on is not read.
        None => read_feed(&space_out_addresses(&utf8), base_url)
            .ok_or_else(|| ParseError("the feed parser failed on the document".into()))??,
    };
    let title = parsed
        .title
        .as_ref()
        .map(|t| plain_text(&t.content))
        .filter(|t| !t.is_empty());
    let feed_ref = FeedRef {
        url: feed.url.clone(),
        name: feed.name.clone().or_else(|| title.clone()),
        tags: feed.tags.clone(),
        language: feed.language.clone(),
    };
    let language = parsed.language.clone();
    let link = |rel: &str| {
        parsed
            .links
            .iter()
            .find(|l| l.rel.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(rel)))
            .map(|l| l.href.trim().to_string())
            .filter(|href| !href.is_empty())
    };
    let (hub, self_url) = (link("hub"), link("self"));
    let ttl = parsed
        .ttl
        .map(|minutes| std::time::Duration::from_secs(u64::from(minutes) * 60));
    let mut records = Vec::with_capacity(parsed.entries.len());
    let mut published = Vec::with_capacity(parsed.entries.len());
    for entry in parsed.entries {
        let url = entry
            .links
            .iter()
            .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
            .or_else(|| entry.links.first())
            .map(|l| l.href.trim().to_string())
            .filter(|href| !href.is_empty());
        let title = entry
            .title
            .as_ref()
            .map(|t| plain_text(&t.content))
            .filter(|t| !t.is_empty());
        let summary = entry.summary.map(|s| s.content);
        let id = item_id(
            &feed.url,
            url.as_deref(),
            &entry.id,
            title.as_deref(),
            summary.as_deref(),
        );
        let lead_image = entry.media.iter().find_map(|m| {
            m.content
                .iter()
                .filter(|c| c.content_type.as_ref().is_none_or(|t| t.ty() == "image"))
                .find_map(|c| c.url.as_ref().map(|u| u.to_string()))
                .or_else(|| m.thumbnails.first().map(|t| t.image.uri.clone()))
        });
        let own_date = sane_date(entry.published, fetched_at).or_else(|| sane_date(entry.updated, fetched_at));
        published.push(own_date);
        records.push(RawRecord {
            schema_version: RawRecord::SCHEMA_VERSION,
            id,
            feed: feed_ref.clone(),
            guid: Some(entry.id).filter(|g| !g.is_empty()),
            url,
            title,
            summary,
            content: entry.content.and_then(|c| c.body),
            authors: entry
                .authors
                .into_iter()
                .filter_map(|p| p.name)
                .filter(|n| !n.trim().is_empty())
                .collect(),
            categories: entry
                .categories
                .into_iter()
                .map(|c| c.label.unwrap_or(c.term))
                .filter(|c| !c.trim().is_empty())
                .collect(),
            // No date, or a nonsensical one: the first sighting (never 1970).
            published_at: Some(own_date.unwrap_or(fetched_at)),
            updated_at: sane_date(entry.updated, fetched_at),
            language: feed.language.clone().or(entry.language).or_else(|| language.clone()),
            lead_image,
            page: None,
            article_fetch: None,
            fetched_at,
        });
    }
    Ok(ParsedFeed {
        title,
        records,
        published,
        ttl,
        encoding: encoding.name(),
        hub,
        self_url,
    })
}

/// A date the feed gave, if it is believable ([`record::plausible_date`]).
pub(crate) fn sane_date(date: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    date.filter(|d| record::plausible_date(*d, now))
}

/// A stable identity for an item: its link when it has one (so that the same article has
/// the same id whichever feed carries it), else its guid within the feed, else its title
/// (and summary) within the feed.
pub(crate) fn item_id(
    feed_url: &str,
    link: Option<&str>,
    guid: &str,
    title: Option<&str>,
    summary: Option<&str>,
) -> String {
    if let Some(canonical) = link.and_then(record::normalize_url) {
        return record::article_id(&canonical);
    }
    if !guid.is_empty() {
        return record::article_id(&format!("{feed_url}#guid:{guid}"));
    }
    record::article_id(&format!(
        "{feed_url}#title:{}\n{}",
        title.unwrap_or_default(),
        summary.unwrap_or_default().trim()
    ))
}

/// feed-rs's reading of a document (UTF-8, declared so), with the two repairs it needs:
/// JSON Feed versions it does not know, and RSS without its version attribute. `None` when
/// feed-rs panicked (it is third-party code, and a panic here would end the poll).
fn read_feed(utf8: &str, base_url: &str) -> Option<Result<feed_rs::model::Feed, ParseError>> {
    let parser = || {
        feed_rs::parser::Builder::new()
            .base_uri(Some(base_url))
            // Items without an id keep an empty one, so that identity is ours to decide.
            .id_generator(|_, _, _| String::new())
            // Dates in Russian, Ukrainian and Chinese too (English exactly as feed-rs reads it).
            .timestamp_parser(crate::dates::parse)
            .build()
    };
    let read = || match parser().parse(utf8.as_bytes()) {
        Err(feed_rs::parser::ParseFeedError::JsonUnsupportedVersion(version)) => {
            let normalised = normalise_json_feed_version(utf8)
                .ok_or_else(|| ParseError(format!("unsupported JSON Feed version {version:?}")))?;
            parser()
                .parse(normalised.as_bytes())
                .map_err(|err| ParseError(err.to_string()))
        }
        // feed-rs needs RSS's version attribute to recognise the root; old feeds omit it.
        Err(feed_rs::parser::ParseFeedError::ParseError(_)) if utf8.contains("<rss>") => parser()
            .parse(utf8.replacen("<rss>", "<rss version=\"2.0\">", 1).as_bytes())
            .map_err(|err| ParseError(err.to_string())),
        other => other.map_err(|err| ParseError(err.to_string())),
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).ok()
}

/// The text with a space between each e-mail-like word (a run of ASCII other than whitespace
/// around an `@`) and a non-ASCII character right before or after it.
fn space_out_addresses(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii() && !b.is_ascii_whitespace();
    let mut out = String::new();
    let mut copied = 0;
    let ats = bytes.iter().enumerate().filter(|(_, b)| **b == b'@').map(|(at, _)| at);
    for at in ats {
        if at < copied {
            continue;
        }
        let start = bytes[..at].iter().rposition(|b| !is_word(*b)).map_or(0, |p| p + 1);
        let end = bytes[at..]
            .iter()
            .position(|b| !is_word(*b))
            .map_or(bytes.len(), |p| at + p);
        let (before, after) = (
            start > 0 && !bytes[start - 1].is_ascii(),
            end < bytes.len() && !bytes[end].is_ascii(),
        );
        if !before && !after {
            continue;
        }
        out.push_str(&text[copied..start]);
        if before {
            out.push(' ');
        }
        out.push_str(&text[start..end]);
        if after {
            out.push(' ');
        }
        copied = end;
    }
    if out.is_empty() {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The document as text: the charset from a byte-order mark; else UTF-8 if the bytes are
/// valid UTF-8 (whatever the declaration says: a wrong declaration is the commonest charset
/// bug); else the charset the XML declaration or the HTTP header names; else a guess. A
/// declared Western charset (ISO-8859-1, windows-1252) that the bytes contradict (they read
/// as Cyrillic or CJK) yields to the guess too. Bytes invalid in the charset become U+FFFD.
pub fn decode<'a>(body: &'a [u8], content_type: Option<&str>) -> (Cow<'a, str>, &'static Encoding) {
    if let Some((encoding, bom)) = Encoding::for_bom(body) {
        let (text, _) = encoding.decode_without_bom_handling(&body[bom..]);
        return (text, encoding);
    }
    if let Ok(text) = std::str::from_utf8(body) {
        return (Cow::Borrowed(text), UTF_8);
    }
    let declared = declared_encoding(body)
        .or_else(|| content_type.and_then(charset_of))
        .filter(|e| *e != UTF_8);
    let western = |e: &'static Encoding| e == WINDOWS_1252 || e.name() == "ISO-8859-15";
    let guess = || {
        let mut detector = chardetng::EncodingDetector::new();
        detector.feed(&body[..body.len().min(256 * 1024)], true);
        detector.guess(None, false)
    };
    // A declared Western charset is the usual lie (a windows-1251 feed that says ISO-8859-1),
    // so it is checked against a guess; any other declaration is believed, and the detector,
    // the costliest part of parsing such a feed, is not run.
    let encoding = match declared {
        Some(declared) if western(declared) => {
            let guessed = guess();
            if !western(guessed) && guessed != UTF_8 {
                guessed
            } else {
                declared
            }
        }
        Some(declared) => declared,
        None => guess(),
    };
    let (text, _) = encoding.decode_without_bom_handling(body);
    (text, encoding)
}

/// The `encoding` of an XML declaration, if it names a charset encoding_rs knows. The
/// declaration may follow a comment or whitespace.
fn declared_encoding(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(1024)];
    let start = find(head, b"<?xml")?;
    let end = start + find(&head[start..], b"?>")?;
    let decl = &head[start..end];
    let at = find(decl, b"encoding")? + "encoding".len();
    let rest = &decl[at..];
    let quote = rest.iter().position(|b| *b == b'"' || *b == b'\'')?;
    let value = &rest[quote + 1..];
    let close = value.iter().position(|b| *b == rest[quote])?;
    Encoding::for_label(&value[..close])
}

/// The `charset` parameter of a `Content-Type`.
fn charset_of(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| Encoding::for_label(value.trim().trim_matches('"').as_bytes()))
            .flatten()
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The text with every XML declaration in it saying UTF-8 (it is UTF-8 now), so that the XML
/// parser does not decode it a second time. quick-xml takes `<?xml …?>` for a declaration
/// wherever it stands, and feed-rs switches its decoder to the charset each one names: that
/// would decode the text twice, and past the document's first 64 bytes (a declaration after
/// a long comment, one longer than that, a second one further down) quick-xml panics, as its
/// decoder can switch only while its prefix buffer lasts. A declaration's `encoding` value
/// becomes `UTF-8`; one whose `encoding` cannot be read plainly (twice, unquoted, part of
/// another name) is replaced by a declaration of UTF-8.
fn declare_utf8(text: &str) -> Cow<'_, str> {
    const UTF8_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    let mut out = String::new();
    let mut changed = false;
    let (mut copied, mut from) = (0, 0);
    while let Some(found) = text[from..].find("<?xml") {
        let start = from + found;
        let body = start + "<?xml".len();
        let Some(end) = text[body..].find("?>").map(|e| body + e) else {
            break;
        };
        // quick-xml's rule: `xml`, then whitespace or the end. Anything else is another
        // processing instruction, which may hold the `<?xml` of a declaration.
        if body != end && !text[body..].starts_with([' ', '\t', '\r', '\n']) {
            from = body;
            continue;
        }
        match declared(&text[body..end]) {
            Declared::Nothing | Declared::Utf8 => {}
            Declared::Value(range) => {
                out.push_str(&text[copied..body + range.start]);
                out.push_str("UTF-8");
                copied = body + range.end;
                changed = true;
            }
            Declared::Unclear => {
                out.push_str(&text[copied..start]);
                out.push_str(UTF8_DECLARATION);
                copied = end + "?>".len();
                changed = true;
            }
        }
        from = end + "?>".len();
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// What the inside of an XML declaration says about its charset.
enum Declared {
    /// No `encoding`.
    Nothing,
    /// `encoding` names UTF-8.
    Utf8,
    /// `encoding="…"` names something else: the value's place.
    Value(std::ops::Range<usize>),
    /// `encoding` appears, but not as one plain attribute.
    Unclear,
}

fn declared(attributes: &str) -> Declared {
    let Some(at) = attributes.find("encoding") else {
        return Declared::Nothing;
    };
    let after = at + "encoding".len();
    if attributes[after..].contains("encoding") || !attributes[..at].ends_with([' ', '\t', '\r', '\n']) {
        return Declared::Unclear;
    }
    let rest = attributes[after..].trim_start();
    let Some(rest) = rest.strip_prefix('=').map(str::trim_start) else {
        return Declared::Unclear;
    };
    let Some(quote) = rest.chars().next().filter(|q| matches!(q, '"' | '\'')) else {
        return Declared::Unclear;
    };
    let value_start = attributes.len() - rest.len() + 1;
    let Some(len) = attributes[value_start..].find(quote) else {
        return Declared::Unclear;
    };
    let value = &attributes[value_start..value_start + len];
    if Encoding::for_label(value.as_bytes()) == Some(UTF_8) {
        Declared::Utf8
    } else {
        Declared::Value(value_start..value_start + len)
    }
}

/// A JSON Feed whose `version` is "1", "1.0", "1.1" or the old http URL, with the version
/// the parser knows; `None` if the version is something else.
fn normalise_json_feed_version(text: &str) -> Option<String> {
    let mut value: serde_json::Value = serde_json::from_str(text).ok()?;
    let version = value.get("version")?.as_str()?.trim().to_string();
    let known = match version.as_str() {
        "1" | "1.0" | "http://jsonfeed.org/version/1" | "jsonfeed.org/version/1" => "https://jsonfeed.org/version/1",
        "1.1" | "http://jsonfeed.org/version/1.1" => "https://jsonfeed.org/version/1.1",
        _ => return None,
    };
    value["version"] = serde_json::Value::String(known.into());
    serde_json::to_string(&value).ok()
}

/// A title as plain text: markup removed, character references decoded, whitespace
/// collapsed.
pub fn plain_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    if html.contains('<') {
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => {
                    in_tag = false;
                    text.push(' ');
                }
                _ if !in_tag => text.push(c),
                _ => {}
            }
        }
    } else {
        text.push_str(html);
    }
    let decoded = if text.contains('&') {
        decode_entities(&text)
    } else {
        text
    };
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Decodes numeric and the common named character references; leaves others as they are.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // The `;` within the next 12 bytes: searching further made a text of many bare `&`s
        // quadratic (400,000 of them took 7 s; found by fuzzing).
        let window = &rest.as_bytes()[1..rest.len().min(13)];
        let end = window.iter().position(|b| *b == b';').map(|e| e + 1);
        let decoded = end.and_then(|end| {
            let name = &rest[1..end];
            let c = if let Some(num) = name.strip_prefix('#') {
                let code = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => num.parse().ok(),
                };
                code.and_then(char::from_u32)
            } else {
                named_entity(name)
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "lsquo" => '‘',
        "rsquo" => '’',
        "sbquo" => '‚',
        "ldquo" => '“',
        "rdquo" => '”',
        "bdquo" => '„',
        "laquo" => '«',
        "raquo" => '»',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "euro" => '€',
        "pound" => '£',
        "deg" => '°',
        "middot" => '·',
        "bull" => '•',
        "eacute" => 'é',
        "egrave" => 'è',
        "agrave" => 'à',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "szlig" => 'ß',
        "ccedil" => 'ç',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_become_plain_text() {
        for (html, text) in [
            ("<b>Breaking:</b> news", "Breaking: news"),
            ("Tom &amp; Jerry", "Tom & Jerry"),
            ("Caf&#233; &#x2014; open", "Café — open"),
            ("  many\n  spaces ", "many spaces"),
            ("AT&T &unknown; ok", "AT&T &unknown; ok"),
            ("<a href=\"x\">Link</a>&hellip;", "Link …"),
        ] {
            assert_eq!(plain_text(html), text, "{html}");
        }
    }

    #[test]
    fn the_declaration_is_rewritten_to_utf8() {
        assert_eq!(
            declare_utf8("<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss/>"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss/>"
        );
        assert_eq!(declare_utf8("<rss/>"), "<rss/>");
        assert_eq!(
            declare_utf8("<!-- c --><?xml version='1.0' encoding='koi8-r'?><rss/>"),
            "<!-- c --><?xml version='1.0' encoding='UTF-8'?><rss/>"
        );
        let utf8 = "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss/>";
        assert!(matches!(declare_utf8(utf8), Cow::Borrowed(_)), "nothing to change");
    }

    /// Found by fuzzing (`newswire-fuzz run feed`): a declaration whose end lay past the first
    /// 1024 bytes was left as it was, and feed-rs asked quick-xml to switch to its charset,
    /// which panics past the first 64 bytes of a document. So does a second declaration.
    #[test]
    fn every_declaration_is_rewritten_wherever_it_is() {
        let long = format!("<?xml {}version=\"1.0\" encoding=\"ISO-8859-1\" ?>", "#&".repeat(500));
        assert!(long.len() > 1024);
        assert_eq!(
            declare_utf8(&format!("{long}<rss/>")),
            format!("{}<rss/>", long.replace("ISO-8859-1", "UTF-8"))
        );
        let second = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><?xml encoding='koi8-r'?></channel></rss>";
        assert_eq!(declare_utf8(second), second.replace("koi8-r", "UTF-8"));
        for unclear in [
            "<?xml version=\"1.0\" encoding=\"koi8-r\" encoding=\"utf-8\"?><rss/>",
            "<?xml version=\"1.0\" xencoding=\"utf-8\" encoding=koi8-r?><rss/>",
            "<?xml version=\"1.0\" encoding=koi8-r?><rss/>",
        ] {
            assert_eq!(
                declare_utf8(unclear),
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss/>",
                "{unclear}"
            );
        }
        // A processing instruction that only starts like one holds a declaration.
        assert_eq!(
            declare_utf8("<?xmlish <?xml encoding='koi8-r'?><rss/>"),
            "<?xmlish <?xml encoding='UTF-8'?><rss/>"
        );
        assert_eq!(
            declare_utf8("<?xml-stylesheet href='a'?><rss/>"),
            "<?xml-stylesheet href='a'?><rss/>"
        );
    }

    /// The fuzzer's input itself: parsing it fails cleanly (it is no feed) instead of
    /// panicking.
    #[test]
    fn a_long_declaration_naming_another_charset_does_not_panic() {
        let input = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fuzz/seeds/feed/crash-long-declaration.xml"
        ))
        .unwrap();
        let feed = FeedEntry::new("https://fuzz.example/feed");
        assert!(parse_document(&feed, &input, None, "https://fuzz.example/feed", chrono::Utc::now()).is_err());
        let mut with_items = input.clone();
        with_items.extend_from_slice(b"<rss version=\"2.0\"><channel><title>T\xe9</title><item><title>A</title><link>https://a.example/1</link></item></channel></rss>");
        let parsed = parse_document(
            &feed,
            &with_items,
            None,
            "https://fuzz.example/feed",
            chrono::Utc::now(),
        )
        .unwrap();
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.title.as_deref(), Some("Té"));
    }

    /// Found by fuzzing (`newswire-fuzz run feed`): feed-rs panics on an e-mail address next
    /// to a non-ASCII character in an author field (it cuts the name one byte off the address).
    /// Such an address is set apart by a space, and a panic left is a parse error.
    #[test]
    fn an_address_next_to_a_non_ascii_character_does_not_panic() {
        let feed = FeedEntry::new("https://fuzz.example/feed");
        let parse = |xml: &str| parse_document(&feed, xml.as_bytes(), None, "https://fuzz.example/feed", Utc::now());
        let item = |author: &str| {
            format!(
                "<rss version=\"2.0\"><channel><title>T</title><item><title>A</title>\
                 <link>https://a.example/1</link><author>{author}</author></item></channel></rss>"
            )
        };
        for author in [
            "张三（zhang@example.com）",
            "zhang@example.com）张三 and more",
            "wj´ebmaster@writetheweb.com",
        ] {
            let parsed = parse(&item(author)).unwrap_or_else(|e| panic!("{author}: {e}"));
            assert_eq!(parsed.records.len(), 1, "{author}");
        }
        assert_eq!(
            parse(&item("张三（zhang@example.com）")).unwrap().records[0].authors,
            ["张三（"]
        );
        // Written as character references, the characters meet the address only inside
        // feed-rs: the document is refused, cleanly.
        let err = parse(&item("张三&#65288;zhang@example.com&#65289;")).unwrap_err();
        assert!(err.to_string().contains("the feed parser failed"), "{err}");
        let input = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fuzz/seeds/feed/crash-address-after-multibyte.xml"
        ))
        .unwrap();
        let _ = parse_document(&feed, &input, None, "https://fuzz.example/feed", Utc::now());
        assert_eq!(space_out_addresses("a b@c d"), "a b@c d");
        assert_eq!(space_out_addresses("é<b@c>é"), "é <b@c> é");
    }

    /// Found by fuzzing (`newswire-fuzz run feed`): each bare `&` searched the rest of the text
    /// for a `;`, so a 2 MB feed whose title held 400,000 of them (`&amp;` in the XML) took 7 s.
    #[test]
    fn many_ampersands_are_linear() {
        assert_eq!(
            plain_text("a &amp; b &amp c &#233; &#xe9; &unknown; &"),
            "a & b &amp c é é &unknown; &"
        );
        let text = format!("{};", "&".repeat(400_000));
        let started = std::time::Instant::now();
        assert_eq!(plain_text(&text), text);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        let input = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fuzz/seeds/feed/hang-many-ampersands.xml"
        ))
        .unwrap();
        let feed = FeedEntry::new("https://fuzz.example/feed");
        let started = std::time::Instant::now();
        let _ = parse_document(&feed, &input, None, "https://fuzz.example/feed", Utc::now());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn json_feed_versions() {
        let fixed = normalise_json_feed_version(r#"{"version":"1.0","title":"x","items":[]}"#).unwrap();
        assert!(fixed.contains("https://jsonfeed.org/version/1\""), "{fixed}");
        assert!(normalise_json_feed_version(r#"{"version":"2","items":[]}"#).is_none());
    }
}
