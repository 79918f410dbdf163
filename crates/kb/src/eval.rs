//! Evaluation of the categories that exist only in the national knowledge base (DOMAIN.md §4):
//! `insurance_type_limit`, `course_limit`, `cycle_frequency`, `secondary_surgery_discount`, and
//! the timed duplicate pairs of batch 7 (`exclusive_items` within a day or a few hours; pairs
//! whose period is one visit go to the catalog's `excl_codes` instead, see
//! [`crate::KnowledgeBase::apply_to_catalog`]), and the visit-type limits that admit emergency
//! visits (`med_type_limit`; the plain ones go to the catalog's `lmt_med_type`).
//!
//! Pure functions over one person's fee lines: no I/O, no clock. The audit engine partitions
//! the batch by `psn_no`, builds a [`PersonLines`] per person and calls [`eval_person`].
//!
//! Common conventions:
//! - only lines the fund paid count: a line whose catalog entry is self-pay (`chrgitm_lv` 3) or
//!   whose settlement shows no fund payment (`hifp_pay` and `fund_pay_sumamt` both ≤ 0) is
//!   ignored;
//! - refund lines (negative `cnt`) cancel the same visit's lines of the same code (same unit
//!   price first, latest first) before any limit is applied;
//! - days are calendar days of `fee_ocur_time` (local civil time).

use crate::model::*;
use crate::policy::KbPolicy;
use chrono::{NaiveDate, NaiveDateTime};
use medfund_contract::finding::{Category, Finding, Level, Outcome};
use medfund_contract::{CatalogEntry, Code, Fee, Fen, Mdtrt, MedTypeLimit, Price, Qty, Setl};
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// Rule ids of this module's findings (stable: review state attaches to finding ids built from them).
pub const RULE_INSURANCE_TYPE: &str = "kb.insurance_type_limit";
/// Course limit rule id.
pub const RULE_COURSE: &str = "kb.course_limit";
/// Cycle frequency rule id.
pub const RULE_CYCLE: &str = "kb.cycle_frequency";
/// Secondary surgery discount rule id.
pub const RULE_SECONDARY_SURGERY: &str = "kb.secondary_surgery_discount";
/// Timed duplicate pair rule id.
pub const RULE_DUPLICATE_PAIR: &str = "kb.duplicate_pair";
/// Visit type limit with an emergency exception rule id.
pub const RULE_VISIT_TYPE: &str = "kb.visit_type_limit";

/// One rule of this module, for rule listings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    /// Stable rule id (`kb.…`).
    pub rule_id: &'static str,
    /// Finding category.
    pub category: Category,
    /// National two-libraries rule code, where one exists.
    pub nhsa_rule_code: Option<&'static str>,
    /// Chinese name.
    pub name: &'static str,
}

/// The rules evaluated by [`eval_person`].
pub const RULES: &[RuleInfo] = &[
    RuleInfo {
        rule_id: RULE_INSURANCE_TYPE,
        category: Category::InsuranceTypeLimit,
        nhsa_rule_code: Some("GZ10000101001000"),
        name: "限工伤/生育保险支付的药品由基本医疗保险基金结算",
    },
    RuleInfo {
        rule_id: RULE_COURSE,
        category: Category::CourseLimit,
        nhsa_rule_code: Some("GZ10000101010000"),
        name: "超限定支付疗程（药品 GZ10000101010000 / 项目 GZ10000102010000）",
    },
    RuleInfo {
        rule_id: RULE_CYCLE,
        category: Category::CycleFrequency,
        nhsa_rule_code: None,
        name: "周期内超频次收费",
    },
    RuleInfo {
        rule_id: RULE_SECONDARY_SURGERY,
        category: Category::SecondarySurgeryDiscount,
        nhsa_rule_code: Some("GZ10000102002000"),
        name: "同一切口第二及以后手术未按规定折价收费",
    },
    RuleInfo {
        rule_id: RULE_VISIT_TYPE,
        category: Category::MedTypeLimit,
        nhsa_rule_code: Some("GZ10000102009000"),
        name: "限急诊或住院使用的药品在普通门诊由基金支付",
    },
    RuleInfo {
        rule_id: RULE_DUPLICATE_PAIR,
        category: Category::ExclusiveItems,
        nhsa_rule_code: Some("GZ10000102012000"),
        name: "重复收费：主项已含从项（单日/限定小时内）",
    },
];

const NHSA_WORK_INJURY: &str = "GZ10000101001000";
const NHSA_MATERNITY: &str = "GZ10000101002000";
const NHSA_DRUG_COURSE: &str = "GZ10000101010000";
const NHSA_ITEM_COURSE: &str = "GZ10000102010000";
const NHSA_SECONDARY_SURGERY: &str = "GZ10000102002000";
const NHSA_DUPLICATE: &str = "GZ10000102012000";
const NHSA_VISIT_TYPE: &str = "GZ10000102009000";

