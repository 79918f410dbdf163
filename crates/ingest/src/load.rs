//! The format-independent half of ingestion: turning field rows into records (in parallel chunks),
//! then folding the chunks into a table in file order, dropping exact duplicates and refusing
//! conflicting ones.

use crate::fields::{Layout, Problem, Row};
use crate::tables::{Record, RefCache, Refs};
use crate::FeeLine;
use crate::{
    csvfast, pq, BatchError, BatchKeys, Format, Ingested, KnownKeys, Options, Quarantined,
    SourceFile, TableStats,
};
use ahash::RandomState;
use medfund_contract::records::*;
use medfund_contract::schema::Table;
use medfund_contract::Batch;
use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What a chunk parser needs to know about the table and the file.
pub(crate) struct Env<'e, 'k> {
    pub table: Table,
    pub file: &'e Path,
    pub refs: &'e Refs<'k>,
    pub hasher: &'e RandomState,
    /// Whether to compute the file's SHA-256.
    pub digests: bool,
    /// The tables read so far (compact fee lines point at their rows).
    pub batch: &'e Batch,
}

/// Where a record came from inside the text (or row batch) the chunk was cut from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
    /// Line (or row) relative to the chunk's first line, 0-based.
    pub line: u64,
}

/// The records and refusals of one chunk.
pub(crate) struct ChunkOut<R> {
    pub rows: Vec<R>,
    /// Key hashes of `rows`, computed only when the table needs its dedupe maps.
    pub hashes: Vec<u64>,
    pub spans: Vec<Span>,
    /// Line numbers relative to the chunk until [`Sink::absorb`] adds the chunk's base.
    pub quarantine: Vec<Quarantined>,
    pub read: u64,
    /// Physical lines the chunk covers (to number the next chunk).
    pub lines: u64,
    pub unknown_catalog: u64,
    cache: RefCache,
    order: Order,
}

/// Longest run of records sharing their first key column that is checked pairwise; a longer run
/// out of key order sends the table to the dedupe maps.
const RUN_CAP: usize = 256;

/// What a chunk's order shows about its keys.
///
/// Extracts are grouped by their first key column (a visit's lines, diagnoses, a person's
/// verifications) and usually sorted by the whole key; where a group is not sorted it only has
/// to hold distinct keys, which a short pairwise check shows. Either way no key can repeat and
/// there is nothing to dedupe.
#[derive(Clone, Copy, Debug)]
struct Order {
    /// The rows' keys are distinct and grouped in order of their first column.
    distinct: bool,
    /// Where the last group (rows sharing the last row's first key column) starts.
    run_start: usize,
    /// Whether the last group's keys are strictly increasing.
    run_sorted: bool,
    /// Whether the first group's keys are strictly increasing, once a second group began.
    head_sorted: Option<bool>,
}

impl Default for Order {
    fn default() -> Self {
        Order {
            distinct: true,
            run_start: 0,
            run_sorted: true,
            head_sorted: None,
        }
    }
}

impl Order {
    /// Takes `r`, about to follow `rows`.
    fn push<R: Record>(&mut self, rows: &[R], r: &R) {
        use std::cmp::Ordering::*;
        if !self.distinct {
            return;
        }
        let Some(p) = rows.last() else {
            return;
        };
        match p.prefix_cmp(r) {
            Less => {
                self.head_sorted.get_or_insert(self.run_sorted);
                self.run_start = rows.len();
                self.run_sorted = true;
            }
            Greater => self.distinct = false,
            Equal => {
                if p.rest_before(r) && self.run_sorted {
                    return;
                }
                self.run_sorted = false;
                let run = &rows[self.run_start..];
                self.distinct = run.len() < RUN_CAP && !run.iter().any(|q| q.same_key(r));
            }
        }
    }

    /// Whether the first group is strictly increasing.
    fn head_sorted(&self) -> bool {
        self.head_sorted.unwrap_or(self.run_sorted)
    }
}

impl<R: Record> ChunkOut<R> {
    pub fn with_capacity(n: usize) -> Self {
        ChunkOut {
            rows: Vec::with_capacity(n),
            hashes: Vec::with_capacity(n),
            spans: Vec::with_capacity(n),
            quarantine: Vec::new(),
            read: 0,
            lines: 0,
            unknown_catalog: 0,
            cache: RefCache::default(),
            order: Order::default(),
        }
    }

    /// Refuses a record that could not even be split into fields (CSV structure, JSON syntax).
    pub fn refuse(&mut self, env: &Env, line: u64, p: Problem, raw: String) {
        self.read += 1;
        self.push_quarantine(env, line, p, raw);
    }

