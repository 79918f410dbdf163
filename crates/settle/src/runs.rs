//! Stored settlement runs (结算批次) and their approval status, in the operational database
//! (`medfund-db`: SQLite by default, PostgreSQL as the server option).
//!
//! A run is one settlement of one kind (`budget`, `drg`, `dip`) and year with its lines. It starts
//! as `draft`; the workflow's approval chain drives it with [`set_status`]:
//!
//! ```text
//! draft ──submit──▶ submitted ──approve──▶ approved (final)
//!   ▲                   │
//!   └──── reopen ◀── rejected ◀──reject──┘
//! ```
//!
//! Internal control (内控, seeds 000/001): the person who approves or rejects a run must not be
//! the person who submitted it, and every change is kept in `settle_status_log`.
//!
//! ```
//! use medfund_db::Db;
//! use medfund_settle::runs::{self, RunStatus};
//! let mut db = Db::open_memory().unwrap();
//! runs::migrate(&mut db).unwrap();
//! assert!(runs::list_runs(&mut db, &runs::RunFilter::default()).unwrap().is_empty());
//! ```

use crate::budget::{Assessment, BudgetLine};
use crate::points::{InstitutionLine, PointSettlement, PointValue, Points};
use crate::rate::Rate;
use crate::source::Scheme;
use medfund_contract::{Code, Fen};
use medfund_db::{Db, DbError, Row, Value};
use serde::{Deserialize, Serialize};

/// Schema of the settlement tables (component `settle`). Shipped migrations are never edited.
pub const MIGRATIONS: &[(u32, &str)] = &[
    (
        1,
        "CREATE TABLE settle_run (
        id {{ID}},
        kind TEXT NOT NULL,
        year BIGINT NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        status_at TEXT NOT NULL,
        status_by TEXT NOT NULL,
        submitted_by TEXT,
        source TEXT NOT NULL,
        institutions BIGINT NOT NULL,
        total_payable BIGINT NOT NULL,
        budget BIGINT,
        point_value BIGINT,
        total_points BIGINT,
        cases BIGINT,
        residual BIGINT,
        params TEXT NOT NULL
    );
    CREATE INDEX settle_run_kind_year ON settle_run (kind, year);
    CREATE TABLE settle_budget_line (
        run_id BIGINT NOT NULL REFERENCES settle_run (id),
        fixmedins_code TEXT NOT NULL,
        cap_in BIGINT NOT NULL,
        cap_out BIGINT NOT NULL,
        cap BIGINT NOT NULL,
        actual_in BIGINT NOT NULL,
        actual_out BIGINT NOT NULL,
        actual BIGINT NOT NULL,
        assessment TEXT NOT NULL,
        reward BIGINT NOT NULL,
        overage BIGINT NOT NULL,
        overage_in BIGINT NOT NULL,
        overage_out BIGINT NOT NULL,
        bears_in BIGINT NOT NULL,
        bears_out BIGINT NOT NULL,
        institution_bears BIGINT NOT NULL,
        fund_pays_overage BIGINT NOT NULL,
        payable BIGINT NOT NULL,
        prepaid BIGINT,
        balance BIGINT,
        PRIMARY KEY (run_id, fixmedins_code)
    );
    CREATE TABLE settle_point_line (
        run_id BIGINT NOT NULL REFERENCES settle_run (id),
        fixmedins_code TEXT NOT NULL,
        cases BIGINT NOT NULL,
        points BIGINT NOT NULL,
        payment BIGINT NOT NULL,
        prepaid BIGINT NOT NULL,
        balance BIGINT NOT NULL,
        PRIMARY KEY (run_id, fixmedins_code)
    );
    CREATE TABLE settle_point_group (
        run_id BIGINT NOT NULL REFERENCES settle_run (id),
        grp TEXT NOT NULL,
        hosp_lv BIGINT NOT NULL,
        cases BIGINT NOT NULL,
        mean_cost BIGINT NOT NULL,
        base_points BIGINT NOT NULL,
        small_group BIGINT NOT NULL,
        level_cases BIGINT NOT NULL,
        level_mean_cost BIGINT NOT NULL,
        factor BIGINT NOT NULL,
        PRIMARY KEY (run_id, grp, hosp_lv)
    );
    CREATE TABLE settle_status_log (
        id {{ID}},
        run_id BIGINT NOT NULL REFERENCES settle_run (id),
        from_status TEXT,
        to_status TEXT NOT NULL,
        actor TEXT NOT NULL,
        at TEXT NOT NULL,
        reason TEXT
    );
    CREATE INDEX settle_status_log_run ON settle_status_log (run_id);",
    ),
    // The point settlement's total case cost, so an exported stored run shows M exactly.
    (2, "ALTER TABLE settle_run ADD COLUMN total_cost BIGINT"),
];