/// A fee line with the records the evaluations need. Missing context is `None`: a line without
/// its settlement is taken as fund-paid; without its visit, maternity exemption does not apply.
#[derive(Clone, Copy, Debug)]
pub struct LineCtx<'a> {
    /// The fee line.
    pub fee: &'a Fee,
    /// Its visit (`fee.mdtrt_id`).
    pub mdtrt: Option<&'a Mdtrt>,
    /// Its settlement (`fee.setl_id`).
    pub setl: Option<&'a Setl>,
    /// The catalog entry of `fee.med_list_codg` (name, price cap, self-pay class).
    pub catalog: Option<&'a CatalogEntry>,
}

impl LineCtx<'_> {
    fn day(&self) -> NaiveDate {
        self.fee.fee_ocur_time.date()
    }

    /// Whether the pooled fund paid for this line.
    pub fn fund_paid(&self) -> bool {
        if self.catalog.is_some_and(|c| c.chrgitm_lv == Some(3)) {
            return false;
        }
        match self.setl {
            Some(s) => s.hifp_pay.0 > 0 || s.fund_pay_sumamt.is_some_and(|f| f.0 > 0),
            None => true,
        }
    }
}

/// One person's fee lines in time order (`fee_ocur_time`, then `mdtrt_id`, then `feedetl_sn`).
#[derive(Clone, Debug, Default)]
pub struct PersonLines<'a> {
    lines: Vec<LineCtx<'a>>,
}

impl<'a> PersonLines<'a> {
    /// Sorts the lines into time order (the order findings are emitted in).
    pub fn new(mut lines: Vec<LineCtx<'a>>) -> PersonLines<'a> {
        lines.sort_by(|a, b| {
            (a.fee.fee_ocur_time, &a.fee.mdtrt_id, &a.fee.feedetl_sn).cmp(&(
                b.fee.fee_ocur_time,
                &b.fee.mdtrt_id,
                &b.fee.feedetl_sn,
            ))
        });
        PersonLines { lines }
    }

    /// The lines in time order.
    pub fn lines(&self) -> &[LineCtx<'a>] {
        &self.lines
    }
}

/// The knowledge base indexed for evaluation, with the policy it is evaluated under.
#[derive(Clone, Debug, Default)]
pub struct KbIndex {
    /// Evaluation parameters.
    pub policy: KbPolicy,
    points: Vec<KnowledgePoint>,
    insurance: HashMap<Code, usize>,
    visit_type: HashMap<Code, usize>,
    course: HashMap<Code, Vec<usize>>,
    cycle: HashMap<Code, Vec<usize>>,
    surgery: HashMap<Code, Vec<u32>>,
    groups: Vec<(String, usize)>,
    pairs_by_secondary: HashMap<Code, Vec<usize>>,
    pair_mains: HashSet<Code>,
    interval_in_cycle: HashSet<Code>,
}

impl KbIndex {
    /// Indexes the points the evaluations use.
    pub fn new(kb: &KnowledgeBase, policy: &KbPolicy) -> KbIndex {
        let mut ix = KbIndex {
            policy: policy.clone(),
            points: kb.points.clone(),
            ..Default::default()
        };
        let mut group_ids: HashMap<String, u32> = HashMap::new();
        for (i, p) in ix.points.iter().enumerate() {
            let code = p.med_list_codg.clone();
            match &p.limit {
                Limit::InsuranceType { .. } => {
                    ix.insurance.entry(code).or_insert(i);
                }
                Limit::VisitType {
                    emergency_ok: true, ..
                } => {
                    ix.visit_type.entry(code).or_insert(i);
                }
                Limit::DrugCourse(_) | Limit::ItemCourse(_) => {
                    ix.course.entry(code).or_default().push(i)
                }
                // A zero-day cycle (only possible in a hand-edited version file) means nothing.
                Limit::CycleFrequency { cycle_days, .. } if *cycle_days > 0 => {
                    ix.cycle.entry(code).or_default().push(i)
                }
                Limit::SecondarySurgery { group } => {
                    let next = group_ids.len() as u32;
                    let g = *group_ids.entry(group.clone()).or_insert(next);
                    if g as usize == ix.groups.len() {
                        ix.groups.push((group.clone(), i));
                    }
                    let v = ix.surgery.entry(code).or_default();
                    if !v.contains(&g) {
                        v.push(g);
                    }
                }
                Limit::DuplicatePair {
                    secondary, period, ..
                } if *period != Period::SameVisit => {
                    ix.pairs_by_secondary
                        .entry(secondary.clone())
                        .or_default()
                        .push(i);
                    ix.pair_mains.insert(code);
                }
                _ => {}
            }
        }
        // A minimum interval of k days is the same test as "at most once in any k days"; when a
        // cycle point already says so, the interval is left to the cycle rule so one line is not
        // reported (and its amount counted) twice.
        for (code, pts) in &ix.course {
            let interval = pts
                .iter()
                .filter_map(|i| match &ix.points[*i].limit {
                    Limit::DrugCourse(c) | Limit::ItemCourse(c) => c.min_interval_days,
                    _ => None,
                })
                .max();
            if let (Some(k), Some(cy)) = (interval, ix.cycle.get(code)) {
                let covered = cy.iter().any(|i| {
                    matches!(ix.points[*i].limit, Limit::CycleFrequency { max_times: 1, cycle_days } if cycle_days >= k)
                });
                if covered {
                    ix.interval_in_cycle.insert(code.clone());
                }
            }
        }
        ix
    }

