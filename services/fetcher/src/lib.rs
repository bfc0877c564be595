//! The fetcher: polls the feeds of the feeds file and emits one raw record per item that it
//! has not emitted before.
//!
//! The logic is split so that it runs the same on Kafka and in the standalone pipeline:
//! [`Fetcher::poll`] fetches and parses one feed and says what is new and what the feed's
//! state becomes (its schedule, validators, errors); it changes nothing itself.
//! [`Fetcher::commit`] records that the poll's records were delivered and returns the state
//! change to persist with them. Cluster mode persists it in the same Kafka transaction as
//! the records; standalone mode in the embedded store after the records are written.

mod feeds;
mod guard;
mod http;
mod limits;
pub mod metrics;
mod parse;
mod robots;
mod schedule;

pub use feeds::{FeedEntry, FeedsError, FeedsFile};
pub use guard::{NetworkPolicy, NetworkSettings, is_public};
pub use http::{FetchError, Fetched, HttpClient, HttpSettings, Kind};
pub use limits::HostLimits;
pub use parse::{ParseError, ParsedFeed, decode, parse_document, parse_feed, plain_text};
pub use schedule::{Health as FeedHealth, Observation, SchedulePolicy};

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use config::{KafkaConfig, RuntimeConfig};
use record::{Page, RawRecord};
use runtime::{OutgoingRecord, Publisher, StateChange};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use telemetry::{Health, StageMetrics};
use tokio_util::sync::CancellationToken;

use crate::robots::RobotsCache;

/// How many item ids a feed remembers. Feeds list their latest 10–100 items; remembering
/// many more than the feed shows means an item that drops out and comes back (a re-sorted
/// feed) is still not emitted twice. The state is rewritten after every poll, so this also
/// bounds the changelog's volume (about 33 bytes per id).
const SEEN_PER_FEED: usize = 1_000;

/// The fetcher's settings (the `fetcher:` section of its configuration file, and the
/// standalone command's defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchSettings {
    /// `user_agent`: sent with every request; its first word (before `/`) is the agent that
    /// robots.txt rules are matched against.
    pub user_agent: String,
    /// `connect_timeout_secs`: establishing a connection (TCP and TLS).
    pub connect_timeout_secs: u64,
    /// `header_timeout_secs`: from sending a request to its response headers.
    pub header_timeout_secs: u64,
    /// `request_timeout_secs`: a whole fetch, redirects and body included.
    pub request_timeout_secs: u64,
    /// `max_body_bytes`: feeds and pages larger than this (after decompression) are refused.
    pub max_body_bytes: usize,
    /// `max_redirects`: longer redirect chains are cut.
    pub max_redirects: usize,
    /// `min_interval_secs`: default shortest interval between polls of a feed.
    pub min_interval_secs: u64,
    /// `max_interval_secs`: default longest interval between polls of a feed.
    pub max_interval_secs: u64,
    /// `jitter`: random spread of each interval, as a fraction (0.1 = ±10%).
    pub jitter: f64,
    /// `max_backoff_secs`: the longest wait after consecutive errors (unparked feeds).
    pub max_backoff_secs: u64,
    /// `park_after_errors`: consecutive errors before a feed can be parked ...
    pub park_after_errors: u32,
    /// `park_after_secs`: ... once it has been failing for this long.
    pub park_after_secs: u64,
    /// `parked_retry_secs`: how often a parked feed is tried.
    pub parked_retry_secs: u64,
    /// `max_concurrent_fetches`: requests in flight at once, over all hosts.
    pub max_concurrent_fetches: usize,
    /// `per_host_concurrency`: requests in flight at once to one host.
    pub per_host_concurrency: usize,
    /// `per_host_requests_per_sec`: sustained request rate to one host ...
    pub per_host_requests_per_sec: f64,
    /// `per_host_burst`: ... after a burst of this many.
    pub per_host_burst: u32,
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
            connect_timeout_secs: 10,
            header_timeout_secs: 20,
            request_timeout_secs: 30,
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            min_interval_secs: 900,
            max_interval_secs: 6 * 3600,
            jitter: 0.1,
            max_backoff_secs: 24 * 3600,
            park_after_errors: 10,
            park_after_secs: 3 * 86_400,
            parked_retry_secs: 7 * 86_400,
            max_concurrent_fetches: 64,
            per_host_concurrency: 2,
            per_host_requests_per_sec: 1.0,
            per_host_burst: 5,
        }
    }
}

