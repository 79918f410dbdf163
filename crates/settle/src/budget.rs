//! Total budget control settlement (总额控制、节约共享、超支分担; DOMAIN.md §6, seed 002).
//!
//! Pure arithmetic on [`Fen`]: monthly prepayment, year-end settlement and the in-year early
//! warning. No I/O; the CLI and the store adapter ([`crate::source`]) build the inputs.
//!
//! Worked example of DOMAIN.md §6:
//!
//! ```
//! use medfund_contract::Fen;
//! use medfund_settle::budget::{settle, Assessment, BudgetInput};
//! use medfund_settle::policy::BudgetPolicy;
//! let input = BudgetInput {
//!     fixmedins_code: "H33060400001".into(),
//!     cap_in: Fen::from_yuan(1_000_000),
//!     cap_out: Fen::from_yuan(200_000),
//!     approved_extra: Fen::ZERO,
//!     actual_in: Fen::from_yuan(1_050_000),
//!     actual_out: Fen::from_yuan(250_000),
//!     assessment: Assessment::Some,
//!     prepaid: None,
//! };
//! let line = settle(&input, &BudgetPolicy::default()).unwrap();
//! assert_eq!(line.institution_bears, Fen::from_yuan(20_000));
//! assert_eq!(line.payable, Fen::from_yuan(1_280_000));
//! ```

use crate::policy::BudgetPolicy;
use crate::rate::Rate;
use medfund_contract::money::div_round_half_up;
use medfund_contract::{Code, Fen};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The year's indicator assessment of an institution (考评结果), which decides who bears an overage.
///
/// The monitoring indicators (seed 002: visits per head, average cost growth, out-of-city referral
/// rate…) are assessed elsewhere; settlement only needs how many were met, through
/// [`Assessment::from_met`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Assessment {
    /// 全部指标达到考评要求: the fund pays the whole overage.
    All,
    /// 未全部达到: the institution bears 30% of the in-city and 10% of the out-of-city overage.
    Some,
    /// 全部指标均未达到: the institution bears the whole overage.
    None,
}

impl Assessment {
    /// The stable code used in files: `all`, `some`, `none`.
    pub fn code(self) -> &'static str {
        match self {
            Assessment::All => "all",
            Assessment::Some => "some",
            Assessment::None => "none",
        }
    }
    /// Chinese label for sheets and the UI.
    pub fn zh(self) -> &'static str {
        match self {
            Assessment::All => "全部达标",
            Assessment::Some => "部分达标",
            Assessment::None => "均未达标",
        }
    }
    /// The assessment from the number of indicators met out of those assessed; `None` (Rust's)
    /// when nothing was assessed, so the caller applies its default rather than a guess.
    ///
    /// ```
    /// use medfund_settle::budget::Assessment;
    /// assert_eq!(Assessment::from_met(4, 4), Some(Assessment::All));
    /// assert_eq!(Assessment::from_met(1, 4), Some(Assessment::Some));
    /// assert_eq!(Assessment::from_met(0, 4), Some(Assessment::None));
    /// assert_eq!(Assessment::from_met(0, 0), None);
    /// ```
    pub fn from_met(met: usize, assessed: usize) -> Option<Assessment> {
        match (met, assessed) {
            (_, 0) => None,
            (m, a) if m >= a => Some(Assessment::All),
            (0, _) => Some(Assessment::None),
            _ => Some(Assessment::Some),
        }
    }
}

impl FromStr for Assessment {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "all" | "全部" | "全部达标" => Ok(Assessment::All),
            "some" | "部分" | "部分达标" => Ok(Assessment::Some),
            "none" | "均未" | "均未达标" => Ok(Assessment::None),
            _ => Err(format!(
                "考评结果 '{s}' 无法识别，应为 all、some 或 none / unknown assessment '{s}' (expected all, some or none)"
            )),
        }
    }
}

impl fmt::Display for Assessment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One institution's year: its caps, its fund spending and its assessment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetInput {
    pub fixmedins_code: Code,
    /// In-city cap C_in (before approved new capacity).
    pub cap_in: Fen,
    /// Out-of-city referral cap C_out.
    pub cap_out: Fen,
    /// Approved new capacity, added to the in-city part.
    pub approved_extra: Fen,
    /// In-city fund spending A_in.
    pub actual_in: Fen,
    /// Out-of-city referral fund spending A_out.
    pub actual_out: Fen,
    pub assessment: Assessment,
    /// What was already prepaid during the year, when known (the year-end balance is then
    /// `payable − prepaid`).
    pub prepaid: Option<Fen>,
}

