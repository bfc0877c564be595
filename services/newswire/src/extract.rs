//! `newswire extract`: the cleaner's extraction on local HTML files, one JSON line per file.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

/// Options of `newswire extract`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The page's URL (resolves relative links, and is the canonical URL when the page names none).
    #[arg(long)]
    pub url: Option<String>,
    /// HTML files, plain or gzip-compressed.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// One output line.
#[derive(Debug, Serialize)]
struct Line<'a> {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authors: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    published_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    canonical_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    site_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    section: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page_failure: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provenance: Option<&'a std::collections::BTreeMap<String, String>>,
    /// Time spent on this file (reading, decoding, extraction), in milliseconds.
    elapsed_ms: f64,
}

/// Extracts every file and prints one JSON line each. A file that cannot be read, decoded or
/// extracted gets a line with `error` (and a log line); the others go on. Fails at the end
/// when any file failed.
pub fn run(args: Args) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = 0usize;
    for file in &args.files {
        let start = Instant::now();
        let result = cleaner::eval::read_html(file).and_then(|html| {
            cleaner::extract_document(&html, args.url.as_deref(), now).map_err(|e| anyhow::anyhow!("{e}"))
        });
        let elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
        let name = file.display().to_string();
        let line = match &result {
            Ok(record) => {
                let a = &record.article;
                Line {
                    file: name,
                    error: None,
                    title: Some(&a.title),
                    authors: Some(&a.authors),
                    published_at: a.published_at,
                    updated_at: a.updated_at,
                    language: a.language.as_deref(),
                    canonical_url: a.canonical_url.as_deref(),
                    id: Some(&a.id),
                    image: a.lead_image.as_deref(),
                    site_name: a.source.name.as_deref(),
                    section: a.extraction.section.as_deref(),
                    summary: a.summary.as_deref(),
                    text: Some(&a.text),
                    method: Some(&a.extraction.method),
                    page_failure: a.extraction.page_failure.as_deref(),
                    provenance: Some(&a.extraction.provenance),
                    elapsed_ms,
                }
            }
            Err(err) => {
                failed += 1;
                tracing::warn!(file = %name, error = %format!("{err:#}"), "Extraction failed.");
                Line {
                    file: name,
                    error: Some(format!("{err:#}")),
                    title: None,
                    authors: None,
                    published_at: None,
                    updated_at: None,
                    language: None,
                    canonical_url: None,
                    id: None,
                    image: None,
                    site_name: None,
                    section: None,
                    summary: None,
                    text: None,
                    method: None,
                    page_failure: None,
                    provenance: None,
                    elapsed_ms,
                }
            }
        };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    anyhow::ensure!(failed == 0, "{failed} of {} files failed", args.files.len());
    Ok(())
}
