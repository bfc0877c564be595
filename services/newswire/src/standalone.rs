//! Standalone mode: the cluster in one process. The same fetcher loop ([`fetcher::PollLoop`]),
//! the same stages run by the same batch core ([`runtime::batch`]) as the services, and the
//! alerter; bounded in-memory channels instead of Kafka topics between them, and an embedded
//! store instead of changelog topics.
//!
//! Records travel in batches, as JSON bytes with their `traceparent`, exactly as they would
//! on the topics. Each stage applies a batch and adds its state changes to it; the sink writes
//! the batch (enriched records as JSON lines, or to Kafka when configured, with the per-topic
//! copies, the alert events and the dead letters), flushes it, commits every stage's state
//! changes to the embedded store in one transaction, and only then tells each stage that its
//! outputs are committed ([`runtime::Stage::committed`]). A crash between the write and the
//! store's commit repeats the last batches on the next run (at least once, not exactly
//! once); it never loses an item. Bounded channels give backpressure, never drops.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use cleaner::Cleaner;
use config::{KafkaConfig, RuntimeConfig, TopicNames};
use deduper::Deduper;
use fetcher::{FeedEntry, FeedsFile, Fetcher, PollLoop};
use runtime::batch::{Message, Topics, apply_batch, max_record_bytes};
use runtime::{Publisher, Stage, StateChange};
use serde::Serialize;
use store::Store;
use tagger::{Tagger, Taxonomy};
use telemetry::StageMetrics;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::pipeline::PipelineConfig;

/// What `newswire run` was asked to do. The flags override the configuration file.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Options {
    /// The pipeline's configuration file (YAML): one section per service (`fetcher:`,
    /// `cleaner:`, `deduper:`, `tagger:`, `alerter:`) with that service's own keys.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The feeds file (YAML, a `feeds:` list); default: `fetcher.feeds_file`, else the
    /// sample feeds built into the binary.
    #[arg(long, value_name = "FILE")]
    pub feeds: Option<PathBuf>,
    /// The taxonomy file (YAML, a `topics:` list); default: `tagger.taxonomy_file`, else the
    /// taxonomy and gazetteers built into the binary.
    #[arg(long, value_name = "FILE")]
    pub taxonomy: Option<PathBuf>,
    /// Publish to this Kafka cluster (bootstrap servers): enriched records, their per-topic
    /// copies, alert events and dead letters, in one transaction per batch.
    #[arg(long, value_name = "BOOTSTRAP")]
    pub kafka: Option<String>,
    /// With --kafka: a prefix for every topic name (replaces the configured names).
    #[arg(long)]
    pub topic_prefix: Option<String>,
    /// Write the enriched records as JSON lines to this file (appending) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Without --kafka: append alert events (JSON lines) to this file; default
    /// `<data-dir>/alerts.jsonl`.
    #[arg(long, value_name = "FILE")]
    pub alerts_out: Option<PathBuf>,
    /// Where state (items seen, fingerprints, topic baselines) and, without --kafka, the
    /// dead-letter file live.
    #[arg(long, default_value = "newswire-data")]
    pub data_dir: PathBuf,
    /// Poll every feed once, drain the pipeline and exit.
    #[arg(long)]
    pub once: bool,
    /// Seconds between polls of a feed (without --once), for feeds that set no
    /// `min_interval_secs` of their own; default `fetcher.fetcher.min_interval_secs` (300 in
    /// standalone mode without a configuration file).
    #[arg(long)]
    pub interval_secs: Option<u64>,
    /// Serve /metrics, /healthz and /readyz on this address (e.g. 127.0.0.1:9464).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<String>,
    /// Let the fetcher reach this private, loopback or link-local network (a CIDR such as
    /// 10.0.0.0/8, an IP, or host:port); repeatable, added to `fetcher.network.allow`. By
    /// default only public addresses are fetched.
    #[arg(long = "allow-network", value_name = "CIDR")]
    pub allow_network: Vec<String>,
}

/// Counts of one run, printed at the end.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub written: u64,
    pub alerts: u64,
    pub dead_letters: u64,
}

/// The standalone interval between polls of a feed without a configuration file.
const DEFAULT_INTERVAL_SECS: u64 = 300;

