//! Politeness and fairness: at most `per_host_concurrency` requests in flight to one host, at
//! most `per_host_burst` started at once and then `per_host_requests_per_sec`, and at most
//! `max_concurrent_fetches` in flight over all hosts. So 500 feeds on one domain become a
//! steady trickle, not 500 parallel requests or a burst that gets the fetcher blocked.
//!
//! Waiting for a host's turn is queueing, not failing: [`HostLimits::acquire`] waits as long
//! as the host's queue needs, and the request's own timeouts start only once the turn has come
//! (see `HttpClient::get`). The queue is first come, first served: a host's permits are a FIFO
//! semaphore, and each permit holder reserves the next start time of the host's rate in the
//! order the permits were granted (the generic cell rate algorithm: a "theoretical arrival
//! time" that advances by `1/rate` per request, with `burst - 1` intervals of slack). No
//! request can overtake another by winning a lock or a wake-up race, so no feed starves. The
//! global limit is taken last, once the host's turn has come: a request waiting for a busy
//! host never holds a slot that another host's request could use.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::metrics;

/// The limits of every host the fetcher talks to.
#[derive(Debug)]
pub struct HostLimits {
    concurrency: usize,
    /// Between two request starts on one host.
    interval: Duration,
    /// How far ahead of the steady rate a burst may run: `(burst - 1) * interval`.
    slack: Duration,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

#[derive(Debug)]
struct Host {
    name: String,
    in_flight: Arc<Semaphore>,
    /// The theoretical start of the next request at the steady rate.
    next_start: Mutex<Instant>,
    /// Requests waiting for their turn on this host.
    waiting: AtomicUsize,
}

/// The right to send one request now. Held while the request runs (body included).
#[derive(Debug)]
pub struct Turn {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
    /// How long the request waited for its turn.
    pub waited: Duration,
}

/// Hosts idle for this long are forgotten (their rate would allow a full burst again anyway).
const IDLE_HOST: Duration = Duration::from_secs(600);

impl HostLimits {
    /// `concurrency` requests in flight per host; `rate_per_sec` request starts per second
    /// after a burst of `burst`; `global` requests in flight over all hosts.
    pub fn new(concurrency: usize, rate_per_sec: f64, burst: u32, global: usize) -> Self {
        let interval = Duration::from_secs_f64(1.0 / rate_per_sec.max(0.001));
        Self {
            concurrency: concurrency.max(1),
            interval,
            slack: interval * burst.max(1).saturating_sub(1),
            global: Arc::new(Semaphore::new(global.max(1))),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    fn host(&self, name: &str) -> Arc<Host> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        if hosts.len() > 10_000 {
            let now = Instant::now();
            hosts.retain(|_, host| {
                Arc::strong_count(host) > 1
                    || host
                        .next_start
                        .lock()
                        .map_or(true, |at| now.saturating_duration_since(*at) < IDLE_HOST)
            });
        }
        let name = name.to_ascii_lowercase();
        hosts
            .entry(name.clone())
            .or_insert_with(|| {
                Arc::new(Host {
                    name,
                    in_flight: Arc::new(Semaphore::new(self.concurrency)),
                    next_start: Mutex::new(Instant::now()),
                    waiting: AtomicUsize::new(0),
                })
            })
            .clone()
    }

    /// Waits, as long as the queue needs, until a request to `host` may start. Requests to one
    /// host get their turns in the order they asked.
    pub async fn acquire(&self, host: &str) -> Turn {
        let host = self.host(host);
        let asked = Instant::now();
        let queued = Queued::enter(&host);
        let permit = host
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .expect("host semaphores are never closed");
        let start = {
            let mut next = host.next_start.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            // The steady schedule, less the burst's slack, but never in the past.
            let start = next.checked_sub(self.slack).map_or(now, |s| s.max(now));
            *next = (*next).max(now) + self.interval;
            start
        };
        tokio::time::sleep_until(start).await;
        let global = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("the global semaphore is never closed");
        drop(queued);
        let waited = asked.elapsed();
        metrics::get().queue_wait_seconds.observe(waited.as_secs_f64());
        Turn {
            _host: permit,
            _global: global,
            waited,
        }
    }
}

/// A request in a host's queue: counted in the queue gauges while it waits, also when the
/// waiting future is dropped.
struct Queued<'a>(&'a Host);

impl<'a> Queued<'a> {
    fn enter(host: &'a Host) -> Self {
        let depth = host.waiting.fetch_add(1, Ordering::SeqCst) + 1;
        metrics::get().queue_changed(&host.name, depth, 1);
        Queued(host)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        let depth = self.0.waiting.fetch_sub(1, Ordering::SeqCst) - 1;
        metrics::get().queue_changed(&self.0.name, depth, -1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test(start_paused = true)]
    async fn one_host_gets_a_burst_then_a_steady_rate() {
        let limits = HostLimits::new(100, 2.0, 3, 100);
        let start = Instant::now();
        for _ in 0..3 {
            drop(limits.acquire("a.example").await);
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the burst starts at once");
        for _ in 0..4 {
            drop(limits.acquire("a.example").await);
        }
        let elapsed = start.elapsed().as_secs_f64();
        assert!((1.99..2.1).contains(&elapsed), "4 more at 2/s take 2 s, took {elapsed}");
        // Another host has its own rate.
        let other = Instant::now();
        drop(limits.acquire("b.example").await);
        assert_eq!(other.elapsed(), Duration::ZERO);
        // An idle host gets its burst back.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let later = Instant::now();
        for _ in 0..3 {
            drop(limits.acquire("a.example").await);
        }
        assert_eq!(later.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_per_host_is_capped() {
        let limits = Arc::new(HostLimits::new(2, 1000.0, 1000, 100));
        let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..10 {
            let (limits, now, peak) = (limits.clone(), now.clone(), peak.clone());
            tasks.spawn(async move {
                let host = if i % 5 == 0 { "other.example" } else { "busy.example" };
                let _turn = limits.acquire(host).await;
                let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(running, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(1)).await;
                now.fetch_sub(1, Ordering::SeqCst);
            });
        }
        while tasks.join_next().await.is_some() {}
        // At most 2 on busy.example plus 2 on other.example.
        assert!(peak.load(Ordering::SeqCst) <= 4, "peak {}", peak.load(Ordering::SeqCst));
        assert!(peak.load(Ordering::SeqCst) >= 3, "hosts do not wait for each other");
    }

    /// Turns come in the order they were asked for, and a slow host's queue holds no global
    /// slot: another host's request goes through while 50 wait for the busy one.
    #[tokio::test(start_paused = true)]
    async fn turns_are_first_come_first_served_and_a_queue_blocks_no_other_host() {
        let limits = Arc::new(HostLimits::new(2, 1.0, 1, 2));
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..50 {
            let (limits, order) = (limits.clone(), order.clone());
            tasks.spawn(async move {
                let turn = limits.acquire("busy.example").await;
                order.lock().unwrap().push(i);
                tokio::time::sleep(Duration::from_millis(100)).await;
                turn.waited
            });
            // Each asks a moment after the previous one.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let other = Instant::now();
        drop(limits.acquire("quiet.example").await);
        assert!(other.elapsed() < Duration::from_millis(200), "{:?}", other.elapsed());
        let mut longest = Duration::ZERO;
        while let Some(waited) = tasks.join_next().await {
            longest = longest.max(waited.unwrap());
        }
        assert_eq!(*order.lock().unwrap(), (0..50).collect::<Vec<_>>(), "FIFO");
        // 50 requests at 1/s: the last one waits about 49 s, and nobody longer.
        assert!(longest < Duration::from_secs(50), "{longest:?}");
    }
}
