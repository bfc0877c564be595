//! The tagger: tags each article with the taxonomy's topics and says why.

mod taxonomy;

pub use taxonomy::{Taxonomy, TaxonomyError, TopicDef};

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use config::{KafkaConfig, RuntimeConfig};
use record::{EnrichedRecord, Record, UniqueRecord};
use runtime::{Stage, StageError};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

/// The tagger service's configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaggerConfig {
    /// `kafka`: how to reach the cluster, and the topic names.
    #[serde(default)]
    pub kafka: KafkaConfig,
    /// `runtime`: instance id, batching, endpoints.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// `taxonomy_file`: the topics, as YAML (see `deploy/taxonomy.yaml`).
    #[serde(default = "default_taxonomy_file")]
    pub taxonomy_file: PathBuf,
}

fn default_taxonomy_file() -> PathBuf {
    PathBuf::from("deploy/taxonomy.yaml")
}

/// The tagger stage. Stateless: the compiled taxonomy is configuration, not state.
#[derive(Debug)]
pub struct Tagger {
    taxonomy: Taxonomy,
}

impl Tagger {
    pub fn new(taxonomy: Taxonomy) -> Self {
        Self { taxonomy }
    }

    /// Tags one article at time `now`.
    pub fn tag(&self, unique: UniqueRecord, now: DateTime<Utc>) -> EnrichedRecord {
        let mut article = unique.article;
        let fields = [
            ("title", article.title.as_str()),
            ("summary", article.summary.as_deref().unwrap_or_default()),
            ("text", article.text.as_str()),
        ];
        let topics = self.taxonomy.matches(&fields);
        article.timestamps.tagged_at = Some(now);
        EnrichedRecord {
            schema_version: EnrichedRecord::SCHEMA_VERSION,
            article,
            story: unique.story,
            topics,
            entities: Vec::new(),
        }
    }
}

impl Stage for Tagger {
    type Input = UniqueRecord;
    type Output = EnrichedRecord;

    fn name(&self) -> &'static str {
        "tagger"
    }

    fn process(&mut self, input: UniqueRecord) -> Result<Vec<EnrichedRecord>, StageError> {
        Ok(vec![self.tag(input, Utc::now())])
    }

    /// End-to-end latency: from the fetcher's first sighting to this commit.
    fn committed(&mut self, outputs: &[EnrichedRecord]) {
        let (now, histogram) = (Utc::now(), telemetry::end_to_end_seconds());
        for record in outputs {
            histogram.observe((now - record.article.fetched_at).as_seconds_f64().max(0.0));
        }
    }
}

/// Runs the tagger service until `shutdown` is cancelled.
pub async fn run(config: TaggerConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    let taxonomy = Taxonomy::load(&config.taxonomy_file)?;
    tracing::info!(topics = taxonomy.len(), file = %config.taxonomy_file.display(), "Taxonomy loaded.");
    let topics = &config.kafka.topics;
    let run = runtime::StageRun {
        input_topic: topics.unique.clone(),
        output_topic: topics.enriched.clone(),
        state_topic: None,
        kafka: config.kafka.clone(),
        runtime: config.runtime.clone(),
    };
    runtime::serve_stage(Tagger::new(taxonomy), run, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn shipped() -> Taxonomy {
        Taxonomy::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/taxonomy.yaml")).unwrap()
    }

    /// The article the project started from: Putin and Xi's December 2021 call.
    #[test]
    fn the_seed_article_is_russia_china() {
        let seed = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/corpus/seed/independent-putin-xi-2021-12-15.txt");
        let text = std::fs::read_to_string(&seed).unwrap();
        let (title, body) = text.split_once('\n').unwrap();
        let topics = shipped().matches(&[("title", title), ("text", body)]);
        let slugs: Vec<&str> = topics.iter().map(|t| t.slug.as_str()).collect();
        assert_eq!(slugs.first(), Some(&"russia-china"), "{slugs:?}");
        assert!(slugs.contains(&"ukraine") && slugs.contains(&"sanctions"), "{slugs:?}");
        assert!(!slugs.contains(&"taiwan"), "{slugs:?}");
    }

    #[test]
    fn unrelated_news_gets_no_topic() {
        let topics = shipped().matches(&[
            ("title", "Storm brings floods to the east coast"),
            (
                "text",
                "Heavy rain closed roads and schools on Tuesday, officials said.",
            ),
        ]);
        assert!(topics.is_empty(), "{topics:?}");
    }
}
