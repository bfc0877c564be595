//! The embedded store that keeps stage state in standalone mode: one redb file under the
//! data directory, one table per stage, written in one ACID transaction per batch.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

/// A failure of the embedded store, with the file it concerns.
#[derive(Debug, thiserror::Error)]
#[error("state store {path}: {cause}")]
pub struct StoreError {
    path: String,
    /// In the message, not the error's source: the cause is said once.
    cause: redb::Error,
}

/// One stored key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Key/value changes to one table: a value, or `None` to delete the key.
pub type TableChanges = (&'static str, Vec<(Vec<u8>, Option<Vec<u8>>)>);

/// The state file, `<data dir>/state.redb`.
pub struct Store {
    db: Database,
    path: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the store in `dir`, creating the directory if needed.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.join("state.redb");
        let path_text = path.display().to_string();
        let err = |cause: redb::Error| StoreError {
            path: path_text.clone(),
            cause,
        };
        std::fs::create_dir_all(dir).map_err(|e| err(redb::StorageError::Io(e).into()))?;
        let db = Database::create(&path).map_err(|e| err(e.into()))?;
        Ok(Store { db, path: path_text })
    }

    fn err(&self, cause: impl Into<redb::Error>) -> StoreError {
        StoreError {
            path: self.path.clone(),
            cause: cause.into(),
        }
    }

    /// Every entry of `table`, in key order (empty if the table was never written).
    pub fn load(&self, table: &str) -> Result<Vec<Entry>, StoreError> {
        let definition: TableDefinition<&[u8], &[u8]> = TableDefinition::new(table);
        let read = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = match read.open_table(definition) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(self.err(e)),
        };
        let mut entries = Vec::new();
        for entry in table.iter().map_err(|e| self.err(e))? {
            let (key, value) = entry.map_err(|e| self.err(e))?;
            entries.push((key.value().to_vec(), value.value().to_vec()));
        }
        Ok(entries)
    }

    /// Applies the changes to all tables in one durable transaction: all or nothing.
    pub fn apply(&self, changes: &[TableChanges]) -> Result<(), StoreError> {
        if changes.iter().all(|(_, c)| c.is_empty()) {
            return Ok(());
        }
        let write = self.db.begin_write().map_err(|e| self.err(e))?;
        for (table, entries) in changes {
            let definition: TableDefinition<&[u8], &[u8]> = TableDefinition::new(table);
            let mut table = write.open_table(definition).map_err(|e| self.err(e))?;
            for (key, value) in entries {
                match value {
                    Some(value) => table.insert(key.as_slice(), value.as_slice()).map(drop),
                    None => table.remove(key.as_slice()).map(drop),
                }
                .map_err(|e| self.err(e))?;
            }
        }
        write.commit().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            assert!(store.load("fetcher").unwrap().is_empty());
            store
                .apply(&[
                    (
                        "fetcher",
                        vec![
                            (b"a".to_vec(), Some(b"1".to_vec())),
                            (b"b".to_vec(), Some(b"2".to_vec())),
                        ],
                    ),
                    ("deduper", vec![(b"x".to_vec(), Some(b"9".to_vec()))]),
                ])
                .unwrap();
            store.apply(&[("fetcher", vec![(b"a".to_vec(), None)])]).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.load("fetcher").unwrap(), vec![(b"b".to_vec(), b"2".to_vec())]);
        assert_eq!(store.load("deduper").unwrap(), vec![(b"x".to_vec(), b"9".to_vec())]);
    }
}
