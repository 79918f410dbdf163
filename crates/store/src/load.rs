//! Loading a batch: deduplicate against the store, write the claim files, commit atomically.
//!
//! Order of a load (each step leaves the store unchanged if the process dies during it):
//! 1. take the data directory's load lock and delete files no committed load lists;
//! 2. read and validate the batch (medfund-ingest), references checked against the store;
//! 3. plan the reference upserts; for each claim table, drop rows whose key and content are
//!    already stored, quarantine rows whose key is stored with other content, and write the
//!    new rows as `*.parquet.tmp` + a key index `*.bin.tmp`, each fsynced;
//! 4. rename the temporary files to their final names and fsync the directories;
//! 5. ONE SQL transaction: load history, reference upserts, quarantine rows and the manifest
//!    rows that make the new files visible. Readers only read files the manifest lists.

use crate::claims::{arrow_schema, ClaimRecord};
use crate::keys::{self, Entry};
use crate::reference;
use crate::{LoadRun, Store, StoreError};
use medfund_contract::schema::Kind;
use medfund_contract::schema::Table;
use medfund_contract::{
    Batch, Diag, Fee, Finding, Idv, InvPurc, InvStock, Mdtrt, Rx, Setl, YearMonth,
};
use medfund_db::Value;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

/// Rows per Parquet row group: small enough for DataFusion to skip groups by their time
/// statistics, large enough to compress well.
const ROW_GROUP: usize = 256 * 1024;
/// Rows per Parquet file; a month with more rows gets several files.
const FILE_ROWS: usize = 4 * 1024 * 1024;
/// Rows converted to Arrow at a time while writing (bounds the extra memory of writing).
const WRITE_CHUNK: usize = 64 * 1024;

const CLAIM_TABLES: [Table; 8] = [
    Table::Mdtrt,
    Table::Diag,
    Table::Setl,
    Table::Fee,
    Table::Rx,
    Table::InvPurc,
    Table::InvStock,
    Table::Idv,
];

/// Options of a load.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Options passed to medfund-ingest when reading the batch.
    pub ingest: medfund_ingest::Options,
}

/// A stage of a load, reported through the progress callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Reading and validating the batch files.
    Read,
    /// Comparing a table's rows with the store.
    Check,
    /// Writing a table's new rows.
    Write,
    /// Committing the load.
    Commit,
}

/// Progress of a load: `done` of `total` rows of `table` in `stage`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub stage: Stage,
    pub table: Option<Table>,
    pub done: u64,
    pub total: u64,
}

fn ser_table<S: serde::Serializer>(t: &Table, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(t.name())
}

fn ser_opt_table<S: serde::Serializer>(t: &Option<Table>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(t.name()),
        None => s.serialize_none(),
    }
}

/// A quarantined row: where it was, what is wrong (Chinese and English) and its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QuarantineRow {
    #[serde(serialize_with = "ser_table")]
    pub table: Table,
    /// File name inside the batch directory.
    pub file: String,
    /// 1-based line (CSV/JSONL, header = line 1) or row (Parquet); 0 when unknown.
    pub line: u64,
    pub column: Option<String>,
    pub reason_zh: String,
    pub reason_en: String,
    /// The row as read (CSV text or JSON).
    pub raw: Option<String>,
}

/// What reading a table of the batch produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReadStats {
    pub read: u64,
    pub quarantined: u64,
    /// Identical duplicate rows within the batch, dropped by the reader.
    pub duplicates: u64,
}

/// One input file of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceInfo {
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
}

/// A batch after reading and validation, ready to be stored.
#[derive(Clone, Debug, Default)]
pub struct ParsedBatch {
    pub batch: Batch,
    pub quarantine: Vec<QuarantineRow>,
    /// Per table; a table without an entry counts its batch rows as read.
    pub stats: BTreeMap<Table, ReadStats>,
    pub sources: Vec<SourceInfo>,
    /// Well-formed codes that the catalog does not list (they load; the summary counts them).
    pub unknown_catalog_codes: u64,
    /// Per table, the file and line of each row of `batch` (same order), so that rows refused
    /// against earlier loads are reported where they are. Empty: reported by table only.
    pub origins: BTreeMap<Table, medfund_ingest::RowOrigins>,
}

/// The outcome of a load for one table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TableReport {
    #[serde(serialize_with = "ser_opt_table")]
    pub table: Option<Table>,
    /// Data rows in the batch files.
    pub read: u64,
    /// New rows stored.
    pub loaded: u64,
    /// Rows already stored with the same content (or repeated within the batch): skipped.
    pub skipped: u64,
    /// Reference rows whose stored content this load changed (natural-key upsert).
    pub updated: u64,
    /// Rows quarantined (bad input, or a key already stored with other content).
    pub quarantined: u64,
}

/// What a load did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadReport {
    pub load_id: i64,
    /// One entry per contract table, in load order.
    pub tables: Vec<TableReport>,
    /// The quarantine CSV (absent when nothing was quarantined).
    pub quarantine_csv: Option<PathBuf>,
    pub unknown_catalog_codes: u64,
    /// Parquet files added.
    pub files_written: u64,
    /// Wall-clock seconds of the whole load.
    pub seconds: f64,
    /// Where the time went.
    pub timings: Timings,
}

/// Seconds spent in each part of a load.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Reading and validating the batch files (medfund-ingest).
    pub read: f64,
    /// Comparing reference rows with the store.
    pub reference: f64,
    /// Deduplicating and writing the claim tables.
    pub claims: f64,
    /// Publishing: renames, fsyncs and the SQL transaction.
    pub commit: f64,
}

impl LoadReport {
    /// Sums over all tables.
    pub fn total(&self) -> TableReport {
        let mut t = TableReport::default();
        for r in &self.tables {
            t.read += r.read;
            t.loaded += r.loaded;
            t.skipped += r.skipped;
            t.updated += r.updated;
            t.quarantined += r.quarantined;
        }
        t
    }
    /// The entry of one table.
    pub fn table(&self, t: Table) -> TableReport {
        self.tables
            .iter()
            .find(|r| r.table == Some(t))
            .copied()
            .unwrap_or_default()
    }
}

