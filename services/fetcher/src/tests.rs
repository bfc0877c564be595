use std::path::{Path, PathBuf};

use std::collections::HashSet;

use record::RawRecord;
use telemetry::StageMetrics;

use super::*;
use crate::cluster::encode_within_limit;
use crate::state::SEEN_PER_FEED;

fn corpus(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/feeds")
        .join(path)
}

fn feed(url: &str) -> FeedEntry {
    FeedEntry {
        fetch_article: FetchArticle::Never,
        tags: vec!["test".into()],
        ..FeedEntry::new(url)
    }
}

fn parse_file(path: &str) -> Result<Vec<RawRecord>, ParseError> {
    let body = std::fs::read(corpus(path)).unwrap();
    parse_feed(
        &feed("https://feeds.example.com/feed.xml"),
        &body,
        "https://feeds.example.com/feed.xml",
        Utc::now(),
    )
}

#[test]
fn real_feeds_parse_into_records_with_unique_ids() {
    for (path, min_items) in [
        ("gesab001-headlines/bbc__20210715T2038__c77d11f.xml", 20),
        ("gesab001-headlines/nzherald__20210715T2038__c77d11f.xml", 5),
        ("gesab001-headlines/dailymail__20211018T0218__9e6d80d.xml", 5),
        ("gesab001-headlines/aljazeeraenglish__20211018T0218__9e6d80d.xml", 5),
        ("mediacloud-rss-fetcher/real-korean-times.rss", 5),
    ] {
        let records = parse_file(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(records.len() >= min_items, "{path}: {} items", records.len());
        let ids: HashSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), records.len(), "{path}: ids are unique");
        for r in &records {
            assert!(
                r.title.as_deref().is_some_and(|t| !t.is_empty()),
                "{path}: every item has a title"
            );
            assert!(
                r.url.as_deref().is_some_and(|u| u.starts_with("http")),
                "{path}: absolute links: {:?}",
                r.url
            );
            assert_eq!(r.feed.tags, vec!["test"]);
        }
    }
}

#[test]
fn ids_are_stable_across_snapshots_of_one_feed() {
    // Two consecutive BBC snapshots share most of their items; shared items get one id.
    let a = parse_file("gesab001-headlines/bbc__20210715T2038__c77d11f.xml").unwrap();
    let b = parse_file("gesab001-headlines/bbc__20210716T1110__19dfa14.xml").unwrap();
    let ids_a: HashSet<&str> = a.iter().map(|r| r.id.as_str()).collect();
    let shared = b.iter().filter(|r| ids_a.contains(r.id.as_str())).count();
    assert!(shared > 5, "only {shared} shared items");
    // And parsing the same document twice gives the same ids (also for feeds without guids).
    let again = parse_file("gesab001-headlines/nzherald__20210715T2038__c77d11f.xml").unwrap();
    let once = parse_file("gesab001-headlines/nzherald__20210715T2038__c77d11f.xml").unwrap();
    assert_eq!(
        once.iter().map(|r| &r.id).collect::<Vec<_>>(),
        again.iter().map(|r| &r.id).collect::<Vec<_>>()
    );
}

#[test]
fn missing_dates_fall_back_to_the_first_sighting_and_empty_bodies_are_errors() {
    let body = std::fs::read(corpus(
        "gesab001-headlines/dailytelegraph__20210920T1257__a10b632__NO-DATES.xml",
    ))
    .unwrap();
    let now = Utc::now();
    let parsed = parse_document(
        &feed("https://feeds.example.com/feed.xml"),
        &body,
        None,
        "https://feeds.example.com/",
        now,
    )
    .unwrap();
    assert!(!parsed.records.is_empty());
    assert!(
        parsed.records.iter().all(|r| r.published_at == Some(now)),
        "first sighting, not 1970"
    );
    assert!(
        parsed.published.iter().all(Option::is_none),
        "and known to be no date of the feed's own"
    );
    assert!(parse_file("gesab001-headlines/dailytelegraph__20211018T0218__9e6d80d__EMPTY.xml").is_err());
    assert!(parse_file("gofeed/unknown_feed.xml").is_err());
}

#[test]
fn json_feed_and_relative_links() {
    let records = parse_file("feed-rs/jsonfeed/jsonfeed_elastic_1.1.json").unwrap();
    assert!(!records.is_empty());
    assert!(
        records
            .iter()
            .all(|r| r.url.as_deref().is_some_and(|u| u.starts_with("https://")))
    );
    // Relative links resolve against the URL the feed was served from.
    let records = parse_file("feed-rs/rss2/rss_2.0_relurl_1.xml").unwrap();
    assert!(!records.is_empty());
    for r in &records {
        let url = r.url.as_deref().unwrap_or_default();
        assert!(url.starts_with("http"), "absolute link: {url}");
    }
    // A JSON Feed that names its version "1.0" instead of the spec's URL is read as 1.0.
    let records = parse_file("gofeed/version_json_10.json").unwrap();
    assert!(!records.is_empty());
    assert!(
        records
            .iter()
            .all(|r| r.title.is_some() || r.summary.is_some() || r.content.is_some())
    );
}

fn record(id: &str) -> RawRecord {
    let mut records = parse_file("rust-syndication-rss/rss2sample.xml").unwrap();
    let mut r = records.remove(0);
    r.id = id.into();
    r
}

