//! The feeds file: which feeds to poll, and how.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The feeds file (`deploy/feeds.yaml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedsFile {
    /// `feeds`: the feeds to poll.
    pub feeds: Vec<FeedEntry>,
}

/// One feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedEntry {
    /// `url`: the feed's http(s) URL (RSS, Atom or JSON Feed).
    pub url: String,
    /// `name`: the outlet's name, carried in every record from this feed.
    #[serde(default)]
    pub name: Option<String>,
    /// `fetch_article`: also fetch each new item's page, for feeds that carry only summaries.
    #[serde(default)]
    pub fetch_article: bool,
    /// `min_interval_secs`: poll no more often than this (default: the fetcher's setting).
    #[serde(default)]
    pub min_interval_secs: Option<u64>,
    /// `max_interval_secs`: poll at least this often (default: the fetcher's setting).
    #[serde(default)]
    pub max_interval_secs: Option<u64>,
    /// `tags`: free-form labels (region, language...) carried in every record.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A feeds file that cannot be used; names the file and the entry.
#[derive(Debug, thiserror::Error)]
pub enum FeedsError {
    #[error("cannot read the feeds file {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("invalid feeds file {path}: {cause}")]
    Parse { path: String, cause: serde_yaml::Error },
    #[error("invalid feeds file {path}: feeds[{index}] ({url:?}): {message}")]
    Entry {
        path: String,
        index: usize,
        url: String,
        message: String,
    },
}

impl FeedsFile {
    /// Reads and validates a feeds file.
    pub fn load(path: &Path) -> Result<FeedsFile, FeedsError> {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|cause| FeedsError::Read {
            path: display.clone(),
            cause,
        })?;
        Self::parse(&text, &display)
    }

    /// Parses and validates feeds-file text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<FeedsFile, FeedsError> {
        let file: FeedsFile = serde_yaml::from_str(text).map_err(|cause| FeedsError::Parse {
            path: origin.to_string(),
            cause,
        })?;
        let mut urls = HashSet::new();
        for (index, feed) in file.feeds.iter().enumerate() {
            let fail = |message: &str| FeedsError::Entry {
                path: origin.to_string(),
                index,
                url: feed.url.clone(),
                message: message.to_string(),
            };
            match url::Url::parse(&feed.url) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {}
                Ok(_) => return Err(fail("the url must be http or https")),
                Err(err) => return Err(fail(&format!("the url is not valid: {err}"))),
            }
            if !urls.insert(feed.url.as_str()) {
                return Err(fail("this url is listed twice"));
            }
            if let (Some(min), Some(max)) = (feed.min_interval_secs, feed.max_interval_secs) {
                if min > max {
                    return Err(fail("min_interval_secs is larger than max_interval_secs"));
                }
            }
            if feed.min_interval_secs == Some(0) {
                return Err(fail("min_interval_secs must be at least 1"));
            }
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        FeedsFile::parse(text, "feeds.yaml").unwrap_err().to_string()
    }

    #[test]
    fn a_valid_file() {
        let file = FeedsFile::parse(
            "feeds:\n  - url: https://example.com/rss\n    name: Example\n    fetch_article: true\n    tags: [world]\n  - url: http://example.org/atom\n",
            "feeds.yaml",
        )
        .unwrap();
        assert_eq!(file.feeds.len(), 2);
        assert!(file.feeds[0].fetch_article);
        assert_eq!(file.feeds[1].name, None);
    }

    #[test]
    fn bad_entries_are_named() {
        let e = err("feeds:\n  - url: https://a.example/rss\n  - url: ftp://b.example/rss\n");
        assert!(e.contains("feeds[1]") && e.contains("ftp://b.example/rss"), "{e}");
        let e = err("feeds:\n  - url: https://a.example/rss\n  - url: https://a.example/rss\n");
        assert!(e.contains("feeds[1]") && e.contains("twice"), "{e}");
        let e = err("feeds:\n  - url: not a url\n");
        assert!(e.contains("feeds[0]"), "{e}");
        let e = err("feeds:\n  - url: https://a.example/rss\n    min_interval_secs: 600\n    max_interval_secs: 60\n");
        assert!(e.contains("min_interval_secs"), "{e}");
        let e = err("feeds:\n  - url: https://a.example/rss\n  - urll: https://b.example/rss\n");
        assert!(e.contains("feeds[1]") && e.contains("urll"), "{e}");
        let e = err("feeds:\n  - name: no url\n");
        assert!(e.contains("url"), "{e}");
    }
}
