//! Fetching feeds and pages over HTTP, with the fetcher's limits: the address guard on every
//! hop, redirects followed by hand (loops and long chains cut, permanent ones reported), a
//! per-host concurrency limit and request rate (waited for outside every timeout), timeouts for
//! connect, headers and the whole request, a body cap measured after decompression, and bot-wall recognition.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, CACHE_CONTROL, CONTENT_TYPE, ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION,
    RETRY_AFTER, SERVER,
};
use url::Url;

use crate::guard::{Blocked, NetworkPolicy};
use crate::limits::HostLimits;

/// Why a fetch failed. [`FetchError::kind`] labels metrics; the set is fixed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL, a redirect or a resolved address is not allowed (see `network.allow`).
    #[error("{0}")]
    Blocked(String),
    /// The server answered with an error status.
    #[error("HTTP status {status}")]
    Status {
        status: u16,
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// Connecting, waiting for the headers or reading the body took too long.
    #[error("timed out ({0})")]
    Timeout(&'static str),
    /// The body (after decompression) is larger than the cap.
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
    /// A challenge or login page was served instead of the document.
    #[error("bot wall: {0}")]
    BotWall(&'static str),
    /// A redirect loop, too long a chain, or a redirect without a usable `Location`.
    #[error("redirect: {0}")]
    Redirect(String),
    /// Connection, TLS or protocol failure.
    #[error("request failed: {0}")]
    Transport(String),
}

impl FetchError {
    /// The poll outcome this error counts as (`newswire_fetcher_polls_total{outcome}`).
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Blocked(_) => "blocked",
            FetchError::Status { status, .. } if *status >= 500 => "http_5xx",
            FetchError::Status { .. } => "http_4xx",
            FetchError::Timeout(_) => "timeout",
            FetchError::TooLarge(_) => "too_large",
            FetchError::BotWall(_) => "bot_wall",
            FetchError::Redirect(_) | FetchError::Transport(_) => "network_error",
        }
    }

    /// The server's `Retry-After`, when the error carried one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// What is being fetched: a feed (HTML instead of a feed is suspicious) or an article page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Feed,
    Article,
}

/// A conditional GET's result.
#[derive(Debug, Default)]
pub struct Fetched {
    /// 304 Not Modified: the validators still hold, `body` is empty.
    pub not_modified: bool,
    /// The body, decompressed.
    pub body: Vec<u8>,
    /// The URL after redirects.
    pub final_url: String,
    /// Set when the request was redirected only permanently (301, 308): the URL to use from
    /// now on.
    pub permanent_url: Option<String>,
    /// `ETag`, to send back as `If-None-Match`.
    pub etag: Option<String>,
    /// `Last-Modified`, to send back as `If-Modified-Since`.
    pub last_modified: Option<String>,
    /// `Content-Type`, for charset detection.
    pub content_type: Option<String>,
    /// `Cache-Control: max-age`.
    pub max_age: Option<Duration>,
    /// `Retry-After` (some servers send it with 200 or 304 too).
    pub retry_after: Option<Duration>,
}

/// The client's limits.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// From sending the request to the response headers.
    pub header_timeout: Duration,
    /// The whole fetch, redirects and body included.
    pub total_timeout: Duration,
    /// After decompression.
    pub max_body_bytes: usize,
    pub max_redirects: usize,
}

/// An HTTP client with the fetcher's limits. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    settings: Arc<HttpSettings>,
    policy: Arc<NetworkPolicy>,
    hosts: Arc<HostLimits>,
}

