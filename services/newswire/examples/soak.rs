//! The fault soak: the pipeline's services as separate processes on a real broker, with
//! faults, checked for exactly-once and liveness. A command, not a test:
//!
//! ```sh
//! cargo build --release --workspace --bins
//! cargo run --release -p newswire --example soak -- --runs 100 --seed 1
//! ```
//!
//! It starts its own broker (`deploy/kafka.sh`, on ports 19192/19193 and its own data
//! directory, so that it can run beside the tests' broker) and serves the corpus's real
//! feeds on loopback. Each run (seeded: run `r` of seed `s` uses seed `s * 1000 + r`) has
//! topics of its own; it starts the fetcher, cleaner, deduper, tagger and alerter, SIGKILLs
//! random services at random moments while the work is in flight (within the time the first,
//! fault-free run took) and restarts them, stops the broker (SIGKILL or SIGTERM, at random) at
//! a random moment and starts it again on the same data, then waits, bounded, for every expected
//! article on `news.enriched`: a run that does not complete in time is a stall, a failure.
//! It then reads `news.enriched`, every `news.topic.<slug>` and `news.alerts` with
//! read_committed consumers and counts lost articles, duplicated (id, revision) pairs,
//! unexpected ids and dead letters, against the expectation computed offline from the same
//! documents with the stages' own functions (`newswire::expect`), and the first, fault-free
//! run's per-topic counts. Every process it started is stopped by pid at the end of a run,
//! and the broker at the end. A run that passed has its topics deleted (a broker that kept
//! every run's partitions would restart slower each run); a failed run keeps its topics and
//! logs. The services run with `hanging_transaction_secs: 60` and `stall_timeout_secs: 90`,
//! so that what they report within the stall window (a partition blocked behind a transaction
//! whose marker the broker lost; a Kafka call that never came back, after which the service
//! exits and is restarted) is named in the run's line.
//!
//! Options: `--runs N` (100), `--seed S` (1), `--kills K` per run (3), `--feeds N` corpus
//! documents (all), `--stall-secs S` (180), `--keep-going` (do not stop at the first failed
//! run). Prints one line per run and a summary line; exits 1 if any run failed.

#[path = "support/mod.rs"]
mod support;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{repo, sibling_binary};

use axum::extract::Path as UrlPath;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};
use record::EnrichedRecord;

/// One more feed document is served every this long in a run.
const RELEASE_EVERY: Duration = Duration::from_millis(400);
const SERVICES: [&str; 5] = ["fetcher", "cleaner", "deduper", "tagger", "alerter"];
const PORT: &str = "19192";
const CONTROLLER_PORT: &str = "19193";

struct Options {
    runs: u32,
    seed: u64,
    kills: u32,
    feeds: Option<usize>,
    stall: Duration,
    keep_going: bool,
}

fn options() -> Options {
    let mut options = Options {
        runs: 100,
        seed: 1,
        kills: 3,
        feeds: None,
        stall: Duration::from_secs(180),
        keep_going: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = || {
            args.get(i + 1)
                .unwrap_or_else(|| usage(&format!("{} needs a value", args[i])))
        };
        let number = |v: &String| {
            v.parse::<u64>()
                .unwrap_or_else(|_| usage(&format!("{} is not a number", v)))
        };
        match args[i].as_str() {
            "--runs" => options.runs = number(value()) as u32,
            "--seed" => options.seed = number(value()),
            "--kills" => options.kills = number(value()) as u32,
            "--feeds" => options.feeds = Some(number(value()) as usize),
            "--stall-secs" => options.stall = Duration::from_secs(number(value())),
            "--keep-going" => {
                options.keep_going = true;
                i += 1;
                continue;
            }
            other => usage(&format!("unknown option {other}")),
        }
        i += 2;
    }
    options
}

fn usage(why: &str) -> ! {
    eprintln!("soak: {why}\nusage: soak [--runs N] [--seed S] [--kills K] [--feeds N] [--stall-secs S] [--keep-going]");
    std::process::exit(2)
}

