//! Reading sitemap documents (the sitemaps.org protocol with Google's `news:` extension).
//!
//! This is the parsing half: [`gunzip_if_needed`] undoes the gzip of `.xml.gz` sitemaps,
//! [`parse_sitemap`] reads a `<urlset>` (page URLs, with their `news:` and `image:` data) or a
//! `<sitemapindex>` (other sitemaps), [`robots_sitemaps`] finds the sitemaps a robots.txt
//! names, and [`parse_w3c_date`] reads the dates sitemaps carry.
//!
//! Real sitemaps are read leniently: element names match by local name whatever their
//! namespace prefix, unknown elements are skipped, entries without a usable `<loc>` are
//! dropped, and a document cut short keeps the entries it completed.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::Read;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use quick_xml::Reader;
use quick_xml::events::{BytesRef, Event};
use url::Url;

/// A sitemap document: an index of other sitemaps, or a list of page URLs.
#[derive(Debug, Clone, PartialEq)]
pub enum SitemapDoc {
    Index(Vec<SitemapRef>),
    Urls(Vec<SitemapUrl>),
}

/// One `<sitemap>` of a sitemap index.
#[derive(Debug, Clone, PartialEq)]
pub struct SitemapRef {
    /// Absolute http(s) URL of the sitemap.
    pub loc: String,
    pub lastmod: Option<DateTime<Utc>>,
}

/// One `<url>` of a urlset.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SitemapUrl {
    /// Absolute http(s) URL (resolved against the document's base URL if relative).
    pub loc: String,
    pub lastmod: Option<DateTime<Utc>>,
    /// The `<news:news>` element, if the entry has one.
    pub news: Option<NewsInfo>,
    /// The first usable `<image:image><image:loc>`, absolute.
    pub image: Option<String>,
}

/// The `<news:news>` element of a sitemap entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewsInfo {
    /// `<news:publication><news:name>`.
    pub publication_name: Option<String>,
    /// `<news:publication><news:language>`, as given (e.g. "en", "zh-cn").
    pub language: Option<String>,
    /// `<news:title>`.
    pub title: Option<String>,
    /// `<news:publication_date>`.
    pub publication_date: Option<DateTime<Utc>>,
    /// `<news:keywords>`: comma-separated, trimmed, empty ones dropped.
    pub keywords: Vec<String>,
}

/// A document that is not a (readable) sitemap, or a gzip body that could not be unpacked.
#[derive(Debug, thiserror::Error)]
#[error("not a sitemap: {0}")]
pub struct SitemapError(pub String);

/// Limits: at most this many `<url>` or `<sitemap>` entries are read from one document (the
/// protocol's own cap).
pub const MAX_ENTRIES: usize = 50_000;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Decompresses a gzip body (recognised by its magic bytes 1f 8b, whatever the URL or
/// Content-Type says); other bodies are returned as they are. The decompressed size is capped
/// at `max` bytes: more is an error (a decompression bomb stops there).
///
/// Concatenated gzip members are all unpacked, as gzip(1) does; bytes after the last member
/// that do not start another member are ignored. A stream cut short returns what it had
/// decompressed (the sitemap parser keeps the entries it completes), or an error if nothing.
pub fn gunzip_if_needed(body: &[u8], max: usize) -> Result<Cow<'_, [u8]>, SitemapError> {
    if !body.starts_with(&GZIP_MAGIC) {
        return Ok(Cow::Borrowed(body));
    }
    let mut out = Vec::new();
    let mut rest = body;
    while rest.starts_with(&GZIP_MAGIC) {
        let mut member = flate2::bufread::GzDecoder::new(rest);
        // One byte more than allowed, to tell "exactly max" from "more than max".
        let room = u64::try_from(max - out.len()).unwrap_or(u64::MAX).saturating_add(1);
        let read = (&mut member).take(room).read_to_end(&mut out);
        if out.len() > max {
            return Err(SitemapError(format!(
                "the gzip body decompresses to more than {max} bytes"
            )));
        }
        match read {
            Ok(_) => rest = member.into_inner(),
            Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof && !out.is_empty() => {
                tracing::debug!(
                    error = %err,
                    decompressed = out.len(),
                    "Truncated gzip body; keeping what was decompressed."
                );
                break;
            }
            Err(err) => return Err(SitemapError(format!("invalid gzip body: {err}"))),
        }
    }
    Ok(Cow::Owned(out))
}

/// Parses a sitemap or sitemap index (already decompressed). `content_type` is the HTTP
/// Content-Type (charset hint); relative `loc`s resolve against `base_url`.
///
/// Entries without a usable `<loc>` (missing, empty, not http(s)) are skipped, and a `loc`
/// seen before in the document is skipped. Reading stops after [`MAX_ENTRIES`] entries, or at
/// the end of the root element. Malformed or truncated XML keeps the entries completed before
/// the break, and is an error only if there are none.
pub fn parse_sitemap(body: &[u8], content_type: Option<&str>, base_url: &str) -> Result<SitemapDoc, SitemapError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(SitemapError("the document is empty".into()));
    }
    if body.starts_with(&GZIP_MAGIC) {
        return Err(SitemapError("the document is still gzip-compressed".into()));
    }
    let (text, _) = crate::decode(body, content_type);
    let mut reader = Reader::from_str(&text);
    // Publishers leave bare '&' in URLs; read it as text instead of failing.
    reader.config_mut().allow_dangling_amp = true;

    let (kind, root_closed) = loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => break (root_kind(e.name().into_inner())?, false),
            Ok(Event::Empty(e)) => break (root_kind(e.name().into_inner())?, true),
            Ok(Event::Eof) => return Err(no_root(&text)),
            Ok(_) => {}
            Err(err) => {
                return Err(SitemapError(format!(
                    "malformed XML before the root element (at byte {}): {err}",
                    reader.error_position()
                )));
            }
        }
    };
    let mut doc = Builder::new(kind, Url::parse(base_url).ok());
    if root_closed {
        return Ok(doc.finish());
    }
    let broken = loop {
        let done = match reader.read_event() {
            Ok(Event::Start(e)) => {
                doc.open(e.local_name().into_inner());
                false
            }
            Ok(Event::Empty(e)) => {
                doc.open(e.local_name().into_inner());
                doc.close()
            }
            Ok(Event::End(_)) => doc.close(),
            Ok(Event::Text(t)) => {
                doc.text(&t);
                false
            }
            Ok(Event::CData(t)) => {
                doc.text(&t);
                false
            }
            Ok(Event::GeneralRef(r)) => {
                doc.reference(&r);
                false
            }
            Ok(Event::Eof) => {
                break format!("the document ends before </{}>", kind.root());
            }
            Ok(_) => false,
            Err(err) => {
                break format!("malformed XML at byte {}: {err}", reader.error_position());
            }
        };
        if done {
            return Ok(doc.finish());
        }
    };
    if doc.is_empty() {
        return Err(SitemapError(broken));
    }
    tracing::debug!(
        problem = %broken,
        entries = doc.len(),
        "Sitemap cut short; keeping the entries before the break."
    );
    Ok(doc.finish())
}

