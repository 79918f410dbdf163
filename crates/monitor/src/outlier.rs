//! `provider_outlier` findings (DOMAIN.md §4.1): an institution far from its peers.
//!
//! Per peer group (same fixmedins_type and hosp_lv) and indicator — average cost per outpatient
//! visit, average cost per inpatient stay, lines per visit, drug share — over the institutions
//! that have a value: robust z = (x − median) ÷ (1.4826 × MAD), MAD = median |x − median|.
//! Flagged when z > 3.5 and x > 1.5 × median. A group whose MAD is 0 raises no alarm: with no
//! spread among peers any difference would give an infinite z. A value resting on fewer than
//! `min_cases` cases (default 10) takes no part, neither as a peer nor as a candidate.

use crate::indicators::{
    institution_indicators_with, median, Indicator, InstitutionIndicators, Unit,
};
use crate::input::{MonitorInput, PeerGroup, Period};
use crate::policy::Policy;
use medfund_contract::finding::{Category, Finding, Level, Outcome};
use medfund_contract::money::Fen;
use serde_json::json;
use std::collections::BTreeMap;

/// The indicators §4.1 compares with peers.
pub const OUTLIER_INDICATORS: &[Indicator] = &[
    Indicator::AvgCostOpt,
    Indicator::AvgCostIpt,
    Indicator::LinesPerVisit,
    Indicator::DrugShare,
];

/// The rule id of an outlier finding: the indicator and the period, so the same institution
/// flagged again in a later month is a new finding (a finding's id is derived from its rule id
/// and keys, and an institution-level finding has no other key that carries the period).
pub fn rule_id(ind: Indicator, period: Period) -> String {
    format!("provider_outlier.{}.{}", ind.key(), period.label())
}

/// `provider_outlier` findings of every institution active in `period` (e.g. a month, or the
/// whole span of a batch: see [`MonitorInput::claim_months`]). Sorted by institution code, then
/// indicator; each finding is sealed.
pub fn provider_outliers(input: &MonitorInput, period: Period, policy: &Policy) -> Vec<Finding> {
    let rows = institution_indicators_with(input, period, policy, false);
    outliers_from_indicators(&rows, period, policy)
}

/// The same, from indicators already computed (the monthly report reuses its own).
pub fn outliers_from_indicators(
    rows: &[InstitutionIndicators],
    period: Period,
    policy: &Policy,
) -> Vec<Finding> {
    let p = &policy.outlier;
    let mut out = Vec::new();
    for &ind in OUTLIER_INDICATORS {
        let mut groups: BTreeMap<PeerGroup, Vec<(usize, f64)>> = BTreeMap::new();
        for (k, r) in rows.iter().enumerate() {
            if cases(r, ind) < p.min_cases {
                continue;
            }
            if let (Some(g), Some(v)) = (r.peer_group, r.get(ind).value) {
                groups.entry(g).or_default().push((k, v));
            }
        }
        for (g, members) in groups {
            let mut xs: Vec<f64> = members.iter().map(|m| m.1).collect();
            let Some(med) = median(&mut xs) else { continue };
            let mut dev: Vec<f64> = members.iter().map(|m| (m.1 - med).abs()).collect();
            let Some(mad) = median(&mut dev) else {
                continue;
            };
            if mad <= 0.0 {
                continue;
            }
            for (k, x) in &members {
                let z = (x - med) / (p.mad_scale * mad);
                if z > p.z_threshold && *x > p.median_multiple * med {
                    out.push(finding(
                        &rows[*k],
                        ind,
                        g,
                        *x,
                        med,
                        mad,
                        z,
                        members.len(),
                        period,
                        policy,
                    ));
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.fixmedins_code, &a.rule_id).cmp(&(&b.fixmedins_code, &b.rule_id)));
    out
}

/// How many cases an institution's value of an outlier indicator rests on.
fn cases(r: &InstitutionIndicators, ind: Indicator) -> u64 {
    match ind {
        Indicator::AvgCostOpt => r.stats.opt_visits,
        Indicator::AvgCostIpt => r.stats.ipt_fee_stays,
        _ => r.stats.fee_visits,
    }
}

/// Formats an indicator value for a Chinese sentence.
pub fn show(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Count => format!("{v:.0}"),
        Unit::Fen => format!("{} 元", Fen(v.round() as i64)),
        Unit::Share => format!("{:.1}%", v * 100.0),
        Unit::Number => format!("{v:.2}"),
    }
}

#[allow(clippy::too_many_arguments)]
fn finding(
    r: &InstitutionIndicators,
    ind: Indicator,
    g: PeerGroup,
    x: f64,
    med: f64,
    mad: f64,
    z: f64,
    n: usize,
    period: Period,
    policy: &Policy,
) -> Finding {
    let mut f = Finding::new(
        rule_id(ind, period),
        Category::ProviderOutlier,
        Level::Fixmedins,
    );
    f.result = Outcome::Suspect;
    f.severity = policy.outlier.severity;
    f.fixmedins_code = Some(r.fixmedins_code.as_str().into());
    let unit = ind.unit();
    let name = if r.fixmedins_name.is_empty() {
        r.fixmedins_code.clone()
    } else {
        r.fixmedins_name.clone()
    };
    f.evidence.text = format!(
        "{name}在 {period} 的{ind}为 {value}，同级同类机构（{group}，共 {n} 家）中位数为 {med}，\
         稳健 z 值 {z:.1}（阈值 {zt}），为中位数的 {ratio:.2} 倍（阈值 {mm} 倍），明显偏离同级机构，请核查其诊疗与收费行为。",
        period = period.label(),
        ind = ind.zh(),
        value = show(unit, x),
        group = g.zh(),
        med = show(unit, med),
        zt = policy.outlier.z_threshold,
        ratio = x / med,
        mm = policy.outlier.median_multiple,
    );
    let num = |v: f64| {
        if unit == Unit::Fen {
            json!(Fen(v.round() as i64))
        } else {
            json!(v)
        }
    };
    f.evidence.details = json!({
        "indicator": ind.key(),
        "indicator_zh": ind.zh(),
        "unit": unit,
        "period": period.label(),
        "value": num(x),
        "peer_median": num(med),
        "mad": num(mad),
        "z": (z * 100.0).round() / 100.0,
        "peer_group": g,
        "peer_count": n,
        "z_threshold": policy.outlier.z_threshold,
        "median_multiple": policy.outlier.median_multiple,
    });
    f.seal();
    f
}