/// The broker the soak owns.
struct Broker {
    bootstrap: String,
    dir: PathBuf,
}

impl Broker {
    fn script(&self, action: &str) -> String {
        let output = Command::new(repo().join("deploy/kafka.sh"))
            .arg(action)
            .env("NEWSWIRE_KAFKA_PORT", PORT)
            .env("NEWSWIRE_KAFKA_CONTROLLER_PORT", CONTROLLER_PORT)
            .env("NEWSWIRE_KAFKA_DIR", &self.dir)
            .stderr(Stdio::inherit())
            .output()
            .expect("deploy/kafka.sh");
        assert!(output.status.success(), "deploy/kafka.sh {action} failed");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn start() -> Broker {
        let dir = std::env::var_os("NEWSWIRE_CACHE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/newswire"))
            .join("kafka-soak");
        let mut broker = Broker {
            bootstrap: String::new(),
            dir,
        };
        let line = broker.script("start");
        broker.bootstrap = line.trim().rsplit('=').next().unwrap_or_default().to_string();
        assert!(
            !broker.bootstrap.is_empty(),
            "no bootstrap address from deploy/kafka.sh start"
        );
        broker
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.script("stop");
    }
}

/// One service process of a run.
struct Service {
    name: &'static str,
    child: Child,
}

impl Service {
    fn start(name: &'static str, env: &[(String, String)], logs: &Path, generation: u32) -> Service {
        let log = std::fs::File::create(logs.join(format!("{name}-{generation}.log"))).unwrap();
        let binary = sibling_binary(name);
        let child = Command::new(&binary)
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {}: {e} (cargo build --release --workspace --bins)",
                    binary.display()
                )
            });
        Service { name, child }
    }

    fn kill_hard(&mut self) {
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGKILL);
        let _ = self.child.wait();
    }

    /// SIGTERM, then SIGKILL after `grace`.
    fn stop(&mut self, grace: Duration) {
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.kill_hard();
    }

    fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

/// The corpus's real news feeds, each as (name, body).
fn corpus_docs(limit: Option<usize>) -> Vec<(String, Vec<u8>)> {
    let dir = repo().join("../shared/corpus/feeds/gesab001-headlines");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names.truncate(limit.unwrap_or(usize::MAX));
    names
        .into_iter()
        .map(|name| {
            let body = std::fs::read(dir.join(&name)).unwrap();
            (name, body)
        })
        .collect()
}

