//! Cases (案件) and on-site inspections (现场检查).
//!
//! A case is opened from a decided review, a finding, a model clue, a complaint or a referral;
//! it is investigated, decided (confirmed amount and nature), and closed once every sanction of
//! it is finished.
//!
//! ```text
//! open ──start──▶ investigating ──decide──▶ decided ──close──▶ closed
//!   └──────drop──────┴──drop──▶ dropped
//! ```
//!
//! An inspection has a checklist — by default the five verifications of seed 001 (五核实:
//! inpatient identity, inpatient count, medication quantity, drug stock, e-prescriptions) — and
//! is done on site by at least `inspection.min_inspectors` people; evidence files are stored in
//! the data directory with their SHA-256.
//!
//! ```text
//! planned ──start──▶ in_progress ──complete──▶ completed
//!    └──cancel──▶ cancelled
//! ```

use crate::auth::{Actor, Perm};
use crate::error::{validation, Result, WfError};
use crate::util::{
    d, dt, opt_dt, opt_enum, opt_fen, parse_d, parse_dt, plus_days, required, str_enum, Page,
    Paged, StateMachine, Where,
};
use crate::{documents_of, events_of, record_event, Change, Document, Event, Upload, Workflow};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use medfund_contract::Fen;
use medfund_db::{Db, Row};
use serde::{Deserialize, Serialize};
use serde_json::json;

str_enum! {
    /// Where a case came from.
    pub enum CaseSource {
        Review = "review" / "疑点审核",
        Finding = "finding" / "智能审核疑点",
        Model = "model" / "大数据模型线索",
        Complaint = "complaint" / "投诉举报",
        Referral = "referral" / "上级交办/部门移送",
        Inspection = "inspection" / "检查发现",
    }
}

str_enum! {
    /// Case state.
    pub enum CaseState {
        Open = "open" / "已立案",
        Investigating = "investigating" / "调查中",
        Decided = "decided" / "已作出处理决定",
        Closed = "closed" / "已结案",
        Dropped = "dropped" / "已撤销",
    }
}

impl StateMachine for CaseState {
    const TRANSITIONS: &'static [(CaseState, CaseState)] = &[
        (CaseState::Open, CaseState::Investigating),
        (CaseState::Open, CaseState::Dropped),
        (CaseState::Investigating, CaseState::Decided),
        (CaseState::Investigating, CaseState::Dropped),
        (CaseState::Decided, CaseState::Closed),
    ];
    fn label(self) -> &'static str {
        self.zh()
    }
}

str_enum! {
    /// The nature of a confirmed case: it chooses the administrative penalty range.
    pub enum Nature {
        Violation = "violation" / "违法违规",
        Fraud = "fraud" / "欺诈骗保",
        None = "none" / "不构成违规",
    }
}

/// A case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Id.
    pub id: i64,
    /// Case number, e.g. `AJ2025-00001`.
    pub case_no: String,
    /// Source kind.
    pub source: CaseSource,
    /// Source reference (review id, finding id, complaint id, model or referral text).
    pub source_ref: Option<String>,
    /// Institution concerned.
    pub fixmedins_code: Option<String>,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// State.
    pub state: CaseState,
    /// Suspect amount when opened.
    pub suspect_amount: Option<Fen>,
    /// Amount confirmed by the decision.
    pub confirmed_amount: Option<Fen>,
    /// Nature found by the decision.
    pub nature: Option<Nature>,
    /// Decision text.
    pub decision_note: Option<String>,
    /// Decided by.
    pub decided_by: Option<String>,
    /// Decided at.
    pub decided_at: Option<NaiveDateTime>,
    /// Opened by.
    pub opened_by: String,
    /// Opened at.
    pub opened_at: NaiveDateTime,
    /// Case handler.
    pub assigned_to: Option<String>,
    /// In the current state since.
    pub state_since: NaiveDateTime,
    /// Time limit of the current step.
    pub due_at: Option<NaiveDateTime>,
    /// Closed at.
    pub closed_at: Option<NaiveDateTime>,
}

