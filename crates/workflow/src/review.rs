//! The national review procedure for suspects (DOMAIN.md §4.2): 初审 first review → 复审 second
//! review (another person) → notification and the institution's appeal (申诉) with documents →
//! 调查核实 investigation → 处理 decision; each step with a time limit (限时办结).
//!
//! ```text
//! pending ──first_review──▶ first_reviewed ──second_review(agree, confirm)──▶ notified
//!    ▲                          │   └──second_review(agree, dismiss)──▶ dismissed
//!    └──second_review(return)───┘
//! notified ──appeal──▶ appealed ──start_investigation──▶ investigating ──decide──▶ decided
//! notified ──accept──▶ accepted ──start_investigation──▶ investigating
//! accepted ──decide──▶ decided
//! notified ──start_investigation (after the appeal window)──▶ investigating
//! ```
//!
//! Which findings are reviewed: [`sample`] (a reproducible random share, an amount threshold,
//! and visits far above the median cost of same-diagnosis visits).

use crate::auth::{Actor, Perm, Role};
use crate::error::{validation, Result, WfError};
use crate::util::{
    dt, opt_dt, opt_enum, opt_fen, parse_dt, plus_days, str_enum, Page, Paged, Ratio, StateMachine,
    Where,
};
use crate::{events_of, record_event, Change, Document, Event, Upload, Workflow};
use chrono::NaiveDateTime;
use medfund_contract::{Fen, Finding};
use medfund_db::Row;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

str_enum! {
    /// Where a suspect is in the review procedure.
    pub enum ReviewState {
        Pending = "pending" / "待初审",
        FirstReviewed = "first_reviewed" / "待复审",
        Dismissed = "dismissed" / "已排除",
        Notified = "notified" / "已告知待申诉",
        Appealed = "appealed" / "已申诉",
        Accepted = "accepted" / "机构认可",
        Investigating = "investigating" / "调查核实中",
        Decided = "decided" / "已处理",
    }
}

impl StateMachine for ReviewState {
    const TRANSITIONS: &'static [(ReviewState, ReviewState)] = &[
        (ReviewState::Pending, ReviewState::FirstReviewed),
        (ReviewState::FirstReviewed, ReviewState::Dismissed),
        (ReviewState::FirstReviewed, ReviewState::Notified),
        (ReviewState::FirstReviewed, ReviewState::Pending),
        (ReviewState::Notified, ReviewState::Appealed),
        (ReviewState::Notified, ReviewState::Accepted),
        (ReviewState::Notified, ReviewState::Investigating),
        (ReviewState::Appealed, ReviewState::Investigating),
        (ReviewState::Accepted, ReviewState::Investigating),
        (ReviewState::Accepted, ReviewState::Decided),
        (ReviewState::Investigating, ReviewState::Decided),
    ];
    fn label(self) -> &'static str {
        self.zh()
    }
}

str_enum! {
    /// The first reviewer's opinion.
    pub enum Opinion {
        Confirm = "confirm" / "疑点成立",
        Dismiss = "dismiss" / "疑点不成立",
    }
}

str_enum! {
    /// The decision at the end of the procedure.
    pub enum Verdict {
        Confirmed = "confirmed" / "认定违规",
        Cleared = "cleared" / "不予认定",
    }
}

