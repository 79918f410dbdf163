//! Stored findings and their review state.
//!
//! A finding's id is deterministic (rule + keys, see `Finding::seal`), so a re-run of the audit
//! over the same data updates the same rows and keeps their review state; `first_run_id` says
//! when a finding was first seen and `run_id` when last.

use crate::StoreError;
use medfund_contract::finding::{Category, Evidence, Finding, Level, Outcome};
use medfund_contract::{Code, Fen, YearMonth};
use medfund_db::{Db, Row, Value};
use serde::{Deserialize, Serialize};

/// Review state of a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    /// Not reviewed yet (新发现).
    New,
    /// Confirmed by a reviewer (已确认).
    Confirmed,
    /// Dismissed by a reviewer (已排除).
    Dismissed,
}

impl FindingStatus {
    /// Code stored in SQL: `new`, `confirmed`, `dismissed`.
    pub fn code(self) -> &'static str {
        match self {
            FindingStatus::New => "new",
            FindingStatus::Confirmed => "confirmed",
            FindingStatus::Dismissed => "dismissed",
        }
    }
    /// Chinese label.
    pub fn zh(self) -> &'static str {
        match self {
            FindingStatus::New => "新发现",
            FindingStatus::Confirmed => "已确认",
            FindingStatus::Dismissed => "已排除",
        }
    }
    /// Parses a stored code.
    pub fn parse(s: &str) -> Option<FindingStatus> {
        match s {
            "new" => Some(FindingStatus::New),
            "confirmed" => Some(FindingStatus::Confirmed),
            "dismissed" => Some(FindingStatus::Dismissed),
            _ => None,
        }
    }
}

/// What an audit run was, recorded with its findings in `audit_run`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditRunInfo {
    /// What was audited: a batch directory, or e.g. `store 2024-01..2024-12`.
    pub source: String,
    /// `YYYY-MM-DD HH:MM:SS` local; empty = now.
    pub started_at: String,
    /// `YYYY-MM-DD HH:MM:SS` local; empty = now.
    pub finished_at: String,
    /// Rule library version or file.
    pub rules: Option<String>,
    pub note: Option<String>,
}

/// A finding with its review state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredFinding {
    pub finding: Finding,
    pub status: FindingStatus,
    pub reviewed_by: Option<String>,
    pub note: Option<String>,
    pub reviewed_at: Option<String>,
    /// Last audit run that produced it.
    pub run_id: i64,
    /// Month of the visit or settlement it is about, when known.
    pub month: Option<YearMonth>,
}

/// Which findings [`crate::Store::list_findings`] returns. Empty fields do not filter.
#[derive(Clone, Debug, Default)]
pub struct FindingFilter {
    pub category: Option<Category>,
    pub fixmedins_code: Option<String>,
    pub status: Option<FindingStatus>,
    pub month: Option<YearMonth>,
    pub run_id: Option<i64>,
    /// At most this many (all when `None`).
    pub limit: Option<usize>,
    pub offset: usize,
}

/// One entry of a finding's review history (`finding_review`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub status: FindingStatus,
    pub reviewed_by: String,
    pub note: Option<String>,
    pub reviewed_at: String,
}

const COLS: &str = "finding_id, rule_id, nhsa_rule_code, category, result, severity, level, setl_id, mdtrt_id, \
    feedetl_sn, psn_no, fixmedins_code, pract_code, med_list_codg, amount, evidence, evidence_details, month, \
    run_id, status, reviewed_by, review_note, reviewed_at";

fn oc(v: &Option<Code>) -> Value {
    v.as_ref()
        .map(|c| Value::Text(c.to_string()))
        .unwrap_or(Value::Null)
}

