//! Feed documents to raw records.

use chrono::{DateTime, Utc};
use record::{FeedRef, RawRecord, Record};

use crate::FeedEntry;

/// A feed document that could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("not a feed: {0}")]
pub struct ParseError(String);

/// Parses a feed document (RSS, Atom or JSON Feed) into raw records, one per item, in the
/// feed's order. Relative links resolve against `base_url` (the URL the feed was served from)
/// and `xml:base`.
pub fn parse_feed(
    feed: &FeedEntry,
    body: &[u8],
    base_url: &str,
    fetched_at: DateTime<Utc>,
) -> Result<Vec<RawRecord>, ParseError> {
    let parsed = feed_rs::parser::Builder::new()
        .base_uri(Some(base_url))
        .build()
        .parse(body)
        .map_err(|err| ParseError(err.to_string()))?;
    let feed_ref = FeedRef {
        url: feed.url.clone(),
        name: feed
            .name
            .clone()
            .or_else(|| parsed.title.as_ref().map(|t| t.content.trim().to_string())),
        tags: feed.tags.clone(),
    };
    let language = parsed.language.clone();
    let records = parsed
        .entries
        .into_iter()
        .map(|entry| {
            let url = entry
                .links
                .iter()
                .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
                .or_else(|| entry.links.first())
                .map(|l| l.href.trim().to_string())
                .filter(|href| !href.is_empty());
            let title = entry.title.as_ref().map(|t| t.content.clone());
            let id = item_id(&feed.url, url.as_deref(), &entry.id, title.as_deref());
            let lead_image = entry.media.iter().find_map(|m| {
                m.content
                    .iter()
                    .filter(|c| c.content_type.as_ref().is_none_or(|t| t.ty() == "image"))
                    .find_map(|c| c.url.as_ref().map(|u| u.to_string()))
                    .or_else(|| m.thumbnails.first().map(|t| t.image.uri.clone()))
            });
            // A date in the future is a feed's mistake (or a time-zone one); keep it only
            // when it is within a day of now.
            let sane = |d: Option<DateTime<Utc>>| d.filter(|d| *d <= fetched_at + chrono::Duration::days(1));
            RawRecord {
                schema_version: RawRecord::SCHEMA_VERSION,
                id,
                feed: feed_ref.clone(),
                guid: Some(entry.id).filter(|g| !g.is_empty()),
                url,
                title,
                summary: entry.summary.map(|s| s.content),
                content: entry.content.and_then(|c| c.body),
                authors: entry
                    .authors
                    .into_iter()
                    .filter_map(|p| p.name)
                    .filter(|n| !n.trim().is_empty())
                    .collect(),
                categories: entry
                    .categories
                    .into_iter()
                    .map(|c| c.label.unwrap_or(c.term))
                    .filter(|c| !c.trim().is_empty())
                    .collect(),
                published_at: sane(entry.published.or(entry.updated)),
                updated_at: sane(entry.updated),
                language: entry.language.or_else(|| language.clone()),
                lead_image,
                page: None,
                fetched_at,
            }
        })
        .collect();
    Ok(records)
}

/// A stable identity for an item: its link when it has one (so that the same article has
/// the same id whichever feed carries it), else its guid within the feed, else its title
/// within the feed.
fn item_id(feed_url: &str, link: Option<&str>, guid: &str, title: Option<&str>) -> String {
    if let Some(canonical) = link.and_then(record::normalize_url) {
        return record::article_id(&canonical);
    }
    if !guid.is_empty() {
        return record::article_id(&format!("{feed_url}#guid:{guid}"));
    }
    record::article_id(&format!("{feed_url}#title:{}", title.unwrap_or_default()))
}
