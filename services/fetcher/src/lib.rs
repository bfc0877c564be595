//! The fetcher: polls the feeds of the feeds file and emits one raw record per item that it
//! has not emitted before.
//!
//! The logic is split so that it runs the same on Kafka and in the standalone pipeline:
//! [`Fetcher::poll`] fetches and parses one feed and says what is new and what the feed's
//! state becomes (its schedule, validators, errors); it changes nothing itself.
//! [`Fetcher::commit`] records that the poll's records were delivered and returns the state
//! change to persist with them. Cluster mode persists it in the same Kafka transaction as
//! the records; standalone mode in the embedded store after the records are written.

mod cluster;
pub mod dates;
mod feeds;
mod guard;
mod http;
mod limits;
pub mod metrics;
mod parse;
mod poll;
mod robots;
mod schedule;
mod settings;
mod sitemap;
mod state;
mod websub;

pub use cluster::{encode_within_limit, run};
pub use feeds::{FeedEntry, FeedHttp, FeedsError, FeedsFile, FetchArticle, MaybeSecret, Secret, SourceKind};
pub use guard::{NetworkPolicy, NetworkSettings, is_public};
pub use http::{FetchError, Fetched, HttpClient, HttpSettings, Kind, RequestOptions};
pub use limits::HostLimits;
pub use parse::{ParseError, ParsedFeed, decode, parse_document, parse_feed, plain_text};
pub use poll::{FEEDS_PER_BATCH, PollLoop, Polled, Polls, poll_all};
pub use schedule::{Health as FeedHealth, Observation, SchedulePolicy};
pub use settings::{FetchSettings, FetcherConfig};
pub use sitemap::{
    MAX_ENTRIES as MAX_SITEMAP_ENTRIES, NewsInfo, SitemapDoc, SitemapError, SitemapRef, SitemapUrl, gunzip_if_needed,
    parse_sitemap, parse_w3c_date, robots_sitemaps,
};
pub use state::{FeedState, new_items, state_change};
pub use websub::WebSubSettings;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use runtime::StateChange;

use crate::poll::{PollContext, poll_feed};
use crate::robots::RobotsCache;

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
        let websub = websub::WebSub::new(&settings.websub, client.clone(), settings.max_body_bytes)?;
        Ok(Self {
            ctx: PollContext {
                client,
                schedule: Arc::new(settings.schedule()),
                robots: RobotsCache::default(),
                robots_agent: settings.robots_agent().into(),
                websub,
            },
            states: HashMap::new(),
        })
    }

    /// Starts the WebSub push endpoint (when `websub.callback_url` is set) until `shutdown`;
    /// returns the address it listens on.
    pub async fn serve_push(
        &self,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> anyhow::Result<Option<std::net::SocketAddr>> {
        match &self.ctx.websub {
            Some(websub) => Ok(Some(websub.serve(shutdown).await?)),
            None => Ok(None),
        }
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

    /// The WebSub hub and topic the feed's state remembers.
    pub(crate) fn hub_of(&self, feed_url: &str) -> Option<(&str, &str)> {
        let state = self.states.get(feed_url)?;
        Some((state.hub.as_deref()?, state.hub_topic.as_deref()?))
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

#[cfg(test)]
mod tests;