/// Errors of the run store, each saying what to do.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("数据库错误 / database error: {0}")]
    Db(#[from] DbError),
    #[error(
        "结算批次 {0} 不存在，请用 `medfund settle runs` 查看批次号 / settlement run {0} not found"
    )]
    NotFound(i64),
    #[error("结算批次 {id} 当前为「{from}」，不能变更为「{to}」 / run {id} cannot go from {from} to {to}")]
    Transition {
        id: i64,
        from: RunStatus,
        to: RunStatus,
    },
    #[error("内控要求：审批人不能是提交人 {user}，请由另一名审核人操作 / the approver must not be the submitter ({user})")]
    SameUser { user: String },
    #[error("操作人不能为空 / a user name is required")]
    NoUser,
    #[error("结算批次数据损坏 / stored run is damaged: {0}")]
    Corrupt(String),
}

/// Result of run-store operations.
pub type Result<T, E = RunError> = std::result::Result<T, E>;

/// The approval status of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// 草稿
    Draft,
    /// 已提交待审
    Submitted,
    /// 已审批
    Approved,
    /// 已退回
    Rejected,
}

impl RunStatus {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            RunStatus::Draft => "draft",
            RunStatus::Submitted => "submitted",
            RunStatus::Approved => "approved",
            RunStatus::Rejected => "rejected",
        }
    }
    /// Chinese label.
    pub fn zh(self) -> &'static str {
        match self {
            RunStatus::Draft => "草稿",
            RunStatus::Submitted => "待审批",
            RunStatus::Approved => "已审批",
            RunStatus::Rejected => "已退回",
        }
    }
    /// Parses a code (`draft`, `submitted`, `approved`, `rejected`).
    pub fn parse(s: &str) -> Option<RunStatus> {
        match s.trim() {
            "draft" => Some(RunStatus::Draft),
            "submitted" => Some(RunStatus::Submitted),
            "approved" => Some(RunStatus::Approved),
            "rejected" => Some(RunStatus::Rejected),
            _ => None,
        }
    }
    /// Whether a run may move from `self` to `to`.
    pub fn can_become(self, to: RunStatus) -> bool {
        use RunStatus::*;
        matches!(
            (self, to),
            (Draft, Submitted) | (Submitted, Approved) | (Submitted, Rejected) | (Rejected, Draft)
        )
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.zh(), self.code())
    }
}

/// What a stored run holds.
#[derive(Clone, Copy, Debug)]
pub enum RunData<'a> {
    /// A total budget settlement.
    Budget(&'a [BudgetLine]),
    /// A DRG or DIP settlement.
    Points(Scheme, &'a PointSettlement),
}

impl RunData<'_> {
    /// `budget`, `drg` or `dip`.
    pub fn kind(&self) -> &'static str {
        match self {
            RunData::Budget(_) => "budget",
            RunData::Points(s, _) => s.code(),
        }
    }
}

/// Who stored a run, for which year, from what, with which parameters.
#[derive(Clone, Debug)]
pub struct RunMeta<'a> {
    pub year: i32,
    pub user: &'a str,
    /// `store` or the input file.
    pub source: &'a str,
    /// The policy parameters used (JSON), kept with the run for audit.
    pub params: serde_json::Value,
}

