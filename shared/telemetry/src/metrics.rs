//! The metrics every stage has, whether it runs on Kafka or in the standalone pipeline.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts};

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
            register(Box::new(c.clone()));
            c
        };
        let counter_vec = |suffix: &str, help: &str, label: &str| {
            let c = IntCounterVec::new(Opts::new(name(suffix), help), &[label]).expect("valid metric");
            register(Box::new(c.clone()));
            c
        };
        let histogram = |suffix: &str, help: &str, buckets: Vec<f64>| {
            let h =
                Histogram::with_opts(HistogramOpts::new(name(suffix), help).buckets(buckets)).expect("valid metric");
            register(Box::new(h.clone()));
            h
        };
        StageMetrics {
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
        }
    }
}

fn register(collector: Box<dyn prometheus::core::Collector>) {
    if let Err(err) = prometheus::register(collector) {
        tracing::warn!(error = %err, "Metric not registered.");
    }
}