    fn push_quarantine(&mut self, env: &Env, line: u64, p: Problem, raw: String) {
        self.quarantine.push(Quarantined {
            table: env.table,
            file: env.file.to_path_buf(),
            line,
            column: p.column.map(str::to_string),
            reason_zh: p.zh,
            reason_en: p.en,
            raw,
        });
    }

    /// Validates one record given as fields and keeps or refuses it.
    #[inline]
    pub fn record(
        &mut self,
        env: &Env,
        row: &Row,
        layout: &Layout,
        span: Span,
        raw: impl FnOnce() -> String,
    ) {
        self.read += 1;
        if let Some(p) = &layout.missing {
            self.push_quarantine(env, span.line, p.clone(), raw());
            return;
        }
        let r = match R::parse_in(row, self.rows.last(), env) {
            Ok(r) => r,
            Err(p) => return self.push_quarantine(env, span.line, p, raw()),
        };
        if env.refs.check {
            if let Err(p) = r.check_refs(env.refs, &mut self.cache) {
                return self.push_quarantine(env, span.line, p, raw());
            }
        }
        if r.unknown_catalog(env.refs) {
            self.unknown_catalog += 1;
        }
        self.order.push(&self.rows, &r);
        self.rows.push(r);
        self.spans.push(span);
    }
}

/// Identity hasher for keys that are already hashes.
#[derive(Default)]
pub(crate) struct IdHasher(u64);
impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Number of independent dedupe shards (worked on in parallel).
const SHARDS: usize = 64;

/// The shard of a key hash. Bits 32..38 are used because the hash map itself uses the top bits
/// (control bytes) and the low bits (bucket index), which must stay varied inside a shard.
#[inline]
fn shard_of(h: u64) -> usize {
    ((h >> 32) as usize) & (SHARDS - 1)
}

/// The first record of every key whose hash falls in this shard.
#[derive(Default)]
struct Shard {
    /// Key hash → ordinal (position among all records offered to the table) of the first record
    /// with that key.
    first: IdMap<u32>,
    /// Further records whose different keys share a 64-bit hash (practically never used).
    collisions: IdMap<Vec<u32>>,
}

/// Recycled chunk buffers: the record vectors of a chunk are tens of megabytes, and fresh ones
/// would be page-faulted in again for every block.
pub(crate) struct Pool<R>(Mutex<Vec<ChunkOut<R>>>);

impl<R: Record> Pool<R> {
    /// A cleared chunk output with room for about `n` records.
    pub fn take(&self, n: usize) -> ChunkOut<R> {
        let got = self.0.lock().ok().and_then(|mut v| v.pop());
        match got {
            Some(mut o) => {
                o.rows.reserve(n);
                o.hashes.reserve(n);
                o.spans.reserve(n);
                o
            }
            None => ChunkOut::with_capacity(n),
        }
    }

    fn give(&self, mut o: ChunkOut<R>) {
        o.rows.clear();
        o.hashes.clear();
        o.spans.clear();
        o.quarantine.clear();
        o.read = 0;
        o.lines = 0;
        o.unknown_catalog = 0;
        o.cache = RefCache::default();
        o.order = Order::default();
        if let Ok(mut v) = self.0.lock() {
            v.push(o);
        }
    }
}

/// One table being assembled from its files.
pub(crate) struct Sink<R> {
    pub rows: Vec<R>,
    /// Ordinal of every record offered (kept or not) → its index in `rows` (`u32::MAX` if dropped).
    ord_to_row: Vec<u32>,
    /// The 1-based line (row for Parquet) of each kept record, and where each file's records
    /// start, so later stages can still name a row's file and line.
    pub lines: Vec<u32>,
    pub files: Vec<(u32, PathBuf)>,
    shards: Vec<Shard>,
    pub stats: TableStats,
    pub quarantine: Vec<Quarantined>,
    pub unknown_catalog: u64,
    /// Shared with the parse of the next block while this one is absorbed.
    pub pool: std::sync::Arc<Pool<R>>,
    /// Every key so far was distinct, shown by the file order alone (see [`Sink::absorb`]), so
    /// the dedupe maps are not filled yet and `ord_to_row` is empty (ordinal = row).
    by_order: bool,
    /// Records the file is expected to hold (from its size), to size the maps if they are needed
    /// (never when compact).
    expected: usize,
    /// Hold the table as [`FeeLine`]s: each block's records go into `compacted` in compact form
    /// and `rows` keeps copies of the last few, which the next block's order check looks back at
    /// ([`Sink::keep_all_compact`]).
    pub compact: bool,
    pub compacted: Vec<FeeLine>,
    /// The file order stopped proving the keys distinct while compact: the table must be read
    /// again as records (dedupe needs every earlier record).
    pub compact_failed: bool,
    /// Whether the last group of rows so far (sharing their first key column) is strictly
    /// increasing.
    tail_sorted: bool,
}

