//! Integration tests: the standalone command, and the four services on a real Kafka broker.

mod deduper;
mod kafka;
mod metrics;
mod parity;
mod support;
mod topics;

use std::process::Command;

use record::EnrichedRecord;
use support::*;

fn read_records(path: &std::path::Path) -> Vec<EnrichedRecord> {
    parse_records(&std::fs::read_to_string(path).unwrap_or_default())
}

fn parse_records(text: &str) -> Vec<EnrichedRecord> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not an enriched record ({e}): {line}")))
        .collect()
}

fn assert_seed_is_russia_china(records: &[EnrichedRecord]) {
    let seed = records
        .iter()
        .find(|r| r.article.title.starts_with("Putin and Xi exchange warm words"))
        .expect("the seed article came through");
    let slugs: Vec<&str> = seed.topics.iter().map(|t| t.slug.as_str()).collect();
    assert!(slugs.contains(&"russia-china"), "seed topics: {slugs:?}");
    assert_eq!(seed.article.authors, vec!["Sravasti Dasgupta"]);
    assert_eq!(
        seed.article.published_at.map(|d| d.to_rfc3339()),
        Some("2021-12-15T15:19:00+00:00".into())
    );
    assert!(seed.article.text.contains("belt of eternal peace"));
}

#[tokio::test(flavor = "multi_thread")]
async fn standalone_once_over_the_corpus_and_again_without_repeats() {
    let server = corpus_feed_server().await;
    let dir = tempfile::tempdir().unwrap();
    let feeds = write_feeds_file(dir.path(), &server.urls());
    let out = dir.path().join("enriched.jsonl");
    let data = dir.path().join("data");
    // The first run prints to stdout, the second appends to a file.
    let out_arg = out.to_string_lossy().to_string();
    let run = |to_file: bool| {
        let extra: Vec<&str> = if to_file { vec!["--out", &out_arg] } else { vec![] };
        standalone_once(&feeds, &data, &extra)
    };

    let first = run(false).await;
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let records = parse_records(&String::from_utf8_lossy(&first.stdout));
    expected(&server).assert_exactly_once(&records);
    assert_seed_is_russia_china(&records);
    for record in &records {
        assert_eq!(record.schema_version, 1);
        assert!(!record.article.title.is_empty() || !record.article.text.is_empty());
        assert!(record.article.timestamps.tagged_at.is_some());
    }
    // The empty snapshot is an error that is reported, not a crash.
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(stderr.contains("EMPTY"), "the empty feed's failure is logged: {stderr}");

    // A second run over the same feeds emits nothing: the seen-state survived.
    let second = run(true).await;
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    assert!(out.exists(), "--out creates the file");
    assert_eq!(read_records(&out).len(), 0, "nothing re-emitted");
    assert!(String::from_utf8_lossy(&second.stderr).contains("0 records written"));
}

