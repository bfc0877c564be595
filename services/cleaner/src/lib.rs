//! The cleaner: turns a raw feed item (and the article page, when the fetcher attached it)
//! into clean plain text with metadata and a canonical URL.

mod text;

pub use text::{html_to_text, normalize_text};

use chrono::{DateTime, Utc};
use config::{KafkaConfig, RuntimeConfig};
use record::{Article, CleanedRecord, Fingerprints, RawRecord, Record, Source, StageTimes};
use runtime::{Stage, StageError};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

/// The cleaner service's configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CleanerConfig {
    /// `kafka`: how to reach the cluster, and the topic names.
    #[serde(default)]
    pub kafka: KafkaConfig,
    /// `runtime`: instance id, batching, endpoints.
    #[serde(default)]
    pub runtime: RuntimeConfig,
}

/// The cleaner stage. Stateless.
#[derive(Debug, Default)]
pub struct Cleaner;

impl Stage for Cleaner {
    type Input = RawRecord;
    type Output = CleanedRecord;

    fn name(&self) -> &'static str {
        "cleaner"
    }

    fn process(&mut self, raw: RawRecord) -> Result<Vec<CleanedRecord>, StageError> {
        clean(&raw, Utc::now()).map(|record| vec![record])
    }
}

/// Cleans one raw item. The body comes from the article page when there is one, else from
/// the feed's full content, else from its summary.
pub fn clean(raw: &RawRecord, now: DateTime<Utc>) -> Result<CleanedRecord, StageError> {
    let page = raw.page.as_ref().map(|p| scraper::Html::parse_document(&p.html));
    let from_page = page.as_ref().map(text::main_text).filter(|t| !t.is_empty());
    let summary = raw.summary.as_deref().map(html_to_text).filter(|s| !s.is_empty());
    let text = from_page
        .or_else(|| raw.content.as_deref().map(html_to_text).filter(|t| !t.is_empty()))
        .or_else(|| summary.clone())
        .unwrap_or_default();
    let title = raw
        .title
        .as_deref()
        .map(html_to_text)
        .unwrap_or_default()
        .replace("\n\n", " ");
    if title.is_empty() && text.is_empty() {
        return Err(StageError::content(format!(
            "item {} has neither a title nor any text",
            raw.id
        )));
    }

    // The page's own canonical link wins over the feed's link; both are normalised.
    let page_canonical = page.as_ref().and_then(text::canonical_link).and_then(|href| {
        let base = raw.page.as_ref().map(|p| p.url.as_str()).or(raw.url.as_deref())?;
        url::Url::parse(base).ok()?.join(&href).ok().map(String::from)
    });
    let canonical_url = page_canonical
        .as_deref()
        .and_then(record::normalize_url)
        .or_else(|| raw.url.as_deref().and_then(record::normalize_url));
    let id = canonical_url
        .as_deref()
        .map_or_else(|| raw.id.clone(), record::article_id);
    let domain = canonical_url
        .as_deref()
        .or(Some(raw.feed.url.as_str()))
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(|h| h.strip_prefix("www.").unwrap_or(h).to_string()))
        .unwrap_or_default();

    let word_count = u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX);
    let content_sha256 = hex::encode(Sha256::digest(text.as_bytes()));
    Ok(CleanedRecord {
        schema_version: CleanedRecord::SCHEMA_VERSION,
        article: Article {
            id,
            url: raw.url.clone(),
            canonical_url,
            feed: raw.feed.clone(),
            source: Source {
                domain,
                name: raw.feed.name.clone(),
            },
            title,
            authors: raw
                .authors
                .iter()
                .map(|a| normalize_text(a))
                .filter(|a| !a.is_empty())
                .collect(),
            published_at: raw.published_at,
            updated_at: raw.updated_at,
            fetched_at: raw.fetched_at,
            language: raw.language.clone(),
            summary,
            text,
            word_count,
            lead_image: raw.lead_image.clone(),
            categories: raw.categories.clone(),
            fingerprints: Fingerprints { content_sha256 },
            timestamps: StageTimes {
                cleaned_at: Some(now),
                ..StageTimes::default()
            },
        },
    })
}

/// Runs the cleaner service until `shutdown` is cancelled.
pub async fn run(config: CleanerConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    let topics = &config.kafka.topics;
    let run = runtime::StageRun {
        input_topic: topics.raw.clone(),
        output_topic: topics.cleaned.clone(),
        state_topic: None,
        kafka: config.kafka.clone(),
        runtime: config.runtime.clone(),
    };
    runtime::serve_stage(Cleaner, run, shutdown).await
}

#[cfg(test)]
mod tests;
