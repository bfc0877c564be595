//! The four services as separate processes on a real broker: exactly once through a SIGKILL.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};
use record::EnrichedRecord;

use crate::support::*;

/// One service process, with its log file.
pub(crate) struct Service {
    pub(crate) name: &'static str,
    child: Child,
    log: std::path::PathBuf,
}

impl Service {
    pub(crate) fn start(name: &'static str, env: &[(String, String)], dir: &Path, generation: u32) -> Service {
        let log = dir.join(format!("{name}-{generation}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(binary(name))
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Service { name, child, log }
    }

    pub(crate) fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }

    /// Waits (bounded) for the process to exit and returns whether it exited with 0.
    pub(crate) fn wait_exit(&mut self, limit: Duration) -> Option<bool> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status.success());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    pub(crate) fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Kafka settings for a test's own topics (every name starts with `prefix`), created with
/// `partitions` per data topic.
pub(crate) async fn pipeline_kafka(bootstrap: &str, prefix: &str, partitions: i32) -> config::KafkaConfig {
    let kafka = config::KafkaConfig {
        bootstrap_servers: bootstrap.to_string(),
        topics: config::TopicNames::with_prefix(prefix),
        ..Default::default()
    };
    runtime::create_topics(&kafka, &runtime::pipeline_topics(&kafka.topics, partitions, 1))
        .await
        .unwrap();
    kafka
}

/// A read_committed consumer of `topic` from its beginning, in consumer group `group`.
pub(crate) fn committed_reader(bootstrap: &str, topic: &str, group: &str) -> BaseConsumer {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("isolation.level", "read_committed")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    consumer
}

/// A record as read back: its key and payload.
pub(crate) type Received = (String, Vec<u8>);

/// Reads a topic with a read_committed consumer on a thread, collecting (key, payload).
pub(crate) struct Collector {
    records: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Collector {
    pub(crate) fn start(bootstrap: &str, topic: &str) -> Collector {
        let consumer = committed_reader(bootstrap, topic, &format!("{topic}-checker"));
        let records = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (records.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
                    let key = String::from_utf8_lossy(message.key().unwrap_or_default()).to_string();
                    r.lock()
                        .unwrap()
                        .push((key, message.payload().unwrap_or_default().to_vec()));
                }
            }
        });
        Collector {
            records,
            stop,
            thread: Some(thread),
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.records.lock().unwrap().len()
    }

