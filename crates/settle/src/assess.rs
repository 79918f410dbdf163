//! The year's indicator assessment of an institution (考评结果), derived from the monitoring
//! indicators instead of being typed in (seed 002: the indicators "与年度决算额挂钩").
//!
//! Each [`Target`] of the policy names a monitoring indicator and the bound it must keep over the
//! settlement year: a ceiling on its value (`max`, e.g. 转市外住院率 ≤ 15%) and/or on its growth
//! over the previous year (`max_growth`, e.g. 均次费用零增长 = 0). A target whose value or
//! baseline is missing (no inpatient stays, no activity last year) is not assessed. Then
//! [`Assessment::from_met`]: all assessed targets met → `all`; some → `some`; none → `none`;
//! nothing assessed → no assessment (the policy's default applies).
//!
//! Comparisons are exact: indicator values are fractions of integers
//! ([`Indicator::fraction`]) and thresholds are [`Rate`]s, so "exactly 15%" is met.
//!
//! ```
//! use medfund_monitor::indicators::Stats;
//! use medfund_settle::assess::{assess, Target};
//! use medfund_settle::budget::Assessment;
//! use medfund_settle::rate::Rate;
//! let targets = vec![Target { indicator: "referral_rate".into(), max: Some(Rate::percent(15)), max_growth: None }];
//! let now = Stats { ipt_stays: 20, referrals_out: 3, ..Default::default() }; // exactly 15%
//! let a = assess(&now, None, None, 366, 365, &targets);
//! assert_eq!(a.assessment, Some(Assessment::All));
//! ```

use crate::budget::Assessment;
use crate::rate::Rate;
use medfund_monitor::indicators::{Indicator, Stats, Unit};
use serde::{Deserialize, Serialize};

/// One indicator target of the year-end assessment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The monitoring indicator's key: `avg_cost_opt`, `avg_cost_ipt`, `referral_rate`,
    /// `drug_share`, `avg_los`, `bed_occupancy`, `self_pay_share`, `lines_per_visit`.
    pub indicator: String,
    /// Ceiling on the year's value (shares as fractions: 0.15 = 15%; not for money indicators).
    #[serde(default)]
    pub max: Option<Rate>,
    /// Ceiling on the growth over the previous year (0 = zero growth, 0.05 = 5%).
    #[serde(default)]
    pub max_growth: Option<Rate>,
}

impl Target {
    /// Checks that the target can be assessed; the message says what to change.
    pub fn check(&self) -> Result<Indicator, String> {
        let ind = Indicator::from_key(&self.indicator).ok_or_else(|| {
            format!(
                "考评指标 '{}' 无法识别 / unknown assessment indicator '{}'",
                self.indicator, self.indicator
            )
        })?;
        if !ind.additive() {
            return Err(format!(
                "{} 按年无法由各月数据相加得出，不能作为年度考评指标 / {} cannot be assessed over a year",
                ind.zh(),
                ind.key()
            ));
        }
        if self.max.is_none() && self.max_growth.is_none() {
            return Err(format!(
                "考评指标 {} 需要 max 或 max_growth / target {} needs max or max_growth",
                ind.key(),
                ind.key()
            ));
        }
        if self.max.is_some() && matches!(ind.unit(), Unit::Fen | Unit::Count) {
            return Err(format!(
                "{} 是金额或人次，请用 max_growth 设定增幅上限 / {} is money or a count: use max_growth",
                ind.zh(),
                ind.key()
            ));
        }
        Ok(ind)
    }
}

/// How one target came out for one institution.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetResult {
    pub indicator: String,
    /// Chinese name.
    pub name: String,
    /// The year's value (money in fen).
    pub value: Option<f64>,
    /// The previous year's value.
    pub baseline: Option<f64>,
    /// (value − baseline) ÷ baseline.
    pub growth: Option<f64>,
    /// `None` when the target could not be assessed.
    pub met: Option<bool>,
}

/// One institution's assessment with the reasons.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InstitutionAssessment {
    pub results: Vec<TargetResult>,
    /// `None` when no target could be assessed.
    pub assessment: Option<Assessment>,
}

impl InstitutionAssessment {
    /// (targets met, targets assessed).
    pub fn counts(&self) -> (usize, usize) {
        let assessed = self.results.iter().filter(|r| r.met.is_some()).count();
        let met = self.results.iter().filter(|r| r.met == Some(true)).count();
        (met, assessed)
    }
}

/// `n₁/d₁ ≤ r` exactly.
fn at_most(f: (i128, i128), r: Rate) -> bool {
    f.0 * Rate::ONE_RAW as i128 <= r.0 as i128 * f.1
}

/// `(n₁/d₁) ÷ (n₀/d₀) − 1 ≤ g` exactly (`n₀ > 0`).
fn growth_at_most(now: (i128, i128), base: (i128, i128), g: Rate) -> bool {
    now.0 * base.1 * Rate::ONE_RAW as i128 <= (Rate::ONE_RAW + g.0) as i128 * now.1 * base.0
}

