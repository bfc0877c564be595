//! Transactional publishing for sources (the fetcher), which have no input topic.

use std::time::Duration;

use anyhow::Context as _;
use config::{KafkaConfig, RuntimeConfig};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, Producer};
use telemetry::KafkaMetrics;

use crate::batch::Message;
use crate::kafka::transactional_producer_config;
use crate::observe::ProducerObserver;
use crate::run::{abort, retrying, send_message};
use crate::stage::StateChange;

const KAFKA_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a publish failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The transaction was aborted; nothing is visible and the producer can go on.
    #[error("publishing {records} records failed and was rolled back: {reason}")]
    Aborted { records: usize, reason: String },
    /// The producer cannot go on (fenced, or the abort failed).
    #[error("the producer failed for good: {0}")]
    Fatal(String),
}

/// A record to publish.
#[derive(Debug, Clone)]
pub struct OutgoingRecord {
    pub key: String,
    pub payload: Vec<u8>,
}

/// Publishes a batch of records and the state changes that go with it atomically: either
/// all of them become visible to read_committed consumers, or none.
///
/// Each record starts a trace: it carries a new W3C `traceparent` header, which the stages
/// downstream carry on.
pub struct Publisher {
    producer: BaseProducer<ProducerObserver>,
    topic: String,
    state_topic: Option<String>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl Publisher {
    /// Creates the producer and fences any earlier incarnation of this instance.
    pub fn new(
        kafka: &KafkaConfig,
        runtime: &RuntimeConfig,
        service: &str,
        topic: &str,
        state_topic: Option<&str>,
    ) -> anyhow::Result<Self> {
        let transactional_id = runtime.transactional_id(service);
        let producer: BaseProducer<ProducerObserver> =
            transactional_producer_config(kafka, &transactional_id, runtime.transaction_timeout_ms)?
                .create_with_context(ProducerObserver {
                    metrics: KafkaMetrics::get(service),
                })
                .context("creating the Kafka producer")?;
        producer
            .init_transactions(KAFKA_CALL_TIMEOUT)
            .with_context(|| format!("initialising transactions for {transactional_id}"))?;
        Ok(Self {
            producer,
            topic: topic.to_string(),
            state_topic: state_topic.map(str::to_string),
        })
    }

    /// Publishes `records` and `state` in one transaction. Blocking. On error the transaction
    /// is aborted and nothing is visible; after [`PublishError::Aborted`] the caller keeps its
    /// old state and may retry, after [`PublishError::Fatal`] the producer is unusable and the
    /// service must restart (its successor fences this one).
    pub fn publish(&self, records: &[OutgoingRecord], state: &[StateChange]) -> Result<(), PublishError> {
        let mut messages: Vec<Message> = records
            .iter()
            .map(|r| Message::traced(&self.topic, &r.key, r.payload.clone()))
            .collect();
        match (&self.state_topic, state.is_empty()) {
            (_, true) => {}
            (Some(topic), false) => messages.extend(state.iter().map(|change| Message::state(topic, change))),
            (None, false) => {
                return Err(PublishError::Aborted {
                    records: records.len(),
                    reason: "state changes but no state topic".into(),
                });
            }
        }
        self.publish_messages(&messages)
    }

    /// Publishes `messages` (each to its own topic, with its own headers: the batch core's
    /// outputs, routed copies and dead letters) in one transaction. Blocking; errors as
    /// [`Publisher::publish`].
    pub fn publish_messages(&self, messages: &[Message]) -> Result<(), PublishError> {
        let attempt = || -> Result<(), KafkaError> {
            self.producer.begin_transaction()?;
            for message in messages {
                send_message(&self.producer, message)?;
            }
            retrying("commit_transaction", || {
                self.producer.commit_transaction(KAFKA_CALL_TIMEOUT)
            })
        };
        let Err(err) = attempt() else {
            return Ok(());
        };
        if matches!(&err, KafkaError::Transaction(e) if e.is_fatal()) {
            return Err(PublishError::Fatal(err.to_string()));
        }
        match abort(&self.producer) {
            Ok(()) => Err(PublishError::Aborted {
                records: messages.len(),
                reason: err.to_string(),
            }),
            Err(abort_err) => Err(PublishError::Fatal(format!("{err}; then aborting failed: {abort_err}"))),
        }
    }
}
