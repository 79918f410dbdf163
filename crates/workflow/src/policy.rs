//! Workflow policy parameters (`policy/workflow.toml`). Every value has a serde default equal to
//! the documented default (DOMAIN.md §7, §8 and docs/workflow.md), so a partial file only
//! overrides what it names.

use crate::util::{Ratio, RatioText};
use anyhow::Context;
use medfund_contract::Fen;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The national bounds of a complaint reward per case (yuan): a local scale must stay inside.
pub const NATIONAL_REWARD_MIN_YUAN: i64 = 200;
/// See [`NATIONAL_REWARD_MIN_YUAN`].
pub const NATIONAL_REWARD_MAX_YUAN: i64 = 200_000;

/// All workflow parameters.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Login and lockout.
    pub login: LoginPolicy,
    /// Time limits of each procedure step (限时办结).
    pub time_limits: TimeLimits,
    /// Sampling of findings for manual review.
    pub sampling: SamplingPolicy,
    /// Sanction amounts and approval levels.
    pub sanction: SanctionPolicy,
    /// Personnel payment-qualification points.
    pub points: PointsPolicy,
    /// Institution credit grading.
    pub credit: CreditPolicy,
    /// Complaint reward scale.
    pub reward: RewardPolicy,
    /// On-site inspections.
    pub inspection: InspectionPolicy,
}

/// Login lockout: `max_failures` wrong passwords within `window_minutes` lock the account for
/// `lockout_minutes`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginPolicy {
    /// Failures that lock the account (default 5).
    pub max_failures: i64,
    /// Window in which failures count (default 15 minutes).
    pub window_minutes: i64,
    /// Lock duration (default 30 minutes).
    pub lockout_minutes: i64,
    /// Minimum password length (default 8; letters and digits both required).
    pub min_password_len: usize,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy {
            max_failures: 5,
            window_minutes: 15,
            lockout_minutes: 30,
            min_password_len: 8,
        }
    }
}

/// Calendar days allowed for each step, counted from entering the step.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimeLimits {
    /// 初审 first review (default 7).
    pub first_review: i64,
    /// 复审 second review (default 5).
    pub second_review: i64,
    /// The institution's appeal window after notification (default 10).
    pub appeal: i64,
    /// Handling an appeal until the investigation starts (default 5).
    pub appeal_handling: i64,
    /// 调查核实 investigation (default 30).
    pub investigation: i64,
    /// 处理 decision after investigation or acceptance (default 10).
    pub decision: i64,
    /// Case investigation (default 90).
    pub case_investigation: i64,
    /// Case decision after opening if not yet decided (default 30, counted from the decision step).
    pub case_decision: i64,
    /// Complaint triage (default 15).
    pub complaint_triage: i64,
    /// Payment of a recovery, liquidated damages or penalty after approval (default 30).
    pub payment: i64,
    /// Items due within this many days are reported as "due soon" (default 2).
    pub due_soon: i64,
}

impl Default for TimeLimits {
    fn default() -> Self {
        TimeLimits {
            first_review: 7,
            second_review: 5,
            appeal: 10,
            appeal_handling: 5,
            investigation: 30,
            decision: 10,
            case_investigation: 90,
            case_decision: 30,
            complaint_triage: 15,
            payment: 30,
            due_soon: 2,
        }
    }
}

/// Which findings go to manual review.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplingPolicy {
    /// Random share of findings, in percent (default 10).
    pub random_percent: RatioText,
    /// Findings with an amount at or above this (yuan) are always reviewed (default 5,000).
    pub amount_threshold_yuan: i64,
    /// A finding's visit costing more than this multiple of the median of same-diagnosis visits
    /// (ICD-10 category) is reviewed (default 2).
    pub variance_ratio: RatioText,
    /// Minimum same-diagnosis visits for the variance test to apply (default 5).
    pub variance_min_peers: usize,
    /// Seed of the reproducible random draw (default "medfund").
    pub seed: String,
}

