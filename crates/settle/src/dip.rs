//! DIP settlement (按病种分值付费, DOMAIN.md §9): the same point method with disease groups.
//!
//! The group of a case is its visit's `dise_codg` (or the `dip_codg` column of an input file).
//! The formula implemented is the point method of [`crate::points`] with the `[dip]` parameters:
//! a disease group's score (分值) is its mean cost ÷ the mean cost of all cases × 100 (published
//! to 4 decimals), adjusted by the hospital level's factor; high and low cost cases, groups with
//! too few cases, the point value (分值单价) and the payments follow the DRG rules exactly.

use crate::points::{settle_points, Case, PointError, PointSettlement};
use crate::policy::Policy;
use medfund_contract::Fen;

/// Settles DIP cases against the year's DIP fund budget.
pub fn settle_dip(
    cases: &[Case],
    budget: Fen,
    policy: &Policy,
) -> Result<PointSettlement, PointError> {
    settle_points(cases, budget, &policy.dip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::points::{CaseKind, PointValue, Points};

    fn case(id: &str, inst: &str, lv: u8, group: &str, yuan: i64) -> Case {
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
    fn hand_computed_dip_settlement() {
        // Disease group I63.9 (6 cases, S_g = 60,000, m_g = 10,000): secondary hospital B has
        // 8,000, 8,000, 9,000, 25,000 (mean 12,500); primary hospital C has 9,000 and 1,000
        // (mean 5,000). Group K80.2 (5 cases, m_g = 6,000): B 6,000 × 5.
        // N = 11, S = 90,000, M = 8,181.8181…
        let b = "H33060400002";
        let c = "H33060400003";
        let mut v = Vec::new();
        for (i, y) in [8_000, 8_000, 9_000, 25_000].iter().enumerate() {
            v.push(case(&format!("B{i}"), b, 2, "I63.9", *y));
        }
        v.push(case("C0", c, 3, "I63.9", 9_000));
        v.push(case("C1", c, 3, "I63.9", 1_000));
        for i in 0..5 {
            v.push(case(&format!("K{i}"), b, 2, "K80.2", 6_000));
        }
        let r = settle_dip(&v, Fen::from_yuan(90_000), &Policy::default()).unwrap();
        // Score of I63.9 = 10,000 ÷ 8,181.81… × 100 = 122.2222… → 122.2222; of K80.2 = 6,000 ÷
        // 8,181.81… × 100 = 73.3333…; factors: B 12,500 ÷ 10,000 = 1.25, C 0.5, K80.2 B 1.
        let g = |code: &str| r.groups.iter().find(|g| g.group == code).unwrap();
        assert_eq!(g("I63.9").base_points, Points(1_222_222));
        assert_eq!(g("K80.2").base_points, Points(733_333));
        // B 8,000: normal, 122.2222 × 1.25 = 152.77775 → 152.7778 (half up).
        assert_eq!(
            (r.case_points[0].kind, r.case_points[0].points),
            (CaseKind::Normal, Points(1_527_778))
        );
        // B 25,000 > 2 × 10,000 (secondary, k = 2): high, 152.7778 + 5,000 ÷ 8,181.81… × 100
        // = 152.7778 + 61.1111 = 213.8889.
        assert_eq!(
            (r.case_points[3].kind, r.case_points[3].points),
            (CaseKind::High, Points(2_138_889))
        );
        // C 9,000: normal, 122.2222 × 0.5 = 61.1111. C 1,000 < 4,000: low, 1,000 ÷ 8,181.81… ×
        // 100 = 12.2222.
        assert_eq!(
            (r.case_points[4].kind, r.case_points[4].points),
            (CaseKind::Normal, Points(611_111))
        );
        assert_eq!(
            (r.case_points[5].kind, r.case_points[5].points),
            (CaseKind::Low, Points(122_222))
        );
        // K80.2: 73.3333 each.
        assert_eq!(r.case_points[6].points, Points(733_333));
        // B: 3 × 152.7778 + 213.8889 + 5 × 73.3333 = 458.3334 + 213.8889 + 366.6665 = 1,038.8888.
        // C: 61.1111 + 12.2222 = 73.3333. Total 1,112.2221.
        assert_eq!(r.total_points, Points(11_122_221));
        // V = 90,000 ÷ 1,112.2221 = 80.9190898… → 80.919090.
        assert_eq!(r.point_value, PointValue(80_919_090));
        // B: 1,038.8888 × 80.919090 = 84,065.9363… → 84,065.94; C: 73.3333 × 80.919090
        // = 5,934.0639… → 5,934.06; together exactly the budget.
        assert_eq!(r.institutions[0].payment, "84065.94".parse().unwrap());
        assert_eq!(r.institutions[1].payment, "5934.06".parse().unwrap());
        assert_eq!(r.residual, Fen::ZERO);
    }
}
