//! Standalone mode: all four stages in one process, wired by bounded in-memory channels.
//!
//! Records travel in batches (one per feed poll). Each stage adds its state changes to the
//! batch; the sink writes the batch's enriched records (JSON lines, or Kafka when configured),
//! flushes them, and only then commits every stage's state changes to the embedded store in
//! one transaction. A crash between the two can repeat the last batches on the next run (at
//! least once); it never loses an item. Bounded channels give backpressure, never drops.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use cleaner::Cleaner;
use config::{KafkaConfig, RuntimeConfig};
use deduper::Deduper;
use fetcher::{FeedsFile, FetchSettings, Fetcher, NetworkSettings};
use record::{EnrichedRecord, Record};
use runtime::{OutgoingRecord, Publisher, Stage, StateChange};
use serde::Serialize;
use store::Store;
use tagger::{Tagger, Taxonomy};
use telemetry::StageMetrics;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// What `newswire run` was asked to do.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// The feeds file (YAML, a `feeds:` list).
    #[arg(long, default_value = "deploy/feeds.yaml")]
    pub feeds: PathBuf,
    /// The taxonomy file (YAML, a `topics:` list).
    #[arg(long, default_value = "deploy/taxonomy.yaml")]
    pub taxonomy: PathBuf,
    /// Publish enriched records to this Kafka cluster (bootstrap servers) instead of writing
    /// JSON lines.
    #[arg(long, value_name = "BOOTSTRAP")]
    pub kafka: Option<String>,
    /// With --kafka: a prefix for every topic name.
    #[arg(long, default_value = "")]
    pub topic_prefix: String,
    /// Write JSON lines to this file (appending) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Where state (items seen, fingerprints) and the dead-letter file live.
    #[arg(long, default_value = "newswire-data")]
    pub data_dir: PathBuf,
    /// Poll every feed once, drain the pipeline and exit.
    #[arg(long)]
    pub once: bool,
    /// Seconds between polls of a feed (without --once), for feeds that set no
    /// `min_interval_secs` of their own.
    #[arg(long, default_value_t = 300)]
    pub interval_secs: u64,
    /// Serve /metrics, /healthz and /readyz on this address (e.g. 127.0.0.1:9464).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<String>,
    /// Let the fetcher reach this private, loopback or link-local network (a CIDR such as
    /// 10.0.0.0/8, an IP, or host:port); repeatable. By default only public addresses are fetched.
    #[arg(long = "allow-network", value_name = "CIDR")]
    pub allow_network: Vec<String>,
}

/// Counts of one run, printed at the end.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub written: u64,
    pub dead_letters: u64,
}

const FETCHER_TABLE: &str = "fetcher";
const DEDUPER_TABLE: &str = "deduper";

