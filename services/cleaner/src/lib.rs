//! The cleaner: turns a raw feed item (and the article page, when the fetcher attached it)
//! into clean plain text with metadata and a canonical URL.

pub mod decode;
pub mod eval;
pub mod extract;
pub mod meta;
pub mod sandbox;
pub mod text;

pub use extract::{Budget, Failure, Method};
pub use text::{html_to_text, normalize_text};

use std::collections::BTreeMap;

use meta::From;

use chrono::{DateTime, Utc};
use config::{KafkaConfig, RuntimeConfig};
use record::{Article, CleanedRecord, Extraction, Fingerprints, RawRecord, Record, Source, StageTimes};
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
    /// `extraction`: the budget of one article page.
    #[serde(default)]
    pub extraction: ExtractionConfig,
}

/// The budget of one article page (`extraction:` in the cleaner's configuration file).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtractionConfig {
    /// `timeout_secs`: time for one page; a worker still busy then is killed.
    pub timeout_secs: u64,
    /// `max_page_bytes`: larger pages are not parsed (the feed's text is used).
    pub max_page_bytes: usize,
    /// `worker_memory_mb`: address space of an extraction worker process (code, stacks and
    /// allocator arenas included, so well above a page's needs).
    pub worker_memory_mb: u64,
    /// `isolate`: extract in worker processes, with hard time and memory limits; `false`
    /// extracts in threads of the service, with a deadline but no way to stop a runaway page.
    pub isolate: bool,
}

impl Default for ExtractionConfig {
    fn default() -> Self {
        let budget = Budget::default();
        ExtractionConfig {
            timeout_secs: budget.timeout.as_secs(),
            max_page_bytes: budget.max_bytes,
            worker_memory_mb: 2048,
            isolate: true,
        }
    }
}

impl ExtractionConfig {
    /// The page budget these settings describe.
    pub fn budget(&self) -> Budget {
        Budget {
            max_bytes: self.max_page_bytes,
            timeout: std::time::Duration::from_secs(self.timeout_secs.max(1)),
            ..Budget::default()
        }
    }
}

/// The cleaner stage. Stateless.
#[derive(Debug, Default)]
pub struct Cleaner {
    budget: Budget,
    extractor: Extractor,
}

impl Cleaner {
    /// A stage that extracts pages within `budget`, in threads of this process.
    pub fn new(budget: Budget) -> Cleaner {
        Self::with_extractor(budget, Extractor::Threads)
    }

    /// A stage that extracts pages within `budget` with `extractor` (see [`extractor`]).
    pub fn with_extractor(budget: Budget, extractor: Extractor) -> Cleaner {
        Cleaner { budget, extractor }
    }
}

/// How article pages are extracted: the stage holds one.
#[derive(Debug, Clone, Default)]
pub enum Extractor {
    /// On a worker thread of this process, with a deadline but no way to stop a runaway page
    /// (library use, tests, `newswire extract`).
    #[default]
    Threads,
    /// In child processes of the executable ([`sandbox`]): killed at the deadline, their
    /// memory capped.
    Sandboxed(std::sync::Arc<sandbox::Sandbox>),
}

impl Stage for Cleaner {
    type Input = RawRecord;
    type Output = CleanedRecord;

    fn name(&self) -> &'static str {
        "cleaner"
    }

    fn process(&mut self, raw: RawRecord) -> Result<Vec<CleanedRecord>, StageError> {
        clean_using(&raw, Utc::now(), &self.budget, &self.extractor).map(|record| vec![record])
    }
}

/// Counters of the cleaner's extraction, in the default registry.
pub mod metrics {
    use std::sync::LazyLock;
    use telemetry::prometheus::{IntCounterVec, Opts};

    fn counter(name: &str, help: &str, label: &str) -> IntCounterVec {
        telemetry::register(IntCounterVec::new(Opts::new(name, help), &[label]).expect("a valid metric definition"))
    }

    /// `newswire_cleaner_extractions_total{method}`: which method produced each record's text.
    pub static EXTRACTIONS: LazyLock<IntCounterVec> = LazyLock::new(|| {
        counter(
            "newswire_cleaner_extractions_total",
            "Records cleaned, by the method that produced the text (trafilatura, fallback, feed_content, feed_summary, none).",
            "method",
        )
    });

