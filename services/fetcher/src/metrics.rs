//! The fetcher's own metrics (the per-stage ones are `telemetry::StageMetrics`). Names are the
//! contract with the alert rules and the dashboard; label values come from fixed sets.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use telemetry::prometheus::{
    self, GaugeVec, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
};
use telemetry::register;

/// How many failing feeds at most get their own series in the per-feed gauges. Past this,
/// further failing feeds are left out (and `newswire_fetcher_feeds{state}` still counts them),
/// so that a broken network cannot blow up the number of series.
pub const MAX_FAILING_FEED_SERIES: usize = 200;

/// How many hosts at most get their own series in `newswire_fetcher_host_queue_requests`; a
/// host's series exists only while requests wait for it.
pub const MAX_QUEUED_HOST_SERIES: usize = 100;

/// Poll outcomes (`newswire_fetcher_polls_total{outcome}`); articles add `robots_denied`.
pub const OUTCOMES: [&str; 12] = [
    "ok",
    "pushed",
    "options_error",
    "not_modified",
    "http_4xx",
    "http_5xx",
    "timeout",
    "too_large",
    "blocked",
    "bot_wall",
    "parse_error",
    "network_error",
];

/// The fetcher's metrics, registered once in the default registry.
#[derive(Debug)]
pub struct Metrics {
    pub polls: IntCounterVec,
    pub items_new: IntCounter,
    pub response_bytes: IntCounter,
    pub request_seconds: Histogram,
    pub freshness_seconds: Histogram,
    pub poll_lag_seconds: Histogram,
    pub feeds: IntGaugeVec,
    pub articles: IntCounterVec,
    pub feed_errors: GaugeVec,
    pub feed_last_success: GaugeVec,
    pub queue_wait_seconds: Histogram,
    pub requests_waiting: IntGauge,
    pub host_queue: IntGaugeVec,
    pub sitemap_documents: IntCounterVec,
    pub websub_requests: IntCounterVec,
    pub websub_verifications: IntCounterVec,
    pub websub_pushes: IntCounterVec,
    pub websub_subscriptions: IntGaugeVec,
    /// Hosts that currently have a series in `host_queue`.
    queued_hosts: Mutex<HashSet<String>>,
    /// Feeds that currently have a series in the two per-feed gauges.
    failing: Mutex<HashSet<String>>,
}

