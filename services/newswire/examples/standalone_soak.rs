//! The standalone soak: `newswire run` polling local feeds whose items change every minute,
//! for an hour (or `--minutes N`), while its memory and open file descriptors (the process
//! and its extraction workers) are reported every minute; then every item published is checked to be in the output once.
//!
//! ```sh
//! cargo build --release -p newswire --bins --examples
//! target/release/examples/standalone_soak [--minutes 60] [--feeds 10] [--seed 1]
//! ```
//!
//! The rate: each of `--feeds` feeds (default 10) publishes one new item a minute, with a
//! text of its own (three paragraphs drawn from the corpus's article bodies), and keeps its
//! latest 20 items: 14,400 items a day with 10 feeds, ten times a large newsroom that files a
//! story a minute. Feeds are polled every 30 s at most (`--interval-secs 30`,
//! `max_interval_secs: 60`). At the end `newswire run` gets SIGTERM and must exit 0; every
//! item published up to two minutes before the end must be in the output exactly once
//! (an item of the last two minutes may not have been polled yet), with no (id, revision)
//! twice. Prints one line a minute (RSS, open fds, records so far) and a summary; exits 1
//! when something is lost or repeated, or memory grew by more than half between the tenth
//! minute and the end.

#[path = "support/mod.rs"]
mod support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{repo, sibling_binary};

use axum::extract::Path as UrlPath;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use record::EnrichedRecord;

/// Items a feed document lists (the newest).
const ITEMS_PER_FEED: usize = 20;

struct Options {
    minutes: u64,
    feeds: usize,
    seed: u64,
}

fn options() -> Options {
    let mut options = Options {
        minutes: 60,
        feeds: 10,
        seed: 1,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair
            .get(1)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or_else(|| usage(&format!("{} needs a number", pair[0])));
        match pair[0].as_str() {
            "--minutes" => options.minutes = value,
            "--feeds" => options.feeds = value as usize,
            "--seed" => options.seed = value,
            other => usage(&format!("unknown option {other}")),
        }
    }
    options
}

fn usage(why: &str) -> ! {
    eprintln!("standalone_soak: {why}\nusage: standalone_soak [--minutes N] [--feeds N] [--seed S]");
    std::process::exit(2)
}

/// Paragraphs of the corpus's article bodies (the benchmark's ground truth).
fn paragraphs() -> Vec<String> {
    let path = repo().join("../shared/corpus/articles/scrapinghub-aeb/ground-truth.json");
    let truth: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap();
    truth
        .values()
        .filter_map(|v| v["articleBody"].as_str())
        .flat_map(|body| {
            body.split('\n')
                .map(str::trim)
                .filter(|p| p.split_whitespace().count() >= 20)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// An item: (link, title, text, published).
type Item = (String, String, String, chrono::DateTime<chrono::Utc>);

/// The feeds' items, growing by one per feed every minute.
struct Newsroom {
    base: String,
    items: Vec<Vec<Item>>,
    pool: Vec<String>,
    rng: StdRng,
}

impl Newsroom {
    fn publish(&mut self, minute: u64) {
        for (feed, items) in self.items.iter_mut().enumerate() {
            let text: Vec<String> = (0..3)
                .map(|_| {
                    let i = self.rng.random_range(0..self.pool.len());
                    html_escape(&self.pool[i])
                })
                .collect();
            let first_words: String = text[0].split_whitespace().take(8).collect::<Vec<_>>().join(" ");
            items.push((
                format!("{}/desk{feed}/story-{minute}", self.base),
                format!("Desk {feed}, minute {minute}: {first_words}"),
                text.join("</p><p>"),
                chrono::Utc::now(),
            ));
        }
    }

    fn document(&self, feed: usize) -> String {
        let items: String = self.items[feed]
            .iter()
            .rev()
            .take(ITEMS_PER_FEED)
            .map(|(link, title, text, published)| {
                format!(
                    "<item><title>{title}</title><link>{link}</link><guid>{link}</guid><pubDate>{}</pubDate>\
                     <description><![CDATA[<p>{text}</p>]]></description></item>",
                    published.to_rfc2822()
                )
            })
            .collect();
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Desk {feed}</title>{items}</channel></rss>"
        )
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("VmRSS:")
                .map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0))
        })
        .unwrap_or(0)
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// `pid` and its children (the cleaner's extraction workers).
fn tree(pid: u32) -> Vec<u32> {
    let mut pids = vec![pid];
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            pids.push(child);
        }
    }
    pids
}

