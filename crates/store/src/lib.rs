//! # medfund-store
//!
//! The embedded store of medfund under one data directory (default `./medfund-data`):
//!
//! - `medfund.sqlite` — reference and operational data in SQL (institutions, persons,
//!   personnel, suspensions, catalog, fund months, budgets, load history, quarantine, findings
//!   and their review state). With a `postgres://` URL (`--db-url`, `MEDFUND_DB_URL`) the same
//!   tables live in PostgreSQL instead; the schema is one set of versioned migrations for both.
//! - `claims/<table>/<YYYY-MM>/part-<load_id>-<n>.parquet` — the claim tables (visits,
//!   diagnoses, settlements, fee lines, prescriptions, purchases, stocktakes, identity checks),
//!   partitioned by the month of their main time column. Only files listed in the SQL manifest
//!   (`claim_file`) are part of the store.
//! - `index/<table>/keys-<load_id>.bin` — the compact key index that makes re-loads idempotent.
//! - `quarantine/load-<id>.csv` — the quarantine report of each load.
//!
//! A load is atomic: new files are written under temporary names, fsynced, renamed, and made
//! visible by ONE SQL transaction (manifest rows + reference upserts + load history). A crash at
//! any point leaves the store as it was; files a crashed load left behind are deleted the next
//! time the store is opened.
//!
//! ```no_run
//! use medfund_store::{ClaimFilter, LoadOptions, Store};
//! use medfund_contract::{schema::Table, YearMonth};
//! let mut store = Store::open(std::path::Path::new("./medfund-data"))?;
//! let report = store.load_batch(std::path::Path::new("batch-2024-01"), &LoadOptions::default(), None)?;
//! println!("load #{}: {} rows loaded", report.load_id, report.total().loaded);
//! let jan = YearMonth::parse("2024-01").unwrap();
//! let batch = store.read_claims(&ClaimFilter { from: Some(jan), to: Some(jan), tables: vec![Table::Fee] })?;
//! println!("{} fee lines, {} institutions", batch.fee.len(), batch.fixmedins.len());
//! # Ok::<(), medfund_store::StoreError>(())
//! ```

pub mod claims;
pub mod cli;
mod findings;
mod keys;
mod load;
mod reference;
pub mod schema;

pub use findings::{AuditRunInfo, FindingFilter, FindingStatus, Review, StoredFinding};
pub use load::{
    export_parquet, LoadOptions, LoadReport, ParsedBatch, Progress, QuarantineRow, ReadStats,
    SourceInfo, Stage, StoredKeys, TableReport,
};

use medfund_contract::schema::Table;
use medfund_contract::{
    Batch, Budget, CatalogEntry, Finding, Fixmedins, FundMonth, Pract, PractSusp, Psn, YearMonth,
};
use medfund_db::{Db, Value};
use std::path::{Path, PathBuf};

/// Everything that can go wrong in the store, with what to do about it in the message.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("数据库错误 / database error: {0}")]
    Db(#[from] medfund_db::DbError),
    #[error("文件读写失败 / cannot access {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("Parquet 文件错误 / Parquet error: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("Arrow 错误 / Arrow error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("存储内容损坏 / the store is damaged: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Busy(String),
    #[error("批次无法读取 / the batch cannot be read: {0}")]
    Unreadable(String),
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which claim rows [`Store::read_claims`] returns: month partitions `from..=to` (open ends
/// when `None`) of `tables` (every claim table when empty).
#[derive(Clone, Debug, Default)]
pub struct ClaimFilter {
    pub from: Option<YearMonth>,
    pub to: Option<YearMonth>,
    pub tables: Vec<Table>,
}

impl ClaimFilter {
    /// Every month of every claim table.
    pub fn all() -> ClaimFilter {
        ClaimFilter::default()
    }
    /// Months `from..=to` of every claim table.
    pub fn months(from: YearMonth, to: YearMonth) -> ClaimFilter {
        ClaimFilter {
            from: Some(from),
            to: Some(to),
            tables: Vec::new(),
        }
    }
    fn wants(&self, t: Table) -> bool {
        self.tables.is_empty() || self.tables.contains(&t)
    }
    fn covers(&self, m: YearMonth) -> bool {
        self.from.is_none_or(|f| m >= f) && self.to.is_none_or(|t| m <= t)
    }
}

/// One row of the load history (`load_run`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LoadRun {
    pub id: i64,
    pub started_at: String,
    pub finished_at: String,
    pub batch_dir: String,
    pub status: String,
    pub rows_read: u64,
    pub rows_loaded: u64,
    pub rows_skipped: u64,
    pub rows_updated: u64,
    pub rows_quarantined: u64,
    pub unknown_catalog_codes: u64,
    /// Absolute path of the quarantine CSV, when the load quarantined rows.
    pub quarantine_csv: Option<PathBuf>,
    pub files: Vec<SourceInfo>,
    pub tables: Vec<TableReport>,
}

/// A claim file listed in the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimFile {
    pub path: PathBuf,
    pub table: Table,
    pub month: YearMonth,
    pub load_id: i64,
    pub rows: u64,
    pub bytes: u64,
}

