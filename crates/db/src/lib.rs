//! # medfund-db
//!
//! One small SQL layer over the two operational stores medfund supports: SQLite (a file on disk,
//! the embedded default) and PostgreSQL (the server option). Callers write one SQL text with
//! `$1, $2, …` placeholders (both engines accept them), pass [`Value`]s, and read [`Row`]s.
//! Schema changes are versioned migrations per component ([`Db::migrate`]).
//!
//! ```
//! use medfund_db::{Db, Value};
//! let mut db = Db::open_memory().unwrap();
//! db.migrate("demo", &[(1, "CREATE TABLE t (id {{ID}}, name TEXT NOT NULL, fen BIGINT)")]).unwrap();
//! db.execute("INSERT INTO t (name, fen) VALUES ($1, $2)", &[Value::from("甲"), Value::from(1230i64)]).unwrap();
//! let rows = db.query("SELECT name, fen FROM t WHERE fen > $1", &[Value::from(0i64)]).unwrap();
//! assert_eq!(rows[0].text(0), "甲");
//! assert_eq!(rows[0].int(1), 1230);
//! ```
//!
//! Portability rules for SQL written against this layer:
//! - placeholders are `$1..$n`, each number used in increasing order of first appearance;
//! - types: `BIGINT` for integers, money (fen) and booleans (0/1), `TEXT` for everything else
//!   (dates as ISO text sort correctly); no floating point for money;
//! - `{{ID}}` in migrations expands to an auto-increment primary key column type;
//! - `INSERT … ON CONFLICT … DO NOTHING/UPDATE` and `RETURNING` work on both.

use std::path::Path;

/// Errors from either engine, with the statement that failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("SQLite: {source} (in: {sql})")]
    Sqlite {
        source: rusqlite::Error,
        sql: String,
    },
    #[error("PostgreSQL: {source} (in: {sql})")]
    Postgres {
        source: postgres::Error,
        sql: String,
    },
    #[error("cannot open database '{target}': {message}")]
    Open { target: String, message: String },
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = DbError> = std::result::Result<T, E>;

/// A parameter or a column value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Value {
        Value::Int(v as i64)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::Int(v as i64)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(v as i64)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map(Into::into).unwrap_or(Value::Null)
    }
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Text(t) => t.parse().ok(),
            Value::Null => None,
        }
    }
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Int(i) => Some(i.to_string()),
            Value::Text(t) => Some(t.clone()),
            Value::Null => None,
        }
    }
}

/// One result row; columns by position or by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub columns: std::sync::Arc<Vec<String>>,
    pub values: Vec<Value>,
}

impl Row {
    fn idx(&self, name: &str) -> usize {
        self.columns
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no column '{name}' in result ({:?})", self.columns))
    }
    /// Value at a position.
    pub fn get(&self, i: usize) -> &Value {
        &self.values[i]
    }
    /// Value of a named column (panics on a name the query did not select: a programming error).
    pub fn col(&self, name: &str) -> &Value {
        &self.values[self.idx(name)]
    }
    /// Integer at a position; NULL reads as 0.
    pub fn int(&self, i: usize) -> i64 {
        self.values[i].as_int().unwrap_or(0)
    }
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        self.values[i].as_int()
    }
    /// Text at a position; NULL reads as "".
    pub fn text(&self, i: usize) -> String {
        self.values[i].as_text().unwrap_or_default()
    }
    pub fn opt_text(&self, i: usize) -> Option<String> {
        self.values[i].as_text()
    }
    /// Integer of a named column.
    pub fn int_of(&self, name: &str) -> i64 {
        self.int(self.idx(name))
    }
    /// Text of a named column.
    pub fn text_of(&self, name: &str) -> String {
        self.text(self.idx(name))
    }
    pub fn opt_text_of(&self, name: &str) -> Option<String> {
        self.opt_text(self.idx(name))
    }
    pub fn opt_int_of(&self, name: &str) -> Option<i64> {
        self.opt_int(self.idx(name))
    }
}