impl FetchSettings {
    /// Checks the settings; says which one is wrong.
    pub fn validate(&self) -> anyhow::Result<()> {
        let checks = [
            (
                self.min_interval_secs == 0,
                "fetcher.min_interval_secs must be at least 1",
            ),
            (
                self.max_interval_secs < self.min_interval_secs,
                "fetcher.max_interval_secs is below min_interval_secs",
            ),
            (!(0.0..0.5).contains(&self.jitter), "fetcher.jitter must be in [0, 0.5)"),
            (self.max_body_bytes == 0, "fetcher.max_body_bytes must be positive"),
            (
                self.max_concurrent_fetches == 0,
                "fetcher.max_concurrent_fetches must be positive",
            ),
            (
                self.per_host_concurrency == 0,
                "fetcher.per_host_concurrency must be positive",
            ),
            (
                self.per_host_requests_per_sec.is_nan() || self.per_host_requests_per_sec <= 0.0,
                "fetcher.per_host_requests_per_sec must be positive",
            ),
        ];
        match checks.iter().find(|(bad, _)| *bad) {
            Some((_, message)) => anyhow::bail!("{message}"),
            None => Ok(()),
        }
    }

    fn schedule(&self) -> SchedulePolicy {
        SchedulePolicy {
            min_interval: Duration::from_secs(self.min_interval_secs),
            max_interval: Duration::from_secs(self.max_interval_secs),
            max_backoff: Duration::from_secs(self.max_backoff_secs),
            park_after_errors: self.park_after_errors,
            park_after: Duration::from_secs(self.park_after_secs),
            parked_retry: Duration::from_secs(self.parked_retry_secs),
            jitter: self.jitter,
        }
    }

    /// The product token robots.txt rules are matched against ("newswire").
    fn robots_agent(&self) -> String {
        self.user_agent
            .split(['/', ' '])
            .next()
            .filter(|a| !a.is_empty())
            .unwrap_or("newswire")
            .to_string()
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
    /// `network`: private addresses the fetcher may reach (none by default).
    #[serde(default)]
    pub network: NetworkSettings,
}

fn default_feeds_file() -> PathBuf {
    PathBuf::from("deploy/feeds.yaml")
}

/// What the fetcher remembers about a feed. Everything a replica needs to take the feed over.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedState {
    /// The URL polled now, when permanent redirects moved the feed away from its configured URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The feed's last `ETag`, sent back as `If-None-Match`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The feed's last `Last-Modified`, sent back as `If-Modified-Since`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Set once the server sent unchanged validators with a changed body: its validators are
    /// not sent any more (the body hash still spares the parse of an unchanged document).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub validators_untrusted: bool,
    /// SHA-256 (first 16 bytes, hex) of the last body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_hash: Option<String>,
    /// Ids of items already emitted, newest first.
    #[serde(default)]
    pub seen: Vec<String>,
    /// The current interval between polls, as learned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_secs: Option<u64>,
    /// When the feed is due next (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_poll: Option<i64>,
    /// Consecutive failed polls.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub errors: u32,
    /// When the current run of failures began (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<i64>,
    /// The last successful poll (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<i64>,
    /// Failing for long: tried only every `parked_retry_secs`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub parked: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The outcome of polling one feed. A failed poll is an outcome too: it changes the feed's
/// schedule, which is persisted like any other state.
#[derive(Debug)]
pub struct Polled {
    /// Records for the items not emitted before, in feed order.
    pub records: Vec<RawRecord>,
    /// The feed's state once these records are delivered; pass it to [`Fetcher::commit`].
    pub next_state: FeedState,
    /// Items in the document (new or not); 0 when the feed was not modified or failed.
    pub items: usize,
    /// The `newswire_fetcher_polls_total` outcome.
    pub outcome: &'static str,
    /// The failure, for logs and tests.
    pub error: Option<String>,
}

impl Polled {
    /// Whether the poll worked (`ok` or `not_modified`).
    pub fn is_success(&self) -> bool {
        matches!(self.outcome, "ok" | "not_modified")
    }
}

/// What every poll needs; cheap to clone into a task.
#[derive(Debug, Clone)]
struct PollContext {
    client: HttpClient,
    schedule: Arc<SchedulePolicy>,
    robots: RobotsCache,
    robots_agent: Arc<str>,
}

/// The fetcher's logic and state.
#[derive(Debug)]
pub struct Fetcher {
    ctx: PollContext,
    states: HashMap<String, FeedState>,
}

impl Fetcher {
    /// A fetcher with `settings`, reaching private addresses only as `network` allows.
    pub fn new(settings: &FetchSettings, network: &NetworkSettings) -> anyhow::Result<Self> {
        settings.validate()?;
        let policy = NetworkPolicy::new(&network.allow).map_err(anyhow::Error::msg)?;
        let client = HttpClient::new(
            HttpSettings {
                user_agent: settings.user_agent.clone(),
                connect_timeout: Duration::from_secs(settings.connect_timeout_secs),
                header_timeout: Duration::from_secs(settings.header_timeout_secs),
                total_timeout: Duration::from_secs(settings.request_timeout_secs),
                max_body_bytes: settings.max_body_bytes,
                max_redirects: settings.max_redirects,
            },
            policy,
            HostLimits::new(
                settings.per_host_concurrency,
                settings.per_host_requests_per_sec,
                settings.per_host_burst,
                settings.max_concurrent_fetches,
            ),
        )?;
        Ok(Self {
            ctx: PollContext {
                client,
                schedule: Arc::new(settings.schedule()),
                robots: RobotsCache::default(),
                robots_agent: settings.robots_agent().into(),
            },
            states: HashMap::new(),
        })
    }