/// A stored run's header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    pub id: i64,
    /// `budget`, `drg` or `dip`.
    pub kind: String,
    pub year: i32,
    pub status: RunStatus,
    pub created_at: String,
    pub created_by: String,
    pub status_at: String,
    pub status_by: String,
    pub submitted_by: Option<String>,
    pub source: String,
    pub institutions: u64,
    /// Σ payable (budget) or Σ payments (DRG/DIP).
    pub total_payable: Fen,
    pub budget: Option<Fen>,
    pub point_value: Option<PointValue>,
    pub total_points: Option<Points>,
    pub cases: Option<u64>,
    pub residual: Option<Fen>,
    /// Σ cost of the cases (DRG/DIP).
    pub total_cost: Option<Fen>,
    pub params: serde_json::Value,
}

/// Creates or upgrades the settlement tables.
pub fn migrate(db: &mut Db) -> Result<()> {
    db.migrate("settle", MIGRATIONS)?;
    Ok(())
}

fn fen(v: Fen) -> Value {
    Value::Int(v.0)
}

/// Stores a settlement as a new `draft` run with all its lines (one transaction); returns its id.
pub fn store_run(db: &mut Db, meta: &RunMeta, data: RunData) -> Result<i64> {
    if meta.user.trim().is_empty() {
        return Err(RunError::NoUser);
    }
    migrate(db)?;
    let now = medfund_db::now_text();
    db.transaction(|db| -> Result<i64> {
        let (institutions, total, budget, v, pts, cases, residual, cost) = match data {
            RunData::Budget(lines) => {
                let t = crate::budget::totals(lines);
                (lines.len() as i64, t.payable, None, None, None, None, None, None)
            }
            RunData::Points(_, r) => (
                r.institutions.len() as i64,
                r.paid,
                Some(r.budget.0),
                Some(r.point_value.0),
                Some(r.total_points.0),
                Some(r.cases as i64),
                Some(r.residual.0),
                Some(r.total_cost.0),
            ),
        };
        let row = db.query_one(
            "INSERT INTO settle_run (kind, year, status, created_at, created_by, status_at, status_by, source, \
             institutions, total_payable, budget, point_value, total_points, cases, residual, params, total_cost) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
            &[
                data.kind().into(),
                (meta.year as i64).into(),
                RunStatus::Draft.code().into(),
                now.clone().into(),
                meta.user.into(),
                now.clone().into(),
                meta.user.into(),
                meta.source.into(),
                institutions.into(),
                fen(total),
                budget.into(),
                v.into(),
                pts.into(),
                cases.into(),
                residual.into(),
                meta.params.to_string().into(),
                cost.into(),
            ],
        )?;
        let id = row.int(0);
        match data {
            RunData::Budget(lines) => {
                for l in lines {
                    db.execute(
                        "INSERT INTO settle_budget_line (run_id, fixmedins_code, cap_in, cap_out, cap, actual_in, \
                         actual_out, actual, assessment, reward, overage, overage_in, overage_out, bears_in, bears_out, \
                         institution_bears, fund_pays_overage, payable, prepaid, balance) VALUES ($1, $2, $3, $4, $5, \
                         $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
                        &[
                            id.into(),
                            l.fixmedins_code.as_str().into(),
                            fen(l.cap_in),
                            fen(l.cap_out),
                            fen(l.cap),
                            fen(l.actual_in),
                            fen(l.actual_out),
                            fen(l.actual),
                            l.assessment.code().into(),
                            fen(l.reward),
                            fen(l.overage),
                            fen(l.overage_in),
                            fen(l.overage_out),
                            fen(l.bears_in),
                            fen(l.bears_out),
                            fen(l.institution_bears),
                            fen(l.fund_pays_overage),
                            fen(l.payable),
                            l.prepaid.map(|p| p.0).into(),
                            l.balance.map(|p| p.0).into(),
                        ],
                    )?;
                }
            }
            RunData::Points(_, r) => {
                for i in &r.institutions {
                    db.execute(
                        "INSERT INTO settle_point_line (run_id, fixmedins_code, cases, points, payment, prepaid, balance) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        &[
                            id.into(),
                            i.fixmedins_code.as_str().into(),
                            (i.cases as i64).into(),
                            i.points.0.into(),
                            fen(i.payment),
                            fen(i.prepaid),
                            fen(i.balance),
                        ],
                    )?;
                }
                for g in &r.groups {
                    for f in &g.factors {
                        db.execute(
                            "INSERT INTO settle_point_group (run_id, grp, hosp_lv, cases, mean_cost, base_points, \
                             small_group, level_cases, level_mean_cost, factor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                            &[
                                id.into(),
                                g.group.as_str().into(),
                                (f.hosp_lv as i64).into(),
                                (g.cases as i64).into(),
                                fen(g.mean_cost),
                                g.base_points.0.into(),
                                g.small_group.into(),
                                (f.cases as i64).into(),
                                fen(f.mean_cost),
                                f.factor.0.into(),
                            ],
                        )?;
                    }
                }
            }
        }
        db.execute(
            "INSERT INTO settle_status_log (run_id, from_status, to_status, actor, at, reason) VALUES ($1, $2, $3, $4, $5, $6)",
            &[id.into(), Value::Null, RunStatus::Draft.code().into(), meta.user.into(), now.clone().into(), Value::Null],
        )?;
        Ok(id)
    })
}