/// A news sitemap as a source, end to end: its URLs become records, `fetch_article: auto`
/// fetches their pages (a sitemap carries no text), the cleaner extracts them, and the
/// enriched records say why the page was fetched.
#[tokio::test(flavor = "multi_thread")]
async fn standalone_reads_a_news_sitemap_and_extracts_its_pages() {
    let aeb = corpus().join("articles/scrapinghub-aeb");
    let truth: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(aeb.join("ground-truth.json")).unwrap()).unwrap();
    let mut keys: Vec<&String> = truth.keys().collect();
    keys.sort();
    let pages: Vec<(String, String, String)> = keys
        .iter()
        .take(3)
        .enumerate()
        .map(|(i, key)| {
            let html = cleaner::eval::read_html(&aeb.join(format!("html/{key}.html.gz"))).unwrap();
            let body = truth[key.as_str()]["articleBody"].as_str().unwrap();
            let longest = body.split('\n').max_by_key(|p| p.len()).unwrap().trim().to_string();
            (format!("page{i}.html"), html, longest)
        })
        .collect();
    let now = chrono::Utc::now();
    let server = FeedServer::start_with(|base| {
        let urls: String = pages
            .iter()
            .enumerate()
            .map(|(i, (name, _, _))| {
                format!(
                    "<url><loc>{base}/feeds/{name}</loc><news:news><news:publication><news:name>Sitemap Daily</news:name>\
                     <news:language>en</news:language></news:publication><news:publication_date>{}</news:publication_date>\
                     <news:title>Story {i}</news:title></news:news></url>",
                    (now - chrono::Duration::minutes(i as i64 + 1)).to_rfc3339()
                )
            })
            .collect();
        let sitemap = format!(
            "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
             xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">{urls}</urlset>"
        );
        let mut docs = vec![("news.xml".to_string(), sitemap.into_bytes())];
        docs.extend(pages.iter().map(|(name, html, _)| (name.clone(), html.clone().into_bytes())));
        docs
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let feeds = dir.path().join("feeds.yaml");
    std::fs::write(
        &feeds,
        format!("feeds:\n  - url: {}/feeds/news.xml\n    kind: sitemap\n", server.base),
    )
    .unwrap();
    let output = standalone_once(&feeds, &dir.path().join("data"), &[]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let records = parse_records(&String::from_utf8_lossy(&output.stdout));
    assert_eq!(records.len(), pages.len(), "{stderr}");
    for (name, _, longest) in &pages {
        let record = records
            .iter()
            .find(|r| r.article.url.as_deref() == Some(&format!("{}/feeds/{name}", server.base)))
            .unwrap_or_else(|| panic!("no record for {name}"));
        let article = &record.article;
        assert_eq!(article.feed.name.as_deref(), Some("Sitemap Daily"));
        let fetch = article.extraction.article_fetch.as_ref().unwrap();
        assert_eq!(
            (fetch.requested, fetch.reason.as_str(), fetch.outcome.as_deref()),
            (true, "no_text", Some("ok"))
        );
        assert!(
            article.text.contains(longest.as_str()),
            "{name}: the page's text: {}",
            article.text
        );
    }
}

/// An item whose feed carries only a summary: the fetcher fetches its page (a real article
/// page of the corpus), and the cleaner extracts it in a worker process of the binary.
#[tokio::test(flavor = "multi_thread")]
async fn standalone_extracts_article_pages_in_worker_processes() {
    let aeb = corpus().join("articles/scrapinghub-aeb");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(aeb.join("ground-truth.json")).unwrap()).unwrap();
    let id = "06ee193de4bd";
    let (key, entry) = truth
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.starts_with(id))
        .unwrap();
    let html = cleaner::eval::read_html(&aeb.join(format!("html/{key}.html.gz"))).unwrap();
    // The longest paragraph of the page's ground truth must be in the record's text.
    let body = entry["articleBody"].as_str().unwrap();
    let longest = body.split('\n').max_by_key(|p| p.len()).unwrap().trim().to_string();
    let server = FeedServer::start_with(|base| {
        let feed = format!(
            r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Cars</title><link>{base}/</link>
<description>d</description><item><title>A weird EV sports wagon</title><link>{base}/feeds/article.html</link>
<guid>ev-1</guid><description>Short summary.</description></item></channel></rss>"#
        );
        vec![
            ("cars.rss".into(), feed.into_bytes()),
            ("article.html".into(), html.into_bytes()),
        ]
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let feeds = dir.path().join("feeds.yaml");
    std::fs::write(
        &feeds,
        format!(
            "feeds:\n  - url: {}/feeds/cars.rss\n    fetch_article: true\n",
            server.base
        ),
    )
    .unwrap();
    let output = standalone_once(&feeds, &dir.path().join("data"), &[]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        !stderr.contains("extracted in threads"),
        "the workers started: {stderr}"
    );
    let records = parse_records(&String::from_utf8_lossy(&output.stdout));
    assert_eq!(records.len(), 1, "{stderr}");
    let article = &records[0].article;
    assert_eq!(article.extraction.method, "readability", "{article:#?}");
    assert_eq!(article.extraction.page_failure, None);
    assert!(
        article.text.contains(&longest),
        "the page's text, not the feed's summary: {}",
        article.text
    );
}

#[test]
fn bad_feeds_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = dir.path().join("feeds.yaml");
    std::fs::write(
        &feeds,
        "feeds:\n  - url: https://ok.example/rss\n  - url: gopher://bad.example/\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_newswire"))
        .args(["run", "--once", "--feeds"])
        .arg(&feeds)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("feeds[1]") && stderr.contains("gopher://bad.example/"),
        "{stderr}"
    );
}

