//! The tagger's integration tests: one binary (see STYLE.md).

mod eval;
mod kafka;
