//! When each feed is polled next. The schedule lives in the feed's state (so it survives
//! restarts and moves with the feed between replicas) and is computed here, from wall-clock
//! times passed in, so that it can be tested without waiting.
//!
//! After a successful poll the interval adapts within the feed's `[min, max]`:
//! - to how often the feed publishes (the mean gap between its items' own dates: polling
//!   twice per gap catches items soon without polling a quiet feed all day);
//! - to how many items of the poll were already seen (nothing new: slow down; everything
//!   new: items may have been missed, speed up), and to "not modified" answers;
//! - never below what the server asks for (`Cache-Control: max-age`, RSS `<ttl>`,
//!   `Retry-After`), within `max`;
//! - with ±10% jitter, so that feeds added together do not stay in lockstep.
//!
//! After a failure the feed backs off exponentially (from `min`, doubling per consecutive
//! error, up to `max_backoff`), never sooner than a `Retry-After`; a feed that has failed
//! `park_after_errors` times in a row for at least `park_after` is parked: tried only every
//! `parked_retry`, until it works again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;

use crate::{FeedEntry, FeedState};

/// Scheduling settings (from the fetcher's configuration).
#[derive(Debug, Clone)]
pub struct SchedulePolicy {
    /// Default `min_interval_secs` of a feed.
    pub min_interval: Duration,
    /// Default `max_interval_secs` of a feed.
    pub max_interval: Duration,
    /// Backoff after errors stops growing here.
    pub max_backoff: Duration,
    /// Consecutive errors before a feed may be parked.
    pub park_after_errors: u32,
    /// How long a feed must have been failing before it is parked.
    pub park_after: Duration,
    /// How often a parked feed is tried.
    pub parked_retry: Duration,
    /// Jitter as a fraction of the interval (0.1: ±10%).
    pub jitter: f64,
}

/// What a successful poll saw.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// The feed was not modified (304, or the same body as last time).
    pub not_modified: bool,
    /// Items in the document.
    pub items: usize,
    /// Items not seen before.
    pub new: usize,
    /// Whether this was the feed's first successful poll (everything is new then).
    pub first: bool,
    /// The items' own publication dates.
    pub published: Vec<DateTime<Utc>>,
    /// The least time the server asked us to wait (max-age, ttl, Retry-After).
    pub server_hint: Option<Duration>,
    /// A WebSub hub pushes the feed's items: polling is only the safety net, at the feed's
    /// slowest interval (the learned interval is kept for when push stops).
    pub push_active: bool,
}

/// A feed's scheduling state, derived from its [`FeedState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Active,
    BackingOff,
    Parked,
}

impl Health {
    pub fn of(state: &FeedState) -> Health {
        if state.parked {
            Health::Parked
        } else if state.errors > 0 {
            Health::BackingOff
        } else {
            Health::Active
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Health::Active => "active",
            Health::BackingOff => "backing_off",
            Health::Parked => "parked",
        }
    }
}

impl SchedulePolicy {
    /// The feed's `[min, max]` interval.
    pub fn bounds(&self, feed: &FeedEntry) -> (Duration, Duration) {
        let min = feed
            .min_interval_secs
            .map_or(self.min_interval, Duration::from_secs)
            .max(Duration::from_secs(1));
        let max = feed
            .max_interval_secs
            .map_or(self.max_interval, Duration::from_secs)
            .max(min);
        (min, max)
    }

    /// Whether the feed is due at `now` (a feed never polled is due at once).
    pub fn due(state: &FeedState, now: DateTime<Utc>) -> bool {
        state.next_poll.is_none_or(|at| at <= now.timestamp())
    }

    /// Updates the schedule after a successful poll.
    pub fn after_success(&self, feed: &FeedEntry, state: &mut FeedState, seen: &Observation, now: DateTime<Utc>) {
        let (min, max) = self.bounds(feed);
        let previous = state.interval_secs.map_or(min, Duration::from_secs).clamp(min, max);
        let learned = if seen.not_modified || (seen.new == 0 && seen.items > 0) {
            previous.mul_f64(1.5)
        } else if seen.first || seen.items == 0 {
            previous
        } else {
            // 0% new: x1.25; half new: x0.75; all new (items may have been missed): x0.25.
            let share_new = seen.new as f64 / seen.items as f64;
            previous.mul_f64(1.25 - share_new)
        };
        let interval = match publication_gap(&seen.published, now) {
            // The geometric mean of what the rhythm and the repeats suggest.
            Some(gap) if !seen.not_modified => {
                Duration::from_secs_f64((gap.as_secs_f64() / 2.0 * learned.as_secs_f64()).sqrt())
            }
            _ => learned,
        };
        let mut interval = interval.clamp(min, max);
        if let Some(hint) = seen.server_hint {
            interval = interval.max(hint.min(max));
        }
        state.interval_secs = Some(interval.as_secs());
        state.errors = 0;
        state.parked = false;
        state.failing_since = None;
        state.last_success = Some(now.timestamp());
        let wait = if seen.push_active { max } else { interval };
        state.next_poll = Some(now.timestamp() + self.jittered(wait).as_secs() as i64);
    }