/// The store: a data directory plus its SQL database.
pub struct Store {
    data: PathBuf,
    db: Db,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({}, {:?})", self.data.display(), self.db)
    }
}

/// Environment variable naming the SQL database (`postgres://…` or a SQLite path).
pub const DB_URL_ENV: &str = "MEDFUND_DB_URL";

impl Store {
    /// Opens (creating) the store in `data`. The SQL part is `<data>/medfund.sqlite`, or the
    /// database named by `MEDFUND_DB_URL` when that is set.
    pub fn open(data: &Path) -> Result<Store> {
        let env = std::env::var(DB_URL_ENV).ok().filter(|s| !s.is_empty());
        Store::open_with(data, env.as_deref())
    }

    /// Opens (creating) the store in `data` with its SQL part in `db_url` (`postgres://…`, or a
    /// SQLite file path; `None` = `<data>/medfund.sqlite`). Applies pending migrations and
    /// removes files a crashed load left behind.
    pub fn open_with(data: &Path, db_url: Option<&str>) -> Result<Store> {
        std::fs::create_dir_all(data).map_err(|e| StoreError::io(data, e))?;
        let data = std::fs::canonicalize(data).map_err(|e| StoreError::io(data, e))?;
        let db = match db_url {
            Some(url) => Db::open(url)?,
            None => Db::open_sqlite(&data.join("medfund.sqlite"))?,
        };
        let mut store = Store { data, db };
        store.db.migrate("store", schema::MIGRATIONS)?;
        // Only when no load is running (another process may be writing its files right now).
        if let Some(_lock) = load::LoadLock::try_acquire(&store.data)? {
            load::cleanup(&mut store)?;
        }
        Ok(store)
    }

    /// The data directory (absolute).
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The SQL connection, for crates that keep their own tables next to the store's (they
    /// migrate their own component with [`Db::migrate`]).
    pub fn db(&mut self) -> &mut Db {
        &mut self.db
    }

    /// Reads, validates and stores a batch directory (see `medfund_ingest` for the input rules).
    /// Bad rows are quarantined and never stop the load; the error cases are a batch that cannot
    /// be read at all, another load running on the same data directory, and I/O or database
    /// failures — in each case the store is left as it was.
    pub fn load_batch(
        &mut self,
        dir: &Path,
        opts: &LoadOptions,
        progress: Option<&dyn Fn(Progress)>,
    ) -> Result<LoadReport> {
        load::load_batch(self, dir, opts, progress)
    }

    /// Stores an already parsed batch (what [`Store::load_batch`] does after reading). `label`
    /// is recorded as the batch directory in the load history.
    pub fn load_parsed(
        &mut self,
        parsed: ParsedBatch,
        label: &str,
        progress: Option<&dyn Fn(Progress)>,
    ) -> Result<LoadReport> {
        let _lock = load::LoadLock::acquire(&self.data)?;
        load::cleanup(self)?;
        load::store_parsed(self, parsed, label, progress)
    }

    /// The keys the store already holds, for validating references of a new batch.
    pub fn stored_keys(&mut self) -> Result<StoredKeys> {
        load::stored_keys(self)
    }

    /// Claim rows of the filter's months and tables, with every reference table filled.
    pub fn read_claims(&mut self, filter: &ClaimFilter) -> Result<Batch> {
        let mut batch = Batch::default();
        reference::fill(&mut self.db, &mut batch)?;
        for t in Table::ALL
            .into_iter()
            .filter(|t| t.is_claim() && filter.wants(*t))
        {
            let files: Vec<PathBuf> = self
                .claim_file_list(t)?
                .into_iter()
                .filter(|f| filter.covers(f.month))
                .map(|f| f.path)
                .collect();
            load::read_table(t, &files, &mut batch)?;
        }
        Ok(batch)
    }

    /// Absolute paths of the Parquet files of a claim table, oldest month first (for DataFusion:
    /// register exactly these files, never a directory listing, which may include a load in
    /// progress).
    pub fn claim_files(&mut self, table: Table) -> Result<Vec<PathBuf>> {
        Ok(self
            .claim_file_list(table)?
            .into_iter()
            .map(|f| f.path)
            .collect())
    }

