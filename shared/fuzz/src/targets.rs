//! The fuzz targets: each a `fn(&[u8])` over one parser or decoder of the pipeline, which
//! must never panic, hang (run past the target's [`Target::limit`]) or exhaust memory,
//! whatever the bytes. A target also checks properties that must hold for every input
//! (idempotence, round trips) and panics when one does not.

use std::sync::LazyLock;
use std::time::Duration;

use chrono::{DateTime, TimeZone as _, Utc};
use record::{AlertEvent, CleanedRecord, EnrichedRecord, RawRecord, Record, UniqueRecord};
use runtime::batch::{Input, Topics, apply_batch};
use runtime::{Stage, StageError};

use crate::seeds::{self, Sources};

/// One fuzz target.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub name: &'static str,
    /// What it exercises (for `newswire-fuzz list`).
    pub about: &'static str,
    /// The target itself.
    pub run: fn(&[u8]),
    /// The time one input may take; longer is a hang.
    pub limit: Duration,
    /// The largest input the harness makes.
    pub max_len: usize,
    /// Tokens the mutator inserts.
    pub dictionary: &'static [&'static [u8]],
    /// The target's seeds from the shared corpus and the repository.
    pub seeds: fn(&Sources) -> Vec<Vec<u8>>,
}

/// The time every target but `page` and `record` may take per input.
const LIMIT: Duration = Duration::from_secs(2);

/// Every target, in the order `newswire-fuzz all` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "feed",
        about: "fetcher::parse_document: feed bytes (RSS, Atom, JSON Feed, any charset) to raw records",
        run: feed,
        limit: LIMIT,
        max_len: 2 << 20,
        dictionary: FEED_TOKENS,
        seeds: seeds::feeds,
    },
    Target {
        name: "sitemap",
        about: "fetcher::gunzip_if_needed then parse_sitemap; robots_sitemaps on the text",
        run: sitemap,
        limit: LIMIT,
        max_len: 2 << 20,
        dictionary: SITEMAP_TOKENS,
        seeds: seeds::sitemaps,
    },
    Target {
        name: "page",
        about: "cleaner::extract_document: an article page to a cleaned record, within the page budget",
        run: page,
        limit: PAGE_BUDGET,
        max_len: 2 << 20,
        dictionary: PAGE_TOKENS,
        seeds: seeds::pages,
    },
    Target {
        name: "query",
        about: "tagger::query::parse, then a one-topic taxonomy compiled from the query and matched",
        run: query,
        limit: LIMIT,
        max_len: 64 << 10,
        dictionary: QUERY_TOKENS,
        seeds: seeds::queries,
    },
    Target {
        name: "url",
        about: "record::normalize_url (idempotent) and record::article_id",
        run: url,
        limit: LIMIT,
        max_len: 256 << 10,
        dictionary: URL_TOKENS,
        seeds: seeds::urls,
    },
    Target {
        name: "dedup_state",
        about: "deduper::index::Entry::decode (round trip through encode) and Index::restore",
        run: dedup_state,
        limit: LIMIT,
        max_len: 64 << 10,
        dictionary: DEDUP_TOKENS,
        seeds: seeds::dedup_entries,
    },
    Target {
        name: "record",
        about: "runtime::batch::apply_batch: a payload decoded as each record type (round trip) and run through its stage",
        run: record,
        limit: PAGE_BUDGET,
        max_len: 2 << 20,
        dictionary: RECORD_TOKENS,
        seeds: seeds::records,
    },
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// The time the targets run at: fixed, so that a run is reproducible.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0)
        .single()
        .expect("a valid time")
}

const FEED_URL: &str = "https://fuzz.example/feed";
const PAGE_URL: &str = "https://fuzz.example/news/2024/06/01/article.html";

// --- feed ---------------------------------------------------------------------------------------

static FEED: LazyLock<fetcher::FeedEntry> = LazyLock::new(|| fetcher::FeedEntry::new(FEED_URL));

/// Bytes to raw records, as the fetcher reads a polled feed.
pub fn feed(data: &[u8]) {
    if let Ok(parsed) = fetcher::parse_document(&FEED, data, None, FEED_URL, now()) {
        assert_eq!(
            parsed.records.len(),
            parsed.published.len(),
            "one publication date slot per record"
        );
        for record in &parsed.records {
            assert_eq!(record.id.len(), 32, "an article id is 32 hex digits: {:?}", record.id);
        }
    }
}

