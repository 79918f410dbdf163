//! Personnel payment qualification (医保支付资格管理, DOMAIN.md §7; 医保发〔2024〕23号).
//!
//! Points are recorded per person (not per employer) and take effect when a second person
//! approves them. Within a band the degree of responsibility picks the score:
//!
//! | band | general 一般 | important 重要 | main 主要 |
//! |---|---|---|---|
//! | 1 (1–3) | 1 | 2 | 3 |
//! | 2 (4–6) | 4 | 5 | 6 |
//! | 3 (7–9) | 7 | 8 | 9 |
//! | 4 (10–12) | 10 | 11 | 12 |
//!
//! Points count in the natural year of their approval and reset on 1 January. Crossing
//! `suspend_at` (9) suspends payment qualification for 1–6 months chosen by the approver;
//! crossing `terminate_at` (12) terminates it with a 1-year registration ban, and a single
//! 12-point event terminates it with a 3-year ban. Measures start on the approval day.
//! Services during a measure are not paid by the fund except emergencies and rescues.
//! Repair (修复) removes points from the current year (at most `repair_max_points_per_year`)
//! or shortens a running suspension (at most `repair_max_shorten_share` of its length); removing
//! points does not lift a measure already imposed.

use crate::auth::{Actor, Perm};
use crate::error::{validation, Result, WfError};
use crate::util::{
    d, dt, opt_d, opt_dt, parse_d, parse_dt, required, str_enum, Page, Paged, Ratio, StateMachine,
    Where,
};
use crate::{record_event, Change, Workflow};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use medfund_contract::{PractSusp, SuspType};
use medfund_db::{Db, Row};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

str_enum! {
    /// Degree of responsibility: chooses the score within a band.
    pub enum Degree {
        General = "general" / "一般责任",
        Important = "important" / "重要责任",
        Main = "main" / "主要责任",
    }
}

str_enum! {
    /// State of a points entry.
    pub enum PointsState {
        Proposed = "proposed" / "待审核",
        Approved = "approved" / "已生效",
        Rejected = "rejected" / "已驳回",
    }
}

impl StateMachine for PointsState {
    const TRANSITIONS: &'static [(PointsState, PointsState)] = &[
        (PointsState::Proposed, PointsState::Approved),
        (PointsState::Proposed, PointsState::Rejected),
    ];
    fn label(self) -> &'static str {
        self.zh()
    }
}

str_enum! {
    /// Registration status of a person's payment qualification on a day.
    pub enum PractStatus {
        Normal = "normal" / "正常",
        Suspended = "suspended" / "暂停",
        Terminated = "terminated" / "终止",
    }
}

str_enum! {
    /// Kind of repair.
    pub enum RepairKind {
        ReducePoints = "reduce_points" / "减免记分",
        ShortenSuspension = "shorten_suspension" / "缩短暂停期限",
    }
}

/// The score of a band (1–4) and degree: `(band − 1) × 3 + 1, 2 or 3`.
///
/// ```
/// use medfund_workflow::points::{points_for, Degree};
/// assert_eq!(points_for(1, Degree::General).unwrap(), 1);
/// assert_eq!(points_for(3, Degree::Main).unwrap(), 9);
/// assert_eq!(points_for(4, Degree::Main).unwrap(), 12);
/// assert!(points_for(5, Degree::General).is_err());
/// ```
pub fn points_for(band: i64, degree: Degree) -> Result<i64> {
    if !(1..=4).contains(&band) {
        return Err(validation(format!(
            "记分档次须为 1–4（1–3、4–6、7–9、10–12 分）/ band must be 1–4 (got {band})"
        )));
    }
    let step = match degree {
        Degree::General => 1,
        Degree::Important => 2,
        Degree::Main => 3,
    };
    Ok((band - 1) * 3 + step)
}

/// What an approved entry triggers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThresholdEffect {
    /// Nothing.
    None,
    /// The year total reached the suspension threshold.
    Suspend,
    /// The year total reached the termination threshold (`single`: one 12-point event).
    Terminate {
        /// One event of `terminate_at` points by itself (3-year ban) rather than accumulation.
        single: bool,
    },
}

/// The effect of adding `points` to a year total of `prev` (pure).
///
/// ```
/// use medfund_workflow::points::{threshold_effect, ThresholdEffect};
/// use medfund_workflow::policy::PointsPolicy;
/// let p = PointsPolicy::default();
/// assert_eq!(threshold_effect(&p, 6, 2), ThresholdEffect::None);      // 8
/// assert_eq!(threshold_effect(&p, 6, 3), ThresholdEffect::Suspend);   // 9
/// assert_eq!(threshold_effect(&p, 9, 2), ThresholdEffect::None);      // 11: already past 9
/// assert_eq!(threshold_effect(&p, 9, 3), ThresholdEffect::Terminate { single: false });
/// assert_eq!(threshold_effect(&p, 0, 12), ThresholdEffect::Terminate { single: true });
/// ```
pub fn threshold_effect(
    p: &crate::policy::PointsPolicy,
    prev: i64,
    points: i64,
) -> ThresholdEffect {
    let new = prev + points;
    if points >= p.terminate_at {
        ThresholdEffect::Terminate { single: true }
    } else if prev < p.terminate_at && new >= p.terminate_at {
        ThresholdEffect::Terminate { single: false }
    } else if prev < p.suspend_at && new >= p.suspend_at {
        ThresholdEffect::Suspend
    } else {
        ThresholdEffect::None
    }
}

