//! # medfund-workflow
//!
//! What turns findings into recovered money and changed behaviour (DOMAIN.md §4.2, §7, §8; seeds
//! 000, 001, 003, 004): users and internal control, the national review procedure for suspects,
//! cases and on-site inspections, sanctions with multi-level approval and recovery tracking,
//! the personnel points ledger, institution credit and agreements, complaints and rewards,
//! multi-department sharing, and a hash-chained audit log.
//!
//! Everything lives in the operational store through [`medfund_db::Db`] (SQLite by default,
//! PostgreSQL as the server option). The domain API is the [`Workflow`] service: every call
//! takes an [`Actor`] (who, with which roles and scope, from where), checks permissions and
//! separation of duties here — not only in HTTP — and every change writes exactly one entry to
//! the audit log in the same transaction.
//!
//! ```
//! use medfund_db::Db;
//! use medfund_workflow::{Workflow, Policy, auth::seed_demo_users};
//! let mut db = Db::open_memory().unwrap();
//! seed_demo_users(&mut db, "H43010000001", "P43010000001").unwrap();
//! let mut wf = Workflow::new(&mut db, Policy::default()).unwrap();
//! let auditor = wf.verify_login("auditor", "auditor@Medfund1", "127.0.0.1").unwrap();
//! assert!(auditor.is_bureau());
//! assert!(medfund_workflow::auditlog::verify(wf.db()).is_ok());
//! ```

// State-transition helpers take the record, the target state, its time limit, the columns to
// set, the note and the audit detail; a parameter struct would only move that list around.
#![allow(clippy::too_many_arguments)]

pub mod auditlog;
pub mod auth;
pub mod cases;
pub mod cli;
pub mod complaint;
pub mod credit;
pub mod error;
pub mod points;
pub mod policy;
pub mod review;
pub mod sanction;
mod schema;
pub mod share;
pub mod util;

pub use auth::{Actor, Department, Perm, Role, Scope};
pub use error::{Result, WfError};
pub use policy::Policy;
pub use util::{Clock, Page, Paged, Ratio, StateMachine};

use chrono::{NaiveDate, NaiveDateTime};
use medfund_db::{Db, Row};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use util::{dt, parse_dt};

/// Creates or upgrades the workflow tables.
pub fn migrate(db: &mut Db) -> Result<()> {
    db.migrate("workflow", schema::MIGRATIONS)?;
    Ok(())
}

/// The workflow service over one connection to the operational store.
pub struct Workflow<'a> {
    pub(crate) db: &'a mut Db,
    pub(crate) policy: Policy,
    pub(crate) clock: Clock,
    pub(crate) data_dir: Option<PathBuf>,
}

/// What one mutating call changed, for its audit-log entry.
pub(crate) struct Change {
    entity: &'static str,
    entity_id: String,
    detail: serde_json::Value,
}

impl Change {
    pub(crate) fn new(
        entity: &'static str,
        id: impl ToString,
        detail: serde_json::Value,
    ) -> Change {
        Change {
            entity,
            entity_id: id.to_string(),
            detail,
        }
    }
}