impl HttpClient {
    pub fn new(settings: HttpSettings, policy: NetworkPolicy, hosts: HostLimits) -> anyhow::Result<Self> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .user_agent(&settings.user_agent)
            .connect_timeout(settings.connect_timeout)
            // Redirects are followed by hand so that every hop is checked and counted.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve names where the guard cannot see the addresses.
            .no_proxy()
            .dns_resolver(policy.resolver())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(4)
            .build()?;
        Ok(Self {
            client,
            settings: Arc::new(settings),
            policy,
            hosts: Arc::new(hosts),
        })
    }

    /// The per-host limits, shared by every clone.
    pub fn hosts(&self) -> &HostLimits {
        &self.hosts
    }

    /// GETs `url`, conditionally when validators are given, within every limit.
    pub async fn get(
        &self,
        url: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
        kind: Kind,
    ) -> Result<Fetched, FetchError> {
        self.get_timed(url, etag, last_modified, kind).await.0
    }

    /// [`HttpClient::get`], also saying how long the fetch waited for its host's turn.
    ///
    /// The total timeout bounds the time the fetch holds a turn (every hop's request and
    /// body), never the time it waits in a host's queue: a healthy feed on a busy host is
    /// late, not failed.
    pub async fn get_timed(
        &self,
        url: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
        kind: Kind,
    ) -> (Result<Fetched, FetchError>, Duration) {
        let mut queued = Duration::ZERO;
        let result = async {
            let mut current = Url::parse(url).map_err(|e| FetchError::Transport(format!("invalid URL {url}: {e}")))?;
            let mut visited: HashSet<String> = HashSet::new();
            let mut permanent = true;
            let mut hops = 0;
            let mut left = self.settings.total_timeout;
            loop {
                self.policy
                    .check_url(&current)
                    .map_err(|Blocked(why)| FetchError::Blocked(why))?;
                if !visited.insert(current.to_string()) {
                    return Err(FetchError::Redirect(format!("loop back to {current}")));
                }
                let turn = self.hosts.acquire(current.host_str().unwrap_or_default()).await;
                queued += turn.waited;
                let started = tokio::time::Instant::now();
                let hop = tokio::time::timeout(left, self.hop(&current, etag, last_modified, kind)).await;
                left = left.saturating_sub(started.elapsed());
                drop(turn);
                let (status, location) = match hop {
                    Err(_) => return Err(FetchError::Timeout("total")),
                    Ok(Hop::Done(result)) => {
                        let mut fetched = result?;
                        fetched.permanent_url = (permanent && hops > 0).then(|| fetched.final_url.clone());
                        return Ok(fetched);
                    }
                    Ok(Hop::Redirect { status, location }) => (status, location),
                };
                hops += 1;
                if hops > self.settings.max_redirects {
                    return Err(FetchError::Redirect(format!(
                        "more than {} redirects",
                        self.settings.max_redirects
                    )));
                }
                let location = location.ok_or_else(|| FetchError::Redirect(format!("{status} without a Location")))?;
                let next = current
                    .join(&location)
                    .map_err(|e| FetchError::Redirect(format!("bad Location {location:?}: {e}")))?;
                permanent &= matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT);
                current = next;
            }
        }
        .await;
        (result, queued)
    }

    /// One request, its turn taken: a redirect to follow, or the final answer with its body.
    async fn hop(&self, current: &Url, etag: Option<&str>, last_modified: Option<&str>, kind: Kind) -> Hop {
        let mut request = self.client.get(current.clone()).header(
            ACCEPT,
            match kind {
                Kind::Feed => {
                    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
                }
                Kind::Article => "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
            },
        );
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(last_modified) = last_modified {
            request = request.header(IF_MODIFIED_SINCE, last_modified);
        }
        let mut response = match tokio::time::timeout(self.settings.header_timeout, request.send()).await {
            Err(_) => return Hop::Done(Err(FetchError::Timeout("headers"))),
            Ok(Err(err)) => return Hop::Done(Err(classify(&err))),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            return Hop::Redirect { status, location };
        }
        let headers = response.headers().clone();
        let text = |name| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        if status == StatusCode::NOT_MODIFIED {
            return Hop::Done(Ok(Fetched {
                not_modified: true,
                final_url: current.to_string(),
                etag: text(ETAG),
                last_modified: text(LAST_MODIFIED),
                max_age: max_age(&headers),
                retry_after,
                ..Fetched::default()
            }));
        }
        if !status.is_success() {
            // A little of an error page says whether it is a challenge.
            let prefix = read_body(&mut response, 64 * 1024, true).await.unwrap_or_default();
            if let Some(wall) = bot_wall(&headers, &prefix, kind) {
                return Hop::Done(Err(FetchError::BotWall(wall)));
            }
            return Hop::Done(Err(FetchError::Status {
                status: status.as_u16(),
                retry_after,
            }));
        }
        let max = self.settings.max_body_bytes;
        if response.content_length().is_some_and(|len| len > max as u64) {
            return Hop::Done(Err(FetchError::TooLarge(max)));
        }
        let body = match read_body(&mut response, max, false).await {
            Ok(body) => body,
            Err(err) => return Hop::Done(Err(err)),
        };
        if let Some(wall) = bot_wall(&headers, &body, kind) {
            return Hop::Done(Err(FetchError::BotWall(wall)));
        }
        Hop::Done(Ok(Fetched {
            not_modified: false,
            body,
            final_url: current.to_string(),
            permanent_url: None,
            etag: text(ETAG),
            last_modified: text(LAST_MODIFIED),
            content_type: text(CONTENT_TYPE),
            max_age: max_age(&headers),
            retry_after,
        }))
    }
}

/// What one request of a fetch came to.
enum Hop {
    Redirect {
        status: StatusCode,
        location: Option<String>,
    },
    Done(Result<Fetched, FetchError>),
}