fn case_of(r: &Row) -> Result<Case> {
    Ok(Case {
        id: r.int_of("id"),
        case_no: r.text_of("case_no"),
        source: r.text_of("source").parse()?,
        source_ref: r.opt_text_of("source_ref"),
        fixmedins_code: r.opt_text_of("fixmedins_code"),
        title: r.text_of("title"),
        summary: r.text_of("summary"),
        state: r.text_of("state").parse()?,
        suspect_amount: opt_fen(r, "suspect_amount_fen"),
        confirmed_amount: opt_fen(r, "confirmed_amount_fen"),
        nature: opt_enum(r, "nature")?,
        decision_note: r.opt_text_of("decision_note"),
        decided_by: r.opt_text_of("decided_by"),
        decided_at: opt_dt(r, "decided_at"),
        opened_by: r.text_of("opened_by"),
        opened_at: parse_dt(&r.text_of("opened_at")),
        assigned_to: r.opt_text_of("assigned_to"),
        state_since: parse_dt(&r.text_of("state_since")),
        due_at: opt_dt(r, "due_at"),
        closed_at: opt_dt(r, "closed_at"),
    })
}

/// Input of [`Workflow::open_case`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NewCase {
    /// Source kind.
    pub source: Option<CaseSource>,
    /// Review id, finding id, complaint id, or a free reference for models and referrals.
    pub source_ref: Option<String>,
    /// Institution (taken from the review when the source is a review).
    pub fixmedins_code: Option<String>,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Suspect amount (taken from the review's confirmed amount when the source is a review).
    pub suspect_amount: Option<Fen>,
}

/// A case with everything attached to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseDetail {
    /// The case.
    pub case: Case,
    /// State changes.
    pub events: Vec<Event>,
    /// Evidence files.
    pub documents: Vec<Document>,
    /// Sanctions.
    pub sanctions: Vec<crate::sanction::Sanction>,
    /// Inspections.
    pub inspections: Vec<Inspection>,
    /// Shares with partner departments and their follow-ups.
    pub shares: Vec<crate::share::ShareRecord>,
    /// Allowed next states.
    pub next_states: Vec<CaseState>,
}

/// Filter of [`Workflow::list_cases`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CaseFilter {
    /// Only this state.
    pub state: Option<CaseState>,
    /// Only this institution.
    pub fixmedins_code: Option<String>,
    /// Only this source.
    pub source: Option<CaseSource>,
    /// Only this handler.
    pub assigned_to: Option<String>,
}

pub(crate) fn load_case_row(db: &mut Db, id: i64) -> Result<Case> {
    let r = db
        .query_opt("SELECT * FROM wf_case WHERE id = $1", &[id.into()])?
        .ok_or_else(|| WfError::NotFound(format!("案件 / case {id}")))?;
    case_of(&r)
}

/// Whether the actor may see the case: bureau all; an institution its own; a partner department
/// the cases shared with it.
pub(crate) fn can_see_case(db: &mut Db, actor: &Actor, c: &Case) -> Result<bool> {
    if actor.is_bureau() || actor.sees_institution(c.fixmedins_code.as_deref()) {
        return Ok(true);
    }
    if let Some(dep) = actor.department() {
        return Ok(db
            .query_opt(
                "SELECT id FROM wf_share WHERE case_id = $1 AND department = $2",
                &[c.id.into(), dep.code().into()],
            )?
            .is_some());
    }
    Ok(false)
}

pub(crate) fn next_case_no(db: &mut Db, year: i32) -> Result<String> {
    let prefix = format!("AJ{year}-");
    let r = db.query_one(
        "SELECT MAX(case_no) FROM wf_case WHERE case_no LIKE $1",
        &[format!("{prefix}%").into()],
    )?;
    let n = r
        .opt_text(0)
        .and_then(|s| s[prefix.len()..].parse::<i64>().ok())
        .unwrap_or(0)
        + 1;
    Ok(format!("{prefix}{n:05}"))
}

/// Inserts a case row (shared with complaint triage, which opens a case in its own transaction).
pub(crate) fn insert_case(
    db: &mut Db,
    now: NaiveDateTime,
    by: &str,
    source: CaseSource,
    source_ref: Option<&str>,
    code: Option<&str>,
    title: &str,
    summary: &str,
    suspect: Option<Fen>,
) -> Result<i64> {
    let case_no = next_case_no(db, now.year())?;
    let id = db
        .query_one(
            "INSERT INTO wf_case (case_no, source, source_ref, fixmedins_code, title, summary, state, suspect_amount_fen, opened_by, opened_at, state_since) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            &[
                case_no.as_str().into(),
                source.code().into(),
                source_ref.into(),
                code.into(),
                title.into(),
                summary.into(),
                CaseState::Open.code().into(),
                suspect.map(|a| a.0).into(),
                by.into(),
                dt(now).into(),
                dt(now).into(),
            ],
        )?
        .int(0);
    record_event(
        db,
        "case",
        id,
        now,
        by,
        None,
        CaseState::Open.code(),
        Some(title),
    )?;
    Ok(id)
}

