//! Online pre-check (事前提醒 at order entry, 事中控制 at settlement): one visit's lines checked
//! against the person's recent history with a context prepared once (catalog index, rules of the
//! `before` and `during` stages, institutions, suspensions). Returns the findings about the new
//! visit only; history is context (earlier quantities of the day, earlier stays, earlier
//! dispensing of a prescription, earlier traceability codes).
//!
//! ```
//! use medfund_audit::{precheck, PersonHistory, PrecheckContext, rules::RuleLibrary, Policy};
//! use medfund_contract::time::parse_datetime;
//! use medfund_contract::*;
//! let cat = vec![CatalogEntry { med_list_codg: "001".into(), med_list_name: "检查".into(), list_type: 3,
//!     pric_uplmt_amt: Some("10".parse().unwrap()), ..Default::default() }];
//! let ctx = PrecheckContext::new(cat, &[], &[], &RuleLibrary::builtin(), None, Policy::default());
//! let t = parse_datetime("2025-03-01 09:00:00").unwrap();
//! let visit = Mdtrt { mdtrt_id: "M1".into(), psn_no: "P1".into(), fixmedins_code: "H11010100001".into(),
//!     med_type: "11".into(), begntime: t, endtime: None, diag_code: "J06.900".into(), dise_codg: None,
//!     atddr_no: None, emer_flag: false, refl_fixmedins_code: None };
//! let line = Fee { feedetl_sn: "1".into(), mdtrt_id: "M1".into(), setl_id: "S1".into(), psn_no: "P1".into(),
//!     fixmedins_code: "H11010100001".into(), fee_ocur_time: t, med_list_codg: "001".into(),
//!     cnt: Qty::from_units(2), pric: "12".parse().unwrap(), det_item_fee_sumamt: Fen(2400),
//!     bilg_dr_codg: None, hi_rxno: None, drug_trac_codg: vec![] };
//! let f = precheck(&visit, &[line], &PersonHistory::default(), &ctx);
//! assert_eq!(f.len(), 1);
//! assert_eq!(f[0].amount, Some(Fen(400))); // (12 − 10) × 2
//! ```

use crate::engine::{self, Case, Line, RxIndex, Visit};
use crate::evidence::fee_finding;
use crate::fees::LineFee;
use crate::kbrules::KbIndex;
use crate::know::Knowledge;
use crate::policy::Policy;
use crate::rules::{RuleLibrary, Stage, Template};
use ahash::AHashMap;
use medfund_contract::records::{
    CatalogEntry, Diag, Fee, Fixmedins, Idv, Mdtrt, PractSusp, Psn, Rx,
};
use medfund_contract::time::format_datetime;
use medfund_contract::{Code, Finding};
use serde_json::json;

/// What the pre-check knows beyond the person: built once, shared by every request.
pub struct PrecheckContext {
    k: Knowledge,
    /// Traceability codes already settled (code → (mdtrt_id, feedetl_sn, fee time text)).
    seen_trace: AHashMap<Code, (Code, Code, String)>,
}

impl PrecheckContext {
    /// Prepares the context from the knowledge base tables and the rule library (rules of the
    /// `before` and `during` stages).
    pub fn new(
        catalog: Vec<CatalogEntry>,
        fixmedins: &[Fixmedins],
        pract_susp: &[PractSusp],
        lib: &RuleLibrary,
        kb: Option<(&medfund_kb::KnowledgeBase, &medfund_kb::KbPolicy)>,
        policy: Policy,
    ) -> PrecheckContext {
        let k = Knowledge::build(
            crate::merged_catalog(&catalog, kb.map(|x| x.0)),
            fixmedins,
            pract_susp,
            lib,
            &[Stage::Before, Stage::During],
            kb.map(|(kb, p)| KbIndex::new(kb, p)),
            policy,
        );
        PrecheckContext {
            k,
            seen_trace: AHashMap::new(),
        }
    }

    /// Remembers the traceability codes of settled lines (e.g. loaded from the store), so a code
    /// sold again is caught at the counter.
    pub fn remember_trace_codes<'a>(&mut self, lines: impl IntoIterator<Item = &'a Fee>) {
        for f in lines {
            if f.cnt.0 <= 0 {
                continue;
            }
            for c in &f.drug_trac_codg {
                self.seen_trace.entry(c.clone()).or_insert_with(|| {
                    (
                        f.mdtrt_id.clone(),
                        f.feedetl_sn.clone(),
                        format_datetime(f.fee_ocur_time),
                    )
                });
            }
        }
    }

    /// Number of active rules.
    pub fn rules(&self) -> usize {
        self.k.rules.len()
    }
}

/// A person's recent history from the store (the policy's `precheck_history_days`).
#[derive(Clone, Debug, Default)]
pub struct PersonHistory {
    pub psn: Option<Psn>,
    pub visits: Vec<Mdtrt>,
    pub fees: Vec<Fee>,
    /// Further diagnoses of the history visits and of the new visit.
    pub diags: Vec<Diag>,
    pub idv: Vec<Idv>,
    /// The person's electronic prescriptions.
    pub rx: Vec<Rx>,
}

