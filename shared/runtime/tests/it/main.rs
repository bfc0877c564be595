//! The stage runtime on a real broker: outputs, the dead-letter topic, shutdown and restart.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use config::{KafkaConfig, RuntimeConfig, TopicNames};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use runtime::{Stage, StageError, StageRun, TopicSpec};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use telemetry::Health;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
struct Num {
    schema_version: u32,
    id: String,
    n: i64,
}

impl record::Record for Num {
    const SCHEMA_VERSION: u32 = 1;
    fn key(&self) -> &str {
        &self.id
    }
}

/// Doubles numbers; refuses negative ones.
struct Doubler;

impl Stage for Doubler {
    type Input = Num;
    type Output = Num;
    fn name(&self) -> &'static str {
        "doubler"
    }
    fn process(&mut self, input: Num) -> Result<Vec<Num>, StageError> {
        if input.n < 0 {
            return Err(StageError::content(format!("negative: {}", input.n)));
        }
        Ok(vec![Num {
            n: input.n * 2,
            ..input
        }])
    }
}

fn bootstrap() -> String {
    std::env::var("NEWSWIRE_KAFKA_BOOTSTRAP")
        .expect("NEWSWIRE_KAFKA_BOOTSTRAP is not set: start the broker with deploy/kafka.sh start")
}

fn prefix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("rt-{}-{nanos}.", std::process::id())
}

fn read_all(bootstrap: &str, topic: &str, want: usize, limit: Duration) -> Vec<rdkafka::message::OwnedMessage> {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("{topic}-reader-{}", prefix()))
        .set("isolation.level", "read_committed")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
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

fn header(message: &rdkafka::message::OwnedMessage, key: &str) -> Option<String> {
    let headers = message.headers()?;
    headers
        .iter()
        .find(|h| h.key == key)
        .and_then(|h| h.value)
        .map(|v| String::from_utf8_lossy(v).to_string())
}

/// The Kafka settings of a test under `prefix`, with its input, output and DLQ topics created
/// (two partitions each); returns the settings and the input and output topics.
async fn stage_topics(bootstrap: &str, prefix: &str) -> (KafkaConfig, String, String) {
    let kafka = KafkaConfig {
        bootstrap_servers: bootstrap.to_string(),
        topics: TopicNames::with_prefix(prefix),
        ..Default::default()
    };
    let (input, output) = (format!("{prefix}in"), format!("{prefix}out"));
    let specs: Vec<TopicSpec> = [&input, &output, &kafka.topics.dlq]
        .iter()
        .map(|name| TopicSpec {
            name: name.to_string(),
            partitions: 2,
            replication: 1,
            compacted: false,
        })
        .collect();
    runtime::create_topics(&kafka, &specs).await.unwrap();
    (kafka, input, output)
}