impl Workflow<'_> {
    fn load_case(&mut self, actor: &Actor, id: i64) -> Result<Case> {
        let c = load_case_row(self.db, id)?;
        if !can_see_case(self.db, actor, &c)? {
            return Err(WfError::NotFound(format!("案件 / case {id}")));
        }
        Ok(c)
    }

    /// Opens a case. From a review: the review must be decided as confirmed; its institution
    /// and confirmed amount are taken over.
    pub fn open_case(&mut self, actor: &Actor, n: &NewCase) -> Result<Case> {
        actor.require(Perm::CaseManage)?;
        let title = required(&n.title, "案件名称 title")?;
        let source = n
            .source
            .ok_or_else(|| validation("须说明案件来源 / source is required"))?;
        let mut code = n.fixmedins_code.clone();
        let mut suspect = n.suspect_amount;
        if source == CaseSource::Review {
            let rid: i64 = n
                .source_ref
                .as_deref()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    validation("来源为疑点审核时须给出审核编号 / source_ref must be the review id")
                })?;
            let rv = self.get_review(actor, rid)?.review;
            if rv.decision != Some(crate::review::Verdict::Confirmed) {
                return Err(validation(format!("疑点审核 #{rid} 尚未认定违规，不能据此立案 / review {rid} is not decided as confirmed")));
            }
            code = rv.fixmedins_code.clone();
            suspect = rv.confirmed_amount;
        }
        if source == CaseSource::Complaint {
            return Err(validation(
                "投诉举报请通过投诉分办立案 / open complaint cases through complaint triage",
            ));
        }
        if let Some(c) = &code {
            medfund_contract::codes::check_fixmedins_code(c)
                .map_err(|e| validation(format!("机构编码 / institution code: {e}")))?;
        }
        let now = self.now();
        let summary = n.summary.trim().to_string();
        let id = self.mutate(actor, "case.open", |db| {
            let id = insert_case(db, now, &actor.username, source, n.source_ref.as_deref(), code.as_deref(), &title, &summary, suspect)?;
            Ok((id, Change::new("case", id, json!({"source": source.code(), "source_ref": n.source_ref, "fixmedins_code": code, "suspect_amount": suspect}))))
        })?;
        self.load_case(actor, id)
    }

    fn case_transition(
        &mut self,
        actor: &Actor,
        c: &Case,
        to: CaseState,
        due_days: Option<i64>,
        action: &str,
        sets: Vec<(&str, medfund_db::Value)>,
        note: &str,
        detail: serde_json::Value,
    ) -> Result<Case> {
        c.state.ensure(to)?;
        let now = self.now();
        let due = due_days.map(|x| dt(plus_days(now, x)));
        let (id, from) = (c.id, c.state);
        self.mutate(actor, action, |db| {
            let mut sql =
                String::from("UPDATE wf_case SET state = $1, state_since = $2, due_at = $3");
            let mut params: Vec<medfund_db::Value> =
                vec![to.code().into(), dt(now).into(), due.into()];
            for (col, v) in sets {
                params.push(v);
                sql.push_str(&format!(", {col} = ${}", params.len()));
            }
            params.push(id.into());
            let idp = params.len();
            params.push(from.code().into());
            sql.push_str(&format!(" WHERE id = ${idp} AND state = ${}", idp + 1));
            if db.execute(&sql, &params)? != 1 {
                return Err(WfError::InvalidTransition {
                    from: from.zh().into(),
                    to: to.zh().into(),
                });
            }
            record_event(
                db,
                "case",
                id,
                now,
                &actor.username,
                Some(from.code()),
                to.code(),
                Some(note),
            )?;
            let mut d = detail;
            d["from"] = json!(from.code());
            d["to"] = json!(to.code());
            Ok(((), Change::new("case", id, d)))
        })?;
        self.load_case(actor, id)
    }

    /// Starts the investigation, naming the handler (default: the actor).
    pub fn start_case(
        &mut self,
        actor: &Actor,
        id: i64,
        handler: Option<&str>,
        note: &str,
    ) -> Result<Case> {
        actor.require(Perm::CaseManage)?;
        let c = self.load_case(actor, id)?;
        let h = handler.unwrap_or(&actor.username).to_string();
        if !crate::auth::user_has(self.db, &h, Perm::CaseManage)? {
            return Err(validation(format!(
                "承办人 {h} 不存在或无办案权限 / {h} cannot handle cases"
            )));
        }
        let d = self.policy.time_limits.case_investigation;
        self.case_transition(
            actor,
            &c,
            CaseState::Investigating,
            Some(d),
            "case.start",
            vec![("assigned_to", h.as_str().into())],
            note,
            json!({"assigned_to": h}),
        )
    }

    /// The decision: the confirmed amount and the nature. By a decision maker other than the
    /// case handler (分人负责).
    pub fn decide_case(
        &mut self,
        actor: &Actor,
        id: i64,
        nature: Nature,
        confirmed_amount: Fen,
        note: &str,
    ) -> Result<Case> {
        actor.require(Perm::Decide)?;
        let c = self.load_case(actor, id)?;
        if c.assigned_to.as_deref() == Some(actor.username.as_str()) {
            return Err(WfError::SameActor("处理决定须由承办人以外的负责人作出 / the decision must be by someone other than the case handler".into()));
        }
        let note = required(note, "处理决定 note")?;
        if confirmed_amount.is_negative() || (nature == Nature::None && confirmed_amount.0 != 0) {
            return Err(validation("认定金额须 ≥ 0，不构成违规时须为 0 / the amount must be ≥ 0, and 0 when there is no violation"));
        }
        let now = self.now();
        self.case_transition(
            actor,
            &c,
            CaseState::Decided,
            None,
            "case.decide",
            vec![
                ("nature", nature.code().into()),
                ("confirmed_amount_fen", confirmed_amount.0.into()),
                ("decision_note", note.as_str().into()),
                ("decided_by", actor.username.as_str().into()),
                ("decided_at", dt(now).into()),
            ],
            &note,
            json!({"nature": nature.code(), "confirmed_amount": confirmed_amount}),
        )
    }

    /// Closes a decided case once every sanction is finished (executed, rejected or cancelled)
    /// — a case with an unpaid recovery stays open.
    pub fn close_case(&mut self, actor: &Actor, id: i64, note: &str) -> Result<Case> {
        actor.require(Perm::Decide)?;
        let c = self.load_case(actor, id)?;
        let open = self.db.query(
            "SELECT id, kind, state FROM wf_sanction WHERE case_id = $1 AND state IN ('proposed', 'approved') ORDER BY id",
            &[id.into()],
        )?;
        if !open.is_empty() {
            let list: Vec<String> = open
                .iter()
                .map(|r| format!("#{}({} {})", r.int(0), r.text(1), r.text(2)))
                .collect();
            return Err(validation(format!(
                "尚有未办结的处理措施：{} / unfinished sanctions",
                list.join(", ")
            )));
        }
        let now = self.now();
        self.case_transition(
            actor,
            &c,
            CaseState::Closed,
            None,
            "case.close",
            vec![("closed_at", dt(now).into())],
            note,
            json!({}),
        )
    }

    /// Drops (撤销) an open or investigating case, with the reason.
    pub fn drop_case(&mut self, actor: &Actor, id: i64, reason: &str) -> Result<Case> {
        actor.require(Perm::Decide)?;
        let c = self.load_case(actor, id)?;
        let reason = required(reason, "撤销理由 reason")?;
        let now = self.now();
        self.case_transition(
            actor,
            &c,
            CaseState::Dropped,
            None,
            "case.drop",
            vec![("closed_at", dt(now).into())],
            &reason,
            json!({"reason": reason}),
        )
    }

    /// Attaches evidence files to a case or an inspection (stored under `<data>/evidence/` by
    /// their SHA-256).
    pub fn add_evidence(
        &mut self,
        actor: &Actor,
        entity: &str,
        id: i64,
        files: &[Upload],
    ) -> Result<Vec<Document>> {
        actor.require(Perm::Inspect)?;
        match entity {
            "case" => {
                self.load_case(actor, id)?;
            }
            "inspection" => {
                self.load_inspection(actor, id)?;
            }
            _ => return Err(validation(
                "证据只能附在案件(case)或检查(inspection)上 / entity must be case or inspection",
            )),
        }
        if files.is_empty() {
            return Err(validation("未提供文件 / no files"));
        }
        let mut stored = vec![];
        for up in files {
            let (rel, sha) = self.store_file(up)?;
            stored.push((up.clone(), rel, sha));
        }
        let now = self.now();
        let entity_s: &'static str = if entity == "case" {
            "case"
        } else {
            "inspection"
        };
        self.mutate(actor, "evidence.add", |db| {
            let ids = Workflow::insert_documents(
                db,
                entity_s,
                id,
                "evidence",
                &stored,
                &actor.username,
                now,
            )?;
            let shas: Vec<&str> = stored.iter().map(|s| s.2.as_str()).collect();
            Ok((
                (),
                Change::new(entity_s, id, json!({"documents": ids, "sha256": shas})),
            ))
        })?;
        documents_of(self.db, entity_s, id)
    }

    /// A case with its events, documents, sanctions, inspections and shares.
    pub fn get_case(&mut self, actor: &Actor, id: i64) -> Result<CaseDetail> {
        let case = self.load_case(actor, id)?;
        let events = events_of(self.db, "case", id)?;
        let documents = documents_of(self.db, "case", id)?;
        let today = self.today();
        let sanctions = crate::sanction::sanctions_of_case(self.db, id, today)?;
        let ids: Vec<i64> = self
            .db
            .query(
                "SELECT id FROM wf_inspection WHERE case_id = $1 ORDER BY id",
                &[id.into()],
            )?
            .iter()
            .map(|r| r.int(0))
            .collect();
        let mut inspections = vec![];
        for i in ids {
            inspections.push(inspection_by_id(self.db, i)?);
        }
        let mut shares = crate::share::shares_of_case(self.db, id)?;
        if let Some(dep) = actor.department() {
            shares.retain(|s| s.department == dep);
        }
        let next_states = case.state.next_states();
        Ok(CaseDetail {
            case,
            events,
            documents,
            sanctions,
            inspections,
            shares,
            next_states,
        })
    }

    /// Lists cases visible to the actor.
    pub fn list_cases(&mut self, actor: &Actor, f: &CaseFilter, page: Page) -> Result<Paged<Case>> {
        let mut w = Where::default();
        if !actor.is_bureau() {
            if let Some(c) = actor.institution() {
                w.add("fixmedins_code = ?", c);
            } else if let Some(dep) = actor.department() {
                w.add(
                    "id IN (SELECT case_id FROM wf_share WHERE department = ?)",
                    dep.code(),
                );
            } else {
                return Err(WfError::Forbidden(
                    "无权查看案件 / not allowed to read cases".into(),
                ));
            }
        }
        if let Some(s) = f.state {
            w.add("state = ?", s.code());
        }
        if let Some(c) = &f.fixmedins_code {
            w.add("fixmedins_code = ?", c.as_str());
        }
        if let Some(s) = f.source {
            w.add("source = ?", s.code());
        }
        if let Some(a) = &f.assigned_to {
            w.add("assigned_to = ?", a.as_str());
        }
        let total = self
            .db
            .query_one(
                &format!("SELECT COUNT(*) FROM wf_case{}", w.sql()),
                &w.params,
            )?
            .int(0);
        let rows = self.db.query(
            &format!(
                "SELECT * FROM wf_case{} ORDER BY id DESC{}",
                w.sql(),
                page.sql()
            ),
            &w.params,
        )?;
        Ok(Paged {
            total,
            items: rows.iter().map(case_of).collect::<Result<_>>()?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Inspections

str_enum! {
    /// Inspection kind.
    pub enum InspectionKind {
        Routine = "routine" / "日常检查",
        Special = "special" / "专项检查",
        Flight = "flight" / "飞行检查",
        Stationed = "stationed" / "驻点督查",
    }
}

str_enum! {
    /// Inspection state.
    pub enum InspectionState {
        Planned = "planned" / "已计划",
        InProgress = "in_progress" / "检查中",
        Completed = "completed" / "已完成",
        Cancelled = "cancelled" / "已取消",
    }
}

impl StateMachine for InspectionState {
    const TRANSITIONS: &'static [(InspectionState, InspectionState)] = &[
        (InspectionState::Planned, InspectionState::InProgress),
        (InspectionState::Planned, InspectionState::Cancelled),
        (InspectionState::InProgress, InspectionState::Completed),
    ];
    fn label(self) -> &'static str {
        self.zh()
    }
}

str_enum! {
    /// Result of one checklist item.
    pub enum CheckResult {
        Pending = "pending" / "未检查",
        Ok = "ok" / "相符",
        Issue = "issue" / "发现问题",
        NotApplicable = "na" / "不适用",
    }
}

str_enum! {
    /// Overall inspection result.
    pub enum InspectionResult {
        Pass = "pass" / "未发现问题",
        Issues = "issues" / "发现问题",
    }
}

/// The five verifications of seed 001 (五核实), the default checklist.
pub const FIVE_VERIFICATIONS: &[(&str, &str)] = &[
    ("inpatient_identity", "住院人员身份核实"),
    ("inpatient_count", "住院人数核实"),
    ("medication_quantity", "用药数量核实"),
    ("drug_stock", "药品库存核实"),
    ("e_prescription", "电子处方核实"),
];

/// One checklist item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckItem {
    /// Code (e.g. `drug_stock`).
    pub code: String,
    /// Title.
    pub title: String,
    /// Result.
    pub result: CheckResult,
    /// What was found.
    pub note: Option<String>,
    /// By.
    pub checked_by: Option<String>,
    /// At.
    pub checked_at: Option<NaiveDateTime>,
}

