//! End-to-end throughput through the broker: how fast the cleaner, deduper and tagger, as
//! services with exactly-once on, turn raw records into enriched ones; side by side, in the
//! same run and on the same broker, what the broker alone allows.
//!
//! ```sh
//! cargo build --release --workspace --bins --examples
//! # A broker of its own, with the JIT's full optimisation (the test broker stops at C1):
//! export NEWSWIRE_KAFKA_DIR=~/.cache/newswire/kafka-bench NEWSWIRE_KAFKA_PORT=19292 \
//!        NEWSWIRE_KAFKA_CONTROLLER_PORT=19293 NEWSWIRE_KAFKA_JAVA_OPTS="-Xms512m -Xmx1g"
//! eval "$(deploy/kafka.sh start)"
//! target/release/examples/throughput [--records 20000] [--runs 3]
//! target/release/examples/throughput --records 2000 --in-process   # the stages alone, no broker
//! ```
//!
//! The records are real articles (the article-extraction benchmark's bodies, each copy with
//! a URL and a dateline of its own, so that no two are exact copies and every one reaches
//! `news.enriched`), as a feed with full text would deliver them. Each run, per mode:
//!
//! - **the pipeline**: the three services start on fresh topics; once a warm-up record has
//!   come out of `news.enriched` (they are running and assigned), the records are produced to
//!   `news.raw` and the clock runs until the last one is on `news.enriched` (read_committed).
//!   Steady state: process start, group join and state restore are reported apart
//!   (`startup_seconds`). With exactly-once, then with it off (`runtime.exactly_once: false`,
//!   for measurements only).
//! - **the plain copy**: `kcat -P -l` of the same payloads, then `kcat -C -e` of them back;
//!   its records/s is the count over both times. The broker's limit for one hop.
//! - **the relay copy**: the pipeline's shape with stages that do nothing: three `kcat`
//!   relays chained through four topics. The broker's limit for this topology.
//! - **in process**: the three stages applied to the same records by the runtime's batch core
//!   in this process, without Kafka: CPU microseconds per record per stage.
//!
//! Reported as medians of the runs: records/s and MB/s (raw bytes), records per CPU-second of
//! the three services together, each stage's and the broker's CPU seconds while the clock
//! ran, and the shares of the plain and relay copies. The broker's CPU is read from the pid
//! file in `NEWSWIRE_KAFKA_DIR` (the test broker's directory by default). Prints JSON.

#[path = "support/mod.rs"]
mod support;

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{repo, sibling_binary};

use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use record::{FeedRef, RawRecord, Record};

const STAGES: [&str; 3] = ["cleaner", "deduper", "tagger"];

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| {
            v.parse().unwrap_or_else(|_| panic!("{name} takes a number"))
        })
}

/// `n` raw records made of the benchmark's article bodies, each copy distinct.
fn records(n: usize) -> Vec<(String, Vec<u8>)> {
    let path = repo().join("../shared/corpus/articles/scrapinghub-aeb/ground-truth.json");
    let truth: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap();
    let mut articles: Vec<(String, String, String)> = truth
        .values()
        .filter_map(|v| {
            let body = v["articleBody"].as_str()?;
            (body.split_whitespace().count() >= 150).then(|| {
                (
                    v["url"].as_str().unwrap_or("https://example.com/").to_string(),
                    v["headline"].as_str().unwrap_or("Story").to_string(),
                    body.to_string(),
                )
            })
        })
        .collect();
    articles.sort();
    let now = chrono::Utc::now();
    (0..n)
        .map(|i| {
            let (url, headline, body) = &articles[i % articles.len()];
            let copy = i / articles.len();
            let link = format!(
                "https://bench{copy}.example/{i}/{}",
                url.rsplit('/').next().unwrap_or("story")
            );
            let paragraphs: String = body
                .split('\n')
                .filter(|p| !p.trim().is_empty())
                .map(|p| format!("<p>{}</p>", p.replace('&', "&amp;").replace('<', "&lt;")))
                .collect();
            let record = RawRecord {
                schema_version: RawRecord::SCHEMA_VERSION,
                id: record::article_id(&record::normalize_url(&link).unwrap()),
                feed: FeedRef {
                    url: format!("https://bench{copy}.example/feed"),
                    name: Some(format!("Bench desk {copy}")),
                    tags: Vec::new(),
                    language: None,
                },
                guid: None,
                url: Some(link),
                title: Some(format!("{headline} ({i})")),
                summary: None,
                content: Some(format!("<p>BENCH DESK {copy}, item {i} —</p>{paragraphs}")),
                authors: Vec::new(),
                categories: Vec::new(),
                published_at: Some(now),
                updated_at: None,
                language: Some("en".into()),
                lead_image: None,
                page: None,
                article_fetch: None,
                fetched_at: now,
            };
            (record.id.clone(), serde_json::to_vec(&record).unwrap())
        })
        .collect()
}