// ---- the load lock ---------------------------------------------------------------------------

/// An exclusive lock on a data directory's loads (released when dropped, or by the OS when the
/// process dies, so a killed load never leaves it held).
pub(crate) struct LoadLock {
    _file: File,
}

impl LoadLock {
    fn open(data: &Path) -> Result<File, StoreError> {
        let p = data.join(".load.lock");
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(|e| StoreError::io(&p, e))
    }
    /// The lock, or `None` when another load holds it.
    pub fn try_acquire(data: &Path) -> Result<Option<LoadLock>, StoreError> {
        let f = LoadLock::open(data)?;
        match f.try_lock() {
            Ok(()) => Ok(Some(LoadLock { _file: f })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(StoreError::io(&data.join(".load.lock"), e))
            }
        }
    }
    /// The lock, or an error telling the user another load is running. Waits up to five
    /// seconds first, since opening a store holds the lock for a moment to sweep.
    pub fn acquire(data: &Path) -> Result<LoadLock, StoreError> {
        for _ in 0..100 {
            if let Some(l) = LoadLock::try_acquire(data)? {
                return Ok(l);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        LoadLock::try_acquire(data)?.ok_or_else(|| {
            StoreError::Busy(format!(
                "数据目录 {} 正在被另一个加载任务使用，请等待其结束后重试 / another load is running on {}; wait for it to finish and retry",
                data.display(),
                data.display()
            ))
        })
    }
}

/// Deletes files under `claims/`, `index/` and `quarantine/` that no committed load lists
/// (left by a load that died before its commit). Call with the load lock held.
pub(crate) fn cleanup(store: &mut Store) -> Result<usize, StoreError> {
    let mut known: HashSet<String> = HashSet::new();
    for r in store.db.query("SELECT path FROM claim_file", &[])? {
        known.insert(r.text(0));
    }
    for r in store.db.query(
        "SELECT quarantine_csv FROM load_run WHERE quarantine_csv IS NOT NULL",
        &[],
    )? {
        known.insert(r.text(0));
    }
    let mut removed = 0;
    for top in ["claims", "index", "quarantine"] {
        let root = store.data.join(top);
        if root.exists() {
            removed += sweep(&store.data, &root, &known)?;
        }
    }
    Ok(removed)
}

fn sweep(data: &Path, dir: &Path, known: &HashSet<String>) -> Result<usize, StoreError> {
    let mut removed = 0;
    for e in std::fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))? {
        let e = e.map_err(|e| StoreError::io(dir, e))?;
        let p = e.path();
        let ft = e.file_type().map_err(|x| StoreError::io(&p, x))?;
        if ft.is_dir() {
            removed += sweep(data, &p, known)?;
            // Leave no empty month directories behind a crashed load.
            if std::fs::read_dir(&p)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false)
            {
                let _ = std::fs::remove_dir(&p);
            }
        } else if !known.contains(&rel(data, &p)) {
            std::fs::remove_file(&p).map_err(|x| StoreError::io(&p, x))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Path relative to the data directory with `/` separators (as the manifest stores it).
fn rel(data: &Path, p: &Path) -> String {
    let r = p.strip_prefix(data).unwrap_or(p);
    r.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

// ---- keys the store already holds ------------------------------------------------------------

/// Keys the store already holds, so a batch may reference institutions, persons, catalog codes,
/// visits and settlements of earlier loads. The visit and settlement sets are read from the key
/// index the first time they are asked for.
pub struct StoredKeys {
    psn: HashSet<String>,
    fixmedins: HashSet<String>,
    catalog: HashSet<String>,
    mdtrt_files: Vec<(i64, PathBuf)>,
    setl_files: Vec<(i64, PathBuf)>,
    mdtrt: OnceLock<Vec<(u64, i32)>>,
    setl: OnceLock<Vec<(u64, i32)>>,
    error: OnceLock<String>,
}

impl std::fmt::Debug for StoredKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "StoredKeys({} psn, {} fixmedins, {} catalog)",
            self.psn.len(),
            self.fixmedins.len(),
            self.catalog.len()
        )
    }
}

impl StoredKeys {
    fn set<'a>(
        &'a self,
        cell: &'a OnceLock<Vec<(u64, i32)>>,
        files: &[(i64, PathBuf)],
    ) -> &'a [(u64, i32)] {
        cell.get_or_init(|| match keys::key_set(files) {
            Ok(s) => s,
            Err(e) => {
                let _ = self.error.set(e.to_string());
                Vec::new()
            }
        })
    }
    /// Whether an insured person is stored.
    pub fn has_psn(&self, psn_no: &str) -> bool {
        self.psn.contains(psn_no)
    }
    /// Whether an institution is stored.
    pub fn has_fixmedins(&self, code: &str) -> bool {
        self.fixmedins.contains(code)
    }
    /// Whether a catalog code is stored.
    pub fn has_catalog(&self, code: &str) -> bool {
        self.catalog.contains(code)
    }
    /// Whether a visit is stored.
    pub fn has_mdtrt(&self, mdtrt_id: &str) -> bool {
        self.mdtrt_month(mdtrt_id).is_some()
    }
    /// Whether a settlement is stored.
    pub fn has_setl(&self, setl_id: &str) -> bool {
        keys::key_set_month(
            self.set(&self.setl, &self.setl_files),
            keys::single_key_hash(setl_id),
        )
        .is_some()
    }
    /// The month partition of a stored visit.
    pub fn mdtrt_month(&self, mdtrt_id: &str) -> Option<YearMonth> {
        keys::key_set_month(
            self.set(&self.mdtrt, &self.mdtrt_files),
            keys::single_key_hash(mdtrt_id),
        )
        .map(keys::month_from_index)
    }
    fn setl_month(&self, setl_id: &str) -> Option<YearMonth> {
        keys::key_set_month(
            self.set(&self.setl, &self.setl_files),
            keys::single_key_hash(setl_id),
        )
        .map(keys::month_from_index)
    }
    /// The month of a finding: its visit's, else its settlement's, else `evidence.details.month`.
    pub(crate) fn month_of_finding(&self, f: &Finding) -> Option<YearMonth> {
        f.mdtrt_id
            .as_deref()
            .and_then(|m| self.mdtrt_month(m))
            .or_else(|| f.setl_id.as_deref().and_then(|s| self.setl_month(s)))
            .or_else(|| {
                f.evidence
                    .details
                    .get("month")
                    .and_then(|m| m.as_str())
                    .and_then(|m| YearMonth::parse(m).ok())
            })
    }
    fn check(&self) -> Result<(), StoreError> {
        match self.error.get() {
            Some(e) => Err(StoreError::Corrupt(e.clone())),
            None => Ok(()),
        }
    }
}

