//! The records that travel between newswire's stages, one typed struct per Kafka topic.
//!
//! Every record carries `schema_version`; times are RFC 3339 in UTC. The JSON Schema of each
//! record is generated from these types ([`schemas`]) and checked in under `deploy/schemas/`.
//! Records tolerate unknown fields on input, so that a newer producer does not break an older
//! consumer; a breaking change bumps the record's schema version.

mod id;

pub use id::{article_id, normalize_url};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The default topic names. Deployments may rename them (see the services' configuration).
pub mod topics {
    /// Raw feed items, written by the fetcher.
    pub const RAW: &str = "news.raw";
    /// Items with clean text and metadata, written by the cleaner.
    pub const CLEANED: &str = "news.cleaned";
    /// First copies of each story (and revisions), written by the deduper.
    pub const UNIQUE: &str = "news.unique";
    /// Topic-tagged articles, written by the tagger: what users consume.
    pub const ENRICHED: &str = "news.enriched";
    /// Poison records that a stage could not process, with the error in headers.
    pub const DLQ: &str = "news.dlq";
    /// The fetcher's seen-item state (compacted changelog).
    pub const FETCHER_STATE: &str = "news.fetcher.state";
    /// The deduper's fingerprint state (compacted changelog).
    pub const DEDUPER_STATE: &str = "news.deduper.state";
    /// Topic-spike events, written by the alerter.
    pub const ALERTS: &str = "news.alerts";
    /// The alerter's per-topic rates and baselines (compacted changelog).
    pub const ALERTER_STATE: &str = "news.alerter.state";
}

/// A record that travels on a Kafka topic.
pub trait Record: Serialize + serde::de::DeserializeOwned + JsonSchema + Send + 'static {
    /// The version of this record's schema; bumped on every breaking change.
    const SCHEMA_VERSION: u32;
    /// The Kafka message key: every revision of one article has the same key, and so lands
    /// in the same partition.
    fn key(&self) -> &str;
}

/// The feed an item was read from, as configured in the feeds file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FeedRef {
    /// The feed's URL, as configured.
    pub url: String,
    /// The feed's display name, from the feeds file (or the feed's own title).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free-form tags from the feeds file (region, language, outlet kind...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The feed's language from the feeds file (BCP 47), if given: the article's language,
    /// whatever the feed, the item or the page declare.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// An article page fetched from the item's link (when the feed asks for full articles).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Page {
    /// The URL the page was finally served from, after redirects.
    pub url: String,
    /// The page's HTML, decoded to UTF-8.
    pub html: String,
    /// When the page was fetched.
    pub fetched_at: DateTime<Utc>,
}

/// Whether the fetcher fetched an item's article page, and why (`fetch_article`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ArticleFetch {
    /// Whether the page was requested.
    pub requested: bool,
    /// Why (or why not): `always`, `never` (the feed's setting), or with `auto`: `no_text`
    /// (the item has no text, as sitemap entries), `short` (a summary of few words),
    /// `ellipsis` (the text is cut off), `title_only` (the text is the title again),
    /// `full_text` (the item carries the article: not requested), `no_link`.
    pub reason: String,
    /// When requested: `ok`, or why the page could not be had (`robots_denied`, `http_4xx`,
    /// `timeout`, ...; the record then goes on with the feed's text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// `news.raw`: one feed item, as the fetcher read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RawRecord {
    /// The version of this schema (1).
    pub schema_version: u32,
    /// The article id: derived from the item's normalised link (or from its guid, or from the
    /// feed and title when it has neither). See [`article_id`].
    pub id: String,
    /// The feed this item came from.
    pub feed: FeedRef,
    /// The item's guid or Atom id, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    /// The item's link, resolved against the feed's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The item's title, as in the feed (may contain markup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The item's summary or description, as in the feed (often HTML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The item's full content (`content:encoded`, Atom content), when the feed carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Author names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    /// The feed's own categories for the item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// When the item was published, as the feed says (absent when it says nothing usable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<DateTime<Utc>>,
    /// When the item was last updated, as the feed says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// The feed's declared language (BCP 47), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// A lead image from the item's enclosures or media tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_image: Option<String>,
    /// The article page behind the link, when it was fetched (see `article_fetch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<Page>,
    /// Whether and why the page was fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article_fetch: Option<ArticleFetch>,
    /// When the fetcher first saw this item.
    pub fetched_at: DateTime<Utc>,
}

impl Record for RawRecord {
    const SCHEMA_VERSION: u32 = 1;
    fn key(&self) -> &str {
        &self.id
    }
}

/// Where an article was published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Source {
    /// The publisher's domain (host of the canonical URL, without `www.`).
    pub domain: String,
    /// The publisher's name, when known (feed name, `og:site_name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Fingerprints of an article's content, used to find duplicates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Fingerprints {
    /// SHA-256 (hex) of the normalised text: equal for exact copies.
    pub content_sha256: String,
}

