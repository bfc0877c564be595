//! What the runtime tells about itself: librdkafka statistics and delivery reports as
//! Prometheus metrics, and the W3C trace context that travels with each record.

use rdkafka::ClientContext;
use rdkafka::message::{DeliveryResult, Message};
use rdkafka::producer::ProducerContext;
use rdkafka::statistics::Statistics;
use telemetry::KafkaMetrics;

/// The Kafka header that carries a record's trace context.
pub const TRACEPARENT: &str = "traceparent";

/// How often librdkafka reports its statistics, unless `statistics.interval.ms` is set in the
/// `librdkafka` overrides.
pub(crate) const STATISTICS_INTERVAL_MS: &str = "5000";

/// A producer's context: counts failed deliveries and exports the producer queue depth.
pub(crate) struct ProducerObserver {
    pub(crate) metrics: KafkaMetrics,
}

impl ClientContext for ProducerObserver {
    fn stats(&self, statistics: Statistics) {
        self.metrics
            .producer_queue_messages
            .set(i64::try_from(statistics.msg_cnt).unwrap_or(i64::MAX));
    }
}

impl ProducerContext for ProducerObserver {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _opaque: ()) {
        if let Err((err, message)) = result {
            self.metrics.delivery_errors.inc();
            tracing::warn!(topic = message.topic(), error = %err, "A record was not delivered.");
        }
    }
}

/// The lag of every partition the consumer is assigned: records on the partition (up to the
/// last stable offset, as the consumer reads committed records only) that the stage has not
/// taken yet.
///
/// librdkafka's own `consumer_lag` counts from the consumer's committed offset, which a
/// transactional stage never updates (its offsets are committed by the producer), and a
/// consumer at the end of a transactional topic is always one short of it (the commit
/// marker). So the lag is counted from the offset after the last record handed to the stage,
/// and a partition whose fetch position reached the end with nothing queued has a lag of 0.
pub(crate) fn consumer_lags(statistics: &Statistics) -> Vec<(String, i32, i64)> {
    let mut lags = Vec::new();
    for (topic, stats) in &statistics.topics {
        for (partition, p) in &stats.partitions {
            // Partition -1 is librdkafka's internal "unassigned" queue.
            if *partition < 0 || !p.desired {
                continue;
            }
            let end = if p.ls_offset >= 0 { p.ls_offset } else { p.hi_offset };
            if end < 0 {
                continue;
            }
            let at_end = p.fetchq_cnt == 0 && p.next_offset >= end;
            let taken = if p.app_offset >= 0 {
                p.app_offset
            } else {
                p.committed_offset
            };
            let lag = match (at_end, taken >= 0) {
                (true, _) => 0,
                (false, true) => (end - taken).max(0),
                (false, false) => continue,
            };
            lags.push((topic.clone(), *partition, lag));
        }
    }
    lags.sort();
    lags
}

/// Watches a consumer's partitions for a transaction that never ends.
///
/// A read_committed consumer stops at a partition's last stable offset (LSO) until the open
/// transaction there is committed or aborted. The broker aborts a transaction left open past
/// its producer's `transaction.timeout.ms`, so the LSO of a healthy partition never stays
/// behind its high watermark for long. When it does, the broker has lost the transaction's
/// marker (a *hanging transaction*; Kafka has been seen to skip the markers of a transaction
/// it completes while restarting, before it knows the partitions' leaders), and the consumer
/// waits forever: no error, no progress. The watch reports such a partition once the
/// consumer has read everything before the LSO and the LSO has not moved for `after`.
#[derive(Debug)]
pub(crate) struct HangingWatch {
    after: std::time::Duration,
    /// Per partition: the LSO it is blocked at, and since when.
    blocked: std::sync::Mutex<std::collections::HashMap<(String, i32), (i64, std::time::Instant)>>,
}

/// A partition blocked behind a hanging transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hanging {
    pub topic: String,
    pub partition: i32,
    /// The last stable offset the consumer cannot pass.
    pub stable_offset: i64,
    /// The partition's high watermark.
    pub high_watermark: i64,
    pub for_secs: u64,
}

