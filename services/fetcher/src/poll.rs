//! Polling: one feed's fetch, parse and new items ([`poll_feed`]), and the set of polls in
//! progress ([`Polls`]), which starts feeds as they fall due and hands finished polls on in
//! the order they finish.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use record::{ArticleFetch, Page, RawRecord};
use sha2::{Digest, Sha256};
use telemetry::StageMetrics;

use crate::feeds::{FetchArticle, SourceKind};
use crate::http::RequestOptions;
use crate::robots::RobotsCache;
use crate::schedule::{Observation, SchedulePolicy};
use crate::state::{FeedState, new_items};
use crate::websub::{Push, WebSub};
use crate::{FeedEntry, Fetcher, HttpClient, Kind, ParsedFeed, decode, metrics, parse_document};

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
    /// Whether the poll worked (`ok` or `not_modified`), or was a hub's push (`pushed`).
    pub fn is_success(&self) -> bool {
        matches!(self.outcome, "ok" | "not_modified" | "pushed")
    }
}

/// What every poll needs; cheap to clone into a task.
#[derive(Debug, Clone)]
pub(crate) struct PollContext {
    pub(crate) client: HttpClient,
    pub(crate) schedule: Arc<SchedulePolicy>,
    pub(crate) robots: RobotsCache,
    pub(crate) robots_agent: Arc<str>,
    pub(crate) websub: Option<Arc<WebSub>>,
}

/// Fetches and parses `feed` given its `state`; says which items are new and what the
/// feed's state becomes. Never fails: a failure is an outcome with a backed-off schedule.
pub(crate) async fn poll_feed(ctx: &PollContext, feed: &FeedEntry, state: FeedState) -> Polled {
    let metrics = metrics::get();
    let asked = Utc::now();
    let options = match RequestOptions::for_feed(&feed.url, &feed.http) {
        Ok(options) => options,
        Err(err) => return failed(ctx, feed, state, err.kind(), err.to_string(), None, asked),
    };
    let url = state.url.clone().unwrap_or_else(|| feed.url.clone());
    // A sitemap index (or robots.txt) can stay the same while the sitemaps it names change,
    // so a sitemap source is read whole each time.
    let is_sitemap = feed.kind == SourceKind::Sitemap;
    let (etag, last_modified) = if state.validators_untrusted || is_sitemap {
        (None, None)
    } else {
        (state.etag.as_deref(), state.last_modified.as_deref())
    };
    let kind = if is_sitemap { Kind::Sitemap } else { Kind::Feed };
    let push_active = ctx.websub.as_ref().is_some_and(|w| w.is_active(&feed.url));
    let started = std::time::Instant::now();
    let (fetched, queued) = ctx.client.get_timed(&url, etag, last_modified, kind, &options).await;
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
        push_active,
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
    if same_body && !is_sitemap {
        // The server ignored the validators (or has none); the document is the same.
        seen.not_modified = true;
        ctx.schedule.after_success(feed, &mut next, &seen, now);
        return polled(Vec::new(), next, 0, "not_modified");
    }
    let parsed = if is_sitemap {
        crate::sitemap::read(ctx, feed, &options, &fetched, now).await
    } else {
        parse_document(
            feed,
            &fetched.body,
            fetched.content_type.as_deref(),
            &fetched.final_url,
            now,
        )
        .map_err(|err| err.to_string())
    };
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(err) => return failed(ctx, feed, state, "parse_error", err, None, now),
    };
    if !is_sitemap {
        let (link_hub, link_self) = fetched
            .link
            .as_deref()
            .map(|l| crate::websub::link_header(l, &fetched.final_url))
            .unwrap_or_default();
        next.hub = parsed.hub.clone().or(link_hub);
        next.hub_topic = next.hub.as_ref().map(|_| {
            parsed
                .self_url
                .clone()
                .or(link_self)
                .unwrap_or_else(|| fetched.final_url.clone())
        });
        if let (Some(websub), Some(hub), Some(topic)) = (&ctx.websub, &next.hub, &next.hub_topic) {
            websub.discovered(&feed.url, hub, topic).await;
        }
    }
    seen.items = parsed.records.len();
    seen.published = parsed.published.iter().flatten().copied().collect();
    seen.server_hint = seen.server_hint.max(parsed.ttl);
    let records = take_new(ctx, feed, &options, parsed, &mut next, now).await;
    seen.new = records.len();
    ctx.schedule.after_success(feed, &mut next, &seen, now);
    tracing::debug!(feed = %feed.url, items = seen.items, new = seen.new, "Feed polled.");
    polled(records, next, seen.items, "ok")
}