const RUN_COLUMNS: &str =
    "id, kind, year, status, created_at, created_by, status_at, status_by, submitted_by, source, \
     institutions, total_payable, budget, point_value, total_points, cases, residual, params, total_cost";

fn run_of(r: &Row) -> Result<RunInfo> {
    let status = r.text_of("status");
    Ok(RunInfo {
        id: r.int_of("id"),
        kind: r.text_of("kind"),
        year: r.int_of("year") as i32,
        status: RunStatus::parse(&status)
            .ok_or_else(|| RunError::Corrupt(format!("status '{status}'")))?,
        created_at: r.text_of("created_at"),
        created_by: r.text_of("created_by"),
        status_at: r.text_of("status_at"),
        status_by: r.text_of("status_by"),
        submitted_by: r.opt_text_of("submitted_by"),
        source: r.text_of("source"),
        institutions: r.int_of("institutions") as u64,
        total_payable: Fen(r.int_of("total_payable")),
        budget: r.opt_int_of("budget").map(Fen),
        point_value: r.opt_int_of("point_value").map(PointValue),
        total_points: r.opt_int_of("total_points").map(Points),
        cases: r.opt_int_of("cases").map(|c| c as u64),
        residual: r.opt_int_of("residual").map(Fen),
        total_cost: r.opt_int_of("total_cost").map(Fen),
        params: serde_json::from_str(&r.text_of("params")).unwrap_or(serde_json::Value::Null),
    })
}

/// Which runs [`list_runs`] returns (all when every field is `None`).
#[derive(Clone, Debug, Default)]
pub struct RunFilter {
    pub kind: Option<String>,
    pub year: Option<i32>,
    pub status: Option<RunStatus>,
}

/// Runs, newest first.
pub fn list_runs(db: &mut Db, filter: &RunFilter) -> Result<Vec<RunInfo>> {
    migrate(db)?;
    let mut conds = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    if let Some(k) = &filter.kind {
        params.push(k.as_str().into());
        conds.push(format!("kind = ${}", params.len()));
    }
    if let Some(y) = filter.year {
        params.push((y as i64).into());
        conds.push(format!("year = ${}", params.len()));
    }
    if let Some(s) = filter.status {
        params.push(s.code().into());
        conds.push(format!("status = ${}", params.len()));
    }
    let wh = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    let rows = db.query(
        &format!("SELECT {RUN_COLUMNS} FROM settle_run{wh} ORDER BY id DESC"),
        &params,
    )?;
    rows.iter().map(run_of).collect()
}

/// One run's header.
pub fn get_run(db: &mut Db, id: i64) -> Result<RunInfo> {
    migrate(db)?;
    let row = db
        .query_opt(
            &format!("SELECT {RUN_COLUMNS} FROM settle_run WHERE id = $1"),
            &[id.into()],
        )?
        .ok_or(RunError::NotFound(id))?;
    run_of(&row)
}

