//! The per-person pass: every check whose data lies within one insured person — line rules,
//! visit passes (duplicates, pairs, packages, quantities, bed days, identity) and person passes
//! (daily quantities, readmissions, presence, concurrent visits, multi-source drugs, distant card
//! use, prescriptions, knowledge-base courses and cycles). The batch audit partitions the work by
//! person and runs this in parallel; the online pre-check runs it on one person's history plus
//! the new visit. It is pure: plain values in, findings out.

use crate::evidence::{fee_finding, item_label, level_zh, list_more, visit_finding};
use crate::fees::LineFee;
use crate::know::{self, Knowledge};
use crate::rules::{IdentityForm, PairPeriod, Rule, Template};
use ahash::{AHashMap, AHashSet};
use chrono::NaiveDate;
use medfund_contract::records::{
    CatalogEntry, Fixmedins, Gender, Idv, Mdtrt, MedTypeLimit, Psn, Rx, Setl,
};
use medfund_contract::time::{age_on, format_datetime};
use medfund_contract::{Code, Fen, Finding, Price, Qty};
use rayon::slice::ParallelSliceMut;
use serde_json::json;
use std::cmp::Ordering;

/// One fee line with its catalog entry resolved.
#[derive(Clone, Copy)]
pub(crate) struct Line<'a> {
    pub f: LineFee<'a>,
    pub cat: Option<&'a CatalogEntry>,
    /// Catalog index of `cat` (meaningless when `cat` is `None`).
    pub ci: u32,
    pub day: NaiveDate,
}

/// One visit with its institution, further diagnoses and lines sorted by (time, serial).
pub(crate) struct Visit<'a> {
    pub m: &'a Mdtrt,
    pub inst: Option<&'a Fixmedins>,
    /// Further diagnoses (the main one is `m.diag_code`).
    pub diags: &'a [&'a str],
    /// Sorted by (time, serial).
    pub lines: &'a [Line<'a>],
    /// Settlements of the visit (the national evaluations skip lines the fund did not pay).
    pub setls: &'a [&'a Setl],
    /// Findings about this visit are reported (false for history in the pre-check).
    pub report: bool,
}

/// One person's data.
pub(crate) struct Case<'a> {
    pub psn_no: &'a str,
    pub psn: Option<&'a Psn>,
    /// Sorted by (begntime, mdtrt_id).
    pub visits: Vec<Visit<'a>>,
    pub idv: Vec<&'a Idv>,
}

/// Prescription lines grouped by prescription number, in their given order within a number (a
/// batch's, or one person's history for the pre-check): one sorted vector and a map to ranges of
/// it, rather than a vector per prescription (hundreds of thousands of small allocations for a
/// city's month).
pub(crate) struct RxIndex<'a> {
    rows: Vec<&'a Rx>,
    at: AHashMap<&'a str, (u32, u32)>,
}

impl<'a> RxIndex<'a> {
    pub fn new(rx: &'a [Rx]) -> Self {
        let mut rows: Vec<&Rx> = rx.iter().collect();
        // Stable: lines of one prescription keep their order.
        rows.par_sort_by(|a, b| a.hi_rxno.cmp(&b.hi_rxno));
        let mut at = AHashMap::new();
        let mut s = 0;
        for g in rows.chunk_by(|a, b| a.hi_rxno == b.hi_rxno) {
            at.insert(g[0].hi_rxno.as_str(), (s as u32, (s + g.len()) as u32));
            s += g.len();
        }
        RxIndex { rows, at }
    }

    /// Every prescription line of a prescription number.
    pub fn lines(&self, hi_rxno: &str) -> &[&'a Rx] {
        match self.at.get(hi_rxno) {
            Some(&(s, e)) => &self.rows[s as usize..e as usize],
            None => &[],
        }
    }
}

