//! The consume-transform-produce loop.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use config::{KafkaConfig, RuntimeConfig};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message as _, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use telemetry::{Health, KafkaMetrics, StageMetrics};
use tokio_util::sync::CancellationToken;

use crate::batch::{Input, Message, Topics, apply_batch, max_record_bytes};
use crate::kafka::{consumer_config, plain_producer_config, transactional_producer_config};
use crate::observe::{Hanging, HangingWatch, ProducerObserver, TRACEPARENT, consumer_lags};
use crate::stage::Stage;
use crate::state::restore_state;
use crate::watchdog::{STUCK_EXIT_CODE, Steps};

/// Where a stage reads and writes, and how it runs.
#[derive(Debug, Clone)]
pub struct StageRun {
    pub kafka: KafkaConfig,
    pub runtime: RuntimeConfig,
    /// The topic the stage consumes.
    pub input_topic: String,
    /// The topic the stage produces to.
    pub output_topic: String,
    /// The compacted changelog of the stage's state, for stateful stages.
    pub state_topic: Option<String>,
}

/// Flags a new partition assignment, so that the loop can restore state and rewind before it
/// processes anything under the new assignment; exports the consumer lag from librdkafka's
/// statistics.
struct RebalanceFlag {
    assigned: Arc<AtomicBool>,
    metrics: KafkaMetrics,
    /// Partitions blocked by a transaction that never ends, as of the latest statistics.
    hanging: HangingWatch,
    found: std::sync::Mutex<Vec<Hanging>>,
}

impl ClientContext for RebalanceFlag {
    fn stats(&self, statistics: rdkafka::statistics::Statistics) {
        self.metrics.set_consumer_lags(&consumer_lags(&statistics));
        let found = self.hanging.observe(&statistics);
        self.metrics
            .hanging_partitions
            .set(i64::try_from(found.len()).unwrap_or(i64::MAX));
        *self.found.lock().unwrap_or_else(|e| e.into_inner()) = found;
    }
}

impl ConsumerContext for RebalanceFlag {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(partitions) => {
                tracing::info!(partitions = partitions.count(), "Partitions assigned.");
                self.assigned.store(true, Ordering::SeqCst);
            }
            Rebalance::Revoke(partitions) => {
                tracing::info!(partitions = partitions.count(), "Partitions revoked.");
                self.assigned.store(true, Ordering::SeqCst);
            }
            Rebalance::Error(err) => tracing::warn!(error = %err, "Rebalance failed."),
        }
    }
}

/// Fails `health` (with the reason) for the partitions the consumer cannot read past, and logs
/// each once. The stage goes on: its other partitions still flow, and an operator who aborts
/// the transaction unblocks this one; but `/healthz` stays failed, so that the orchestrator
/// restarts the stage and an operator is told. Restarting does not unblock the partition.
fn report_hanging(
    consumer: &BaseConsumer<RebalanceFlag>,
    health: &Health,
    stage: &str,
    reported: &mut Vec<(String, i32)>,
) {
    let found = consumer
        .context()
        .found
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    for hanging in found {
        let key = (hanging.topic.clone(), hanging.partition);
        if reported.contains(&key) {
            continue;
        }
        tracing::error!(
            stage,
            topic = %hanging.topic,
            partition = hanging.partition,
            last_stable_offset = hanging.stable_offset,
            high_watermark = hanging.high_watermark,
            "Stage blocked on a partition: {hanging}."
        );
        health.set_failed(format!("the stage can make no progress: {hanging}"));
        reported.push(key);
    }
}

/// How long a blocking Kafka call may take before the loop gives up on it.
const KAFKA_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `stage` between its topics until `shutdown` is cancelled, then finishes the batch in
/// flight, commits it, and returns. Blocking: call it from a dedicated thread
/// (`tokio::task::spawn_blocking`). Returns an error only for failures that a restart may
/// cure (a fenced producer or consumer, any other fatal client error, a state that cannot be
/// restored); bad records go to the DLQ instead. Whatever the error, `health` says so first,
/// so that `/healthz` fails as soon as the stage can make no progress.
pub fn run_stage<S: Stage>(stage: S, run: StageRun, health: Health, shutdown: CancellationToken) -> anyhow::Result<()> {
    let name = stage.name();
    let result = stage_loop(stage, run, &health, shutdown);
    if let Err(err) = &result {
        health.set_failed(format!("{err:#}"));
        tracing::error!(
            stage = name,
            error = format!("{err:#}"),
            "Stage stopped: it can make no progress; restart it."
        );
    }
    result
}