const FEED_TOKENS: &[&[u8]] = &[
    b"<?xml version=\"1.0\" encoding=\"",
    b"<?xml encoding=",
    b"windows-1251\"?>",
    b"utf-16",
    b"iso-8859-1",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xfe\xff",
    b"<rss version=\"2.0\">",
    b"<rss>",
    b"<channel>",
    b"</channel>",
    b"<item>",
    b"</item>",
    b"<title>",
    b"</title>",
    b"<link>",
    b"</link>",
    b"<description>",
    b"<guid>",
    b"<guid isPermaLink=\"false\">",
    b"<pubDate>",
    b"</pubDate>",
    b"Thu, 15 Jul 2021 20:38:00 GMT",
    b"Thu,28 Jul 2022 4:35:5 GMT+9",
    b"<ttl>",
    b"<content:encoded>",
    b"<dc:creator>",
    b"<dc:date>",
    b"<media:content url=\"",
    b"<enclosure url=\"",
    b"<feed xmlns=\"http://www.w3.org/2005/Atom\">",
    b"<entry>",
    b"</entry>",
    b"<updated>",
    b"2021-07-15T20:38:00Z",
    b"<link rel=\"hub\" href=\"",
    b"<link rel=\"self\" href=\"",
    b"<link href=\"",
    b"xml:base=\"",
    b"<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\">",
    b"<![CDATA[",
    b"]]>",
    b"&#x",
    b"&#",
    b"&amp;",
    b"&lt;",
    b"&nbsp;",
    b"<!--",
    b"-->",
    b"<!DOCTYPE rss [<!ENTITY a \"aaaaaaaa\">]>",
    b"&a;",
    b"<![CDATA[<p>",
    b"{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"",
    b"{\"version\":\"1.0\",",
    b"\"items\":[{\"id\":\"",
    b"\"url\":\"",
    b"\"date_published\":\"",
    b"\"content_html\":\"",
    b"\\u0000",
    b"\\ud800",
];

// --- sitemap ------------------------------------------------------------------------------------

/// The fetcher's default body cap, which it passes to `gunzip_if_needed`.
const MAX_BODY: usize = 10 << 20;

/// A sitemap body (maybe gzip) and a robots.txt, as the sitemap source reads them.
pub fn sitemap(data: &[u8]) {
    if let Ok(body) = fetcher::gunzip_if_needed(data, MAX_BODY) {
        assert!(body.len() <= MAX_BODY, "the gzip cap holds");
        let entries = match fetcher::parse_sitemap(&body, None, FEED_URL) {
            Ok(fetcher::SitemapDoc::Index(refs)) => refs.len(),
            Ok(fetcher::SitemapDoc::Urls(urls)) => urls.len(),
            Err(_) => 0,
        };
        assert!(entries <= fetcher::MAX_SITEMAP_ENTRIES, "the entry cap holds");
    }
    let text = String::from_utf8_lossy(data);
    for url in fetcher::robots_sitemaps(&text, FEED_URL) {
        assert!(url.starts_with("http://") || url.starts_with("https://"), "{url}");
    }
}

const SITEMAP_TOKENS: &[&[u8]] = &[
    b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
    b"<?xml encoding=",
    b"<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">",
    b"</urlset>",
    b"<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">",
    b"</sitemapindex>",
    b"<sitemap>",
    b"</sitemap>",
    b"<url>",
    b"</url>",
    b"<loc>",
    b"</loc>",
    b"<lastmod>",
    b"</lastmod>",
    b"2024-05-31T23:59:60+02:00",
    b"2024-05-31 10:00 UTC",
    b"<news:news>",
    b"<news:publication>",
    b"<news:name>",
    b"<news:language>",
    b"<news:publication_date>",
    b"<news:title>",
    b"<news:keywords>",
    b"<image:image>",
    b"<![CDATA[",
    b"]]>",
    b"&amp;",
    b"&#x",
    b"&",
    b"https://fuzz.example/a",
    b"/relative",
    b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
    b"\x1f\x8b",
    b"Sitemap: ",
    b"sitemap:",
    b"User-agent: *\n",
    b"Disallow: /",
    b"\r\n",
    b"#",
    b"\xef\xbb\xbf",
];

// --- page ---------------------------------------------------------------------------------------