impl<R: Record> Sink<R> {
    pub fn new() -> Self {
        Sink {
            rows: Vec::new(),
            ord_to_row: Vec::new(),
            lines: Vec::new(),
            files: Vec::new(),
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            stats: TableStats::default(),
            quarantine: Vec::new(),
            unknown_catalog: 0,
            pool: std::sync::Arc::new(Pool(Mutex::new(Vec::new()))),
            by_order: true,
            expected: 0,
            compact: false,
            compacted: Vec::new(),
            compact_failed: false,
            tail_sorted: true,
        }
    }

    /// Reserves room for about `n` more records (estimated from the file size).
    ///
    /// The dedupe maps and the ordinal table are sized only when file order stops proving the
    /// keys distinct ([`Sink::fill_maps`]): most extracts never need them.
    pub fn reserve(&mut self, n: usize) {
        if self.compact {
            crate::prefault::reserve_mapped(&mut self.compacted, n);
        } else {
            crate::prefault::reserve_mapped(&mut self.rows, n);
            self.expected = self.rows.len() + n;
        }
    }

    /// Adds a block's chunks in file order. `bases[c]` is the 1-based line of chunk `c`'s first
    /// line; `raw(c, span)` gives back the original text of a record (to quarantine a conflicting
    /// duplicate).
    ///
    /// Dedupe runs in parallel over hash shards, each seeing its records in file order, so the
    /// first record of a key is kept whatever the thread timing. The kept records are then moved
    /// into `rows` in parallel, each chunk into its own slice of the spare capacity.
    ///
    /// Extracts are usually sorted by their key (serial numbers, visit ids), or at least grouped
    /// by its first column with distinct keys in each group. While that holds there is nothing to
    /// dedupe, so the maps are left empty and no key is hashed; the first block that breaks it
    /// fills them for the records before it and dedupe goes on as usual. The result is the same
    /// either way.
    pub fn absorb(
        &mut self,
        mut outs: Vec<ChunkOut<R>>,
        env: &Env,
        bases: &[u64],
        raw: &(dyn Fn(usize, Span) -> String + Sync),
    ) {
        if self.compact_failed {
            // The table is read again as records; the rest of this file only costs the parse.
            for o in outs {
                self.pool.give(o);
            }
            return;
        }
        for (o, &base) in outs.iter_mut().zip(bases) {
            self.stats.read += o.read;
            self.stats.quarantined += o.quarantine.len() as u64;
            self.unknown_catalog += o.unknown_catalog;
            self.quarantine.extend(o.quarantine.drain(..).map(|mut q| {
                q.line += base;
                q
            }));
        }
        // Block-local ordinals: chunk c's records are starts[c]..starts[c + 1].
        let mut starts = Vec::with_capacity(outs.len() + 1);
        let mut total = 0usize;
        for o in &outs {
            starts.push(total);
            total += o.rows.len();
        }
        starts.push(total);
        let locate = |k: usize| -> (usize, usize) {
            let c = starts.partition_point(|&s| s <= k) - 1;
            (c, k - starts[c])
        };
        if self.by_order {
            if self.block_keeps_order(&outs) {
                for (o, &base) in outs.iter().zip(bases) {
                    self.lines
                        .extend(o.spans.iter().map(|sp| line32(base + sp.line)));
                }
                if self.compact {
                    self.keep_all_compact(outs, total);
                } else {
                    self.keep_all(outs, total);
                }
                return;
            }
            if self.compact {
                self.compact_failed = true;
                return;
            }
            self.by_order = false;
            self.fill_maps(env.hasher);
        }
        outs.par_iter_mut().for_each(|o| {
            o.hashes.clear();
            o.hashes
                .extend(o.rows.iter().map(|r| r.key_hash(env.hasher)));
        });
        let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); SHARDS];
        for (c, o) in outs.iter().enumerate() {
            for (i, &h) in o.hashes.iter().enumerate() {
                buckets[shard_of(h)].push((starts[c] + i) as u32);
            }
        }

        // 1. Decide, per shard in parallel: (ordinal, is exact duplicate) for refused records.
        let block_ord = self.ord_to_row.len();
        let rows = &self.rows;
        let ord_to_row = &self.ord_to_row;
        let outs_ref = &outs;
        let get = |ord: u32| -> &R {
            let ord = ord as usize;
            if ord >= block_ord {
                let (c, i) = locate(ord - block_ord);
                &outs_ref[c].rows[i]
            } else {
                &rows[ord_to_row[ord] as usize]
            }
        };
        let mut verdicts: Vec<(u32, bool)> = self
            .shards
            .par_iter_mut()
            .zip(buckets.par_iter())
            .map(|(sh, bucket)| {
                let mut v = Vec::new();
                for &k in bucket {
                    let (c, i) = locate(k as usize);
                    let (r, h) = (&outs_ref[c].rows[i], outs_ref[c].hashes[i]);
                    let ord = (block_ord + k as usize) as u32;
                    let earlier = match sh.first.entry(h) {
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(ord);
                            continue;
                        }
                        std::collections::hash_map::Entry::Occupied(e)
                            if get(*e.get()).same_key(r) =>
                        {
                            Some(*e.get())
                        }
                        std::collections::hash_map::Entry::Occupied(_) => sh
                            .collisions
                            .get(&h)
                            .and_then(|l| l.iter().copied().find(|&j| get(j).same_key(r))),
                    };
                    match earlier {
                        Some(e) => v.push((k, get(e) == r)),
                        None => sh.collisions.entry(h).or_default().push(ord),
                    }
                }
                v
            })
            .flatten()
            .collect();
        verdicts.sort_unstable_by_key(|v| v.0);

        // 2. Account for the refused ones, in file order.
        let mut dropped = vec![false; total];
        for &(k, dup) in &verdicts {
            dropped[k as usize] = true;
            let (c, i) = locate(k as usize);
            let r = &outs[c].rows[i];
            if r.unknown_catalog(env.refs) {
                self.unknown_catalog -= 1;
            }
            if dup {
                self.stats.duplicates += 1;
            } else {
                let span = outs[c].spans[i];
                let cols = R::TABLE.spec().key.join(", ");
                let key = r.key_text();
                self.stats.quarantined += 1;
                self.quarantine.push(Quarantined {
                    table: env.table,
                    file: env.file.to_path_buf(),
                    line: bases[c] + span.line,
                    column: None,
                    reason_zh: format!("主键 ({cols}) = {key} 重复且内容与先出现的记录不同，已保留先出现的记录"),
                    reason_en: format!(
                        "duplicate key ({cols}) = {key} with content different from an earlier record; the earlier record is kept"
                    ),
                    raw: raw(c, span),
                });
            }
        }
        let base_len = self.rows.len();
        let mut kept = 0usize;
        self.ord_to_row.extend(dropped.iter().map(|d| {
            if *d {
                u32::MAX
            } else {
                kept += 1;
                (base_len + kept - 1) as u32
            }
        }));

        for (c, o) in outs.iter().enumerate() {
            let drops = &dropped[starts[c]..starts[c + 1]];
            self.lines.extend(
                o.spans
                    .iter()
                    .zip(drops)
                    .filter(|(_, d)| !**d)
                    .map(|(sp, _)| line32(bases[c] + sp.line)),
            );
        }

        // 3. Move the kept records into place, chunks in parallel.
        self.rows.reserve(kept);
        let mut spare = &mut self.rows.spare_capacity_mut()[..kept];
        let mut slots = Vec::with_capacity(outs.len());
        for c in 0..outs.len() {
            let n = dropped[starts[c]..starts[c + 1]]
                .iter()
                .filter(|d| !**d)
                .count();
            let (head, tail) = spare.split_at_mut(n);
            slots.push(head);
            spare = tail;
        }
        outs.par_iter_mut()
            .zip(slots)
            .enumerate()
            .for_each(|(c, (o, slot))| {
                let drops = &dropped[starts[c]..starts[c + 1]];
                let mut j = 0;
                for (r, d) in o.rows.drain(..).zip(drops) {
                    if !d {
                        slot[j].write(r);
                        j += 1;
                    }
                }
            });
        // SAFETY: the slots handed out above cover exactly `kept` elements after the old length,
        // and every chunk wrote one record into each of its slots (its kept count).
        unsafe { self.rows.set_len(base_len + kept) };

        for o in outs {
            self.pool.give(o);
        }
    }
}