    /// Whether any evaluation of this module looks at lines of `code`.
    pub fn concerns(&self, code: &str) -> bool {
        self.insurance.contains_key(code)
            || self.visit_type.contains_key(code)
            || self.course.contains_key(code)
            || self.cycle.contains_key(code)
            || self.surgery.contains_key(code)
            || self.pairs_by_secondary.contains_key(code)
    }

    /// The indexed knowledge points.
    pub fn points(&self) -> &[KnowledgePoint] {
        &self.points
    }

    /// Whether no point feeds any evaluation of this module.
    pub fn is_empty(&self) -> bool {
        self.insurance.is_empty()
            && self.visit_type.is_empty()
            && self.course.is_empty()
            && self.cycle.is_empty()
            && self.surgery.is_empty()
            && self.pairs_by_secondary.is_empty()
    }
}

/// Runs every evaluation of this module over one person's lines.
pub fn eval_person(ix: &KbIndex, person: &PersonLines<'_>, out: &mut Vec<Finding>) {
    // Most people have no line with a code of these rules: one pass decides.
    if !person
        .lines()
        .iter()
        .any(|l| ix.concerns(&l.fee.med_list_codg))
    {
        return;
    }
    insurance_type_limit(ix, person, out);
    course_limit(ix, person, out);
    cycle_frequency(ix, person, out);
    secondary_surgery_discount(ix, person, out);
    duplicate_pairs(ix, person, out);
    visit_type_limit(ix, person, out);
}

/// A fund-paid line after refunds: index into the person's lines, remaining quantity and amount.
#[derive(Clone, Copy, Debug)]
struct Eff {
    i: usize,
    qty: Qty,
    amount: Fen,
}

/// The fund-paid positive lines whose code passes `want`, net of refunds.
fn effective(lines: &[LineCtx<'_>], want: impl Fn(&str) -> bool) -> Vec<Eff> {
    let mut eff: Vec<Eff> = Vec::new();
    let mut refunds = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if !want(&l.fee.med_list_codg) {
            continue;
        }
        if l.fee.cnt.0 < 0 {
            refunds.push(i);
        } else if l.fee.cnt.0 > 0 && l.fund_paid() {
            eff.push(Eff {
                i,
                qty: l.fee.cnt,
                amount: l.fee.det_item_fee_sumamt,
            });
        }
    }
    for r in refunds {
        let rf = lines[r].fee;
        let mut left = -rf.cnt.0;
        for same_price in [true, false] {
            for e in eff.iter_mut().rev() {
                if left == 0 {
                    break;
                }
                let f = lines[e.i].fee;
                if e.qty.0 == 0 || f.mdtrt_id != rf.mdtrt_id || f.med_list_codg != rf.med_list_codg
                {
                    continue;
                }
                if same_price && f.pric != rf.pric {
                    continue;
                }
                let take = left.min(e.qty.0);
                e.qty.0 -= take;
                left -= take;
                e.amount = if e.qty.0 == 0 {
                    Fen::ZERO
                } else {
                    e.qty.times(f.pric).min(f.det_item_fee_sumamt)
                };
            }
        }
    }
    eff.retain(|e| e.qty.0 > 0);
    eff
}

/// A finding about one line with the contract's keys filled.
#[allow(clippy::too_many_arguments)]
fn line_finding(
    l: &LineCtx<'_>,
    rule_id: &str,
    category: Category,
    nhsa: Option<&str>,
    result: Outcome,
    severity: u8,
    amount: Fen,
    text: String,
    details: serde_json::Value,
) -> Finding {
    let f = l.fee;
    let mut x = Finding::new(rule_id, category, Level::Fee);
    x.nhsa_rule_code = nhsa.map(str::to_string);
    x.result = result;
    x.severity = severity;
    x.setl_id = Some(f.setl_id.clone());
    x.mdtrt_id = Some(f.mdtrt_id.clone());
    x.feedetl_sn = Some(f.feedetl_sn.clone());
    x.psn_no = Some(f.psn_no.clone());
    x.fixmedins_code = Some(f.fixmedins_code.clone());
    x.pract_code = f
        .bilg_dr_codg
        .clone()
        .or_else(|| l.mdtrt.and_then(|m| m.atddr_no.clone()));
    x.med_list_codg = Some(f.med_list_codg.clone());
    x.amount = Some(amount);
    x.evidence.text = text;
    x.evidence.details = details;
    x.seal();
    x
}

fn point_json(p: &KnowledgePoint) -> serde_json::Value {
    json!({ "knowledge_point": p.id, "batch": p.batch, "limit": p.limit, "limit_text": p.limit.describe() })
}

fn item_name<'a>(l: &'a LineCtx<'_>, p: &'a KnowledgePoint) -> &'a str {
    l.catalog
        .map(|c| c.med_list_name.as_str())
        .filter(|n| !n.is_empty())
        .unwrap_or(&p.name)
}