/// Assesses one institution: `now` = the settlement year's stats, `base` = the previous year's,
/// `beds` = its beds from the monitoring policy, `days`/`base_days` = days in each year.
/// Targets that fail [`Target::check`] are skipped (the policy loader refuses them first).
pub fn assess(
    now: &Stats,
    base: Option<&Stats>,
    beds: Option<u32>,
    days: i64,
    base_days: i64,
    targets: &[Target],
) -> InstitutionAssessment {
    let mut results = Vec::new();
    for t in targets {
        let Ok(ind) = t.check() else { continue };
        let cur = ind.fraction(now, beds, days);
        let old = base.and_then(|b| ind.fraction(b, beds, base_days));
        let value = ind.value(now, beds, days);
        let baseline = base.and_then(|b| ind.value(b, beds, base_days));
        let growth = match (value, baseline) {
            (Some(v), Some(b)) if b > 0.0 => Some((v - b) / b),
            _ => None,
        };
        let max_ok = t.max.map(|m| cur.map(|c| at_most(c, m)));
        let growth_ok = t.max_growth.map(|g| match (cur, old) {
            (Some(c), Some(o)) if o.0 > 0 => Some(growth_at_most(c, o, g)),
            _ => None,
        });
        // Every bound set must be known; the target is met when all of them hold.
        let parts: Vec<Option<bool>> = [max_ok, growth_ok].into_iter().flatten().collect();
        let met = if parts.iter().any(Option::is_none) {
            None
        } else {
            Some(parts.iter().all(|p| *p == Some(true)))
        };
        results.push(TargetResult {
            indicator: ind.key().to_string(),
            name: ind.zh().to_string(),
            value,
            baseline,
            growth,
            met,
        });
    }
    let a = InstitutionAssessment {
        results,
        assessment: None,
    };
    let (met, assessed) = a.counts();
    InstitutionAssessment {
        assessment: Assessment::from_met(met, assessed),
        ..a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use medfund_contract::Fen;

    /// Seed 002's targets, as the policy ships them.
    fn seed002() -> Vec<Target> {
        crate::policy::default_targets()
    }

    /// Outpatient average 120.00 against 100.00 (+20%: missed); inpatient average 5,000.00 both
    /// years (zero growth exactly: met); referrals 3 of 20 stays (15% exactly: met).
    fn year(opt_cost: i64, ipt_cost: i64, referrals: u64) -> Stats {
        Stats {
            opt_visits: 100,
            opt_cost: Fen(opt_cost),
            ipt_stays: 20,
            ipt_fee_stays: 20,
            ipt_cost: Fen(ipt_cost),
            referrals_out: referrals,
            ..Default::default()
        }
    }

    #[test]
    fn boundaries_are_met_and_two_of_three_is_some() {
        let now = year(1_200_000, 10_000_000, 3);
        let base = year(1_000_000, 10_000_000, 1);
        let a = assess(&now, Some(&base), None, 366, 365, &seed002());
        let met: Vec<Option<bool>> = a.results.iter().map(|r| r.met).collect();
        assert_eq!(met, vec![Some(false), Some(true), Some(true)]);
        assert_eq!(a.results[0].value, Some(12_000.0));
        assert_eq!(a.results[0].baseline, Some(10_000.0));
        assert_eq!(a.results[0].growth, Some(0.2));
        assert_eq!(a.counts(), (2, 3));
        assert_eq!(a.assessment, Some(Assessment::Some));
    }

    #[test]
    fn one_fen_or_one_stay_over_misses_the_target() {
        // Inpatient average 5,000.01 against 5,000.00; 4 referrals of 20 = 20%.
        let now = year(1_000_000, 10_000_020, 4);
        let base = year(1_000_000, 10_000_000, 0);
        let a = assess(&now, Some(&base), None, 366, 365, &seed002());
        let met: Vec<Option<bool>> = a.results.iter().map(|r| r.met).collect();
        assert_eq!(met, vec![Some(true), Some(false), Some(false)]);
        assert_eq!(a.assessment, Some(Assessment::Some));
        // Everything missed: none.
        let now = year(1_000_100, 10_000_020, 4);
        let a = assess(&now, Some(&base), None, 366, 365, &seed002());
        assert_eq!(a.assessment, Some(Assessment::None));
    }

    #[test]
    fn missing_baseline_or_activity_is_not_assessed() {
        // No previous year: only the referral ceiling can be assessed (met) → all.
        let a = assess(&year(1_200_000, 0, 3), None, None, 366, 365, &seed002());
        let met: Vec<Option<bool>> = a.results.iter().map(|r| r.met).collect();
        assert_eq!(met, vec![None, None, Some(true)]);
        assert_eq!(a.assessment, Some(Assessment::All));
        // A pharmacy: no visits of either kind, nothing assessable → the policy default applies.
        let a = assess(
            &Stats::default(),
            Some(&Stats::default()),
            None,
            366,
            365,
            &seed002(),
        );
        assert_eq!(a.counts(), (0, 0));
        assert_eq!(a.assessment, None);
    }

    #[test]
    fn unusable_targets_are_refused_with_a_reason() {
        let t = |ind: &str, max: Option<Rate>, g: Option<Rate>| Target {
            indicator: ind.into(),
            max,
            max_growth: g,
        };
        assert!(t("nope", Some(Rate::ONE), None)
            .check()
            .unwrap_err()
            .contains("unknown"));
        assert!(t("visits_per_head", None, Some(Rate::ZERO))
            .check()
            .unwrap_err()
            .contains("over a year"));
        assert!(t("drug_share", None, None)
            .check()
            .unwrap_err()
            .contains("max or max_growth"));
        assert!(t("avg_cost_opt", Some(Rate::ONE), None)
            .check()
            .unwrap_err()
            .contains("max_growth"));
        assert_eq!(
            t("drug_share", Some(Rate::percent(40)), None).check(),
            Ok(Indicator::DrugShare)
        );
    }
}
