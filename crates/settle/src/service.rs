//! The edges between the store and the settlement arithmetic, shared by the CLI and the server:
//! read the year's records, build the inputs ([`crate::source`]), settle, and report what was left
//! out. Storing the result is [`crate::runs::store_run`].

use crate::assess::{assess, InstitutionAssessment};
use crate::budget::{self, Assessment, BudgetLine, BudgetTotals, Warning};
use crate::points::PointSettlement;
use crate::policy::AssessBy;
use crate::policy::Policy;
use crate::source::{self, Scheme};
use anyhow::Context;
use medfund_contract::schema::Table;
use medfund_contract::{Batch, Code, Fen, YearMonth};
use medfund_monitor::indicators::Stats;
use medfund_store::{ClaimFilter, Store};
use std::collections::HashMap;

/// Inpatient visits are partitioned by admission month: a stay settled in January may have begun
/// months before, so visits are read from this many months before the year.
pub const VISIT_LOOKBACK_MONTHS: i32 = 6;

/// Reads the year's settlements and the visits they may refer to, with every reference table.
pub fn read_year(store: &mut Store, year: i32) -> anyhow::Result<Batch> {
    let first = YearMonth::new(year, 1).context("年份无效 / invalid year")?;
    let last = YearMonth::new(year, 12).context("年份无效 / invalid year")?;
    let mut b = store
        .read_claims(&ClaimFilter {
            from: Some(first),
            to: Some(last),
            tables: vec![Table::Setl],
        })
        .context("读取结算记录失败 / cannot read settlements from the store")?;
    let visits = store
        .read_claims(&ClaimFilter {
            from: Some(first.plus(-VISIT_LOOKBACK_MONTHS)),
            to: Some(last),
            tables: vec![Table::Mdtrt],
        })
        .context("读取就诊记录失败 / cannot read visits from the store")?;
    b.mdtrt = visits.mdtrt;
    Ok(b)
}

/// Institution names for the sheets.
pub fn names(fixmedins: &[medfund_contract::Fixmedins]) -> HashMap<Code, String> {
    fixmedins
        .iter()
        .map(|f| (f.fixmedins_code.clone(), f.fixmedins_name.clone()))
        .collect()
}

/// A budget settlement with what the report should say beside the numbers.
#[derive(Clone, Debug)]
pub struct BudgetOutcome {
    pub lines: Vec<BudgetLine>,
    pub totals: BudgetTotals,
    /// The city's 4-digit area prefix used for the in/out split (None with an input file).
    pub city: Option<String>,
    /// Institutions that spent fund money in the year but have no budget row.
    pub without_budget: Vec<Code>,
    /// With `assess_by = "indicators"`: each budget institution's indicator assessment and its
    /// reasons, and which assessment the settlement used (the input's or the policy table's
    /// override it).
    pub assessments: Vec<(Code, InstitutionAssessment, Assessment)>,
}

