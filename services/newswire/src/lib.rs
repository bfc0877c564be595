//! The `newswire` command: the standalone pipeline and offline tools.

pub mod alerts;
pub mod standalone;
