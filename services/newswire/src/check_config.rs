//! `newswire check-config`: checks files with the parsers the services themselves use, so that
//! a configuration rendered elsewhere (the Helm chart, docker-compose, an operator's own
//! tooling) is known to load before any pod starts. Unknown keys are errors, as at start-up.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// What a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// The fetcher's configuration file.
    Fetcher,
    /// The cleaner's configuration file.
    Cleaner,
    /// The deduper's configuration file.
    Deduper,
    /// The tagger's configuration file.
    Tagger,
    /// The alerter's configuration file.
    Alerter,
    /// The configuration file of `newswire run --config` (one section per service).
    Pipeline,
    /// The configuration file of `newswire topics create --config`.
    Topics,
    /// A feeds list (`deploy/feeds.yaml`).
    Feeds,
    /// A taxonomy (`deploy/taxonomy.yaml`).
    Taxonomy,
}

/// Checks one file; the error says what is wrong and where.
pub fn check(kind: Kind, file: &Path) -> anyhow::Result<()> {
    match kind {
        Kind::Fetcher => config::load::<fetcher::FetcherConfig>(Some(file)).map(drop),
        Kind::Cleaner => config::load::<cleaner::CleanerConfig>(Some(file)).map(drop),
        Kind::Deduper => config::load::<deduper::DeduperConfig>(Some(file)).map(drop),
        Kind::Tagger => config::load::<tagger::TaggerConfig>(Some(file)).map(drop),
        Kind::Alerter => config::load::<alerter::AlerterConfig>(Some(file)).map(drop),
        Kind::Pipeline => crate::pipeline::PipelineConfig::load(Some(file)).map(drop),
        Kind::Topics => crate::topics::kafka_config(Some(file), None, "").map(drop),
        Kind::Feeds => fetcher::FeedsFile::load(file).map(drop).map_err(Into::into),
        Kind::Taxonomy => tagger::Taxonomy::load(file).map(drop).map_err(Into::into),
    }
}

/// Checks every file, reports each one, and fails if any is invalid.
pub fn run(kind: Kind, files: &[PathBuf]) -> anyhow::Result<()> {
    let mut invalid = 0;
    for file in files {
        match check(kind, file).with_context(|| format!("{}", file.display())) {
            Ok(()) => eprintln!("ok: {}", file.display()),
            Err(err) => {
                eprintln!("invalid: {err:#}");
                invalid += 1;
            }
        }
    }
    anyhow::ensure!(invalid == 0, "{invalid} of {} files are invalid", files.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temp_file as write;

    #[test]
    fn service_files_are_checked_with_the_service_types() {
        let file = write("kafka: {bootstrap_servers: b:9092}\nfeeds_file: /etc/newswire/feeds/feeds.yaml\n");
        check(Kind::Fetcher, file.path()).unwrap();
        // feeds_file is the fetcher's alone: the cleaner rejects it.
        let err = check(Kind::Cleaner, file.path()).unwrap_err().to_string();
        assert!(err.contains("feeds_file"), "{err}");
    }

    #[test]
    fn the_shipped_feeds_and_taxonomy_pass() {
        let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
        check(Kind::Feeds, &deploy.join("feeds.yaml")).unwrap();
        check(Kind::Taxonomy, &deploy.join("taxonomy.yaml")).unwrap();
        assert!(check(Kind::Feeds, &deploy.join("taxonomy.yaml")).is_err());
    }

    #[test]
    fn run_counts_invalid_files() {
        let good = write("runtime: {drain_timeout_secs: 5}\n");
        let bad = write("runtime: {drain_timeout: 5}\n");
        let files = [good.path().to_path_buf(), bad.path().to_path_buf()];
        let err = run(Kind::Deduper, &files).unwrap_err().to_string();
        assert!(err.contains("1 of 2"), "{err}");
    }
}