/// Settles the year from the store's `budget`, `setl`, `mdtrt` and `fixmedins` tables. `given`
/// assessments (e.g. from the monitoring review) override the policy file's.
pub fn budget_from_store(
    store: &mut Store,
    year: i32,
    policy: &Policy,
    given: &HashMap<Code, Assessment>,
) -> anyhow::Result<BudgetOutcome> {
    let budgets = store
        .budgets(year)
        .context("读取总额预算失败 / cannot read budgets")?;
    if budgets.is_empty() {
        anyhow::bail!(
            "库中没有 {year} 年度的总额预算（budget 表），请先加载含 budget.csv 的批次，或用 --input 提供 / no budget rows for {year}: load a batch with budget.csv or pass --input"
        );
    }
    let b = read_year(store, year)?;
    let city = source::city_prefix(policy.budget.city_admdvs.as_deref(), &budgets, &b.fixmedins)
        .context("无法确定本市行政区划，请在 policy/settle.toml 设置 [budget] city_admdvs / cannot infer the city: set city_admdvs")?;
    let spending = source::year_spending(
        year,
        &city,
        &b.setl,
        &b.mdtrt,
        &b.fixmedins,
        policy.budget.spending,
    );
    let mut merged = given.clone();
    let mut derived = Vec::new();
    if policy.budget.assess_by == AssessBy::Indicators {
        derived = indicator_assessments(store, year, &budgets, &policy.budget.targets)?;
        for (code, a) in &derived {
            // Precedence: the input, then the policy's per-institution table, then the indicators.
            if !given.contains_key(code) && !policy.budget.assessment.contains_key(code.as_str()) {
                if let Some(x) = a.assessment {
                    merged.insert(code.clone(), x);
                }
            }
        }
    }
    let inputs = source::budget_inputs(year, &budgets, &spending, &merged, &policy.budget);
    let used: HashMap<&Code, Assessment> = inputs
        .iter()
        .map(|i| (&i.fixmedins_code, i.assessment))
        .collect();
    let assessments = derived
        .into_iter()
        .filter_map(|(c, a)| used.get(&c).copied().map(|u| (c, a, u)))
        .collect();
    let lines = budget::settle_all(&inputs, &policy.budget)?;
    Ok(BudgetOutcome {
        totals: budget::totals(&lines),
        without_budget: source::without_budget(year, &budgets, &spending),
        city: Some(city),
        lines,
        assessments,
    })
}

/// The indicator assessment ([`crate::assess`]) of every institution with a budget row in
/// `year`, from the monitoring indicators of `year` and of the year before.
pub fn indicator_assessments(
    store: &mut Store,
    year: i32,
    budgets: &[medfund_contract::Budget],
    targets: &[crate::assess::Target],
) -> anyhow::Result<Vec<(Code, InstitutionAssessment)>> {
    let mpol = medfund_monitor::policy::Policy::load()?;
    let now = medfund_monitor::yearly::year_stats(store, year, &mpol)?;
    let base = medfund_monitor::yearly::year_stats(store, year - 1, &mpol)?;
    let days = |y: i32| {
        let d = |y| chrono::NaiveDate::from_ymd_opt(y, 1, 1).expect("a valid year");
        (d(y + 1) - d(y)).num_days()
    };
    let mut codes: Vec<&Code> = budgets
        .iter()
        .filter(|b| b.year == year)
        .map(|b| &b.fixmedins_code)
        .collect();
    codes.sort();
    codes.dedup();
    Ok(codes
        .into_iter()
        .map(|c| {
            let empty = Stats::default();
            let a = assess(
                now.get(c.as_str()).unwrap_or(&empty),
                base.get(c.as_str()),
                mpol.beds_of(c),
                days(year),
                days(year - 1),
                targets,
            );
            (c.clone(), a)
        })
        .collect())
}

/// The early warnings at the end of `month` from the store.
pub fn warnings_from_store(
    store: &mut Store,
    year: i32,
    month: u32,
    policy: &Policy,
) -> anyhow::Result<Vec<Warning>> {
    let budgets = store
        .budgets(year)
        .context("读取总额预算失败 / cannot read budgets")?;
    let b = read_year(store, year)?;
    let Some(city) =
        source::city_prefix(policy.budget.city_admdvs.as_deref(), &budgets, &b.fixmedins)
    else {
        return Ok(Vec::new());
    };
    let spending = source::year_spending(
        year,
        &city,
        &b.setl,
        &b.mdtrt,
        &b.fixmedins,
        policy.budget.spending,
    );
    let inputs = source::budget_inputs(year, &budgets, &spending, &HashMap::new(), &policy.budget);
    let mut out = Vec::new();
    for i in &inputs {
        let cap = i.cap_in + i.approved_extra + i.cap_out;
        let cumulative: Fen = spending
            .get(&i.fixmedins_code)
            .map(|s| {
                s.monthly[..month.clamp(1, 12) as usize]
                    .iter()
                    .copied()
                    .sum()
            })
            .unwrap_or_default();
        out.extend(budget::early_warning(
            &i.fixmedins_code,
            cap,
            cumulative,
            month,
            &policy.budget,
        ));
    }
    sort_warnings(&mut out);
    Ok(out)
}

