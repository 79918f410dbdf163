//! The point method (点数法) shared by DRG and DIP (DOMAIN.md §9), in exact integer arithmetic.
//!
//! For one pooling region and year, over all cases given:
//!
//! - M = S ÷ N, the mean total cost of all N cases (S = their total cost);
//! - m_g = S_g ÷ n_g, the mean cost of group g;
//! - base points BP_g = m_g ÷ M × scale (scale = 100), **published rounded to 4 decimals**;
//! - adjustment factor f_{g,l} = (mean cost of level-l hospitals' cases in g) ÷ m_g, **published
//!   rounded to 4 decimals** (l = hosp_lv; an institution without a level counts as 9, unrated);
//! - a case of a group with fewer than `small_group_min_cases` cases (特病单议) earns
//!   cost ÷ M × scale;
//! - otherwise a case with cost > k × m_g (k = 3 at tertiary hospitals, 2 elsewhere) is a high
//!   outlier and earns BP_g × f_{g,l} + (cost − k × m_g) ÷ M × scale;
//! - otherwise a case with cost < low_ratio × m_g (0.4) is a low outlier and earns cost ÷ M × scale;
//! - every other case is normal and earns BP_g × f_{g,l}.
//!
//! Rounding (all half up, all in integers): BP_g and f_{g,l} to 4 decimals as a bureau publishes
//! them in its point table; BP_g × f_{g,l} to 4 decimals; a high case's outlier points
//! (cost − k·m_g) ÷ M × scale to 4 decimals, added to its normal points; a low or small-group case's
//! points to 4 decimals. The thresholds compare exact rationals (cost × n_g against k × S_g), so a
//! cost equal to k × m_g or to 0.4 × m_g is normal. The point value V = budget ÷ Σ points is rounded
//! to 6 decimals (yuan per point) and each institution is paid round(Σ its points × V) to the fen.
//! Because V is rounded, Σ payments may differ from the budget by a few fen; the difference is
//! reported as `residual` rather than hidden in one institution's payment.

use crate::policy::PointPolicy;
use medfund_contract::money::div_round_half_up;
use medfund_contract::{Code, Fen};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// Points with 4 decimals: `Points(10_000)` is 1 point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Points(pub i64);

/// A point value in yuan per point with 6 decimals: `PointValue(1_000_000)` is 1 yuan per point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PointValue(pub i64);

fn fmt_fixed(f: &mut fmt::Formatter<'_>, v: i64, decimals: u32) -> fmt::Result {
    let p = 10u64.pow(decimals);
    let a = v.unsigned_abs();
    if v < 0 {
        f.write_str("-")?;
    }
    write!(f, "{}.{:0w$}", a / p, a % p, w = decimals as usize)
}

impl fmt::Display for Points {
    /// Always 4 decimals (`88.5715`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_fixed(f, self.0, 4)
    }
}

impl fmt::Display for PointValue {
    /// Always 6 decimals (`167.665028`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_fixed(f, self.0, 6)
    }
}

impl std::str::FromStr for Points {
    type Err = medfund_contract::money::DecimalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        medfund_contract::money::parse_scaled(s, 4).map(Points)
    }
}

impl std::str::FromStr for PointValue {
    type Err = medfund_contract::money::DecimalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        medfund_contract::money::parse_scaled(s, 6).map(PointValue)
    }
}

macro_rules! text_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
text_serde!(Points);
text_serde!(PointValue);

impl std::ops::Add for Points {
    type Output = Points;
    fn add(self, o: Points) -> Points {
        Points(self.0 + o.0)
    }
}
impl std::ops::AddAssign for Points {
    fn add_assign(&mut self, o: Points) {
        self.0 += o.0;
    }
}
impl std::iter::Sum for Points {
    fn sum<I: Iterator<Item = Points>>(it: I) -> Points {
        Points(it.map(|p| p.0).sum())
    }
}

