//! WebSub push (W3C WebSub): subscribing to the hubs feeds advertise, answering their
//! verification of intent, and receiving content on the fetcher's push endpoint.
//!
//! - A feed advertises a hub with `<link rel="hub">` (Atom, or `atom:link` in RSS) or an HTTP
//!   `Link: <…>; rel="hub"` header; its topic is its `rel="self"` link, else its URL. When a
//!   poll finds one, the fetcher asks the hub for a subscription (`hub.mode=subscribe`) with
//!   a callback of its own (`websub.callback_url` + `/` + a token per feed) and a secret.
//! - The secret of a subscription is HMAC-SHA256(`websub.secret`, topic): nothing secret is
//!   stored, and every replica with the same `websub.secret` can check a push.
//! - The hub verifies the intent with a GET on the callback: answered (with the challenge)
//!   only for a subscription this fetcher asked for, with the same topic. Unsubscription
//!   requests are refused: this fetcher never asks for one (leases run out instead), so such
//!   a request comes from someone else.
//! - Content arrives as a POST on the callback, signed with `X-Hub-Signature: <method>=<hex>`
//!   (sha1, sha256, sha384 or sha512). Unsigned or wrongly signed content is counted, logged
//!   and ignored, and acknowledged with 202 as the specification requires (so that a forger
//!   learns nothing). Signed content is queued; the poll loop takes it and publishes its
//!   items like a poll's: the same ids, the same feed state, the same transaction.
//! - Leases are renewed before they run out (a fifth of the lease, at least a minute and at
//!   most half the lease, before). A lease that ran out unrenewed makes the feed due at
//!   once: it is polled at its usual rhythm again, and the hub is asked again.
//! - Polling is the safety net: while a subscription is active the feed is polled at its
//!   slowest interval (`max_interval_secs`), so that a hub that stops pushing costs at most
//!   that much delay.
//!
//! Subscriptions live in memory: after a restart the first poll of each feed subscribes
//! again (hubs treat it as a renewal).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::feeds::Secret;
use crate::http::HttpClient;
use crate::metrics;

/// The `websub:` settings of the fetcher. Push is off unless `callback_url` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSubSettings {
    /// `callback_url`: the base URL at which hubs reach this fetcher's push endpoint (each
    /// feed's callback is this plus `/<token>`). Unset: no subscriptions.
    pub callback_url: Option<String>,
    /// `listen_addr`: where the push endpoint listens.
    pub listen_addr: String,
    /// `secret`: `{env: NAME}` or `{file: PATH}`, the key subscriptions' secrets derive from.
    /// Replicas must share it. Unset: a random key per process (pushes signed for an earlier
    /// process are then refused until the next poll subscribes again).
    pub secret: Option<Secret>,
    /// `lease_secs`: the lease asked for (the hub decides).
    pub lease_secs: u64,
    /// `max_queued_pushes`: pushes waiting for the poll loop at most; more are answered 503
    /// (the hub retries).
    pub max_queued_pushes: usize,
}

impl Default for WebSubSettings {
    fn default() -> Self {
        Self {
            callback_url: None,
            listen_addr: "0.0.0.0:9091".into(),
            secret: None,
            lease_secs: 7 * 86_400,
            max_queued_pushes: 10_000,
        }
    }
}

/// Content a hub pushed for a feed, signature checked.
#[derive(Debug, Clone)]
pub(crate) struct Push {
    pub(crate) feed_url: String,
    pub(crate) body: Vec<u8>,
    pub(crate) content_type: Option<String>,
    pub(crate) received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// Asked for; the hub has not verified it yet.
    Requested,
    /// Verified; pushes are expected until `expires`.
    Active,
    /// The hub said no.
    Denied,
}

#[derive(Debug, Clone)]
struct Subscription {
    feed_url: String,
    hub: String,
    topic: String,
    status: Status,
    /// When it was last asked for (or renewed).
    requested: Instant,
    /// When the lease runs out (active ones).
    expires: Option<Instant>,
    lease: Duration,
    renewing: bool,
}