impl<'a> Workflow<'a> {
    /// The service over `db` (tables are created or upgraded first).
    pub fn new(db: &'a mut Db, policy: Policy) -> Result<Workflow<'a>> {
        migrate(db)?;
        Ok(Workflow {
            db,
            policy,
            clock: Clock::System,
            data_dir: None,
        })
    }

    /// Where evidence and appeal documents are stored: `<dir>/evidence/`.
    pub fn with_data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Replaces the clock (tests, replays).
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    /// Fixes "now" (shorthand for `set_clock(Clock::Fixed(t))`).
    pub fn set_now(&mut self, t: NaiveDateTime) {
        self.clock = Clock::Fixed(t);
    }

    /// The current time of the service's clock.
    pub fn now(&self) -> NaiveDateTime {
        self.clock.now()
    }

    /// Today's date of the service's clock.
    pub fn today(&self) -> NaiveDate {
        self.now().date()
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The underlying connection (read-only helpers such as [`auditlog::verify`] take it).
    pub fn db(&mut self) -> &mut Db {
        self.db
    }

    /// Records in the audit log a change another bounded context made to its own records
    /// (e.g. a settlement run approved by medfund-settle), so every change to cases, points,
    /// sanctions and settlements is in the one hash chain. Call it inside the same transaction
    /// as the change ([`medfund_db::Db::transaction`] joins an outer transaction).
    ///
    /// ```
    /// use medfund_db::Db;
    /// use medfund_workflow::{auth::seed_demo_users, Policy, Workflow};
    /// let mut db = Db::open_memory().unwrap();
    /// seed_demo_users(&mut db, "H43010000001", "P43010000001").unwrap();
    /// let mut wf = Workflow::new(&mut db, Policy::default()).unwrap();
    /// let chief = wf.verify_login("chief", "chief@Medfund1", "127.0.0.1").unwrap();
    /// wf.record_external(&chief, "settlement.approved", "settle_run", "7", serde_json::json!({"to": "approved"})).unwrap();
    /// assert!(medfund_workflow::auditlog::verify(wf.db()).is_ok());
    /// ```
    pub fn record_external(
        &mut self,
        actor: &Actor,
        action: &str,
        entity: &'static str,
        entity_id: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        let id = entity_id.to_string();
        self.mutate(actor, action, |_| Ok(((), Change::new(entity, id, detail))))
    }

    /// Runs `f` in a transaction and appends its one audit-log entry there.
    pub(crate) fn mutate<T>(
        &mut self,
        actor: &Actor,
        action: &str,
        f: impl FnOnce(&mut Db) -> Result<(T, Change)>,
    ) -> Result<T> {
        let now = self.now();
        self.db.transaction(|db| {
            let (v, ch) = f(db)?;
            auditlog::append(db, now, actor, action, ch.entity, &ch.entity_id, &ch.detail)?;
            Ok(v)
        })
    }
}

/// One state change of a record (review, case, sanction, inspection, complaint, points).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When.
    pub at: NaiveDateTime,
    /// Who.
    pub actor: String,
    /// State before (none for creation).
    pub from_state: Option<String>,
    /// State after.
    pub to_state: String,
    /// Remark.
    pub note: Option<String>,
}

pub(crate) fn record_event(
    db: &mut Db,
    entity: &str,
    id: i64,
    at: NaiveDateTime,
    actor: &str,
    from: Option<&str>,
    to: &str,
    note: Option<&str>,
) -> Result<()> {
    db.execute(
        "INSERT INTO wf_event (entity, entity_id, at, actor, from_state, to_state, note) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[entity.into(), id.into(), dt(at).into(), actor.into(), from.into(), to.into(), note.into()],
    )?;
    Ok(())
}

pub(crate) fn events_of(db: &mut Db, entity: &str, id: i64) -> Result<Vec<Event>> {
    let rows = db.query(
        "SELECT * FROM wf_event WHERE entity = $1 AND entity_id = $2 ORDER BY id",
        &[entity.into(), id.into()],
    )?;
    Ok(rows
        .iter()
        .map(|r| Event {
            at: parse_dt(&r.text_of("at")),
            actor: r.text_of("actor"),
            from_state: r.opt_text_of("from_state"),
            to_state: r.text_of("to_state"),
            note: r.opt_text_of("note"),
        })
        .collect())
}

/// A stored file (appeal document, on-site evidence) and its SHA-256.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Id.
    pub id: i64,
    /// Record kind it belongs to (`review`, `case`, `inspection`).
    pub entity: String,
    /// Record id.
    pub entity_id: i64,
    /// `appeal`, `evidence`, …
    pub kind: String,
    /// Original file name.
    pub file_name: String,
    /// Path relative to the data directory.
    pub stored_path: String,
    /// SHA-256 of the content (hex).
    pub sha256: String,
    /// Size.
    pub size_bytes: i64,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When.
    pub uploaded_at: NaiveDateTime,
}

pub(crate) fn document_of(r: &Row) -> Document {
    Document {
        id: r.int_of("id"),
        entity: r.text_of("entity"),
        entity_id: r.int_of("entity_id"),
        kind: r.text_of("kind"),
        file_name: r.text_of("file_name"),
        stored_path: r.text_of("stored_path"),
        sha256: r.text_of("sha256"),
        size_bytes: r.int_of("size_bytes"),
        uploaded_by: r.text_of("uploaded_by"),
        uploaded_at: parse_dt(&r.text_of("uploaded_at")),
    }
}

pub(crate) fn documents_of(db: &mut Db, entity: &str, id: i64) -> Result<Vec<Document>> {
    let rows = db.query(
        "SELECT * FROM wf_document WHERE entity = $1 AND entity_id = $2 ORDER BY id",
        &[entity.into(), id.into()],
    )?;
    Ok(rows.iter().map(document_of).collect())
}

/// A file to attach: its name and bytes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Upload {
    /// Original file name (path components are dropped).
    pub file_name: String,
    /// Content.
    pub bytes: Vec<u8>,
}