/// The year-end settlement of one institution (yuan amounts in fen).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetLine {
    pub fixmedins_code: Code,
    /// C_in + approved_extra.
    pub cap_in: Fen,
    pub cap_out: Fen,
    /// C = cap_in + cap_out.
    pub cap: Fen,
    pub actual_in: Fen,
    pub actual_out: Fen,
    /// A = actual_in + actual_out.
    pub actual: Fen,
    pub assessment: Assessment,
    /// 节约奖励: reward share × (C − A) when A ≤ C, else 0.
    pub reward: Fen,
    /// O = A − C when A > C, else 0.
    pub overage: Fen,
    pub overage_in: Fen,
    pub overage_out: Fen,
    /// The institution's share of the in-city overage.
    pub bears_in: Fen,
    /// The institution's share of the out-of-city overage.
    pub bears_out: Fen,
    /// bears_in + bears_out.
    pub institution_bears: Fen,
    /// O − institution_bears.
    pub fund_pays_overage: Fen,
    /// What the institution is owed for the year: A + reward − institution_bears.
    pub payable: Fen,
    pub prepaid: Option<Fen>,
    /// payable − prepaid: the year-end transfer (negative: the institution pays back).
    pub balance: Option<Fen>,
}

/// Why an input cannot be settled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    #[error("机构 {code} 的 {field} 为负数 ({value})，总额预算与基金支出不能为负，请核对数据 / {field} of {code} is negative")]
    Negative {
        code: String,
        field: &'static str,
        value: Fen,
    },
    #[error("机构 {code} 在输入中出现多次，请每个机构只保留一行 / {code} appears more than once")]
    Duplicate { code: String },
}

fn check_non_negative(code: &Code, field: &'static str, v: Fen) -> Result<(), BudgetError> {
    if v.is_negative() {
        return Err(BudgetError::Negative {
            code: code.to_string(),
            field,
            value: v,
        });
    }
    Ok(())
}

/// Settles one institution's year per DOMAIN.md §6.
///
/// - A ≤ C: paid A + round(reward_share × (C − A)).
/// - A > C: O = A − C is split in proportion to max(0, A_in − C_in) and max(0, A_out − C_out):
///   the in-city part is rounded half up to the fen and the out-of-city part is the remainder,
///   so the two always add up to O. The institution bears, by assessment: nothing (`all`);
///   round(30% × in-city part) + round(10% × out-of-city part), each rounded separately (`some`);
///   all of O (`none`). It is paid A minus what it bears.
pub fn settle(input: &BudgetInput, policy: &BudgetPolicy) -> Result<BudgetLine, BudgetError> {
    let code = &input.fixmedins_code;
    check_non_negative(code, "cap_in", input.cap_in)?;
    check_non_negative(code, "cap_out", input.cap_out)?;
    check_non_negative(code, "approved_extra", input.approved_extra)?;
    check_non_negative(code, "actual_in", input.actual_in)?;
    check_non_negative(code, "actual_out", input.actual_out)?;

    let cap_in = input.cap_in + input.approved_extra;
    let cap_out = input.cap_out;
    let cap = cap_in + cap_out;
    let actual = input.actual_in + input.actual_out;

    let mut line = BudgetLine {
        fixmedins_code: code.clone(),
        cap_in,
        cap_out,
        cap,
        actual_in: input.actual_in,
        actual_out: input.actual_out,
        actual,
        assessment: input.assessment,
        reward: Fen::ZERO,
        overage: Fen::ZERO,
        overage_in: Fen::ZERO,
        overage_out: Fen::ZERO,
        bears_in: Fen::ZERO,
        bears_out: Fen::ZERO,
        institution_bears: Fen::ZERO,
        fund_pays_overage: Fen::ZERO,
        payable: actual,
        prepaid: input.prepaid,
        balance: None,
    };

    if actual <= cap {
        line.reward = Fen(policy.reward_share.apply((cap - actual).0));
    } else {
        let overage = actual - cap;
        let excess_in = (input.actual_in - cap_in).0.max(0);
        let excess_out = (input.actual_out - cap_out).0.max(0);
        // A > C implies at least one part exceeds its own cap, so the denominator is positive.
        let overage_in = Fen(div_round_half_up(
            overage.0 as i128 * excess_in as i128,
            (excess_in + excess_out) as i128,
        ) as i64);
        let overage_out = overage - overage_in;
        let (bears_in, bears_out) = match input.assessment {
            Assessment::All => (Fen::ZERO, Fen::ZERO),
            Assessment::Some => (
                Fen(policy.some_in_share.apply(overage_in.0)),
                Fen(policy.some_out_share.apply(overage_out.0)),
            ),
            Assessment::None => (overage_in, overage_out),
        };
        line.overage = overage;
        line.overage_in = overage_in;
        line.overage_out = overage_out;
        line.bears_in = bears_in;
        line.bears_out = bears_out;
        line.institution_bears = bears_in + bears_out;
        line.fund_pays_overage = overage - line.institution_bears;
    }
    line.payable = actual + line.reward - line.institution_bears;
    line.balance = input.prepaid.map(|p| line.payable - p);
    Ok(line)
}