/// The first fatal error of either client, as text. A fatal error (a producer fenced by a
/// newer incarnation, a static consumer fenced by another member with the same
/// `group.instance.id`) leaves the client unusable for good: nothing it does will succeed
/// again, so the stage must stop and be restarted.
fn fatal_error(consumer: &BaseConsumer<RebalanceFlag>, producer: &BaseProducer<ProducerObserver>) -> Option<String> {
    if let Some((code, reason)) = consumer.client().fatal_error() {
        return Some(format!("the Kafka consumer failed fatally ({code:?}): {reason}"));
    }
    producer
        .client()
        .fatal_error()
        .map(|(code, reason)| format!("the Kafka producer failed fatally ({code:?}): {reason}"))
}

fn stage_loop<S: Stage>(
    mut stage: S,
    run: StageRun,
    health: &Health,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let name = stage.name();
    let metrics = StageMetrics::get(name);
    let instance = run.runtime.instance_id(name);
    let group_id = run.runtime.group_id(name);
    let transactional_id = run.runtime.transactional_id(name);

    let kafka_metrics = KafkaMetrics::get(name);
    let assigned = Arc::new(AtomicBool::new(false));
    let consumer: BaseConsumer<RebalanceFlag> = consumer_config(&run.kafka, &group_id, &instance)?
        .create_with_context(RebalanceFlag {
            assigned: assigned.clone(),
            metrics: kafka_metrics.clone(),
            hanging: HangingWatch::new(Duration::from_secs(run.runtime.hanging_transaction_secs)),
            found: std::sync::Mutex::default(),
        })
        .context("creating the Kafka consumer")?;
    let exactly_once = run.runtime.exactly_once;
    let producer_config = if exactly_once {
        transactional_producer_config(&run.kafka, &transactional_id, run.runtime.transaction_timeout_ms)?
    } else {
        tracing::warn!(
            stage = name,
            "runtime.exactly_once is false: at least once, for measurements only."
        );
        plain_producer_config(&run.kafka)?
    };
    let producer: BaseProducer<ProducerObserver> = producer_config
        .create_with_context(ProducerObserver { metrics: kafka_metrics })
        .context("creating the Kafka producer")?;
    // Every Kafka call below has a timeout; one that does not come back within
    // `stall_timeout_secs` is a stuck client, and the process ends (see `watchdog`).
    let steps = Steps::new();
    let _watching = steps.watch(
        name,
        Duration::from_secs(run.runtime.stall_timeout_secs),
        health.clone(),
        |_| std::process::exit(STUCK_EXIT_CODE),
    );
    // Fences any earlier incarnation with the same transactional id and aborts its open
    // transaction, so downstream consumers do not wait for it to time out.
    if exactly_once {
        steps.enter("initialising transactions");
        producer
            .init_transactions(KAFKA_CALL_TIMEOUT)
            .with_context(|| format!("initialising transactions for {transactional_id}"))?;
    }
    consumer
        .subscribe(&[&run.input_topic])
        .context("subscribing to the input topic")?;
    tracing::info!(
        stage = name,
        input = %run.input_topic,
        output = %run.output_topic,
        group = %group_id,
        transactional_id = %transactional_id,
        "Stage started."
    );

    // A stateful stage restores its state when partitions are assigned (below), before it
    // processes anything under that assignment; a replica without partitions is a standby
    // and is ready all the same.
    health.set_ready(true);

    let batch_wait = Duration::from_millis(run.runtime.batch_max_wait_ms);
    let mut batch: Vec<OwnedMessage> = Vec::with_capacity(run.runtime.batch_max_records);
    let mut reported_hanging: Vec<(String, i32)> = Vec::new();
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        // Collect a batch: wait for the first record, then up to `batch_wait` for more.
        let mut first_at: Option<Instant> = None;
        while batch.len() < run.runtime.batch_max_records {
            let timeout = match first_at {
                None => Duration::from_millis(100),
                Some(t) => match batch_wait.checked_sub(t.elapsed()) {
                    Some(left) => left.min(Duration::from_millis(100)),
                    None => break,
                },
            };
            steps.enter("waiting for records");
            match consumer.poll(timeout) {
                Some(Ok(message)) => {
                    first_at.get_or_insert_with(Instant::now);
                    batch.push(message.detach());
                }
                Some(Err(err)) => {
                    // Librdkafka reports a fatal error once, as an event on the poll path;
                    // after it the consumer delivers nothing, so carrying on would leave the
                    // stage silent for good.
                    if let Some(fatal) = fatal_error(&consumer, &producer) {
                        anyhow::bail!("{fatal}");
                    }
                    if let KafkaError::MessageConsumptionFatal(code) = err {
                        anyhow::bail!("the Kafka consumer failed fatally: {code}");
                    }
                    tracing::warn!(error = %err, "Consumer error.");
                }
                None if first_at.is_none() && shutdown.is_cancelled() => break,
                // Serves the producer's events (statistics, delivery reports) also while idle,
                // so that its gauges are current and not those of the last transaction.
                None => {
                    producer.poll(Duration::ZERO);
                    // A partition blocked behind a transaction that never ends brings no
                    // records and no error: it is only seen in the statistics.
                    report_hanging(&consumer, health, name, &mut reported_hanging);
                }
            }
        }
        producer.poll(Duration::ZERO);
        // A fatal error raised on a path that is not ours (a heartbeat, a producer callback).
        if let Some(fatal) = fatal_error(&consumer, &producer) {
            anyhow::bail!("{fatal}");
        }
        report_hanging(&consumer, health, name, &mut reported_hanging);
        if assigned.swap(false, Ordering::SeqCst) {
            // Under the eager rebalance protocol every partition was revoked and assigned
            // again; fetching restarts from the committed offsets, so the records collected
            // before the rebalance will come again. Drop them, rewind, and rebuild the state
            // as of the committed offsets.
            batch.clear();
            steps.enter("reading committed offsets");
            rewind_to_committed(&consumer)?;
            steps.leave();
            if stage.is_stateful() {
                health.set_ready(false);
                restore(&mut stage, &run)?;
                health.set_ready(true);
            }
            continue;
        }
        if batch.is_empty() {
            continue;
        }
        let started = first_at.unwrap_or_else(Instant::now);
        let processed = process_batch(&mut stage, &run, &producer, &consumer, &batch, &steps);
        steps.leave();
        match processed {
            Ok(outputs) => {
                stage.committed(&outputs);
                metrics.transactions.with_label_values(&["committed"]).inc();
                metrics.batch_seconds.observe(started.elapsed().as_secs_f64());
                tracing::debug!(stage = name, records = batch.len(), "Batch committed.");
            }
            Err(err) if is_fenced(&err) => {
                // Retrying cannot help: another member took this one's place in the group.
                metrics.transactions.with_label_values(&["aborted"]).inc();
                let _ = abort(&producer);
                anyhow::bail!(
                    "fenced: another consumer joined group {group_id} with the same group.instance.id \
                     ({instance}), or a newer incarnation took the transactional id over: {err}"
                );
            }
            Err(err) if is_abortable(&err) => {
                metrics.transactions.with_label_values(&["aborted"]).inc();
                tracing::warn!(stage = name, error = %err, "Batch aborted; retrying it.");
                steps.enter("aborting a transaction");
                abort(&producer).context("aborting a failed transaction")?;
                steps.enter("reading committed offsets");
                rewind_to_committed(&consumer)?;
                steps.leave();
                if stage.is_stateful() {
                    restore(&mut stage, &run)?;
                } else {
                    stage.reset();
                }
            }
            Err(err) => return Err(err).context("committing a batch"),
        }
        batch.clear();
    }
    if let Some(fatal) = fatal_error(&consumer, &producer) {
        anyhow::bail!("{fatal}");
    }
    tracing::info!(stage = name, "Stage stopped: the last batch is committed.");
    health.set_ready(false);
    Ok(())
}

