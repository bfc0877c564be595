//! The tagger service on a real broker: every article to news.enriched, each tagged one also
//! to news.topic.<slug>, and a taxonomy change picked up without a restart.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use config::{KafkaConfig, RuntimeConfig, TopicNames};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use tagger::TaggerConfig;
use tokio_util::sync::CancellationToken;

fn bootstrap() -> String {
    std::env::var("NEWSWIRE_KAFKA_BOOTSTRAP")
        .expect("NEWSWIRE_KAFKA_BOOTSTRAP is not set: start the broker with `eval \"$(deploy/kafka.sh start)\"`")
}

fn unique_prefix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("tg-{}-{nanos}.", std::process::id())
}

/// Reads up to `want` committed messages of `topic` within `limit`.
fn read(bootstrap: &str, topic: &str, want: usize, limit: Duration) -> Vec<OwnedMessage> {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("reader-{}", unique_prefix()))
        .set("isolation.level", "read_committed")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("topic.metadata.refresh.interval.ms", "500")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let deadline = Instant::now() + limit;
    let mut out = Vec::new();
    while Instant::now() < deadline && out.len() < want {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
            out.push(message.detach());
        }
    }
    out
}

fn article(id: &str, title: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schema_version": 1,
        "id": id,
        "feed": {"url": "http://feed.test/rss"},
        "source": {"domain": "feed.test"},
        "title": title,
        "fetched_at": "2023-03-21T10:00:00Z",
        "text": "",
        "word_count": 0,
        "fingerprints": {"content_sha256": "00"},
        "story_id": id,
        "revision": 1,
    }))
    .unwrap()
}

fn keys(messages: &[OwnedMessage]) -> Vec<String> {
    let mut keys: Vec<String> = messages
        .iter()
        .map(|m| String::from_utf8_lossy(m.key().unwrap_or_default()).to_string())
        .collect();
    keys.sort();
    keys
}

async fn read_async(bootstrap: &str, topic: &str, want: usize, limit: Duration) -> Vec<OwnedMessage> {
    let (b, t) = (bootstrap.to_string(), topic.to_string());
    tokio::task::spawn_blocking(move || read(&b, &t, want, limit))
        .await
        .unwrap()
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn routes_tagged_articles_and_reloads_the_taxonomy() {
    let bootstrap = bootstrap();
    let prefix = unique_prefix();
    let dir = tempfile::tempdir().unwrap();
    let taxonomy = dir.path().join("taxonomy.yaml");
    write(&taxonomy, "topics:\n  - {slug: putin, label: Putin, query: putin}\n");
    let kafka = KafkaConfig {
        bootstrap_servers: bootstrap.clone(),
        topics: TopicNames::with_prefix(&prefix),
        ..Default::default()
    };
    runtime::create_topics(&kafka, &runtime::pipeline_topics(&kafka.topics, 1, 1))
        .await
        .unwrap();
    let config = TaggerConfig {
        kafka: kafka.clone(),
        runtime: RuntimeConfig {
            instance_id: Some("tagger-it".into()),
            group_id: Some(format!("{prefix}tagger")),
            listen_addr: "127.0.0.1:0".into(),
            batch_max_wait_ms: 50,
            ..Default::default()
        },
        taxonomy_file: Some(taxonomy.clone()),
        taxonomy_reload_secs: 1,
        topic_routing: true,
        topic_prefix: format!("{prefix}topic."),
        topic_partitions: 1,
        topic_replication: 1,
    };
    let shutdown = CancellationToken::new();
    let service = tokio::spawn(tagger::run(config, shutdown.clone()));

    let producer: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    let send = |id: &str, title: &str| {
        producer
            .send(
                BaseRecord::to(&kafka.topics.unique)
                    .key(id)
                    .payload(&article(id, title)),
            )
            .unwrap();
        producer.flush(Duration::from_secs(10)).unwrap();
    };
    send("a", "Putin speaks");
    send("b", "Storm floods coast");
    let enriched = read_async(&bootstrap, &kafka.topics.enriched, 2, Duration::from_secs(60)).await;
    assert_eq!(keys(&enriched), ["a", "b"], "every article goes to news.enriched");
    let routed = read_async(&bootstrap, &format!("{prefix}topic.putin"), 2, Duration::from_secs(5)).await;
    assert_eq!(keys(&routed), ["a"], "only the tagged one goes to its topic's topic");

    // A new topic in the file: picked up without a restart, its Kafka topic created.
    write(
        &taxonomy,
        "topics:\n  - {slug: putin, label: Putin, query: putin}\n  - {slug: storm, label: Storm, query: storm*}\n",
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    // An invalid version is rejected; the one in force stays.
    write(
        &taxonomy,
        "topics:\n  - {slug: storm, label: Storm, query: 'storm AND ('}\n",
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    send("c", "Storms and Putin");
    let routed = read_async(&bootstrap, &format!("{prefix}topic.storm"), 1, Duration::from_secs(60)).await;
    assert_eq!(keys(&routed), ["c"]);
    let routed = read_async(&bootstrap, &format!("{prefix}topic.putin"), 2, Duration::from_secs(30)).await;
    assert_eq!(keys(&routed), ["a", "c"], "the putin topic is still in force");
    let enriched = read_async(&bootstrap, &kafka.topics.enriched, 3, Duration::from_secs(30)).await;
    let c: serde_json::Value = serde_json::from_slice(
        enriched
            .iter()
            .find(|m| m.key() == Some(b"c".as_slice()))
            .and_then(|m| m.payload())
            .unwrap(),
    )
    .unwrap();
    let slugs: Vec<&str> = c["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs.len(), 2, "{c}");

    shutdown.cancel();
    service.await.unwrap().unwrap();
}