/// The page budget: `extract_document` extracts with the default [`cleaner::Budget`], whose
/// timeout is the target's limit.
const PAGE_BUDGET: Duration = Duration::from_secs(5);

/// An article page to a cleaned record, as the cleaner extracts it: the budget's checks, then
/// extraction on a worker thread with the budget's deadline (the services' sandbox of worker
/// processes is replaced here by the harness's own: each target runs in a child process with
/// its address space capped).
pub fn page(data: &[u8]) {
    let html = String::from_utf8_lossy(data);
    // A panic in the extraction thread comes back as `internal` (the panic message was
    // recorded by the harness's hook): in the record, or in the error of a page that gave
    // nothing else.
    match cleaner::extract_document(&html, Some(PAGE_URL), now()) {
        Ok(cleaned) => {
            assert_ne!(
                cleaned.article.extraction.page_failure.as_deref(),
                Some("internal"),
                "the extractor panicked on the page"
            );
            assert_eq!(cleaned.article.id.len(), 32);
        }
        Err(err) => assert!(
            !err.to_string().contains("page not used: internal"),
            "the extractor panicked on the page: {err}"
        ),
    }
}

const PAGE_TOKENS: &[&[u8]] = &[
    b"<!DOCTYPE html>",
    b"<html lang=\"",
    b"<head>",
    b"<meta charset=\"",
    b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=",
    b"<title>",
    b"</title>",
    b"<body>",
    b"<article>",
    b"</article>",
    b"<p>",
    b"</p>",
    b"<div class=\"article-body\">",
    b"</div>",
    b"<h1>",
    b"<br>",
    b"<figure><img src=\"",
    b"<figcaption>",
    b"<table><tr><td>",
    b"<ul><li>",
    b"<pre>",
    b"<script>",
    b"</script>",
    b"<style>",
    b"</style>",
    b"<svg>",
    b"</svg>",
    b"<math>",
    b"<template>",
    b"<noscript>",
    b"<iframe>",
    b"<plaintext>",
    b"<textarea>",
    b"<!--",
    b"-->",
    b"<![CDATA[",
    b"<meta property=\"og:title\" content=\"",
    b"<meta property=\"article:published_time\" content=\"",
    b"<meta name=\"author\" content=\"",
    b"<link rel=\"canonical\" href=\"",
    b"<base href=\"",
    b"<time datetime=\"",
    b"<script type=\"application/ld+json\">",
    b"{\"@context\":\"https://schema.org\",\"@type\":\"NewsArticle\",\"headline\":\"",
    b"\"datePublished\":\"",
    b"\"author\":{\"@type\":\"Person\",\"name\":\"",
    b"\"@graph\":[",
    b"&nbsp;",
    b"&amp;",
    b"&#x10FFFF;",
    b"&#xD800;",
    b"&#",
    b"\xc3\x83\xc2\xa9",
    b" class=\"caption\"",
    b" itemprop=\"articleBody\"",
    b" hidden",
    b" style=\"display:none\"",
];

// --- query --------------------------------------------------------------------------------------

/// The gazetteer the query target compiles against: a few entities of every kind, so that
/// entity references resolve (the shipped one makes every compile slow).
static GAZETTEER: LazyLock<tagger::Gazetteer> = LazyLock::new(|| {
    let mut gazetteer = tagger::Gazetteer::default();
    for (name, yaml) in [
        (
            "countries",
            "kind: country\nentities:\n  - {id: Q159, name: Russia, code: RU, aliases: [Moscow, Kremlin, Россия, 俄罗斯]}\n  - {id: Q148, name: China, code: CN, aliases: [Beijing, 中国]}\n  - {id: Q30, name: United States, code: US, aliases: [U.S., Washington], cased: [US]}\n",
        ),
        (
            "people",
            "kind: person\nentities:\n  - {id: Q7747, name: Vladimir Putin, country: RU, aliases: [Putin, Путин, 普京]}\n  - {id: Q15031, name: Xi Jinping, country: CN, aliases: [President Xi, 习近平], cased: [Xi]}\n",
        ),
        (
            "organisations",
            "kind: organisation\nentities:\n  - {id: Q7184, name: NATO, aliases: [North Atlantic alliance, НАТО]}\n  - {id: Q1065, name: United Nations, aliases: [U.N.], cased: [UN]}\n",
        ),
    ] {
        gazetteer.add(name, yaml).expect("the fuzz gazetteer is valid");
    }
    gazetteer
});

