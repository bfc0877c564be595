//! The `newswire` command: the standalone pipeline and offline tools.

pub mod alerts;
pub mod check_config;
pub mod dedup;
pub mod expect;
pub mod extract;
pub mod pipeline;
pub mod standalone;
pub mod tag;
pub mod topics;

/// A temporary file holding `text`, for the configuration tests.
#[cfg(test)]
pub(crate) fn temp_file(text: &str) -> tempfile::NamedTempFile {
    use std::io::Write as _;
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}