/// `insurance_type_limit`: a code payable only by work-injury or maternity insurance, settled by
/// the basic medical fund. Maternity-limited codes are exempt in maternity visits (med_type 51/52);
/// every other fund-paid line is a violation with its whole amount.
pub fn insurance_type_limit(ix: &KbIndex, person: &PersonLines<'_>, out: &mut Vec<Finding>) {
    if ix.insurance.is_empty() {
        return;
    }
    let lines = person.lines();
    for e in effective(lines, |c| ix.insurance.contains_key(c)) {
        let l = &lines[e.i];
        let p = &ix.points[ix.insurance[&l.fee.med_list_codg]];
        let Limit::InsuranceType { kind } = p.limit else {
            continue;
        };
        let med_type = l.mdtrt.map(|m| m.med_type.as_str()).unwrap_or("");
        if kind == InsuranceKind::Maternity && matches!(med_type, "51" | "52") {
            continue;
        }
        let name = item_name(l, p);
        let text = format!(
            "该药品限{}保险支付，本次由基本医疗保险基金结算：{name}({})，{}，医疗类别 {}，金额 {} 元。依据国家知识点 {}（{}）。",
            kind.zh(),
            l.fee.med_list_codg,
            l.fee.fee_ocur_time.format("%Y-%m-%d"),
            if med_type.is_empty() { "未知" } else { med_type },
            e.amount,
            p.id,
            p.batch
        );
        let mut d = point_json(p);
        d["observed"] =
            json!({ "med_type": med_type, "amount": e.amount, "setl_id": l.fee.setl_id });
        let nhsa = match kind {
            InsuranceKind::WorkInjury => NHSA_WORK_INJURY,
            InsuranceKind::Maternity => NHSA_MATERNITY,
        };
        out.push(line_finding(
            l,
            RULE_INSURANCE_TYPE,
            Category::InsuranceTypeLimit,
            Some(nhsa),
            Outcome::Violation,
            3,
            e.amount,
            text,
            d,
        ));
    }
}