/// The `Sitemap:` lines of a robots.txt (case-insensitive field name, comments after '#'
/// removed, relative URLs resolved against `base_url`, only http/https kept, duplicates
/// removed, file order kept).
pub fn robots_sitemaps(robots_txt: &str, base_url: &str) -> Vec<String> {
    let base = Url::parse(base_url).ok();
    let mut seen = HashSet::new();
    let mut sitemaps = Vec::new();
    for line in robots_txt.split(['\n', '\r']) {
        let line = line.split('#').next().unwrap_or_default();
        let Some((field, value)) = line.split_once(':') else {
            continue;
        };
        let field = field.trim_start_matches('\u{feff}').trim();
        if !field.eq_ignore_ascii_case("sitemap") {
            continue;
        }
        let Some(url) = absolute_http(base.as_ref(), value.trim()) else {
            continue;
        };
        if seen.insert(url.clone()) {
            sitemaps.push(url);
        }
    }
    sitemaps
}

/// A W3C datetime as sitemaps use it: YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mmTZD,
/// YYYY-MM-DDThh:mm:ssTZD, with fractional seconds; TZD is Z or +hh:mm/-hh:mm (also accept
/// +hhmm, and a missing TZD meaning UTC, and a space instead of T). Also accept RFC 2822
/// dates, which some publishers put there. None for anything else.
///
/// Dates without a time are midnight UTC; a year alone is 1 January, a month alone its first
/// day. Also accepted: `+hh`, a space before the TZD, `UTC`/`GMT` as the TZD, `,` as the
/// decimal separator, and a leap second (`:60`).
pub fn parse_w3c_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    w3c_datetime(text.as_bytes()).or_else(|| DateTime::parse_from_rfc2822(text).ok().map(|d| d.with_timezone(&Utc)))
}

// ---------------------------------------------------------------------------------------------
// Sitemap documents.

/// What the root element says the document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Urls,
    Index,
}

impl Kind {
    fn root(self) -> &'static str {
        match self {
            Kind::Urls => "urlset",
            Kind::Index => "sitemapindex",
        }
    }
}

/// The kind named by the root element's (qualified) name, or why it is not a sitemap.
fn root_kind(qname: &str) -> Result<Kind, SitemapError> {
    let local = qname.rsplit(':').next().unwrap_or(qname);
    if local.eq_ignore_ascii_case("urlset") {
        Ok(Kind::Urls)
    } else if local.eq_ignore_ascii_case("sitemapindex") {
        Ok(Kind::Index)
    } else {
        Err(SitemapError(format!(
            "the root element is <{}>, not <urlset> or <sitemapindex>",
            clip(qname, 64)
        )))
    }
}

/// The error for a document without any element.
fn no_root(text: &str) -> SitemapError {
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        SitemapError("the document is empty".into())
    } else if text.starts_with('<') {
        SitemapError("the document has no root element".into())
    } else {
        SitemapError(format!("the document is not XML (it starts with {:?})", clip(text, 40)))
    }
}

/// At most the first `max` characters of `text`.
fn clip(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// The elements whose meaning the parser tracks. Anything else (and everything inside it)
/// is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    /// `<urlset>` or `<sitemapindex>`.
    Root,
    /// `<url>` or `<sitemap>`.
    Entry,
    Loc,
    Lastmod,
    News,
    Publication,
    PublicationName,
    Language,
    Title,
    PublicationDate,
    Keywords,
    Image,
    ImageLoc,
}

impl Node {
    /// Whether the element's text is a value the parser keeps.
    fn is_leaf(self) -> bool {
        !matches!(
            self,
            Node::Root | Node::Entry | Node::News | Node::Publication | Node::Image
        )
    }
}

/// The meaning of a child element `local` of `parent` in a document of `kind`.
fn classify(kind: Kind, parent: Node, local: &str) -> Option<Node> {
    let is = |name: &str| local.eq_ignore_ascii_case(name);
    let node = match (parent, kind) {
        (Node::Root, Kind::Urls) if is("url") => Node::Entry,
        (Node::Root, Kind::Index) if is("sitemap") => Node::Entry,
        (Node::Entry, _) if is("loc") => Node::Loc,
        (Node::Entry, _) if is("lastmod") => Node::Lastmod,
        (Node::Entry, Kind::Urls) if is("news") => Node::News,
        (Node::Entry, Kind::Urls) if is("image") => Node::Image,
        (Node::News, _) if is("publication") => Node::Publication,
        (Node::News, _) if is("title") => Node::Title,
        (Node::News, _) if is("publication_date") => Node::PublicationDate,
        (Node::News, _) if is("keywords") => Node::Keywords,
        (Node::Publication, _) if is("name") => Node::PublicationName,
        (Node::Publication, _) if is("language") => Node::Language,
        (Node::Image, _) if is("loc") => Node::ImageLoc,
        _ => return None,
    };
    Some(node)
}

/// Collects the entries of one document from its events.
struct Builder {
    kind: Kind,
    base: Option<Url>,
    /// The tracked elements now open, outermost first (never deeper than five).
    open: Vec<Node>,
    /// How many skipped elements are open inside the innermost tracked one.
    skipped: usize,
    /// The text of the open leaf element.
    text: String,
    /// The entry being read.
    entry: SitemapUrl,
    /// `<url>`/`<sitemap>` elements started so far.
    entries_read: usize,
    seen: HashSet<String>,
    urls: Vec<SitemapUrl>,
    refs: Vec<SitemapRef>,
}

