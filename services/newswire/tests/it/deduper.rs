//! The deduper on a real broker: two replicas, the active one SIGKILLed mid-stream, the
//! standby takes over from the changelog; the output is exactly what an uninterrupted
//! deduper produces.

use std::time::Duration;

use chrono::TimeZone as _;
use nix::sys::signal::Signal;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use record::{Article, CleanedRecord, FeedRef, Fingerprints, Source, StageTimes, UniqueRecord};

use crate::kafka::{Collector, Service, http_get, pipeline_kafka, topic_env};
use crate::support::*;

fn article(url: &str, title: &str, text: &str) -> CleanedRecord {
    let canonical = record::normalize_url(url).unwrap();
    let domain = canonical.split('/').nth(2).unwrap().to_string();
    CleanedRecord {
        schema_version: 1,
        article: Article {
            id: record::article_id(&canonical),
            url: Some(url.into()),
            canonical_url: Some(canonical),
            feed: FeedRef {
                url: format!("https://{domain}/feed"),
                name: None,
                tags: vec![],
                language: None,
            },
            source: Source { domain, name: None },
            title: title.into(),
            authors: vec![],
            published_at: None,
            updated_at: None,
            fetched_at: chrono::Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
            language: Some("en".into()),
            summary: None,
            word_count: text.split_whitespace().count() as u32,
            text: text.into(),
            lead_image: None,
            categories: vec![],
            fingerprints: Fingerprints::default(),
            timestamps: StageTimes::default(),
            extraction: Default::default(),
        },
    }
}

/// Real article bodies from the corpus, each with the copies a monitoring team sees: an
/// outlet's syndicated copy (exact content), a trimmed copy with boilerplate (near), the
/// URL again with tracking parameters (exact URL) and an update (revision); interleaved.
fn stream() -> Vec<CleanedRecord> {
    let mut originals = Vec::new();
    let mut copies = Vec::new();
    for (n, (url, body)) in aeb_articles().iter().take(40).enumerate() {
        let (url, body) = (url.as_str(), body.as_str());
        let paragraphs: Vec<&str> = body.split('\n').filter(|p| !p.trim().is_empty()).collect();
        let title = format!("Story {n}");
        originals.push(article(url, &title, body));
        copies.push(article(
            &format!("https://wire-{n}.example/copy"),
            &format!("{title} (wire)"),
            body,
        ));
        let keep = (paragraphs.len() * 4 / 5).max(1);
        let near = format!(
            "{}\n\nSign up for our newsletter to get the day's news in your inbox.",
            paragraphs[..keep].join("\n\n")
        );
        copies.push(article(&format!("https://outlet-{n}.example/a"), &title, &near));
        copies.push(article(&format!("{url}?utm_source=rss&utm_medium=feed"), &title, body));
        copies.push(article(
            url,
            &title,
            &format!("{body}\n\nThis article was updated with a statement from the authorities."),
        ));
    }
    originals.into_iter().chain(copies).collect()
}

/// (key, story_id, revision, duplicate_of) of each output, in order.
type Decision = (String, String, u32, Option<String>);

fn decisions(records: &[UniqueRecord]) -> Vec<Decision> {
    records
        .iter()
        .map(|r| {
            (
                r.article.id.clone(),
                r.story.story_id.clone(),
                r.story.revision,
                r.story.duplicate_of.clone(),
            )
        })
        .collect()
}

