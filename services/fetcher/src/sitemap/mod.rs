//! News sitemaps as a source (`kind: sitemap`): the sitemaps.org protocol with Google's
//! `news:` extension. The entry's URL is a news sitemap, a sitemap index (its sitemaps are
//! followed, newest first, within limits) or a site's robots.txt (its `Sitemap:` lines are).
//! Documents may be gzip-compressed. The newest URLs become raw records like feed items; a
//! sitemap carries no text, so `fetch_article: auto` fetches their pages.

mod parse;

pub use parse::{
    MAX_ENTRIES, NewsInfo, SitemapDoc, SitemapError, SitemapRef, SitemapUrl, gunzip_if_needed, parse_sitemap,
    parse_w3c_date, robots_sitemaps,
};

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, Utc};
use record::{FeedRef, RawRecord, Record};

use crate::http::{Fetched, Kind, RequestOptions};
use crate::parse::{ParsedFeed, item_id, sane_date};
use crate::poll::PollContext;
use crate::{FeedEntry, metrics};

/// Documents one poll of a sitemap source reads at most, the first one included.
pub const MAX_DOCUMENTS: usize = 20;
/// How deep indexes are followed: robots.txt → index → sitemap.
pub const MAX_DEPTH: usize = 2;
/// The newest URLs that become records, at most, per poll.
pub const MAX_ITEMS: usize = 1_000;
/// Dated URLs older than this are left out: a news sitemap lists the last two days; a
/// general sitemap lists the whole site, and its old pages are not news.
pub const MAX_AGE_DAYS: i64 = 7;

/// Reads a sitemap source whose first document is `top`: follows indexes and robots.txt
/// within [`MAX_DOCUMENTS`] and [`MAX_DEPTH`], and makes records of the newest
/// [`MAX_ITEMS`] URLs. A sitemap named by the first document that cannot be fetched or read
/// is counted and logged, and the others go on; the first document itself must be usable.
pub(crate) async fn read(
    ctx: &PollContext,
    feed: &FeedEntry,
    options: &RequestOptions,
    top: &Fetched,
    now: DateTime<Utc>,
) -> Result<ParsedFeed, String> {
    let max_bytes = ctx.client.max_body_bytes();
    let documents = &metrics::get().sitemap_documents;
    let mut urls: Vec<SitemapUrl> = Vec::new();
    let mut queue: VecDeque<(String, usize)> = VecDeque::new();
    let mut visited: HashSet<String> = HashSet::from([top.final_url.clone()]);
    let (kind, children) = read_one(top, max_bytes, &mut urls).inspect_err(|_| {
        documents.with_label_values(&["unknown", "parse_error"]).inc();
    })?;
    documents.with_label_values(&[kind, "ok"]).inc();
    queue.extend(children.into_iter().map(|c| (c, 1)));
    let mut read_documents = 1;
    while let Some((url, depth)) = queue.pop_front() {
        if read_documents >= MAX_DOCUMENTS {
            tracing::info!(feed = %feed.url, left = queue.len() + 1, "Sitemap document budget spent; the rest waits for the next poll.");
            break;
        }
        if !visited.insert(url.clone()) {
            continue;
        }
        read_documents += 1;
        let fetched = match ctx.client.get_timed(&url, None, None, Kind::Sitemap, options).await.0 {
            Ok(fetched) => fetched,
            Err(err) => {
                documents.with_label_values(&["unknown", err.kind()]).inc();
                tracing::warn!(feed = %feed.url, sitemap = %url, outcome = err.kind(), error = %err, "Sitemap not fetched; the others go on.");
                continue;
            }
        };
        metrics::get().response_bytes.inc_by(fetched.body.len() as u64);
        match read_one(&fetched, max_bytes, &mut urls) {
            Ok((kind, children)) => {
                documents.with_label_values(&[kind, "ok"]).inc();
                if depth < MAX_DEPTH {
                    queue.extend(children.into_iter().map(|c| (c, depth + 1)));
                } else if !children.is_empty() {
                    tracing::warn!(feed = %feed.url, sitemap = %url, "Sitemap index nested too deep; not followed.");
                }
            }
            Err(err) => {
                documents.with_label_values(&["unknown", "parse_error"]).inc();
                tracing::warn!(feed = %feed.url, sitemap = %url, error = %err, "Sitemap not readable; the others go on.");
            }
        }
    }
    Ok(records(feed, urls, now))
}