/// Orders feedetl_sn values numerically when both are digits (the national serial is a number),
/// otherwise as text.
pub(crate) fn sn_cmp(a: &str, b: &str) -> Ordering {
    // Equal lengths: byte order is numeric order for digits too (the common, cheap case).
    if a.len() == b.len() {
        return a.cmp(b);
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if digits(a) && digits(b) {
        let a = a.trim_start_matches('0');
        let b = b.trim_start_matches('0');
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    } else {
        a.cmp(b)
    }
}

/// Line order within a person: fee time, then serial, then visit id (serials repeat across visits).
pub(crate) fn fee_cmp(a: &LineFee, b: &LineFee) -> Ordering {
    a.fee_ocur_time
        .cmp(&b.fee_ocur_time)
        .then_with(|| sn_cmp(a.feedetl_sn, b.feedetl_sn))
        .then_with(|| a.mdtrt_id.cmp(b.mdtrt_id))
}

/// A visit's scenario and the rule's effective dates both allow checking it on `day`.
fn applies(k: &Knowledge, r: &Rule, c: &Case, v: &Visit, day: NaiveDate) -> bool {
    r.in_force(day) && k.scenario_ok(r.scenario, v.m, v.inst, c.psn)
}

fn code_ok(r: &Rule, l: &Line) -> bool {
    r.codes
        .matches(l.f.med_list_codg, l.cat.map(|e| e.list_type))
}

/// Runs every check of one person and appends the findings to `out`.
pub(crate) fn check_person(k: &Knowledge, c: &Case, rx: &RxIndex, out: &mut Vec<Finding>) {
    for v in &c.visits {
        if v.report {
            line_rules(k, c, v, out);
            if k.has(Template::Duplicate) {
                duplicates(k, c, v, out);
            }
            if k.has(Template::ExclusivePair) {
                exclusive(k, c, v, out);
            }
            if k.has(Template::Package) {
                packages(k, c, v, out);
            }
            if k.has(Template::BedDays) {
                bed_days(k, c, v, out);
            }
            if k.has(Template::Identity) {
                failed_verification(k, c, v, out);
            }
        }
    }
    if k.has(Template::Frequency) {
        frequency(k, c, out);
    }
    if k.has(Template::Readmission) {
        readmission(k, c, out);
    }
    if k.has(Template::Presence) {
        presence(k, c, out);
    }
    if k.has(Template::Concurrent) {
        concurrent(k, c, out);
    }
    if k.has(Template::MultiSource) {
        multi_source(k, c, out);
    }
    if k.has(Template::Identity) {
        distant_places(k, c, out);
    }
    if k.has(Template::Prescription) {
        prescriptions(k, c, rx, out);
    }
    if k.kb.is_some() {
        crate::kbrules::check_person(k, c, out);
    }
}

// ---------------------------------------------------------------------------------------------
// Line rules

fn line_rules(k: &Knowledge, c: &Case, v: &Visit, out: &mut Vec<Finding>) {
    let check_susp = !k.susp.is_empty() && k.has(Template::Suspension) && !k.is_emergency(v.m);
    for l in v.lines {
        // Refund lines (negative quantity) reverse a charge: nothing to flag on them.
        if l.f.cnt.0 <= 0 {
            continue;
        }
        let idx: &[u16] = match l.cat {
            Some(_) => &k.line_by_code[l.ci as usize],
            None => &k.line_uncat,
        };
        for &ri in idx {
            let r = &k.rules[ri as usize];
            if l.cat.is_none() && !code_ok(r, l) {
                continue;
            }
            if !applies(k, r, c, v, l.day) {
                continue;
            }
            line_rule(r, c, v, l, out);
        }
        if check_susp {
            suspension(k, c, v, l, out);
        }
    }
}

fn line_rule(r: &Rule, c: &Case, v: &Visit, l: &Line, out: &mut Vec<Finding>) {
    let f = l.f;
    let item = crate::evidence::ItemLabel(l);
    let amt = f.det_item_fee_sumamt;
    match r.template {
        Template::Gender => {
            let (Some(lim), Some(p)) = (know::gender_limit(r, l.cat), c.psn) else {
                return;
            };
            if p.gend == Gender::Unknown || p.gend == lim {
                return;
            }
            let text = format!(
                "患者{}，项目限{}性使用：{item}，{} 收费 {amt} 元，应拒付。",
                p.gend.zh(),
                lim.zh(),
                format_datetime(f.fee_ocur_time)
            );
            let d = json!({"gend": p.gend.code(), "lmt_gend": lim.code()});
            out.push(fee_finding(r, v, f, Some(amt), text, d));
        }
        Template::Age => {
            let Some(p) = c.psn else { return };
            let (min, max) = know::age_limit(r, l.cat);
            let age = age_on(p.brdy, l.day);
            let below = min.is_some_and(|m| age < m as i32);
            let above = max.is_some_and(|m| age > m as i32);
            if !(below || above) {
                return;
            }
            let range = match (min, max) {
                (Some(a), Some(b)) => format!("{a}–{b} 岁"),
                (Some(a), None) => format!("{a} 岁及以上"),
                (None, Some(b)) => format!("{b} 岁及以下"),
                (None, None) => String::new(),
            };
            let text = format!(
                "患者服务日（{}）年龄 {age} 周岁（出生 {}），项目限 {range} 使用：{item}，收费 {amt} 元，应拒付。",
                l.day, p.brdy
            );
            let d = json!({"age": age, "brdy": p.brdy.to_string(), "service_date": l.day.to_string(),
                           "lmt_age_min": min, "lmt_age_max": max});
            out.push(fee_finding(r, v, f, Some(amt), text, d));
        }
        Template::HospLevel => {
            let (Some(lim), Some(lv)) =
                (know::level_limit(r, l.cat), v.inst.and_then(|i| i.hosp_lv))
            else {
                return;
            };
            if lv <= lim {
                return;
            }
            let text = format!(
                "机构等级为{}（hosp_lv={lv}），项目限{}及以上医疗机构使用：{item}，收费 {amt} 元，应拒付。",
                level_zh(lv),
                level_zh(lim)
            );
            let d = json!({"hosp_lv": lv, "lmt_hosp_lv": lim});
            out.push(fee_finding(r, v, f, Some(amt), text, d));
        }
        Template::MedType => {
            let Some(lim) = know::med_type_limit(r, l.cat) else {
                return;
            };
            let ipt = v.m.is_inpatient();
            let (bad, text) = match lim {
                MedTypeLimit::Ipt if !ipt => (true, "项目限住院使用，却在门诊就诊"),
                MedTypeLimit::Opt if ipt => (true, "项目限门诊使用，却在住院期间"),
                _ => (false, ""),
            };
            if !bad {
                return;
            }
            let text = format!(
                "{text}（就诊类型 {}）收费：{item}，{amt} 元，应拒付。",
                v.m.med_type
            );
            let d = json!({"med_type": v.m.med_type.as_str(),
                           "lmt_med_type": if lim == MedTypeLimit::Ipt { "ipt" } else { "opt" }});
            out.push(fee_finding(r, v, f, Some(amt), text, d));
        }
        Template::Indication => {
            let prefixes = know::dise_limit(r, l.cat);
            if prefixes.is_empty() {
                return;
            }
            let main = v.m.diag_code.as_str();
            let matched = std::iter::once(main)
                .chain(v.diags.iter().copied())
                .any(|d| prefixes.iter().any(|p| d.starts_with(p.as_str())));
            if matched {
                return;
            }
            let mut ds: Vec<&str> = vec![main];
            ds.extend(v.diags.iter().copied());
            let text = format!(
                "就诊诊断 {} 均不符合项目限定适应症（{}）：{item}，收费 {amt} 元，请核实病历。",
                ds.join("、"),
                prefixes
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join("、")
            );
            let d = json!({"diagnoses": ds, "lmt_dise": prefixes});
            out.push(fee_finding(r, v, f, Some(amt), text, d));
        }
        Template::Price => {
            let Some(cap) = know::price_limit(r, l.cat) else {
                return;
            };
            if f.pric <= cap {
                return;
            }
            let excess = f.cnt.times(Price(f.pric.0 - cap.0));
            let text = format!(
                "单价 {} 元高于最高限价 {cap} 元，数量 {}：{item}，超收 {excess} 元。",
                f.pric, f.cnt
            );
            let d = json!({"pric": f.pric, "pric_uplmt_amt": cap, "cnt": f.cnt});
            out.push(fee_finding(r, v, f, Some(excess), text, d));
        }
        _ => {}
    }
}

fn suspension(k: &Knowledge, c: &Case, v: &Visit, l: &Line, out: &mut Vec<Finding>) {
    for r in k.rules_of(Template::Suspension) {
        if !applies(k, r, c, v, l.day) || !code_ok(r, l) {
            continue;
        }
        // The billing doctor, else the attending one (both with check_attending).
        let who: [Option<(&Code, &str)>; 2] = match (&l.f.bilg_dr_codg, &v.m.atddr_no) {
            (Some(b), a) => [
                Some((b, "开单医师")),
                a.as_ref()
                    .filter(|a| *a != b && r.params.check_attending == Some(true))
                    .map(|a| (a, "主治医师")),
            ],
            (None, Some(a)) => [Some((a, "主治医师")), None],
            (None, None) => [None, None],
        };
        for (p, role) in who.into_iter().flatten() {
            let Some(s) = k
                .susp
                .get(p.as_str())
                .and_then(|v| v.iter().find(|s| s.covers(l.day)))
            else {
                continue;
            };
            let kind = match s.susp_type {
                medfund_contract::records::SuspType::Suspend => "暂停",
                medfund_contract::records::SuspType::Terminate => "终止",
            };
            let until = s
                .enddate
                .map(|d| d.to_string())
                .unwrap_or_else(|| "长期".into());
            let amt = l.f.det_item_fee_sumamt;
            let text = format!(
                "{role} {p} 医保支付资格{kind}期间（{} 至 {until}）于 {} 收费，非急诊抢救：{}，{amt} 元，基金不予支付。",
                s.begndate,
                l.day,
                item_label(l)
            );
            let d = json!({"pract_code": p.as_str(), "role": role, "susp_type": kind,
                           "begndate": s.begndate.to_string(), "enddate": s.enddate.map(|d| d.to_string()),
                           "med_type": v.m.med_type.as_str(), "emer_flag": v.m.emer_flag});
            let mut x = fee_finding(r, v, l.f, Some(amt), text, d);
            x.pract_code = Some(p.clone());
            x.seal();
            out.push(x);
            break;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Visit passes

/// Whether two lines bill the same item: by catalog row when both have one (a code has one row),
/// by code otherwise.
#[inline]
fn same_item(a: &Line, b: &Line) -> bool {
    match (a.cat, b.cat) {
        (Some(_), Some(_)) => a.ci == b.ci,
        _ => a.f.med_list_codg == b.f.med_list_codg,
    }
}

fn duplicates(k: &Knowledge, c: &Case, v: &Visit, out: &mut Vec<Finding>) {
    if v.lines.len() < 2 {
        return;
    }
    for r in k.rules_of(Template::Duplicate) {
        if !k.scenario_ok(r.scenario, v.m, v.inst, c.psn) {
            continue;
        }
        // Lines are in (time, serial) order: duplicates share a time, so only lines of one
        // time are compared, and the first of each (code, price) has the earliest serial.
        let ls = &v.lines;
        let mut s = 0;
        while s < ls.len() {
            let mut e = s + 1;
            while e < ls.len() && ls[e].f.fee_ocur_time == ls[s].f.fee_ocur_time {
                e += 1;
            }
            for j in s + 1..e {
                let l = &ls[j];
                if l.f.cnt.0 <= 0 || !code_ok(r, l) || !r.in_force(l.day) {
                    continue;
                }
                let first = ls[s..j].iter().find(|o| {
                    o.f.cnt.0 > 0 && o.f.pric == l.f.pric && same_item(o, l) && code_ok(r, o)
                });
                let Some(o) = first else { continue };
                let amt = l.f.det_item_fee_sumamt;
                let text = format!(
                    "同一就诊同一时间（{}）同一单价重复收费：{}，与明细 {} 重复，重复金额 {amt} 元。",
                    format_datetime(l.f.fee_ocur_time),
                    item_label(l),
                    o.f.feedetl_sn
                );
                let d = json!({"first_feedetl_sn": o.f.feedetl_sn.as_str(), "pric": l.f.pric,
                               "fee_ocur_time": format_datetime(l.f.fee_ocur_time)});
                out.push(fee_finding(r, v, l.f, Some(amt), text, d));
            }
            s = e;
        }
    }
}

fn exclusive(k: &Knowledge, c: &Case, v: &Visit, out: &mut Vec<Finding>) {
    for r in k.rules_of(Template::ExclusivePair) {
        if !k.scenario_ok(r.scenario, v.m, v.inst, c.psn) {
            continue;
        }
        let day_only = r.params.period == Some(PairPeriod::Day);
        let extra = r.params.pairs.as_deref().unwrap_or(&[]);
        // Partner codes of each line: the catalog's excl_codes plus the rule's own pairs.
        let has_any = v
            .lines
            .iter()
            .any(|l| l.cat.is_some_and(|e| !e.excl_codes.is_empty()))
            || !extra.is_empty();
        if !has_any || v.lines.len() < 2 {
            continue;
        }
        let mut by_code: AHashMap<&str, Vec<usize>> = AHashMap::new();
        for (i, l) in v.lines.iter().enumerate() {
            if l.f.cnt.0 > 0 {
                by_code
                    .entry(l.f.med_list_codg.as_str())
                    .or_default()
                    .push(i);
            }
        }
        // flagged line → partner line indices
        let mut flagged: Vec<(usize, usize)> = Vec::new();
        for (i, a) in v.lines.iter().enumerate() {
            if a.f.cnt.0 <= 0 || !code_ok(r, a) {
                continue;
            }
            let from_cat = a.cat.map(|e| e.excl_codes.as_slice()).unwrap_or(&[]);
            let from_rule = extra
                .iter()
                .filter(|p| p[0] == a.f.med_list_codg)
                .map(|p| &p[1]);
            for b_code in from_cat.iter().chain(from_rule) {
                let Some(bs) = by_code.get(b_code.as_str()) else {
                    continue;
                };
                for &j in bs {
                    if j == i {
                        continue;
                    }
                    let b = &v.lines[j];
                    if day_only && a.day != b.day {
                        continue;
                    }
                    // Lines are sorted, so the later of the two has the larger index.
                    let (later, earlier) = if j > i { (j, i) } else { (i, j) };
                    flagged.push((later, earlier));
                }
            }
        }
        flagged.sort_unstable();
        flagged.dedup();
        let mut i = 0;
        while i < flagged.len() {
            let li = flagged[i].0;
            let mut partners = Vec::new();
            while i < flagged.len() && flagged[i].0 == li {
                partners.push(&v.lines[flagged[i].1]);
                i += 1;
            }
            let l = &v.lines[li];
            if !r.in_force(l.day) {
                continue;
            }
            // DOMAIN.md §4.1 defines no suspect amount for a pair (which of the two is
            // overcharged is a judgement); the line amount is given in the details.
            let amt = l.f.det_item_fee_sumamt;
            let text = format!(
                "{}内与互斥项目 {} 同时收费：{}，金额 {amt} 元，请核实应收取的一项。",
                if day_only {
                    "同一日"
                } else {
                    "同一就诊"
                },
                list_more(
                    partners.iter().map(|p| item_label(p)),
                    k.policy.evidence_max_items
                ),
                item_label(l)
            );
            let d = json!({"period": if day_only { "day" } else { "visit" }, "line_amount": amt,
                           "partners": partners.iter().map(|p| json!({"feedetl_sn": p.f.feedetl_sn.as_str(),
                               "med_list_codg": p.f.med_list_codg.as_str()})).collect::<Vec<_>>()});
            out.push(fee_finding(r, v, l.f, None, text, d));
        }
    }
}

fn packages(k: &Knowledge, c: &Case, v: &Visit, out: &mut Vec<Finding>) {
    if v.lines.len() < 2 {
        return;
    }
    let pkgs: Vec<&Line> = v
        .lines
        .iter()
        .filter(|l| l.f.cnt.0 > 0 && l.cat.is_some_and(|e| !e.incl_codes.is_empty()))
        .collect();
    if pkgs.is_empty() {
        return;
    }
    for r in k.rules_of(Template::Package) {
        if !k.scenario_ok(r.scenario, v.m, v.inst, c.psn) {
            continue;
        }
        let pk: Vec<&&Line> = pkgs.iter().filter(|p| code_ok(r, p)).collect();
        if pk.is_empty() {
            continue;
        }
        for l in v.lines {
            if l.f.cnt.0 <= 0 || !r.in_force(l.day) {
                continue;
            }
            let owners: Vec<&&&Line> = pk
                .iter()
                .filter(|p| {
                    p.f.med_list_codg != l.f.med_list_codg
                        && p.cat
                            .is_some_and(|e| e.incl_codes.contains(l.f.med_list_codg))
                })
                .collect();
            if owners.is_empty() {
                continue;
            }
            let amt = l.f.det_item_fee_sumamt;
            let text = format!(
                "套餐项目 {} 已包含 {}，同一就诊又单独收费 {amt} 元，属分解收费。",
                list_more(
                    owners.iter().map(|p| item_label(p)),
                    k.policy.evidence_max_items
                ),
                item_label(l)
            );
            let d = json!({"packages": owners.iter().map(|p| json!({"feedetl_sn": p.f.feedetl_sn.as_str(),
                               "med_list_codg": p.f.med_list_codg.as_str()})).collect::<Vec<_>>()});
            out.push(fee_finding(r, v, l.f, Some(amt), text, d));
        }
    }
}

/// Length of stay in days: discharge date − admission date, at least 1.
pub(crate) fn stay_days(m: &Mdtrt) -> Option<i64> {
    let e = m.endtime?;
    Some(((e.date() - m.begntime.date()).num_days()).max(1))
}

fn bed_days(k: &Knowledge, c: &Case, v: &Visit, out: &mut Vec<Finding>) {
    if !v.m.is_inpatient() {
        return;
    }
    let Some(los) = stay_days(v.m) else { return };
    for r in k.rules_of(Template::BedDays) {
        if !applies(k, r, c, v, v.m.begntime.date()) {
            continue;
        }
        let bed = r.params.bed_chrgitm_type();
        let mut total = Qty(0);
        let mut top = Price(0);
        let mut n = 0usize;
        for l in v.lines {
            if l.cat.and_then(|e| e.med_chrgitm_type.as_deref()) == Some(bed) && code_ok(r, l) {
                total += l.f.cnt;
                top = top.max(l.f.pric);
                n += 1;
            }
        }
        let stay = Qty::from_units(los);
        if n == 0 || total <= stay {
            continue;
        }
        let excess = Qty(total.0 - stay.0);
        let amt = excess.times(top);
        let text = format!(
            "住院 {} 至 {}，住院天数 {los} 天，床位费计 {total} 天，多计 {excess} 天 × {top} 元 = {amt} 元。",
            v.m.begntime.date(),
            v.m.endtime.map(|e| e.date().to_string()).unwrap_or_default()
        );
        let d = json!({"los": los, "bed_cnt": total, "excess_days": excess, "bed_pric": top, "bed_lines": n});
        out.push(visit_finding(r, c, v, Some(amt), text, d));
    }
}

fn failed_verification(k: &Knowledge, c: &Case, v: &Visit, out: &mut Vec<Finding>) {
    if c.idv.is_empty() {
        return;
    }
    let day = v.m.begntime.date();
    let same = || {
        c.idv
            .iter()
            .filter(|i| i.vrf_time.date() == day && i.fixmedins_code == v.m.fixmedins_code)
    };
    let failed: Vec<&&Idv> = same().filter(|i| !i.vrf_rslt).collect();
    if failed.is_empty() || same().any(|i| i.vrf_rslt) {
        return;
    }
    for r in k.rules_of(Template::Identity) {
        if r.params.form != Some(IdentityForm::FailedVerification) || !applies(k, r, c, v, day) {
            continue;
        }
        let text = format!(
            "就诊当日（{day}）参保人在本机构身份核验 {} 次均未通过（{}），疑似冒名就医，请核实身份。",
            failed.len(),
            list_more(failed.iter().map(|i| format!("{} {}", format_datetime(i.vrf_time), i.vrf_way)), 5)
        );
        let d = json!({"failed": failed.iter().map(|i| json!({"vrf_time": format_datetime(i.vrf_time),
                        "vrf_way": i.vrf_way.as_str()})).collect::<Vec<_>>(), "date": day.to_string()});
        out.push(visit_finding(r, c, v, None, text, d));
    }
}

// ---------------------------------------------------------------------------------------------
// Person passes

fn frequency(k: &Knowledge, c: &Case, out: &mut Vec<Finding>) {
    for r in k.rules_of(Template::Frequency) {
        // Candidates: lines whose code has a limit under this rule. (visit, line, day lim, visit lim)
        let mut cand: Vec<(usize, usize, Option<Qty>, Option<Qty>)> = Vec::new();
        for (vi, v) in c.visits.iter().enumerate() {
            if !k.scenario_ok(r.scenario, v.m, v.inst, c.psn) {
                continue;
            }
            for (li, l) in v.lines.iter().enumerate() {
                if l.cat.is_none()
                    && r.params.max_cnt_day.is_none()
                    && r.params.max_cnt_mdtrt.is_none()
                {
                    continue;
                }
                let (d, m) = know::freq_limit(r, l.cat);
                if (d.is_some() || m.is_some()) && code_ok(r, l) {
                    cand.push((vi, li, d, m));
                }
            }
        }
        if cand.is_empty() {
            continue;
        }
        let line = |i: usize| &c.visits[cand[i].0].lines[cand[i].1];
        let n = cand.len();
        // Sort keys computed once: a code key (the catalog index, or a per-person number for
        // codes missing from the catalog), the day and the time. Only equal keys fall back to
        // the full line order (serial, visit), so the order is exactly (code, day, fee order).
        let mut uncat: Vec<&str> = Vec::new();
        let keys: Vec<(u64, i32, chrono::NaiveDateTime)> = (0..n)
            .map(|i| {
                let l = line(i);
                let ck = if l.cat.is_some() {
                    u64::from(l.ci)
                } else {
                    let code = l.f.med_list_codg.as_str();
                    let r = uncat.iter().position(|c| *c == code).unwrap_or_else(|| {
                        uncat.push(code);
                        uncat.len() - 1
                    });
                    (1u64 << 32) + r as u64
                };
                (
                    ck,
                    chrono::Datelike::num_days_from_ce(&l.day),
                    l.f.fee_ocur_time,
                )
            })
            .collect();
        let mut day_x = vec![(Qty(0), Qty(0)); n]; // (portion above, cumulative)
        let mut vis_x = vec![(Qty(0), Qty(0)); n];
        // Per person, code and calendar day, summing all visits, in time order.
        let mut order: Vec<usize> = (0..n).filter(|i| cand[*i].2.is_some()).collect();
        order.sort_by(|&a, &b| {
            keys[a]
                .cmp(&keys[b])
                .then_with(|| fee_cmp(&line(a).f, &line(b).f))
        });
        accumulate(
            &order,
            |i| line(i),
            |i| cand[i].2,
            |p, i| keys[p].0 == keys[i].0 && keys[p].1 == keys[i].1,
            &mut day_x,
        );
        // Per visit and code, in time order.
        let mut order: Vec<usize> = (0..n).filter(|i| cand[*i].3.is_some()).collect();
        order.sort_by(|&a, &b| {
            (cand[a].0, keys[a].0, keys[a].2)
                .cmp(&(cand[b].0, keys[b].0, keys[b].2))
                .then_with(|| fee_cmp(&line(a).f, &line(b).f))
        });
        accumulate(
            &order,
            |i| line(i),
            |i| cand[i].3,
            |p, i| cand[p].0 == cand[i].0 && keys[p].0 == keys[i].0,
            &mut vis_x,
        );
        for i in 0..n {
            let (dx, vx) = (day_x[i].0, vis_x[i].0);
            if dx.0 <= 0 && vx.0 <= 0 {
                continue;
            }
            let v = &c.visits[cand[i].0];
            let l = line(i);
            if !v.report || !r.in_force(l.day) {
                continue;
            }
            let portion = dx.max(vx);
            let amt = portion.times(l.f.pric);
            let mut why = Vec::new();
            if dx.0 > 0 {
                why.push(format!(
                    "当日累计 {} 超过每日限量 {}",
                    day_x[i].1,
                    cand[i].2.unwrap_or_default()
                ));
            }
            if vx.0 > 0 {
                why.push(format!(
                    "本次就诊累计 {} 超过每次就诊限量 {}",
                    vis_x[i].1,
                    cand[i].3.unwrap_or_default()
                ));
            }
            let text = format!(
                "{}：{}，{} 收费数量 {}，超出 {portion} × 单价 {} 元 = {amt} 元。",
                why.join("；"),
                item_label(l),
                format_datetime(l.f.fee_ocur_time),
                l.f.cnt,
                l.f.pric
            );
            let d = json!({"max_cnt_day": cand[i].2, "max_cnt_mdtrt": cand[i].3,
                           "day_cumulative": day_x[i].1, "visit_cumulative": vis_x[i].1,
                           "excess_cnt": portion, "date": l.day.to_string()});
            out.push(fee_finding(r, v, l.f, Some(amt), text, d));
        }
    }
}

/// Running sums over groups of `order`: for each candidate, the quantity of its line above the
/// limit (cum − max(cum − cnt, limit), so the line that crosses the limit counts only its part
/// above it and later lines count whole) and the cumulative quantity.
fn accumulate<'a>(
    order: &[usize],
    line: impl Fn(usize) -> &'a Line<'a>,
    limit: impl Fn(usize) -> Option<Qty>,
    same: impl Fn(usize, usize) -> bool,
    res: &mut [(Qty, Qty)],
) {
    let mut cum = Qty(0);
    let mut prev: Option<usize> = None;
    for &i in order {
        let l = line(i);
        if prev.is_none_or(|p| !same(p, i)) {
            cum = Qty(0);
        }
        prev = Some(i);
        cum += l.f.cnt;
        let lim = limit(i).expect("filtered");
        if cum > lim && l.f.cnt.0 > 0 {
            let before = Qty(cum.0 - l.f.cnt.0);
            res[i] = (Qty(cum.0 - before.max(lim).0), cum);
        } else {
            res[i] = (Qty(0), cum);
        }
    }
}

fn readmission(k: &Knowledge, c: &Case, out: &mut Vec<Finding>) {
    let mut stays: Vec<&Visit> = c.visits.iter().filter(|v| v.m.is_inpatient()).collect();
    if stays.len() < 2 {
        return;
    }
    stays.sort_by(|a, b| {
        a.m.fixmedins_code
            .cmp(&b.m.fixmedins_code)
            .then(a.m.begntime.cmp(&b.m.begntime))
            .then(a.m.mdtrt_id.cmp(&b.m.mdtrt_id))
    });
    for r in k.rules_of(Template::Readmission) {
        let days = r.params.readmission_days();
        let n = r.params.icd_prefix_len();
        for w in stays.windows(2) {
            let (p, v) = (w[0], w[1]);
            if p.m.fixmedins_code != v.m.fixmedins_code || !v.report {
                continue;
            }
            let Some(pe) = p.m.endtime else { continue };
            let gap = (v.m.begntime.date() - pe.date()).num_days();
            if !(0..=days).contains(&gap) || !applies(k, r, c, v, v.m.begntime.date()) {
                continue;
            }
            let cat = |d: &str| d.chars().take(n).collect::<String>();
            let (a, b) = (cat(&p.m.diag_code), cat(&v.m.diag_code));
            if a != b {
                continue;
            }
            let text = format!(
                "出院（{}，就诊 {}，主诊断 {}）后第 {gap} 天再次入住同一机构，主诊断 {} 同属 {a} 类目，疑似分解住院。",
                pe.date(),
                p.m.mdtrt_id,
                p.m.diag_code,
                v.m.diag_code
            );
            let d = json!({"previous_mdtrt_id": p.m.mdtrt_id.as_str(), "previous_discharge": pe.date().to_string(),
                           "admission": v.m.begntime.date().to_string(), "gap_days": gap,
                           "previous_diag": p.m.diag_code.as_str(), "diag": v.m.diag_code.as_str(), "icd_category": a});
            out.push(visit_finding(r, c, v, None, text, d));
        }
    }
}

fn presence(k: &Knowledge, c: &Case, out: &mut Vec<Finding>) {
    for v in c.visits.iter().filter(|v| v.report && v.m.is_inpatient()) {
        let Some(end) = v.m.endtime else { continue };
        let b = v.m.begntime.date();
        // Stay days: admission date up to the day before discharge (at least the admission day).
        let last = (end.date() - chrono::Days::new(1)).max(b);
        for r in k.rules_of(Template::Presence) {
            if !applies(k, r, c, v, b) {
                continue;
            }
            let bed = r.params.bed_chrgitm_type();
            let mut present: AHashSet<NaiveDate> = AHashSet::new();
            for i in &c.idv {
                if i.vrf_rslt && i.fixmedins_code == v.m.fixmedins_code {
                    present.insert(i.vrf_time.date());
                }
            }
            for l in v.lines {
                if l.cat.and_then(|e| e.med_chrgitm_type.as_deref()) != Some(bed) {
                    present.insert(l.day);
                }
            }
            let mut absent = Vec::new();
            let mut total = 0i64;
            let mut d = b;
            while d <= last {
                total += 1;
                if !present.contains(&d) {
                    absent.push(d);
                }
                d = d.succ_opt().expect("date in range");
            }
            let a = absent.len() as i64;
            if a < r.params.min_absent_days() || a * 10_000 < r.params.absent_share_bp() * total {
                continue;
            }
            let text = format!(
                "住院 {total} 天中有 {a} 天（{}）既无本机构身份核验通过记录，也无床位费以外的费用，疑似挂床住院。",
                list_more(absent.iter().map(|d| d.to_string()), k.policy.evidence_max_items)
            );
            let det = json!({"stay_days": total, "absent_days": a,
                             "absent_dates": absent.iter().map(|d| d.to_string()).collect::<Vec<_>>()});
            out.push(visit_finding(r, c, v, None, text, det));
        }
    }
}

fn concurrent(k: &Knowledge, c: &Case, out: &mut Vec<Finding>) {
    if c.visits.len() < 2 {
        return;
    }
    let stays: Vec<&Visit> = c
        .visits
        .iter()
        .filter(|v| v.m.is_inpatient() && v.m.endtime.is_some())
        .collect();
    if stays.is_empty() {
        return;
    }
    for r in k.rules_of(Template::Concurrent) {
        for o in c.visits.iter().filter(|o| o.report) {
            if k.is_emergency(o.m) || !applies(k, r, c, o, o.m.begntime.date()) {
                continue;
            }
            let od = o.m.begntime.date();
            let hits: Vec<&&Visit> = stays
                .iter()
                .filter(|a| {
                    od > a.m.begntime.date()
                        && od < a.m.endtime.expect("filtered").date()
                        && a.m.fixmedins_code != o.m.fixmedins_code
                })
                .collect();
            let Some(a) = hits.first() else { continue };
            let text = format!(
                "参保人 {} 至 {} 在 {} 住院（就诊 {}）期间，于 {} 在 {} 另有非急诊就诊，请核实是否挂床或冒名。",
                a.m.begntime.date(),
                a.m.endtime.expect("filtered").date(),
                a.m.fixmedins_code,
                a.m.mdtrt_id,
                od,
                o.m.fixmedins_code
            );
            let d = json!({"inpatient_stays": hits.iter().map(|a| json!({"mdtrt_id": a.m.mdtrt_id.as_str(),
                             "fixmedins_code": a.m.fixmedins_code.as_str(),
                             "begntime": format_datetime(a.m.begntime),
                             "endtime": a.m.endtime.map(format_datetime)})).collect::<Vec<_>>(),
                           "visit_begntime": format_datetime(o.m.begntime), "med_type": o.m.med_type.as_str()});
            out.push(visit_finding(r, c, o, None, text, d));
        }
    }
}

fn multi_source(k: &Knowledge, c: &Case, out: &mut Vec<Finding>) {
    // Fewer institutions in the whole history than the threshold: nothing can fire.
    let mut insts: Vec<&str> = c
        .visits
        .iter()
        .map(|v| v.m.fixmedins_code.as_str())
        .collect();
    insts.sort_unstable();
    insts.dedup();
    for r in k.rules_of(Template::MultiSource) {
        if insts.len() < r.params.min_institutions() {
            continue;
        }
        // (catalog index, code when uncatalogued, date, institution, reported), deduplicated.
        // Catalogued codes sort by their index: comparing code text here was the person pass's
        // largest string cost. Within a code the order is the same (date, then institution).
        let mut ev: Vec<(u32, Option<&str>, NaiveDate, &str, bool)> = Vec::new();
        for v in &c.visits {
            if !k.scenario_ok(r.scenario, v.m, v.inst, c.psn) {
                continue;
            }
            for l in v.lines {
                if l.f.cnt.0 > 0
                    && code_ok(r, l)
                    && (l.cat.is_some() || r.codes.list_types.is_empty())
                {
                    let (ci, uncat) = match l.cat {
                        Some(_) => (l.ci, None),
                        None => (u32::MAX, Some(l.f.med_list_codg.as_str())),
                    };
                    ev.push((ci, uncat, l.day, l.f.fixmedins_code.as_str(), v.report));
                }
            }
        }
        if ev.len() < r.params.min_institutions() {
            continue;
        }
        ev.sort_unstable();
        ev.dedup_by(|a, b| {
            a.0 == b.0 && a.1 == b.1 && a.2 == b.2 && a.3 == b.3 && {
                b.4 |= a.4;
                true
            }
        });
        let w = r.params.window_days();
        let need = r.params.min_institutions();
        let mut s = 0;
        while s < ev.len() {
            let key = (ev[s].0, ev[s].1);
            let code = match key.1 {
                Some(c) => c,
                None => k.catalog[key.0 as usize].med_list_codg.as_str(),
            };
            let mut e = s;
            while e < ev.len() && (ev[e].0, ev[e].1) == key {
                e += 1;
            }
            let g = &ev[s..e];
            // The first window (by start date) that reaches the threshold is the evidence.
            let mut hit: Option<(usize, usize)> = None;
            let mut j = 0;
            for i in 0..g.len() {
                if i > 0 && g[i].2 == g[i - 1].2 {
                    continue;
                }
                j = j.max(i);
                while j < g.len() && (g[j].2 - g[i].2).num_days() <= w {
                    j += 1;
                }
                // Fewer purchases than institutions needed: no set to build.
                if j - i < need {
                    continue;
                }
                let insts: AHashSet<&str> = g[i..j].iter().map(|x| x.3).collect();
                if insts.len() >= need && g[i..j].iter().any(|x| x.4) && r.in_force(g[i].2) {
                    hit = Some((i, j));
                    break;
                }
            }
            if let Some((i, j)) = hit {
                let win = &g[i..j];
                let insts: std::collections::BTreeSet<&str> = win.iter().map(|x| x.3).collect();
                let name = c
                    .visits
                    .iter()
                    .flat_map(|v| v.lines.iter())
                    .find(|l| l.f.med_list_codg == code)
                    .map(item_label)
                    .unwrap_or_else(|| code.to_string());
                let text = format!(
                    "{} 至 {}（{w} 天窗口内）从 {} 家不同机构取得同一药品 {name}：{}，疑似多处开药。",
                    win[0].2,
                    win[win.len() - 1].2,
                    insts.len(),
                    list_more(win.iter().map(|x| format!("{} {}", x.2, x.3)), k.policy.evidence_max_items)
                );
                let d = json!({"window_days": w, "institutions": insts.iter().collect::<Vec<_>>(),
                               "purchases": win.iter().map(|x| json!({"date": x.2.to_string(), "fixmedins_code": x.3})).collect::<Vec<_>>()});
                let mut f = Finding::new(r.id.clone(), r.category, r.category.default_level());
                crate::evidence::stamp(&mut f, r);
                f.psn_no = Some(c.psn_no.into());
                f.med_list_codg = Some(code.into());
                f.evidence = medfund_contract::Evidence { text, details: d };
                f.seal();
                out.push(f);
            }
            s = e;
        }
    }
}

fn distant_places(k: &Knowledge, c: &Case, out: &mut Vec<Finding>) {
    if c.visits.len() < 2 {
        return;
    }
    for r in k.rules_of(Template::Identity) {
        if r.params.form != Some(IdentityForm::DistantPlaces) {
            continue;
        }
        let n = r.params.distance_admdvs_prefix();
        let max_s = r.params.max_hours() * 3600;
        let area = |v: &Visit| {
            v.inst
                .and_then(|i| i.admdvs.as_ref())
                .and_then(|a| a.get(..n))
                .map(|s| s.to_string())
        };
        // visits are sorted by start; the later-starting visit of a pair is flagged (ties: larger id).
        let mut flagged: Vec<(usize, usize)> = Vec::new();
        for j in 0..c.visits.len() {
            let b = &c.visits[j];
            let Some(ab) = area(b) else { continue };
            for i in (0..j).rev() {
                let a = &c.visits[i];
                let gap = (b.m.begntime - a.m.begntime).num_seconds();
                if gap >= max_s {
                    break;
                }
                if area(a).is_some_and(|aa| aa != ab) {
                    flagged.push((j, i));
                }
            }
        }
        let mut i = 0;
        while i < flagged.len() {
            let j = flagged[i].0;
            let mut others = Vec::new();
            while i < flagged.len() && flagged[i].0 == j {
                others.push(&c.visits[flagged[i].1]);
                i += 1;
            }
            let b = &c.visits[j];
            if !b.report || !applies(k, r, c, b, b.m.begntime.date()) {
                continue;
            }
            let a = others[0];
            let mins = (b.m.begntime - a.m.begntime).num_minutes();
            let text = format!(
                "参保人 {} 在 {}（区划 {}）就诊后仅 {mins} 分钟，又于 {} 在 {}（区划 {}）就诊，两地相距较远，疑似套刷医保卡。",
                format_datetime(a.m.begntime),
                a.m.fixmedins_code,
                a.inst.and_then(|x| x.admdvs.as_deref()).unwrap_or(""),
                format_datetime(b.m.begntime),
                b.m.fixmedins_code,
                b.inst.and_then(|x| x.admdvs.as_deref()).unwrap_or("")
            );
            let d = json!({"max_hours": r.params.max_hours(), "admdvs_prefix_len": n,
                           "other_visits": others.iter().map(|o| json!({"mdtrt_id": o.m.mdtrt_id.as_str(),
                               "fixmedins_code": o.m.fixmedins_code.as_str(), "begntime": format_datetime(o.m.begntime),
                               "admdvs": o.inst.and_then(|x| x.admdvs.as_deref())})).collect::<Vec<_>>()});
            out.push(visit_finding(r, c, b, None, text, d));
        }
    }
}

fn prescriptions(k: &Knowledge, c: &Case, rx: &RxIndex, out: &mut Vec<Finding>) {
    for r in k.rules_of(Template::Prescription) {
        let mut lines: Vec<(&Visit, &Line)> = Vec::new();
        for v in &c.visits {
            if !know::is_pharmacy(v.inst, v.m) || !applies(k, r, c, v, v.m.begntime.date()) {
                continue;
            }
            for l in v.lines {
                if l.f.cnt.0 > 0 && l.cat.is_some_and(|e| e.rx_only) && code_ok(r, l) {
                    lines.push((v, l));
                }
            }
        }
        if lines.is_empty() {
            continue;
        }
        lines.sort_by(|a, b| fee_cmp(&a.1.f, &b.1.f));
        // Quantity already dispensed against each (prescription, drug).
        let mut used: AHashMap<(&str, &str), Qty> = AHashMap::new();
        for (v, l) in lines {
            let f = l.f;
            let item = crate::evidence::ItemLabel(l);
            let (unprescribed, why, d) = match f.hi_rxno().map(|c| c.as_str()) {
                None | Some("") => (
                    f.cnt,
                    "无电子处方号".to_string(),
                    json!({"reason": "no_rxno"}),
                ),
                Some(no) => {
                    let all = rx.lines(no);
                    let mine = all
                        .iter()
                        .find(|x| x.med_list_codg == *f.med_list_codg && x.psn_no == *f.psn_no());
                    match mine {
                        None => {
                            let (why, code) = if all.is_empty() {
                                (format!("处方号 {no} 不存在"), "unknown_rxno")
                            } else if !all.iter().any(|x| x.psn_no == *f.psn_no()) {
                                (format!("处方 {no} 开给其他参保人"), "other_person")
                            } else {
                                (format!("处方 {no} 未开具该药品"), "other_drug")
                            };
                            (f.cnt, why, json!({"reason": code, "hi_rxno": no}))
                        }
                        Some(p) => {
                            let vd = if p.valid_days == 0 {
                                r.params.valid_days_default()
                            } else {
                                p.valid_days
                            };
                            let until = p.issue_time + chrono::Duration::days(vd as i64);
                            if f.fee_ocur_time < p.issue_time || f.fee_ocur_time > until {
                                (
                                    f.cnt,
                                    format!(
                                        "不在处方 {no} 有效期内（开具 {}，有效 {vd} 天至 {}）",
                                        format_datetime(p.issue_time),
                                        format_datetime(until)
                                    ),
                                    json!({"reason": "expired", "hi_rxno": no, "issue_time": format_datetime(p.issue_time), "valid_days": vd}),
                                )
                            } else {
                                let u =
                                    used.entry((no, f.med_list_codg.as_str())).or_insert(Qty(0));
                                let before = *u;
                                *u += f.cnt;
                                let cum = *u;
                                if cum <= p.cnt {
                                    continue;
                                }
                                let over = Qty(cum.0 - before.max(p.cnt).0);
                                (
                                    over,
                                    format!("超出处方 {no} 数量（处方 {}，累计已售 {cum}）", p.cnt),
                                    json!({"reason": "over_quantity", "hi_rxno": no, "rx_cnt": p.cnt, "cumulative": cum}),
                                )
                            }
                        }
                    }
                }
            };
            if !v.report {
                continue;
            }
            let amt = unprescribed.times(f.pric);
            let text = format!(
                "药店销售处方药 {item}，{why}：无处方数量 {unprescribed} × 单价 {} 元 = {amt} 元。",
                f.pric
            );
            let mut d = d;
            d["unprescribed_cnt"] = json!(unprescribed);
            out.push(fee_finding(r, v, f, Some(amt), text, d));
        }
    }
}

/// Sum of fen (helper for tests and stats).
#[allow(dead_code)]
pub(crate) fn total(fs: &[Finding]) -> Fen {
    fs.iter().filter_map(|f| f.amount).sum()
}
