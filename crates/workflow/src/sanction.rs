//! Sanctions (DOMAIN.md §8): interview, rectification by a deadline, recovery of the confirmed
//! amount, liquidated damages (a policy multiple under the agreement), suspension or termination
//! of the agreement, administrative penalty (1–2 × the amount for violations, 2–5 × for fraud;
//! the approver picks the multiple and says why), credit deduction, transfer to the police or
//! judiciary.
//!
//! Approval: one level (科室负责人) normally; three levels (科室负责人 → 分管负责人 → 主要负责人)
//! when the basis amount reaches `three_level_threshold_yuan`, and always for terminations,
//! transfers and major sanctions; a major sanction needs a recorded collective decision (集体
//! 讨论) before its last approval. No approver may approve their own proposal or approve twice.
//!
//! ```text
//! proposed ──approve (last level)──▶ approved ──execute / paid in full──▶ executed
//! proposed ──reject──▶ rejected        proposed ──cancel (proposer)──▶ cancelled
//! ```
//!
//! Money sanctions (recovery, liquidated damages, penalty) are due `time_limits.payment` days
//! after approval; payments are recorded until the amount is paid (then the sanction is
//! executed); past the due date with money outstanding they are overdue.

use crate::auth::{Actor, Perm};
use crate::cases::{load_case_row, CaseState, Nature};
use crate::error::{validation, Result, WfError};
use crate::util::{
    d, dt, months_end, opt_d, opt_dt, opt_enum, parse_d, parse_dt, required, str_enum, Page, Paged,
    Ratio, StateMachine, Where,
};
use crate::{record_event, Change, Workflow};
use chrono::{NaiveDate, NaiveDateTime};
use medfund_contract::Fen;
use medfund_db::{Db, Row};
use serde::{Deserialize, Serialize};
use serde_json::json;

str_enum! {
    /// Kind of sanction.
    pub enum SanctionKind {
        Interview = "interview" / "约谈",
        Rectification = "rectification" / "限期整改",
        Recovery = "recovery" / "追回医保基金",
        LiquidatedDamages = "liquidated_damages" / "违约金",
        SuspendAgreement = "suspend_agreement" / "中止医保协议",
        TerminateAgreement = "terminate_agreement" / "解除医保协议",
        AdminPenalty = "admin_penalty" / "行政处罚（罚款）",
        CreditDeduction = "credit_deduction" / "信用扣分",
        Transfer = "transfer" / "移送司法/纪检",
    }
}

impl SanctionKind {
    /// Whether the sanction is an amount to be paid.
    pub fn is_money(self) -> bool {
        matches!(
            self,
            SanctionKind::Recovery | SanctionKind::LiquidatedDamages | SanctionKind::AdminPenalty
        )
    }
}

str_enum! {
    /// Sanction state.
    pub enum SanctionState {
        Proposed = "proposed" / "待审批",
        Approved = "approved" / "已批准待执行",
        Rejected = "rejected" / "已驳回",
        Executed = "executed" / "已执行",
        Cancelled = "cancelled" / "已撤回",
    }
}

impl StateMachine for SanctionState {
    const TRANSITIONS: &'static [(SanctionState, SanctionState)] = &[
        (SanctionState::Proposed, SanctionState::Approved),
        (SanctionState::Proposed, SanctionState::Rejected),
        (SanctionState::Proposed, SanctionState::Cancelled),
        (SanctionState::Approved, SanctionState::Executed),
    ];
    fn label(self) -> &'static str {
        self.zh()
    }
}

str_enum! {
    /// Where a case is transferred.
    pub enum TransferTarget {
        Police = "police" / "公安机关",
        Procuratorate = "procuratorate" / "检察机关",
        Court = "court" / "人民法院",
        Discipline = "discipline" / "纪检监察机关",
    }
}

str_enum! {
    /// Payment status of a money sanction.
    pub enum RecoveryStatus {
        NotDue = "not_due" / "未生效",
        Due = "due" / "待缴",
        Paid = "paid" / "已缴清",
        Overdue = "overdue" / "逾期未缴",
    }
}

/// One approval step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    /// 1 科室负责人, 2 分管负责人, 3 主要负责人.
    pub level: i64,
    /// Who.
    pub approver: String,
    /// `approve` or `reject`.
    pub decision: String,
    /// Remark.
    pub note: Option<String>,
    /// When.
    pub at: NaiveDateTime,
}

/// One payment towards a money sanction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    /// Amount.
    pub amount: Fen,
    /// Paid on.
    pub paid_on: NaiveDate,
    /// Bank or receipt reference.
    pub reference: Option<String>,
    /// Recorded by.
    pub recorded_by: String,
}