fn read_output(path: &Path) -> Vec<EnrichedRecord> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::main]
async fn main() {
    let options = options();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let newsroom = Arc::new(Mutex::new(Newsroom {
        base: base.clone(),
        items: vec![Vec::new(); options.feeds],
        pool: paragraphs(),
        rng: StdRng::seed_from_u64(options.seed),
    }));
    newsroom.lock().unwrap().publish(0);
    let served = newsroom.clone();
    let app = axum::Router::new().route(
        "/feeds/{feed}",
        axum::routing::get(move |UrlPath(feed): UrlPath<usize>| {
            let served = served.clone();
            async move {
                let newsroom = served.lock().unwrap();
                if feed < newsroom.items.len() {
                    (axum::http::StatusCode::OK, newsroom.document(feed))
                } else {
                    (axum::http::StatusCode::NOT_FOUND, String::new())
                }
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let feeds = dir.path().join("feeds.yaml");
    let mut yaml = String::from("feeds:\n");
    for feed in 0..options.feeds {
        yaml.push_str(&format!(
            "  - url: {base}/feeds/{feed}\n    fetch_article: never\n    min_interval_secs: 30\n    max_interval_secs: 60\n"
        ));
    }
    std::fs::write(&feeds, yaml).unwrap();
    let out = dir.path().join("enriched.jsonl");
    let binary = sibling_binary("newswire");
    let log = std::fs::File::create(dir.path().join("newswire.log")).unwrap();
    let mut child = Command::new(&binary)
        .args([
            "run",
            "--interval-secs",
            "30",
            "--allow-network",
            "127.0.0.1/32",
            "--feeds",
        ])
        .arg(&feeds)
        .arg("--taxonomy")
        .arg(repo().join("deploy/taxonomy.yaml"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e} (cargo build --release -p newswire)", binary.display()));
    let pid = child.id();
    eprintln!(
        "standalone_soak: {} feeds, one item each a minute, for {} minutes; newswire pid {pid}, logs in {}",
        options.feeds,
        options.minutes,
        dir.path().display()
    );
    let started = Instant::now();
    let mut samples: Vec<(u64, u64, usize)> = Vec::new();
    for minute in 1..=options.minutes {
        tokio::time::sleep_until((started + Duration::from_secs(60 * minute)).into()).await;
        if let Ok(Some(status)) = child.try_wait() {
            eprintln!(
                "standalone_soak: newswire exited early ({status}); logs in {}",
                dir.path().display()
            );
            let _ = dir.keep();
            std::process::exit(1);
        }
        let pids = tree(pid);
        let (rss, fds) = (
            pids.iter().map(|p| rss_kib(*p)).sum::<u64>(),
            pids.iter().map(|p| open_fds(*p)).sum::<usize>(),
        );
        let records = read_output(&out).len();
        samples.push((minute, rss, fds));
        println!(
            "minute {minute}: rss {} MiB, open fds {fds} ({} processes), records {records}",
            rss / 1024,
            pids.len()
        );
        if minute < options.minutes {
            newsroom.lock().unwrap().publish(minute);
        }
    }
    let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(60);
    let exited_ok = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status.success();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break false;
        }
        std::thread::sleep(Duration::from_millis(200));
    };

    let records = read_output(&out);
    let mut copies: HashMap<(String, u32), usize> = HashMap::new();
    for r in &records {
        *copies.entry((r.article.id.clone(), r.story.revision)).or_default() += 1;
    }
    let repeated = copies.values().filter(|n| **n > 1).count();
    let received: HashSet<&str> = records.iter().map(|r| r.article.id.as_str()).collect();
    let newsroom = newsroom.lock().unwrap();
    let cutoff = options.minutes.saturating_sub(2);
    let mut published = 0;
    let mut lost = Vec::new();
    for items in &newsroom.items {
        for (minute, (link, _, _, _)) in items.iter().enumerate() {
            if minute as u64 > cutoff {
                continue;
            }
            published += 1;
            let id = record::article_id(&record::normalize_url(link).unwrap());
            if !received.contains(id.as_str()) {
                lost.push(link.clone());
            }
        }
    }
    let at = |m: u64| {
        samples
            .iter()
            .find(|(minute, _, _)| *minute >= m)
            .or(samples.last())
            .copied()
    };
    let (early, last) = (at(10.min(options.minutes)), samples.last().copied());
    let grew = match (early, last) {
        (Some((_, a, _)), Some((_, b, _))) if a > 0 => b as f64 / a as f64,
        _ => 1.0,
    };
    let fds = samples.iter().map(|(_, _, f)| *f);
    let (fd_min, fd_max) = (fds.clone().min().unwrap_or(0), fds.max().unwrap_or(0));
    println!(
        "standalone_soak: {} minutes, {published} items published (up to minute {cutoff}), {} records out, lost {}, repeated {repeated}; \
         rss {} MiB at minute {} -> {} MiB at the end (x{grew:.2}); open fds {fd_min}..{fd_max}; exit on SIGTERM {}",
        options.minutes,
        records.len(),
        lost.len(),
        early.map_or(0, |(_, r, _)| r / 1024),
        early.map_or(0, |(m, _, _)| m),
        last.map_or(0, |(_, r, _)| r / 1024),
        if exited_ok { "0" } else { "not 0" }
    );
    if !lost.is_empty() {
        eprintln!("standalone_soak: lost {:?}", &lost[..lost.len().min(10)]);
    }
    if !lost.is_empty() || repeated > 0 || grew > 1.5 || !exited_ok {
        eprintln!("standalone_soak: FAILED; logs in {}", dir.path().display());
        let _ = dir.keep();
        std::process::exit(1);
    }
}