/// The sample feeds built into the binary (`deploy/feeds.yaml`).
const EMBEDDED_FEEDS: &str = include_str!("../../../deploy/feeds.yaml");

/// Tables of the embedded store, one per stateful stage.
const FETCHER_TABLE: &str = "fetcher";
const DEDUPER_TABLE: &str = "deduper";
const ALERTER_TABLE: &str = "alerter";

/// How often the standalone pipeline looks for a changed taxonomy file.
const TAXONOMY_CHECK_EVERY: Duration = Duration::from_secs(10);

/// What a stage is told once its batch is durable ([`Stage::committed`]).
type OnCommit = Box<dyn FnOnce() + Send>;

/// One batch on its way through the stages: what the next stage reads, what the sink will
/// write, and what becomes durable with it.
struct Batch {
    /// The next stage's input, as it would be on its topic.
    next: Vec<Message>,
    /// What the sink writes: enriched records, per-topic copies, alert events, dead letters.
    out: Vec<Message>,
    state: Vec<(&'static str, StateChange)>,
    on_commit: Vec<OnCommit>,
}

/// The effective settings of a run: the configuration file, then the flags.
struct Settings {
    config: PipelineConfig,
    feeds: Vec<FeedEntry>,
    taxonomy: Taxonomy,
    /// The taxonomy file, when there is one to reload.
    taxonomy_file: Option<PathBuf>,
    topics: TopicNames,
}

impl Settings {
    fn resolve(options: &Options) -> anyhow::Result<Settings> {
        let mut config = PipelineConfig::load(options.config.as_deref())?;
        let fetch = &mut config.fetcher.fetcher;
        if options.config.is_none() {
            fetch.min_interval_secs = DEFAULT_INTERVAL_SECS;
        }
        if let Some(secs) = options.interval_secs {
            fetch.min_interval_secs = secs;
        }
        fetch.max_interval_secs = fetch.max_interval_secs.max(fetch.min_interval_secs);
        fetch.validate()?;
        config
            .fetcher
            .network
            .allow
            .extend(options.allow_network.iter().cloned());
        let feeds = match options.feeds.as_ref().or(config.fetcher.feeds_file.as_ref()) {
            Some(path) => FeedsFile::load(path)?.feeds,
            None => FeedsFile::parse(EMBEDDED_FEEDS, "the built-in feeds")?.feeds,
        };
        if let Some(file) = &options.taxonomy {
            config.tagger.taxonomy_file = Some(file.clone());
        }
        let taxonomy = config.tagger.load_taxonomy()?;
        let taxonomy_file = config.tagger.taxonomy_file.clone();
        let kafka = &mut config.tagger.kafka;
        if let Some(bootstrap) = &options.kafka {
            kafka.bootstrap_servers = bootstrap.clone();
        }
        if let Some(prefix) = &options.topic_prefix {
            kafka.topics = TopicNames::with_prefix(prefix);
            config.tagger.topic_prefix = format!("{prefix}{}", config.tagger.topic_prefix);
        }
        let topics = kafka.topics.clone();
        Ok(Settings {
            config,
            feeds,
            taxonomy,
            taxonomy_file,
            topics,
        })
    }
}

/// Runs the pipeline until `shutdown`, or, with `once`, until every feed was polled once and
/// every record written.
pub async fn run(options: Options, shutdown: CancellationToken) -> anyhow::Result<Summary> {
    let Settings {
        config,
        feeds,
        taxonomy,
        taxonomy_file,
        topics,
    } = Settings::resolve(&options)?;
    let store = Store::open(&options.data_dir)?;
    let mut fetcher = Fetcher::new(&config.fetcher.fetcher, &config.fetcher.network)?;
    for (key, value) in store.load(FETCHER_TABLE)? {
        fetcher.restore(&key, Some(&value));
    }
    let mut deduper = Deduper::new(config.deduper.deduper.clone());
    for (key, value) in store.load(DEDUPER_TABLE)? {
        deduper.restore(&key, Some(&value));
    }
    let mut alerter = alerter::Alerter::new(config.alerter.detector.clone());
    for (key, value) in store.load(ALERTER_TABLE)? {
        alerter.restore(&key, Some(&value));
    }
    tracing::info!(
        feeds = feeds.len(),
        topics = taxonomy.len(),
        remembered = deduper.remembered(),
        data_dir = %options.data_dir.display(),
        "Standalone pipeline starting."
    );

    let sink = Sink::new(&options, &config, &taxonomy).await?;
    let limit = max_record_bytes(&config.tagger.kafka);
    telemetry::register_build_info("newswire");
    if let Some(addr) = &options.metrics_addr {
        let health = telemetry::Health::default();
        health.set_ready(true);
        telemetry::serve(addr, health, shutdown.child_token()).await?;
    }

    let (raw_tx, raw_rx) = mpsc::channel(8);
    let (cleaned_tx, cleaned_rx) = mpsc::channel(8);
    let (unique_tx, unique_rx) = mpsc::channel(8);
    let (enriched_tx, enriched_rx) = mpsc::channel(8);
    let (done_tx, mut done_rx) = mpsc::channel::<Batch>(8);
    let extraction = &config.cleaner.extraction;
    cleaner::register_metrics();
    let extractor = cleaner::extractor(extraction);
    // Where each stage reads and writes, as its service would.
    let wiring = |table, role, output: &str| Wiring {
        table,
        role,
        output: output.to_string(),
        dlq: topics.dlq.clone(),
        max_record_bytes: limit,
    };
    tokio::spawn(stage_task(
        Cleaner::with_extractor(extraction.budget(), extractor),
        wiring(None, Role::Middle, &topics.cleaned),
        raw_rx,
        cleaned_tx,
    ));
    tokio::spawn(stage_task(
        deduper,
        wiring(Some(DEDUPER_TABLE), Role::Middle, &topics.unique),
        cleaned_rx,
        unique_tx,
    ));
    // A changed taxonomy file (or gazetteer) is put in force without a restart, as in the
    // tagger service; an invalid one is logged and the old one stays.
    let shared = tagger::SharedTaxonomy::new(taxonomy);
    if let Some(file) = taxonomy_file.filter(|_| !options.once && config.tagger.taxonomy_reload_secs > 0) {
        let mut reloader = tagger::Reloader::new(&file, shared.clone());
        let stop = shutdown.child_token();
        let every = TAXONOMY_CHECK_EVERY.min(Duration::from_secs(config.tagger.taxonomy_reload_secs));
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    () = stop.cancelled() => return,
                }
                reloader.check();
            }
        });
    }
    let mut tagger = Tagger::shared(shared);
    if sink.is_kafka() && config.tagger.topic_routing {
        tagger = tagger.with_topic_routing(config.tagger.topic_prefix.clone());
    }
    tokio::spawn(stage_task(
        tagger,
        wiring(None, Role::Publishes, &topics.enriched),
        unique_rx,
        enriched_tx,
    ));
    tokio::spawn(stage_task(
        alerter,
        wiring(Some(ALERTER_TABLE), Role::Last, &topics.alerts),
        enriched_rx,
        done_tx,
    ));

    if !options.once {
        fetcher.serve_push(shutdown.clone()).await?;
    }
    let fetch_shutdown = shutdown.clone();
    let once = options.once;
    let raw_topic = topics.raw.clone();
    let fetch = tokio::spawn(async move {
        let metrics = StageMetrics::get("fetcher");
        let mut polls = if once { PollLoop::once() } else { PollLoop::scheduled() };
        loop {
            if polls.scan_due() {
                polls.start_due(&fetcher, &feeds);
            }
            if polls.is_done() {
                break;
            }
            let polled = tokio::select! {
                batch = polls.next_batch() => batch,
                () = fetch_shutdown.cancelled() => break,
            };
            let Some(polled) = polled else {
                continue;
            };
            let mut batch = Batch {
                next: Vec::new(),
                out: Vec::new(),
                state: Vec::new(),
                on_commit: Vec::new(),
            };
            for (feed, poll) in polled {
                for record in poll.records {
                    let key = record.id.clone();
                    // As the fetcher service publishes it: within the record limit, a new trace.
                    if let Some(payload) = fetcher::encode_within_limit(record, limit, &metrics) {
                        batch.next.push(Message::traced(&raw_topic, &key, payload));
                    }
                }
                batch
                    .state
                    .push((FETCHER_TABLE, fetcher.commit(&feed, poll.next_state)));
            }
            metrics.records_out.inc_by(batch.next.len() as u64);
            if raw_tx.send(batch).await.is_err() {
                break;
            }
        }
        // Dropping `raw_tx` here lets every stage drain and finish.
    });

    let mut summary = Summary::default();
    let mut sink = sink;
    while let Some(batch) = done_rx.recv().await {
        let counts = sink.write(&batch.out, &topics).await?;
        let mut tables: Vec<store::TableChanges> = Vec::new();
        for (table, change) in batch.state {
            let entry = (change.key, change.value);
            match tables.iter_mut().find(|(t, _)| *t == table) {
                Some((_, changes)) => changes.push(entry),
                None => tables.push((table, vec![entry])),
            }
        }
        store.apply(&tables)?;
        for committed in batch.on_commit {
            committed();
        }
        summary.written += counts.written;
        summary.alerts += counts.alerts;
        summary.dead_letters += counts.dead_letters;
    }
    fetch.await.context("the fetch task failed")?;
    tracing::info!(
        written = summary.written,
        alerts = summary.alerts,
        dead_letters = summary.dead_letters,
        "Standalone pipeline stopped."
    );
    Ok(summary)
}

