//! What the pipeline must emit for a set of feed documents, computed offline with the
//! stages' own functions: the exactly-once checks of the integration tests and of the fault
//! soak (`cargo run --release -p newswire --example soak`).

use std::collections::{HashMap, HashSet};

use record::EnrichedRecord;

/// Every cleaned article id with the deduper's content keys of its versions. An article may
/// be missing from the output only when another article with the same content came through
/// (the deduper drops exact copies, and which copy arrives first depends on timing).
#[derive(Debug, Default, Clone)]
pub struct Expected {
    pub ids: HashMap<String, HashSet<u64>>,
}

/// How a set of enriched records compares with the expectation.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Expected ids neither received nor covered by a received copy of their content.
    pub lost: Vec<String>,
    /// (id, revision) pairs received more than once, with how many extra copies.
    pub duplicated: Vec<(String, u32, usize)>,
    /// Ids received that no document yields.
    pub unexpected: Vec<String>,
    /// Contents counted twice (first revision, not a duplicate, same content).
    pub counted_twice: Vec<String>,
}

impl Comparison {
    pub fn is_exactly_once(&self) -> bool {
        self.lost.is_empty()
            && self.duplicated.is_empty()
            && self.unexpected.is_empty()
            && self.counted_twice.is_empty()
    }
}

impl Expected {
    /// The expectation for feed documents given as (URL served from, body).
    pub fn of_feeds(docs: &[(String, Vec<u8>)]) -> Expected {
        let mut expected = Expected::default();
        for (url, body) in docs {
            let entry = fetcher::FeedEntry::new(url.clone());
            let Ok(records) = fetcher::parse_feed(&entry, body, url, chrono::Utc::now()) else {
                continue;
            };
            for record in records {
                if let Ok(cleaned) = cleaner::clean(&record, chrono::Utc::now()) {
                    let key = deduper::fingerprint::content_key(&cleaned.article.title, &cleaned.article.text);
                    expected.ids.entry(cleaned.article.id).or_default().insert(key);
                }
            }
        }
        expected
    }

    /// Whether `records` cover every expected article: each id came through, or an article
    /// with the same content did.
    pub fn covered_by(&self, records: &[EnrichedRecord]) -> bool {
        self.missing(records).is_empty()
    }

    /// The expected ids neither received nor covered by a received copy of their content.
    pub fn missing(&self, records: &[EnrichedRecord]) -> Vec<String> {
        let ids: HashSet<&str> = records.iter().map(|r| r.article.id.as_str()).collect();
        let keys: HashSet<u64> = records
            .iter()
            .map(|r| deduper::fingerprint::content_key(&r.article.title, &r.article.text))
            .collect();
        let mut missing: Vec<String> = self
            .ids
            .iter()
            .filter(|(id, own)| !ids.contains(id.as_str()) && own.is_disjoint(&keys))
            .map(|(id, _)| id.clone())
            .collect();
        missing.sort();
        missing
    }

    /// Everything that is not exactly once in `records`.
    pub fn compare(&self, records: &[EnrichedRecord]) -> Comparison {
        let mut copies: HashMap<(&str, u32), usize> = HashMap::new();
        for r in records {
            *copies.entry((r.article.id.as_str(), r.story.revision)).or_default() += 1;
        }
        let mut duplicated: Vec<(String, u32, usize)> = copies
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|((id, revision), n)| (id.to_string(), revision, n - 1))
            .collect();
        duplicated.sort();
        let mut unexpected: Vec<String> = records
            .iter()
            .filter(|r| !self.ids.contains_key(&r.article.id))
            .map(|r| r.article.id.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        unexpected.sort();
        let mut counted = HashSet::new();
        let mut counted_twice = Vec::new();
        for r in records
            .iter()
            .filter(|r| r.story.revision == 1 && r.story.duplicate_of.is_none())
        {
            let key = deduper::fingerprint::content_key(&r.article.title, &r.article.text);
            if !counted.insert(key) {
                counted_twice.push(r.article.id.clone());
            }
        }
        Comparison {
            lost: self.missing(records),
            duplicated,
            unexpected,
            counted_twice,
        }
    }

    /// Panics, saying what is wrong, unless `records` hold every expected story exactly once.
    pub fn assert_exactly_once(&self, records: &[EnrichedRecord]) {
        let comparison = self.compare(records);
        assert!(comparison.is_exactly_once(), "not exactly once: {comparison:?}");
    }
}
