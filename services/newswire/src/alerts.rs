//! `newswire alerts`: the alerter's spike detector, offline, over a file of enriched records.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use record::EnrichedRecord;

/// What `newswire alerts` was asked to do.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Enriched records as JSON lines (what `newswire run` prints); standard input when absent
    /// or `-`.
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub detector: alerter::DetectorSettings,
}

/// Counts of one run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records read.
    pub records: u64,
    /// Lines that were not enriched records (logged with their line number, skipped).
    pub bad_lines: u64,
    /// Events printed.
    pub events: u64,
}

/// One record, reduced to what the detector needs.
struct Item {
    time: chrono::DateTime<chrono::Utc>,
    id: String,
    counts: bool,
    topics: Vec<(String, String)>,
}

/// Reads the records, replays them in time order (each record's `published_at`, else its
/// `fetched_at`) through the detector and writes its events to `out` as JSON lines.
pub fn run(options: &Options, out: &mut impl Write) -> anyhow::Result<Summary> {
    options.detector.validate()?;
    let (reader, source): (Box<dyn BufRead>, String) = match &options.file {
        Some(path) if path.as_os_str() != "-" => (
            Box::new(std::io::BufReader::new(
                std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
            )),
            path.display().to_string(),
        ),
        _ => (Box::new(std::io::stdin().lock()), "stdin".to_string()),
    };
    let mut summary = Summary::default();
    let mut items = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {source}"))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<EnrichedRecord>(&line) {
            Ok(record) => {
                let observation = alerter::observation(&record);
                items.push(Item {
                    time: observation.time,
                    id: record.article.id.clone(),
                    counts: observation.counts,
                    topics: observation
                        .topics
                        .iter()
                        .map(|(s, l)| (s.to_string(), l.to_string()))
                        .collect(),
                });
                summary.records += 1;
            }
            Err(err) => {
                summary.bad_lines += 1;
                tracing::warn!(file = %source, line = n + 1, error = %err, "Not an enriched record; skipped.");
            }
        }
    }
    // A stable sort: records with the same time keep their order in the file.
    items.sort_by_key(|item| item.time);
    let mut detector = alerter::Detector::new(options.detector.clone());
    let mut write = |events: Vec<record::AlertEvent>, summary: &mut Summary| -> anyhow::Result<()> {
        for event in events {
            serde_json::to_writer(&mut *out, &event)?;
            out.write_all(b"\n")?;
            summary.events += 1;
        }
        Ok(())
    };
    for item in &items {
        let observation = alerter::Observation {
            time: item.time,
            article_id: &item.id,
            counts: item.counts,
            topics: item.topics.iter().map(|(s, l)| (s.as_str(), l.as_str())).collect(),
        };
        let (events, _) = detector.observe(&observation);
        write(events, &mut summary)?;
    }
    write(detector.flush(), &mut summary)?;
    out.flush()?;
    Ok(summary)
}