impl medfund_ingest::KnownKeys for StoredKeys {
    fn has_psn(&self, psn_no: &str) -> bool {
        StoredKeys::has_psn(self, psn_no)
    }
    fn has_fixmedins(&self, code: &str) -> bool {
        StoredKeys::has_fixmedins(self, code)
    }
    fn has_mdtrt(&self, mdtrt_id: &str) -> bool {
        StoredKeys::has_mdtrt(self, mdtrt_id)
    }
    fn has_setl(&self, setl_id: &str) -> bool {
        StoredKeys::has_setl(self, setl_id)
    }
    fn has_catalog(&self, code: &str) -> bool {
        StoredKeys::has_catalog(self, code)
    }
}

fn index_files(store: &mut Store, table: Table) -> Result<Vec<(i64, PathBuf)>, StoreError> {
    Ok(store
        .db
        .query(
            "SELECT load_id, path FROM claim_file WHERE table_name = $1 AND kind = 'keys' ORDER BY load_id",
            &[table.name().into()],
        )?
        .iter()
        .map(|r| (r.int(0), store.data.join(r.text(1))))
        .collect())
}

fn key_column(store: &mut Store, table: &str, col: &str) -> Result<HashSet<String>, StoreError> {
    Ok(store
        .db
        .query(&format!("SELECT {col} FROM {table}"), &[])?
        .iter()
        .map(|r| r.text(0))
        .collect())
}

pub(crate) fn stored_keys(store: &mut Store) -> Result<StoredKeys, StoreError> {
    Ok(StoredKeys {
        psn: key_column(store, "psn", "psn_no")?,
        fixmedins: key_column(store, "fixmedins", "fixmedins_code")?,
        catalog: key_column(store, "catalog", "med_list_codg")?,
        mdtrt_files: index_files(store, Table::Mdtrt)?,
        setl_files: index_files(store, Table::Setl)?,
        mdtrt: OnceLock::new(),
        setl: OnceLock::new(),
        error: OnceLock::new(),
    })
}

/// Only the visit and settlement month sets (for findings), without the reference key sets.
pub(crate) fn claim_month_index(store: &mut Store) -> Result<StoredKeys, StoreError> {
    Ok(StoredKeys {
        psn: HashSet::new(),
        fixmedins: HashSet::new(),
        catalog: HashSet::new(),
        mdtrt_files: index_files(store, Table::Mdtrt)?,
        setl_files: index_files(store, Table::Setl)?,
        mdtrt: OnceLock::new(),
        setl: OnceLock::new(),
        error: OnceLock::new(),
    })
}

// ---- the load --------------------------------------------------------------------------------