/// Records of one feed poll on their way through the stages, with the state changes that
/// must be persisted once they are written.
struct Batch<T> {
    records: Vec<T>,
    state: Vec<(&'static str, StateChange)>,
    dead: Vec<DeadLetter>,
}

/// A record a stage could not process: kept, with the error, in `<data dir>/dlq.jsonl`.
#[derive(Debug, Serialize)]
struct DeadLetter {
    stage: &'static str,
    error_kind: &'static str,
    error: String,
    record: serde_json::Value,
}

/// How often the standalone pipeline looks for a changed taxonomy file.
const TAXONOMY_CHECK_EVERY: Duration = Duration::from_secs(10);

/// Runs the pipeline until `shutdown`, or, with `once`, until every feed was polled once and
/// every record written.
pub async fn run(options: Options, shutdown: CancellationToken) -> anyhow::Result<Summary> {
    let feeds = FeedsFile::load(&options.feeds)?.feeds;
    let taxonomy = Taxonomy::load(&options.taxonomy)?;
    let store = Store::open(&options.data_dir)?;
    let defaults = FetchSettings::default();
    let settings = FetchSettings {
        min_interval_secs: options.interval_secs,
        max_interval_secs: defaults.max_interval_secs.max(options.interval_secs),
        ..defaults
    };
    let network = NetworkSettings {
        allow: options.allow_network.clone(),
    };
    let mut fetcher = Fetcher::new(&settings, &network)?;
    for (key, value) in store.load(FETCHER_TABLE)? {
        fetcher.restore(&key, Some(&value));
    }
    let mut deduper = Deduper::default();
    for (key, value) in store.load(DEDUPER_TABLE)? {
        deduper.restore(&key, Some(&value));
    }
    tracing::info!(
        feeds = feeds.len(),
        topics = taxonomy.len(),
        remembered = deduper.remembered(),
        data_dir = %options.data_dir.display(),
        "Standalone pipeline starting."
    );

    let sink = Sink::new(&options).await?;
    telemetry::register_build_info("newswire");
    if let Some(addr) = &options.metrics_addr {
        let health = telemetry::Health::default();
        health.set_ready(true);
        telemetry::serve(addr, health, shutdown.child_token()).await?;
    }

    let (raw_tx, raw_rx) = mpsc::channel(8);
    let (cleaned_tx, cleaned_rx) = mpsc::channel(8);
    let (unique_tx, unique_rx) = mpsc::channel(8);
    let (enriched_tx, mut enriched_rx) = mpsc::channel::<Batch<EnrichedRecord>>(8);
    let extraction = cleaner::ExtractionConfig::default();
    cleaner::enable_sandbox(&extraction);
    tokio::spawn(stage_task(Cleaner::new(extraction.budget()), None, raw_rx, cleaned_tx));
    tokio::spawn(stage_task(deduper, Some(DEDUPER_TABLE), cleaned_rx, unique_tx));
    // A changed taxonomy file (or gazetteer) is put in force without a restart, as in the
    // tagger service; an invalid one is logged and the old one stays.
    let shared = tagger::SharedTaxonomy::new(taxonomy);
    if !options.once {
        let mut reloader = tagger::Reloader::new(&options.taxonomy, shared.clone());
        let stop = shutdown.child_token();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(TAXONOMY_CHECK_EVERY) => {}
                    () = stop.cancelled() => return,
                }
                reloader.check();
            }
        });
    }
    tokio::spawn(stage_task(Tagger::shared(shared), None, unique_rx, enriched_tx));

    let fetch_shutdown = shutdown.clone();
    let once = options.once;
    let fetch = tokio::spawn(async move {
        // Feeds are polled as they fall due; each finished poll goes down the pipeline at once.
        let mut polls = fetcher::Polls::new();
        // With --once every feed is polled, whatever its schedule says.
        if once {
            polls.start(&fetcher, &feeds);
        }
        loop {
            if !once {
                polls.start(&fetcher, fetcher.due(&feeds, chrono::Utc::now()));
            }
            fetcher.update_feed_gauges(&feeds);
            let wait = if polls.running() > 0 {
                Duration::from_secs(1)
            } else if once {
                return;
            } else {
                fetcher
                    .until_next_due(&feeds, chrono::Utc::now(), Duration::from_secs(60))
                    .max(Duration::from_millis(200))
            };
            let deadline = tokio::time::Instant::now() + wait;
            // Deliver finished polls until the next scan of the schedule.
            loop {
                if once && polls.running() == 0 {
                    break;
                }
                let done = tokio::select! {
                    done = polls.next(), if polls.running() > 0 => done,
                    () = tokio::time::sleep_until(deadline) => None,
                    () = fetch_shutdown.cancelled() => return,
                };
                let Some((feed, poll)) = done else {
                    break;
                };
                polls.settled(&feed.url);
                let change = fetcher.commit(&feed, poll.next_state);
                let batch = Batch {
                    records: poll.records,
                    state: vec![(FETCHER_TABLE, change)],
                    dead: Vec::new(),
                };
                if raw_tx.send(batch).await.is_err() {
                    return;
                }
            }
        }
        // Dropping `raw_tx` here lets every stage drain and finish.
    });

    let mut summary = Summary::default();
    let mut sink = sink;
    let dlq_path = options.data_dir.join("dlq.jsonl");
    let end_to_end = telemetry::end_to_end_seconds();
    while let Some(batch) = enriched_rx.recv().await {
        sink.write(&batch.records).await?;
        let now = chrono::Utc::now();
        for record in &batch.records {
            end_to_end.observe((now - record.article.fetched_at).as_seconds_f64().max(0.0));
        }
        if !batch.dead.is_empty() {
            append_dead_letters(&dlq_path, &batch.dead)?;
        }
        let mut tables: Vec<store::TableChanges> = Vec::new();
        for (table, change) in batch.state {
            let entry = (change.key, change.value);
            match tables.iter_mut().find(|(t, _)| *t == table) {
                Some((_, changes)) => changes.push(entry),
                None => tables.push((table, vec![entry])),
            }
        }
        store.apply(&tables)?;
        summary.written += batch.records.len() as u64;
        summary.dead_letters += batch.dead.len() as u64;
    }
    fetch.await.context("the fetch task failed")?;
    tracing::info!(
        written = summary.written,
        dead_letters = summary.dead_letters,
        "Standalone pipeline stopped."
    );
    Ok(summary)
}