/// A taxonomy query: parsed; if it parses, compiled as the one topic of a taxonomy and
/// matched against an article made of the query's own text (so that its terms occur).
pub fn query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if tagger::query::parse(&text).is_err() {
        return;
    }
    let topic = tagger::TopicDef {
        slug: "fuzz".into(),
        label: "Fuzz".into(),
        description: String::new(),
        parent: None,
        query: text.to_string(),
        min_score: 1.0,
    };
    let Ok(taxonomy) = tagger::Taxonomy::compile(vec![topic], GAZETTEER.clone()) else {
        return;
    };
    let article = format!("{text} Putin and Xi met in Moscow; NATO and the U.N. said so.");
    let tags = taxonomy.tag(&[
        (tagger::Field::Title, &text),
        (tagger::Field::Summary, ""),
        (tagger::Field::Text, &article),
    ]);
    for topic in &tags.topics {
        assert!(topic.score.is_finite(), "a finite score: {}", topic.score);
    }
    let _ = taxonomy.explain(&[(tagger::Field::Title, &text), (tagger::Field::Text, &article)]);
}

const QUERY_TOKENS: &[&[u8]] = &[
    b" AND ",
    b" OR ",
    b"NOT ",
    b" AND NOT ",
    b" NEAR/",
    b" NEAR/5 ",
    b" NEAR/100 ",
    b" NEAR/0 ",
    b" NEAR ",
    b" EXCEPT ",
    b"\"",
    b"\"vladimir putin\"",
    b"\xe2\x80\x9c",
    b"\xe2\x80\x9d",
    b"(",
    b")",
    b"*",
    b"sanction*",
    b"title:",
    b"summary:",
    b"text:",
    b"actors:",
    b"actors:RU",
    b"country:",
    b"country:RU",
    b"person:",
    b"person:\"Vladimir Putin\"",
    b"org:",
    b"org:NATO",
    b"entity:",
    b"entity:Q159",
    b"focus:",
    b"focus:CN",
    b"title:actors:RU",
    b":",
    b"Putin",
    b"moscow",
    b"\xe4\xbf\x84\xe7\xbd\x97\xe6\x96\xaf",
];

// --- url ----------------------------------------------------------------------------------------

/// A URL to its canonical form and id. Normalising is idempotent: the canonical form of a
/// canonical URL is itself (else one article would get two ids, depending on whether the
/// URL came normalised or not).
pub fn url(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let id = record::article_id(&text);
    assert_eq!(id.len(), 32);
    if let Some(canonical) = record::normalize_url(&text) {
        let again = record::normalize_url(&canonical);
        assert_eq!(
            again.as_deref(),
            Some(canonical.as_str()),
            "normalize_url is idempotent (input {:?})",
            text.chars().take(300).collect::<String>()
        );
        assert_eq!(record::article_id(&canonical).len(), 32);
    }
}

const URL_TOKENS: &[&[u8]] = &[
    b"%",
    b"%2F",
    b"%25",
    b"%00",
    b"%3A%2F%2F",
    b"%E2%80%AE",
    b"%zz",
    b"://",
    b"http://",
    b"https://",
    b"HTTPS://",
    b"ftp://",
    b"javascript:",
    b"data:,",
    b"file:///",
    b"//",
    b"@",
    b"user:pass@",
    b"[::1]",
    b"[",
    b"]",
    b"xn--",
    b"xn--80ak6aa92e.com",
    b"xn--zz",
    b"127.0.0.1",
    b"0x7f.1",
    b":443",
    b":80",
    b":0",
    b":65535",
    b":65536",
    b"?",
    b"&",
    b"#",
    b"=",
    b";",
    b"+",
    b"utm_source=rss",
    b"fbclid=x",
    b"amp=1",
    b"outputType=amp",
    b"amp.",
    b"www.",
    b"/amp",
    b"/amp/",
    b".amp.html",
    b"/amp.html",
    b"www.google.com/url?q=",
    b"google.com/url?url=",
    b"l.facebook.com/l.php?u=",
    b"out.reddit.com/x?url=",
    b"t.umblr.com/redirect?z=",
    b"www.google.com/amp/s/",
    b"x.cdn.ampproject.org/c/s/",
    b"x.cdn.ampproject.org/v/",
    b"..",
    b"/./",
    b"/../",
    b"\\",
    b" ",
    b"\t",
    b"\n",
    b"\xc3\x9f",
    b"\xc4\xb0",
    b"\xef\xbc\x8e",
];

