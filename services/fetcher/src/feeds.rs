//! The feeds file: which feeds to poll, and how.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The feeds file (`deploy/feeds.yaml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedsFile {
    /// `feeds`: the feeds to poll.
    pub feeds: Vec<FeedEntry>,
}

/// One feed (or sitemap).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedEntry {
    /// `url`: the feed's http(s) URL (RSS, Atom or JSON Feed); with `kind: sitemap`, a news
    /// sitemap, a sitemap index, or a site's robots.txt (its `Sitemap:` lines are followed).
    pub url: String,
    /// `kind`: `feed` (the default) or `sitemap`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub kind: SourceKind,
    /// `name`: the outlet's name, carried in every record from this feed.
    #[serde(default)]
    pub name: Option<String>,
    /// `fetch_article`: when to fetch each new item's page: `auto` (the default: when the
    /// item carries only a summary), `always` or `never` (`true`/`false` are read as
    /// `always`/`never`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub fetch_article: FetchArticle,
    /// `http`: request options for this feed and its article pages.
    #[serde(default, skip_serializing_if = "is_default")]
    pub http: FeedHttp,
    /// `min_interval_secs`: poll no more often than this (default: the fetcher's setting).
    #[serde(default)]
    pub min_interval_secs: Option<u64>,
    /// `max_interval_secs`: poll at least this often (default: the fetcher's setting).
    #[serde(default)]
    pub max_interval_secs: Option<u64>,
    /// `tags`: free-form labels (region, language...) carried in every record.
    #[serde(default)]
    pub tags: Vec<String>,
    /// `language`: the feed's language (BCP 47: `ru`, `uk`, `zh-Hans`), when the operator
    /// knows it: every article from the feed is in it, whatever the feed, its items or the
    /// pages declare (feeds often declare a template's `en-us`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// What a feeds-file entry points at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// An RSS, Atom or JSON feed.
    #[default]
    Feed,
    /// A (news) sitemap, a sitemap index or a robots.txt naming sitemaps.
    Sitemap,
}

/// When the fetcher fetches an item's article page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchArticle {
    /// When the item's text is a summary: few words, cut off with an ellipsis, the title
    /// again, or no text at all (sitemap entries).
    #[default]
    Auto,
    Always,
    Never,
}

impl<'de> Deserialize<'de> for FetchArticle {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Flag(bool),
            Word(String),
        }
        match Repr::deserialize(deserializer)? {
            Repr::Flag(true) => Ok(FetchArticle::Always),
            Repr::Flag(false) => Ok(FetchArticle::Never),
            Repr::Word(word) => match word.as_str() {
                "auto" => Ok(FetchArticle::Auto),
                "always" => Ok(FetchArticle::Always),
                "never" => Ok(FetchArticle::Never),
                other => Err(serde::de::Error::custom(format!(
                    "fetch_article must be auto, always or never, not {other:?}"
                ))),
            },
        }
    }
}

/// Per-feed request options (`http:`): for the feed and for its article pages.
///
/// Secrets are never written in the feeds file (which is also published to the feeds topic):
/// cookie values and proxy credentials name an environment variable or a mounted file, read
/// when a request is made.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedHttp {
    /// `user_agent`: instead of the fetcher's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// `headers`: extra request headers, each a value or `{env: NAME}` / `{file: PATH}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, MaybeSecret>,
    /// `cookies`: cookie name to `{env: NAME}` or `{file: PATH}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cookies: BTreeMap<String, Secret>,
    /// `domains`: the hosts headers and cookies are sent to (each with its subdomains).
    /// Default: the feed's host without a leading `www.`. Requests to other hosts (an article
    /// page elsewhere, a redirect away) go without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
    /// `proxy`: an `http://` or `https://` proxy for every request of this feed, without
    /// credentials in it...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// `proxy_credentials`: ... which come from here, as `user:password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_credentials: Option<Secret>,
}

/// A secret's source: `{env: NAME}` or `{file: PATH}` (a trailing newline is dropped).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "SecretSource", into = "SecretSource")]
pub enum Secret {
    Env(String),
    File(PathBuf),
}

