//! The alerter: detects topic spikes in `news.enriched` and publishes them to `news.alerts`.
//!
//! The method is documented in [`detector`]. The service runs the [`Detector`] as a stateful
//! stage under the shared runtime: its per-topic counts and baselines are written to a
//! compacted changelog (`news.alerter.state`) in the same transaction as the events and the
//! consumed offsets, so a restart neither loses the baseline nor announces a spike twice.
//!
//! Spike detection needs one view of every topic's rate, so the alerter runs as a single
//! active replica: more replicas in the same group split the partitions of `news.enriched`
//! and each would judge only its share of the stories.

pub mod detector;
mod metrics;

pub use detector::{Detector, DetectorSettings, Judgement, Observation, Outcome, event_time};

use config::{KafkaConfig, RuntimeConfig};
use record::{AlertEvent, AlertState, EnrichedRecord};
use runtime::{Stage, StageError, StateChange};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

/// The alerter service's configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlerterConfig {
    /// `kafka`: how to reach the cluster, and the topic names.
    #[serde(default)]
    pub kafka: KafkaConfig,
    /// `runtime`: instance id, batching, endpoints.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// `detector`: windows, baseline and thresholds (see the `detector` module).
    #[serde(default)]
    pub detector: DetectorSettings,
}

/// Turns an enriched record into what the detector sees.
pub fn observation(record: &EnrichedRecord) -> Observation<'_> {
    Observation {
        time: event_time(record.article.published_at, record.article.fetched_at),
        article_id: &record.article.id,
        counts: record.story.duplicate_of.is_none() && record.story.revision == 1,
        topics: record
            .topics
            .iter()
            .map(|t| (t.slug.as_str(), t.label.as_str()))
            .collect(),
    }
}

/// The alerter stage: enriched records in, spike events out.
#[derive(Debug)]
pub struct Alerter {
    detector: Detector,
    metrics: metrics::AlerterMetrics,
}

impl Alerter {
    pub fn new(settings: DetectorSettings) -> Self {
        Self {
            detector: Detector::new(settings),
            metrics: metrics::AlerterMetrics::get(),
        }
    }

    fn export_judgements(&self) {
        for (topic, judgement) in self.detector.judgements() {
            self.metrics.set(topic, judgement);
        }
    }
}

impl Stage for Alerter {
    type Input = EnrichedRecord;
    type Output = AlertEvent;

    fn name(&self) -> &'static str {
        "alerter"
    }

    fn process(&mut self, input: EnrichedRecord) -> Result<Vec<AlertEvent>, StageError> {
        let (events, outcome) = self.detector.observe(&observation(&input));
        if outcome == Outcome::Late {
            self.metrics.late.inc();
            tracing::debug!(id = %input.article.id, "Record older than the window; not counted.");
        }
        if !events.is_empty() || outcome != Outcome::Ignored {
            self.export_judgements();
        }
        for event in &events {
            tracing::info!(
                topic = %event.topic,
                state = ?event.state,
                observed = event.observed,
                expected = event.expected,
                score = event.score,
                window_end = %event.window_end,
                "Topic spike event."
            );
        }
        Ok(events)
    }

    fn committed(&mut self, outputs: &[AlertEvent]) {
        for event in outputs.iter().filter(|e| e.state == AlertState::Spiking) {
            self.metrics.alerts.with_label_values(&[&event.topic]).inc();
        }
    }

    fn take_state_changes(&mut self) -> Vec<StateChange> {
        self.detector
            .take_state()
            .into_iter()
            .map(|(key, value)| StateChange {
                key,
                value: Some(value),
            })
            .collect()
    }

    fn restore(&mut self, key: &[u8], value: Option<&[u8]>) {
        self.detector.restore(key, value);
        self.export_judgements();
    }

    fn reset(&mut self) {
        self.detector.reset();
    }

    fn is_stateful(&self) -> bool {
        true
    }
}

/// Runs the alerter service until `shutdown` is cancelled.
pub async fn run(config: AlerterConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    config.detector.validate()?;
    let topics = &config.kafka.topics;
    let run = runtime::StageRun {
        input_topic: topics.enriched.clone(),
        output_topic: topics.alerts.clone(),
        state_topic: Some(topics.alerter_state.clone()),
        kafka: config.kafka.clone(),
        runtime: config.runtime.clone(),
    };
    runtime::serve_stage(Alerter::new(config.detector), run, shutdown).await
}

#[cfg(test)]
mod tests;