#[test]
fn only_new_items_are_emitted() {
    let state = FeedState::default();
    let (fresh, state) = new_items(vec![record("a"), record("b"), record("a")], &state);
    assert_eq!(fresh.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), vec!["a", "b"]);
    let (fresh, state) = new_items(vec![record("c"), record("b")], &state);
    assert_eq!(fresh.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), vec!["c"]);
    assert_eq!(state.seen, vec!["c", "a", "b"], "newest first");
    let many: Vec<RawRecord> = (0..SEEN_PER_FEED + 10).map(|i| record(&i.to_string())).collect();
    let (_, state) = new_items(many, &state);
    assert_eq!(state.seen.len(), SEEN_PER_FEED, "the memory per feed is bounded");
}

/// Every document of the corpus parses or fails with a clear error; none panics.
#[test]
fn every_corpus_feed_parses_or_fails_clearly() {
    let mut stack = vec![corpus("")];
    let (mut parsed, mut failed) = (Vec::new(), Vec::new());
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.to_string_lossy().to_string();
            if name.ends_with(".serde.json") || name.ends_with("_expected.json") {
                continue;
            }
            let body = std::fs::read(&path).unwrap();
            match parse_document(
                &feed("https://feeds.example.com/f"),
                &body,
                None,
                "https://feeds.example.com/f",
                Utc::now(),
            ) {
                Ok(doc) => parsed.push((name, doc)),
                Err(err) => {
                    assert!(err.to_string().len() > "not a feed: ".len(), "{name}: {err}");
                    failed.push((name, err.to_string()));
                }
            }
        }
    }
    assert!(
        parsed.len() + failed.len() >= 100,
        "{} documents",
        parsed.len() + failed.len()
    );
    let failed_names: Vec<&str> = failed.iter().map(|(n, _)| n.as_str()).collect();
    // Only documents that are not feeds (or too broken to be one) may fail.
    for (name, err) in &failed {
        let expected = ["EMPTY.xml", "unknown_feed.xml", "invalid.json", "/feedparser/", "bozo"];
        assert!(expected.iter().any(|e| name.contains(e)), "{name} failed: {err}");
    }
    for must in [
        "feed-rs/",
        "miniflux/",
        "gesab001-headlines/bbc",
        "rust-syndication",
        "mediacloud",
        "gofeed/version_json_10.json",
    ] {
        assert!(
            parsed.iter().any(|(n, _)| n.contains(must)),
            "nothing from {must} parsed"
        );
        assert!(
            !failed_names.iter().any(|n| n.contains(must) && !n.contains("EMPTY")),
            "{must}: {failed_names:?}"
        );
    }
    for (name, doc) in &parsed {
        for r in &doc.records {
            let year = r.published_at.map(|d| d.format("%Y").to_string()).unwrap_or_default();
            assert!(year.as_str() >= "1995", "{name}: date {:?}", r.published_at);
        }
    }
}

fn title_of(path: &str, content_type: Option<&str>) -> String {
    let body = std::fs::read(corpus(path)).unwrap();
    let doc = parse_document(
        &feed("https://f.example/"),
        &body,
        content_type,
        "https://f.example/",
        Utc::now(),
    )
    .unwrap_or_else(|e| panic!("{path}: {e}"));
    doc.title.unwrap_or_default()
}

#[test]
fn charsets_are_detected_and_repaired() {
    // Declared windows-1251 (a real feed), KOI8-R, EUC-KR, UTF-16 with a BOM.
    let body = std::fs::read(corpus("miniflux/parser/encoding_WINDOWS-1251.xml")).unwrap();
    let doc = parse_document(
        &feed("https://f.example/"),
        &body,
        None,
        "https://f.example/",
        Utc::now(),
    )
    .unwrap();
    assert_eq!(doc.encoding, "windows-1251");
    assert!(
        doc.records.iter().any(|r| r
            .title
            .as_deref()
            .is_some_and(|t| t.chars().any(|c| ('а'..='я').contains(&c)))),
        "Cyrillic titles"
    );
    let koi8 = title_of("miniflux/encoding/koi8r.xml", None);
    assert!(koi8.chars().filter(|c| ('А'..='я').contains(c)).count() > 3, "{koi8}");
    assert_eq!(title_of("feedparser/encoding/euc-kr.xml", None), "\u{b144}");
    // UTF-16 with a byte-order mark (the document has no channel, so it is no feed).
    let body = std::fs::read(corpus("feedparser/encoding/utf-16le-bom.xml")).unwrap();
    let (text, encoding) = decode(&body, None);
    assert_eq!(encoding.name(), "UTF-16LE");
    assert!(text.starts_with("<?xml") && text.contains("<rss>"), "{text}");
    // windows-1255 without any declaration: guessed, the Hebrew comes out.
    let body = std::fs::read(corpus("feedparser/illformed/chardet/windows1255.xml")).unwrap();
    let doc = parse_document(
        &feed("https://f.example/"),
        &body,
        None,
        "https://f.example/",
        Utc::now(),
    )
    .unwrap();
    assert_eq!(doc.encoding, "windows-1255");
    let summary = doc.records[0].summary.as_deref().unwrap_or_default();
    assert!(summary.contains("אתר אינטרנט"), "{summary}");
    // A UTF-8 document whose declaration says ISO-8859-1 or windows-1252: the bytes win.
    assert_eq!(
        title_of("miniflux/encoding/utf8-incorrect-prolog.xml", None),
        "테스트 피드"
    );
    assert_eq!(
        title_of("miniflux/encoding/windows-1252-incorrect-prolog.xml", None),
        "Euro €"
    );
    // No declaration, no header: guessed.
    let mut raw = std::fs::read(corpus("miniflux/parser/encoding_WINDOWS-1251.xml")).unwrap();
    let decl = b" encoding=\"windows-1251\"";
    let at = raw.windows(decl.len()).position(|w| w == decl).unwrap();
    raw.drain(at..at + decl.len());
    let (text, encoding) = decode(&raw, None);
    assert_eq!(encoding.name(), "windows-1251", "guessed");
    assert!(text.contains("iBash") && text.chars().filter(|c| ('а'..='я').contains(c)).count() > 100);
}

