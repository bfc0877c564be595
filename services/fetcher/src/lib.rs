//! The fetcher: polls the feeds of the feeds file and emits one raw record per item that it
//! has not emitted before.
//!
//! The logic is split so that it runs the same on Kafka and in the standalone pipeline:
//! [`Fetcher::poll`] fetches and parses one feed and says what is new (no state changes);
//! [`Fetcher::commit`] records that the poll's records were delivered and returns the state
//! change to persist with them. Cluster mode persists it in the same Kafka transaction as
//! the records; standalone mode in the embedded store after the records are written.

mod feeds;
mod http;
mod parse;
mod schedule;

pub use feeds::{FeedEntry, FeedsError, FeedsFile};
pub use http::{FetchError, Fetched, HttpClient};
pub use parse::{ParseError, parse_feed};
pub use schedule::Schedule;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use config::{KafkaConfig, RuntimeConfig};
use record::{Page, RawRecord};
use runtime::{OutgoingRecord, Publisher, StateChange};
use serde::{Deserialize, Serialize};
use telemetry::{Health, StageMetrics};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// How many item ids a feed remembers. Feeds list their latest 10–100 items; remembering
/// many more than the feed shows means an item that drops out and comes back (a re-sorted
/// feed) is still not emitted twice.
const SEEN_PER_FEED: usize = 2_000;

/// The fetcher's settings (the `fetcher:` section of its configuration file, and the
/// standalone command's defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchSettings {
    /// `user_agent`: sent with every request.
    pub user_agent: String,
    /// `request_timeout_secs`: a whole request, body included.
    pub request_timeout_secs: u64,
    /// `max_body_bytes`: feeds and pages larger than this are refused.
    pub max_body_bytes: usize,
    /// `min_interval_secs`: default for feeds that do not set their own.
    pub min_interval_secs: u64,
    /// `max_concurrent_fetches`: requests in flight at once, over all feeds.
    pub max_concurrent_fetches: usize,
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            user_agent: concat!(
                "newswire/",
                env!("CARGO_PKG_VERSION"),
                " (+https://github.com/newswire)"
            )
            .to_string(),
            request_timeout_secs: 30,
            max_body_bytes: 10 * 1024 * 1024,
            min_interval_secs: 300,
            max_concurrent_fetches: 16,
        }
    }
}

/// The fetcher service's configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetcherConfig {
    /// `kafka`: how to reach the cluster, and the topic names.
    #[serde(default)]
    pub kafka: KafkaConfig,
    /// `runtime`: instance id, endpoints, shutdown.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// `feeds_file`: the feeds to poll (see `deploy/feeds.yaml`).
    #[serde(default = "default_feeds_file")]
    pub feeds_file: PathBuf,
    /// `fetcher`: polling settings.
    #[serde(default)]
    pub fetcher: FetchSettings,
}

fn default_feeds_file() -> PathBuf {
    PathBuf::from("deploy/feeds.yaml")
}

/// What the fetcher remembers about a feed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedState {
    /// The feed's last `ETag`, sent back as `If-None-Match`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The feed's last `Last-Modified`, sent back as `If-Modified-Since`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Ids of items already emitted, newest first.
    #[serde(default)]
    pub seen: Vec<String>,
}

/// The outcome of polling one feed.
#[derive(Debug)]
pub struct Polled {
    /// Records for the items not emitted before, in feed order.
    pub records: Vec<RawRecord>,
    /// The feed's state once these records are delivered; pass it to [`Fetcher::commit`].
    pub next_state: FeedState,
    /// Items in the document (new or not); 0 when the feed was not modified.
    pub items: usize,
}

/// Why a poll failed.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Parse(#[from] ParseError),
}

impl PollError {
    /// The error kind, a small fixed set for metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            PollError::Fetch(err) => err.kind(),
            PollError::Parse(_) => "parse",
        }
    }
}

/// The fetcher's logic and state.
#[derive(Debug)]
pub struct Fetcher {
    client: HttpClient,
    states: HashMap<String, FeedState>,
}

impl Fetcher {
    pub fn new(settings: &FetchSettings) -> anyhow::Result<Self> {
        let client = HttpClient::new(
            &settings.user_agent,
            Duration::from_secs(settings.request_timeout_secs),
            settings.max_body_bytes,
        )?;
        Ok(Self {
            client,
            states: HashMap::new(),
        })
    }

    /// Applies one persisted state entry (key: feed URL; value: JSON [`FeedState`]).
    pub fn restore(&mut self, key: &[u8], value: Option<&[u8]>) {
        let Ok(url) = std::str::from_utf8(key) else {
            return;
        };
        match value.map(serde_json::from_slice::<FeedState>) {
            Some(Ok(state)) => {
                self.states.insert(url.to_string(), state);
            }
            Some(Err(err)) => {
                tracing::warn!(feed = url, error = %err, "Unreadable feed state ignored.")
            }
            None => {
                self.states.remove(url);
            }
        }
    }