/// points × V rounded half up to the fen: 10⁻⁴ point × 10⁻⁶ yuan = 10⁻¹⁰ yuan = 10⁻⁸ fen.
///
/// ```
/// use medfund_settle::points::{payment, PointValue, Points};
/// use medfund_contract::Fen;
/// assert_eq!(payment(Points(10_000), PointValue(5_000)), Fen(1)); // 0.005 yuan → 0.01
/// assert_eq!(payment(Points(10_000), PointValue(4_999)), Fen(0));
/// ```
pub fn payment(points: Points, v: PointValue) -> Fen {
    Fen(div_round_half_up(points.0 as i128 * v.0 as i128, 100_000_000) as i64)
}

/// The kind of a case under the point method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// 正常病例
    Normal,
    /// 高倍率病例 (cost > k × m_g)
    High,
    /// 低倍率病例 (cost < 0.4 × m_g)
    Low,
    /// 特病单议 / small group (< 5 cases in the group)
    SmallGroup,
}

impl CaseKind {
    /// Stable code: `normal`, `high`, `low`, `small_group`.
    pub fn code(self) -> &'static str {
        match self {
            CaseKind::Normal => "normal",
            CaseKind::High => "high",
            CaseKind::Low => "low",
            CaseKind::SmallGroup => "small_group",
        }
    }
    /// Chinese label.
    pub fn zh(self) -> &'static str {
        match self {
            CaseKind::Normal => "正常病例",
            CaseKind::High => "高倍率病例",
            CaseKind::Low => "低倍率病例",
            CaseKind::SmallGroup => "特病单议（病例数不足）",
        }
    }
}

/// One settled inpatient case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub setl_id: Code,
    pub fixmedins_code: Code,
    /// 1 tertiary, 2 secondary, 3 primary, 9 unrated.
    pub hosp_lv: u8,
    /// The DRG code (`drg_codg`) or the DIP disease group.
    pub group: Code,
    /// medfee_sumamt, the case's total cost.
    pub total_cost: Fen,
    /// What was already prepaid for this case.
    pub prepaid: Fen,
}

/// A case's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CasePoints {
    pub setl_id: Code,
    pub fixmedins_code: Code,
    pub group: Code,
    pub hosp_lv: u8,
    pub total_cost: Fen,
    pub kind: CaseKind,
    pub points: Points,
}

/// One hospital level's adjustment factor within a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelFactor {
    pub hosp_lv: u8,
    pub cases: u64,
    /// Mean cost of these cases, rounded to the fen (for display).
    pub mean_cost: Fen,
    /// f_{g,l} with 4 decimals (`Points` scale: 10 000 = 1).
    pub factor: crate::rate::Rate,
}

/// One group's line of the published point table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupLine {
    pub group: Code,
    pub cases: u64,
    pub total_cost: Fen,
    /// m_g rounded to the fen (for display; the computation uses the exact ratio).
    pub mean_cost: Fen,
    /// BP_g.
    pub base_points: Points,
    /// Fewer cases than the small-group limit: every case is settled by its own cost.
    pub small_group: bool,
    pub factors: Vec<LevelFactor>,
    /// Σ points of the group's cases.
    pub points: Points,
}

/// One institution's payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstitutionLine {
    pub fixmedins_code: Code,
    pub cases: u64,
    pub points: Points,
    /// round(points × V) to the fen.
    pub payment: Fen,
    pub prepaid: Fen,
    /// payment − prepaid (negative: the institution pays back).
    pub balance: Fen,
}

/// The outcome of a point-method settlement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointSettlement {
    pub budget: Fen,
    pub cases: u64,
    pub total_cost: Fen,
    /// M rounded to the fen (display only).
    pub mean_cost: Fen,
    pub total_points: Points,
    pub point_value: PointValue,
    /// Σ payments.
    pub paid: Fen,
    /// budget − Σ payments, from rounding V and the payments.
    pub residual: Fen,
    pub groups: Vec<GroupLine>,
    pub institutions: Vec<InstitutionLine>,
    /// In input order.
    pub case_points: Vec<CasePoints>,
}