/// Most severe first, then by institution.
pub fn sort_warnings(w: &mut [Warning]) {
    w.sort_by(|a, b| {
        b.kind
            .cmp(&a.kind)
            .then_with(|| a.fixmedins_code.cmp(&b.fixmedins_code))
    });
}

/// A point settlement with the counts of settlements left out.
#[derive(Clone, Debug)]
pub struct PointOutcome {
    pub result: PointSettlement,
    /// Settlements of the year without a group code.
    pub without_group: usize,
    /// Reversal or zero-cost settlements.
    pub non_positive: usize,
}

/// Settles the year's DRG or DIP cases from the store.
pub fn points_from_store(
    store: &mut Store,
    scheme: Scheme,
    year: i32,
    budget: Fen,
    policy: &Policy,
) -> anyhow::Result<PointOutcome> {
    let b = read_year(store, year)?;
    let pp = match scheme {
        Scheme::Drg => &policy.drg,
        Scheme::Dip => &policy.dip,
    };
    let ex = source::cases(scheme, year, &b.setl, &b.mdtrt, &b.fixmedins, pp);
    let result = crate::points::settle_points(&ex.cases, budget, pp).with_context(|| {
        format!(
            "{year} 年度 {} 结算失败（库中 {year} 年有分组编码的住院结算 {} 条） / settlement failed",
            scheme.zh(),
            ex.cases.len()
        )
    })?;
    Ok(PointOutcome {
        result,
        without_group: ex.without_group,
        non_positive: ex.non_positive,
    })
}

/// One institution's monthly prepayment (月度预付).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Prepayment {
    pub fixmedins_code: Code,
    pub month: u32,
    /// C of the year.
    pub cap: Fen,
    /// The month's quota: C ÷ 12 rounded (December: the remainder).
    pub quota: Fen,
    /// The month's fund spending (in-city + out-of-city referrals).
    pub spending: Fen,
    /// min(quota, spending), never negative.
    pub prepayment: Fen,
    /// Σ prepayments January..month.
    pub cumulative: Fen,
}

/// The prepayments of `month` for every institution with a budget, from the store.
pub fn prepayments_from_store(
    store: &mut Store,
    year: i32,
    month: u32,
    policy: &Policy,
) -> anyhow::Result<Vec<Prepayment>> {
    let month = month.clamp(1, 12);
    let budgets = store
        .budgets(year)
        .context("读取总额预算失败 / cannot read budgets")?;
    if budgets.is_empty() {
        anyhow::bail!("库中没有 {year} 年度的总额预算（budget 表） / no budget rows for {year}");
    }
    let b = read_year(store, year)?;
    let city = source::city_prefix(policy.budget.city_admdvs.as_deref(), &budgets, &b.fixmedins)
        .context("无法确定本市行政区划，请设置 [budget] city_admdvs / cannot infer the city")?;
    let spending = source::year_spending(
        year,
        &city,
        &b.setl,
        &b.mdtrt,
        &b.fixmedins,
        policy.budget.spending,
    );
    let inputs = source::budget_inputs(year, &budgets, &spending, &HashMap::new(), &policy.budget);
    Ok(inputs
        .iter()
        .map(|i| {
            let cap = i.cap_in + i.approved_extra + i.cap_out;
            let monthly = spending
                .get(&i.fixmedins_code)
                .map(|s| s.monthly)
                .unwrap_or_default();
            let pre = budget::monthly_prepayments(cap, &monthly);
            let m = month as usize - 1;
            Prepayment {
                fixmedins_code: i.fixmedins_code.clone(),
                month,
                cap,
                quota: budget::monthly_quotas(cap)[m],
                spending: monthly[m],
                prepayment: pre[m],
                cumulative: pre[..=m].iter().copied().sum(),
            }
        })
        .collect())
}