fn produce(bootstrap: &str, topic: &str, records: &[CleanedRecord]) {
    let producer: ThreadedProducer<DefaultProducerContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .create()
        .unwrap();
    for record in records {
        let payload = serde_json::to_vec(record).unwrap();
        producer
            .send(BaseRecord::to(topic).key(&record.article.id).payload(&payload))
            .map_err(|(e, _)| e)
            .unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}

/// What an uninterrupted deduper decides on `input`, in order.
fn reference_decisions(input: &[CleanedRecord]) -> Vec<Decision> {
    let mut reference = deduper::Deduper::default();
    let now = chrono::Utc::now();
    let expected: Vec<UniqueRecord> = input.iter().filter_map(|r| reference.dedupe(r.clone(), now)).collect();
    decisions(&expected)
}

/// The environment of deduper replica `instance` in the test's group, with a short session
/// timeout (heartbeats every `heartbeat_ms`) so that the group notices a change quickly.
fn deduper_env(
    dir: &std::path::Path,
    bootstrap: &str,
    prefix: &str,
    instance: &str,
    heartbeat_ms: u32,
) -> Vec<(String, String)> {
    let config = dir.join("deduper.yaml");
    std::fs::write(
        &config,
        format!(
            "kafka:\n  librdkafka:\n    session.timeout.ms: \"8000\"\n    heartbeat.interval.ms: \"{heartbeat_ms}\"\n"
        ),
    )
    .unwrap();
    let mut env = topic_env(prefix);
    env.extend([
        ("NEWSWIRE_CONFIG".to_string(), config.display().to_string()),
        ("NEWSWIRE__KAFKA__BOOTSTRAP_SERVERS".to_string(), bootstrap.to_string()),
        ("NEWSWIRE__RUNTIME__LISTEN_ADDR".to_string(), "127.0.0.1:0".to_string()),
        ("NEWSWIRE__RUNTIME__INSTANCE_ID".to_string(), instance.to_string()),
        ("NEWSWIRE__RUNTIME__GROUP_ID".to_string(), format!("{prefix}deduper")),
        ("NEWSWIRE__RUNTIME__BATCH_MAX_RECORDS".to_string(), "7".to_string()),
        ("NEWSWIRE_LOG".to_string(), "info".to_string()),
    ]);
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn a_standby_deduper_takes_over_after_a_sigkill_with_nothing_lost_or_repeated() {
    let bootstrap = kafka_bootstrap();
    let prefix = unique_prefix("dedup");
    let dir = tempfile::tempdir().unwrap();
    let kafka = pipeline_kafka(&bootstrap, &prefix, 3).await;

    // What an uninterrupted deduper decides on this stream: the input has one partition, so
    // the order is fixed and so is every decision.
    let input = stream();
    let expected = reference_decisions(&input);
    assert!(
        expected.iter().any(|d| d.3.is_some() && d.2 == 1),
        "the stream has near duplicates"
    );
    assert!(expected.iter().any(|d| d.2 == 2), "the stream has revisions");
    assert!(expected.len() < input.len(), "the stream has exact duplicates");

    // Two replicas in one group, with a short session timeout so that the standby takes over
    // quickly once the active one is gone.
    let env_for = |instance: &str| {
        let mut env = deduper_env(dir.path(), &bootstrap, &prefix, instance, 1000);
        env.push((
            "NEWSWIRE__RUNTIME__TRANSACTION_TIMEOUT_MS".to_string(),
            "10000".to_string(),
        ));
        env
    };
    let collector = Collector::start(&bootstrap, &kafka.topics.unique);
    let replicas = [
        Service::start("deduper", &env_for("dedup-a"), dir.path(), 0),
        Service::start("deduper", &env_for("dedup-b"), dir.path(), 1),
    ];
    let logs = |replicas: &[Service]| replicas.iter().map(|r| r.logs()).collect::<Vec<_>>().join("\n---\n");

    // The first part flows; then the rest, and the active replica dies in the middle of it.
    let split = input.len() / 3;
    produce(&bootstrap, &kafka.topics.cleaned, &input[..split]);
    let started = wait_until(Duration::from_secs(90), || collector.count() >= 10).await;
    assert!(started, "no output\n{}", logs(&replicas));
    produce(&bootstrap, &kafka.topics.cleaned, &input[split..]);
    let mid = wait_until(Duration::from_secs(60), || collector.count() > split).await;
    assert!(mid, "the second part did not start\n{}", logs(&replicas));
    let owner = replicas
        .iter()
        .position(|r| r.logs().contains("\"partitions\":1") || r.logs().contains("partitions=1"))
        .unwrap_or_else(|| panic!("one replica owns the partition\n{}", logs(&replicas)));
    replicas[owner].signal(Signal::SIGKILL);
    let killed_at = collector.count();
    assert!(
        killed_at < expected.len(),
        "the kill came after the end ({killed_at} of {})",
        expected.len()
    );

    let complete = wait_until(Duration::from_secs(120), || collector.count() >= expected.len()).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received: Vec<UniqueRecord> = collector
        .snapshot()
        .iter()
        .map(|(_, payload)| serde_json::from_slice(payload).unwrap())
        .collect();
    let standby = &replicas[1 - owner];
    assert!(
        complete,
        "{} of {} records\n{}",
        received.len(),
        expected.len(),
        logs(&replicas)
    );
    // news.unique has several partitions, so only the order per key is total: compare sorted.
    let (mut got, mut want) = (decisions(&received), expected.clone());
    got.sort();
    want.sort();
    assert_eq!(got, want, "exactly the uninterrupted deduper's decisions, each once");
    assert!(standby.logs().contains("State restored"), "{}", standby.logs());

    // The survivor counts what it found.
    let addr = standby
        .logs()
        .lines()
        .find(|l| l.contains("Serving /metrics"))
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v["addr"].as_str().map(str::to_string))
        .expect("the deduper logs the address it serves on");
    let metrics = http_get(&addr, "/metrics");
    for name in [
        "newswire_deduper_duplicates_total{kind=\"near\"}",
        "newswire_deduper_fingerprints",
        "newswire_deduper_fingerprint_bytes",
    ] {
        let value = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse::<f64>().ok());
        assert!(value.is_some_and(|v| v > 0.0), "{name} in\n{metrics}");
    }
    eprintln!(
        "dedup fail-over: {} inputs, {} outputs, active replica killed after {killed_at}",
        input.len(),
        expected.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deduper_refuses_a_partitioned_input() {
    let bootstrap = kafka_bootstrap();
    let prefix = unique_prefix("dedup-parts");
    let kafka = config::KafkaConfig {
        bootstrap_servers: bootstrap.clone(),
        topics: config::TopicNames::with_prefix(&prefix),
        ..Default::default()
    };
    let mut topics = runtime::pipeline_topics(&kafka.topics, 3, 1);
    for topic in &mut topics {
        if topic.name == kafka.topics.cleaned {
            topic.partitions = 3;
        }
    }
    runtime::create_topics(&kafka, &topics).await.unwrap();
    let config = deduper::DeduperConfig {
        kafka,
        ..Default::default()
    };
    let err = deduper::run(config, tokio_util::sync::CancellationToken::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("needs exactly one"), "{err:#}");
}

/// A running stage whose static consumer is fenced (another member joins its group with the
/// same `group.instance.id`, as after a broker outage) stops with a non-zero exit and says
/// why; restarted, it carries on from the committed offsets with nothing lost or repeated.
#[tokio::test(flavor = "multi_thread")]
async fn a_fenced_stage_exits_non_zero_and_its_restart_loses_and_repeats_nothing() {
    use rdkafka::consumer::{BaseConsumer, Consumer};

    let bootstrap = kafka_bootstrap();
    let prefix = unique_prefix("fenced");
    let dir = tempfile::tempdir().unwrap();
    let kafka = pipeline_kafka(&bootstrap, &prefix, 1).await;
    let input = stream();
    let expected = reference_decisions(&input);
    let group = format!("{prefix}deduper");
    let env = deduper_env(dir.path(), &bootstrap, &prefix, "fenced-0", 500);
    let collector = Collector::start(&bootstrap, &kafka.topics.unique);
    let mut first = Service::start("deduper", &env, dir.path(), 0);
    // The first half is processed completely, so the fence comes while the stage is idle,
    // between batches: on the consumer's poll path, not in a transaction.
    let split = input.len() / 2;
    let mut first_half = deduper::Deduper::default();
    let first_outputs = input[..split]
        .iter()
        .filter_map(|r| first_half.dedupe(r.clone(), chrono::Utc::now()))
        .count();
    produce(&bootstrap, &kafka.topics.cleaned, &input[..split]);
    let idle = wait_until(Duration::from_secs(90), || collector.count() >= first_outputs).await;
    assert!(
        idle,
        "{} of {first_outputs} outputs\n{}",
        collector.count(),
        first.logs()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = collector.count();

    // Another member with the same static id joins: the broker fences the running one.
    let intruder: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", &group)
        .set("group.instance.id", "fenced-0")
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "8000")
        .create()
        .unwrap();
    intruder.subscribe(&[&kafka.topics.cleaned]).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut exited = None;
    while exited.is_none() && std::time::Instant::now() < deadline {
        // Polling keeps the intruder in the group; it commits nothing.
        let _ = intruder.poll(Duration::from_millis(200));
        exited = first.wait_exit(Duration::from_millis(10));
    }
    assert_eq!(
        exited,
        Some(false),
        "the fenced deduper exits non-zero at once\n{}",
        first.logs()
    );
    let logs = first.logs();
    assert!(
        logs.to_lowercase().contains("fenced") && logs.contains("can make no progress"),
        "and says why\n{logs}"
    );
    let why = logs
        .lines()
        .find(|l| l.contains("can make no progress"))
        .unwrap_or_default();
    eprintln!("fenced stage: {why}");
    drop(intruder);

    // The rest of the input arrives; a restarted replica under the same id takes over.
    produce(&bootstrap, &kafka.topics.cleaned, &input[split..]);
    let second = Service::start("deduper", &env, dir.path(), 1);
    let complete = wait_until(Duration::from_secs(120), || collector.count() >= expected.len()).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received: Vec<UniqueRecord> = collector
        .snapshot()
        .iter()
        .map(|(_, payload)| serde_json::from_slice(payload).unwrap())
        .collect();
    assert!(
        complete,
        "{} of {} records (before the fence: {before})\n{}",
        received.len(),
        expected.len(),
        second.logs()
    );
    let (mut got, mut want) = (decisions(&received), expected);
    got.sort();
    want.sort();
    assert_eq!(got, want, "exactly the uninterrupted deduper's decisions, each once");
}