    /// Updates the schedule after a failed poll; `retry_after` is the server's, if any.
    pub fn after_error(
        &self,
        feed: &FeedEntry,
        state: &mut FeedState,
        retry_after: Option<Duration>,
        now: DateTime<Utc>,
    ) {
        let (min, _) = self.bounds(feed);
        state.errors = state.errors.saturating_add(1);
        let failing_since = *state.failing_since.get_or_insert(now.timestamp());
        let doubling = 2f64.powi(state.errors.saturating_sub(1).min(30) as i32);
        let mut wait = min.mul_f64(doubling).min(self.max_backoff);
        if let Some(retry_after) = retry_after {
            // Honoured, but a server cannot park a feed for more than the longest backoff.
            wait = wait.max(retry_after.min(self.max_backoff.max(min)));
        }
        let failing_for = Duration::from_secs((now.timestamp() - failing_since).max(0) as u64);
        if state.errors >= self.park_after_errors && failing_for >= self.park_after {
            state.parked = true;
            wait = wait.max(self.parked_retry);
        }
        state.next_poll = Some(now.timestamp() + self.jittered(wait).as_secs() as i64);
    }

    fn jittered(&self, interval: Duration) -> Duration {
        if self.jitter <= 0.0 {
            return interval;
        }
        let factor = rand::rng().random_range(1.0 - self.jitter..=1.0 + self.jitter);
        interval.mul_f64(factor).max(Duration::from_secs(1))
    }
}

