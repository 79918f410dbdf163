//! Settlement policy parameters (DOMAIN.md §6 and §9 defaults), loaded from `policy/settle.toml`.
//!
//! Every percentage and multiplier is data because each city sets its own. Missing keys take the
//! defaults below; unknown keys are refused so a misspelt parameter cannot be silently ignored.
//!
//! ```
//! use medfund_settle::policy::Policy;
//! use medfund_settle::rate::Rate;
//! let p = Policy::from_toml_str("[budget]\nreward_share = 0.25\n[drg]\nhigh_k_tertiary = 4").unwrap();
//! assert_eq!(p.budget.reward_share, Rate::percent(25));
//! assert_eq!(p.budget.some_in_share, Rate::percent(30)); // default kept
//! assert_eq!(p.drg.high_k_tertiary, Rate::units(4));
//! ```

use crate::budget::Assessment;
use crate::rate::Rate;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// All settlement parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Total budget control (§6).
    pub budget: BudgetPolicy,
    /// DRG point method (§9).
    pub drg: PointPolicy,
    /// DIP disease-group scores (§9, same method).
    pub dip: PointPolicy,
}

/// Which settlement amount counts as the fund's spending against the cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SpendingField {
    /// `hifp_pay`, the pooled fund (统筹基金) payment — the reimbursement the cap controls.
    #[default]
    HifpPay,
    /// `fund_pay_sumamt`, all fund payments (falls back to `hifp_pay` where empty).
    FundPaySumamt,
}

/// Parameters of the total budget settlement and its early warning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetPolicy {
    /// Reward for spending under the cap, as a share of C − A (节约奖励). Default 0.30.
    pub reward_share: Rate,
    /// Share of the in-city overage borne by an institution that met some indicators. Default 0.30.
    pub some_in_share: Rate,
    /// Share of the out-of-city overage borne by an institution that met some indicators. Default 0.10.
    pub some_out_share: Rate,
    /// Early warning: spending ÷ cap may run ahead of elapsed months ÷ 12 by this share. Default 0.10.
    pub warn_tolerance: Rate,
    /// Early warning: share of the cap whose use triggers "额度将尽". Default 0.90.
    pub warn_near_cap: Rate,
    /// The city's area code (6 digits or its 4-digit prefix). Institutions whose `admdvs` (or the
    /// area digits of their code) differ in the first 4 digits are out of the city. Empty: the
    /// most common prefix among the institutions that have a budget.
    pub city_admdvs: Option<String>,
    /// Which settlement amount is the fund's spending. Default `hifp_pay`.
    pub spending: SpendingField,
    /// Assessment of institutions not listed in `assessment` and not given in the input. Default `all`.
    pub default_assessment: Assessment,
    /// Per-institution assessment results (`H33060400001 = "some"`), e.g. from the monitoring review.
    pub assessment: BTreeMap<String, Assessment>,
    /// Where the assessment of an institution not given in the input nor listed in
    /// `assessment` comes from. Default `policy` (= `default_assessment`).
    pub assess_by: AssessBy,
    /// The indicator targets of `assess_by = "indicators"`. Default: seed 002's zero growth of
    /// the outpatient and the inpatient average cost, and an out-of-city referral rate ≤ 15%.
    pub targets: Vec<crate::assess::Target>,
}

/// Where an institution's assessment comes from when neither the input nor the policy's
/// `assessment` table gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AssessBy {
    /// `default_assessment`.
    #[default]
    Policy,
    /// The monitoring indicators of the settlement year against `targets` ([`crate::assess`]);
    /// an institution with no assessable target gets `default_assessment`.
    Indicators,
}

impl Default for BudgetPolicy {
    fn default() -> Self {
        BudgetPolicy {
            reward_share: Rate::percent(30),
            some_in_share: Rate::percent(30),
            some_out_share: Rate::percent(10),
            warn_tolerance: Rate::percent(10),
            warn_near_cap: Rate::percent(90),
            city_admdvs: None,
            spending: SpendingField::HifpPay,
            default_assessment: Assessment::All,
            assessment: BTreeMap::new(),
            assess_by: AssessBy::Policy,
            targets: default_targets(),
        }
    }
}