/// An inspection with its checklist.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    /// Id.
    pub id: i64,
    /// Case it serves, if any.
    pub case_id: Option<i64>,
    /// Institution inspected.
    pub fixmedins_code: String,
    /// Kind.
    pub kind: InspectionKind,
    /// Planned date.
    pub planned_on: NaiveDate,
    /// State.
    pub state: InspectionState,
    /// Inspectors on site.
    pub inspectors: Vec<String>,
    /// Result once completed.
    pub result: Option<InspectionResult>,
    /// Summary.
    pub summary: Option<String>,
    /// Planned by.
    pub created_by: String,
    /// Completed at.
    pub completed_at: Option<NaiveDateTime>,
    /// Checklist.
    pub items: Vec<CheckItem>,
    /// Evidence files.
    pub documents: Vec<Document>,
}

/// Input of [`Workflow::plan_inspection`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewInspection {
    /// Institution.
    pub fixmedins_code: String,
    /// Case, if the inspection serves one.
    pub case_id: Option<i64>,
    /// Kind.
    pub kind: InspectionKind,
    /// Date.
    pub planned_on: NaiveDate,
    /// Checklist `(code, title)`; `None` = the five verifications.
    pub checklist: Option<Vec<(String, String)>>,
}

pub(crate) fn inspection_by_id(db: &mut Db, id: i64) -> Result<Inspection> {
    let r = db
        .query_opt("SELECT * FROM wf_inspection WHERE id = $1", &[id.into()])?
        .ok_or_else(|| WfError::NotFound(format!("检查 / inspection {id}")))?;
    let items = db
        .query(
            "SELECT * FROM wf_check_item WHERE inspection_id = $1 ORDER BY id",
            &[id.into()],
        )?
        .iter()
        .map(|x| {
            Ok(CheckItem {
                code: x.text_of("code"),
                title: x.text_of("title"),
                result: x.text_of("result").parse()?,
                note: x.opt_text_of("note"),
                checked_by: x.opt_text_of("checked_by"),
                checked_at: opt_dt(x, "checked_at"),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let documents = documents_of(db, "inspection", id)?;
    Ok(Inspection {
        id,
        case_id: r.opt_int_of("case_id"),
        fixmedins_code: r.text_of("fixmedins_code"),
        kind: r.text_of("kind").parse()?,
        planned_on: parse_d(&r.text_of("planned_on")),
        state: r.text_of("state").parse()?,
        inspectors: r
            .text_of("inspectors")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        result: opt_enum(&r, "result")?,
        summary: r.opt_text_of("summary"),
        created_by: r.text_of("created_by"),
        completed_at: opt_dt(&r, "completed_at"),
        items,
        documents,
    })
}

impl Workflow<'_> {
    fn load_inspection(&mut self, actor: &Actor, id: i64) -> Result<Inspection> {
        let i = inspection_by_id(self.db, id)?;
        if !actor.sees_institution(Some(&i.fixmedins_code)) {
            return Err(WfError::NotFound(format!("检查 / inspection {id}")));
        }
        Ok(i)
    }

    /// Plans an inspection (default checklist: the five verifications).
    pub fn plan_inspection(&mut self, actor: &Actor, n: &NewInspection) -> Result<Inspection> {
        actor.require(Perm::Inspect)?;
        medfund_contract::codes::check_fixmedins_code(&n.fixmedins_code)
            .map_err(|e| validation(format!("机构编码 / institution code: {e}")))?;
        if let Some(cid) = n.case_id {
            let c = self.load_case(actor, cid)?;
            if c.fixmedins_code
                .as_deref()
                .is_some_and(|x| x != n.fixmedins_code)
            {
                return Err(validation(
                    "检查机构与案件机构不一致 / the inspected institution differs from the case's",
                ));
            }
        }
        let items: Vec<(String, String)> = match &n.checklist {
            Some(l) if !l.is_empty() => l.clone(),
            Some(_) => return Err(validation("检查清单不能为空 / the checklist is empty")),
            None => FIVE_VERIFICATIONS
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        };
        let now = self.now();
        let id = self.mutate(actor, "inspection.plan", |db| {
            let id = db
                .query_one(
                    "INSERT INTO wf_inspection (case_id, fixmedins_code, kind, planned_on, state, inspectors, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, '', $6, $7) RETURNING id",
                    &[n.case_id.into(), n.fixmedins_code.as_str().into(), n.kind.code().into(), d(n.planned_on).into(), InspectionState::Planned.code().into(), actor.username.as_str().into(), dt(now).into()],
                )?
                .int(0);
            for (code, title) in &items {
                db.execute(
                    "INSERT INTO wf_check_item (inspection_id, code, title, result) VALUES ($1, $2, $3, $4)",
                    &[id.into(), code.as_str().into(), title.as_str().into(), CheckResult::Pending.code().into()],
                )
                .map_err(|_| validation(format!("检查项编码重复 / duplicate checklist code {code}")))?;
            }
            record_event(db, "inspection", id, now, &actor.username, None, InspectionState::Planned.code(), None)?;
            Ok((id, Change::new("inspection", id, json!({"fixmedins_code": n.fixmedins_code, "kind": n.kind.code(), "case_id": n.case_id, "items": items.len()}))))
        })?;
        self.load_inspection(actor, id)
    }

    fn inspection_transition(
        &mut self,
        actor: &Actor,
        i: &Inspection,
        to: InspectionState,
        action: &str,
        sets: Vec<(&str, medfund_db::Value)>,
        detail: serde_json::Value,
    ) -> Result<Inspection> {
        i.state.ensure(to)?;
        let now = self.now();
        let (id, from) = (i.id, i.state);
        self.mutate(actor, action, |db| {
            let mut sql = String::from("UPDATE wf_inspection SET state = $1");
            let mut params: Vec<medfund_db::Value> = vec![to.code().into()];
            for (col, v) in sets {
                params.push(v);
                sql.push_str(&format!(", {col} = ${}", params.len()));
            }
            params.push(id.into());
            let idp = params.len();
            params.push(from.code().into());
            sql.push_str(&format!(" WHERE id = ${idp} AND state = ${}", idp + 1));
            if db.execute(&sql, &params)? != 1 {
                return Err(WfError::InvalidTransition {
                    from: from.zh().into(),
                    to: to.zh().into(),
                });
            }
            record_event(
                db,
                "inspection",
                id,
                now,
                &actor.username,
                Some(from.code()),
                to.code(),
                None,
            )?;
            Ok(((), Change::new("inspection", id, detail)))
        })?;
        self.load_inspection(actor, id)
    }

    /// Starts the on-site inspection with its inspectors (at least `min_inspectors` distinct
    /// users who may inspect; the actor must be one of them).
    pub fn start_inspection(
        &mut self,
        actor: &Actor,
        id: i64,
        inspectors: &[String],
    ) -> Result<Inspection> {
        actor.require(Perm::Inspect)?;
        let i = self.load_inspection(actor, id)?;
        let mut names: Vec<String> = inspectors
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        names.sort();
        names.dedup();
        let min = self.policy.inspection.min_inspectors;
        if names.len() < min {
            return Err(WfError::SameActor(format!("现场检查须至少 {min} 名检查人员 / on-site inspection needs at least {min} distinct inspectors")));
        }
        if !names.contains(&actor.username) {
            return Err(validation(
                "开始检查的人员须为检查人员之一 / the actor must be one of the inspectors",
            ));
        }
        for n in &names {
            if !crate::auth::user_has(self.db, n, Perm::Inspect)? {
                return Err(validation(format!(
                    "{n} 不存在或无检查权限 / {n} cannot inspect"
                )));
            }
        }
        let now = self.now();
        let list = names.join(",");
        self.inspection_transition(
            actor,
            &i,
            InspectionState::InProgress,
            "inspection.start",
            vec![
                ("inspectors", list.as_str().into()),
                ("started_at", dt(now).into()),
            ],
            json!({"inspectors": names}),
        )
    }

    /// Records one checklist item (an inspector on site only).
    pub fn record_check(
        &mut self,
        actor: &Actor,
        id: i64,
        code: &str,
        result: CheckResult,
        note: &str,
    ) -> Result<Inspection> {
        actor.require(Perm::Inspect)?;
        let i = self.load_inspection(actor, id)?;
        if i.state != InspectionState::InProgress {
            return Err(WfError::InvalidTransition {
                from: i.state.zh().into(),
                to: "记录检查项 / record item".into(),
            });
        }
        if !i.inspectors.contains(&actor.username) {
            return Err(WfError::Forbidden(
                "只有现场检查人员可以记录 / only the inspectors on site".into(),
            ));
        }
        if result == CheckResult::Pending {
            return Err(validation(
                "请记录检查结果（ok/issue/na） / record ok, issue or na",
            ));
        }
        if result == CheckResult::Issue && note.trim().is_empty() {
            return Err(validation("发现问题须写明情况 / describe the issue"));
        }
        let now = self.now();
        self.mutate(actor, "inspection.check", |db| {
            let n = db.execute(
                "UPDATE wf_check_item SET result = $1, note = $2, checked_by = $3, checked_at = $4 WHERE inspection_id = $5 AND code = $6",
                &[result.code().into(), note.trim().into(), actor.username.as_str().into(), dt(now).into(), id.into(), code.into()],
            )?;
            if n == 0 {
                return Err(WfError::NotFound(format!("检查项 / checklist item {code}")));
            }
            Ok(((), Change::new("inspection", id, json!({"item": code, "result": result.code(), "note": note.trim()}))))
        })?;
        self.load_inspection(actor, id)
    }

    /// Completes the inspection: every item must be recorded; the result is `issues` when any
    /// item found one.
    pub fn complete_inspection(
        &mut self,
        actor: &Actor,
        id: i64,
        summary: &str,
    ) -> Result<Inspection> {
        actor.require(Perm::Inspect)?;
        let i = self.load_inspection(actor, id)?;
        if i.state == InspectionState::InProgress && !i.inspectors.contains(&actor.username) {
            return Err(WfError::Forbidden(
                "只有现场检查人员可以完成检查 / only the inspectors on site".into(),
            ));
        }
        let pending: Vec<&str> = i
            .items
            .iter()
            .filter(|x| x.result == CheckResult::Pending)
            .map(|x| x.title.as_str())
            .collect();
        if !pending.is_empty() && i.state == InspectionState::InProgress {
            return Err(validation(format!(
                "以下检查项尚未记录：{} / items not yet recorded",
                pending.join("、")
            )));
        }
        let result = if i.items.iter().any(|x| x.result == CheckResult::Issue) {
            InspectionResult::Issues
        } else {
            InspectionResult::Pass
        };
        let summary = required(summary, "检查结论 summary")?;
        let now = self.now();
        self.inspection_transition(
            actor,
            &i,
            InspectionState::Completed,
            "inspection.complete",
            vec![
                ("result", result.code().into()),
                ("summary", summary.as_str().into()),
                ("completed_at", dt(now).into()),
            ],
            json!({"result": result.code()}),
        )
    }

    /// Cancels a planned inspection.
    pub fn cancel_inspection(
        &mut self,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> Result<Inspection> {
        actor.require(Perm::Inspect)?;
        let i = self.load_inspection(actor, id)?;
        let reason = required(reason, "取消理由 reason")?;
        self.inspection_transition(
            actor,
            &i,
            InspectionState::Cancelled,
            "inspection.cancel",
            vec![("summary", reason.as_str().into())],
            json!({"reason": reason}),
        )
    }

    /// One inspection.
    pub fn get_inspection(&mut self, actor: &Actor, id: i64) -> Result<Inspection> {
        self.load_inspection(actor, id)
    }

    /// Inspections visible to the actor, newest first; optionally of one institution.
    pub fn list_inspections(
        &mut self,
        actor: &Actor,
        fixmedins_code: Option<&str>,
        state: Option<InspectionState>,
        page: Page,
    ) -> Result<Paged<Inspection>> {
        let mut w = Where::default();
        if !actor.is_bureau() {
            match actor.institution() {
                Some(c) => {
                    w.add("fixmedins_code = ?", c);
                }
                None => {
                    return Err(WfError::Forbidden(
                        "无权查看检查 / not allowed to read inspections".into(),
                    ))
                }
            }
        }
        if let Some(c) = fixmedins_code {
            w.add("fixmedins_code = ?", c);
        }
        if let Some(s) = state {
            w.add("state = ?", s.code());
        }
        let total = self
            .db
            .query_one(
                &format!("SELECT COUNT(*) FROM wf_inspection{}", w.sql()),
                &w.params,
            )?
            .int(0);
        let ids: Vec<i64> = self
            .db
            .query(
                &format!(
                    "SELECT id FROM wf_inspection{} ORDER BY id DESC{}",
                    w.sql(),
                    page.sql()
                ),
                &w.params,
            )?
            .iter()
            .map(|r| r.int(0))
            .collect();
        let mut items = vec![];
        for id in ids {
            items.push(inspection_by_id(self.db, id)?);
        }
        Ok(Paged { total, items })
    }
}