/// Runs one stage over batches until its input closes.
async fn stage_task<S: Stage>(
    mut stage: S,
    table: Option<&'static str>,
    mut input: mpsc::Receiver<Batch<S::Input>>,
    output: mpsc::Sender<Batch<S::Output>>,
) {
    let metrics = StageMetrics::get(stage.name());
    while let Some(batch) = input.recv().await {
        let mut records = Vec::with_capacity(batch.records.len());
        let mut dead = batch.dead;
        for record in batch.records {
            metrics.records_in.inc();
            let started = std::time::Instant::now();
            // Kept for the dead-letter file in case the stage fails on it.
            let original = serde_json::to_value(&record).unwrap_or_default();
            match stage.process(record) {
                Ok(outputs) if outputs.is_empty() => metrics.records_dropped.inc(),
                Ok(outputs) => {
                    metrics.records_out.inc_by(outputs.len() as u64);
                    records.extend(outputs);
                }
                Err(err) => {
                    metrics.records_errored.with_label_values(&[err.kind.as_str()]).inc();
                    tracing::warn!(stage = stage.name(), error = %err, "Record set aside in the dead-letter file.");
                    dead.push(DeadLetter {
                        stage: stage.name(),
                        error_kind: err.kind.as_str(),
                        error: err.message,
                        record: original,
                    });
                }
            }
            metrics.record_seconds.observe(started.elapsed().as_secs_f64());
        }
        let mut state = batch.state;
        if let Some(table) = table {
            state.extend(stage.take_state_changes().into_iter().map(|c| (table, c)));
        }
        if output.send(Batch { records, state, dead }).await.is_err() {
            return;
        }
    }
}

fn append_dead_letters(path: &std::path::Path, dead: &[DeadLetter]) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    for letter in dead {
        serde_json::to_writer(&mut file, letter)?;
        file.write_all(b"\n")?;
    }
    file.flush()?;
    Ok(())
}

/// Where enriched records go.
enum Sink {
    Lines(Box<dyn Write + Send>),
    Kafka(std::sync::Arc<Publisher>),
}

impl Sink {
    async fn new(options: &Options) -> anyhow::Result<Sink> {
        if let Some(bootstrap) = &options.kafka {
            let kafka = KafkaConfig {
                bootstrap_servers: bootstrap.clone(),
                topics: config::TopicNames::with_prefix(&options.topic_prefix),
                ..KafkaConfig::default()
            };
            runtime::create_topics(&kafka, &runtime::pipeline_topics(&kafka.topics, 3, 1)).await?;
            let publisher = tokio::task::spawn_blocking(move || {
                Publisher::new(
                    &kafka,
                    &RuntimeConfig::default(),
                    "standalone",
                    &kafka.topics.enriched,
                    None,
                )
            })
            .await??;
            return Ok(Sink::Kafka(std::sync::Arc::new(publisher)));
        }
        let writer: Box<dyn Write + Send> = match &options.out {
            Some(path) => Box::new(std::io::BufWriter::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("opening {}", path.display()))?,
            )),
            None => Box::new(std::io::BufWriter::new(std::io::stdout())),
        };
        Ok(Sink::Lines(writer))
    }

    async fn write(&mut self, records: &[EnrichedRecord]) -> anyhow::Result<()> {
        match self {
            Sink::Lines(writer) => {
                for record in records {
                    serde_json::to_writer(&mut *writer, record)?;
                    writer.write_all(b"\n")?;
                }
                writer.flush()?;
            }
            Sink::Kafka(publisher) => {
                if records.is_empty() {
                    return Ok(());
                }
                let outgoing = records
                    .iter()
                    .map(|r| {
                        Ok(OutgoingRecord {
                            key: r.key().to_string(),
                            payload: serde_json::to_vec(r)?,
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let publisher = publisher.clone();
                tokio::task::spawn_blocking(move || publisher.publish(&outgoing, &[])).await??;
            }
        }
        Ok(())
    }
}
