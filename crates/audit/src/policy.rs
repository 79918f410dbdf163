//! Audit policy parameters that are not rule parameters (those live in the rule library):
//! loaded from `policy/audit.toml` (directory from `MEDFUND_POLICY`, else `./policy` when it
//! exists, else the built-in defaults below).
//!
//! ```
//! let p: medfund_audit::Policy = toml::from_str("precheck_history_days = 30").unwrap();
//! assert_eq!(p.precheck_history_days, 30);
//! assert_eq!(p.emergency_med_types, vec!["13".to_string()]);
//! ```

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Audit policy (see `policy/audit.toml` for the documented defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Visit types that count as emergencies besides `emer_flag = 1` (DOMAIN.md §4.1
    /// suspended_pract and concurrent_visit exceptions). Default `["13"]`.
    pub emergency_med_types: Vec<String>,
    /// How many days of a person's history the online pre-check reads from the store. Default 90
    /// (enough for the 30-day multi-source window, the 15-day readmission window and the
    /// national course limits of up to 90 days).
    pub precheck_history_days: i64,
    /// At most this many related items (dates, lines, institutions) are listed in one finding's
    /// evidence. Default 20.
    pub evidence_max_items: usize,
    /// A rule library directory used instead of the embedded default when `--rules` is not given.
    pub rules_dir: Option<PathBuf>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            emergency_med_types: vec!["13".into()],
            precheck_history_days: 90,
            evidence_max_items: 20,
            rules_dir: None,
        }
    }
}

impl Policy {
    /// Loads `audit.toml` from the policy directory, or the defaults when there is none.
    pub fn load() -> anyhow::Result<Policy> {
        match policy_dir() {
            Some(d) => Policy::load_from(&d.join("audit.toml")),
            None => Ok(Policy::default()),
        }
    }

    /// Loads a policy file; a missing file means the defaults.
    pub fn load_from(path: &Path) -> anyhow::Result<Policy> {
        if !path.exists() {
            return Ok(Policy::default());
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "无法读取审核策略文件 {}: {e} / cannot read the audit policy",
                path.display()
            )
        })?;
        toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "审核策略文件 {} 格式错误 / invalid audit policy: {}",
                path.display(),
                e.message()
            )
        })
    }
}

fn policy_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("MEDFUND_POLICY") {
        return Some(PathBuf::from(d));
    }
    let local = PathBuf::from("policy");
    local.is_dir().then_some(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_policy_file_equals_the_defaults() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy/audit.toml");
        assert_eq!(Policy::load_from(&p).unwrap(), Policy::default());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<Policy>("precheck_days = 3").is_err());
        assert_eq!(
            Policy::load_from(Path::new("/nonexistent/audit.toml")).unwrap(),
            Policy::default()
        );
    }
}