#[test]
fn help_lists_the_subcommands() {
    let output = Command::new(env!("CARGO_BIN_EXE_newswire"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for command in ["run", "topics", "schemas", "parse-feed", "alerts"] {
        assert!(help.contains(command), "{help}");
    }
}

#[test]
fn a_service_with_a_bad_setting_exits_with_a_clear_error() {
    let cleaner = binary("cleaner");
    let output = Command::new(cleaner)
        .env("NEWSWIRE__KAFKA__BOOTSTRAP_SERVER", "typo:9092")
        .env("NEWSWIRE__RUNTIME__LISTEN_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bootstrap_server") && stderr.contains("unknown field"),
        "{stderr}"
    );
}

/// An enriched record as JSON, tagged `topic`, published at `published`.
fn enriched_line(id: &str, topic: &str, published: chrono::DateTime<chrono::Utc>, duplicate: bool) -> String {
    let mut record = serde_json::json!({
        "schema_version": 1, "id": id, "feed": {"url": "http://feeds.example/rss"},
        "source": {"domain": "example.org"}, "title": format!("Story {id}"),
        "published_at": published, "fetched_at": published + chrono::Duration::minutes(3),
        "text": "Text.", "word_count": 1, "fingerprints": {"content_sha256": id},
        "story_id": id, "revision": 1,
        "topics": [{"slug": topic, "label": "A topic", "score": 1.0, "matches": []}],
        "entities": []
    });
    if duplicate {
        record["duplicate_of"] = serde_json::json!("original");
    }
    record.to_string()
}

#[test]
fn alerts_replays_a_file_in_time_order_and_prints_spike_events() {
    use chrono::{Duration, TimeZone, Utc};
    let start = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    // Twelve hours of one story every 20 minutes, then 40 stories in one hour, then quiet
    // again; 40 near-duplicates in another hour do not count. The file is in reverse order.
    let mut lines = Vec::new();
    for i in 0..36 {
        lines.push(enriched_line(
            &format!("base{i}"),
            "ukraine",
            start + Duration::minutes(20 * i),
            false,
        ));
    }
    for i in 0..40 {
        let at = start + Duration::hours(12) + Duration::seconds(90 * i);
        lines.push(enriched_line(&format!("spike{i}"), "ukraine", at, false));
    }
    for i in 0..40 {
        let at = start + Duration::hours(8) + Duration::seconds(90 * i);
        lines.push(enriched_line(&format!("copy{i}"), "ukraine", at, true));
    }
    for i in 0..18 {
        let at = start + Duration::hours(13) + Duration::minutes(20 * i);
        lines.push(enriched_line(&format!("after{i}"), "ukraine", at, false));
    }
    lines.push("not a record".to_string());
    lines.reverse();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("enriched.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_newswire"))
        .arg("alerts")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("line 1") && stderr.contains("1 bad lines"), "{stderr}");
    let events: Vec<record::AlertEvent> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let states: Vec<record::AlertState> = events.iter().map(|e| e.state).collect();
    assert_eq!(
        states,
        [record::AlertState::Spiking, record::AlertState::Resolved],
        "{events:#?}"
    );
    let spike = &events[0];
    assert_eq!(spike.topic, "ukraine");
    assert!(spike.window_end > start + Duration::hours(12) && spike.window_end <= start + Duration::hours(13));
    assert!(
        spike.sample_article_ids.iter().all(|id| id.starts_with("spike")),
        "{spike:#?}"
    );

    // Stricter settings on the command line: no event.
    let output = Command::new(env!("CARGO_BIN_EXE_newswire"))
        .args(["alerts", "--min-count", "100"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(output.stdout.is_empty(), "{}", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn dedup_marks_copies_and_reports_bad_lines() {
    let body = std::fs::read_to_string(corpus().join("seed/independent-putin-xi-2021-12-15.txt")).unwrap();
    let (title, text) = body.split_once('\n').unwrap();
    let paragraphs: Vec<&str> = text.split('\n').filter(|p| !p.trim().is_empty()).collect();
    let trimmed = paragraphs[..paragraphs.len() * 4 / 5].join("\n\n");
    let lines = [
        serde_json::json!({"url": "https://one.example/a", "title": title, "text": text}).to_string(),
        "not json".to_string(),
        serde_json::json!({"url": "https://two.example/b?utm_source=x", "title": title, "text": trimmed}).to_string(),
        serde_json::json!({"url": "https://one.example/a?utm_medium=rss", "title": title, "text": text}).to_string(),
    ];
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, lines.join("\n")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_newswire"))
        .arg("dedup")
        .arg(&input)
        .output()
        .unwrap();
    assert!(!output.status.success(), "a bad line makes the exit status non-zero");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("in.jsonl:2"), "the bad line is named: {stderr}");
    let out: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(out.len(), 3, "every good line is written back");
    assert_eq!(out[0]["is_duplicate"], false);
    assert!(out[0]["duplicate_of"].is_null());
    assert_eq!(out[1]["is_duplicate"], true, "{}", out[1]);
    assert_eq!(out[1]["story_id"], out[0]["story_id"]);
    assert!(
        out[1]["similarity"].as_f64().is_some_and(|s| s > 0.4 && s < 1.0),
        "{}",
        out[1]
    );
    assert_eq!(out[2]["duplicate_kind"], "exact_url");
    assert_eq!(out[2]["is_duplicate"], true);
}

/// 45 small, healthy feeds on one host at the default politeness (one request per second
/// after a burst of five, two at a time, a 30 s request timeout): the last ones wait about
/// 40 s for their host's turn, which is queueing, not a timeout. Every feed is polled once
/// and fails not, and every item comes out.
#[tokio::test(flavor = "multi_thread")]
async fn standalone_polls_many_feeds_on_one_host_without_failing_any() {
    let n = 45;
    let server = FeedServer::start(
        (0..n)
            .map(|i| {
                let body = format!(
                    "<rss version=\"2.0\"><channel><title>Desk {i}</title><item><title>Desk {i} reports on the \
                     harbour works, item {i}</title><link>https://one-host.example/desk{i}/story</link>\
                     <description>The harbour works of desk {i} went ahead on Monday after a long delay.</description>\
                     </item></channel></rss>"
                );
                (format!("desk{i}.xml"), body.into_bytes())
            })
            .collect(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let feeds = write_feeds_file(dir.path(), &server.urls());
    let output = standalone_once(&feeds, &dir.path().join("data"), &[]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        !stderr.contains("Feed poll failed"),
        "no feed failed while it waited:\n{stderr}"
    );
    let records = parse_records(&String::from_utf8_lossy(&output.stdout));
    let mut desks: Vec<String> = records
        .iter()
        .map(|r| r.article.url.clone().unwrap_or_default())
        .collect();
    desks.sort();
    desks.dedup();
    assert_eq!(desks.len(), n, "one record per feed: {desks:?}");
}

/// The defaults travel with the binary: run from a directory with no `deploy/` in it, without
/// `--taxonomy`, the built-in taxonomy and gazetteers tag the seed article, given the feeds on
/// the command line or in a `--config` file; a file that does not exist is an error that
/// names its cause once.
#[tokio::test(flavor = "multi_thread")]
async fn standalone_runs_from_any_directory_on_the_built_in_taxonomy() {
    let server = FeedServer::start_with(|base| vec![("seed.xml".to_string(), seed_feed(base).into_bytes())]).await;
    let dir = tempfile::tempdir().unwrap();
    let feeds = write_feeds_file(dir.path(), &server.urls());
    let run = |args: Vec<String>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_newswire"));
        command.args(args).current_dir(dir.path());
        async move {
            tokio::task::spawn_blocking(move || command.output().unwrap())
                .await
                .unwrap()
        }
    };
    let args = |extra: &[&str]| -> Vec<String> {
        ["run", "--once", "--allow-network", "127.0.0.1/32", "--data-dir", "data"]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    let output = run(args(&["--feeds", feeds.to_str().unwrap()])).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_seed_is_russia_china(&parse_records(&String::from_utf8_lossy(&output.stdout)));

    // The same from a pipeline configuration file alone: its fetcher section names the feeds
    // and the network to allow, as the fetcher service's own file would.
    let config = dir.path().join("newswire.yaml");
    std::fs::write(
        &config,
        format!(
            "fetcher:\n  feeds_file: {}\n  network: {{allow: [127.0.0.1/32]}}\n",
            feeds.display()
        ),
    )
    .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_newswire"));
    command
        .args(["run", "--once", "--data-dir", "data2", "--config"])
        .arg(&config)
        .current_dir(dir.path());
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_seed_is_russia_china(&parse_records(&String::from_utf8_lossy(&output.stdout)));

    let output = run(args(&["--taxonomy", "missing.yaml"])).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("cannot read the taxonomy missing.yaml"), "{stderr}");
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "the cause once: {stderr}"
    );
}
