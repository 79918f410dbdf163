//! The compact key index of the claim tables.
//!
//! Every load that adds rows to a claim table writes one index file
//! `index/<table>/keys-<load_id>.bin` next to its Parquet files: the new rows' natural-key hashes
//! (128-bit XXH3), content hashes (64-bit XXH3) and month partitions, sorted by key hash.
//! XXH3 is a fixed, specified algorithm, so index files stay valid across builds and machines;
//! 128 bits keep accidental key collisions out of reach even at billions of rows.
//! A later load sorts its own rows by key hash and merges them against each index file in one
//! sequential pass, so deduplication across loads costs 28 bytes of disk per stored row and
//! memory only for the new batch, however large the store grows.

use crate::claims::{Canon, ClaimRecord};
use crate::StoreError;
use medfund_contract::YearMonth;
use rayon::prelude::*;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use twox_hash::{XxHash3_128, XxHash3_64};

const MAGIC: &[u8; 8] = b"MFKEYS02";
const ENTRY: usize = 28;

/// One row in the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub key: u128,
    pub content: u64,
    /// `year * 12 + month - 1`.
    pub month: i32,
}

pub(crate) fn month_index(m: YearMonth) -> i32 {
    m.year * 12 + m.month as i32 - 1
}

pub(crate) fn month_from_index(i: i32) -> YearMonth {
    YearMonth {
        year: i.div_euclid(12),
        month: (i.rem_euclid(12) + 1) as u32,
    }
}

/// Hash of a natural key given as its canonical bytes.
pub(crate) fn key_hash(bytes: &[u8]) -> u128 {
    XxHash3_128::oneshot(bytes)
}

fn content_hash(bytes: &[u8]) -> u64 {
    XxHash3_64::oneshot(bytes)
}

/// The key hash of a single-column key (`mdtrt_id`, `setl_id`) as the index stores it.
pub(crate) fn single_key_hash(v: &str) -> u128 {
    let mut c = Canon::default();
    c.0.extend_from_slice(&(v.len() as u32).to_le_bytes());
    c.0.extend_from_slice(v.as_bytes());
    key_hash(&c.0)
}

/// (key hash, content hash) of every row, in parallel.
pub(crate) fn hash_rows<R: ClaimRecord>(rows: &[R]) -> Vec<(u128, u64)> {
    rows.par_iter()
        .map_init(Canon::default, |c, r| {
            c.0.clear();
            r.key(c);
            let k = key_hash(&c.0);
            c.0.clear();
            r.content(c);
            (k, content_hash(&c.0))
        })
        .collect()
}

/// Writes entries (sorted here) to `path`, fsynced.
pub(crate) fn write_index(path: &Path, entries: &mut [Entry]) -> Result<u64, StoreError> {
    entries.par_sort_unstable_by_key(|e| e.key);
    let f = File::create(path).map_err(|e| StoreError::io(path, e))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let io = |e| StoreError::io(path, e);
    w.write_all(MAGIC).map_err(io)?;
    w.write_all(&(entries.len() as u64).to_le_bytes())
        .map_err(io)?;
    for e in entries.iter() {
        w.write_all(&e.key.to_le_bytes()).map_err(io)?;
        w.write_all(&e.content.to_le_bytes()).map_err(io)?;
        w.write_all(&e.month.to_le_bytes()).map_err(io)?;
    }
    let f = w
        .into_inner()
        .map_err(|e| StoreError::io(path, e.into_error()))?;
    f.sync_all().map_err(io)?;
    Ok(16 + (entries.len() * ENTRY) as u64)
}

/// Streams the entries of an index file in key order.
pub(crate) struct IndexReader {
    r: BufReader<File>,
    left: u64,
}

impl IndexReader {
    pub fn open(path: &Path) -> Result<IndexReader, StoreError> {
        let f = File::open(path).map_err(|e| StoreError::io(path, e))?;
        let mut r = BufReader::with_capacity(1 << 20, f);
        let mut head = [0u8; 16];
        r.read_exact(&mut head)
            .map_err(|e| StoreError::io(path, e))?;
        if &head[..8] != MAGIC {
            return Err(StoreError::Corrupt(format!(
                "键索引文件损坏 / key index file {} is not a medfund index",
                path.display()
            )));
        }
        let left = u64::from_le_bytes(head[8..16].try_into().expect("8 bytes"));
        Ok(IndexReader { r, left })
    }

