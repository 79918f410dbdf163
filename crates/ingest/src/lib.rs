//! # medfund-ingest
//!
//! Reads a **batch** — a directory of contract tables (DOMAIN.md §3) — into typed
//! [`medfund_contract::Batch`] records, validating every row and sending the rows that break the
//! contract to a **quarantine** with file, line, column and a bilingual reason. Nothing valid is
//! lost, nothing is silently dropped, and one bad row never stops the load.
//!
//! Each table is `<name>.csv` (UTF-8 or GBK, header row, RFC 4180 quoting), `<name>.parquet` or
//! `<name>.jsonl`, where `<name>` is [`Table::name`]. Extra columns are ignored; absent optional
//! columns are null; absent tables are empty.
//!
//! The CSV path is a parallel parser: the file is read in blocks, each block is split into
//! ~2 MB chunks at record boundaries (quote-aware) and the chunks are parsed on all cores.
//!
//! ```no_run
//! use medfund_ingest::{read_batch, Options};
//! let ing = read_batch(std::path::Path::new("batch/2024-03"), &Options::default()).unwrap();
//! println!("{} fee lines, {} quarantined", ing.batch.fee.len(), ing.quarantine.len());
//! medfund_ingest::write_quarantine_csv(std::path::Path::new("quarantine.csv"), &ing.quarantine).unwrap();
//! ```

mod compact;
mod csvfast;
mod fields;
mod jsonl;
mod keys;
mod load;
mod mapped;
mod pq;
mod prefault;
mod tables;

pub use compact::{FeeLine, FeeRest, NO_ROW};
pub use keys::{BatchKeys, KeyIndex};
use medfund_contract::schema::Table;
use medfund_contract::Batch;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// How a batch is read.
#[derive(Clone, Debug)]
pub struct Options {
    /// Worker threads for parsing; 0 = all cores.
    pub threads: usize,
    /// Check references between tables (fee → visit, visit → person, …). Default true.
    pub check_refs: bool,
    /// Compute the SHA-256 of every file for [`SourceFile::sha256`] (the store records it as
    /// the load's provenance). Default true; the batch audit turns it off since it keeps no
    /// provenance and the digest costs a tenth of the reading time.
    pub digests: bool,
    /// Hold the fee lines as [`FeeLine`]s in [`Ingested::fee_lines`] instead of records in
    /// `batch.fee`, for a reader that only audits them (a third of the memory). Needs
    /// `check_refs`. A fee table whose file order does not prove its keys distinct is read again
    /// as records, so duplicates are handled as usual. Default false.
    pub compact_fee: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: 0,
            check_refs: true,
            digests: true,
            compact_fee: false,
        }
    }
}

/// Keys already in the store from earlier loads, so that a batch may reference them (a fee line of
/// this month may belong to a visit loaded last month). Every method defaults to "not known".
pub trait KnownKeys: Sync {
    /// Whether person `psn_no` is known.
    fn has_psn(&self, psn_no: &str) -> bool {
        let _ = psn_no;
        false
    }
    /// Whether institution `code` is known.
    fn has_fixmedins(&self, code: &str) -> bool {
        let _ = code;
        false
    }
    /// Whether visit `mdtrt_id` is known.
    fn has_mdtrt(&self, mdtrt_id: &str) -> bool {
        let _ = mdtrt_id;
        false
    }
    /// Whether settlement `setl_id` is known.
    fn has_setl(&self, setl_id: &str) -> bool {
        let _ = setl_id;
        false
    }
    /// Whether catalog code `code` is known (only used to count unknown codes).
    fn has_catalog(&self, code: &str) -> bool {
        let _ = code;
        false
    }
}

/// No keys known beyond the batch itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoKnownKeys;
impl KnownKeys for NoKnownKeys {}

/// File format of a table file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `.csv`
    Csv,
    /// `.parquet`
    Parquet,
    /// `.jsonl`
    Jsonl,
}

impl Format {
    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Jsonl => "jsonl",
        }
    }
}

/// Counts for one table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Records read (header and blank lines excluded). `read = loaded + quarantined + duplicates`.
    pub read: u64,
    /// Records kept in the batch.
    pub loaded: u64,
    /// Records sent to the quarantine.
    pub quarantined: u64,
    /// Exact duplicate records dropped (same natural key and same content as an earlier record).
    pub duplicates: u64,
}

