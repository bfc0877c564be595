//! Sharing a keyed list between the replicas of a service through a consumer group: the
//! list lives in a compacted topic, each replica joins the group, and Kafka's partition
//! assignment decides which replica owns which entries. When a replica leaves or dies (after
//! the session timeout), its partitions, and so its entries, go to the others. No
//! coordinator of our own.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use config::KafkaConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};

use crate::kafka::client_config;

/// The partition of `key` among `partitions`: a hash of our own (first four bytes of
/// SHA-256), so that it does not depend on a client's default partitioner.
pub fn partition_for(key: &str, partitions: i32) -> i32 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    (n % partitions.max(1) as u32) as i32
}

/// Writes `(key, value)` entries to `topic`, each to [`partition_for`] its key, and waits
/// until they are acknowledged. A `None` value deletes the key (a tombstone).
pub fn publish_keyed(kafka: &KafkaConfig, topic: &str, entries: &[(String, Option<Vec<u8>>)]) -> anyhow::Result<()> {
    let producer: ThreadedProducer<DefaultProducerContext> = client_config(kafka)?
        .set("enable.idempotence", "true")
        .create()
        .context("creating the producer")?;
    let partitions = partition_count(&producer, topic)?;
    for (key, value) in entries {
        let mut record = BaseRecord::<str, [u8]>::to(topic)
            .key(key.as_str())
            .partition(partition_for(key, partitions));
        if let Some(value) = value {
            record = record.payload(value.as_slice());
        }
        let mut pending = record;
        loop {
            match producer.send(pending) {
                Ok(()) => break,
                Err((
                    rdkafka::error::KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull),
                    back,
                )) => {
                    std::thread::sleep(Duration::from_millis(50));
                    pending = back;
                }
                Err((err, _)) => return Err(err).with_context(|| format!("writing {key} to {topic}")),
            }
        }
    }
    producer.flush(Duration::from_secs(30)).context("flushing")?;
    Ok(())
}

fn partition_count(producer: &ThreadedProducer<DefaultProducerContext>, topic: &str) -> anyhow::Result<i32> {
    let count = crate::admin::wait_for_partitions(producer.client(), topic)?;
    i32::try_from(count).context("partition count")
}

#[derive(Debug, Default)]
struct Owned {
    /// The assigned partitions, once the group has assigned any.
    assigned: Option<Vec<i32>>,
    /// Entries of the assigned partitions: partition -> key -> value.
    entries: BTreeMap<i32, HashMap<String, Vec<u8>>>,
    /// Partitions assigned whose end has been read since their assignment.
    caught_up: Vec<i32>,
    /// Set when the group consumer failed fatally: it owns nothing any more.
    failed: Option<String>,
}

/// This replica's membership in the group that shares `topic`: a background thread stays in
/// the group and reads the entries of the partitions assigned to it. Dropping it leaves the
/// group at once (the others take the partitions over without waiting for a timeout).
pub struct Membership {
    owned: Arc<Mutex<Owned>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Membership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Membership").finish_non_exhaustive()
    }
}

impl Membership {
    /// Joins `group` over `topic`.
    pub fn join(kafka: &KafkaConfig, group: &str, topic: &str) -> anyhow::Result<Membership> {
        let mut config = client_config(kafka)?;
        config
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "true")
            .set("isolation.level", "read_committed");
        // A dead replica's feeds wait this long for another replica; `kafka.librdkafka` may
        // say otherwise.
        for (key, value) in [("session.timeout.ms", "10000"), ("heartbeat.interval.ms", "3000")] {
            if !kafka.librdkafka.contains_key(key) {
                config.set(key, value);
            }
        }
        let consumer: BaseConsumer = config.create().context("creating the group consumer")?;
        consumer
            .subscribe(&[topic])
            .with_context(|| format!("subscribing to {topic}"))?;
        let owned = Arc::new(Mutex::new(Owned::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (owned, stop, topic) = (owned.clone(), stop.clone(), topic.to_string());
            std::thread::Builder::new()
                .name("membership".into())
                .spawn(move || member_loop(consumer, &topic, &owned, &stop))
                .context("starting the membership thread")?
        };
        Ok(Membership {
            owned,
            stop,
            thread: Some(thread),
        })
    }