/// Moves a run to `to` on behalf of `user` (see the module documentation for the allowed moves
/// and the two-person rule); returns the updated header.
pub fn set_status(
    db: &mut Db,
    id: i64,
    to: RunStatus,
    user: &str,
    reason: Option<&str>,
) -> Result<RunInfo> {
    if user.trim().is_empty() {
        return Err(RunError::NoUser);
    }
    migrate(db)?;
    db.transaction(|db| -> Result<RunInfo> {
        let run = get_run(db, id)?;
        if !run.status.can_become(to) {
            return Err(RunError::Transition { id, from: run.status, to });
        }
        if matches!(to, RunStatus::Approved | RunStatus::Rejected) && run.submitted_by.as_deref() == Some(user) {
            return Err(RunError::SameUser { user: user.to_string() });
        }
        let now = medfund_db::now_text();
        let submitted_by: Value = match to {
            RunStatus::Submitted => user.into(),
            RunStatus::Draft => Value::Null,
            _ => run.submitted_by.clone().into(),
        };
        // The status in WHERE makes a concurrent change fail instead of being overwritten.
        let n = db.execute(
            "UPDATE settle_run SET status = $1, status_at = $2, status_by = $3, submitted_by = $4 WHERE id = $5 AND status = $6",
            &[to.code().into(), now.clone().into(), user.into(), submitted_by, id.into(), run.status.code().into()],
        )?;
        if n != 1 {
            return Err(RunError::Transition { id, from: run.status, to });
        }
        db.execute(
            "INSERT INTO settle_status_log (run_id, from_status, to_status, actor, at, reason) VALUES ($1, $2, $3, $4, $5, $6)",
            &[id.into(), run.status.code().into(), to.code().into(), user.into(), now.into(), reason.into()],
        )?;
        get_run(db, id)
    })
}

/// One change of a run's status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub from: Option<RunStatus>,
    pub to: RunStatus,
    pub actor: String,
    pub at: String,
    pub reason: Option<String>,
}

/// A run's status history, oldest first.
pub fn status_history(db: &mut Db, id: i64) -> Result<Vec<StatusChange>> {
    migrate(db)?;
    let rows = db.query(
        "SELECT from_status, to_status, actor, at, reason FROM settle_status_log WHERE run_id = $1 ORDER BY id",
        &[id.into()],
    )?;
    Ok(rows
        .iter()
        .map(|r| StatusChange {
            from: r.opt_text(0).and_then(|s| RunStatus::parse(&s)),
            to: RunStatus::parse(&r.text(1)).unwrap_or(RunStatus::Draft),
            actor: r.text(2),
            at: r.text(3),
            reason: r.opt_text(4),
        })
        .collect())
}

/// The lines of a stored budget run, by institution.
pub fn budget_lines(db: &mut Db, id: i64) -> Result<Vec<BudgetLine>> {
    migrate(db)?;
    let rows = db.query(
        "SELECT fixmedins_code, cap_in, cap_out, cap, actual_in, actual_out, actual, assessment, reward, overage, \
         overage_in, overage_out, bears_in, bears_out, institution_bears, fund_pays_overage, payable, prepaid, balance \
         FROM settle_budget_line WHERE run_id = $1 ORDER BY fixmedins_code",
        &[id.into()],
    )?;
    rows.iter()
        .map(|r| {
            let a = r.text(7);
            Ok(BudgetLine {
                fixmedins_code: Code::from(r.text(0)),
                cap_in: Fen(r.int(1)),
                cap_out: Fen(r.int(2)),
                cap: Fen(r.int(3)),
                actual_in: Fen(r.int(4)),
                actual_out: Fen(r.int(5)),
                actual: Fen(r.int(6)),
                assessment: a.parse::<Assessment>().map_err(RunError::Corrupt)?,
                reward: Fen(r.int(8)),
                overage: Fen(r.int(9)),
                overage_in: Fen(r.int(10)),
                overage_out: Fen(r.int(11)),
                bears_in: Fen(r.int(12)),
                bears_out: Fen(r.int(13)),
                institution_bears: Fen(r.int(14)),
                fund_pays_overage: Fen(r.int(15)),
                payable: Fen(r.int(16)),
                prepaid: r.opt_int(17).map(Fen),
                balance: r.opt_int(18).map(Fen),
            })
        })
        .collect()
}

