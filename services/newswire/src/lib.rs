//! The `newswire` command: the standalone pipeline and offline tools.

pub mod extract;
pub mod standalone;
