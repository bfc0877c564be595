//! What the fetcher remembers about a feed, and which of a poll's items are new.

use std::collections::HashSet;

use record::RawRecord;
use runtime::StateChange;
use serde::{Deserialize, Serialize};

/// How many item ids a feed remembers. Feeds list their latest 10–100 items; remembering
/// many more than the feed shows means an item that drops out and comes back (a re-sorted
/// feed) is still not emitted twice. The state is rewritten after every poll, so this also
/// bounds the changelog's volume (about 33 bytes per id).
pub(crate) const SEEN_PER_FEED: usize = 1_000;

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
    /// The WebSub hub the feed advertised at its last parsed poll, and ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub: Option<String>,
    /// ... the topic to subscribe to there: after a restart or a take-over, the fetcher
    /// subscribes again at once, without waiting for the feed's next poll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub_topic: Option<String>,
    /// Failing for long: tried only every `parked_retry_secs`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub parked: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
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
