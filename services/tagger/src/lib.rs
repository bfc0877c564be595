//! The tagger: tags each article with the taxonomy's topics (Boolean queries), finds the
//! gazetteers' entities and the article's focus countries, and says why.

pub mod gazetteer;
mod metrics;
mod nationality;
pub mod query;
mod reload;
mod taxonomy;
// The analysis shared with the deduper (folding, words), under the name the modules use.
use analysis as text;

pub use gazetteer::{Gazetteer, GazetteerError};
pub use metrics::TaggerMetrics;
pub use query::{Field, QueryError, Vocabularies};
pub use reload::{ReloadOutcome, Reloader, SharedTaxonomy};
pub use taxonomy::{Tags, Taxonomy, TaxonomyError, TopicDef};

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use config::{KafkaConfig, RuntimeConfig};
use record::{EnrichedRecord, Record, UniqueRecord};
use runtime::{Stage, StageError};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

/// The lower-cased words of `text` as the tagger cuts it (see the query language docs):
/// what a term or a field is matched as.
pub fn words(text: &str) -> Vec<String> {
    text::words(text)
}

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
    /// `taxonomy_file`: the topics, as YAML (see `deploy/taxonomy.yaml`); without one, the
    /// shipped taxonomy and gazetteers built into the binary (not reloaded).
    #[serde(default)]
    pub taxonomy_file: Option<PathBuf>,
    /// `taxonomy_reload_secs`: how often the taxonomy file and its gazetteers are checked for
    /// changes (0 turns hot reload off).
    #[serde(default = "default_reload_secs")]
    pub taxonomy_reload_secs: u64,
    /// `topic_routing`: also publish each tagged article to `<topic_prefix><slug>`.
    #[serde(default = "default_true")]
    pub topic_routing: bool,
    /// `topic_prefix`: the prefix of the per-topic topics.
    #[serde(default = "default_topic_prefix")]
    pub topic_prefix: String,
    /// `topic_partitions`: partitions of the per-topic topics the tagger creates.
    #[serde(default = "default_topic_partitions")]
    pub topic_partitions: i32,
    /// `topic_replication`: replication factor of the per-topic topics the tagger creates.
    #[serde(default = "default_topic_replication")]
    pub topic_replication: i32,
}

fn default_reload_secs() -> u64 {
    10
}

fn default_true() -> bool {
    true
}

fn default_topic_prefix() -> String {
    "news.topic.".to_string()
}

fn default_topic_partitions() -> i32 {
    3
}

fn default_topic_replication() -> i32 {
    1
}

impl Default for TaggerConfig {
    fn default() -> Self {
        Self {
            kafka: KafkaConfig::default(),
            runtime: RuntimeConfig::default(),
            taxonomy_file: None,
            taxonomy_reload_secs: default_reload_secs(),
            topic_routing: true,
            topic_prefix: default_topic_prefix(),
            topic_partitions: default_topic_partitions(),
            topic_replication: default_topic_replication(),
        }
    }
}

impl TaggerConfig {
    /// The taxonomy in the file, or the one built into the binary when there is no file.
    pub fn load_taxonomy(&self) -> Result<Taxonomy, TaxonomyError> {
        match &self.taxonomy_file {
            Some(path) => Taxonomy::load(path),
            None => Taxonomy::embedded(),
        }
    }

    /// The per-topic topics of a taxonomy, to create before routing to them.
    pub fn topic_specs(&self, taxonomy: &Taxonomy) -> Vec<runtime::TopicSpec> {
        taxonomy
            .topics()
            .map(|t| runtime::TopicSpec {
                name: format!("{}{}", self.topic_prefix, t.slug),
                partitions: self.topic_partitions,
                replication: self.topic_replication,
                compacted: false,
            })
            .collect()
    }
}

/// The tagger stage. Stateless: the compiled taxonomy is configuration, not state.
#[derive(Debug)]
pub struct Tagger {
    taxonomy: SharedTaxonomy,
    /// The prefix of the per-topic topics, when routing is on.
    topic_prefix: Option<String>,
}

impl Tagger {
    pub fn new(taxonomy: Taxonomy) -> Self {
        Self::shared(SharedTaxonomy::new(taxonomy))
    }