/// Seed 002's targets: 均次费用零增长 (outpatient and inpatient) and 转市外住院率 ≤ 15%.
pub fn default_targets() -> Vec<crate::assess::Target> {
    use crate::assess::Target;
    vec![
        Target {
            indicator: "avg_cost_opt".into(),
            max: None,
            max_growth: Some(Rate::ZERO),
        },
        Target {
            indicator: "avg_cost_ipt".into(),
            max: None,
            max_growth: Some(Rate::ZERO),
        },
        Target {
            indicator: "referral_rate".into(),
            max: Some(Rate::percent(15)),
            max_growth: None,
        },
    ]
}

impl BudgetPolicy {
    /// The assessment for an institution: the policy file's entry, else the default.
    pub fn assessment_of(&self, fixmedins_code: &str) -> Assessment {
        self.assessment
            .get(fixmedins_code)
            .copied()
            .unwrap_or(self.default_assessment)
    }
}

/// Parameters of the point method (点数法), shared by DRG and DIP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PointPolicy {
    /// Points of a group whose mean cost equals the overall mean (BP_g = m_g ÷ M × scale). Default 100.
    pub points_scale: Rate,
    /// High-cost threshold multiple k at tertiary hospitals (hosp_lv 1). Default 3.
    pub high_k_tertiary: Rate,
    /// High-cost threshold multiple k elsewhere. Default 2.
    pub high_k_other: Rate,
    /// Low-cost threshold: cost < low_ratio × m_g. Default 0.4.
    pub low_ratio: Rate,
    /// Groups with fewer cases than this are settled case by case (特病单议). Default 5.
    pub small_group_min_cases: u32,
    /// Share of each case's fund payment (`hifp_pay`) prepaid monthly, when the input gives no
    /// `prepaid` column. Default 0 (nothing prepaid).
    pub prepay_ratio: Rate,
    /// DIP only (ignored for DRG): an inpatient visit without `dise_codg` is grouped by the first
    /// this many characters of its main diagnosis (`diag_code`), 5 = the ICD-10 subcategory such
    /// as `I63.9`; 0 leaves such visits out. Default 5.
    pub dip_diag_chars: u32,
}

impl Default for PointPolicy {
    fn default() -> Self {
        PointPolicy {
            points_scale: Rate::units(100),
            high_k_tertiary: Rate::units(3),
            high_k_other: Rate::units(2),
            low_ratio: Rate(4000),
            small_group_min_cases: 5,
            prepay_ratio: Rate::ZERO,
            dip_diag_chars: 5,
        }
    }
}

impl PointPolicy {
    /// Checks that the parameters make sense, with a message that names the key to fix.
    pub fn validate(&self, section: &str) -> anyhow::Result<()> {
        let pos = |name: &str, r: Rate| {
            if r.0 <= 0 {
                anyhow::bail!(
                    "policy/settle.toml [{section}] {name} 必须大于 0 / must be > 0 (got {r})"
                )
            }
            Ok(())
        };
        pos("points_scale", self.points_scale)?;
        pos("high_k_tertiary", self.high_k_tertiary)?;
        pos("high_k_other", self.high_k_other)?;
        if self.low_ratio.0 < 0 || self.low_ratio >= self.high_k_other.min(self.high_k_tertiary) {
            anyhow::bail!(
                "policy/settle.toml [{section}] low_ratio 必须在 0 与高倍率 k 之间 / low_ratio must be ≥ 0 and below k (got {})",
                self.low_ratio
            );
        }
        if self.prepay_ratio.0 < 0 || self.prepay_ratio > Rate::ONE {
            anyhow::bail!(
                "policy/settle.toml [{section}] prepay_ratio 必须在 0 到 1 之间 / must be within 0..1 (got {})",
                self.prepay_ratio
            );
        }
        Ok(())
    }
}