    /// The entries this replica owns now, or `None` before the group assigned anything (or
    /// while an assigned partition is still being read).
    pub fn owned(&self) -> Option<Vec<(String, Vec<u8>)>> {
        let owned = self.owned.lock().unwrap_or_else(|e| e.into_inner());
        let assigned = owned.assigned.as_ref()?;
        if assigned.iter().any(|p| !owned.caught_up.contains(p)) {
            return None;
        }
        Some(
            owned
                .entries
                .values()
                .flat_map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())))
                .collect(),
        )
    }

    /// Whether `key` is an entry of a partition assigned to this replica now.
    pub fn owns(&self, key: &str) -> bool {
        let owned = self.owned.lock().unwrap_or_else(|e| e.into_inner());
        owned.entries.values().any(|m| m.contains_key(key))
    }

    /// Why the membership ended, if its consumer failed fatally (fenced, or any other fatal
    /// client error). The replica then owns nothing and must restart to rejoin.
    pub fn failure(&self) -> Option<String> {
        let owned = self.owned.lock().unwrap_or_else(|e| e.into_inner());
        owned.failed.clone()
    }

    /// The partitions assigned to this replica (empty before the first assignment).
    pub fn partitions(&self) -> Vec<i32> {
        let owned = self.owned.lock().unwrap_or_else(|e| e.into_inner());
        owned.assigned.clone().unwrap_or_default()
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn member_loop(consumer: BaseConsumer, topic: &str, owned: &Mutex<Owned>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        let polled = consumer.poll(Duration::from_millis(100));
        let assignment: Option<Vec<i32>> = consumer.assignment().ok().map(|list| {
            let mut partitions: Vec<i32> = list
                .elements()
                .iter()
                .filter(|e| e.topic() == topic)
                .map(|e| e.partition())
                .collect();
            partitions.sort_unstable();
            partitions
        });
        let mut owned = owned.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(partitions) = assignment
            && (owned.assigned.as_ref() != Some(&partitions))
            && (!partitions.is_empty() || owned.assigned.is_some())
        {
            tracing::info!(topic, partitions = ?partitions, "Partition assignment changed.");
            owned.entries.retain(|p, _| partitions.contains(p));
            owned.caught_up.retain(|p| partitions.contains(p));
            // A partition with nothing in it is caught up at once.
            for &partition in &partitions {
                let empty = consumer
                    .fetch_watermarks(topic, partition, Duration::from_secs(5))
                    .is_ok_and(|(low, high)| high <= low);
                if empty && !owned.caught_up.contains(&partition) {
                    owned.caught_up.push(partition);
                }
            }
            owned.assigned = Some(partitions);
        }
        match polled {
            Some(Ok(message)) => {
                let Some(key) = message.key().and_then(|k| std::str::from_utf8(k).ok()) else {
                    continue;
                };
                let partition = message.partition();
                let entries = owned.entries.entry(partition).or_default();
                match message.payload() {
                    Some(value) => entries.insert(key.to_string(), value.to_vec()),
                    None => entries.remove(key),
                };
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(partition))) if !owned.caught_up.contains(&partition) => {
                owned.caught_up.push(partition);
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => {}
            Some(Err(err)) => tracing::warn!(topic, error = %err, "Group consumer error."),
            None => {}
        }
        if let Some((code, reason)) = consumer.client().fatal_error() {
            let why = format!("the group consumer of {topic} failed fatally ({code:?}): {reason}");
            tracing::error!(topic, error = %why, "Left the group: this replica owns nothing until it restarts.");
            owned.entries.clear();
            owned.assigned = None;
            owned.failed = Some(why);
            return;
        }
    }
    // Leaving the group explicitly hands the partitions over at once.
    consumer.unsubscribe();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_spread_and_stay_put() {
        let mut counts = [0; 6];
        for i in 0..6000 {
            counts[partition_for(&format!("https://feeds{i}.example/rss"), 6) as usize] += 1;
        }
        assert!(counts.iter().all(|c| (800..1200).contains(c)), "{counts:?}");
        assert_eq!(
            partition_for("https://a.example/rss", 6),
            partition_for("https://a.example/rss", 6)
        );
    }
}