/// Reads the (decompressed) body up to `max` bytes: more is an error, or, with `truncate`,
/// cut off. The cap applies to decompressed bytes, so a decompression bomb stops at `max`.
async fn read_body(response: &mut reqwest::Response, max: usize, truncate: bool) -> Result<Vec<u8>, FetchError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e))? {
        if body.len() + chunk.len() > max {
            if truncate {
                body.extend_from_slice(&chunk[..max - body.len()]);
                return Ok(body);
            }
            return Err(FetchError::TooLarge(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A reqwest error as a fetch error: a refused address, a timeout, or a transport failure.
fn classify(err: &reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if let Some(Blocked(why)) = cause.downcast_ref::<Blocked>() {
            return FetchError::Blocked(why.clone());
        }
        source = cause.source();
    }
    if err.is_timeout() {
        return FetchError::Timeout(if err.is_connect() { "connect" } else { "read" });
    }
    FetchError::Transport(error_chain(err))
}

/// `Retry-After`: seconds, or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let secs = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    Some(Duration::from_secs(secs.max(0) as u64))
}

/// `Cache-Control: max-age=N` (`no-cache`/`no-store` say nothing about how often to poll).
fn max_age(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(CACHE_CONTROL)?.to_str().ok()?;
    value.split(',').find_map(|directive| {
        let (name, secs) = directive.trim().split_once('=')?;
        (name.eq_ignore_ascii_case("max-age") || name.eq_ignore_ascii_case("s-maxage"))
            .then(|| secs.trim().trim_matches('"').parse::<u64>().ok())
            .flatten()
            .map(Duration::from_secs)
    })
}

/// Recognises a bot wall: a Cloudflare (or similar) challenge, a captcha, or, where a feed was
/// expected, an HTML login page. Returns what it is.
pub fn bot_wall(headers: &HeaderMap, body: &[u8], kind: Kind) -> Option<&'static str> {
    if headers
        .get("cf-mitigated")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"challenge"))
    {
        return Some("cloudflare challenge");
    }
    let head = &body[..body.len().min(64 * 1024)];
    let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
    let server = headers.get(SERVER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let challenge = [
        "challenge-platform",
        "cf-chl-",
        "cf_chl_",
        "<title>just a moment...</title>",
        "cf-browser-verification",
    ];
    if challenge.iter().any(|m| lower.contains(m))
        || (server.eq_ignore_ascii_case("cloudflare") && lower.contains("attention required"))
    {
        return Some("cloudflare challenge");
    }
    if [
        "g-recaptcha",
        "h-captcha",
        "hcaptcha.com",
        "cf-turnstile",
        "captcha-delivery.com",
    ]
    .iter()
    .any(|m| lower.contains(m))
    {
        return Some("captcha");
    }
    if kind == Kind::Feed && looks_like_html(&lower) {
        let password =
            lower.contains("type=\"password\"") || lower.contains("type='password'") || lower.contains("type=password");
        let login_words = ["sign in", "log in", "login", "signin", "anmelden", "connexion"];
        if password || (lower.contains("<form") && login_words.iter().any(|w| lower.contains(w))) {
            return Some("login page");
        }
    }
    None
}

/// Whether a (lowercased) document starts like HTML rather than XML or JSON.
fn looks_like_html(lower: &str) -> bool {
    let start = lower.trim_start_matches('\u{feff}').trim_start();
    start.starts_with("<!doctype html")
        || start.starts_with("<html")
        || (start.starts_with("<head") && !start.starts_with("<header"))
}

/// The error and its causes on one line ("error sending request: connection refused").
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_walls_are_recognised() {
        let none = HeaderMap::new();
        let cf = "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate\"></script></body></html>";
        assert_eq!(bot_wall(&none, cf.as_bytes(), Kind::Feed), Some("cloudflare challenge"));
        let mut mitigated = HeaderMap::new();
        mitigated.insert("cf-mitigated", "challenge".parse().unwrap());
        assert_eq!(bot_wall(&mitigated, b"", Kind::Article), Some("cloudflare challenge"));
        let login = b"<!doctype html><html><body><form action=/login><input name=user><input type=\"password\" name=pw></form></body></html>";
        assert_eq!(bot_wall(&none, login, Kind::Feed), Some("login page"));
        assert_eq!(bot_wall(&none, login, Kind::Article), None, "articles are HTML anyway");
        let rss = b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Log in to win</title><item><description>&lt;form&gt; sign in</description></item></channel></rss>";
        assert_eq!(
            bot_wall(&none, rss, Kind::Feed),
            None,
            "a feed that talks about logins is a feed"
        );
    }

    #[test]
    fn caching_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(CACHE_CONTROL, "public, max-age=600".parse().unwrap());
        assert_eq!(max_age(&headers), Some(Duration::from_secs(600)));
        headers.insert(CACHE_CONTROL, "no-cache".parse().unwrap());
        assert_eq!(max_age(&headers), None);
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(3600)).to_rfc2822();
        let parsed = parse_retry_after(&later).unwrap().as_secs();
        assert!((3590..=3600).contains(&parsed), "{parsed}");
        assert_eq!(parse_retry_after("soon"), None);
    }
}