impl std::fmt::Display for Hanging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "partition {} of {} is blocked by a transaction that never ended: its last stable offset has stayed at \
             {} for {} s, below its high watermark {}, so read_committed consumers cannot pass it (a hanging \
             transaction: the broker lost its commit or abort marker). Find and abort it with Kafka's tool: \
             kafka-transactions.sh --bootstrap-server <broker> find-hanging --broker-id <leader of the partition>, \
             then kafka-transactions.sh --bootstrap-server <broker> abort --topic {} --partition {} --start-offset \
             <its start offset>",
            self.partition,
            self.topic,
            self.stable_offset,
            self.for_secs,
            self.high_watermark,
            self.topic,
            self.partition
        )
    }
}

impl HangingWatch {
    pub(crate) fn new(after: std::time::Duration) -> HangingWatch {
        HangingWatch {
            after,
            blocked: std::sync::Mutex::default(),
        }
    }

    /// Takes in a statistics report; returns the partitions blocked for at least `after`.
    pub(crate) fn observe(&self, statistics: &Statistics) -> Vec<Hanging> {
        let partitions = statistics.topics.iter().flat_map(|(topic, stats)| {
            stats
                .partitions
                .iter()
                .filter(|(partition, p)| **partition >= 0 && p.desired)
                .map(move |(partition, p)| PartitionView {
                    topic,
                    partition: *partition,
                    stable_offset: p.ls_offset,
                    high_watermark: p.hi_offset,
                    next_offset: p.next_offset,
                    queued: p.fetchq_cnt,
                })
        });
        self.observe_at(partitions, std::time::Instant::now())
    }

    fn observe_at<'a>(
        &self,
        partitions: impl Iterator<Item = PartitionView<'a>>,
        now: std::time::Instant,
    ) -> Vec<Hanging> {
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for p in partitions {
            let key = (p.topic.to_string(), p.partition);
            // Everything before the LSO is read, and there is more after it.
            let waiting = p.stable_offset >= 0
                && p.high_watermark > p.stable_offset
                && p.next_offset >= p.stable_offset
                && p.queued == 0;
            if !waiting {
                blocked.remove(&key);
                continue;
            }
            seen.insert(key.clone());
            let since = match blocked.get(&key) {
                Some(&(offset, since)) if offset == p.stable_offset => since,
                _ => {
                    blocked.insert(key, (p.stable_offset, now));
                    now
                }
            };
            let waited = now.saturating_duration_since(since);
            if waited >= self.after {
                out.push(Hanging {
                    topic: p.topic.to_string(),
                    partition: p.partition,
                    stable_offset: p.stable_offset,
                    high_watermark: p.high_watermark,
                    for_secs: waited.as_secs(),
                });
            }
        }
        // Partitions no longer reported (revoked) are forgotten.
        blocked.retain(|key, _| seen.contains(key));
        out
    }
}

/// What the watch needs of one partition's statistics.
struct PartitionView<'a> {
    topic: &'a str,
    partition: i32,
    stable_offset: i64,
    high_watermark: i64,
    next_offset: i64,
    queued: i64,
}

/// A W3C trace context (`traceparent: 00-<trace id>-<parent id>-<flags>`).
///
/// The fetcher starts a trace for each item it publishes; every stage copies the trace id to
/// what it writes (outputs and dead letters) under a new span id of its own, and logs the
/// trace id with each record, so that one article can be followed across services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    /// The trace: the same for every record derived from one fetched item.
    pub trace_id: [u8; 16],
    /// This hop's span.
    pub span_id: [u8; 8],
    /// Trace flags (bit 0: sampled).
    pub flags: u8,
}

impl TraceContext {
    /// A new trace, sampled.
    pub fn new_root() -> Self {
        Self {
            trace_id: nonzero(rand::random),
            span_id: nonzero(rand::random),
            flags: 1,
        }
    }

    /// The next hop of the same trace: same trace id and flags, a new span id.
    pub fn child(&self) -> Self {
        Self {
            span_id: nonzero(rand::random),
            ..*self
        }
    }

