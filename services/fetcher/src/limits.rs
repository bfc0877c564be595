//! Per-host politeness: at most `per_host_concurrency` requests in flight to one host, and a
//! token bucket that lets at most `per_host_burst` requests start at once and then
//! `per_host_rate` per second. So 500 feeds on one domain become a steady trickle, not 500
//! parallel requests or a burst that gets the fetcher blocked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The limits of every host the fetcher talks to.
#[derive(Debug)]
pub struct HostLimits {
    concurrency: usize,
    rate_per_sec: f64,
    burst: f64,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

#[derive(Debug)]
struct Host {
    in_flight: Arc<Semaphore>,
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// Hosts idle for this long are forgotten (their bucket would be full again anyway).
const IDLE_HOST: Duration = Duration::from_secs(600);

impl HostLimits {
    /// `concurrency` requests in flight per host; `rate_per_sec` requests per second after a
    /// burst of `burst`.
    pub fn new(concurrency: usize, rate_per_sec: f64, burst: u32) -> Self {
        Self {
            concurrency: concurrency.max(1),
            rate_per_sec: rate_per_sec.max(0.001),
            burst: f64::from(burst.max(1)),
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
                        .bucket
                        .lock()
                        .map_or(true, |b| now.duration_since(b.refilled) < IDLE_HOST)
            });
        }
        hosts
            .entry(name.to_ascii_lowercase())
            .or_insert_with(|| {
                Arc::new(Host {
                    in_flight: Arc::new(Semaphore::new(self.concurrency)),
                    bucket: Mutex::new(Bucket {
                        tokens: self.burst,
                        refilled: Instant::now(),
                    }),
                })
            })
            .clone()
    }

    /// Waits until a request to `host` may start; the request holds the permit while it runs.
    pub async fn acquire(&self, host: &str) -> OwnedSemaphorePermit {
        let host = self.host(host);
        let permit = host
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .expect("host semaphores are never closed");
        loop {
            let wait = {
                let mut bucket = host.bucket.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                let elapsed = now.duration_since(bucket.refilled).as_secs_f64();
                bucket.tokens = (bucket.tokens + elapsed * self.rate_per_sec).min(self.burst);
                bucket.refilled = now;
                if bucket.tokens >= 1.0 {
                    bucket.tokens -= 1.0;
                    None
                } else {
                    Some(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate_per_sec))
                }
            };
            match wait {
                None => return permit,
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn one_host_gets_a_burst_then_a_steady_rate() {
        let limits = HostLimits::new(100, 2.0, 3);
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
        // Another host has its own bucket.
        let other = Instant::now();
        drop(limits.acquire("b.example").await);
        assert_eq!(other.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_per_host_is_capped() {
        let limits = Arc::new(HostLimits::new(2, 1000.0, 1000));
        let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..10 {
            let (limits, now, peak) = (limits.clone(), now.clone(), peak.clone());
            tasks.spawn(async move {
                let host = if i % 5 == 0 { "other.example" } else { "busy.example" };
                let _permit = limits.acquire(host).await;
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
}
