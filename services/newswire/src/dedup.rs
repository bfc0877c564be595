//! `newswire dedup [FILE.jsonl]`: the deduper over JSON lines, without Kafka.
//!
//! Reads one JSON object per line (at least `url`, `title` and `text`), in order, and writes
//! each back with `story_id`, `duplicate_of`, `similarity`, `is_duplicate` (and `revision`,
//! `duplicate_kind`). A line that is not such an object is reported on stderr with its line
//! number and skipped; the exit status is then non-zero, after every other line is done.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use deduper::Settings;
use deduper::offline::Offline;

/// Options of `newswire dedup`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// The JSON-lines file to read (standard input when absent or `-`).
    pub file: Option<PathBuf>,
    /// The near-duplicate threshold (estimated Jaccard similarity of word 3-shingles).
    #[arg(long, default_value_t = Settings::default().near_threshold)]
    pub threshold: f64,
    /// Print a summary (records, duplicates by kind, articles remembered, memory) on stderr.
    #[arg(long)]
    pub stats: bool,
    /// With --stats, also time the records after the first N separately (for benchmarks: the
    /// throughput with N articles already remembered).
    #[arg(long, value_name = "N")]
    pub measure_after: Option<u64>,
}

/// Runs the tool; returns the number of lines that could not be read.
pub fn run(options: Options) -> anyhow::Result<u64> {
    let file = options.file.as_ref().filter(|p| p.as_os_str() != "-");
    let input: Box<dyn BufRead> = match file {
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        )),
        None => Box::new(std::io::stdin().lock()),
    };
    let source = file.map_or_else(|| "stdin".to_string(), |p| p.display().to_string());
    let settings = Settings {
        near_threshold: options.threshold,
        ..Settings::default()
    };
    let mut offline = Offline::new(settings);
    let mut out = BufWriter::new(std::io::stdout().lock());
    let (mut records, mut errors) = (0u64, 0u64);
    let started = std::time::Instant::now();
    let mut preload_done: Option<std::time::Instant> = None;
    let mut kinds: std::collections::BTreeMap<&'static str, u64> = Default::default();
    for (n, line) in input.lines().enumerate() {
        let line = line.with_context(|| format!("reading {source}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let mut object = match parse(&line) {
            Ok(object) => object,
            Err(err) => {
                errors += 1;
                eprintln!("{source}:{}: skipped: {err}", n + 1);
                continue;
            }
        };
        if preload_done.is_none() && options.measure_after.is_some_and(|n| records >= n) {
            preload_done = Some(std::time::Instant::now());
        }
        let field = |name: &str| {
            object
                .get(name)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let verdict = offline.check(&field("url"), &field("title"), &field("text"));
        records += 1;
        *kinds.entry(verdict.kind).or_default() += 1;
        object.insert("story_id".into(), verdict.story_id.into());
        object.insert("duplicate_of".into(), verdict.duplicate_of.into());
        object.insert("similarity".into(), verdict.similarity.into());
        object.insert("is_duplicate".into(), verdict.is_duplicate.into());
        object.insert("revision".into(), verdict.revision.into());
        object.insert("duplicate_kind".into(), verdict.kind.into());
        serde_json::to_writer(&mut out, &object).context("writing to stdout")?;
        out.write_all(b"\n").context("writing to stdout")?;
    }
    out.flush().context("writing to stdout")?;
    if options.stats {
        if let (Some(at), Some(n)) = (preload_done, options.measure_after) {
            eprintln!(
                "dedup: measured: {} records in {:.3} s; preload: {n} records in {:.3} s",
                records - n,
                at.elapsed().as_secs_f64(),
                (at - started).as_secs_f64()
            );
        }
        let index = offline.index();
        let bytes = index.memory_bytes();
        eprintln!(
            "dedup: {records} records, {errors} skipped, {kinds:?}; {} articles remembered, {bytes} bytes ({:.0} bytes per article)",
            index.len(),
            bytes as f64 / index.len().max(1) as f64
        );
    }
    Ok(errors)
}

fn parse(line: &str) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let value: serde_json::Value = serde_json::from_str(line).context("not JSON")?;
    let serde_json::Value::Object(object) = value else {
        anyhow::bail!("not a JSON object");
    };
    for name in ["url", "title", "text"] {
        match object.get(name) {
            Some(serde_json::Value::String(_)) => {}
            Some(_) => anyhow::bail!("`{name}` is not a string"),
            None => anyhow::bail!("`{name}` is missing"),
        }
    }
    Ok(object)
}