/// A test hook: with `MEDFUND_TEST_PAUSE_AT=<step>` the process announces the step on stderr
/// and waits forever, so a test can kill it (SIGKILL) at exactly that point. Steps: `files`
/// (temporary files written), `renamed` (files renamed, not committed), `sql` (inside the
/// open SQL transaction, before COMMIT).
fn pause_point(step: &str) {
    if std::env::var("MEDFUND_TEST_PAUSE_AT").as_deref() == Ok(step) {
        use std::io::Write;
        let mut e = std::io::stderr();
        let _ = writeln!(e, "MEDFUND_TEST_PAUSED {step}");
        let _ = e.flush();
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

pub(crate) fn load_batch(
    store: &mut Store,
    dir: &Path,
    opts: &LoadOptions,
    progress: Option<&dyn Fn(Progress)>,
) -> Result<LoadReport, StoreError> {
    let _lock = LoadLock::acquire(&store.data)?;
    cleanup(store)?;
    if let Some(p) = progress {
        p(Progress {
            stage: Stage::Read,
            table: None,
            done: 0,
            total: 0,
        });
    }
    let t0 = Instant::now();
    let known = stored_keys(store)?;
    let ingested = medfund_ingest::read_batch_with(dir, &opts.ingest, &known)
        .map_err(|e| StoreError::Unreadable(e.to_string()))?;
    known.check()?;
    let parsed = crate::load::from_ingested(ingested);
    let read = t0.elapsed().as_secs_f64();
    let label = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut r = store_parsed_with(
        store,
        parsed,
        &label.display().to_string(),
        progress,
        Some(&known),
    )?;
    r.timings.read = read;
    r.seconds = t0.elapsed().as_secs_f64();
    Ok(r)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// Converts the reader's output.
pub(crate) fn from_ingested(i: medfund_ingest::Ingested) -> ParsedBatch {
    ParsedBatch {
        origins: i.origins,
        batch: i.batch,
        quarantine: i
            .quarantine
            .into_iter()
            .map(|q| QuarantineRow {
                table: q.table,
                file: file_name(&q.file),
                line: q.line,
                column: q.column,
                reason_zh: q.reason_zh,
                reason_en: q.reason_en,
                raw: Some(q.raw),
            })
            .collect(),
        stats: i
            .stats
            .into_iter()
            .map(|(t, s)| {
                (
                    t,
                    ReadStats {
                        read: s.read,
                        quarantined: s.quarantined,
                        duplicates: s.duplicates,
                    },
                )
            })
            .collect(),
        sources: i
            .sources
            .into_iter()
            .map(|s| SourceInfo {
                file: file_name(&s.path),
                sha256: s.sha256,
                bytes: s.bytes,
            })
            .collect(),
        unknown_catalog_codes: i.unknown_catalog_codes,
    }
}

pub(crate) fn store_parsed(
    store: &mut Store,
    parsed: ParsedBatch,
    label: &str,
    progress: Option<&dyn Fn(Progress)>,
) -> Result<LoadReport, StoreError> {
    store_parsed_with(store, parsed, label, progress, None)
}

/// A file written by this load, not yet visible.
struct Staged {
    tmp: PathBuf,
    path: PathBuf,
    rel: String,
    table: Table,
    month: String,
    kind: &'static str,
    rows: u64,
    bytes: u64,
}

struct Ctx<'a> {
    data: &'a Path,
    load_id: i64,
    progress: Option<&'a dyn Fn(Progress)>,
}

impl Ctx<'_> {
    fn report(&self, stage: Stage, table: Table, done: u64, total: u64) {
        if let Some(p) = self.progress {
            p(Progress {
                stage,
                table: Some(table),
                done,
                total,
            });
        }
    }
}

fn store_parsed_with(
    store: &mut Store,
    parsed: ParsedBatch,
    label: &str,
    progress: Option<&dyn Fn(Progress)>,
    known: Option<&StoredKeys>,
) -> Result<LoadReport, StoreError> {
    let t0 = Instant::now();
    let started_at = medfund_db::now_text();
    let ParsedBatch {
        mut batch,
        mut quarantine,
        stats,
        sources,
        unknown_catalog_codes,
        origins,
    } = parsed;
    let load_id = store
        .db
        .query_one("SELECT COALESCE(MAX(id), 0) + 1 FROM load_run", &[])?
        .int(0);

    let mut reports: BTreeMap<Table, TableReport> = Table::ALL
        .into_iter()
        .map(|t| {
            let s = stats.get(&t).copied();
            let rows = table_len(&batch, t) as u64;
            let r = TableReport {
                table: Some(t),
                read: s.map(|s| s.read).unwrap_or(rows),
                quarantined: s.map(|s| s.quarantined).unwrap_or(0),
                skipped: s.map(|s| s.duplicates).unwrap_or(0),
                ..TableReport::default()
            };
            (t, r)
        })
        .collect();
    let source_of = |t: Table| -> String {
        sources
            .iter()
            .find(|s| Path::new(&s.file).file_stem().and_then(|x| x.to_str()) == Some(t.name()))
            .map(|s| s.file.clone())
            .unwrap_or_else(|| t.name().to_string())
    };

    // Reference tables: what to insert or update.
    let mut plans = Vec::new();
    for s in &reference::REF_TABLES {
        let rows = reference::rows_of(&batch, s.table);
        let plan = reference::plan(&mut store.db, s.table, rows)?;
        let r = reports.get_mut(&s.table).expect("every table");
        r.loaded += plan.new;
        r.updated += plan.updated;
        r.skipped += plan.same;
        plans.push((s.table, plan));
    }

    let t_reference = t0.elapsed().as_secs_f64();
    // Claim tables.
    let mut index: HashMap<Table, Vec<(i64, PathBuf)>> = HashMap::new();
    for t in CLAIM_TABLES {
        index.insert(t, index_files(store, t)?);
    }
    let owned_known = match known {
        Some(_) => None,
        None => Some(claim_month_index(store)?),
    };
    let known = known.or(owned_known.as_ref()).expect("one of the two");
    let data = store.data.clone();
    let ctx = Ctx {
        data: &data,
        load_id,
        progress,
    };
    let mut staged: Vec<Staged> = Vec::new();
    let result = (|| -> Result<(), StoreError> {
        // Diagnoses follow their visit's month: from this batch, else from the store.
        let visit_month: HashMap<&str, i32> = batch
            .mdtrt
            .iter()
            .map(|m| {
                (
                    m.mdtrt_id.as_str(),
                    keys::month_index(YearMonth::of(m.begntime.date())),
                )
            })
            .collect();
        let diag_months: Vec<Option<i32>> = batch
            .diag
            .iter()
            .map(|d| {
                visit_month
                    .get(d.mdtrt_id.as_str())
                    .copied()
                    .or_else(|| known.mdtrt_month(&d.mdtrt_id).map(keys::month_index))
            })
            .collect();
        known.check()?;
        drop(visit_month);
        macro_rules! stage_table {
            ($t:expr, $rows:expr, $months:expr) => {
                stage(
                    &ctx,
                    $rows,
                    $months,
                    &index[&$t],
                    source_of($t),
                    origins.get(&$t),
                    &mut staged,
                    reports.get_mut(&$t).expect("every table"),
                    &mut quarantine,
                )?
            };
        }
        stage_table!(Table::Mdtrt, &batch.mdtrt, None);
        batch.mdtrt = Vec::new(); // written: free it before the next table
        stage_table!(Table::Diag, &batch.diag, Some(&diag_months));
        batch.diag = Vec::new(); // written: free it before the next table
        stage_table!(Table::Setl, &batch.setl, None);
        batch.setl = Vec::new(); // written: free it before the next table
        stage_table!(Table::Fee, &batch.fee, None);
        batch.fee = Vec::new(); // written: free it before the next table
        stage_table!(Table::Rx, &batch.rx, None);
        batch.rx = Vec::new(); // written: free it before the next table
        stage_table!(Table::InvPurc, &batch.inv_purc, None);
        batch.inv_purc = Vec::new(); // written: free it before the next table
        stage_table!(Table::InvStock, &batch.inv_stock, None);
        batch.inv_stock = Vec::new(); // written: free it before the next table
        stage_table!(Table::Idv, &batch.idv, None);
        batch.idv = Vec::new(); // written: free it before the next table
        Ok(())
    })();
    // The claim rows are in Parquet files now; free them before the commit.
    for t in CLAIM_TABLES {
        clear_table(&mut batch, t);
    }
    if let Err(e) = result {
        discard(&staged);
        return Err(e);
    }
    let t_claims = t0.elapsed().as_secs_f64() - t_reference;
    pause_point("files");

    // Quarantine report next to the files (same visibility rule: listed by load_run or removed).
    let csv_rel = format!("quarantine/load-{load_id}.csv");
    let mut csv_done = None;
    let published = (|| -> Result<(), StoreError> {
        if !quarantine.is_empty() {
            let path = store.data.join(&csv_rel);
            let tmp = path.with_extension("csv.tmp");
            write_quarantine_csv(&tmp, &quarantine)?;
            staged.push(Staged {
                tmp,
                path,
                rel: csv_rel.clone(),
                table: Table::Fee,
                month: String::new(),
                kind: "quarantine",
                rows: quarantine.len() as u64,
                bytes: 0,
            });
            csv_done = Some(store.data.join(&csv_rel));
        }
        for s in &staged {
            std::fs::rename(&s.tmp, &s.path).map_err(|e| StoreError::io(&s.path, e))?;
        }
        let dirs: HashSet<&Path> = staged.iter().filter_map(|s| s.path.parent()).collect();
        for d in dirs {
            File::open(d)
                .and_then(|f| f.sync_all())
                .map_err(|e| StoreError::io(d, e))?;
        }
        Ok(())
    })();
    if let Err(e) = published {
        discard(&staged);
        return Err(e);
    }
    pause_point("renamed");

    let tables: Vec<TableReport> = reports.values().copied().collect();
    let mut report = LoadReport {
        load_id,
        tables,
        quarantine_csv: csv_done,
        unknown_catalog_codes,
        files_written: staged.iter().filter(|s| s.kind == "data").count() as u64,
        seconds: 0.0,
        timings: Timings {
            read: 0.0,
            reference: t_reference,
            claims: t_claims,
            commit: 0.0,
        },
    };
    let total = report.total();
    if let Some(p) = progress {
        p(Progress {
            stage: Stage::Commit,
            table: None,
            done: 0,
            total: 1,
        });
    }

    let finished_at = medfund_db::now_text();
    let committed = store.db.transaction(|db| -> Result<(), StoreError> {
        db.execute(
            "INSERT INTO load_run (id, started_at, finished_at, batch_dir, status, rows_read, rows_loaded, rows_skipped, \
             rows_updated, rows_quarantined, unknown_catalog_codes, quarantine_csv) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                load_id.into(),
                started_at.clone().into(),
                finished_at.clone().into(),
                label.into(),
                "loaded".into(),
                (total.read as i64).into(),
                (total.loaded as i64).into(),
                (total.skipped as i64).into(),
                (total.updated as i64).into(),
                (total.quarantined as i64).into(),
                (unknown_catalog_codes as i64).into(),
                report.quarantine_csv.as_ref().map(|_| csv_rel.clone()).into(),
            ],
        )?;
        for s in &sources {
            db.execute(
                "INSERT INTO load_file (load_id, file, sha256, bytes) VALUES ($1, $2, $3, $4)",
                &[load_id.into(), s.file.as_str().into(), s.sha256.as_str().into(), (s.bytes as i64).into()],
            )?;
        }
        for r in &report.tables {
            db.execute(
                "INSERT INTO load_table_stat (load_id, table_name, rows_read, rows_loaded, rows_skipped, rows_updated, \
                 rows_quarantined) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    load_id.into(),
                    r.table.map(|t| t.name()).unwrap_or("").into(),
                    (r.read as i64).into(),
                    (r.loaded as i64).into(),
                    (r.skipped as i64).into(),
                    (r.updated as i64).into(),
                    (r.quarantined as i64).into(),
                ],
            )?;
        }
        for (t, plan) in &plans {
            reference::apply(db, *t, plan, load_id)?;
        }
        insert_quarantine(db, load_id, &quarantine)?;
        for s in staged.iter().filter(|s| s.kind != "quarantine") {
            db.execute(
                "INSERT INTO claim_file (path, load_id, table_name, month, kind, row_count, bytes) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    s.rel.as_str().into(),
                    load_id.into(),
                    s.table.name().into(),
                    s.month.as_str().into(),
                    s.kind.into(),
                    (s.rows as i64).into(),
                    (s.bytes as i64).into(),
                ],
            )?;
        }
        pause_point("sql");
        Ok(())
    });
    if let Err(e) = committed {
        discard(&staged);
        return Err(e);
    }
    report.seconds = t0.elapsed().as_secs_f64();
    report.timings.commit = report.seconds - t_reference - t_claims;
    Ok(report)
}