#[test]
fn gb18030_comes_out_right_declared_undeclared_or_mislabelled() {
    let title = "中国与俄罗斯领导人会晤，讨论贸易、能源和地区安全问题";
    let item = "北京今日举行新闻发布会，外交部发言人回答了记者关于双边关系的提问";
    let make = |decl: &str| {
        let xml = format!(
            "<?xml version=\"1.0\"{decl}?><rss version=\"2.0\"><channel><title>{title}</title><item><title>{item}</title><link>https://news.example.cn/a/1</link></item></channel></rss>"
        );
        encoding_rs::GB18030.encode(&xml).0.into_owned()
    };
    for (decl, content_type) in [
        (" encoding=\"GB18030\"", None),
        (" encoding=\"gb2312\"", None),
        ("", None),
        ("", Some("text/xml; charset=GB18030")),
        (" encoding=\"ISO-8859-1\"", None),
    ] {
        let body = make(decl);
        let doc = parse_document(
            &feed("https://f.example/"),
            &body,
            content_type,
            "https://f.example/",
            Utc::now(),
        )
        .unwrap_or_else(|e| panic!("{decl:?}: {e}"));
        assert_eq!(doc.title.as_deref(), Some(title), "{decl:?} {content_type:?}");
        assert_eq!(doc.records[0].title.as_deref(), Some(item), "{decl:?}");
    }
}

#[test]
fn html_titles_relative_links_and_xml_base() {
    let xml = r#"<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://site.example/blog/">
  <title type="html">&lt;b&gt;Site&lt;/b&gt; &amp;amp; news</title>
  <entry xml:base="posts/">
    <title type="html">&lt;em&gt;Hello&lt;/em&gt; world</title>
    <link href="one.html"/>
    <updated>2021-07-01T10:00:00Z</updated>
  </entry>
  <entry>
    <title>No link, no id</title>
    <summary>Body</summary>
  </entry>
</feed>"#;
    let doc = parse_document(
        &feed("https://f.example/atom"),
        xml.as_bytes(),
        None,
        "https://f.example/atom",
        Utc::now(),
    )
    .unwrap();
    assert_eq!(doc.title.as_deref(), Some("Site & news"));
    assert_eq!(doc.records[0].title.as_deref(), Some("Hello world"));
    assert_eq!(
        doc.records[0].url.as_deref(),
        Some("https://site.example/blog/posts/one.html")
    );
    assert_eq!(
        doc.records[0].published_at.unwrap().to_rfc3339(),
        "2021-07-01T10:00:00+00:00",
        "updated when no published"
    );
    // No guid, no link: the identity comes from the title and summary, the same every time.
    let again = parse_document(
        &feed("https://f.example/atom"),
        xml.as_bytes(),
        None,
        "https://f.example/atom",
        Utc::now(),
    )
    .unwrap();
    assert_eq!(doc.records[1].id, again.records[1].id);
    assert_ne!(doc.records[0].id, doc.records[1].id);
}

// ---- Against local HTTP servers ----

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

const RSS: &str = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>\
    <item><title>One</title><link>https://news.example/1</link></item>\
    <item><title>Two</title><link>https://news.example/2</link></item></channel></rss>";