/// Serves the documents under `/feeds/<name>`; only the first `released` are there, the
/// others answer 503 (a feed that is down for a while), so that a run's work arrives over
/// time and the faults hit it in flight.
async fn serve(docs: Arc<Vec<(String, Vec<u8>)>>, released: Arc<AtomicUsize>) -> String {
    let app = axum::Router::new().route(
        "/feeds/{name}",
        axum::routing::get(move |UrlPath(name): UrlPath<String>| {
            let (docs, released) = (docs.clone(), released.clone());
            async move {
                match docs.iter().position(|(n, _)| *n == name) {
                    Some(i) if i < released.load(Ordering::SeqCst) => (axum::http::StatusCode::OK, docs[i].1.clone()),
                    Some(_) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, Vec::new()),
                    None => (axum::http::StatusCode::NOT_FOUND, Vec::new()),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn topic_slugs() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("deploy/taxonomy.yaml")).unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    yaml["topics"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|t| t["slug"].as_str().map(str::to_string))
        .collect()
}

/// The environment of `service` in the run whose topics start with `prefix`.
fn env_for(service: &str, prefix: &str, bootstrap: &str, feeds: &Path) -> Vec<(String, String)> {
    let mut env = config::TopicNames::with_prefix(prefix).to_env();
    let mut set = |k: &str, v: String| env.push((k.to_string(), v));
    set("NEWSWIRE__KAFKA__BOOTSTRAP_SERVERS", bootstrap.to_string());
    set("NEWSWIRE__RUNTIME__LISTEN_ADDR", "127.0.0.1:0".into());
    set("NEWSWIRE__RUNTIME__INSTANCE_ID", format!("soak-{service}"));
    set("NEWSWIRE__RUNTIME__GROUP_ID", format!("{prefix}{service}"));
    set("NEWSWIRE__RUNTIME__BATCH_MAX_RECORDS", "50".into());
    set("NEWSWIRE__RUNTIME__TRANSACTION_TIMEOUT_MS", "15000".into());
    // Reported within the stall window (the default, 300 s, is longer than a run may wait).
    set("NEWSWIRE__RUNTIME__HANGING_TRANSACTION_SECS", "60".into());
    // A stuck client ends its process within the stall window, and the soak restarts it.
    set("NEWSWIRE__RUNTIME__STALL_TIMEOUT_SECS", "90".into());
    set("NEWSWIRE_LOG", "info".into());
    match service {
        "fetcher" => {
            set("NEWSWIRE__FEEDS_FILE", feeds.display().to_string());
            set("NEWSWIRE__FETCHER__PER_HOST_REQUESTS_PER_SEC", "100".into());
            set("NEWSWIRE__FETCHER__PER_HOST_CONCURRENCY", "8".into());
            set("NEWSWIRE__FETCHER__MAX_BACKOFF_SECS", "2".into());
            set("NEWSWIRE__NETWORK__ALLOW", "[\"127.0.0.1/32\"]".into());
        }
        "tagger" => {
            set(
                "NEWSWIRE__TAXONOMY_FILE",
                repo().join("deploy/taxonomy.yaml").display().to_string(),
            );
            set("NEWSWIRE__TOPIC_PREFIX", format!("{prefix}news.topic."));
        }
        _ => {}
    }
    env
}

/// What the services of a run reported in their logs, read once: the partitions they could
/// not read past (see the runtime's hanging-transaction watch), as `stage: partition P of T
/// at offset O (high watermark H)`, and what their watchdogs ended, as `stage: stuck <step>
/// for N s`.
fn service_reports(dir: &Path) -> (Vec<String>, Vec<String>) {
    let mut hanging = std::collections::BTreeSet::new();
    let mut stuck = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for line in text.lines() {
            let blocked = line.contains("Stage blocked on a partition");
            if !blocked && !line.contains("Stage stuck:") {
                continue;
            }
            let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let stage = event["stage"].as_str().unwrap_or("?");
            if blocked {
                hanging.insert(format!(
                    "{stage}: partition {} of {} at offset {} (high watermark {})",
                    event["partition"],
                    event["topic"].as_str().unwrap_or("?"),
                    event["last_stable_offset"],
                    event["high_watermark"]
                ));
            } else {
                stuck.push(format!(
                    "{stage}: stuck {} for {} s",
                    event["step"].as_str().unwrap_or("?"),
                    event["seconds"]
                ));
            }
        }
    }
    stuck.sort();
    (hanging.into_iter().collect(), stuck)
}

/// Deletes every topic whose name starts with `prefix` (a finished run's topics).
async fn delete_topics_with_prefix(bootstrap: &str, prefix: &str) {
    use rdkafka::admin::{AdminClient, AdminOptions};
    use rdkafka::client::DefaultClientContext;
    let Ok(admin) = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create::<AdminClient<DefaultClientContext>>()
    else {
        return;
    };
    let names: Vec<String> = match admin.inner().fetch_metadata(None, Duration::from_secs(30)) {
        Ok(metadata) => metadata
            .topics()
            .iter()
            .map(|t| t.name().to_string())
            .filter(|name| name.starts_with(prefix))
            .collect(),
        Err(err) => {
            eprintln!("soak: listing topics to delete: {err}");
            return;
        }
    };
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    if let Err(err) = admin.delete_topics(&refs, &AdminOptions::new()).await {
        eprintln!("soak: deleting the topics of {prefix}*: {err}");
    }
}

/// Reads `topic` from the beginning to its end (read_committed), bounded by `limit`: done
/// when every assigned partition has reached its end, or when nothing is assigned (a topic
/// nothing was routed to) for a few seconds.
fn read_all(bootstrap: &str, topic: &str, limit: Duration) -> Vec<(Vec<u8>, Vec<u8>)> {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("{topic}-soak-{}", rand::random::<u32>()))
        .set("isolation.level", "read_committed")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let started = Instant::now();
    let mut records = Vec::new();
    let mut at_end: HashSet<i32> = HashSet::new();
    while started.elapsed() < limit {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(message)) => {
                at_end.remove(&message.partition());
                records.push((
                    message.key().unwrap_or_default().to_vec(),
                    message.payload().unwrap_or_default().to_vec(),
                ));
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(partition))) => {
                at_end.insert(partition);
            }
            _ => {}
        }
        let assigned = consumer.assignment().map(|a| a.count()).unwrap_or(0);
        if assigned > 0 && at_end.len() >= assigned {
            break;
        }
        if assigned == 0 && started.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    records
}

