//! What a stage is, as the runtime sees it.

use record::Record;

/// A pipeline stage: record in, records out, its state in `&mut self`.
///
/// Invariant: a stage does no I/O and never sees Kafka types. Everything it must remember
/// across restarts it reports through [`Stage::take_state_changes`]; the runtime persists
/// those changes atomically with the outputs (a Kafka changelog topic in cluster mode, the
/// embedded store in standalone mode) and replays them through [`Stage::restore`] on start.
pub trait Stage: Send + 'static {
    /// The record the stage consumes.
    type Input: Record;
    /// The record the stage produces.
    type Output: Record;

    /// The stage's name, used in metrics, logs, DLQ headers and default group names.
    fn name(&self) -> &'static str;

    /// Processes one record. An error sends the input to the dead-letter topic and the
    /// stage goes on with the next record.
    fn process(&mut self, input: Self::Input) -> Result<Vec<Self::Output>, StageError>;

    /// Further topics an output is also published to (in the same transaction as the
    /// output topic), e.g. the tagger's `news.topic.<slug>`. None by default.
    fn routes(&self, _output: &Self::Output) -> Vec<String> {
        Vec::new()
    }

    /// The state changes made since the last call.
    fn take_state_changes(&mut self) -> Vec<StateChange> {
        Vec::new()
    }

    /// Applies one entry of persisted state (in the order it was written).
    fn restore(&mut self, _key: &[u8], _value: Option<&[u8]>) {}

    /// Forgets all state, before a full restore (after a rebalance or an aborted batch).
    fn reset(&mut self) {}

    /// Called with a batch's outputs once they are committed (cluster mode) — for what
    /// should only count what really left the stage, such as end-to-end latency. It must not
    /// fail and should be cheap.
    fn committed(&mut self, _outputs: &[Self::Output]) {}

    /// Whether the stage keeps state at all (stateless stages skip restores).
    fn is_stateful(&self) -> bool {
        false
    }
}

/// One change to a stage's state: a key set to a value, or deleted (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

/// Why a record failed. A small fixed set, so that it can label metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input was not a valid record (not JSON, wrong shape, empty).
    Decode,
    /// The record was valid but the stage could not handle its content.
    Content,
    /// An internal failure of the stage.
    Internal,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Decode => "decode",
            ErrorKind::Content => "content",
            ErrorKind::Internal => "internal",
        }
    }
}

/// A stage's failure on one record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}", kind = kind.as_str())]
pub struct StageError {
    pub kind: ErrorKind,
    pub message: String,
}

impl StageError {
    pub fn content(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Content,
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Internal,
            message: message.into(),
        }
    }

    pub fn decode(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Decode,
            message: message.into(),
        }
    }
}