    /// Applies one persisted state entry (key: configured feed URL; value: JSON [`FeedState`]).
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

    /// Forgets a feed's state (it moved to another replica).
    pub fn forget(&mut self, feed_url: &str) {
        self.states.remove(feed_url);
    }

    /// The remembered state of a feed (empty for a new feed).
    pub fn state(&self, feed_url: &str) -> FeedState {
        self.states.get(feed_url).cloned().unwrap_or_default()
    }

    /// Polls one feed with this fetcher's client and state. Changes no state.
    pub async fn poll(&self, feed: &FeedEntry) -> Polled {
        poll_feed(&self.ctx, feed, self.state(&feed.url)).await
    }

    /// Records that a poll's records were delivered; returns the change to persist.
    pub fn commit(&mut self, feed: &FeedEntry, state: FeedState) -> StateChange {
        let change = state_change(&feed.url, &state);
        metrics::get().feed_health(feed_label(feed), state.errors, state.last_success);
        self.states.insert(feed.url.clone(), state);
        change
    }

    /// The feeds of `feeds` due at `now`.
    pub fn due<'a>(&self, feeds: &'a [FeedEntry], now: DateTime<Utc>) -> Vec<&'a FeedEntry> {
        feeds
            .iter()
            .filter(|f| self.states.get(&f.url).is_none_or(|s| SchedulePolicy::due(s, now)))
            .collect()
    }

    /// How long until the next of `feeds` is due (zero if one is), at most `cap`.
    pub fn until_next_due(&self, feeds: &[FeedEntry], now: DateTime<Utc>, cap: Duration) -> Duration {
        let next = feeds
            .iter()
            .map(|f| self.states.get(&f.url).and_then(|s| s.next_poll).unwrap_or(i64::MIN))
            .min();
        match next {
            Some(at) if at > now.timestamp() => Duration::from_secs((at - now.timestamp()) as u64).min(cap),
            Some(_) => Duration::ZERO,
            None => cap,
        }
    }

    /// Sets `newswire_fetcher_feeds{state}` from the states of `feeds`.
    pub fn update_feed_gauges(&self, feeds: &[FeedEntry]) {
        let mut counts = [0i64; 3];
        for feed in feeds {
            let health = self.states.get(&feed.url).map_or(FeedHealth::Active, FeedHealth::of);
            counts[health as usize] += 1;
        }
        let gauges = &metrics::get().feeds;
        for health in [FeedHealth::Active, FeedHealth::BackingOff, FeedHealth::Parked] {
            gauges
                .with_label_values(&[health.as_str()])
                .set(counts[health as usize]);
        }
    }
}

