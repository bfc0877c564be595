//! Fuzzing on stable Rust: targets over the pipeline's parsers and decoders ([`targets`]),
//! seeds from the shared corpus ([`seeds`]), a deterministic mutator ([`mutate`]) and a
//! harness that runs a target in a memory-capped child process with a per-input deadline
//! ([`harness`]). The `newswire-fuzz` binary drives it.
//!
//! Without coverage feedback this is a mutation fuzzer, not a coverage-guided one: inputs are
//! the seeds and random mutations of them (bit and byte flips, inserted, deleted and
//! duplicated ranges, truncation, splices of two seeds, the target's dictionary tokens,
//! inputs grown large), never kept for how much code they reached.

pub mod harness;
pub mod mutate;
pub mod seeds;
pub mod targets;

pub use targets::{TARGETS, Target, target};

#[cfg(test)]
mod tests;