    /// `newswire_cleaner_failures_total{reason}`: pages that yielded no text, by reason.
    pub static FAILURES: LazyLock<IntCounterVec> = LazyLock::new(|| {
        let failures = counter(
            "newswire_cleaner_failures_total",
            "Article pages that yielded no text (too_large, too_deep, timeout, empty, charset, internal).",
            "reason",
        );
        // Every reason is exported from the start (at 0), so that rates and alerts work
        // before the first failure.
        for reason in ["too_large", "too_deep", "timeout", "empty", "charset", "internal"] {
            failures.with_label_values(&[reason]);
        }
        failures
    });
}

/// Cleans one raw item with the default [`Budget`].
pub fn clean(raw: &RawRecord, now: DateTime<Utc>) -> Result<CleanedRecord, StageError> {
    clean_with(raw, now, &Budget::default())
}

/// Cleans one raw item. The body comes from the article page when there is one and it yields
/// text within its budget, else from the feed's full content, else from its summary.
/// Metadata comes from the page first (see [`meta`] for the order of trust), then from the
/// feed item; the record's `extraction.provenance` says where each field came from.
pub fn clean_with(raw: &RawRecord, now: DateTime<Utc>, budget: &Budget) -> Result<CleanedRecord, StageError> {
    clean_using(raw, now, budget, &Extractor::Threads)
}