/// The items of `parsed` not emitted before (remembered in `next`), with their article pages
/// where `fetch_article` asks for them.
async fn take_new(
    ctx: &PollContext,
    feed: &FeedEntry,
    options: &RequestOptions,
    parsed: ParsedFeed,
    next: &mut FeedState,
    now: DateTime<Utc>,
) -> Vec<RawRecord> {
    let metrics = metrics::get();
    let own_dates: HashMap<String, DateTime<Utc>> = parsed
        .records
        .iter()
        .zip(&parsed.published)
        .filter_map(|(r, d)| d.map(|d| (r.id.clone(), d)))
        .collect();
    let (mut records, with_seen) = new_items(parsed.records, next);
    next.seen = with_seen.seen;
    metrics.items_new.inc_by(records.len() as u64);
    for record in &mut records {
        if let Some(published) = own_dates.get(&record.id) {
            metrics
                .freshness_seconds
                .observe((now - *published).num_milliseconds().max(0) as f64 / 1000.0);
        }
        let mut decision = article_decision(feed.fetch_article, record);
        if decision.requested {
            let (page, outcome) = fetch_page(ctx, record, options).await;
            record.page = page;
            decision.outcome = Some(outcome.to_string());
        }
        record.article_fetch = Some(decision);
    }
    records
}

/// Applies content a WebSub hub pushed for `feed`: its items go the way a poll's do (the
/// same ids, remembered in the same state), and the feed's schedule is left as it is.
pub(crate) async fn apply_push(ctx: &PollContext, feed: &FeedEntry, state: FeedState, push: Push) -> Polled {
    let now = push.received_at;
    let parsed = match parse_document(feed, &push.body, push.content_type.as_deref(), &feed.url, now) {
        Ok(parsed) => parsed,
        Err(err) => {
            tracing::warn!(feed = %feed.url, error = %err, "Pushed content is not a feed; ignored.");
            return Polled {
                records: Vec::new(),
                next_state: state,
                items: 0,
                outcome: "parse_error",
                error: Some(err.to_string()),
            };
        }
    };
    // Pages are fetched with the feed's options; options that cannot be read now leave the
    // items with the pushed text.
    let options = RequestOptions::for_feed(&feed.url, &feed.http).unwrap_or_else(|err| {
        tracing::warn!(feed = %feed.url, error = %err, "Pushed items' pages fetched without the feed's options.");
        RequestOptions::default()
    });
    let items = parsed.records.len();
    let mut next = state;
    let records = take_new(ctx, feed, &options, parsed, &mut next, now).await;
    tracing::info!(feed = %feed.url, items, new = records.len(), "Pushed content applied.");
    polled(records, next, items, "pushed")
}

/// Words below which an item's text counts as a summary (`fetch_article: auto`). Feed
/// summaries run to one to three sentences (20–60 words); a full article rarely has fewer
/// than 150.
pub const SUMMARY_WORDS: usize = 120;

/// Whether to fetch a record's page, and why.
pub fn article_decision(policy: FetchArticle, record: &RawRecord) -> ArticleFetch {
    let decide = |requested: bool, reason: &str| ArticleFetch {
        requested,
        reason: reason.to_string(),
        outcome: None,
    };
    if record.url.is_none() {
        return decide(false, "no_link");
    }
    match policy {
        FetchArticle::Always => return decide(true, "always"),
        FetchArticle::Never => return decide(false, "never"),
        FetchArticle::Auto => {}
    }
    let content = record.content.as_deref().filter(|c| !c.trim().is_empty());
    let text = crate::plain_text(content.or(record.summary.as_deref()).unwrap_or_default());
    let text = text.trim();
    if text.is_empty() {
        return decide(true, "no_text");
    }
    let ending = text.trim_end_matches([']', ')', ' ']).to_lowercase();
    if ending.ends_with('…')
        || ending.ends_with("...")
        || [
            "read more",
            "continue reading",
            "read the full story",
            "подробнее",
            "читать далее",
            "阅读全文",
        ]
        .iter()
        .any(|w| ending.ends_with(w))
    {
        return decide(true, "ellipsis");
    }
    let squash = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    if record
        .title
        .as_deref()
        .is_some_and(|title| squash(&crate::plain_text(title)) == squash(text))
    {
        return decide(true, "title_only");
    }
    if word_count(text) < SUMMARY_WORDS {
        return decide(true, "short");
    }
    decide(false, "full_text")
}

