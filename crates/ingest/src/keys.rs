//! Key indexes: the natural key of a table (`psn_no`, `mdtrt_id`, …) → the row that holds it.
//!
//! Ingestion needs them to check references, and the audit needs the same maps to tie fee lines
//! to their visits and visits to their persons. Building one serially for a province's month
//! (millions of visits) took longer than parsing the visit file, so the index is split into
//! shards by hash and the shards are filled in parallel; a lookup hashes once and probes one
//! shard. The index is built once by ingestion and handed to the audit in [`crate::Ingested`].

use ahash::RandomState;
use hashbrown::HashTable;
use medfund_contract::codes::same_text;
use medfund_contract::Code;
use rayon::prelude::*;

const SHARD_BITS: u32 = 6;
const SHARDS: usize = 1 << SHARD_BITS;

/// The shard of a hash. Bits 32.. are used because hashbrown takes the top 7 bits for its
/// control bytes and the low bits for the bucket, both of which must stay varied in a shard.
#[inline]
fn shard_of(h: u64) -> usize {
    ((h >> 32) as usize) & (SHARDS - 1)
}

fn hasher() -> RandomState {
    // Fixed seeds: the index is rebuilt per run, and a fixed layout keeps timings comparable.
    RandomState::with_seeds(0x6b65_7969, 0x6e64_6578, 0x6d65_6466, 0x756e_6421)
}

/// A read-only map from key to row index, for one table.
///
/// Claim extracts list fee lines, settlements and diagnoses in the order of their visits, so a
/// lookup can be given the row found for the previous line as a hint ([`KeyIndex::get_near`]):
/// the same row or the next one is checked first, in memory order, before the hash probe.
///
/// ```
/// use medfund_ingest::KeyIndex;
/// let ix = KeyIndex::build(&["MD1", "MD2", "MD1"]);
/// assert_eq!(ix.get("MD2"), Some(1));
/// assert_eq!(ix.get("MD1"), Some(0)); // the first row of a repeated key
/// assert_eq!(ix.get_near("MD2", 0), Some(1));
/// assert_eq!(ix.get_near("MD1", 1), Some(0)); // not row 2: a repeated key is never found
/// assert!(!ix.contains("MD3"));
/// assert_eq!(ix.len(), 2);
/// ```
#[derive(Clone)]
pub struct KeyIndex {
    /// Row index per hash shard; the key itself is `keys[row]`.
    shards: Vec<HashTable<u32>>,
    /// The key of every row; rows repeating an earlier key hold [`SHADOWED`] instead.
    keys: Vec<Code>,
    hasher: RandomState,
    len: usize,
}

/// Stands in for the key of a row that repeats an earlier row's key, so that only the first row
/// is ever found. Contract codes cannot hold a NUL character.
const SHADOWED: &str = "\0";

impl Default for KeyIndex {
    fn default() -> Self {
        KeyIndex {
            shards: (0..SHARDS).map(|_| HashTable::new()).collect(),
            keys: Vec::new(),
            hasher: hasher(),
            len: 0,
        }
    }
}

impl std::fmt::Debug for KeyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyIndex({} keys)", self.len)
    }
}

impl KeyIndex {
    /// Indexes `keys[i]` → `i`. When a key repeats, the first row wins.
    pub fn build<K: AsRef<str> + Sync>(keys: &[K]) -> KeyIndex {
        Self::build_by(keys, |k| k.as_ref())
    }

    /// Indexes `key(&rows[i])` → `i`, for rows of any type. When a key repeats, the first row
    /// wins.
    pub fn build_by<T: Sync>(rows: &[T], key: impl Fn(&T) -> &str + Sync) -> KeyIndex {
        Self::build_inner(rows, key, false)
    }

    /// [`KeyIndex::build_by`] for rows whose keys are already known to be distinct (a table
    /// after ingestion's dedupe): no key is compared while the index is built. With repeated
    /// keys, which of their rows a lookup finds is unspecified.
    pub(crate) fn build_distinct_by<T: Sync>(
        rows: &[T],
        key: impl Fn(&T) -> &str + Sync,
    ) -> KeyIndex {
        Self::build_inner(rows, key, true)
    }