    /// Parses a `traceparent` value; `None` when it is not a valid version-00 value.
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.trim().split('-');
        let (version, trace, span, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version != "00" || parts.next().is_some() {
            return None;
        }
        let mut trace_id = [0u8; 16];
        let mut span_id = [0u8; 8];
        let mut flag = [0u8; 1];
        hex::decode_to_slice(trace, &mut trace_id).ok()?;
        hex::decode_to_slice(span, &mut span_id).ok()?;
        hex::decode_to_slice(flags, &mut flag).ok()?;
        if trace_id == [0; 16] || span_id == [0; 8] || trace.chars().any(|c| c.is_ascii_uppercase()) {
            return None;
        }
        Some(Self {
            trace_id,
            span_id,
            flags: flag[0],
        })
    }

    /// The trace id as 32 lowercase hex digits (what the logs show).
    pub fn trace_id_hex(&self) -> String {
        hex::encode(self.trace_id)
    }

    /// The `traceparent` header value.
    pub fn header(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            hex::encode(self.trace_id),
            hex::encode(self.span_id),
            self.flags
        )
    }
}

/// Draws until the value is not all zeros (which W3C reserves as invalid).
fn nonzero<const N: usize>(draw: impl Fn() -> [u8; N]) -> [u8; N] {
    loop {
        let value = draw();
        if value != [0; N] {
            return value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stable_offset_stuck_below_the_high_watermark_is_reported_after_the_wait() {
        let watch = HangingWatch::new(std::time::Duration::from_secs(60));
        let t0 = std::time::Instant::now();
        let at = |secs: u64| t0 + std::time::Duration::from_secs(secs);
        let view = |partition: i32, stable: i64, high: i64, next: i64, queued: i64| PartitionView {
            topic: "news.unique",
            partition,
            stable_offset: stable,
            high_watermark: high,
            next_offset: next,
            queued,
        };
        // Partition 0 waits at its LSO 27 (high watermark 77); partition 1 is at its end;
        // partition 2 still has records queued before its LSO.
        let report = |secs, stable0| {
            watch.observe_at(
                [
                    view(0, stable0, 77, stable0, 0),
                    view(1, 10, 10, 10, 0),
                    view(2, 5, 9, 5, 3),
                ]
                .into_iter(),
                at(secs),
            )
        };
        assert!(report(0, 27).is_empty());
        assert!(report(59, 27).is_empty(), "not before the wait");
        let found = report(61, 27);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].partition, found[0].stable_offset, found[0].for_secs),
            (0, 27, 61)
        );
        assert!(found[0].to_string().contains("kafka-transactions.sh"));
        // The LSO moves (an open transaction ended): the clock starts again.
        assert!(report(62, 30).is_empty());
        assert!(report(100, 30).is_empty());
        assert_eq!(report(123, 30).len(), 1);
        // A consumer that has not read up to the LSO yet is not blocked by it.
        let watch = HangingWatch::new(std::time::Duration::ZERO);
        assert!(watch.observe_at([view(0, 27, 77, 20, 0)].into_iter(), at(0)).is_empty());
        assert!(watch.observe_at([view(0, -1, 77, 20, 0)].into_iter(), at(0)).is_empty());
    }

    #[test]
    fn traceparent_round_trips_and_children_keep_the_trace() {
        let root = TraceContext::new_root();
        let header = root.header();
        assert_eq!(header.len(), 55, "{header}");
        assert_eq!(TraceContext::parse(&header), Some(root));
        let child = root.child();
        assert_eq!(child.trace_id, root.trace_id);
        assert_ne!(child.span_id, root.span_id);
        assert!(child.header().starts_with(&format!("00-{}-", root.trace_id_hex())));
    }

    #[test]
    fn invalid_traceparents_are_refused() {
        let check = |value: &str, valid: bool| assert_eq!(TraceContext::parse(value).is_some(), valid, "{value}");
        check("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true);
        check("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", true);
        check("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false);
        check("00-00000000000000000000000000000000-00f067aa0ba902b7-01", false);
        check("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false);
        check("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false);
        check("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", false);
        check("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", false);
        check("garbage", false);
        check("", false);
    }
}
