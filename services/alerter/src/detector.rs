//! The spike detector: per-topic story counts over a sliding window, judged against an EWMA
//! baseline of the topic's own history.
//!
//! # Method
//!
//! Time is cut into buckets of `bucket_secs`. The detector's clock is the stream's: the
//! newest bucket any record fell into. Each time the clock moves past a bucket, that bucket
//! closes and every known topic is judged on the window of the last `window_secs` (the closed
//! bucket and the ones before it):
//!
//! - `observed` = stories of the topic in the window. A story counts once: only records with
//!   no `duplicate_of` and `revision == 1` count (repeats and revisions do not).
//! - The baseline is an exponentially weighted moving average (half-life
//!   `baseline_half_life_secs`) of the topic's count per bucket, with its EWMA variance, over
//!   the buckets *older* than the window, so a spike never raises its own baseline while it is
//!   being judged. The average is bias-corrected for the detector's short history, and a topic
//!   seen for the first time is taken to have had zero stories since the detector started.
//! - `expected` = mean × buckets per window; its variance is the larger of the EWMA variance ×
//!   buckets per window and `expected` itself (a Poisson floor: counts of rare topics are
//!   noisy even when their history is flat). `score` = (observed − expected) / √(variance + 1);
//!   the +1 keeps a topic with an empty history from scoring infinity on its first story.
//! - A spike starts when `score ≥ z_threshold`, `observed ≥ min_count` and `observed ≥
//!   min_ratio × expected` (a quiet topic going from 0 to 2 stories is not a spike, and
//!   neither is a 20% rise of a large topic with a tiny variance). It ends when the score falls
//!   below `z_resolve` (hysteresis: a topic hovering at the threshold does not flap).
//! - A `spiking` event is published when a spike starts, a `resolved` event when it ends. A
//!   topic that spikes again within `cooldown_secs` of its last `spiking` event is marked
//!   spiking (gauge) but not announced again.
//! - No spike is announced before the detector has seen `min_history_secs` of stream time.
//!
//! Records older than the window when they arrive (a feed's backlog on first start) no longer
//! count: they are counted as late. A record's time is its `published_at`, or its
//! `fetched_at` when it has none or when it claims to be published after it was fetched.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, TimeZone, Utc};
use record::{AlertEvent, AlertState, Record};
use serde::{Deserialize, Serialize};

/// The detector's settings (the `detector:` section of the alerter's configuration, and the
/// options of `newswire alerts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorSettings {
    /// `bucket_secs`: the granularity of counts, and how often topics are judged.
    #[arg(long, default_value_t = 300)]
    pub bucket_secs: u64,
    /// `window_secs`: the recent window a topic's count is taken over (a multiple of
    /// `bucket_secs`).
    #[arg(long, default_value_t = 3600)]
    pub window_secs: u64,
    /// `baseline_half_life_secs`: how fast the baseline forgets.
    #[arg(long, default_value_t = 43_200)]
    pub baseline_half_life_secs: u64,
    /// `min_history_secs`: stream time the detector must have seen before it announces spikes.
    #[arg(long, default_value_t = 21_600)]
    pub min_history_secs: u64,
    /// `z_threshold`: the score at which a spike starts.
    #[arg(long, default_value_t = 4.0)]
    pub z_threshold: f64,
    /// `z_resolve`: the score below which a spike ends.
    #[arg(long, default_value_t = 2.0)]
    pub z_resolve: f64,
    /// `min_count`: the fewest stories in the window that can make a spike.
    #[arg(long, default_value_t = 10)]
    pub min_count: u64,
    /// `min_ratio`: observed must be at least this multiple of expected.
    #[arg(long, default_value_t = 2.0)]
    pub min_ratio: f64,
    /// `cooldown_secs`: after a `spiking` event, the same topic is not announced again for
    /// this long.
    #[arg(long, default_value_t = 7200)]
    pub cooldown_secs: u64,
    /// `max_samples`: article ids carried in an event.
    #[arg(long, default_value_t = 5)]
    pub max_samples: usize,
}

impl Default for DetectorSettings {
    fn default() -> Self {
        Self {
            bucket_secs: 300,
            window_secs: 3600,
            baseline_half_life_secs: 43_200,
            min_history_secs: 21_600,
            z_threshold: 4.0,
            z_resolve: 2.0,
            min_count: 10,
            min_ratio: 2.0,
            cooldown_secs: 7200,
            max_samples: 5,
        }
    }
}