fn is_abortable(err: &KafkaError) -> bool {
    matches!(err, KafkaError::Transaction(err) if err.txn_requires_abort())
}

/// Whether a transactional call failed because this member was fenced: its static consumer
/// replaced by another with the same `group.instance.id` (an abortable error in librdkafka's
/// terms, but every retry would be fenced again), or its producer by a newer incarnation.
fn is_fenced(err: &KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode::{FencedInstanceId, InvalidProducerEpoch, ProducerFenced};
    matches!(err, KafkaError::Transaction(e) if e.is_fatal() || matches!(e.code(), FencedInstanceId | ProducerFenced | InvalidProducerEpoch))
}

/// Aborts the open transaction. Librdkafka purges the transaction's outstanding records and
/// waits until their delivery reports have been served; a `BaseProducer` serves them only
/// when polled, so the abort is asked in short steps with polls in between (a timed-out abort
/// may be called again), for up to [`KAFKA_CALL_TIMEOUT`] in all. A single blocking call
/// would wait out the whole timeout and fail ("the event queue must be polled").
pub(crate) fn abort<C: rdkafka::producer::ProducerContext>(producer: &BaseProducer<C>) -> Result<(), KafkaError> {
    let deadline = Instant::now() + KAFKA_CALL_TIMEOUT;
    loop {
        producer.poll(Duration::from_millis(50));
        match producer.abort_transaction(Duration::from_millis(500)) {
            Err(KafkaError::Transaction(err)) if err.is_retriable() && Instant::now() < deadline => {
                tracing::debug!(error = %err, "Abort not finished yet; serving delivery reports.");
            }
            other => return other,
        }
    }
}