/// One file that was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    pub table: Table,
    pub path: PathBuf,
    pub format: Format,
    /// `UTF-8`, `UTF-8-BOM` or `GBK` for text files; `binary` for Parquet.
    pub encoding: String,
    /// File size in bytes.
    pub bytes: u64,
    /// Lowercase hex SHA-256 of the file bytes; empty when [`Options::digests`] is off.
    pub sha256: String,
}

/// A record that broke the contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quarantined {
    pub table: Table,
    pub file: PathBuf,
    /// 1-based physical line where the record starts (the CSV header is line 1) for CSV and
    /// JSON Lines; 1-based row number for Parquet.
    pub line: u64,
    /// The offending column, when one is to blame.
    pub column: Option<String>,
    /// Reason in Chinese.
    pub reason_zh: String,
    /// Reason in English.
    pub reason_en: String,
    /// The original record text (for Parquet: the row's columns as a JSON object).
    pub raw: String,
}

/// The result of reading a batch.
#[derive(Clone, Debug, Default)]
pub struct Ingested {
    /// Every valid record.
    pub batch: Batch,
    /// Every refused record, in table order, then file order.
    pub quarantine: Vec<Quarantined>,
    /// Counts per table (only tables that had a file).
    pub stats: BTreeMap<Table, TableStats>,
    /// The files read, in table order.
    pub sources: Vec<SourceFile>,
    /// Loaded fee lines whose (well-formed) `med_list_codg` is neither in the batch's catalog nor
    /// known to the store. Not bad input (DOMAIN.md §3), only counted.
    pub unknown_catalog_codes: u64,
    /// Key → row indexes of the referenced tables of `batch` (built anyway to check references;
    /// the audit reuses them). Row numbers are only valid while `batch` is not reordered.
    pub keys: BatchKeys,
    /// Per table, the file and line each row of `batch` came from, for rows refused by a later
    /// stage (the store's checks against earlier loads). Same row order as `batch`.
    pub origins: BTreeMap<Table, RowOrigins>,
    /// The fee lines, when read with [`Options::compact_fee`] (then `batch.fee` is empty), in
    /// file order like `batch.fee` would be.
    pub fee_lines: Option<Vec<FeeLine>>,
}

/// Where the rows of one table came from.
///
/// ```
/// use medfund_ingest::RowOrigins;
/// let o = RowOrigins { files: vec![(0, "a.csv".into()), (2, "b.parquet".into())], lines: vec![2, 3, 1] };
/// assert_eq!(o.of(1), Some((std::path::Path::new("a.csv"), 3)));
/// assert_eq!(o.of(2), Some((std::path::Path::new("b.parquet"), 1)));
/// assert_eq!(o.of(3), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowOrigins {
    /// (first row, file) of each file read, in order.
    pub files: Vec<(u32, PathBuf)>,
    /// The 1-based physical line where each row starts (the CSV header is line 1; for Parquet,
    /// the 1-based row number).
    pub lines: Vec<u32>,
}

impl RowOrigins {
    /// The file and line of row `row`.
    pub fn of(&self, row: usize) -> Option<(&Path, u64)> {
        let line = *self.lines.get(row)?;
        let f = self
            .files
            .partition_point(|(start, _)| *start as usize <= row);
        let (_, path) = self.files.get(f.checked_sub(1)?)?;
        Some((path.as_path(), u64::from(line)))
    }
}

impl Ingested {
    /// Total records quarantined over all tables.
    pub fn quarantined(&self) -> u64 {
        self.stats.values().map(|s| s.quarantined).sum()
    }
    /// Total records loaded over all tables.
    pub fn loaded(&self) -> u64 {
        self.stats.values().map(|s| s.loaded).sum()
    }
}

