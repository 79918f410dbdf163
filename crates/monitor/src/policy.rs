//! Monitoring parameters (`policy/monitor.toml`). Every threshold is a city's choice; the defaults
//! are DOMAIN.md §4.1, §5 and §9 (and, where the domain names no number, the value documented in
//! `docs/monitoring.md`).
//!
//! ```
//! use medfund_monitor::policy::Policy;
//! let p = Policy::from_toml_str("[warnings]\nreferral_rate_max = 0.12\n").unwrap();
//! assert_eq!(p.warnings.referral_rate_max, 0.12);
//! assert_eq!(p.outlier.z_threshold, 3.5); // untouched parameters keep their defaults
//! ```

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// All monitoring parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub indicators: IndicatorPolicy,
    pub warnings: WarningPolicy,
    pub outlier: OutlierPolicy,
    pub top_persons: TopPersonsPolicy,
    pub fund: FundPolicy,
    /// Beds per institution (`fixmedins_code = beds`): the contract has no bed count, so bed
    /// occupancy is computed only for institutions listed here.
    pub beds: BTreeMap<String, u32>,
}

/// How indicators are computed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndicatorPolicy {
    /// med_type codes counted as outpatient visits for the average outpatient cost (seed 002
    /// separates 普通门诊 from 特殊病种门诊, so the default is general outpatient only).
    pub outpatient_med_types: Vec<String>,
}

impl Default for IndicatorPolicy {
    fn default() -> Self {
        IndicatorPolicy {
            outpatient_med_types: vec!["11".into()],
        }
    }
}

/// Early-warning thresholds (seed 002 三、2: 费用增长过快、达到总控制额度较高比例).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WarningPolicy {
    /// Visits (就医人次) year-on-year growth above this share warns.
    pub visit_growth_max: f64,
    /// Fund spending (统筹基金支出) year-on-year growth above this share warns.
    pub spending_growth_max: f64,
    /// Average cost per outpatient visit / inpatient stay above the baseline by more than this
    /// share misses the zero-growth target (0 = any increase).
    pub avg_cost_growth_max: f64,
    /// Growth warnings need at least this many baseline visits (small numbers swing wildly).
    pub min_baseline_visits: u64,
    /// Out-of-city referral rate above this share warns (seed 002: 15%).
    pub referral_rate_max: f64,
    /// Budget ahead of the calendar: cumulative ÷ cap > elapsed months ÷ 12 × (1 + this).
    pub budget_tolerance: f64,
    /// Budget nearly used up: cumulative ÷ cap ≥ this.
    pub budget_near_cap: f64,
}

impl Default for WarningPolicy {
    fn default() -> Self {
        WarningPolicy {
            visit_growth_max: 0.10,
            spending_growth_max: 0.10,
            avg_cost_growth_max: 0.0,
            min_baseline_visits: 30,
            referral_rate_max: 0.15,
            budget_tolerance: 0.10,
            budget_near_cap: 0.90,
        }
    }
}

/// `provider_outlier` (DOMAIN.md §4.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutlierPolicy {
    /// Flag when the robust z-score is above this.
    pub z_threshold: f64,
    /// … and the value is more than this multiple of the peer median.
    pub median_multiple: f64,
    /// MAD → standard deviation factor for normal data.
    pub mad_scale: f64,
    /// Severity (1–4) of the findings.
    pub severity: u8,
    /// An institution's value takes part (as a peer and as a candidate) only when it rests on at
    /// least this many cases (outpatient visits, inpatient stays, visits with fee lines): an
    /// average of two or three stays is noise, not a signal.
    pub min_cases: u64,
}

impl Default for OutlierPolicy {
    fn default() -> Self {
        OutlierPolicy {
            z_threshold: 3.5,
            median_multiple: 1.5,
            mad_scale: 1.4826,
            severity: 2,
            min_cases: 10,
        }
    }
}

/// The top insured persons of a month (seed 002: 前三十位参保个体).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopPersonsPolicy {
    /// How many persons to list.
    pub count: usize,
    /// Lower bounds (years) of the age bands after 0, e.g. `[15, 45, 60, 75]` gives
    /// 0–14, 15–44, 45–59, 60–74, 75+.
    pub age_bands: Vec<u16>,
    /// A measure at least this multiple of the comparison group's median is called unusual.
    pub unusual_multiple: f64,
}

impl Default for TopPersonsPolicy {
    fn default() -> Self {
        TopPersonsPolicy {
            count: 30,
            age_bands: vec![15, 45, 60, 75],
            unusual_multiple: 3.0,
        }
    }
}

