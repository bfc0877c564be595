//! Service configuration: one YAML file per service plus environment overrides.
//!
//! Every service reads its configuration struct from an optional YAML file, then applies
//! environment variables named `NEWSWIRE__<SECTION>__<KEY>` (double underscores separate
//! levels: `NEWSWIRE__KAFKA__BOOTSTRAP_SERVERS=broker:9092`). Unknown keys are errors, never
//! silent defaults. The shared parts (Kafka connection, runtime knobs) live here.

use std::collections::BTreeMap;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Yaml};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The prefix of environment overrides (`NEWSWIRE__KAFKA__BOOTSTRAP_SERVERS`).
pub const ENV_PREFIX: &str = "NEWSWIRE__";

/// Loads a service configuration from an optional YAML file and the environment.
pub fn load<T: DeserializeOwned>(file: Option<&Path>) -> anyhow::Result<T> {
    let mut figment = Figment::new();
    if let Some(path) = file {
        if !path.is_file() {
            anyhow::bail!("configuration file {} does not exist", path.display());
        }
        figment = figment.merge(Yaml::file_exact(path));
    }
    figment = figment.merge(Env::prefixed(ENV_PREFIX).split("__"));
    figment.extract().map_err(|err| {
        let origin = file.map_or_else(|| "the environment".to_string(), |p| p.display().to_string());
        anyhow::anyhow!("invalid configuration ({origin}): {err}")
    })
}

/// How to reach the Kafka cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// `bootstrap_servers`: comma-separated `host:port` list of brokers.
    #[serde(default = "default_bootstrap")]
    pub bootstrap_servers: String,
    /// `security_protocol`: `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl`.
    #[serde(default = "default_security_protocol")]
    pub security_protocol: String,
    /// `sasl`: SASL credentials, for `sasl_*` protocols.
    #[serde(default)]
    pub sasl: Option<SaslConfig>,
    /// `tls`: certificates, for `ssl` and `sasl_ssl`.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// `topics`: the topic names, so a deployment can rename or prefix them.
    #[serde(default)]
    pub topics: TopicNames,
    /// `librdkafka`: raw librdkafka client properties, applied last; the escape hatch for
    /// anything not modelled here (`socket.keepalive.enable`, `client.rack`, ...).
    #[serde(default)]
    pub librdkafka: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            bootstrap_servers: default_bootstrap(),
            security_protocol: default_security_protocol(),
            sasl: None,
            tls: None,
            topics: TopicNames::default(),
            librdkafka: BTreeMap::new(),
        }
    }
}

fn default_bootstrap() -> String {
    "127.0.0.1:9092".to_string()
}

fn default_security_protocol() -> String {
    "plaintext".to_string()
}

/// SASL credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaslConfig {
    /// `mechanism`: `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub mechanism: String,
    /// `username`.
    pub username: String,
    /// `password`; prefer `password_file` so that the secret stays out of config maps.
    #[serde(default)]
    pub password: Option<String>,
    /// `password_file`: a file holding the password (a mounted Kubernetes Secret).
    #[serde(default)]
    pub password_file: Option<String>,
}

/// TLS files, as paths (mounted Secrets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// `ca_location`: CA bundle that signs the brokers' certificates.
    #[serde(default)]
    pub ca_location: Option<String>,
    /// `certificate_location`: client certificate, for mutual TLS.
    #[serde(default)]
    pub certificate_location: Option<String>,
    /// `key_location`: client private key, for mutual TLS.
    #[serde(default)]
    pub key_location: Option<String>,
    /// `key_password`: the private key's password, if any.
    #[serde(default)]
    pub key_password: Option<String>,
}

/// Topic names. Defaults are the names in the design (`news.raw`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopicNames {
    /// `raw`: fetcher output.
    pub raw: String,
    /// `cleaned`: cleaner output.
    pub cleaned: String,
    /// `unique`: deduper output.
    pub unique: String,
    /// `enriched`: tagger output, what users consume.
    pub enriched: String,
    /// `dlq`: poison records.
    pub dlq: String,
    /// `fetcher_state`: the fetcher's compacted state changelog.
    pub fetcher_state: String,
    /// `deduper_state`: the deduper's compacted state changelog.
    pub deduper_state: String,
    /// `alerts`: topic-spike events, written by the alerter.
    pub alerts: String,
    /// `alerter_state`: the alerter's compacted state changelog.
    pub alerter_state: String,
    /// `feeds`: the compacted feed list (key: feed URL), shared by fetcher replicas; its
    /// partitions, assigned by the fetchers' consumer group, decide which replica polls a feed.
    pub feeds: String,
}