fn produce(bootstrap: &str, topic: &str, records: &[(String, Vec<u8>)]) {
    let producer: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "5")
        .set("compression.type", "zstd")
        .create()
        .unwrap();
    for (key, payload) in records {
        let mut record = BaseRecord::to(topic).key(key.as_str()).payload(payload.as_slice());
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, back)) => {
                    producer.poll(Duration::from_millis(10));
                    record = back;
                }
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(60)).unwrap();
}

/// Waits until `n` records are on `topic` (read_committed), at most `limit`, or until none
/// came for 60 s; returns how many came and when the last one did.
/// A read_committed reader of `topic` from its beginning, counting the records that came.
struct Reader {
    consumer: BaseConsumer,
    count: usize,
    last: Instant,
}

impl Reader {
    fn new(bootstrap: &str, topic: &str) -> Reader {
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", format!("{topic}-throughput"))
            .set("isolation.level", "read_committed")
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        consumer.subscribe(&[topic]).unwrap();
        Reader {
            consumer,
            count: 0,
            last: Instant::now(),
        }
    }

    /// Reads until `n` records in all have come, at most `limit`, or until none came for
    /// 60 s; returns whether all came.
    fn until(&mut self, n: usize, limit: Duration) -> bool {
        let started = Instant::now();
        let mut quiet = Instant::now();
        while self.count < n && started.elapsed() < limit && quiet.elapsed() < Duration::from_secs(60) {
            if let Some(Ok(message)) = self.consumer.poll(Duration::from_millis(100))
                && message.payload().is_some()
            {
                self.count += 1;
                self.last = Instant::now();
                quiet = self.last;
            }
        }
        self.count >= n
    }
}

/// The broker's pid, from the pid file `deploy/kafka.sh` keeps in its run directory
/// (`NEWSWIRE_KAFKA_DIR`, as for `deploy/kafka.sh`), so that its CPU time can be read too.
fn broker_pid() -> Option<u32> {
    let dir = std::env::var("NEWSWIRE_KAFKA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/newswire/kafka-run"));
    std::fs::read_to_string(dir.join("kafka.pid")).ok()?.trim().parse().ok()
}

/// CPU seconds (user and system) of a process, from `/proc/<pid>/stat`.
fn cpu_seconds(pid: u32) -> f64 {
    cpu_seconds_in(&format!("/proc/{pid}/stat"))
}

/// CPU seconds of the calling thread.
fn thread_cpu() -> f64 {
    cpu_seconds_in("/proc/thread-self/stat")
}