/// A visit's lines (sorted) and further diagnoses, owned until the visits are built over them.
fn prepare<'a>(
    k: &'a Knowledge,
    history: &'a PersonHistory,
    m: &'a Mdtrt,
    fees: Vec<&'a Fee>,
) -> (Vec<Line<'a>>, Vec<&'a str>) {
    let mut ls: Vec<Line> = fees
        .into_iter()
        .map(|f| {
            let ci = k.code(&f.med_list_codg);
            Line {
                f: LineFee::of(f),
                cat: ci.map(|i| &k.catalog[i as usize]),
                ci: ci.unwrap_or(u32::MAX),
                day: f.fee_ocur_time.date(),
            }
        })
        .collect();
    ls.sort_by(|a, b| engine::fee_cmp(&a.f, &b.f));
    let ds = history
        .diags
        .iter()
        .filter(|d| d.mdtrt_id == m.mdtrt_id && d.diag_code != m.diag_code)
        .map(|d| d.diag_code.as_str())
        .collect();
    (ls, ds)
}

/// Checks one visit's lines; returns the findings about this visit, sorted.
pub fn precheck(
    visit: &Mdtrt,
    lines: &[Fee],
    history: &PersonHistory,
    ctx: &PrecheckContext,
) -> Vec<Finding> {
    let k = &ctx.k;
    let mut by_visit: AHashMap<&str, Vec<&Fee>> = AHashMap::new();
    for f in &history.fees {
        if f.mdtrt_id != visit.mdtrt_id {
            by_visit.entry(f.mdtrt_id.as_str()).or_default().push(f);
        }
    }
    let mut parts: Vec<(&Mdtrt, bool, Vec<Line>, Vec<&str>)> = history
        .visits
        .iter()
        .filter(|m| m.mdtrt_id != visit.mdtrt_id)
        .map(|m| {
            let (l, d) = prepare(
                k,
                history,
                m,
                by_visit.remove(m.mdtrt_id.as_str()).unwrap_or_default(),
            );
            (m, false, l, d)
        })
        .collect();
    let (l, d) = prepare(k, history, visit, lines.iter().collect());
    parts.push((visit, true, l, d));
    let mut visits: Vec<Visit> = parts
        .iter()
        .map(|(m, report, l, d)| Visit {
            m,
            inst: k.inst.get(m.fixmedins_code.as_str()),
            diags: d,
            lines: l,
            setls: &[],
            report: *report,
        })
        .collect();
    visits.sort_by(|a, b| {
        a.m.begntime
            .cmp(&b.m.begntime)
            .then_with(|| a.m.mdtrt_id.cmp(&b.m.mdtrt_id))
    });
    let case = Case {
        psn_no: visit.psn_no.as_str(),
        psn: history.psn.as_ref(),
        visits,
        idv: history.idv.iter().collect(),
    };
    let mut out = Vec::new();
    engine::check_person(k, &case, &RxIndex::new(&history.rx), &mut out);
    if k.has(Template::TraceReuse) {
        trace(ctx, &case, &mut out);
    }
    out.retain(|f| f.mdtrt_id.as_deref() == Some(visit.mdtrt_id.as_str()) || f.mdtrt_id.is_none());
    crate::sort_findings(&mut out);
    out
}

/// Traceability codes of the new visit already settled: in the context, in the person's history,
/// or on an earlier line of the same visit.
fn trace(ctx: &PrecheckContext, c: &Case, out: &mut Vec<Finding>) {
    let mut seen: AHashMap<&str, (String, String, String)> = AHashMap::new();
    let mut all: Vec<(&Visit, &Line)> = c
        .visits
        .iter()
        .flat_map(|v| v.lines.iter().map(move |l| (v, l)))
        .collect();
    all.sort_by(|a, b| engine::fee_cmp(&a.1.f, &b.1.f));
    for (v, l) in all {
        if l.f.cnt.0 <= 0 {
            continue;
        }
        let mut reused = Vec::new();
        for code in l.f.drug_trac_codg() {
            let earlier = ctx
                .seen_trace
                .get(code)
                .map(|(m, s, t)| (m.to_string(), s.to_string(), t.clone()))
                .or_else(|| seen.get(code.as_str()).cloned());
            match earlier {
                Some(e) if !(e.0 == l.f.mdtrt_id.as_str() && e.1 == l.f.feedetl_sn.as_str()) => {
                    reused.push((code.as_str(), e))
                }
                Some(_) => {}
                None => {
                    seen.insert(
                        code.as_str(),
                        (
                            l.f.mdtrt_id.to_string(),
                            l.f.feedetl_sn.to_string(),
                            format_datetime(l.f.fee_ocur_time),
                        ),
                    );
                }
            }
        }
        if reused.is_empty() || !v.report {
            continue;
        }
        for r in ctx.k.rules_of(Template::TraceReuse) {
            if !r.in_force(l.day) || !r.codes.matches(l.f.med_list_codg, None) {
                continue;
            }
            let amt = l.f.det_item_fee_sumamt;
            let (code, e) = &reused[0];
            let text = format!(
                "药品追溯码 {code} 已于 {} 结算（就诊 {}，明细 {}），本次再次结算 {}，金额 {amt} 元，请勿重复销售。",
                e.2, e.0, e.1, l.f.med_list_codg
            );
            let d = json!({"reused": reused.iter().map(|(c, e)| json!({"drug_trac_codg": c,
                "first_mdtrt_id": e.0, "first_feedetl_sn": e.1, "first_fee_ocur_time": e.2})).collect::<Vec<_>>()});
            out.push(fee_finding(r, v, l.f, Some(amt), text, d));
        }
    }
}
