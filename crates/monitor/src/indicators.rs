//! Per-institution monitoring indicators over a period (DOMAIN.md §5, seed 002), with the same
//! period of the previous year (the baseline) and the peer group (same type and hosp_lv).
//!
//! Sums of money are exact [`Fen`]; averages of money are rounded half up to the fen; ratios and
//! counts per visit are `f64` (they are not money). Exact definitions: `docs/monitoring.md`.

use crate::input::{city_of, is_drug, visit_month, visit_times, MonitorInput, PeerGroup, Period};
use crate::policy::Policy;
use medfund_contract::money::{div_round_half_up, Fen};
use medfund_contract::records::{CatalogEntry, Fixmedins};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Raw counts and sums of one institution over a period: everything the indicators are
/// computed from, kept so a reader can check any ratio by hand.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Visits of the institution counted in the period (all med_types).
    pub visits: u64,
    /// Distinct insured persons among those visits.
    pub heads: u64,
    /// Outpatient visits (policy `outpatient_med_types`) that have at least one fee line.
    pub opt_visits: u64,
    /// Sum of the fee lines of those visits.
    pub opt_cost: Fen,
    /// Inpatient stays counted in the period (referral-rate denominator).
    pub ipt_stays: u64,
    /// Inpatient stays that have at least one fee line.
    pub ipt_fee_stays: u64,
    /// Sum of the fee lines of those stays.
    pub ipt_cost: Fen,
    /// Inpatient stays with a discharge time (length-of-stay denominator).
    pub los_stays: u64,
    /// Their total length of stay in days (discharge date − admission date, at least 1 each).
    pub los_days: i64,
    /// Inpatient stays at institutions in another city whose referring institution is this one.
    pub referrals_out: u64,
    /// Visits with at least one fee line (lines-per-visit denominator).
    pub fee_visits: u64,
    /// Fee lines with a positive quantity (refund lines are not services).
    pub lines: u64,
    /// Sum of all fee line amounts, refunds included.
    pub fee_total: Fen,
    /// Sum of drug line amounts (catalog list_type 1 or 2; code shape for unlisted codes).
    pub drug_amount: Fen,
    /// Sum of self-pay item amounts (catalog chrgitm_lv 3).
    pub self_pay_amount: Fen,
    /// Occupied bed-days in the period (only for institutions with beds in the policy).
    pub bed_days: i64,
    /// Pooled-fund payments (hifp_pay) of settlements in the period.
    pub fund_spending: Fen,
    /// Total medical fees (medfee_sumamt) of settlements in the period.
    pub medfee: Fen,
}

impl Stats {
    /// Adds another period's stats (e.g. the months of a year). Every field is a sum, so the
    /// result is the stats of the joined periods, except `heads`, which then counts
    /// person-months rather than distinct persons ([`Indicator::additive`]).
    pub fn add(&mut self, o: &Stats) {
        self.visits += o.visits;
        self.heads += o.heads;
        self.opt_visits += o.opt_visits;
        self.opt_cost += o.opt_cost;
        self.ipt_stays += o.ipt_stays;
        self.ipt_fee_stays += o.ipt_fee_stays;
        self.ipt_cost += o.ipt_cost;
        self.los_stays += o.los_stays;
        self.los_days += o.los_days;
        self.referrals_out += o.referrals_out;
        self.fee_visits += o.fee_visits;
        self.lines += o.lines;
        self.fee_total += o.fee_total;
        self.drug_amount += o.drug_amount;
        self.self_pay_amount += o.self_pay_amount;
        self.bed_days += o.bed_days;
        self.fund_spending += o.fund_spending;
        self.medfee += o.medfee;
    }
}

/// The indicators, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    Visits,
    VisitsPerHead,
    AvgCostOpt,
    AvgCostIpt,
    ReferralRate,
    DrugShare,
    AvgLos,
    BedOccupancy,
    SelfPayShare,
    LinesPerVisit,
    FundSpending,
    Medfee,
}

/// How an indicator's value reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A whole count.
    Count,
    /// Money in fen (averages rounded half up to the fen).
    Fen,
    /// A share between 0 and 1 (shown as a percentage).
    Share,
    /// A plain number (per head, per visit, days).
    Number,
}