    /// The remembered state of a feed (empty for a new feed).
    pub fn state(&self, feed_url: &str) -> FeedState {
        self.states.get(feed_url).cloned().unwrap_or_default()
    }

    /// Polls one feed with this fetcher's client and state. Changes no state.
    pub async fn poll(&self, feed: &FeedEntry) -> Result<Polled, PollError> {
        poll_feed(&self.client, feed, self.state(&feed.url)).await
    }

    /// Records that a poll's records were delivered; returns the change to persist.
    pub fn commit(&mut self, feed_url: &str, state: FeedState) -> StateChange {
        let change = state_change(feed_url, &state);
        self.states.insert(feed_url.to_string(), state);
        change
    }
}

/// A feed's state as a persisted entry: key the feed URL, value the JSON [`FeedState`].
pub fn state_change(feed_url: &str, state: &FeedState) -> StateChange {
    // A FeedState (strings and a list of strings) always serialises.
    let value = serde_json::to_vec(state).unwrap_or_default();
    StateChange {
        key: feed_url.as_bytes().to_vec(),
        value: Some(value),
    }
}

/// Fetches and parses `feed` given its `state`; says which items are new.
pub async fn poll_feed(client: &HttpClient, feed: &FeedEntry, state: FeedState) -> Result<Polled, PollError> {
    let fetched = client
        .get(&feed.url, state.etag.as_deref(), state.last_modified.as_deref())
        .await?;
    let Fetched::Body {
        body,
        final_url,
        etag,
        last_modified,
    } = fetched
    else {
        return Ok(Polled {
            records: Vec::new(),
            next_state: state,
            items: 0,
        });
    };
    let now = Utc::now();
    let records = parse_feed(feed, &body, &final_url, now)?;
    let items = records.len();
    let (mut records, next_state) = new_items(records, &state);
    let next_state = FeedState {
        etag,
        last_modified,
        ..next_state
    };
    if feed.fetch_article {
        for record in &mut records {
            record.page = fetch_page(client, record).await;
        }
    }
    Ok(Polled {
        records,
        next_state,
        items,
    })
}

/// The article page for a record, or `None` (logged) when it cannot be had: the record
/// still goes on with the feed's text.
async fn fetch_page(client: &HttpClient, record: &RawRecord) -> Option<Page> {
    let url = record.url.as_deref()?;
    match client.get(url, None, None).await {
        Ok(Fetched::Body { body, final_url, .. }) => Some(Page {
            url: final_url,
            html: String::from_utf8_lossy(&body).into_owned(),
            fetched_at: Utc::now(),
        }),
        Ok(Fetched::NotModified) => None,
        Err(err) => {
            tracing::warn!(url, error = %err, "Article page not fetched; using the feed's text.");
            None
        }
    }
}

/// Splits parsed records into the ones not seen before, and the state after them.
pub fn new_items(records: Vec<RawRecord>, state: &FeedState) -> (Vec<RawRecord>, FeedState) {
    let seen: HashSet<&str> = state.seen.iter().map(String::as_str).collect();
    let mut emitted: HashSet<String> = HashSet::new();
    let mut fresh = Vec::new();
    let mut ids = Vec::new();
    for record in records {
        if seen.contains(record.id.as_str()) || !emitted.insert(record.id.clone()) {
            continue;
        }
        ids.push(record.id.clone());
        fresh.push(record);
    }
    ids.extend(state.seen.iter().cloned());
    ids.truncate(SEEN_PER_FEED);
    (
        fresh,
        FeedState {
            seen: ids,
            ..state.clone()
        },
    )
}

/// Polls every feed once, concurrently (at most `max_concurrent` requests in flight), and
/// hands each successful poll to `deliver` as it completes. Failures are counted and
/// logged, and the other feeds go on.
pub async fn poll_all<F>(fetcher: &Fetcher, feeds: &[FeedEntry], max_concurrent: usize, mut deliver: F)
where
    F: FnMut(&FeedEntry, Polled),
{
    let metrics = StageMetrics::get("fetcher");
    let limit = Arc::new(Semaphore::new(max_concurrent.max(1)));
    let mut polls = tokio::task::JoinSet::new();
    for (index, feed) in feeds.iter().enumerate() {
        let (client, feed, state) = (fetcher.client.clone(), feed.clone(), fetcher.state(&feed.url));
        let limit = limit.clone();
        polls.spawn(async move {
            let _permit = limit.acquire_owned().await;
            (index, poll_feed(&client, &feed, state).await)
        });
    }
    while let Some(joined) = polls.join_next().await {
        let Ok((index, result)) = joined else {
            tracing::error!("A feed poll panicked.");
            continue;
        };
        let feed = &feeds[index];
        match result {
            Ok(polled) => {
                metrics.records_in.inc_by(polled.items as u64);
                metrics
                    .records_dropped
                    .inc_by((polled.items - polled.records.len()) as u64);
                tracing::debug!(feed = %feed.url, items = polled.items, new = polled.records.len(), "Feed polled.");
                deliver(feed, polled);
            }
            Err(err) => {
                metrics.records_errored.with_label_values(&[err.kind()]).inc();
                tracing::warn!(feed = %feed.url, kind = err.kind(), error = %err, "Feed poll failed.");
            }
        }
    }
}

