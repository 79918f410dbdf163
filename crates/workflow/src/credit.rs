//! Institution credit (信用评价), red and black lists, graded supervision (分级分类监管) and
//! the agreement register (协议状态).
//!
//! The grade rule (every number a policy parameter, `[credit]`): a natural year starts at 100;
//! deduct `per_confirmed_finding` per review decided as confirmed (capped at `findings_cap`);
//! deduct per sanction finally approved in the year by kind (interview 2, rectification 5,
//! recovery 2, liquidated damages 5, agreement suspension 20, termination 40, administrative
//! penalty 15 plus 15 for fraud, transfer 40, credit deduction its own points); deduct
//! `inspection_issue` per completed inspection with issues and add `inspection_pass_bonus` per
//! clean one (bonus capped at `inspection_bonus_cap`); clamp to 0–100. Grade A ≥ 90, B ≥ 75,
//! C ≥ 60, else D. Black list: grade D, or a fraud penalty, transfer or termination in the year;
//! red list: grade A with no deduction at all. Manual list entries (with reason) add to that.
//! Routine inspections per year follow the grade (A 1, B 2, C 4, D 12).

use crate::auth::{Actor, Perm};
use crate::error::{validation, Result, WfError};
use crate::util::{d, dt, opt_d, opt_dt, parse_d, parse_dt, required, str_enum};
use crate::{Change, Workflow};
use chrono::{NaiveDate, NaiveDateTime};
use medfund_db::{Db, Row};
use serde::{Deserialize, Serialize};
use serde_json::json;

str_enum! {
    /// Credit grade.
    pub enum Grade {
        A = "A" / "A级（守信）",
        B = "B" / "B级（基本守信）",
        C = "C" / "C级（失信）",
        D = "D" / "D级（严重失信）",
    }
}

str_enum! {
    /// Credit list.
    pub enum CreditList {
        Red = "red" / "红名单",
        Black = "black" / "黑名单",
    }
}

str_enum! {
    /// Agreement status of an institution on a day.
    pub enum AgreementStatus {
        Active = "active" / "协议有效",
        Suspended = "suspended" / "协议中止",
        Terminated = "terminated" / "协议解除",
    }
}

/// One line of the credit computation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreditItem {
    /// What.
    pub what: String,
    /// Points (negative: deduction; positive: bonus).
    pub points: i64,
}

/// The credit evaluation of one institution for one year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreditReport {
    /// Institution.
    pub fixmedins_code: String,
    /// Year.
    pub year: i32,
    /// Score 0–100.
    pub score: i64,
    /// Grade.
    pub grade: Grade,
    /// Computed list (before manual entries).
    pub computed_list: Option<CreditList>,
    /// List in force (manual entries win: black over red).
    pub list: Option<CreditList>,
    /// The computation, line by line.
    pub items: Vec<CreditItem>,
    /// Routine inspections per year at this grade.
    pub inspections_per_year: u32,
    /// Computed at.
    pub computed_at: NaiveDateTime,
}

/// Facts of a year that the grade is computed from (pure input of [`grade_from`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CreditFacts {
    /// Reviews decided as confirmed.
    pub confirmed_findings: i64,
    /// Sanctions finally approved: (kind, nature, credit points).
    pub sanctions: Vec<(
        crate::sanction::SanctionKind,
        Option<crate::cases::Nature>,
        Option<i64>,
    )>,
    /// Completed inspections with issues.
    pub inspections_with_issues: i64,
    /// Completed inspections without issues.
    pub inspections_clean: i64,
}