impl DetectorSettings {
    /// Checks that the settings make sense together.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.bucket_secs > 0, "detector.bucket_secs must be positive");
        anyhow::ensure!(
            self.window_secs >= self.bucket_secs && self.window_secs % self.bucket_secs == 0,
            "detector.window_secs ({}) must be a positive multiple of bucket_secs ({})",
            self.window_secs,
            self.bucket_secs
        );
        anyhow::ensure!(
            self.baseline_half_life_secs > 0,
            "detector.baseline_half_life_secs must be positive"
        );
        anyhow::ensure!(
            self.z_resolve <= self.z_threshold,
            "detector.z_resolve ({}) must not exceed z_threshold ({})",
            self.z_resolve,
            self.z_threshold
        );
        anyhow::ensure!(self.min_ratio >= 0.0, "detector.min_ratio must not be negative");
        Ok(())
    }

    fn window_buckets(&self) -> i64 {
        (self.window_secs / self.bucket_secs) as i64
    }

    /// The EWMA weight of one bucket.
    fn alpha(&self) -> f64 {
        1.0 - 0.5f64.powf(self.bucket_secs as f64 / self.baseline_half_life_secs as f64)
    }
}

/// One record, as the detector sees it.
#[derive(Debug, Clone)]
pub struct Observation<'a> {
    /// The record's time (see [`event_time`]).
    pub time: DateTime<Utc>,
    /// The article id, for the events' samples.
    pub article_id: &'a str,
    /// Whether it is a new story (not a near-duplicate, not a revision).
    pub counts: bool,
    /// The topics it is tagged with: (slug, label).
    pub topics: Vec<(&'a str, &'a str)>,
}

/// A record's time: `published_at`, or `fetched_at` when it has none or when it claims a
/// publication after its first sighting (a feed with a wrong clock).
pub fn event_time(published_at: Option<DateTime<Utc>>, fetched_at: DateTime<Utc>) -> DateTime<Utc> {
    match published_at {
        Some(published) if published <= fetched_at => published,
        _ => fetched_at,
    }
}

/// What becomes of an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It counted towards its topics.
    Counted,
    /// It is not a new story, or has no topic.
    Ignored,
    /// It is older than the window.
    Late,
}

/// A topic's judgement after the last closed bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judgement {
    pub score: f64,
    pub spiking: bool,
}

/// A topic's counts and baseline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct TopicState {
    label: String,
    /// Stories per bucket index, for the buckets in the window (zeros left out).
    counts: BTreeMap<i64, u64>,
    /// The most recent article ids, with their bucket.
    samples: VecDeque<(i64, String)>,
    /// EWMA of the count per bucket (not bias-corrected).
    mean: f64,
    /// EWMA variance of the count per bucket (not bias-corrected).
    var: f64,
    spiking: bool,
    /// Whether the current spike was announced (so its end is announced too).
    announced: bool,
    /// The bucket of the last `spiking` event.
    last_announced: Option<i64>,
    score: f64,
}

/// The detector's clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct Clock {
    /// The open bucket: the newest any record fell into.
    bucket: i64,
    /// Buckets closed since the detector started (its history).
    history: u64,
}

/// The spike detector. Deterministic: its output depends only on the observations and their
/// order, never on the wall clock.
#[derive(Debug, Clone)]
pub struct Detector {
    settings: DetectorSettings,
    clock: Option<Clock>,
    topics: BTreeMap<String, TopicState>,
    dirty: bool,
}

/// State keys in the changelog.
const CLOCK_KEY: &[u8] = b"clock";
const TOPIC_PREFIX: &str = "topic/";