/// Why cases cannot be settled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PointError {
    #[error("没有可结算的病例，请检查年度与病例分组编码 / no cases to settle (check the year and the group codes)")]
    NoCases,
    #[error(
        "结算单 {setl_id} 的总费用为负数 ({cost})，请核对 / total_cost of {setl_id} is negative"
    )]
    NegativeCost { setl_id: String, cost: Fen },
    #[error("结算单 {setl_id} 出现多次，每个病例只能结算一次 / setl_id {setl_id} appears more than once")]
    DuplicateCase { setl_id: String },
    #[error("结算单 {setl_id} 没有分组编码 / case {setl_id} has no group code")]
    MissingGroup { setl_id: String },
    #[error(
        "全部病例总费用为 0，无法计算点数 / the cases' total cost is 0, points cannot be computed"
    )]
    ZeroCost,
    #[error("年度基金预算不能为负数 ({0}) / the budget must not be negative")]
    NegativeBudget(Fen),
    #[error("总点数为 0，无法计算点值 / total points are 0, the point value cannot be computed")]
    ZeroPoints,
    #[error("数值过大，超出精确计算范围 / amounts too large for exact arithmetic")]
    Overflow,
}

/// Π num ÷ Π den rounded half up, with every product checked (release builds would wrap).
fn ratio(num: &[i128], den: &[i128]) -> Result<i64, PointError> {
    let mut n: i128 = 1;
    for &x in num {
        n = n.checked_mul(x).ok_or(PointError::Overflow)?;
    }
    let mut d: i128 = 1;
    for &x in den {
        d = d.checked_mul(x).ok_or(PointError::Overflow)?;
    }
    // Callers pass non-negative numerators; guard anyway so a negative never rounds toward zero.
    let q = div_round_half_up(n, d);
    i64::try_from(q).map_err(|_| PointError::Overflow)
}

struct GroupAcc {
    sum: i128,
    n: i128,
    /// (hosp_lv, sum, n), a handful of levels at most.
    levels: Vec<(u8, i128, i128)>,
}

