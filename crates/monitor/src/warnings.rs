//! Early warnings (seed 002 三、2: 费用增长过快、达到总控制额度较高比例; DOMAIN.md §5).
//!
//! Every comparison with a policy share is exact integer arithmetic on counts and fen (the share
//! is taken in basis points), so a value exactly at a threshold behaves as documented.

use crate::indicators::{Indicator, InstitutionIndicators};
use crate::input::{city_of, MonitorInput};
use crate::policy::{basis_points, Policy};
use medfund_contract::money::Fen;
use medfund_contract::records::{Fixmedins, FixmedinsType, Mdtrt};
use medfund_contract::time::YearMonth;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The kinds of warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// 就医人次同比增长过快.
    VisitGrowth,
    /// 统筹基金支出同比增长过快.
    SpendingGrowth,
    /// 门诊均次费用未实现零增长.
    AvgCostOptGrowth,
    /// 住院均次费用未实现零增长.
    AvgCostIptGrowth,
    /// 转市外住院率超标.
    ReferralRate,
    /// 预算使用进度超前.
    BudgetAhead,
    /// 预算接近用尽.
    BudgetNearCap,
}

impl WarningKind {
    /// Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            WarningKind::VisitGrowth => "就医人次增长过快",
            WarningKind::SpendingGrowth => "基金支出增长过快",
            WarningKind::AvgCostOptGrowth => "门诊均次费用未实现零增长",
            WarningKind::AvgCostIptGrowth => "住院均次费用未实现零增长",
            WarningKind::ReferralRate => "转市外住院率超标",
            WarningKind::BudgetAhead => "总额预算使用进度超前",
            WarningKind::BudgetNearCap => "总额预算接近用尽",
        }
    }
}

/// One warning about one institution.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Warning {
    pub fixmedins_code: String,
    pub fixmedins_name: String,
    pub kind: WarningKind,
    /// Chinese name of the kind.
    pub kind_zh: &'static str,
    /// The observed share (growth, rate or budget use).
    pub value: f64,
    /// The threshold it crossed (a share).
    pub threshold: f64,
    /// A sentence for the report.
    pub message: String,
}

/// An institution's use of its yearly total budget up to the end of a month (DOMAIN.md §6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BudgetStatus {
    pub fixmedins_code: String,
    pub year: i32,
    /// C = cap_in + approved_extra + cap_out.
    pub cap: Fen,
    /// A_in: pooled-fund payments of the institution's own settlements, January to the month.
    pub spent_in: Fen,
    /// A_out: pooled-fund payments of out-of-city visits it referred, January to the month.
    pub spent_out: Fen,
    /// A = A_in + A_out.
    pub spent: Fen,
    /// Months elapsed in the year (the report month's number).
    pub elapsed_months: u32,
}

impl BudgetStatus {
    /// A ÷ C (a share; `None` for a zero cap).
    pub fn used_share(&self) -> Option<f64> {
        (self.cap.0 > 0).then(|| self.spent.0 as f64 / self.cap.0 as f64)
    }
}

