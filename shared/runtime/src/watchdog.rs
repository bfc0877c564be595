//! A watchdog over the stage loop's Kafka calls.
//!
//! Every blocking call the loop makes has a timeout, so a call that does not come back is a
//! client stuck for good (seen once in the fault soak: a stage that logged nothing more after
//! a broker restart, with the broker up). The loop says which step it is in; a thread of the
//! watchdog's own checks that no watched step lasts longer than the limit, and when one does,
//! fails `/healthz`, logs where the loop is stuck and ends the process with exit 1 so that it
//! is restarted (as for every fatal client error; exactly-once makes that safe: the open
//! transaction is aborted and the batch done again).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use telemetry::Health;

/// The exit status of a process the watchdog ends.
pub const STUCK_EXIT_CODE: i32 = 1;

#[derive(Debug)]
struct Inner {
    /// The watched step the loop is in and since when; `None` while it runs the stage's own
    /// code (processing a batch, restoring state), which is not Kafka's and is not watched.
    step: Mutex<Option<(&'static str, Instant)>>,
    stop: AtomicBool,
}

/// Where the stage loop is; cheap to update.
#[derive(Debug, Clone)]
pub(crate) struct Steps {
    inner: Arc<Inner>,
}

/// Stops the watchdog's thread when dropped.
pub(crate) struct Watching {
    inner: Arc<Inner>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::SeqCst);
    }
}

impl Steps {
    pub(crate) fn new() -> Steps {
        Steps {
            inner: Arc::new(Inner {
                step: Mutex::new(None),
                stop: AtomicBool::new(false),
            }),
        }
    }

    /// The loop enters a watched step (a Kafka call, or waiting for records).
    pub(crate) fn enter(&self, step: &'static str) {
        *self.inner.step.lock().unwrap_or_else(|e| e.into_inner()) = Some((step, Instant::now()));
    }

    /// The loop runs code that is not watched.
    pub(crate) fn leave(&self) {
        *self.inner.step.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The watched step the loop has been in for at least `limit`, and for how long.
    fn stuck(&self, limit: Duration) -> Option<(&'static str, Duration)> {
        let step = *self.inner.step.lock().unwrap_or_else(|e| e.into_inner());
        step.map(|(step, since)| (step, since.elapsed()))
            .filter(|(_, waited)| *waited >= limit)
    }

    /// Starts the watchdog's thread: once a watched step lasts `limit`, it calls `on_stuck`
    /// with the reason (once), after failing `health` and logging it.
    pub(crate) fn watch(
        &self,
        stage: &'static str,
        limit: Duration,
        health: Health,
        on_stuck: impl FnOnce(&str) + Send + 'static,
    ) -> Watching {
        let steps = self.clone();
        let every = (limit / 10).clamp(Duration::from_millis(50), Duration::from_secs(5));
        std::thread::Builder::new()
            .name(format!("{stage}-watchdog"))
            .spawn(move || {
                while !steps.inner.stop.load(Ordering::SeqCst) {
                    std::thread::sleep(every);
                    if let Some((step, waited)) = steps.stuck(limit) {
                        let why = format!(
                            "the stage loop has been {step} for {} s without coming back (runtime.stall_timeout_secs is \
                             {} s): the Kafka client is stuck",
                            waited.as_secs(),
                            limit.as_secs()
                        );
                        health.set_failed(why.clone());
                        tracing::error!(stage, step, seconds = waited.as_secs(), "Stage stuck: {why}; exiting.");
                        on_stuck(&why);
                        return;
                    }
                }
            })
            .expect("the watchdog thread starts");
        Watching {
            inner: self.inner.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watched_step_that_lasts_is_reported_once_and_unwatched_code_never() {
        let steps = Steps::new();
        let health = Health::default();
        let (tx, rx) = std::sync::mpsc::channel();
        let _watching = steps.watch("test", Duration::from_millis(300), health.clone(), move |why| {
            tx.send(why.to_string()).unwrap();
        });
        // Unwatched code may take as long as it takes; watched steps that come back in time
        // are fine.
        steps.leave();
        std::thread::sleep(Duration::from_millis(500));
        for _ in 0..5 {
            steps.enter("waiting for records");
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(rx.try_recv().is_err(), "nothing reported");
        assert!(health.is_alive());
        steps.enter("committing the transaction");
        let why = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the stuck step is reported");
        assert!(why.contains("committing the transaction"), "{why}");
        assert!(!health.is_alive());
        assert!(health.failure().unwrap().contains("committing the transaction"));
        assert!(rx.recv_timeout(Duration::from_millis(500)).is_err(), "once");
    }
}
