//! Complaints and reports (投诉举报) and rewards (举报奖励).
//!
//! Intake is open to the public (anonymous or named). Anonymous reporters get a claim code,
//! shown once; only its SHA-256 is stored, and the reward is paid only against it.
//!
//! ```text
//! received ──triage(open/link case)──▶ triaged ──conclude──▶ verified | unfounded
//! received ──triage(reject)──▶ rejected
//! verified ──propose_reward──▶ reward_proposed ──approve──▶ reward_approved ──pay──▶ reward_paid
//! ```
//!
//! The reward is a progressive share of the confirmed case value ([`reward_for`]), clamped to
//! the local minimum and maximum, which the policy keeps inside the national 200–200,000 yuan;
//! it is approved by another person and paid once.

use crate::auth::{Actor, Perm};
use crate::cases::{insert_case, load_case_row, CaseSource, CaseState, Nature};
use crate::error::{validation, Result, WfError};
use crate::util::{
    dt, opt_dt, opt_fen, parse_dt, plus_days, random_bytes, required, sha256_hex, str_enum, Page,
    Paged, StateMachine, Where,
};
use crate::{events_of, record_event, Change, Event, Workflow};
use chrono::{Datelike, NaiveDateTime};
use medfund_contract::Fen;
use medfund_db::Row;
use serde::{Deserialize, Serialize};
use serde_json::json;

str_enum! {
    /// Complaint state.
    pub enum ComplaintState {
        Received = "received" / "已登记",
        Triaged = "triaged" / "已转案件办理",
        Rejected = "rejected" / "不予受理",
        Verified = "verified" / "查证属实",
        Unfounded = "unfounded" / "查无实据",
        RewardProposed = "reward_proposed" / "奖励待审批",
        RewardApproved = "reward_approved" / "奖励已批准",
        RewardPaid = "reward_paid" / "奖励已发放",
    }
}

impl StateMachine for ComplaintState {
    const TRANSITIONS: &'static [(ComplaintState, ComplaintState)] = &[
        (ComplaintState::Received, ComplaintState::Triaged),
        (ComplaintState::Received, ComplaintState::Rejected),
        (ComplaintState::Triaged, ComplaintState::Verified),
        (ComplaintState::Triaged, ComplaintState::Unfounded),
        (ComplaintState::Verified, ComplaintState::RewardProposed),
        (
            ComplaintState::RewardProposed,
            ComplaintState::RewardApproved,
        ),
        (ComplaintState::RewardApproved, ComplaintState::RewardPaid),
    ];
    fn label(self) -> &'static str {
        self.zh()
    }
}

str_enum! {
    /// How the complaint arrived.
    pub enum Channel {
        Phone = "phone" / "电话",
        Letter = "letter" / "信函",
        Visit = "visit" / "来访",
        Online = "online" / "网络",
        Hotline12345 = "12345" / "12345 热线",
    }
}

/// A complaint (contact details are shown to bureau staff only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Complaint {
    /// Id.
    pub id: i64,
    /// Number, e.g. `JB2025-00001`.
    pub complaint_no: String,
    /// Anonymous.
    pub anonymous: bool,
    /// Reporter's name (named complaints).
    pub reporter_name: Option<String>,
    /// Reporter's contact.
    pub reporter_contact: Option<String>,
    /// Institution complained about, when known.
    pub fixmedins_code: Option<String>,
    /// Who or what is complained about.
    pub target: String,
    /// What happened.
    pub content: String,
    /// Channel.
    pub channel: Channel,
    /// State.
    pub state: ComplaintState,
    /// Case handling it.
    pub case_id: Option<i64>,
    /// Confirmed value of the case (the reward basis).
    pub case_value: Option<Fen>,
    /// Reward.
    pub reward: Option<Fen>,
    /// Reward proposed by.
    pub reward_proposed_by: Option<String>,
    /// Reward approved by.
    pub reward_approved_by: Option<String>,
    /// Paid by.
    pub reward_paid_by: Option<String>,
    /// Paid at.
    pub reward_paid_at: Option<NaiveDateTime>,
    /// Payment reference.
    pub reward_reference: Option<String>,
    /// Last remark.
    pub note: Option<String>,
    /// Received by.
    pub received_by: String,
    /// Received at.
    pub received_at: NaiveDateTime,
    /// Time limit of the current step.
    pub due_at: Option<NaiveDateTime>,
}