/// Computes score, grade, computed list and items from the facts (pure).
pub fn grade_from(
    p: &crate::policy::CreditPolicy,
    f: &CreditFacts,
) -> (i64, Grade, Option<CreditList>, Vec<CreditItem>) {
    use crate::cases::Nature;
    use crate::sanction::SanctionKind as K;
    let mut items = vec![];
    if f.confirmed_findings > 0 {
        let pts = (f.confirmed_findings * p.per_confirmed_finding).min(p.findings_cap);
        items.push(CreditItem {
            what: format!("认定违规疑点 {} 条", f.confirmed_findings),
            points: -pts,
        });
    }
    let mut black = false;
    for (k, nature, cp) in &f.sanctions {
        let pts = match k {
            K::Interview => p.interview,
            K::Rectification => p.rectification,
            K::Recovery => p.recovery,
            K::LiquidatedDamages => p.liquidated_damages,
            K::SuspendAgreement => p.suspend_agreement,
            K::TerminateAgreement => p.terminate_agreement,
            K::AdminPenalty => {
                p.admin_penalty
                    + if *nature == Some(Nature::Fraud) {
                        p.fraud_extra
                    } else {
                        0
                    }
            }
            K::CreditDeduction => cp.unwrap_or(0),
            K::Transfer => p.transfer,
        };
        if matches!(k, K::TerminateAgreement | K::Transfer)
            || (*k == K::AdminPenalty && *nature == Some(Nature::Fraud))
        {
            black = true;
        }
        items.push(CreditItem {
            what: format!("处理措施：{}", k.zh()),
            points: -pts,
        });
    }
    if f.inspections_with_issues > 0 {
        items.push(CreditItem {
            what: format!("检查发现问题 {} 次", f.inspections_with_issues),
            points: -(f.inspections_with_issues * p.inspection_issue),
        });
    }
    let deductions: i64 = items.iter().map(|i| -i.points).sum();
    if f.inspections_clean > 0 {
        let b = (f.inspections_clean * p.inspection_pass_bonus).min(p.inspection_bonus_cap);
        items.push(CreditItem {
            what: format!("检查未发现问题 {} 次", f.inspections_clean),
            points: b,
        });
    }
    let score = (100 + items.iter().map(|i| i.points).sum::<i64>()).clamp(0, 100);
    let grade = if score >= p.grade_a {
        Grade::A
    } else if score >= p.grade_b {
        Grade::B
    } else if score >= p.grade_c {
        Grade::C
    } else {
        Grade::D
    };
    let list = if black || grade == Grade::D {
        Some(CreditList::Black)
    } else if grade == Grade::A && deductions == 0 {
        Some(CreditList::Red)
    } else {
        None
    };
    (score, grade, list, items)
}

fn grade_index(g: Grade) -> usize {
    match g {
        Grade::A => 0,
        Grade::B => 1,
        Grade::C => 2,
        Grade::D => 3,
    }
}

/// A manual list entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListEntry {
    /// Id.
    pub id: i64,
    /// Institution.
    pub fixmedins_code: String,
    /// List.
    pub list: CreditList,
    /// Why.
    pub reason: String,
    /// Added by.
    pub added_by: String,
    /// Added at.
    pub added_at: NaiveDateTime,
    /// Removed at (no longer in force).
    pub removed_at: Option<NaiveDateTime>,
}

/// An agreement measure (suspension or termination).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgreementMeasure {
    /// Id.
    pub id: i64,
    /// Institution.
    pub fixmedins_code: String,
    /// `suspend` or `terminate`.
    pub kind: String,
    /// First day.
    pub begndate: NaiveDate,
    /// Last day (inclusive), `None` = open-ended.
    pub enddate: Option<NaiveDate>,
    /// The sanction that imposed it.
    pub sanction_id: Option<i64>,
    /// Why.
    pub reason: String,
    /// Decided by.
    pub decided_by: String,
}

impl AgreementMeasure {
    /// Whether it covers `day`.
    pub fn covers(&self, day: NaiveDate) -> bool {
        day >= self.begndate && self.enddate.is_none_or(|e| day <= e)
    }
}

/// One line of the inspection plan (graded supervision).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanLine {
    /// Institution.
    pub fixmedins_code: String,
    /// Grade of the evaluation used.
    pub grade: Grade,
    /// Routine inspections per year.
    pub per_year: u32,
    /// Last completed inspection.
    pub last_inspection: Option<NaiveDate>,
    /// Next inspection due.
    pub next_due: NaiveDate,
    /// Due already.
    pub overdue: bool,
}

pub(crate) fn insert_agreement_measure(
    db: &mut Db,
    code: &str,
    kind: &str,
    beg: NaiveDate,
    end: Option<NaiveDate>,
    sanction_id: Option<i64>,
    reason: &str,
    by: &str,
    at: NaiveDateTime,
) -> Result<i64> {
    Ok(db
        .query_one(
            "INSERT INTO wf_agreement_measure (fixmedins_code, kind, begndate, enddate, sanction_id, reason, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            &[code.into(), kind.into(), d(beg).into(), end.map(d).into(), sanction_id.into(), reason.into(), by.into(), dt(at).into()],
        )?
        .int(0))
}

fn agreement_of(r: &Row) -> AgreementMeasure {
    AgreementMeasure {
        id: r.int_of("id"),
        fixmedins_code: r.text_of("fixmedins_code"),
        kind: r.text_of("kind"),
        begndate: parse_d(&r.text_of("begndate")),
        enddate: opt_d(r, "enddate"),
        sanction_id: r.opt_int_of("sanction_id"),
        reason: r.text_of("reason"),
        decided_by: r.text_of("decided_by"),
    }
}