impl<R: Record> Sink<R> {
    /// Records kept so far, compact or not.
    pub fn kept(&self) -> usize {
        if self.compact {
            self.compacted.len()
        } else {
            self.rows.len()
        }
    }

    /// Keeps every record of a block (all keys new) in compact form, written straight into
    /// `compacted` chunk by chunk in parallel. `rows` keeps copies of the last records only, for
    /// the next block's order check (which looks back at most `RUN_CAP + 1` records).
    fn keep_all_compact(&mut self, mut outs: Vec<ChunkOut<R>>, total: usize) {
        const LOOK_BACK: usize = RUN_CAP + 1;
        let mut tail: Vec<R> = outs
            .iter()
            .rev()
            .flat_map(|o| o.rows.iter().rev())
            .take(LOOK_BACK)
            .cloned()
            .collect();
        tail.reverse();
        if tail.len() < LOOK_BACK {
            let older = self.rows.len().saturating_sub(LOOK_BACK - tail.len());
            tail.splice(0..0, self.rows.drain(older..));
        }
        self.rows = tail;

        let base = self.compacted.len();
        self.compacted.reserve(total);
        let slots = chunk_slots(&mut self.compacted.spare_capacity_mut()[..total], &outs);
        outs.par_iter_mut().zip(slots).for_each(|(o, slot)| {
            R::compact(&mut o.rows, slot);
        });
        // SAFETY: the slots cover exactly `total` elements after the old length, and
        // `Record::compact` wrote every slot of its chunk.
        unsafe { self.compacted.set_len(base + total) };
        for o in outs {
            self.pool.give(o);
        }
    }

