//! The `newswire` command: the standalone pipeline and offline tools.

pub mod alerts;
pub mod check_config;
pub mod dedup;
pub mod extract;
pub mod pipeline;
pub mod standalone;
pub mod tag;
pub mod topics;
