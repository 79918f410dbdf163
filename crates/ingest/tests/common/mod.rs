//! Shared helpers of the integration tests: the hand-written fixture batch and copies of it.

#![allow(dead_code)]

use medfund_contract::schema::Table;
use medfund_ingest::{read_batch, Ingested, KnownKeys, Options, Quarantined};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A temporary copy of the valid fixture batch (all 15 tables as CSV).
pub fn good_batch() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixtures().join("good"), dir.path());
    dir
}

/// The valid batch with the files of `bad/<reason>/` put over it.
pub fn batch_with_bad(reason: &str) -> TempDir {
    let dir = good_batch();
    copy_dir(&fixtures().join("bad").join(reason), dir.path());
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

pub fn read(dir: &Path) -> Ingested {
    read_batch(dir, &Options::default()).unwrap()
}

/// (table, line, column) of every quarantined record.
pub fn where_(q: &[Quarantined]) -> Vec<(Table, u64, Option<&str>)> {
    q.iter()
        .map(|q| (q.table, q.line, q.column.as_deref()))
        .collect()
}

/// Checks `read = loaded + quarantined + duplicates` for every table.
pub fn assert_balanced(ing: &Ingested) {
    for (t, s) in &ing.stats {
        assert_eq!(
            s.read,
            s.loaded + s.quarantined + s.duplicates,
            "{t:?}: {s:?}"
        );
        let q = ing.quarantine.iter().filter(|q| q.table == *t).count() as u64;
        assert_eq!(q, s.quarantined, "{t:?}");
    }
}

/// A store that already holds person OLD-P, institution H99999900001, visit OLD-M, settlement
/// OLD-S and catalog code 003105050010000 from an earlier load.
pub struct Store;
impl KnownKeys for Store {
    fn has_psn(&self, p: &str) -> bool {
        p == "OLD-P"
    }
    fn has_fixmedins(&self, c: &str) -> bool {
        c == "H99999900001"
    }
    fn has_mdtrt(&self, m: &str) -> bool {
        m == "OLD-M"
    }
    fn has_setl(&self, s: &str) -> bool {
        s == "OLD-S"
    }
    fn has_catalog(&self, c: &str) -> bool {
        c == "003105050010000"
    }
}
