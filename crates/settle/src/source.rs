//! Builds settlement inputs from the contract's records (the store's tables), without I/O.
//!
//! - Fund spending of a settlement is `hifp_pay` (统筹基金支付, the reimbursement the total
//!   budget controls), or `fund_pay_sumamt` when the policy says so.
//! - An institution's in-city spending A_in is the spending of its own settlements whose
//!   `setl_time` falls in the year.
//! - Its out-of-city referral spending A_out is the spending of inpatient settlements in the year
//!   at institutions outside the city whose visit's `refl_fixmedins_code` is the institution.
//! - An institution is outside the city when the first 4 digits of its area code (`admdvs`, else
//!   the 6 area digits inside its `fixmedins_code`) differ from the city's.
//! - DRG cases are the year's settlements with a `drg_codg`; DIP cases are the year's inpatient
//!   settlements whose visit has a `dise_codg`. A case's total cost is `medfee_sumamt`.

use crate::budget::{monthly_prepayments, Assessment, BudgetInput};
use crate::points::Case;
use crate::policy::{BudgetPolicy, PointPolicy, SpendingField};
use chrono::Datelike;
use medfund_contract::{Budget, Code, Fen, Fixmedins, Mdtrt, Setl};
use std::collections::{BTreeMap, HashMap};

/// The fund spending of one settlement under the policy's choice of field.
pub fn spending(s: &Setl, field: SpendingField) -> Fen {
    match field {
        SpendingField::HifpPay => s.hifp_pay,
        SpendingField::FundPaySumamt => s.fund_pay_sumamt.unwrap_or(s.hifp_pay),
    }
}

/// The 4-digit area prefix of an institution code (`H330604…` → `3306`).
pub fn code_area_prefix(fixmedins_code: &str) -> Option<&str> {
    fixmedins_code
        .get(1..5)
        .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// The 4-digit area prefix of each known institution: its `admdvs`, else the digits in its code.
pub fn area_prefixes(fixmedins: &[Fixmedins]) -> HashMap<&str, &str> {
    fixmedins
        .iter()
        .filter_map(|f| {
            let p = f
                .admdvs
                .as_deref()
                .and_then(|a| a.get(0..4))
                .or_else(|| code_area_prefix(&f.fixmedins_code))?;
            Some((f.fixmedins_code.as_str(), p))
        })
        .collect()
}

/// The city's 4-digit prefix: the policy's `city_admdvs`, else the most common prefix among the
/// institutions that have a budget (ties go to the smaller code, so the result is stable).
pub fn city_prefix(
    policy_city: Option<&str>,
    budgets: &[Budget],
    fixmedins: &[Fixmedins],
) -> Option<String> {
    if let Some(c) = policy_city.map(str::trim).filter(|c| c.len() >= 4) {
        return Some(c[0..4].to_string());
    }
    let areas = area_prefixes(fixmedins);
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for b in budgets {
        let p = areas
            .get(b.fixmedins_code.as_str())
            .copied()
            .or_else(|| code_area_prefix(&b.fixmedins_code));
        if let Some(p) = p {
            *count.entry(p).or_default() += 1;
        }
    }
    let mut best: Option<(&str, usize)> = None;
    for (p, n) in count {
        if best.is_none_or(|(_, bn)| n > bn) {
            best = Some((p, n));
        }
    }
    best.map(|(p, _)| p.to_string())
}

/// An institution's fund spending in a year, split in-city / out-of-city and by month.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spending {
    pub actual_in: Fen,
    pub actual_out: Fen,
    /// Index 0 = January; in-city + out-of-city.
    pub monthly: [Fen; 12],
}

