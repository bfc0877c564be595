//! The detector on synthetic timelines (quiet, steady, spike, sustained, recovery) and on the
//! real timeline of the corpus's news items.

use chrono::{DateTime, Duration, TimeZone, Utc};
use record::{AlertEvent, AlertState};

use crate::{Detector, DetectorSettings, Observation, Outcome};

fn settings() -> DetectorSettings {
    DetectorSettings {
        bucket_secs: 300,
        window_secs: 3600,
        baseline_half_life_secs: 6 * 3600,
        min_history_secs: 6 * 3600,
        z_threshold: 4.0,
        z_resolve: 2.0,
        min_count: 10,
        min_ratio: 2.0,
        cooldown_secs: 2 * 3600,
        max_samples: 5,
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap()
}

/// One synthetic record: its time, id, whether it is a new story, its topics.
struct Item {
    time: DateTime<Utc>,
    id: String,
    counts: bool,
    topics: Vec<&'static str>,
}

/// `counts[i]` stories of `topic` spread evenly over bucket `i` (5 minutes each).
fn timeline(topic: &'static str, counts: &[u32]) -> Vec<Item> {
    let mut items = Vec::new();
    for (bucket, &n) in counts.iter().enumerate() {
        for k in 0..n {
            let offset = bucket as i64 * 300 + (k as i64 * 300) / i64::from(n);
            items.push(Item {
                time: start() + Duration::seconds(offset),
                id: format!("{topic}-{bucket}-{k}"),
                counts: true,
                topics: vec![topic],
            });
        }
    }
    items
}

/// A record of another topic at the end, so that every bucket of the timeline closes.
fn with_tick(mut items: Vec<Item>, buckets: usize) -> Vec<Item> {
    items.push(Item {
        time: start() + Duration::seconds(buckets as i64 * 300),
        id: "tick".into(),
        counts: true,
        topics: vec!["clock"],
    });
    items
}

fn run(detector: &mut Detector, items: &[Item]) -> Vec<AlertEvent> {
    let mut events = Vec::new();
    for item in items {
        let topics = item.topics.iter().map(|t| (*t, *t)).collect();
        let observation = Observation {
            time: item.time,
            article_id: &item.id,
            counts: item.counts,
            topics,
        };
        events.extend(detector.observe(&observation).0);
    }
    events
}

fn replay(items: &[Item]) -> Vec<AlertEvent> {
    run(&mut Detector::new(settings()), items)
}

fn of(events: &[AlertEvent], topic: &str, state: AlertState) -> Vec<AlertEvent> {
    events
        .iter()
        .filter(|e| e.topic == topic && e.state == state)
        .cloned()
        .collect()
}

/// `n` buckets of a repeating pattern.
fn pattern(pattern: &[u32], n: usize) -> Vec<u32> {
    pattern.iter().copied().cycle().take(n).collect()
}

const HOUR: usize = 12;

#[test]
fn a_quiet_topic_going_from_zero_to_a_few_stories_is_not_a_spike() {
    // Nothing for 12 hours, then 2 stories, later 9 in one hour (below min_count).
    let mut counts = vec![0; 12 * HOUR];
    counts.extend([1, 1]);
    counts.extend(vec![0; 2 * HOUR]);
    counts.extend(pattern(&[1, 1, 0], HOUR));
    counts.extend(vec![0; 2 * HOUR]);
    let nine: u32 = counts[counts.len() - 3 * HOUR..counts.len() - 2 * HOUR].iter().sum();
    assert!(nine < 10, "the hour holds {nine} stories");
    let n = counts.len();
    let events = replay(&with_tick(timeline("quiet", &counts), n));
    assert!(events.is_empty(), "{events:#?}");
}

#[test]
fn a_steady_topic_never_spikes() {
    let counts = pattern(&[2, 3, 4, 3, 2, 5, 1, 3], 36 * HOUR);
    let events = replay(&with_tick(timeline("steady", &counts), counts.len()));
    assert!(events.is_empty(), "{events:#?}");
}

#[test]
fn a_spike_is_announced_once_and_resolved_when_it_ends() {
    let mut counts = pattern(&[1, 0, 2, 1], 12 * HOUR);
    let spike_start = counts.len();
    counts.extend(vec![6; HOUR]);
    counts.extend(pattern(&[1, 0, 2, 1], 6 * HOUR));
    let events = replay(&with_tick(timeline("ukraine", &counts), counts.len()));
    let spikes = of(&events, "ukraine", AlertState::Spiking);
    let resolved = of(&events, "ukraine", AlertState::Resolved);
    assert_eq!((spikes.len(), resolved.len()), (1, 1), "{events:#?}");
    let spike = &spikes[0];
    let spike_time = start() + Duration::seconds(spike_start as i64 * 300);
    assert!(
        spike.window_end > spike_time && spike.window_end <= spike_time + Duration::hours(1),
        "announced during the spike hour: {spike:#?}"
    );
    assert_eq!(spike.window_secs, 3600);
    assert_eq!(spike.window_end - spike.window_start, Duration::hours(1));
    assert!(
        spike.observed >= 10 && spike.observed as f64 >= 2.0 * spike.expected,
        "{spike:#?}"
    );
    assert!(spike.score >= 4.0, "{spike:#?}");
    assert!(!spike.sample_article_ids.is_empty() && spike.sample_article_ids.len() <= 5);
    let spike_bucket = (spike.window_end - start()).num_seconds() / 300 - 1;
    assert!(
        spike.sample_article_ids[0].starts_with(&format!("ukraine-{spike_bucket}-")),
        "the most recent article comes first: {:?}",
        spike.sample_article_ids
    );
    assert!(resolved[0].window_end > spike.window_end);
    assert!(resolved[0].score < 2.0);
    assert_eq!(
        spike.id,
        format!("ukraine/spiking/{}", spike.window_end.format("%Y-%m-%dT%H:%M:%SZ"))
    );
}

#[test]
fn a_sustained_rise_is_announced_once() {
    let mut counts = pattern(&[1, 0, 2, 1], 12 * HOUR);
    counts.extend(vec![8; 12 * HOUR]);
    let events = replay(&with_tick(timeline("sustained", &counts), counts.len()));
    assert_eq!(of(&events, "sustained", AlertState::Spiking).len(), 1, "{events:#?}");
}

#[test]
fn recovery_then_a_new_spike_after_the_cooldown_is_announced_but_not_within_it() {
    let base = [1, 0, 2, 1];
    let mut counts = pattern(&base, 12 * HOUR);
    counts.extend(vec![6; HOUR]); // First spike.
    counts.extend(pattern(&base, 2 * HOUR)); // Recovery.
    counts.extend(vec![6; HOUR / 2]); // Again, within the cooldown: marked, not announced.
    counts.extend(pattern(&base, 10 * HOUR)); // Recovery; the cooldown passes.
    counts.extend(vec![7; HOUR]); // A new spike, announced.
    counts.extend(pattern(&base, 3 * HOUR));
    let events = replay(&with_tick(timeline("again", &counts), counts.len()));
    let spikes = of(&events, "again", AlertState::Spiking);
    assert_eq!(spikes.len(), 2, "{events:#?}");
    let gap = spikes[1].window_end - spikes[0].window_end;
    assert!(gap >= Duration::hours(2), "{gap}");
    assert!(
        spikes[1].window_end > start() + Duration::hours(25),
        "the second announcement is the third burst, not the second: {:#?}",
        spikes[1]
    );
    // Events alternate: a resolution follows every announced spike.
    let states: Vec<AlertState> = events.iter().filter(|e| e.topic == "again").map(|e| e.state).collect();
    assert_eq!(
        states,
        [
            AlertState::Spiking,
            AlertState::Resolved,
            AlertState::Spiking,
            AlertState::Resolved
        ]
    );
}

#[test]
fn repeats_and_revisions_do_not_count() {
    let mut items = timeline("dup", &pattern(&[1, 0, 2, 1], 12 * HOUR));
    let spike_at = start() + Duration::hours(12);
    for k in 0..60 {
        items.push(Item {
            time: spike_at + Duration::seconds(k * 50),
            id: format!("copy-{k}"),
            counts: false,
            topics: vec!["dup"],
        });
    }
    let mut detector = Detector::new(settings());
    let events = run(&mut detector, &with_tick(items, 14 * HOUR));
    assert!(events.is_empty(), "{events:#?}");
}

#[test]
fn nothing_is_announced_while_warming_up() {
    let mut counts = pattern(&[1, 0, 2, 1], 2 * HOUR);
    counts.extend(vec![8; HOUR]);
    counts.extend(pattern(&[1, 0, 2, 1], HOUR));
    let events = replay(&with_tick(timeline("early", &counts), counts.len()));
    assert!(events.is_empty(), "{events:#?}");
}

#[test]
fn records_older_than_the_window_are_late() {
    let mut detector = Detector::new(settings());
    let topics = vec![("t", "T")];
    let at = |hours: i64| start() + Duration::hours(hours);
    let observe = |d: &mut Detector, time, id| {
        d.observe(&Observation {
            time,
            article_id: id,
            counts: true,
            topics: topics.clone(),
        })
        .1
    };
    assert_eq!(observe(&mut detector, at(5), "a"), Outcome::Counted);
    assert_eq!(
        observe(&mut detector, at(4) + Duration::minutes(30), "b"),
        Outcome::Counted
    );
    assert_eq!(observe(&mut detector, at(3), "c"), Outcome::Late);
    let untagged = detector.observe(&Observation {
        time: at(5),
        article_id: "d",
        counts: true,
        topics: vec![],
    });
    assert_eq!(untagged.1, Outcome::Ignored);
}

#[test]
fn a_restored_detector_carries_on_exactly_like_an_uninterrupted_one() {
    let mut counts = pattern(&[1, 0, 2, 1], 12 * HOUR);
    counts.extend(vec![6; HOUR]);
    counts.extend(pattern(&[1, 0, 2, 1], 4 * HOUR));
    let items = with_tick(timeline("t", &counts), counts.len());
    let whole = replay(&items);
    assert!(!whole.is_empty());

    let cut = items.len() * 2 / 3;
    let mut first = Detector::new(settings());
    let mut events = run(&mut first, &items[..cut]);
    let state = first.take_state();
    assert!(!state.is_empty());
    let mut second = Detector::new(settings());
    for (key, value) in &state {
        second.restore(key, Some(value));
    }
    events.extend(run(&mut second, &items[cut..]));
    assert_eq!(events, whole);
    // The state is written when it changed, and only then.
    assert!(second.take_state().len() > 1);
    assert!(second.take_state().is_empty());
}

#[test]
fn the_event_time_is_the_publication_unless_missing_or_after_the_fetch() {
    let fetched = start();
    let before = fetched - Duration::hours(3);
    assert_eq!(crate::event_time(Some(before), fetched), before);
    assert_eq!(crate::event_time(None, fetched), fetched);
    assert_eq!(crate::event_time(Some(fetched + Duration::days(2)), fetched), fetched);
}

#[test]
fn settings_are_checked() {
    assert!(settings().validate().is_ok());
    assert!(DetectorSettings::default().validate().is_ok());
    let bad = DetectorSettings {
        window_secs: 1000,
        ..settings()
    };
    assert!(bad.validate().unwrap_err().to_string().contains("multiple"));
    let bad = DetectorSettings {
        z_resolve: 5.0,
        ..settings()
    };
    assert!(bad.validate().is_err());
}

/// The corpus's news items (2021 to 2023, with whole key days), tagged with a keyword rule
/// (not the tagger, so that this test depends only on the detector): the invasion of
/// Ukraine on 24 February 2022 is a spike of the `ukraine` topic.
#[test]
fn the_real_timeline_shows_the_invasion_of_ukraine_as_a_spike() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/news_items.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut items = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let item: serde_json::Value = serde_json::from_str(line).unwrap();
        let Some(time) = item["published"].as_str().and_then(parse_date) else {
            continue;
        };
        let words = format!(
            "{} {}",
            item["title"].as_str().unwrap_or_default(),
            item["summary"].as_str().unwrap_or_default()
        )
        .to_lowercase();
        let mut topics = Vec::new();
        if words.contains("ukrain") || words.contains("kyiv") || words.contains("kiev") {
            topics.push("ukraine");
        }
        if words.contains("china") || words.contains("chinese") || words.contains("beijing") {
            topics.push("china");
        }
        items.push(Item {
            time,
            id: format!("line-{}", n + 1),
            counts: true,
            topics,
        });
    }
    items.sort_by_key(|i| i.time);
    let settings = DetectorSettings {
        bucket_secs: 3600,
        window_secs: 86_400,
        baseline_half_life_secs: 7 * 86_400,
        min_history_secs: 7 * 86_400,
        cooldown_secs: 3 * 86_400,
        ..settings()
    };
    let mut detector = Detector::new(settings);
    let mut events = run(&mut detector, &items);
    events.extend(detector.flush());
    let invasion = Utc.with_ymd_and_hms(2022, 2, 24, 0, 0, 0).unwrap();
    let ukraine = of(&events, "ukraine", AlertState::Spiking);
    assert!(
        ukraine
            .iter()
            .any(|e| e.window_end > invasion && e.window_end <= invasion + Duration::days(2)),
        "{ukraine:#?}"
    );
    // Every topic alternates spiking/resolved, and announcements respect the cooldown.
    for topic in ["ukraine", "china"] {
        let mine: Vec<&AlertEvent> = events.iter().filter(|e| e.topic == topic).collect();
        for pair in mine.windows(2) {
            assert_ne!(pair[0].state, pair[1].state, "{pair:#?}");
        }
        let spikes = of(&events, topic, AlertState::Spiking);
        for pair in spikes.windows(2) {
            assert!(
                pair[1].window_end - pair[0].window_end >= Duration::days(3),
                "{pair:#?}"
            );
        }
    }
    eprintln!(
        "real timeline: {} items, {} events: {:?}",
        items.len(),
        events.len(),
        events
            .iter()
            .map(|e| format!("{} {:?} {}", e.topic, e.state, e.window_end))
            .collect::<Vec<_>>()
    );
}

fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%:z"))
        .ok()
        .map(|d| d.with_timezone(&Utc))
}