/// Calls a transactional operation again while librdkafka says the same call may be retried
/// (a timeout, a coordinator moving), as its transactional API asks; three tries at most.
pub(crate) fn retrying(what: &str, mut call: impl FnMut() -> Result<(), KafkaError>) -> Result<(), KafkaError> {
    let mut attempt = 1;
    loop {
        match call() {
            Err(KafkaError::Transaction(err)) if err.is_retriable() && attempt < 3 => {
                tracing::warn!(operation = what, attempt, error = %err, "Retrying a transactional call.");
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Runs the stage over a batch (the [`crate::batch`] core) and commits its outputs, routed
/// copies, dead letters, state changes and the consumed offsets in one transaction. Returns
/// the committed outputs.
fn process_batch<S: Stage>(
    stage: &mut S,
    run: &StageRun,
    producer: &BaseProducer<ProducerObserver>,
    consumer: &BaseConsumer<RebalanceFlag>,
    batch: &[OwnedMessage],
    steps: &Steps,
) -> Result<Vec<S::Output>, KafkaError> {
    let exactly_once = run.runtime.exactly_once;
    if exactly_once {
        steps.enter("beginning a transaction");
        producer.begin_transaction()?;
    }
    steps.leave();
    let mut next_offsets: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for message in batch {
        next_offsets.insert((message.topic().to_string(), message.partition()), message.offset() + 1);
    }
    let inputs = batch.iter().map(|message| Input {
        key: message.key(),
        payload: message.payload(),
        topic: message.topic(),
        partition: message.partition(),
        offset: message.offset(),
        traceparent: traceparent_of(message),
    });
    let topics = Topics {
        output: &run.output_topic,
        dlq: &run.kafka.topics.dlq,
    };
    let applied = apply_batch(stage, inputs, topics, max_record_bytes(&run.kafka));
    steps.enter("sending the batch's records");
    for message in applied.messages() {
        send_message(producer, message)?;
    }
    if let Some(state_topic) = &run.state_topic {
        for change in &applied.state {
            send_message(producer, &Message::state(state_topic, change))?;
        }
    }
    let mut offsets = TopicPartitionList::new();
    for ((topic, partition), offset) in &next_offsets {
        offsets.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
    }
    steps.enter("committing the batch");
    if !exactly_once {
        // At least once: the outputs are delivered, then the offsets committed.
        producer.flush(KAFKA_CALL_TIMEOUT)?;
        consumer.commit(&offsets, rdkafka::consumer::CommitMode::Sync)?;
        return Ok(applied.committed);
    }
    let metadata = consumer
        .group_metadata()
        .ok_or(KafkaError::ClientCreation("no consumer group metadata".into()))?;
    retrying("send_offsets_to_transaction", || {
        producer.send_offsets_to_transaction(&offsets, &metadata, KAFKA_CALL_TIMEOUT)
    })?;
    retrying("commit_transaction", || producer.commit_transaction(KAFKA_CALL_TIMEOUT))?;
    Ok(applied.committed)
}

/// A message's `traceparent` header, if it has one.
fn traceparent_of(message: &OwnedMessage) -> Option<&str> {
    message
        .headers()?
        .iter()
        .find(|h| h.key == TRACEPARENT)
        .and_then(|h| h.value)
        .and_then(|v| std::str::from_utf8(v).ok())
}

/// Sends one message of the batch core, with its headers.
pub(crate) fn send_message(producer: &BaseProducer<ProducerObserver>, message: &Message) -> Result<(), KafkaError> {
    let headers = message
        .headers
        .iter()
        .fold(OwnedHeaders::new(), |headers, (key, value)| {
            headers.insert(Header {
                key,
                value: Some(value.as_str()),
            })
        });
    let mut record = BaseRecord::<[u8], [u8]>::to(&message.topic).headers(headers);
    if let Some(key) = &message.key {
        record = record.key(&key[..]);
    }
    if let Some(payload) = &message.payload {
        record = record.payload(&payload[..]);
    }
    send(producer, record)
}

/// Sends one record, waiting while the producer's queue is full (backpressure, never a drop).
pub(crate) fn send<K, P>(
    producer: &BaseProducer<ProducerObserver>,
    mut record: BaseRecord<'_, K, P>,
) -> Result<(), KafkaError>
where
    K: rdkafka::message::ToBytes + ?Sized,
    P: rdkafka::message::ToBytes + ?Sized,
{
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull), back)) => {
                producer.poll(Duration::from_millis(50));
                record = back;
            }
            Err((err, _)) => return Err(err),
        }
    }
}

