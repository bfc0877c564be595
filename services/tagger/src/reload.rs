//! Hot reload: the taxonomy file (and the gazetteers it names) are read again when their
//! content changes, e.g. after a ConfigMap update, without a restart. An invalid new version
//! is rejected with an error and the taxonomy in force stays.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use crate::metrics::TaggerMetrics;
use crate::taxonomy::{Taxonomy, TaxonomyError};

/// The taxonomy in force, shared between the stage and the reloader.
#[derive(Debug, Clone)]
pub struct SharedTaxonomy(Arc<RwLock<Arc<Taxonomy>>>);

impl SharedTaxonomy {
    pub fn new(taxonomy: Taxonomy) -> Self {
        TaggerMetrics::get().topics.set(taxonomy.len() as i64);
        Self(Arc::new(RwLock::new(Arc::new(taxonomy))))
    }

    /// The taxonomy in force now.
    pub fn current(&self) -> Arc<Taxonomy> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn replace(&self, taxonomy: Taxonomy) {
        TaggerMetrics::get().topics.set(taxonomy.len() as i64);
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(taxonomy);
    }
}

/// What one check of the files found.
#[derive(Debug)]
pub enum ReloadOutcome {
    /// Nothing changed (or the change was already rejected).
    Unchanged,
    /// A new taxonomy is in force, with this many topics.
    Reloaded(usize),
    /// The files changed but do not compile; the old taxonomy stays.
    Invalid(TaxonomyError),
}

/// Watches a taxonomy file and swaps in new versions.
#[derive(Debug)]
pub struct Reloader {
    path: PathBuf,
    shared: SharedTaxonomy,
    /// A hash of the content of every file last looked at.
    seen: Option<u64>,
}

impl Reloader {
    /// A reloader for `path`, whose current version is in `shared`.
    pub fn new(path: &Path, shared: SharedTaxonomy) -> Self {
        let mut reloader = Self {
            path: path.to_path_buf(),
            shared,
            seen: None,
        };
        reloader.seen = reloader.fingerprint();
        reloader
    }

    /// Hashes the taxonomy file and the gazetteers the taxonomy in force names (a new
    /// taxonomy that names other gazetteers changes the taxonomy file itself).
    fn fingerprint(&self) -> Option<u64> {
        let mut hasher = DefaultHasher::new();
        let current = self.shared.current();
        let mut files = vec![self.path.clone()];
        files.extend(current.files().iter().skip(1).cloned());
        for file in files {
            std::fs::read(&file).ok()?.hash(&mut hasher);
        }
        Some(hasher.finish())
    }

    /// Reads the files again if their content changed: `None` when unchanged (or when this
    /// version was already rejected), else the new taxonomy or why it is invalid (counted and
    /// logged here). Call [`Reloader::install`] to put a new taxonomy in force.
    pub fn changed(&mut self) -> Option<Result<Taxonomy, TaxonomyError>> {
        let now = self.fingerprint();
        if now == self.seen {
            return None;
        }
        // Remember what was looked at, so a rejected version is reported once, not on
        // every check.
        self.seen = now;
        match Taxonomy::load(&self.path) {
            Ok(taxonomy) => Some(Ok(taxonomy)),
            Err(err) => {
                TaggerMetrics::get().reloads.with_label_values(&["invalid"]).inc();
                tracing::error!(
                    file = %self.path.display(),
                    error = %err,
                    "Taxonomy change rejected; the previous taxonomy stays in force."
                );
                Some(Err(err))
            }
        }
    }

    /// Puts a taxonomy from [`Reloader::changed`] in force.
    pub fn install(&mut self, taxonomy: Taxonomy) -> usize {
        let topics = taxonomy.len();
        self.shared.replace(taxonomy);
        // The new taxonomy may name other gazetteers.
        self.seen = self.fingerprint();
        TaggerMetrics::get().reloads.with_label_values(&["ok"]).inc();
        tracing::info!(file = %self.path.display(), topics, "Taxonomy reloaded.");
        topics
    }

    /// Forgets the version last looked at, so that the next [`Reloader::changed`] reads the
    /// files again (after a new version could not be put in force for a passing reason).
    pub fn retry_later(&mut self) {
        self.seen = None;
    }

    /// Checks the files once and puts a valid new version in force.
    pub fn check(&mut self) -> ReloadOutcome {
        match self.changed() {
            None => ReloadOutcome::Unchanged,
            Some(Ok(taxonomy)) => ReloadOutcome::Reloaded(self.install(taxonomy)),
            Some(Err(err)) => ReloadOutcome::Invalid(err),
        }
    }
}