/// Where a stage's outputs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// To the next stage only.
    Middle,
    /// To the next stage and to the sink (the tagger: `news.enriched` is what users read).
    Publishes,
    /// To the sink only (the alerter).
    Last,
}

/// Where one stage of the pipeline reads and writes.
struct Wiring {
    /// Its table in the embedded store, if it keeps state.
    table: Option<&'static str>,
    role: Role,
    /// Its output topic (the name its records carry, and the sink routes by).
    output: String,
    dlq: String,
    max_record_bytes: usize,
}

/// Runs one stage over batches until its input closes.
async fn stage_task<S: Stage>(
    stage: S,
    Wiring {
        table,
        role,
        output,
        dlq,
        max_record_bytes,
    }: Wiring,
    mut input: mpsc::Receiver<Batch>,
    next: mpsc::Sender<Batch>,
) where
    S::Output: Send,
{
    let stage = Arc::new(Mutex::new(stage));
    let mut offset = 0i64;
    while let Some(mut batch) = input.recv().await {
        let applied = {
            let mut guard = stage.lock().unwrap_or_else(|e| e.into_inner());
            let inputs: Vec<_> = batch
                .next
                .iter()
                .map(|message| {
                    offset += 1;
                    message.as_input(offset - 1)
                })
                .collect();
            let topics = Topics {
                output: &output,
                dlq: &dlq,
            };
            // Extraction can take seconds a page: off the async threads.
            tokio::task::block_in_place(|| apply_batch(&mut *guard, inputs, topics, max_record_bytes))
        };
        let runtime::batch::Applied {
            outputs,
            routed,
            dead,
            state,
            committed,
        } = applied;
        if let Some(table) = table {
            batch.state.extend(state.into_iter().map(|c| (table, c)));
        }
        batch.next = match role {
            Role::Middle => outputs,
            Role::Publishes => {
                batch.out.extend(outputs.iter().cloned());
                outputs
            }
            Role::Last => {
                batch.out.extend(outputs);
                Vec::new()
            }
        };
        batch.out.extend(routed);
        batch.out.extend(dead);
        let stage = stage.clone();
        batch.on_commit.push(Box::new(move || {
            stage.lock().unwrap_or_else(|e| e.into_inner()).committed(&committed);
        }));
        if next.send(batch).await.is_err() {
            return;
        }
    }
}

