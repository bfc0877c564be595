//! `newswire topics create`: the Kafka settings it connects with.
//!
//! On a laptop `--kafka BOOTSTRAP` is enough. On a production cluster topic creation needs the
//! same TLS, SASL and topic names as the services, so it reads the `kafka:` section of a
//! service-style configuration file (`--config`, with the usual `NEWSWIRE__KAFKA__...`
//! environment overrides); the Helm chart's topic Job renders one.

use std::path::Path;

use config::{KafkaConfig, TopicNames};
use serde::Deserialize;

/// The part of a configuration file that topic creation reads.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicsConfig {
    /// `kafka`: connection, security and topic names, as for every service.
    #[serde(default)]
    kafka: KafkaConfig,
}

/// The Kafka settings for topic creation: the configuration file (if any) and the environment,
/// then `bootstrap` (from `--kafka`) replaces the brokers and a non-empty `prefix` replaces
/// every topic name with the prefixed default.
pub fn kafka_config(file: Option<&Path>, bootstrap: Option<String>, prefix: &str) -> anyhow::Result<KafkaConfig> {
    let mut kafka = config::load::<TopicsConfig>(file)?.kafka;
    if let Some(bootstrap) = bootstrap {
        kafka.bootstrap_servers = bootstrap;
    }
    if !prefix.is_empty() {
        kafka.topics = TopicNames::with_prefix(prefix);
    }
    Ok(kafka)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temp_file as write;

    #[test]
    fn the_file_sets_security_and_topic_names() {
        let file = write(
            "kafka:\n  bootstrap_servers: broker:9093\n  security_protocol: sasl_ssl\n  \
             sasl: {mechanism: SCRAM-SHA-512, username: nw, password_file: /s/password}\n  \
             topics: {raw: prod.raw}\n",
        );
        let kafka = kafka_config(Some(file.path()), None, "").unwrap();
        assert_eq!(kafka.bootstrap_servers, "broker:9093");
        assert_eq!(kafka.security_protocol, "sasl_ssl");
        assert_eq!(kafka.sasl.unwrap().password_file.as_deref(), Some("/s/password"));
        assert_eq!(kafka.topics.raw, "prod.raw");
        assert_eq!(kafka.topics.enriched, "news.enriched");
    }

    #[test]
    fn flags_override_the_file() {
        let file = write("kafka:\n  bootstrap_servers: broker:9093\n  topics: {raw: prod.raw}\n");
        let kafka = kafka_config(Some(file.path()), Some("other:9092".into()), "t1.").unwrap();
        assert_eq!(kafka.bootstrap_servers, "other:9092");
        assert_eq!(kafka.topics.raw, "t1.news.raw");
        assert_eq!(kafka.topics.deduper_state, "t1.news.deduper.state");
    }

    #[test]
    fn other_sections_are_errors() {
        let file = write("kafka: {}\nruntime: {}\n");
        let err = kafka_config(Some(file.path()), None, "").unwrap_err().to_string();
        assert!(err.contains("runtime"), "{err}");
    }
}