// --- dedup_state --------------------------------------------------------------------------------

/// A persisted deduper entry, as restored from `news.deduper.state` (or the store): decoded;
/// what decodes encodes to bytes that decode to the same entry; restored into a window,
/// which then decides on an article and evicts.
pub fn dedup_state(data: &[u8]) {
    use deduper::index::{Entry, Index, Input, Settings, id_number, id_string};
    const ID: &str = "0123456789abcdef0123456789abcdef";
    let id = id_number(ID);
    if let Some(entry) = Entry::decode(id, data) {
        let encoded = entry.encode();
        let again = Entry::decode(id, &encoded).expect("an encoded entry decodes");
        // Compared as bytes: the similarity may be a NaN, which is not equal to itself.
        assert_eq!(again.encode(), encoded, "decode(encode(entry)) == entry");
    }
    let mut index = Index::new(Settings::default());
    index.restore(&id_string(id), Some(data));
    index.restore("fedcba9876543210fedcba9876543210", Some(data));
    let seen = index.get(ID).map_or(0, |e| e.seen);
    let text = "Putin and Xi exchange warm words and promise never to interfere in each other's internal affairs, \
                the leaders said in a video call on Wednesday, days after both were left out of a summit.";
    for (article, now) in [
        (ID, seen),
        ("00000000000000000000000000000001", seen.saturating_add(60)),
    ] {
        let _ = index.decide(Input {
            id: article,
            title: "Putin and Xi exchange warm words",
            text,
            now,
        });
    }
    let _ = index.take_changes();
    index.evict(seen.saturating_add(i64::from(u32::MAX)));
    let _ = index.memory_bytes();
}

const DEDUP_TOKENS: &[&[u8]] = &[
    b"\x02",
    b"\x03",
    b"\x01",
    b"\x00\x00\x00\x00\x00\x00\x00\x00",
    b"\xff\xff\xff\xff\xff\xff\xff\x7f",
    b"\x00\x00\x00\x00\x00\x00\x00\x80",
    b"\x00\x00\xc0\x7f",
    b"\x00\x00\x80\x7f",
    b"\x00\x00\x80\xff",
    b"\xff\xff\xff\xff",
    b"\x00\x00\x00\x00",
    b"2021-07-15T20:38:00Z",
    b"2021-07-15T20:38:00+14:00",
    b"+262143-12-31T23:59:59Z",
    b"-262143-01-01T00:00:00Z",
    b"9999-12-31T23:59:60.999999999Z",
];

// --- record -------------------------------------------------------------------------------------

/// A stage that hands its input on unchanged: [`apply_batch`] over it is the runtime's
/// decoding (and encoding) of one record type, and nothing else.
struct Identity<T>(std::marker::PhantomData<fn() -> T>);

impl<T: Record> Stage for Identity<T> {
    type Input = T;
    type Output = T;

    fn name(&self) -> &'static str {
        "fuzz"
    }

    fn process(&mut self, input: T) -> Result<Vec<T>, StageError> {
        Ok(vec![input])
    }
}

/// The producer's record limit at the default `message.max.bytes`.
const MAX_RECORD_BYTES: usize = 1_000_000 - 4096;

const TOPICS: Topics<'static> = Topics {
    output: "out",
    dlq: "dlq",
};

fn input(payload: &[u8]) -> Input<'_> {
    Input {
        key: Some(b"key"),
        payload: Some(payload),
        topic: "in",
        partition: 0,
        offset: 0,
        traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    }
}

/// `payload` decoded as a `T` by the runtime; when it decodes, the encoded output decodes
/// again to a record that encodes to the same bytes. Returns whether it decoded.
fn round_trip<T: Record>(payload: &[u8]) -> bool {
    let applied = apply_batch(
        &mut Identity::<T>(std::marker::PhantomData),
        [input(payload)],
        TOPICS,
        usize::MAX,
    );
    let Some(output) = applied.outputs.first() else {
        assert_eq!(applied.dead.len(), 1, "an input that is not an output is a dead letter");
        return false;
    };
    let encoded = output.payload.as_deref().expect("an output has a payload");
    let again = apply_batch(
        &mut Identity::<T>(std::marker::PhantomData),
        [input(encoded)],
        TOPICS,
        usize::MAX,
    );
    let reencoded = again
        .outputs
        .first()
        .and_then(|m| m.payload.as_deref())
        .unwrap_or_else(|| {
            panic!(
                "a {} the runtime encoded does not decode again: {:?}",
                std::any::type_name::<T>(),
                again.dead.first().and_then(|m| m.header(runtime::dlq_headers::ERROR))
            )
        });
    assert_eq!(
        String::from_utf8_lossy(reencoded),
        String::from_utf8_lossy(encoded),
        "decode(encode(record)) == record for {}",
        std::any::type_name::<T>()
    );
    true
}