/// What one run found.
#[derive(Default)]
struct Outcome {
    complete: bool,
    seconds: f64,
    enriched: usize,
    lost: usize,
    duplicated: usize,
    unexpected: usize,
    counted_twice: usize,
    dead_letters: usize,
    topic_records: usize,
    topic_duplicated: usize,
    topic_counts: HashMap<String, usize>,
    alerts: usize,
    alert_duplicated: usize,
    exits: Vec<String>,
    /// Partitions the services reported blocked behind a transaction that never ended (the
    /// broker lost its marker): `stage: partition P of T at offset O`.
    hanging: Vec<String>,
    /// Services whose watchdog found them stuck in a Kafka call (and ended them).
    stuck: Vec<String>,
}

impl Outcome {
    fn failed(
        &self,
        reference: Option<&HashMap<String, HashSet<String>>>,
        topics: &HashMap<String, HashSet<String>>,
    ) -> Vec<String> {
        let mut why = Vec::new();
        if !self.complete {
            why.push("stalled".to_string());
        }
        if !self.hanging.is_empty() {
            why.push(format!(
                "blocked by a hanging transaction, as the services reported: {}",
                self.hanging.join("; ")
            ));
        }
        for (what, n) in [
            ("lost", self.lost),
            ("duplicated", self.duplicated),
            ("unexpected", self.unexpected),
            ("counted twice", self.counted_twice),
            ("dead letters", self.dead_letters),
            ("duplicated on topics", self.topic_duplicated),
            ("duplicated alerts", self.alert_duplicated),
        ] {
            if n > 0 {
                why.push(format!("{what} {n}"));
            }
        }
        if let Some(reference) = reference {
            for (slug, ids) in reference {
                let got = topics.get(slug).map_or(0, HashSet::len);
                if got != ids.len() {
                    why.push(format!(
                        "topic {slug}: {got} articles, the fault-free run had {}",
                        ids.len()
                    ));
                }
            }
        }
        why
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_once(
    run: u32,
    seed: u64,
    faults: bool,
    window: Duration,
    options: &Options,
    broker: &Broker,
    base: &str,
    released: &AtomicUsize,
    docs: &[(String, Vec<u8>)],
    expected: &newswire::expect::Expected,
    slugs: &[String],
    work: &Path,
) -> (Outcome, HashMap<String, HashSet<String>>, String) {
    let mut rng = StdRng::seed_from_u64(seed);
    let prefix = format!("soak{}-{run}-", options.seed);
    let dir = work.join(format!("run-{run}"));
    std::fs::create_dir_all(&dir).unwrap();
    let kafka = config::KafkaConfig {
        bootstrap_servers: broker.bootstrap.clone(),
        topics: config::TopicNames::with_prefix(&prefix),
        ..Default::default()
    };
    runtime::create_topics(&kafka, &runtime::pipeline_topics(&kafka.topics, 3, 1))
        .await
        .expect("topics created");
    let feeds = dir.join("feeds.yaml");
    let mut yaml = String::from("feeds:\n");
    for (name, _) in docs {
        yaml.push_str(&format!("  - url: {base}/feeds/{name}\n    fetch_article: never\n"));
    }
    std::fs::write(&feeds, yaml).unwrap();
    let env: HashMap<&str, Vec<(String, String)>> = SERVICES
        .iter()
        .map(|s| (*s, env_for(s, &prefix, &broker.bootstrap, &feeds)))
        .collect();
    released.store(0, Ordering::SeqCst);
    let started = Instant::now();
    let mut generation: HashMap<&str, u32> = HashMap::new();
    let mut services: Vec<Service> = SERVICES.iter().map(|s| Service::start(s, &env[s], &dir, 0)).collect();

    // The plan: kills at random moments while the work is in flight (within the time the
    // fault-free run took), and one broker restart.
    let mut plan: Vec<(Duration, Option<&'static str>)> = Vec::new();
    let mut story = Vec::new();
    if faults {
        let window = window.as_millis().max(2_000) as u64;
        for _ in 0..options.kills {
            let at = Duration::from_millis(rng.random_range(500..window));
            plan.push((at, Some(SERVICES[rng.random_range(0..SERVICES.len())])));
        }
        plan.push((Duration::from_millis(rng.random_range(500..window)), None));
        plan.sort_by_key(|(at, _)| *at);
    }
    let hard_broker_stop = rng.random_bool(0.5);
    let enriched_topic = kafka.topics.enriched.clone();
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &broker.bootstrap)
        .set("group.id", format!("{enriched_topic}-progress"))
        .set("isolation.level", "read_committed")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[enriched_topic.as_str()]).unwrap();
    let mut progress: Vec<EnrichedRecord> = Vec::new();
    let mut outcome = Outcome::default();
    let deadline = started + options.stall + plan.last().map_or(Duration::ZERO, |(at, _)| *at);
    loop {
        let due = (started.elapsed().as_millis() / RELEASE_EVERY.as_millis()) as usize + 1;
        released.store(due.min(docs.len()), Ordering::SeqCst);
        while let Some((at, _)) = plan.first() {
            if started.elapsed() < *at {
                break;
            }
            let (_, target) = plan.remove(0);
            match target {
                Some(name) => {
                    let index = SERVICES.iter().position(|s| *s == name).unwrap();
                    services[index].kill_hard();
                    let pause = Duration::from_millis(rng.random_range(0..3_000));
                    story.push(format!("kill {name} at {:.1}s", started.elapsed().as_secs_f64()));
                    tokio::time::sleep(pause).await;
                    let g = generation.entry(name).or_default();
                    *g += 1;
                    services[index] = Service::start(name, &env[name], &dir, *g);
                }
                None => {
                    story.push(format!(
                        "broker {} at {:.1}s",
                        if hard_broker_stop { "SIGKILL" } else { "stop" },
                        started.elapsed().as_secs_f64()
                    ));
                    broker.script(if hard_broker_stop { "kill" } else { "stop" });
                    tokio::time::sleep(Duration::from_millis(rng.random_range(0..5_000))).await;
                    broker.script("resume");
                }
            }
        }
        // A service that exited by itself (a fatal error: exit 1) is restarted, as
        // Kubernetes would, and noted.
        for service in services.iter_mut() {
            if service.exited() {
                let name = service.name;
                outcome
                    .exits
                    .push(format!("{name} exited at {:.1}s", started.elapsed().as_secs_f64()));
                let g = generation.entry(name).or_default();
                *g += 1;
                *service = Service::start(name, &env[name], &dir, *g);
            }
        }
        let poll_until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < poll_until {
            if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100))
                && let Ok(record) = serde_json::from_slice::<EnrichedRecord>(message.payload().unwrap_or_default())
            {
                progress.push(record);
            }
        }
        if plan.is_empty() && expected.covered_by(&progress) {
            outcome.complete = true;
            break;
        }
        if Instant::now() > deadline {
            break;
        }
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    // Room for a late duplicate, then everything is read back from the start.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let bootstrap = broker.bootstrap.clone();
    let read = |topic: String| {
        let bootstrap = bootstrap.clone();
        tokio::task::spawn_blocking(move || read_all(&bootstrap, &topic, Duration::from_secs(60)))
    };
    // Every topic at once.
    let (enriched_read, dlq_read, alerts_read) = (
        read(kafka.topics.enriched.clone()),
        read(kafka.topics.dlq.clone()),
        read(kafka.topics.alerts.clone()),
    );
    let topic_reads: Vec<_> = slugs
        .iter()
        .map(|slug| (slug.clone(), read(format!("{prefix}news.topic.{slug}"))))
        .collect();
    let enriched: Vec<EnrichedRecord> = enriched_read
        .await
        .unwrap()
        .iter()
        .filter_map(|(_, p)| serde_json::from_slice(p).ok())
        .collect();
    let comparison = expected.compare(&enriched);
    outcome.enriched = enriched.len();
    outcome.lost = comparison.lost.len();
    outcome.duplicated = comparison.duplicated.iter().map(|(_, _, n)| n).sum();
    outcome.unexpected = comparison.unexpected.len();
    outcome.counted_twice = comparison.counted_twice.len();
    outcome.dead_letters = dlq_read.await.unwrap().len();
    let mut topic_ids: HashMap<String, HashSet<String>> = HashMap::new();
    for (slug, records) in topic_reads {
        let records = records.await.unwrap();
        let mut seen = HashSet::new();
        for (_, payload) in &records {
            if let Ok(record) = serde_json::from_slice::<EnrichedRecord>(payload) {
                if !seen.insert((record.article.id.clone(), record.story.revision)) {
                    outcome.topic_duplicated += 1;
                }
                // Per topic, the stories counted: first revisions of originals.
                if record.story.revision == 1 && record.story.duplicate_of.is_none() {
                    topic_ids
                        .entry(slug.clone())
                        .or_default()
                        .insert(record.article.id.clone());
                }
            }
        }
        outcome.topic_records += records.len();
        outcome.topic_counts.insert(slug.clone(), records.len());
    }
    let alerts = alerts_read.await.unwrap();
    let mut alert_ids = HashSet::new();
    for (_, payload) in &alerts {
        if let Ok(alert) = serde_json::from_slice::<record::AlertEvent>(payload)
            && !alert_ids.insert(alert.id)
        {
            outcome.alert_duplicated += 1;
        }
    }
    outcome.alerts = alerts.len();
    for service in &mut services {
        service.stop(Duration::from_secs(10));
    }
    (outcome.hanging, outcome.stuck) = service_reports(&dir);
    if outcome.complete && comparison.is_exactly_once() {
        let _ = std::fs::remove_dir_all(&dir);
        // The broker loads every partition it has on each restart: a soak that kept every
        // run's topics would make each restart slower than the last. A failed run's stay.
        delete_topics_with_prefix(&broker.bootstrap, &prefix).await;
    } else {
        eprintln!("soak: run {run}: logs kept in {}", dir.display());
        if !comparison.lost.is_empty() {
            eprintln!(
                "soak: run {run}: lost {:?}",
                &comparison.lost[..comparison.lost.len().min(10)]
            );
        }
    }
    (outcome, topic_ids, story.join(", "))
}