/// The status on `day` given measures (from the ledger and/or the imported `pract_susp` table):
/// a termination covering the day wins over a suspension.
pub fn status_from(measures: &[PractSusp], pract_code: &str, day: NaiveDate) -> PractStatus {
    let mut st = PractStatus::Normal;
    for m in measures
        .iter()
        .filter(|m| m.pract_code == pract_code && m.covers(day))
    {
        match m.susp_type {
            SuspType::Terminate => return PractStatus::Terminated,
            SuspType::Suspend => st = PractStatus::Suspended,
        }
    }
    st
}

/// Whether the fund pays a service by a person with `status`: normal always; during suspension
/// or termination only emergencies and rescues (急救、抢救).
pub fn service_payable(status: PractStatus, emergency: bool) -> bool {
    status == PractStatus::Normal || emergency
}

/// One points entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointsEntry {
    /// Id.
    pub id: i64,
    /// Person.
    pub pract_code: String,
    /// Institution where the violation happened.
    pub fixmedins_code: String,
    /// Band 1–4.
    pub band: i64,
    /// Degree.
    pub degree: Degree,
    /// Score.
    pub points: i64,
    /// Cause.
    pub cause: String,
    /// Case.
    pub case_id: Option<i64>,
    /// Sanction of the institution it follows.
    pub sanction_id: Option<i64>,
    /// State.
    pub state: PointsState,
    /// Proposed by.
    pub proposed_by: String,
    /// Proposed at.
    pub proposed_at: NaiveDateTime,
    /// Approved (or rejected) by.
    pub approved_by: Option<String>,
    /// Approved at.
    pub approved_at: Option<NaiveDateTime>,
    /// Natural year it counts in.
    pub year: Option<i64>,
    /// Year total after this entry.
    pub total_after: Option<i64>,
    /// Approver's remark.
    pub note: Option<String>,
}

/// A suspension or termination from the ledger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    /// Id.
    pub id: i64,
    /// Person.
    pub pract_code: String,
    /// `suspend` or `terminate`.
    pub kind: SuspType,
    /// First day.
    pub begndate: NaiveDate,
    /// Last day (inclusive); `None` = open-ended (termination until re-registration).
    pub enddate: Option<NaiveDate>,
    /// Last day as first decided (before repair).
    pub original_enddate: Option<NaiveDate>,
    /// No new registration before this day (terminations).
    pub ban_until: Option<NaiveDate>,
    /// Suspension months chosen.
    pub months: Option<i64>,
    /// The points entry that triggered it.
    pub points_id: Option<i64>,
    /// Why.
    pub reason: String,
    /// Decided by.
    pub decided_by: String,
    /// Decided at.
    pub decided_at: NaiveDateTime,
}

impl Measure {
    /// As the contract's `pract_susp` record.
    pub fn to_susp(&self) -> PractSusp {
        PractSusp {
            pract_code: self.pract_code.as_str().into(),
            susp_type: self.kind,
            begndate: self.begndate,
            enddate: self.enddate,
        }
    }
}

/// One repair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Repair {
    /// Id.
    pub id: i64,
    /// Person.
    pub pract_code: String,
    /// Year of the points removed.
    pub year: i64,
    /// Kind.
    pub kind: RepairKind,
    /// Points removed.
    pub points: i64,
    /// Days the suspension was shortened.
    pub days: i64,
    /// Suspension shortened.
    pub measure_id: Option<i64>,
    /// Why (study, correction, taking part in the institution's insurance management…).
    pub reason: String,
    /// Approver.
    pub approved_by: String,
    /// When.
    pub at: NaiveDateTime,
}

/// A person's points in one natural year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct YearTotal {
    /// Year.
    pub year: i64,
    /// Approved points.
    pub points: i64,
    /// Removed by repair.
    pub reduced: i64,
    /// Net total.
    pub total: i64,
}

/// 一人一档: everything about one person's payment qualification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonFile {
    /// Person.
    pub pract_code: String,
    /// Status on the service's today (ledger and imported measures).
    pub status_today: PractStatus,
    /// Net points this year.
    pub points_this_year: i64,
    /// Per-year totals.
    pub years: Vec<YearTotal>,
    /// Points entries, newest first.
    pub entries: Vec<PointsEntry>,
    /// Ledger measures.
    pub measures: Vec<Measure>,
    /// Measures from the imported national `pract_susp` table, when loaded.
    pub imported_measures: Vec<PractSusp>,
    /// Repairs.
    pub repairs: Vec<Repair>,
    /// No new registration before this day.
    pub ban_until: Option<NaiveDate>,
}

