//! When each feed is due. Today a feed is polled every `min_interval_secs` (its own, or the
//! fetcher's default); learning each feed's rhythm within `[min, max]` comes with the
//! fetcher's scheduling work.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::FeedEntry;

/// The next poll time of every feed.
#[derive(Debug)]
pub struct Schedule {
    default_interval: Duration,
    next: HashMap<String, Instant>,
}

impl Schedule {
    /// Every feed is due at once; afterwards each waits its own interval.
    pub fn new(default_interval: Duration) -> Self {
        Self {
            default_interval: default_interval.max(Duration::from_secs(1)),
            next: HashMap::new(),
        }
    }

    /// The feed's interval: its `min_interval_secs`, else the default, but never above its
    /// `max_interval_secs`.
    pub fn interval(&self, feed: &FeedEntry) -> Duration {
        let mut interval = feed
            .min_interval_secs
            .map_or(self.default_interval, Duration::from_secs);
        if let Some(max) = feed.max_interval_secs {
            interval = interval.min(Duration::from_secs(max));
        }
        interval.max(Duration::from_secs(1))
    }

    /// The feeds due at `now`.
    pub fn due<'a>(&self, feeds: &'a [FeedEntry], now: Instant) -> Vec<&'a FeedEntry> {
        feeds
            .iter()
            .filter(|f| self.next.get(&f.url).is_none_or(|at| *at <= now))
            .collect()
    }

    /// Records that `feed` was polled (successfully or not) at `now`.
    pub fn polled(&mut self, feed: &FeedEntry, now: Instant) {
        let next = now + self.interval(feed);
        self.next.insert(feed.url.clone(), next);
    }

    /// When the next feed falls due (`now` if one already is).
    pub fn next_due(&self, feeds: &[FeedEntry], now: Instant) -> Instant {
        feeds
            .iter()
            .map(|f| self.next.get(&f.url).copied().unwrap_or(now))
            .min()
            .unwrap_or(now + self.default_interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(url: &str, min: Option<u64>, max: Option<u64>) -> FeedEntry {
        FeedEntry {
            url: url.into(),
            name: None,
            fetch_article: false,
            min_interval_secs: min,
            max_interval_secs: max,
            tags: vec![],
        }
    }

    #[tokio::test(start_paused = true)]
    async fn each_feed_waits_its_own_interval() {
        let feeds = vec![
            feed("a", None, None),
            feed("b", Some(60), None),
            feed("c", None, Some(30)),
        ];
        let mut schedule = Schedule::new(Duration::from_secs(300));
        let start = Instant::now();
        assert_eq!(schedule.due(&feeds, start).len(), 3, "everything is due at first");
        for f in &feeds {
            schedule.polled(f, start);
        }
        assert!(schedule.due(&feeds, start).is_empty());
        assert_eq!(schedule.next_due(&feeds, start), start + Duration::from_secs(30));

        tokio::time::advance(Duration::from_secs(30)).await;
        let due: Vec<&str> = schedule
            .due(&feeds, Instant::now())
            .iter()
            .map(|f| f.url.as_str())
            .collect();
        assert_eq!(due, vec!["c"], "max_interval_secs caps the default");
        tokio::time::advance(Duration::from_secs(30)).await;
        let due: Vec<&str> = schedule
            .due(&feeds, Instant::now())
            .iter()
            .map(|f| f.url.as_str())
            .collect();
        assert_eq!(due, vec!["b", "c"]);
        tokio::time::advance(Duration::from_secs(240)).await;
        assert_eq!(schedule.due(&feeds, Instant::now()).len(), 3);
    }
}
