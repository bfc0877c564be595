//! The deduper: one story, one record.
//!
//! For each cleaned article it decides (see [`index::Index::decide`]):
//! - an exact repeat (the same article id, from the canonical URL, with the same or only
//!   trivially changed text; or another URL with the same normalised content) is dropped
//!   and counted;
//! - the same article with materially changed text is emitted as its next `revision`;
//! - a near duplicate of a remembered article (MinHash of word 3-shingles, LSH candidates,
//!   estimated Jaccard at or above the threshold) is emitted with `duplicate_of` and
//!   `similarity`, in that article's story cluster (`story_id`);
//! - anything else is a new story: emitted with `story_id` = its own id.
//!
//! Downstream counts a story once: only records with `duplicate_of == None` and
//! `revision == 1`. The window of remembered articles is the stage's state, persisted with
//! every batch (Kafka changelog, or the embedded store) and restored on start.

pub mod fingerprint;
pub mod index;
mod metrics;
pub mod offline;

use chrono::{DateTime, Utc};
use config::{KafkaConfig, RuntimeConfig};
use record::{CleanedRecord, Record as _, Story, UniqueRecord};
use runtime::{Stage, StageError, StateChange};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

pub use index::{Index, Settings, Verdict};
pub use metrics::Metrics;

/// The deduper service's configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeduperConfig {
    /// `kafka`: how to reach the cluster, and the topic names.
    #[serde(default)]
    pub kafka: KafkaConfig,
    /// `runtime`: instance id, batching, endpoints.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// `deduper`: the window and the near-duplicate threshold.
    #[serde(default)]
    pub deduper: Settings,
}

/// The deduper stage.
#[derive(Debug)]
pub struct Deduper {
    index: Index,
    metrics: &'static Metrics,
}

impl Default for Deduper {
    fn default() -> Self {
        Deduper::new(Settings::default())
    }
}

impl Deduper {
    /// A deduper with an empty window.
    pub fn new(settings: Settings) -> Deduper {
        Deduper {
            index: Index::new(settings),
            metrics: Metrics::get(),
        }
    }

    /// How many articles the deduper remembers.
    pub fn remembered(&self) -> usize {
        self.index.len()
    }

    /// The window itself.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Decides on one article at time `now`: the record to emit, if any.
    pub fn dedupe(&mut self, cleaned: CleanedRecord, now: DateTime<Utc>) -> Option<UniqueRecord> {
        let mut article = cleaned.article;
        let verdict = self.index.decide(index::Input {
            id: &article.id,
            title: &article.title,
            text: &article.text,
            now: now.timestamp(),
        });
        let story = match verdict {
            Verdict::ExactUrl { .. } => {
                self.metrics.duplicates.with_label_values(&["exact_url"]).inc();
                return None;
            }
            Verdict::ExactContent { .. } => {
                self.metrics.duplicates.with_label_values(&["exact_content"]).inc();
                return None;
            }
            Verdict::New => Story {
                story_id: article.id.clone(),
                revision: 1,
                duplicate_of: None,
                similarity: None,
            },
            Verdict::Near {
                of,
                story,
                similarity,
                contained,
            } => {
                let kind = if contained { "contained" } else { "near" };
                self.metrics.duplicates.with_label_values(&[kind]).inc();
                Story {
                    story_id: index::id_string(story),
                    revision: 1,
                    duplicate_of: Some(index::id_string(of)),
                    similarity: Some(round(similarity)),
                }
            }
            Verdict::Revision {
                revision,
                story,
                duplicate_of,
                similarity,
            } => {
                self.metrics.revisions.inc();
                Story {
                    story_id: index::id_string(story),
                    revision,
                    duplicate_of: duplicate_of.map(index::id_string),
                    similarity: similarity.map(round),
                }
            }
        };
        article.timestamps.deduplicated_at = Some(now);
        Some(UniqueRecord {
            schema_version: UniqueRecord::SCHEMA_VERSION,
            article,
            story,
        })
    }

    fn update_gauges(&self) {
        self.metrics
            .fingerprints
            .set(i64::try_from(self.index.len()).unwrap_or(i64::MAX));
        self.metrics
            .fingerprint_bytes
            .set(i64::try_from(self.index.memory_bytes()).unwrap_or(i64::MAX));
    }
}

/// Similarities are estimates; three decimals are all they carry.
fn round(similarity: f64) -> f64 {
    (similarity * 1000.0).round() / 1000.0
}

impl Stage for Deduper {
    type Input = CleanedRecord;
    type Output = UniqueRecord;

    fn name(&self) -> &'static str {
        "deduper"
    }

    fn process(&mut self, input: CleanedRecord) -> Result<Vec<UniqueRecord>, StageError> {
        Ok(self.dedupe(input, Utc::now()).into_iter().collect())
    }

    fn take_state_changes(&mut self) -> Vec<StateChange> {
        // Called once per batch: a good moment to refresh the gauges.
        self.update_gauges();
        self.index
            .take_changes()
            .into_iter()
            .map(|(key, value)| StateChange {
                key: key.into_bytes(),
                value,
            })
            .collect()
    }

    fn restore(&mut self, key: &[u8], value: Option<&[u8]>) {
        match std::str::from_utf8(key) {
            Ok(id) => self.index.restore(id, value),
            Err(_) => tracing::warn!(key = ?key, "Deduper state entry with a key that is not UTF-8 skipped."),
        }
    }

    fn reset(&mut self) {
        self.index.clear();
        self.update_gauges();
    }

    fn is_stateful(&self) -> bool {
        true
    }
}

/// Runs the deduper service until `shutdown` is cancelled.
pub async fn run(config: DeduperConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    let topics = &config.kafka.topics;
    // One active deduper must see every article, or near duplicates across partitions slip
    // through: the input has one partition and the consumer group makes one replica its owner.
    let kafka = config.kafka.clone();
    let input = topics.cleaned.clone();
    let partitions = tokio::task::spawn_blocking(move || runtime::partition_count(&kafka, &input)).await??;
    if partitions != 1 {
        anyhow::bail!(
            "{} has {partitions} partitions; the deduper needs exactly one, so that one replica sees every \
             article and finds near duplicates across all of them (see ARCHITECTURE.md, \"The deduper\")",
            topics.cleaned
        );
    }
    let run = runtime::StageRun {
        input_topic: topics.cleaned.clone(),
        output_topic: topics.unique.clone(),
        state_topic: Some(topics.deduper_state.clone()),
        kafka: config.kafka.clone(),
        runtime: config.runtime.clone(),
    };
    runtime::serve_stage(Deduper::new(config.deduper.clone()), run, shutdown).await
}

#[cfg(test)]
mod tests;