/// Fund analysis (DOMAIN.md §5, §9).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FundPolicy {
    /// Months payable below this is a risk (默认 6).
    pub risk_below: f64,
    /// The usual target band, lower end (默认 9).
    pub target_low: f64,
    /// The usual target band, upper end; above it the balance is too large (默认 15).
    pub target_high: f64,
    /// Months in the average monthly expense (默认 12).
    pub window_months: u32,
}

impl Default for FundPolicy {
    fn default() -> Self {
        FundPolicy {
            risk_below: 6.0,
            target_low: 9.0,
            target_high: 15.0,
            window_months: 12,
        }
    }
}

impl Policy {
    /// Parses a policy file's text; missing keys keep their defaults, unknown keys are refused
    /// (a misspelt threshold must not be silently ignored).
    pub fn from_toml_str(text: &str) -> anyhow::Result<Policy> {
        let p: Policy = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("监测参数文件格式错误 / invalid monitor policy: {e}"))?;
        p.validate()?;
        Ok(p)
    }

    /// Checks the parameters make sense together.
    pub fn validate(&self) -> anyhow::Result<()> {
        let f = &self.fund;
        anyhow::ensure!(
            f.risk_below <= f.target_low && f.target_low <= f.target_high,
            "基金可支付月数阈值应满足 risk_below ≤ target_low ≤ target_high / fund bands must be ordered"
        );
        anyhow::ensure!(
            f.window_months >= 1,
            "window_months 至少为 1 / must be at least 1"
        );
        anyhow::ensure!(
            (1..=4).contains(&self.outlier.severity),
            "outlier.severity 应在 1–4 / severity must be 1–4"
        );
        anyhow::ensure!(
            self.outlier.mad_scale > 0.0,
            "outlier.mad_scale 必须为正 / must be positive"
        );
        anyhow::ensure!(
            self.top_persons.age_bands.windows(2).all(|w| w[0] < w[1]),
            "age_bands 应严格递增 / age bands must increase"
        );
        Ok(())
    }

    /// The policy directory: `MEDFUND_POLICY`, else `./policy` when it exists.
    pub fn dir() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("MEDFUND_POLICY") {
            return Some(PathBuf::from(d));
        }
        let local = Path::new("policy");
        local.is_dir().then(|| local.to_path_buf())
    }

    /// Loads `monitor.toml` from the policy directory, or the built-in defaults when there is none.
    pub fn load() -> anyhow::Result<Policy> {
        match Policy::dir() {
            Some(d) => Policy::load_file_or_default(&d.join("monitor.toml")),
            None => Ok(Policy::default()),
        }
    }

    /// Loads a file; a missing file means the defaults.
    pub fn load_file_or_default(path: &Path) -> anyhow::Result<Policy> {
        match std::fs::read_to_string(path) {
            Ok(t) => {
                Policy::from_toml_str(&t).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Policy::default()),
            Err(e) => Err(anyhow::anyhow!(
                "无法读取 {} / cannot read: {e}",
                path.display()
            )),
        }
    }

    /// Beds of an institution when the policy lists them.
    pub fn beds_of(&self, fixmedins_code: &str) -> Option<u32> {
        self.beds.get(fixmedins_code).copied().filter(|b| *b > 0)
    }
}

/// Converts a share (0.15) to basis points (1500) so threshold comparisons on money are exact
/// integer arithmetic; rounding to the basis point is far below any policy's precision.
pub fn basis_points(share: f64) -> i128 {
    (share * 10_000.0).round() as i128
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_file_parses_and_equals_defaults_except_beds() {
        let text = include_str!("../../../policy/monitor.toml");
        let p = Policy::from_toml_str(text).unwrap();
        let d = Policy {
            beds: p.beds.clone(),
            ..Policy::default()
        };
        assert_eq!(p, d);
    }

    #[test]
    fn unknown_keys_and_bad_bands_are_refused() {
        assert!(Policy::from_toml_str("[warnings]\nreferal_rate_max = 0.1\n").is_err());
        assert!(Policy::from_toml_str("[fund]\nrisk_below = 10\n").is_err());
        assert!(Policy::from_toml_str("[top_persons]\nage_bands = [45, 15]\n").is_err());
    }

    #[test]
    fn beds_table() {
        let p = Policy::from_toml_str("[beds]\nH33010200001 = 500\nH33010200002 = 0\n").unwrap();
        assert_eq!(p.beds_of("H33010200001"), Some(500));
        assert_eq!(p.beds_of("H33010200002"), None);
        assert_eq!(p.beds_of("H33010200003"), None);
    }

    #[test]
    fn basis_points_round() {
        assert_eq!(basis_points(0.15), 1500);
        assert_eq!(basis_points(0.1), 1000);
        assert_eq!(basis_points(0.0), 0);
    }
}
