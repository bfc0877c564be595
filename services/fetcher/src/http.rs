//! Fetching feeds and pages over HTTP, with the fetcher's limits: the address guard on every
//! hop, redirects followed by hand (loops and long chains cut, permanent ones reported), a
//! per-host concurrency limit and request rate (waited for outside every timeout), timeouts for
//! connect, headers and the whole request, a body cap measured after decompression, and bot-wall recognition.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, CACHE_CONTROL, CONTENT_TYPE, COOKIE, ETAG, HeaderMap, HeaderName, HeaderValue, IF_MODIFIED_SINCE,
    IF_NONE_MATCH, LAST_MODIFIED, LINK, LOCATION, RETRY_AFTER, SERVER, USER_AGENT,
};
use url::Url;

use crate::feeds::FeedHttp;
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
    /// The feed's request options cannot be used (a secret that cannot be read).
    #[error("request options: {0}")]
    Options(String),
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
            FetchError::Options(_) => "options_error",
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
    Sitemap,
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
    /// The `Link` headers (WebSub hubs are advertised there too), joined by `, `.
    pub link: Option<String>,
}

/// A feed's request options (its `http:` entry) with the secrets read, for one fetch.
///
/// The user agent and the proxy apply to every request made for the feed; the extra headers
/// and cookies only to hosts within `domains` (each with its subdomains), so that a redirect
/// or an article page elsewhere does not receive them.
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    user_agent: Option<HeaderValue>,
    headers: Vec<(HeaderName, HeaderValue)>,
    cookie: Option<HeaderValue>,
    domains: Vec<String>,
    proxy: Option<ProxyOptions>,
}

/// A proxy and its credentials (`user:password`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ProxyOptions {
    url: Url,
    credentials: Option<String>,
}

impl RequestOptions {
    /// The options of a feed at `feed_url`, reading its secrets now. The error says which
    /// secret could not be read (never its value).
    pub fn for_feed(feed_url: &str, http: &FeedHttp) -> Result<RequestOptions, FetchError> {
        if *http == FeedHttp::default() {
            return Ok(RequestOptions::default());
        }
        let bad = |what: &str, why: String| FetchError::Options(format!("{what}: {why}"));
        let value = |what: &str, text: String| {
            HeaderValue::from_str(&text).map_err(|_| bad(what, "not a valid header value".into()))
        };
        let mut options = RequestOptions {
            user_agent: http.user_agent.clone().map(|ua| value("user_agent", ua)).transpose()?,
            ..RequestOptions::default()
        };
        for (name, source) in &http.headers {
            let what = format!("header {name}");
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad(&what, "not a header name".into()))?;
            let text = source.read().map_err(|why| bad(&what, why))?;
            options.headers.push((name, value(&what, text)?));
        }
        if !http.cookies.is_empty() {
            let mut pairs = Vec::new();
            for (name, secret) in &http.cookies {
                let what = format!("cookie {name}");
                let text = secret.read().map_err(|why| bad(&what, why))?;
                if text.contains([';', '\r', '\n']) {
                    return Err(bad(&what, "the value contains ';' or a line break".into()));
                }
                pairs.push(format!("{name}={text}"));
            }
            options.cookie = Some(value("cookies", pairs.join("; "))?);
        }
        options.domains = if http.domains.is_empty() {
            let host = Url::parse(feed_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
            host.map(|h| h.strip_prefix("www.").map(str::to_string).unwrap_or(h))
                .into_iter()
                .collect()
        } else {
            http.domains
                .iter()
                .map(|d| d.trim_start_matches('.').to_ascii_lowercase())
                .collect()
        };
        if let Some(proxy) = &http.proxy {
            let url = Url::parse(proxy).map_err(|e| bad("proxy", e.to_string()))?;
            let credentials = http
                .proxy_credentials
                .as_ref()
                .map(|secret| secret.read().map_err(|why| bad("proxy_credentials", why)))
                .transpose()?;
            if credentials.as_ref().is_some_and(|c| !c.contains(':')) {
                return Err(bad("proxy_credentials", "expected user:password".into()));
            }
            options.proxy = Some(ProxyOptions { url, credentials });
        }
        Ok(options)
    }

    /// Whether the feed's headers and cookies go to `host`.
    fn in_scope(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.domains
            .iter()
            .any(|d| host == *d || host.strip_suffix(d.as_str()).is_some_and(|rest| rest.ends_with('.')))
    }
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

/// Clients for proxies (one per proxy and credentials) kept at most; past this the cache is
/// emptied and refilled (credentials may rotate, leaving stale entries behind).
const MAX_PROXY_CLIENTS: usize = 64;

/// An HTTP client with the fetcher's limits. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    proxied: Arc<Mutex<HashMap<ProxyOptions, reqwest::Client>>>,
    settings: Arc<HttpSettings>,
    policy: Arc<NetworkPolicy>,
    hosts: Arc<HostLimits>,
}

impl HttpClient {
    pub fn new(settings: HttpSettings, policy: NetworkPolicy, hosts: HostLimits) -> anyhow::Result<Self> {
        let policy = Arc::new(policy);
        let client = build_client(&settings, &policy, None)?;
        Ok(Self {
            client,
            proxied: Arc::default(),
            settings: Arc::new(settings),
            policy,
            hosts: Arc::new(hosts),
        })
    }

