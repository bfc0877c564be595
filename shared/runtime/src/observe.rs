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
