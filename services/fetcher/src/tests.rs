use std::path::{Path, PathBuf};

use super::*;

fn corpus(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/feeds")
        .join(path)
}

fn feed(url: &str) -> FeedEntry {
    FeedEntry {
        url: url.into(),
        name: None,
        fetch_article: false,
        min_interval_secs: None,
        max_interval_secs: None,
        tags: vec!["test".into()],
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
fn missing_dates_stay_missing_and_empty_bodies_are_errors() {
    let records = parse_file("gesab001-headlines/dailytelegraph__20210920T1257__a10b632__NO-DATES.xml").unwrap();
    assert!(!records.is_empty());
    assert!(records.iter().all(|r| r.published_at.is_none()), "no date is invented");
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
    // A JSON Feed that names its version "1.0" instead of the spec's URL is refused for now.
    assert!(parse_file("gofeed/version_json_10.json").is_err());
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

/// A local HTTP server with one feed that honours `If-None-Match`.
async fn serve_feed(body: Vec<u8>) -> String {
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::response::IntoResponse;
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/feed.xml")
}

#[tokio::test]
async fn polls_conditionally_and_remembers_what_it_emitted() {
    let body = std::fs::read(corpus("gesab001-headlines/bbc__20210715T2038__c77d11f.xml")).unwrap();
    let url = serve_feed(body).await;
    let entry = feed(&url);
    let mut fetcher = Fetcher::new(&FetchSettings::default()).unwrap();

    let first = fetcher.poll(&entry).await.unwrap();
    assert!(first.records.len() > 20);
    assert_eq!(first.next_state.etag.as_deref(), Some("\"v1\""));
    // Until committed, the same items are offered again: an undelivered poll loses nothing.
    assert_eq!(fetcher.poll(&entry).await.unwrap().records.len(), first.records.len());

    let change = fetcher.commit(&url, first.next_state);
    let second = fetcher.poll(&entry).await.unwrap();
    assert_eq!((second.records.len(), second.items), (0, 0), "304 Not Modified");

    // A restarted fetcher that restores the persisted change emits nothing again, even
    // without the validators.
    let mut restarted = Fetcher::new(&FetchSettings::default()).unwrap();
    restarted.restore(&change.key, change.value.as_deref());
    restarted.states.get_mut(&url).unwrap().etag = None;
    let third = restarted.poll(&entry).await.unwrap();
    assert!(third.items > 20);
    assert!(third.records.is_empty());
}

#[tokio::test]
async fn failures_are_errors_not_panics() {
    let fetcher = Fetcher::new(&FetchSettings {
        max_body_bytes: 1000,
        ..FetchSettings::default()
    })
    .unwrap();
    let body = std::fs::read(corpus("gesab001-headlines/bbc__20210715T2038__c77d11f.xml")).unwrap();
    let url = serve_feed(body).await;
    let err = fetcher.poll(&feed(&url)).await.unwrap_err();
    assert_eq!(err.kind(), "too_large");
    let err = fetcher
        .poll(&feed(&url.replace("/feed.xml", "/missing.xml")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "status");
    let err = fetcher.poll(&feed("http://127.0.0.1:9/feed.xml")).await.unwrap_err();
    assert_eq!(err.kind(), "transport");
}

#[test]
fn oversized_records_lose_their_page_then_are_left_out() {
    let metrics = StageMetrics::get("fetcher");
    let mut r = record("big");
    r.page = Some(record::Page {
        url: "https://x".into(),
        html: "x".repeat(MAX_RECORD_BYTES),
        fetched_at: Utc::now(),
    });
    let payload = encode_within_limit(r, &metrics).unwrap();
    let back: RawRecord = serde_json::from_slice(&payload).unwrap();
    assert!(back.page.is_none(), "the page went, the item stayed");
    let mut r = record("huge");
    r.content = Some("x".repeat(MAX_RECORD_BYTES));
    assert!(encode_within_limit(r, &metrics).is_none());
}