/// [`clean_with`], extracting the page with `extractor`.
pub fn clean_using(
    raw: &RawRecord,
    now: DateTime<Utc>,
    budget: &Budget,
    extractor: &Extractor,
) -> Result<CleanedRecord, StageError> {
    let mut provenance = BTreeMap::new();
    let mut page_failure = None;
    let page = raw.page.as_ref().and_then(|page| {
        let url = (!page.url.is_empty()).then_some(page.url.as_str());
        let fetched_at = page.fetched_at.max(raw.fetched_at);
        let result = match extractor {
            Extractor::Sandboxed(sandbox) => extract::precheck(&page.html, budget)
                .and_then(|()| sandbox::extract(sandbox, &page.html, url, fetched_at, budget.timeout)),
            Extractor::Threads => extract::extract_page(&page.html, url, fetched_at, budget),
        };
        match result {
            Ok(page_text) => Some(page_text),
            Err(failure) => {
                metrics::FAILURES.with_label_values(&[failure.reason()]).inc();
                tracing::warn!(item = %raw.id, url = %page.url, reason = failure.reason(), "Article page not used: {failure}.");
                page_failure = Some(failure.reason().to_string());
                None
            }
        }
    });
    let meta = page.as_ref().map(|p| p.meta.clone()).unwrap_or_default();
    let byline: Vec<String> = meta.authors.as_ref().map(|(a, _)| a.clone()).unwrap_or_default();
    let feed_summary = raw.summary.as_deref().map(html_to_text).filter(|s| !s.is_empty());

    let (text, method) = if let Some(p) = &page {
        (p.text.clone(), p.method.as_str())
    } else if let Some(content) = raw
        .content
        .as_deref()
        .map(|c| extract::clean_paragraphs(html_to_text(c).split("\n\n"), None, &byline))
        .filter(|t| !t.is_empty())
    {
        (content, "feed_content")
    } else if let Some(summary) = feed_summary.clone() {
        (summary, "feed_summary")
    } else {
        (String::new(), "none")
    };
    metrics::EXTRACTIONS.with_label_values(&[method]).inc();

    // The page's structured metadata (JSON-LD, OpenGraph, meta tags) beats the feed item; the
    // feed item beats what is guessed from the page's markup or URL (`<title>`, `<h1>`,
    // `<time>`, a date in the path).
    fn pick<T>(
        field: &str,
        page: Option<(T, From)>,
        feed: Option<T>,
        provenance: &mut BTreeMap<String, String>,
    ) -> Option<T> {
        let page_is_weak = page
            .as_ref()
            .is_some_and(|(_, from)| matches!(from, From::Html | From::Url));
        let (value, from) = match (page, feed) {
            (Some(_), Some(feed)) if page_is_weak => (feed, From::Feed),
            (Some(page), _) => page,
            (None, Some(feed)) => (feed, From::Feed),
            (None, None) => return None,
        };
        provenance.insert(field.to_string(), from.as_str().to_string());
        Some(value)
    }

    let feed_title = raw
        .title
        .as_deref()
        .map(|t| html_to_text(t).replace("\n\n", " "))
        .filter(|t| !t.is_empty());
    let title = pick("title", meta.title, feed_title, &mut provenance).unwrap_or_default();
    if title.is_empty() && text.is_empty() {
        return Err(StageError::content(format!(
            "item {} has neither a title nor any text{}",
            raw.id,
            page_failure
                .as_deref()
                .map(|r| format!(" (page not used: {r})"))
                .unwrap_or_default()
        )));
    }
    let feed_authors: Vec<String> = {
        let raws: Vec<String> = raw.authors.iter().map(|a| normalize_text(a)).collect();
        meta::byline::merge(raws.iter().map(String::as_str), raw.feed.name.as_deref())
    };
    let authors = pick(
        "authors",
        meta.authors,
        (!feed_authors.is_empty()).then_some(feed_authors),
        &mut provenance,
    )
    .unwrap_or_default();
    let plausible = |d: &DateTime<Utc>| meta::plausible_date(*d, raw.fetched_at.max(now));
    let published_at = pick(
        "published_at",
        meta.published_at,
        raw.published_at.filter(plausible),
        &mut provenance,
    );
    let updated_at = pick(
        "updated_at",
        meta.updated_at,
        raw.updated_at.filter(plausible),
        &mut provenance,
    );
    // The language the feeds file gives the feed wins: the operator knows it, where pages and
    // feeds often declare a template's.
    let configured = raw.feed.language.as_deref().and_then(meta::normalize_language);
    let from_feeds_file = configured.is_some();
    let mut language = match configured {
        Some(configured) => {
            provenance.insert("language".into(), From::Feed.as_str().into());
            Some(configured)
        }
        None => pick(
            "language",
            meta.language,
            raw.language.as_deref().and_then(meta::normalize_language),
            &mut provenance,
        ),
    };
    if language.is_none()
        && let Some(detected) = detect_language(&text)
    {
        language = Some(detected);
        provenance.insert("language".into(), From::Detected.as_str().into());
    } else if !from_feeds_file
        && let Some(declared) = language.as_deref()
        && let Some(detected) = detect_language_of_other_script(&text, declared)
    {
        // A page declares its template's language (`<html lang="en">` over a Chinese
        // government notice): a long text in another script says better.
        language = Some(detected);
        provenance.insert("language".into(), From::Detected.as_str().into());
    }
    let summary = pick("summary", meta.summary, feed_summary, &mut provenance);
    let lead_image = pick("lead_image", meta.lead_image, raw.lead_image.clone(), &mut provenance);
    let site_name = pick("site_name", meta.site_name, raw.feed.name.clone(), &mut provenance);
    let section = pick("section", meta.section, None, &mut provenance);

    // The page's own canonical link wins over the final page URL and the feed's link; all are
    // normalised (see `record::normalize_url`). A canonical link to the site's home page is a
    // common CMS mistake and is not taken for an article.
    let page_url = raw.page.as_ref().map(|p| p.url.as_str()).filter(|u| !u.is_empty());
    let is_home = |u: &str| url::Url::parse(u).is_ok_and(|u| u.path() == "/" && u.query().is_none());
    let page_canonical = meta
        .canonical_url
        .and_then(|(u, from)| record::normalize_url(&u).map(|u| (u, from)))
        .filter(|(u, _)| !is_home(u) || page_url.or(raw.url.as_deref()).is_some_and(is_home));
    let canonical_url = pick(
        "canonical_url",
        page_canonical.or_else(|| page_url.and_then(record::normalize_url).map(|u| (u, From::Url))),
        raw.url.as_deref().and_then(record::normalize_url),
        &mut provenance,
    );
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
                name: site_name,
            },
            title,
            authors,
            published_at,
            updated_at,
            fetched_at: raw.fetched_at,
            language,
            summary,
            text,
            word_count,
            lead_image,
            categories: raw.categories.clone(),
            fingerprints: Fingerprints { content_sha256 },
            timestamps: StageTimes {
                cleaned_at: Some(now),
                ..StageTimes::default()
            },
            extraction: Extraction {
                method: method.to_string(),
                section,
                provenance,
                page_failure,
                article_fetch: raw.article_fetch.clone(),
            },
        },
    })
}

/// The language of a text as the cleaner detects it when neither the page nor the feed says
/// (a BCP 47 tag such as `ru` or `zh`), or `None` when the guess is not reliable.
pub fn detect_language(text: &str) -> Option<String> {
    let info = whatlang::detect(text)?;
    info.is_reliable().then(|| meta::bcp47(info.lang().code()).to_string())
}