    /// The manifest entries of a claim table's Parquet files.
    pub fn claim_file_list(&mut self, table: Table) -> Result<Vec<ClaimFile>> {
        let rows = self.db.query(
            "SELECT path, month, load_id, row_count, bytes FROM claim_file WHERE table_name = $1 AND kind = 'data' \
             ORDER BY month, load_id, path",
            &[table.name().into()],
        )?;
        rows.iter()
            .map(|r| {
                Ok(ClaimFile {
                    path: self.data.join(r.text(0)),
                    table,
                    month: YearMonth::parse(&r.text(1)).map_err(|_| {
                        StoreError::Corrupt(format!("claim_file month '{}'", r.text(1)))
                    })?,
                    load_id: r.int(2),
                    rows: r.int(3) as u64,
                    bytes: r.int(4) as u64,
                })
            })
            .collect()
    }

    /// Months that hold rows of a claim table.
    pub fn months(&mut self, table: Table) -> Result<Vec<YearMonth>> {
        let mut m: Vec<YearMonth> = self
            .claim_file_list(table)?
            .into_iter()
            .map(|f| f.month)
            .collect();
        m.dedup();
        Ok(m)
    }

    /// Designated institutions, by code.
    pub fn fixmedins(&mut self) -> Result<Vec<Fixmedins>> {
        reference::fixmedins(reference::select(&mut self.db, Table::Fixmedins, "", &[])?)
    }
    /// Insured persons, by psn_no.
    pub fn psn(&mut self) -> Result<Vec<Psn>> {
        reference::psn(reference::select(&mut self.db, Table::Psn, "", &[])?)
    }
    /// Personnel with payment qualification, by code.
    pub fn pract(&mut self) -> Result<Vec<Pract>> {
        reference::pract(reference::select(&mut self.db, Table::Pract, "", &[])?)
    }
    /// Suspensions and terminations received from the national registry.
    pub fn pract_susp(&mut self) -> Result<Vec<PractSusp>> {
        reference::pract_susp(reference::select(&mut self.db, Table::PractSusp, "", &[])?)
    }
    /// The knowledge-base catalog, by code.
    pub fn catalog(&mut self) -> Result<Vec<CatalogEntry>> {
        reference::catalog(reference::select(&mut self.db, Table::Catalog, "", &[])?)
    }
    /// Fund months of both funds, by insutype and month.
    pub fn fund_months(&mut self) -> Result<Vec<FundMonth>> {
        reference::fund_month(reference::select(&mut self.db, Table::FundMonth, "", &[])?)
    }
    /// Total-budget caps of one year, by institution.
    pub fn budgets(&mut self, year: i32) -> Result<Vec<Budget>> {
        reference::budget(reference::select(
            &mut self.db,
            Table::Budget,
            "WHERE year = $1",
            &[Value::Int(year as i64)],
        )?)
    }

    /// Saves an audit run's findings; returns the run id. Findings already stored (same
    /// `finding_id`) are updated and keep their review state; new ones start as `new`. Each
    /// finding's month is taken from its visit (or settlement) in the store when known, else
    /// from `evidence.details.month`.
    pub fn save_findings(&mut self, run: &AuditRunInfo, findings: &[Finding]) -> Result<i64> {
        let keys = load::claim_month_index(self)?;
        let with_month: Vec<(Finding, Option<YearMonth>)> = findings
            .iter()
            .map(|f| (f.clone(), keys.month_of_finding(f)))
            .collect();
        findings::save(&mut self.db, run, &with_month)
    }

    /// Stored findings matching the filter, largest amount first.
    pub fn list_findings(&mut self, filter: &FindingFilter) -> Result<Vec<StoredFinding>> {
        findings::list(&mut self.db, filter)
    }

    /// Number of stored findings matching the filter (its limit and offset ignored).
    pub fn count_findings(&mut self, filter: &FindingFilter) -> Result<u64> {
        findings::count(&mut self.db, filter)
    }

    /// One stored finding.
    pub fn finding(&mut self, id: &str) -> Result<Option<StoredFinding>> {
        findings::get(&mut self.db, id)
    }

    /// Records a review decision (who, why, now) and makes it the finding's current status.
    pub fn set_finding_status(
        &mut self,
        id: &str,
        status: FindingStatus,
        user: &str,
        reason: Option<&str>,
    ) -> Result<()> {
        findings::set_status(&mut self.db, id, status, user, reason)
    }

    /// The review history of a finding, oldest first.
    pub fn finding_history(&mut self, id: &str) -> Result<Vec<Review>> {
        findings::history(&mut self.db, id)
    }

    /// The load history, oldest first.
    pub fn load_runs(&mut self) -> Result<Vec<LoadRun>> {
        load::load_runs(self)
    }

    /// The rows a load quarantined, in report order.
    pub fn quarantine(&mut self, load_id: i64) -> Result<Vec<QuarantineRow>> {
        load::quarantine_rows(self, load_id)
    }
}