impl Default for SamplingPolicy {
    fn default() -> Self {
        SamplingPolicy {
            random_percent: RatioText(Ratio::whole(10)),
            amount_threshold_yuan: 5_000,
            variance_ratio: RatioText(Ratio::whole(2)),
            variance_min_peers: 5,
            seed: "medfund".into(),
        }
    }
}

/// Sanctions (DOMAIN.md §8).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SanctionPolicy {
    /// 违约金 = confirmed amount × this multiple under the agreement (default 1).
    pub liquidated_damages_multiple: RatioText,
    /// Administrative penalty multiple for violations: minimum (default 1).
    pub violation_multiple_min: RatioText,
    /// … maximum (default 2).
    pub violation_multiple_max: RatioText,
    /// Administrative penalty multiple for fraud: minimum (default 2).
    pub fraud_multiple_min: RatioText,
    /// … maximum (default 5).
    pub fraud_multiple_max: RatioText,
    /// Basis amount (yuan) from which the three-level approval applies (default 100,000).
    pub three_level_threshold_yuan: i64,
    /// Basis amount (yuan) from which a sanction is major and needs a collective decision
    /// (default 500,000). Terminations, transfers and fraud penalties are always major.
    pub major_threshold_yuan: i64,
    /// Minimum participants of a collective decision (default 3).
    pub collective_min_participants: usize,
    /// Longest agreement suspension in months (default 12).
    pub max_agreement_suspension_months: u32,
}

impl Default for SanctionPolicy {
    fn default() -> Self {
        SanctionPolicy {
            liquidated_damages_multiple: RatioText(Ratio::whole(1)),
            violation_multiple_min: RatioText(Ratio::whole(1)),
            violation_multiple_max: RatioText(Ratio::whole(2)),
            fraud_multiple_min: RatioText(Ratio::whole(2)),
            fraud_multiple_max: RatioText(Ratio::whole(5)),
            three_level_threshold_yuan: 100_000,
            major_threshold_yuan: 500_000,
            collective_min_participants: 3,
            max_agreement_suspension_months: 12,
        }
    }
}

/// Personnel points (DOMAIN.md §7).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PointsPolicy {
    /// Year total that suspends payment qualification (default 9).
    pub suspend_at: i64,
    /// Year total that terminates it (default 12).
    pub terminate_at: i64,
    /// Shortest suspension the approver may choose, months (default 1).
    pub suspension_months_min: u32,
    /// Longest, months (default 6).
    pub suspension_months_max: u32,
    /// No new registration for this many years after termination by accumulation (default 1).
    pub ban_years_accumulated: u32,
    /// … after a single 12-point event (default 3).
    pub ban_years_single: u32,
    /// Repair: most points that can be removed from one person's natural year (default 3).
    pub repair_max_points_per_year: i64,
    /// Repair: a suspension can be shortened by at most this share of its length (default 0.5).
    pub repair_max_shorten_share: RatioText,
    /// An institution is flagged when its suspended or terminated staff in a year exceed this
    /// share of its registered staff (default 0.05 = 5%).
    pub institution_flag_share: RatioText,
}

impl Default for PointsPolicy {
    fn default() -> Self {
        PointsPolicy {
            suspend_at: 9,
            terminate_at: 12,
            suspension_months_min: 1,
            suspension_months_max: 6,
            ban_years_accumulated: 1,
            ban_years_single: 3,
            repair_max_points_per_year: 3,
            repair_max_shorten_share: RatioText(Ratio { num: 1, den: 2 }),
            institution_flag_share: RatioText(Ratio { num: 5, den: 100 }),
        }
    }
}