/// `course_limit`: the fund paying a code beyond its course, or sooner than its minimum interval.
///
/// Courses are counted per person (per visit when the point says 单次住院). A course starts at
/// the first fund-paid line of the code and ends when the code is not charged for more than
/// `policy.course_gap_days` days. With [`CourseBasis::FeeDays`] the lines of the (N+1)-th
/// distinct charge day and later are flagged; with [`CourseBasis::Elapsed`] the lines more than
/// N−1 days after the course's first day. A line on a day less than `min_interval_days` after
/// the previous paid service is flagged too (unless a cycle point covers the same test). The
/// amount is the line's fund-paid amount. Courses split by the gap heuristic are reported as
/// suspect; per-stay courses as violations.
pub fn course_limit(ix: &KbIndex, person: &PersonLines<'_>, out: &mut Vec<Finding>) {
    if ix.course.is_empty() {
        return;
    }
    let lines = person.lines();
    let eff = effective(lines, |c| ix.course.contains_key(c));
    if eff.is_empty() {
        return;
    }
    let mut flagged: HashSet<usize> = HashSet::new();
    let mut by_code: HashMap<&str, Vec<Eff>> = HashMap::new();
    for e in &eff {
        by_code
            .entry(lines[e.i].fee.med_list_codg.as_str())
            .or_default()
            .push(*e);
    }
    let mut codes: Vec<&str> = by_code.keys().copied().collect();
    codes.sort_unstable();
    let mut found: Vec<(usize, Finding)> = Vec::new();
    for code in codes {
        let effs = &by_code[code];
        for &pi in &ix.course[code] {
            let p = &ix.points[pi];
            let (course, drug) = match &p.limit {
                Limit::DrugCourse(c) => (c, true),
                Limit::ItemCourse(c) => (c, false),
                _ => continue,
            };
            let check_interval = course
                .min_interval_days
                .filter(|_| !ix.interval_in_cycle.contains(code));
            // Scope: the person, or each visit for per-stay courses.
            let mut scopes: Vec<(&str, Vec<Eff>)> = Vec::new();
            for e in effs {
                let key = if course.per_stay {
                    lines[e.i].fee.mdtrt_id.as_str()
                } else {
                    ""
                };
                match scopes.iter_mut().find(|s| s.0 == key) {
                    Some(s) => s.1.push(*e),
                    None => scopes.push((key, vec![*e])),
                }
            }
            for (_, scope) in scopes {
                let mut start: Option<NaiveDate> = None;
                let mut last_day: Option<NaiveDate> = None;
                let mut fee_days = 0u32;
                let mut last_paid: Option<NaiveDate> = None;
                for e in scope {
                    let l = &lines[e.i];
                    let day = l.day();
                    let new_course = match last_day {
                        None => true,
                        Some(ld) => {
                            !course.per_stay
                                && (day - ld).num_days() > ix.policy.course_gap_days as i64
                        }
                    };
                    if new_course {
                        start = Some(day);
                        fee_days = 0;
                        last_paid = None;
                    }
                    if last_day != Some(day) || new_course {
                        fee_days += 1;
                    }
                    last_day = Some(day);
                    let start_day = start.expect("set on the first line");
                    let elapsed = (day - start_day).num_days() + 1;
                    let beyond = match course.basis {
                        CourseBasis::FeeDays => fee_days > course.max_days,
                        CourseBasis::Elapsed => elapsed > course.max_days as i64,
                    };
                    let too_soon = match (check_interval, last_paid) {
                        (Some(k), Some(prev)) => (day - prev).num_days() < k as i64,
                        _ => false,
                    };
                    if !too_soon {
                        last_paid = Some(day);
                    }
                    if !(beyond || too_soon) || flagged.contains(&e.i) {
                        continue;
                    }
                    flagged.insert(e.i);
                    let name = item_name(l, p);
                    let what = if drug { "该药品" } else { "该项目" };
                    let text = if beyond {
                        let observed = match course.basis {
                            CourseBasis::FeeDays => {
                                format!("本疗程（自 {start_day} 起）第 {fee_days} 个收费日")
                            }
                            CourseBasis::Elapsed => {
                                format!("本疗程自 {start_day} 起第 {elapsed} 天")
                            }
                        };
                        format!(
                            "{what}{}，{name}({code}) 于 {day} 由基金支付属{observed}，超出限定，本行金额 {} 元。依据国家知识点 {}（{}）。",
                            course.describe(),
                            e.amount,
                            p.id,
                            p.batch
                        )
                    } else {
                        let prev = last_paid.expect("too_soon needs a previous day");
                        format!(
                            "{what}两次支付间隔不得短于 {} 天，{name}({code}) 于 {day} 收费，距上次 {prev} 仅 {} 天，本行金额 {} 元。依据国家知识点 {}（{}）。",
                            check_interval.unwrap_or(0),
                            (day - prev).num_days(),
                            e.amount,
                            p.id,
                            p.batch
                        )
                    };
                    let mut d = point_json(p);
                    d["observed"] = json!({
                        "course_start": start_day.to_string(),
                        "fee_day": day.to_string(),
                        "fee_days_in_course": fee_days,
                        "elapsed_days": elapsed,
                        "beyond_course": beyond,
                        "interval_too_short": too_soon,
                        "previous_paid_day": last_paid.map(|d| d.to_string()),
                    });
                    let result = if beyond && !course.per_stay {
                        Outcome::Suspect
                    } else {
                        Outcome::Violation
                    };
                    let nhsa = if drug {
                        NHSA_DRUG_COURSE
                    } else {
                        NHSA_ITEM_COURSE
                    };
                    found.push((
                        e.i,
                        line_finding(
                            l,
                            RULE_COURSE,
                            Category::CourseLimit,
                            Some(nhsa),
                            result,
                            2,
                            e.amount,
                            text,
                            d,
                        ),
                    ));
                }
            }
        }
    }
    found.sort_by_key(|f| f.0);
    out.extend(found.into_iter().map(|f| f.1));
}