/// How a [`Secret`] is written: a map with one of `env` and `file`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<PathBuf>,
}

impl TryFrom<SecretSource> for Secret {
    type Error = String;
    fn try_from(source: SecretSource) -> Result<Self, String> {
        match (source.env, source.file) {
            (Some(name), None) if !name.is_empty() => Ok(Secret::Env(name)),
            (None, Some(path)) => Ok(Secret::File(path)),
            _ => Err("a secret is {env: NAME} or {file: PATH}".into()),
        }
    }
}

impl From<Secret> for SecretSource {
    fn from(secret: Secret) -> Self {
        match secret {
            Secret::Env(name) => SecretSource {
                env: Some(name),
                file: None,
            },
            Secret::File(path) => SecretSource {
                env: None,
                file: Some(path),
            },
        }
    }
}

impl Secret {
    /// Reads the secret now; the error names where it was looked for.
    pub fn read(&self) -> Result<String, String> {
        match self {
            Secret::Env(name) => std::env::var(name).map_err(|_| format!("environment variable {name} is not set")),
            Secret::File(path) => std::fs::read_to_string(path)
                .map(|text| text.trim_end_matches(['\n', '\r']).to_string())
                .map_err(|err| format!("cannot read {}: {err}", path.display())),
        }
    }
}

/// A header value: written in the file, or a [`Secret`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MaybeSecret {
    Plain(String),
    Secret(Secret),
}

impl MaybeSecret {
    pub fn read(&self) -> Result<String, String> {
        match self {
            MaybeSecret::Plain(text) => Ok(text.clone()),
            MaybeSecret::Secret(secret) => secret.read(),
        }
    }
}

/// Headers a feed may not set: the client sets them, or they have options of their own.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "cookie",
    "proxy-authorization",
    "if-none-match",
    "if-modified-since",
    "user-agent",
];

impl FeedHttp {
    /// What is wrong with these options, if anything.
    fn check(&self) -> Result<(), String> {
        for (name, value) in &self.headers {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(format!("http.headers: {name:?} is not a header name"));
            }
            if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(format!(
                    "http.headers: {name} cannot be set here (use user_agent, cookies or proxy_credentials)"
                ));
            }
            if let MaybeSecret::Plain(text) = value
                && reqwest::header::HeaderValue::from_str(text).is_err()
            {
                return Err(format!("http.headers: the value of {name} is not a valid header value"));
            }
        }
        for name in self.cookies.keys() {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
            {
                return Err(format!("http.cookies: {name:?} is not a cookie name"));
            }
        }
        if let Some(proxy) = &self.proxy {
            let url = url::Url::parse(proxy).map_err(|err| format!("http.proxy is not a URL: {err}"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err("http.proxy must be an http:// or https:// URL".into());
            }
            if !url.username().is_empty() || url.password().is_some() {
                return Err("http.proxy must not contain credentials: name them in proxy_credentials".into());
            }
        } else if self.proxy_credentials.is_some() {
            return Err("http.proxy_credentials without http.proxy".into());
        }
        if let Some(agent) = &self.user_agent
            && reqwest::header::HeaderValue::from_str(agent).is_err()
        {
            return Err("http.user_agent is not a valid header value".into());
        }
        Ok(())
    }
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

impl FeedEntry {
    /// A feed with every option at its default.
    pub fn new(url: impl Into<String>) -> FeedEntry {
        FeedEntry {
            url: url.into(),
            ..FeedEntry::default()
        }
    }
}