/// Which engine a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
}

/// A connection to the operational store.
pub struct Db {
    conn: Conn,
    in_tx: bool,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({:?})", self.backend())
    }
}

impl Db {
    /// Opens `postgres://…`/`postgresql://…` URLs with PostgreSQL; anything else (optionally
    /// prefixed `sqlite:`) is a SQLite file path, created if missing.
    pub fn open(target: &str) -> Result<Db> {
        if target.starts_with("postgres://") || target.starts_with("postgresql://") {
            let client = postgres::Client::connect(target, postgres::NoTls).map_err(|e| DbError::Open {
                target: redact(target),
                message: format!("{e}. Check that the server runs and the URL (user, password, database) is right."),
            })?;
            Ok(Db {
                conn: Conn::Postgres(Box::new(client)),
                in_tx: false,
            })
        } else {
            Db::open_sqlite(Path::new(target.strip_prefix("sqlite:").unwrap_or(target)))
        }
    }

    /// Opens (creating) a SQLite file with WAL journaling and foreign keys on.
    pub fn open_sqlite(path: &Path) -> Result<Db> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| DbError::Open {
                    target: path.display().to_string(),
                    message: format!("cannot create directory {}: {e}", dir.display()),
                })?;
            }
        }
        let c = rusqlite::Connection::open(path).map_err(|e| DbError::Open {
            target: path.display().to_string(),
            message: e.to_string(),
        })?;
        Db::init_sqlite(c)
    }

    /// An in-memory SQLite database (tests, examples).
    pub fn open_memory() -> Result<Db> {
        let c = rusqlite::Connection::open_in_memory().map_err(|e| DbError::Open {
            target: ":memory:".into(),
            message: e.to_string(),
        })?;
        Db::init_sqlite(c)
    }

    fn init_sqlite(c: rusqlite::Connection) -> Result<Db> {
        c.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| sqlite_err(e, "busy_timeout"))?;
        c.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        )
        .map_err(|e| sqlite_err(e, "PRAGMA"))?;
        Ok(Db {
            conn: Conn::Sqlite(c),
            in_tx: false,
        })
    }

    pub fn backend(&self) -> Backend {
        match self.conn {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs one statement; returns the number of rows changed.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        match &mut self.conn {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql).map_err(|e| sqlite_err(e, sql))?;
                let n = st
                    .execute(rusqlite::params_from_iter(params.iter().map(SqliteValue)))
                    .map_err(|e| sqlite_err(e, sql))?;
                Ok(n as u64)
            }
            Conn::Postgres(c) => {
                let p: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|v| v as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                c.execute(sql, &p).map_err(|e| pg_err(e, sql))
            }
        }
    }

    /// Runs a query and collects its rows.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match &mut self.conn {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql).map_err(|e| sqlite_err(e, sql))?;
                let columns: std::sync::Arc<Vec<String>> =
                    std::sync::Arc::new(st.column_names().map(|s| s.to_string()).collect());
                let n = columns.len();
                let mut rows = st
                    .query(rusqlite::params_from_iter(params.iter().map(SqliteValue)))
                    .map_err(|e| sqlite_err(e, sql))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next().map_err(|e| sqlite_err(e, sql))? {
                    let mut values = Vec::with_capacity(n);
                    for i in 0..n {
                        use rusqlite::types::ValueRef;
                        values.push(match r.get_ref(i).map_err(|e| sqlite_err(e, sql))? {
                            ValueRef::Null => Value::Null,
                            ValueRef::Integer(i) => Value::Int(i),
                            ValueRef::Real(f) => Value::Text(f.to_string()),
                            ValueRef::Text(t) => {
                                Value::Text(String::from_utf8_lossy(t).into_owned())
                            }
                            ValueRef::Blob(b) => {
                                Value::Text(String::from_utf8_lossy(b).into_owned())
                            }
                        });
                    }
                    out.push(Row {
                        columns: columns.clone(),
                        values,
                    });
                }
                Ok(out)
            }
            Conn::Postgres(c) => {
                let p: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|v| v as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                let rows = c.query(sql, &p).map_err(|e| pg_err(e, sql))?;
                let columns: std::sync::Arc<Vec<String>> =
                    std::sync::Arc::new(match rows.first() {
                        Some(r) => r.columns().iter().map(|c| c.name().to_string()).collect(),
                        None => Vec::new(),
                    });
                rows.iter()
                    .map(|r| {
                        let values = (0..r.len())
                            .map(|i| pg_value(r, i))
                            .collect::<Result<Vec<_>>>()?;
                        Ok(Row {
                            columns: columns.clone(),
                            values,
                        })
                    })
                    .collect()
            }
        }
    }

    /// The first row, if any.
    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Exactly one row (an error otherwise).
    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row> {
        self.query_opt(sql, params)?
            .ok_or_else(|| DbError::Other(format!("expected one row from: {sql}")))
    }

    /// Runs several `;`-separated statements without parameters (DDL).
    pub fn batch(&mut self, sql: &str) -> Result<()> {
        let sql = self.expand(sql);
        match &mut self.conn {
            Conn::Sqlite(c) => c.execute_batch(&sql).map_err(|e| sqlite_err(e, &sql)),
            Conn::Postgres(c) => c.batch_execute(&sql).map_err(|e| pg_err(e, &sql)),
        }
    }

    fn expand(&self, sql: &str) -> String {
        let id = match self.backend() {
            Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Backend::Postgres => "BIGSERIAL PRIMARY KEY",
        };
        sql.replace("{{ID}}", id)
    }

    /// Runs `f` inside a transaction: committed when it returns `Ok`, rolled back on `Err`
    /// (and on panic, by the engine when the connection drops). Nested calls join the outer one.
    pub fn transaction<T, E: From<DbError>>(
        &mut self,
        f: impl FnOnce(&mut Db) -> Result<T, E>,
    ) -> Result<T, E> {
        if self.in_tx {
            return f(self);
        }
        let begin = match self.backend() {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        self.raw(begin)?;
        self.in_tx = true;
        let r = f(self);
        self.in_tx = false;
        match r {
            Ok(v) => {
                self.raw("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.raw("ROLLBACK");
                Err(e)
            }
        }
    }

    fn raw(&mut self, sql: &str) -> Result<()> {
        match &mut self.conn {
            Conn::Sqlite(c) => c.execute_batch(sql).map_err(|e| sqlite_err(e, sql)),
            Conn::Postgres(c) => c.batch_execute(sql).map_err(|e| pg_err(e, sql)),
        }
    }

    /// Applies the migrations of `component` that are newer than its recorded version, each in
    /// its own transaction, in version order. Versions must increase; applied ones are never
    /// re-run, so a shipped migration is never edited — add a new one.
    pub fn migrate(&mut self, component: &str, migrations: &[(u32, &str)]) -> Result<()> {
        self.batch(
            "CREATE TABLE IF NOT EXISTS schema_migration (component TEXT NOT NULL, version BIGINT NOT NULL, \
             applied_at TEXT NOT NULL, PRIMARY KEY (component, version))",
        )?;
        let current = self
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migration WHERE component = $1",
                &[component.into()],
            )?
            .int(0);
        let mut last = 0;
        for (v, sql) in migrations {
            if *v <= last {
                return Err(DbError::Other(format!(
                    "migrations of {component} must have increasing versions"
                )));
            }
            last = *v;
            if (*v as i64) <= current {
                continue;
            }
            self.transaction(|db| -> Result<()> {
                db.batch(sql)?;
                db.execute(
                    "INSERT INTO schema_migration (component, version, applied_at) VALUES ($1, $2, $3)",
                    &[component.into(), (*v as i64).into(), now_text().into()],
                )?;
                Ok(())
            })?;
        }
        Ok(())
    }

    /// The schema version of a component (0 when never migrated).
    pub fn schema_version(&mut self, component: &str) -> Result<i64> {
        Ok(self
            .query_opt(
                "SELECT MAX(version) FROM schema_migration WHERE component = $1",
                &[component.into()],
            )?
            .and_then(|r| r.opt_int(0))
            .unwrap_or(0))
    }
}