/// `cycle_frequency`: more than N services of a code within any M consecutive days
/// (a rolling window: the day itself and the M−1 days before). Services are counted by `cnt`;
/// the line that crosses N is flagged with the amount of its units above N (whole amount when
/// all its units are above), and flagged units do not count for later windows.
pub fn cycle_frequency(ix: &KbIndex, person: &PersonLines<'_>, out: &mut Vec<Finding>) {
    if ix.cycle.is_empty() {
        return;
    }
    let lines = person.lines();
    let eff = effective(lines, |c| ix.cycle.contains_key(c));
    if eff.is_empty() {
        return;
    }
    let mut flagged: HashSet<usize> = HashSet::new();
    let mut found: Vec<(usize, Finding)> = Vec::new();
    let mut codes: Vec<&str> = eff
        .iter()
        .map(|e| lines[e.i].fee.med_list_codg.as_str())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    for code in codes {
        for &pi in &ix.cycle[code] {
            let p = &ix.points[pi];
            let Limit::CycleFrequency {
                max_times,
                cycle_days,
            } = p.limit
            else {
                continue;
            };
            let cap = Qty::from_units(max_times as i64);
            // Accepted (paid within the limit) units: (day, qty).
            let mut accepted: Vec<(NaiveDate, Qty)> = Vec::new();
            for e in eff.iter().filter(|e| lines[e.i].fee.med_list_codg == code) {
                let l = &lines[e.i];
                let day = l.day();
                let first = day - chrono::Days::new(cycle_days as u64 - 1);
                // Lines come in time order, so what falls out of this window never returns.
                accepted.retain(|(d, _)| *d >= first);
                let in_window = accepted.clone();
                let used = Qty(in_window.iter().map(|(_, q)| q.0).sum());
                let total = Qty(used.0 + e.qty.0);
                if total.0 <= cap.0 {
                    accepted.push((day, e.qty));
                    continue;
                }
                let excess = Qty((total.0 - cap.0).min(e.qty.0));
                let ok = Qty(e.qty.0 - excess.0);
                if ok.0 > 0 {
                    accepted.push((day, ok));
                }
                if !flagged.insert(e.i) {
                    continue;
                }
                let amount = if excess == e.qty {
                    e.amount
                } else {
                    excess.times(l.fee.pric).min(e.amount)
                };
                let earlier: Vec<String> = {
                    let mut v: Vec<String> = in_window.iter().map(|(d, _)| d.to_string()).collect();
                    v.dedup();
                    v
                };
                let name = item_name(l, p);
                let text = format!(
                    "{name}({code}) {cycle_days} 天内最多支付 {max_times} 次，{first} 至 {day} 已支付 {used} 次（{}），本次 {} 次超出 {excess} 次，金额 {amount} 元。依据国家知识点 {}（{}）。",
                    if earlier.is_empty() { "同日".to_string() } else { earlier.join("、") },
                    e.qty,
                    p.id,
                    p.batch
                );
                let mut d = point_json(p);
                d["observed"] = json!({
                    "window_start": first.to_string(),
                    "fee_day": day.to_string(),
                    "paid_in_window_before": used,
                    "this_line": e.qty,
                    "excess": excess,
                    "earlier_days": earlier,
                });
                found.push((
                    e.i,
                    line_finding(
                        l,
                        RULE_CYCLE,
                        Category::CycleFrequency,
                        None,
                        Outcome::Violation,
                        2,
                        amount,
                        text,
                        d,
                    ),
                ));
            }
        }
    }
    found.sort_by_key(|f| f.0);
    out.extend(found.into_iter().map(|f| f.1));
}

