//! The batch core: what applying one batch of input records to a stage produces, without any
//! Kafka I/O. Both modes use it: the Kafka loop ([`crate::run_stage`]) sends what it returns
//! in one transaction with the consumed offsets; the standalone pipeline hands the outputs to
//! the next stage and writes the rest to its sink, dead-letter file and store. In both,
//! [`Stage::committed`] gets [`Applied::committed`] once the outputs and state are durable.
//!
//! For every input record, in order: decode it (a [`Record`] as JSON), run the stage,
//! encode its outputs within the record-size limit, and route each output to the stage's
//! output topic and its [`Stage::routes`]; an input that fails anywhere on the way becomes a
//! dead letter that keeps the original key and bytes and says what failed and where. Each
//! record continues its trace under a new span and is processed inside a `record` span that
//! names the trace, so that every log line about it can be followed across services. The
//! per-stage metrics (records in, out, dropped, errored, per-record time) are counted here
//! and nowhere else.

use std::time::Instant;

use record::Record;
use telemetry::StageMetrics;

use crate::dlq_headers;
use crate::observe::{TRACEPARENT, TraceContext};
use crate::stage::{Stage, StageError, StateChange};

/// One input record as it was read.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub key: Option<&'a [u8]>,
    pub payload: Option<&'a [u8]>,
    /// Where it was read: topic, partition, offset (for dead letters and logs).
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    /// Its `traceparent` header, if it has one.
    pub traceparent: Option<&'a str>,
}

/// A record to write: topic, key, payload and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub key: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
    pub headers: Vec<(&'static str, String)>,
}

impl Message {
    /// A record a source (the fetcher) writes first: it starts a trace, which every stage
    /// downstream carries on.
    pub fn traced(topic: &str, key: &str, payload: Vec<u8>) -> Message {
        let trace = TraceContext::new_root();
        tracing::trace!(trace_id = %trace.trace_id_hex(), key, topic, "Record published.");
        Message {
            topic: topic.to_string(),
            key: Some(key.as_bytes().to_vec()),
            payload: Some(payload),
            headers: vec![(TRACEPARENT, trace.header())],
        }
    }

    /// A state change for a changelog topic: the key set to a value, or a tombstone.
    pub fn state(topic: &str, change: &StateChange) -> Message {
        Message {
            topic: topic.to_string(),
            key: Some(change.key.clone()),
            payload: change.value.clone(),
            headers: Vec::new(),
        }
    }

    /// The value of header `name`, if the message has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    /// The message as the input of the next stage, read from `topic` at `offset`.
    pub fn as_input(&self, offset: i64) -> Input<'_> {
        Input {
            key: self.key.as_deref(),
            payload: self.payload.as_deref(),
            topic: &self.topic,
            partition: 0,
            offset,
            traceparent: self.header(TRACEPARENT),
        }
    }
}

/// Where a stage's records go.
#[derive(Debug, Clone, Copy)]
pub struct Topics<'a> {
    /// The stage's output topic.
    pub output: &'a str,
    /// The dead-letter topic.
    pub dlq: &'a str,
}

/// What a batch came to.
#[derive(Debug)]
pub struct Applied<T> {
    /// Records for the output topic, in input order.
    pub outputs: Vec<Message>,
    /// The same records again for each of their routes (`news.topic.<slug>`).
    pub routed: Vec<Message>,
    /// Dead letters for the DLQ topic: the original key and bytes, with the error headers.
    pub dead: Vec<Message>,
    /// The stage's state changes for the batch.
    pub state: Vec<StateChange>,
    /// The outputs as values, for [`Stage::committed`] once the batch is durable.
    pub committed: Vec<T>,
}

impl<T> Applied<T> {
    /// Every message of the batch: outputs, routed copies and dead letters.
    pub fn messages(&self) -> impl Iterator<Item = &Message> {
        self.outputs.iter().chain(&self.routed).chain(&self.dead)
    }
}