/// Input of [`Workflow::propose_points`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewPoints {
    /// Person (`D` + 12 digits for doctors…).
    pub pract_code: String,
    /// Institution where it happened.
    pub fixmedins_code: String,
    /// Band 1–4.
    pub band: i64,
    /// Degree.
    pub degree: Degree,
    /// Cause.
    pub cause: String,
    /// Case.
    pub case_id: Option<i64>,
    /// Sanction it follows.
    pub sanction_id: Option<i64>,
}

/// Input of [`Workflow::repair`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RepairInput {
    /// Person.
    pub pract_code: String,
    /// Kind.
    pub kind: RepairKind,
    /// Points to remove (reduce_points).
    pub points: i64,
    /// Suspension to shorten (shorten_suspension).
    pub measure_id: Option<i64>,
    /// Days to shorten it by.
    pub days: i64,
    /// Why.
    pub reason: String,
}

/// One institution's share of suspended or terminated staff in a year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstitutionFlag {
    /// Institution.
    pub fixmedins_code: String,
    /// Registered staff.
    pub staff: i64,
    /// Staff under a suspension or termination at any time in the year.
    pub affected: i64,
    /// Those persons.
    pub affected_practs: Vec<String>,
    /// `affected / staff` in percent, two decimals (display).
    pub share_percent: String,
    /// Share above the policy threshold.
    pub flagged: bool,
}

/// Institutions whose suspended or terminated staff in `year` exceed `threshold` of their
/// registered staff (pure). `roster`: `(fixmedins_code, pract_code)` of registered staff;
/// `measures`: ledger and imported measures.
pub fn institution_flags(
    year: i32,
    roster: &[(String, String)],
    measures: &[PractSusp],
    threshold: Ratio,
) -> Vec<InstitutionFlag> {
    let (Some(start), Some(end)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) else {
        return vec![];
    };
    let affected: BTreeSet<&str> = measures
        .iter()
        .filter(|m| m.begndate <= end && m.enddate.is_none_or(|e| e >= start))
        .map(|m| m.pract_code.as_str())
        .collect();
    let mut staff: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (inst, p) in roster {
        staff.entry(inst.as_str()).or_default().insert(p.as_str());
    }
    staff
        .into_iter()
        .map(|(inst, people)| {
            let hit: Vec<String> = people
                .iter()
                .filter(|p| affected.contains(*p))
                .map(|p| p.to_string())
                .collect();
            let n = people.len() as i64;
            let a = hit.len() as i64;
            // a/n > num/den  ⇔  a·den > n·num (exact).
            let flagged = n > 0
                && (a as i128) * (threshold.den as i128) > (n as i128) * (threshold.num as i128);
            let bp = if n > 0 { (a * 10_000 + n / 2) / n } else { 0 };
            InstitutionFlag {
                fixmedins_code: inst.to_string(),
                staff: n,
                affected: a,
                affected_practs: hit,
                share_percent: format!("{}.{:02}", bp / 100, bp % 100),
                flagged,
            }
        })
        .collect()
}

fn entry_of(r: &Row) -> Result<PointsEntry> {
    Ok(PointsEntry {
        id: r.int_of("id"),
        pract_code: r.text_of("pract_code"),
        fixmedins_code: r.text_of("fixmedins_code"),
        band: r.int_of("band"),
        degree: r.text_of("degree").parse()?,
        points: r.int_of("points"),
        cause: r.text_of("cause"),
        case_id: r.opt_int_of("case_id"),
        sanction_id: r.opt_int_of("sanction_id"),
        state: r.text_of("state").parse()?,
        proposed_by: r.text_of("proposed_by"),
        proposed_at: parse_dt(&r.text_of("proposed_at")),
        approved_by: r.opt_text_of("approved_by"),
        approved_at: opt_dt(r, "approved_at"),
        year: r.opt_int_of("year"),
        total_after: r.opt_int_of("total_after"),
        note: r.opt_text_of("note"),
    })
}

fn measure_of(r: &Row) -> Result<Measure> {
    let kind = SuspType::parse(&r.text_of("kind")).ok_or_else(|| validation("bad measure kind"))?;
    Ok(Measure {
        id: r.int_of("id"),
        pract_code: r.text_of("pract_code"),
        kind,
        begndate: parse_d(&r.text_of("begndate")),
        enddate: opt_d(r, "enddate"),
        original_enddate: opt_d(r, "original_enddate"),
        ban_until: opt_d(r, "ban_until"),
        months: r.opt_int_of("months"),
        points_id: r.opt_int_of("points_id"),
        reason: r.text_of("reason"),
        decided_by: r.text_of("decided_by"),
        decided_at: parse_dt(&r.text_of("decided_at")),
    })
}

fn repair_of(r: &Row) -> Result<Repair> {
    Ok(Repair {
        id: r.int_of("id"),
        pract_code: r.text_of("pract_code"),
        year: r.int_of("year"),
        kind: r.text_of("kind").parse()?,
        points: r.int_of("points"),
        days: r.int_of("days"),
        measure_id: r.opt_int_of("measure_id"),
        reason: r.text_of("reason"),
        approved_by: r.text_of("approved_by"),
        at: parse_dt(&r.text_of("at")),
    })
}