/// `secondary_surgery_discount`: in one visit on one day, operations sharing a surgery group
/// (joined transitively when a code belongs to several groups) are taken as performed through
/// the same incision. The one with the highest full price is the main operation; each other
/// line must not be charged more than `policy.secondary_surgery_pct`% of its full price per
/// operation (`cnt` below 1, a half-quantity billing, counts as one operation). The full price
/// is the catalog price cap (`pric_uplmt_amt`) when known, else the line's own unit price.
/// Amount = charged − allowed. Suspect: the incision itself is not in the data.
pub fn secondary_surgery_discount(ix: &KbIndex, person: &PersonLines<'_>, out: &mut Vec<Finding>) {
    if ix.surgery.is_empty() {
        return;
    }
    let lines = person.lines();
    let eff = effective(lines, |c| ix.surgery.contains_key(c));
    if eff.len() < 2 {
        return;
    }
    let mut by_visit_day: Vec<((&str, NaiveDate), Vec<Eff>)> = Vec::new();
    for e in &eff {
        let l = &lines[e.i];
        let key = (l.fee.mdtrt_id.as_str(), l.day());
        match by_visit_day.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push(*e),
            None => by_visit_day.push((key, vec![*e])),
        }
    }
    let pct = ix.policy.secondary_surgery_pct as i64;
    for (_, ops) in by_visit_day.into_iter().filter(|g| g.1.len() >= 2) {
        // Union the operations that share a group.
        let n = ops.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn root(p: &mut [usize], mut x: usize) -> usize {
            while p[x] != x {
                p[x] = p[p[x]];
                x = p[x];
            }
            x
        }
        let groups_of = |e: &Eff| &ix.surgery[&lines[e.i].fee.med_list_codg];
        for a in 0..n {
            for b in a + 1..n {
                if groups_of(&ops[a])
                    .iter()
                    .any(|g| groups_of(&ops[b]).contains(g))
                {
                    let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                    parent[ra] = rb;
                }
            }
        }
        let mut clusters: HashMap<usize, Vec<usize>> = HashMap::new();
        for a in 0..n {
            let r = root(&mut parent, a);
            clusters.entry(r).or_default().push(a);
        }
        let mut cl: Vec<Vec<usize>> = clusters.into_values().filter(|c| c.len() >= 2).collect();
        cl.sort();
        for members in cl {
            let full = |k: usize| -> (Price, bool) {
                let l = &lines[ops[k].i];
                match l.catalog.and_then(|c| c.pric_uplmt_amt) {
                    Some(cap) => (cap, true),
                    None => (l.fee.pric, false),
                }
            };
            // Main: highest full price; ties go to the earliest line.
            let main = *members
                .iter()
                .max_by(|a, b| full(**a).0.cmp(&full(**b).0).then(b.cmp(a)))
                .expect("cluster has members");
            let main_line = &lines[ops[main].i];
            let shared: Vec<String> = {
                let mut g: Vec<u32> = members
                    .iter()
                    .flat_map(|m| groups_of(&ops[*m]).iter().copied())
                    .collect();
                g.sort_unstable();
                g.dedup();
                g.into_iter()
                    .filter(|g| {
                        members
                            .iter()
                            .filter(|m| groups_of(&ops[**m]).contains(g))
                            .count()
                            >= 2
                    })
                    .map(|g| ix.groups[g as usize].0.clone())
                    .collect()
            };
            for &k in members.iter().filter(|k| **k != main) {
                let e = ops[k];
                let l = &lines[e.i];
                let (full_price, from_cap) = full(k);
                let ops_count = if e.qty.0 < Qty::ONE {
                    Qty::from_units(1)
                } else {
                    e.qty
                };
                let allowed = ops_count.times(full_price).mul_ratio(pct, 100);
                let over = e.amount - allowed;
                if over.0 <= 0 {
                    continue;
                }
                let g0 = groups_of(&e)[0];
                let p = &ix.points[ix.groups[g0 as usize].1];
                let point = ix
                    .points
                    .iter()
                    .find(|q| {
                        q.med_list_codg == l.fee.med_list_codg
                            && matches!(&q.limit, Limit::SecondarySurgery { group } if shared.contains(group))
                    })
                    .unwrap_or(p);
                let name = item_name(l, point);
                let main_name = main_line
                    .catalog
                    .map(|c| c.med_list_name.as_str())
                    .filter(|s| !s.is_empty())
                    .unwrap_or(
                        ix.points
                            .iter()
                            .find(|q| q.med_list_codg == main_line.fee.med_list_codg)
                            .map(|q| q.name.as_str())
                            .unwrap_or(""),
                    );
                let text = format!(
                    "同一次就诊 {} 同日施行同属{}的手术 {} 项，主手术为 {main_name}({})；{name}({}) 为第二及以后手术，应按 {pct}% 折价收费，全价 {full_price} 元（{}），应收不超过 {allowed} 元，实收 {} 元，多收 {over} 元。依据国家知识点 {}（{}）。",
                    l.day(),
                    shared.join("、"),
                    members.len(),
                    main_line.fee.med_list_codg,
                    l.fee.med_list_codg,
                    if from_cap { "目录限价" } else { "本行单价" },
                    e.amount,
                    point.id,
                    point.batch
                );
                let mut d = point_json(point);
                d["observed"] = json!({
                    "groups": shared,
                    "main_feedetl_sn": main_line.fee.feedetl_sn,
                    "main_med_list_codg": main_line.fee.med_list_codg,
                    "operations": members.len(),
                    "full_price": full_price,
                    "full_price_source": if from_cap { "pric_uplmt_amt" } else { "pric" },
                    "discount_pct": pct,
                    "allowed": allowed,
                    "charged": e.amount,
                });
                out.push(line_finding(
                    l,
                    RULE_SECONDARY_SURGERY,
                    Category::SecondarySurgeryDiscount,
                    Some(NHSA_SECONDARY_SURGERY),
                    Outcome::Suspect,
                    2,
                    over,
                    text,
                    d,
                ));
            }
        }
    }
}

