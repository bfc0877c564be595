//! The fetcher benchmark's Rust side (driven by `bench/fetcher/run.py`, which see).
//!
//! - `bench serve N CHANGED_PERCENT`: serves N feeds on 127.0.0.1 (bodies cycled from the
//!   corpus, so sizes are real), honouring `If-None-Match`; prints its address. `POST
//!   /round` starts a new round in which CHANGED_PERCENT of the feeds have a new version.
//! - `bench poll BASE N`: one fetcher polls the N feeds twice (a cold round, then a round in
//!   which most are not modified) and prints the second round's feeds/s as JSON.
//! - `bench parse RUNS FILE...`: parses the files RUNS times, prints MB/s per run as JSON.
//! - `bench hosts N_FEEDS N_HOSTS`: publisher scale. Serves the corpus feeds on N_HOSTS
//!   loopback addresses (127.0.0.1, 127.0.0.2, ...), then one fetcher with the default
//!   politeness (one request per second per host after a burst of five, two at a time, a 30 s
//!   request timeout) polls N_FEEDS feeds spread evenly over them, once. Prints how long it
//!   took against what the per-host rate allows, the outcomes (every poll must be `ok`), the
//!   longest queue wait, and the fetcher's CPU time per poll, as JSON. The server runs in a
//!   child process, so that the CPU time is the fetcher's alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use fetcher::{FeedEntry, FetchArticle, FetchSettings, Fetcher, NetworkSettings};

fn entry(url: String) -> FeedEntry {
    FeedEntry {
        fetch_article: FetchArticle::Never,
        ..FeedEntry::new(url)
    }
}

fn corpus_bodies() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/feeds/gesab001-headlines");
    let mut bodies: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("corpus")
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .filter(|b| b.len() > 1000)
        .collect();
    bodies.sort();
    bodies
}

