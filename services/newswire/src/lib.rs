//! The `newswire` command: the standalone pipeline and offline tools.

pub mod dedup;
pub mod standalone;
