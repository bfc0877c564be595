//! The deduper: lets the first copy of each article through and drops exact repeats.
//!
//! Today an exact repeat is a record whose id (derived from the canonical URL) was seen
//! before. The seen set is the stage's state: persisted with every batch (Kafka changelog or
//! the embedded store) and restored on start, so a restart neither forgets nor double-counts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use config::{KafkaConfig, RuntimeConfig};
use record::{CleanedRecord, Record, Story, UniqueRecord};
use runtime::{Stage, StageError, StateChange};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

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
}

/// The deduper stage.
#[derive(Debug, Default)]
pub struct Deduper {
    /// Article id → when it was first let through.
    seen: HashMap<String, DateTime<Utc>>,
    changes: Vec<StateChange>,
}

impl Deduper {
    /// How many articles the deduper remembers.
    pub fn remembered(&self) -> usize {
        self.seen.len()
    }

    /// Decides on one article at time `now`.
    pub fn dedupe(&mut self, cleaned: CleanedRecord, now: DateTime<Utc>) -> Option<UniqueRecord> {
        let mut article = cleaned.article;
        if self.seen.contains_key(&article.id) {
            return None;
        }
        self.seen.insert(article.id.clone(), now);
        self.changes.push(StateChange {
            key: article.id.clone().into_bytes(),
            value: Some(now.to_rfc3339().into_bytes()),
        });
        article.timestamps.deduplicated_at = Some(now);
        let story = Story {
            story_id: article.id.clone(),
            revision: 1,
            duplicate_of: None,
            similarity: None,
        };
        Some(UniqueRecord {
            schema_version: UniqueRecord::SCHEMA_VERSION,
            article,
            story,
        })
    }
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
        std::mem::take(&mut self.changes)
    }

    fn restore(&mut self, key: &[u8], value: Option<&[u8]>) {
        let Ok(id) = std::str::from_utf8(key) else {
            return;
        };
        match value
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
        {
            Some(at) => {
                self.seen.insert(id.to_string(), at.with_timezone(&Utc));
            }
            None => {
                self.seen.remove(id);
            }
        }
    }

    fn reset(&mut self) {
        self.seen.clear();
        self.changes.clear();
    }

    fn is_stateful(&self) -> bool {
        true
    }
}

/// Runs the deduper service until `shutdown` is cancelled.
pub async fn run(config: DeduperConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    let topics = &config.kafka.topics;
    let run = runtime::StageRun {
        input_topic: topics.cleaned.clone(),
        output_topic: topics.unique.clone(),
        state_topic: Some(topics.deduper_state.clone()),
        kafka: config.kafka.clone(),
        runtime: config.runtime.clone(),
    };
    runtime::serve_stage(Deduper::default(), run, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use record::{Article, FeedRef, Fingerprints, Source, StageTimes};

    fn cleaned(url: &str) -> CleanedRecord {
        let canonical = record::normalize_url(url).unwrap();
        CleanedRecord {
            schema_version: 1,
            article: Article {
                id: record::article_id(&canonical),
                url: Some(url.into()),
                canonical_url: Some(canonical),
                feed: FeedRef {
                    url: "https://example.com/feed".into(),
                    name: None,
                    tags: vec![],
                },
                source: Source {
                    domain: "example.com".into(),
                    name: None,
                },
                title: "t".into(),
                authors: vec![],
                published_at: None,
                updated_at: None,
                fetched_at: Utc::now(),
                language: None,
                summary: None,
                text: "x".into(),
                word_count: 1,
                lead_image: None,
                categories: vec![],
                fingerprints: Fingerprints::default(),
                timestamps: StageTimes::default(),
                extraction: Default::default(),
            },
        }
    }

    #[test]
    fn drops_exact_repeats_by_canonical_url() {
        let mut deduper = Deduper::default();
        let first = deduper.process(cleaned("https://example.com/a?utm_source=x")).unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].story.story_id, first[0].article.id);
        assert_eq!(first[0].story.revision, 1);
        assert!(first[0].article.timestamps.deduplicated_at.is_some());
        assert!(deduper.process(cleaned("http://www.example.com/a")).unwrap().is_empty());
        assert_eq!(deduper.process(cleaned("https://example.com/b")).unwrap().len(), 1);
        assert_eq!(deduper.remembered(), 2);
    }

    #[test]
    fn state_survives_through_its_changes() {
        let mut deduper = Deduper::default();
        deduper.process(cleaned("https://example.com/a")).unwrap();
        let changes = deduper.take_state_changes();
        assert_eq!(changes.len(), 1);
        assert!(deduper.take_state_changes().is_empty(), "changes are taken once");

        let mut restarted = Deduper::default();
        for change in &changes {
            restarted.restore(&change.key, change.value.as_deref());
        }
        assert!(restarted.process(cleaned("https://example.com/a")).unwrap().is_empty());
        restarted.reset();
        assert_eq!(restarted.process(cleaned("https://example.com/a")).unwrap().len(), 1);
    }
}