/// Applies `inputs` to `stage`; see the module documentation. Never fails: a record that
/// cannot be processed is a dead letter, and the batch goes on.
pub fn apply_batch<'a, S: Stage>(
    stage: &mut S,
    inputs: impl IntoIterator<Item = Input<'a>>,
    topics: Topics<'_>,
    max_record_bytes: usize,
) -> Applied<S::Output> {
    let metrics = StageMetrics::get(stage.name());
    let mut applied = Applied {
        outputs: Vec::new(),
        routed: Vec::new(),
        dead: Vec::new(),
        state: Vec::new(),
        committed: Vec::new(),
    };
    for input in inputs {
        // The record's trace goes on under a span of this stage's own; a record without one
        // (written by something other than newswire) starts a trace here.
        let trace = input
            .traceparent
            .and_then(TraceContext::parse)
            .map_or_else(TraceContext::new_root, |t| t.child());
        let traceparent = trace.header();
        let span = tracing::info_span!("record", trace_id = %trace.trace_id_hex(), stage = stage.name());
        let _entered = span.enter();
        metrics.records_in.inc();
        let started = Instant::now();
        let result = decode::<S::Input>(input.payload)
            .and_then(|record| stage.process(record))
            .and_then(|outputs| {
                let routes: Vec<Vec<String>> = outputs.iter().map(|output| stage.routes(output)).collect();
                let encoded = encode_all(&outputs, max_record_bytes)?;
                Ok((outputs, encoded, routes))
            });
        metrics.record_seconds.observe(started.elapsed().as_secs_f64());
        match result {
            Ok((outputs, encoded, routes)) => {
                tracing::trace!(
                    key = ?input.key.map(String::from_utf8_lossy),
                    outputs = encoded.len(),
                    "Record processed."
                );
                if encoded.is_empty() {
                    metrics.records_dropped.inc();
                }
                for ((key, payload), routes) in encoded.into_iter().zip(routes) {
                    let message = |topic: &str| Message {
                        topic: topic.to_string(),
                        key: Some(key.clone().into_bytes()),
                        payload: Some(payload.clone()),
                        headers: vec![(TRACEPARENT, traceparent.clone())],
                    };
                    applied.routed.extend(routes.iter().map(|route| message(route)));
                    applied.outputs.push(message(topics.output));
                    metrics.records_out.inc();
                }
                applied.committed.extend(outputs);
            }
            Err(err) => {
                metrics.records_errored.with_label_values(&[err.kind.as_str()]).inc();
                tracing::warn!(
                    stage = stage.name(),
                    topic = input.topic,
                    partition = input.partition,
                    offset = input.offset,
                    error = %err,
                    "Record sent to the dead-letter topic."
                );
                applied
                    .dead
                    .push(dead_letter(stage.name(), topics.dlq, &input, &err, traceparent));
            }
        }
    }
    applied.state = stage.take_state_changes();
    applied
}

/// A dead letter: the input's own key and bytes, and headers that say what failed and where.
fn dead_letter(stage: &str, dlq: &str, input: &Input<'_>, err: &StageError, traceparent: String) -> Message {
    Message {
        topic: dlq.to_string(),
        key: input.key.map(<[u8]>::to_vec),
        payload: input.payload.map(<[u8]>::to_vec),
        headers: vec![
            (dlq_headers::STAGE, stage.to_string()),
            (dlq_headers::ERROR_KIND, err.kind.as_str().to_string()),
            (dlq_headers::ERROR, err.to_string()),
            (dlq_headers::ORIGIN_TOPIC, input.topic.to_string()),
            (dlq_headers::ORIGIN_PARTITION, input.partition.to_string()),
            (dlq_headers::ORIGIN_OFFSET, input.offset.to_string()),
            (TRACEPARENT, traceparent),
        ],
    }
}

/// The largest payload a producer with these settings accepts: librdkafka's
/// `message.max.bytes` (1,000,000 by default) less room for the key and headers. A larger
/// output would fail its whole transaction again on every retry, so it is refused before.
pub fn max_record_bytes(kafka: &config::KafkaConfig) -> usize {
    let limit = kafka
        .librdkafka
        .get("message.max.bytes")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000usize);
    limit.saturating_sub(4096)
}

fn encode_all<T: Record>(outputs: &[T], max_bytes: usize) -> Result<Vec<(String, Vec<u8>)>, StageError> {
    outputs
        .iter()
        .map(|output| {
            let payload = serde_json::to_vec(output)
                .map_err(|err| StageError::internal(format!("cannot serialise the output: {err}")))?;
            if payload.len() > max_bytes {
                return Err(StageError::content(format!(
                    "the output is {} bytes, more than the {max_bytes}-byte record limit",
                    payload.len()
                )));
            }
            Ok((output.key().to_string(), payload))
        })
        .collect()
}

