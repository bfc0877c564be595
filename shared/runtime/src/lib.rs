//! The Kafka stage runtime: the only crate that imports rdkafka.
//!
//! A stage ([`Stage`]) is a plain function from one record to zero or more records, with its
//! own state; it knows nothing about Kafka. [`run_stage`] wraps it: consume a batch from the
//! input topic, run the stage on each record, then produce the outputs, the stage's state
//! changes (to a compacted changelog topic) and the consumed offsets in **one Kafka
//! transaction**. A crash at any moment therefore neither loses nor duplicates a record for
//! `read_committed` consumers, and the stage's state is always exactly as of the last
//! committed input offset. Sources (the fetcher) use [`Publisher`] for the same guarantee
//! without an input topic.

mod admin;
pub mod batch;
mod kafka;
mod membership;
mod observe;
mod publisher;
mod run;
mod service;
mod stage;
mod state;
mod watchdog;

pub use admin::{TopicSpec, create_topics, partition_count, pipeline_topics};
pub use kafka::client_config;
pub use membership::{Membership, partition_for, publish_keyed};
pub use observe::{Hanging, TRACEPARENT, TraceContext};
pub use publisher::{OutgoingRecord, PublishError, Publisher};
pub use run::{StageRun, run_stage, serve_stage};
pub use service::service_main;
pub use stage::{ErrorKind, Stage, StageError, StateChange};
pub use state::restore_state;

/// Headers that a record sent to the dead-letter topic carries.
pub mod dlq_headers {
    /// The stage that failed (`cleaner`, `deduper`, ...).
    pub const STAGE: &str = "newswire.stage";
    /// The error kind, from a small fixed set (see [`crate::ErrorKind`]).
    pub const ERROR_KIND: &str = "newswire.error.kind";
    /// The error message.
    pub const ERROR: &str = "newswire.error";
    /// The topic, partition and offset the record was read from.
    pub const ORIGIN_TOPIC: &str = "newswire.origin.topic";
    pub const ORIGIN_PARTITION: &str = "newswire.origin.partition";
    pub const ORIGIN_OFFSET: &str = "newswire.origin.offset";
}
