//! Restoring a stage's state from its compacted changelog topic.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use config::KafkaConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::kafka::client_config;

/// How long a restore may go without reaching the end of the changelog before it fails.
const RESTORE_STALL_TIMEOUT: Duration = Duration::from_secs(120);

/// Reads the whole changelog `topic` (committed records only, in order per partition) and
/// calls `apply` for each entry; `None` is a deletion. Returns the number of entries read.
///
/// The changelog is written in the same transactions as the stage's outputs and offsets, so
/// what is committed here is exactly the state as of the committed input offsets.
pub fn restore_state(
    kafka: &KafkaConfig,
    topic: &str,
    mut apply: impl FnMut(&[u8], Option<&[u8]>),
) -> anyhow::Result<u64> {
    let mut config = client_config(kafka)?;
    config
        .set("group.id", "newswire-restore")
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "true");
    let consumer: BaseConsumer = config.create().context("creating the restore consumer")?;
    let timeout = Duration::from_secs(30);
    let count = crate::admin::wait_for_partitions(consumer.client(), topic)
        .with_context(|| format!("the state topic {topic}"))?;
    let partitions: Vec<i32> = (0..count).filter_map(|p| i32::try_from(p).ok()).collect();
    let mut assignment = TopicPartitionList::new();
    let mut pending: HashSet<i32> = HashSet::new();
    for &partition in &partitions {
        let (low, high) = watermarks(&consumer, topic, partition, timeout)?;
        if high > low {
            assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
            pending.insert(partition);
        }
    }
    if pending.is_empty() {
        return Ok(0);
    }
    consumer.assign(&assignment)?;
    let mut entries = 0u64;
    let mut last_progress = Instant::now();
    while !pending.is_empty() {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(message)) => {
                apply(message.key().unwrap_or_default(), message.payload());
                entries += 1;
                last_progress = Instant::now();
            }
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                pending.remove(&partition);
            }
            Some(Err(err)) => {
                if let Some((code, reason)) = consumer.client().fatal_error() {
                    anyhow::bail!("restoring {topic}: the consumer failed fatally ({code:?}): {reason}");
                }
                tracing::warn!(topic, error = %err, "Error while restoring state.");
            }
            None => {}
        }
        if last_progress.elapsed() > RESTORE_STALL_TIMEOUT {
            anyhow::bail!(
                "restoring {topic} made no progress for {RESTORE_STALL_TIMEOUT:?}{}",
                stuck_partitions(&consumer, topic, &pending)
            );
        }
    }
    Ok(entries)
}

/// Where the restore stands on each partition it has not finished: a position below the high
/// watermark that does not move is a partition blocked by a transaction that never ended (the
/// broker lost its marker), which only aborting that transaction cures.
fn stuck_partitions(consumer: &BaseConsumer, topic: &str, pending: &HashSet<i32>) -> String {
    let positions = consumer.position().unwrap_or_default();
    let mut parts: Vec<String> = Vec::new();
    let mut sorted: Vec<i32> = pending.iter().copied().collect();
    sorted.sort_unstable();
    for partition in sorted {
        let position = positions
            .find_partition(topic, partition)
            .and_then(|p| p.offset().to_raw())
            .unwrap_or(-1);
        let high = consumer
            .fetch_watermarks(topic, partition, Duration::from_secs(5))
            .map_or(-1, |(_, high)| high);
        parts.push(format!("partition {partition} at offset {position} of {high}"));
    }
    format!(
        " ({}); a read_committed position that stays below the high watermark is blocked by a transaction \
         that never ended (a hanging transaction): see `kafka-transactions.sh find-hanging` and `abort`",
        parts.join(", ")
    )
}

/// How long a partition may have no leader before a restore gives up on it.
const LEADER_WAIT: Duration = Duration::from_secs(30);

/// The low and high watermarks of a partition. A topic created a moment ago (by the topic Job,
/// or `newswire topics create` just before the services start) may not have a leader for every
/// partition yet, and the broker answers "not leader for partition": ask again for up to
/// [`LEADER_WAIT`] before failing.
fn watermarks(consumer: &BaseConsumer, topic: &str, partition: i32, timeout: Duration) -> anyhow::Result<(i64, i64)> {
    let deadline = Instant::now() + LEADER_WAIT;
    loop {
        match consumer.fetch_watermarks(topic, partition, timeout) {
            Ok(marks) => return Ok(marks),
            Err(err) if Instant::now() < deadline => {
                tracing::debug!(topic, partition, error = %err, "Partition offsets not available yet; asking again.");
                std::thread::sleep(Duration::from_millis(250));
            }
            Err(err) => {
                return Err(err).with_context(|| format!("reading the offsets of {topic} partition {partition}"));
            }
        }
    }
}