/// The record of a collective decision (集体讨论决定) for a major sanction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Collective {
    /// Meeting date.
    pub meeting_date: NaiveDate,
    /// Participants (at least `collective_min_participants`).
    pub participants: Vec<String>,
    /// The conclusion.
    pub conclusion: String,
    /// Recorded by.
    pub recorded_by: String,
}

/// A sanction with its approvals, payments and payment status.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sanction {
    /// Id.
    pub id: i64,
    /// Case.
    pub case_id: i64,
    /// Institution.
    pub fixmedins_code: String,
    /// Kind.
    pub kind: SanctionKind,
    /// State.
    pub state: SanctionState,
    /// Nature of the case (chooses the penalty range).
    pub nature: Option<Nature>,
    /// The amount the sanction is based on (the confirmed amount).
    pub basis: Fen,
    /// Administrative penalty multiple chosen by the approver.
    pub multiple: Option<Ratio>,
    /// Why that multiple.
    pub multiple_reason: Option<String>,
    /// Amount due (money kinds).
    pub amount: Fen,
    /// Agreement suspension months.
    pub months: Option<i64>,
    /// Credit points deducted.
    pub credit_points: Option<i64>,
    /// Transfer target.
    pub transfer_to: Option<TransferTarget>,
    /// Rectification deadline.
    pub deadline: Option<NaiveDate>,
    /// Payment due date (money kinds, from approval).
    pub due_date: Option<NaiveDate>,
    /// Approval levels required (1 or 3).
    pub levels_required: i64,
    /// Levels approved so far.
    pub levels_done: i64,
    /// Major: needs a collective decision.
    pub major: bool,
    /// Collective decision, once recorded.
    pub collective: Option<Collective>,
    /// Why the sanction is proposed.
    pub reason: String,
    /// Proposed by.
    pub proposed_by: String,
    /// Proposed at.
    pub proposed_at: NaiveDateTime,
    /// Finally approved at.
    pub approved_at: Option<NaiveDateTime>,
    /// Executed at.
    pub executed_at: Option<NaiveDateTime>,
    /// Execution note.
    pub executed_note: Option<String>,
    /// Approval steps.
    pub approvals: Vec<Approval>,
    /// Payments.
    pub payments: Vec<Payment>,
    /// Sum of payments.
    pub paid: Fen,
    /// Payment status (money kinds), as of the service's today.
    pub recovery_status: Option<RecoveryStatus>,
}

/// Input of [`Workflow::propose_sanction`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NewSanction {
    /// The decided case.
    pub case_id: i64,
    /// Kind (required).
    pub kind: Option<SanctionKind>,
    /// Basis amount; default: the case's confirmed amount.
    pub basis: Option<Fen>,
    /// Months, for an agreement suspension.
    pub months: Option<u32>,
    /// Points, for a credit deduction (1–100).
    pub credit_points: Option<i64>,
    /// Target, for a transfer.
    pub transfer_to: Option<TransferTarget>,
    /// Deadline, for a rectification.
    pub deadline: Option<NaiveDate>,
    /// Why.
    pub reason: String,
}

/// Input of [`Workflow::approve_sanction`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ApproveInput {
    /// Administrative penalty multiple (required at the first approval of a penalty; a later
    /// level may change it, with a reason).
    pub multiple: Option<Ratio>,
    /// Why this multiple (required with it).
    pub multiple_reason: Option<String>,
    /// Remark.
    pub note: String,
}

/// Filter of [`Workflow::list_sanctions`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SanctionFilter {
    /// Only this state.
    pub state: Option<SanctionState>,
    /// Only this kind.
    pub kind: Option<SanctionKind>,
    /// Only this institution.
    pub fixmedins_code: Option<String>,
    /// Only this case.
    pub case_id: Option<i64>,
    /// Only money sanctions past their due date with money outstanding.
    pub overdue_only: bool,
}

/// Totals of money sanctions (追回/违约金/罚款).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecoverySummary {
    /// Approved or executed money sanctions.
    pub count: i64,
    /// Amount decided.
    pub due: Fen,
    /// Amount paid.
    pub paid: Fen,
    /// Outstanding.
    pub outstanding: Fen,
    /// Outstanding past the due date.
    pub overdue: Fen,
    /// Number overdue.
    pub overdue_count: i64,
}

/// The administrative-penalty range `[min, max]` for a nature and basis amount.
pub fn penalty_range(
    policy: &crate::policy::SanctionPolicy,
    nature: Nature,
    basis: Fen,
) -> Result<(Ratio, Ratio, Fen, Fen)> {
    let (lo, hi) = match nature {
        Nature::Violation => (
            policy.violation_multiple_min.0,
            policy.violation_multiple_max.0,
        ),
        Nature::Fraud => (policy.fraud_multiple_min.0, policy.fraud_multiple_max.0),
        Nature::None => {
            return Err(validation(
                "案件认定不构成违规，不能行政处罚 / no violation was found: no penalty",
            ))
        }
    };
    Ok((lo, hi, lo.apply(basis), hi.apply(basis)))
}