/// Net points of a person in a natural year (approved points − repairs).
pub fn year_total(db: &mut Db, pract_code: &str, year: i32) -> Result<i64> {
    let p: i64 = db
        .query("SELECT points FROM wf_points WHERE pract_code = $1 AND state = 'approved' AND year = $2", &[pract_code.into(), (year as i64).into()])?
        .iter()
        .map(|r| r.int(0))
        .sum();
    let red: i64 = db
        .query(
            "SELECT points FROM wf_points_repair WHERE pract_code = $1 AND year = $2",
            &[pract_code.into(), (year as i64).into()],
        )?
        .iter()
        .map(|r| r.int(0))
        .sum();
    Ok(p - red)
}

/// Every suspension and termination in the ledger as `pract_susp` records — the audit engine
/// merges these with the imported `pract_susp` table for the `suspended_pract` rule.
pub fn suspensions(db: &mut Db) -> Result<Vec<PractSusp>> {
    crate::migrate(db)?;
    let rows = db.query(
        "SELECT * FROM wf_pract_measure ORDER BY pract_code, begndate, id",
        &[],
    )?;
    rows.iter()
        .map(|r| measure_of(r).map(|m| m.to_susp()))
        .collect()
}

/// The imported national measures (`pract_susp` table of the store), or none when the store has
/// not been loaded in this database.
pub fn imported_suspensions(db: &mut Db) -> Vec<PractSusp> {
    let Ok(rows) = db.query(
        "SELECT pract_code, susp_type, begndate, enddate FROM pract_susp",
        &[],
    ) else {
        return vec![];
    };
    rows.iter()
        .filter_map(|r| {
            Some(PractSusp {
                pract_code: r.text(0).as_str().into(),
                susp_type: SuspType::parse(&r.text(1))?,
                begndate: medfund_contract::time::parse_date(&r.text(2)).ok()?,
                enddate: r
                    .opt_text(3)
                    .filter(|s| !s.is_empty())
                    .and_then(|s| medfund_contract::time::parse_date(&s).ok()),
            })
        })
        .collect()
}

/// A person's status on `day` from the ledger and the imported table.
pub fn pract_status_on(db: &mut Db, pract_code: &str, day: NaiveDate) -> Result<PractStatus> {
    crate::migrate(db)?;
    let rows = db.query(
        "SELECT * FROM wf_pract_measure WHERE pract_code = $1",
        &[pract_code.into()],
    )?;
    let mut ms: Vec<PractSusp> = rows
        .iter()
        .map(|r| measure_of(r).map(|m| m.to_susp()))
        .collect::<Result<_>>()?;
    ms.extend(
        imported_suspensions(db)
            .into_iter()
            .filter(|m| m.pract_code == pract_code),
    );
    Ok(status_from(&ms, pract_code, day))
}

/// A measure decided at approval: kind, end date, registration ban, months, reason.
type PlannedMeasure = (
    SuspType,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<i64>,
    String,
);

fn add_years(d: NaiveDate, years: u32) -> NaiveDate {
    d.checked_add_months(chrono::Months::new(12 * years))
        .unwrap_or(d)
}