/// Fields 14 and 15 of a `stat` file (utime, stime), in clock ticks of 1/100 s.
fn cpu_seconds_in(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn env_for(stage: &str, prefix: &str, bootstrap: &str, exactly_once: bool) -> Vec<(String, String)> {
    let mut env = config::TopicNames::with_prefix(prefix).to_env();
    env.extend(
        [
            ("NEWSWIRE__KAFKA__BOOTSTRAP_SERVERS", bootstrap.to_string()),
            ("NEWSWIRE__RUNTIME__LISTEN_ADDR", "127.0.0.1:0".into()),
            ("NEWSWIRE__RUNTIME__INSTANCE_ID", format!("throughput-{stage}")),
            ("NEWSWIRE__RUNTIME__GROUP_ID", format!("{prefix}{stage}")),
            ("NEWSWIRE__RUNTIME__EXACTLY_ONCE", exactly_once.to_string()),
            ("NEWSWIRE_LOG", "warn".into()),
        ]
        .map(|(k, v)| (k.to_string(), v)),
    );
    if stage == "tagger" {
        env.push(("NEWSWIRE__TOPIC_PREFIX".into(), format!("{prefix}news.topic.")));
        env.push((
            "NEWSWIRE__TAXONOMY_FILE".into(),
            repo().join("deploy/taxonomy.yaml").display().to_string(),
        ));
    }
    env
}

struct Measured {
    /// From the first record produced to the last one on `news.enriched`, with the stages
    /// already running and assigned (steady state).
    seconds: f64,
    /// From the services' start to the warm-up record on `news.enriched`: process start,
    /// group join, state restore, first transaction.
    startup: f64,
    /// CPU seconds of each stage's process while the clock ran.
    cpu: Vec<f64>,
    /// CPU seconds of the broker while the clock ran.
    broker_cpu: f64,
    delivered: usize,
}

/// One pipeline run: the three services start on fresh topics; once a warm-up record has
/// come through (they are running and assigned), the records are produced to `news.raw`
/// while the clock runs until the last of them is on `news.enriched`.
async fn pipeline_run(
    bootstrap: &str,
    warm_up: &(String, Vec<u8>),
    records: &[(String, Vec<u8>)],
    exactly_once: bool,
    run: u64,
) -> Measured {
    let prefix = format!(
        "tp{}-{run}-{}-",
        std::process::id(),
        if exactly_once { "eo" } else { "alo" }
    );
    let kafka = config::KafkaConfig {
        bootstrap_servers: bootstrap.to_string(),
        topics: config::TopicNames::with_prefix(&prefix),
        ..Default::default()
    };
    runtime::create_topics(&kafka, &runtime::pipeline_topics(&kafka.topics, 1, 1))
        .await
        .expect("topics");

    let logs = tempfile::tempdir().unwrap();
    let mut reader = Reader::new(bootstrap, &kafka.topics.enriched);
    let started = Instant::now();
    let mut children: Vec<Child> = STAGES
        .iter()
        .map(|stage| {
            Command::new(sibling_binary(stage))
                .envs(env_for(stage, &prefix, bootstrap, exactly_once))
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(logs.path().join(format!("{stage}.log"))).unwrap())
                .spawn()
                .unwrap_or_else(|e| panic!("{stage}: {e} (cargo build --release --workspace --bins)"))
        })
        .collect();
    produce(bootstrap, &kafka.topics.raw, std::slice::from_ref(warm_up));
    let warm = reader.until(1, Duration::from_secs(120));
    let startup = started.elapsed().as_secs_f64();
    let broker = broker_pid();
    let cpu_at = |children: &[Child]| -> Vec<f64> {
        children
            .iter()
            .map(|c| cpu_seconds(c.id()))
            .chain([broker.map_or(0.0, cpu_seconds)])
            .collect()
    };
    let before = cpu_at(&children);
    let clock = Instant::now();
    let delivered = if warm {
        let (topic, owned) = (kafka.topics.raw.clone(), records.to_vec());
        let bootstrap_owned = bootstrap.to_string();
        let producing = std::thread::spawn(move || produce(&bootstrap_owned, &topic, &owned));
        reader.until(records.len() + 1, Duration::from_secs(900));
        producing.join().expect("producer");
        reader.count - 1
    } else {
        0
    };
    let mut cpu: Vec<f64> = cpu_at(&children).iter().zip(&before).map(|(a, b)| a - b).collect();
    let broker_cpu = cpu.pop().unwrap_or(0.0);
    for child in &mut children {
        let _ = child.kill();
        let _ = child.wait();
    }
    if delivered < records.len() {
        eprintln!(
            "throughput: only {delivered} of {} records arrived; logs in {}",
            records.len(),
            logs.keep().display()
        );
    }
    Measured {
        seconds: (reader.last - clock).as_secs_f64(),
        startup,
        cpu,
        broker_cpu,
        delivered,
    }
}