/// The label of a feed in per-feed metrics: its configured name, else its URL.
fn feed_label(feed: &FeedEntry) -> &str {
    feed.name.as_deref().unwrap_or(&feed.url)
}

/// A feed's state as a persisted entry: key the configured feed URL, value the JSON [`FeedState`].
pub fn state_change(feed_url: &str, state: &FeedState) -> StateChange {
    // A FeedState (strings, numbers and a list of strings) always serialises.
    let value = serde_json::to_vec(state).unwrap_or_default();
    StateChange {
        key: feed_url.as_bytes().to_vec(),
        value: Some(value),
    }
}

/// Fetches and parses `feed` given its `state`; says which items are new and what the
/// feed's state becomes. Never fails: a failure is an outcome with a backed-off schedule.
async fn poll_feed(ctx: &PollContext, feed: &FeedEntry, state: FeedState) -> Polled {
    let metrics = metrics::get();
    let asked = Utc::now();
    let url = state.url.clone().unwrap_or_else(|| feed.url.clone());
    let (etag, last_modified) = if state.validators_untrusted {
        (None, None)
    } else {
        (state.etag.as_deref(), state.last_modified.as_deref())
    };
    let started = std::time::Instant::now();
    let (fetched, queued) = ctx.client.get_timed(&url, etag, last_modified, Kind::Feed).await;
    metrics
        .request_seconds
        .observe(started.elapsed().saturating_sub(queued).as_secs_f64());
    // The feed was polled when its host's turn came, not when it joined the host's queue: its
    // lag and its next poll count from then.
    let now = asked + chrono::Duration::from_std(queued).unwrap_or_default();
    if let Some(at) = state.next_poll {
        metrics.poll_lag_seconds.observe((now.timestamp() - at).max(0) as f64);
    }
    let mut next = state.clone();
    let fetched = match fetched {
        Ok(fetched) => fetched,
        Err(err) => return failed(ctx, feed, next, err.kind(), err.to_string(), err.retry_after(), now),
    };
    metrics.response_bytes.inc_by(fetched.body.len() as u64);
    if let Some(moved) = &fetched.permanent_url {
        tracing::info!(feed = %feed.url, from = %url, to = %moved, "Feed moved permanently; polling the new URL from now on.");
        next.url = Some(moved.clone()).filter(|m| *m != feed.url);
    }
    let mut seen = Observation {
        first: state.last_success.is_none(),
        server_hint: [fetched.max_age, fetched.retry_after].into_iter().flatten().max(),
        ..Observation::default()
    };
    if fetched.not_modified {
        seen.not_modified = true;
        next.etag = fetched.etag.or(next.etag);
        next.last_modified = fetched.last_modified.or(next.last_modified);
        ctx.schedule.after_success(feed, &mut next, &seen, now);
        return polled(Vec::new(), next, 0, "not_modified");
    }
    let hash = hex::encode(&Sha256::digest(&fetched.body)[..16]);
    let same_body = state.body_hash.as_deref() == Some(hash.as_str());
    let same_validators = (fetched.etag.is_some() && fetched.etag == state.etag)
        || (fetched.last_modified.is_some() && fetched.last_modified == state.last_modified);
    if !same_body && same_validators && state.body_hash.is_some() && !state.validators_untrusted {
        tracing::info!(feed = %feed.url, "Feed changed without changing its validators; not trusting them any more.");
        next.validators_untrusted = true;
    }
    next.etag = fetched.etag.clone();
    next.last_modified = fetched.last_modified.clone();
    next.body_hash = Some(hash);
    if same_body {
        // The server ignored the validators (or has none); the document is the same.
        seen.not_modified = true;
        ctx.schedule.after_success(feed, &mut next, &seen, now);
        return polled(Vec::new(), next, 0, "not_modified");
    }
    let parsed = match parse_document(
        feed,
        &fetched.body,
        fetched.content_type.as_deref(),
        &fetched.final_url,
        now,
    ) {
        Ok(parsed) => parsed,
        Err(err) => return failed(ctx, feed, state, "parse_error", err.to_string(), None, now),
    };
    seen.items = parsed.records.len();
    seen.published = parsed.published.iter().flatten().copied().collect();
    seen.server_hint = seen.server_hint.max(parsed.ttl);
    let own_dates: HashMap<String, DateTime<Utc>> = parsed
        .records
        .iter()
        .zip(&parsed.published)
        .filter_map(|(r, d)| d.map(|d| (r.id.clone(), d)))
        .collect();
    let (mut records, with_seen) = new_items(parsed.records, &next);
    next.seen = with_seen.seen;
    seen.new = records.len();
    metrics.items_new.inc_by(records.len() as u64);
    for record in &records {
        if let Some(published) = own_dates.get(&record.id) {
            metrics
                .freshness_seconds
                .observe((now - *published).num_milliseconds().max(0) as f64 / 1000.0);
        }
    }
    if feed.fetch_article {
        for record in &mut records {
            record.page = fetch_page(ctx, record).await;
        }
    }
    ctx.schedule.after_success(feed, &mut next, &seen, now);
    tracing::debug!(feed = %feed.url, items = seen.items, new = seen.new, "Feed polled.");
    polled(records, next, seen.items, "ok")
}