async fn serve_on(ip: &str, app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(format!("{ip}:0")).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn serve(app: axum::Router) -> SocketAddr {
    serve_on("127.0.0.1", app).await
}

/// Settings for tests: short timeouts, no jitter, generous per-host limits.
fn settings() -> FetchSettings {
    FetchSettings {
        connect_timeout_secs: 2,
        header_timeout_secs: 2,
        request_timeout_secs: 2,
        max_body_bytes: 1024 * 1024,
        jitter: 0.0,
        per_host_concurrency: 16,
        per_host_requests_per_sec: 1000.0,
        per_host_burst: 1000,
        ..FetchSettings::default()
    }
}

fn loopback_allowed() -> NetworkSettings {
    NetworkSettings {
        allow: vec!["127.0.0.1/32".into()],
    }
}

fn fetcher() -> Fetcher {
    Fetcher::new(&settings(), &loopback_allowed()).unwrap()
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// A local HTTP server with one feed that honours `If-None-Match`.
async fn serve_feed(body: Vec<u8>) -> String {
    let app = axum::Router::new().route(
        "/feed.xml",
        axum::routing::get(move |headers: HeaderMap| {
            let body = body.clone();
            async move {
                if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v == "\"v1\"") {
                    return StatusCode::NOT_MODIFIED.into_response();
                }
                (
                    [(header::ETAG, "\"v1\""), (header::CONTENT_TYPE, "application/rss+xml")],
                    body,
                )
                    .into_response()
            }
        }),
    );
    format!("http://{}/feed.xml", serve(app).await)
}

#[tokio::test]
async fn polls_conditionally_and_remembers_what_it_emitted() {
    let body = std::fs::read(corpus("gesab001-headlines/bbc__20210715T2038__c77d11f.xml")).unwrap();
    let url = serve_feed(body).await;
    let entry = feed(&url);
    let mut fetcher = fetcher();

    let first = fetcher.poll(&entry).await;
    assert_eq!(first.outcome, "ok", "{:?}", first.error);
    assert!(first.records.len() > 20);
    assert_eq!(first.next_state.etag.as_deref(), Some("\"v1\""));
    assert!(first.next_state.next_poll.is_some_and(|t| t > Utc::now().timestamp()));
    // Until committed, the same items are offered again: an undelivered poll loses nothing.
    assert_eq!(fetcher.poll(&entry).await.records.len(), first.records.len());

    let change = fetcher.commit(&entry, first.next_state);
    let second = fetcher.poll(&entry).await;
    assert_eq!(
        (second.outcome, second.records.len(), second.items),
        ("not_modified", 0, 0),
        "304"
    );

    // A restarted fetcher that restores the persisted change emits nothing again, even
    // without the validators (and without the body hash).
    let mut restarted = fetcher_with(settings());
    restarted.restore(&change.key, change.value.as_deref());
    let state = restarted.states.get_mut(&url).unwrap();
    state.etag = None;
    state.body_hash = None;
    let third = restarted.poll(&entry).await;
    assert!(third.items > 20);
    assert!(third.records.is_empty());
}

fn fetcher_with(settings: FetchSettings) -> Fetcher {
    Fetcher::new(&settings, &loopback_allowed()).unwrap()
}

#[tokio::test]
async fn untrustworthy_validators_and_unchanged_bodies() {
    // The server sends the same ETag whatever the body, and ignores If-None-Match.
    let hits = counter();
    let conditional = counter();
    let (h, c) = (hits.clone(), conditional.clone());
    let app = axum::Router::new().route(
        "/feed",
        axum::routing::get(move |headers: HeaderMap| {
            let n = h.fetch_add(1, Ordering::SeqCst);
            if headers.contains_key(header::IF_NONE_MATCH) {
                c.fetch_add(1, Ordering::SeqCst);
            }
            let body = if n < 2 {
                RSS.to_string()
            } else {
                RSS.replace("Two", "Three").replace("/2<", "/3<")
            };
            async move { ([(header::ETAG, "\"same\"")], body) }
        }),
    );
    let url = format!("http://{}/feed", serve(app).await);
    let entry = feed(&url);
    let mut fetcher = fetcher();
    let first = fetcher.poll(&entry).await;
    assert_eq!((first.outcome, first.records.len()), ("ok", 2));
    fetcher.commit(&entry, first.next_state);
    // Same body again (the server ignored the validator): not modified, by its hash.
    let second = fetcher.poll(&entry).await;
    assert_eq!((second.outcome, second.items), ("not_modified", 0));
    assert!(!second.next_state.validators_untrusted);
    fetcher.commit(&entry, second.next_state);
    // A changed body with the same ETag: the validators are not trusted any more.
    let third = fetcher.poll(&entry).await;
    assert_eq!((third.outcome, third.records.len()), ("ok", 1));
    assert!(third.next_state.validators_untrusted);
    fetcher.commit(&entry, third.next_state);
    let sent_before = conditional.load(Ordering::SeqCst);
    let fourth = fetcher.poll(&entry).await;
    assert_eq!(fourth.outcome, "not_modified");
    assert_eq!(
        conditional.load(Ordering::SeqCst),
        sent_before,
        "no If-None-Match any more"
    );
}

#[tokio::test]
async fn errors_back_off_then_park_and_recovery_resets() {
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let h = healthy.clone();
    let app = axum::Router::new().route(
        "/feed",
        axum::routing::get(move || {
            let ok = h.load(Ordering::SeqCst);
            async move {
                if ok {
                    RSS.into_response()
                } else {
                    StatusCode::INTERNAL_SERVER_ERROR.into_response()
                }
            }
        }),
    );
    let url = format!("http://{}/feed", serve(app).await);
    let entry = FeedEntry {
        name: Some("flaky".into()),
        ..feed(&url)
    };
    let mut fetcher = fetcher_with(FetchSettings {
        park_after_errors: 3,
        park_after_secs: 0,
        ..settings()
    });
    let mut waits = Vec::new();
    for _ in 0..3 {
        let before = Utc::now().timestamp();
        let polled = fetcher.poll(&entry).await;
        assert_eq!(polled.outcome, "http_5xx");
        waits.push(polled.next_state.next_poll.unwrap() - before);
        fetcher.commit(&entry, polled.next_state);
    }
    let state = fetcher.state(&url);
    assert_eq!(state.errors, 3);
    assert!(state.parked, "parked after 3 errors");
    assert!(waits[1] >= 2 * waits[0] - 2, "exponential: {waits:?}");
    assert!(waits[2] >= 7 * 86_400 - 2, "a parked feed waits a week: {waits:?}");
    assert!(
        fetcher.due(std::slice::from_ref(&entry), Utc::now()).is_empty(),
        "not hammered"
    );
    fetcher.update_feed_gauges(std::slice::from_ref(&entry));
    assert_eq!(metrics::get().feed_errors.with_label_values(&["flaky"]).get(), 3.0);
    // It works again: the next (weekly) poll resets everything.
    healthy.store(true, Ordering::SeqCst);
    let polled = fetcher.poll(&entry).await;
    assert_eq!(polled.outcome, "ok");
    fetcher.commit(&entry, polled.next_state);
    let state = fetcher.state(&url);
    assert_eq!((state.errors, state.parked), (0, false));
    let text = telemetry::prometheus::TextEncoder::new()
        .encode_to_string(&telemetry::prometheus::gather())
        .unwrap();
    assert!(
        !text.contains("feed_consecutive_errors{feed=\"flaky\"}"),
        "a healthy feed has no series"
    );
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let app = axum::Router::new()
        .route(
            "/busy",
            axum::routing::get(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, "7200")],
                    "slow down",
                )
            }),
        )
        .route(
            "/down",
            axum::routing::get(|| async { (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "5400")], "") }),
        );
    let addr = serve(app).await;
    let fetcher = fetcher();
    let now = Utc::now().timestamp();
    let busy = fetcher.poll(&feed(&format!("http://{addr}/busy"))).await;
    assert_eq!(busy.outcome, "http_4xx");
    let wait = busy.next_state.next_poll.unwrap() - now;
    assert!((7199..=7202).contains(&wait), "{wait}");
    let down = fetcher.poll(&feed(&format!("http://{addr}/down"))).await;
    assert_eq!(down.outcome, "http_5xx");
    let wait = down.next_state.next_poll.unwrap() - now;
    assert!((5399..=5402).contains(&wait), "{wait}");
}