    pub(crate) fn snapshot(&self) -> Vec<Received> {
        self.records.lock().unwrap().clone()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A plain HTTP/1.1 GET, enough for the health endpoints.
pub(crate) fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

pub(crate) fn topic_env(prefix: &str) -> Vec<(String, String)> {
    config::TopicNames::with_prefix(prefix).to_env()
}

#[tokio::test(flavor = "multi_thread")]
async fn four_services_deliver_every_item_exactly_once_through_a_sigkill() {
    let bootstrap = kafka_bootstrap();
    let prefix = unique_prefix("e2e");
    let dir = tempfile::tempdir().unwrap();
    let server = corpus_feed_server().await;
    let expected = expected(&server);
    let feeds = write_feeds_file(dir.path(), &server.urls());
    let taxonomy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/taxonomy.yaml");

    let kafka = pipeline_kafka(&bootstrap, &prefix, 3).await;

    // Half of the feeds first; the rest after the kill, so that the restarted service has
    // work of its own to do.
    let half = server.urls().len() / 2;
    server.release(half);

    let mut common = topic_env(&prefix);
    common.extend([
        ("NEWSWIRE__KAFKA__BOOTSTRAP_SERVERS".to_string(), bootstrap.clone()),
        ("NEWSWIRE__RUNTIME__LISTEN_ADDR".to_string(), "127.0.0.1:0".to_string()),
        ("NEWSWIRE__RUNTIME__INSTANCE_ID".to_string(), "it-0".to_string()),
        ("NEWSWIRE__RUNTIME__BATCH_MAX_RECORDS".to_string(), "20".to_string()),
        (
            "NEWSWIRE__RUNTIME__TRANSACTION_TIMEOUT_MS".to_string(),
            "15000".to_string(),
        ),
        ("NEWSWIRE_LOG".to_string(), "info".to_string()),
    ]);
    let env_for = |service: &str| {
        let mut env = common.clone();
        env.push(("NEWSWIRE__RUNTIME__GROUP_ID".to_string(), format!("{prefix}{service}")));
        match service {
            "fetcher" => {
                env.push(("NEWSWIRE__FEEDS_FILE".to_string(), feeds.display().to_string()));
                env.push(("NEWSWIRE__FETCHER__MIN_INTERVAL_SECS".to_string(), "1".to_string()));
                // Unreleased feeds answer 503; they must not back off past the test's patience.
                env.push(("NEWSWIRE__FETCHER__MAX_BACKOFF_SECS".to_string(), "2".to_string()));
                env.push((
                    "NEWSWIRE__FETCHER__PER_HOST_REQUESTS_PER_SEC".to_string(),
                    "50".to_string(),
                ));
                env.push(("NEWSWIRE__FETCHER__PER_HOST_CONCURRENCY".to_string(), "8".to_string()));
                // The feed server is on loopback, which the fetcher refuses unless allowed.
                env.push(("NEWSWIRE__NETWORK__ALLOW".to_string(), "[\"127.0.0.1/32\"]".to_string()));
            }
            "tagger" => env.push(("NEWSWIRE__TAXONOMY_FILE".to_string(), taxonomy.display().to_string())),
            _ => {}
        }
        env
    };

    let collector = Collector::start(&bootstrap, &kafka.topics.enriched);
    let mut services: HashMap<&str, Service> = HashMap::new();
    for name in ["fetcher", "cleaner", "deduper", "tagger"] {
        services.insert(name, Service::start(name, &env_for(name), dir.path(), 0));
    }
    let dump_logs = |services: &HashMap<&str, Service>| {
        services
            .values()
            .map(|s| format!("--- {} ---\n{}", s.name, s.logs()))
            .collect::<Vec<_>>()
            .join("\n")
    };

    let ids_of = |collector: &Collector| collector.snapshot().into_iter().map(|(k, _)| k).collect::<HashSet<_>>();
    let enriched_of = |collector: &Collector| {
        collector
            .snapshot()
            .iter()
            .map(|(_, p)| serde_json::from_slice::<EnrichedRecord>(p).unwrap())
            .collect::<Vec<_>>()
    };

    // Phase 1: the first half goes through. Then the deduper (the stateful stage) is killed
    // without warning; what it remembered must survive, because the second half repeats
    // items of the first (the two BBC snapshots).
    let first_half = expected_of(&server, half);
    let through = wait_until(Duration::from_secs(120), || {
        first_half.covered_by(&enriched_of(&collector))
    })
    .await;
    assert!(through, "the first half did not come through\n{}", dump_logs(&services));
    services.get("deduper").unwrap().signal(Signal::SIGKILL);
    services.insert("deduper", Service::start("deduper", &env_for("deduper"), dir.path(), 1));

    // Phase 2: the rest is released, and while its records flow the cleaner is killed in
    // the middle of its work and restarted: its open transaction must vanish, its input
    // must be processed again, nothing twice.
    let before = collector.count();
    server.release(usize::MAX);
    let flowing = wait_until(Duration::from_secs(90), || collector.count() > before).await;
    assert!(flowing, "the second half did not start\n{}", dump_logs(&services));
    services.get("cleaner").unwrap().signal(Signal::SIGKILL);
    let killed_at = ids_of(&collector).len();
    assert!(
        !expected.covered_by(&enriched_of(&collector)),
        "the kill came after the end ({killed_at} of {})",
        expected.ids.len()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    services.insert("cleaner", Service::start("cleaner", &env_for("cleaner"), dir.path(), 1));

    let complete = wait_until(Duration::from_secs(180), || {
        expected.covered_by(&enriched_of(&collector))
    })
    .await;
    // Give any duplicate time to show up before judging.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let records = collector.snapshot();
    let keys: Vec<&str> = records.iter().map(|(k, _)| k.as_str()).collect();
    let unique: HashSet<&str> = keys.iter().copied().collect();
    let enriched: Vec<EnrichedRecord> = records
        .iter()
        .map(|(_, p)| serde_json::from_slice(p).unwrap())
        .collect();
    assert!(
        complete,
        "only {} of {} ids arrived; missing {:?}\n{}",
        unique.len(),
        expected.ids.len(),
        expected.missing(&enriched),
        dump_logs(&services)
    );
    // One record per story and revision: nothing twice, nothing lost, nothing counted twice.
    expected.assert_exactly_once(&enriched);
    for record in &enriched {
        assert_eq!(
            record.article.id,
            records.iter().find(|(k, _)| *k == record.article.id).unwrap().0
        );
    }
    crate::assert_seed_is_russia_china(&enriched);
    let restarted = services.get("deduper").unwrap().logs();
    assert!(
        restarted.contains("State restored"),
        "the restarted deduper restored its state\n{restarted}"
    );
    eprintln!(
        "e2e: {} articles, {} records; deduper killed after {}; cleaner killed at {killed_at}",
        expected.ids.len(),
        enriched.len(),
        first_half.ids.len()
    );

    // Each service serves its health and metrics.
    let tagger_logs = services.get("tagger").unwrap().logs();
    let addr = tagger_logs
        .lines()
        .find(|l| l.contains("Serving /metrics"))
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v["addr"].as_str().map(str::to_string))
        .expect("the tagger logs the address it serves on");
    assert!(http_get(&addr, "/healthz").starts_with("HTTP/1.1 200"));
    assert!(http_get(&addr, "/readyz").starts_with("HTTP/1.1 200"));
    let metrics = http_get(&addr, "/metrics");
    let out = metrics
        .lines()
        .find_map(|l| l.strip_prefix("newswire_tagger_records_out_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or_default();
    assert!(out >= 1.0, "the tagger counts its output: {metrics}");

    // An independent client agrees: kcat reads the topic read_committed.
    let kcat = tokio::task::spawn_blocking({
        let (bootstrap, topic) = (bootstrap.clone(), kafka.topics.enriched.clone());
        move || {
            Command::new("kcat")
                .args(["-C", "-b", &bootstrap, "-t", &topic, "-o", "beginning", "-e", "-q"])
                .args(["-X", "isolation.level=read_committed", "-f", "%k\\n"])
                .output()
        }
    })
    .await
    .unwrap()
    .expect("kcat is installed (Debian package kcat)");
    assert!(kcat.status.success(), "{}", String::from_utf8_lossy(&kcat.stderr));
    let kcat_keys: Vec<String> = String::from_utf8_lossy(&kcat.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let kcat_unique: HashSet<&str> = kcat_keys.iter().map(String::as_str).collect();
    assert_eq!(kcat_keys.len(), keys.len(), "kcat sees every record once");
    assert_eq!(kcat_unique, unique);

    // Graceful shutdown: SIGTERM, the batch in flight commits, exit 0.
    for service in services.values() {
        service.signal(Signal::SIGTERM);
    }
    for service in services.values_mut() {
        let exited = service.wait_exit(Duration::from_secs(40));
        assert_eq!(
            exited,
            Some(true),
            "{} did not exit cleanly on SIGTERM\n{}",
            service.name,
            service.logs()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn standalone_publishes_enriched_records_to_kafka() {
    let bootstrap = kafka_bootstrap();
    let prefix = unique_prefix("standalone");
    let dir = tempfile::tempdir().unwrap();
    let server = corpus_feed_server().await;
    // The seed feed and a few headline snapshots are enough here.
    let urls: Vec<String> = server.urls().into_iter().take(4).collect();
    let expected = expected_of(&server, 4);
    let feeds = write_feeds_file(dir.path(), &urls);
    let output = standalone_once(
        &feeds,
        &dir.path().join("data"),
        &["--kafka", &bootstrap, "--topic-prefix", &prefix],
    )
    .await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stdout.is_empty(), "with --kafka nothing goes to stdout");

    let collector = Collector::start(&bootstrap, &format!("{prefix}news.enriched"));
    let records = || {
        collector
            .snapshot()
            .iter()
            .map(|(_, p)| serde_json::from_slice::<EnrichedRecord>(p).unwrap())
            .collect::<Vec<_>>()
    };
    let complete = wait_until(Duration::from_secs(60), || expected.covered_by(&records())).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        complete,
        "{} records; missing {:?}",
        collector.count(),
        expected.missing(&records())
    );
    expected.assert_exactly_once(&records());
}

/// Who asked for which feed: (feed name, User-Agent) of every request, since the last reset.
type RequestLog = Arc<Mutex<Vec<(String, String)>>>;

/// A feed named `name` with one item, linked to `https://news.example/<name>/1`.
fn one_item_feed(name: &str) -> String {
    format!(
        "<rss version=\"2.0\"><channel><title>{name}</title><item><title>Item of {name}</title>\
         <link>https://news.example/{name}/1</link></item></channel></rss>"
    )
}

/// Serves `app` on a loopback port; returns its base URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// The environment of a fetcher replica `instance` of the test's group, polling the feeds of
/// `feeds` on the loopback server (allowed, with room for many requests per host).
fn fetcher_env(bootstrap: &str, prefix: &str, feeds: &Path, instance: &str) -> Vec<(String, String)> {
    let mut env = topic_env(prefix);
    env.extend(
        [
            ("NEWSWIRE__KAFKA__BOOTSTRAP_SERVERS", bootstrap.to_string()),
            ("NEWSWIRE__RUNTIME__LISTEN_ADDR", "127.0.0.1:0".to_string()),
            ("NEWSWIRE__RUNTIME__INSTANCE_ID", format!("fetcher-{instance}")),
            ("NEWSWIRE__RUNTIME__GROUP_ID", format!("{prefix}fetcher")),
            ("NEWSWIRE__FEEDS_FILE", feeds.display().to_string()),
            ("NEWSWIRE__FETCHER__PER_HOST_REQUESTS_PER_SEC", "100".to_string()),
            ("NEWSWIRE__FETCHER__PER_HOST_CONCURRENCY", "8".to_string()),
            ("NEWSWIRE__NETWORK__ALLOW", "[\"127.0.0.1/32\"]".to_string()),
            ("NEWSWIRE_LOG", "info".to_string()),
        ]
        .map(|(k, v)| (k.to_string(), v)),
    );
    env
}

/// Feeds that each answer a small RSS document, logging who asked.
async fn logging_feed_server(log: RequestLog) -> String {
    let app = axum::Router::new().route(
        "/feeds/{name}",
        axum::routing::get(
            move |axum::extract::Path(name): axum::extract::Path<String>, headers: axum::http::HeaderMap| {
                let agent = headers
                    .get(axum::http::header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                log.lock().unwrap().push((name.clone(), agent));
                async move { one_item_feed(&name) }
            },
        ),
    );
    serve(app).await
}

/// Which replica (by User-Agent) asked for each feed since the log was cleared, after waiting.
async fn pollers_after(log: &RequestLog, wait: Duration) -> HashMap<String, HashSet<String>> {
    log.lock().unwrap().clear();
    tokio::time::sleep(wait).await;
    let mut by_feed: HashMap<String, HashSet<String>> = HashMap::new();
    for (feed, agent) in log.lock().unwrap().iter() {
        by_feed.entry(feed.clone()).or_default().insert(agent.clone());
    }
    by_feed
}

#[tokio::test(flavor = "multi_thread")]
async fn two_fetcher_replicas_split_the_feeds_and_take_over_from_each_other() {
    let bootstrap = kafka_bootstrap();
    let prefix = unique_prefix("replicas");
    let dir = tempfile::tempdir().unwrap();
    pipeline_kafka(&bootstrap, &prefix, 6).await;
    let log: RequestLog = Arc::default();
    let base = logging_feed_server(log.clone()).await;
    let names: Vec<String> = (0..12).map(|i| format!("feed{i}")).collect();
    let urls: Vec<String> = names.iter().map(|n| format!("{base}/feeds/{n}")).collect();
    let feeds = write_feeds_file(dir.path(), &urls);

    let env_for = |replica: &str| {
        let mut env = fetcher_env(&bootstrap, &prefix, &feeds, replica);
        env.extend(
            [
                ("NEWSWIRE__FETCHER__MIN_INTERVAL_SECS", "1".to_string()),
                ("NEWSWIRE__FETCHER__MAX_INTERVAL_SECS", "1".to_string()),
                ("NEWSWIRE__FETCHER__USER_AGENT", format!("replica-{replica}/1")),
            ]
            .map(|(k, v)| (k.to_string(), v)),
        );
        env
    };
    let mut a = Service::start("fetcher", &env_for("a"), dir.path(), 0);
    let b = Service::start("fetcher", &env_for("b"), dir.path(), 1);
    let logs = |services: &[&Service]| services.iter().map(|s| s.logs()).collect::<Vec<_>>().join("\n---\n");

    // Once both are in the group, every feed is polled, each by exactly one replica.
    let mut split = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline {
        split = pollers_after(&log, Duration::from_secs(4)).await;
        let agents: HashSet<&String> = split.values().flatten().collect();
        if split.len() == names.len() && split.values().all(|a| a.len() == 1) && agents.len() == 2 {
            break;
        }
    }
    let agents: HashSet<&String> = split.values().flatten().collect();
    assert_eq!(
        split.len(),
        names.len(),
        "every feed is polled: {split:?}\n{}",
        logs(&[&a, &b])
    );
    assert!(
        split.values().all(|a| a.len() == 1),
        "no feed by both: {split:?}\n{}",
        logs(&[&a, &b])
    );
    assert_eq!(agents.len(), 2, "both replicas work: {split:?}\n{}", logs(&[&a, &b]));

    // Replica a dies without warning; after the session timeout b polls every feed.
    a.signal(Signal::SIGKILL);
    let _ = a.wait_exit(Duration::from_secs(5));
    let mut after = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline {
        after = pollers_after(&log, Duration::from_secs(4)).await;
        if after.len() == names.len() && after.values().all(|a| a.len() == 1 && a.contains("replica-b/1")) {
            break;
        }
    }
    assert_eq!(
        after.len(),
        names.len(),
        "b took every feed over: {after:?}\n{}",
        logs(&[&b])
    );
    assert!(
        after.values().all(|a| a.len() == 1 && a.contains("replica-b/1")),
        "{after:?}\n{}",
        logs(&[&b])
    );
    assert!(b.logs().contains("Took over feeds."), "{}", b.logs());

    // Replica a comes back with a feeds file that no longer lists four of the feeds: they
    // are deleted from the shared list, and no replica polls them any more.
    let kept: Vec<String> = urls[4..].to_vec();
    let smaller = dir.path().join("smaller");
    std::fs::create_dir_all(&smaller).unwrap();
    let mut env = env_for("a");
    // The later setting of a variable wins.
    env.push((
        "NEWSWIRE__FEEDS_FILE".to_string(),
        write_feeds_file(&smaller, &kept).display().to_string(),
    ));
    let a = Service::start("fetcher", &env, dir.path(), 2);
    let mut polled = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline {
        polled = pollers_after(&log, Duration::from_secs(4)).await;
        if polled.len() == kept.len() && names[..4].iter().all(|n| !polled.contains_key(n)) {
            break;
        }
    }
    assert!(
        names[..4].iter().all(|n| !polled.contains_key(n)),
        "removed feeds are not polled: {polled:?}\n{}",
        logs(&[&a, &b])
    );
    assert_eq!(
        polled.len(),
        kept.len(),
        "the others still are: {polled:?}\n{}",
        logs(&[&a, &b])
    );
    assert!(a.logs().contains("removed from the shared list"), "{}", a.logs());
}

/// A feed that answers slowly holds back no other feed: the fetcher publishes each poll as it
/// finishes, not a whole round once its slowest feed is done.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_feed_holds_back_no_other_feeds_items() {
    let bootstrap = kafka_bootstrap();
    let prefix = unique_prefix("streaming");
    let dir = tempfile::tempdir().unwrap();
    pipeline_kafka(&bootstrap, &prefix, 1).await;
    let (started, answered) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let app = axum::Router::new().route(
        "/feeds/{name}",
        axum::routing::get({
            let (started, answered) = (started.clone(), answered.clone());
            move |axum::extract::Path(name): axum::extract::Path<String>| {
                let (started, answered) = (started.clone(), answered.clone());
                async move {
                    if name == "slow" {
                        // Within the fetcher's 20 s header timeout: slow, not failed.
                        started.store(true, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_secs(12)).await;
                        answered.store(true, Ordering::SeqCst);
                    }
                    one_item_feed(&name)
                }
            }
        }),
    );
    let base = serve(app).await;
    let feeds = write_feeds_file(
        dir.path(),
        &[format!("{base}/feeds/slow"), format!("{base}/feeds/fast")],
    );
    let env = fetcher_env(&bootstrap, &prefix, &feeds, "streaming");
    let collector = Collector::start(&bootstrap, &format!("{prefix}news.raw"));
    let fetcher = Service::start("fetcher", &env, dir.path(), 0);
    let published = |name: &str| {
        let link = format!("news.example/{name}/1");
        collector
            .snapshot()
            .iter()
            .any(|(_, payload)| String::from_utf8_lossy(payload).contains(&link))
    };
    let fast = wait_until(Duration::from_secs(60), || published("fast")).await;
    let (slow_started, slow_answered) = (started.load(Ordering::SeqCst), answered.load(Ordering::SeqCst));
    assert!(fast, "the fast feed's item is published\n{}", fetcher.logs());
    assert!(
        slow_started && !slow_answered,
        "it is published while the slow feed is still being fetched (slow started: {slow_started}, answered: {slow_answered})\n{}",
        fetcher.logs()
    );
    assert!(
        wait_until(Duration::from_secs(60), || published("slow")).await,
        "the slow feed's item follows\n{}",
        fetcher.logs()
    );
}

/// 200 feeds on one host, in cluster mode: at 20 requests per second the host's queue is ten
/// seconds long, five times the request timeout, and still every feed is polled, none fails,
/// and each feed's item is on news.raw exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn the_fetcher_service_polls_many_feeds_on_one_host_without_failing_any() {
    let bootstrap = kafka_bootstrap();
    let prefix = unique_prefix("one-host");
    let dir = tempfile::tempdir().unwrap();
    pipeline_kafka(&bootstrap, &prefix, 1).await;
    let log: RequestLog = Arc::default();
    let base = logging_feed_server(log.clone()).await;
    let n = 200;
    let urls: Vec<String> = (0..n).map(|i| format!("{base}/feeds/desk{i}")).collect();
    let feeds = write_feeds_file(dir.path(), &urls);
    let mut env = fetcher_env(&bootstrap, &prefix, &feeds, "one-host");
    env.extend(
        [
            ("NEWSWIRE__FETCHER__PER_HOST_REQUESTS_PER_SEC", "20"),
            ("NEWSWIRE__FETCHER__PER_HOST_BURST", "5"),
            ("NEWSWIRE__FETCHER__PER_HOST_CONCURRENCY", "2"),
            ("NEWSWIRE__FETCHER__REQUEST_TIMEOUT_SECS", "2"),
            ("NEWSWIRE__FETCHER__HEADER_TIMEOUT_SECS", "2"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let collector = Collector::start(&bootstrap, &format!("{prefix}news.raw"));
    let fetcher = Service::start("fetcher", &env, dir.path(), 0);
    let all = wait_until(Duration::from_secs(90), || collector.count() >= n).await;
    // Room for a repeat to show up.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let logs = fetcher.logs();
    assert!(all, "{} of {n} items\n{logs}", collector.count());
    assert!(
        !logs.contains("Feed poll failed"),
        "no feed failed while it waited:\n{logs}"
    );
    let keys: Vec<String> = collector.snapshot().into_iter().map(|(key, _)| key).collect();
    let distinct: HashSet<&String> = keys.iter().collect();
    assert_eq!((keys.len(), distinct.len()), (n, n), "each item once");
    let requested: HashSet<String> = log.lock().unwrap().iter().map(|(name, _)| name.clone()).collect();
    assert_eq!(requested.len(), n, "every feed was requested");
}

/// A WebSub hub for the tests: takes subscription requests and verifies each on its callback;
/// keeps the last request's callback and secret.
#[derive(Clone, Default)]
struct Hub {
    requests: Arc<Mutex<Vec<HashMap<String, String>>>>,
    verified: Arc<Mutex<usize>>,
}

impl Hub {
    async fn serve(&self) -> String {
        let hub = self.clone();
        let app = axum::Router::new().route(
            "/hub",
            axum::routing::post(move |body: axum::body::Bytes| {
                let hub = hub.clone();
                async move {
                    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
                    hub.requests.lock().unwrap().push(form.clone());
                    tokio::spawn(async move {
                        let topic: String =
                            url::form_urlencoded::byte_serialize(form["hub.topic"].as_bytes()).collect();
                        let url = format!(
                            "{}?hub.mode=subscribe&hub.topic={topic}&hub.challenge=c123&hub.lease_seconds=3600",
                            form["hub.callback"]
                        );
                        let answer = reqwest::get(&url).await.unwrap();
                        if answer.status() == 200 && answer.text().await.unwrap() == "c123" {
                            *hub.verified.lock().unwrap() += 1;
                        }
                    });
                    axum::http::StatusCode::ACCEPTED
                }
            }),
        );
        serve(app).await
    }

    fn verified(&self) -> usize {
        *self.verified.lock().unwrap()
    }

    /// POSTs `body` to the last subscription's callback, signed with its secret (or not).
    async fn push(&self, body: &str, signed: bool) -> u16 {
        use hmac::Mac;
        let last = self.requests.lock().unwrap().last().unwrap().clone();
        let mut request = reqwest::Client::new()
            .post(&last["hub.callback"])
            .header("content-type", "application/atom+xml")
            .body(body.to_string());
        let key = if signed {
            last["hub.secret"].clone()
        } else {
            "forged".to_string()
        };
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        request = request.header(
            "x-hub-signature",
            format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
        );
        request.send().await.unwrap().status().as_u16()
    }
}

fn pushed_atom(hub: &str, this: &str, entries: &[u32]) -> String {
    let entries: String = entries
        .iter()
        .map(|n| {
            format!(
                "<entry><id>urn:push:{n}</id><title>Pushed story {n}</title><link href=\"https://push.example/story/{n}\"/>\
                 <updated>2026-11-30T12:00:00Z</updated><content type=\"html\">{}</content></entry>",
                "A full paragraph of text. ".repeat(40)
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Push desk</title><id>urn:push</id>\
         <updated>2026-11-30T12:00:00Z</updated><link rel=\"hub\" href=\"{hub}\"/><link rel=\"self\" href=\"{this}\"/>{entries}</feed>"
    )
}

/// WebSub in cluster mode: the fetcher service subscribes to the hub its feed advertises,
/// the hub's signed pushes reach news.raw in the fetcher's transactions with the ids a poll
/// gives, forged ones never do, and after a SIGKILL the restarted fetcher (its feed state
/// restored) subscribes again and publishes only what is new, once.
#[tokio::test(flavor = "multi_thread")]
async fn the_fetcher_service_takes_pushes_from_a_hub_exactly_once() {
    let bootstrap = kafka_bootstrap();
    let prefix = unique_prefix("websub");
    let dir = tempfile::tempdir().unwrap();
    pipeline_kafka(&bootstrap, &prefix, 1).await;
    let hub = Hub::default();
    let hub_url = format!("{}/hub", hub.serve().await);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let feed_url = format!("http://{}/feed.xml", listener.local_addr().unwrap());
    let document = pushed_atom(&hub_url, &feed_url, &[1]);
    let app = axum::Router::new().route(
        "/feed.xml",
        axum::routing::get(move || {
            let document = document.clone();
            async move { document }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let feeds = write_feeds_file(dir.path(), std::slice::from_ref(&feed_url));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let secret = dir.path().join("websub-secret");
    std::fs::write(&secret, "cluster-key").unwrap();
    let config = dir.path().join("fetcher.yaml");
    std::fs::write(
        &config,
        format!(
            "fetcher:\n  websub:\n    callback_url: http://127.0.0.1:{port}/websub\n    listen_addr: 127.0.0.1:{port}\n    secret: {{file: {}}}\n",
            secret.display()
        ),
    )
    .unwrap();
    let mut env = fetcher_env(&bootstrap, &prefix, &feeds, "websub");
    env.push(("NEWSWIRE_CONFIG".into(), config.display().to_string()));
    let collector = Collector::start(&bootstrap, &format!("{prefix}news.raw"));
    let keys = || -> Vec<String> { collector.snapshot().into_iter().map(|(key, _)| key).collect() };
    let id = |n: u32| record::article_id(&format!("https://push.example/story/{n}"));

    let mut fetcher = Service::start("fetcher", &env, dir.path(), 0);
    assert!(
        wait_until(Duration::from_secs(60), || hub.verified() >= 1
            && collector.count() >= 1)
        .await,
        "polled and subscribed\n{}",
        fetcher.logs()
    );
    assert_eq!(keys(), [id(1)]);
    assert_eq!(hub.push(&pushed_atom(&hub_url, &feed_url, &[3]), false).await, 202);
    assert_eq!(hub.push(&pushed_atom(&hub_url, &feed_url, &[2, 1]), true).await, 202);
    assert!(
        wait_until(Duration::from_secs(30), || collector.count() >= 2).await,
        "the push is published\n{}",
        fetcher.logs()
    );
    assert!(
        fetcher.logs().contains("not signed with the subscription's secret"),
        "the forged push is logged\n{}",
        fetcher.logs()
    );
    fetcher.signal(Signal::SIGKILL);
    fetcher.wait_exit(Duration::from_secs(10));

    let fetcher = Service::start("fetcher", &env, dir.path(), 1);
    assert!(
        wait_until(Duration::from_secs(60), || hub.verified() >= 2).await,
        "the restarted fetcher subscribes again\n{}",
        fetcher.logs()
    );
    assert_eq!(hub.push(&pushed_atom(&hub_url, &feed_url, &[4, 2, 1]), true).await, 202);
    assert!(
        wait_until(Duration::from_secs(30), || collector.count() >= 3).await,
        "the new push is published\n{}",
        fetcher.logs()
    );
    // Room for a repeat to show up.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        keys(),
        [id(1), id(2), id(4)],
        "each item once, the forged one never\n{}",
        fetcher.logs()
    );
}