/// Reads one document into `urls`; returns what it was (`robots`, `index`, `urlset`) and the
/// sitemaps it names, newest first.
fn read_one(
    fetched: &Fetched,
    max_bytes: usize,
    urls: &mut Vec<SitemapUrl>,
) -> Result<(&'static str, Vec<String>), String> {
    let body = gunzip_if_needed(&fetched.body, max_bytes).map_err(|e| e.to_string())?;
    let is_robots = url::Url::parse(&fetched.final_url).is_ok_and(|u| u.path() == "/robots.txt");
    if is_robots {
        let (text, _) = crate::decode(&body, fetched.content_type.as_deref());
        let named = robots_sitemaps(&text, &fetched.final_url);
        if named.is_empty() {
            return Err("robots.txt names no sitemap".into());
        }
        return Ok(("robots", named));
    }
    match parse_sitemap(&body, fetched.content_type.as_deref(), &fetched.final_url).map_err(|e| e.to_string())? {
        SitemapDoc::Index(mut refs) => {
            // Newest first (undated last), so that the budget goes to the sitemaps that change.
            refs.sort_by_key(|r| std::cmp::Reverse(r.lastmod));
            Ok(("index", refs.into_iter().map(|r| r.loc).collect()))
        }
        SitemapDoc::Urls(list) => {
            urls.extend(list);
            Ok(("urlset", Vec::new()))
        }
    }
}

/// The records for `urls`: one per URL, the newest first, old ones left out.
fn records(feed: &FeedEntry, urls: Vec<SitemapUrl>, now: DateTime<Utc>) -> ParsedFeed {
    let oldest = now - chrono::Duration::days(MAX_AGE_DAYS);
    let mut seen = HashSet::new();
    let mut dated: Vec<(Option<DateTime<Utc>>, SitemapUrl)> = urls
        .into_iter()
        .filter(|u| seen.insert(u.loc.clone()))
        .map(|u| {
            let date = u.news.as_ref().and_then(|n| n.publication_date).or(u.lastmod);
            (sane_date(date, now), u)
        })
        .filter(|(date, _)| date.is_none_or(|d| d >= oldest))
        .collect();
    dated.sort_by_key(|(date, _)| std::cmp::Reverse(*date));
    dated.truncate(MAX_ITEMS);
    let mut records = Vec::with_capacity(dated.len());
    let mut published = Vec::with_capacity(dated.len());
    for (date, url) in dated {
        let news = url.news.unwrap_or_default();
        let title = news.title.filter(|t| !t.trim().is_empty());
        records.push(RawRecord {
            schema_version: RawRecord::SCHEMA_VERSION,
            id: item_id(&feed.url, Some(&url.loc), "", title.as_deref(), None),
            feed: FeedRef {
                url: feed.url.clone(),
                name: feed.name.clone().or(news.publication_name),
                tags: feed.tags.clone(),
                language: feed.language.clone(),
            },
            guid: None,
            url: Some(url.loc),
            title,
            summary: None,
            content: None,
            authors: Vec::new(),
            categories: news.keywords,
            published_at: Some(date.unwrap_or(now)),
            updated_at: sane_date(url.lastmod, now).filter(|m| Some(*m) != date),
            language: feed.language.clone().or(news.language),
            lead_image: url.image,
            page: None,
            article_fetch: None,
            fetched_at: now,
        });
        published.push(date);
    }
    ParsedFeed {
        title: None,
        records,
        published,
        ttl: None,
        encoding: "UTF-8",
        hub: None,
        self_url: None,
    }
}