impl Indicator {
    /// Every indicator in report order.
    pub const ALL: &'static [Indicator] = &[
        Indicator::Visits,
        Indicator::VisitsPerHead,
        Indicator::AvgCostOpt,
        Indicator::AvgCostIpt,
        Indicator::ReferralRate,
        Indicator::DrugShare,
        Indicator::AvgLos,
        Indicator::BedOccupancy,
        Indicator::SelfPayShare,
        Indicator::LinesPerVisit,
        Indicator::FundSpending,
        Indicator::Medfee,
    ];

    /// The indicator of a stable key (`avg_cost_opt`, …).
    pub fn from_key(key: &str) -> Option<Indicator> {
        Indicator::ALL.iter().copied().find(|i| i.key() == key)
    }

    /// Whether the indicator of joined periods can be computed from summed stats
    /// ([`Stats::add`]): all but `visits_per_head`, whose distinct persons do not add up.
    pub fn additive(self) -> bool {
        self != Indicator::VisitsPerHead
    }

    /// Stable key used in JSON and rule ids.
    pub fn key(self) -> &'static str {
        match self {
            Indicator::Visits => "visits",
            Indicator::VisitsPerHead => "visits_per_head",
            Indicator::AvgCostOpt => "avg_cost_opt",
            Indicator::AvgCostIpt => "avg_cost_ipt",
            Indicator::ReferralRate => "referral_rate",
            Indicator::DrugShare => "drug_share",
            Indicator::AvgLos => "avg_los",
            Indicator::BedOccupancy => "bed_occupancy",
            Indicator::SelfPayShare => "self_pay_share",
            Indicator::LinesPerVisit => "lines_per_visit",
            Indicator::FundSpending => "fund_spending",
            Indicator::Medfee => "medfee",
        }
    }

    /// The Chinese name used in seed 002 and the bureau's reports.
    pub fn zh(self) -> &'static str {
        match self {
            Indicator::Visits => "就医人次",
            Indicator::VisitsPerHead => "就医人次人头比",
            Indicator::AvgCostOpt => "门诊均次费用",
            Indicator::AvgCostIpt => "住院均次费用",
            Indicator::ReferralRate => "转市外住院率",
            Indicator::DrugShare => "药品收入占比",
            Indicator::AvgLos => "平均住院床日",
            Indicator::BedOccupancy => "病床使用率",
            Indicator::SelfPayShare => "自费项目费用占比",
            Indicator::LinesPerVisit => "次均明细条数",
            Indicator::FundSpending => "统筹基金支出",
            Indicator::Medfee => "医疗总费用",
        }
    }

    /// The unit of the value.
    pub fn unit(self) -> Unit {
        match self {
            Indicator::Visits => Unit::Count,
            Indicator::AvgCostOpt
            | Indicator::AvgCostIpt
            | Indicator::FundSpending
            | Indicator::Medfee => Unit::Fen,
            Indicator::ReferralRate
            | Indicator::DrugShare
            | Indicator::BedOccupancy
            | Indicator::SelfPayShare => Unit::Share,
            Indicator::VisitsPerHead | Indicator::AvgLos | Indicator::LinesPerVisit => Unit::Number,
        }
    }

    /// The value as an exact fraction `(numerator, denominator)` with a positive denominator, for
    /// comparing against policy thresholds without rounding; `None` exactly when
    /// [`Indicator::value`] is. Averages of money are the rounded fen over 1, as in `value`.
    ///
    /// ```
    /// use medfund_monitor::indicators::{Indicator, Stats};
    /// let s = Stats { ipt_stays: 20, referrals_out: 3, ..Default::default() };
    /// assert_eq!(Indicator::ReferralRate.fraction(&s, None, 31), Some((3, 20)));
    /// assert_eq!(Indicator::AvgLos.fraction(&s, None, 31), None);
    /// ```
    pub fn fraction(self, s: &Stats, beds: Option<u32>, days: i64) -> Option<(i128, i128)> {
        let f = |n: i128, d: i128| (d > 0).then_some((n, d));
        let avg_fen =
            |sum: Fen, n: u64| (n > 0).then(|| (div_round_half_up(sum.0 as i128, n as i128), 1));
        match self {
            Indicator::Visits => Some((s.visits as i128, 1)),
            Indicator::VisitsPerHead => f(s.visits as i128, s.heads as i128),
            Indicator::AvgCostOpt => avg_fen(s.opt_cost, s.opt_visits),
            Indicator::AvgCostIpt => avg_fen(s.ipt_cost, s.ipt_fee_stays),
            Indicator::ReferralRate => f(s.referrals_out as i128, s.ipt_stays as i128),
            Indicator::DrugShare => f(s.drug_amount.0 as i128, s.fee_total.0 as i128),
            Indicator::AvgLos => f(s.los_days as i128, s.los_stays as i128),
            Indicator::BedOccupancy => f(s.bed_days as i128, beds? as i128 * days as i128),
            Indicator::SelfPayShare => f(s.self_pay_amount.0 as i128, s.fee_total.0 as i128),
            Indicator::LinesPerVisit => f(s.lines as i128, s.fee_visits as i128),
            Indicator::FundSpending => Some((s.fund_spending.0 as i128, 1)),
            Indicator::Medfee => Some((s.medfee.0 as i128, 1)),
        }
    }

    /// The value from the raw stats; `None` when the denominator is zero or unknown
    /// (`beds` = the institution's beds from the policy, `days` = days in the period).
    pub fn value(self, s: &Stats, beds: Option<u32>, days: i64) -> Option<f64> {
        let ratio = |n: f64, d: u64| (d > 0).then(|| n / d as f64);
        let share = |n: Fen, d: Fen| (d.0 > 0).then(|| n.0 as f64 / d.0 as f64);
        let avg_fen =
            |sum: Fen, n: u64| (n > 0).then(|| div_round_half_up(sum.0 as i128, n as i128) as f64);
        match self {
            Indicator::Visits => Some(s.visits as f64),
            Indicator::VisitsPerHead => ratio(s.visits as f64, s.heads),
            Indicator::AvgCostOpt => avg_fen(s.opt_cost, s.opt_visits),
            Indicator::AvgCostIpt => avg_fen(s.ipt_cost, s.ipt_fee_stays),
            Indicator::ReferralRate => ratio(s.referrals_out as f64, s.ipt_stays),
            Indicator::DrugShare => share(s.drug_amount, s.fee_total),
            Indicator::AvgLos => ratio(s.los_days as f64, s.los_stays),
            Indicator::BedOccupancy => {
                let beds = beds? as i64;
                (days > 0).then(|| s.bed_days as f64 / (beds * days) as f64)
            }
            Indicator::SelfPayShare => share(s.self_pay_amount, s.fee_total),
            Indicator::LinesPerVisit => ratio(s.lines as f64, s.fee_visits),
            Indicator::FundSpending => Some(s.fund_spending.0 as f64),
            Indicator::Medfee => Some(s.medfee.0 as f64),
        }
    }
}