static TAGGER: LazyLock<std::sync::Mutex<tagger::Tagger>> = LazyLock::new(|| {
    let taxonomy = tagger::Taxonomy::embedded().expect("the shipped taxonomy compiles");
    std::sync::Mutex::new(tagger::Tagger::new(taxonomy).with_topic_routing("news.topic."))
});

/// A Kafka payload as every stage's runtime decodes it: as each record type (with the round
/// trip checked), and, where it decodes, through that type's real stage (cleaner, deduper,
/// tagger, alerter), each with an empty state.
pub fn record(data: &[u8]) {
    if let Some(trace) = runtime::TraceContext::parse(&String::from_utf8_lossy(&data[..data.len().min(128)])) {
        assert_eq!(runtime::TraceContext::parse(&trace.header()), Some(trace));
    }
    if round_trip::<RawRecord>(data) {
        let mut cleaner = cleaner::Cleaner::new(cleaner::Budget::default());
        apply_batch(&mut cleaner, [input(data)], TOPICS, MAX_RECORD_BYTES);
    }
    if round_trip::<CleanedRecord>(data) {
        let mut deduper = deduper::Deduper::default();
        apply_batch(&mut deduper, [input(data), input(data)], TOPICS, MAX_RECORD_BYTES);
    }
    if round_trip::<UniqueRecord>(data) {
        let mut tagger = TAGGER.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        apply_batch(&mut *tagger, [input(data)], TOPICS, MAX_RECORD_BYTES);
    }
    if round_trip::<EnrichedRecord>(data) {
        let mut alerter = alerter::Alerter::new(alerter::DetectorSettings::default());
        apply_batch(&mut alerter, [input(data), input(data)], TOPICS, MAX_RECORD_BYTES);
    }
    round_trip::<AlertEvent>(data);
}

const RECORD_TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\"",
    b"null",
    b"true",
    b"false",
    b"\"schema_version\":1,",
    b"\"id\":\"0123456789abcdef0123456789abcdef\",",
    b"\"feed\":{\"url\":\"https://fuzz.example/feed\"},",
    b"\"url\":\"https://fuzz.example/a\",",
    b"\"title\":\"",
    b"\"text\":\"",
    b"\"summary\":\"",
    b"\"content\":\"<p>",
    b"\"fetched_at\":\"2024-06-01T12:00:00Z\"",
    b"\"published_at\":\"",
    b"\"updated_at\":\"",
    b"\"page\":{\"url\":\"https://fuzz.example/a\",\"html\":\"<html><body><p>",
    b"\"fetched_at\":\"+262143-12-31T23:59:59.999999999Z\"",
    b"\"fetched_at\":\"-262143-01-01T00:00:00Z\"",
    b"1970-01-01T00:00:00Z",
    b"9999-12-31T23:59:60Z",
    b"\"story_id\":\"",
    b"\"revision\":4294967295,",
    b"\"revision\":0,",
    b"\"similarity\":",
    b"\"word_count\":",
    b"\"topics\":[{\"slug\":\"ukraine\",\"label\":\"Ukraine\",\"score\":1e308,\"matches\":[]}],",
    b"\"entities\":[],",
    b"\"focus_countries\":[\"RU\"],",
    b"\"language\":\"",
    b"\"source\":{\"domain\":\"fuzz.example\"},",
    b"\"fingerprints\":{\"content_sha256\":\"\"},",
    b"\"timestamps\":{},",
    b"\"extraction\":{\"method\":\"readability\",\"provenance\":{}},",
    b"\"authors\":[\"",
    b"\\u0000",
    b"\\ud800",
    b"\\udfff",
    b"\\\"",
    b"1e400",
    b"-0",
    b"1.7976931348623157e308",
    b"5e-324",
    b"18446744073709551616",
    b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
];