impl Builder {
    fn new(kind: Kind, base: Option<Url>) -> Self {
        Self {
            kind,
            base,
            open: vec![Node::Root],
            skipped: 0,
            text: String::new(),
            entry: SitemapUrl::default(),
            entries_read: 0,
            seen: HashSet::new(),
            urls: Vec::new(),
            refs: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.urls.len() + self.refs.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn finish(self) -> SitemapDoc {
        match self.kind {
            Kind::Urls => SitemapDoc::Urls(self.urls),
            Kind::Index => SitemapDoc::Index(self.refs),
        }
    }

    /// An element starts.
    fn open(&mut self, local: &str) {
        if self.skipped > 0 {
            self.skipped += 1;
            return;
        }
        let Some(node) = self.open.last().and_then(|parent| classify(self.kind, *parent, local)) else {
            self.skipped = 1;
            return;
        };
        match node {
            Node::Entry => {
                self.entries_read += 1;
                self.entry = SitemapUrl::default();
            }
            Node::News => {
                self.entry.news.get_or_insert_default();
            }
            _ if node.is_leaf() => self.text.clear(),
            _ => {}
        }
        self.open.push(node);
    }

    /// An element ends. True when the document is done (its root closed, or the entry cap
    /// reached).
    fn close(&mut self) -> bool {
        if self.skipped > 0 {
            self.skipped -= 1;
            return false;
        }
        match self.open.pop() {
            None | Some(Node::Root) => true,
            Some(Node::Entry) => {
                self.finish_entry();
                self.entries_read >= MAX_ENTRIES
            }
            Some(node) if node.is_leaf() => {
                self.finish_leaf(node);
                false
            }
            Some(_) => false,
        }
    }

    /// Whether text now belongs to a leaf's value.
    fn in_leaf(&self) -> bool {
        self.skipped == 0 && self.open.last().is_some_and(|node| node.is_leaf())
    }

    /// Character data (text or CDATA).
    fn text(&mut self, text: &str) {
        if self.in_leaf() {
            self.text.push_str(text);
        }
    }

    /// An entity or character reference.
    fn reference(&mut self, reference: &BytesRef<'_>) {
        if !self.in_leaf() {
            return;
        }
        match reference.resolve_char_ref() {
            Ok(Some(c)) => self.text.push(c),
            Ok(None) => match named_entity(reference) {
                Some(c) => self.text.push(c),
                None => {
                    self.text.push('&');
                    self.text.push_str(reference);
                    self.text.push(';');
                }
            },
            Err(_) => self.text.push(char::REPLACEMENT_CHARACTER),
        }
    }

    fn finish_leaf(&mut self, node: Node) {
        let value = self.text.trim();
        if value.is_empty() {
            return;
        }
        let entry = &mut self.entry;
        match node {
            Node::Loc if entry.loc.is_empty() => {
                if let Some(url) = absolute_http(self.base.as_ref(), value) {
                    entry.loc = url;
                }
            }
            Node::Lastmod if entry.lastmod.is_none() => entry.lastmod = parse_w3c_date(value),
            Node::ImageLoc if entry.image.is_none() => {
                entry.image = absolute_http(self.base.as_ref(), value);
            }
            Node::PublicationName | Node::Language | Node::Title | Node::PublicationDate | Node::Keywords => {
                let news = entry.news.get_or_insert_default();
                match node {
                    Node::PublicationName if news.publication_name.is_none() => {
                        news.publication_name = Some(value.to_string());
                    }
                    Node::Language if news.language.is_none() => news.language = Some(value.to_string()),
                    Node::Title if news.title.is_none() => news.title = Some(value.to_string()),
                    Node::PublicationDate if news.publication_date.is_none() => {
                        news.publication_date = parse_w3c_date(value);
                    }
                    Node::Keywords => news.keywords.extend(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|k| !k.is_empty())
                            .map(String::from),
                    ),
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn finish_entry(&mut self) {
        let entry = std::mem::take(&mut self.entry);
        if entry.loc.is_empty() || !self.seen.insert(entry.loc.clone()) {
            return;
        }
        match self.kind {
            Kind::Urls => self.urls.push(entry),
            Kind::Index => self.refs.push(SitemapRef {
                loc: entry.loc,
                lastmod: entry.lastmod,
            }),
        }
    }
}

/// The character of a named entity: XML's five, and the HTML ones publishers use most,
/// which strict XML would reject.
fn named_entity(name: &str) -> Option<char> {
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '\u{2013}',
        "mdash" => '\u{2014}',
        "lsquo" => '\u{2018}',
        "rsquo" => '\u{2019}',
        "ldquo" => '\u{201c}',
        "rdquo" => '\u{201d}',
        "laquo" => '\u{ab}',
        "raquo" => '\u{bb}',
        "hellip" => '\u{2026}',
        "copy" => '\u{a9}',
        "reg" => '\u{ae}',
        "trade" => '\u{2122}',
        "euro" => '\u{20ac}',
        _ => return None,
    };
    Some(c)
}

/// `text` as an absolute http(s) URL, resolved against `base` if relative.
fn absolute_http(base: Option<&Url>, text: &str) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    let url = Url::options().base_url(base).parse(text).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.into())
}

// ---------------------------------------------------------------------------------------------
// Dates.

/// A W3C datetime (see [`parse_w3c_date`]), in ASCII bytes.
fn w3c_datetime(text: &[u8]) -> Option<DateTime<Utc>> {
    let mut s = Scanner { text, at: 0 };
    let year = s.number(4)?;
    let (mut month, mut day, mut full) = (1, 1, false);
    if s.eat(b'-') {
        month = s.number(2)?;
        if s.eat(b'-') {
            day = s.number(2)?;
            full = true;
        }
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    if s.done() {
        return Some(date.and_time(NaiveTime::MIN).and_utc());
    }
    // A time only follows a full date.
    if !full || !(s.eat(b'T') || s.eat(b't') || s.eat(b' ')) {
        return None;
    }
    let hour = s.number(2)?;
    if !s.eat(b':') {
        return None;
    }
    let minute = s.number(2)?;
    let (mut second, mut nanos) = (0, 0);
    if s.eat(b':') {
        second = s.number(2)?;
        if s.eat(b'.') || s.eat(b',') {
            nanos = s.fraction()?;
        }
    }
    // A leap second is read as the first second of the next minute.
    let leap = second == 60;
    if leap {
        second = 59;
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    let offset = s.zone()?;
    if !s.done() {
        return None;
    }
    let local = NaiveDateTime::new(date, time);
    let instant = offset.from_local_datetime(&local).single()?.with_timezone(&Utc);
    if leap {
        instant.checked_add_signed(chrono::TimeDelta::seconds(1))
    } else {
        Some(instant)
    }
}

/// A cursor over the ASCII bytes of a date.
struct Scanner<'a> {
    text: &'a [u8],
    at: usize,
}

impl Scanner<'_> {
    fn done(&self) -> bool {
        self.at >= self.text.len()
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    /// Consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.at += 1;
        }
        found
    }

    /// Exactly `len` digits (what may follow is the caller's to check).
    fn number(&mut self, len: usize) -> Option<u32> {
        let digits = self.text.get(self.at..self.at + len)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.at += len;
        Some(digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    }

    /// The digits of a fraction of a second, as nanoseconds (digits past the ninth ignored).
    fn fraction(&mut self) -> Option<u32> {
        let start = self.at;
        let mut nanos = 0;
        while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
            if self.at - start < 9 {
                nanos = nanos * 10 + u32::from(d - b'0');
            }
            self.at += 1;
        }
        let len = self.at - start;
        if len == 0 {
            return None;
        }
        Some(nanos * 10u32.pow(9usize.saturating_sub(len) as u32))
    }

    /// A time zone designator: none (UTC), `Z`, `UTC`, `GMT`, `+hh:mm`, `+hhmm` or `+hh`,
    /// optionally after one space.
    fn zone(&mut self) -> Option<FixedOffset> {
        let utc = FixedOffset::east_opt(0);
        if self.done() {
            return utc;
        }
        self.eat(b' ');
        let rest = self.text.get(self.at..)?;
        if rest.eq_ignore_ascii_case(b"z") || rest.eq_ignore_ascii_case(b"utc") || rest.eq_ignore_ascii_case(b"gmt") {
            self.at = self.text.len();
            return utc;
        }
        let sign = match self.peek()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        self.at += 1;
        let hours = self.number(2)?;
        let minutes = if self.eat(b':') {
            self.number(2)?
        } else if self.done() {
            0
        } else {
            self.number(2)?
        };
        if hours > 23 || minutes > 59 {
            return None;
        }
        FixedOffset::east_opt(sign * i32::try_from(hours * 3600 + minutes * 60).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    const BASE: &str = "https://www.example.org/sitemaps/news.xml";

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    fn urls(body: &[u8]) -> Vec<SitemapUrl> {
        match parse_sitemap(body, None, BASE) {
            Ok(SitemapDoc::Urls(urls)) => urls,
            other => panic!("expected a urlset, got {other:?}"),
        }
    }

    fn locs(body: &[u8]) -> Vec<String> {
        urls(body).into_iter().map(|u| u.loc).collect()
    }

    fn error(body: &[u8]) -> String {
        match parse_sitemap(body, None, BASE) {
            Err(err) => err.to_string(),
            Ok(doc) => panic!("expected an error, got {doc:?}"),
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    /// A urlset of `n` plain entries.
    fn numbered(n: usize) -> String {
        let mut xml = String::from(r#"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">"#);
        for i in 0..n {
            xml.push_str(&format!("<url><loc>https://example.com/a/{i}</loc></url>\n"));
        }
        xml.push_str("</urlset>");
        xml
    }

    /// In the manner of the examples on developers.google.com/search/docs (news sitemaps),
    /// with the extras real publishers add.
    const GOOGLE_NEWS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"
        xmlns:video="http://www.google.com/schemas/sitemap-video/1.1"
        xmlns:xhtml="http://www.w3.org/1999/xhtml">
  <url>
    <loc>http://www.example.org/business/article55.html</loc>
    <lastmod>2008-12-23T18:00:15+00:00</lastmod>
    <changefreq>hourly</changefreq>
    <priority>0.8</priority>
    <xhtml:link rel="alternate" hreflang="de" href="http://www.example.org/de/business/article55.html"/>
    <news:news>
      <news:publication>
        <news:name>The Example Times</news:name>
        <news:language>en</news:language>
      </news:publication>
      <news:publication_date>2008-12-23</news:publication_date>
      <news:title>Companies A &amp; B in Merger Talks</news:title>
      <news:keywords>business, merger, acquisition, , A, B</news:keywords>
    </news:news>
    <image:image>
      <image:loc>https://www.example.org/images/merger.jpg</image:loc>
      <image:caption>Two companies</image:caption>
    </image:image>
    <image:image>
      <image:loc>https://www.example.org/images/second.jpg</image:loc>
    </image:image>
  </url>
  <url>
    <loc>
      https://www.example.org/world/2024/05/story.html?ref=home&amp;src=sitemap
    </loc>
    <news:news>
      <news:publication>
        <news:name><![CDATA[ Le Journal d'Exemple ]]></news:name>
        <news:language>zh-cn</news:language>
      </news:publication>
      <news:publication_date>2024-05-06T13:45:30.250+02:00</news:publication_date>
      <news:title><![CDATA[Summit <b>ends</b> & talks "stall"]]></news:title>
    </news:news>
    <video:video>
      <video:thumbnail_loc>https://www.example.org/thumbs/1.jpg</video:thumbnail_loc>
      <video:title>Not the title</video:title>
      <video:content_loc>https://www.example.org/video/1.mp4</video:content_loc>
    </video:video>
    <mobile:mobile xmlns:mobile="http://www.google.com/schemas/sitemap-mobile/1.0"/>
  </url>
</urlset>
"#;

    #[test]
    fn google_news_sitemap() {
        let parsed = urls(GOOGLE_NEWS.as_bytes());
        assert_eq!(
            parsed,
            vec![
                SitemapUrl {
                    loc: "http://www.example.org/business/article55.html".into(),
                    lastmod: Some(utc(2008, 12, 23, 18, 0, 15)),
                    news: Some(NewsInfo {
                        publication_name: Some("The Example Times".into()),
                        language: Some("en".into()),
                        title: Some("Companies A & B in Merger Talks".into()),
                        publication_date: Some(utc(2008, 12, 23, 0, 0, 0)),
                        keywords: vec![
                            "business".into(),
                            "merger".into(),
                            "acquisition".into(),
                            "A".into(),
                            "B".into()
                        ],
                    }),
                    image: Some("https://www.example.org/images/merger.jpg".into()),
                },
                SitemapUrl {
                    loc: "https://www.example.org/world/2024/05/story.html?ref=home&src=sitemap".into(),
                    lastmod: None,
                    news: Some(NewsInfo {
                        publication_name: Some("Le Journal d'Exemple".into()),
                        language: Some("zh-cn".into()),
                        title: Some(r#"Summit <b>ends</b> & talks "stall""#.into()),
                        publication_date: Some(utc(2024, 5, 6, 11, 45, 30) + chrono::Duration::milliseconds(250)),
                        keywords: vec![],
                    }),
                    image: None,
                },
            ]
        );
    }

    #[test]
    fn plain_urlset_with_lastmod_only() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<!-- generated -->
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://www.example.org/</loc><lastmod>2005-01-01</lastmod></url>
  <url><loc>https://www.example.org/catalog?item=12&amp;desc=vacation_hawaii</loc><lastmod>2004-11-23T10:20Z</lastmod></url>
  <url><loc>/about/contact.html</loc></url>
  <url><loc>HTTPS://WWW.EXAMPLE.ORG/Caps</loc><lastmod>not a date</lastmod></url>
</urlset>"#;
        assert_eq!(
            urls(xml),
            vec![
                SitemapUrl {
                    loc: "https://www.example.org/".into(),
                    lastmod: Some(utc(2005, 1, 1, 0, 0, 0)),
                    ..Default::default()
                },
                SitemapUrl {
                    loc: "https://www.example.org/catalog?item=12&desc=vacation_hawaii".into(),
                    lastmod: Some(utc(2004, 11, 23, 10, 20, 0)),
                    ..Default::default()
                },
                SitemapUrl {
                    loc: "https://www.example.org/about/contact.html".into(),
                    ..Default::default()
                },
                SitemapUrl {
                    loc: "https://www.example.org/Caps".into(),
                    ..Default::default()
                },
            ]
        );
    }

    #[test]
    fn sitemap_index_with_relative_and_absolute_locs() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap>
    <loc>https://www.example.org/sitemap-news.xml</loc>
    <lastmod>2024-03-01T08:30:00-05:00</lastmod>
  </sitemap>
  <sitemap><loc>sitemap-2024-02.xml.gz</loc></sitemap>
  <sitemap><loc>/archive/sitemap-2023.xml</loc><lastmod>2023-12</lastmod></sitemap>
  <sitemap><loc>//cdn.example.org/sitemap-video.xml</loc></sitemap>
  <sitemap><loc>https://www.example.org/sitemap-news.xml</loc></sitemap>
  <sitemap><loc>ftp://files.example.org/sitemap.xml</loc></sitemap>
  <url><loc>https://www.example.org/not-a-sitemap-entry</loc></url>
</sitemapindex>"#;
        assert_eq!(
            parse_sitemap(xml, Some("application/xml"), BASE).unwrap(),
            SitemapDoc::Index(vec![
                SitemapRef {
                    loc: "https://www.example.org/sitemap-news.xml".into(),
                    lastmod: Some(utc(2024, 3, 1, 13, 30, 0)),
                },
                SitemapRef {
                    loc: "https://www.example.org/sitemaps/sitemap-2024-02.xml.gz".into(),
                    lastmod: None,
                },
                SitemapRef {
                    loc: "https://www.example.org/archive/sitemap-2023.xml".into(),
                    lastmod: Some(utc(2023, 12, 1, 0, 0, 0)),
                },
                SitemapRef {
                    loc: "https://cdn.example.org/sitemap-video.xml".into(),
                    lastmod: None,
                },
            ])
        );
    }

    #[test]
    fn any_namespace_prefix_works() {
        let xml = br#"<sm:urlset xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9"
            xmlns:n="http://www.google.com/schemas/sitemap-news/0.9"
            xmlns:i="http://www.google.com/schemas/sitemap-image/1.1">
  <sm:url>
    <sm:loc>https://news.example.com/a</sm:loc>
    <n:news>
      <n:publication><n:name>Example News</n:name><n:language>de</n:language></n:publication>
      <n:publication_date>2024-01-15T09:00:00Z</n:publication_date>
      <n:title>Titel</n:title>
      <n:keywords>Politik</n:keywords>
    </n:news>
    <i:image><i:loc>https://news.example.com/a.png</i:loc></i:image>
  </sm:url>
</sm:urlset>"#;
        assert_eq!(
            urls(xml),
            vec![SitemapUrl {
                loc: "https://news.example.com/a".into(),
                lastmod: None,
                news: Some(NewsInfo {
                    publication_name: Some("Example News".into()),
                    language: Some("de".into()),
                    title: Some("Titel".into()),
                    publication_date: Some(utc(2024, 1, 15, 9, 0, 0)),
                    keywords: vec!["Politik".into()],
                }),
                image: Some("https://news.example.com/a.png".into()),
            }]
        );
        let index = br#"<x:sitemapindex xmlns:x="http://www.sitemaps.org/schemas/sitemap/0.9"><x:sitemap><x:loc>https://a.example/s.xml</x:loc></x:sitemap></x:sitemapindex>"#;
        assert_eq!(
            parse_sitemap(index, None, BASE).unwrap(),
            SitemapDoc::Index(vec![SitemapRef {
                loc: "https://a.example/s.xml".into(),
                lastmod: None
            }])
        );
    }

    #[test]
    fn entries_without_usable_loc_are_skipped_and_duplicates_dropped() {
        let xml = br#"<urlset>
  <url><lastmod>2024-01-01</lastmod></url>
  <url><loc></loc></url>
  <url><loc>   </loc></url>
  <url/>
  <url><loc>javascript:alert(1)</loc></url>
  <url><loc>mailto:news@example.org</loc></url>
  <url><loc>https://www.example.org/kept</loc></url>
  <url><loc>https://www.example.org/kept</loc><lastmod>2024-02-02</lastmod></url>
  <url><loc>https://www.example.org/second</loc><loc>https://www.example.org/ignored</loc></url>
  <url><loc>http://[::1</loc></url>
</urlset>"#;
        assert_eq!(
            urls(xml),
            vec![
                SitemapUrl {
                    loc: "https://www.example.org/kept".into(),
                    ..Default::default()
                },
                SitemapUrl {
                    loc: "https://www.example.org/second".into(),
                    ..Default::default()
                },
            ]
        );
        // Relative locs cannot resolve without a usable base URL.
        assert_eq!(
            parse_sitemap(
                b"<urlset><url><loc>/a</loc></url><url><loc>https://b.example/</loc></url></urlset>",
                None,
                ""
            )
            .unwrap(),
            SitemapDoc::Urls(vec![SitemapUrl {
                loc: "https://b.example/".into(),
                ..Default::default()
            }])
        );
    }

    #[test]
    fn empty_urlsets_are_empty_documents() {
        assert_eq!(
            parse_sitemap(b"<urlset/>", None, BASE).unwrap(),
            SitemapDoc::Urls(vec![])
        );
        assert_eq!(
            parse_sitemap(
                b"<?xml version='1.0'?>\n<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>\n</urlset>\n",
                None,
                BASE
            )
            .unwrap(),
            SitemapDoc::Urls(vec![])
        );
        assert_eq!(
            parse_sitemap(b"<sitemapindex></sitemapindex>", None, BASE).unwrap(),
            SitemapDoc::Index(vec![])
        );
    }

    #[test]
    fn text_entities_cdata_and_whitespace() {
        let xml = "<urlset><url><loc>https://e.example/?a=1&b=2&amp;c=&#51;&#x34;</loc><news:news><news:title>\n  \
                   Caf&#233; &lt;&quot;menu&quot;&gt; &apos;&nbsp;&mdash; &hellip;&unknown; A<![CDATA[ & ]]>B &#0; \n</news:title>\
                   <news:publication><news:name>  <![CDATA[]]>  </news:name></news:publication></news:news></url></urlset>";
        let parsed = urls(xml.as_bytes());
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].loc, "https://e.example/?a=1&b=2&c=34");
        let news = parsed[0].news.as_ref().unwrap();
        assert_eq!(
            news.title.as_deref(),
            Some("Café <\"menu\"> '\u{a0}\u{2014} \u{2026}&unknown; A & B \u{fffd}")
        );
        assert_eq!(news.publication_name, None);
    }

    #[test]
    fn gzip_sitemaps_are_decompressed() {
        let xml = GOOGLE_NEWS.as_bytes();
        let compressed = gzip(xml);
        let unpacked = gunzip_if_needed(&compressed, 1 << 20).unwrap();
        assert!(matches!(unpacked, Cow::Owned(_)));
        assert_eq!(&*unpacked, xml);
        assert_eq!(urls(&unpacked), urls(xml));
        assert_eq!(urls(&unpacked).len(), 2);

        // Exactly at the cap is fine.
        assert_eq!(&*gunzip_if_needed(&compressed, xml.len()).unwrap(), xml);

        // Plain bodies come back as they are, borrowed.
        match gunzip_if_needed(xml, 10).unwrap() {
            Cow::Borrowed(body) => assert_eq!(body, xml),
            Cow::Owned(_) => panic!("a plain body should be borrowed"),
        }
        assert_eq!(&*gunzip_if_needed(b"", 10).unwrap(), b"");
    }

    #[test]
    fn gzip_over_the_cap_is_an_error() {
        // A small bomb: 10 MB of zeros in about 10 KB.
        let bomb = gzip(&vec![0u8; 10 << 20]);
        assert!(bomb.len() < 100_000);
        let err = gunzip_if_needed(&bomb, 1 << 20).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not a sitemap: the gzip body decompresses to more than 1048576 bytes"
        );
        let xml = GOOGLE_NEWS.as_bytes();
        assert!(gunzip_if_needed(&gzip(xml), xml.len() - 1).is_err());
        // The cap counts all members together.
        let two = [gzip(&[b'a'; 600]), gzip(&[b'b'; 600])].concat();
        assert!(gunzip_if_needed(&two, 1000).is_err());
    }

    #[test]
    fn gzip_members_trailers_and_damage() {
        let two = [
            gzip(b"<urlset><url><loc>https://a.example/1</loc></url>"),
            gzip(b"</urlset>"),
        ]
        .concat();
        assert_eq!(
            &*gunzip_if_needed(&two, 1000).unwrap(),
            b"<urlset><url><loc>https://a.example/1</loc></url></urlset>"
        );
        // Padding after the member is ignored.
        let padded = [gzip(b"<urlset/>"), vec![0; 16]].concat();
        assert_eq!(&*gunzip_if_needed(&padded, 1000).unwrap(), b"<urlset/>");

        // A body cut short keeps what it decompressed, and the parser the entries it completed.
        let xml = numbered(2000);
        let compressed = gzip(xml.as_bytes());
        let cut = &compressed[..compressed.len() / 2];
        let partial = gunzip_if_needed(cut, 1 << 20).unwrap();
        assert!(!partial.is_empty() && partial.len() < xml.len());
        assert!(xml.as_bytes().starts_with(&partial));
        let kept = locs(&partial);
        assert!(!kept.is_empty() && kept.len() < 2000);
        assert_eq!(kept[0], "https://example.com/a/0");
        assert_eq!(
            kept.last().unwrap(),
            &format!("https://example.com/a/{}", kept.len() - 1)
        );

        // A header and nothing else, and a damaged checksum, are errors.
        assert!(gunzip_if_needed(&compressed[..8], 1 << 20).is_err());
        let mut damaged = gzip(b"<urlset/>");
        let at = damaged.len() - 6;
        damaged[at] ^= 0xff;
        assert!(
            gunzip_if_needed(&damaged, 1 << 20)
                .unwrap_err()
                .to_string()
                .contains("invalid gzip")
        );
        assert!(gunzip_if_needed(&[0x1f, 0x8b], 100).is_err());
    }

    #[test]
    fn windows_1251_title_is_decoded() {
        let title = "Путин и Си обменялись тёплыми словами";
        let xml = format!(
            r#"<?xml version="1.0" encoding="windows-1251"?>
<urlset xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://news.example.ru/статья/1</loc><news:news><news:title>{title}</news:title></news:news></url>
</urlset>"#
        );
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1251.encode(&xml);
        assert!(!unmappable);
        assert!(std::str::from_utf8(&bytes).is_err());
        let parsed = urls(&bytes);
        assert_eq!(parsed.len(), 1);
        assert_eq!(
            parsed[0].loc,
            "https://news.example.ru/%D1%81%D1%82%D0%B0%D1%82%D1%8C%D1%8F/1"
        );
        assert_eq!(parsed[0].news.as_ref().unwrap().title.as_deref(), Some(title));

        // No declaration: the Content-Type's charset says it.
        let bare = xml.split_once("?>").unwrap().1;
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(bare);
        let doc = parse_sitemap(&bytes, Some("text/xml; charset=windows-1251"), BASE).unwrap();
        let SitemapDoc::Urls(parsed) = doc else {
            panic!("expected a urlset")
        };
        assert_eq!(parsed[0].news.as_ref().unwrap().title.as_deref(), Some(title));
    }

    #[test]
    fn utf16_title_is_decoded() {
        let title = "习近平会见普京 — «переговоры»";
        let xml = format!(
            r#"<?xml version="1.0" encoding="UTF-16"?><urlset><url><loc>https://example.cn/a</loc><news:news><news:title>{title}</news:title></news:news></url></urlset>"#
        );
        let mut le = vec![0xff, 0xfe];
        le.extend(xml.encode_utf16().flat_map(u16::to_le_bytes));
        let mut be = vec![0xfe, 0xff];
        be.extend(xml.encode_utf16().flat_map(u16::to_be_bytes));
        for bytes in [le, be] {
            let parsed = urls(&bytes);
            assert_eq!(parsed.len(), 1);
            assert_eq!(parsed[0].loc, "https://example.cn/a");
            assert_eq!(parsed[0].news.as_ref().unwrap().title.as_deref(), Some(title));
        }
    }

    #[test]
    fn w3c_dates() {
        let cases: &[(&str, DateTime<Utc>)] = &[
            ("1997", utc(1997, 1, 1, 0, 0, 0)),
            ("1997-07", utc(1997, 7, 1, 0, 0, 0)),
            ("1997-07-16", utc(1997, 7, 16, 0, 0, 0)),
            ("1997-07-16T19:20+01:00", utc(1997, 7, 16, 18, 20, 0)),
            ("1997-07-16T19:20:30+01:00", utc(1997, 7, 16, 18, 20, 30)),
            (
                "1997-07-16T19:20:30.45+01:00",
                utc(1997, 7, 16, 18, 20, 30) + chrono::Duration::milliseconds(450),
            ),
            (
                "1997-07-16T19:20:30.123456789-03:30",
                utc(1997, 7, 16, 22, 50, 30) + chrono::Duration::nanoseconds(123_456_789),
            ),
            (
                "1997-07-16T19:20:30.1234567891Z",
                utc(1997, 7, 16, 19, 20, 30) + chrono::Duration::nanoseconds(123_456_789),
            ),
            (
                "1997-07-16T19:20:30,5Z",
                utc(1997, 7, 16, 19, 20, 30) + chrono::Duration::milliseconds(500),
            ),
            ("1997-07-16T19:20Z", utc(1997, 7, 16, 19, 20, 0)),
            ("1997-07-16T19:20:30Z", utc(1997, 7, 16, 19, 20, 30)),
            ("1997-07-16t19:20:30z", utc(1997, 7, 16, 19, 20, 30)),
            ("1997-07-16T19:20:30+0100", utc(1997, 7, 16, 18, 20, 30)),
            ("1997-07-16T19:20:30-0800", utc(1997, 7, 17, 3, 20, 30)),
            ("1997-07-16T19:20:30+05", utc(1997, 7, 16, 14, 20, 30)),
            ("1997-07-16T19:20:30", utc(1997, 7, 16, 19, 20, 30)),
            ("1997-07-16T19:20", utc(1997, 7, 16, 19, 20, 0)),
            ("1997-07-16 19:20:30", utc(1997, 7, 16, 19, 20, 30)),
            ("1997-07-16 19:20:30+02:00", utc(1997, 7, 16, 17, 20, 30)),
            ("1997-07-16 19:20:30 +0200", utc(1997, 7, 16, 17, 20, 30)),
            ("1997-07-16 19:20:30 UTC", utc(1997, 7, 16, 19, 20, 30)),
            (
                "2016-12-31T23:59:60Z",
                utc(2016, 12, 31, 23, 59, 59) + chrono::Duration::seconds(1),
            ),
            ("  2024-02-29T00:00:00+14:00\n", utc(2024, 2, 28, 10, 0, 0)),
            // RFC 2822.
            ("Wed, 16 Jul 1997 19:20:30 +0100", utc(1997, 7, 16, 18, 20, 30)),
            ("Wed, 16 Jul 1997 19:20:30 GMT", utc(1997, 7, 16, 19, 20, 30)),
            ("16 Jul 1997 19:20 -0500", utc(1997, 7, 17, 0, 20, 0)),
            ("Wed, 16 Jul 1997 19:20:30 EST", utc(1997, 7, 17, 0, 20, 30)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_w3c_date(text), Some(*expected), "{text:?}");
        }
        let garbage = [
            "",
            "   ",
            "yesterday",
            "97",
            "19970",
            "1997-7-16",
            "1997-13-01",
            "1997-02-30",
            "1997-07-16T",
            "1997-07-16T25:00Z",
            "1997-07-16T19:60Z",
            "1997-07-16T19",
            "1997-07-16T19:20:30.Z",
            "1997-07-16T19:20:30+25:00",
            "1997-07-16T19:20:30+01:60",
            "1997-07-16T19:20:30+1",
            "1997-07-16T19:20:30 +01:00 extra",
            "1997-07-16T19:20:30Zulu",
            "1997-07-16X19:20",
            "1997T19:20",
            "1997-07T19:20",
            "19970716T192030Z",
            "1997-07-16T19:20:30.5.5Z",
            "٢٠٢٤-٠١-٠١",
            "Wed, 32 Jul 1997 19:20:30 GMT",
        ];
        for text in garbage {
            assert_eq!(parse_w3c_date(text), None, "{text:?}");
        }
    }

    #[test]
    fn robots_txt_sitemaps() {
        let robots = "\u{feff}# robots.txt for www.example.org\r\n\
User-agent: *\r\n\
Disallow: /search # no search pages\r\n\
Sitemap: https://www.example.org/sitemap_index.xml\r\n\
\r\n\
User-agent: Googlebot-News\r\n\
Allow: /\r\n\
sitemap: /news-sitemap.xml   # relative\r\n\
SITEMAP:https://www.example.org/sitemap_index.xml\r\n\
  Sitemap : https://static.example.org/video-sitemap.xml.gz\n\
Sitemap: ftp://www.example.org/sitemap.xml\n\
Sitemap:\n\
Sitemap: # nothing\n\
# Sitemap: https://www.example.org/commented-out.xml\n\
Sitemaps: https://www.example.org/wrong-field.xml\n\
Sitemap: //cdn.example.org/sitemap.xml\n\
Sitemap: http://www.example.org/plain.xml";
        assert_eq!(
            robots_sitemaps(robots, "https://www.example.org/robots.txt"),
            vec![
                "https://www.example.org/sitemap_index.xml",
                "https://www.example.org/news-sitemap.xml",
                "https://static.example.org/video-sitemap.xml.gz",
                "https://cdn.example.org/sitemap.xml",
                "http://www.example.org/plain.xml",
            ]
        );
        assert_eq!(
            robots_sitemaps("", "https://www.example.org/robots.txt"),
            Vec::<String>::new()
        );
        assert_eq!(
            robots_sitemaps("Sitemap: /relative.xml\nSitemap: https://a.example/s.xml", "not a url"),
            vec!["https://a.example/s.xml"]
        );
    }

    #[test]
    fn non_sitemap_roots_are_errors_naming_the_root() {
        let rss = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>News</title><item><link>https://e.example/1</link></item></channel></rss>"#;
        assert_eq!(
            error(rss),
            "not a sitemap: the root element is <rss>, not <urlset> or <sitemapindex>"
        );
        let html = b"<!DOCTYPE html>\n<html lang=\"en\"><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>";
        assert_eq!(
            error(html),
            "not a sitemap: the root element is <html>, not <urlset> or <sitemapindex>"
        );
        assert_eq!(
            error(br#"<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>"#),
            "not a sitemap: the root element is <feed>, not <urlset> or <sitemapindex>"
        );
        assert_eq!(
            error(br#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>"#),
            "not a sitemap: the root element is <rdf:RDF>, not <urlset> or <sitemapindex>"
        );
        assert_eq!(error(b""), "not a sitemap: the document is empty");
        assert_eq!(
            error(&gzip(b"<urlset/>")),
            "not a sitemap: the document is still gzip-compressed"
        );
        assert_eq!(error(b" \r\n\t "), "not a sitemap: the document is empty");
        assert_eq!(
            error(b"<?xml version=\"1.0\"?>\n<!-- nothing -->\n"),
            "not a sitemap: the document has no root element"
        );
        assert_eq!(
            error(br#"{"version": "https://jsonfeed.org/version/1"}"#),
            r#"not a sitemap: the document is not XML (it starts with "{\"version\": \"https://jsonfeed.org/versio")"#
        );
        assert_eq!(
            error(b"Service Unavailable"),
            r#"not a sitemap: the document is not XML (it starts with "Service Unavailable")"#
        );
        assert!(error(b"</urlset>").starts_with("not a sitemap: malformed XML before the root element"));
        let long = format!("<{} />", "x".repeat(10_000));
        assert_eq!(
            error(long.as_bytes()),
            format!(
                "not a sitemap: the root element is <{}>, not <urlset> or <sitemapindex>",
                "x".repeat(64)
            )
        );
    }

    #[test]
    fn truncated_xml_keeps_the_entries_before_the_break() {
        let xml = GOOGLE_NEWS;
        let second = xml.find("<url>\n    <loc>\n").unwrap();
        let full = urls(xml.as_bytes());
        // Cut in the middle of the second entry: the first one, complete, is kept.
        for cut in [second, second + 3, second + 20, xml.find("<![CDATA[ Le").unwrap() + 5] {
            assert_eq!(urls(&xml.as_bytes()[..cut]), full[..1].to_vec(), "cut at {cut}");
        }
        // Cut just before </urlset>: both entries are complete.
        assert_eq!(urls(&xml.as_bytes()[..xml.find("</urlset>").unwrap()]), full);
        // Garbage instead of the rest.
        let broken = format!("{}<url><loc>https://x.example/</loc><<<>></url>", &xml[..second]);
        assert_eq!(urls(broken.as_bytes()), full[..1].to_vec());
        let mismatched = format!("{}<url><loc>https://x.example/</lox></url></urlset>", &xml[..second]);
        assert_eq!(urls(mismatched.as_bytes()), full[..1].to_vec());
        // Nothing complete before the break: an error.
        let first_title = xml.find("<news:title>").unwrap();
        assert_eq!(
            error(&xml.as_bytes()[..first_title]),
            "not a sitemap: the document ends before </urlset>"
        );
        assert!(
            error(b"<urlset><url><loc>https://x.example/</lox>").starts_with("not a sitemap: malformed XML at byte")
        );
        assert_eq!(
            error(b"<sitemapindex><sitemap>"),
            "not a sitemap: the document ends before </sitemapindex>"
        );
    }

    #[test]
    fn content_after_the_root_is_ignored() {
        let xml = b"<urlset><url><loc>https://a.example/</loc></url></urlset>\n<!-- cached --><b>Warning</b>: <<< junk";
        assert_eq!(locs(xml), vec!["https://a.example/"]);
    }

    #[test]
    fn stops_after_max_entries() {
        let xml = numbered(MAX_ENTRIES + 5);
        let started = std::time::Instant::now();
        let parsed = urls(xml.as_bytes());
        eprintln!(
            "{} entries ({} bytes) parsed in {:?}",
            parsed.len(),
            xml.len(),
            started.elapsed()
        );
        assert_eq!(parsed.len(), MAX_ENTRIES);
        assert_eq!(parsed[0].loc, "https://example.com/a/0");
        assert_eq!(
            parsed[MAX_ENTRIES - 1].loc,
            format!("https://example.com/a/{}", MAX_ENTRIES - 1)
        );

        // Entries without a usable loc count towards the cap too.
        let mut skipped = String::from("<urlset>");
        skipped.push_str(&"<url/>".repeat(MAX_ENTRIES));
        skipped.push_str("<url><loc>https://example.com/late</loc></url></urlset>");
        assert_eq!(urls(skipped.as_bytes()), vec![]);
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let depth = 200_000;
        let xml = format!(
            "<urlset><url><loc>https://a.example/</loc>{}{}</url><url><loc>https://b.example/</loc></url></urlset>",
            "<x>".repeat(depth),
            "</x>".repeat(depth)
        );
        assert_eq!(locs(xml.as_bytes()), vec!["https://a.example/", "https://b.example/"]);
        let unclosed = format!(
            "<urlset><url><loc>https://a.example/</loc></url>{}",
            "<loc>".repeat(depth)
        );
        assert_eq!(locs(unclosed.as_bytes()), vec!["https://a.example/"]);
    }

    #[test]
    fn mangled_input_never_panics() {
        let xml = GOOGLE_NEWS.as_bytes();
        for cut in 0..xml.len() {
            let _ = parse_sitemap(&xml[..cut], None, BASE);
            let _ = parse_sitemap(&xml[cut..], None, BASE);
        }
        // Deterministic byte damage (xorshift).
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let specials = b"<>&;:/!?[]-\"' \x00\xff\xfe#x";
        for _ in 0..2000 {
            let mut body = xml.to_vec();
            for _ in 0..(next() % 8 + 1) {
                let at = (next() % body.len() as u64) as usize;
                body[at] = specials[(next() % specials.len() as u64) as usize];
            }
            let _ = parse_sitemap(&body, Some("text/xml; charset=utf-16"), BASE);
            let _ = gunzip_if_needed(&body, 1 << 16);
            let _ = robots_sitemaps(&String::from_utf8_lossy(&body), BASE);
        }
        let compressed = gzip(xml);
        for cut in 0..compressed.len() {
            let _ = gunzip_if_needed(&compressed[..cut], 1 << 16);
        }
        for text in [
            "0000-01-01T00:00+23:59",
            "9999-12-31T23:59:59.999999999-23:59",
            "+1997",
            "1997-07-16T19:20:30\u{e9}",
        ] {
            let _ = parse_w3c_date(text);
        }
    }

    /// The shared corpus holds feeds, none of them a sitemap (it has no sitemap files): each
    /// must be refused without a panic.
    #[test]
    fn corpus_feeds_are_not_sitemaps() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/feeds");
        let Ok(walk) = std::fs::read_dir(dir) else {
            eprintln!("skipped: {dir} is missing");
            return;
        };
        let mut pending: Vec<_> = walk.flatten().map(|e| e.path()).collect();
        let mut checked = 0;
        while let Some(path) = pending.pop() {
            if path.is_dir() {
                pending.extend(
                    std::fs::read_dir(&path)
                        .into_iter()
                        .flatten()
                        .flatten()
                        .map(|e| e.path()),
                );
                continue;
            }
            let Ok(body) = std::fs::read(&path) else { continue };
            assert!(parse_sitemap(&body, None, BASE).is_err(), "{}", path.display());
            checked += 1;
        }
        eprintln!("{checked} corpus feeds refused");
    }
}