/// The language detection gives a long text (50 words, or 150 CJK characters) written in a
/// script that `declared` is not written in; `None` when the script fits the declaration or
/// the text is short. Only the script is read first: it costs a fiftieth of a detection, and
/// detection on every page would cost 3–7% of the cleaner's time. (So a German text under an
/// English declaration keeps `en`; see ARCHITECTURE.md, "The record's language".)
fn detect_language_of_other_script(text: &str, declared: &str) -> Option<String> {
    // A language detection does not know is given the benefit of the doubt.
    let primary = analysis::primary_language(declared)?;
    let declared = whatlang::Lang::from_code(meta::iso639_3(&primary))?;
    let long =
        text.split_whitespace().nth(49).is_some() || text.chars().filter(|&c| analysis::is_cjk(c)).nth(149).is_some();
    if !long {
        return None;
    }
    let mut end = text.len().min(2000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let script = whatlang::detect_script(&text[..end])?;
    if script.langs().contains(&declared) {
        return None;
    }
    detect_language(text)
}

/// Cleans a stand-alone HTML document (the offline `newswire extract` tool and the
/// evaluation): as an item whose only content is the page, fetched at `now` from `url`.
pub fn extract_document(html: &str, url: Option<&str>, now: DateTime<Utc>) -> Result<CleanedRecord, StageError> {
    // Without a URL the id is a hash of the page, but only where the page names no canonical
    // URL of its own: hashing every page up front cost 5% of the time of `newswire extract`.
    const UNNAMED: &str = "(a page without a URL)";
    let raw = RawRecord {
        schema_version: RawRecord::SCHEMA_VERSION,
        id: url.map_or_else(|| UNNAMED.to_string(), record::article_id),
        feed: record::FeedRef {
            url: url.unwrap_or_default().to_string(),
            name: None,
            tags: Vec::new(),
            language: None,
        },
        guid: None,
        url: url.map(str::to_string),
        title: None,
        summary: None,
        content: None,
        authors: Vec::new(),
        categories: Vec::new(),
        published_at: None,
        updated_at: None,
        language: None,
        lead_image: None,
        page: Some(record::Page {
            url: url.unwrap_or_default().to_string(),
            html: html.to_string(),
            fetched_at: now,
        }),
        article_fetch: None,
        fetched_at: now,
    };
    let mut record = clean(&raw, now)?;
    if record.article.id == UNNAMED {
        record.article.id = record::article_id(html);
    }
    Ok(record)
}

/// The extractor `extraction` asks for: unless `extraction.isolate` is off, child processes of
/// this executable (see [`sandbox`]), each with `extraction.worker_memory_mb` of address space,
/// once a first worker has answered a test page; otherwise, or when that fails, threads (and
/// the log says why).
pub fn extractor(extraction: &ExtractionConfig) -> Extractor {
    if !extraction.isolate {
        tracing::warn!(
            "extraction.isolate is off: pages are extracted in threads, without a hard time or memory limit."
        );
        return Extractor::Threads;
    }
    let memory_bytes = extraction.worker_memory_mb.saturating_mul(1 << 20);
    let sandbox = match std::env::current_exe() {
        Ok(exe) => sandbox::Sandbox::new(exe, memory_bytes),
        Err(e) => {
            tracing::warn!(error = %e, "Cannot find this executable to start extraction workers; pages are extracted in threads, without a hard time or memory limit.");
            return Extractor::Threads;
        }
    };
    let probe = "<html><body><article><p>One two three four five six seven eight nine ten eleven twelve \
                 thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty twenty-one \
                 twenty-two twenty-three twenty-four twenty-five.</p></article></body></html>";
    match sandbox::extract(&sandbox, probe, None, Utc::now(), std::time::Duration::from_secs(30)) {
        Ok(_) => Extractor::Sandboxed(std::sync::Arc::new(sandbox)),
        Err(failure) => {
            tracing::warn!(
                reason = failure.reason(),
                "The extraction worker failed its test page; pages are extracted in threads, without a hard time or memory limit."
            );
            Extractor::Threads
        }
    }
}

/// Registers the cleaner's own metrics, so that they are exported (at zero) before the first
/// page: in the service and in standalone mode alike.
pub fn register_metrics() {
    std::sync::LazyLock::force(&metrics::FAILURES);
    std::sync::LazyLock::force(&metrics::EXTRACTIONS);
}

/// Runs the cleaner service until `shutdown` is cancelled.
pub async fn run(config: CleanerConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    register_metrics();
    let extraction = &config.extraction;
    let extractor = extractor(extraction);
    let topics = &config.kafka.topics;
    let run = runtime::StageRun {
        input_topic: topics.raw.clone(),
        output_topic: topics.cleaned.clone(),
        state_topic: None,
        kafka: config.kafka.clone(),
        runtime: config.runtime.clone(),
    };
    runtime::serve_stage(Cleaner::with_extractor(extraction.budget(), extractor), run, shutdown).await
}

#[cfg(test)]
mod tests;