/// Local time as `YYYY-MM-DD HH:MM:SS` (the contract's time format), without a date crate.
pub fn now_text() -> String {
    // SQLite computes it the same way on every backend we use; keep one formatting path.
    let c = rusqlite::Connection::open_in_memory().expect("in-memory sqlite");
    c.query_row("SELECT datetime('now', 'localtime')", [], |r| {
        r.get::<_, String>(0)
    })
    .expect("sqlite datetime")
}

fn redact(url: &str) -> String {
    // Never print a password from a connection URL.
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

fn sqlite_err(source: rusqlite::Error, sql: &str) -> DbError {
    DbError::Sqlite {
        source,
        sql: sql.chars().take(300).collect(),
    }
}
fn pg_err(source: postgres::Error, sql: &str) -> DbError {
    DbError::Postgres {
        source,
        sql: sql.chars().take(300).collect(),
    }
}

struct SqliteValue<'a>(&'a Value);

impl rusqlite::ToSql for SqliteValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        })
    }
}

impl postgres::types::ToSql for Value {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>>
    {
        use postgres::types::{IsNull, Type};
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                _ => i.to_string().to_sql(ty, out),
            },
            Value::Text(t) => match *ty {
                Type::INT8 => t.parse::<i64>()?.to_sql(ty, out),
                Type::INT4 => t.parse::<i32>()?.to_sql(ty, out),
                _ => t.as_str().to_sql(ty, out),
            },
        }
    }
    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }
    postgres::types::to_sql_checked!();
}