/// Spending per institution (see the module documentation for the definitions).
pub fn year_spending(
    year: i32,
    city: &str,
    setl: &[Setl],
    mdtrt: &[Mdtrt],
    fixmedins: &[Fixmedins],
    field: SpendingField,
) -> HashMap<Code, Spending> {
    let areas = area_prefixes(fixmedins);
    let out_of_city = |code: &str| {
        areas
            .get(code)
            .copied()
            .or_else(|| code_area_prefix(code))
            .is_some_and(|a| a != city)
    };
    // Only the visits of out-of-city settlements matter for referrals: index just those.
    let wanted: std::collections::HashSet<&str> = setl
        .iter()
        .filter(|s| s.setl_time.year() == year && out_of_city(&s.fixmedins_code))
        .map(|s| s.mdtrt_id.as_str())
        .collect();
    let referrer: HashMap<&str, &str> = mdtrt
        .iter()
        .filter(|m| m.is_inpatient() && wanted.contains(m.mdtrt_id.as_str()))
        .filter_map(|m| Some((m.mdtrt_id.as_str(), m.refl_fixmedins_code.as_deref()?)))
        .collect();
    let mut out: HashMap<&str, Spending> = HashMap::new();
    for s in setl.iter().filter(|s| s.setl_time.year() == year) {
        let amount = spending(s, field);
        let month = s.setl_time.month0() as usize;
        let e = out.entry(s.fixmedins_code.as_str()).or_default();
        e.actual_in += amount;
        e.monthly[month] += amount;
        if let Some(r) = referrer.get(s.mdtrt_id.as_str()) {
            if out_of_city(&s.fixmedins_code) {
                let r = out.entry(r).or_default();
                r.actual_out += amount;
                r.monthly[month] += amount;
            }
        }
    }
    out.into_iter().map(|(k, v)| (Code::from(k), v)).collect()
}

/// Budget inputs for every institution with a budget row in the year, with their spending,
/// their assessment (given, else the policy's entry, else its default) and their prepayments
/// (Σ over months of min(C ÷ 12, the month's spending)).
pub fn budget_inputs(
    year: i32,
    budgets: &[Budget],
    spending: &HashMap<Code, Spending>,
    given: &HashMap<Code, Assessment>,
    policy: &BudgetPolicy,
) -> Vec<BudgetInput> {
    let mut rows: Vec<&Budget> = budgets.iter().filter(|b| b.year == year).collect();
    rows.sort_by(|a, b| a.fixmedins_code.cmp(&b.fixmedins_code));
    rows.into_iter()
        .map(|b| {
            let sp = spending.get(&b.fixmedins_code).cloned().unwrap_or_default();
            let cap_out = b.cap_out.unwrap_or(Fen::ZERO);
            let extra = b.approved_extra.unwrap_or(Fen::ZERO);
            let cap = b.cap_in + extra + cap_out;
            let prepaid = monthly_prepayments(cap, &sp.monthly).iter().copied().sum();
            BudgetInput {
                fixmedins_code: b.fixmedins_code.clone(),
                cap_in: b.cap_in,
                cap_out,
                approved_extra: extra,
                actual_in: sp.actual_in,
                actual_out: sp.actual_out,
                assessment: given
                    .get(&b.fixmedins_code)
                    .copied()
                    .unwrap_or_else(|| policy.assessment_of(&b.fixmedins_code)),
                prepaid: Some(prepaid),
            }
        })
        .collect()
}

/// Institutions that spent fund money in the year but have no budget row (they are outside total
/// budget control, which the report should say).
pub fn without_budget(
    year: i32,
    budgets: &[Budget],
    spending: &HashMap<Code, Spending>,
) -> Vec<Code> {
    let with: std::collections::HashSet<&str> = budgets
        .iter()
        .filter(|b| b.year == year)
        .map(|b| b.fixmedins_code.as_str())
        .collect();
    let mut v: Vec<Code> = spending
        .iter()
        .filter(|(c, s)| {
            !with.contains(c.as_str()) && (s.actual_in != Fen::ZERO || s.actual_out != Fen::ZERO)
        })
        .map(|(c, _)| c.clone())
        .collect();
    v.sort();
    v
}

/// Which grouping a point settlement uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// DRG (按病组, `drg_codg`).
    Drg,
    /// DIP (按病种分值, `dise_codg`).
    Dip,
}

impl Scheme {
    /// `drg` or `dip`.
    pub fn code(self) -> &'static str {
        match self {
            Scheme::Drg => "drg",
            Scheme::Dip => "dip",
        }
    }
    /// The group column name in files: `drg_codg` or `dip_codg`.
    pub fn group_column(self) -> &'static str {
        match self {
            Scheme::Drg => "drg_codg",
            Scheme::Dip => "dip_codg",
        }
    }
    /// Chinese name of the scheme.
    pub fn zh(self) -> &'static str {
        match self {
            Scheme::Drg => "DRG 点数法",
            Scheme::Dip => "DIP 病种分值",
        }
    }
    /// Chinese word for the points: 点数 (DRG) or 分值 (DIP).
    pub fn points_zh(self) -> &'static str {
        match self {
            Scheme::Drg => "点数",
            Scheme::Dip => "分值",
        }
    }
}