/// Computes the raw stats of every institution with activity in `period`.
/// Keyed by fixmedins_code (sorted, so reports are deterministic).
pub fn period_stats(
    input: &MonitorInput,
    period: Period,
    policy: &Policy,
) -> BTreeMap<String, Stats> {
    let fixmedins: HashMap<&str, &Fixmedins> = input
        .fixmedins
        .iter()
        .map(|f| (f.fixmedins_code.as_str(), f))
        .collect();
    let catalog: HashMap<&str, &CatalogEntry> = input
        .catalog
        .iter()
        .map(|c| (c.med_list_codg.as_str(), c))
        .collect();
    let first_setl = visit_times(input);
    let opt_types: HashSet<&str> = policy
        .indicators
        .outpatient_med_types
        .iter()
        .map(|s| s.as_str())
        .collect();

    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut codes: Vec<&str> = Vec::new();
    let mut acc: Vec<Stats> = Vec::new();

    // Visit kind: 0 other, 1 outpatient (cost indicator), 2 inpatient.
    struct V {
        inst: usize,
        kind: u8,
        has_fee: bool,
    }
    let mut visits: Vec<V> = Vec::new();
    let mut visit_ix: HashMap<&str, usize> = HashMap::new();
    let mut heads: HashSet<(usize, &str)> = HashSet::new();

    fn get<'a>(
        code: &'a str,
        index: &mut HashMap<&'a str, usize>,
        codes: &mut Vec<&'a str>,
        acc: &mut Vec<Stats>,
    ) -> usize {
        *index.entry(code).or_insert_with(|| {
            codes.push(code);
            acc.push(Stats::default());
            acc.len() - 1
        })
    }

    for m in input.mdtrt {
        if !period.contains(visit_month(m, &first_setl)) {
            continue;
        }
        let i = get(m.fixmedins_code.as_str(), &mut index, &mut codes, &mut acc);
        let kind = if m.is_inpatient() {
            2
        } else if opt_types.contains(m.med_type.as_str()) {
            1
        } else {
            0
        };
        let s = &mut acc[i];
        s.visits += 1;
        if heads.insert((i, m.psn_no.as_str())) {
            s.heads += 1;
        }
        if kind == 2 {
            s.ipt_stays += 1;
            if let Some(end) = m.endtime {
                s.los_stays += 1;
                s.los_days += (end.date() - m.begntime.date()).num_days().max(1);
            }
            if let Some(r) = m.refl_fixmedins_code.as_deref() {
                let here = city_of(m.fixmedins_code.as_str(), &fixmedins);
                let there = city_of(r, &fixmedins);
                if here.is_some() && there.is_some() && here != there {
                    let j = get(r, &mut index, &mut codes, &mut acc);
                    acc[j].referrals_out += 1;
                }
            }
        }
        if visit_ix.insert(m.mdtrt_id.as_str(), visits.len()).is_none() {
            visits.push(V {
                inst: i,
                kind,
                has_fee: false,
            });
        }
    }

    for f in input.fee {
        let Some(&v) = visit_ix.get(f.mdtrt_id.as_str()) else {
            continue;
        };
        let visit = &mut visits[v];
        let s = &mut acc[visit.inst];
        let amt = f.det_item_fee_sumamt;
        visit.has_fee = true;
        if f.cnt.0 > 0 {
            s.lines += 1;
        }
        s.fee_total += amt;
        let code = f.med_list_codg.as_str();
        if is_drug(code, &catalog) {
            s.drug_amount += amt;
        }
        if catalog.get(code).and_then(|c| c.chrgitm_lv) == Some(3) {
            s.self_pay_amount += amt;
        }
        match visit.kind {
            1 => s.opt_cost += amt,
            2 => s.ipt_cost += amt,
            _ => {}
        }
    }
    for v in &visits {
        if v.has_fee {
            let s = &mut acc[v.inst];
            s.fee_visits += 1;
            match v.kind {
                1 => s.opt_visits += 1,
                2 => s.ipt_fee_stays += 1,
                _ => {}
            }
        }
    }

    // Bed-days: every stay overlapping the period, whatever month it is counted in. A stay
    // occupies its admission date up to the day before discharge (a same-day stay one day);
    // a stay with no discharge yet occupies a bed through the end of the period.
    let (p0, p1) = (period.first_day(), period.end_exclusive());
    for m in input.mdtrt {
        if !m.is_inpatient() || policy.beds_of(m.fixmedins_code.as_str()).is_none() {
            continue;
        }
        let adm = m.begntime.date();
        let dis = match m.endtime {
            Some(e) => e.date().max(adm + chrono::Days::new(1)),
            None => p1,
        };
        let (a, b) = (adm.max(p0), dis.min(p1));
        if a < b {
            let i = get(m.fixmedins_code.as_str(), &mut index, &mut codes, &mut acc);
            acc[i].bed_days += (b - a).num_days();
        }
    }

    for s in input.setl {
        if !period.contains(medfund_contract::time::YearMonth::of(s.setl_time.date())) {
            continue;
        }
        let i = get(s.fixmedins_code.as_str(), &mut index, &mut codes, &mut acc);
        acc[i].fund_spending += s.hifp_pay;
        acc[i].medfee += s.medfee_sumamt;
    }

    codes.into_iter().map(String::from).zip(acc).collect()
}