fn pg_value(r: &postgres::Row, i: usize) -> Result<Value> {
    use postgres::types::Type;
    let ty = r.columns()[i].type_().clone();
    let e = |e: postgres::Error| pg_err(e, "reading a row");
    Ok(match ty {
        Type::INT8 => r
            .try_get::<_, Option<i64>>(i)
            .map_err(e)?
            .map(Value::Int)
            .unwrap_or(Value::Null),
        Type::INT4 => r
            .try_get::<_, Option<i32>>(i)
            .map_err(e)?
            .map(|v| Value::Int(v as i64))
            .unwrap_or(Value::Null),
        Type::INT2 => r
            .try_get::<_, Option<i16>>(i)
            .map_err(e)?
            .map(|v| Value::Int(v as i64))
            .unwrap_or(Value::Null),
        Type::BOOL => r
            .try_get::<_, Option<bool>>(i)
            .map_err(e)?
            .map(|v| Value::Int(v as i64))
            .unwrap_or(Value::Null),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => r
            .try_get::<_, Option<String>>(i)
            .map_err(e)?
            .map(Value::Text)
            .unwrap_or(Value::Null),
        other => {
            return Err(DbError::Other(format!(
                "column {} has type {other}; medfund SQL uses BIGINT and TEXT only",
                r.columns()[i].name()
            )))
        }
    })
}

/// The PostgreSQL URL for tests: `MEDFUND_TEST_PG_URL`, set by `scripts/test.sh` after it starts
/// a real server. When `MEDFUND_REQUIRE_PG=1` (the test script sets it) a missing URL is a test
/// failure, so CI cannot pass without exercising PostgreSQL; a developer running plain
/// `cargo test` gets `None` and a note.
pub fn test_pg_url() -> Option<String> {
    match std::env::var("MEDFUND_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("MEDFUND_REQUIRE_PG").as_deref() == Ok("1") {
                panic!("MEDFUND_REQUIRE_PG=1 but MEDFUND_TEST_PG_URL is not set");
            }
            eprintln!(
                "MEDFUND_TEST_PG_URL not set: run scripts/test.sh to test against PostgreSQL"
            );
            None
        }
    }
}