/// The mean gap between the items' dates within the last 30 days, if at least two dated
/// items fall in it.
fn publication_gap(dates: &[DateTime<Utc>], now: DateTime<Utc>) -> Option<Duration> {
    let recent: Vec<i64> = dates
        .iter()
        .map(DateTime::timestamp)
        .filter(|t| now.timestamp() - t <= 30 * 86_400)
        .collect();
    if recent.len() < 2 {
        return None;
    }
    let (oldest, newest) = (recent.iter().min()?, recent.iter().max()?);
    let span = (newest - oldest).max(0) as f64;
    Some(Duration::from_secs_f64(span / (recent.len() - 1) as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> SchedulePolicy {
        SchedulePolicy {
            min_interval: Duration::from_secs(900),
            max_interval: Duration::from_secs(6 * 3600),
            max_backoff: Duration::from_secs(24 * 3600),
            park_after_errors: 5,
            park_after: Duration::from_secs(3 * 86_400),
            parked_retry: Duration::from_secs(7 * 86_400),
            jitter: 0.0,
        }
    }

    fn feed() -> FeedEntry {
        FeedEntry::new("https://a.example/rss")
    }

    fn interval(state: &FeedState) -> u64 {
        state.interval_secs.unwrap()
    }

    #[test]
    fn quiet_feeds_slow_down_busy_ones_speed_up_within_bounds() {
        let (policy, feed, now) = (policy(), feed(), Utc::now());
        let mut quiet = FeedState::default();
        for _ in 0..20 {
            policy.after_success(
                &feed,
                &mut quiet,
                &Observation {
                    not_modified: true,
                    ..Default::default()
                },
                now,
            );
        }
        assert_eq!(interval(&quiet), 6 * 3600, "capped at max");

        let mut busy = FeedState {
            interval_secs: Some(3 * 3600),
            ..Default::default()
        };
        // Every poll brings 10 new items out of 20, one published every hour.
        let published: Vec<_> = (0..20).map(|i| now - chrono::Duration::minutes(60 * i)).collect();
        let mut last = interval(&busy);
        for _ in 0..3 {
            let seen = Observation {
                items: 20,
                new: 10,
                published: published.clone(),
                ..Default::default()
            };
            policy.after_success(&feed, &mut busy, &seen, now);
            assert!(interval(&busy) < last, "{} >= {last}", interval(&busy));
            last = interval(&busy);
        }
        for _ in 0..10 {
            let seen = Observation {
                items: 20,
                new: 20,
                published: published.clone(),
                ..Default::default()
            };
            policy.after_success(&feed, &mut busy, &seen, now);
        }
        assert_eq!(interval(&busy), 900, "never below min");

        // Nothing new out of 20: slower than all new.
        let mut a = FeedState {
            interval_secs: Some(3600),
            ..Default::default()
        };
        let mut b = a.clone();
        policy.after_success(
            &feed,
            &mut a,
            &Observation {
                items: 20,
                new: 0,
                ..Default::default()
            },
            now,
        );
        policy.after_success(
            &feed,
            &mut b,
            &Observation {
                items: 20,
                new: 15,
                ..Default::default()
            },
            now,
        );
        assert!(
            interval(&a) > 3600 && interval(&b) < 3600,
            "{} {}",
            interval(&a),
            interval(&b)
        );
        assert_eq!(a.next_poll, Some(now.timestamp() + interval(&a) as i64));
    }

    #[test]
    fn server_hints_are_floors_within_max() {
        let (policy, feed, now) = (policy(), feed(), Utc::now());
        let mut state = FeedState::default();
        let hinted = |secs| Observation {
            items: 5,
            new: 5,
            first: true,
            server_hint: Some(Duration::from_secs(secs)),
            ..Default::default()
        };
        policy.after_success(&feed, &mut state, &hinted(7200), now);
        assert_eq!(interval(&state), 7200, "ttl / max-age of 2 h");
        policy.after_success(&feed, &mut state, &hinted(86_400), now);
        assert_eq!(interval(&state), 6 * 3600, "but at most max");
    }

    #[test]
    fn errors_back_off_exponentially_then_park_and_success_resets() {
        let (policy, feed) = (policy(), feed());
        let start = Utc::now();
        let mut state = FeedState::default();
        let mut now = start;
        let mut waits = Vec::new();
        for _ in 0..4 {
            policy.after_error(&feed, &mut state, None, now);
            let next = state.next_poll.unwrap();
            waits.push(next - now.timestamp());
            now = DateTime::from_timestamp(next, 0).unwrap();
        }
        assert_eq!(waits, vec![900, 1800, 3600, 7200]);
        assert_eq!(Health::of(&state), Health::BackingOff);
        // Five errors, but failing for less than 3 days: not parked yet.
        policy.after_error(&feed, &mut state, None, now);
        assert!(!state.parked);
        let later = start + chrono::Duration::days(4);
        policy.after_error(&feed, &mut state, None, later);
        assert!(state.parked);
        assert_eq!(Health::of(&state), Health::Parked);
        assert_eq!(
            state.next_poll,
            Some(later.timestamp() + 7 * 86_400),
            "parked: tried weekly"
        );
        let seen = Observation {
            items: 3,
            new: 3,
            first: true,
            ..Default::default()
        };
        policy.after_success(&feed, &mut state, &seen, later);
        assert_eq!(
            (state.errors, state.parked, Health::of(&state)),
            (0, false, Health::Active)
        );
    }

    #[test]
    fn retry_after_is_honoured() {
        let (policy, feed, now) = (policy(), feed(), Utc::now());
        let mut state = FeedState::default();
        policy.after_error(&feed, &mut state, Some(Duration::from_secs(4 * 3600)), now);
        assert_eq!(state.next_poll, Some(now.timestamp() + 4 * 3600));
        let mut state = FeedState::default();
        policy.after_error(&feed, &mut state, Some(Duration::from_secs(365 * 86_400)), now);
        assert_eq!(state.next_poll, Some(now.timestamp() + 86_400), "capped at max_backoff");
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let policy = SchedulePolicy {
            jitter: 0.1,
            ..policy()
        };
        let (feed, now) = (feed(), Utc::now());
        let mut seen = std::collections::HashSet::new();
        for _ in 0..50 {
            let mut state = FeedState {
                interval_secs: Some(3600),
                ..Default::default()
            };
            policy.after_success(
                &feed,
                &mut state,
                &Observation {
                    items: 10,
                    new: 2,
                    ..Default::default()
                },
                now,
            );
            let wait = state.next_poll.unwrap() - now.timestamp();
            let base = interval(&state) as f64;
            assert!(
                (wait as f64) >= base * 0.9 - 1.0 && (wait as f64) <= base * 1.1 + 1.0,
                "{wait} vs {base}"
            );
            seen.insert(wait);
        }
        assert!(seen.len() > 1, "jitter varies");
    }
}