/// One indicator of one institution with its baseline and peer comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    pub indicator: Indicator,
    /// Chinese name.
    pub name: &'static str,
    pub unit: Unit,
    /// This period's value (`Fen` unit: fen).
    pub value: Option<f64>,
    /// The same period of the previous year.
    pub baseline: Option<f64>,
    /// (value − baseline) ÷ baseline, when both exist and the baseline is positive.
    pub yoy: Option<f64>,
    /// Median of the peer group's values this period (the institution included).
    pub peer_median: Option<f64>,
    /// How many peers (the institution included) have a value.
    pub peer_count: usize,
}

/// One institution's indicators for a period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InstitutionIndicators {
    pub fixmedins_code: String,
    /// Empty when the institution is not in the `fixmedins` table.
    pub fixmedins_name: String,
    /// `None` when the institution is not in the `fixmedins` table (no peer group).
    pub peer_group: Option<PeerGroup>,
    pub hosp_lv: Option<u8>,
    pub stats: Stats,
    pub baseline_stats: Option<Stats>,
    pub indicators: Vec<Comparison>,
}

impl InstitutionIndicators {
    /// The comparison of one indicator.
    pub fn get(&self, ind: Indicator) -> &Comparison {
        self.indicators
            .iter()
            .find(|c| c.indicator == ind)
            .expect("every indicator is present")
    }
}