/// The plain copy: the payloads produced with `kcat -P`, then consumed back with `kcat -C`.
async fn plain_copy(bootstrap: &str, records: &[(String, Vec<u8>)], run: u64) -> (f64, f64) {
    let topic = format!("tp{}-{run}-plain", std::process::id());
    let kafka = config::KafkaConfig {
        bootstrap_servers: bootstrap.to_string(),
        ..Default::default()
    };
    let spec = runtime::TopicSpec {
        name: topic.clone(),
        partitions: 1,
        replication: 1,
        compacted: false,
    };
    runtime::create_topics(&kafka, &[spec]).await.expect("topic");
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut lines = Vec::new();
    for (_, payload) in records {
        lines.extend_from_slice(payload);
        lines.push(b'\n');
    }
    std::fs::write(file.path(), &lines).unwrap();
    let started = Instant::now();
    let status = Command::new("kcat")
        .args([
            "-P",
            "-b",
            bootstrap,
            "-t",
            &topic,
            "-z",
            "zstd",
            "-X",
            "linger.ms=5",
            "-l",
        ])
        .arg(file.path())
        .status()
        .expect("kcat");
    assert!(status.success(), "kcat -P failed");
    let produced = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let count = records.len().to_string();
    let output = Command::new("kcat")
        .args([
            "-C",
            "-b",
            bootstrap,
            "-t",
            &topic,
            "-o",
            "beginning",
            "-e",
            "-q",
            "-c",
            &count,
        ])
        .stdout(Stdio::piped())
        .output()
        .expect("kcat");
    assert!(output.status.success(), "kcat -C failed");
    let consumed = started.elapsed().as_secs_f64();
    let got = output.stdout.iter().filter(|b| **b == b'\n').count();
    assert_eq!(got, records.len(), "kcat read back every record");
    (produced, consumed)
}

/// The three stages applied in this process, without Kafka, to the same records: what each
/// costs per record (decode, process, encode: the runtime's own batch core), in CPU time of
/// this one thread. Returns seconds per stage.
fn in_process(records: &[(String, Vec<u8>)]) -> Vec<f64> {
    use runtime::batch::{Input, Message, Topics, apply_batch};
    let taxonomy = tagger::Taxonomy::load(&repo().join("deploy/taxonomy.yaml")).expect("taxonomy");
    let mut cleaner = cleaner::Cleaner::new(cleaner::Budget::default());
    let mut deduper = deduper::Deduper::new(deduper::Settings::default());
    let mut tagger = tagger::Tagger::new(taxonomy).with_topic_routing("news.topic.");
    let limit = 1_000_000;
    let inputs: Vec<Message> = records
        .iter()
        .map(|(key, payload)| Message {
            topic: "news.raw".into(),
            key: Some(key.as_bytes().to_vec()),
            payload: Some(payload.clone()),
            headers: Vec::new(),
        })
        .collect();
    fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
        let started = thread_cpu();
        let out = f();
        (out, thread_cpu() - started)
    }
    fn as_inputs(messages: &[Message]) -> impl Iterator<Item = Input<'_>> {
        messages.iter().enumerate().map(|(i, m)| m.as_input(i as i64))
    }
    let topics = |output| Topics {
        output,
        dlq: "news.dlq",
    };
    let (cleaned, c) = timed(|| apply_batch(&mut cleaner, as_inputs(&inputs), topics("news.cleaned"), limit).outputs);
    let (unique, d) = timed(|| apply_batch(&mut deduper, as_inputs(&cleaned), topics("news.unique"), limit).outputs);
    let (enriched, t) = timed(|| apply_batch(&mut tagger, as_inputs(&unique), topics("news.enriched"), limit).outputs);
    assert_eq!(
        enriched.len(),
        records.len(),
        "every record came through the stages in process"
    );
    vec![c, d, t]
}