/// Timed duplicate pairs (batch 7 重复收费 with 频度 单日 / N小时 / 同一小时): a secondary item
/// (从项) charged at the same institution as its main item (主项), on the same calendar day
/// (单日) or with fee times at most N hours apart. The secondary line is flagged with its
/// amount (the main item's price includes it). Pairs whose period is one visit (单次就诊) are
/// not evaluated here: they become `excl_codes` of the catalog for the engine's
/// `exclusive_items` rule.
pub fn duplicate_pairs(ix: &KbIndex, person: &PersonLines<'_>, out: &mut Vec<Finding>) {
    if ix.pairs_by_secondary.is_empty() {
        return;
    }
    let lines = person.lines();
    let eff = effective(lines, |c| {
        ix.pairs_by_secondary.contains_key(c) || ix.pair_mains.contains(c)
    });
    if eff.len() < 2 {
        return;
    }
    let mut mains: HashMap<&str, Vec<Eff>> = HashMap::new();
    for e in &eff {
        let code = lines[e.i].fee.med_list_codg.as_str();
        if ix.pair_mains.contains(code) {
            mains.entry(code).or_default().push(*e);
        }
    }
    for e in &eff {
        let l = &lines[e.i];
        let Some(pts) = ix.pairs_by_secondary.get(&l.fee.med_list_codg) else {
            continue;
        };
        let hit = pts.iter().find_map(|&pi| {
            let p = &ix.points[pi];
            let Limit::DuplicatePair { period, .. } = p.limit else {
                return None;
            };
            let m = mains.get(p.med_list_codg.as_str())?.iter().find(|m| {
                let ml = &lines[m.i];
                if m.i == e.i || ml.fee.fixmedins_code != l.fee.fixmedins_code {
                    return false;
                }
                match period {
                    Period::SameDay => ml.day() == l.day(),
                    Period::Hours(h) => {
                        (ml.fee.fee_ocur_time - l.fee.fee_ocur_time)
                            .num_seconds()
                            .abs()
                            <= h as i64 * 3600
                    }
                    Period::SameVisit => false,
                }
            })?;
            Some((p, *m, period))
        });
        let Some((p, m, period)) = hit else { continue };
        let ml = &lines[m.i];
        let Limit::DuplicatePair { secondary_name, .. } = &p.limit else {
            continue;
        };
        let sec_name = l
            .catalog
            .map(|c| c.med_list_name.as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or(secondary_name);
        let text = format!(
            "重复收费：主项 {}({}) 已包含 {sec_name}({})，{}内不得另行收费；主项收费时间 {}，从项收费时间 {}，从项金额 {} 元。依据国家知识点 {}（{}）。",
            p.name,
            p.med_list_codg,
            l.fee.med_list_codg,
            period.zh(),
            fmt_time(ml.fee.fee_ocur_time),
            fmt_time(l.fee.fee_ocur_time),
            e.amount,
            p.id,
            p.batch
        );
        let mut d = point_json(p);
        d["observed"] = json!({
            "main_feedetl_sn": ml.fee.feedetl_sn,
            "main_mdtrt_id": ml.fee.mdtrt_id,
            "main_time": fmt_time(ml.fee.fee_ocur_time),
            "secondary_time": fmt_time(l.fee.fee_ocur_time),
        });
        out.push(line_finding(
            l,
            RULE_DUPLICATE_PAIR,
            Category::ExclusiveItems,
            Some(NHSA_DUPLICATE),
            Outcome::Violation,
            2,
            e.amount,
            text,
            d,
        ));
    }
}

fn fmt_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `med_type_limit` for the visit-type points the catalog cannot express: an inpatient-only code
/// that also admits emergency visits (安宫牛黄丸: 限急诊或住院患者) is flagged in a fund-paid line
/// of a visit that is neither inpatient nor an emergency (med_type 13 or emer_flag); an
/// outpatient-only one with the same exception, in a non-emergency inpatient stay. Lines whose
/// visit is unknown are skipped. Amount = the line's amount.
pub fn visit_type_limit(ix: &KbIndex, person: &PersonLines<'_>, out: &mut Vec<Finding>) {
    if ix.visit_type.is_empty() {
        return;
    }
    let lines = person.lines();
    for e in effective(lines, |c| ix.visit_type.contains_key(c)) {
        let l = &lines[e.i];
        let Some(m) = l.mdtrt else { continue };
        let p = &ix.points[ix.visit_type[&l.fee.med_list_codg]];
        let Limit::VisitType { med_type, .. } = p.limit else {
            continue;
        };
        let fits = match med_type {
            MedTypeLimit::Ipt => m.is_inpatient(),
            MedTypeLimit::Opt => !m.is_inpatient(),
        };
        if fits || m.is_emergency() {
            continue;
        }
        let name = item_name(l, p);
        let text = format!(
            "该药品{}，本次为非急诊{}（医疗类别 {}）却由基金支付：{name}({})，{}，金额 {} 元。依据国家知识点 {}（{}）。",
            p.limit.describe(),
            if m.is_inpatient() { "住院" } else { "门诊" },
            m.med_type,
            l.fee.med_list_codg,
            l.fee.fee_ocur_time.format("%Y-%m-%d"),
            e.amount,
            p.id,
            p.batch
        );
        let mut d = point_json(p);
        d["observed"] = json!({ "med_type": m.med_type, "emer_flag": m.emer_flag });
        out.push(line_finding(
            l,
            RULE_VISIT_TYPE,
            Category::MedTypeLimit,
            Some(NHSA_VISIT_TYPE),
            Outcome::Violation,
            2,
            e.amount,
            text,
            d,
        ));
    }
}