/// Cases taken from the records, and what was left out and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseExtract {
    pub cases: Vec<Case>,
    /// Settlements of the year without a group code (inpatient ones for DIP).
    pub without_group: usize,
    /// Settlements with a total cost ≤ 0 (reversals), not cases of their own.
    pub non_positive: usize,
}

/// The year's point-method cases. `prepay_ratio` × the case's `hifp_pay` (half up) is its prepaid.
/// For DIP, a visit without `dise_codg` is grouped by the first `dip_diag_chars` characters of its
/// main diagnosis (when that is not 0).
pub fn cases(
    scheme: Scheme,
    year: i32,
    setl: &[Setl],
    mdtrt: &[Mdtrt],
    fixmedins: &[Fixmedins],
    policy: &PointPolicy,
) -> CaseExtract {
    let prepay_ratio = policy.prepay_ratio;
    let diag_chars = policy.dip_diag_chars as usize;
    let levels: HashMap<&str, u8> = fixmedins
        .iter()
        .map(|f| (f.fixmedins_code.as_str(), f.hosp_lv.unwrap_or(9)))
        .collect();
    let visits: HashMap<&str, &Mdtrt> = mdtrt.iter().map(|m| (m.mdtrt_id.as_str(), m)).collect();
    let mut out = CaseExtract::default();
    for s in setl.iter().filter(|s| s.setl_time.year() == year) {
        let group = match scheme {
            Scheme::Drg => match s.drg_codg.as_ref().filter(|g| !g.trim().is_empty()) {
                Some(g) => g.clone(),
                None => {
                    if visits
                        .get(s.mdtrt_id.as_str())
                        .is_some_and(|v| v.is_inpatient())
                    {
                        out.without_group += 1;
                    }
                    continue;
                }
            },
            Scheme::Dip => {
                let Some(v) = visits.get(s.mdtrt_id.as_str()).filter(|v| v.is_inpatient()) else {
                    continue;
                };
                let from_diag = || {
                    let d = v.diag_code.trim();
                    (diag_chars > 0 && !d.is_empty())
                        .then(|| Code::from(d.get(..diag_chars).unwrap_or(d)))
                };
                match v
                    .dise_codg
                    .as_ref()
                    .filter(|g| !g.trim().is_empty())
                    .cloned()
                    .or_else(from_diag)
                {
                    Some(g) => g,
                    None => {
                        out.without_group += 1;
                        continue;
                    }
                }
            }
        };
        if s.medfee_sumamt.0 <= 0 {
            out.non_positive += 1;
            continue;
        }
        out.cases.push(Case {
            setl_id: s.setl_id.clone(),
            fixmedins_code: s.fixmedins_code.clone(),
            hosp_lv: levels.get(s.fixmedins_code.as_str()).copied().unwrap_or(9),
            group,
            total_cost: s.medfee_sumamt,
            prepaid: Fen(prepay_ratio.apply(s.hifp_pay.0)),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rate::Rate;
    use medfund_contract::records::FixmedinsType;
    use medfund_contract::time::parse_datetime;

    fn inst(code: &str, lv: u8, admdvs: Option<&str>) -> Fixmedins {
        Fixmedins {
            fixmedins_code: code.into(),
            fixmedins_name: format!("医院{code}"),
            fixmedins_type: FixmedinsType::Medical,
            hosp_lv: Some(lv),
            admdvs: admdvs.map(Into::into),
        }
    }

    fn visit(
        id: &str,
        inst: &str,
        med_type: &str,
        refl: Option<&str>,
        dise: Option<&str>,
    ) -> Mdtrt {
        Mdtrt {
            mdtrt_id: id.into(),
            psn_no: "P1".into(),
            fixmedins_code: inst.into(),
            med_type: med_type.into(),
            begntime: parse_datetime("2024-01-01 08:00:00").unwrap(),
            endtime: None,
            diag_code: "I10.x00".into(),
            dise_codg: dise.map(Into::into),
            atddr_no: None,
            emer_flag: false,
            refl_fixmedins_code: refl.map(Into::into),
        }
    }

    fn setl(
        id: &str,
        mdtrt: &str,
        inst: &str,
        time: &str,
        total: &str,
        hifp: &str,
        drg: Option<&str>,
    ) -> Setl {
        Setl {
            setl_id: id.into(),
            mdtrt_id: mdtrt.into(),
            psn_no: "P1".into(),
            fixmedins_code: inst.into(),
            setl_time: parse_datetime(time).unwrap(),
            medfee_sumamt: total.parse().unwrap(),
            hifp_pay: hifp.parse().unwrap(),
            acct_pay: None,
            psn_cash_pay: None,
            fund_pay_sumamt: Some("1".parse().unwrap()),
            drg_codg: drg.map(Into::into),
        }
    }

    fn budget(code: &str, year: i32, cap_in: i64, cap_out: Option<i64>) -> Budget {
        Budget {
            fixmedins_code: code.into(),
            year,
            cap_in: Fen::from_yuan(cap_in),
            cap_out: cap_out.map(Fen::from_yuan),
            approved_extra: None,
        }
    }

    #[test]
    fn city_is_the_policy_s_or_the_most_common_budget_area() {
        let f = vec![
            inst("H33060400001", 1, Some("330604")),
            inst("H33010200001", 1, None),
        ];
        let b = vec![
            budget("H33060400001", 2024, 1, None),
            budget("H33060200009", 2024, 1, None),
        ];
        assert_eq!(city_prefix(None, &b, &f).as_deref(), Some("3306"));
        assert_eq!(city_prefix(Some("310101"), &b, &f).as_deref(), Some("3101"));
        assert_eq!(city_prefix(None, &[], &f), None);
    }

    #[test]
    fn spending_splits_in_city_and_referrals_out_of_the_city() {
        let f = vec![
            inst("H33060400001", 1, Some("330604")),
            // out of the city by admdvs even though its code says 3306
            inst("H33060499999", 1, Some("330102")),
            inst("H33010200001", 1, None), // out of the city by its code
        ];
        let m = vec![
            visit("M1", "H33060400001", "21", None, None),
            visit("M2", "H33060499999", "21", Some("H33060400001"), None),
            visit("M3", "H33010200001", "21", Some("H33060400001"), None),
            visit("M4", "H33010200001", "11", Some("H33060400001"), None), // outpatient: not counted
            visit("M5", "H33060400001", "21", Some("H33060400001"), None), // in-city: own spending only
        ];
        let s = vec![
            setl(
                "S1",
                "M1",
                "H33060400001",
                "2024-01-15 10:00:00",
                "1000",
                "700",
                None,
            ),
            setl(
                "S2",
                "M2",
                "H33060499999",
                "2024-02-01 10:00:00",
                "500",
                "300",
                None,
            ),
            setl(
                "S3",
                "M3",
                "H33010200001",
                "2024-02-10 10:00:00",
                "500",
                "200.50",
                None,
            ),
            setl(
                "S4",
                "M4",
                "H33010200001",
                "2024-03-10 10:00:00",
                "100",
                "80",
                None,
            ),
            setl(
                "S5",
                "M5",
                "H33060400001",
                "2024-12-31 23:59:59",
                "100",
                "60",
                None,
            ),
            setl(
                "S6",
                "M1",
                "H33060400001",
                "2023-12-31 23:59:59",
                "100",
                "90",
                None,
            ), // other year
        ];
        let sp = year_spending(2024, "3306", &s, &m, &f, SpendingField::HifpPay);
        let h = &sp[&Code::from("H33060400001")];
        assert_eq!(h.actual_in, "760".parse().unwrap());
        assert_eq!(h.actual_out, "500.50".parse().unwrap());
        assert_eq!(h.monthly[0], "700".parse().unwrap());
        assert_eq!(h.monthly[1], "500.50".parse().unwrap());
        assert_eq!(h.monthly[11], "60".parse().unwrap());
        let sp = year_spending(2024, "3306", &s, &m, &f, SpendingField::FundPaySumamt);
        assert_eq!(
            sp[&Code::from("H33060400001")].actual_in,
            "2".parse().unwrap()
        );

        let b = vec![
            budget("H33060400001", 2024, 1000, Some(100)),
            budget("H33060400001", 2023, 5, None),
        ];
        let mut given = HashMap::new();
        let pol = BudgetPolicy::default();
        let inputs = budget_inputs(2024, &b, &sp, &given, &pol);
        assert_eq!(inputs.len(), 1);
        assert_eq!(inputs[0].assessment, Assessment::All);
        given.insert(Code::from("H33060400001"), Assessment::None);
        assert_eq!(
            budget_inputs(2024, &b, &sp, &given, &pol)[0].assessment,
            Assessment::None
        );
        let sp = year_spending(2024, "3306", &s, &m, &f, SpendingField::HifpPay);
        let inputs = budget_inputs(2024, &b, &sp, &given, &pol);
        // C = 1,100 → quota 91.67 a month: Jan min(91.67, 700) + Feb min(91.67, 500.50) + Dec
        // min(91.63, 60) = 91.67 + 91.67 + 60 = 243.34 (December's quota is 1,100 − 11 × 91.67).
        assert_eq!(inputs[0].prepaid, Some("243.34".parse().unwrap()));
        assert_eq!(
            without_budget(2024, &b, &sp),
            vec![Code::from("H33010200001"), Code::from("H33060499999")]
        );
    }

    #[test]
    fn drg_and_dip_cases() {
        let f = vec![inst("H33060400001", 2, None)];
        let m = vec![
            visit("M1", "H33060400001", "21", None, Some("DIP001")),
            visit("M2", "H33060400001", "21", None, None),
            visit("M3", "H33060400001", "11", None, Some("DIP001")),
        ];
        let s = vec![
            setl(
                "S1",
                "M1",
                "H33060400001",
                "2024-05-01 10:00:00",
                "8000",
                "6000",
                Some("GZ13"),
            ),
            setl(
                "S2",
                "M2",
                "H33060400001",
                "2024-05-01 10:00:00",
                "9000",
                "7000",
                None,
            ),
            setl(
                "S3",
                "M3",
                "H33060400001",
                "2024-05-01 10:00:00",
                "100",
                "50",
                None,
            ),
            setl(
                "S4",
                "M1",
                "H33060400001",
                "2024-05-02 10:00:00",
                "-8000",
                "-6000",
                Some("GZ13"),
            ),
            setl(
                "S5",
                "M7",
                "H99999999999",
                "2024-05-02 10:00:00",
                "100",
                "50",
                Some("ES31"),
            ),
        ];
        let pp = |ratio: Rate, chars: u32| PointPolicy {
            prepay_ratio: ratio,
            dip_diag_chars: chars,
            ..PointPolicy::default()
        };
        let d = cases(Scheme::Drg, 2024, &s, &m, &f, &pp(Rate::percent(85), 5));
        assert_eq!(d.cases.len(), 2);
        assert_eq!(d.cases[0].prepaid, "5100".parse().unwrap());
        assert_eq!(d.cases[0].hosp_lv, 2);
        assert_eq!(d.cases[1].hosp_lv, 9); // unknown institution counts as unrated
        assert_eq!((d.without_group, d.non_positive), (1, 1));
        // DIP without the diagnosis fallback: M2 has no dise_codg and is left out.
        let d = cases(Scheme::Dip, 2024, &s, &m, &f, &pp(Rate::ZERO, 0));
        assert_eq!(d.cases.len(), 1);
        assert_eq!(d.cases[0].group, "DIP001");
        assert_eq!(d.cases[0].prepaid, Fen::ZERO);
        assert_eq!((d.without_group, d.non_positive), (1, 1));
        // With it (default 5 characters), M2 is grouped by its main diagnosis I10.x00 → I10.x.
        let d = cases(Scheme::Dip, 2024, &s, &m, &f, &pp(Rate::ZERO, 5));
        let groups: Vec<&str> = d.cases.iter().map(|c| c.group.as_str()).collect();
        assert_eq!(groups, vec!["DIP001", "I10.x"]);
        assert_eq!(d.without_group, 0);
        assert!(cases(Scheme::Drg, 2023, &s, &m, &f, &pp(Rate::ZERO, 5))
            .cases
            .is_empty());
    }
}