/// Every agreement measure — the audit engine can flag services of institutions whose
/// agreement is suspended or terminated on the service day.
pub fn agreement_measures(db: &mut Db) -> Result<Vec<AgreementMeasure>> {
    crate::migrate(db)?;
    Ok(db
        .query(
            "SELECT * FROM wf_agreement_measure ORDER BY fixmedins_code, begndate",
            &[],
        )?
        .iter()
        .map(agreement_of)
        .collect())
}

/// The agreement status of an institution on a day (termination wins over suspension).
pub fn agreement_status_on(
    measures: &[AgreementMeasure],
    code: &str,
    day: NaiveDate,
) -> AgreementStatus {
    let mut st = AgreementStatus::Active;
    for m in measures
        .iter()
        .filter(|m| m.fixmedins_code == code && m.covers(day))
    {
        if m.kind == "terminate" {
            return AgreementStatus::Terminated;
        }
        st = AgreementStatus::Suspended;
    }
    st
}

fn list_entry_of(r: &Row) -> Result<ListEntry> {
    Ok(ListEntry {
        id: r.int_of("id"),
        fixmedins_code: r.text_of("fixmedins_code"),
        list: r.text_of("list").parse()?,
        reason: r.text_of("reason"),
        added_by: r.text_of("added_by"),
        added_at: parse_dt(&r.text_of("added_at")),
        removed_at: opt_dt(r, "removed_at"),
    })
}

fn report_of(r: &Row) -> Result<CreditReport> {
    let mut rep: CreditReport = serde_json::from_str(&r.text_of("detail_json"))
        .map_err(|e| validation(format!("credit record unreadable: {e}")))?;
    rep.list = crate::util::opt_enum(r, "list")?;
    Ok(rep)
}