fn polled(records: Vec<RawRecord>, next_state: FeedState, items: usize, outcome: &'static str) -> Polled {
    Polled {
        records,
        next_state,
        items,
        outcome,
        error: None,
    }
}

/// A failed poll: logged, and the feed backs off (from the state before the poll).
fn failed(
    ctx: &PollContext,
    feed: &FeedEntry,
    mut state: FeedState,
    outcome: &'static str,
    error: String,
    retry_after: Option<Duration>,
    now: DateTime<Utc>,
) -> Polled {
    ctx.schedule.after_error(feed, &mut state, retry_after, now);
    tracing::warn!(
        feed = %feed.url,
        outcome,
        error = %error,
        consecutive_errors = state.errors,
        parked = state.parked,
        "Feed poll failed."
    );
    Polled {
        records: Vec::new(),
        next_state: state,
        items: 0,
        outcome,
        error: Some(error),
    }
}

/// The article page for a record, or `None` (counted and logged) when it cannot be had or
/// robots.txt says no: the record still goes on with the feed's text.
async fn fetch_page(ctx: &PollContext, record: &RawRecord) -> Option<Page> {
    let url = record.url.as_deref()?;
    let articles = &metrics::get().articles;
    if !ctx.robots.allowed(&ctx.client, &ctx.robots_agent, url).await {
        articles.with_label_values(&["robots_denied"]).inc();
        tracing::info!(url, "Article page not fetched: robots.txt disallows it.");
        return None;
    }
    match ctx.client.get(url, None, None, Kind::Article).await {
        Ok(fetched) => {
            articles.with_label_values(&["ok"]).inc();
            metrics::get().response_bytes.inc_by(fetched.body.len() as u64);
            let (html, _) = decode(&fetched.body, fetched.content_type.as_deref());
            Some(Page {
                url: fetched.final_url,
                html: html.into_owned(),
                fetched_at: Utc::now(),
            })
        }
        Err(err) => {
            articles.with_label_values(&[err.kind()]).inc();
            tracing::warn!(url, outcome = err.kind(), error = %err, "Article page not fetched; using the feed's text.");
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

/// Polls every feed once, concurrently (at most `max_concurrent_fetches` requests in flight,
/// and the per-host limits), and hands each poll, failed or not, to `deliver` as it
/// completes. Failures are counted and logged, and the other feeds go on.
pub async fn poll_all<F>(fetcher: &Fetcher, feeds: &[FeedEntry], mut deliver: F)
where
    F: FnMut(&FeedEntry, Polled),
{
    let mut polls = Polls::new();
    polls.start(fetcher, feeds);
    while let Some((feed, polled)) = polls.next().await {
        deliver(&feed, polled);
    }
}

/// The polls in progress: feeds are started as they fall due and finish in any order, so a
/// slow host or a feed waiting out its timeout holds back no other feed's items.
///
/// A feed counts as in progress from [`Polls::start`] until [`Polls::settled`]: its state is
/// only committed once its records are delivered, and until then the schedule still says it
/// is due, so it must not be started twice.
pub struct Polls {
    running: tokio::task::JoinSet<(FeedEntry, Polled)>,
    unsettled: HashSet<String>,
}

impl Default for Polls {
    fn default() -> Self {
        Self::new()
    }
}

impl Polls {
    pub fn new() -> Polls {
        Polls {
            running: tokio::task::JoinSet::new(),
            unsettled: HashSet::new(),
        }
    }

    /// Starts polling each of `feeds` that is not in progress already; returns how many
    /// started. Each request waits for its host's turn and a global slot (`HostLimits`), so
    /// a feed on a busy host waits in that host's queue without holding up another host.
    pub fn start<'a>(&mut self, fetcher: &Fetcher, feeds: impl IntoIterator<Item = &'a FeedEntry>) -> usize {
        let mut started = 0;
        for feed in feeds {
            if self.unsettled.contains(&feed.url) {
                continue;
            }
            self.unsettled.insert(feed.url.clone());
            let (ctx, feed, state) = (fetcher.ctx.clone(), feed.clone(), fetcher.state(&feed.url));
            self.running.spawn(async move {
                let polled = poll_feed(&ctx, &feed, state).await;
                (feed, polled)
            });
            started += 1;
        }
        started
    }

    /// The next poll to finish, counted in the metrics; `None` when none is running.
    /// Cancel-safe: a poll is only taken from the set when it is returned.
    pub async fn next(&mut self) -> Option<(FeedEntry, Polled)> {
        loop {
            match self.running.join_next().await? {
                Ok((feed, polled)) => {
                    let stage = StageMetrics::get("fetcher");
                    metrics::get().polls.with_label_values(&[polled.outcome]).inc();
                    stage.records_in.inc_by(polled.items as u64);
                    stage
                        .records_dropped
                        .inc_by(polled.items.saturating_sub(polled.records.len()) as u64);
                    return Some((feed, polled));
                }
                Err(err) => {
                    // The feed stays unsettled: a poll that panics once would panic again.
                    tracing::error!(error = %err, "A feed poll panicked; the feed is not polled again until restart.");
                }
            }
        }
    }

    /// Polls running (not yet returned by [`Polls::next`]).
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// The feed's poll is over (its state committed, or its result given up): it may be
    /// started again when it is due.
    pub fn settled(&mut self, feed_url: &str) {
        self.unsettled.remove(feed_url);
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

/// Feeds whose polls go into one Kafka transaction at most (their records and states).
const FEEDS_PER_TRANSACTION: usize = 200;
/// How long a finished poll waits for others to share its transaction.
const BATCH_WAIT: Duration = Duration::from_millis(500);
/// How often the schedule is scanned for feeds that fell due.
const SCAN_EVERY: Duration = Duration::from_secs(1);

/// Runs the fetcher service until `shutdown`.
///
/// Replicas share the feed list through Kafka: each publishes its feeds file to the
/// compacted feeds topic (keyed by URL, so this is idempotent), joins the fetchers' consumer
/// group over that topic, and polls the feeds of the partitions assigned to it. When it gains
/// feeds (at start, or when another replica left) it restores their state from the changelog;
/// feeds it loses are forgotten, and polls of feeds lost meanwhile are not published. New
/// items are published with the feeds' new states in transactions.
pub async fn run(config: FetcherConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    let mut fetcher = Fetcher::new(&config.fetcher, &config.network)?;
    let health = Health::default();
    let http_shutdown = CancellationToken::new();
    telemetry::serve(&config.runtime.listen_addr, health.clone(), http_shutdown.clone()).await?;
    let _stop_http = http_shutdown.drop_guard();
    let metrics = StageMetrics::get("fetcher");

    let topics = config.kafka.topics.clone();
    let file_feeds = if config.feeds_file.exists() {
        Some(FeedsFile::load(&config.feeds_file)?.feeds)
    } else {
        tracing::warn!(file = %config.feeds_file.display(), "No feeds file; polling the feeds other replicas published.");
        None
    };
    let (kafka, runtime) = (config.kafka.clone(), config.runtime.clone());
    let group = config.runtime.group_id("fetcher");
    let (publisher, membership) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        if let Some(file_feeds) = file_feeds {
            publish_feed_list(&kafka, &topics.feeds, &file_feeds)?;
        }
        let publisher = Publisher::new(&kafka, &runtime, "fetcher", &topics.raw, Some(&topics.fetcher_state))?;
        let membership = runtime::Membership::join(&kafka, &group, &topics.feeds)?;
        Ok((publisher, membership))
    })
    .await??;
    let publisher = Arc::new(publisher);
    let membership = Arc::new(membership);
    tracing::info!(group = %config.runtime.group_id("fetcher"), "Fetcher started; waiting for its share of the feeds.");

    // Feeds are polled as they fall due, and finished polls are published in transactions of
    // up to FEEDS_PER_TRANSACTION feeds, or after BATCH_WAIT: memory holds the polls of one
    // transaction, not of a whole round, and a slow feed delays no other.
    let mut feeds: Vec<FeedEntry> = Vec::new();
    let mut polls = Polls::new();
    let mut finished: Vec<(FeedEntry, Polled)> = Vec::new();
    let mut first_finished: Option<tokio::time::Instant> = None;
    let mut next_scan = tokio::time::Instant::now();
    while !shutdown.is_cancelled() {
        let now = tokio::time::Instant::now();
        if now >= next_scan {
            if let Some(why) = membership.failure() {
                health.set_failed(&why);
                anyhow::bail!("{why}");
            }
            if let Some(owned) = membership.owned() {
                let now_owned = owned_feeds(owned);
                if now_owned != feeds {
                    feeds = take_over(&mut fetcher, &config.kafka, feeds, now_owned).await?;
                    health.set_ready(true);
                }
            }
            polls.start(&fetcher, fetcher.due(&feeds, Utc::now()));
            fetcher.update_feed_gauges(&feeds);
            next_scan = now + SCAN_EVERY;
        }
        let flush_at = first_finished.map_or(next_scan, |at| (at + BATCH_WAIT).min(next_scan));
        tokio::select! {
            Some(done) = polls.next(), if polls.running() > 0 => {
                finished.push(done);
                first_finished.get_or_insert_with(tokio::time::Instant::now);
            }
            () = tokio::time::sleep_until(flush_at) => {}
            () = shutdown.cancelled() => break,
        }
        let ready = finished.len() >= FEEDS_PER_TRANSACTION
            || (!finished.is_empty()
                && (polls.running() == 0 || first_finished.is_some_and(|at| at.elapsed() >= BATCH_WAIT)));
        if !ready {
            continue;
        }
        first_finished = None;
        let mut chunk = std::mem::take(&mut finished);
        for (feed, _) in &chunk {
            polls.settled(&feed.url);
        }
        // Feeds that moved to another replica while they were polled are its business now.
        chunk.retain(|(feed, _)| membership.owns(&feed.url));
        if chunk.is_empty() {
            continue;
        }
        let mut records = Vec::new();
        let mut changes = Vec::new();
        for (feed, polled) in &chunk {
            changes.push(state_change(&feed.url, &polled.next_state));
            records.extend(polled.records.iter().cloned().filter_map(|r| {
                let key = r.id.clone();
                encode_within_limit(r, &metrics).map(|payload| OutgoingRecord { key, payload })
            }));
        }
        let publisher = publisher.clone();
        let count = records.len() as u64;
        let result = tokio::task::spawn_blocking(move || publisher.publish(&records, &changes)).await?;
        match result {
            Ok(()) => {
                for (feed, polled) in chunk {
                    fetcher.commit(&feed, polled.next_state);
                }
                metrics.records_out.inc_by(count);
                metrics.transactions.with_label_values(&["committed"]).inc();
            }
            Err(err @ runtime::PublishError::Aborted { .. }) => {
                // The states are not committed either, so the next polls offer the same
                // items again: nothing is lost.
                metrics.transactions.with_label_values(&["aborted"]).inc();
                tracing::warn!(feeds = chunk.len(), error = %err, "Publishing polls failed; retrying next poll.");
            }
            Err(err) => {
                health.set_failed(err.to_string());
                return Err(err.into());
            }
        }
    }
    tracing::info!("Fetcher stopped.");
    Ok(())
}

/// Makes the feeds topic say what the feeds file says: every listed feed is written (keyed by
/// URL, so writing it again changes nothing), and every feed in the topic that the file no
/// longer lists is deleted with a tombstone, so that its owner stops polling it. The replica
/// started last with a feeds file decides the list (all replicas normally mount the same
/// file). The state of a deleted feed stays in the state changelog and is used again if the
/// feed comes back.
fn publish_feed_list(kafka: &KafkaConfig, topic: &str, listed: &[FeedEntry]) -> anyhow::Result<()> {
    let mut present: HashSet<String> = HashSet::new();
    runtime::restore_state(kafka, topic, |key, value| {
        let key = String::from_utf8_lossy(key).into_owned();
        if value.is_some() {
            present.insert(key);
        } else {
            present.remove(&key);
        }
    })?;
    let mut entries: Vec<(String, Option<Vec<u8>>)> = listed
        .iter()
        .map(|f| (f.url.clone(), serde_json::to_vec(f).ok()))
        .collect();
    let urls: HashSet<&str> = listed.iter().map(|f| f.url.as_str()).collect();
    let mut removed: Vec<String> = present.into_iter().filter(|u| !urls.contains(u.as_str())).collect();
    removed.sort();
    for url in &removed {
        tracing::info!(feed = %url, "Feed no longer in the feeds file; removed from the shared list.");
    }
    tracing::info!(feeds = listed.len(), removed = removed.len(), %topic, "Published the feed list.");
    entries.extend(removed.into_iter().map(|url| (url, None)));
    runtime::publish_keyed(kafka, topic, &entries)
}

/// The feeds of the owned entries of the feeds topic, in URL order; unreadable entries are
/// logged and left out.
fn owned_feeds(owned: Vec<(String, Vec<u8>)>) -> Vec<FeedEntry> {
    let mut feeds: Vec<FeedEntry> = owned
        .into_iter()
        .filter_map(|(url, value)| match serde_json::from_slice::<FeedEntry>(&value) {
            Ok(feed) if feed.url == url => Some(feed),
            Ok(_) => {
                tracing::warn!(feed = %url, "Feed entry whose key is not its URL ignored.");
                None
            }
            Err(err) => {
                tracing::warn!(feed = %url, error = %err, "Unreadable feed entry ignored.");
                None
            }
        })
        .collect();
    feeds.sort_by(|a, b| a.url.cmp(&b.url));
    feeds
}

/// A changelog entry: key, and value (`None`: deleted).
type PersistedEntry = (Vec<u8>, Option<Vec<u8>>);

/// Moves from the `old` feed list to `new`: forgets the state of feeds lost, restores the
/// state of feeds gained from the changelog (another replica may have polled them until now).
async fn take_over(
    fetcher: &mut Fetcher,
    kafka: &KafkaConfig,
    old: Vec<FeedEntry>,
    new: Vec<FeedEntry>,
) -> anyhow::Result<Vec<FeedEntry>> {
    let old_urls: HashSet<&str> = old.iter().map(|f| f.url.as_str()).collect();
    let new_urls: HashSet<String> = new.iter().map(|f| f.url.clone()).collect();
    for lost in old_urls.iter().filter(|u| !new_urls.contains(**u)) {
        fetcher.forget(lost);
    }
    let gained: HashSet<String> = new_urls
        .iter()
        .filter(|u| !old_urls.contains(u.as_str()))
        .cloned()
        .collect();
    if !gained.is_empty() {
        let (kafka, topic, wanted) = (kafka.clone(), kafka.topics.fetcher_state.clone(), gained.clone());
        let restored = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<PersistedEntry>> {
            let mut restored = Vec::new();
            runtime::restore_state(&kafka, &topic, |k, v| {
                if std::str::from_utf8(k).is_ok_and(|k| wanted.contains(k)) {
                    restored.push((k.to_vec(), v.map(<[u8]>::to_vec)));
                }
            })?;
            Ok(restored)
        })
        .await??;
        for url in &gained {
            fetcher.forget(url);
        }
        for (key, value) in &restored {
            fetcher.restore(key, value.as_deref());
        }
        tracing::info!(
            gained = gained.len(),
            restored = restored.len(),
            feeds = new.len(),
            "Took over feeds."
        );
    }
    Ok(new)
}

#[cfg(test)]
mod tests;