fn insert_quarantine(
    db: &mut medfund_db::Db,
    load_id: i64,
    rows: &[QuarantineRow],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(200) {
        let mut params = Vec::with_capacity(chunk.len() * 8);
        let mut tuples = Vec::with_capacity(chunk.len());
        for q in chunk {
            let start = params.len();
            params.extend([
                Value::Int(load_id),
                q.table.name().into(),
                q.file.as_str().into(),
                Value::Int(q.line as i64),
                q.column.clone().into(),
                q.reason_zh.as_str().into(),
                q.reason_en.as_str().into(),
                q.raw.clone().into(),
            ]);
            let ph: Vec<String> = (start + 1..=params.len())
                .map(|n| format!("${n}"))
                .collect();
            tuples.push(format!("({})", ph.join(", ")));
        }
        db.execute(
            &format!(
                "INSERT INTO quarantine (load_id, table_name, file, line, column_name, reason_zh, reason_en, raw) VALUES {}",
                tuples.join(", ")
            ),
            &params,
        )?;
    }
    Ok(())
}

/// Removes the files of a failed load (best effort: whatever stays is swept at the next open).
fn discard(staged: &[Staged]) {
    for s in staged {
        let _ = std::fs::remove_file(&s.tmp);
        let _ = std::fs::remove_file(&s.path);
    }
}