/// Input of [`Workflow::submit_complaint`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewComplaint {
    /// Anonymous.
    pub anonymous: bool,
    /// Name (named complaints).
    pub reporter_name: Option<String>,
    /// Contact (named complaints).
    pub reporter_contact: Option<String>,
    /// Institution, when known.
    pub fixmedins_code: Option<String>,
    /// Who or what.
    pub target: String,
    /// What happened.
    pub content: String,
    /// Channel.
    pub channel: Channel,
}

/// What [`Workflow::submit_complaint`] returns: the complaint and, for anonymous ones, the
/// claim code to keep (never shown again).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    /// The complaint.
    pub complaint: Complaint,
    /// Claim code for an anonymous reporter.
    pub claim_code: Option<String>,
}

/// How a complaint is triaged.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Triage {
    /// Open a new case for it.
    OpenCase {
        /// Case title.
        title: String,
    },
    /// Attach it to an existing case.
    LinkCase {
        /// Case id.
        case_id: i64,
    },
    /// Not accepted (outside competence, no concrete facts…).
    Reject {
        /// Why.
        reason: String,
    },
}

/// The reward for a confirmed case value (pure): the progressive brackets of the local scale,
/// rounded half up to the fen once, then clamped to the local minimum and maximum. `None` when
/// the value is not positive (nothing confirmed, no reward).
///
/// ```
/// use medfund_contract::Fen;
/// use medfund_workflow::{complaint::reward_for, policy::RewardPolicy};
/// let p = RewardPolicy::default(); // 4% to 100,000; 2% to 1,000,000; 1% above; 200–200,000
/// assert_eq!(reward_for(&p, Fen::from_yuan(1_000)), Some(Fen::from_yuan(200)));   // 40 → minimum
/// assert_eq!(reward_for(&p, Fen::from_yuan(50_000)), Some(Fen::from_yuan(2_000)));
/// assert_eq!(reward_for(&p, Fen::from_yuan(300_000)), Some(Fen::from_yuan(8_000))); // 4,000 + 4,000
/// assert_eq!(reward_for(&p, Fen::from_yuan(30_000_000)), Some(Fen::from_yuan(200_000))); // capped
/// assert_eq!(reward_for(&p, Fen(0)), None);
/// ```
pub fn reward_for(p: &crate::policy::RewardPolicy, value: Fen) -> Option<Fen> {
    if value.0 <= 0 {
        return None;
    }
    // Σ part_i × num_i / den_i over a common denominator, rounded once.
    let mut lower = 0i128;
    let mut acc_num = 0i128;
    let mut acc_den = 1i128;
    for b in &p.brackets {
        let upper = b.upto_yuan.map(|y| y as i128 * 100).unwrap_or(i128::MAX);
        let part = (value.0 as i128).min(upper) - lower;
        if part > 0 {
            let (n, d) = (b.rate.0.num as i128, b.rate.0.den as i128);
            acc_num = acc_num * d + part * n * acc_den;
            acc_den *= d;
            let g = gcd(acc_num, acc_den);
            acc_num /= g;
            acc_den /= g;
        }
        lower = upper;
        if (value.0 as i128) <= upper {
            break;
        }
    }
    let raw = medfund_contract::money::div_round_half_up(acc_num, acc_den) as i64;
    Some(Fen(raw.clamp(p.min_yuan * 100, p.max_yuan * 100)))
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a.abs().max(1)
    } else {
        gcd(b, a % b)
    }
}

fn complaint_of(r: &Row, full: bool) -> Result<Complaint> {
    Ok(Complaint {
        id: r.int_of("id"),
        complaint_no: r.text_of("complaint_no"),
        anonymous: r.int_of("anonymous") != 0,
        reporter_name: if full {
            r.opt_text_of("reporter_name")
        } else {
            None
        },
        reporter_contact: if full {
            r.opt_text_of("reporter_contact")
        } else {
            None
        },
        fixmedins_code: r.opt_text_of("fixmedins_code"),
        target: r.text_of("target"),
        content: r.text_of("content"),
        channel: r.text_of("channel").parse()?,
        state: r.text_of("state").parse()?,
        case_id: r.opt_int_of("case_id"),
        case_value: opt_fen(r, "case_value_fen"),
        reward: opt_fen(r, "reward_fen"),
        reward_proposed_by: r.opt_text_of("reward_proposed_by"),
        reward_approved_by: r.opt_text_of("reward_approved_by"),
        reward_paid_by: r.opt_text_of("reward_paid_by"),
        reward_paid_at: opt_dt(r, "reward_paid_at"),
        reward_reference: r.opt_text_of("reward_reference"),
        note: r.opt_text_of("note"),
        received_by: r.text_of("received_by"),
        received_at: parse_dt(&r.text_of("received_at")),
        due_at: opt_dt(r, "due_at"),
    })
}

