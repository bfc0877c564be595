//! Fetching feeds and pages over HTTP.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};

/// Why a fetch failed. The kinds label metrics; keep the set small.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("request failed: {0}")]
    Transport(String),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
}

impl FetchError {
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Transport(_) => "transport",
            FetchError::Status(_) => "status",
            FetchError::TooLarge(_) => "too_large",
        }
    }
}

/// What a conditional GET returned.
#[derive(Debug)]
pub enum Fetched {
    /// 304: the validators still hold.
    NotModified,
    /// A new body, with the validators to send next time.
    Body {
        body: Vec<u8>,
        final_url: String,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// An HTTP client with the fetcher's limits.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    max_body_bytes: usize,
}

impl HttpClient {
    pub fn new(user_agent: &str, timeout: Duration, max_body_bytes: usize) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()?;
        Ok(Self { client, max_body_bytes })
    }

    /// GETs `url`, conditionally when validators are given. The body is read up to the
    /// size limit (a decompression bomb or an endless body stops there).
    pub async fn get(&self, url: &str, etag: Option<&str>, last_modified: Option<&str>) -> Result<Fetched, FetchError> {
        let mut request = self.client.get(url);
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(last_modified) = last_modified {
            request = request.header(IF_MODIFIED_SINCE, last_modified);
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| FetchError::Transport(error_chain(&e)))?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let etag = header(ETAG);
        let last_modified = header(LAST_MODIFIED);
        let final_url = response.url().to_string();
        if response
            .content_length()
            .is_some_and(|len| len > self.max_body_bytes as u64)
        {
            return Err(FetchError::TooLarge(self.max_body_bytes));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| FetchError::Transport(error_chain(&e)))?
        {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(FetchError::TooLarge(self.max_body_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body {
            body,
            final_url,
            etag,
            last_modified,
        })
    }
}

/// The error and its causes on one line ("error sending request: connection refused").
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
