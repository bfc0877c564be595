//! The configuration of the whole pipeline in one file (`newswire run --config FILE`): one
//! section per service, each holding exactly the keys of that service's own configuration file,
//! read by the same types (so the same `deny_unknown_fields`, defaults and documentation):
//!
//! ```yaml
//! fetcher:  {feeds_file: feeds.yaml, fetcher: {per_host_requests_per_sec: 2}, network: {allow: [10.0.0.0/8]}}
//! cleaner:  {extraction: {timeout_secs: 10}}
//! deduper:  {deduper: {window_secs: 172800}}
//! tagger:   {taxonomy_file: taxonomy.yaml}
//! alerter:  {detector: {min_count: 5}}
//! ```
//!
//! Environment variables override it as for the services, with the section first:
//! `NEWSWIRE__FETCHER__FETCHER__PER_HOST_BURST=10`. The `kafka:` and `runtime:` keys of a
//! section are accepted (a service's file can be pasted in whole); standalone mode uses the
//! tagger's `kafka:` connection settings with `--kafka`, and no `runtime:` keys.

use std::path::Path;

use serde::Deserialize;

/// `newswire run --config FILE`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// `fetcher`: the fetcher service's keys.
    #[serde(default)]
    pub fetcher: fetcher::FetcherConfig,
    /// `cleaner`: the cleaner service's keys.
    #[serde(default)]
    pub cleaner: cleaner::CleanerConfig,
    /// `deduper`: the deduper service's keys.
    #[serde(default)]
    pub deduper: deduper::DeduperConfig,
    /// `tagger`: the tagger service's keys.
    #[serde(default)]
    pub tagger: tagger::TaggerConfig,
    /// `alerter`: the alerter service's keys.
    #[serde(default)]
    pub alerter: alerter::AlerterConfig,
}

impl PipelineConfig {
    /// Reads `file` (if any) and the `NEWSWIRE__…` environment overrides, and checks the
    /// settings the services check at start.
    pub fn load(file: Option<&Path>) -> anyhow::Result<PipelineConfig> {
        let config: PipelineConfig = config::load(file)?;
        config.fetcher.fetcher.validate()?;
        config.alerter.detector.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temp_file as write;

    #[test]
    fn each_section_takes_its_services_keys_and_nothing_else() {
        let file = write(
            "fetcher:\n  fetcher: {per_host_burst: 9}\n  feeds_file: /tmp/f.yaml\n\
             cleaner:\n  extraction: {timeout_secs: 7}\n\
             deduper:\n  deduper: {window_secs: 3600}\n\
             tagger:\n  taxonomy_file: /tmp/t.yaml\n",
        );
        let config = PipelineConfig::load(Some(file.path())).unwrap();
        assert_eq!(config.fetcher.fetcher.per_host_burst, 9);
        assert_eq!(config.cleaner.extraction.timeout_secs, 7);
        assert_eq!(config.deduper.deduper.window_secs, 3600);
        assert_eq!(config.tagger.taxonomy_file.as_deref(), Some(Path::new("/tmp/t.yaml")));
        // A key of another service in a section is an error that names it.
        let file = write("cleaner:\n  feeds_file: /tmp/f.yaml\n");
        let err = format!("{:#}", PipelineConfig::load(Some(file.path())).unwrap_err());
        assert!(err.contains("feeds_file"), "{err}");
        let file = write("fetchr: {}\n");
        assert!(PipelineConfig::load(Some(file.path())).is_err());
        // The services' own checks apply.
        let file = write("fetcher:\n  fetcher: {jitter: 0.9}\n");
        let err = format!("{:#}", PipelineConfig::load(Some(file.path())).unwrap_err());
        assert!(err.contains("jitter"), "{err}");
    }
}