/// Re-ask a hub that has not verified a request after this long.
const VERIFY_WITHIN: Duration = Duration::from_secs(600);
/// Ask again this long after a hub denied a subscription.
const RETRY_DENIED: Duration = Duration::from_secs(6 * 3600);

/// The fetcher's subscriptions and push queue. Shared by the poll tasks and the endpoint.
#[derive(Debug)]
pub(crate) struct WebSub {
    callback_base: String,
    key: Vec<u8>,
    lease: Duration,
    max_queued: usize,
    listen_addr: String,
    max_body_bytes: usize,
    client: HttpClient,
    subscriptions: Mutex<HashMap<String, Subscription>>,
    pushes: Mutex<VecDeque<Push>>,
}

/// A feed's callback token: derived from its URL, so the same on every replica.
pub(crate) fn token(feed_url: &str) -> String {
    hex::encode(&Sha256::digest(feed_url.as_bytes())[..16])
}

impl WebSub {
    /// Push for `settings`, or `None` when no callback URL is configured.
    pub(crate) fn new(
        settings: &WebSubSettings,
        client: HttpClient,
        max_body_bytes: usize,
    ) -> anyhow::Result<Option<Arc<WebSub>>> {
        let Some(callback) = &settings.callback_url else {
            return Ok(None);
        };
        let parsed = url::Url::parse(callback).map_err(|e| anyhow::anyhow!("websub.callback_url: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            anyhow::bail!("websub.callback_url must be http or https");
        }
        let key = match &settings.secret {
            Some(secret) => secret
                .read()
                .map_err(|why| anyhow::anyhow!("websub.secret: {why}"))?
                .into_bytes(),
            None => {
                tracing::warn!(
                    "websub.secret is not set: a random one is used, so replicas cannot check each other's pushes."
                );
                rand::random::<[u8; 32]>().to_vec()
            }
        };
        if key.is_empty() {
            anyhow::bail!("websub.secret is empty");
        }
        Ok(Some(Arc::new(WebSub {
            callback_base: callback.trim_end_matches('/').to_string(),
            key,
            lease: Duration::from_secs(settings.lease_secs.max(60)),
            max_queued: settings.max_queued_pushes.max(1),
            listen_addr: settings.listen_addr.clone(),
            max_body_bytes,
            client,
            subscriptions: Mutex::new(HashMap::new()),
            pushes: Mutex::new(VecDeque::new()),
        })))
    }

    fn callback(&self, feed_url: &str) -> String {
        format!("{}/{}", self.callback_base, token(feed_url))
    }

    /// The subscription's secret, sent to the hub and used to check its signatures.
    fn secret(&self, topic: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"websub:");
        mac.update(topic.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Subscription>> {
        self.subscriptions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether pushes are expected for the feed now (a verified, unexpired subscription).
    pub(crate) fn is_active(&self, feed_url: &str) -> bool {
        self.lock()
            .get(&token(feed_url))
            .is_some_and(|s| s.status == Status::Active && s.expires.is_some_and(|e| e > Instant::now()))
    }

    /// A poll of `feed_url` found `hub` (and the feed's `topic`): subscribes, unless a
    /// subscription to that hub and topic is active, awaiting verification, or was denied
    /// lately.
    pub(crate) async fn discovered(&self, feed_url: &str, hub: &str, topic: &str) {
        let token = token(feed_url);
        {
            let mut subscriptions = self.lock();
            if let Some(existing) = subscriptions.get(&token)
                && existing.hub == hub
                && existing.topic == topic
            {
                let keep = match existing.status {
                    Status::Active => existing.expires.is_some_and(|e| e > Instant::now()),
                    Status::Requested => existing.requested.elapsed() < VERIFY_WITHIN,
                    Status::Denied => existing.requested.elapsed() < RETRY_DENIED,
                };
                if keep {
                    return;
                }
            }
            subscriptions.insert(
                token,
                Subscription {
                    feed_url: feed_url.to_string(),
                    hub: hub.to_string(),
                    topic: topic.to_string(),
                    status: Status::Requested,
                    requested: Instant::now(),
                    expires: None,
                    lease: self.lease,
                    renewing: false,
                },
            );
        }
        self.request(feed_url, hub, topic).await;
    }

    /// Sends a subscription request; the hub answers 202 and verifies later.
    async fn request(&self, feed_url: &str, hub: &str, topic: &str) {
        let callback = self.callback(feed_url);
        let secret = self.secret(topic);
        let lease = self.lease.as_secs().to_string();
        let form = [
            ("hub.mode", "subscribe"),
            ("hub.topic", topic),
            ("hub.callback", callback.as_str()),
            ("hub.secret", secret.as_str()),
            ("hub.lease_seconds", lease.as_str()),
        ];
        let requests = &metrics::get().websub_requests;
        match self.client.post_form(hub, &form).await {
            Ok(status) if (200..300).contains(&status) => {
                requests.with_label_values(&["accepted"]).inc();
                tracing::info!(feed = feed_url, hub, topic, "WebSub subscription requested.");
            }
            Ok(status) => {
                requests.with_label_values(&["refused"]).inc();
                tracing::warn!(
                    feed = feed_url,
                    hub,
                    status,
                    "The WebSub hub refused the subscription; polling only."
                );
                self.mark_denied(feed_url);
            }
            Err(err) => {
                requests.with_label_values(&["failed"]).inc();
                tracing::warn!(feed = feed_url, hub, error = %err, "WebSub subscription request failed; polling only.");
                self.mark_denied(feed_url);
            }
        }
    }

    fn mark_denied(&self, feed_url: &str) {
        if let Some(s) = self.lock().get_mut(&token(feed_url)) {
            s.status = Status::Denied;
            s.renewing = false;
        }
    }

    /// Renews leases that run out soon, and asks again for the ones that ran out; returns the
    /// feeds of the latter, which are due at once. Updates the subscription gauges.
    pub(crate) fn maintain(self: &Arc<Self>) -> Vec<String> {
        let now = Instant::now();
        let mut lapsed = Vec::new();
        let mut renew = Vec::new();
        let mut counts = [0i64; 3];
        {
            let mut subscriptions = self.lock();
            for s in subscriptions.values_mut() {
                if s.status == Status::Active && s.expires.is_some_and(|e| e <= now) {
                    // The feed is polled at its usual rhythm again, and the hub asked again
                    // (the feed's next poll may not parse it: an unchanged feed is not).
                    tracing::warn!(feed = %s.feed_url, hub = %s.hub, "WebSub lease ran out; polling the feed at its usual rhythm again.");
                    lapsed.push(s.feed_url.clone());
                    s.status = Status::Requested;
                    s.expires = None;
                    s.renewing = false;
                    s.requested = now;
                    renew.push((s.feed_url.clone(), s.hub.clone(), s.topic.clone()));
                }
                if s.status == Status::Active
                    && !s.renewing
                    && let Some(expires) = s.expires
                {
                    let margin = (s.lease / 5).max(Duration::from_secs(60)).min(s.lease / 2);
                    if expires.saturating_duration_since(now) <= margin {
                        s.renewing = true;
                        s.requested = now;
                        renew.push((s.feed_url.clone(), s.hub.clone(), s.topic.clone()));
                    }
                }
                counts[s.status as usize] += 1;
            }
        }
        let gauge = &metrics::get().websub_subscriptions;
        for (status, name) in [
            (Status::Requested, "requested"),
            (Status::Active, "active"),
            (Status::Denied, "denied"),
        ] {
            gauge.with_label_values(&[name]).set(counts[status as usize]);
        }
        for (feed_url, hub, topic) in renew {
            let this = self.clone();
            tokio::spawn(async move { this.request(&feed_url, &hub, &topic).await });
        }
        lapsed
    }

    /// Takes the queued pushes whose feed `ready` says may start now; the others stay queued
    /// in order.
    pub(crate) fn take_pushes(&self, mut ready: impl FnMut(&str) -> bool) -> Vec<Push> {
        let mut queue = self.pushes.lock().unwrap_or_else(|e| e.into_inner());
        let mut taken = Vec::new();
        let mut kept = VecDeque::with_capacity(queue.len());
        let mut held: std::collections::HashSet<String> = std::collections::HashSet::new();
        for push in queue.drain(..) {
            // One push per feed at a time, in arrival order.
            if !held.contains(&push.feed_url) && ready(&push.feed_url) {
                held.insert(push.feed_url.clone());
                taken.push(push);
            } else {
                held.insert(push.feed_url.clone());
                kept.push_back(push);
            }
        }
        *queue = kept;
        taken
    }

    /// Drops the queued pushes of feeds `keep` rejects (feeds that moved to another replica
    /// or left the list); returns how many.
    pub(crate) fn drop_pushes(&self, mut keep: impl FnMut(&str) -> bool) -> usize {
        let mut queue = self.pushes.lock().unwrap_or_else(|e| e.into_inner());
        let before = queue.len();
        queue.retain(|p| keep(&p.feed_url));
        before - queue.len()
    }

    /// Serves the push endpoint until `shutdown`; returns the address it listens on.
    pub(crate) async fn serve(self: &Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<std::net::SocketAddr> {
        let listener = tokio::net::TcpListener::bind(&self.listen_addr)
            .await
            .map_err(|e| anyhow::anyhow!("websub.listen_addr {}: {e}", self.listen_addr))?;
        let addr = listener.local_addr()?;
        let this = self.clone();
        let app = axum::Router::new()
            .fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let this = this.clone();
                async move { this.handle(&method, &uri, &headers, body) }
            })
            .layer(axum::extract::DefaultBodyLimit::max(self.max_body_bytes));
        tracing::info!(%addr, callback = %self.callback_base, "WebSub push endpoint listening.");
        tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move { shutdown.cancelled().await })
                .await;
            if let Err(err) = served {
                tracing::error!(error = %err, "WebSub push endpoint failed.");
            }
        });
        Ok(addr)
    }

    /// One request on the push endpoint: the last path segment is the feed's token.
    fn handle(&self, method: &Method, uri: &Uri, headers: &HeaderMap, body: Bytes) -> Response {
        let token = uri.path().rsplit('/').next().unwrap_or_default();
        let subscription = self.lock().get(token).cloned();
        match *method {
            Method::GET => self.verify(token, subscription, uri.query().unwrap_or_default()),
            Method::POST => self.receive(subscription, headers, body),
            _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        }
    }

    /// The hub's verification of intent (or its denial).
    fn verify(&self, token: &str, subscription: Option<Subscription>, query: &str) -> Response {
        let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let param = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
        let verifications = &metrics::get().websub_verifications;
        let Some(subscription) = subscription else {
            verifications.with_label_values(&["unknown"]).inc();
            tracing::warn!(
                token,
                mode = param("hub.mode"),
                topic = param("hub.topic"),
                "WebSub verification for no subscription of ours refused."
            );
            return StatusCode::NOT_FOUND.into_response();
        };
        if param("hub.topic") != subscription.topic {
            verifications.with_label_values(&["wrong_topic"]).inc();
            tracing::warn!(feed = %subscription.feed_url, topic = param("hub.topic"), "WebSub verification for another topic refused.");
            return StatusCode::NOT_FOUND.into_response();
        }
        match param("hub.mode") {
            "subscribe" if subscription.status != Status::Denied => {
                let lease = param("hub.lease_seconds")
                    .parse::<u64>()
                    .ok()
                    .filter(|secs| *secs > 0)
                    .map_or(self.lease, Duration::from_secs);
                if let Some(s) = self.lock().get_mut(token) {
                    s.status = Status::Active;
                    s.renewing = false;
                    s.lease = lease;
                    s.expires = Some(Instant::now() + lease);
                }
                verifications.with_label_values(&["subscribed"]).inc();
                tracing::info!(feed = %subscription.feed_url, hub = %subscription.hub, lease_secs = lease.as_secs(), "WebSub subscription verified.");
                (StatusCode::OK, param("hub.challenge").to_string()).into_response()
            }
            "denied" => {
                self.mark_denied(&subscription.feed_url);
                verifications.with_label_values(&["denied"]).inc();
                tracing::warn!(feed = %subscription.feed_url, hub = %subscription.hub, reason = param("hub.reason"), "The WebSub hub denied the subscription; polling only.");
                StatusCode::OK.into_response()
            }
            mode => {
                verifications.with_label_values(&["refused"]).inc();
                tracing::warn!(feed = %subscription.feed_url, mode, "WebSub verification refused: not a request of ours.");
                StatusCode::NOT_FOUND.into_response()
            }
        }
    }

    /// Content distribution: checked, then queued for the poll loop.
    fn receive(&self, subscription: Option<Subscription>, headers: &HeaderMap, body: Bytes) -> Response {
        let pushes = &metrics::get().websub_pushes;
        let Some(subscription) = subscription else {
            pushes.with_label_values(&["unknown_subscription"]).inc();
            tracing::warn!("WebSub content for no subscription of ours ignored.");
            return StatusCode::NOT_FOUND.into_response();
        };
        let signature = headers.get("x-hub-signature").and_then(|v| v.to_str().ok());
        let outcome = match signature {
            None => Err("unsigned"),
            Some(signature) => check_signature(self.secret(&subscription.topic).as_bytes(), signature, &body),
        };
        if let Err(outcome) = outcome {
            pushes.with_label_values(&[outcome]).inc();
            tracing::warn!(
                feed = %subscription.feed_url,
                hub = %subscription.hub,
                outcome,
                bytes = body.len(),
                "WebSub content ignored: not signed with the subscription's secret."
            );
            // The specification: acknowledge, and ignore.
            return StatusCode::ACCEPTED.into_response();
        }
        let mut queue = self.pushes.lock().unwrap_or_else(|e| e.into_inner());
        if queue.len() >= self.max_queued {
            pushes.with_label_values(&["queue_full"]).inc();
            tracing::warn!(feed = %subscription.feed_url, queued = queue.len(), "WebSub push queue full; the hub will retry.");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        queue.push_back(Push {
            feed_url: subscription.feed_url.clone(),
            body: body.to_vec(),
            content_type: headers
                .get(axum::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            received_at: Utc::now(),
        });
        pushes.with_label_values(&["ok"]).inc();
        tracing::debug!(feed = %subscription.feed_url, bytes = body.len(), "WebSub content received.");
        StatusCode::ACCEPTED.into_response()
    }
}

/// Checks `X-Hub-Signature: <method>=<hex>` over `body`; the error is the outcome label.
pub(crate) fn check_signature(secret: &[u8], signature: &str, body: &[u8]) -> Result<(), &'static str> {
    let (method, hex_digest) = signature.trim().split_once('=').ok_or("bad_signature")?;
    let digest = hex::decode(hex_digest.trim()).map_err(|_| "bad_signature")?;
    fn verify<M: Mac + hmac::digest::KeyInit>(secret: &[u8], body: &[u8], digest: &[u8]) -> Result<(), &'static str> {
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(secret).map_err(|_| "bad_signature")?;
        mac.update(body);
        mac.verify_slice(digest).map_err(|_| "bad_signature")
    }
    match method.trim().to_ascii_lowercase().as_str() {
        "sha1" => verify::<Hmac<sha1::Sha1>>(secret, body, &digest),
        "sha256" => verify::<Hmac<Sha256>>(secret, body, &digest),
        "sha384" => verify::<Hmac<sha2::Sha384>>(secret, body, &digest),
        "sha512" => verify::<Hmac<sha2::Sha512>>(secret, body, &digest),
        _ => Err("bad_signature"),
    }
}