impl Default for TopicNames {
    fn default() -> Self {
        Self::with_prefix("")
    }
}

impl TopicNames {
    /// The environment that gives a service these names (`NEWSWIRE__KAFKA__TOPICS__RAW=…` and
    /// so on, every field), as tests, the soak and benchmarks start services with.
    pub fn to_env(&self) -> Vec<(String, String)> {
        let fields = serde_yaml::to_value(self).expect("topic names serialise");
        fields
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(field, name)| {
                Some((
                    format!("{ENV_PREFIX}KAFKA__TOPICS__{}", field.as_str()?.to_uppercase()),
                    name.as_str()?.to_string(),
                ))
            })
            .collect()
    }

    /// The default names with a prefix in front of each (`""` gives the defaults); tests use a
    /// random prefix so that runs never see each other's records.
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            raw: format!("{prefix}news.raw"),
            cleaned: format!("{prefix}news.cleaned"),
            unique: format!("{prefix}news.unique"),
            enriched: format!("{prefix}news.enriched"),
            dlq: format!("{prefix}news.dlq"),
            fetcher_state: format!("{prefix}news.fetcher.state"),
            deduper_state: format!("{prefix}news.deduper.state"),
            alerts: format!("{prefix}news.alerts"),
            alerter_state: format!("{prefix}news.alerter.state"),
            feeds: format!("{prefix}news.feeds"),
        }
    }
}

/// How a stage service runs: identity, batching, endpoints, shutdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// `instance_id`: this replica's stable name. The Kafka transactional id is derived from
    /// it, so a restarted replica fences its previous incarnation at once instead of leaving
    /// its open transaction to time out. Defaults to the host name (the pod name on
    /// Kubernetes).
    pub instance_id: Option<String>,
    /// `group_id`: the consumer group; defaults to `newswire-<service>`.
    pub group_id: Option<String>,
    /// `listen_addr`: where `/metrics`, `/healthz` and `/readyz` are served.
    pub listen_addr: String,
    /// `batch_max_records`: records per transaction at most.
    pub batch_max_records: usize,
    /// `batch_max_wait_ms`: how long to wait for a batch to fill before committing it.
    pub batch_max_wait_ms: u64,
    /// `transaction_timeout_ms`: the broker aborts a transaction left open this long (a
    /// replica that died mid-batch); downstream read_committed consumers wait at most this.
    pub transaction_timeout_ms: u64,
    /// `hanging_transaction_secs`: a partition of the stage's input whose last stable offset
    /// stays this long below its high watermark, with everything before it read, is reported
    /// as blocked by a transaction that never ended (the broker lost its marker): `/healthz`
    /// fails and names it, and `newswire_<stage>_kafka_hanging_partitions` counts it. The
    /// broker aborts newswire's own transactions after `transaction_timeout_ms`, so nothing
    /// that is still going to end stays open this long.
    pub hanging_transaction_secs: u64,
    /// `stall_timeout_secs`: every Kafka call of a stage's loop has a timeout (30 s, retried
    /// at most three times); a call that has not come back after this long is a stuck client:
    /// `/healthz` fails, the log says which step, and the process exits 1 to be restarted.
    pub stall_timeout_secs: u64,
    /// `drain_timeout_secs`: on SIGTERM, how long the batch in flight may take to commit.
    /// Keep it below the consumer session timeout and the pod's termination grace period.
    pub drain_timeout_secs: u64,
    /// `exactly_once`: `false` makes a stage commit its outputs and its input offsets
    /// separately (outputs flushed, then offsets committed: at least once, a crash may
    /// repeat a batch). For measuring what transactions cost only; never in production.
    pub exactly_once: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            instance_id: None,
            group_id: None,
            listen_addr: "0.0.0.0:9464".to_string(),
            batch_max_records: 500,
            batch_max_wait_ms: 200,
            transaction_timeout_ms: 30_000,
            hanging_transaction_secs: 300,
            stall_timeout_secs: 300,
            drain_timeout_secs: 20,
            exactly_once: true,
        }
    }
}