#[tokio::test]
async fn permanent_redirects_move_the_feed_temporary_ones_do_not() {
    let old_hits = counter();
    let o = old_hits.clone();
    let app = axum::Router::new()
        .route(
            "/old",
            axum::routing::get(move || {
                o.fetch_add(1, Ordering::SeqCst);
                async { (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "/new")]) }
            }),
        )
        .route(
            "/temp",
            axum::routing::get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/new")]) }),
        )
        .route("/new", axum::routing::get(|| async { RSS }));
    let addr = serve(app).await;
    let mut fetcher = fetcher();
    let entry = feed(&format!("http://{addr}/old"));
    let polled = fetcher.poll(&entry).await;
    assert_eq!(polled.outcome, "ok");
    assert_eq!(
        polled.next_state.url.as_deref(),
        Some(format!("http://{addr}/new").as_str())
    );
    fetcher.commit(&entry, polled.next_state);
    let again = fetcher.poll(&entry).await;
    assert_eq!(again.outcome, "not_modified", "same body, from the new URL");
    assert_eq!(old_hits.load(Ordering::SeqCst), 1, "the old URL is not asked again");
    let temp = fetcher.poll(&feed(&format!("http://{addr}/temp"))).await;
    assert_eq!(temp.outcome, "ok");
    assert_eq!(temp.next_state.url, None, "a 302 does not move the feed");
}

#[tokio::test]
async fn redirect_loops_and_long_chains_are_cut() {
    let hops = counter();
    let h = hops.clone();
    let app = axum::Router::new()
        .route(
            "/a",
            axum::routing::get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/b")]) }),
        )
        .route(
            "/b",
            axum::routing::get(|| async { (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "/a")]) }),
        )
        .route(
            "/chain/{n}",
            axum::routing::get(move |axum::extract::Path(n): axum::extract::Path<u32>| {
                h.fetch_add(1, Ordering::SeqCst);
                async move { (StatusCode::FOUND, [(header::LOCATION, format!("/chain/{}", n + 1))]) }
            }),
        );
    let addr = serve(app).await;
    let fetcher = fetcher();
    let looped = fetcher.poll(&feed(&format!("http://{addr}/a"))).await;
    assert_eq!(looped.outcome, "network_error");
    assert!(looped.error.as_deref().unwrap().contains("loop"), "{:?}", looped.error);
    let chain = fetcher.poll(&feed(&format!("http://{addr}/chain/0"))).await;
    assert_eq!(chain.outcome, "network_error");
    assert!(
        chain.error.as_deref().unwrap().contains("more than 5 redirects"),
        "{:?}",
        chain.error
    );
    assert_eq!(hops.load(Ordering::SeqCst), 6, "the 6th redirect is not followed");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn oversized_and_decompression_bomb_bodies_are_refused() {
    let big = Arc::new(format!("<rss><channel>{}</channel></rss>", "x".repeat(2 * 1024 * 1024)));
    // 64 MB of zeros compress to about 64 kB.
    let bomb = Arc::new(gzip(&vec![b' '; 64 * 1024 * 1024]));
    assert!(bomb.len() < 1024 * 1024);
    let (b1, b2, bomb2) = (big.clone(), big.clone(), bomb.clone());
    let app = axum::Router::new()
        .route(
            "/big",
            axum::routing::get(move || {
                let b = b1.clone();
                async move { b.to_string() }
            }),
        )
        .route(
            "/chunked",
            axum::routing::get(move || {
                let b = b2.clone();
                async move {
                    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
                        b.as_bytes().chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
                    axum::body::Body::from_stream(futures_stream(chunks))
                }
            }),
        )
        .route(
            "/bomb",
            axum::routing::get(move || {
                let b = bomb2.clone();
                async move {
                    (
                        [
                            (header::CONTENT_ENCODING, "gzip"),
                            (header::CONTENT_TYPE, "application/rss+xml"),
                        ],
                        b.to_vec(),
                    )
                }
            }),
        );
    let addr = serve(app).await;
    let fetcher = fetcher();
    for path in ["big", "chunked", "bomb"] {
        let started = std::time::Instant::now();
        let polled = fetcher.poll(&feed(&format!("http://{addr}/{path}"))).await;
        assert_eq!(polled.outcome, "too_large", "{path}: {:?}", polled.error);
        assert!(started.elapsed() < Duration::from_secs(2), "{path}: stopped early");
    }
}