impl Upload {
    /// Reads a file from disk.
    pub fn from_path(p: &std::path::Path) -> Result<Upload> {
        let bytes = std::fs::read(p).map_err(|e| WfError::Io(format!("{}: {e}", p.display())))?;
        let file_name = p
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        Ok(Upload { file_name, bytes })
    }
}

impl Workflow<'_> {
    /// Writes an upload to `<data>/evidence/<sha256>` (content-addressed: the same bytes are
    /// stored once) and returns (relative path, sha256). Called before the transaction that
    /// records it; a file without a row is harmless, a row without its file cannot happen.
    pub(crate) fn store_file(&self, up: &Upload) -> Result<(String, String)> {
        let dir = self.data_dir.as_ref().ok_or_else(|| {
            error::validation(
                "未配置数据目录，无法保存文件 / no data directory configured for stored files",
            )
        })?;
        if up.bytes.is_empty() {
            return Err(error::validation(format!(
                "文件 {} 为空 / the file is empty",
                up.file_name
            )));
        }
        let sha = util::sha256_hex(&up.bytes);
        let rel = format!("evidence/{sha}");
        let path = dir.join(&rel);
        if !path.exists() {
            std::fs::create_dir_all(dir.join("evidence"))
                .map_err(|e| WfError::Io(format!("{}: {e}", dir.display())))?;
            let tmp = dir.join(format!("evidence/.{sha}.tmp"));
            std::fs::write(&tmp, &up.bytes)
                .map_err(|e| WfError::Io(format!("{}: {e}", tmp.display())))?;
            std::fs::rename(&tmp, &path)
                .map_err(|e| WfError::Io(format!("{}: {e}", path.display())))?;
        }
        Ok((rel, sha))
    }

    /// Inserts document rows for stored files (inside a transaction).
    pub(crate) fn insert_documents(
        db: &mut Db,
        entity: &str,
        id: i64,
        kind: &str,
        files: &[(Upload, String, String)],
        by: &str,
        at: NaiveDateTime,
    ) -> Result<Vec<i64>> {
        let mut ids = vec![];
        for (up, rel, sha) in files {
            let name: String = up
                .file_name
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or("file")
                .to_string();
            let id = db
                .query_one(
                    "INSERT INTO wf_document (entity, entity_id, kind, file_name, stored_path, sha256, size_bytes, uploaded_by, uploaded_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    &[
                        entity.into(),
                        id.into(),
                        kind.into(),
                        name.into(),
                        rel.as_str().into(),
                        sha.as_str().into(),
                        (up.bytes.len() as i64).into(),
                        by.into(),
                        dt(at).into(),
                    ],
                )?
                .int(0);
            ids.push(id);
        }
        Ok(ids)
    }

    /// Recomputes a stored document's SHA-256 and compares it with the recorded one.
    pub fn verify_document(&mut self, actor: &Actor, id: i64) -> Result<bool> {
        if !actor.is_bureau() {
            return Err(WfError::NotFound(format!("文件 / document {id}")));
        }
        let r = self
            .db
            .query_opt("SELECT * FROM wf_document WHERE id = $1", &[id.into()])?
            .ok_or_else(|| WfError::NotFound(format!("文件 / document {id}")))?;
        let doc = document_of(&r);
        let dir = self
            .data_dir
            .as_ref()
            .ok_or_else(|| error::validation("未配置数据目录 / no data directory"))?;
        let bytes = std::fs::read(dir.join(&doc.stored_path))
            .map_err(|e| WfError::Io(format!("{}: {e}", doc.stored_path)))?;
        Ok(util::sha256_hex(&bytes) == doc.sha256)
    }
}

/// Something past (or near) its time limit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overdue {
    /// `review`, `case`, `sanction`, `complaint`.
    pub entity: String,
    /// Record id.
    pub id: i64,
    /// Its state (code).
    pub state: String,
    /// The institution concerned.
    pub fixmedins_code: Option<String>,
    /// Who should act (assignee or role).
    pub responsible: Option<String>,
    /// The time limit.
    pub due_at: NaiveDateTime,
    /// Whole days past the limit (negative: days left).
    pub days_over: i64,
    /// Chinese description.
    pub message: String,
}