/// Checks a chosen penalty multiple against the range for the nature (bounds inclusive).
pub fn check_multiple(
    policy: &crate::policy::SanctionPolicy,
    nature: Nature,
    m: Ratio,
) -> Result<()> {
    let (lo, hi, _, _) = penalty_range(policy, nature, Fen(0))?;
    if m.cmp_exact(lo).is_lt() || m.cmp_exact(hi).is_gt() {
        return Err(validation(format!(
            "{}的罚款倍数须在 {lo}–{hi} 倍之间，所选 {m} 倍超出范围 / the multiple for {} must be within {lo}–{hi} (got {m})",
            nature.zh(),
            nature
        )));
    }
    Ok(())
}

fn approval_perm(level: i64) -> Perm {
    match level {
        1 => Perm::SanctionApprove1,
        2 => Perm::SanctionApprove2,
        _ => Perm::SanctionApprove3,
    }
}

fn level_title(level: i64) -> &'static str {
    match level {
        1 => "科室负责人",
        2 => "分管负责人",
        _ => "主要负责人",
    }
}

pub(crate) fn sanction_by_id(db: &mut Db, id: i64, today: NaiveDate) -> Result<Sanction> {
    let r = db
        .query_opt("SELECT * FROM wf_sanction WHERE id = $1", &[id.into()])?
        .ok_or_else(|| WfError::NotFound(format!("处理措施 / sanction {id}")))?;
    sanction_of(db, &r, today)
}

fn sanction_of(db: &mut Db, r: &Row, today: NaiveDate) -> Result<Sanction> {
    let id = r.int_of("id");
    let approvals = db
        .query(
            "SELECT * FROM wf_approval WHERE sanction_id = $1 ORDER BY id",
            &[id.into()],
        )?
        .iter()
        .map(|a| Approval {
            level: a.int_of("level"),
            approver: a.text_of("approver"),
            decision: a.text_of("decision"),
            note: a.opt_text_of("note"),
            at: parse_dt(&a.text_of("at")),
        })
        .collect();
    let payments: Vec<Payment> = db
        .query(
            "SELECT * FROM wf_payment WHERE sanction_id = $1 ORDER BY id",
            &[id.into()],
        )?
        .iter()
        .map(|p| Payment {
            amount: Fen(p.int_of("amount_fen")),
            paid_on: parse_d(&p.text_of("paid_on")),
            reference: p.opt_text_of("reference"),
            recorded_by: p.text_of("recorded_by"),
        })
        .collect();
    let paid: Fen = payments.iter().map(|p| p.amount).sum();
    let kind: SanctionKind = r.text_of("kind").parse()?;
    let state: SanctionState = r.text_of("state").parse()?;
    let amount = Fen(r.int_of("amount_fen"));
    let due_date = opt_d(r, "due_date");
    let recovery_status = kind
        .is_money()
        .then(|| recovery_status(state, amount, paid, due_date, today));
    let multiple = match (r.opt_int_of("multiple_num"), r.opt_int_of("multiple_den")) {
        (Some(n), Some(d)) if d > 0 => Some(Ratio { num: n, den: d }),
        _ => None,
    };
    let collective = match r.opt_text_of("collective_json").filter(|s| !s.is_empty()) {
        Some(s) => Some(
            serde_json::from_str(&s)
                .map_err(|e| validation(format!("collective record unreadable: {e}")))?,
        ),
        None => None,
    };
    Ok(Sanction {
        id,
        case_id: r.int_of("case_id"),
        fixmedins_code: r.text_of("fixmedins_code"),
        kind,
        state,
        nature: opt_enum(r, "nature")?,
        basis: Fen(r.int_of("basis_fen")),
        multiple,
        multiple_reason: r.opt_text_of("multiple_reason"),
        amount,
        months: r.opt_int_of("months"),
        credit_points: r.opt_int_of("credit_points"),
        transfer_to: opt_enum(r, "transfer_to")?,
        deadline: opt_d(r, "deadline"),
        due_date,
        levels_required: r.int_of("levels_required"),
        levels_done: r.int_of("levels_done"),
        major: r.int_of("major") != 0,
        collective,
        reason: r.text_of("reason"),
        proposed_by: r.text_of("proposed_by"),
        proposed_at: parse_dt(&r.text_of("proposed_at")),
        approved_at: opt_dt(r, "approved_at"),
        executed_at: opt_dt(r, "executed_at"),
        executed_note: r.opt_text_of("executed_note"),
        approvals,
        payments,
        paid,
        recovery_status,
    })
}