/// Settles every institution, refusing duplicates (one row per institution and year).
pub fn settle_all(
    inputs: &[BudgetInput],
    policy: &BudgetPolicy,
) -> Result<Vec<BudgetLine>, BudgetError> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(inputs.len());
    for i in inputs {
        if !seen.insert(i.fixmedins_code.clone()) {
            return Err(BudgetError::Duplicate {
                code: i.fixmedins_code.to_string(),
            });
        }
        out.push(settle(i, policy)?);
    }
    Ok(out)
}

/// The totals row of a settlement sheet.
pub fn totals(lines: &[BudgetLine]) -> BudgetTotals {
    let mut t = BudgetTotals::default();
    for l in lines {
        t.institutions += 1;
        t.cap += l.cap;
        t.actual += l.actual;
        t.reward += l.reward;
        t.overage += l.overage;
        t.overage_in += l.overage_in;
        t.overage_out += l.overage_out;
        t.institution_bears += l.institution_bears;
        t.fund_pays_overage += l.fund_pays_overage;
        t.payable += l.payable;
        if let Some(p) = l.prepaid {
            t.prepaid += p;
        }
        if let Some(b) = l.balance {
            t.balance += b;
        }
    }
    t
}

/// Sums over all institutions of a budget settlement.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetTotals {
    pub institutions: usize,
    pub cap: Fen,
    pub actual: Fen,
    pub reward: Fen,
    pub overage: Fen,
    pub overage_in: Fen,
    pub overage_out: Fen,
    pub institution_bears: Fen,
    pub fund_pays_overage: Fen,
    pub payable: Fen,
    pub prepaid: Fen,
    pub balance: Fen,
}

/// The twelve monthly quotas of a yearly cap: C ÷ 12 rounded half up to the fen for January to
/// November, and December takes the remainder, so the quotas add up to C exactly. With
/// C = 12q + r (0 ≤ r < 12 fen), December is q + r when r < 6 and q + r − 11 otherwise, so it
/// differs from the other months by at most 6 fen.
///
/// ```
/// use medfund_contract::Fen;
/// use medfund_settle::budget::monthly_quotas;
/// let q = monthly_quotas(Fen(100)); // 1.00 yuan: 8 fen × 11 (8.33 → 8) and 12 fen in December
/// assert_eq!(q[0], Fen(8));
/// assert_eq!(q[11], Fen(12));
/// assert_eq!(q.iter().copied().sum::<Fen>(), Fen(100));
/// ```
pub fn monthly_quotas(cap: Fen) -> [Fen; 12] {
    let m = Fen(div_round_half_up(cap.0 as i128, 12) as i64);
    let mut q = [m; 12];
    q[11] = cap - Fen(m.0 * 11);
    q
}

/// Monthly prepayment (月度预付): min(the month's quota, the month's actual fund spending). A
/// month whose net spending is negative (refunds above new claims) is prepaid nothing; the refund
/// is reconciled at year end, where the year's actual spending is used.
pub fn monthly_prepayments(cap: Fen, actual: &[Fen; 12]) -> [Fen; 12] {
    let q = monthly_quotas(cap);
    let mut out = [Fen::ZERO; 12];
    for m in 0..12 {
        out[m] = q[m].min(actual[m].max(Fen::ZERO));
    }
    out
}

/// How far ahead of its cap an institution's spending runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// Cumulative spending ÷ cap above elapsed months ÷ 12 × (1 + tolerance): 进度超前.
    Pace,
    /// Cumulative spending ≥ near-cap share (default 90%) of the cap: 额度将尽.
    NearCap,
    /// Cumulative spending above the cap: 已超总额.
    OverCap,
}