/// The hub and self links of an HTTP `Link` header (`<url>; rel="hub"`), resolved against
/// `base`.
pub(crate) fn link_header(value: &str, base: &str) -> (Option<String>, Option<String>) {
    let (mut hub, mut this) = (None, None);
    let base = url::Url::parse(base).ok();
    for link in split_links(value) {
        let Some((target, params)) = link.trim().strip_prefix('<').and_then(|l| l.split_once('>')) else {
            continue;
        };
        let rels: Vec<String> = params
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .filter(|(k, _)| k.trim().eq_ignore_ascii_case("rel"))
            .flat_map(|(_, v)| {
                v.trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect::<Vec<_>>()
            })
            .collect();
        let resolved = match &base {
            Some(base) => base.join(target.trim()).map(|u| u.to_string()).ok(),
            None => Some(target.trim().to_string()),
        };
        if rels.iter().any(|r| r == "hub") && hub.is_none() {
            hub = resolved.clone();
        }
        if rels.iter().any(|r| r == "self") && this.is_none() {
            this = resolved;
        }
    }
    (hub, this)
}

/// Splits a `Link` header at the commas between links (not those inside `<…>` or quotes).
fn split_links(value: &str) -> Vec<&str> {
    let (mut parts, mut start, mut angle, mut quoted) = (Vec::new(), 0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            '"' if !angle => quoted = !quoted,
            ',' if !angle && !quoted => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign<M: Mac + hmac::digest::KeyInit>(secret: &[u8], body: &[u8]) -> String {
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(secret).unwrap();
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn signatures_of_every_method_are_checked() {
        let (secret, body) = (b"s3cret".as_slice(), b"<feed/>".as_slice());
        let good = [
            format!("sha1={}", sign::<Hmac<sha1::Sha1>>(secret, body)),
            format!("sha256={}", sign::<Hmac<Sha256>>(secret, body)),
            format!("sha384={}", sign::<Hmac<sha2::Sha384>>(secret, body)),
            format!("SHA512={}", sign::<Hmac<sha2::Sha512>>(secret, body)),
        ];
        for signature in &good {
            assert_eq!(check_signature(secret, signature, body), Ok(()), "{signature}");
            assert_eq!(
                check_signature(secret, signature, b"<feed>changed</feed>"),
                Err("bad_signature")
            );
            assert_eq!(check_signature(b"other", signature, body), Err("bad_signature"));
        }
        let md5 = format!("md5={}", sign::<Hmac<Sha256>>(secret, body));
        for bad in ["", "sha256", "sha256=zz", "sha256=", md5.as_str()] {
            assert_eq!(check_signature(secret, bad, body), Err("bad_signature"), "{bad}");
        }
    }

    #[test]
    fn link_headers_name_the_hub_and_self() {
        let (hub, this) = link_header(
            r#"<https://hub.example/>; rel="hub", </feed.xml>; rel="self", <https://x.example/a,b>; rel="alternate""#,
            "https://news.example/feeds/world",
        );
        assert_eq!(hub.as_deref(), Some("https://hub.example/"));
        assert_eq!(this.as_deref(), Some("https://news.example/feed.xml"));
        let (hub, this) = link_header(r#"<https://hub.example/h>; rel="self hub""#, "https://n.example/");
        assert_eq!(hub.as_deref(), Some("https://hub.example/h"));
        assert_eq!(this.as_deref(), Some("https://hub.example/h"));
        assert_eq!(link_header("garbage", "https://n.example/"), (None, None));
    }

    #[test]
    fn tokens_are_stable_and_distinct() {
        assert_eq!(token("https://a.example/rss"), token("https://a.example/rss"));
        assert_ne!(token("https://a.example/rss"), token("https://a.example/rss2"));
        assert_eq!(token("https://a.example/rss").len(), 32);
    }
}