/// Moves every assigned partition back to its committed offset (or to the beginning when the
/// group has committed nothing yet).
fn rewind_to_committed(consumer: &BaseConsumer<RebalanceFlag>) -> anyhow::Result<()> {
    let committed = consumer
        .committed(KAFKA_CALL_TIMEOUT)
        .context("reading committed offsets")?;
    for element in committed.elements() {
        let offset = match element.offset() {
            Offset::Offset(offset) => Offset::Offset(offset),
            _ => Offset::Beginning,
        };
        if let Err(err) = consumer.seek(element.topic(), element.partition(), offset, KAFKA_CALL_TIMEOUT) {
            // A partition that is not being fetched yet starts from the committed offset anyway.
            tracing::debug!(topic = element.topic(), partition = element.partition(), error = %err, "Seek skipped.");
        }
    }
    Ok(())
}

fn restore<S: Stage>(stage: &mut S, run: &StageRun) -> anyhow::Result<()> {
    let Some(topic) = &run.state_topic else {
        return Ok(());
    };
    stage.reset();
    let started = Instant::now();
    let entries = restore_state(&run.kafka, topic, |key, value| stage.restore(key, value))?;
    tracing::info!(
        stage = stage.name(),
        topic = %topic,
        entries,
        seconds = started.elapsed().as_secs_f64(),
        "State restored."
    );
    Ok(())
}

/// Runs a stage service: serves `/metrics`, `/healthz` and `/readyz` on the configured
/// address and runs the stage on a dedicated thread until `shutdown`. After `shutdown`, the
/// batch in flight gets `drain_timeout_secs` to commit; past that the service gives up (the
/// broker aborts the open transaction, and nothing is lost).
pub async fn serve_stage<S: Stage>(stage: S, run: StageRun, shutdown: CancellationToken) -> anyhow::Result<()> {
    let health = Health::default();
    let http_shutdown = CancellationToken::new();
    telemetry::serve(&run.runtime.listen_addr, health.clone(), http_shutdown.clone()).await?;
    let drain = Duration::from_secs(run.runtime.drain_timeout_secs);
    let stage_shutdown = shutdown.clone();
    let mut task = tokio::task::spawn_blocking(move || run_stage(stage, run, health, stage_shutdown));
    let result = tokio::select! {
        joined = &mut task => joined,
        () = async { shutdown.cancelled().await; tokio::time::sleep(drain).await } => {
            match tokio::time::timeout(Duration::from_millis(1), &mut task).await {
                Ok(joined) => joined,
                Err(_) => {
                    http_shutdown.cancel();
                    anyhow::bail!("the batch in flight did not commit within the drain timeout ({drain:?})");
                }
            }
        }
    };
    http_shutdown.cancel();
    result.context("the stage thread panicked")?
}