#[tokio::main]
async fn main() {
    let options = options();
    let docs = Arc::new(corpus_docs(options.feeds));
    let released = Arc::new(AtomicUsize::new(0));
    let base = serve(docs.clone(), released.clone()).await;
    let served: Vec<(String, Vec<u8>)> = docs
        .iter()
        .map(|(n, b)| (format!("{base}/feeds/{n}"), b.clone()))
        .collect();
    let expected = newswire::expect::Expected::of_feeds(&served);
    let slugs = topic_slugs();
    let work = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    eprintln!(
        "soak: {} runs, seed {}, {} feeds ({} expected articles), {} kills and one broker restart per run; broker {}",
        options.runs,
        options.seed,
        docs.len(),
        expected.ids.len(),
        options.kills,
        broker.bootstrap
    );
    let (mut done, mut failed, mut stalls, mut kills, mut broker_kills) = (0u32, 0, 0, 0u32, 0u32);
    let (mut hanging_stalls, mut stuck_total) = (0usize, 0usize);
    let mut totals = Outcome::default();
    // Run 0 is fault-free: the reference for the per-topic counts.
    let (reference, reference_topics, _) = run_once(
        0,
        options.seed * 1000,
        false,
        Duration::ZERO,
        &options,
        &broker,
        &base,
        &released,
        &docs,
        &expected,
        &slugs,
        work.path(),
    )
    .await;
    let why = reference.failed(None, &reference_topics);
    println!(
        "run 0 (fault-free): {} enriched, {} topic records, {} alerts, {:.1} s{}",
        reference.enriched,
        reference.topic_records,
        reference.alerts,
        reference.seconds,
        if why.is_empty() {
            String::new()
        } else {
            format!(": FAILED ({})", why.join(", "))
        }
    );
    if !why.is_empty() {
        std::process::exit(1);
    }
    for run in 1..=options.runs {
        let seed = options.seed * 1000 + u64::from(run);
        let (outcome, topics, story) = run_once(
            run,
            seed,
            true,
            Duration::from_secs_f64(reference.seconds),
            &options,
            &broker,
            &base,
            &released,
            &docs,
            &expected,
            &slugs,
            work.path(),
        )
        .await;
        done += 1;
        kills += options.kills;
        broker_kills += u32::from(story.contains("broker SIGKILL"));
        let why = outcome.failed(Some(&reference_topics), &topics);
        stuck_total += outcome.stuck.len();
        if !outcome.complete {
            stalls += 1;
            hanging_stalls += usize::from(!outcome.hanging.is_empty());
        }
        println!(
            "run {run} (seed {seed}): {story}{}; {} enriched, lost {}, duplicated {}, unexpected {}, dead letters {}, \
             topic records {} (duplicated {}), alerts {} (duplicated {}), {:.1} s{}",
            if outcome.exits.is_empty() && outcome.stuck.is_empty() {
                String::new()
            } else {
                format!(
                    "; {}",
                    outcome
                        .exits
                        .iter()
                        .chain(&outcome.stuck)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            outcome.enriched,
            outcome.lost,
            outcome.duplicated,
            outcome.unexpected,
            outcome.dead_letters,
            outcome.topic_records,
            outcome.topic_duplicated,
            outcome.alerts,
            outcome.alert_duplicated,
            outcome.seconds,
            if why.is_empty() {
                String::new()
            } else {
                format!(": FAILED ({})", why.join(", "))
            }
        );
        totals.lost += outcome.lost;
        totals.duplicated += outcome.duplicated + outcome.topic_duplicated + outcome.alert_duplicated;
        totals.unexpected += outcome.unexpected;
        totals.dead_letters += outcome.dead_letters;
        if !why.is_empty() {
            failed += 1;
            if !options.keep_going {
                break;
            }
        }
    }
    println!(
        "soak: {done} runs after the fault-free one, {failed} failed ({stalls} stalls, {hanging_stalls} of them behind a hanging transaction); {stuck_total} stuck clients ended by their watchdog; {kills} SIGKILLs of services, {done} broker restarts ({broker_kills} by SIGKILL); lost {}, duplicated {}, unexpected {}, dead letters {}",
        totals.lost, totals.duplicated, totals.unexpected, totals.dead_letters
    );
    drop(broker);
    if failed > 0 {
        std::process::exit(1);
    }
}