impl Policy {
    /// Parses a policy text (TOML).
    pub fn from_toml_str(text: &str) -> anyhow::Result<Policy> {
        let p: Policy = toml::from_str(text)
            .context("结算政策参数文件格式错误 / settle policy is not valid")?;
        p.drg.validate("drg")?;
        p.dip.validate("dip")?;
        for t in &p.budget.targets {
            t.check()
                .map_err(|e| anyhow::anyhow!("[[budget.targets]]: {e}"))?;
        }
        Ok(p)
    }

    /// The policy directory: `$MEDFUND_POLICY`, else `./policy` when it exists.
    pub fn dir() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("MEDFUND_POLICY") {
            return Some(PathBuf::from(d));
        }
        let local = Path::new("policy");
        local.is_dir().then(|| local.to_path_buf())
    }

    /// Loads `settle.toml` from [`Policy::dir`], or the built-in defaults when there is none.
    pub fn load() -> anyhow::Result<Policy> {
        match Self::dir() {
            Some(d) => Self::load_file(&d.join("settle.toml")),
            None => Ok(Policy::default()),
        }
    }

    /// Loads a policy file; a missing file gives the defaults.
    pub fn load_file(path: &Path) -> anyhow::Result<Policy> {
        if !path.exists() {
            return Ok(Policy::default());
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("无法读取结算政策文件 / cannot read {}", path.display()))?;
        Self::from_toml_str(&text)
            .with_context(|| format!("请修正 / please fix {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_domain_defaults() {
        let p = Policy::default();
        assert_eq!(p.budget.reward_share, Rate(3000));
        assert_eq!(p.budget.some_in_share, Rate(3000));
        assert_eq!(p.budget.some_out_share, Rate(1000));
        assert_eq!(p.drg.points_scale, Rate::units(100));
        assert_eq!(p.drg.high_k_tertiary, Rate::units(3));
        assert_eq!(p.drg.high_k_other, Rate::units(2));
        assert_eq!(p.drg.low_ratio, Rate(4000));
        assert_eq!(p.drg.small_group_min_cases, 5);
        assert_eq!(p.dip, p.drg);
        assert_eq!(Policy::from_toml_str("").unwrap(), p);
    }

    #[test]
    fn shipped_policy_file_equals_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy/settle.toml");
        let p = Policy::load_file(&path).unwrap();
        assert_eq!(p, Policy::default());
    }

    #[test]
    fn per_institution_assessment_and_typos() {
        let p = Policy::from_toml_str("[budget]\ndefault_assessment = \"some\"\n[budget.assessment]\nH33060400001 = \"none\"\n")
            .unwrap();
        assert_eq!(p.budget.assessment_of("H33060400001"), Assessment::None);
        assert_eq!(p.budget.assessment_of("H33060400002"), Assessment::Some);
        assert!(Policy::from_toml_str("[budget]\nreward_shar = 0.3").is_err());
        assert!(Policy::from_toml_str("[drg]\nlow_ratio = 5").is_err());
        assert!(Policy::from_toml_str("[dip]\nhigh_k_other = 0").is_err());
        let e = Policy::from_toml_str(
            "[budget]\nassess_by = \"indicators\"\n[[budget.targets]]\nindicator = \"visits_per_head\"\nmax_growth = 0\n",
        )
        .unwrap_err();
        assert!(
            format!("{e:#}").contains("cannot be assessed over a year"),
            "{e:#}"
        );
        let p = Policy::from_toml_str("[budget]\nassess_by = \"indicators\"\n[[budget.targets]]\nindicator = \"drug_share\"\nmax = \"40%\"\n").unwrap();
        assert_eq!(p.budget.assess_by, AssessBy::Indicators);
        assert_eq!(
            p.budget.targets.len(),
            1,
            "a city's targets replace the defaults"
        );
        assert_eq!(p.budget.targets[0].max, Some(Rate::percent(40)));
    }
}