impl Workflow<'_> {
    fn load_points(&mut self, actor: &Actor, id: i64) -> Result<PointsEntry> {
        let r = self
            .db
            .query_opt("SELECT * FROM wf_points WHERE id = $1", &[id.into()])?
            .ok_or_else(|| WfError::NotFound(format!("记分 / points entry {id}")))?;
        let e = entry_of(&r)?;
        if !actor.sees_institution(Some(&e.fixmedins_code)) {
            return Err(WfError::NotFound(format!("记分 / points entry {id}")));
        }
        Ok(e)
    }

    /// Proposes points for a person; they count once approved by another person.
    pub fn propose_points(&mut self, actor: &Actor, n: &NewPoints) -> Result<PointsEntry> {
        actor.require(Perm::PointsPropose)?;
        medfund_contract::codes::check_pract_code(&n.pract_code)
            .map_err(|e| validation(format!("人员编码 / pract_code: {e}")))?;
        medfund_contract::codes::check_fixmedins_code(&n.fixmedins_code)
            .map_err(|e| validation(format!("机构编码 / institution code: {e}")))?;
        let points = points_for(n.band, n.degree)?;
        let cause = required(&n.cause, "记分事由 cause")?;
        let now = self.now();
        let id = self.mutate(actor, "points.propose", |db| {
            let id = db
                .query_one(
                    "INSERT INTO wf_points (pract_code, fixmedins_code, band, degree, points, cause, case_id, sanction_id, state, proposed_by, proposed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                    &[
                        n.pract_code.as_str().into(),
                        n.fixmedins_code.as_str().into(),
                        n.band.into(),
                        n.degree.code().into(),
                        points.into(),
                        cause.as_str().into(),
                        n.case_id.into(),
                        n.sanction_id.into(),
                        PointsState::Proposed.code().into(),
                        actor.username.as_str().into(),
                        dt(now).into(),
                    ],
                )?
                .int(0);
            record_event(db, "points", id, now, &actor.username, None, "proposed", Some(&cause))?;
            Ok((id, Change::new("points", id, json!({"pract_code": n.pract_code, "band": n.band, "degree": n.degree.code(), "points": points}))))
        })?;
        self.load_points(actor, id)
    }

    /// Approves proposed points (another person than the proposer). They count in the current
    /// natural year. When the year total crosses the suspension threshold the approver must
    /// choose 1–6 months (`suspension_months`); crossing the termination threshold terminates.
    /// Returns the entry and the measure it triggered.
    pub fn approve_points(
        &mut self,
        actor: &Actor,
        id: i64,
        suspension_months: Option<u32>,
        note: &str,
    ) -> Result<(PointsEntry, Option<Measure>)> {
        actor.require(Perm::PointsApprove)?;
        let e = self.load_points(actor, id)?;
        e.state.ensure(PointsState::Approved)?;
        if e.proposed_by == actor.username {
            return Err(WfError::SameActor("记分须由提出人以外的人员审核 / points must be approved by someone other than the proposer".into()));
        }
        let today = self.today();
        let year = today.year();
        let pp = self.policy.points.clone();
        let prev = year_total(self.db, &e.pract_code, year)?;
        let status = pract_status_on(self.db, &e.pract_code, today)?;
        let effect = if status == PractStatus::Terminated {
            ThresholdEffect::None
        } else {
            threshold_effect(&pp, prev, e.points)
        };
        let total = prev + e.points;
        let measure: Option<PlannedMeasure> = match effect {
            ThresholdEffect::Suspend => {
                let m = suspension_months.ok_or_else(|| {
                    validation(format!(
                        "本年度累计记分达到 {total} 分（≥{}），须选择暂停医保支付资格 {}–{} 个月 / choose the suspension in months",
                        pp.suspend_at, pp.suspension_months_min, pp.suspension_months_max
                    ))
                })?;
                if m < pp.suspension_months_min || m > pp.suspension_months_max {
                    return Err(validation(format!(
                        "暂停期限须为 {}–{} 个月 / months must be {}–{}",
                        pp.suspension_months_min,
                        pp.suspension_months_max,
                        pp.suspension_months_min,
                        pp.suspension_months_max
                    )));
                }
                let end = crate::util::months_end(today, m);
                Some((
                    SuspType::Suspend,
                    Some(end),
                    None,
                    Some(m as i64),
                    format!("{year}年度累计记分 {total} 分，暂停医保支付资格 {m} 个月"),
                ))
            }
            ThresholdEffect::Terminate { single } => {
                if suspension_months.is_some() {
                    return Err(validation("本次记分将终止医保支付资格，不应选择暂停月数 / this entry terminates; no suspension months"));
                }
                let years = if single {
                    pp.ban_years_single
                } else {
                    pp.ban_years_accumulated
                };
                let why = if single {
                    format!("一次性记满 {} 分", e.points)
                } else {
                    format!("{year}年度累计记分 {total} 分")
                };
                Some((
                    SuspType::Terminate,
                    None,
                    Some(add_years(today, years)),
                    None,
                    format!("{why}，终止医保支付资格，{years} 年内不得再次登记备案"),
                ))
            }
            ThresholdEffect::None => {
                if suspension_months.is_some() {
                    return Err(validation(format!("本年度累计 {total} 分，未达到暂停分值，不应选择暂停月数 / no suspension at {total} points")));
                }
                None
            }
        };
        let now = self.now();
        let note = note.trim().to_string();
        let pract = e.pract_code.clone();
        let mid = self.mutate(actor, "points.approve", |db| {
            let n = db.execute(
                "UPDATE wf_points SET state = 'approved', approved_by = $1, approved_at = $2, year = $3, total_after = $4, note = $5 WHERE id = $6 AND state = 'proposed'",
                &[actor.username.as_str().into(), dt(now).into(), (year as i64).into(), total.into(), note.as_str().into(), id.into()],
            )?;
            if n != 1 {
                return Err(WfError::InvalidTransition { from: "已处理 / handled".into(), to: "approved".into() });
            }
            record_event(db, "points", id, now, &actor.username, Some("proposed"), "approved", Some(&note))?;
            let mut mid = None;
            if let Some((kind, end, ban, months, reason)) = &measure {
                let kind_s = if *kind == SuspType::Suspend { "suspend" } else { "terminate" };
                mid = Some(
                    db.query_one(
                        "INSERT INTO wf_pract_measure (pract_code, kind, begndate, enddate, original_enddate, ban_until, months, points_id, reason, decided_by, decided_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                        &[
                            pract.as_str().into(),
                            kind_s.into(),
                            d(today).into(),
                            end.map(d).into(),
                            end.map(d).into(),
                            ban.map(d).into(),
                            (*months).into(),
                            id.into(),
                            reason.as_str().into(),
                            actor.username.as_str().into(),
                            dt(now).into(),
                        ],
                    )?
                    .int(0),
                );
            }
            let detail = json!({"pract_code": pract, "points": e.points, "year": year, "total": total, "measure": measure.as_ref().map(|m| m.4.clone()), "measure_id": mid});
            Ok((mid, Change::new("points", id, detail)))
        })?;
        let entry = self.load_points(actor, id)?;
        let m = match mid {
            Some(mid) => Some(measure_of(&self.db.query_one(
                "SELECT * FROM wf_pract_measure WHERE id = $1",
                &[mid.into()],
            )?)?),
            None => None,
        };
        Ok((entry, m))
    }

    /// Rejects proposed points (another person than the proposer), with the reason.
    pub fn reject_points(&mut self, actor: &Actor, id: i64, reason: &str) -> Result<PointsEntry> {
        actor.require(Perm::PointsApprove)?;
        let e = self.load_points(actor, id)?;
        e.state.ensure(PointsState::Rejected)?;
        if e.proposed_by == actor.username {
            return Err(WfError::SameActor(
                "记分须由提出人以外的人员审核 / someone other than the proposer".into(),
            ));
        }
        let reason = required(reason, "驳回理由 reason")?;
        let now = self.now();
        self.mutate(actor, "points.reject", |db| {
            let n = db.execute(
                "UPDATE wf_points SET state = 'rejected', approved_by = $1, approved_at = $2, note = $3 WHERE id = $4 AND state = 'proposed'",
                &[actor.username.as_str().into(), dt(now).into(), reason.as_str().into(), id.into()],
            )?;
            // Decided meanwhile by someone else: nothing changed, so nothing is logged.
            crate::util::changed_one(n, e.state.zh(), PointsState::Rejected.zh())?;
            record_event(db, "points", id, now, &actor.username, Some("proposed"), "rejected", Some(&reason))?;
            Ok(((), Change::new("points", id, json!({"reason": reason}))))
        })?;
        self.load_points(actor, id)
    }

    /// Repair (修复), decided by an approver with the reason: remove points from the current
    /// year, or shorten a running suspension.
    pub fn repair(&mut self, actor: &Actor, r: &RepairInput) -> Result<Repair> {
        actor.require(Perm::PointsRepair)?;
        let reason = required(&r.reason, "修复理由 reason")?;
        let today = self.today();
        let year = today.year();
        let pp = self.policy.points.clone();
        let mut new_end = None;
        match r.kind {
            RepairKind::ReducePoints => {
                if r.points < 1 {
                    return Err(validation("减免分值须至少 1 分 / remove at least 1 point"));
                }
                let total = year_total(self.db, &r.pract_code, year)?;
                if r.points > total {
                    return Err(validation(format!("{year} 年度当前记分 {total} 分，不能减免 {} 分 / cannot remove more than the year's {total} points", r.points)));
                }
                let done: i64 = self
                    .db
                    .query(
                        "SELECT points FROM wf_points_repair WHERE pract_code = $1 AND year = $2",
                        &[r.pract_code.as_str().into(), (year as i64).into()],
                    )?
                    .iter()
                    .map(|x| x.int(0))
                    .sum();
                if done + r.points > pp.repair_max_points_per_year {
                    return Err(validation(format!(
                        "每自然年度最多减免 {} 分，已减免 {done} 分 / at most {} points per year can be removed ({done} already)",
                        pp.repair_max_points_per_year, pp.repair_max_points_per_year
                    )));
                }
            }
            RepairKind::ShortenSuspension => {
                let mid = r
                    .measure_id
                    .ok_or_else(|| validation("须指明要缩短的暂停措施 / measure_id is required"))?;
                let row = self
                    .db
                    .query_opt(
                        "SELECT * FROM wf_pract_measure WHERE id = $1 AND pract_code = $2",
                        &[mid.into(), r.pract_code.as_str().into()],
                    )?
                    .ok_or_else(|| WfError::NotFound(format!("暂停措施 / measure {mid}")))?;
                let m = measure_of(&row)?;
                let (Some(end), Some(orig)) = (m.enddate, m.original_enddate) else {
                    return Err(validation("只能缩短有期限的暂停 / only a suspension with an end date can be shortened"));
                };
                if m.kind != SuspType::Suspend {
                    return Err(validation(
                        "只能缩短暂停，不能缩短终止 / only suspensions can be shortened",
                    ));
                }
                if end < today {
                    return Err(validation(format!(
                        "该暂停已于 {} 结束 / the suspension already ended",
                        d(end)
                    )));
                }
                if r.days < 1 {
                    return Err(validation(
                        "缩短天数须至少 1 天 / shorten by at least 1 day",
                    ));
                }
                let length = (orig - m.begndate).num_days() + 1;
                let already = (orig - end).num_days();
                let share = pp.repair_max_shorten_share.0;
                let allowed = (length as i128 * share.num as i128 / share.den as i128) as i64;
                if already + r.days > allowed {
                    return Err(validation(format!(
                        "暂停期 {length} 天，最多可缩短 {allowed} 天，已缩短 {already} 天 / at most {allowed} days of {length} can be removed ({already} already)"
                    )));
                }
                let ne = end - chrono::Duration::days(r.days);
                if ne < m.begndate {
                    return Err(validation(
                        "缩短后暂停期不足 1 天 / the suspension would be shorter than one day",
                    ));
                }
                new_end = Some(ne);
            }
        }
        let now = self.now();
        let (points, days) = match r.kind {
            RepairKind::ReducePoints => (r.points, 0),
            RepairKind::ShortenSuspension => (0, r.days),
        };
        let rid = self.mutate(actor, "points.repair", |db| {
            if let (Some(ne), Some(mid)) = (new_end, r.measure_id) {
                db.execute("UPDATE wf_pract_measure SET enddate = $1 WHERE id = $2", &[d(ne).into(), mid.into()])?;
            }
            let rid = db
                .query_one(
                    "INSERT INTO wf_points_repair (pract_code, year, kind, points, days, measure_id, reason, approved_by, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    &[
                        r.pract_code.as_str().into(),
                        (year as i64).into(),
                        r.kind.code().into(),
                        points.into(),
                        days.into(),
                        r.measure_id.filter(|_| r.kind == RepairKind::ShortenSuspension).into(),
                        reason.as_str().into(),
                        actor.username.as_str().into(),
                        dt(now).into(),
                    ],
                )?
                .int(0);
            Ok((rid, Change::new("points_repair", rid, json!({"pract_code": r.pract_code, "kind": r.kind.code(), "points": points, "days": days, "new_enddate": new_end.map(d), "reason": reason}))))
        })?;
        repair_of(&self.db.query_one(
            "SELECT * FROM wf_points_repair WHERE id = $1",
            &[rid.into()],
        )?)
    }

    /// Re-registration after a termination, once the registration ban is over: the
    /// termination ends the day before `on`.
    pub fn reregister(
        &mut self,
        actor: &Actor,
        pract_code: &str,
        on: NaiveDate,
        note: &str,
    ) -> Result<Measure> {
        actor.require(Perm::PointsApprove)?;
        let row = self
            .db
            .query_opt("SELECT * FROM wf_pract_measure WHERE pract_code = $1 AND kind = 'terminate' AND enddate IS NULL ORDER BY id DESC", &[pract_code.into()])?
            .ok_or_else(|| WfError::NotFound(format!("{pract_code} 没有生效的终止措施 / no open termination")))?;
        let m = measure_of(&row)?;
        if let Some(ban) = m.ban_until {
            if on < ban {
                return Err(validation(format!(
                    "{} 之前不得再次登记备案 / no registration before {}",
                    d(ban),
                    d(ban)
                )));
            }
        }
        if on <= m.begndate {
            return Err(validation(
                "恢复日期须晚于终止日期 / the date must be after the termination began",
            ));
        }
        let note = required(note, "说明 note")?;
        let end = on.pred_opt().unwrap_or(on);
        let mid = m.id;
        self.mutate(actor, "points.reregister", |db| {
            db.execute(
                "UPDATE wf_pract_measure SET enddate = $1 WHERE id = $2",
                &[d(end).into(), mid.into()],
            )?;
            Ok((
                (),
                Change::new(
                    "pract_measure",
                    mid,
                    json!({"pract_code": pract_code, "registered_on": d(on), "note": note}),
                ),
            ))
        })?;
        measure_of(&self.db.query_one(
            "SELECT * FROM wf_pract_measure WHERE id = $1",
            &[mid.into()],
        )?)
    }

    /// 一人一档: a person's points, measures, repairs and status. Institution users see the
    /// file of people with an entry at their institution or registered there.
    pub fn person_file(&mut self, actor: &Actor, pract_code: &str) -> Result<PersonFile> {
        if !actor.is_bureau() {
            let Some(inst) = actor.institution() else {
                return Err(WfError::Forbidden("无权查看人员档案 / not allowed".into()));
            };
            let here = self
                .db
                .query_opt(
                    "SELECT id FROM wf_points WHERE pract_code = $1 AND fixmedins_code = $2",
                    &[pract_code.into(), inst.into()],
                )?
                .is_some();
            let registered = self
                .db
                .query(
                    "SELECT fixmedins_code FROM pract WHERE pract_code = $1",
                    &[pract_code.into()],
                )
                .map(|rows| rows.iter().any(|r| r.text(0) == inst))
                .unwrap_or(false);
            if !here && !registered {
                return Err(WfError::NotFound(format!("人员 / person {pract_code}")));
            }
        }
        let today = self.today();
        let entries = self
            .db
            .query(
                "SELECT * FROM wf_points WHERE pract_code = $1 ORDER BY id DESC",
                &[pract_code.into()],
            )?
            .iter()
            .map(entry_of)
            .collect::<Result<Vec<_>>>()?;
        let measures = self
            .db
            .query(
                "SELECT * FROM wf_pract_measure WHERE pract_code = $1 ORDER BY id",
                &[pract_code.into()],
            )?
            .iter()
            .map(measure_of)
            .collect::<Result<Vec<_>>>()?;
        let repairs = self
            .db
            .query(
                "SELECT * FROM wf_points_repair WHERE pract_code = $1 ORDER BY id",
                &[pract_code.into()],
            )?
            .iter()
            .map(repair_of)
            .collect::<Result<Vec<_>>>()?;
        let imported: Vec<PractSusp> = imported_suspensions(self.db)
            .into_iter()
            .filter(|m| m.pract_code == pract_code)
            .collect();
        let mut years: BTreeMap<i64, YearTotal> = BTreeMap::new();
        for e in entries.iter().filter(|e| e.state == PointsState::Approved) {
            let y = e.year.unwrap_or(0);
            let t = years.entry(y).or_insert(YearTotal {
                year: y,
                points: 0,
                reduced: 0,
                total: 0,
            });
            t.points += e.points;
        }
        for r in &repairs {
            let t = years.entry(r.year).or_insert(YearTotal {
                year: r.year,
                points: 0,
                reduced: 0,
                total: 0,
            });
            t.reduced += r.points;
        }
        for t in years.values_mut() {
            t.total = t.points - t.reduced;
        }
        let mut all: Vec<PractSusp> = measures.iter().map(Measure::to_susp).collect();
        all.extend(imported.iter().cloned());
        let status_today = status_from(&all, pract_code, today);
        let points_this_year = years
            .get(&(today.year() as i64))
            .map(|t| t.total)
            .unwrap_or(0);
        let ban_until = measures
            .iter()
            .filter(|m| m.enddate.is_none())
            .filter_map(|m| m.ban_until)
            .max();
        if entries.is_empty() && measures.is_empty() && imported.is_empty() && !actor.is_bureau() {
            return Err(WfError::NotFound(format!("人员 / person {pract_code}")));
        }
        // Totals and status count every institution (the points follow the person), but an
        // institution reads only the entries it gave rise to: another hospital's causes, cases
        // and sanctions are not its business.
        let entries = if actor.is_bureau() {
            entries
        } else {
            let inst = actor.institution();
            entries
                .into_iter()
                .filter(|e| Some(e.fixmedins_code.as_str()) == inst)
                .collect()
        };
        Ok(PersonFile {
            pract_code: pract_code.to_string(),
            status_today,
            points_this_year,
            years: years.into_values().rev().collect(),
            entries,
            measures,
            imported_measures: imported,
            repairs,
            ban_until,
        })
    }

    /// A person's status on a day (ledger and imported measures).
    pub fn pract_status_on(&mut self, pract_code: &str, day: NaiveDate) -> Result<PractStatus> {
        pract_status_on(self.db, pract_code, day)
    }

    /// Whether the fund pays a service of this person on `day` (emergencies always).
    pub fn is_service_payable(
        &mut self,
        pract_code: &str,
        day: NaiveDate,
        emergency: bool,
    ) -> Result<bool> {
        Ok(service_payable(
            self.pract_status_on(pract_code, day)?,
            emergency,
        ))
    }

    /// Points entries visible to the actor (filter by state, person, institution).
    pub fn list_points(
        &mut self,
        actor: &Actor,
        state: Option<PointsState>,
        pract_code: Option<&str>,
        fixmedins_code: Option<&str>,
        page: Page,
    ) -> Result<Paged<PointsEntry>> {
        let mut w = Where::default();
        if !actor.is_bureau() {
            match actor.institution() {
                Some(c) => {
                    w.add("fixmedins_code = ?", c);
                }
                None => return Err(WfError::Forbidden("无权查看记分 / not allowed".into())),
            }
        }
        if let Some(s) = state {
            w.add("state = ?", s.code());
        }
        if let Some(p) = pract_code {
            w.add("pract_code = ?", p);
        }
        if let Some(c) = fixmedins_code {
            w.add("fixmedins_code = ?", c);
        }
        let total = self
            .db
            .query_one(
                &format!("SELECT COUNT(*) FROM wf_points{}", w.sql()),
                &w.params,
            )?
            .int(0);
        let rows = self.db.query(
            &format!(
                "SELECT * FROM wf_points{} ORDER BY id DESC{}",
                w.sql(),
                page.sql()
            ),
            &w.params,
        )?;
        Ok(Paged {
            total,
            items: rows.iter().map(entry_of).collect::<Result<_>>()?,
        })
    }

    /// Institutions flagged for agreement measures in `year`: suspended or terminated staff
    /// share above `points.institution_flag_share`. The roster is the store's `pract` table
    /// unless given.
    pub fn institution_flags(
        &mut self,
        actor: &Actor,
        year: i32,
        roster: Option<Vec<(String, String)>>,
    ) -> Result<Vec<InstitutionFlag>> {
        if !actor.is_bureau() {
            return Err(WfError::Forbidden("仅监管人员 / bureau staff only".into()));
        }
        let roster = match roster {
            Some(r) => r,
            None => self
                .db
                .query("SELECT fixmedins_code, pract_code FROM pract", &[])
                .map_err(|_| validation("尚未加载 pract 表（人员名册），请先 `medfund load` / load the pract table first"))?
                .iter()
                .map(|r| (r.text(0), r.text(1)))
                .collect(),
        };
        let mut ms = suspensions(self.db)?;
        ms.extend(imported_suspensions(self.db));
        Ok(institution_flags(
            year,
            &roster,
            &ms,
            self.policy.points.institution_flag_share.0,
        ))
    }
}