impl Detector {
    /// A detector with no history. The settings must be valid ([`DetectorSettings::validate`]).
    pub fn new(settings: DetectorSettings) -> Self {
        Self {
            settings,
            clock: None,
            topics: BTreeMap::new(),
            dirty: false,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &DetectorSettings {
        &self.settings
    }

    fn bucket_of(&self, time: DateTime<Utc>) -> i64 {
        time.timestamp().div_euclid(self.settings.bucket_secs as i64)
    }

    fn bucket_start(&self, bucket: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(bucket * self.settings.bucket_secs as i64, 0)
            .single()
            .unwrap_or_default()
    }

    /// Takes one record; returns the events of the buckets it closed (in time order, then by
    /// topic) and what became of the record.
    pub fn observe(&mut self, observation: &Observation<'_>) -> (Vec<AlertEvent>, Outcome) {
        let bucket = self.bucket_of(observation.time);
        let mut events = Vec::new();
        match self.clock {
            None => {
                self.clock = Some(Clock { bucket, history: 0 });
                self.dirty = true;
            }
            Some(clock) if bucket > clock.bucket => events = self.advance_to(bucket),
            Some(_) => {}
        }
        if !observation.counts || observation.topics.is_empty() {
            return (events, Outcome::Ignored);
        }
        // A topic seen for the first time had no stories since the detector started: its
        // baseline is all zeros, as long as everyone's. It is known (and judged) from now on,
        // even if this record comes too late to count.
        for (slug, label) in &observation.topics {
            self.topics.entry((*slug).to_string()).or_insert_with(|| TopicState {
                label: (*label).to_string(),
                ..TopicState::default()
            });
        }
        let open = self.clock.map(|c| c.bucket).unwrap_or(bucket);
        if bucket <= open - self.settings.window_buckets() {
            self.dirty = true;
            return (events, Outcome::Late);
        }
        for (slug, _) in &observation.topics {
            let Some(state) = self.topics.get_mut(*slug) else {
                continue;
            };
            *state.counts.entry(bucket).or_default() += 1;
            state.samples.push_back((bucket, observation.article_id.to_string()));
            while state.samples.len() > self.settings.max_samples.max(1) {
                state.samples.pop_front();
            }
        }
        self.dirty = true;
        (events, Outcome::Counted)
    }

    /// Closes the open bucket (end of input), judging it; returns the events.
    pub fn flush(&mut self) -> Vec<AlertEvent> {
        match self.clock {
            Some(clock) => self.advance_to(clock.bucket + 1),
            None => Vec::new(),
        }
    }

    /// Moves the clock to `bucket`, closing and judging every bucket in between.
    fn advance_to(&mut self, bucket: i64) -> Vec<AlertEvent> {
        let Some(mut clock) = self.clock else {
            return Vec::new();
        };
        let mut events = Vec::new();
        // After a long gap with no records the windows are empty and the baselines decay to
        // zero; past ~40 half-lives nothing measurable is left, so the rest is skipped.
        let half_life_buckets = (self.settings.baseline_half_life_secs / self.settings.bucket_secs).max(1) as i64;
        let cap = self.settings.window_buckets() + 40 * half_life_buckets;
        let mut closed = 0;
        while clock.bucket < bucket {
            if closed == cap {
                let skipped = bucket - clock.bucket;
                clock.history += skipped as u64;
                clock.bucket = bucket;
                for state in self.topics.values_mut() {
                    state.mean = 0.0;
                    state.var = 0.0;
                    state.counts.clear();
                }
                break;
            }
            self.close(clock.bucket, clock.history, &mut events);
            clock.bucket += 1;
            clock.history += 1;
            closed += 1;
        }
        self.clock = Some(clock);
        self.dirty = true;
        events
    }

    /// Judges every topic on the window that ends with bucket `closing`, then moves the
    /// bucket that leaves the window into the baseline.
    fn close(&mut self, closing: i64, history: u64, events: &mut Vec<AlertEvent>) {
        let settings = &self.settings;
        let n = settings.window_buckets();
        let alpha = settings.alpha();
        // Bias correction: an EWMA started at zero underestimates for its first buckets.
        // `history` buckets were closed before this one; those older than the window are in
        // the baseline.
        let baseline_buckets = history.saturating_sub(n as u64 - 1);
        let weight = 1.0 - (1.0 - alpha).powf(baseline_buckets as f64);
        let warmed_up = history * settings.bucket_secs >= settings.min_history_secs;
        let window_start = closing - n + 1;
        let window_start_time = self.bucket_start(window_start);
        let window_end_time = self.bucket_start(closing + 1);
        for (slug, state) in self.topics.iter_mut() {
            let observed: u64 = state.counts.range(window_start..=closing).map(|(_, c)| c).sum();
            let (mean, var) = if weight > 0.0 {
                (state.mean / weight, state.var / weight)
            } else {
                (0.0, 0.0)
            };
            let expected = mean * n as f64;
            let variance = (var * n as f64).max(expected);
            let score = (observed as f64 - expected) / (variance + 1.0).sqrt();
            state.score = score;
            let high = score >= settings.z_threshold
                && observed >= settings.min_count
                && observed as f64 >= settings.min_ratio * expected;
            let event = |state: &TopicState, kind: AlertState| {
                let samples = state
                    .samples
                    .iter()
                    .rev()
                    .filter(|(b, _)| (window_start..=closing).contains(b))
                    .map(|(_, id)| id.clone())
                    .collect();
                AlertEvent {
                    schema_version: AlertEvent::SCHEMA_VERSION,
                    id: format!(
                        "{slug}/{}/{}",
                        match kind {
                            AlertState::Spiking => "spiking",
                            AlertState::Resolved => "resolved",
                        },
                        window_end_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                    topic: slug.clone(),
                    label: state.label.clone(),
                    state: kind,
                    window_start: window_start_time,
                    window_end: window_end_time,
                    window_secs: settings.window_secs,
                    observed,
                    expected: round3(expected),
                    score: round3(score),
                    sample_article_ids: samples,
                }
            };
            if !state.spiking && high && warmed_up {
                state.spiking = true;
                let cooled = state
                    .last_announced
                    .is_none_or(|last| (closing - last) as u64 * settings.bucket_secs >= settings.cooldown_secs);
                state.announced = cooled;
                if cooled {
                    state.last_announced = Some(closing);
                    events.push(event(state, AlertState::Spiking));
                }
            } else if state.spiking && score < settings.z_resolve {
                state.spiking = false;
                if std::mem::take(&mut state.announced) {
                    events.push(event(state, AlertState::Resolved));
                }
            }
            // The oldest bucket of this window leaves it: into the baseline, unless it is from
            // before the detector started (nothing is known about it).
            let leaving = state.counts.remove(&window_start).unwrap_or(0) as f64;
            if history + 1 >= n as u64 {
                let diff = leaving - state.mean;
                let increment = alpha * diff;
                state.mean += increment;
                state.var = (1.0 - alpha) * (state.var + diff * increment);
            }
            state.counts.retain(|b, _| *b > window_start);
        }
    }

    /// Each known topic's judgement after the last closed bucket.
    pub fn judgements(&self) -> impl Iterator<Item = (&str, Judgement)> {
        self.topics.iter().map(|(slug, state)| {
            (
                slug.as_str(),
                Judgement {
                    score: state.score,
                    spiking: state.spiking,
                },
            )
        })
    }

    /// The whole state as changelog entries, when it changed since the last call.
    pub fn take_state(&mut self) -> Vec<(Vec<u8>, Vec<u8>)> {
        if !std::mem::take(&mut self.dirty) {
            return Vec::new();
        }
        let mut entries = Vec::with_capacity(self.topics.len() + 1);
        if let Some(clock) = &self.clock {
            entries.push((CLOCK_KEY.to_vec(), serde_json::to_vec(clock).unwrap_or_default()));
        }
        for (slug, state) in &self.topics {
            let key = format!("{TOPIC_PREFIX}{slug}").into_bytes();
            entries.push((key, serde_json::to_vec(state).unwrap_or_default()));
        }
        entries
    }

    /// Applies one changelog entry; an entry that does not parse is logged and skipped.
    pub fn restore(&mut self, key: &[u8], value: Option<&[u8]>) {
        let key = String::from_utf8_lossy(key);
        if key.as_bytes() == CLOCK_KEY {
            self.clock = value.and_then(|v| parse_logged(&key, v));
        } else if let Some(slug) = key.strip_prefix(TOPIC_PREFIX) {
            match value.and_then(|v| parse_logged::<TopicState>(&key, v)) {
                Some(state) => {
                    self.topics.insert(slug.to_string(), state);
                }
                None => {
                    self.topics.remove(slug);
                }
            }
        } else {
            tracing::warn!(key = %key, "Unknown alerter state entry skipped.");
        }
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.clock = None;
        self.topics.clear();
        self.dirty = false;
    }
}

fn parse_logged<T: serde::de::DeserializeOwned>(key: &str, value: &[u8]) -> Option<T> {
    serde_json::from_slice(value)
        .map_err(|err| tracing::warn!(key, error = %err, "Alerter state entry does not parse; skipped."))
        .ok()
}

/// Rounds to three decimals, so that events read well and compare exactly across runs.
fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}