/// When each stage handled the article (the fetch time is `fetched_at`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StageTimes {
    /// When the cleaner produced the clean text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleaned_at: Option<DateTime<Utc>>,
    /// When the deduper let the article through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deduplicated_at: Option<DateTime<Utc>>,
    /// When the tagger tagged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tagged_at: Option<DateTime<Utc>>,
}

/// The article as the cleaner extracts it; later stages add to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Article {
    /// Stable article id, derived from the canonical URL (see [`article_id`]).
    pub id: String,
    /// The item's link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The normalised canonical URL that `id` derives from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_url: Option<String>,
    /// The feed the article came from.
    pub feed: FeedRef,
    /// The publisher.
    pub source: Source,
    /// The headline, as plain text.
    pub title: String,
    /// Author names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    /// When the article was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<DateTime<Utc>>,
    /// When the article was last updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// When the fetcher first saw the item.
    pub fetched_at: DateTime<Utc>,
    /// The article's language (BCP 47), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The standfirst or feed summary, as plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The clean body text: paragraphs separated by a blank line.
    pub text: String,
    /// Words in `text`.
    pub word_count: u32,
    /// The lead image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_image: Option<String>,
    /// The feed's categories for the item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Content fingerprints.
    pub fingerprints: Fingerprints,
    /// Per-stage timestamps.
    #[serde(default)]
    pub timestamps: StageTimes,
    /// How the cleaner extracted the article: method, section and where each field came from.
    #[serde(default)]
    pub extraction: Extraction,
}

/// How the cleaner obtained an article's text and metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Extraction {
    /// Which extractor produced `text`: `trafilatura` (the main one), `fallback` (the simpler
    /// whole-page walk when the main one found nothing worth keeping), `feed_content`,
    /// `feed_summary`, or `none`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub method: String,
    /// The section of the publication (`articleSection`, `article:section`), when the page says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// Where each metadata field came from, by field name (`title`, `authors`, `published_at`,
    /// `updated_at`, `language`, `summary`, `lead_image`, `site_name`, `section`,
    /// `canonical_url`): one of `json_ld`, `opengraph`, `meta`, `html`, `feed`, `url`,
    /// `detected`, `heuristic`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub provenance: std::collections::BTreeMap<String, String>,
    /// Why the page could not be used, when the text came from the feed instead (for example
    /// `too_large`, `too_deep`, `timeout`, `memory`, `charset`, `empty`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_failure: Option<String>,
    /// Whether and why the fetcher fetched the article page (from the raw record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article_fetch: Option<ArticleFetch>,
}

/// `news.cleaned`: an article with clean text and metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CleanedRecord {
    /// The version of this schema (1).
    pub schema_version: u32,
    #[serde(flatten)]
    pub article: Article,
}

impl Record for CleanedRecord {
    const SCHEMA_VERSION: u32 = 1;
    fn key(&self) -> &str {
        &self.article.id
    }
}

/// Which story an article belongs to, and which revision of it this is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Story {
    /// The story cluster: the id of the first article of the story.
    pub story_id: String,
    /// 1 for the first version of an article, then 2, 3... for material revisions.
    pub revision: u32,
    /// For a near-duplicate, the id of the article it duplicates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// For a near-duplicate, its similarity to `duplicate_of` (0 to 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f64>,
}

/// `news.unique`: an article that is not a repeat of one already seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UniqueRecord {
    /// The version of this schema (1).
    pub schema_version: u32,
    #[serde(flatten)]
    pub article: Article,
    #[serde(flatten)]
    pub story: Story,
}

impl Record for UniqueRecord {
    const SCHEMA_VERSION: u32 = 1;
    fn key(&self) -> &str {
        &self.article.id
    }
}

/// One reason a topic matched: a term, the field it was found in, and how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TermMatch {
    /// The term or phrase as written in the taxonomy.
    pub term: String,
    /// The field it matched in: `title`, `summary` or `text`.
    pub field: String,
    /// How many times it occurs there.
    pub count: u32,
    /// Where: character offsets `[start, end)` into the field (Unicode scalar values, not
    /// bytes), one per occurrence, for highlighting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offsets: Vec<Span>,
}

/// A range of characters `[start, end)` in a field (counted in Unicode scalar values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Span {
    /// The first character.
    pub start: u32,
    /// One past the last character.
    pub end: u32,
}

/// One mention of an entity: the field and the characters it occupies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Mention {
    /// `title`, `summary` or `text`.
    pub field: String,
    /// The first character.
    pub start: u32,
    /// One past the last character.
    pub end: u32,
}

/// A topic the article was tagged with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TopicMatch {
    /// The topic's slug, e.g. `russia-china`.
    pub slug: String,
    /// The topic's human label.
    pub label: String,
    /// How strongly the article matches (weighted count of matches; see the taxonomy docs).
    pub score: f64,
    /// The terms and fields that matched, so an analyst can see why.
    pub matches: Vec<TermMatch>,
}