fn counter_vec(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    register(IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric"))
}

/// The fetcher's metrics.
pub fn get() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let seconds =
            |lo: f64, factor: f64, n: usize| prometheus::exponential_buckets(lo, factor, n).expect("valid buckets");
        let metrics = Metrics {
            polls: register(
                IntCounterVec::new(
                    Opts::new("newswire_fetcher_polls_total", "Feed polls, by outcome."),
                    &["outcome"],
                )
                .expect("valid metric"),
            ),
            items_new: register(
                IntCounter::new("newswire_fetcher_items_new_total", "Items seen for the first time.")
                    .expect("valid metric"),
            ),
            response_bytes: register(
                IntCounter::new(
                    "newswire_fetcher_response_bytes_total",
                    "Response body bytes read (after decompression), feeds and articles.",
                )
                .expect("valid metric"),
            ),
            request_seconds: register(
                Histogram::with_opts(
                    HistogramOpts::new(
                        "newswire_fetcher_request_duration_seconds",
                        "Duration of one fetch (redirects and body included).",
                    )
                    .buckets(seconds(0.005, 2.0, 14)),
                )
                .expect("valid metric"),
            ),
            freshness_seconds: register(
                Histogram::with_opts(
                    HistogramOpts::new(
                        "newswire_fetcher_freshness_seconds",
                        "Delay from an item's publication (its own date) to its first sighting.",
                    )
                    .buckets(seconds(15.0, 2.0, 14)),
                )
                .expect("valid metric"),
            ),
            poll_lag_seconds: register(
                Histogram::with_opts(
                    HistogramOpts::new(
                        "newswire_fetcher_poll_lag_seconds",
                        "How late a poll started versus its schedule.",
                    )
                    .buckets(seconds(0.1, 2.5, 12)),
                )
                .expect("valid metric"),
            ),
            feeds: register(
                IntGaugeVec::new(
                    Opts::new("newswire_fetcher_feeds", "Feeds this fetcher owns, by state."),
                    &["state"],
                )
                .expect("valid metric"),
            ),
            articles: register(
                IntCounterVec::new(
                    Opts::new("newswire_fetcher_articles_total", "Article page fetches, by outcome."),
                    &["outcome"],
                )
                .expect("valid metric"),
            ),
            feed_errors: register(
                GaugeVec::new(
                    Opts::new(
                        "newswire_fetcher_feed_consecutive_errors",
                        "Consecutive failed polls of a currently failing feed (at most 200 feeds).",
                    ),
                    &["feed"],
                )
                .expect("valid metric"),
            ),
            feed_last_success: register(
                GaugeVec::new(
                    Opts::new(
                        "newswire_fetcher_feed_last_success_timestamp_seconds",
                        "Last successful poll of a currently failing feed (0: never; at most 200 feeds).",
                    ),
                    &["feed"],
                )
                .expect("valid metric"),
            ),
            queue_wait_seconds: register(
                Histogram::with_opts(
                    HistogramOpts::new(
                        "newswire_fetcher_host_queue_wait_seconds",
                        "How long a request waited for its host's turn (per-host concurrency and rate) \
                         and a global fetch slot before it was sent; not part of its timeout.",
                    )
                    .buckets(seconds(0.01, 2.5, 14)),
                )
                .expect("valid metric"),
            ),
            requests_waiting: register(
                IntGauge::new(
                    "newswire_fetcher_requests_waiting",
                    "Requests (feeds and article pages) waiting for their host's turn now.",
                )
                .expect("valid metric"),
            ),
            host_queue: register(
                IntGaugeVec::new(
                    Opts::new(
                        "newswire_fetcher_host_queue_requests",
                        "Requests waiting for one host's turn now (hosts with a queue only, at most 100).",
                    ),
                    &["host"],
                )
                .expect("valid metric"),
            ),
            sitemap_documents: counter_vec(
                "newswire_fetcher_sitemap_documents_total",
                "Sitemap documents read (news sitemaps, indexes, robots.txt), by kind and outcome.",
                &["kind", "outcome"],
            ),
            websub_requests: counter_vec(
                "newswire_fetcher_websub_requests_total",
                "WebSub subscription requests (new and renewals) sent to hubs, by outcome.",
                &["outcome"],
            ),
            websub_verifications: counter_vec(
                "newswire_fetcher_websub_verifications_total",
                "Hubs' verifications of intent on the push endpoint, by outcome.",
                &["outcome"],
            ),
            websub_pushes: counter_vec(
                "newswire_fetcher_websub_pushes_total",
                "Content pushed by hubs, by outcome (ok; unsigned and bad_signature are ignored).",
                &["outcome"],
            ),
            websub_subscriptions: register(
                IntGaugeVec::new(
                    Opts::new(
                        "newswire_fetcher_websub_subscriptions",
                        "WebSub subscriptions, by state.",
                    ),
                    &["state"],
                )
                .expect("valid metric"),
            ),
            queued_hosts: Mutex::new(HashSet::new()),
            failing: Mutex::new(HashSet::new()),
        };
        for outcome in ["ok", "unsigned", "bad_signature", "unknown_subscription", "queue_full"] {
            metrics.websub_pushes.with_label_values(&[outcome]);
        }
        for outcome in ["accepted", "refused", "failed"] {
            metrics.websub_requests.with_label_values(&[outcome]);
        }
        for outcome in ["subscribed", "denied", "refused", "unknown", "wrong_topic"] {
            metrics.websub_verifications.with_label_values(&[outcome]);
        }
        for state in ["requested", "active", "denied"] {
            metrics.websub_subscriptions.with_label_values(&[state]);
        }
        for outcome in OUTCOMES {
            metrics.polls.with_label_values(&[outcome]);
            if outcome != "pushed" {
                metrics.articles.with_label_values(&[outcome]);
            }
        }
        metrics.articles.with_label_values(&["robots_denied"]);
        for state in ["active", "backing_off", "parked"] {
            metrics.feeds.with_label_values(&[state]);
        }
        metrics
    })
}

impl Metrics {
    /// Records a feed's health: a failing feed gets (or keeps) its series while fewer than
    /// [`MAX_FAILING_FEED_SERIES`] have one; a healthy feed loses its series.
    pub fn feed_health(&self, feed: &str, consecutive_errors: u32, last_success_secs: Option<i64>) {
        let mut failing = self.failing.lock().unwrap_or_else(|e| e.into_inner());
        if consecutive_errors == 0 {
            if failing.remove(feed) {
                let _ = self.feed_errors.remove_label_values(&[feed]);
                let _ = self.feed_last_success.remove_label_values(&[feed]);
            }
            return;
        }
        if !failing.contains(feed) {
            if failing.len() >= MAX_FAILING_FEED_SERIES {
                return;
            }
            failing.insert(feed.to_string());
        }
        self.feed_errors
            .with_label_values(&[feed])
            .set(f64::from(consecutive_errors));
        self.feed_last_success
            .with_label_values(&[feed])
            .set(last_success_secs.unwrap_or(0) as f64);
    }

    /// A request joined (`delta` 1) or left (-1) `host`'s queue, which is now `depth` long.
    pub fn queue_changed(&self, host: &str, depth: usize, delta: i64) {
        self.requests_waiting.add(delta);
        let mut queued = self.queued_hosts.lock().unwrap_or_else(|e| e.into_inner());
        if depth == 0 {
            if queued.remove(host) {
                let _ = self.host_queue.remove_label_values(&[host]);
            }
            return;
        }
        if !queued.contains(host) {
            if queued.len() >= MAX_QUEUED_HOST_SERIES {
                return;
            }
            queued.insert(host.to_string());
        }
        self.host_queue.with_label_values(&[host]).set(depth as i64);
    }

    /// How many feeds have a per-feed series now.
    pub fn failing_series(&self) -> usize {
        self.failing.lock().map_or(0, |f| f.len())
    }
}