    pub fn next_entry(&mut self) -> Result<Option<Entry>, std::io::Error> {
        if self.left == 0 {
            return Ok(None);
        }
        let mut b = [0u8; ENTRY];
        self.r.read_exact(&mut b)?;
        self.left -= 1;
        Ok(Some(Entry {
            key: u128::from_le_bytes(b[..16].try_into().expect("16")),
            content: u64::from_le_bytes(b[16..24].try_into().expect("8")),
            month: i32::from_le_bytes(b[24..28].try_into().expect("4")),
        }))
    }
}

/// What the store already holds under a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stored {
    pub content: u64,
    pub load_id: i64,
}

/// For `probe` (unique keys, sorted ascending), finds each key in the index files (one
/// sequential merge pass per file). `files` are `(load_id, path)`.
pub(crate) fn lookup(
    files: &[(i64, std::path::PathBuf)],
    probe: &[u128],
) -> Result<Vec<Option<Stored>>, StoreError> {
    debug_assert!(probe.windows(2).all(|w| w[0] < w[1]));
    let per_file: Vec<Vec<(usize, Stored)>> = files
        .par_iter()
        .map(
            |(load_id, path)| -> Result<Vec<(usize, Stored)>, StoreError> {
                let mut found = Vec::new();
                if probe.is_empty() {
                    return Ok(found);
                }
                let mut r = IndexReader::open(path)?;
                let mut j = 0usize;
                while let Some(e) = r.next_entry().map_err(|x| StoreError::io(path, x))? {
                    while j < probe.len() && probe[j] < e.key {
                        j += 1;
                    }
                    if j == probe.len() {
                        break;
                    }
                    if probe[j] == e.key {
                        found.push((
                            j,
                            Stored {
                                content: e.content,
                                load_id: *load_id,
                            },
                        ));
                    }
                }
                Ok(found)
            },
        )
        .collect::<Result<_, _>>()?;
    let mut out = vec![None; probe.len()];
    for f in per_file {
        for (j, s) in f {
            out[j] = Some(s);
        }
    }
    Ok(out)
}

/// Every key of a table (truncated to 64 bits, enough for membership of references) with its
/// month, sorted: the set behind "does this visit/settlement exist in an earlier load".
pub(crate) fn key_set(files: &[(i64, std::path::PathBuf)]) -> Result<Vec<(u64, i32)>, StoreError> {
    let mut all = Vec::new();
    for (_, path) in files {
        let mut r = IndexReader::open(path)?;
        all.reserve(r.left as usize);
        while let Some(e) = r.next_entry().map_err(|x| StoreError::io(path, x))? {
            all.push(((e.key >> 64) as u64, e.month));
        }
    }
    all.par_sort_unstable();
    all.dedup_by_key(|e| e.0);
    Ok(all)
}

/// The month of a key in a [`key_set`].
pub(crate) fn key_set_month(set: &[(u64, i32)], key: u128) -> Option<i32> {
    let k = (key >> 64) as u64;
    set.binary_search_by_key(&k, |e| e.0).ok().map(|i| set[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_round_trip_and_lookup() {
        let dir = tempfile::tempdir().unwrap();
        let p1 = dir.path().join("a.bin");
        let p2 = dir.path().join("b.bin");
        let mut a = vec![
            Entry {
                key: 30,
                content: 3,
                month: 5,
            },
            Entry {
                key: 10,
                content: 1,
                month: 5,
            },
        ];
        let mut b = vec![Entry {
            key: 20,
            content: 2,
            month: 7,
        }];
        assert_eq!(write_index(&p1, &mut a).unwrap(), 16 + 2 * 28);
        write_index(&p2, &mut b).unwrap();
        let files = vec![(1, p1.clone()), (2, p2)];
        let got = lookup(&files, &[5, 10, 20, 25, 30, 40]).unwrap();
        assert_eq!(
            got,
            vec![
                None,
                Some(Stored {
                    content: 1,
                    load_id: 1
                }),
                Some(Stored {
                    content: 2,
                    load_id: 2
                }),
                None,
                Some(Stored {
                    content: 3,
                    load_id: 1
                }),
                None
            ]
        );
        let mut r = IndexReader::open(&p1).unwrap();
        assert_eq!(r.next_entry().unwrap().unwrap().key, 10, "sorted on write");
        std::fs::write(&p1, b"garbage-garbage-garbage").unwrap();
        assert!(matches!(
            IndexReader::open(&p1),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn months_encode_both_ways() {
        let m = YearMonth::parse("2024-01").unwrap();
        assert_eq!(month_from_index(month_index(m)), m);
        assert_eq!(
            month_index(YearMonth::parse("2024-12").unwrap()) - month_index(m),
            11
        );
    }
}