impl WarningKind {
    /// Chinese label.
    pub fn zh(self) -> &'static str {
        match self {
            WarningKind::Pace => "支出进度超前",
            WarningKind::NearCap => "总额额度将尽",
            WarningKind::OverCap => "已超年度总额",
        }
    }
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            WarningKind::Pace => "pace",
            WarningKind::NearCap => "near_cap",
            WarningKind::OverCap => "over_cap",
        }
    }
}

/// An in-year early warning (预警) for one institution at the end of a month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub fixmedins_code: Code,
    /// Elapsed months (1–12).
    pub month: u32,
    pub cap: Fen,
    /// Cumulative fund spending from January to `month`.
    pub cumulative: Fen,
    /// cumulative ÷ cap, rounded half up to 4 decimals (for display; the tests are exact).
    pub used: Option<Rate>,
    /// The pace allowed at this month: month ÷ 12 × (1 + tolerance), rounded to 4 decimals.
    pub pace_limit: Rate,
    /// The most severe kind that applies.
    pub kind: WarningKind,
    /// A sentence for the institution and the supervisor.
    pub message: String,
}

/// The early warning for one institution after `month` elapsed months, or `None` when its spending
/// is on track. Comparisons are exact in integers: spending ÷ cap > month ÷ 12 × (1 + tol) is
/// tested as spending × 12 × 10⁴ > month × cap × (10⁴ + tol).
pub fn early_warning(
    fixmedins_code: &Code,
    cap: Fen,
    cumulative: Fen,
    month: u32,
    policy: &BudgetPolicy,
) -> Option<Warning> {
    let month = month.clamp(1, 12);
    let s = cumulative.0 as i128;
    let c = cap.0 as i128;
    let one = Rate::ONE_RAW as i128;
    let over = s > c;
    let near = s * one >= c * policy.warn_near_cap.0 as i128 && s > 0;
    let pace = s * 12 * one > month as i128 * c * (one + policy.warn_tolerance.0 as i128);
    let kind = if over {
        WarningKind::OverCap
    } else if near {
        WarningKind::NearCap
    } else if pace {
        WarningKind::Pace
    } else {
        return None;
    };
    let used = (c > 0).then(|| Rate(div_round_half_up(s * one, c) as i64));
    let pace_limit =
        Rate(div_round_half_up(month as i128 * (one + policy.warn_tolerance.0 as i128), 12) as i64);
    let used_txt = used
        .map(|u| format!("{}%", percent_text(u)))
        .unwrap_or_else(|| "—".into());
    let message = format!(
        "{fixmedins_code} 截至 {month} 月累计基金支出 {cumulative} 元，占年度总额 {cap} 元的 {used_txt}（时序进度上限 {}%）：{}",
        percent_text(pace_limit),
        kind.zh()
    );
    Some(Warning {
        fixmedins_code: fixmedins_code.clone(),
        month,
        cap,
        cumulative,
        used,
        pace_limit,
        kind,
        message,
    })
}