#[tokio::test(flavor = "multi_thread")]
async fn outputs_and_dead_letters_commit_once_and_shutdown_is_graceful() {
    let bootstrap = bootstrap();
    let prefix = prefix();
    let (kafka, input, output) = stage_topics(&bootstrap, &prefix).await;

    let producer: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    let payloads: Vec<(String, Vec<u8>)> = vec![
        ("a".into(), br#"{"schema_version":1,"id":"a","n":1}"#.to_vec()),
        ("b".into(), b"not json at all".to_vec()),
        ("c".into(), br#"{"schema_version":1,"id":"c","n":2}"#.to_vec()),
        ("d".into(), br#"{"schema_version":1,"id":"d","n":-5}"#.to_vec()),
        ("e".into(), br#"{"schema_version":1,"id":"e","n":3}"#.to_vec()),
    ];
    for (key, payload) in &payloads {
        producer
            .send(BaseRecord::to(&input).key(key.as_str()).payload(payload))
            .unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();

    let run = StageRun {
        kafka: kafka.clone(),
        runtime: RuntimeConfig {
            instance_id: Some("rt-0".into()),
            group_id: Some(format!("{prefix}doubler")),
            ..Default::default()
        },
        input_topic: input.clone(),
        output_topic: output.clone(),
        state_topic: None,
    };
    let start = |run: StageRun| {
        let shutdown = CancellationToken::new();
        let health = Health::default();
        let (s, h) = (shutdown.clone(), health.clone());
        let thread = std::thread::spawn(move || runtime::run_stage(Doubler, run, h, s));
        (shutdown, health, thread)
    };

    let (shutdown, health, thread) = start(run.clone());
    let outputs = tokio::task::spawn_blocking({
        let (b, o) = (bootstrap.clone(), output.clone());
        move || read_all(&b, &o, 3, Duration::from_secs(60))
    })
    .await
    .unwrap();
    let doubled: HashMap<String, i64> = outputs
        .iter()
        .map(|m| {
            let num: Num = serde_json::from_slice(m.payload().unwrap()).unwrap();
            (String::from_utf8_lossy(m.key().unwrap()).to_string(), num.n)
        })
        .collect();
    assert_eq!(
        doubled,
        HashMap::from([("a".into(), 2), ("c".into(), 4), ("e".into(), 6)])
    );
    assert!(health.is_ready());

    let dead = tokio::task::spawn_blocking({
        let (b, d) = (bootstrap.clone(), kafka.topics.dlq.clone());
        move || read_all(&b, &d, 2, Duration::from_secs(30))
    })
    .await
    .unwrap();
    assert_eq!(dead.len(), 2, "both poison records are in the DLQ");
    let by_key: HashMap<String, &rdkafka::message::OwnedMessage> = dead
        .iter()
        .map(|m| (String::from_utf8_lossy(m.key().unwrap()).to_string(), m))
        .collect();
    let b = by_key["b"];
    assert_eq!(
        b.payload(),
        Some(&b"not json at all"[..]),
        "the original bytes are kept"
    );
    assert_eq!(header(b, runtime::dlq_headers::ERROR_KIND).as_deref(), Some("decode"));
    assert_eq!(header(b, runtime::dlq_headers::STAGE).as_deref(), Some("doubler"));
    assert_eq!(
        header(b, runtime::dlq_headers::ORIGIN_TOPIC).as_deref(),
        Some(input.as_str())
    );
    assert!(header(b, runtime::dlq_headers::ORIGIN_OFFSET).is_some_and(|o| o.parse::<i64>().is_ok()));
    assert!(header(b, runtime::dlq_headers::ORIGIN_PARTITION).is_some());
    let d = by_key["d"];
    assert_eq!(header(d, runtime::dlq_headers::ERROR_KIND).as_deref(), Some("content"));
    assert!(header(d, runtime::dlq_headers::ERROR).is_some_and(|e| e.contains("negative: -5")));

    // Graceful shutdown: the loop returns Ok and its offsets are committed, so a restart of
    // the same group processes nothing again.
    shutdown.cancel();
    thread.join().unwrap().unwrap();
    assert!(!health.is_ready());

    producer
        .send(
            BaseRecord::to(&input)
                .key("f")
                .payload(br#"{"schema_version":1,"id":"f","n":10}"#),
        )
        .unwrap();
    producer.flush(Duration::from_secs(10)).unwrap();
    let (shutdown, _health, thread) = start(run);
    let outputs = tokio::task::spawn_blocking({
        let (b, o) = (bootstrap.clone(), output.clone());
        move || read_all(&b, &o, 5, Duration::from_secs(8))
    })
    .await
    .unwrap();
    let keys: Vec<String> = outputs
        .iter()
        .map(|m| String::from_utf8_lossy(m.key().unwrap()).to_string())
        .collect();
    assert_eq!(
        keys.len(),
        4,
        "only the new record is processed after the restart: {keys:?}"
    );
    assert!(keys.contains(&"f".to_string()));
    shutdown.cancel();
    thread.join().unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partition_behind_a_transaction_that_never_ends_fails_health_and_names_it() {
    let bootstrap = bootstrap();
    let prefix = prefix();
    let (mut kafka, input, output) = stage_topics(&bootstrap, &prefix).await;
    kafka.librdkafka.insert("statistics.interval.ms".into(), "500".into());

    // A transaction opened on partition 0 and left open: until it ends, no read_committed
    // consumer passes it. (A hanging transaction, whose marker the broker lost, looks exactly
    // like this to a consumer, except that it never ends.)
    let open: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("transactional.id", format!("{prefix}left-open"))
        .set("transaction.timeout.ms", "120000")
        .create()
        .unwrap();
    open.init_transactions(Duration::from_secs(30)).unwrap();
    open.begin_transaction().unwrap();
    let num = |id: &str, n: i64| format!(r#"{{"schema_version":1,"id":"{id}","n":{n}}}"#);
    open.send(BaseRecord::to(&input).partition(0).key("t").payload(&num("t", 100)))
        .unwrap();
    open.flush(Duration::from_secs(10)).unwrap();
    let plain: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    for (partition, id, n) in [(0, "behind", 1), (1, "free", 2)] {
        plain
            .send(BaseRecord::to(&input).partition(partition).key(id).payload(&num(id, n)))
            .unwrap();
    }
    plain.flush(Duration::from_secs(10)).unwrap();

    let run = StageRun {
        kafka: kafka.clone(),
        runtime: RuntimeConfig {
            instance_id: Some("rt-hanging".into()),
            group_id: Some(format!("{prefix}doubler")),
            hanging_transaction_secs: 3,
            ..Default::default()
        },
        input_topic: input.clone(),
        output_topic: output.clone(),
        state_topic: None,
    };
    let (shutdown, health) = (CancellationToken::new(), Health::default());
    let thread = std::thread::spawn({
        let (s, h) = (shutdown.clone(), health.clone());
        move || runtime::run_stage(Doubler, run, h, s)
    });

    // The other partition flows; the blocked one is reported once it has stayed blocked.
    let first = tokio::task::spawn_blocking({
        let (b, o) = (bootstrap.clone(), output.clone());
        move || read_all(&b, &o, 1, Duration::from_secs(60))
    })
    .await
    .unwrap();
    let keys = |messages: &[rdkafka::message::OwnedMessage]| -> Vec<String> {
        messages
            .iter()
            .map(|m| String::from_utf8_lossy(m.key().unwrap()).to_string())
            .collect()
    };
    assert_eq!(
        keys(&first),
        ["free"],
        "the partition without an open transaction flows"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while health.failure().is_none() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let why = health.failure().expect("the blocked partition fails /healthz");
    eprintln!("health: {why}");
    assert!(
        why.contains(&format!("partition 0 of {input}"))
            && why.contains("never ended")
            && why.contains("kafka-transactions.sh"),
        "and names the partition and the remedy: {why}"
    );
    assert!(!health.is_alive());

    // Once the transaction ends, the records behind it come through; the stage never stopped.
    open.abort_transaction(Duration::from_secs(30)).unwrap();
    let all = tokio::task::spawn_blocking({
        let (b, o) = (bootstrap.clone(), output.clone());
        move || read_all(&b, &o, 2, Duration::from_secs(60))
    })
    .await
    .unwrap();
    let mut got = keys(&all);
    got.sort();
    assert_eq!(
        got,
        ["behind", "free"],
        "the aborted record is not there, the one behind it is"
    );
    shutdown.cancel();
    thread.join().unwrap().unwrap();
}
