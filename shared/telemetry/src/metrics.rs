//! The metrics every stage has, whether it runs on Kafka or in the standalone pipeline.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts};

/// Counters and histograms of one stage, named `newswire_<stage>_...`.
#[derive(Clone)]
pub struct StageMetrics {
    /// Records taken from the stage's input.
    pub records_in: IntCounter,
    /// Records the stage produced.
    pub records_out: IntCounter,
    /// Records the stage dropped on purpose (a duplicate, an item seen before).
    pub records_dropped: IntCounter,
    /// Records that failed, by error kind (a small fixed set), sent to the DLQ.
    pub records_errored: IntCounterVec,
    /// Transactions, by outcome: `committed`, `aborted`.
    pub transactions: IntCounterVec,
    /// Time to process one record, in seconds.
    pub record_seconds: Histogram,
    /// Time from the first record of a batch to its commit, in seconds.
    pub batch_seconds: Histogram,
}

impl std::fmt::Debug for StageMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageMetrics").finish_non_exhaustive()
    }
}

impl StageMetrics {
    /// The metrics of `stage`, registered in the default registry on first use.
    pub fn get(stage: &str) -> StageMetrics {
        static ALL: OnceLock<Mutex<HashMap<String, StageMetrics>>> = OnceLock::new();
        let mut all = ALL
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        all.entry(stage.to_string())
            .or_insert_with(|| StageMetrics::register(stage))
            .clone()
    }

    fn register(stage: &str) -> StageMetrics {
        let name = |suffix: &str| format!("newswire_{stage}_{suffix}");
        let counter = |suffix: &str, help: &str| {
            let c = IntCounter::new(name(suffix), help).expect("valid metric");
            register(c.clone());
            c
        };
        let counter_vec = |suffix: &str, help: &str, label: &str| {
            let c = IntCounterVec::new(Opts::new(name(suffix), help), &[label]).expect("valid metric");
            register(c.clone());
            c
        };
        let histogram = |suffix: &str, help: &str, buckets: Vec<f64>| {
            let h =
                Histogram::with_opts(HistogramOpts::new(name(suffix), help).buckets(buckets)).expect("valid metric");
            register(h.clone());
            h
        };
        let metrics = StageMetrics {
            records_in: counter("records_in_total", "Records taken from the stage's input."),
            records_out: counter("records_out_total", "Records the stage produced."),
            records_dropped: counter(
                "records_dropped_total",
                "Records dropped on purpose (repeats, items seen before).",
            ),
            records_errored: counter_vec(
                "records_errored_total",
                "Records that failed and went to the DLQ, by error kind.",
                "kind",
            ),
            transactions: counter_vec("transactions_total", "Kafka transactions, by outcome.", "outcome"),
            record_seconds: histogram(
                "record_duration_seconds",
                "Time to process one record.",
                prometheus::exponential_buckets(0.000_05, 4.0, 10).expect("valid buckets"),
            ),
            batch_seconds: histogram(
                "batch_duration_seconds",
                "Time from a batch's first record to its commit.",
                prometheus::exponential_buckets(0.001, 4.0, 10).expect("valid buckets"),
            ),
        };
        // Every series of the fixed label sets exists from the start, at 0, so that rules see
        // the first error or abort as an increase (`rate()` needs a previous sample).
        for kind in ["decode", "content", "internal"] {
            metrics.records_errored.with_label_values(&[kind]);
        }
        for outcome in ["committed", "aborted"] {
            metrics.transactions.with_label_values(&[outcome]);
        }
        metrics
    }
}

/// Registers `metric` in the default registry (what `/metrics` serves) and returns it: the one
/// way every crate registers its metrics. A metric registered twice (several services built in
/// one test process) keeps its first registration; the failure is logged, not fatal.
pub fn register<T: prometheus::core::Collector + Clone + 'static>(metric: T) -> T {
    if let Err(err) = prometheus::register(Box::new(metric.clone())) {
        tracing::debug!(error = %err, "Metric not registered again.");
    }
    metric
}

/// Sets `newswire_build_info{service,version,revision} 1`, so that dashboards can show what
/// runs where and alerts can be joined with a version. `revision` is the source revision given
/// at build time in the `NEWSWIRE_REVISION` environment variable (the container build passes
/// the commit), `unknown` otherwise.
pub fn register_build_info(service: &str) {
    static INFO: OnceLock<prometheus::IntGaugeVec> = OnceLock::new();
    let info = INFO.get_or_init(|| {
        let gauge = prometheus::IntGaugeVec::new(
            Opts::new(
                "newswire_build_info",
                "Always 1; the labels say which build of which service this is.",
            ),
            &["service", "version", "revision"],
        )
        .expect("valid metric");
        register(gauge.clone());
        gauge
    });
    info.with_label_values(&[service, env!("CARGO_PKG_VERSION"), revision()])
        .set(1);
}