impl Workflow<'_> {
    /// Every open item past its time limit (`include_due_soon`: also those due within
    /// `time_limits.due_soon` days), most overdue first: reviews, cases, complaints in their
    /// steps; rectification deadlines; unpaid recoveries past their due date.
    pub fn overdue(&mut self, actor: &Actor, include_due_soon: bool) -> Result<Vec<Overdue>> {
        if !actor.is_bureau() && actor.institution().is_none() {
            return Err(WfError::Forbidden(
                "仅监管人员和机构用户可查看超时提醒 / only bureau and institution users".into(),
            ));
        }
        let now = self.now();
        // Strictly past the limit is overdue; the limit itself is still on time.
        let horizon = if include_due_soon {
            util::plus_days(now, self.policy.time_limits.due_soon)
        } else {
            now
        };
        let mut out = vec![];
        let mut push = |entity: &str,
                        r: &Row,
                        due: NaiveDateTime,
                        state: String,
                        resp: Option<String>,
                        what: String| {
            let code = r.opt_text_of("fixmedins_code");
            if !actor.sees_institution(code.as_deref()) {
                return;
            }
            // Whole days, rounded up: one second late is one day late.
            let secs = (now - due).num_seconds();
            let days_over = if secs > 0 {
                (secs + 86_399) / 86_400
            } else {
                -((-secs + 86_399) / 86_400)
            };
            let message = if due < now {
                format!(
                    "{what}已超过办理时限 {} 天（时限 {}） / overdue by {days_over} days",
                    days_over,
                    dt(due)
                )
            } else {
                format!("{what}将于 {} 到期 / due soon", dt(due))
            };
            out.push(Overdue {
                entity: entity.into(),
                id: r.int_of("id"),
                state,
                fixmedins_code: code,
                responsible: resp,
                due_at: due,
                days_over,
                message,
            });
        };
        let h = dt(horizon);
        for r in self.db.query("SELECT * FROM wf_review WHERE due_at IS NOT NULL AND due_at < $1 AND state NOT IN ('decided', 'dismissed')", &[h.as_str().into()])? {
            let st = r.text_of("state");
            // Institutions are not told about suspects still in internal review.
            if !actor.is_bureau() && matches!(st.as_str(), "pending" | "first_reviewed") {
                continue;
            }
            let label = review::ReviewState::parse(&st).map(|s| s.zh()).unwrap_or("");
            let resp = match st.as_str() {
                "notified" => r.opt_text_of("fixmedins_code"),
                "investigating" => r.opt_text_of("investigator"),
                _ => r.opt_text_of("assigned_to"),
            };
            push("review", &r, parse_dt(&r.text_of("due_at")), st.clone(), resp, format!("疑点审核 #{}（{label}）", r.int_of("id")));
        }
        for r in self.db.query("SELECT * FROM wf_case WHERE due_at IS NOT NULL AND due_at < $1 AND state IN ('open', 'investigating')", &[h.as_str().into()])? {
            let st = r.text_of("state");
            push("case", &r, parse_dt(&r.text_of("due_at")), st, r.opt_text_of("assigned_to"), format!("案件 {}", r.text_of("case_no")));
        }
        // Complaints (often about the institution itself) are for bureau staff only.
        let complaints = if actor.is_bureau() {
            self.db.query("SELECT * FROM wf_complaint WHERE due_at IS NOT NULL AND due_at < $1 AND state = 'received'", &[h.as_str().into()])?
        } else {
            vec![]
        };
        for r in complaints {
            push(
                "complaint",
                &r,
                parse_dt(&r.text_of("due_at")),
                "received".into(),
                None,
                format!("投诉举报 {}", r.text_of("complaint_no")),
            );
        }
        let today = util::d(horizon.date());
        for r in self.db.query(
            "SELECT * FROM wf_sanction WHERE state = 'approved' AND ((kind = 'rectification' AND deadline < $1) OR (due_date IS NOT NULL AND due_date < $2))",
            &[today.as_str().into(), today.as_str().into()],
        )? {
            let kind = r.text_of("kind");
            let due_text = if kind == "rectification" { r.text_of("deadline") } else { r.text_of("due_date") };
            // A deadline is a whole day: it is overdue from the next day on.
            let due = util::parse_d(&due_text).and_hms_opt(23, 59, 59).unwrap_or_default();
            if due < now || include_due_soon {
                let label = sanction::SanctionKind::parse(&kind).map(|k| k.zh()).unwrap_or("");
                push("sanction", &r, due, "approved".into(), None, format!("处理措施 #{}（{label}）", r.int_of("id")));
            }
        }
        out.sort_by(|a, b| {
            b.days_over
                .cmp(&a.days_over)
                .then(a.entity.cmp(&b.entity))
                .then(a.id.cmp(&b.id))
        });
        Ok(out)
    }
}