/// A fresh, empty schema on the test PostgreSQL server and a URL whose `search_path` points at
/// it, so parallel tests do not see each other's tables.
pub fn test_pg_schema(url: &str, schema: &str) -> Result<String> {
    let mut admin = Db::open(url)?;
    admin.batch(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    ))?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}options=-csearch_path%3D{schema}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(db: &mut Db) {
        db.migrate(
            "t",
            &[
                (1, "CREATE TABLE item (id {{ID}}, code TEXT NOT NULL UNIQUE, fen BIGINT, note TEXT)"),
                (2, "ALTER TABLE item ADD COLUMN flag BIGINT NOT NULL DEFAULT 0"),
            ],
        )
        .unwrap();
        // Re-running migrations is a no-op.
        db.migrate("t", &[(1, "CREATE TABLE item (x TEXT)"), (2, "SELECT 1")])
            .unwrap();
        assert_eq!(db.schema_version("t").unwrap(), 2);

        let id = db
            .query_one(
                "INSERT INTO item (code, fen, note, flag) VALUES ($1, $2, $3, $4) RETURNING id",
                &[
                    "0012".into(),
                    123_456_789_012i64.into(),
                    Value::Null,
                    true.into(),
                ],
            )
            .unwrap()
            .int(0);
        assert!(id > 0);
        let n = db
            .execute(
                "INSERT INTO item (code) VALUES ($1) ON CONFLICT (code) DO NOTHING",
                &["0012".into()],
            )
            .unwrap();
        assert_eq!(n, 0);
        let r = db
            .query_one(
                "SELECT code, fen, note, flag FROM item WHERE id = $1",
                &[id.into()],
            )
            .unwrap();
        assert_eq!(r.text_of("code"), "0012", "codes keep leading zeros");
        assert_eq!(r.int_of("fen"), 123_456_789_012);
        assert_eq!(r.opt_text_of("note"), None);
        assert_eq!(r.int_of("flag"), 1);

        // A failing transaction leaves nothing behind.
        let res: Result<()> = db.transaction(|db| {
            db.execute("INSERT INTO item (code) VALUES ($1)", &["A".into()])?;
            Err(DbError::Other("boom".into()))
        });
        assert!(res.is_err());
        assert_eq!(
            db.query_one("SELECT COUNT(*) FROM item", &[])
                .unwrap()
                .int(0),
            1
        );
        db.transaction(|db| {
            db.execute("INSERT INTO item (code) VALUES ($1)", &["B".into()])
                .map(|_| ())
        })
        .unwrap();
        assert_eq!(
            db.query_one("SELECT COUNT(*) FROM item", &[])
                .unwrap()
                .int(0),
            2
        );
        assert!(db.query("SELECT nope FROM item", &[]).is_err());
    }

    #[test]
    fn sqlite_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/medfund.sqlite");
        let mut db = Db::open(path.to_str().unwrap()).unwrap();
        assert_eq!(db.backend(), Backend::Sqlite);
        exercise(&mut db);
        drop(db);
        let mut db = Db::open(&format!("sqlite:{}", path.display())).unwrap();
        assert_eq!(
            db.query_one("SELECT COUNT(*) FROM item", &[])
                .unwrap()
                .int(0),
            2
        );
    }

    /// Runs against the real PostgreSQL that `scripts/test.sh` starts (MEDFUND_TEST_PG_URL).
    #[test]
    fn postgres_round_trip() {
        let Some(url) = test_pg_url() else { return };
        let mut db = Db::open(&test_pg_schema(&url, "medfund_db_test").unwrap()).unwrap();
        assert_eq!(db.backend(), Backend::Postgres);
        exercise(&mut db);
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://***@h/db");
    }
}