/// A median of whole-fen values (a value or the mean of two) rounded half up to the fen.
///
/// ```
/// use medfund_monitor::indicators::whole_fen;
/// assert_eq!(whole_fen(12345.5), 12346.0); // the mean of 12345 and 12346 fen
/// assert_eq!(whole_fen(-0.5), -1.0);       // half away from zero, as money rounds
/// assert_eq!(whole_fen(700.0), 700.0);
/// ```
pub fn whole_fen(m: f64) -> f64 {
    // 2m is the sum of two whole-fen values: exact in f64 far beyond any budget.
    let twice = (m * 2.0).round() as i128;
    div_round_half_up(twice, 2) as f64
}

/// Median of a non-empty list (the mean of the two middle values for an even count).
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// Indicators of every institution active in `period` (or its baseline), with the baseline
/// (`period` − 12 months) and the peer medians.
pub fn institution_indicators(
    input: &MonitorInput,
    period: Period,
    policy: &Policy,
) -> Vec<InstitutionIndicators> {
    institution_indicators_with(input, period, policy, true)
}

/// [`institution_indicators`], optionally without the baseline (the outlier rule needs none).
pub fn institution_indicators_with(
    input: &MonitorInput,
    period: Period,
    policy: &Policy,
    with_baseline: bool,
) -> Vec<InstitutionIndicators> {
    let current = period_stats(input, period, policy);
    let base_period = period.shift(-12);
    let baseline = if with_baseline {
        period_stats(input, base_period, policy)
    } else {
        BTreeMap::new()
    };
    let fixmedins: HashMap<&str, &Fixmedins> = input
        .fixmedins
        .iter()
        .map(|f| (f.fixmedins_code.as_str(), f))
        .collect();
    let days = period.days();
    let base_days = base_period.days();
    // An institution appears when it is active now; one active only in the baseline is listed
    // too (with zero activity now), because a hospital that stopped billing is news.
    let mut codes: Vec<&String> = current.keys().chain(baseline.keys()).collect();
    codes.sort();
    codes.dedup();

    let mut out: Vec<InstitutionIndicators> = codes
        .into_iter()
        .map(|code| {
            let f = fixmedins.get(code.as_str());
            let stats = current.get(code).cloned().unwrap_or_default();
            let base = baseline.get(code).cloned();
            let beds = policy.beds_of(code);
            let indicators = Indicator::ALL
                .iter()
                .map(|&ind| {
                    let value = ind.value(&stats, beds, days);
                    let b = base.as_ref().and_then(|b| ind.value(b, beds, base_days));
                    let yoy = match (value, b) {
                        (Some(v), Some(b)) if b > 0.0 => Some((v - b) / b),
                        _ => None,
                    };
                    Comparison {
                        indicator: ind,
                        name: ind.zh(),
                        unit: ind.unit(),
                        value,
                        baseline: b,
                        yoy,
                        peer_median: None,
                        peer_count: 0,
                    }
                })
                .collect();
            InstitutionIndicators {
                fixmedins_code: code.clone(),
                fixmedins_name: f.map(|f| f.fixmedins_name.clone()).unwrap_or_default(),
                peer_group: f.map(|f| PeerGroup::of(f)),
                hosp_lv: f.and_then(|f| f.hosp_lv),
                stats,
                baseline_stats: base,
                indicators,
            }
        })
        .collect();

    // Peer medians per group and indicator over the institutions that have a value.
    let mut groups: BTreeMap<(PeerGroup, usize), Vec<f64>> = BTreeMap::new();
    for inst in &out {
        let Some(g) = inst.peer_group else { continue };
        for (k, c) in inst.indicators.iter().enumerate() {
            if let Some(v) = c.value {
                groups.entry((g, k)).or_default().push(v);
            }
        }
    }
    let medians: BTreeMap<(PeerGroup, usize), (Option<f64>, usize)> = groups
        .into_iter()
        .map(|(k, mut v)| (k, (median(&mut v), v.len())))
        .collect();
    for inst in &mut out {
        let Some(g) = inst.peer_group else { continue };
        for (k, c) in inst.indicators.iter_mut().enumerate() {
            if let Some(&(m, n)) = medians.get(&(g, k)) {
                // A money median of an even count is the mean of two whole-fen values: round it
                // half up to the fen like every other average of money, never half a fen.
                c.peer_median = match c.unit {
                    Unit::Fen => m.map(whole_fen),
                    _ => m,
                };
                c.peer_count = n;
            }
        }
    }
    out
}