    /// A tagger that always uses the taxonomy in force in `taxonomy` (see [`Reloader`]).
    pub fn shared(taxonomy: SharedTaxonomy) -> Self {
        Self {
            taxonomy,
            topic_prefix: None,
        }
    }

    /// Also routes each tagged article to `<prefix><slug>`.
    pub fn with_topic_routing(mut self, prefix: impl Into<String>) -> Self {
        self.topic_prefix = Some(prefix.into());
        self
    }

    /// Tags one article at time `now`.
    pub fn tag(&self, unique: UniqueRecord, now: DateTime<Utc>) -> EnrichedRecord {
        let mut article = unique.article;
        let tags = self.taxonomy.current().tag_in(
            article.language.as_deref(),
            &[
                (Field::Title, article.title.as_str()),
                (Field::Summary, article.summary.as_deref().unwrap_or_default()),
                (Field::Text, article.text.as_str()),
            ],
        );
        article.timestamps.tagged_at = Some(now);
        EnrichedRecord {
            schema_version: EnrichedRecord::SCHEMA_VERSION,
            article,
            story: unique.story,
            topics: tags.topics,
            entities: tags.entities,
            focus_countries: tags.focus_countries,
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

    fn routes(&self, output: &EnrichedRecord) -> Vec<String> {
        match &self.topic_prefix {
            Some(prefix) => output.topics.iter().map(|t| format!("{prefix}{}", t.slug)).collect(),
            None => Vec::new(),
        }
    }

    /// What counts only what really left the stage (an aborted batch is processed again):
    /// end-to-end latency, from the fetcher's first sighting to this commit, and the per-topic
    /// story counts that the spike rules read. Those count each story once: its first
    /// revision, and not its near-duplicates.
    fn committed(&mut self, outputs: &[EnrichedRecord]) {
        let (now, histogram) = (Utc::now(), telemetry::end_to_end_seconds());
        let metrics = TaggerMetrics::get();
        for record in outputs {
            histogram.observe((now - record.article.fetched_at).as_seconds_f64().max(0.0));
            if record.story.duplicate_of.is_none() && record.story.revision == 1 {
                for topic in &record.topics {
                    metrics.topic_articles.with_label_values(&[topic.slug.as_str()]).inc();
                }
            }
        }
    }
}

/// Runs the tagger service until `shutdown` is cancelled.
pub async fn run(config: TaggerConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    let taxonomy = config.load_taxonomy()?;
    match &config.taxonomy_file {
        Some(file) => tracing::info!(topics = taxonomy.len(), file = %file.display(), "Taxonomy loaded."),
        None => tracing::info!(topics = taxonomy.len(), "Built-in taxonomy loaded (no taxonomy_file)."),
    }
    if config.topic_routing {
        runtime::create_topics(&config.kafka, &config.topic_specs(&taxonomy)).await?;
    }
    let shared = SharedTaxonomy::new(taxonomy);
    if let Some(file) = config
        .taxonomy_file
        .as_ref()
        .filter(|_| config.taxonomy_reload_secs > 0)
    {
        let mut reloader = Reloader::new(file, shared.clone());
        let interval = Duration::from_secs(config.taxonomy_reload_secs);
        let watch_shutdown = shutdown.child_token();
        let config = config.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(interval) => {}
                    () = watch_shutdown.cancelled() => return,
                }
                let Some(Ok(taxonomy)) = reloader.changed() else {
                    continue;
                };
                // A new topic's own Kafka topic must exist before anything is routed to it.
                if config.topic_routing {
                    if let Err(err) = runtime::create_topics(&config.kafka, &config.topic_specs(&taxonomy)).await {
                        tracing::error!(error = %err, "Taxonomy change not applied yet: cannot create its per-topic topics.");
                        reloader.retry_later();
                        continue;
                    }
                }
                reloader.install(taxonomy);
            }
        });
    }
    let topics = &config.kafka.topics;
    let run = runtime::StageRun {
        input_topic: topics.unique.clone(),
        output_topic: topics.enriched.clone(),
        state_topic: None,
        kafka: config.kafka.clone(),
        runtime: config.runtime.clone(),
    };
    let mut tagger = Tagger::shared(shared);
    if config.topic_routing {
        tagger = tagger.with_topic_routing(config.topic_prefix.clone());
    }
    runtime::serve_stage(tagger, run, shutdown).await
}

#[cfg(test)]
mod tests;