impl Workflow<'_> {
    /// The facts of a year for an institution.
    pub fn credit_facts(&mut self, code: &str, year: i32) -> Result<CreditFacts> {
        let y = format!("{year}-%");
        let confirmed = self
            .db
            .query_one("SELECT COUNT(*) FROM wf_review WHERE fixmedins_code = $1 AND decision = 'confirmed' AND decided_at LIKE $2", &[code.into(), y.as_str().into()])?
            .int(0);
        let mut sanctions = vec![];
        for r in self.db.query(
            "SELECT kind, nature, credit_points FROM wf_sanction WHERE fixmedins_code = $1 AND state IN ('approved', 'executed') AND approved_at LIKE $2 ORDER BY id",
            &[code.into(), y.as_str().into()],
        )? {
            sanctions.push((r.text(0).parse()?, crate::util::opt_enum(&r, "nature")?, r.opt_int(2)));
        }
        let mut issues = 0;
        let mut clean = 0;
        for r in self.db.query(
            "SELECT result FROM wf_inspection WHERE fixmedins_code = $1 AND state = 'completed' AND completed_at LIKE $2",
            &[code.into(), y.as_str().into()],
        )? {
            if r.text(0) == "issues" {
                issues += 1;
            } else {
                clean += 1;
            }
        }
        Ok(CreditFacts {
            confirmed_findings: confirmed,
            sanctions,
            inspections_with_issues: issues,
            inspections_clean: clean,
        })
    }

    /// Evaluates (and records) an institution's credit for a year.
    pub fn evaluate_credit(
        &mut self,
        actor: &Actor,
        code: &str,
        year: i32,
    ) -> Result<CreditReport> {
        actor.require(Perm::CreditManage)?;
        medfund_contract::codes::check_fixmedins_code(code)
            .map_err(|e| validation(format!("机构编码 / institution code: {e}")))?;
        let facts = self.credit_facts(code, year)?;
        let cp = self.policy.credit.clone();
        let (score, grade, computed_list, items) = grade_from(&cp, &facts);
        let manual = self.active_list_entries(code)?;
        let list = if manual.iter().any(|e| e.list == CreditList::Black)
            || computed_list == Some(CreditList::Black)
        {
            Some(CreditList::Black)
        } else if manual.iter().any(|e| e.list == CreditList::Red) {
            Some(CreditList::Red)
        } else {
            computed_list
        };
        let now = self.now();
        let rep = CreditReport {
            fixmedins_code: code.to_string(),
            year,
            score,
            grade,
            computed_list,
            list,
            items,
            inspections_per_year: cp.inspections_per_year[grade_index(grade)],
            computed_at: now,
        };
        let text = serde_json::to_string(&rep).map_err(|e| validation(e.to_string()))?;
        self.mutate(actor, "credit.evaluate", |db| {
            db.execute("DELETE FROM wf_credit WHERE fixmedins_code = $1 AND year = $2", &[code.into(), (year as i64).into()])?;
            let id = db
                .query_one(
                    "INSERT INTO wf_credit (fixmedins_code, year, score, grade, list, detail_json, computed_by, computed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    &[code.into(), (year as i64).into(), score.into(), grade.code().into(), list.map(|l| l.code()).into(), text.into(), actor.username.as_str().into(), dt(now).into()],
                )?
                .int(0);
            Ok(((), Change::new("credit", id, json!({"fixmedins_code": code, "year": year, "score": score, "grade": grade.code(), "list": list.map(|l| l.code())}))))
        })?;
        Ok(rep)
    }

    /// Recorded evaluations of a year (an institution user sees its own).
    pub fn credit_reports(&mut self, actor: &Actor, year: i32) -> Result<Vec<CreditReport>> {
        let rows = if actor.is_bureau() {
            self.db.query(
                "SELECT * FROM wf_credit WHERE year = $1 ORDER BY score, fixmedins_code",
                &[(year as i64).into()],
            )?
        } else if let Some(c) = actor.institution() {
            self.db.query(
                "SELECT * FROM wf_credit WHERE year = $1 AND fixmedins_code = $2",
                &[(year as i64).into(), c.into()],
            )?
        } else {
            return Err(WfError::Forbidden("无权查看信用评价 / not allowed".into()));
        };
        rows.iter().map(report_of).collect()
    }

    fn active_list_entries(&mut self, code: &str) -> Result<Vec<ListEntry>> {
        self.db
            .query("SELECT * FROM wf_credit_list WHERE fixmedins_code = $1 AND removed_at IS NULL ORDER BY id", &[code.into()])?
            .iter()
            .map(list_entry_of)
            .collect()
    }

    /// Adds an institution to the red or black list by hand, with the reason.
    pub fn add_list_entry(
        &mut self,
        actor: &Actor,
        code: &str,
        list: CreditList,
        reason: &str,
    ) -> Result<ListEntry> {
        actor.require(Perm::CreditManage)?;
        medfund_contract::codes::check_fixmedins_code(code)
            .map_err(|e| validation(format!("机构编码 / institution code: {e}")))?;
        let reason = required(reason, "理由 reason")?;
        if self
            .active_list_entries(code)?
            .iter()
            .any(|e| e.list == list)
        {
            return Err(validation(format!(
                "{code} 已在{}上 / already listed",
                list.zh()
            )));
        }
        let now = self.now();
        let id = self.mutate(actor, "credit.list_add", |db| {
            let id = db
                .query_one(
                    "INSERT INTO wf_credit_list (fixmedins_code, list, reason, added_by, added_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    &[code.into(), list.code().into(), reason.as_str().into(), actor.username.as_str().into(), dt(now).into()],
                )?
                .int(0);
            Ok((id, Change::new("credit_list", id, json!({"fixmedins_code": code, "list": list.code(), "reason": reason}))))
        })?;
        list_entry_of(
            &self
                .db
                .query_one("SELECT * FROM wf_credit_list WHERE id = $1", &[id.into()])?,
        )
    }

    /// Removes a manual list entry (by someone other than who added it), with the reason.
    pub fn remove_list_entry(&mut self, actor: &Actor, id: i64, reason: &str) -> Result<ListEntry> {
        actor.require(Perm::CreditManage)?;
        let e = list_entry_of(
            &self
                .db
                .query_opt("SELECT * FROM wf_credit_list WHERE id = $1", &[id.into()])?
                .ok_or_else(|| WfError::NotFound(format!("名单记录 / list entry {id}")))?,
        )?;
        if e.removed_at.is_some() {
            return Err(WfError::InvalidTransition {
                from: "已移出 / removed".into(),
                to: "移出 / remove".into(),
            });
        }
        if e.added_by == actor.username {
            return Err(WfError::SameActor(
                "移出名单须由列入人以外的人员办理 / someone other than who listed it".into(),
            ));
        }
        let reason = required(reason, "理由 reason")?;
        let now = self.now();
        self.mutate(actor, "credit.list_remove", |db| {
            db.execute(
                "UPDATE wf_credit_list SET removed_by = $1, removed_at = $2, removed_reason = $3 WHERE id = $4",
                &[actor.username.as_str().into(), dt(now).into(), reason.as_str().into(), id.into()],
            )?;
            Ok(((), Change::new("credit_list", id, json!({"reason": reason}))))
        })?;
        list_entry_of(
            &self
                .db
                .query_one("SELECT * FROM wf_credit_list WHERE id = $1", &[id.into()])?,
        )
    }

    /// Manual list entries in force (bureau staff).
    pub fn list_entries(
        &mut self,
        actor: &Actor,
        list: Option<CreditList>,
    ) -> Result<Vec<ListEntry>> {
        if !actor.is_bureau() {
            return Err(WfError::Forbidden("仅监管人员 / bureau staff only".into()));
        }
        let rows = match list {
            Some(l) => self.db.query(
                "SELECT * FROM wf_credit_list WHERE removed_at IS NULL AND list = $1 ORDER BY id",
                &[l.code().into()],
            )?,
            None => self.db.query(
                "SELECT * FROM wf_credit_list WHERE removed_at IS NULL ORDER BY id",
                &[],
            )?,
        };
        rows.iter().map(list_entry_of).collect()
    }

    /// Graded supervision: for each institution evaluated for `year`, the next routine
    /// inspection due from its last completed one and the grade's frequency (12 ÷ per-year
    /// months apart; never inspected = due now).
    pub fn inspection_plan(&mut self, actor: &Actor, year: i32) -> Result<Vec<PlanLine>> {
        if !actor.is_bureau() {
            return Err(WfError::Forbidden("仅监管人员 / bureau staff only".into()));
        }
        let today = self.today();
        let reports = self.credit_reports(actor, year)?;
        let mut out = vec![];
        for r in reports {
            let last = self
                .db
                .query_one("SELECT MAX(completed_at) FROM wf_inspection WHERE fixmedins_code = $1 AND state = 'completed'", &[r.fixmedins_code.as_str().into()])?
                .opt_text(0)
                .map(|s| parse_d(&s));
            let per_year = r.inspections_per_year.max(1);
            let gap = 12 / per_year;
            let next_due = match last {
                Some(l) => l.checked_add_months(chrono::Months::new(gap)).unwrap_or(l),
                None => today,
            };
            out.push(PlanLine {
                fixmedins_code: r.fixmedins_code,
                grade: r.grade,
                per_year,
                last_inspection: last,
                next_due,
                overdue: next_due <= today,
            });
        }
        out.sort_by(|a, b| {
            a.next_due
                .cmp(&b.next_due)
                .then(a.fixmedins_code.cmp(&b.fixmedins_code))
        });
        Ok(out)
    }

    /// An institution's agreement status on a day and the measures behind it.
    pub fn agreement(
        &mut self,
        actor: &Actor,
        code: &str,
        day: NaiveDate,
    ) -> Result<(AgreementStatus, Vec<AgreementMeasure>)> {
        if !actor.sees_institution(Some(code)) {
            return Err(WfError::NotFound(format!("机构 / institution {code}")));
        }
        let ms: Vec<AgreementMeasure> = self
            .db
            .query(
                "SELECT * FROM wf_agreement_measure WHERE fixmedins_code = $1 ORDER BY begndate",
                &[code.into()],
            )?
            .iter()
            .map(agreement_of)
            .collect();
        Ok((agreement_status_on(&ms, code, day), ms))
    }

    /// Lifts an agreement suspension early or ends a termination (re-admission), from `on`;
    /// section chief or leader, with the reason.
    pub fn end_agreement_measure(
        &mut self,
        actor: &Actor,
        id: i64,
        on: NaiveDate,
        reason: &str,
    ) -> Result<AgreementMeasure> {
        actor.require(Perm::CreditManage)?;
        let m = agreement_of(
            &self
                .db
                .query_opt(
                    "SELECT * FROM wf_agreement_measure WHERE id = $1",
                    &[id.into()],
                )?
                .ok_or_else(|| WfError::NotFound(format!("协议措施 / measure {id}")))?,
        );
        let reason = required(reason, "理由 reason")?;
        if on <= m.begndate || m.enddate.is_some_and(|e| on > e) {
            return Err(validation(
                "结束日期须在措施期间内 / the date must fall within the measure",
            ));
        }
        let end = on.pred_opt().unwrap_or(on);
        self.mutate(actor, "agreement.end", |db| {
            db.execute("UPDATE wf_agreement_measure SET enddate = $1 WHERE id = $2", &[d(end).into(), id.into()])?;
            Ok(((), Change::new("agreement", id, json!({"fixmedins_code": m.fixmedins_code, "ends_after": d(end), "reason": reason}))))
        })?;
        Ok(agreement_of(&self.db.query_one(
            "SELECT * FROM wf_agreement_measure WHERE id = $1",
            &[id.into()],
        )?))
    }
}
