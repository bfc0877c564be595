//! The deduper's own metrics (the per-stage ones come from `telemetry::StageMetrics`).

use std::sync::OnceLock;

use telemetry::prometheus::{IntCounter, IntCounterVec, IntGauge, Opts};

/// The deduper's metrics, registered in the default registry on first use.
#[derive(Debug, Clone)]
pub struct Metrics {
    /// `newswire_deduper_duplicates_total{kind}`: kind is exact_url, exact_content,
    /// near (by Jaccard) or contained (a summary in its article, see `Settings::containment_threshold`).
    pub duplicates: IntCounterVec,
    /// `newswire_deduper_revisions_total`: material revisions emitted.
    pub revisions: IntCounter,
    /// `newswire_deduper_fingerprints`: articles remembered in the window.
    pub fingerprints: IntGauge,
    /// `newswire_deduper_fingerprint_bytes`: estimated memory of the window.
    pub fingerprint_bytes: IntGauge,
}

impl Metrics {
    /// The one instance.
    pub fn get() -> &'static Metrics {
        static METRICS: OnceLock<Metrics> = OnceLock::new();
        METRICS.get_or_init(|| {
            let duplicates = IntCounterVec::new(
                Opts::new(
                    "newswire_deduper_duplicates_total",
                    "Duplicates found, by kind (exact_url, exact_content, near, contained).",
                ),
                &["kind"],
            )
            .expect("a valid metric");
            for kind in ["exact_url", "exact_content", "near", "contained"] {
                duplicates.with_label_values(&[kind]);
            }
            let revisions = IntCounter::new(
                "newswire_deduper_revisions_total",
                "Material revisions of an article emitted.",
            )
            .expect("a valid metric");
            let fingerprints = IntGauge::new("newswire_deduper_fingerprints", "Articles remembered in the window.")
                .expect("a valid metric");
            let fingerprint_bytes = IntGauge::new(
                "newswire_deduper_fingerprint_bytes",
                "Estimated memory of the window's fingerprints and indexes, in bytes.",
            )
            .expect("a valid metric");
            telemetry::register(duplicates.clone());
            telemetry::register(revisions.clone());
            telemetry::register(fingerprints.clone());
            telemetry::register(fingerprint_bytes.clone());
            Metrics {
                duplicates,
                revisions,
                fingerprints,
                fingerprint_bytes,
            }
        })
    }
}