fn decode<T: Record>(payload: Option<&[u8]>) -> Result<T, StageError> {
    let payload = payload.ok_or_else(|| StageError::decode("empty message"))?;
    serde_json::from_slice(payload).map_err(|err| StageError::decode(format!("not a valid record: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
    struct Blob {
        id: String,
        body: String,
    }

    impl Record for Blob {
        const SCHEMA_VERSION: u32 = 1;
        fn key(&self) -> &str {
            &self.id
        }
    }

    /// Upper-cases a blob, routes it to `route.<body>`, drops "skip", fails on "bad".
    #[derive(Default)]
    struct Shout {
        seen: usize,
        committed: usize,
    }

    impl Stage for Shout {
        type Input = Blob;
        type Output = Blob;
        fn name(&self) -> &'static str {
            "batch_test"
        }
        fn process(&mut self, input: Blob) -> Result<Vec<Blob>, StageError> {
            self.seen += 1;
            match input.body.as_str() {
                "skip" => Ok(vec![]),
                "bad" => Err(StageError::content("bad body")),
                _ => Ok(vec![Blob {
                    body: input.body.to_uppercase(),
                    ..input
                }]),
            }
        }
        fn routes(&self, output: &Blob) -> Vec<String> {
            vec![format!("route.{}", output.body)]
        }
        fn take_state_changes(&mut self) -> Vec<StateChange> {
            vec![StateChange {
                key: b"seen".to_vec(),
                value: Some(self.seen.to_string().into_bytes()),
            }]
        }
        fn committed(&mut self, outputs: &[Blob]) {
            self.committed += outputs.len();
        }
    }

    #[test]
    fn a_batch_gives_outputs_routes_dead_letters_with_original_bytes_and_state() {
        let root = TraceContext::new_root().header();
        let payloads: [&[u8]; 4] = [
            br#"{"id":"a","body":"hi"}"#,
            br#"{"id":"b","body":"skip"}"#,
            br#"{"id":"c","body":"bad"}"#,
            b"not json \xff",
        ];
        let inputs = payloads.iter().enumerate().map(|(i, payload)| Input {
            key: Some(b"k"),
            payload: Some(payload),
            topic: "in",
            partition: 2,
            offset: 10 + i as i64,
            traceparent: (i == 0).then_some(root.as_str()),
        });
        let mut stage = Shout::default();
        let applied = apply_batch(
            &mut stage,
            inputs,
            Topics {
                output: "out",
                dlq: "dlq",
            },
            1000,
        );
        assert_eq!(applied.outputs.len(), 1);
        let out = &applied.outputs[0];
        assert_eq!((out.topic.as_str(), out.key.as_deref()), ("out", Some(&b"a"[..])));
        assert_eq!(out.payload.as_deref(), Some(&br#"{"id":"a","body":"HI"}"#[..]));
        let trace = TraceContext::parse(out.header(TRACEPARENT).unwrap()).unwrap();
        assert_eq!(
            trace.trace_id,
            TraceContext::parse(&root).unwrap().trace_id,
            "the trace goes on"
        );
        assert_eq!(applied.routed.len(), 1);
        assert_eq!(applied.routed[0].topic, "route.HI");
        assert_eq!(applied.routed[0].payload, out.payload);
        // The failed record and the undecodable one keep their own bytes and say why.
        assert_eq!(applied.dead.len(), 2);
        assert_eq!(applied.dead[1].payload.as_deref(), Some(payloads[3]));
        assert_eq!(applied.dead[0].header(dlq_headers::ERROR_KIND), Some("content"));
        assert_eq!(applied.dead[1].header(dlq_headers::ERROR_KIND), Some("decode"));
        assert_eq!(applied.dead[1].header(dlq_headers::ORIGIN_OFFSET), Some("13"));
        assert_eq!(applied.dead[1].header(dlq_headers::ORIGIN_PARTITION), Some("2"));
        assert_eq!(applied.dead[0].topic, "dlq");
        assert_eq!(applied.state.len(), 1);
        assert_eq!(applied.messages().count(), 4);
        // Nothing counts as committed until the caller says so.
        assert_eq!(stage.committed, 0);
        assert_eq!(applied.committed.len(), 1);
    }

    #[test]
    fn outputs_over_the_record_limit_are_content_errors() {
        let small = Blob {
            id: "a".into(),
            body: "x".repeat(10),
        };
        let encoded = encode_all(&[small], 1000).unwrap();
        assert_eq!(encoded[0].0, "a");
        let big = Blob {
            id: "b".into(),
            body: "x".repeat(2000),
        };
        let err = encode_all(&[big], 1000).unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Content);
        assert!(err.message.contains("record limit"), "{}", err.message);

        let mut kafka = config::KafkaConfig::default();
        assert_eq!(max_record_bytes(&kafka), 1_000_000 - 4096);
        kafka.librdkafka.insert("message.max.bytes".into(), "5000000".into());
        assert_eq!(max_record_bytes(&kafka), 5_000_000 - 4096);
    }
}