/// Whether `tag` is shaped as a BCP 47 language tag: `ru`, `zh-Hans`, `pt-BR`.
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or_default();
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
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
            if let Some(language) = &feed.language {
                if !is_language_tag(language) {
                    return Err(fail(
                        "the language must be a BCP 47 tag: a two- or three-letter code, then subtags (ru, uk, zh-Hans)",
                    ));
                }
            }
            feed.http.check().map_err(|message| fail(&message))?;
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
        assert_eq!(file.feeds[0].fetch_article, FetchArticle::Always);
        assert_eq!(file.feeds[1].name, None);
        assert_eq!(file.feeds[1].fetch_article, FetchArticle::Auto);
        assert_eq!(file.feeds[1].kind, SourceKind::Feed);
    }

    #[test]
    fn sources_and_http_options() {
        let file = FeedsFile::parse(
            "feeds:\n  - url: https://example.com/news-sitemap.xml\n    kind: sitemap\n    fetch_article: never\n  - url: https://paywalled.example/rss\n    http:\n      user_agent: Mozilla/5.0\n      headers:\n        Accept-Language: ru\n        X-Api-Key: {env: API_KEY}\n      cookies:\n        session: {file: /run/secrets/session}\n      proxy: http://proxy.internal:3128\n      proxy_credentials: {env: PROXY_AUTH}\n",
            "feeds.yaml",
        )
        .unwrap();
        assert_eq!(file.feeds[0].kind, SourceKind::Sitemap);
        assert_eq!(file.feeds[0].fetch_article, FetchArticle::Never);
        let http = &file.feeds[1].http;
        assert_eq!(http.headers["Accept-Language"], MaybeSecret::Plain("ru".into()));
        assert_eq!(
            http.headers["X-Api-Key"],
            MaybeSecret::Secret(Secret::Env("API_KEY".into()))
        );
        assert_eq!(http.cookies["session"], Secret::File("/run/secrets/session".into()));
        assert_eq!(http.proxy_credentials, Some(Secret::Env("PROXY_AUTH".into())));
        // The entry as published to the feeds topic names the secrets, never their values,
        // and reads back the same.
        let json = serde_json::to_string(&file.feeds[1]).unwrap();
        assert!(
            json.contains("PROXY_AUTH") && json.contains("/run/secrets/session"),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<FeedEntry>(&json).unwrap(), file.feeds[1]);
        let plain = serde_json::to_string(&FeedEntry::new("https://a.example/rss")).unwrap();
        assert_eq!(
            plain,
            r#"{"url":"https://a.example/rss","name":null,"min_interval_secs":null,"max_interval_secs":null,"tags":[]}"#
        );
    }

    #[test]
    fn secrets_are_read_from_the_environment_or_a_file() {
        let dir = std::env::temp_dir().join(format!("newswire-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cookie");
        std::fs::write(&path, "s3cret\n").unwrap();
        assert_eq!(Secret::File(path.clone()).read().unwrap(), "s3cret");
        let missing = Secret::Env("NEWSWIRE_TEST_SURELY_UNSET".into()).read().unwrap_err();
        assert!(missing.contains("NEWSWIRE_TEST_SURELY_UNSET"), "{missing}");
        let missing = Secret::File(dir.join("absent")).read().unwrap_err();
        assert!(missing.contains("absent"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
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
        let e = err("feeds:\n  - url: https://a.example/rss\n    language: russian\n");
        assert!(e.contains("feeds[0]") && e.contains("BCP 47"), "{e}");
        let ok = FeedsFile::parse("feeds:\n  - url: https://a.example/rss\n    language: zh-Hans\n", "f").unwrap();
        assert_eq!(ok.feeds[0].language.as_deref(), Some("zh-Hans"));
        let e = err("feeds:\n  - url: https://a.example/rss\n    fetch_article: sometimes\n");
        assert!(e.contains("sometimes"), "{e}");
        let e = err("feeds:\n  - url: https://a.example/rss\n    http:\n      proxy: http://user:pw@proxy:3128\n");
        assert!(e.contains("feeds[0]") && e.contains("proxy_credentials"), "{e}");
        let e = err("feeds:\n  - url: https://a.example/rss\n    http:\n      headers:\n        Cookie: a=b\n");
        assert!(e.contains("Cookie cannot be set"), "{e}");
        let e =
            err("feeds:\n  - url: https://a.example/rss\n    http:\n      cookies:\n        session: written-here\n");
        assert!(e.contains("feeds[0]"), "{e}");
        let e = err("feeds:\n  - url: https://a.example/rss\n    kind: podcast\n");
        assert!(e.contains("podcast"), "{e}");
        let e = err("feeds:\n  - name: no url\n");
        assert!(e.contains("url"), "{e}");
    }
}