async fn serve(n: usize, changed_percent: u64) {
    let bodies = Arc::new(corpus_bodies());
    let round = Arc::new(AtomicU64::new(0));
    let r = round.clone();
    let app = axum::Router::new()
        .route(
            "/feeds/{i}",
            axum::routing::get(
                move |axum::extract::Path(i): axum::extract::Path<u64>, headers: HeaderMap| {
                    let (bodies, round) = (bodies.clone(), r.load(Ordering::SeqCst));
                    async move {
                        // A feed changes in a round if it falls in the changed share of that round.
                        let version = (0..=round)
                            .filter(|r| *r == 0 || (i * 7919 + r * 104_729) % 100 < changed_percent)
                            .count();
                        let etag = format!("\"{i}-{version}\"");
                        if headers
                            .get(header::IF_NONE_MATCH)
                            .is_some_and(|v| v.as_bytes() == etag.as_bytes())
                        {
                            return StatusCode::NOT_MODIFIED.into_response();
                        }
                        let body = &bodies[i as usize % bodies.len()];
                        // Each feed's items are its own: its index goes into every link.
                        let text = String::from_utf8_lossy(body)
                            .replace("<link>", &format!("<link>https://f{i}-v{version}.example"));
                        (
                            [
                                (header::ETAG, etag),
                                (header::CONTENT_TYPE, "application/rss+xml".into()),
                            ],
                            text,
                        )
                            .into_response()
                    }
                },
            ),
        )
        .route(
            "/round",
            axum::routing::post(move || {
                round.fetch_add(1, Ordering::SeqCst);
                async { "ok" }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    println!("http://{} {n}", listener.local_addr().expect("addr"));
    axum::serve(listener, app).await.expect("serve");
}

/// This process's CPU time (user and system), in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Serves the corpus feeds on `hosts` loopback addresses, one port; prints the port.
async fn serve_hosts(hosts: usize) {
    let bodies = Arc::new(corpus_bodies());
    let app = axum::Router::new().route(
        "/feeds/{i}",
        axum::routing::get(move |axum::extract::Path(i): axum::extract::Path<u64>| {
            let bodies = bodies.clone();
            async move {
                let body = &bodies[i as usize % bodies.len()];
                let text = String::from_utf8_lossy(body).replace("<link>", &format!("<link>https://f{i}.example"));
                ([(header::CONTENT_TYPE, "application/rss+xml")], text)
            }
        }),
    );
    let first = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = first.local_addr().expect("addr").port();
    let mut servers = vec![tokio::spawn(axum::serve(first, app.clone()).into_future())];
    for host in 2..=hosts {
        let listener = tokio::net::TcpListener::bind(format!("127.0.0.{host}:{port}"))
            .await
            .expect("bind another loopback address");
        servers.push(tokio::spawn(axum::serve(listener, app.clone()).into_future()));
    }
    println!("{port}");
    for server in servers {
        let _ = server.await;
    }
}

async fn hosts(n: usize, hosts: usize) {
    let exe = std::env::current_exe().expect("exe");
    let mut server = tokio::process::Command::new(exe)
        .args(["serve-hosts", &hosts.to_string()])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("server");
    let mut line = String::new();
    use tokio::io::AsyncBufReadExt as _;
    tokio::io::BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .await
        .expect("port");
    let port: u16 = line.trim().parse().expect("port");
    let settings = FetchSettings::default();
    let network = NetworkSettings {
        allow: vec!["127.0.0.0/8".into()],
    };
    let fetcher = Fetcher::new(&settings, &network).expect("fetcher");
    let feeds: Vec<FeedEntry> = (0..n)
        .map(|i| entry(format!("http://127.0.0.{}:{port}/feeds/{i}", 1 + i % hosts)))
        .collect();
    let (cpu, started) = (cpu_seconds(), Instant::now());
    let mut outcomes = std::collections::BTreeMap::new();
    let mut last = 0f64;
    fetcher::poll_all(&fetcher, &feeds, |_, p| {
        *outcomes.entry(p.outcome).or_insert(0) += 1;
        last = started.elapsed().as_secs_f64();
    })
    .await;
    let cpu = cpu_seconds() - cpu;
    let per_host = n.div_ceil(hosts) as f64;
    // The last request of a host may start (per_host - burst) / rate seconds after the first.
    let allowed = (per_host - f64::from(settings.per_host_burst)).max(0.0) / settings.per_host_requests_per_sec;
    let waits = fetcher::metrics::get().queue_wait_seconds.clone();
    println!(
        "{}",
        serde_json::json!({
            "feeds": n, "hosts": hosts, "feeds_per_host": per_host,
            "seconds": last, "allowed_seconds": allowed, "outcomes": outcomes,
            "mean_queue_wait_seconds": waits.get_sample_sum() / waits.get_sample_count().max(1) as f64,
            "cpu_seconds": cpu, "cpu_ms_per_poll": cpu * 1000.0 / n as f64,
        })
    );
    let _ = server.kill().await;
}

async fn poll(base: &str, n: usize) {
    let settings = FetchSettings {
        max_concurrent_fetches: 64,
        per_host_concurrency: 64,
        per_host_requests_per_sec: 1e9,
        per_host_burst: 1_000_000,
        ..FetchSettings::default()
    };
    let network = NetworkSettings {
        allow: vec!["127.0.0.1/32".into()],
    };
    let mut fetcher = Fetcher::new(&settings, &network).expect("fetcher");
    let feeds: Vec<FeedEntry> = (0..n).map(|i| entry(format!("{base}/feeds/{i}"))).collect();
    let client = reqwest::Client::new();
    let mut rounds = Vec::new();
    for round in 0..2 {
        if round > 0 {
            client.post(format!("{base}/round")).send().await.expect("next round");
        }
        // As the service does: each poll is delivered (here: counted and dropped) and its
        // state committed as it finishes, so memory holds the polls in flight, not a round.
        let (started, cpu) = (Instant::now(), cpu_seconds());
        let mut polls = fetcher::Polls::new();
        polls.start(&fetcher, &feeds);
        let mut outcomes = std::collections::BTreeMap::new();
        let mut new_items = 0;
        while let Some((feed, p)) = polls.next().await {
            *outcomes.entry(p.outcome).or_insert(0) += 1;
            new_items += p.records.len();
            polls.settled(&feed.url);
            fetcher.commit(&feed, p.next_state);
        }
        let seconds = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu;
        rounds.push(serde_json::json!({
            "round": round, "feeds": n, "seconds": seconds, "feeds_per_sec": n as f64 / seconds,
            "new_items": new_items, "outcomes": outcomes, "cpu_ms_per_poll": cpu * 1000.0 / n as f64,
        }));
    }
    println!("{}", serde_json::json!({ "rounds": rounds }));
}

fn parse(runs: usize, files: &[String]) {
    let docs: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).expect("read")).collect();
    let bytes: usize = docs.iter().map(Vec::len).sum();
    let feed = entry("https://bench.example/feed".into());
    let now = chrono::Utc::now();
    let mut rates = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let mut items = 0;
        for doc in &docs {
            if let Ok(records) = fetcher::parse_feed(&feed, doc, "https://bench.example/feed", now) {
                items += records.len();
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        rates.push(serde_json::json!({ "mb_per_sec": bytes as f64 / 1e6 / seconds, "items": items }));
    }
    println!(
        "{}",
        serde_json::json!({ "bytes": bytes, "files": docs.len(), "runs": rates })
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(args[1].parse().expect("N"), args[2].parse().expect("percent")).await,
        Some("poll") => poll(&args[1], args[2].parse().expect("N")).await,
        Some("parse") => parse(args[1].parse().expect("runs"), &args[2..]),
        Some("hosts") => hosts(args[1].parse().expect("N_FEEDS"), args[2].parse().expect("N_HOSTS")).await,
        Some("serve-hosts") => serve_hosts(args[1].parse().expect("N_HOSTS")).await,
        _ => {
            eprintln!("usage: bench serve N CHANGED_PERCENT | poll BASE N | parse RUNS FILE... | hosts N_FEEDS N_HOSTS")
        }
    }
}