/// `Rate(8333)` → "83.33".
fn percent_text(r: Rate) -> String {
    let v = r.0;
    format!("{}.{:02}", v / 100, (v % 100).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(s: &str) -> Fen {
        s.parse().unwrap()
    }

    fn input(cap_in: &str, cap_out: &str, a_in: &str, a_out: &str, a: Assessment) -> BudgetInput {
        BudgetInput {
            fixmedins_code: "H33060400001".into(),
            cap_in: yuan(cap_in),
            cap_out: yuan(cap_out),
            approved_extra: Fen::ZERO,
            actual_in: yuan(a_in),
            actual_out: yuan(a_out),
            assessment: a,
            prepaid: None,
        }
    }

    fn p() -> BudgetPolicy {
        BudgetPolicy::default()
    }

    #[test]
    fn domain_worked_example_over_cap_some_met() {
        // DOMAIN.md §6: O = 100,000 split 50,000/50,000; bears 15,000 + 5,000; paid 1,280,000.
        let l = settle(
            &input("1000000", "200000", "1050000", "250000", Assessment::Some),
            &p(),
        )
        .unwrap();
        assert_eq!(l.cap, yuan("1200000"));
        assert_eq!(l.actual, yuan("1300000"));
        assert_eq!(l.overage, yuan("100000"));
        assert_eq!(
            (l.overage_in, l.overage_out),
            (yuan("50000"), yuan("50000"))
        );
        assert_eq!((l.bears_in, l.bears_out), (yuan("15000"), yuan("5000")));
        assert_eq!(l.institution_bears, yuan("20000"));
        assert_eq!(l.fund_pays_overage, yuan("80000"));
        assert_eq!(l.reward, Fen::ZERO);
        assert_eq!(l.payable, yuan("1280000"));
    }

    #[test]
    fn domain_worked_example_under_cap_reward() {
        // A = 1,050,000 ≤ C = 1,200,000: reward 30% × 150,000 = 45,000; paid 1,095,000.
        let l = settle(
            &input("1000000", "200000", "900000", "150000", Assessment::Some),
            &p(),
        )
        .unwrap();
        assert_eq!(l.reward, yuan("45000"));
        assert_eq!(l.overage, Fen::ZERO);
        assert_eq!(l.institution_bears, Fen::ZERO);
        assert_eq!(l.payable, yuan("1095000"));
    }

    #[test]
    fn over_cap_all_met_fund_pays_everything() {
        let l = settle(
            &input("1000000", "200000", "1050000", "250000", Assessment::All),
            &p(),
        )
        .unwrap();
        assert_eq!(l.institution_bears, Fen::ZERO);
        assert_eq!(l.fund_pays_overage, yuan("100000"));
        assert_eq!(l.payable, yuan("1300000"));
    }

    #[test]
    fn over_cap_none_met_institution_bears_everything() {
        let l = settle(
            &input("1000000", "200000", "1050000", "250000", Assessment::None),
            &p(),
        )
        .unwrap();
        assert_eq!(l.institution_bears, yuan("100000"));
        assert_eq!(l.fund_pays_overage, Fen::ZERO);
        assert_eq!(l.payable, yuan("1200000"));
    }

    #[test]
    fn only_the_in_city_part_exceeds() {
        // A_in 1,100,000 > C_in 1,000,000 by 100,000; A_out 150,000 under C_out 200,000 by 50,000.
        // O = 1,250,000 − 1,200,000 = 50,000, all in-city (the out-of-city excess is 0).
        // some: bears 30% × 50,000 = 15,000; paid 1,250,000 − 15,000 = 1,235,000.
        let l = settle(
            &input("1000000", "200000", "1100000", "150000", Assessment::Some),
            &p(),
        )
        .unwrap();
        assert_eq!(l.overage, yuan("50000"));
        assert_eq!((l.overage_in, l.overage_out), (yuan("50000"), Fen::ZERO));
        assert_eq!(l.institution_bears, yuan("15000"));
        assert_eq!(l.payable, yuan("1235000"));
    }

    #[test]
    fn only_the_out_of_city_part_exceeds() {
        // A_in 950,000 under by 50,000; A_out 300,000 over C_out 200,000 by 100,000.
        // O = 1,250,000 − 1,200,000 = 50,000, all out-of-city; some: bears 10% = 5,000.
        let l = settle(
            &input("1000000", "200000", "950000", "300000", Assessment::Some),
            &p(),
        )
        .unwrap();
        assert_eq!((l.overage_in, l.overage_out), (Fen::ZERO, yuan("50000")));
        assert_eq!(l.institution_bears, yuan("5000"));
        assert_eq!(l.fund_pays_overage, yuan("45000"));
        assert_eq!(l.payable, yuan("1245000"));
    }

    #[test]
    fn odd_fen_split_follows_each_part_s_own_excess() {
        // C_in 100.00, C_out 100.00; A_in 100.02, A_out 100.01 → O = 3 fen, excesses 2 and 1 fen:
        // in-city part 3 × 2/3 = 2 fen, out-of-city 1 fen.
        let l = settle(
            &input("100", "100", "100.02", "100.01", Assessment::Some),
            &p(),
        )
        .unwrap();
        assert_eq!((l.overage_in, l.overage_out), (Fen(2), Fen(1)));
        // bears: 30% × 2 fen = 0.6 → 1 fen; 10% × 1 fen = 0.1 → 0 fen; paid 200.03 − 0.01.
        assert_eq!((l.bears_in, l.bears_out), (Fen(1), Fen(0)));
        assert_eq!(l.payable, yuan("200.02"));
        // none met: bears the 3 fen whole.
        let l = settle(
            &input("100", "100", "100.02", "100.01", Assessment::None),
            &p(),
        )
        .unwrap();
        assert_eq!(l.institution_bears, Fen(3));
    }

    #[test]
    fn the_split_always_adds_up_to_the_overage() {
        // When both parts exceed, O = e_in + e_out and the in-city part is e_in exactly; when only
        // one exceeds, it takes all of O. So the half-up rounding of §6 never loses or creates a
        // fen: check every combination of small caps and spendings.
        for cap_in in 0..6 {
            for cap_out in 0..6 {
                for a_in in 0..9 {
                    for a_out in 0..9 {
                        let i = BudgetInput {
                            fixmedins_code: "H33060400001".into(),
                            cap_in: Fen(cap_in),
                            cap_out: Fen(cap_out),
                            approved_extra: Fen::ZERO,
                            actual_in: Fen(a_in),
                            actual_out: Fen(a_out),
                            assessment: Assessment::Some,
                            prepaid: None,
                        };
                        let l = settle(&i, &p()).unwrap();
                        assert_eq!(l.overage_in + l.overage_out, l.overage);
                        assert!(l.overage_in.0 <= (a_in - cap_in).max(0));
                        assert!(l.overage_out.0 <= (a_out - cap_out).max(0));
                        assert_eq!(l.institution_bears + l.fund_pays_overage, l.overage);
                        assert_eq!(l.payable, l.actual + l.reward - l.institution_bears);
                    }
                }
            }
        }
    }

    #[test]
    fn separate_rounding_of_borne_shares_and_reward() {
        // In-city overage 0.05 yuan (5 fen): 30% = 1.5 fen → 2 fen (half up).
        // Out-of-city overage 0.05 yuan: 10% = 0.5 fen → 1 fen (half up). Bears 3 fen, not
        // round(1.5 + 0.5) = 2: each share is rounded separately per DOMAIN.md §6.
        let l = settle(
            &input("100", "100", "100.05", "100.05", Assessment::Some),
            &p(),
        )
        .unwrap();
        assert_eq!((l.bears_in, l.bears_out), (Fen(2), Fen(1)));
        assert_eq!(l.institution_bears, Fen(3));
        assert_eq!(l.fund_pays_overage, Fen(7));
        // Reward: C − A = 0.05 yuan → 30% = 1.5 fen → 2 fen.
        let l = settle(&input("100", "100", "99.95", "100", Assessment::None), &p()).unwrap();
        assert_eq!(l.reward, Fen(2));
        assert_eq!(l.payable, yuan("199.97"));
    }

    #[test]
    fn approved_extra_raises_the_in_city_cap() {
        // C_in 1,000,000 + extra 60,000; A_in 1,050,000 now under; A_out 250,000 over by 50,000.
        // C = 1,260,000, A = 1,300,000, O = 40,000, all out-of-city; some: bears 4,000.
        let mut i = input("1000000", "200000", "1050000", "250000", Assessment::Some);
        i.approved_extra = yuan("60000");
        let l = settle(&i, &p()).unwrap();
        assert_eq!(l.cap_in, yuan("1060000"));
        assert_eq!(l.cap, yuan("1260000"));
        assert_eq!((l.overage_in, l.overage_out), (Fen::ZERO, yuan("40000")));
        assert_eq!(l.institution_bears, yuan("4000"));
        assert_eq!(l.payable, yuan("1296000"));
    }

    #[test]
    fn exactly_at_the_cap_is_not_over_and_earns_no_reward() {
        let l = settle(&input("1000", "0", "1000", "0", Assessment::None), &p()).unwrap();
        assert_eq!(
            (l.reward, l.overage, l.payable),
            (Fen::ZERO, Fen::ZERO, yuan("1000"))
        );
    }

    #[test]
    fn prepaid_gives_the_year_end_balance() {
        let mut i = input("1000000", "200000", "1050000", "250000", Assessment::Some);
        i.prepaid = Some(yuan("1200000"));
        let l = settle(&i, &p()).unwrap();
        assert_eq!(l.balance, Some(yuan("80000")));
    }

    #[test]
    fn refuses_negative_and_duplicate_rows() {
        let i = input("-1", "0", "0", "0", Assessment::All);
        assert!(matches!(
            settle(&i, &p()),
            Err(BudgetError::Negative {
                field: "cap_in",
                ..
            })
        ));
        let a = input("1", "0", "0", "0", Assessment::All);
        assert!(matches!(
            settle_all(&[a.clone(), a], &p()),
            Err(BudgetError::Duplicate { .. })
        ));
        assert_eq!(settle_all(&[], &p()).unwrap(), vec![]);
    }

    #[test]
    fn policy_shares_are_parameters() {
        let mut pol = p();
        pol.reward_share = Rate::percent(50);
        pol.some_in_share = Rate::percent(20);
        pol.some_out_share = Rate::percent(0);
        let l = settle(
            &input("1000000", "200000", "1050000", "250000", Assessment::Some),
            &pol,
        )
        .unwrap();
        assert_eq!(l.institution_bears, yuan("10000"));
        let l = settle(
            &input("1000000", "200000", "900000", "150000", Assessment::Some),
            &pol,
        )
        .unwrap();
        assert_eq!(l.reward, yuan("75000"));
    }

    #[test]
    fn totals_add_up() {
        let a = settle(
            &input("1000000", "200000", "1050000", "250000", Assessment::Some),
            &p(),
        )
        .unwrap();
        let b = settle(
            &input("1000000", "200000", "900000", "150000", Assessment::Some),
            &p(),
        )
        .unwrap();
        let t = totals(&[a, b]);
        assert_eq!(t.institutions, 2);
        assert_eq!(t.payable, yuan("2375000"));
        assert_eq!(t.reward, yuan("45000"));
        assert_eq!(t.institution_bears, yuan("20000"));
    }

    #[test]
    fn monthly_quotas_reconcile_to_the_cap() {
        // 1,200,000.05 yuan ÷ 12 = 100,000.004166… → 100,000.00; December 100,000.05.
        let q = monthly_quotas(yuan("1200000.05"));
        assert_eq!(q[0], yuan("100000.00"));
        assert_eq!(q[11], yuan("100000.05"));
        assert_eq!(q.iter().copied().sum::<Fen>(), yuan("1200000.05"));
        // 0.11 yuan: 11/12 = 0.9166 fen → 1 fen × 11, December 0 fen.
        let q = monthly_quotas(Fen(11));
        assert_eq!((q[0], q[11]), (Fen(1), Fen(0)));
        assert_eq!(monthly_quotas(Fen::ZERO), [Fen::ZERO; 12]);
    }

    #[test]
    fn monthly_prepayment_is_the_lesser_of_quota_and_actual() {
        let mut actual = [yuan("90000"); 12];
        actual[1] = yuan("130000");
        actual[2] = yuan("-500"); // refunds above claims
        let pre = monthly_prepayments(yuan("1200000"), &actual);
        assert_eq!(pre[0], yuan("90000"));
        assert_eq!(pre[1], yuan("100000"));
        assert_eq!(pre[2], Fen::ZERO);
    }

    #[test]
    fn early_warning_thresholds() {
        let code: Code = "H33060400001".into();
        let cap = yuan("1200000");
        let pol = p(); // tolerance 10%, near cap 90%
                       // Month 6: pace limit 6/12 × 1.1 = 55%. 660,000 = 55% exactly → no warning; 1 fen more warns.
        assert!(early_warning(&code, cap, yuan("660000"), 6, &pol).is_none());
        let w = early_warning(&code, cap, yuan("660000.01"), 6, &pol).unwrap();
        assert_eq!(w.kind, WarningKind::Pace);
        assert_eq!(w.pace_limit, Rate(5500));
        assert_eq!(w.used, Some(Rate(5500)));
        assert!(w.message.contains("支出进度超前"), "{}", w.message);
        // Month 10: pace limit 91.67% but 90% of the cap (1,080,000) already → near cap.
        let w = early_warning(&code, cap, yuan("1080000"), 10, &pol).unwrap();
        assert_eq!(w.kind, WarningKind::NearCap);
        assert!(early_warning(&code, cap, yuan("1079999.99"), 10, &pol).is_none());
        // Above the cap at any month.
        let w = early_warning(&code, cap, yuan("1200000.01"), 12, &pol).unwrap();
        assert_eq!(w.kind, WarningKind::OverCap);
        // A zero cap with spending is over; without spending is fine.
        assert_eq!(
            early_warning(&code, Fen::ZERO, Fen(1), 1, &pol)
                .unwrap()
                .kind,
            WarningKind::OverCap
        );
        assert!(early_warning(&code, Fen::ZERO, Fen::ZERO, 1, &pol).is_none());
    }
}