/// One suspect under review.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// Id.
    pub id: i64,
    /// The finding (its deterministic id from the audit).
    pub finding_id: String,
    /// Rule.
    pub rule_id: String,
    /// Category code.
    pub category: String,
    /// Institution.
    pub fixmedins_code: Option<String>,
    /// Person with payment qualification concerned (billing doctor).
    pub pract_code: Option<String>,
    /// Insured person.
    pub psn_no: Option<String>,
    /// Visit.
    pub mdtrt_id: Option<String>,
    /// Suspect amount.
    pub amount: Option<Fen>,
    /// The finding as the audit emitted it.
    pub finding: Finding,
    /// Why it was selected for review.
    pub sample_reason: String,
    /// Current state.
    pub state: ReviewState,
    /// Assigned first reviewer (auditor or third party), if any.
    pub assigned_to: Option<String>,
    /// 初审 by.
    pub first_reviewer: Option<String>,
    /// 初审 opinion.
    pub first_opinion: Option<Opinion>,
    /// 初审 note.
    pub first_note: Option<String>,
    /// 复审 by.
    pub second_reviewer: Option<String>,
    /// 复审 note.
    pub second_note: Option<String>,
    /// Appeal by.
    pub appeal_by: Option<String>,
    /// Appeal text.
    pub appeal_text: Option<String>,
    /// Appeal time.
    pub appeal_at: Option<NaiveDateTime>,
    /// Investigator.
    pub investigator: Option<String>,
    /// Investigation note.
    pub investigation_note: Option<String>,
    /// Decided by.
    pub decided_by: Option<String>,
    /// Decision.
    pub decision: Option<Verdict>,
    /// Amount confirmed by the decision.
    pub confirmed_amount: Option<Fen>,
    /// Decision note.
    pub decision_note: Option<String>,
    /// Decision time.
    pub decided_at: Option<NaiveDateTime>,
    /// Entered the current state.
    pub state_since: NaiveDateTime,
    /// Time limit of the current step.
    pub due_at: Option<NaiveDateTime>,
    /// Registered by.
    pub created_by: String,
    /// Registered at.
    pub created_at: NaiveDateTime,
}

/// A review with its history and documents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewDetail {
    /// The review.
    pub review: Review,
    /// State changes, oldest first.
    pub events: Vec<Event>,
    /// Appeal documents.
    pub documents: Vec<Document>,
    /// Allowed next states.
    pub next_states: Vec<ReviewState>,
}

fn review_of(r: &Row) -> Result<Review> {
    let finding: Finding = serde_json::from_str(&r.text_of("finding_json")).map_err(|e| {
        validation(format!(
            "review {}: stored finding unreadable: {e}",
            r.int_of("id")
        ))
    })?;
    Ok(Review {
        id: r.int_of("id"),
        finding_id: r.text_of("finding_id"),
        rule_id: r.text_of("rule_id"),
        category: r.text_of("category"),
        fixmedins_code: r.opt_text_of("fixmedins_code"),
        pract_code: r.opt_text_of("pract_code"),
        psn_no: r.opt_text_of("psn_no"),
        mdtrt_id: r.opt_text_of("mdtrt_id"),
        amount: opt_fen(r, "amount_fen"),
        finding,
        sample_reason: r.text_of("sample_reason"),
        state: r.text_of("state").parse()?,
        assigned_to: r.opt_text_of("assigned_to"),
        first_reviewer: r.opt_text_of("first_reviewer"),
        first_opinion: opt_enum(r, "first_opinion")?,
        first_note: r.opt_text_of("first_note"),
        second_reviewer: r.opt_text_of("second_reviewer"),
        second_note: r.opt_text_of("second_note"),
        appeal_by: r.opt_text_of("appeal_by"),
        appeal_text: r.opt_text_of("appeal_text"),
        appeal_at: opt_dt(r, "appeal_at"),
        investigator: r.opt_text_of("investigator"),
        investigation_note: r.opt_text_of("investigation_note"),
        decided_by: r.opt_text_of("decided_by"),
        decision: opt_enum(r, "decision")?,
        confirmed_amount: opt_fen(r, "confirmed_amount_fen"),
        decision_note: r.opt_text_of("decision_note"),
        decided_at: opt_dt(r, "decided_at"),
        state_since: parse_dt(&r.text_of("state_since")),
        due_at: opt_dt(r, "due_at"),
        created_by: r.text_of("created_by"),
        created_at: parse_dt(&r.text_of("created_at")),
    })
}

/// Filter of [`Workflow::list_reviews`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReviewFilter {
    /// Only this state.
    pub state: Option<ReviewState>,
    /// Only this institution.
    pub fixmedins_code: Option<String>,
    /// Only this category code.
    pub category: Option<String>,
    /// Only this practitioner.
    pub pract_code: Option<String>,
    /// Only assigned to this user.
    pub assigned_to: Option<String>,
    /// Only past their time limit.
    pub overdue_only: bool,
}

