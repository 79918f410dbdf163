//! Policy parameters of the knowledge base (`policy/kb.toml`). Every default follows DOMAIN.md
//! §4.1 or, where DOMAIN.md is silent, the national rule text quoted next to the field.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Parameters used when the national files are mapped to limits and when the knowledge-base-only
/// categories are evaluated. Unknown keys in the file are refused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KbPolicy {
    /// 儿童: 0 to this many whole years, inclusive (DOMAIN.md §4.1: 14).
    pub child_max_years: u16,
    /// 新生儿: the first this-many days of life, birth date = day 1 (DOMAIN.md §4.1: 28).
    pub newborn_max_days: u32,
    /// 婴幼儿: 0 to this many whole years, inclusive (default 3, the 0–3岁 of national child-care
    /// policy; inclusive so a child in its fourth year is not flagged).
    pub infant_max_years: u16,
    /// 法定就业年龄 lower bound in whole years (Labour Law art. 15: 16).
    pub working_age_min_years: u16,
    /// 法定就业年龄 upper bound for men (statutory retirement age, default 60; cities applying the
    /// 2025 gradual increase raise it).
    pub working_age_max_years_male: u16,
    /// Upper bound for women (default 55, the higher of the two statutory female retirement ages,
    /// so no woman still legally working is flagged).
    pub working_age_max_years_female: u16,
    /// Use an explicit age range written in a drug's payment text (限2岁至11岁儿童…, 限6-17岁…)
    /// instead of the generic 儿童 range.
    pub age_from_text: bool,
    /// A course (疗程) of a code for one person ends when the code is not charged for more than
    /// this many days; the next charge starts a new course (default 30).
    pub course_gap_days: u32,
    /// Second and later operations of a surgery group through the same incision are charged at
    /// this percentage of their price (default 50: 主要手术按全价，第二及以后手术按50%收费).
    pub secondary_surgery_pct: u8,
}

impl Default for KbPolicy {
    fn default() -> KbPolicy {
        KbPolicy {
            child_max_years: 14,
            newborn_max_days: 28,
            infant_max_years: 3,
            working_age_min_years: 16,
            working_age_max_years_male: 60,
            working_age_max_years_female: 55,
            age_from_text: true,
            course_gap_days: 30,
            secondary_surgery_pct: 50,
        }
    }
}

impl KbPolicy {
    /// Loads `kb.toml` from the policy directory: `$MEDFUND_POLICY` when set, else `./policy`
    /// when it exists; built-in defaults when there is no file.
    pub fn load() -> anyhow::Result<KbPolicy> {
        match policy_dir() {
            Some(dir) => KbPolicy::load_from(&dir.join("kb.toml")),
            None => Ok(KbPolicy::default()),
        }
    }

    /// Loads one file; a missing file gives the defaults.
    pub fn load_from(path: &Path) -> anyhow::Result<KbPolicy> {
        if !path.exists() {
            return Ok(KbPolicy::default());
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!("无法读取策略文件 / cannot read {}: {e}", path.display())
        })?;
        KbPolicy::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// Parses TOML text and checks the values.
    pub fn parse(text: &str) -> anyhow::Result<KbPolicy> {
        let p: KbPolicy = toml::from_str(text).map_err(|e| {
            anyhow::anyhow!("策略文件格式错误 / invalid kb policy (check the key names): {e}")
        })?;
        p.check()?;
        Ok(p)
    }

    /// Refuses values that make no sense.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.secondary_surgery_pct > 100 {
            anyhow::bail!("secondary_surgery_pct 应在 0–100 之间 / must be 0–100");
        }
        if self.working_age_min_years > self.working_age_max_years_female
            || self.working_age_min_years > self.working_age_max_years_male
        {
            anyhow::bail!(
                "working_age_min_years 不能大于退休年龄 / must not exceed the maximum working age"
            );
        }
        if self.newborn_max_days == 0 || self.course_gap_days == 0 {
            anyhow::bail!("newborn_max_days 与 course_gap_days 必须大于 0 / must be positive");
        }
        Ok(())
    }
}

/// The policy directory: `$MEDFUND_POLICY`, else `./policy` when it exists.
pub fn policy_dir() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("MEDFUND_POLICY") {
        if !d.is_empty() {
            return Some(PathBuf::from(d));
        }
    }
    let local = PathBuf::from("policy");
    local.is_dir().then_some(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_domain() {
        let p = KbPolicy::default();
        assert_eq!((p.child_max_years, p.newborn_max_days), (14, 28));
        assert_eq!(p.secondary_surgery_pct, 50);
    }

    #[test]
    fn shipped_file_equals_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy/kb.toml");
        let text = std::fs::read_to_string(&path).expect("policy/kb.toml is shipped");
        assert_eq!(KbPolicy::parse(&text).unwrap(), KbPolicy::default());
    }

    #[test]
    fn refuses_unknown_keys_and_bad_values() {
        assert!(KbPolicy::parse("child_max_year = 12").is_err());
        assert!(KbPolicy::parse("secondary_surgery_pct = 120").is_err());
        let p = KbPolicy::parse("child_max_years = 17").unwrap();
        assert_eq!(p.child_max_years, 17);
        assert_eq!(p.newborn_max_days, 28);
    }
}