/// A stream of ready chunks, for bodies without a length.
fn futures_stream(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    futures_util::stream::iter(chunks)
}

#[tokio::test]
async fn slow_headers_and_never_ending_bodies_time_out() {
    let app = axum::Router::new()
        .route(
            "/slow",
            axum::routing::get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                RSS
            }),
        )
        .route(
            "/endless",
            axum::routing::get(|| async {
                let stream = futures_util::stream::unfold(0u64, |n| async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((Ok::<_, std::io::Error>(b"<item>".to_vec()), n + 1))
                });
                (
                    [(header::CONTENT_TYPE, "application/rss+xml")],
                    axum::body::Body::from_stream(stream),
                )
            }),
        );
    let addr = serve(app).await;
    let fetcher = fetcher_with(FetchSettings {
        header_timeout_secs: 1,
        request_timeout_secs: 2,
        ..settings()
    });
    for (path, within) in [("slow", 1), ("endless", 2)] {
        let started = std::time::Instant::now();
        let polled = fetcher.poll(&feed(&format!("http://{addr}/{path}"))).await;
        assert_eq!(polled.outcome, "timeout", "{path}: {:?}", polled.error);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(within) && took < Duration::from_secs(within + 2),
            "{path}: {took:?}"
        );
    }
}

#[tokio::test]
async fn private_addresses_are_blocked_unless_allowed() {
    // The allowed test server (127.0.0.1) and a second loopback address that is not allowed.
    let forbidden_hits = counter();
    let f = forbidden_hits.clone();
    let forbidden = serve_on(
        "127.0.0.2",
        axum::Router::new().fallback(move || {
            f.fetch_add(1, Ordering::SeqCst);
            async { RSS }
        }),
    )
    .await;
    let to_forbidden = format!("http://{forbidden}/feed");
    let redirect_target = to_forbidden.clone();
    let allowed = serve(
        axum::Router::new()
            .route("/feed", axum::routing::get(|| async { RSS }))
            .route(
                "/jump",
                axum::routing::get(move || {
                    let target = redirect_target.clone();
                    async move { (StatusCode::FOUND, [(header::LOCATION, target)]) }
                }),
            ),
    )
    .await;
    let only_server = NetworkSettings {
        allow: vec![allowed.to_string()],
    };
    let fetcher = Fetcher::new(&settings(), &only_server).unwrap();
    assert_eq!(
        fetcher.poll(&feed(&format!("http://{allowed}/feed"))).await.outcome,
        "ok"
    );
    for url in [
        to_forbidden.clone(),
        format!("http://{allowed}/jump"),
        // A name that resolves to loopback is checked after resolution.
        format!("http://localhost:{}/feed", forbidden.port()),
        format!("http://localhost:{}/feed", allowed.port()),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://[::1]:9/feed".to_string(),
    ] {
        let polled = fetcher.poll(&feed(&url)).await;
        assert_eq!(polled.outcome, "blocked", "{url}: {:?}", polled.error);
    }
    assert_eq!(
        forbidden_hits.load(Ordering::SeqCst),
        0,
        "the forbidden address got no request"
    );
    // The same server is reachable once allowed (so the zero above means something).
    let open = Fetcher::new(
        &settings(),
        &NetworkSettings {
            allow: vec!["127.0.0.0/8".into()],
        },
    )
    .unwrap();
    assert_eq!(open.poll(&feed(&to_forbidden)).await.outcome, "ok");
    assert_eq!(forbidden_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn bot_walls_are_not_parsed_as_empty_feeds() {
    let app = axum::Router::new()
        .route("/cf", axum::routing::get(|| async {
            (StatusCode::FORBIDDEN, [(header::SERVER, "cloudflare"), (header::CONTENT_TYPE, "text/html")],
             "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><script src=\"/cdn-cgi/challenge-platform/h/g/orchestrate/jsch/v1\"></script></body></html>")
        }))
        .route("/login", axum::routing::get(|| async {
            ([(header::CONTENT_TYPE, "text/html")],
             "<!doctype html><html><body><h1>Sign in</h1><form method=post><input name=email><input type=password name=p></form></body></html>")
        }))
        .route("/page", axum::routing::get(|| async { ([(header::CONTENT_TYPE, "text/html")], "<!doctype html><html><body><p>Hello</p></body></html>") }));
    let addr = serve(app).await;
    let fetcher = fetcher();
    for (path, outcome) in [("cf", "bot_wall"), ("login", "bot_wall"), ("page", "parse_error")] {
        let polled = fetcher.poll(&feed(&format!("http://{addr}/{path}"))).await;
        assert_eq!(polled.outcome, outcome, "{path}: {:?}", polled.error);
        assert_eq!(polled.next_state.errors, 1, "{path}: an error for the schedule");
    }
}

#[tokio::test]
async fn one_host_gets_at_most_its_concurrency() {
    let (now, peak) = (counter(), counter());
    let (n, p) = (now.clone(), peak.clone());
    let app = axum::Router::new().route(
        "/feed/{i}",
        axum::routing::get(move || {
            let (n, p) = (n.clone(), p.clone());
            async move {
                let running = n.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(running, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(150)).await;
                n.fetch_sub(1, Ordering::SeqCst);
                RSS
            }
        }),
    );
    let addr = serve(app).await;
    let fetcher = fetcher_with(FetchSettings {
        per_host_concurrency: 2,
        max_concurrent_fetches: 16,
        ..settings()
    });
    let feeds: Vec<FeedEntry> = (0..8).map(|i| feed(&format!("http://{addr}/feed/{i}"))).collect();
    let mut outcomes = Vec::new();
    poll_all(&fetcher, &feeds, |_, polled| outcomes.push(polled.outcome)).await;
    assert_eq!(outcomes, vec!["ok"; 8]);
    assert_eq!(peak.load(Ordering::SeqCst), 2, "two at a time on one host");
}

/// Hundreds of healthy feeds on one host: waiting for the host's turn (here 6 s at 50
/// requests per second) is far longer than a request's 2 s timeout, and still no poll fails,
/// every feed is requested exactly once, and each feed's next poll counts from when it was
/// really polled.
#[tokio::test(flavor = "multi_thread")]
async fn many_feeds_on_one_host_wait_their_turn_without_failing() {
    let hits = Arc::new(std::sync::Mutex::new(Vec::<usize>::new()));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/feed/{i}",
        axum::routing::get(move |axum::extract::Path(i): axum::extract::Path<usize>| {
            let h = h.clone();
            async move {
                h.lock().unwrap().push(i);
                tokio::time::sleep(Duration::from_millis(20)).await;
                RSS
            }
        }),
    );
    let addr = serve(app).await;
    let fetcher = fetcher_with(FetchSettings {
        per_host_concurrency: 2,
        per_host_requests_per_sec: 50.0,
        per_host_burst: 5,
        max_concurrent_fetches: 64,
        ..settings()
    });
    let n = 300;
    let feeds: Vec<FeedEntry> = (0..n).map(|i| feed(&format!("http://{addr}/feed/{i}"))).collect();
    let started = Utc::now();
    let mut polls = Vec::new();
    poll_all(&fetcher, &feeds, |feed, polled| polls.push((feed.url.clone(), polled))).await;
    let took = (Utc::now() - started).num_milliseconds() as f64 / 1000.0;
    let failed: Vec<_> = polls
        .iter()
        .filter(|(_, p)| !p.is_success())
        .map(|(u, p)| (u, &p.error))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {n} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    let mut requested = hits.lock().unwrap().clone();
    assert_eq!(requested.len(), n, "one request per feed");
    // The order is the order the polls reached the host's queue, which on a busy
    // multi-threaded runtime is not quite the order they were spawned in; that the queue
    // itself is first come, first served is `limits::turns_are_first_come_first_served…`.
    requested.sort_unstable();
    requested.dedup();
    assert_eq!(requested.len(), n);
    // The rate holds: 300 requests at 50/s after a burst of 5 take about 6 s.
    assert!((5.5..20.0).contains(&took), "took {took} s");
    // No jitter and a 900 s interval: each next poll is 900 s after the feed's own turn.
    let next: Vec<i64> = polls.iter().map(|(_, p)| p.next_state.next_poll.unwrap()).collect();
    let (first, last) = (next.iter().min().unwrap(), next.iter().max().unwrap());
    assert!(
        last - first >= 5,
        "the schedule follows the real polls: {first}..{last}"
    );
    assert!(*first >= started.timestamp() + 900 && *last <= Utc::now().timestamp() + 900);
    let waited = metrics::get().queue_wait_seconds.get_sample_count();
    assert!(waited >= n as u64, "queue waits are observed: {waited}");
}

#[tokio::test]
async fn article_pages_are_fetched_where_robots_txt_allows() {
    let private_hits = counter();
    let p = private_hits.clone();
    let app = axum::Router::new()
        .route(
            "/robots.txt",
            axum::routing::get(|| async { "User-agent: *\nDisallow: /private/\n" }),
        )
        .route(
            "/articles/{id}",
            axum::routing::get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    "<html><body><article>Full text é</article></body></html>",
                )
            }),
        )
        .route(
            "/private/{id}",
            axum::routing::get(move || {
                p.fetch_add(1, Ordering::SeqCst);
                async { "secret" }
            }),
        );
    let addr = serve(app).await;
    let feed_xml = format!(
        "<rss version=\"2.0\"><channel><title>A</title><item><title>Open</title><link>http://{addr}/articles/1</link></item><item><title>Closed</title><link>http://{addr}/private/2</link></item></channel></rss>"
    );
    let feed_app = axum::Router::new().route(
        "/feed",
        axum::routing::get(move || {
            let x = feed_xml.clone();
            async move { x }
        }),
    );
    let feed_addr = serve(feed_app).await;
    let fetcher = fetcher();
    let entry = FeedEntry {
        fetch_article: FetchArticle::Always,
        ..feed(&format!("http://{feed_addr}/feed"))
    };
    let polled = fetcher.poll(&entry).await;
    assert_eq!(polled.outcome, "ok");
    let open = polled
        .records
        .iter()
        .find(|r| r.title.as_deref() == Some("Open"))
        .unwrap();
    assert!(
        open.page.as_ref().is_some_and(|p| p.html.contains("Full text é")),
        "{:?}",
        open.page
    );
    let closed = polled
        .records
        .iter()
        .find(|r| r.title.as_deref() == Some("Closed"))
        .unwrap();
    assert!(closed.page.is_none());
    assert_eq!(private_hits.load(Ordering::SeqCst), 0, "robots.txt is respected");
    assert!(metrics::get().articles.with_label_values(&["robots_denied"]).get() >= 1);
}
#[test]
fn oversized_records_lose_their_page_then_are_left_out() {
    let metrics = StageMetrics::get("fetcher");
    // The limit follows the producer's configured `message.max.bytes`.
    let mut kafka = config::KafkaConfig::default();
    kafka.librdkafka.insert("message.max.bytes".into(), "200000".into());
    let limit = runtime::batch::max_record_bytes(&kafka);
    assert_eq!(limit, 200_000 - 4096);
    let mut r = record("big");
    r.page = Some(record::Page {
        url: "https://x".into(),
        html: "x".repeat(limit),
        fetched_at: Utc::now(),
    });
    let payload = encode_within_limit(r.clone(), limit, &metrics).unwrap();
    let back: RawRecord = serde_json::from_slice(&payload).unwrap();
    assert!(back.page.is_none(), "the page went, the item stayed");
    assert!(
        encode_within_limit(r, limit * 2, &metrics).unwrap().len() > limit,
        "a larger limit keeps the page"
    );
    let mut r = record("huge");
    r.content = Some("x".repeat(limit));
    assert!(encode_within_limit(r, limit, &metrics).is_none());
}

