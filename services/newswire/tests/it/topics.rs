//! `newswire topics create --config`: the names and settings of a service configuration file,
//! on a real broker (what the Helm chart's topic Job runs).

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::support::*;

/// Partition count per topic whose name starts with `prefix`.
fn partitions(bootstrap: &str, prefix: &str) -> HashMap<String, usize> {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let metadata = consumer.fetch_metadata(None, Duration::from_secs(10)).unwrap();
    metadata
        .topics()
        .iter()
        .filter(|t| t.name().starts_with(prefix))
        .map(|t| (t.name().to_string(), t.partitions().len()))
        .collect()
}

async fn cleanup_policy(bootstrap: &str, topic: &str) -> Option<String> {
    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let results = admin
        .describe_configs([&ResourceSpecifier::Topic(topic)], &AdminOptions::new())
        .await
        .unwrap();
    let resource = results.into_iter().next().unwrap().unwrap();
    resource.get("cleanup.policy").and_then(|entry| entry.value.clone())
}

#[tokio::test]
async fn topics_create_takes_names_and_connection_from_the_config_file() {
    let bootstrap = kafka_bootstrap();
    let prefix = unique_prefix("topics-config");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    let names = [
        "raw",
        "cleaned",
        "unique",
        "enriched",
        "dlq",
        "fetcher_state",
        "deduper_state",
        "feeds",
        "alerts",
        "alerter_state",
    ];
    let mut text = format!("kafka:\n  bootstrap_servers: {bootstrap}\n  security_protocol: plaintext\n  topics:\n");
    for name in names {
        text.push_str(&format!("    {name}: {prefix}custom.{name}\n"));
    }
    std::fs::write(&config, text).unwrap();

    // Twice: the second run finds every topic there and leaves it as it is.
    for _ in 0..2 {
        let output = Command::new(env!("CARGO_BIN_EXE_newswire"))
            .args([
                "topics",
                "create",
                "--partitions",
                "2",
                "--replication",
                "1",
                "--config",
            ])
            .arg(&config)
            .arg("--topic-prefix")
            .arg(format!("{prefix}custom.topic."))
            .env_remove("NEWSWIRE_KAFKA_BOOTSTRAP")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }

    let created = partitions(&bootstrap, &prefix);
    let expected: HashMap<String, usize> = names
        .iter()
        .map(|name| {
            // State changelogs and the deduper's input have one partition (ARCHITECTURE.md).
            let count = if name.ends_with("_state") || *name == "cleaned" {
                1
            } else {
                2
            };
            (format!("{prefix}custom.{name}"), count)
        })
        .collect();
    // And one topic per taxonomy topic, for the tagger's routing.
    let mut expected = expected;
    for topic in tagger::Taxonomy::embedded().unwrap().topics() {
        expected.insert(format!("{prefix}custom.topic.{}", topic.slug), 2);
    }
    assert!(expected.len() >= names.len() + 9);
    assert_eq!(created, expected);
    let state = format!("{prefix}custom.deduper_state");
    assert_eq!(cleanup_policy(&bootstrap, &state).await.as_deref(), Some("compact"));
    let data = format!("{prefix}custom.raw");
    assert_eq!(cleanup_policy(&bootstrap, &data).await.as_deref(), Some("delete"));
}

#[test]
fn topics_create_needs_a_broker_or_a_config_file() {
    let output = Command::new(env!("CARGO_BIN_EXE_newswire"))
        .args(["topics", "create"])
        .env_remove("NEWSWIRE_KAFKA_BOOTSTRAP")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--kafka"), "{stderr}");
}
