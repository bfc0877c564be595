//! librdkafka client configuration from the service configuration.

use anyhow::Context;
use config::KafkaConfig;
use rdkafka::ClientConfig;

/// The common client configuration: brokers, security, and the raw `librdkafka` overrides
/// (applied last, so they win).
pub fn client_config(kafka: &KafkaConfig) -> anyhow::Result<ClientConfig> {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &kafka.bootstrap_servers);
    config.set("security.protocol", &kafka.security_protocol);
    if let Some(sasl) = &kafka.sasl {
        config.set("sasl.mechanism", &sasl.mechanism);
        config.set("sasl.username", &sasl.username);
        let password = match (&sasl.password, &sasl.password_file) {
            (_, Some(file)) => std::fs::read_to_string(file)
                .with_context(|| format!("reading the SASL password file {file}"))?
                .trim_end()
                .to_string(),
            (Some(password), None) => password.clone(),
            (None, None) => anyhow::bail!("kafka.sasl needs password or password_file"),
        };
        config.set("sasl.password", password);
    }
    if let Some(tls) = &kafka.tls {
        let pairs = [
            ("ssl.ca.location", &tls.ca_location),
            ("ssl.certificate.location", &tls.certificate_location),
            ("ssl.key.location", &tls.key_location),
            ("ssl.key.password", &tls.key_password),
        ];
        for (key, value) in pairs {
            if let Some(value) = value {
                config.set(key, value);
            }
        }
    }
    for (key, value) in &kafka.librdkafka {
        config.set(key, value);
    }
    Ok(config)
}

/// A transactional, idempotent, zstd-compressing producer configuration.
pub(crate) fn transactional_producer_config(
    kafka: &KafkaConfig,
    transactional_id: &str,
    transaction_timeout_ms: u64,
) -> anyhow::Result<ClientConfig> {
    let mut config = client_config(kafka)?;
    let defaults = [
        ("enable.idempotence", "true".to_string()),
        ("compression.type", "zstd".to_string()),
        ("transactional.id", transactional_id.to_string()),
        ("transaction.timeout.ms", transaction_timeout_ms.to_string()),
        ("linger.ms", "5".to_string()),
        (
            "statistics.interval.ms",
            crate::observe::STATISTICS_INTERVAL_MS.to_string(),
        ),
    ];
    for (key, value) in defaults {
        if !kafka.librdkafka.contains_key(key) || key == "transactional.id" {
            config.set(key, value);
        }
    }
    Ok(config)
}

/// The producer of a stage that runs without transactions (`runtime.exactly_once: false`,
/// for measurements): idempotent, otherwise the same settings.
pub(crate) fn plain_producer_config(kafka: &KafkaConfig) -> anyhow::Result<ClientConfig> {
    let mut config = client_config(kafka)?;
    let defaults = [
        ("enable.idempotence", "true".to_string()),
        ("compression.type", "zstd".to_string()),
        ("linger.ms", "5".to_string()),
        (
            "statistics.interval.ms",
            crate::observe::STATISTICS_INTERVAL_MS.to_string(),
        ),
    ];
    for (key, value) in defaults {
        if !kafka.librdkafka.contains_key(key) {
            config.set(key, value);
        }
    }
    Ok(config)
}

/// A `read_committed` consumer configuration that never commits on its own.
///
/// The consumer is a static group member (`group.instance.id`): a replica restarted with the
/// same instance id gets its partitions back at once instead of after a rebalance.
pub(crate) fn consumer_config(kafka: &KafkaConfig, group_id: &str, instance_id: &str) -> anyhow::Result<ClientConfig> {
    let mut config = client_config(kafka)?;
    config.set("group.instance.id", instance_id);
    let defaults = [
        ("group.id", group_id),
        ("enable.auto.commit", "false"),
        ("enable.auto.offset.store", "false"),
        ("isolation.level", "read_committed"),
        ("auto.offset.reset", "earliest"),
        ("session.timeout.ms", "30000"),
        ("statistics.interval.ms", crate::observe::STATISTICS_INTERVAL_MS),
    ];
    for (key, value) in defaults {
        if !kafka.librdkafka.contains_key(key) || key == "group.id" || key == "isolation.level" {
            config.set(key, value);
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_and_overrides_pass_through() {
        let mut kafka = KafkaConfig {
            bootstrap_servers: "b1:9093,b2:9093".into(),
            security_protocol: "sasl_ssl".into(),
            sasl: Some(config::SaslConfig {
                mechanism: "SCRAM-SHA-512".into(),
                username: "newswire".into(),
                password: Some("secret".into()),
                password_file: None,
            }),
            tls: Some(config::TlsConfig {
                ca_location: Some("/etc/kafka/ca.crt".into()),
                certificate_location: None,
                key_location: None,
                key_password: None,
            }),
            ..Default::default()
        };
        kafka.librdkafka.insert("client.rack".into(), "eu-west-1a".into());
        kafka.librdkafka.insert("compression.type".into(), "lz4".into());
        let config = transactional_producer_config(&kafka, "newswire-cleaner-0", 30_000).unwrap();
        assert_eq!(config.get("bootstrap.servers"), Some("b1:9093,b2:9093"));
        assert_eq!(config.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(config.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(config.get("sasl.password"), Some("secret"));
        assert_eq!(config.get("ssl.ca.location"), Some("/etc/kafka/ca.crt"));
        assert_eq!(config.get("client.rack"), Some("eu-west-1a"));
        assert_eq!(config.get("compression.type"), Some("lz4"), "an explicit override wins");
        assert_eq!(config.get("enable.idempotence"), Some("true"));
        assert_eq!(config.get("transactional.id"), Some("newswire-cleaner-0"));

        let consumer = consumer_config(&kafka, "g", "i").unwrap();
        assert_eq!(consumer.get("isolation.level"), Some("read_committed"));
        assert_eq!(consumer.get("enable.auto.commit"), Some("false"));
    }

    #[test]
    fn sasl_without_password_is_an_error() {
        let kafka = KafkaConfig {
            sasl: Some(config::SaslConfig {
                mechanism: "PLAIN".into(),
                username: "u".into(),
                password: None,
                password_file: None,
            }),
            ..Default::default()
        };
        assert!(client_config(&kafka).is_err());
    }
}