/// The institution lines of a stored DRG/DIP run.
pub fn point_lines(db: &mut Db, id: i64) -> Result<Vec<InstitutionLine>> {
    migrate(db)?;
    let rows = db.query(
        "SELECT fixmedins_code, cases, points, payment, prepaid, balance FROM settle_point_line WHERE run_id = $1 \
         ORDER BY fixmedins_code",
        &[id.into()],
    )?;
    Ok(rows
        .iter()
        .map(|r| InstitutionLine {
            fixmedins_code: Code::from(r.text(0)),
            cases: r.int(1) as u64,
            points: Points(r.int(2)),
            payment: Fen(r.int(3)),
            prepaid: Fen(r.int(4)),
            balance: Fen(r.int(5)),
        })
        .collect())
}

/// One row of a stored point table (a group at one hospital level).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredGroup {
    pub group: String,
    pub hosp_lv: u8,
    pub cases: u64,
    pub mean_cost: Fen,
    pub base_points: Points,
    pub small_group: bool,
    pub level_cases: u64,
    pub level_mean_cost: Fen,
    pub factor: Rate,
}

/// The point table of a stored DRG/DIP run.
pub fn point_groups(db: &mut Db, id: i64) -> Result<Vec<StoredGroup>> {
    migrate(db)?;
    let rows = db.query(
        "SELECT grp, hosp_lv, cases, mean_cost, base_points, small_group, level_cases, level_mean_cost, factor \
         FROM settle_point_group WHERE run_id = $1 ORDER BY grp, hosp_lv",
        &[id.into()],
    )?;
    Ok(rows
        .iter()
        .map(|r| StoredGroup {
            group: r.text(0),
            hosp_lv: r.int(1) as u8,
            cases: r.int(2) as u64,
            mean_cost: Fen(r.int(3)),
            base_points: Points(r.int(4)),
            small_group: r.int(5) != 0,
            level_cases: r.int(6) as u64,
            level_mean_cost: Fen(r.int(7)),
            factor: Rate(r.int(8)),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::{settle, BudgetInput};
    use crate::points::{settle_points, Case};
    use crate::policy::{BudgetPolicy, PointPolicy};

    fn budget_lines_fixture() -> Vec<BudgetLine> {
        let i = BudgetInput {
            fixmedins_code: "H33060400001".into(),
            cap_in: Fen::from_yuan(1_000_000),
            cap_out: Fen::from_yuan(200_000),
            approved_extra: Fen::ZERO,
            actual_in: Fen::from_yuan(1_050_000),
            actual_out: Fen::from_yuan(250_000),
            assessment: Assessment::Some,
            prepaid: Some(Fen::from_yuan(1_200_000)),
        };
        vec![settle(&i, &BudgetPolicy::default()).unwrap()]
    }

    fn exercise(db: &mut Db) {
        let lines = budget_lines_fixture();
        let meta = RunMeta {
            year: 2024,
            user: "张三",
            source: "store",
            params: serde_json::json!({"reward_share": "0.3"}),
        };
        let id = store_run(db, &meta, RunData::Budget(&lines)).unwrap();
        let run = get_run(db, id).unwrap();
        assert_eq!(
            (run.kind.as_str(), run.year, run.status),
            ("budget", 2024, RunStatus::Draft)
        );
        assert_eq!(run.total_payable, Fen::from_yuan(1_280_000));
        assert_eq!(run.params["reward_share"], "0.3");
        assert_eq!(budget_lines(db, id).unwrap(), lines);

        // draft → approved is not a move; submit first.
        assert!(matches!(
            set_status(db, id, RunStatus::Approved, "李四", None),
            Err(RunError::Transition { .. })
        ));
        set_status(db, id, RunStatus::Submitted, "张三", None).unwrap();
        // The submitter cannot approve their own run.
        assert!(matches!(
            set_status(db, id, RunStatus::Approved, "张三", None),
            Err(RunError::SameUser { .. })
        ));
        let r = set_status(db, id, RunStatus::Rejected, "李四", Some("奖励口径需复核")).unwrap();
        assert_eq!(r.status, RunStatus::Rejected);
        set_status(db, id, RunStatus::Draft, "张三", None).unwrap();
        set_status(db, id, RunStatus::Submitted, "张三", None).unwrap();
        let r = set_status(db, id, RunStatus::Approved, "李四", None).unwrap();
        assert_eq!(
            (r.status, r.status_by.as_str()),
            (RunStatus::Approved, "李四")
        );
        // Approved is final.
        assert!(matches!(
            set_status(db, id, RunStatus::Draft, "李四", None),
            Err(RunError::Transition { .. })
        ));
        let h = status_history(db, id).unwrap();
        let moves: Vec<RunStatus> = h.iter().map(|c| c.to).collect();
        use RunStatus::*;
        assert_eq!(
            moves,
            vec![Draft, Submitted, Rejected, Draft, Submitted, Approved]
        );
        assert_eq!(h[2].reason.as_deref(), Some("奖励口径需复核"));

        let cases: Vec<Case> = (0..5)
            .map(|i| Case {
                setl_id: format!("S{i}").into(),
                fixmedins_code: if i < 2 { "H1" } else { "H2" }.into(),
                hosp_lv: if i < 2 { 1 } else { 2 },
                group: "GZ13".into(),
                total_cost: Fen::from_yuan(100 + i as i64),
                prepaid: Fen::ZERO,
            })
            .collect();
        let r = settle_points(&cases, Fen::from_yuan(1_000), &PointPolicy::default()).unwrap();
        let id2 = store_run(
            db,
            &RunMeta {
                year: 2024,
                user: "张三",
                source: "cases.csv",
                params: serde_json::json!({}),
            },
            RunData::Points(Scheme::Drg, &r),
        )
        .unwrap();
        assert_eq!(point_lines(db, id2).unwrap(), r.institutions);
        let g = point_groups(db, id2).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].base_points, r.groups[0].base_points);
        let run2 = get_run(db, id2).unwrap();
        assert_eq!(
            (run2.point_value, run2.total_points, run2.cases),
            (Some(r.point_value), Some(r.total_points), Some(5))
        );
        // Costs 100 + 101 + 102 + 103 + 104 yuan.
        assert_eq!(run2.total_cost, Some(Fen::from_yuan(510)));
        assert_eq!(get_run(db, id).unwrap().total_cost, None);

        let all = list_runs(db, &RunFilter::default()).unwrap();
        assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), vec![id2, id]);
        let drg = list_runs(
            db,
            &RunFilter {
                kind: Some("drg".into()),
                year: Some(2024),
                status: Some(Draft),
            },
        )
        .unwrap();
        assert_eq!(drg.len(), 1);
        assert!(list_runs(
            db,
            &RunFilter {
                year: Some(2023),
                ..Default::default()
            }
        )
        .unwrap()
        .is_empty());
        assert!(matches!(get_run(db, 999), Err(RunError::NotFound(999))));
        assert!(matches!(
            store_run(db, &RunMeta { user: " ", ..meta }, RunData::Budget(&lines)),
            Err(RunError::NoUser)
        ));
    }

    #[test]
    fn runs_on_sqlite() {
        let mut db = Db::open_memory().unwrap();
        exercise(&mut db);
    }

    #[test]
    fn runs_on_postgres() {
        let Some(url) = medfund_db::test_pg_url() else {
            return;
        };
        let url = medfund_db::test_pg_schema(&url, "settle_runs_test").unwrap();
        let mut db = Db::open(&url).unwrap();
        exercise(&mut db);
    }
}