/// What a write put where.
#[derive(Debug, Default)]
struct Written {
    written: u64,
    alerts: u64,
    dead_letters: u64,
}

/// Where a batch goes: JSON lines (enriched records to stdout or `--out`, alert events and
/// dead letters to their files), or Kafka.
enum Sink {
    Files {
        records: Box<dyn Write + Send>,
        alerts: PathBuf,
        dlq: PathBuf,
    },
    Kafka(Arc<Publisher>),
}

impl Sink {
    async fn new(options: &Options, config: &PipelineConfig, taxonomy: &Taxonomy) -> anyhow::Result<Sink> {
        if options.kafka.is_some() {
            let kafka: KafkaConfig = config.tagger.kafka.clone();
            let mut specs = runtime::pipeline_topics(&kafka.topics, 3, 1);
            if config.tagger.topic_routing {
                specs.extend(config.tagger.topic_specs(taxonomy));
            }
            runtime::create_topics(&kafka, &specs).await?;
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
            return Ok(Sink::Kafka(Arc::new(publisher)));
        }
        let records: Box<dyn Write + Send> = match &options.out {
            Some(path) => Box::new(std::io::BufWriter::new(append(path)?)),
            None => Box::new(std::io::BufWriter::new(std::io::stdout())),
        };
        Ok(Sink::Files {
            records,
            alerts: options
                .alerts_out
                .clone()
                .unwrap_or_else(|| options.data_dir.join("alerts.jsonl")),
            dlq: options.data_dir.join("dlq.jsonl"),
        })
    }