/// The source revision this binary was built from (`NEWSWIRE_REVISION` at build time).
pub fn revision() -> &'static str {
    option_env!("NEWSWIRE_REVISION")
        .filter(|r| !r.is_empty())
        .unwrap_or("unknown")
}

/// `newswire_tagger_end_to_end_seconds`: from the fetcher's first sighting of an item
/// (`fetched_at`) to the commit of its enriched record. Observed by whatever commits enriched
/// records: the tagger service, or the standalone pipeline's sink.
pub fn end_to_end_seconds() -> Histogram {
    static HISTOGRAM: OnceLock<Histogram> = OnceLock::new();
    HISTOGRAM
        .get_or_init(|| {
            let buckets = vec![
                0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
            ];
            let histogram = Histogram::with_opts(
                HistogramOpts::new(
                    "newswire_tagger_end_to_end_seconds",
                    "Time from the fetcher's first sighting of an item to the commit of its enriched record.",
                )
                .buckets(buckets),
            )
            .expect("valid metric");
            register(histogram.clone());
            histogram
        })
        .clone()
}

/// Kafka client health of one service, from librdkafka's statistics and delivery reports,
/// named `newswire_<service>_kafka_...`. (Transaction aborts are counted per stage in
/// `newswire_<service>_transactions_total{outcome="aborted"}`.)
#[derive(Clone)]
pub struct KafkaMetrics {
    /// Messages waiting in the producer's queues (librdkafka `msg_cnt`).
    pub producer_queue_messages: IntGauge,
    /// Messages the producer failed to deliver (delivery reports with an error).
    pub delivery_errors: IntCounter,
    /// Consumer lag per assigned partition (librdkafka `consumer_lag`: high watermark less the
    /// consumer's position). Only partitions currently assigned to this replica are present.
    pub consumer_lag: IntGaugeVec,
    /// Partitions the consumer cannot read past because a transaction there never ended (a
    /// hanging transaction; see `runtime`'s `HangingWatch`). The consumer lag of such a
    /// partition reads 0, as it counts up to the last stable offset.
    pub hanging_partitions: IntGauge,
    /// The (topic, partition) label pairs currently set in `consumer_lag`.
    lag_labels: std::sync::Arc<Mutex<Vec<(String, String)>>>,
}

impl std::fmt::Debug for KafkaMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaMetrics").finish_non_exhaustive()
    }
}

impl KafkaMetrics {
    /// The Kafka metrics of `service`, registered in the default registry on first use.
    pub fn get(service: &str) -> KafkaMetrics {
        static ALL: OnceLock<Mutex<HashMap<String, KafkaMetrics>>> = OnceLock::new();
        let mut all = ALL
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        all.entry(service.to_string())
            .or_insert_with(|| {
                let name = |suffix: &str| format!("newswire_{service}_kafka_{suffix}");
                let queue = IntGauge::new(
                    name("producer_queue_messages"),
                    "Messages waiting in the Kafka producer's queues.",
                )
                .expect("valid metric");
                register(queue.clone());
                let errors = IntCounter::new(
                    name("delivery_errors_total"),
                    "Messages the Kafka producer failed to deliver.",
                )
                .expect("valid metric");
                register(errors.clone());
                let lag = IntGaugeVec::new(
                    Opts::new(
                        name("consumer_lag_messages"),
                        "Messages between the consumer's position and the partition's end.",
                    ),
                    &["topic", "partition"],
                )
                .expect("valid metric");
                register(lag.clone());
                let hanging = IntGauge::new(
                    name("hanging_partitions"),
                    "Partitions the consumer cannot read past: a transaction there never ended.",
                )
                .expect("valid metric");
                register(hanging.clone());
                KafkaMetrics {
                    producer_queue_messages: queue,
                    delivery_errors: errors,
                    consumer_lag: lag,
                    hanging_partitions: hanging,
                    lag_labels: Default::default(),
                }
            })
            .clone()
    }

    /// Replaces the consumer-lag series with `lags` (topic, partition, lag): partitions that
    /// are no longer assigned disappear, so the family stays bounded by the assignment.
    pub fn set_consumer_lags(&self, lags: &[(String, i32, i64)]) {
        let now: Vec<(String, String)> = lags.iter().map(|(t, p, _)| (t.clone(), p.to_string())).collect();
        let mut known = self.lag_labels.lock().unwrap_or_else(|e| e.into_inner());
        for old in known.iter().filter(|old| !now.contains(old)) {
            let _ = self.consumer_lag.remove_label_values(&[&old.0, &old.1]);
        }
        for ((topic, partition), (_, _, lag)) in now.iter().zip(lags) {
            self.consumer_lag.with_label_values(&[topic, partition]).set(*lag);
        }
        *known = now;
    }
}