fn table_len(b: &Batch, t: Table) -> usize {
    match t {
        Table::Fixmedins => b.fixmedins.len(),
        Table::Psn => b.psn.len(),
        Table::Pract => b.pract.len(),
        Table::PractSusp => b.pract_susp.len(),
        Table::Catalog => b.catalog.len(),
        Table::Mdtrt => b.mdtrt.len(),
        Table::Diag => b.diag.len(),
        Table::Setl => b.setl.len(),
        Table::Fee => b.fee.len(),
        Table::Rx => b.rx.len(),
        Table::InvPurc => b.inv_purc.len(),
        Table::InvStock => b.inv_stock.len(),
        Table::Idv => b.idv.len(),
        Table::FundMonth => b.fund_month.len(),
        Table::Budget => b.budget.len(),
    }
}

fn clear_table(b: &mut Batch, t: Table) {
    match t {
        Table::Mdtrt => b.mdtrt = Vec::new(),
        Table::Diag => b.diag = Vec::new(),
        Table::Setl => b.setl = Vec::new(),
        Table::Fee => b.fee = Vec::new(),
        Table::Rx => b.rx = Vec::new(),
        Table::InvPurc => b.inv_purc = Vec::new(),
        Table::InvStock => b.inv_stock = Vec::new(),
        Table::Idv => b.idv = Vec::new(),
        _ => {}
    }
}

