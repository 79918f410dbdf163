//! Rules whose limits come only from the national knowledge-point batches: `insurance_type_limit`,
//! `course_limit`, `cycle_frequency`, `secondary_surgery_discount`, and the timed duplicate pairs
//! of batch 7 (`exclusive_items` within a day or N hours). The evaluations themselves are
//! `medfund_kb::eval` (pure functions over one person's lines); this module feeds them the
//! person's lines from the per-person pass and stamps their findings with the library's rule
//! (id, result, severity, stage, dates, scenario, code set), so a city disables or retunes them
//! like any other rule. The catalog-expressible national limits (gender, age, visit type, level,
//! per-day quantity, per-visit pairs) are merged into the catalog by
//! [`medfund_kb::KnowledgeBase::apply_to_catalog`] and checked by the catalog rules.

use crate::engine::{Case, Visit};
use crate::know::Knowledge;
use crate::rules::Template;
use ahash::{AHashMap, AHashSet};
use medfund_contract::{Code, Finding};
use medfund_kb::eval::{self, LineCtx, PersonLines};
use medfund_kb::{KbPolicy, KnowledgeBase, Limit};

/// The knowledge base indexed for the national evaluations, plus the set of codes they look at
/// (a person without any of them is skipped at the cost of one hash probe per line).
#[derive(Clone, Debug)]
pub struct KbIndex {
    /// Knowledge base version (recorded in the audit statistics).
    pub version: String,
    ix: eval::KbIndex,
    codes: AHashSet<Code>,
}

impl KbIndex {
    /// Indexes a knowledge base under a knowledge-base policy.
    pub fn new(kb: &KnowledgeBase, policy: &KbPolicy) -> KbIndex {
        let mut codes = AHashSet::new();
        for p in &kb.points {
            match &p.limit {
                Limit::InsuranceType { .. }
                | Limit::DrugCourse(_)
                | Limit::ItemCourse(_)
                | Limit::CycleFrequency { .. }
                | Limit::SecondarySurgery { .. } => {
                    codes.insert(p.med_list_codg.clone());
                }
                Limit::DuplicatePair { secondary, .. } => {
                    codes.insert(p.med_list_codg.clone());
                    codes.insert(secondary.clone());
                }
                _ => {}
            }
        }
        KbIndex {
            version: kb.version.clone(),
            ix: eval::KbIndex::new(kb, policy),
            codes,
        }
    }

    /// Whether no national-only limit is indexed.
    pub fn is_empty(&self) -> bool {
        self.ix.is_empty()
    }
}

type Eval = fn(&eval::KbIndex, &PersonLines<'_>, &mut Vec<Finding>);

/// The national evaluations by template.
const EVALS: &[(Template, Eval)] = &[
    (Template::KbInsuranceType, eval::insurance_type_limit),
    (Template::KbCourse, eval::course_limit),
    (Template::KbCycle, eval::cycle_frequency),
    (
        Template::KbSecondarySurgery,
        eval::secondary_surgery_discount,
    ),
    (Template::KbDuplicatePair, eval::duplicate_pairs),
];

/// Runs the national evaluations over one person and re-issues their findings under the
/// library's rules.
pub(crate) fn check_person(k: &Knowledge, c: &Case, out: &mut Vec<Finding>) {
    let Some(kb) = &k.kb else { return };
    if kb.is_empty() || !EVALS.iter().any(|(t, _)| k.has(*t)) {
        return;
    }
    // The evaluations read whole records: built here, for the lines they can fire on.
    let mut picked = Vec::new();
    for v in &c.visits {
        for l in v.lines {
            if kb.codes.contains(l.f.med_list_codg.as_str()) {
                picked.push((v, l, l.f.fee()));
            }
        }
    }
    let lines: Vec<LineCtx> = picked
        .iter()
        .map(|(v, l, fee)| LineCtx {
            fee,
            mdtrt: Some(v.m),
            setl: v.setls.iter().copied().find(|s| s.setl_id == fee.setl_id),
            catalog: l.cat,
        })
        .collect();
    if lines.is_empty() {
        return;
    }
    let person = PersonLines::new(lines);
    let visits: AHashMap<&str, &Visit> = c
        .visits
        .iter()
        .map(|v| (v.m.mdtrt_id.as_str(), v))
        .collect();
    let mut tmp = Vec::new();
    for (t, f) in EVALS {
        if !k.has(*t) {
            continue;
        }
        tmp.clear();
        f(&kb.ix, &person, &mut tmp);
        for x in &tmp {
            let Some(v) = x.mdtrt_id.as_deref().and_then(|m| visits.get(m)) else {
                continue;
            };
            if !v.report {
                continue;
            }
            let line = v
                .lines
                .iter()
                .find(|l| Some(l.f.feedetl_sn.as_str()) == x.feedetl_sn.as_deref());
            let day = line.map(|l| l.day).unwrap_or(v.m.begntime.date());
            for r in k.rules_of(*t) {
                let code = x.med_list_codg.as_deref().unwrap_or("");
                if !r.in_force(day)
                    || !k.scenario_ok(r.scenario, v.m, v.inst, c.psn)
                    || !r
                        .codes
                        .matches(code, line.and_then(|l| l.cat).map(|e| e.list_type))
                {
                    continue;
                }
                let mut y = x.clone();
                y.rule_id = r.id.clone();
                y.severity = r.severity;
                if r.nhsa_rule_code.is_some() {
                    y.nhsa_rule_code = r.nhsa_rule_code.clone();
                }
                if let serde_json::Value::Object(m) = &mut y.evidence.details {
                    m.insert("rule_version".into(), r.version.into());
                    m.insert("kb_version".into(), kb.version.clone().into());
                }
                y.seal();
                out.push(y);
            }
        }
    }
}