/// The largest raw record the fetcher publishes: Kafka's default `message.max.bytes` (1 MB)
/// less room for the key and headers.
const MAX_RECORD_BYTES: usize = 1_000_000 - 4096;

/// A raw record as JSON within [`MAX_RECORD_BYTES`]: an article page that makes it too large is
/// dropped (the feed's own text remains); an item still too large is counted, logged and left
/// out, so that one huge item cannot block its feed forever.
fn encode_within_limit(mut record: RawRecord, metrics: &StageMetrics) -> Option<Vec<u8>> {
    let mut payload = serde_json::to_vec(&record).ok()?;
    if payload.len() > MAX_RECORD_BYTES && record.page.take().is_some() {
        tracing::warn!(
            url = record.url.as_deref(),
            bytes = payload.len(),
            "Article page too large; using the feed's text."
        );
        payload = serde_json::to_vec(&record).ok()?;
    }
    if payload.len() > MAX_RECORD_BYTES {
        metrics.records_errored.with_label_values(&["too_large"]).inc();
        tracing::error!(id = %record.id, url = record.url.as_deref(), bytes = payload.len(), "Item too large to publish; left out.");
        return None;
    }
    Some(payload)
}

/// Runs the fetcher service until `shutdown`: restores the seen-state from its changelog,
/// then polls every feed on its schedule ([`Schedule`]) and publishes each feed's new items with
/// the feed's new state in one transaction.
pub async fn run(config: FetcherConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    let feeds = FeedsFile::load(&config.feeds_file)?.feeds;
    let health = Health::default();
    let http_shutdown = CancellationToken::new();
    telemetry::serve(&config.runtime.listen_addr, health.clone(), http_shutdown.clone()).await?;
    let _stop_http = http_shutdown.drop_guard();
    let metrics = StageMetrics::get("fetcher");

    let mut fetcher = Fetcher::new(&config.fetcher)?;
    let topics = config.kafka.topics.clone();
    let (kafka, runtime) = (config.kafka.clone(), config.runtime.clone());
    let (publisher, restored) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let publisher = Publisher::new(&kafka, &runtime, "fetcher", &topics.raw, Some(&topics.fetcher_state))?;
        let mut restored = Vec::new();
        runtime::restore_state(&kafka, &topics.fetcher_state, |k, v| {
            restored.push((k.to_vec(), v.map(<[u8]>::to_vec)))
        })?;
        Ok((publisher, restored))
    })
    .await??;
    for (key, value) in &restored {
        fetcher.restore(key, value.as_deref());
    }
    let publisher = Arc::new(publisher);
    tracing::info!(feeds = feeds.len(), restored = restored.len(), "Fetcher started.");
    health.set_ready(true);

    let mut schedule = Schedule::new(Duration::from_secs(config.fetcher.min_interval_secs));
    while !shutdown.is_cancelled() {
        let now = tokio::time::Instant::now();
        let due: Vec<FeedEntry> = schedule.due(&feeds, now).into_iter().cloned().collect();
        for feed in &due {
            schedule.polled(feed, now);
        }
        let mut delivered = Vec::new();
        tokio::select! {
            () = poll_all(&fetcher, &due, config.fetcher.max_concurrent_fetches, |feed, polled| delivered.push((feed.url.clone(), polled))) => {}
            () = shutdown.cancelled() => break,
        }
        for (url, polled) in delivered {
            let next_state = polled.next_state.clone();
            let records: Vec<OutgoingRecord> = polled
                .records
                .into_iter()
                .filter_map(|r| {
                    let key = r.id.clone();
                    encode_within_limit(r, &metrics).map(|payload| OutgoingRecord { key, payload })
                })
                .collect();
            let change = state_change(&url, &next_state);
            let publisher = publisher.clone();
            let count = records.len() as u64;
            let result = tokio::task::spawn_blocking(move || publisher.publish(&records, &[change])).await?;
            match result {
                Ok(()) => {
                    fetcher.commit(&url, next_state);
                    metrics.records_out.inc_by(count);
                    metrics.transactions.with_label_values(&["committed"]).inc();
                }
                Err(err @ runtime::PublishError::Aborted { .. }) => {
                    // The state is not committed either, so the next poll offers the same
                    // items again: nothing is lost.
                    metrics.transactions.with_label_values(&["aborted"]).inc();
                    tracing::warn!(feed = %url, error = %err, "Publishing a feed's items failed; retrying next poll.");
                }
                Err(err) => {
                    health.set_failed();
                    return Err(err.into());
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep_until(schedule.next_due(&feeds, tokio::time::Instant::now())) => {}
            () = shutdown.cancelled() => {}
        }
    }
    tracing::info!("Fetcher stopped.");
    Ok(())
}

#[cfg(test)]
mod tests;
