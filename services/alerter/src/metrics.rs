//! The alerter's metrics: its judgement of every topic, for Prometheus.

use std::sync::OnceLock;

use telemetry::prometheus::{GaugeVec, IntCounter, IntCounterVec, IntGaugeVec, Opts};

use crate::Judgement;

/// `newswire_alerter_*`. The `topic` label is a taxonomy slug: bounded by the taxonomy.
#[derive(Debug, Clone)]
pub(crate) struct AlerterMetrics {
    /// The last score (z) of each topic.
    pub score: GaugeVec,
    /// 1 while a topic is spiking, else 0.
    pub spiking: IntGaugeVec,
    /// `spiking` events published, per topic.
    pub alerts: IntCounterVec,
    /// Records older than the window when they arrived, not counted.
    pub late: IntCounter,
}

impl AlerterMetrics {
    pub(crate) fn get() -> AlerterMetrics {
        static METRICS: OnceLock<AlerterMetrics> = OnceLock::new();
        METRICS
            .get_or_init(|| {
                let score = GaugeVec::new(
                    Opts::new(
                        "newswire_alerter_topic_spike_score",
                        "How far each topic's recent story count is above its baseline, in standard deviations.",
                    ),
                    &["topic"],
                )
                .expect("valid metric");
                let spiking = IntGaugeVec::new(
                    Opts::new("newswire_alerter_topic_spiking", "1 while a topic is spiking, else 0."),
                    &["topic"],
                )
                .expect("valid metric");
                let alerts = IntCounterVec::new(
                    Opts::new("newswire_alerter_alerts_total", "Spike events published, per topic."),
                    &["topic"],
                )
                .expect("valid metric");
                let late = IntCounter::new(
                    "newswire_alerter_late_records_total",
                    "Records older than the detection window when they arrived (not counted).",
                )
                .expect("valid metric");
                telemetry::register(score.clone());
                telemetry::register(spiking.clone());
                telemetry::register(alerts.clone());
                telemetry::register(late.clone());
                AlerterMetrics {
                    score,
                    spiking,
                    alerts,
                    late,
                }
            })
            .clone()
    }

    pub(crate) fn set(&self, topic: &str, judgement: Judgement) {
        self.score.with_label_values(&[topic]).set(judgement.score);
        self.spiking
            .with_label_values(&[topic])
            .set(i64::from(judgement.spiking));
        // Present from the first sighting, so that `rate()` sees the first increment.
        self.alerts.with_label_values(&[topic]);
    }
}