/// Settles a year's cases by the point method (see the module documentation for every formula
/// and rounding).
pub fn settle_points(
    cases: &[Case],
    budget: Fen,
    policy: &PointPolicy,
) -> Result<PointSettlement, PointError> {
    if budget.is_negative() {
        return Err(PointError::NegativeBudget(budget));
    }
    if cases.is_empty() {
        return Err(PointError::NoCases);
    }
    let mut seen = std::collections::HashSet::with_capacity(cases.len());
    let mut group_ix: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<(&Code, GroupAcc)> = Vec::new();
    let mut case_group = Vec::with_capacity(cases.len());
    let (mut s, mut n) = (0i128, 0i128);
    for c in cases {
        if c.total_cost.is_negative() {
            return Err(PointError::NegativeCost {
                setl_id: c.setl_id.to_string(),
                cost: c.total_cost,
            });
        }
        if c.group.trim().is_empty() {
            return Err(PointError::MissingGroup {
                setl_id: c.setl_id.to_string(),
            });
        }
        if !seen.insert(c.setl_id.as_str()) {
            return Err(PointError::DuplicateCase {
                setl_id: c.setl_id.to_string(),
            });
        }
        let gi = *group_ix.entry(c.group.as_str()).or_insert_with(|| {
            groups.push((
                &c.group,
                GroupAcc {
                    sum: 0,
                    n: 0,
                    levels: Vec::new(),
                },
            ));
            groups.len() - 1
        });
        let cost = c.total_cost.0 as i128;
        let g = &mut groups[gi].1;
        g.sum += cost;
        g.n += 1;
        match g.levels.iter_mut().find(|l| l.0 == c.hosp_lv) {
            Some(l) => {
                l.1 += cost;
                l.2 += 1;
            }
            None => g.levels.push((c.hosp_lv, cost, 1)),
        }
        case_group.push(gi);
        s += cost;
        n += 1;
    }
    if s == 0 {
        return Err(PointError::ZeroCost);
    }
    let scale = policy.points_scale.0 as i128; // ×10⁴, so BP comes out ×10⁴ directly
    let one = crate::rate::Rate::ONE_RAW as i128;

    // The published table: BP_g and f_{g,l}, both to 4 decimals.
    let mut bp = Vec::with_capacity(groups.len());
    let mut factors: Vec<Vec<(u8, i64)>> = Vec::with_capacity(groups.len());
    for (_, g) in &groups {
        bp.push(ratio(&[scale, g.sum, n], &[g.n, s])?);
        let mut fl = Vec::with_capacity(g.levels.len());
        for &(lv, ls, ln) in &g.levels {
            let f = if g.sum == 0 {
                one as i64
            } else {
                ratio(&[one, ls, g.n], &[ln, g.sum])?
            };
            fl.push((lv, f));
        }
        factors.push(fl);
    }

    let small_min = policy.small_group_min_cases as i128;
    let mut case_points = Vec::with_capacity(cases.len());
    let mut group_points = vec![0i64; groups.len()];
    for (c, &gi) in cases.iter().zip(&case_group) {
        let g = &groups[gi].1;
        let cost = c.total_cost.0 as i128;
        // cost ÷ M × scale, the points of a case settled by its own cost.
        let own = || ratio(&[scale, cost, n], &[s]);
        let k = if c.hosp_lv == 1 {
            policy.high_k_tertiary.0
        } else {
            policy.high_k_other.0
        } as i128;
        let normal = || {
            let f = factors[gi]
                .iter()
                .find(|l| l.0 == c.hosp_lv)
                .map(|l| l.1)
                .unwrap_or(one as i64);
            ratio(&[bp[gi] as i128, f as i128], &[one])
        };
        let (kind, pts) = if g.n < small_min {
            (CaseKind::SmallGroup, own()?)
        } else if cost * g.n * one > k * g.sum {
            // (cost − k·S_g/n_g) ÷ (S/N) × scale = scale·N·(cost·n_g·10⁴ − k·S_g) ÷ (n_g·S·10⁴)
            let excess = cost * g.n * one - k * g.sum;
            (
                CaseKind::High,
                normal()? + ratio(&[scale, n, excess], &[g.n, s, one])?,
            )
        } else if cost * g.n * one < policy.low_ratio.0 as i128 * g.sum {
            (CaseKind::Low, own()?)
        } else {
            (CaseKind::Normal, normal()?)
        };
        group_points[gi] += pts;
        case_points.push(CasePoints {
            setl_id: c.setl_id.clone(),
            fixmedins_code: c.fixmedins_code.clone(),
            group: c.group.clone(),
            hosp_lv: c.hosp_lv,
            total_cost: c.total_cost,
            kind,
            points: Points(pts),
        });
    }

    let total_points: i64 = group_points.iter().sum();
    if total_points == 0 {
        return Err(PointError::ZeroPoints);
    }
    // V (×10⁶ yuan/point) = (budget_fen ÷ 100) ÷ (P ÷ 10⁴) × 10⁶ = budget_fen × 10⁸ ÷ P.
    let v = PointValue(ratio(
        &[budget.0 as i128, 100_000_000],
        &[total_points as i128],
    )?);

    let mut inst: HashMap<&str, (u64, i64, i64)> = HashMap::new();
    for (c, cp) in cases.iter().zip(&case_points) {
        let e = inst.entry(c.fixmedins_code.as_str()).or_default();
        e.0 += 1;
        e.1 += cp.points.0;
        e.2 += c.prepaid.0;
    }
    let mut institutions: Vec<InstitutionLine> = inst
        .into_iter()
        .map(|(code, (cases, pts, pre))| {
            let pay = payment(Points(pts), v);
            InstitutionLine {
                fixmedins_code: code.into(),
                cases,
                points: Points(pts),
                payment: pay,
                prepaid: Fen(pre),
                balance: pay - Fen(pre),
            }
        })
        .collect();
    institutions.sort_by(|a, b| a.fixmedins_code.cmp(&b.fixmedins_code));
    let paid: Fen = institutions.iter().map(|i| i.payment).sum();

    let mut group_lines: Vec<GroupLine> = groups
        .iter()
        .enumerate()
        .map(|(gi, (code, g))| {
            let mut f: Vec<LevelFactor> = g
                .levels
                .iter()
                .zip(&factors[gi])
                .map(|(&(lv, ls, ln), &(_, fv))| LevelFactor {
                    hosp_lv: lv,
                    cases: ln as u64,
                    mean_cost: Fen(div_round_half_up(ls, ln) as i64),
                    factor: crate::rate::Rate(fv),
                })
                .collect();
            f.sort_by_key(|l| l.hosp_lv);
            GroupLine {
                group: (*code).clone(),
                cases: g.n as u64,
                total_cost: Fen(g.sum as i64),
                mean_cost: Fen(div_round_half_up(g.sum, g.n) as i64),
                base_points: Points(bp[gi]),
                small_group: g.n < small_min,
                factors: f,
                points: Points(group_points[gi]),
            }
        })
        .collect();
    group_lines.sort_by(|a, b| a.group.cmp(&b.group));

    Ok(PointSettlement {
        budget,
        cases: n as u64,
        total_cost: Fen(s as i64),
        mean_cost: Fen(div_round_half_up(s, n) as i64),
        total_points: Points(total_points),
        point_value: v,
        paid,
        residual: budget - paid,
        groups: group_lines,
        institutions,
        case_points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn case(id: &str, inst: &str, lv: u8, group: &str, yuan: i64) -> Case {
        Case {
            setl_id: id.into(),
            fixmedins_code: inst.into(),
            hosp_lv: lv,
            group: group.into(),
            total_cost: Fen::from_yuan(yuan),
            prepaid: Fen::ZERO,
        }
    }

    #[test]
    fn fixed_decimal_display() {
        assert_eq!(Points(885_715).to_string(), "88.5715");
        assert_eq!(Points(1_200_000).to_string(), "120.0000");
        assert_eq!(PointValue(167_665_028).to_string(), "167.665028");
        assert_eq!(PointValue(5).to_string(), "0.000005");
        assert_eq!("88.5715".parse::<Points>().unwrap(), Points(885_715));
    }

    #[test]
    fn refuses_bad_input() {
        let p = PointPolicy::default();
        assert_eq!(settle_points(&[], Fen(1), &p), Err(PointError::NoCases));
        let a = case("S1", "H1", 1, "A", 10);
        assert!(matches!(
            settle_points(&[a.clone(), a.clone()], Fen(1), &p),
            Err(PointError::DuplicateCase { .. })
        ));
        assert_eq!(
            settle_points(std::slice::from_ref(&a), Fen(-1), &p),
            Err(PointError::NegativeBudget(Fen(-1)))
        );
        let z = case("S2", "H1", 1, "A", 0);
        assert_eq!(settle_points(&[z], Fen(1), &p), Err(PointError::ZeroCost));
        let mut neg = a.clone();
        neg.total_cost = Fen(-1);
        assert!(matches!(
            settle_points(&[neg], Fen(1), &p),
            Err(PointError::NegativeCost { .. })
        ));
        let mut nog = a;
        nog.group = "".into();
        assert!(matches!(
            settle_points(&[nog], Fen(1), &p),
            Err(PointError::MissingGroup { .. })
        ));
    }

    #[test]
    fn a_zero_budget_gives_a_zero_point_value() {
        let cs: Vec<Case> = (0..5)
            .map(|i| case(&format!("S{i}"), "H1", 1, "A", 100))
            .collect();
        let r = settle_points(&cs, Fen::ZERO, &PointPolicy::default()).unwrap();
        assert_eq!(r.point_value, PointValue(0));
        assert_eq!(r.paid, Fen::ZERO);
        // Five equal cases: m_g = M, BP = 100, f = 1 → 100 points each.
        assert!(r
            .case_points
            .iter()
            .all(|c| c.points == Points(1_000_000) && c.kind == CaseKind::Normal));
    }
}