    /// Whether the block keeps every key distinct by order alone: each chunk was checked while
    /// it was parsed, so only the groups meeting at chunk boundaries are left to compare. On
    /// success, `tail_sorted` is updated for the next block.
    fn block_keeps_order(&mut self, outs: &[ChunkOut<R>]) -> bool {
        use std::cmp::Ordering::*;
        if !outs.iter().all(|o| o.order.distinct) {
            return false;
        }
        let mut tail_sorted = self.tail_sorted;
        for c in 0..outs.len() {
            let o = &outs[c];
            let Some(first) = o.rows.first() else {
                continue;
            };
            let one_group = o.order.run_start == 0;
            let mut before = outs[..c]
                .iter()
                .rev()
                .flat_map(|o| o.rows.iter().rev())
                .chain(self.rows.iter().rev())
                .peekable();
            let Some(&p) = before.peek() else {
                tail_sorted = o.order.run_sorted;
                continue;
            };
            match p.prefix_cmp(first) {
                Less => {
                    tail_sorted = o.order.run_sorted;
                    continue;
                }
                Greater => return false,
                Equal => {}
            }
            // A group continues across the boundary.
            if tail_sorted && p.key_before(first) && o.order.head_sorted() {
                tail_sorted = if one_group { true } else { o.order.run_sorted };
                continue;
            }
            // Out of order somewhere: its rows on either side must differ.
            let head: Vec<&R> = o
                .rows
                .iter()
                .take_while(|r| r.prefix_cmp(first) == Equal)
                .take(RUN_CAP + 1)
                .collect();
            if head.len() > RUN_CAP {
                return false;
            }
            for (n, q) in before
                .take_while(|q| q.prefix_cmp(first) == Equal)
                .enumerate()
            {
                if n >= RUN_CAP || head.iter().any(|h| h.same_key(q)) {
                    return false;
                }
            }
            tail_sorted = !one_group && o.order.run_sorted;
        }
        self.tail_sorted = tail_sorted;
        true
    }

    /// Keeps every record of a block (all keys new).
    fn keep_all(&mut self, mut outs: Vec<ChunkOut<R>>, total: usize) {
        let base = self.rows.len();
        self.rows.reserve(total);
        let slots = chunk_slots(&mut self.rows.spare_capacity_mut()[..total], &outs);
        outs.par_iter_mut().zip(slots).for_each(|(o, slot)| {
            for (dst, r) in slot.iter_mut().zip(o.rows.drain(..)) {
                dst.write(r);
            }
        });
        // SAFETY: the slots cover exactly `total` elements after the old length, and every
        // chunk wrote each of its records into its own slot.
        unsafe { self.rows.set_len(base + total) };
        for o in outs {
            self.pool.give(o);
        }
    }