/// Institution credit score: 100 minus deductions plus a small bonus for clean inspections.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CreditPolicy {
    /// Deduction per confirmed finding (default 1).
    pub per_confirmed_finding: i64,
    /// Cap of the findings deduction (default 20).
    pub findings_cap: i64,
    /// 约谈 (default 2).
    pub interview: i64,
    /// 限期整改 (default 5).
    pub rectification: i64,
    /// 追回 (default 2).
    pub recovery: i64,
    /// 违约金 (default 5).
    pub liquidated_damages: i64,
    /// 中止协议 (default 20).
    pub suspend_agreement: i64,
    /// 解除协议 (default 40).
    pub terminate_agreement: i64,
    /// 行政处罚 (default 15).
    pub admin_penalty: i64,
    /// Extra for a fraud penalty (default 15).
    pub fraud_extra: i64,
    /// 移送司法 (default 40).
    pub transfer: i64,
    /// Per completed inspection with issues (default 5).
    pub inspection_issue: i64,
    /// Bonus per completed inspection without issues (default 2).
    pub inspection_pass_bonus: i64,
    /// Cap of the bonus (default 6).
    pub inspection_bonus_cap: i64,
    /// Lowest score of grade A (default 90).
    pub grade_a: i64,
    /// … of grade B (default 75).
    pub grade_b: i64,
    /// … of grade C (default 60); below is D.
    pub grade_c: i64,
    /// Routine inspections per year by grade A, B, C, D (default 1, 2, 4, 12).
    pub inspections_per_year: [u32; 4],
}

impl Default for CreditPolicy {
    fn default() -> Self {
        CreditPolicy {
            per_confirmed_finding: 1,
            findings_cap: 20,
            interview: 2,
            rectification: 5,
            recovery: 2,
            liquidated_damages: 5,
            suspend_agreement: 20,
            terminate_agreement: 40,
            admin_penalty: 15,
            fraud_extra: 15,
            transfer: 40,
            inspection_issue: 5,
            inspection_pass_bonus: 2,
            inspection_bonus_cap: 6,
            grade_a: 90,
            grade_b: 75,
            grade_c: 60,
            inspections_per_year: [1, 2, 4, 12],
        }
    }
}

/// One bracket of the progressive reward scale: the part of the case value up to `upto_yuan`
/// (the last bracket has none) earns `rate`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardBracket {
    /// Upper end of the bracket in yuan; `None` for the last.
    #[serde(default)]
    pub upto_yuan: Option<i64>,
    /// Share of the case value within the bracket.
    pub rate: RatioText,
}

/// Complaint rewards: a progressive share of the confirmed case value, clamped to a local
/// minimum and maximum that must lie within the national 200–200,000 yuan.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RewardPolicy {
    /// Local minimum per case (default 200).
    pub min_yuan: i64,
    /// Local maximum per case (default 200,000).
    pub max_yuan: i64,
    /// Brackets in increasing order (default 4% to 100,000; 2% to 1,000,000; 1% above).
    pub brackets: Vec<RewardBracket>,
}

impl Default for RewardPolicy {
    fn default() -> Self {
        RewardPolicy {
            min_yuan: NATIONAL_REWARD_MIN_YUAN,
            max_yuan: NATIONAL_REWARD_MAX_YUAN,
            brackets: vec![
                RewardBracket {
                    upto_yuan: Some(100_000),
                    rate: RatioText(Ratio { num: 4, den: 100 }),
                },
                RewardBracket {
                    upto_yuan: Some(1_000_000),
                    rate: RatioText(Ratio { num: 2, den: 100 }),
                },
                RewardBracket {
                    upto_yuan: None,
                    rate: RatioText(Ratio { num: 1, den: 100 }),
                },
            ],
        }
    }
}

/// On-site inspections.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InspectionPolicy {
    /// Distinct inspectors required on site (default 2: law enforcement is never by one person).
    pub min_inspectors: usize,
}

impl Default for InspectionPolicy {
    fn default() -> Self {
        InspectionPolicy { min_inspectors: 2 }
    }
}

impl SanctionPolicy {
    pub(crate) fn three_level_threshold(&self) -> Fen {
        Fen::from_yuan(self.three_level_threshold_yuan)
    }
    pub(crate) fn major_threshold(&self) -> Fen {
        Fen::from_yuan(self.major_threshold_yuan)
    }
}

