//! Shared pieces of the integration tests: the corpus, a local HTTP server, the broker.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

/// `../shared/corpus` beside the checkout.
pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

/// The article-extraction-benchmark's ground truth: (url, article body) of each page, in the
/// order of the pages' names.
pub fn aeb_articles() -> Vec<(String, String)> {
    let truth: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(corpus().join("articles/scrapinghub-aeb/ground-truth.json")).unwrap())
            .unwrap();
    let mut keys: Vec<&String> = truth.keys().collect();
    keys.sort();
    keys.into_iter()
        .map(|k| {
            let text = |field: &str| truth[k][field].as_str().unwrap().to_string();
            (text("url"), text("articleBody"))
        })
        .collect()
}

/// The bootstrap address of the broker that `deploy/kafka.sh start` started.
pub fn kafka_bootstrap() -> String {
    std::env::var("NEWSWIRE_KAFKA_BOOTSTRAP").expect(
        "NEWSWIRE_KAFKA_BOOTSTRAP is not set: start the broker with `eval \"$(deploy/kafka.sh start)\"` \
         (the README's test command does this)",
    )
}

/// A prefix no other test run uses.
pub fn unique_prefix(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("it-{name}-{}-{nanos}.", std::process::id())
}

/// The seed article wrapped in an RSS item, as its publisher's feed would have carried it.
pub fn seed_feed(base: &str) -> String {
    let text = std::fs::read_to_string(corpus().join("seed/independent-putin-xi-2021-12-15.txt")).unwrap();
    let (title, body) = text.split_once('\n').unwrap();
    let paragraphs: String = body
        .split('\n')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{p}</p>"))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>The Independent — World</title><link>{base}/</link><description>World news</description>
<item><title>{title}</title><link>{base}/news/world/asia/putin-xi-jinping-video-call-b1976464.html</link>
<guid>b1976464</guid><pubDate>Wed, 15 Dec 2021 15:19:00 GMT</pubDate><dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">Sravasti Dasgupta</dc:creator>
<content:encoded><![CDATA[{paragraphs}]]></content:encoded></item>
</channel></rss>"#,
        title = title.trim().replace('&', "&amp;").replace('<', "&lt;"),
    )
}

/// A local HTTP server for feed documents. Documents are released in order: until
/// `release(n)`, only the first `n` are served and the others answer 503, as a feed that is
/// down for a while would.
#[derive(Clone)]
pub struct FeedServer {
    pub base: String,
    docs: Arc<Vec<(String, Vec<u8>)>>,
    released: Arc<AtomicUsize>,
}

impl FeedServer {
    /// Serves `docs` (name, body) under `/feeds/<name>`.
    pub async fn start(docs: Vec<(String, Vec<u8>)>) -> FeedServer {
        FeedServer::start_with(|_| docs).await
    }

    /// Serves the documents `make` returns for the server's base URL (for documents that
    /// link to each other).
    pub async fn start_with(make: impl FnOnce(&str) -> Vec<(String, Vec<u8>)>) -> FeedServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let docs = make(&base);
        let server = FeedServer {
            base,
            docs: Arc::new(docs),
            released: Arc::new(AtomicUsize::new(usize::MAX)),
        };
        let app = axum::Router::new()
            .route("/feeds/{name}", axum::routing::get(serve))
            .with_state(server.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        server
    }

    pub fn release(&self, n: usize) {
        self.released.store(n, Ordering::SeqCst);
    }

    pub fn urls(&self) -> Vec<String> {
        self.docs
            .iter()
            .map(|(name, _)| format!("{}/feeds/{name}", self.base))
            .collect()
    }

    pub fn docs(&self) -> &[(String, Vec<u8>)] {
        &self.docs
    }
}

async fn serve(State(server): State<FeedServer>, UrlPath(name): UrlPath<String>) -> impl IntoResponse {
    let released = server.released.load(Ordering::SeqCst);
    match server.docs.iter().position(|(n, _)| *n == name) {
        Some(i) if i < released => (StatusCode::OK, server.docs[i].1.clone()).into_response(),
        Some(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Real news feeds from the corpus (the 2021 headline snapshots and the Korea Times feed),
/// plus the seed article's feed, which comes first. The BBC snapshot of 16 July 2021 comes
/// last: it shares most of its items with the snapshot of the day before, which comes early,
/// so a test that releases the documents in two halves sees repeats straddle the halves.
pub async fn corpus_feed_server() -> FeedServer {
    let mut docs = Vec::new();
    let dir = corpus().join("feeds/gesab001-headlines");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    for name in names {
        let name = name.to_string_lossy().to_string();
        docs.push((name.clone(), std::fs::read(dir.join(&name)).unwrap()));
    }
    let later = docs
        .iter()
        .position(|(n, _)| n.starts_with("bbc__20210716"))
        .expect("the BBC snapshot");
    let later = docs.remove(later);
    docs.push((
        "korea-times.rss".into(),
        std::fs::read(corpus().join("feeds/mediacloud-rss-fetcher/real-korean-times.rss")).unwrap(),
    ));
    // The seed feed's links point at the server itself; its base is known only once bound,
    // so it is served with a placeholder base that is the same on every run.
    docs.insert(
        0,
        (
            "independent-world.rss".into(),
            seed_feed("https://www.independent.co.uk").into_bytes(),
        ),
    );
    docs.push(later);
    FeedServer::start(docs).await
}

/// `newswire run --once` over `feeds` with the repository's taxonomy, the data directory
/// `data`, loopback servers allowed, and `extra` arguments; run on a blocking thread.
pub fn standalone_once(
    feeds: &Path,
    data: &Path,
    extra: &[&str],
) -> impl std::future::Future<Output = std::process::Output> + use<> {
    let taxonomy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/taxonomy.yaml");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_newswire"));
    command
        .args(["run", "--once", "--allow-network", "127.0.0.1/32", "--feeds"])
        .arg(feeds)
        .arg("--taxonomy")
        .arg(taxonomy)
        .arg("--data-dir")
        .arg(data)
        .args(extra);
    async move {
        tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap()
    }
}

/// Writes a feeds file listing `urls`.
pub fn write_feeds_file(dir: &Path, urls: &[String]) -> PathBuf {
    let mut yaml = String::from("feeds:\n");
    for url in urls {
        yaml.push_str(&format!("  - url: {url}\n    tags: [test]\n"));
    }
    let path = dir.join("feeds.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

pub use newswire::expect::Expected;

/// The expectation for every served document.
pub fn expected(server: &FeedServer) -> Expected {
    expected_of(server, server.docs().len())
}

/// The expectation for the first `n` documents.
pub fn expected_of(server: &FeedServer, n: usize) -> Expected {
    let docs: Vec<(String, Vec<u8>)> = server
        .urls()
        .into_iter()
        .zip(server.docs().iter().map(|(_, body)| body.clone()))
        .take(n)
        .collect();
    Expected::of_feeds(&docs)
}

/// The path of a workspace binary (built by `cargo build --workspace` before the tests).
pub fn binary(name: &str) -> PathBuf {
    let newswire = PathBuf::from(env!("CARGO_BIN_EXE_newswire"));
    let path = newswire.with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace first (`cargo build --workspace`)",
        path.display()
    );
    path
}

/// Polls `condition` every 200 ms until it holds or `limit` passes.
pub async fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    condition()
}