    fn is_kafka(&self) -> bool {
        matches!(self, Sink::Kafka(_))
    }

    /// Writes and flushes a batch's messages.
    async fn write(&mut self, messages: &[Message], topics: &TopicNames) -> anyhow::Result<Written> {
        let mut written = Written::default();
        for message in messages {
            if message.topic == topics.enriched {
                written.written += 1;
            } else if message.topic == topics.alerts {
                written.alerts += 1;
            } else if message.topic == topics.dlq {
                written.dead_letters += 1;
            }
        }
        match self {
            Sink::Files { records, alerts, dlq } => {
                let mut alert_lines = Vec::new();
                let mut dead_lines = Vec::new();
                for message in messages {
                    let payload = message.payload.as_deref().unwrap_or_default();
                    if message.topic == topics.enriched {
                        records.write_all(payload)?;
                        records.write_all(b"\n")?;
                    } else if message.topic == topics.alerts {
                        alert_lines.push(payload.to_vec());
                    } else if message.topic == topics.dlq {
                        dead_lines.push(serde_json::to_vec(&DeadLetterLine::of(message))?);
                    }
                }
                records.flush()?;
                append_lines(alerts, &alert_lines)?;
                append_lines(dlq, &dead_lines)?;
            }
            Sink::Kafka(publisher) => {
                if !messages.is_empty() {
                    let (publisher, messages) = (publisher.clone(), messages.to_vec());
                    tokio::task::spawn_blocking(move || publisher.publish_messages(&messages)).await??;
                }
            }
        }
        Ok(written)
    }
}

/// A dead letter in `<data-dir>/dlq.jsonl`: the record's original key and bytes (as text when
/// they are UTF-8, which JSON records are, else base64 in `payload_base64`) and the headers
/// a dead letter on the Kafka topic carries.
#[derive(Debug, Serialize)]
struct DeadLetterLine<'a> {
    headers: std::collections::BTreeMap<&'static str, &'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_base64: Option<String>,
}

impl<'a> DeadLetterLine<'a> {
    fn of(message: &'a Message) -> Self {
        let bytes = message.payload.as_deref().unwrap_or_default();
        let text = std::str::from_utf8(bytes).ok();
        DeadLetterLine {
            headers: message.headers.iter().map(|(k, v)| (*k, v.as_str())).collect(),
            key: message.key.as_deref().map(|k| String::from_utf8_lossy(k).into_owned()),
            payload: text,
            payload_base64: text.is_none().then(|| {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.encode(bytes)
            }),
        }
    }
}

fn append(path: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

fn append_lines(path: &Path, lines: &[Vec<u8>]) -> anyhow::Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut file = std::io::BufWriter::new(append(path)?);
    for line in lines {
        file.write_all(line)?;
        file.write_all(b"\n")?;
    }
    file.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_feeds_and_taxonomy_load() {
        let feeds = FeedsFile::parse(EMBEDDED_FEEDS, "the built-in feeds").unwrap().feeds;
        assert!(feeds.len() >= 20, "{} feeds", feeds.len());
        let taxonomy = Taxonomy::embedded().unwrap();
        assert!(taxonomy.len() >= 9);
    }
}