    /// Fills the dedupe maps with the records kept while the order showed every key distinct (so
    /// every record is the first of its key and ordinal = row).
    fn fill_maps(&mut self, hasher: &RandomState) {
        let n = self.expected.max(self.rows.len());
        self.ord_to_row.reserve(n);
        self.ord_to_row.extend(0..self.rows.len() as u32);
        for s in &mut self.shards {
            s.first.reserve(n / SHARDS + 1);
        }
        let rows = &self.rows;
        let hashes: Vec<u64> = rows.par_iter().map(|r| r.key_hash(hasher)).collect();
        let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); SHARDS];
        for (i, &h) in hashes.iter().enumerate() {
            buckets[shard_of(h)].push(i as u32);
        }
        self.shards
            .par_iter_mut()
            .zip(buckets.par_iter())
            .for_each(|(sh, bucket)| {
                for &i in bucket {
                    let h = hashes[i as usize];
                    match sh.first.entry(h) {
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(i);
                        }
                        // Distinct keys sharing a 64-bit hash.
                        std::collections::hash_map::Entry::Occupied(_) => {
                            sh.collisions.entry(h).or_default().push(i)
                        }
                    }
                }
            });
    }
}

/// `spare` cut into one slot per chunk, as long as the chunk's records, in chunk order.
fn chunk_slots<'s, T, R>(
    mut spare: &'s mut [std::mem::MaybeUninit<T>],
    outs: &[ChunkOut<R>],
) -> Vec<&'s mut [std::mem::MaybeUninit<T>]> {
    let mut slots = Vec::with_capacity(outs.len());
    for o in outs {
        let (head, rest) = spare.split_at_mut(o.rows.len());
        slots.push(head);
        spare = rest;
    }
    slots
}

fn line32(l: u64) -> u32 {
    u32::try_from(l).unwrap_or(u32::MAX)
}

/// Why a file must be read again in another way.
pub(crate) enum FileError {
    /// The file turned out not to be UTF-8 after part of it was read: read the table again,
    /// decoding this file as GBK.
    NotUtf8,
    Fatal(BatchError),
}

impl From<BatchError> for FileError {
    fn from(e: BatchError) -> Self {
        FileError::Fatal(e)
    }
}

/// One table read into its sink, not yet handed to the batch.
struct ReadTable<R> {
    sink: Sink<R>,
    sources: Vec<SourceFile>,
}

/// Reads every file of table `R`. Only shared references: tables that do not point at each other
/// are read at the same time ([`run`]).
fn read_table<R: Record>(
    files: &[(Table, PathBuf, Format)],
    digests: bool,
    compact: bool,
    refs: &Refs,
    batch: &Batch,
) -> Result<Option<ReadTable<R>>, BatchError> {
    let hasher = RandomState::with_seeds(0x6d65_6466, 0x756e_6421, 0x696e_6765, 0x7374_2121);
    let mut gbk: Vec<PathBuf> = Vec::new();
    let mut compact = compact && R::COMPACTS && refs.check;
    'again: loop {
        let mut sink = Sink::<R>::new();
        sink.compact = compact;
        let mut sources = Vec::new();
        for (_, path, format) in files.iter().filter(|f| f.0 == R::TABLE) {
            sink.files.push((sink.kept() as u32, path.clone()));
            let env = Env {
                table: R::TABLE,
                file: path,
                refs,
                hasher: &hasher,
                digests,
                batch,
            };
            let res: Result<SourceFile, FileError> = match format {
                Format::Csv | Format::Jsonl => {
                    csvfast::read_text(&env, *format, &mut sink, gbk.contains(path))
                }
                Format::Parquet => pq::read_parquet(&env, &mut sink).map_err(FileError::Fatal),
            };
            match res {
                Ok(s) => sources.push(s),
                Err(FileError::NotUtf8) => {
                    gbk.push(path.clone());
                    continue 'again;
                }
                Err(FileError::Fatal(e)) => return Err(e),
            }
            if sink.compact_failed {
                compact = false;
                continue 'again;
            }
        }
        if sources.is_empty() {
            return Ok(None);
        }
        return Ok(Some(ReadTable { sink, sources }));
    }
}

/// Hands a table read by [`read_table`] to the batch and registers its keys.
fn finish_table<R: Record>(read: Option<ReadTable<R>>, refs: &mut Refs, out: &mut Ingested) {
    let Some(ReadTable { mut sink, sources }) = read else {
        return;
    };
    sink.stats.loaded = sink.kept() as u64;
    out.stats.insert(R::TABLE, sink.stats);
    out.quarantine.append(&mut sink.quarantine);
    out.sources.extend(sources);
    out.unknown_catalog_codes += sink.unknown_catalog;
    out.origins.insert(
        R::TABLE,
        crate::RowOrigins {
            files: sink.files,
            lines: sink.lines,
        },
    );
    if sink.compact {
        out.fee_lines = Some(std::mem::take(&mut sink.compacted));
    } else {
        R::store(sink.rows, &mut out.batch, refs);
    }
}