/// Budget use of every institution with a budget for `month`'s year.
pub fn budget_status(input: &MonitorInput, month: YearMonth) -> Vec<BudgetStatus> {
    let fixmedins: HashMap<&str, &Fixmedins> = input
        .fixmedins
        .iter()
        .map(|f| (f.fixmedins_code.as_str(), f))
        .collect();
    let mut out: BTreeMap<&str, BudgetStatus> = BTreeMap::new();
    for b in input.budget.iter().filter(|b| b.year == month.year) {
        let cap = b.cap_in + b.approved_extra.unwrap_or(Fen::ZERO) + b.cap_out.unwrap_or(Fen::ZERO);
        // A duplicated budget row (same key) keeps the last one, as a reload would.
        out.insert(
            b.fixmedins_code.as_str(),
            BudgetStatus {
                fixmedins_code: b.fixmedins_code.to_string(),
                year: b.year,
                cap,
                spent_in: Fen::ZERO,
                spent_out: Fen::ZERO,
                spent: Fen::ZERO,
                elapsed_months: month.month,
            },
        );
    }
    if out.is_empty() {
        return Vec::new();
    }
    let jan = YearMonth {
        year: month.year,
        month: 1,
    };
    let referred: HashMap<&str, &Mdtrt> = input
        .mdtrt
        .iter()
        .filter(|m| m.refl_fixmedins_code.is_some())
        .map(|m| (m.mdtrt_id.as_str(), m))
        .collect();
    for s in input.setl {
        let sm = YearMonth::of(s.setl_time.date());
        if sm < jan || sm > month {
            continue;
        }
        if let Some(b) = out.get_mut(s.fixmedins_code.as_str()) {
            b.spent_in += s.hifp_pay;
        }
        if let Some(m) = referred.get(s.mdtrt_id.as_str()) {
            let r = m.refl_fixmedins_code.as_deref().unwrap_or_default();
            let here = city_of(m.fixmedins_code.as_str(), &fixmedins);
            let there = city_of(r, &fixmedins);
            if here.is_some() && there.is_some() && here != there {
                if let Some(b) = out.get_mut(r) {
                    b.spent_out += s.hifp_pay;
                }
            }
        }
    }
    out.into_values()
        .map(|mut b| {
            b.spent = b.spent_in + b.spent_out;
            b
        })
        .collect()
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// The warnings of a month from the indicators (with baseline) and budget use.
pub fn warnings(
    rows: &[InstitutionIndicators],
    budgets: &[BudgetStatus],
    policy: &Policy,
) -> Vec<Warning> {
    let w = &policy.warnings;
    let mut out = Vec::new();
    let names: HashMap<&str, &str> = rows
        .iter()
        .map(|r| (r.fixmedins_code.as_str(), r.fixmedins_name.as_str()))
        .collect();
    let label = |code: &str| -> String {
        match names.get(code) {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => code.to_string(),
        }
    };
    let mut push = |code: &str, kind: WarningKind, value: f64, threshold: f64, message: String| {
        out.push(Warning {
            fixmedins_code: code.to_string(),
            fixmedins_name: names.get(code).map(|n| n.to_string()).unwrap_or_default(),
            kind,
            kind_zh: kind.zh(),
            value,
            threshold,
            message,
        });
    };
    // (current − base) ÷ base > share  ⇔  current × 10000 > base × (10000 + bp), base > 0.
    let grew = |cur: i128, base: i128, share: f64| {
        base > 0 && cur * 10_000 > base * (10_000 + basis_points(share))
    };

    for r in rows {
        let code = r.fixmedins_code.as_str();
        let s = &r.stats;
        let Some(b) = &r.baseline_stats else { continue };
        let enough = b.visits >= w.min_baseline_visits;
        if enough && grew(s.visits as i128, b.visits as i128, w.visit_growth_max) {
            let g = (s.visits as f64 - b.visits as f64) / b.visits as f64;
            push(
                code,
                WarningKind::VisitGrowth,
                g,
                w.visit_growth_max,
                format!(
                    "{} 就医人次 {} 人次，上年同期 {} 人次，同比增长 {}，超过预警线 {}。",
                    label(code),
                    s.visits,
                    b.visits,
                    pct(g),
                    pct(w.visit_growth_max)
                ),
            );
        }
        if enough
            && grew(
                s.fund_spending.0 as i128,
                b.fund_spending.0 as i128,
                w.spending_growth_max,
            )
        {
            let g = (s.fund_spending.0 - b.fund_spending.0) as f64 / b.fund_spending.0 as f64;
            push(
                code,
                WarningKind::SpendingGrowth,
                g,
                w.spending_growth_max,
                format!(
                    "{} 统筹基金支出 {} 元，上年同期 {} 元，同比增长 {}，超过预警线 {}。",
                    label(code),
                    s.fund_spending,
                    b.fund_spending,
                    pct(g),
                    pct(w.spending_growth_max)
                ),
            );
        }
        for (ind, kind, base_n) in [
            (
                Indicator::AvgCostOpt,
                WarningKind::AvgCostOptGrowth,
                b.opt_visits,
            ),
            (
                Indicator::AvgCostIpt,
                WarningKind::AvgCostIptGrowth,
                b.ipt_fee_stays,
            ),
        ] {
            let c = r.get(ind);
            let (Some(v), Some(bv)) = (c.value, c.baseline) else {
                continue;
            };
            if base_n >= w.min_baseline_visits && grew(v as i128, bv as i128, w.avg_cost_growth_max)
            {
                let g = (v - bv) / bv;
                push(
                    code,
                    kind,
                    g,
                    w.avg_cost_growth_max,
                    format!(
                        "{} {} {} 元，上年同期 {} 元，同比增长 {}，未实现零增长控制目标（容差 {}）。",
                        label(code),
                        ind.zh(),
                        Fen(v as i64),
                        Fen(bv as i64),
                        pct(g),
                        pct(w.avg_cost_growth_max)
                    ),
                );
            }
        }
    }

    for r in rows {
        let code = r.fixmedins_code.as_str();
        let s = &r.stats;
        let medical = r
            .peer_group
            .is_none_or(|g| g.fixmedins_type == FixmedinsType::Medical.code());
        if medical
            && s.ipt_stays > 0
            && (s.referrals_out as i128) * 10_000
                > (s.ipt_stays as i128) * basis_points(w.referral_rate_max)
        {
            let rate = s.referrals_out as f64 / s.ipt_stays as f64;
            push(
                code,
                WarningKind::ReferralRate,
                rate,
                w.referral_rate_max,
                format!(
                    "{} 转市外住院 {} 人次，本院住院 {} 人次，转市外住院率 {}，超过控制线 {}。",
                    label(code),
                    s.referrals_out,
                    s.ipt_stays,
                    pct(rate),
                    pct(w.referral_rate_max)
                ),
            );
        }
    }

    for b in budgets {
        if b.cap.0 <= 0 {
            continue;
        }
        let code = b.fixmedins_code.as_str();
        let (a, c, m) = (b.spent.0 as i128, b.cap.0 as i128, b.elapsed_months as i128);
        let used = a as f64 / c as f64;
        // A ÷ C > m ÷ 12 × (1 + t)  ⇔  A × 12 × 10000 > C × m × (10000 + bp)
        if a * 12 * 10_000 > c * m * (10_000 + basis_points(w.budget_tolerance)) {
            let expected = m as f64 / 12.0;
            push(
                code,
                WarningKind::BudgetAhead,
                used,
                expected * (1.0 + w.budget_tolerance),
                format!(
                    "{} {} 年总额预算 {} 元，截至 {} 月已使用 {} 元（{}），时间进度 {}，超前超过 {}。",
                    label(code),
                    b.year,
                    b.cap,
                    b.elapsed_months,
                    b.spent,
                    pct(used),
                    pct(expected),
                    pct(w.budget_tolerance)
                ),
            );
        }
        if a * 10_000 >= c * basis_points(w.budget_near_cap) {
            push(
                code,
                WarningKind::BudgetNearCap,
                used,
                w.budget_near_cap,
                format!(
                    "{} {} 年总额预算 {} 元，截至 {} 月已使用 {} 元（{}），达到预警线 {}。",
                    label(code),
                    b.year,
                    b.cap,
                    b.elapsed_months,
                    b.spent,
                    pct(used),
                    pct(w.budget_near_cap)
                ),
            );
        }
    }
    out.sort_by(|a, b| (&a.fixmedins_code, a.kind).cmp(&(&b.fixmedins_code, b.kind)));
    out
}
