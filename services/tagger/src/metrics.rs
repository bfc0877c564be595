//! The tagger's own metrics (the per-stage ones live in `telemetry::StageMetrics`).

use std::sync::OnceLock;

use telemetry::prometheus::{IntCounterVec, IntGauge, Opts};

/// Topic counts and taxonomy reloads.
#[derive(Clone)]
pub struct TaggerMetrics {
    /// `newswire_topic_articles_total{topic}`: stories tagged with each topic, each story once
    /// (only records with `duplicate_of == None` and `revision == 1`). Spike alerts read this.
    pub topic_articles: IntCounterVec,
    /// `newswire_tagger_taxonomy_reloads_total{outcome}`: `ok` or `invalid`.
    pub reloads: IntCounterVec,
    /// `newswire_tagger_topics`: topics in the taxonomy in force.
    pub topics: IntGauge,
}

impl std::fmt::Debug for TaggerMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaggerMetrics").finish_non_exhaustive()
    }
}

impl TaggerMetrics {
    /// The metrics, registered in the default registry on first use.
    pub fn get() -> &'static TaggerMetrics {
        static METRICS: OnceLock<TaggerMetrics> = OnceLock::new();
        METRICS.get_or_init(|| {
            let topic_articles = IntCounterVec::new(
                Opts::new(
                    "newswire_topic_articles_total",
                    "Stories tagged with each topic (first revision of non-duplicates only).",
                ),
                &["topic"],
            )
            .expect("valid metric");
            let reloads = IntCounterVec::new(
                Opts::new(
                    "newswire_tagger_taxonomy_reloads_total",
                    "Taxonomy reloads after a file change, by outcome (ok, invalid).",
                ),
                &["outcome"],
            )
            .expect("valid metric");
            let topics =
                IntGauge::new("newswire_tagger_topics", "Topics in the taxonomy in force.").expect("valid metric");
            telemetry::register(topic_articles.clone());
            telemetry::register(reloads.clone());
            telemetry::register(topics.clone());
            for outcome in ["ok", "invalid"] {
                reloads.with_label_values(&[outcome]);
            }
            TaggerMetrics {
                topic_articles,
                reloads,
                topics,
            }
        })
    }
}