impl Policy {
    /// Parses and checks a policy text (TOML).
    pub fn from_toml_str(text: &str) -> anyhow::Result<Policy> {
        let p: Policy = toml::from_str(text)
            .context("监管流程政策参数文件格式错误 / workflow policy is not valid TOML")?;
        p.validate()?;
        Ok(p)
    }

    /// Checks ranges and consistency; the message names the parameter to fix.
    pub fn validate(&self) -> anyhow::Result<()> {
        let r = &self.reward;
        if r.min_yuan < NATIONAL_REWARD_MIN_YUAN
            || r.max_yuan > NATIONAL_REWARD_MAX_YUAN
            || r.min_yuan > r.max_yuan
        {
            anyhow::bail!(
                "[reward] min_yuan/max_yuan 须在国家标准 200–200000 元之内且 min ≤ max / must lie within the national 200–200,000 yuan (got {}–{})",
                r.min_yuan,
                r.max_yuan
            );
        }
        if r.brackets.is_empty() || r.brackets.last().and_then(|b| b.upto_yuan).is_some() {
            anyhow::bail!("[reward] brackets 不能为空，且最后一档不设 upto_yuan / the last bracket must have no upto_yuan");
        }
        let mut prev = 0;
        for b in &r.brackets[..r.brackets.len() - 1] {
            let u = b.upto_yuan.unwrap_or(0);
            if u <= prev {
                anyhow::bail!("[reward] brackets 的 upto_yuan 须递增 / upto_yuan must increase");
            }
            prev = u;
        }
        let s = &self.sanction;
        let ord = |a: RatioText, b: RatioText| a.0.cmp_exact(b.0) != std::cmp::Ordering::Greater;
        if !ord(s.violation_multiple_min, s.violation_multiple_max)
            || !ord(s.fraud_multiple_min, s.fraud_multiple_max)
        {
            anyhow::bail!(
                "[sanction] 处罚倍数下限须不大于上限 / multiple_min must not exceed multiple_max"
            );
        }
        let p = &self.points;
        if p.suspend_at <= 0 || p.terminate_at <= p.suspend_at {
            anyhow::bail!(
                "[points] 须 0 < suspend_at < terminate_at / need 0 < suspend_at < terminate_at"
            );
        }
        if p.suspension_months_min == 0 || p.suspension_months_min > p.suspension_months_max {
            anyhow::bail!("[points] 须 1 ≤ suspension_months_min ≤ suspension_months_max");
        }
        let c = &self.credit;
        if !(c.grade_a > c.grade_b && c.grade_b > c.grade_c) {
            anyhow::bail!("[credit] 须 grade_a > grade_b > grade_c");
        }
        if self.inspection.min_inspectors == 0 {
            anyhow::bail!("[inspection] min_inspectors 至少为 1");
        }
        Ok(())
    }

    /// The policy directory: `$MEDFUND_POLICY`, else `./policy` when it exists.
    pub fn dir() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("MEDFUND_POLICY") {
            return Some(PathBuf::from(d));
        }
        let local = Path::new("policy");
        local.is_dir().then(|| local.to_path_buf())
    }

    /// Loads `workflow.toml` from [`Policy::dir`], or the defaults when there is none.
    pub fn load() -> anyhow::Result<Policy> {
        match Self::dir() {
            Some(d) => Self::load_file(&d.join("workflow.toml")),
            None => Ok(Policy::default()),
        }
    }

    /// Loads a policy file; a missing file gives the defaults.
    pub fn load_file(path: &Path) -> anyhow::Result<Policy> {
        if !path.exists() {
            return Ok(Policy::default());
        }
        let text = std::fs::read_to_string(path).with_context(|| {
            format!("无法读取监管流程政策文件 / cannot read {}", path.display())
        })?;
        Self::from_toml_str(&text)
            .with_context(|| format!("请修正 / please fix {}", path.display()))
    }
}