/// Saves a run's findings: inserts the run, upserts every finding (keeping review state).
pub(crate) fn save(
    db: &mut Db,
    run: &AuditRunInfo,
    findings: &[(Finding, Option<YearMonth>)],
) -> Result<i64, StoreError> {
    let now = medfund_db::now_text();
    let or_now = |s: &str| {
        if s.is_empty() {
            now.clone()
        } else {
            s.to_string()
        }
    };
    db.transaction(|db| -> Result<i64, StoreError> {
        let run_id = db
            .query_one(
                "INSERT INTO audit_run (started_at, finished_at, source, rules, note, findings) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &[
                    or_now(&run.started_at).into(),
                    or_now(&run.finished_at).into(),
                    run.source.clone().into(),
                    run.rules.clone().into(),
                    run.note.clone().into(),
                    Value::Int(findings.len() as i64),
                ],
            )?
            .int(0);
        const N: usize = 20;
        for chunk in findings.chunks(100) {
            let mut params = Vec::with_capacity(chunk.len() * N);
            let mut tuples = Vec::new();
            // The same id twice in one call would make the upsert touch a row twice: last wins.
            let mut seen = std::collections::HashSet::new();
            let unique: Vec<&(Finding, Option<YearMonth>)> = chunk
                .iter()
                .rev()
                .filter(|(f, _)| seen.insert(f.finding_id.clone()))
                .collect();
            for (f, month) in unique.into_iter().rev() {
                if f.finding_id.is_empty() {
                    return Err(StoreError::Invalid(format!(
                        "规则 {} 的发现未生成编号（未调用 seal） / finding of rule {} has no finding_id: call Finding::seal()",
                        f.rule_id, f.rule_id
                    )));
                }
                let start = params.len();
                params.extend([
                    Value::from(f.finding_id.as_str()),
                    Value::Int(run_id),
                    Value::Int(run_id),
                    Value::from(f.rule_id.as_str()),
                    Value::from(f.nhsa_rule_code.clone()),
                    Value::from(f.category.code()),
                    Value::from(match f.result {
                        Outcome::Suspect => "suspect",
                        Outcome::Violation => "violation",
                    }),
                    Value::Int(f.severity as i64),
                    Value::from(f.level.code()),
                    oc(&f.setl_id),
                    oc(&f.mdtrt_id),
                    oc(&f.feedetl_sn),
                    oc(&f.psn_no),
                    oc(&f.fixmedins_code),
                    oc(&f.pract_code),
                    oc(&f.med_list_codg),
                    f.amount.map(|a| Value::Int(a.0)).unwrap_or(Value::Null),
                    Value::from(f.evidence.text.as_str()),
                    Value::from(f.evidence.details.to_string()),
                    month.map(|m| Value::Text(m.to_string())).unwrap_or(Value::Null),
                ]);
                let ph: Vec<String> = (start + 1..=params.len()).map(|n| format!("${n}")).collect();
                tuples.push(format!("({})", ph.join(", ")));
            }
            let sql = format!(
                "INSERT INTO finding (finding_id, run_id, first_run_id, rule_id, nhsa_rule_code, category, result, \
                 severity, level, setl_id, mdtrt_id, feedetl_sn, psn_no, fixmedins_code, pract_code, med_list_codg, \
                 amount, evidence, evidence_details, month) VALUES {} ON CONFLICT (finding_id) DO UPDATE SET \
                 run_id = excluded.run_id, rule_id = excluded.rule_id, nhsa_rule_code = excluded.nhsa_rule_code, \
                 category = excluded.category, result = excluded.result, severity = excluded.severity, \
                 level = excluded.level, setl_id = excluded.setl_id, mdtrt_id = excluded.mdtrt_id, \
                 feedetl_sn = excluded.feedetl_sn, psn_no = excluded.psn_no, fixmedins_code = excluded.fixmedins_code, \
                 pract_code = excluded.pract_code, med_list_codg = excluded.med_list_codg, amount = excluded.amount, \
                 evidence = excluded.evidence, evidence_details = excluded.evidence_details, month = excluded.month",
                tuples.join(", ")
            );
            db.execute(&sql, &params)?;
        }
        Ok(run_id)
    })
}

fn bad(col: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!(
        "finding 表 {col} 列的值 '{v}' 无法解析 / cannot read finding.{col} '{v}'"
    ))
}

fn level(s: &str) -> Option<Level> {
    match s {
        "fee" => Some(Level::Fee),
        "mdtrt" => Some(Level::Mdtrt),
        "psn" => Some(Level::Psn),
        "fixmedins" => Some(Level::Fixmedins),
        "pract" => Some(Level::Pract),
        _ => None,
    }
}

fn from_row(r: &Row) -> Result<StoredFinding, StoreError> {
    let oc = |i: usize| r.opt_text(i).map(Code::from);
    let details = r.text(16);
    let finding = Finding {
        finding_id: r.text(0),
        rule_id: r.text(1),
        nhsa_rule_code: r.opt_text(2),
        category: Category::from_code(&r.text(3)).ok_or_else(|| bad("category", &r.text(3)))?,
        result: match r.text(4).as_str() {
            "suspect" => Outcome::Suspect,
            "violation" => Outcome::Violation,
            o => return Err(bad("result", o)),
        },
        severity: r.int(5) as u8,
        level: level(&r.text(6)).ok_or_else(|| bad("level", &r.text(6)))?,
        setl_id: oc(7),
        mdtrt_id: oc(8),
        feedetl_sn: oc(9),
        psn_no: oc(10),
        fixmedins_code: oc(11),
        pract_code: oc(12),
        med_list_codg: oc(13),
        amount: r.opt_int(14).map(Fen),
        evidence: Evidence {
            text: r.text(15),
            details: serde_json::from_str(&details)
                .map_err(|_| bad("evidence_details", &details))?,
        },
    };
    Ok(StoredFinding {
        finding,
        month: r
            .opt_text(17)
            .map(|m| YearMonth::parse(&m).map_err(|_| bad("month", &m)))
            .transpose()?,
        run_id: r.int(18),
        status: FindingStatus::parse(&r.text(19)).ok_or_else(|| bad("status", &r.text(19)))?,
        reviewed_by: r.opt_text(20),
        note: r.opt_text(21),
        reviewed_at: r.opt_text(22),
    })
}

