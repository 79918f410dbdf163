//! Building findings: keys from the line or visit, the rule's result/severity/national code, and
//! the evidence sentence an auditor can act on.

use crate::engine::{Case, Line, Visit};
use crate::fees::LineFee;
use crate::rules::Rule;
use medfund_contract::{Evidence, Fee, Fen, Finding, Level};

/// Copies the rule's outcome, severity and national code into a finding.
pub(crate) fn stamp(f: &mut Finding, r: &Rule) {
    f.result = r.result;
    f.severity = r.severity;
    f.nhsa_rule_code = r.nhsa_rule_code.clone();
}

fn with_version(mut d: serde_json::Value, r: &Rule) -> serde_json::Value {
    if let serde_json::Value::Object(m) = &mut d {
        m.insert("rule_version".into(), r.version.into());
    }
    d
}

/// A fee-level finding about line `f` of visit `v` (pract_code: the billing doctor, else the
/// visit's attending doctor).
pub(crate) fn fee_finding(
    r: &Rule,
    v: &Visit,
    f: LineFee,
    amount: Option<Fen>,
    text: String,
    details: serde_json::Value,
) -> Finding {
    build(
        r,
        &f,
        f.bilg_dr_codg.or(v.m.atddr_no.as_ref()),
        amount,
        text,
        details,
    )
}

/// A fee-level finding built from the line alone (cross-person passes).
pub(crate) fn fee_finding_bare(
    r: &Rule,
    f: &Fee,
    amount: Option<Fen>,
    text: String,
    details: serde_json::Value,
) -> Finding {
    build(
        r,
        &LineFee::of(f),
        f.bilg_dr_codg.as_ref(),
        amount,
        text,
        details,
    )
}

fn build(
    r: &Rule,
    f: &LineFee,
    pract: Option<&medfund_contract::Code>,
    amount: Option<Fen>,
    text: String,
    details: serde_json::Value,
) -> Finding {
    let mut x = Finding::new(r.id.clone(), r.category, Level::Fee);
    stamp(&mut x, r);
    x.setl_id = Some(f.setl_id().clone());
    x.mdtrt_id = Some(f.mdtrt_id.clone());
    x.feedetl_sn = Some(f.feedetl_sn.clone());
    x.psn_no = Some(f.psn_no().clone());
    x.fixmedins_code = Some(f.fixmedins_code.clone());
    x.pract_code = pract.cloned();
    x.med_list_codg = Some(f.med_list_codg.clone());
    x.amount = amount;
    x.evidence = Evidence {
        text,
        details: with_version(details, r),
    };
    x.seal();
    x
}

/// A visit-level finding (pract_code: the attending doctor; setl_id: the settlement of the
/// visit's first line, when it has lines).
pub(crate) fn visit_finding(
    r: &Rule,
    c: &Case,
    v: &Visit,
    amount: Option<Fen>,
    text: String,
    details: serde_json::Value,
) -> Finding {
    let mut x = Finding::new(r.id.clone(), r.category, Level::Mdtrt);
    stamp(&mut x, r);
    x.setl_id = v.lines.first().map(|l| l.f.setl_id().clone());
    x.mdtrt_id = Some(v.m.mdtrt_id.clone());
    x.psn_no = Some(c.psn_no.into());
    x.fixmedins_code = Some(v.m.fixmedins_code.clone());
    x.pract_code = v.m.atddr_no.clone();
    x.amount = amount;
    x.evidence = Evidence {
        text,
        details: with_version(details, r),
    };
    x.seal();
    x
}

/// `名称（编码）` of a line's item, formatted only when a finding is written.
pub(crate) struct ItemLabel<'a>(pub &'a Line<'a>);

impl std::fmt::Display for ItemLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.cat {
            Some(e) if !e.med_list_name.is_empty() => {
                write!(f, "{}（{}）", e.med_list_name, self.0.f.med_list_codg)
            }
            _ => write!(f, "{}（目录未收录）", self.0.f.med_list_codg),
        }
    }
}

/// `名称（编码）` of a line's item.
pub(crate) fn item_label(l: &Line) -> String {
    match l.cat {
        Some(e) if !e.med_list_name.is_empty() => {
            format!("{}（{}）", e.med_list_name, l.f.med_list_codg)
        }
        _ => format!("{}（目录未收录）", l.f.med_list_codg),
    }
}

/// Chinese name of a hosp_lv number.
pub(crate) fn level_zh(lv: u8) -> &'static str {
    match lv {
        1 => "三级",
        2 => "二级",
        3 => "一级",
        _ => "未定级",
    }
}

/// Joins up to `max` items with 、 and says how many more there are.
pub(crate) fn list_more(items: impl Iterator<Item = String>, max: usize) -> String {
    let all: Vec<String> = items.collect();
    if all.len() <= max {
        all.join("、")
    } else {
        format!("{} 等 {} 项", all[..max].join("、"), all.len())
    }
}