/// Reads every file, table by table in load order.
///
/// A table is read once every table it points at is in the batch. Tables that do not point at
/// each other are read at the same time: each one's block pipeline leaves a core idle now and
/// then (at its start and end, and while a block's chunks wait for the slowest), which the other
/// tables' chunks fill. They are handed to the batch in load order afterwards, so the result is
/// the same as reading them one by one.
pub(crate) fn run(
    files: &[(Table, PathBuf, Format)],
    opts: &Options,
    known: &dyn KnownKeys,
) -> Result<Ingested, BatchError> {
    let mut refs = Refs::new(opts.check_refs, known);
    let mut out = Ingested::default();
    let timing = std::env::var_os("MEDFUND_INGEST_TIMING").is_some();
    let (f, d, c) = (files, opts.digests, opts.compact_fee);
    let report = |what: &str, t0: std::time::Instant| {
        if timing {
            use std::sync::atomic::Ordering::Relaxed;
            eprintln!(
                "  [ingest] {what}: {:.3}s (parse {:.3}s, absorb {:.3}s)",
                t0.elapsed().as_secs_f64(),
                csvfast::T_PARSE.swap(0, Relaxed) as f64 / 1e6,
                csvfast::T_ABSORB.swap(0, Relaxed) as f64 / 1e6
            );
        }
    };
    macro_rules! one {
        ($r:ty) => {{
            let t0 = std::time::Instant::now();
            let read = read_table::<$r>(f, d, c, &refs, &out.batch)?;
            finish_table(read, &mut refs, &mut out);
            report(<$r as Record>::TABLE.name(), t0);
        }};
    }
    // Reference tables, then visits, which point at persons and institutions.
    one!(Fixmedins);
    one!(Psn);
    one!(Pract);
    one!(PractSusp);
    one!(CatalogEntry);
    one!(Mdtrt);

    // Diagnoses and settlements point at visits only.
    let t0 = std::time::Instant::now();
    let (diag, setl) = {
        let (r, b) = (&refs, &out.batch);
        rayon::join(
            || read_table::<Diag>(f, d, c, r, b),
            || read_table::<Setl>(f, d, c, r, b),
        )
    };
    finish_table(diag?, &mut refs, &mut out);
    finish_table(setl?, &mut refs, &mut out);
    report("diag + setl", t0);

    // Everything else points at tables read by now, and nothing points at it.
    let t0 = std::time::Instant::now();
    // Read only to be audited: the fee lines straight into their compact form.
    let compact_fee = c && refs.check;
    let (fee, (idv, rest)) = {
        let (r, b) = (&refs, &out.batch);
        rayon::join(
            || {
                if compact_fee {
                    read_table::<crate::compact::FeeCompact>(f, d, c, r, b).map(FeeTable::Compact)
                } else {
                    read_table::<Fee>(f, d, c, r, b).map(FeeTable::Rows)
                }
            },
            || {
                rayon::join(
                    || read_table::<Idv>(f, d, c, r, b),
                    || {
                        // Small tables, one after the other; errors in load order.
                        let before_idv = (|| {
                            Ok::<_, BatchError>((
                                read_table::<Rx>(f, d, c, r, b)?,
                                read_table::<InvPurc>(f, d, c, r, b)?,
                                read_table::<InvStock>(f, d, c, r, b)?,
                            ))
                        })();
                        let after_idv = (|| {
                            Ok::<_, BatchError>((
                                read_table::<FundMonth>(f, d, c, r, b)?,
                                read_table::<Budget>(f, d, c, r, b)?,
                            ))
                        })();
                        (before_idv, after_idv)
                    },
                )
            },
        )
    };
    match fee? {
        FeeTable::Compact(t) => finish_table(t, &mut refs, &mut out),
        FeeTable::Rows(t) => finish_table(t, &mut refs, &mut out),
    }
    let (before_idv, after_idv) = rest;
    let (rx, inv_purc, inv_stock) = before_idv?;
    finish_table(rx, &mut refs, &mut out);
    finish_table(inv_purc, &mut refs, &mut out);
    finish_table(inv_stock, &mut refs, &mut out);
    finish_table(idv?, &mut refs, &mut out);
    let (fund_month, budget) = after_idv?;
    finish_table(fund_month, &mut refs, &mut out);
    finish_table(budget, &mut refs, &mut out);
    report(
        "fee + idv + rx + inv_purc + inv_stock + fund_month + budget",
        t0,
    );

    out.keys = BatchKeys {
        psn: refs.psn,
        fixmedins: refs.fixmedins,
        mdtrt: refs.mdtrt,
        setl: refs.setl,
        catalog: refs.catalog,
    };
    Ok(out)
}