/// The kind of a named entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Person,
    Country,
    Organisation,
}

/// A named entity found in the article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Entity {
    /// Stable id (a Wikidata QID where one exists).
    pub id: String,
    /// The entity's preferred name.
    pub name: String,
    /// Person, country or organisation.
    pub kind: EntityKind,
    /// Mentions in the article.
    pub count: u32,
    /// The entity's country (ISO 3166-1 alpha-2): the country itself, or a person's or an
    /// organisation's home country, when the gazetteer gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Where each mention is, for highlighting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Mention>,
}

/// `news.enriched`: the record users consume. One object per article revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EnrichedRecord {
    /// The version of this schema (1).
    pub schema_version: u32,
    #[serde(flatten)]
    pub article: Article,
    #[serde(flatten)]
    pub story: Story,
    /// The topics the article is tagged with, best first.
    pub topics: Vec<TopicMatch>,
    /// People, countries and organisations mentioned.
    pub entities: Vec<Entity>,
    /// The countries the article is about (ISO 3166-1 alpha-2, most prominent first): not
    /// every country it mentions, only those weighing most in its title, lead and text.
    #[serde(default)]
    pub focus_countries: Vec<String>,
}

impl Record for EnrichedRecord {
    const SCHEMA_VERSION: u32 = 1;
    fn key(&self) -> &str {
        &self.article.id
    }
}

/// Whether a spike event opens or closes a spike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The topic's rate departed from its baseline: a new spike.
    Spiking,
    /// The spike is over: the rate came back near its baseline.
    Resolved,
}

/// `news.alerts`: a topic's article rate departed from (or came back to) its baseline.
///
/// The key is the topic's slug, so that every event of one topic lands in one partition, in
/// order. See the alerter's documentation for the method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AlertEvent {
    /// The version of this schema (1).
    pub schema_version: u32,
    /// A stable id of this event: `<topic>/<state>/<window_end>`, for downstream deduplication.
    pub id: String,
    /// The topic's slug, e.g. `russia-china`.
    pub topic: String,
    /// The topic's human label.
    pub label: String,
    /// Whether the spike starts or ends.
    pub state: AlertState,
    /// The start of the window the rate was measured over (inclusive).
    pub window_start: DateTime<Utc>,
    /// The end of the window (exclusive); also the time the detector judged it.
    pub window_end: DateTime<Utc>,
    /// The window's length in seconds.
    pub window_secs: u64,
    /// Stories of the topic in the window (each story counted once).
    pub observed: u64,
    /// Stories the baseline expected in a window this long.
    pub expected: f64,
    /// How far `observed` is above `expected`, in standard deviations (a z-score).
    pub score: f64,
    /// Ids of some of the window's articles, most recent first.
    pub sample_article_ids: Vec<String>,
}

impl Record for AlertEvent {
    const SCHEMA_VERSION: u32 = 1;
    fn key(&self) -> &str {
        &self.topic
    }
}

/// A character written without spaces between words: CJK ideographs (the unified blocks and
/// their extensions, compatibility ideographs), hiragana and katakana. (Hangul is written with
/// spaces.) Text analysis that splits on spaces takes each of these as a word of its own.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF       // hiragana, katakana
        | 0x3400..=0x4DBF     // extension A
        | 0x4E00..=0x9FFF     // unified ideographs
        | 0xF900..=0xFAFF     // compatibility ideographs
        | 0x20000..=0x3134F) // extensions B to G
}

/// Whether `date` can be the publication time of a news item seen at `now`: not before 1995
/// (no news on the web before that, and 1970 is a zero timestamp) and not more than a day
/// after `now` (a feed's, a page's or a time zone's mistake). The fetcher and the cleaner
/// both apply it, to feed dates and page dates alike.
pub fn plausible_date(date: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> bool {
    use chrono::TimeZone as _;
    let earliest = chrono::Utc
        .with_ymd_and_hms(1995, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    date >= earliest && date <= now + chrono::Duration::days(1)
}

/// The JSON Schema of every record, by file name under `deploy/schemas/`.
pub fn schemas() -> Vec<(&'static str, String)> {
    fn one<T: JsonSchema>() -> String {
        let schema = schemars::schema_for!(T);
        // Pretty and newline-terminated, so that the checked-in files diff well.
        let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serialises");
        text.push('\n');
        text
    }
    vec![
        ("news.raw.schema.json", one::<RawRecord>()),
        ("news.cleaned.schema.json", one::<CleanedRecord>()),
        ("news.unique.schema.json", one::<UniqueRecord>()),
        ("news.enriched.schema.json", one::<EnrichedRecord>()),
        ("news.alerts.schema.json", one::<AlertEvent>()),
    ]
}

#[cfg(test)]
mod tests;