/// The pipeline's shape with stages that do nothing: three `kcat` relays (consume one topic,
/// produce every record unchanged to the next, zstd), so that the records cross the broker as
/// often as through the three stages (one produce and four hops). Records/s from the first
/// record produced to the last one on the third relay's topic: what the broker and the
/// clients alone allow for this topology.
async fn relay_copy(bootstrap: &str, records: &[(String, Vec<u8>)], run: u64) -> (f64, f64) {
    let topics: Vec<String> = (0..4)
        .map(|i| format!("tp{}-{run}-relay{i}", std::process::id()))
        .collect();
    let kafka = config::KafkaConfig {
        bootstrap_servers: bootstrap.to_string(),
        ..Default::default()
    };
    let specs: Vec<runtime::TopicSpec> = topics
        .iter()
        .map(|name| runtime::TopicSpec {
            name: name.clone(),
            partitions: 1,
            replication: 1,
            compacted: false,
        })
        .collect();
    runtime::create_topics(&kafka, &specs).await.expect("topics");
    let count = records.len().to_string();
    let mut relays: Vec<Child> = topics
        .windows(2)
        .map(|pair| {
            let script = format!(
                "kcat -C -b {bootstrap} -t {} -o beginning -c {count} -q -u | kcat -P -b {bootstrap} -t {} -z zstd -X linger.ms=5",
                pair[0], pair[1]
            );
            Command::new("sh")
                .args(["-c", &script])
                .process_group(0)
                .spawn()
                .expect("sh")
        })
        .collect();
    let mut reader = Reader::new(bootstrap, &topics[3]);
    // The relays' consumers are assigned (no group) within a moment.
    std::thread::sleep(Duration::from_secs(1));
    let broker_before = broker_pid().map_or(0.0, cpu_seconds);
    let clock = Instant::now();
    produce(bootstrap, &topics[0], records);
    let all = reader.until(records.len(), Duration::from_secs(600));
    let broker_cpu = broker_pid().map_or(0.0, cpu_seconds) - broker_before;
    for relay in &mut relays {
        // The relay's own group: both kcat processes.
        let _ = Command::new("kill").arg("--").arg(format!("-{}", relay.id())).status();
        let _ = relay.wait();
    }
    assert!(
        all,
        "the relays carried only {} of {} records",
        reader.count,
        records.len()
    );
    (records.len() as f64 / (reader.last - clock).as_secs_f64(), broker_cpu)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let n = arg("--records", 20_000) as usize;
    let runs = arg("--runs", 3);
    let bootstrap = std::env::var("NEWSWIRE_KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:19092".into());
    let mut records = records(n + 1);
    let warm_up = records.pop().expect("a warm-up record");
    let bytes: usize = records.iter().map(|(_, p)| p.len()).sum();
    eprintln!(
        "throughput: {n} records, {:.1} MB, {runs} runs, broker {bootstrap}",
        bytes as f64 / 1e6
    );
    let mut report = serde_json::Map::new();
    let mut plain_rates = Vec::new();
    let (mut relay_rates, mut relay_broker_cpu) = (Vec::new(), Vec::new());
    let (mut produce_rates, mut consume_rates) = (Vec::new(), Vec::new());
    let mut modes: Vec<(&str, Vec<Measured>)> = vec![("exactly_once", Vec::new()), ("at_least_once", Vec::new())];
    // `--in-process` alone: only the stages' own cost, without a broker (for profiling).
    let only_in_process = std::env::args().any(|a| a == "--in-process");
    for run in 0..if only_in_process { 0 } else { runs } {
        let (produced, consumed) = plain_copy(&bootstrap, &records, run).await;
        let (rate, broker_cpu) = relay_copy(&bootstrap, &records, run).await;
        relay_rates.push(rate);
        relay_broker_cpu.push(broker_cpu);
        plain_rates.push(n as f64 / (produced + consumed));
        produce_rates.push(n as f64 / produced);
        consume_rates.push(n as f64 / consumed);
        for (mode, measured) in &mut modes {
            let m = pipeline_run(&bootstrap, &warm_up, &records, *mode == "exactly_once", run).await;
            eprintln!(
                "throughput: run {run} {mode}: {} records in {:.2} s after a {:.1} s start, cpu {:?}, broker cpu {:.2}",
                m.delivered, m.seconds, m.startup, m.cpu, m.broker_cpu
            );
            measured.push(m);
        }
    }
    let mut stage_runs: Vec<Vec<f64>> = Vec::new();
    for _ in 0..runs {
        stage_runs.push(in_process(&records));
    }
    if only_in_process {
        let stages: Vec<String> = stage_runs[0]
            .iter()
            .map(|s| format!("{:.0}", s * 1e6 / n as f64))
            .collect();
        println!("in process, CPU microseconds per record (cleaner, deduper, tagger): {stages:?}");
        return;
    }
    let plain = median(plain_rates);
    let in_process_us: serde_json::Map<String, serde_json::Value> = STAGES
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let seconds = median(stage_runs.iter().map(|r| r[i]).collect());
            (s.to_string(), (seconds * 1e6 / n as f64).into())
        })
        .collect();
    eprintln!("throughput: in process, CPU microseconds per record: {in_process_us:?}");
    report.insert("in_process_cpu_us_per_record".into(), in_process_us.into());
    report.insert("records".into(), n.into());
    report.insert("megabytes".into(), (bytes as f64 / 1e6).into());
    report.insert(
        "plain_copy".into(),
        serde_json::json!({
            "records_per_sec": plain,
            "produce_records_per_sec": median(produce_rates),
            "consume_records_per_sec": median(consume_rates),
        }),
    );
    let relay = median(relay_rates);
    report.insert(
        "relay_copy".into(),
        serde_json::json!({
            "records_per_sec": relay,
            "share_of_plain_copy": relay / plain,
            "broker_cpu_seconds": median(relay_broker_cpu),
        }),
    );
    for (mode, measured) in &modes {
        let rate = median(measured.iter().map(|m| m.delivered as f64 / m.seconds).collect());
        let cpu_total = median(measured.iter().map(|m| m.cpu.iter().sum::<f64>()).collect());
        let stages: serde_json::Map<String, serde_json::Value> = STAGES
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    s.to_string(),
                    median(measured.iter().map(|m| m.cpu[i]).collect()).into(),
                )
            })
            .collect();
        report.insert(
            mode.to_string(),
            serde_json::json!({
                "records_per_sec": rate,
                "mb_per_sec": rate * bytes as f64 / n as f64 / 1e6,
                "records_per_cpu_second": n as f64 / cpu_total,
                "mb_per_cpu_second": bytes as f64 / 1e6 / cpu_total,
                "cpu_seconds": stages,
                "delivered": measured.iter().map(|m| m.delivered).min(),
                "startup_seconds": median(measured.iter().map(|m| m.startup).collect()),
                "broker_cpu_seconds": median(measured.iter().map(|m| m.broker_cpu).collect()),
                "share_of_plain_copy": rate / plain,
                "share_of_relay_copy": rate / relay,
            }),
        );
    }
    println!("{}", serde_json::Value::Object(report));
}