/// The fee table as read: compact lines for the audit, or records.
enum FeeTable {
    Compact(Option<ReadTable<crate::compact::FeeCompact>>),
    Rows(Option<ReadTable<Fee>>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(m: &str, d: &str) -> Diag {
        Diag {
            mdtrt_id: m.into(),
            diag_code: d.into(),
            maindiag_flag: false,
        }
    }

    /// A chunk as the parser leaves it: rows kept in order, the in-chunk check applied.
    fn chunk(rows: &[(&str, &str)]) -> ChunkOut<Diag> {
        let mut o = ChunkOut::with_capacity(rows.len());
        for (m, d) in rows {
            let r = diag(m, d);
            o.order.push(&o.rows, &r);
            o.rows.push(r);
        }
        o
    }

    #[test]
    fn groups_out_of_order_inside_need_only_distinct_keys() {
        // Visit M1's codes are not sorted but distinct; M2 follows.
        assert!(
            chunk(&[("M1", "J20"), ("M1", "E11"), ("M1", "I10"), ("M2", "A01")])
                .order
                .distinct
        );
        // A repeat two rows later inside the unsorted group.
        assert!(
            !chunk(&[("M1", "J20"), ("M1", "E11"), ("M1", "J20")])
                .order
                .distinct
        );
        // A repeat after the group was sorted so far.
        assert!(
            !chunk(&[("M1", "A01"), ("M1", "B01"), ("M1", "A01")])
                .order
                .distinct
        );
        // Groups out of order.
        assert!(!chunk(&[("M2", "A01"), ("M1", "A01")]).order.distinct);
    }

    #[test]
    fn a_group_across_chunk_and_block_boundaries_is_compared_on_both_sides() {
        let mut sink = Sink::<Diag>::new();
        let ok = vec![
            chunk(&[("M1", "A01"), ("M2", "J20")]),
            chunk(&[("M2", "E11"), ("M2", "I10")]),
            chunk(&[("M2", "K29"), ("M3", "A01")]),
        ];
        assert!(sink.block_keeps_order(&ok));
        // The repeat of M2/J20 sits two chunks after the first.
        let repeat = vec![
            chunk(&[("M1", "A01"), ("M2", "J20")]),
            chunk(&[("M2", "E11")]),
            chunk(&[("M2", "J20"), ("M3", "A01")]),
        ];
        assert!(!sink.block_keeps_order(&repeat));
        assert!(!sink.block_keeps_order(&[chunk(&[("M2", "A01")]), chunk(&[("M1", "B01")])]));

        // Rows from an earlier block count too.
        // (Each call starts from these rows, whose last group M2 is out of order.)
        let mut after = |block: &[ChunkOut<Diag>]| {
            sink.rows = vec![diag("M1", "A01"), diag("M2", "J20"), diag("M2", "E11")];
            sink.tail_sorted = false;
            sink.block_keeps_order(block)
        };
        assert!(after(&[chunk(&[("M2", "I10"), ("M3", "A01")])]));
        assert!(!after(&[chunk(&[("M2", "I10"), ("M2", "J20")])]));
        assert!(!after(&[chunk(&[]), chunk(&[("M2", "E11")])]));
        assert!(!after(&[chunk(&[("M1", "Z99")])]));
    }

    #[test]
    fn long_sorted_groups_need_no_pairwise_check() {
        // An inpatient stay's lines: far more than RUN_CAP rows sharing mdtrt_id, in serial order,
        // over several chunks and blocks.
        let codes: Vec<String> = (0..3 * RUN_CAP).map(|i| format!("D{i:05}")).collect();
        let rows: Vec<(&str, &str)> = codes.iter().map(|c| ("M1", c.as_str())).collect();
        let mut sink = Sink::<Diag>::new();
        let (a, b) = rows.split_at(RUN_CAP + 10);
        let (b, c) = b.split_at(RUN_CAP);
        assert!(sink.block_keeps_order(&[chunk(a), chunk(b)]));
        assert!(sink.tail_sorted);
        sink.rows = a.iter().chain(b).map(|(m, d)| diag(m, d)).collect();
        assert!(sink.block_keeps_order(&[chunk(c)]));
        // The same group, once out of order, is too long to compare pairwise.
        let mut late = c.to_vec();
        late.swap(0, 1);
        assert!(!sink.block_keeps_order(&[chunk(&late)]));
    }
}
