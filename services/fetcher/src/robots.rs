//! robots.txt for article pages, fetched through the same guarded, rate-limited client and
//! cached per origin. Feeds themselves are not checked: a feed is published to be polled.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use texting_robots::Robot;
use tokio::time::Instant;

use crate::http::{FetchError, HttpClient, Kind, RequestOptions};

/// How long a robots.txt is trusted.
const FRESH_FOR: Duration = Duration::from_secs(12 * 3600);
/// How long an unreachable robots.txt (5xx, network) keeps the site's pages off limits.
const UNREACHABLE_FOR: Duration = Duration::from_secs(3600);
/// Origins remembered at most; the oldest entries go first past this.
const MAX_ORIGINS: usize = 20_000;

/// What a robots.txt says for one origin.
#[derive(Clone)]
enum Rules {
    /// No robots.txt (4xx): everything is allowed.
    AllowAll,
    /// Unreachable (5xx, network failure): nothing is allowed for now (RFC 9309, 2.3.1.4).
    DisallowAll,
    Parsed(Arc<Robot>),
}

/// robots.txt rules per origin (`scheme://host:port`).
#[derive(Clone, Default)]
pub struct RobotsCache {
    entries: Arc<Mutex<HashMap<String, (Rules, Instant)>>>,
}

impl std::fmt::Debug for RobotsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RobotsCache").finish_non_exhaustive()
    }
}

impl RobotsCache {
    /// Whether `agent` may fetch `url`, fetching the origin's robots.txt (with the feed's
    /// request `options`) when it is not cached.
    pub async fn allowed(&self, client: &HttpClient, agent: &str, url: &str, options: &RequestOptions) -> bool {
        let Ok(parsed) = url::Url::parse(url) else {
            return false;
        };
        let origin = parsed.origin().ascii_serialization();
        let cached = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries
                .get(&origin)
                .filter(|(_, until)| *until > Instant::now())
                .map(|(r, _)| r.clone())
        };
        let rules = match cached {
            Some(rules) => rules,
            None => {
                let (rules, ttl) = fetch(client, agent, &origin, options).await;
                let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
                if entries.len() >= MAX_ORIGINS {
                    let now = Instant::now();
                    entries.retain(|_, (_, until)| *until > now);
                }
                entries.insert(origin, (rules.clone(), Instant::now() + ttl));
                rules
            }
        };
        match rules {
            Rules::AllowAll => true,
            Rules::DisallowAll => false,
            Rules::Parsed(robot) => robot.allowed(url),
        }
    }
}

async fn fetch(client: &HttpClient, agent: &str, origin: &str, options: &RequestOptions) -> (Rules, Duration) {
    let url = format!("{origin}/robots.txt");
    match client.get_timed(&url, None, None, Kind::Article, options).await.0 {
        Ok(fetched) => match Robot::new(agent, &fetched.body) {
            Ok(robot) => (Rules::Parsed(Arc::new(robot)), FRESH_FOR),
            // Unparseable rules say nothing: allowed, as with no robots.txt.
            Err(_) => (Rules::AllowAll, FRESH_FOR),
        },
        Err(FetchError::Status { status, .. }) if (400..500).contains(&status) => (Rules::AllowAll, FRESH_FOR),
        Err(err) => {
            tracing::info!(origin, error = %err, "robots.txt unreachable; the site's pages wait.");
            (Rules::DisallowAll, UNREACHABLE_FOR)
        }
    }
}