/// Payment status: not yet approved → not due; fully paid → paid; past the due date (the due
/// date itself is still on time) with money outstanding → overdue; else due.
pub fn recovery_status(
    state: SanctionState,
    amount: Fen,
    paid: Fen,
    due_date: Option<NaiveDate>,
    today: NaiveDate,
) -> RecoveryStatus {
    match state {
        SanctionState::Proposed | SanctionState::Rejected | SanctionState::Cancelled => {
            RecoveryStatus::NotDue
        }
        _ if paid >= amount => RecoveryStatus::Paid,
        _ if due_date.is_some_and(|d| today > d) => RecoveryStatus::Overdue,
        _ => RecoveryStatus::Due,
    }
}

pub(crate) fn sanctions_of_case(
    db: &mut Db,
    case_id: i64,
    today: NaiveDate,
) -> Result<Vec<Sanction>> {
    let rows = db.query(
        "SELECT * FROM wf_sanction WHERE case_id = $1 ORDER BY id",
        &[case_id.into()],
    )?;
    rows.iter().map(|r| sanction_of(db, r, today)).collect()
}

impl Workflow<'_> {
    fn load_sanction(&mut self, actor: &Actor, id: i64) -> Result<Sanction> {
        let today = self.today();
        let s = sanction_by_id(self.db, id, today)?;
        if !actor.sees_institution(Some(&s.fixmedins_code)) {
            return Err(WfError::NotFound(format!("处理措施 / sanction {id}")));
        }
        Ok(s)
    }

    /// Proposes a sanction on a decided case.
    pub fn propose_sanction(&mut self, actor: &Actor, n: &NewSanction) -> Result<Sanction> {
        actor.require(Perm::SanctionPropose)?;
        let kind = n
            .kind
            .ok_or_else(|| validation("须选择处理措施种类 / kind is required"))?;
        let reason = required(&n.reason, "理由 reason")?;
        let case = load_case_row(self.db, n.case_id)?;
        if case.state != CaseState::Decided {
            return Err(validation(format!("案件 {} 尚未作出处理决定（当前：{}），不能提出处理措施 / the case must be decided first", case.case_no, case.state.zh())));
        }
        let code = case
            .fixmedins_code
            .clone()
            .ok_or_else(|| validation("案件未关联定点机构 / the case names no institution"))?;
        let nature = case.nature.unwrap_or(Nature::None);
        if nature == Nature::None {
            return Err(validation(
                "案件认定不构成违规，不能处理 / the case found no violation",
            ));
        }
        let basis = n.basis.or(case.confirmed_amount).unwrap_or(Fen(0));
        if basis.is_negative() {
            return Err(validation("金额不能为负 / the amount must not be negative"));
        }
        let sp = self.policy.sanction.clone();
        let today = self.today();
        let mut amount = Fen(0);
        match kind {
            SanctionKind::Recovery => {
                if basis.0 <= 0 {
                    return Err(validation("追回金额须大于 0 / the recovery amount must be positive"));
                }
                amount = basis;
            }
            SanctionKind::LiquidatedDamages => {
                if basis.0 <= 0 {
                    return Err(validation("违约金计算基数须大于 0 / the basis must be positive"));
                }
                amount = sp.liquidated_damages_multiple.0.apply(basis);
            }
            SanctionKind::AdminPenalty => {
                if basis.0 <= 0 {
                    return Err(validation("罚款计算基数须大于 0 / the basis must be positive"));
                }
            }
            SanctionKind::SuspendAgreement => {
                let m = n.months.unwrap_or(0);
                if m == 0 || m > sp.max_agreement_suspension_months {
                    return Err(validation(format!("中止协议期限须为 1–{} 个月 / months must be 1–{}", sp.max_agreement_suspension_months, sp.max_agreement_suspension_months)));
                }
            }
            SanctionKind::CreditDeduction => {
                if !(1..=100).contains(&n.credit_points.unwrap_or(0)) {
                    return Err(validation("信用扣分须为 1–100 分 / credit points must be 1–100"));
                }
            }
            SanctionKind::Transfer => {
                if n.transfer_to.is_none() {
                    return Err(validation("须写明移送机关 / transfer_to is required"));
                }
            }
            SanctionKind::Rectification => match n.deadline {
                Some(dl) if dl > today => {}
                _ => return Err(validation("限期整改须给出今天之后的整改期限 / a rectification needs a deadline after today")),
            },
            SanctionKind::Interview | SanctionKind::TerminateAgreement => {}
        }
        let always_major = matches!(
            kind,
            SanctionKind::TerminateAgreement | SanctionKind::Transfer
        ) || (kind == SanctionKind::AdminPenalty && nature == Nature::Fraud);
        let major = always_major || (kind.is_money() && basis >= sp.major_threshold());
        let levels = if major || (kind.is_money() && basis >= sp.three_level_threshold()) {
            3
        } else {
            1
        };
        let now = self.now();
        let id = self.mutate(actor, "sanction.propose", |db| {
            let id = db
                .query_one(
                    "INSERT INTO wf_sanction (case_id, fixmedins_code, kind, state, nature, basis_fen, amount_fen, months, credit_points, transfer_to, deadline, \
                     levels_required, levels_done, major, reason, proposed_by, proposed_at, state_since) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14, $15, $16, $17) RETURNING id",
                    &[
                        n.case_id.into(),
                        code.as_str().into(),
                        kind.code().into(),
                        SanctionState::Proposed.code().into(),
                        nature.code().into(),
                        basis.0.into(),
                        amount.0.into(),
                        n.months.map(|m| m as i64).into(),
                        n.credit_points.into(),
                        n.transfer_to.map(|t| t.code()).into(),
                        n.deadline.map(d).into(),
                        levels.into(),
                        major.into(),
                        reason.as_str().into(),
                        actor.username.as_str().into(),
                        dt(now).into(),
                        dt(now).into(),
                    ],
                )?
                .int(0);
            record_event(db, "sanction", id, now, &actor.username, None, SanctionState::Proposed.code(), Some(&reason))?;
            Ok((id, Change::new("sanction", id, json!({"case_id": n.case_id, "kind": kind.code(), "basis": basis, "amount": amount, "levels": levels, "major": major}))))
        })?;
        self.load_sanction(actor, id)
    }

    /// Records the collective decision of a major sanction (leader or director; before the last
    /// approval).
    pub fn record_collective_decision(
        &mut self,
        actor: &Actor,
        id: i64,
        meeting_date: NaiveDate,
        participants: &[String],
        conclusion: &str,
    ) -> Result<Sanction> {
        actor.require(Perm::CollectiveRecord)?;
        let s = self.load_sanction(actor, id)?;
        if s.state != SanctionState::Proposed {
            return Err(WfError::InvalidTransition {
                from: s.state.zh().into(),
                to: "集体决策 / collective decision".into(),
            });
        }
        let mut p: Vec<String> = participants
            .iter()
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect();
        p.sort();
        p.dedup();
        let min = self.policy.sanction.collective_min_participants;
        if p.len() < min {
            return Err(validation(format!("集体讨论须至少 {min} 人参加 / a collective decision needs at least {min} participants")));
        }
        let conclusion = required(conclusion, "讨论结论 conclusion")?;
        if meeting_date > self.today() {
            return Err(validation(
                "会议日期不能晚于今天 / the meeting date is in the future",
            ));
        }
        let c = Collective {
            meeting_date,
            participants: p,
            conclusion,
            recorded_by: actor.username.clone(),
        };
        let text = serde_json::to_string(&c).map_err(|e| validation(e.to_string()))?;
        self.mutate(actor, "sanction.collective", |db| {
            db.execute("UPDATE wf_sanction SET collective_json = $1 WHERE id = $2", &[text.into(), id.into()])?;
            Ok(((), Change::new("sanction", id, json!({"meeting_date": d(c.meeting_date), "participants": c.participants, "conclusion": c.conclusion}))))
        })?;
        self.load_sanction(actor, id)
    }

    /// Approves the next level. The level's role is required; the proposer and earlier
    /// approvers are refused. For an administrative penalty the first approver picks the
    /// multiple within the range and says why (a later level may change it). The last level
    /// makes the sanction approved (money kinds become due).
    pub fn approve_sanction(
        &mut self,
        actor: &Actor,
        id: i64,
        input: &ApproveInput,
    ) -> Result<Sanction> {
        let s = self.load_sanction(actor, id)?;
        s.state.ensure(SanctionState::Approved)?;
        let level = s.levels_done + 1;
        let perm = approval_perm(level);
        if !actor.has(perm) {
            return Err(WfError::Forbidden(format!(
                "第 {level} 级审批须由{}办理 / level {level} needs {}",
                level_title(level),
                perm
            )));
        }
        if s.proposed_by == actor.username {
            return Err(WfError::SameActor(
                "审批人不能审批本人提出的处理措施 / an approver cannot approve their own proposal"
                    .into(),
            ));
        }
        if s.approvals.iter().any(|a| a.approver == actor.username) {
            return Err(WfError::SameActor(
                "同一人不能审批两级 / the same person cannot approve two levels".into(),
            ));
        }
        let last = level >= s.levels_required;
        let mut multiple = s.multiple;
        let mut multiple_reason = s.multiple_reason.clone();
        let mut amount = s.amount;
        if s.kind == SanctionKind::AdminPenalty {
            if let Some(m) = input.multiple {
                let why = input
                    .multiple_reason
                    .as_deref()
                    .map(str::trim)
                    .unwrap_or("");
                if why.is_empty() {
                    return Err(validation(
                        "选择处罚倍数须说明理由 / give the reason for the multiple",
                    ));
                }
                check_multiple(&self.policy.sanction, s.nature.unwrap_or(Nature::None), m)?;
                multiple = Some(m);
                multiple_reason = Some(why.to_string());
                amount = m.apply(s.basis);
            } else if multiple.is_none() {
                let (lo, hi, a, b) = penalty_range(
                    &self.policy.sanction,
                    s.nature.unwrap_or(Nature::None),
                    s.basis,
                )?;
                return Err(validation(format!(
                    "请在 {lo}–{hi} 倍（{a}–{b} 元）之间选择罚款倍数并说明理由 / choose the multiple within {lo}–{hi} and give the reason"
                )));
            }
        } else if input.multiple.is_some() {
            return Err(validation(
                "只有行政处罚需要选择倍数 / only administrative penalties take a multiple",
            ));
        }
        if last && s.major && s.collective.is_none() {
            return Err(validation("重大处理事项须先记录集体讨论决定 / record the collective decision of this major sanction first"));
        }
        let now = self.now();
        let today = self.today();
        let due = (last && s.kind.is_money())
            .then(|| today + chrono::Duration::days(self.policy.time_limits.payment));
        let note = input.note.trim().to_string();
        self.mutate(actor, "sanction.approve", |db| {
            db.execute(
                "INSERT INTO wf_approval (sanction_id, level, approver, decision, note, at) VALUES ($1, $2, $3, 'approve', $4, $5)",
                &[id.into(), level.into(), actor.username.as_str().into(), note.as_str().into(), dt(now).into()],
            )?;
            let state = if last { SanctionState::Approved } else { SanctionState::Proposed };
            let n = db.execute(
                "UPDATE wf_sanction SET levels_done = $1, state = $2, multiple_num = $3, multiple_den = $4, multiple_reason = $5, amount_fen = $6, \
                 due_date = $7, approved_at = $8, state_since = $9 WHERE id = $10 AND levels_done = $11 AND state = 'proposed'",
                &[
                    level.into(),
                    state.code().into(),
                    multiple.map(|m| m.num).into(),
                    multiple.map(|m| m.den).into(),
                    multiple_reason.as_deref().into(),
                    amount.0.into(),
                    due.map(d).into(),
                    last.then(|| dt(now)).into(),
                    dt(now).into(),
                    id.into(),
                    (level - 1).into(),
                ],
            )?;
            if n != 1 {
                return Err(WfError::InvalidTransition { from: "审批已变化 / approval changed".into(), to: state.zh().into() });
            }
            if last {
                record_event(db, "sanction", id, now, &actor.username, Some("proposed"), "approved", Some(&note))?;
            }
            Ok(((), Change::new("sanction", id, json!({"level": level, "last": last, "multiple": multiple.map(|m| m.to_string()), "amount": amount, "due_date": due.map(d)}))))
        })?;
        self.load_sanction(actor, id)
    }

    /// Rejects at the current level (the level's approver; not the proposer).
    pub fn reject_sanction(&mut self, actor: &Actor, id: i64, note: &str) -> Result<Sanction> {
        let s = self.load_sanction(actor, id)?;
        s.state.ensure(SanctionState::Rejected)?;
        let level = s.levels_done + 1;
        actor.require(approval_perm(level))?;
        if s.proposed_by == actor.username {
            return Err(WfError::SameActor("审批人不能审批本人提出的处理措施 / an approver cannot decide on their own proposal".into()));
        }
        let note = required(note, "驳回理由 note")?;
        let now = self.now();
        self.mutate(actor, "sanction.reject", |db| {
            db.execute(
                "INSERT INTO wf_approval (sanction_id, level, approver, decision, note, at) VALUES ($1, $2, $3, 'reject', $4, $5)",
                &[id.into(), level.into(), actor.username.as_str().into(), note.as_str().into(), dt(now).into()],
            )?;
            let n = db.execute("UPDATE wf_sanction SET state = 'rejected', state_since = $1 WHERE id = $2 AND state = 'proposed'", &[dt(now).into(), id.into()])?;
            crate::util::changed_one(n, s.state.zh(), SanctionState::Rejected.zh())?;
            record_event(db, "sanction", id, now, &actor.username, Some("proposed"), "rejected", Some(&note))?;
            Ok(((), Change::new("sanction", id, json!({"level": level, "note": note}))))
        })?;
        self.load_sanction(actor, id)
    }

    /// The proposer withdraws a proposal not yet finally approved.
    pub fn cancel_sanction(&mut self, actor: &Actor, id: i64, reason: &str) -> Result<Sanction> {
        actor.require(Perm::SanctionPropose)?;
        let s = self.load_sanction(actor, id)?;
        s.state.ensure(SanctionState::Cancelled)?;
        if s.proposed_by != actor.username {
            return Err(WfError::Forbidden(
                "只有提议人可以撤回 / only the proposer can withdraw".into(),
            ));
        }
        let reason = required(reason, "撤回理由 reason")?;
        let now = self.now();
        self.mutate(actor, "sanction.cancel", |db| {
            let n = db.execute("UPDATE wf_sanction SET state = 'cancelled', state_since = $1 WHERE id = $2 AND state = 'proposed'", &[dt(now).into(), id.into()])?;
            crate::util::changed_one(n, s.state.zh(), SanctionState::Cancelled.zh())?;
            record_event(db, "sanction", id, now, &actor.username, Some("proposed"), "cancelled", Some(&reason))?;
            Ok(((), Change::new("sanction", id, json!({"reason": reason}))))
        })?;
        self.load_sanction(actor, id)
    }

    /// Marks a non-money sanction as executed (the interview held, the rectification verified,
    /// the transfer sent, the agreement measure in force from `effective_on`). Agreement
    /// suspensions and terminations take effect in the agreement register here.
    pub fn execute_sanction(
        &mut self,
        actor: &Actor,
        id: i64,
        effective_on: NaiveDate,
        note: &str,
    ) -> Result<Sanction> {
        actor.require(Perm::SanctionExecute)?;
        let s = self.load_sanction(actor, id)?;
        if s.kind.is_money() {
            return Err(validation("追回、违约金和罚款在缴清时自动办结，请登记缴款 / money sanctions finish when paid: record the payments"));
        }
        s.state.ensure(SanctionState::Executed)?;
        let note = required(note, "执行情况 note")?;
        let now = self.now();
        self.mutate(actor, "sanction.execute", |db| {
            match s.kind {
                SanctionKind::SuspendAgreement => {
                    let end = months_end(effective_on, s.months.unwrap_or(1) as u32);
                    crate::credit::insert_agreement_measure(db, &s.fixmedins_code, "suspend", effective_on, Some(end), Some(id), &s.reason, &actor.username, now)?;
                }
                SanctionKind::TerminateAgreement => {
                    crate::credit::insert_agreement_measure(db, &s.fixmedins_code, "terminate", effective_on, None, Some(id), &s.reason, &actor.username, now)?;
                }
                _ => {}
            }
            let n = db.execute(
                "UPDATE wf_sanction SET state = 'executed', executed_at = $1, executed_note = $2, state_since = $3 WHERE id = $4 AND state = 'approved'",
                &[dt(now).into(), note.as_str().into(), dt(now).into(), id.into()],
            )?;
            crate::util::changed_one(n, s.state.zh(), SanctionState::Executed.zh())?;
            record_event(db, "sanction", id, now, &actor.username, Some("approved"), "executed", Some(&note))?;
            Ok(((), Change::new("sanction", id, json!({"effective_on": d(effective_on), "note": note}))))
        })?;
        self.load_sanction(actor, id)
    }

    /// Records a payment towards an approved money sanction. Overpayment is refused; the
    /// payment that completes the amount executes the sanction.
    pub fn record_payment(
        &mut self,
        actor: &Actor,
        id: i64,
        amount: Fen,
        paid_on: NaiveDate,
        reference: &str,
    ) -> Result<Sanction> {
        actor.require(Perm::PaymentRecord)?;
        let s = self.load_sanction(actor, id)?;
        if !s.kind.is_money() {
            return Err(validation(
                "该处理措施不涉及缴款 / this sanction has no amount to pay",
            ));
        }
        if s.state != SanctionState::Approved {
            return Err(WfError::InvalidTransition {
                from: s.state.zh().into(),
                to: "登记缴款 / record payment".into(),
            });
        }
        if amount.0 <= 0 {
            return Err(validation(
                "缴款金额须大于 0 / the payment must be positive",
            ));
        }
        let outstanding = s.amount - s.paid;
        if amount > outstanding {
            return Err(validation(format!("缴款 {amount} 元超过未缴金额 {outstanding} 元 / the payment exceeds the outstanding amount")));
        }
        if paid_on > self.today() {
            return Err(validation(
                "缴款日期不能晚于今天 / the payment date is in the future",
            ));
        }
        let now = self.now();
        let full = amount == outstanding;
        self.mutate(actor, "sanction.payment", |db| {
            // Checked again inside the transaction: another process may have recorded a
            // payment since the sanction was read, and an overpayment must never be stored.
            let paid = db
                .query_one("SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM wf_payment WHERE sanction_id = $1", &[id.into()])?
                .int(0);
            if paid != s.paid.0 {
                return Err(WfError::InvalidTransition {
                    from: format!("已缴 {} / paid {}", Fen(paid), Fen(paid)),
                    to: "登记缴款（请刷新后重试） / record payment (reload and retry)".into(),
                });
            }
            db.execute(
                "INSERT INTO wf_payment (sanction_id, amount_fen, paid_on, reference, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)",
                &[id.into(), amount.0.into(), d(paid_on).into(), reference.trim().into(), actor.username.as_str().into(), dt(now).into()],
            )?;
            if full {
                let n = db.execute(
                    "UPDATE wf_sanction SET state = 'executed', executed_at = $1, executed_note = $2, state_since = $3 WHERE id = $4 AND state = 'approved'",
                    &[dt(now).into(), "已缴清 / paid in full".into(), dt(now).into(), id.into()],
                )?;
                crate::util::changed_one(n, s.state.zh(), SanctionState::Executed.zh())?;
                record_event(db, "sanction", id, now, &actor.username, Some("approved"), "executed", Some("已缴清"))?;
            }
            Ok(((), Change::new("sanction", id, json!({"amount": amount, "paid_on": d(paid_on), "reference": reference.trim(), "paid_in_full": full}))))
        })?;
        self.load_sanction(actor, id)
    }

    /// One sanction.
    pub fn get_sanction(&mut self, actor: &Actor, id: i64) -> Result<Sanction> {
        self.load_sanction(actor, id)
    }

    /// Sanctions visible to the actor.
    pub fn list_sanctions(
        &mut self,
        actor: &Actor,
        f: &SanctionFilter,
        page: Page,
    ) -> Result<Paged<Sanction>> {
        let mut w = Where::default();
        if !actor.is_bureau() {
            match actor.institution() {
                Some(c) => {
                    w.add("fixmedins_code = ?", c);
                }
                None => {
                    return Err(WfError::Forbidden(
                        "无权查看处理措施 / not allowed to read sanctions".into(),
                    ))
                }
            }
        }
        if let Some(s) = f.state {
            w.add("state = ?", s.code());
        }
        if let Some(k) = f.kind {
            w.add("kind = ?", k.code());
        }
        if let Some(c) = &f.fixmedins_code {
            w.add("fixmedins_code = ?", c.as_str());
        }
        if let Some(c) = f.case_id {
            w.add("case_id = ?", c);
        }
        if f.overdue_only {
            w.raw("state = 'approved'");
            w.add("due_date < ?", d(self.today()));
        }
        let total = self
            .db
            .query_one(
                &format!("SELECT COUNT(*) FROM wf_sanction{}", w.sql()),
                &w.params,
            )?
            .int(0);
        let rows = self.db.query(
            &format!(
                "SELECT * FROM wf_sanction{} ORDER BY id DESC{}",
                w.sql(),
                page.sql()
            ),
            &w.params,
        )?;
        let today = self.today();
        let items = rows
            .iter()
            .map(|r| sanction_of(self.db, r, today))
            .collect::<Result<_>>()?;
        Ok(Paged { total, items })
    }

    /// Totals of money sanctions approved in `year` (all years when `None`): decided, paid,
    /// outstanding, overdue.
    pub fn recovery_summary(
        &mut self,
        actor: &Actor,
        year: Option<i32>,
    ) -> Result<RecoverySummary> {
        if !actor.is_bureau() && actor.institution().is_none() {
            return Err(WfError::Forbidden("无权查看 / not allowed".into()));
        }
        let mut w = Where::default();
        w.raw("state IN ('approved', 'executed')");
        w.raw("kind IN ('recovery', 'liquidated_damages', 'admin_penalty')");
        if let Some(c) = actor.institution() {
            w.add("fixmedins_code = ?", c);
        }
        if let Some(y) = year {
            w.add("approved_at LIKE ?", format!("{y}-%"));
        }
        let today = self.today();
        let rows = self
            .db
            .query(&format!("SELECT * FROM wf_sanction{}", w.sql()), &w.params)?;
        let mut s = RecoverySummary::default();
        for r in &rows {
            let x = sanction_of(self.db, r, today)?;
            s.count += 1;
            s.due += x.amount;
            s.paid += x.paid;
            s.outstanding += x.amount - x.paid;
            if x.recovery_status == Some(RecoveryStatus::Overdue) {
                s.overdue += x.amount - x.paid;
                s.overdue_count += 1;
            }
        }
        Ok(s)
    }
}
