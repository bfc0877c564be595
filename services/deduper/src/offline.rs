//! The deduper without Kafka: decides on articles given as (url, title, text), in order.
//! Used by `newswire dedup` and by the evaluation.

use serde::Serialize;

use crate::index::{self, Index, Input, Settings, Verdict};

/// The deduper's decision on one article, in the form `newswire dedup` writes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfflineVerdict {
    /// The article id (from the canonical URL).
    pub id: String,
    /// The story cluster the article belongs to.
    pub story_id: String,
    /// The article this one duplicates (the same id for a repeat of the same URL).
    pub duplicate_of: Option<String>,
    /// The similarity to `duplicate_of` (1 for exact copies).
    pub similarity: Option<f64>,
    /// Whether the pipeline would drop this article or mark it as another's copy: true for
    /// exact and near duplicates, false for new stories and revisions.
    pub is_duplicate: bool,
    /// The revision of the article (1 for its first version).
    pub revision: u32,
    /// `new`, `revision`, `near` (by Jaccard), `contained` (a shorter text contained in a
    /// longer, or the longer containing it), `exact_url` or `exact_content`.
    pub kind: &'static str,
}

/// An [`Index`] driven by the wall clock.
#[derive(Debug)]
pub struct Offline {
    index: Index,
}

impl Offline {
    pub fn new(settings: Settings) -> Offline {
        Offline {
            index: Index::new(settings),
        }
    }

    /// The window.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The article id of a URL: from its normalised form, as the pipeline does, or from the
    /// text itself when it is not a URL.
    pub fn id_of(url: &str) -> String {
        record::normalize_url(url).map_or_else(|| record::article_id(url), |canonical| record::article_id(&canonical))
    }

    /// Decides on one article at the current time.
    pub fn check(&mut self, url: &str, title: &str, text: &str) -> OfflineVerdict {
        self.check_at(url, title, text, chrono::Utc::now().timestamp())
    }

    /// Decides on one article at `now` (Unix seconds).
    pub fn check_at(&mut self, url: &str, title: &str, text: &str, now: i64) -> OfflineVerdict {
        let id = Offline::id_of(url);
        let verdict = self.index.decide(Input {
            id: &id,
            title,
            text,
            now,
        });
        // The offline tool has nowhere to persist changes.
        self.index.take_changes();
        let s = index::id_string;
        let (story, duplicate_of, similarity, is_duplicate, revision, kind) = match verdict {
            Verdict::New => (id.clone(), None, None, false, 1, "new"),
            Verdict::Near {
                of,
                story,
                similarity,
                contained,
            } => (
                s(story),
                Some(s(of)),
                Some((similarity * 1000.0).round() / 1000.0),
                true,
                1,
                if contained { "contained" } else { "near" },
            ),
            Verdict::Revision {
                revision,
                story,
                duplicate_of,
                similarity,
            } => (s(story), duplicate_of.map(s), similarity, false, revision, "revision"),
            Verdict::ExactUrl { story } => (s(story), Some(id.clone()), Some(1.0), true, 1, "exact_url"),
            Verdict::ExactContent { of, story } => (s(story), Some(s(of)), Some(1.0), true, 1, "exact_content"),
        };
        OfflineVerdict {
            id,
            story_id: story,
            duplicate_of,
            similarity,
            is_duplicate,
            revision,
            kind,
        }
    }
}