    fn build_inner<T: Sync>(
        rows: &[T],
        key: impl Fn(&T) -> &str + Sync,
        distinct: bool,
    ) -> KeyIndex {
        let hasher = hasher();
        // Written in place, chunk by chunk: an `unzip` would gather per-thread lists and copy
        // them again, into fresh memory, for millions of keys.
        let mut hashes: Vec<u64> = Vec::with_capacity(rows.len());
        let mut keys: Vec<Code> = Vec::with_capacity(rows.len());
        const BLOCK: usize = 16_384;
        hashes.spare_capacity_mut()[..rows.len()]
            .par_chunks_mut(BLOCK)
            .zip(keys.spare_capacity_mut()[..rows.len()].par_chunks_mut(BLOCK))
            .zip(rows.par_chunks(BLOCK))
            .for_each(|((h, k), rs)| {
                for ((h, k), r) in h.iter_mut().zip(k.iter_mut()).zip(rs) {
                    let key = key(r);
                    h.write(hasher.hash_one(key));
                    k.write(Code::from(key));
                }
            });
        // SAFETY: every slot below `rows.len()` was written just above (the chunks of both
        // spare areas pair up with the chunks of `rows`, which cover it exactly).
        unsafe {
            hashes.set_len(rows.len());
            keys.set_len(rows.len());
        }
        // Counting sort of the rows by shard, keeping row order inside a shard so that the
        // first row of a repeated key is met first. Each entry carries its hash, so a shard
        // reads its entries in order instead of jumping about the hash vector.
        let mut start = [0usize; SHARDS + 1];
        for &h in &hashes {
            start[shard_of(h) + 1] += 1;
        }
        for s in 0..SHARDS {
            start[s + 1] += start[s];
        }
        let mut pos = start;
        let mut members = vec![(0u64, 0u32); rows.len()];
        for (i, &h) in hashes.iter().enumerate() {
            let s = shard_of(h);
            members[pos[s]] = (h, i as u32);
            pos[s] += 1;
        }
        drop(hashes);
        let keys_ref = &keys;
        let built: Vec<(HashTable<u32>, Vec<u32>)> = (0..SHARDS)
            .into_par_iter()
            .map(|s| {
                let own = &members[start[s]..start[s + 1]];
                let mut t = HashTable::with_capacity(own.len());
                let mut shadowed = Vec::new();
                // The table never grows past its capacity, so the rehash callback never runs.
                let rehash = |_: &u32| -> u64 { unreachable!("sized for every entry") };
                for &(h, i) in own {
                    if distinct {
                        t.insert_unique(h, i, rehash);
                        continue;
                    }
                    let k = keys_ref[i as usize].as_str();
                    if t.find(h, |&r: &u32| keys_ref[r as usize] == k).is_some() {
                        shadowed.push(i);
                    } else {
                        t.insert_unique(h, i, rehash);
                    }
                }
                (t, shadowed)
            })
            .collect();
        let mut shards = Vec::with_capacity(SHARDS);
        let mut len = 0;
        for (t, shadowed) in built {
            len += t.len();
            for i in shadowed {
                keys[i as usize] = Code::from(SHADOWED);
            }
            shards.push(t);
        }
        KeyIndex {
            shards,
            keys,
            hasher,
            len,
        }
    }

    /// The row holding `key`.
    #[inline]
    pub fn get(&self, key: &str) -> Option<u32> {
        let h = self.hasher.hash_one(key);
        self.shards[shard_of(h)]
            .find(h, |&r| same_text(&self.keys[r as usize], key))
            .copied()
    }

    /// The row holding `key`, trying row `hint` and the row after it first (give the row found
    /// for the previous record of a file ordered like this table).
    #[inline]
    pub fn get_near(&self, key: &str, hint: u32) -> Option<u32> {
        let h = hint as usize;
        for r in [h, h.wrapping_add(1)] {
            if self.keys.get(r).is_some_and(|k| same_text(k, key)) {
                return Some(r as u32);
            }
        }
        self.get(key)
    }

    /// Whether some row holds `key`.
    #[inline]
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no key is indexed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The key indexes of a batch's referenced tables; row numbers point into the
/// [`medfund_contract::Batch`] they were built with.
#[derive(Clone, Debug, Default)]
pub struct BatchKeys {
    /// `psn.psn_no` → row of `batch.psn`.
    pub psn: KeyIndex,
    /// `fixmedins.fixmedins_code` → row of `batch.fixmedins`.
    pub fixmedins: KeyIndex,
    /// `mdtrt.mdtrt_id` → row of `batch.mdtrt`.
    pub mdtrt: KeyIndex,
    /// `setl.setl_id` → row of `batch.setl`.
    pub setl: KeyIndex,
    /// `catalog.med_list_codg` → row of `batch.catalog`.
    pub catalog: KeyIndex,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_keys_first_wins() {
        let keys: Vec<String> = (0..50_000).map(|i| format!("K{}", i % 40_000)).collect();
        let ix = KeyIndex::build(&keys);
        assert_eq!(ix.len(), 40_000);
        assert_eq!(ix.get("K39999"), Some(39_999));
        assert_eq!(ix.get("K5"), Some(5));
        assert_eq!(ix.get("K40000"), None);
        assert!(KeyIndex::default().is_empty());
        // The same keys without repeats, built as known distinct: the same answers.
        let distinct = KeyIndex::build_distinct_by(&keys[..40_000], |k| k.as_str());
        assert_eq!(distinct.len(), 40_000);
        assert_eq!(distinct.get("K39999"), Some(39_999));
        assert_eq!(distinct.get_near("K6", 5), Some(6));
        assert_eq!(distinct.get("K40000"), None);
        assert!(KeyIndex::build_distinct_by(&[] as &[&str], |k| k).is_empty());
        assert_eq!(KeyIndex::default().get("K5"), None);
    }
}