/// Words in `text`: whitespace-separated runs, with Han, kana and Hangul counted at two
/// characters a word (those scripts are written without spaces).
fn word_count(text: &str) -> usize {
    let (mut words, mut ideographs) = (0, 0);
    for token in text.split_whitespace() {
        let dense = token
            .chars()
            .filter(|c| matches!(*c as u32, 0x3040..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xac00..=0xd7af | 0xf900..=0xfaff))
            .count();
        ideographs += dense;
        if dense < token.chars().count() {
            words += 1;
        }
    }
    words + ideographs / 2
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

/// The article page for a record, with the outcome: `None` (counted and logged) when it
/// cannot be had or robots.txt says no, and the record goes on with the feed's text.
async fn fetch_page(ctx: &PollContext, record: &RawRecord, options: &RequestOptions) -> (Option<Page>, &'static str) {
    let Some(url) = record.url.as_deref() else {
        return (None, "no_link");
    };
    let articles = &metrics::get().articles;
    if !ctx.robots.allowed(&ctx.client, &ctx.robots_agent, url, options).await {
        articles.with_label_values(&["robots_denied"]).inc();
        tracing::info!(url, "Article page not fetched: robots.txt disallows it.");
        return (None, "robots_denied");
    }
    match ctx.client.get_timed(url, None, None, Kind::Article, options).await.0 {
        Ok(fetched) => {
            articles.with_label_values(&["ok"]).inc();
            metrics::get().response_bytes.inc_by(fetched.body.len() as u64);
            let (html, _) = decode(&fetched.body, fetched.content_type.as_deref());
            let page = Page {
                url: fetched.final_url,
                html: html.into_owned(),
                fetched_at: Utc::now(),
            };
            (Some(page), "ok")
        }
        Err(err) => {
            articles.with_label_values(&[err.kind()]).inc();
            tracing::warn!(url, outcome = err.kind(), error = %err, "Article page not fetched; using the feed's text.");
            (None, err.kind())
        }
    }
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
    /// Feeds whose remembered hub was subscribed to again since this process took them.
    resumed: HashSet<String>,
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
            resumed: HashSet::new(),
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

    /// Starts applying the pushes queued for `feeds` whose feed is not in progress; drops
    /// the pushes of feeds not in `feeds` (moved to another replica, or removed); starts the
    /// feeds whose WebSub lease ran out, due at once. Returns how many started.
    pub(crate) fn start_pushes(&mut self, fetcher: &Fetcher, feeds: &[FeedEntry]) -> usize {
        let Some(websub) = fetcher.ctx.websub.clone() else {
            return 0;
        };
        let by_url: HashMap<&str, &FeedEntry> = feeds.iter().map(|f| (f.url.as_str(), f)).collect();
        // Feeds taken over (at start, or from another replica) whose state names a hub are
        // subscribed to at once, not at their next poll, which may be hours away.
        self.resumed.retain(|url| by_url.contains_key(url.as_str()));
        for feed in feeds {
            if self.resumed.contains(&feed.url) {
                continue;
            }
            self.resumed.insert(feed.url.clone());
            if let Some((hub, topic)) = fetcher.hub_of(&feed.url) {
                let (websub, url, hub, topic) = (websub.clone(), feed.url.clone(), hub.to_string(), topic.to_string());
                tokio::spawn(async move { websub.discovered(&url, &hub, &topic).await });
            }
        }
        let lapsed = websub.maintain();
        let mut started = self.start(
            fetcher,
            lapsed.iter().filter_map(|url| by_url.get(url.as_str()).copied()),
        );
        let dropped = websub.drop_pushes(|url| by_url.contains_key(url));
        if dropped > 0 {
            tracing::info!(dropped, "Pushed content for feeds this fetcher does not poll dropped.");
        }
        for push in websub.take_pushes(|url| !self.unsettled.contains(url)) {
            let Some(feed) = by_url.get(push.feed_url.as_str()) else {
                continue;
            };
            self.unsettled.insert(feed.url.clone());
            let (ctx, feed, state) = (fetcher.ctx.clone(), (*feed).clone(), fetcher.state(&feed.url));
            self.running.spawn(async move {
                let polled = apply_push(&ctx, &feed, state, push).await;
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

/// Feeds whose finished polls are handed on together at most (one Kafka transaction, or one
/// batch of the standalone pipeline).
pub const FEEDS_PER_BATCH: usize = 200;
/// How long a finished poll waits for others to share its batch.
const BATCH_WAIT: Duration = Duration::from_millis(500);
/// How often the schedule is scanned for feeds that fell due.
const SCAN_EVERY: Duration = Duration::from_secs(1);

/// The fetcher's loop, the same in cluster and standalone mode: scan the schedule every
/// second and start the feeds that fell due; hand finished polls on in batches of up to
/// [`FEEDS_PER_BATCH`] feeds, or whatever finished within half a second of the first, so
/// that memory holds the polls of one batch and a slow feed holds back no other.
///
/// ```text
/// loop {
///     if polls.scan_due() { /* refresh the feed list */ polls.start_due(&fetcher, &feeds); }
///     if let Some(batch) = polls.next_batch().await { /* deliver, then Fetcher::commit */ }
/// }
/// ```
pub struct PollLoop {
    polls: Polls,
    finished: Vec<(FeedEntry, Polled)>,
    first_finished: Option<tokio::time::Instant>,
    next_scan: tokio::time::Instant,
    mode: Mode,
}

/// What a [`PollLoop`] starts at each scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The feeds that are due.
    Scheduled,
    /// Every feed, whatever its schedule says, at the first scan...
    Once,
    /// ... and nothing after it.
    OnceStarted,
}

impl PollLoop {
    /// A loop that polls feeds as they fall due.
    pub fn scheduled() -> PollLoop {
        Self::with_mode(Mode::Scheduled)
    }

    /// A loop that polls every feed once (whatever its schedule says) and then stops.
    pub fn once() -> PollLoop {
        Self::with_mode(Mode::Once)
    }

    fn with_mode(mode: Mode) -> PollLoop {
        PollLoop {
            polls: Polls::new(),
            finished: Vec::new(),
            first_finished: None,
            next_scan: tokio::time::Instant::now(),
            mode,
        }
    }

    /// Whether the schedule is to be scanned now: the caller may bring its feed list up to
    /// date, then calls [`PollLoop::start_due`].
    pub fn scan_due(&self) -> bool {
        tokio::time::Instant::now() >= self.next_scan
    }

    /// Starts the feeds of `feeds` that are due and not in progress; updates the feed gauges.
    pub fn start_due(&mut self, fetcher: &Fetcher, feeds: &[FeedEntry]) {
        match self.mode {
            Mode::Scheduled => {
                self.polls.start(fetcher, fetcher.due(feeds, Utc::now()));
                self.polls.start_pushes(fetcher, feeds);
            }
            Mode::Once => {
                self.polls.start(fetcher, feeds);
                self.mode = Mode::OnceStarted;
            }
            Mode::OnceStarted => {}
        }
        fetcher.update_feed_gauges(feeds);
        self.next_scan = tokio::time::Instant::now() + SCAN_EVERY;
    }

    /// With [`PollLoop::once`]: every feed was polled and handed on.
    pub fn is_done(&self) -> bool {
        self.mode == Mode::OnceStarted && self.polls.running() == 0 && self.finished.is_empty()
    }

    /// The next batch of finished polls, once it is complete; `None` when the schedule is due
    /// for a scan first. Every feed of a batch is settled: it may be started again when it is
    /// due, so the caller commits its state ([`Fetcher::commit`]) before the next scan, or not
    /// at all (then the same items are offered again). Cancel-safe.
    pub async fn next_batch(&mut self) -> Option<Vec<(FeedEntry, Polled)>> {
        loop {
            let ready = self.finished.len() >= FEEDS_PER_BATCH
                || (!self.finished.is_empty()
                    && (self.polls.running() == 0 || self.first_finished.is_some_and(|at| at.elapsed() >= BATCH_WAIT)));
            if ready {
                self.first_finished = None;
                let batch = std::mem::take(&mut self.finished);
                for (feed, _) in &batch {
                    self.polls.settled(&feed.url);
                }
                return Some(batch);
            }
            let flush_at = self
                .first_finished
                .map_or(self.next_scan, |at| (at + BATCH_WAIT).min(self.next_scan));
            if self.is_done() {
                return None;
            }
            tokio::select! {
                Some(done) = self.polls.next(), if self.polls.running() > 0 => {
                    self.finished.push(done);
                    self.first_finished.get_or_insert_with(tokio::time::Instant::now);
                }
                () = tokio::time::sleep_until(flush_at) => {
                    // The finished polls wait in the batch while the caller scans.
                    if self.scan_due() {
                        return None;
                    }
                }
            }
        }
    }
}
