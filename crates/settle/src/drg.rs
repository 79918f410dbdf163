//! DRG point-value settlement (DRG 点数法, DOMAIN.md §9): the cases are the year's inpatient
//! settlements grouped by the hospital grouper's `drg_codg`; the arithmetic is
//! [`crate::points::settle_points`] with the `[drg]` policy parameters.

use crate::points::{settle_points, Case, PointError, PointSettlement};
use crate::policy::Policy;
use medfund_contract::Fen;

/// Settles DRG cases against the year's DRG fund budget.
pub fn settle_drg(
    cases: &[Case],
    budget: Fen,
    policy: &Policy,
) -> Result<PointSettlement, PointError> {
    settle_points(cases, budget, &policy.drg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::points::{CaseKind, PointValue, Points};
    use crate::policy::PointPolicy;
    use crate::rate::Rate;

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

    const T: &str = "H33060400001"; // tertiary, hosp_lv 1
    const S: &str = "H33060400002"; // secondary, hosp_lv 2

    /// The hand-computed case set (costs in yuan).
    ///
    /// Group GZ13 (15 cases, S_g = 150,000, m_g = 10,000):
    ///   tertiary 35,000 25,000 3,000 10,000 10,000 10,000 (6 cases, 93,000, mean 15,500);
    ///   secondary 25,000 and 8 × 4,000 (9 cases, 57,000, mean 6,333.33…).
    /// Group ES31 (5 cases, exactly the small-group limit, S_g = 100,000, m_g = 20,000):
    ///   tertiary 24,000 18,000 (mean 21,000); secondary 16,000 22,000 20,000 (mean 19,333.33…).
    /// Group XX11 (4 cases < 5, small group): tertiary 50,000 70,000; secondary 40,000 10,000.
    /// N = 24, S = 420,000, M = 17,500.
    fn cases() -> Vec<Case> {
        let mut v = Vec::new();
        let mut add = |inst: &str, lv: u8, g: &str, y: i64| {
            let id = format!("S{:03}", v.len() + 1);
            v.push(case(&id, inst, lv, g, y));
        };
        for y in [35_000, 25_000, 3_000, 10_000, 10_000, 10_000] {
            add(T, 1, "GZ13", y);
        }
        add(S, 2, "GZ13", 25_000);
        for _ in 0..8 {
            add(S, 2, "GZ13", 4_000);
        }
        add(T, 1, "ES31", 24_000);
        add(T, 1, "ES31", 18_000);
        for y in [16_000, 22_000, 20_000] {
            add(S, 2, "ES31", y);
        }
        add(T, 1, "XX11", 50_000);
        add(T, 1, "XX11", 70_000);
        add(S, 2, "XX11", 40_000);
        add(S, 2, "XX11", 10_000);
        v
    }

    #[test]
    fn hand_computed_drg_settlement() {
        let r = settle_drg(&cases(), Fen::from_yuan(400_000), &Policy::default()).unwrap();
        assert_eq!(r.cases, 24);
        assert_eq!(r.total_cost, Fen::from_yuan(420_000));
        assert_eq!(r.mean_cost, Fen::from_yuan(17_500));

        // Point table. BP_GZ13 = 10,000 ÷ 17,500 × 100 = 57.142857… → 57.1429;
        // f(GZ13, tertiary) = 15,500 ÷ 10,000 = 1.5500; f(GZ13, secondary) = 6,333.33… ÷ 10,000
        // = 0.633333… → 0.6333. BP_ES31 = 20,000 ÷ 17,500 × 100 = 114.285714… → 114.2857;
        // f = 21,000 ÷ 20,000 = 1.0500 and 19,333.33… ÷ 20,000 = 0.966666… → 0.9667.
        let g = |code: &str| r.groups.iter().find(|g| g.group == code).unwrap();
        assert_eq!(g("GZ13").base_points, Points(571_429));
        assert_eq!(g("GZ13").factors[0].factor, Rate(15_500));
        assert_eq!(g("GZ13").factors[1].factor, Rate(6_333));
        assert_eq!(g("ES31").base_points, Points(1_142_857));
        assert_eq!(
            (g("ES31").factors[0].factor, g("ES31").factors[1].factor),
            (Rate(10_500), Rate(9_667))
        );
        assert!(!g("ES31").small_group && g("XX11").small_group);

        let p = |i: usize| (r.case_points[i].kind, r.case_points[i].points);
        // Tertiary GZ13 35,000 > 3 × 10,000: high. 57.1429 × 1.55 = 88.571495 → 88.5715, plus
        // (35,000 − 30,000) ÷ 17,500 × 100 = 28.571428… → 28.5714: 117.1429.
        assert_eq!(p(0), (CaseKind::High, Points(1_171_429)));
        // Tertiary 25,000: above 2 × m_g but not above k = 3 × m_g at a tertiary hospital: normal.
        assert_eq!(p(1), (CaseKind::Normal, Points(885_715)));
        // 3,000 < 0.4 × 10,000: low, 3,000 ÷ 17,500 × 100 = 17.142857… → 17.1429.
        assert_eq!(p(2), (CaseKind::Low, Points(171_429)));
        assert_eq!(p(3), (CaseKind::Normal, Points(885_715)));
        // Secondary 25,000 > 2 × 10,000: high. 57.1429 × 0.6333 = 36.18859857 → 36.1886, plus
        // (25,000 − 20,000) ÷ 17,500 × 100 = 28.5714: 64.7600.
        assert_eq!(p(6), (CaseKind::High, Points(647_600)));
        // Secondary 4,000 = exactly 0.4 × m_g: not below, so normal at 36.1886.
        assert_eq!(p(7), (CaseKind::Normal, Points(361_886)));
        // ES31 tertiary: 114.2857 × 1.05 = 119.999985 → 120.0000; secondary: 114.2857 × 0.9667
        // = 110.47998… → 110.4800.
        assert_eq!(p(15), (CaseKind::Normal, Points(1_200_000)));
        assert_eq!(p(16), (CaseKind::Normal, Points(1_200_000)));
        assert_eq!(p(17), (CaseKind::Normal, Points(1_104_800)));
        // XX11 (4 cases): each by its own cost: 50,000 ÷ 17,500 × 100 = 285.714285… → 285.7143;
        // 70,000 → 400.0000; 40,000 → 228.5714; 10,000 → 57.1429.
        assert_eq!(p(20), (CaseKind::SmallGroup, Points(2_857_143)));
        assert_eq!(p(21), (CaseKind::SmallGroup, Points(4_000_000)));
        assert_eq!(p(22), (CaseKind::SmallGroup, Points(2_285_714)));
        assert_eq!(p(23), (CaseKind::SmallGroup, Points(571_429)));

        // Tertiary: 117.1429 + 88.5715 + 17.1429 + 3 × 88.5715 + 2 × 120 + 285.7143 + 400
        // = 1,414.2861 over 10 cases. Secondary: 64.7600 + 8 × 36.1886 + 3 × 110.48 + 228.5714
        // + 57.1429 = 971.4231 over 14 cases. Total 2,385.7092.
        assert_eq!(r.total_points, Points(23_857_092));
        // V = 400,000 ÷ 2,385.7092 = 167.66502787… → 167.665028 yuan per point.
        assert_eq!(r.point_value, PointValue(167_665_028));
        // Tertiary: 1,414.2861 × 167.665028 = 237,126.31858… → 237,126.32;
        // secondary: 971.4231 × 167.665028 = 162,873.67946… → 162,873.68.
        let t = &r.institutions[0];
        assert_eq!(
            (t.fixmedins_code.as_str(), t.cases, t.points),
            (T, 10, Points(14_142_861))
        );
        assert_eq!(t.payment, "237126.32".parse().unwrap());
        let s = &r.institutions[1];
        assert_eq!(
            (s.cases, s.points, s.payment),
            (14, Points(9_714_231), "162873.68".parse().unwrap())
        );
        assert_eq!(r.paid, Fen::from_yuan(400_000));
        assert_eq!(r.residual, Fen::ZERO);
        assert_eq!(t.balance, t.payment);
    }

    #[test]
    fn the_same_cost_is_high_at_secondary_but_not_at_tertiary() {
        // Two hospitals, one group of 6 cases: 5 × 1,000 and one 2,500 at the hospital under test.
        // m_g = 7,500 ÷ 6 = 1,250; 2,500 is exactly 2 × m_g: not high (strictly above is needed).
        let mut v: Vec<Case> = (0..5)
            .map(|i| case(&format!("A{i}"), S, 2, "G", 1_000))
            .collect();
        v.push(case("X", S, 2, "G", 2_500));
        let r = settle_drg(&v, Fen::from_yuan(100), &Policy::default()).unwrap();
        assert_eq!(r.case_points[5].kind, CaseKind::Normal);
        // 2,600: m_g = 7,600 ÷ 6 = 1,266.67, 2 × m_g = 2,533.33 < 2,600 → high at secondary…
        v[5] = case("X", S, 2, "G", 2_600);
        let r = settle_drg(&v, Fen::from_yuan(100), &Policy::default()).unwrap();
        assert_eq!(r.case_points[5].kind, CaseKind::High);
        // …and normal at a tertiary hospital (3 × m_g = 3,800).
        v[5] = case("X", T, 1, "G", 2_600);
        let r = settle_drg(&v, Fen::from_yuan(100), &Policy::default()).unwrap();
        assert_eq!(r.case_points[5].kind, CaseKind::Normal);
    }

    #[test]
    fn multipliers_are_parameters() {
        let p = Policy {
            drg: PointPolicy {
                small_group_min_cases: 4,
                low_ratio: Rate::percent(50),
                ..PointPolicy::default()
            },
            ..Policy::default()
        };
        let r = settle_drg(&cases(), Fen::from_yuan(400_000), &p).unwrap();
        // XX11 has 4 cases, no longer below the limit. Its m_g is 42,500; 10,000 < 0.5 × 42,500: low.
        assert_eq!(r.case_points[23].kind, CaseKind::Low);
        assert_eq!(r.case_points[20].kind, CaseKind::Normal);
        // GZ13 secondary 4,000 < 0.5 × 10,000 is now low: 4,000 ÷ 17,500 × 100 = 22.857142… → 22.8571.
        assert_eq!(
            (r.case_points[7].kind, r.case_points[7].points),
            (CaseKind::Low, Points(228_571))
        );
    }

    #[test]
    fn payments_round_half_up_to_the_fen_and_the_residual_is_reported() {
        // Three equal cases at three hospitals: 100 points each, total 300. Budget 1.00 yuan:
        // V = 1 ÷ 300 = 0.003333… → 0.003333; each paid 100 × 0.003333 = 0.3333 → 0.33; Σ 0.99,
        // residual 0.01 yuan.
        let v: Vec<Case> = ["H1", "H2", "H3"]
            .iter()
            .enumerate()
            .map(|(i, h)| case(&format!("S{i}"), h, 1, "G", 500))
            .collect();
        let mut p = Policy::default();
        p.drg.small_group_min_cases = 1;
        let r = settle_drg(&v, Fen::from_yuan(1), &p).unwrap();
        assert_eq!(r.point_value, PointValue(3_333));
        assert!(r
            .institutions
            .iter()
            .all(|i| i.points == Points(1_000_000) && i.payment == Fen(33)));
        assert_eq!((r.paid, r.residual), (Fen(99), Fen(1)));
        // Budget 0.02 yuan: V = 0.02 ÷ 300 = 0.0000666… → 0.000067; 100 × 0.000067 = 0.0067 → 0.01.
        let r = settle_drg(&v, Fen(2), &p).unwrap();
        assert_eq!(r.point_value, PointValue(67));
        assert!(r.institutions.iter().all(|i| i.payment == Fen(1)));
        assert_eq!(r.residual, Fen(-1));
    }

    #[test]
    fn prepaid_is_deducted_per_institution() {
        let mut v = cases();
        for c in v.iter_mut() {
            c.prepaid = Fen::from_yuan(1_000);
        }
        let r = settle_drg(&v, Fen::from_yuan(400_000), &Policy::default()).unwrap();
        assert_eq!(r.institutions[0].prepaid, Fen::from_yuan(10_000));
        assert_eq!(r.institutions[0].balance, "227126.32".parse().unwrap());
        assert_eq!(r.institutions[1].balance, "148873.68".parse().unwrap());
    }
}