/// The cost of one visit, for the same-diagnosis variance test of [`sample`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisitCost {
    /// Visit.
    pub mdtrt_id: String,
    /// Main diagnosis (ICD-10; the first three characters are the category compared).
    pub diag_code: String,
    /// Total cost of the visit.
    pub cost: Fen,
}

/// How to draw findings for manual review (defaults from the policy's `[sampling]`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SamplingSpec {
    /// Random share in percent (0–100), reproducible for a given seed.
    pub random_percent: Ratio,
    /// Seed of the random draw.
    pub seed: String,
    /// Findings with at least this amount are always drawn.
    pub amount_threshold: Option<Fen>,
    /// Visits costing more than this multiple of their diagnosis category's median are drawn.
    pub variance_ratio: Option<Ratio>,
    /// Minimum visits in the category for the variance test.
    pub variance_min_peers: usize,
}

impl SamplingSpec {
    /// The policy's sampling parameters.
    pub fn from_policy(p: &crate::policy::SamplingPolicy) -> SamplingSpec {
        SamplingSpec {
            random_percent: p.random_percent.0,
            seed: p.seed.clone(),
            amount_threshold: Some(Fen::from_yuan(p.amount_threshold_yuan)),
            variance_ratio: Some(p.variance_ratio.0),
            variance_min_peers: p.variance_min_peers,
        }
    }
}

/// A finding drawn for review and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sampled {
    /// Index into the input slice.
    pub index: usize,
    /// Chinese reasons, `;`-joined when several apply.
    pub reason: String,
}

/// Draws findings for manual review, the way established claims systems do: every finding with
/// an amount at or above the threshold; a reproducible random share (SHA-256 of seed and finding
/// id, so reruns draw the same findings); and findings whose visit costs more than
/// `variance_ratio` × the median cost of visits with the same ICD-10 category (first three
/// characters of the main diagnosis), when that category has at least `variance_min_peers`
/// visits. Pure: no I/O.
pub fn sample(findings: &[Finding], visits: &[VisitCost], spec: &SamplingSpec) -> Vec<Sampled> {
    let mut by_cat: HashMap<String, Vec<i64>> = HashMap::new();
    let mut visit: HashMap<&str, &VisitCost> = HashMap::new();
    for v in visits {
        by_cat
            .entry(category3(&v.diag_code))
            .or_default()
            .push(v.cost.0);
        visit.insert(v.mdtrt_id.as_str(), v);
    }
    // Median per category: the lower middle for even counts keeps it an observed cost.
    let medians: HashMap<String, (i64, usize)> = by_cat
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_unstable();
            let m = v[(v.len() - 1) / 2];
            (k, (m, v.len()))
        })
        .collect();
    let mut out = vec![];
    for (i, f) in findings.iter().enumerate() {
        let mut reasons = vec![];
        if let (Some(t), Some(a)) = (spec.amount_threshold, f.amount) {
            if a >= t {
                reasons.push(format!("金额 {a} 元 ≥ 阈值 {t} 元"));
            }
        }
        if let (Some(ratio), Some(m)) = (spec.variance_ratio, f.mdtrt_id.as_deref()) {
            if let Some(v) = visit.get(m) {
                if let Some(&(median, n)) = medians.get(&category3(&v.diag_code)) {
                    // cost > ratio × median, compared exactly: cost·den > median·num.
                    if n >= spec.variance_min_peers
                        && median > 0
                        && (v.cost.0 as i128) * (ratio.den as i128)
                            > (median as i128) * (ratio.num as i128)
                    {
                        reasons.push(format!(
                            "就诊费用 {} 元 超过同诊断（{}）中位数 {} 元的 {} 倍",
                            v.cost,
                            category3(&v.diag_code),
                            Fen(median),
                            ratio
                        ));
                    }
                }
            }
        }
        if random_draw(&spec.seed, &f.finding_id, spec.random_percent) {
            reasons.push(format!("随机抽取 {}%", spec.random_percent));
        }
        if !reasons.is_empty() {
            out.push(Sampled {
                index: i,
                reason: reasons.join("；"),
            });
        }
    }
    out
}