impl Workflow<'_> {
    fn load_complaint(&mut self, actor: &Actor, id: i64) -> Result<Complaint> {
        if !actor.is_bureau() {
            return Err(WfError::NotFound(format!("投诉举报 / complaint {id}")));
        }
        let r = self
            .db
            .query_opt("SELECT * FROM wf_complaint WHERE id = $1", &[id.into()])?
            .ok_or_else(|| WfError::NotFound(format!("投诉举报 / complaint {id}")))?;
        complaint_of(&r, true)
    }

    /// Receives a complaint — from anyone, including [`Actor::public`]. Named complaints need a
    /// name and a contact; anonymous ones get a claim code.
    pub fn submit_complaint(&mut self, actor: &Actor, n: &NewComplaint) -> Result<Receipt> {
        let target = required(&n.target, "举报对象 target")?;
        let content = required(&n.content, "举报内容 content")?;
        if content.chars().count() < 10 {
            return Err(validation(
                "请具体描述举报事实（至少 10 个字） / describe the facts (at least 10 characters)",
            ));
        }
        let (name, contact) = if n.anonymous {
            (None, None)
        } else {
            (
                Some(required(
                    n.reporter_name.as_deref().unwrap_or(""),
                    "举报人姓名 reporter_name",
                )?),
                Some(required(
                    n.reporter_contact.as_deref().unwrap_or(""),
                    "联系方式 reporter_contact",
                )?),
            )
        };
        if let Some(c) = &n.fixmedins_code {
            medfund_contract::codes::check_fixmedins_code(c)
                .map_err(|e| validation(format!("机构编码 / institution code: {e}")))?;
        }
        let claim = if n.anonymous {
            Some(crate::util::hex(&random_bytes::<6>()?).to_uppercase())
        } else {
            None
        };
        let now = self.now();
        let due = plus_days(now, self.policy.time_limits.complaint_triage);
        let id = self.mutate(actor, "complaint.submit", |db| {
            let prefix = format!("JB{}-", now.year());
            let last = db.query_one("SELECT MAX(complaint_no) FROM wf_complaint WHERE complaint_no LIKE $1", &[format!("{prefix}%").into()])?;
            let seq = last.opt_text(0).and_then(|s| s[prefix.len()..].parse::<i64>().ok()).unwrap_or(0) + 1;
            let no = format!("{prefix}{seq:05}");
            let id = db
                .query_one(
                    "INSERT INTO wf_complaint (complaint_no, anonymous, reporter_name, reporter_contact, claim_code_hash, fixmedins_code, target, content, channel, state, \
                     received_by, received_at, state_since, due_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
                    &[
                        no.as_str().into(),
                        n.anonymous.into(),
                        name.clone().into(),
                        contact.clone().into(),
                        claim.as_deref().map(|c| sha256_hex(c.as_bytes())).into(),
                        n.fixmedins_code.clone().into(),
                        target.as_str().into(),
                        content.as_str().into(),
                        n.channel.code().into(),
                        ComplaintState::Received.code().into(),
                        actor.username.as_str().into(),
                        dt(now).into(),
                        dt(now).into(),
                        dt(due).into(),
                    ],
                )?
                .int(0);
            record_event(db, "complaint", id, now, &actor.username, None, "received", None)?;
            // The audit log never holds the reporter's identity or the claim code.
            Ok((id, Change::new("complaint", id, json!({"complaint_no": no, "anonymous": n.anonymous, "fixmedins_code": n.fixmedins_code, "channel": n.channel.code()}))))
        })?;
        let r = self
            .db
            .query_one("SELECT * FROM wf_complaint WHERE id = $1", &[id.into()])?;
        Ok(Receipt {
            complaint: complaint_of(&r, actor.is_bureau())?,
            claim_code: claim,
        })
    }

    fn complaint_step(
        &mut self,
        actor: &Actor,
        c: &Complaint,
        to: ComplaintState,
        action: &str,
        sets: Vec<(&str, medfund_db::Value)>,
        note: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<Complaint> {
        c.state.ensure(to)?;
        let now = self.now();
        let (id, from) = (c.id, c.state);
        self.mutate(actor, action, |db| {
            let mut sql =
                String::from("UPDATE wf_complaint SET state = $1, state_since = $2, due_at = NULL");
            let mut params: Vec<medfund_db::Value> = vec![to.code().into(), dt(now).into()];
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
                "complaint",
                id,
                now,
                &actor.username,
                Some(from.code()),
                to.code(),
                note,
            )?;
            Ok(((), Change::new("complaint", id, detail)))
        })?;
        self.load_complaint(actor, id)
    }

    /// Triage: open a case, attach to a case, or reject with the reason.
    pub fn triage_complaint(&mut self, actor: &Actor, id: i64, t: &Triage) -> Result<Complaint> {
        actor.require(Perm::ComplaintHandle)?;
        let c = self.load_complaint(actor, id)?;
        match t {
            Triage::Reject { reason } => {
                let reason = required(reason, "不予受理理由 reason")?;
                self.complaint_step(
                    actor,
                    &c,
                    ComplaintState::Rejected,
                    "complaint.reject",
                    vec![("note", reason.as_str().into())],
                    Some(&reason),
                    json!({"reason": reason}),
                )
            }
            Triage::LinkCase { case_id } => {
                let case = load_case_row(self.db, *case_id)?;
                if matches!(case.state, CaseState::Closed | CaseState::Dropped) {
                    return Err(validation(format!(
                        "案件 {} 已{}，不能并入 / the case is finished",
                        case.case_no,
                        case.state.zh()
                    )));
                }
                self.complaint_step(
                    actor,
                    &c,
                    ComplaintState::Triaged,
                    "complaint.triage",
                    vec![("case_id", (*case_id).into())],
                    None,
                    json!({"case_id": case_id}),
                )
            }
            Triage::OpenCase { title } => {
                let title = required(title, "案件名称 title")?;
                c.state.ensure(ComplaintState::Triaged)?;
                let now = self.now();
                let by = actor.username.clone();
                // The complaint's text stays with the complaint (bureau only): the case, which the
                // institution concerned may see, only points to it.
                let summary = format!(
                    "由投诉举报 {} 转立案，举报内容见该投诉记录（仅医保部门可查） / opened from complaint {}",
                    c.complaint_no, c.complaint_no
                );
                let code = c.fixmedins_code.clone();
                self.mutate(actor, "complaint.triage", |db| {
                    let case_id = insert_case(db, now, &by, CaseSource::Complaint, Some(&id.to_string()), code.as_deref(), &title, &summary, None)?;
                    let n = db.execute(
                        "UPDATE wf_complaint SET state = 'triaged', state_since = $1, due_at = NULL, case_id = $2 WHERE id = $3 AND state = 'received'",
                        &[dt(now).into(), case_id.into(), id.into()],
                    )?;
                    if n != 1 {
                        return Err(WfError::InvalidTransition { from: c.state.zh().into(), to: ComplaintState::Triaged.zh().into() });
                    }
                    record_event(db, "complaint", id, now, &by, Some("received"), "triaged", Some(&title))?;
                    Ok(((), Change::new("complaint", id, json!({"opened_case": case_id}))))
                })?;
                self.load_complaint(actor, id)
            }
        }
    }

    /// Concludes from the case's decision: a case decided with a confirmed amount makes the
    /// complaint verified (its value the reward basis); otherwise unfounded.
    pub fn conclude_complaint(&mut self, actor: &Actor, id: i64) -> Result<Complaint> {
        actor.require(Perm::ComplaintHandle)?;
        let c = self.load_complaint(actor, id)?;
        let case_id = c
            .case_id
            .ok_or_else(|| validation("尚未转案件办理 / not triaged to a case"))?;
        let case = load_case_row(self.db, case_id)?;
        if !matches!(
            case.state,
            CaseState::Decided | CaseState::Closed | CaseState::Dropped
        ) {
            return Err(validation(format!(
                "案件 {} 尚未作出处理决定 / the case is not decided yet",
                case.case_no
            )));
        }
        let value = case.confirmed_amount.unwrap_or(Fen(0));
        let confirmed = case.state != CaseState::Dropped
            && case.nature.is_some_and(|n| n != Nature::None)
            && value.0 > 0;
        if confirmed {
            self.complaint_step(
                actor,
                &c,
                ComplaintState::Verified,
                "complaint.verify",
                vec![("case_value_fen", value.0.into())],
                None,
                json!({"case_value": value}),
            )
        } else {
            self.complaint_step(
                actor,
                &c,
                ComplaintState::Unfounded,
                "complaint.unfounded",
                vec![],
                None,
                json!({}),
            )
        }
    }

    /// Computes and proposes the reward of a verified complaint.
    pub fn propose_reward(&mut self, actor: &Actor, id: i64) -> Result<Complaint> {
        actor.require(Perm::ComplaintHandle)?;
        let c = self.load_complaint(actor, id)?;
        c.state.ensure(ComplaintState::RewardProposed)?;
        let value = c.case_value.unwrap_or(Fen(0));
        let reward = reward_for(&self.policy.reward, value)
            .ok_or_else(|| validation("案值为 0，不予奖励 / no confirmed value, no reward"))?;
        self.complaint_step(
            actor,
            &c,
            ComplaintState::RewardProposed,
            "complaint.reward_propose",
            vec![
                ("reward_fen", reward.0.into()),
                ("reward_proposed_by", actor.username.as_str().into()),
            ],
            None,
            json!({"case_value": value, "reward": reward}),
        )
    }

    /// Approves the proposed reward (someone other than the proposer).
    pub fn approve_reward(&mut self, actor: &Actor, id: i64) -> Result<Complaint> {
        actor.require(Perm::RewardApprove)?;
        let c = self.load_complaint(actor, id)?;
        if c.reward_proposed_by.as_deref() == Some(actor.username.as_str()) {
            return Err(WfError::SameActor(
                "奖励须由提出人以外的人员审批 / the approver must not be the proposer".into(),
            ));
        }
        self.complaint_step(
            actor,
            &c,
            ComplaintState::RewardApproved,
            "complaint.reward_approve",
            vec![("reward_approved_by", actor.username.as_str().into())],
            None,
            json!({"reward": c.reward}),
        )
    }

    /// Pays the approved reward — once. Anonymous reporters must present their claim code.
    pub fn pay_reward(
        &mut self,
        actor: &Actor,
        id: i64,
        claim_code: Option<&str>,
        reference: &str,
    ) -> Result<Complaint> {
        actor.require(Perm::RewardPay)?;
        let c = self.load_complaint(actor, id)?;
        c.state.ensure(ComplaintState::RewardPaid)?;
        if c.anonymous {
            let stored = self
                .db
                .query_one(
                    "SELECT claim_code_hash FROM wf_complaint WHERE id = $1",
                    &[id.into()],
                )?
                .text(0);
            let given = claim_code.map(|x| sha256_hex(x.trim().to_uppercase().as_bytes()));
            if given.as_deref() != Some(stored.as_str()) {
                return Err(validation(
                    "匿名举报奖励须凭正确的领取码领取 / the claim code does not match",
                ));
            }
        }
        let reference = required(reference, "发放凭证号 reference")?;
        let now = self.now();
        self.complaint_step(
            actor,
            &c,
            ComplaintState::RewardPaid,
            "complaint.reward_pay",
            vec![
                ("reward_paid_by", actor.username.as_str().into()),
                ("reward_paid_at", dt(now).into()),
                ("reward_reference", reference.as_str().into()),
            ],
            None,
            json!({"reward": c.reward, "reference": reference}),
        )
    }

    /// One complaint with its history (bureau staff).
    pub fn get_complaint(&mut self, actor: &Actor, id: i64) -> Result<(Complaint, Vec<Event>)> {
        let c = self.load_complaint(actor, id)?;
        let ev = events_of(self.db, "complaint", id)?;
        Ok((c, ev))
    }

    /// Complaints (bureau staff), newest first.
    pub fn list_complaints(
        &mut self,
        actor: &Actor,
        state: Option<ComplaintState>,
        page: Page,
    ) -> Result<Paged<Complaint>> {
        if !actor.is_bureau() {
            return Err(WfError::Forbidden(
                "仅监管人员可查看投诉举报 / bureau staff only".into(),
            ));
        }
        let mut w = Where::default();
        if let Some(s) = state {
            w.add("state = ?", s.code());
        }
        let total = self
            .db
            .query_one(
                &format!("SELECT COUNT(*) FROM wf_complaint{}", w.sql()),
                &w.params,
            )?
            .int(0);
        let rows = self.db.query(
            &format!(
                "SELECT * FROM wf_complaint{} ORDER BY id DESC{}",
                w.sql(),
                page.sql()
            ),
            &w.params,
        )?;
        Ok(Paged {
            total,
            items: rows
                .iter()
                .map(|r| complaint_of(r, true))
                .collect::<Result<_>>()?,
        })
    }
}