/// Why a batch could not be read at all. Row-level problems never end up here: they go to the
/// quarantine.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("批次目录不存在或不是目录：{0}。请检查路径。/ batch directory {0} does not exist or is not a directory; check the path.")]
    NoDirectory(PathBuf),
    #[error("目录 {0} 中没有任何表文件（应为 fee.csv、mdtrt.parquet、psn.jsonl 等，文件名见数据规范）。/ no table file in {0} (expected names like fee.csv, mdtrt.parquet, psn.jsonl; see the data contract).")]
    NoTables(PathBuf),
    #[error("无法读取文件 {path}：{source}。请检查文件是否存在及读取权限。/ cannot read {path}: {source}; check that it exists and is readable.")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("文件 {path} 的编码为 {detected}，既不是 UTF-8 也不是 GBK，无法读取。请另存为 UTF-8 后重新加载。/ {path} is encoded as {detected}, neither UTF-8 nor GBK; save it as UTF-8 and load again.")]
    Encoding { path: PathBuf, detected: String },
    #[error("文件 {path} 无法解析：{message}。请确认文件完整且格式与扩展名一致。/ cannot decode {path}: {message}; check that the file is complete and matches its extension.")]
    Undecodable { path: PathBuf, message: String },
    #[error("文件 {0} 的扩展名无法识别（应为 .csv、.parquet 或 .jsonl）。/ unknown file type {0} (expected .csv, .parquet or .jsonl).")]
    UnknownFormat(PathBuf),
    #[error("无法创建解析线程池：{0} / cannot start the parser threads: {0}")]
    Threads(String),
}

/// Reads a batch directory; references may only point inside the batch.
pub fn read_batch(dir: &Path, opts: &Options) -> Result<Ingested, BatchError> {
    read_batch_with(dir, opts, &NoKnownKeys)
}

/// Reads a batch directory; references may point inside the batch or to keys `known` to the store.
///
/// Tables are read in [`Table::ALL`] order (referenced tables first) so that a visit quarantined
/// for a bad reference makes its fee lines reference an unknown visit in turn.
pub fn read_batch_with(
    dir: &Path,
    opts: &Options,
    known: &dyn KnownKeys,
) -> Result<Ingested, BatchError> {
    if !dir.is_dir() {
        return Err(BatchError::NoDirectory(dir.to_path_buf()));
    }
    let mut files: Vec<(Table, PathBuf, Format)> = Vec::new();
    for t in Table::ALL {
        for f in [Format::Csv, Format::Parquet, Format::Jsonl] {
            let p = dir.join(format!("{}.{}", t.name(), f.extension()));
            if p.is_file() {
                files.push((t, p, f));
            }
        }
    }
    if files.is_empty() {
        return Err(BatchError::NoTables(dir.to_path_buf()));
    }
    with_threads(opts, || load::run(&files, opts, known))?
}

/// Reads a single table file (format from its extension). References are not checked, since the
/// other tables are not at hand; everything else is validated as in [`read_batch`].
pub fn read_table_file(path: &Path, table: Table, opts: &Options) -> Result<Ingested, BatchError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let format = match ext.as_str() {
        "csv" => Format::Csv,
        "parquet" => Format::Parquet,
        "jsonl" => Format::Jsonl,
        _ => return Err(BatchError::UnknownFormat(path.to_path_buf())),
    };
    if !path.is_file() {
        return Err(BatchError::Io {
            path: path.to_path_buf(),
            source: io::Error::new(io::ErrorKind::NotFound, "文件不存在 / file not found"),
        });
    }
    let files = [(table, path.to_path_buf(), format)];
    let opts = Options {
        check_refs: false,
        ..opts.clone()
    };
    with_threads(&opts, || load::run(&files, &opts, &NoKnownKeys))?
}

fn with_threads<T: Send>(opts: &Options, f: impl FnOnce() -> T + Send) -> Result<T, BatchError> {
    if opts.threads == 0 {
        Ok(f())
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads)
            .build()
            .map_err(|e| BatchError::Threads(e.to_string()))?;
        Ok(pool.install(f))
    }
}

/// Column names of the quarantine CSV, in order.
pub const QUARANTINE_COLUMNS: [&str; 7] = [
    "table",
    "file",
    "line",
    "column",
    "reason_zh",
    "reason_en",
    "raw",
];

/// Writes the quarantine as CSV (UTF-8, RFC 4180) with the columns [`QUARANTINE_COLUMNS`].
pub fn write_quarantine_csv(path: &Path, q: &[Quarantined]) -> io::Result<()> {
    let mut w = csv::Writer::from_path(path).map_err(csv_io)?;
    w.write_record(QUARANTINE_COLUMNS).map_err(csv_io)?;
    for r in q {
        let line = r.line.to_string();
        let file = r.file.display().to_string();
        w.write_record([
            r.table.name(),
            file.as_str(),
            line.as_str(),
            r.column.as_deref().unwrap_or(""),
            r.reason_zh.as_str(),
            r.reason_en.as_str(),
            r.raw.as_str(),
        ])
        .map_err(csv_io)?;
    }
    w.flush()
}

fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}