    /// The client for `options`: the shared one, or the one for its proxy.
    fn client_for(&self, options: &RequestOptions) -> Result<reqwest::Client, FetchError> {
        let Some(proxy) = &options.proxy else {
            return Ok(self.client.clone());
        };
        let mut clients = self.proxied.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = clients.get(proxy) {
            return Ok(client.clone());
        }
        if clients.len() >= MAX_PROXY_CLIENTS {
            clients.clear();
        }
        let client = build_client(&self.settings, &self.policy, Some(proxy))
            .map_err(|e| FetchError::Options(format!("proxy {}: {e}", proxy.url)))?;
        clients.insert(proxy.clone(), client.clone());
        Ok(client)
    }

    /// Checks, before a request through a proxy, what the guard cannot see once the proxy
    /// has it: the proxy's own URL, and the addresses the target's name resolves to here. A
    /// name this machine cannot resolve is left to the proxy (split DNS is a common reason
    /// for one); IP literals and ports were checked with the URL.
    async fn check_proxied(&self, proxy: &ProxyOptions, target: &Url) -> Result<(), FetchError> {
        let blocked = |Blocked(why)| FetchError::Blocked(why);
        self.policy.check_url(&proxy.url).map_err(blocked)?;
        if let Some(url::Host::Domain(name)) = target.host() {
            self.policy.check_resolved(name).await.map_err(blocked)?;
        }
        Ok(())
    }

    /// The cap on a body, after decompression.
    pub fn max_body_bytes(&self) -> usize {
        self.settings.max_body_bytes
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
        self.get_timed(url, etag, last_modified, kind, &RequestOptions::default())
            .await
            .0
    }

    /// POSTs a form (a WebSub subscription request) within the guard and the host's limits;
    /// returns the status. Redirects are not followed.
    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Result<u16, FetchError> {
        let url = Url::parse(url).map_err(|e| FetchError::Transport(format!("invalid URL {url}: {e}")))?;
        self.policy
            .check_url(&url)
            .map_err(|Blocked(why)| FetchError::Blocked(why))?;
        let _turn = self.hosts.acquire(url.host_str().unwrap_or_default()).await;
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send();
        let response = match tokio::time::timeout(self.settings.total_timeout, request).await {
            Err(_) => return Err(FetchError::Timeout("total")),
            Ok(Err(err)) => return Err(classify(&err)),
            Ok(Ok(response)) => response,
        };
        Ok(response.status().as_u16())
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
        options: &RequestOptions,
    ) -> (Result<Fetched, FetchError>, Duration) {
        let mut queued = Duration::ZERO;
        let result = async {
            let client = self.client_for(options)?;
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
                if let Some(proxy) = &options.proxy {
                    self.check_proxied(proxy, &current).await?;
                }
                let turn = self.hosts.acquire(current.host_str().unwrap_or_default()).await;
                queued += turn.waited;
                let started = tokio::time::Instant::now();
                let hop =
                    tokio::time::timeout(left, self.hop(&client, &current, etag, last_modified, kind, options)).await;
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
    async fn hop(
        &self,
        client: &reqwest::Client,
        current: &Url,
        etag: Option<&str>,
        last_modified: Option<&str>,
        kind: Kind,
        options: &RequestOptions,
    ) -> Hop {
        let mut request = client.get(current.clone()).header(
            ACCEPT,
            match kind {
                Kind::Feed => {
                    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
                }
                Kind::Sitemap => "application/xml, text/xml;q=0.9, application/gzip;q=0.8, text/plain;q=0.5, */*;q=0.3",
                Kind::Article => "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
            },
        );
        if let Some(agent) = &options.user_agent {
            request = request.header(USER_AGENT, agent.clone());
        }
        if options.in_scope(current.host_str().unwrap_or_default()) {
            for (name, value) in &options.headers {
                request = request.header(name.clone(), value.clone());
            }
            if let Some(cookie) = &options.cookie {
                request = request.header(COOKIE, cookie.clone());
            }
        }
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
            link: links(&headers),
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

/// The client with the fetcher's settings, for direct connections or through `proxy`.
fn build_client(
    settings: &HttpSettings,
    policy: &Arc<NetworkPolicy>,
    proxy: Option<&ProxyOptions>,
) -> anyhow::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .user_agent(&settings.user_agent)
        .connect_timeout(settings.connect_timeout)
        // Redirects are followed by hand so that every hop is checked and counted.
        .redirect(reqwest::redirect::Policy::none())
        // The resolver drops refused addresses, for the target or for the proxy's name.
        .dns_resolver(policy.resolver())
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(4);
    let builder = match proxy {
        // No proxy from the environment: a proxy would resolve names where the guard cannot
        // see the addresses. Only a feed's own `http.proxy` is used, and checked.
        None => builder.no_proxy(),
        Some(proxy) => {
            let mut chosen = reqwest::Proxy::all(proxy.url.as_str())?;
            if let Some((user, password)) = proxy.credentials.as_deref().and_then(|c| c.split_once(':')) {
                chosen = chosen.basic_auth(user, password);
            }
            builder.proxy(chosen)
        }
    };
    Ok(builder.build()?)
}

/// The `Link` headers, joined.
fn links(headers: &HeaderMap) -> Option<String> {
    let values: Vec<&str> = headers.get_all(LINK).iter().filter_map(|v| v.to_str().ok()).collect();
    (!values.is_empty()).then(|| values.join(", "))
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
    if kind != Kind::Article && looks_like_html(&lower) {
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