fn category3(diag: &str) -> String {
    diag.chars().take(3).collect()
}

/// Whether a finding falls in the random share: the first 8 bytes of SHA-256(seed ‖ 0x1f ‖ id)
/// modulo 1,000,000 compared with percent × 10,000.
pub fn random_draw(seed: &str, finding_id: &str, percent: Ratio) -> bool {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    h.update([0x1f]);
    h.update(finding_id.as_bytes());
    let d = h.finalize();
    let x = u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]) % 1_000_000;
    // x < percent/100 × 1e6  ⇔  x·den < num·10_000
    (x as i128) * (percent.den as i128) < (percent.num as i128) * 10_000
}

impl Workflow<'_> {
    fn load_review(&mut self, actor: &Actor, id: i64) -> Result<Review> {
        let r = self
            .db
            .query_opt("SELECT * FROM wf_review WHERE id = $1", &[id.into()])?
            .ok_or_else(|| WfError::NotFound(format!("疑点审核 / review {id}")))?;
        let rv = review_of(&r)?;
        if !can_see_review(actor, &rv) {
            return Err(WfError::NotFound(format!("疑点审核 / review {id}")));
        }
        Ok(rv)
    }

    /// Registers findings for review (idempotent on `finding_id`: a finding already under review
    /// is skipped). Returns the newly registered reviews.
    pub fn register_findings(
        &mut self,
        actor: &Actor,
        findings: &[(Finding, String)],
    ) -> Result<Vec<Review>> {
        actor.require(Perm::ReviewRegister)?;
        if findings.is_empty() {
            return Ok(vec![]);
        }
        let now = self.now();
        let due = plus_days(now, self.policy.time_limits.first_review);
        self.mutate(actor, "review.register", |db| {
            let mut ids = vec![];
            for (f, reason) in findings {
                if f.finding_id.is_empty() {
                    return Err(validation("疑点缺少 finding_id（请先 seal） / finding without finding_id"));
                }
                let json = serde_json::to_string(f).map_err(|e| validation(e.to_string()))?;
                let row = db.query_opt(
                    "INSERT INTO wf_review (finding_id, rule_id, category, fixmedins_code, pract_code, psn_no, mdtrt_id, amount_fen, \
                     finding_json, sample_reason, state, state_since, due_at, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (finding_id) DO NOTHING RETURNING id",
                    &[
                        f.finding_id.as_str().into(),
                        f.rule_id.as_str().into(),
                        f.category.code().into(),
                        f.fixmedins_code.as_deref().into(),
                        f.pract_code.as_deref().into(),
                        f.psn_no.as_deref().into(),
                        f.mdtrt_id.as_deref().into(),
                        f.amount.map(|a| a.0).into(),
                        json.into(),
                        reason.as_str().into(),
                        ReviewState::Pending.code().into(),
                        dt(now).into(),
                        dt(due).into(),
                        actor.username.as_str().into(),
                        dt(now).into(),
                    ],
                )?;
                if let Some(r) = row {
                    let id = r.int(0);
                    record_event(db, "review", id, now, &actor.username, None, ReviewState::Pending.code(), Some(reason))?;
                    ids.push(id);
                }
            }
            let mut out = vec![];
            for id in &ids {
                out.push(review_of(&db.query_one("SELECT * FROM wf_review WHERE id = $1", &[(*id).into()])?)?);
            }
            let detail = json!({"registered": ids, "offered": findings.len()});
            let key = ids.first().map(|i| i.to_string()).unwrap_or_else(|| "none".into());
            Ok((out, Change::new("review", key, detail)))
        })
    }

    /// Assigns the first review to a user (an auditor, or a contracted third-party reviewer).
    pub fn assign_review(&mut self, actor: &Actor, id: i64, username: &str) -> Result<Review> {
        actor.require(Perm::ReviewAssign)?;
        let rv = self.load_review(actor, id)?;
        if rv.state != ReviewState::Pending {
            return Err(WfError::InvalidTransition {
                from: rv.state.zh().into(),
                to: "分派 / assign".into(),
            });
        }
        if !crate::auth::user_has(self.db, username, Perm::ReviewFirst)? {
            return Err(validation(format!(
                "用户 {username} 不存在或无初审权限 / {username} cannot do first reviews"
            )));
        }
        self.mutate(actor, "review.assign", |db| {
            let n = db.execute(
                "UPDATE wf_review SET assigned_to = $1 WHERE id = $2 AND state = 'pending'",
                &[username.into(), id.into()],
            )?;
            crate::util::changed_one(n, rv.state.zh(), "分派 / assign")?;
            Ok((
                (),
                Change::new("review", id, json!({"assigned_to": username})),
            ))
        })?;
        self.load_review(actor, id)
    }

    fn transition(
        &mut self,
        actor: &Actor,
        rv: &Review,
        to: ReviewState,
        due_days: Option<i64>,
        action: &str,
        sets: &[(&str, medfund_db::Value)],
        note: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<Review> {
        rv.state.ensure(to)?;
        let now = self.now();
        let due = due_days.map(|d| dt(plus_days(now, d)));
        let from = rv.state;
        let id = rv.id;
        self.mutate(actor, action, |db| {
            let mut sql =
                String::from("UPDATE wf_review SET state = $1, state_since = $2, due_at = $3");
            let mut params: Vec<medfund_db::Value> =
                vec![to.code().into(), dt(now).into(), due.clone().into()];
            for (col, v) in sets {
                params.push(v.clone());
                sql.push_str(&format!(", {col} = ${}", params.len()));
            }
            params.push(id.into());
            let idp = params.len();
            params.push(from.code().into());
            sql.push_str(&format!(" WHERE id = ${idp} AND state = ${}", idp + 1));
            // The state guard makes a concurrent double transition fail instead of applying twice.
            if db.execute(&sql, &params)? != 1 {
                return Err(WfError::InvalidTransition {
                    from: from.zh().into(),
                    to: to.zh().into(),
                });
            }
            record_event(
                db,
                "review",
                id,
                now,
                &actor.username,
                Some(from.code()),
                to.code(),
                note,
            )?;
            let mut d = detail;
            d["from"] = json!(from.code());
            d["to"] = json!(to.code());
            Ok(((), Change::new("review", id, d)))
        })?;
        self.load_review(actor, id)
    }

    /// 初审: the first reviewer's opinion. Third-party reviewers may only review what is
    /// assigned to them; when a review is assigned, only the assignee may do it.
    pub fn first_review(
        &mut self,
        actor: &Actor,
        id: i64,
        opinion: Opinion,
        note: &str,
    ) -> Result<Review> {
        actor.require(Perm::ReviewFirst)?;
        let rv = self.load_review(actor, id)?;
        if let Some(a) = &rv.assigned_to {
            if a != &actor.username {
                return Err(WfError::Forbidden(format!(
                    "该疑点已分派给 {a} / assigned to {a}"
                )));
            }
        }
        let note = crate::util::required(note, "初审意见 note")?;
        let now = self.now();
        self.transition(
            actor,
            &rv,
            ReviewState::FirstReviewed,
            Some(self.policy.time_limits.second_review),
            "review.first",
            &[
                ("first_reviewer", actor.username.as_str().into()),
                ("first_opinion", opinion.code().into()),
                ("first_note", note.as_str().into()),
                ("first_at", dt(now).into()),
            ],
            Some(&note),
            json!({"opinion": opinion.code()}),
        )
    }

    /// 复审 by another person than the first reviewer. `agree`: the first opinion stands — a
    /// confirmed suspect is notified to the institution (the appeal window opens), a dismissed
    /// one is closed; otherwise the review returns to 初审.
    pub fn second_review(
        &mut self,
        actor: &Actor,
        id: i64,
        agree: bool,
        note: &str,
    ) -> Result<Review> {
        actor.require(Perm::ReviewSecond)?;
        let rv = self.load_review(actor, id)?;
        if rv.first_reviewer.as_deref() == Some(actor.username.as_str()) {
            return Err(WfError::SameActor(format!(
                "复审须由初审人 {} 以外的人员办理 / the second review must be by someone other than the first reviewer",
                actor.username
            )));
        }
        let note = crate::util::required(note, "复审意见 note")?;
        let now = self.now();
        let tl = self.policy.time_limits.clone();
        let (to, due, sets): (ReviewState, i64, Vec<(&str, medfund_db::Value)>) =
            match (agree, rv.first_opinion) {
                (true, Some(Opinion::Confirm)) => (ReviewState::Notified, tl.appeal, vec![]),
                (true, _) => (ReviewState::Dismissed, 0, vec![]),
                (false, _) => (
                    ReviewState::Pending,
                    tl.first_review,
                    vec![
                        ("first_reviewer", medfund_db::Value::Null),
                        ("first_opinion", medfund_db::Value::Null),
                        ("first_note", medfund_db::Value::Null),
                        ("first_at", medfund_db::Value::Null),
                    ],
                ),
            };
        let mut sets = sets;
        sets.push(("second_reviewer", actor.username.as_str().into()));
        sets.push(("second_note", note.as_str().into()));
        sets.push(("second_at", dt(now).into()));
        let due = (to != ReviewState::Dismissed).then_some(due);
        self.transition(
            actor,
            &rv,
            to,
            due,
            "review.second",
            &sets,
            Some(&note),
            json!({"agree": agree}),
        )
    }

    /// The institution's appeal (申诉) with its documents, within the appeal window.
    pub fn appeal(
        &mut self,
        actor: &Actor,
        id: i64,
        text: &str,
        documents: &[Upload],
    ) -> Result<Review> {
        actor.require(Perm::Appeal)?;
        let rv = self.load_review(actor, id)?;
        let text = crate::util::required(text, "申诉理由 text")?;
        rv.state.ensure(ReviewState::Appealed)?;
        let now = self.now();
        if let Some(due) = rv.due_at {
            if now > due {
                return Err(validation(format!(
                    "申诉期已于 {} 届满，不能再申诉 / the appeal window closed on {}",
                    dt(due),
                    dt(due)
                )));
            }
        }
        let mut stored = vec![];
        for up in documents {
            let (rel, sha) = self.store_file(up)?;
            stored.push((up.clone(), rel, sha));
        }
        let tl = self.policy.time_limits.appeal_handling;
        let from = rv.state;
        let by = actor.username.clone();
        let due = dt(plus_days(now, tl));
        self.mutate(actor, "review.appeal", |db| {
            let n = db.execute(
                "UPDATE wf_review SET state = $1, state_since = $2, due_at = $3, appeal_by = $4, appeal_text = $5, appeal_at = $6 WHERE id = $7 AND state = $8",
                &[ReviewState::Appealed.code().into(), dt(now).into(), due.into(), by.as_str().into(), text.as_str().into(), dt(now).into(), id.into(), from.code().into()],
            )?;
            if n != 1 {
                return Err(WfError::InvalidTransition { from: from.zh().into(), to: ReviewState::Appealed.zh().into() });
            }
            let docs = Workflow::insert_documents(db, "review", id, "appeal", &stored, &by, now)?;
            record_event(db, "review", id, now, &by, Some(from.code()), ReviewState::Appealed.code(), Some(&text))?;
            let shas: Vec<&str> = stored.iter().map(|s| s.2.as_str()).collect();
            Ok(((), Change::new("review", id, json!({"from": from.code(), "to": "appealed", "documents": docs, "sha256": shas}))))
        })?;
        self.load_review(actor, id)
    }

    /// The institution accepts the finding without appeal (机构认可).
    pub fn accept_finding(&mut self, actor: &Actor, id: i64, note: &str) -> Result<Review> {
        actor.require(Perm::Appeal)?;
        let rv = self.load_review(actor, id)?;
        let d = self.policy.time_limits.decision;
        self.transition(
            actor,
            &rv,
            ReviewState::Accepted,
            Some(d),
            "review.accept",
            &[("appeal_by", actor.username.as_str().into())],
            Some(note),
            json!({}),
        )
    }

    /// 调查核实 starts: after an appeal, after acceptance, or — without either — once the appeal
    /// window has closed.
    pub fn start_investigation(&mut self, actor: &Actor, id: i64, note: &str) -> Result<Review> {
        actor.require(Perm::Investigate)?;
        let rv = self.load_review(actor, id)?;
        if rv.state == ReviewState::Notified {
            if let Some(due) = rv.due_at {
                if self.now() <= due {
                    return Err(validation(format!(
                        "申诉期至 {} 尚未届满，机构未申诉也未认可前不能开始调查 / the appeal window is open until {}",
                        dt(due),
                        dt(due)
                    )));
                }
            }
        }
        let now = self.now();
        let d = self.policy.time_limits.investigation;
        self.transition(
            actor,
            &rv,
            ReviewState::Investigating,
            Some(d),
            "review.investigate",
            &[
                ("investigator", actor.username.as_str().into()),
                ("investigation_at", dt(now).into()),
                ("investigation_note", note.into()),
            ],
            Some(note),
            json!({}),
        )
    }

    /// Adds investigation notes (the investigator only).
    pub fn note_investigation(&mut self, actor: &Actor, id: i64, note: &str) -> Result<Review> {
        actor.require(Perm::Investigate)?;
        let rv = self.load_review(actor, id)?;
        if rv.state != ReviewState::Investigating {
            return Err(WfError::InvalidTransition {
                from: rv.state.zh().into(),
                to: "调查记录 / note".into(),
            });
        }
        if rv.investigator.as_deref() != Some(actor.username.as_str()) {
            return Err(WfError::Forbidden(
                "只有调查人可以记录调查情况 / only the investigator".into(),
            ));
        }
        let note = crate::util::required(note, "调查情况 note")?;
        let text = match &rv.investigation_note {
            Some(old) if !old.is_empty() => format!("{old}\n{note}"),
            _ => note.clone(),
        };
        let before = rv.investigation_note.clone().unwrap_or_default();
        self.mutate(actor, "review.note", |db| {
            // Appends to the notes as read: a note added meanwhile is never overwritten.
            let n = db.execute(
                "UPDATE wf_review SET investigation_note = $1 WHERE id = $2 AND state = 'investigating' AND COALESCE(investigation_note, '') = $3",
                &[text.into(), id.into(), before.into()],
            )?;
            crate::util::changed_one(n, rv.state.zh(), "调查记录 / note")?;
            Ok(((), Change::new("review", id, json!({"note": note}))))
        })?;
        self.load_review(actor, id)
    }

    /// 处理 decision, by someone other than the investigator. `Confirmed` needs the confirmed
    /// amount (≥ 0; it may differ from the suspect amount after investigation).
    pub fn decide_review(
        &mut self,
        actor: &Actor,
        id: i64,
        verdict: Verdict,
        confirmed_amount: Option<Fen>,
        note: &str,
    ) -> Result<Review> {
        actor.require(Perm::Decide)?;
        let rv = self.load_review(actor, id)?;
        if rv.investigator.as_deref() == Some(actor.username.as_str()) {
            return Err(WfError::SameActor("处理决定须由调查人以外的人员作出 / the decision must be by someone other than the investigator".into()));
        }
        let note = crate::util::required(note, "处理意见 note")?;
        let amount = match verdict {
            Verdict::Confirmed => {
                let a = confirmed_amount.ok_or_else(|| {
                    validation(
                        "认定违规须填写认定金额 / a confirmed decision needs the confirmed amount",
                    )
                })?;
                if a.is_negative() {
                    return Err(validation(
                        "认定金额不能为负 / the confirmed amount must not be negative",
                    ));
                }
                Some(a)
            }
            Verdict::Cleared => None,
        };
        let now = self.now();
        self.transition(
            actor,
            &rv,
            ReviewState::Decided,
            None,
            "review.decide",
            &[
                ("decided_by", actor.username.as_str().into()),
                ("decision", verdict.code().into()),
                ("confirmed_amount_fen", amount.map(|a| a.0).into()),
                ("decision_note", note.as_str().into()),
                ("decided_at", dt(now).into()),
            ],
            Some(&note),
            json!({"verdict": verdict.code(), "confirmed_amount": amount}),
        )
    }

    /// One review with its history and documents.
    pub fn get_review(&mut self, actor: &Actor, id: i64) -> Result<ReviewDetail> {
        let review = self.load_review(actor, id)?;
        let events = events_of(self.db, "review", id)?;
        let documents = crate::documents_of(self.db, "review", id)?;
        let next_states = review.state.next_states();
        Ok(ReviewDetail {
            review,
            events,
            documents,
            next_states,
        })
    }

    /// The review of a finding, if it is under review.
    pub fn review_of_finding(&mut self, actor: &Actor, finding_id: &str) -> Result<Option<Review>> {
        let r = self.db.query_opt(
            "SELECT id FROM wf_review WHERE finding_id = $1",
            &[finding_id.into()],
        )?;
        match r {
            Some(r) => match self.load_review(actor, r.int(0)) {
                Ok(rv) => Ok(Some(rv)),
                Err(WfError::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            },
            None => Ok(None),
        }
    }

    /// Lists reviews visible to the actor: bureau staff all; an institution user its own
    /// institution's from notification on (it is not told about suspects still in internal
    /// review); a third party those assigned to it.
    pub fn list_reviews(
        &mut self,
        actor: &Actor,
        f: &ReviewFilter,
        page: Page,
    ) -> Result<Paged<Review>> {
        let mut w = Where::default();
        scope_filter(actor, &mut w)?;
        if let Some(s) = f.state {
            w.add("state = ?", s.code());
        }
        if let Some(c) = &f.fixmedins_code {
            w.add("fixmedins_code = ?", c.as_str());
        }
        if let Some(c) = &f.category {
            w.add("category = ?", c.as_str());
        }
        if let Some(c) = &f.pract_code {
            w.add("pract_code = ?", c.as_str());
        }
        if let Some(c) = &f.assigned_to {
            w.add("assigned_to = ?", c.as_str());
        }
        if f.overdue_only {
            w.add("due_at < ?", dt(self.now()));
            w.raw("state NOT IN ('decided', 'dismissed')");
        }
        let total = self
            .db
            .query_one(
                &format!("SELECT COUNT(*) FROM wf_review{}", w.sql()),
                &w.params,
            )?
            .int(0);
        let rows = self.db.query(
            &format!(
                "SELECT * FROM wf_review{} ORDER BY id{}",
                w.sql(),
                page.sql()
            ),
            &w.params,
        )?;
        Ok(Paged {
            total,
            items: rows.iter().map(review_of).collect::<Result<_>>()?,
        })
    }
}

/// States an institution may see: from notification on.
const VISIBLE_TO_INSTITUTION: &[ReviewState] = &[
    ReviewState::Notified,
    ReviewState::Appealed,
    ReviewState::Accepted,
    ReviewState::Investigating,
    ReviewState::Decided,
];

fn can_see_review(actor: &Actor, rv: &Review) -> bool {
    if actor.is_bureau() {
        return true;
    }
    if actor.roles.contains(&Role::ThirdParty)
        && rv.assigned_to.as_deref() == Some(actor.username.as_str())
    {
        return true;
    }
    actor.sees_institution(rv.fixmedins_code.as_deref())
        && VISIBLE_TO_INSTITUTION.contains(&rv.state)
}

fn scope_filter(actor: &Actor, w: &mut Where) -> Result<()> {
    if actor.is_bureau() {
        return Ok(());
    }
    if let Some(code) = actor.institution() {
        w.add("fixmedins_code = ?", code);
        let states: Vec<String> = VISIBLE_TO_INSTITUTION
            .iter()
            .map(|s| format!("'{}'", s.code()))
            .collect();
        w.raw(&format!("state IN ({})", states.join(", ")));
        return Ok(());
    }
    if actor.roles.contains(&Role::ThirdParty) {
        w.add("assigned_to = ?", actor.username.as_str());
        return Ok(());
    }
    Err(WfError::Forbidden(
        "无权查看疑点审核 / not allowed to read reviews".into(),
    ))
}