/// The natural key of a row as text (`mdtrt_id=M1, feedetl_sn=3`) for quarantine reasons.
fn key_text<R: ClaimRecord>(row: &R) -> (String, String) {
    let v = serde_json::to_value(row).unwrap_or_default();
    let spec = R::TABLE.spec();
    let cols: Vec<&str> = if spec.key.is_empty() {
        spec.columns.iter().map(|c| c.name).collect()
    } else {
        spec.key.to_vec()
    };
    let text = cols
        .iter()
        .map(|c| {
            let x = &v[*c];
            format!(
                "{c}={}",
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string())
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    (cols.join("+"), text)
}

/// With `MEDFUND_LOAD_TRACE=1`, the time of each step of a table's staging on stderr (for
/// tuning and the benchmark notes).
struct Trace {
    table: Table,
    on: bool,
    last: std::cell::Cell<Instant>,
}

impl Trace {
    fn new(table: Table) -> Trace {
        let on = std::env::var("MEDFUND_LOAD_TRACE").as_deref() == Ok("1");
        Trace {
            table,
            on,
            last: std::cell::Cell::new(Instant::now()),
        }
    }
    fn at(&self, step: &str) {
        if self.on {
            let now = Instant::now();
            eprintln!(
                "{:>10} {step:<18} {:>7.2} s",
                self.table.name(),
                (now - self.last.get()).as_secs_f64()
            );
            self.last.set(now);
        }
    }
}

/// Deduplicates one claim table against the batch and the store and writes its new rows.
#[allow(clippy::too_many_arguments)]
fn stage<R: ClaimRecord>(
    ctx: &Ctx,
    rows: &[R],
    months: Option<&[Option<i32>]>,
    index: &[(i64, PathBuf)],
    source: String,
    origins: Option<&medfund_ingest::RowOrigins>,
    staged: &mut Vec<Staged>,
    report: &mut TableReport,
    quarantine: &mut Vec<QuarantineRow>,
) -> Result<(), StoreError> {
    let t = R::TABLE;
    let n = rows.len();
    if n == 0 {
        return Ok(());
    }
    ctx.report(Stage::Check, t, 0, n as u64);
    let month_of = |i: usize| -> Option<i32> {
        match months {
            Some(m) => m[i],
            None => rows[i].month().map(keys::month_index),
        }
    };
    let trace = Trace::new(t);
    let hashes = keys::hash_rows(rows);
    trace.at("hash");
    // Sort (key high, key low, row) triples in place: contiguous, so no cache miss per
    // comparison; the same order as sorting by the 128-bit key, first row first.
    let mut order: Vec<(u64, u64, u32)> = hashes
        .iter()
        .enumerate()
        .map(|(i, (k, _))| ((k >> 64) as u64, *k as u64, i as u32))
        .collect();
    order.par_sort_unstable();

    let report_q = std::cell::Cell::new(0u64);
    let quarantine_row = |i: usize, zh: String, en: String| -> QuarantineRow {
        let (cols, _) = key_text(&rows[i]);
        report_q.set(report_q.get() + 1);
        let (file, line) = match origins.and_then(|o| o.of(i)) {
            Some((f, l)) => (file_name(f), l),
            None => (source.clone(), 0),
        };
        QuarantineRow {
            table: t,
            file,
            line,
            column: Some(cols),
            reason_zh: zh,
            reason_en: en,
            raw: serde_json::to_string(&rows[i]).ok(),
        }
    };

    // Within the batch: the first row of a key stands; repeats are skipped or quarantined.
    let mut probe_keys: Vec<u128> = Vec::with_capacity(n);
    let mut probe_rows: Vec<u32> = Vec::with_capacity(n);
    let mut g = 0;
    while g < n {
        let first = order[g].2 as usize;
        let (k, c) = hashes[first];
        let mut h = g + 1;
        while h < n && (order[h].0, order[h].1) == (order[g].0, order[g].1) {
            let i = order[h].2 as usize;
            if hashes[i].1 == c {
                report.skipped += 1;
            } else {
                let (_, key) = key_text(&rows[i]);
                quarantine.push(quarantine_row(
                    i,
                    format!("同一批次内主键重复且内容不同（{key}），保留第一条"),
                    format!("duplicate key with different content within the batch ({key}); the first row was kept"),
                ));
            }
            h += 1;
        }
        if month_of(first).is_some() {
            probe_keys.push(k);
            probe_rows.push(first as u32);
        } else {
            let (_, key) = key_text(&rows[first]);
            quarantine.push(quarantine_row(
                first,
                format!("诊断所属的就诊记录不存在（{key}）"),
                format!("the diagnosis refers to a visit that is neither in the batch nor in the store ({key})"),
            ));
        }
        g = h;
    }
    drop(order);

    // Against the store.
    trace.at("sort+batch-dedup");
    let stored = keys::lookup(index, &probe_keys)?;
    trace.at("index lookup");
    let mut new_rows: Vec<u32> = Vec::with_capacity(probe_rows.len());
    for (j, s) in stored.iter().enumerate() {
        let i = probe_rows[j] as usize;
        match s {
            Some(s) if s.content == hashes[i].1 => report.skipped += 1,
            Some(s) => {
                let (_, key) = key_text(&rows[i]);
                quarantine.push(quarantine_row(
                    i,
                    format!("主键（{key}）已在第 {} 次加载中入库且内容不同；如需更正请联系数据提供方", s.load_id),
                    format!(
                        "key ({key}) was stored by load #{} with different content; corrections need a correcting record from the data provider",
                        s.load_id
                    ),
                ));
            }
            None => new_rows.push(i as u32),
        }
    }
    drop(stored);
    report.quarantined += report_q.get();
    new_rows.sort_unstable();
    ctx.report(Stage::Check, t, n as u64, n as u64);
    if new_rows.is_empty() {
        return Ok(());
    }

    trace.at("classify");
    // Write the new rows, one file group per month.
    let mut by_month: BTreeMap<i32, Vec<u32>> = BTreeMap::new();
    for &i in &new_rows {
        by_month
            .entry(month_of(i as usize).expect("checked above"))
            .or_default()
            .push(i);
    }
    let jobs: Vec<(i32, usize, &[u32])> = by_month
        .iter()
        .flat_map(|(m, idx)| {
            idx.chunks(FILE_ROWS)
                .enumerate()
                .map(move |(k, c)| (*m, k, c))
        })
        .collect();
    let (data, load_id) = (ctx.data, ctx.load_id);
    let written: Vec<Result<Staged, StoreError>> = jobs
        .par_iter()
        .map(|(m, k, idx)| {
            let month = keys::month_from_index(*m).to_string();
            let rel = format!(
                "claims/{}/{}/part-{}-{}.parquet",
                t.name(),
                month,
                load_id,
                k
            );
            let path = data.join(&rel);
            let tmp = path.with_extension("parquet.tmp");
            let bytes = write_parquet(&tmp, rows, idx)?;
            Ok(Staged {
                tmp,
                path,
                rel,
                table: t,
                month,
                kind: "data",
                rows: idx.len() as u64,
                bytes,
            })
        })
        .collect();
    for w in written {
        staged.push(w?);
    }
    trace.at("parquet");
    let mut entries: Vec<Entry> = new_rows
        .iter()
        .map(|&i| {
            let i = i as usize;
            Entry {
                key: hashes[i].0,
                content: hashes[i].1,
                month: month_of(i).expect("checked above"),
            }
        })
        .collect();
    let rel = format!("index/{}/keys-{}.bin", t.name(), ctx.load_id);
    let path = ctx.data.join(&rel);
    let dir = path.parent().expect("index dir");
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    let tmp = path.with_extension("bin.tmp");
    let bytes = keys::write_index(&tmp, &mut entries)?;
    staged.push(Staged {
        tmp,
        path,
        rel,
        table: t,
        month: String::new(),
        kind: "keys",
        rows: entries.len() as u64,
        bytes,
    });
    report.loaded += new_rows.len() as u64;
    trace.at("key index");
    ctx.report(Stage::Write, t, n as u64, n as u64);
    Ok(())
}

fn write_parquet<R: ClaimRecord>(tmp: &Path, rows: &[R], idx: &[u32]) -> Result<u64, StoreError> {
    let dir = tmp.parent().expect("month dir");
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    let file = File::create(tmp).map_err(|e| StoreError::io(tmp, e))?;
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_created_by("medfund-store".into());
    // Identifiers (visit, settlement, person, prescription ids, traceability codes) are nearly
    // unique per row group: a dictionary only costs time before Parquet falls back to plain.
    for c in R::TABLE.spec().columns {
        let near_unique = matches!(c.kind, Kind::Id | Kind::TraceCodes) && c.name != "feedetl_sn";
        if near_unique {
            props = props.set_column_dictionary_enabled(ColumnPath::from(c.name), false);
        }
    }
    let props = props.build();
    let mut w = ArrowWriter::try_new(file, arrow_schema(R::TABLE), Some(props))?;
    for chunk in idx.chunks(WRITE_CHUNK) {
        let refs: Vec<&R> = chunk.iter().map(|&i| &rows[i as usize]).collect();
        w.write(&R::to_arrow(&refs)?)?;
    }
    let file = w.into_inner()?;
    file.sync_all().map_err(|e| StoreError::io(tmp, e))?;
    Ok(file.metadata().map_err(|e| StoreError::io(tmp, e))?.len())
}

/// Writes the quarantine report: UTF-8 with a byte-order mark so Excel shows the Chinese text.
pub(crate) fn write_quarantine_csv(path: &Path, rows: &[QuarantineRow]) -> Result<(), StoreError> {
    use std::io::Write;
    let dir = path.parent().expect("quarantine dir");
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    let io = |e| StoreError::io(path, e);
    let f = File::create(path).map_err(io)?;
    let mut buf = std::io::BufWriter::new(f);
    buf.write_all("\u{feff}".as_bytes()).map_err(io)?;
    let mut w = csv::Writer::from_writer(buf);
    let e = |e: csv::Error| StoreError::io(path, std::io::Error::other(e));
    w.write_record([
        "table",
        "file",
        "line",
        "column",
        "reason_zh",
        "reason_en",
        "raw",
    ])
    .map_err(e)?;
    for q in rows {
        w.write_record([
            q.table.name(),
            &q.file,
            &q.line.to_string(),
            q.column.as_deref().unwrap_or(""),
            &q.reason_zh,
            &q.reason_en,
            q.raw.as_deref().unwrap_or(""),
        ])
        .map_err(e)?;
    }
    let buf = w
        .into_inner()
        .map_err(|x| StoreError::io(path, x.into_error()))?;
    let f = buf
        .into_inner()
        .map_err(|x| StoreError::io(path, x.into_error()))?;
    f.sync_all().map_err(io)?;
    Ok(())
}

// ---- reading ---------------------------------------------------------------------------------

fn read_files<R: ClaimRecord>(files: &[PathBuf]) -> Result<Vec<R>, StoreError> {
    let parts: Vec<Vec<R>> = files
        .par_iter()
        .map(|p| -> Result<Vec<R>, StoreError> {
            let f = File::open(p).map_err(|e| StoreError::io(p, e))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(f)?
                .with_batch_size(64 * 1024)
                .build()?;
            let mut out = Vec::new();
            for b in reader {
                out.extend(R::from_arrow(&b?)?);
            }
            Ok(out)
        })
        .collect::<Result<_, _>>()?;
    Ok(parts.into_iter().flatten().collect())
}

/// Reads the given files of a claim table into the batch.
pub(crate) fn read_table(t: Table, files: &[PathBuf], batch: &mut Batch) -> Result<(), StoreError> {
    fn put<R: ClaimRecord>(files: &[PathBuf], batch: &mut Batch) -> Result<(), StoreError> {
        *R::rows(batch) = read_files::<R>(files)?;
        Ok(())
    }
    match t {
        Table::Mdtrt => put::<Mdtrt>(files, batch),
        Table::Diag => put::<Diag>(files, batch),
        Table::Setl => put::<Setl>(files, batch),
        Table::Fee => put::<Fee>(files, batch),
        Table::Rx => put::<Rx>(files, batch),
        Table::InvPurc => put::<InvPurc>(files, batch),
        Table::InvStock => put::<InvStock>(files, batch),
        Table::Idv => put::<Idv>(files, batch),
        _ => Ok(()),
    }
}

// ---- history ---------------------------------------------------------------------------------

pub(crate) fn load_runs(store: &mut Store) -> Result<Vec<LoadRun>, StoreError> {
    let runs = store.db.query(
        "SELECT id, started_at, finished_at, batch_dir, status, rows_read, rows_loaded, rows_skipped, rows_updated, \
         rows_quarantined, unknown_catalog_codes, quarantine_csv FROM load_run ORDER BY id",
        &[],
    )?;
    let mut files: BTreeMap<i64, Vec<SourceInfo>> = BTreeMap::new();
    for r in store.db.query(
        "SELECT load_id, file, sha256, bytes FROM load_file ORDER BY load_id, file",
        &[],
    )? {
        files.entry(r.int(0)).or_default().push(SourceInfo {
            file: r.text(1),
            sha256: r.text(2),
            bytes: r.int(3) as u64,
        });
    }
    let mut tables: BTreeMap<i64, Vec<TableReport>> = BTreeMap::new();
    for r in store.db.query(
        "SELECT load_id, table_name, rows_read, rows_loaded, rows_skipped, rows_updated, rows_quarantined \
         FROM load_table_stat ORDER BY load_id",
        &[],
    )? {
        tables.entry(r.int(0)).or_default().push(TableReport {
            table: Table::from_name(&r.text(1)),
            read: r.int(2) as u64,
            loaded: r.int(3) as u64,
            skipped: r.int(4) as u64,
            updated: r.int(5) as u64,
            quarantined: r.int(6) as u64,
        });
    }
    for v in tables.values_mut() {
        v.sort_by_key(|r| r.table);
    }
    Ok(runs
        .iter()
        .map(|r| {
            let id = r.int(0);
            LoadRun {
                id,
                started_at: r.text(1),
                finished_at: r.text(2),
                batch_dir: r.text(3),
                status: r.text(4),
                rows_read: r.int(5) as u64,
                rows_loaded: r.int(6) as u64,
                rows_skipped: r.int(7) as u64,
                rows_updated: r.int(8) as u64,
                rows_quarantined: r.int(9) as u64,
                unknown_catalog_codes: r.int(10) as u64,
                quarantine_csv: r.opt_text(11).map(|p| store.data.join(p)),
                files: files.remove(&id).unwrap_or_default(),
                tables: tables.remove(&id).unwrap_or_default(),
            }
        })
        .collect())
}

pub(crate) fn quarantine_rows(
    store: &mut Store,
    load_id: i64,
) -> Result<Vec<QuarantineRow>, StoreError> {
    Ok(store
        .db
        .query(
            "SELECT table_name, file, line, column_name, reason_zh, reason_en, raw FROM quarantine WHERE load_id = $1 ORDER BY id",
            &[load_id.into()],
        )?
        .iter()
        .map(|r| QuarantineRow {
            table: Table::from_name(&r.text(0)).unwrap_or(Table::Fee),
            file: r.text(1),
            line: r.int(2) as u64,
            column: r.opt_text(3),
            reason_zh: r.text(4),
            reason_en: r.text(5),
            raw: r.opt_text(6),
        })
        .collect())
}

/// Writes every row of one claim table of `batch` to a single Parquet file in the store's
/// schema (see [`crate::claims::arrow_schema`]); returns its size in bytes. medfund-ingest reads
/// such a file back as `<table>.parquet` of a batch, so this also converts a CSV batch to Parquet.
pub fn export_parquet(batch: &Batch, table: Table, path: &Path) -> Result<u64, StoreError> {
    fn all<R: ClaimRecord>(rows: &[R], path: &Path) -> Result<u64, StoreError> {
        let idx: Vec<u32> = (0..rows.len() as u32).collect();
        write_parquet(path, rows, &idx)
    }
    match table {
        Table::Mdtrt => all(&batch.mdtrt, path),
        Table::Diag => all(&batch.diag, path),
        Table::Setl => all(&batch.setl, path),
        Table::Fee => all(&batch.fee, path),
        Table::Rx => all(&batch.rx, path),
        Table::InvPurc => all(&batch.inv_purc, path),
        Table::InvStock => all(&batch.inv_stock, path),
        Table::Idv => all(&batch.idv, path),
        t => Err(StoreError::Invalid(format!(
            "{} 不是理赔明细表，没有 Parquet 格式 / {} is not a claim table",
            t.zh(),
            t.name()
        ))),
    }
}
