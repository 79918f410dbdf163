//! The format-independent half of ingestion: turning field rows into records (in parallel chunks),
//! then folding the chunks into a table in file order, dropping exact duplicates and refusing
//! conflicting ones.

use crate::fields::{Layout, Problem, Row};
use crate::tables::{Record, RefCache, Refs};
use crate::{
    csvfast, pq, BatchError, Format, Ingested, KnownKeys, Quarantined, SourceFile, TableStats,
};
use ahash::RandomState;
use medfund_contract::records::*;
use medfund_contract::schema::Table;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};

/// What a chunk parser needs to know about the table and the file.
pub(crate) struct Env<'e, 'k> {
    pub table: Table,
    pub file: &'e Path,
    pub refs: &'e Refs<'k>,
    pub hasher: &'e RandomState,
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
    pub hashes: Vec<u64>,
    pub spans: Vec<Span>,
    /// Line numbers relative to the chunk until [`Sink::absorb`] adds the chunk's base.
    pub quarantine: Vec<Quarantined>,
    pub read: u64,
    /// Physical lines the chunk covers (to number the next chunk).
    pub lines: u64,
    pub unknown_catalog: u64,
    cache: RefCache,
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
        let r = match R::parse(row) {
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
        self.hashes.push(r.key_hash(env.hasher));
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

/// One table being assembled from its files.
pub(crate) struct Sink<R> {
    pub rows: Vec<R>,
    /// Key hash → index of the first record with that key.
    first: HashMap<u64, u32, BuildHasherDefault<IdHasher>>,
    /// Further records whose different keys share a 64-bit hash (practically never used).
    collisions: HashMap<u64, Vec<u32>, BuildHasherDefault<IdHasher>>,
    pub stats: TableStats,
    pub quarantine: Vec<Quarantined>,
    pub unknown_catalog: u64,
}

impl<R: Record> Sink<R> {
    pub fn new() -> Self {
        Sink {
            rows: Vec::new(),
            first: HashMap::default(),
            collisions: HashMap::default(),
            stats: TableStats::default(),
            quarantine: Vec::new(),
            unknown_catalog: 0,
        }
    }

    /// Reserves room for about `n` more records (estimated from the file size).
    pub fn reserve(&mut self, n: usize) {
        self.rows.reserve(n);
        self.first.reserve(n);
    }

    /// Adds a chunk's output in file order. `line_base` is the 1-based line of the chunk's first
    /// line; `raw` gives back the original text of a span (for refusing a conflicting duplicate).
    pub fn absorb(
        &mut self,
        out: ChunkOut<R>,
        env: &Env,
        line_base: u64,
        raw: &dyn Fn(Span) -> String,
    ) {
        self.stats.read += out.read;
        self.stats.quarantined += out.quarantine.len() as u64;
        self.unknown_catalog += out.unknown_catalog;
        self.quarantine
            .extend(out.quarantine.into_iter().map(|mut q| {
                q.line += line_base;
                q
            }));
        for ((r, h), span) in out.rows.into_iter().zip(out.hashes).zip(out.spans) {
            let earlier = match self.first.get(&h) {
                None => {
                    self.first.insert(h, self.rows.len() as u32);
                    self.rows.push(r);
                    continue;
                }
                Some(&i) if self.rows[i as usize].same_key(&r) => Some(i as usize),
                Some(_) => self.collisions.get(&h).and_then(|v| {
                    v.iter()
                        .map(|&i| i as usize)
                        .find(|&i| self.rows[i].same_key(&r))
                }),
            };
            match earlier {
                None => {
                    self.collisions
                        .entry(h)
                        .or_default()
                        .push(self.rows.len() as u32);
                    self.rows.push(r);
                }
                Some(i) => {
                    if r.unknown_catalog(env.refs) {
                        self.unknown_catalog -= 1;
                    }
                    if self.rows[i] == r {
                        self.stats.duplicates += 1;
                    } else {
                        let cols = R::TABLE.spec().key.join(", ");
                        let key = r.key_text();
                        self.stats.quarantined += 1;
                        self.quarantine.push(Quarantined {
                            table: env.table,
                            file: env.file.to_path_buf(),
                            line: line_base + span.line,
                            column: None,
                            reason_zh: format!("主键 ({cols}) = {key} 重复且内容与先出现的记录不同，已保留先出现的记录"),
                            reason_en: format!(
                                "duplicate key ({cols}) = {key} with content different from an earlier record; the earlier record is kept"
                            ),
                            raw: raw(span),
                        });
                    }
                }
            }
        }
    }
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

fn load_table<R: Record>(
    files: &[(Table, PathBuf, Format)],
    refs: &mut Refs,
    out: &mut Ingested,
) -> Result<(), BatchError> {
    let hasher = RandomState::with_seeds(0x6d65_6466, 0x756e_6421, 0x696e_6765, 0x7374_2121);
    let mut gbk: Vec<PathBuf> = Vec::new();
    'again: loop {
        let mut sink = Sink::<R>::new();
        let mut sources = Vec::new();
        for (_, path, format) in files.iter().filter(|f| f.0 == R::TABLE) {
            let env = Env {
                table: R::TABLE,
                file: path,
                refs,
                hasher: &hasher,
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
        }
        if sources.is_empty() {
            return Ok(());
        }
        sink.stats.loaded = sink.rows.len() as u64;
        out.stats.insert(R::TABLE, sink.stats);
        out.quarantine.append(&mut sink.quarantine);
        out.sources.extend(sources);
        out.unknown_catalog_codes += sink.unknown_catalog;
        R::store(sink.rows, &mut out.batch, refs);
        return Ok(());
    }
}

/// Reads every file, table by table in load order.
pub(crate) fn run(
    files: &[(Table, PathBuf, Format)],
    check_refs: bool,
    known: &dyn KnownKeys,
) -> Result<Ingested, BatchError> {
    let mut refs = Refs::new(check_refs, known);
    let mut out = Ingested::default();
    for t in Table::ALL {
        let f = files;
        let r = &mut refs;
        let o = &mut out;
        match t {
            Table::Fixmedins => load_table::<Fixmedins>(f, r, o),
            Table::Psn => load_table::<Psn>(f, r, o),
            Table::Pract => load_table::<Pract>(f, r, o),
            Table::PractSusp => load_table::<PractSusp>(f, r, o),
            Table::Catalog => load_table::<CatalogEntry>(f, r, o),
            Table::Mdtrt => load_table::<Mdtrt>(f, r, o),
            Table::Diag => load_table::<Diag>(f, r, o),
            Table::Setl => load_table::<Setl>(f, r, o),
            Table::Fee => load_table::<Fee>(f, r, o),
            Table::Rx => load_table::<Rx>(f, r, o),
            Table::InvPurc => load_table::<InvPurc>(f, r, o),
            Table::InvStock => load_table::<InvStock>(f, r, o),
            Table::Idv => load_table::<Idv>(f, r, o),
            Table::FundMonth => load_table::<FundMonth>(f, r, o),
            Table::Budget => load_table::<Budget>(f, r, o),
        }?;
    }
    Ok(out)
}
