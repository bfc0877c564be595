//! The tagger's integration tests: one binary (see STYLE.md).

mod counts;
mod entities;
mod eval;
mod eval_ru;
mod eval_zh;
mod kafka;