mod sources;

/// Russian, Ukrainian and Chinese feeds in their legacy charsets, with dates in their own
/// languages: the titles decode and the dates are read.
#[test]
fn non_english_feeds_in_legacy_charsets_keep_their_text_and_dates() {
    let cases: [(&encoding_rs::Encoding, &str, &str, &str, &str); 4] = [
        (
            encoding_rs::WINDOWS_1251,
            "windows-1251",
            "Россия и Китай подписали соглашение о поставках газа",
            "Пн, 30 июл 2018 12:00:00 +0300",
            "2018-07-30T09:00:00Z",
        ),
        (
            encoding_rs::KOI8_U,
            "koi8-u",
            "Зеленський зустрівся з прем'єр-міністром",
            "Вт, 24 лют 2022 05:00:00 +0200",
            "2022-02-24T03:00:00Z",
        ),
        (
            encoding_rs::GB18030,
            "gb18030",
            "中俄签署天然气贸易协议",
            "2023年3月21日 10:05",
            "2023-03-21T02:05:00Z",
        ),
        (
            encoding_rs::BIG5,
            "big5",
            "中俄簽署天然氣貿易協議",
            "2023年3月21日",
            "2023-03-20T16:00:00Z",
        ),
    ];
    for (encoding, label, title, date, expected) in cases {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"{label}\"?><rss version=\"2.0\"><channel><title>{title}</title>\
             <item><title>{title}</title><link>https://news.example/1</link><pubDate>{date}</pubDate></item>\
             </channel></rss>"
        );
        let (bytes, _, unmappable) = encoding.encode(&xml);
        assert!(!unmappable, "{label} can write the test's text");
        let parsed = parse_document(
            &feed("https://news.example/feed.xml"),
            &bytes,
            Some(&format!("application/rss+xml; charset={label}")),
            "https://news.example/",
            Utc::now(),
        )
        .unwrap_or_else(|e| panic!("{label}: {e}"));
        let record = &parsed.records[0];
        assert_eq!(record.title.as_deref(), Some(title), "{label}");
        let expected: DateTime<Utc> = expected.parse().unwrap();
        assert_eq!(parsed.published[0], Some(expected), "{label}: {date}");
        assert_eq!(record.published_at, Some(expected), "{label}");
    }
}

/// A feed's language from the feeds file wins over the template's `en-us` the feed declares,
/// and reaches the record with the feed.
#[test]
fn the_configured_language_of_a_feed_wins() {
    let xml = "<rss version=\"2.0\"><channel><title>ТАСС</title><language>en-us</language>\
               <item><title>Россия и Китай подписали соглашение</title><link>https://tass.example/1</link></item>\
               </channel></rss>";
    let parse = |entry: &FeedEntry| {
        parse_document(
            entry,
            xml.as_bytes(),
            Some("application/rss+xml"),
            "https://tass.example/",
            Utc::now(),
        )
        .unwrap()
        .records
        .remove(0)
    };
    let plain = parse(&feed("https://tass.example/rss"));
    assert_eq!(
        (plain.language.as_deref(), plain.feed.language.as_deref()),
        (Some("en-us"), None)
    );
    let configured = FeedEntry {
        language: Some("ru".into()),
        ..feed("https://tass.example/rss")
    };
    let record = parse(&configured);
    assert_eq!(
        (record.language.as_deref(), record.feed.language.as_deref()),
        (Some("ru"), Some("ru"))
    );
}