impl RuntimeConfig {
    /// The instance id, falling back to the host name, then to the service name.
    pub fn instance_id(&self, service: &str) -> String {
        if let Some(id) = self.instance_id.as_ref().filter(|id| !id.is_empty()) {
            return id.clone();
        }
        std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.is_empty())
            .or_else(|| {
                std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|h| h.trim().to_string())
            })
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| service.to_string())
    }

    /// The consumer group.
    pub fn group_id(&self, service: &str) -> String {
        self.group_id.clone().unwrap_or_else(|| format!("newswire-{service}"))
    }

    /// The Kafka transactional id: stable for a replica across restarts, unique per replica.
    pub fn transactional_id(&self, service: &str) -> String {
        format!("{}-{}", self.group_id(service), self.instance_id(service))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        #[serde(default)]
        kafka: KafkaConfig,
        #[serde(default)]
        runtime: RuntimeConfig,
    }

    fn write(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    /// Runs a test that reads the process environment (every [`load`] does) inside figment's
    /// `Jail`, whose lock serializes it with the tests that set variables there: otherwise a
    /// parallel test's `NEWSWIRE__KAFKA__TOPICS__RAW` is read as this test's configuration.
    #[allow(clippy::result_large_err, reason = "figment's Jail returns its own error type")]
    fn with_environment_to_itself(test: impl FnOnce()) {
        figment::Jail::expect_with(|_| {
            test();
            Ok(())
        });
    }

    #[test]
    fn file_values_and_defaults() {
        with_environment_to_itself(|| {
            let file = write("kafka:\n  bootstrap_servers: broker:9093\n  topics:\n    raw: custom.raw\n");
            let config: Sample = load(Some(file.path())).unwrap();
            assert_eq!(config.kafka.bootstrap_servers, "broker:9093");
            assert_eq!(config.kafka.topics.raw, "custom.raw");
            assert_eq!(config.kafka.topics.enriched, "news.enriched");
            assert_eq!(config.runtime.batch_max_records, 500);
        });
    }

    #[test]
    #[allow(clippy::result_large_err, reason = "figment's Jail returns its own error type")]
    fn topic_names_as_environment_are_read_back() {
        let names = TopicNames::with_prefix("t-");
        let env = names.to_env();
        assert!(env.contains(&(
            "NEWSWIRE__KAFKA__TOPICS__DEDUPER_STATE".into(),
            "t-news.deduper.state".into()
        )));
        figment::Jail::expect_with(|jail| {
            for (key, value) in &env {
                jail.set_env(key, value);
            }
            let config: Sample = load(None).map_err(|e| figment::Error::from(e.to_string()))?;
            assert_eq!(config.kafka.topics, names, "every name came through the environment");
            assert_ne!(names, TopicNames::default());
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_errors() {
        with_environment_to_itself(|| {
            let file = write("kafka:\n  bootstrap_server: typo:9092\n");
            let err = load::<Sample>(Some(file.path())).unwrap_err().to_string();
            assert!(err.contains("bootstrap_server"), "{err}");
            let file = write("kafak: {}\n");
            assert!(load::<Sample>(Some(file.path())).is_err());
        });
    }

    #[test]
    fn missing_file_is_an_error() {
        let err = load::<Sample>(Some(Path::new("/nonexistent/newswire.yaml"))).unwrap_err();
        assert!(err.to_string().contains("does not exist"));
    }

    #[test]
    fn instance_id_prefers_configuration() {
        let runtime = RuntimeConfig {
            instance_id: Some("cleaner-7".into()),
            ..Default::default()
        };
        assert_eq!(runtime.instance_id("cleaner"), "cleaner-7");
        assert_eq!(runtime.group_id("cleaner"), "newswire-cleaner");
        assert_eq!(runtime.transactional_id("cleaner"), "newswire-cleaner-cleaner-7");
    }
}