/// The WHERE clause of a filter (without limit/offset) and its parameters.
fn conditions(f: &FindingFilter) -> (String, Vec<Value>) {
    let mut conds = Vec::new();
    let mut params = Vec::new();
    let mut add = |cond: &str, v: Value| {
        params.push(v);
        conds.push(format!("{cond} ${}", params.len()));
    };
    if let Some(c) = f.category {
        add("category =", c.code().into());
    }
    if let Some(c) = &f.fixmedins_code {
        add("fixmedins_code =", c.as_str().into());
    }
    if let Some(s) = f.status {
        add("status =", s.code().into());
    }
    if let Some(m) = f.month {
        add("month =", m.to_string().into());
    }
    if let Some(r) = f.run_id {
        add("run_id =", r.into());
    }
    let clause = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    (clause, params)
}

/// Findings matching `f`, largest amount first (then by id, so pages are stable).
pub(crate) fn list(db: &mut Db, f: &FindingFilter) -> Result<Vec<StoredFinding>, StoreError> {
    let (clause, mut params) = conditions(f);
    let mut sql = format!(
        "SELECT {COLS} FROM finding{clause} ORDER BY COALESCE(amount, -1) DESC, finding_id"
    );
    if f.limit.is_some() || f.offset > 0 {
        // SQLite needs a LIMIT before OFFSET, and "no limit" is spelled differently by the two
        // engines, so "all" is a limit no table reaches.
        params.push(Value::Int(f.limit.map(|l| l as i64).unwrap_or(i64::MAX)));
        sql.push_str(&format!(" LIMIT ${}", params.len()));
        params.push(Value::Int(f.offset as i64));
        sql.push_str(&format!(" OFFSET ${}", params.len()));
    }
    db.query(&sql, &params)?.iter().map(from_row).collect()
}

/// Count of findings matching the filter's conditions (limit/offset ignored).
pub(crate) fn count(db: &mut Db, f: &FindingFilter) -> Result<u64, StoreError> {
    let (clause, params) = conditions(f);
    Ok(db
        .query_one(&format!("SELECT COUNT(*) FROM finding{clause}"), &params)?
        .int(0) as u64)
}

/// One finding by id.
pub(crate) fn get(db: &mut Db, id: &str) -> Result<Option<StoredFinding>, StoreError> {
    db.query_opt(
        &format!("SELECT {COLS} FROM finding WHERE finding_id = $1"),
        &[id.into()],
    )?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// Records a review decision and makes it the finding's current state.
pub(crate) fn set_status(
    db: &mut Db,
    id: &str,
    status: FindingStatus,
    user: &str,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    if user.trim().is_empty() {
        return Err(StoreError::Invalid(
            "复核人不能为空 / the reviewer's name is required".into(),
        ));
    }
    let now = medfund_db::now_text();
    db.transaction(|db| -> Result<(), StoreError> {
        let n = db.execute(
            "UPDATE finding SET status = $1, reviewed_by = $2, review_note = $3, reviewed_at = $4 WHERE finding_id = $5",
            &[status.code().into(), user.into(), reason.into(), now.clone().into(), id.into()],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("没有编号为 {id} 的发现 / no finding with id {id}")));
        }
        db.execute(
            "INSERT INTO finding_review (finding_id, status, reviewed_by, note, reviewed_at) VALUES ($1, $2, $3, $4, $5)",
            &[id.into(), status.code().into(), user.into(), reason.into(), now.clone().into()],
        )?;
        Ok(())
    })
}

/// The review history of a finding, oldest first.
pub(crate) fn history(db: &mut Db, id: &str) -> Result<Vec<Review>, StoreError> {
    db.query(
        "SELECT status, reviewed_by, note, reviewed_at FROM finding_review WHERE finding_id = $1 ORDER BY id",
        &[id.into()],
    )?
    .iter()
    .map(|r| {
        Ok(Review {
            status: FindingStatus::parse(&r.text(0)).ok_or_else(|| bad("status", &r.text(0)))?,
            reviewed_by: r.text(1),
            note: r.opt_text(2),
            reviewed_at: r.text(3),
        })
    })
    .collect()
}
