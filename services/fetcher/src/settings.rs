//! The fetcher's settings: the `fetcher:` section of its configuration file (also the
//! standalone pipeline's), and the service's whole configuration file.

use std::path::PathBuf;
use std::time::Duration;

use config::{KafkaConfig, RuntimeConfig};
use serde::{Deserialize, Serialize};

use crate::guard::NetworkSettings;
use crate::schedule::SchedulePolicy;
use crate::websub::WebSubSettings;

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
    /// `websub`: push from the hubs feeds advertise (off unless `websub.callback_url` is set).
    pub websub: WebSubSettings,
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
            websub: WebSubSettings::default(),
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

    pub(crate) fn schedule(&self) -> SchedulePolicy {
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
    pub(crate) fn robots_agent(&self) -> String {
        self.user_agent
            .split(['/', ' '])
            .next()
            .filter(|a| !a.is_empty())
            .unwrap_or("newswire")
            .to_string()
    }
}

/// The fetcher service's configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetcherConfig {
    /// `kafka`: how to reach the cluster, and the topic names.
    #[serde(default)]
    pub kafka: KafkaConfig,
    /// `runtime`: instance id, endpoints, shutdown.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// `feeds_file`: the feeds to poll (see `deploy/feeds.yaml`). The service reads
    /// `deploy/feeds.yaml` when none is given, and polls the feeds other replicas published
    /// when that does not exist either; `newswire run` polls the sample feeds built into the
    /// binary.
    #[serde(default)]
    pub feeds_file: Option<PathBuf>,
    /// `fetcher`: polling settings.
    #[serde(default)]
    pub fetcher: FetchSettings,
    /// `network`: private addresses the fetcher may reach (none by default).
    #[serde(default)]
    pub network: NetworkSettings,
}

impl FetcherConfig {
    /// The feeds file the service reads: `feeds_file`, else `deploy/feeds.yaml`.
    pub fn service_feeds_file(&self) -> PathBuf {
        self.feeds_file
            .clone()
            .unwrap_or_else(|| PathBuf::from("deploy/feeds.yaml"))
    }
}
