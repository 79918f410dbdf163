//! `provider_outlier` (DOMAIN.md §4.1) on hand-worked peer groups.
#![allow(clippy::field_reassign_with_default, clippy::too_many_arguments)] // fixtures build batches step by step

mod common;
use common::*;
use medfund_contract::finding::{Category, Level, Outcome};
use medfund_contract::records::{Batch, FixmedinsType};
use medfund_contract::{Finding, YearMonth};
use medfund_monitor::{monthly_report, provider_outliers, MonitorInput, Period, Policy};

fn march() -> Period {
    Period::month(YearMonth::parse("2024-03").unwrap())
}

/// Institutions `H330102000NN` of one level, each with one outpatient visit of the given amount.
fn group(b: &mut Batch, lv: u8, first: usize, amounts: &[&str]) -> Vec<String> {
    let mut codes = Vec::new();
    for (k, a) in amounts.iter().enumerate() {
        let code = format!("H330102{:05}", first + k);
        b.fixmedins.push(inst(
            &code,
            &format!("机构{}", first + k),
            FixmedinsType::Medical,
            Some(lv),
        ));
        add_opt_visit(
            b,
            &format!("V{}", first + k),
            &format!("P{}", first + k),
            &code,
            "2024-03-05",
            a,
        );
        codes.push(code);
    }
    codes
}

/// The hand-worked groups have one visit per institution: no case floor.
fn policy() -> Policy {
    Policy::from_toml_str("[outlier]\nmin_cases = 1\n").unwrap()
}

fn run(b: &Batch) -> Vec<Finding> {
    provider_outliers(&MonitorInput::from_batch(b), march(), &policy())
}

#[test]
fn far_above_peers_is_flagged_with_its_numbers() {
    // 100, 100, 110, 120, 400: median 110; |x − 110| = 10, 10, 0, 10, 290 → MAD 10;
    // z(400) = 290 ÷ 14.826 = 19.56 > 3.5 and 400 > 165 → flagged; z(120) = 0.67 → not.
    // Lines per visit (1) and drug share (0) are equal everywhere: MAD 0, no alarm.
    let mut b = Batch::default();
    let codes = group(&mut b, 1, 1, &["100", "100", "110", "120", "400"]);
    let f = run(&b);
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = &f[0];
    assert_eq!(f.fixmedins_code.as_deref(), Some(codes[4].as_str()));
    assert_eq!(f.category, Category::ProviderOutlier);
    assert_eq!(f.level, Level::Fixmedins);
    assert_eq!(f.result, Outcome::Suspect);
    assert_eq!(f.rule_id, "provider_outlier.avg_cost_opt.2024-03");
    assert_eq!(f.finding_id.len(), 16);
    assert_eq!(f.amount, None);
    let d = &f.evidence.details;
    assert_eq!(d["value"], "400.00");
    assert_eq!(d["peer_median"], "110.00");
    assert_eq!(d["mad"], "10.00");
    assert_eq!(d["z"], 19.56);
    assert_eq!(d["peer_count"], 5);
    assert!(
        f.evidence.text.contains("门诊均次费用为 400.00 元"),
        "{}",
        f.evidence.text
    );
    assert!(
        f.evidence.text.contains("中位数为 110.00 元"),
        "{}",
        f.evidence.text
    );
    assert!(f.evidence.text.contains("z 值 19.6"), "{}", f.evidence.text);
    // Sealed deterministically: the same data gives the same id.
    assert_eq!(run(&b)[0].finding_id, f.finding_id);
}

#[test]
fn high_z_but_not_one_and_a_half_times_the_median_is_not_flagged() {
    // 1000, 1000, 1001, 1002, 1100: median 1001, MAD 1, z(1100) = 99 ÷ 1.4826 = 66.8,
    // but 1100 ≤ 1.5 × 1001 = 1501.5.
    let mut b = Batch::default();
    group(&mut b, 1, 1, &["1000", "1000", "1001", "1002", "1100"]);
    assert!(run(&b).is_empty());
}

#[test]
fn zero_mad_never_alarms() {
    // 100, 100, 100, 100, 500: median 100, deviations 0, 0, 0, 0, 400 → MAD 0.
    let mut b = Batch::default();
    group(&mut b, 1, 1, &["100", "100", "100", "100", "500"]);
    assert!(run(&b).is_empty());
}

#[test]
fn peer_groups_do_not_mix() {
    // The tertiary group flags its 400; the secondary institution billing 5000 is alone in its
    // group (MAD 0) and the primary pair can never reach z 3.5 (two values: z ≤ 0.67).
    let mut b = Batch::default();
    let t = group(&mut b, 1, 1, &["100", "100", "110", "120", "400"]);
    group(&mut b, 2, 10, &["5000"]);
    group(&mut b, 3, 20, &["10", "1000"]);
    let f = run(&b);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].fixmedins_code.as_deref(), Some(t[4].as_str()));
    // Pharmacies form their own group even at the same (absent) level.
    let mut b = Batch::default();
    group(&mut b, 9, 1, &["10", "10", "11", "12"]);
    b.fixmedins.push(inst(
        "P33010200001",
        "药店",
        FixmedinsType::Pharmacy,
        Some(9),
    ));
    add_opt_visit(&mut b, "PV", "PP", "P33010200001", "2024-03-05", "400");
    assert!(
        run(&b).is_empty(),
        "a lone pharmacy is not compared with clinics"
    );
}

/// A secondary clinic `H330102000NN` with one visit: an item line and, when given, a drug line.
fn clinic(b: &mut Batch, n: usize, item: &str, drug: Option<&str>) {
    let code = format!("H330102{n:05}");
    b.fixmedins.push(inst(
        &code,
        &format!("机构{n}"),
        FixmedinsType::Medical,
        Some(2),
    ));
    let v = visit(
        &format!("V{n}"),
        &format!("P{n}"),
        &code,
        "11",
        "2024-03-05 09:00:00",
        None,
    );
    let sid = format!("SV{n}");
    b.setl
        .push(setl(&sid, &v, "2024-03-05 10:00:00", "100", "0"));
    b.fee.push(fee("1", &v, &sid, ITEM, 1, item));
    if let Some(d) = drug {
        b.fee.push(fee("2", &v, &sid, DRUG_X, 1, d));
    }
    b.mdtrt.push(v);
}

#[test]
fn drug_share_and_lines_per_visit_are_compared_too() {
    // Six clinics, one 100.00 visit each. Drug shares 0, 0, 0.1, 0.1, 0.1, 0.6: median 0.1;
    // deviations 0.1, 0.1, 0, 0, 0, 0.5 → MAD (0 + 0.1) ÷ 2 = 0.05;
    // z(0.6) = 0.5 ÷ (1.4826 × 0.05) = 6.74 > 3.5 and 0.6 > 0.15 → flagged.
    // Lines per visit 1, 1, 2, 2, 2, 2 → median 2, MAD 0 → none; costs all 100.00 → MAD 0.
    let mut b = Batch::default();
    clinic(&mut b, 1, "100", None);
    clinic(&mut b, 2, "100", None);
    for n in 3..=5 {
        clinic(&mut b, n, "90", Some("10"));
    }
    clinic(&mut b, 9, "40", Some("60"));
    let f = run(&b);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].rule_id, "provider_outlier.drug_share.2024-03");
    assert_eq!(f[0].fixmedins_code.as_deref(), Some("H33010200009"));
    assert_eq!(f[0].evidence.details["z"], 6.74);
    assert!(
        f[0].evidence.text.contains("药品收入占比为 60.0%"),
        "{}",
        f[0].evidence.text
    );
    // Make the sixth clinic's visit two lines more: lines per visit 1,1,2,2,2,4 → median 2,
    // deviations 1,1,0,0,0,2 → MAD 0.5; z(4) = 2 ÷ 0.7413 = 2.70 → still not flagged.
    let v = b.mdtrt.iter().find(|m| m.mdtrt_id == "V9").unwrap().clone();
    b.fee.push(fee("3", &v, "SV9", ITEM, 1, "0"));
    b.fee.push(fee("4", &v, "SV9", ITEM, 1, "0"));
    assert_eq!(run(&b).len(), 1);
}

#[test]
fn monthly_report_carries_the_outliers_and_months_differ_in_ids() {
    let mut b = Batch::default();
    group(&mut b, 1, 1, &["100", "100", "110", "120", "400"]);
    let input = MonitorInput::from_batch(&b);
    let r = monthly_report(&input, YearMonth::parse("2024-03").unwrap(), &policy());
    assert_eq!(r.outliers.len(), 1);
    assert_eq!(r.summary.outliers, 1);
    // The same institution flagged in April is another finding.
    let mut b2 = b.clone();
    for s in &mut b2.setl {
        s.setl_time = dt("2024-04-05 10:00:00");
    }
    let april = provider_outliers(
        &MonitorInput::from_batch(&b2),
        Period::month(YearMonth::parse("2024-04").unwrap()),
        &policy(),
    );
    assert_eq!(april.len(), 1);
    assert_ne!(april[0].finding_id, r.outliers[0].finding_id);
    // Over the whole span of a batch (what the audit uses) the rule id carries the span.
    let span = input.claim_months().unwrap();
    let f = provider_outliers(&input, span, &policy());
    assert_eq!(f[0].rule_id, "provider_outlier.avg_cost_opt.2024-03");
}

#[test]
fn values_on_too_few_cases_take_no_part() {
    // Five clinics with 10 visits each (100, 100, 110, 120 and 400 a visit) and a sixth with 9
    // visits of 1000: below the floor of 10 cases it is neither flagged nor a peer, so the
    // median stays 110 and the 400 clinic is flagged as before.
    let mut b = Batch::default();
    let amounts = ["100", "100", "110", "120", "400", "1000"];
    for (k, a) in amounts.iter().enumerate() {
        let code = format!("H330102{:05}", k + 1);
        b.fixmedins.push(inst(
            &code,
            &format!("机构{}", k + 1),
            FixmedinsType::Medical,
            Some(1),
        ));
        let n = if k == 5 { 9 } else { 10 };
        for v in 0..n {
            add_opt_visit(
                &mut b,
                &format!("V{k}-{v}"),
                &format!("P{k}-{v}"),
                &code,
                "2024-03-05",
                a,
            );
        }
    }
    let f = provider_outliers(&MonitorInput::from_batch(&b), march(), &Policy::default());
    let flagged: Vec<&str> = f
        .iter()
        .map(|f| f.fixmedins_code.as_deref().unwrap())
        .collect();
    assert_eq!(flagged, vec!["H33010200005"]);
    assert_eq!(f[0].evidence.details["peer_count"], 5);
    assert_eq!(f[0].evidence.details["peer_median"], "110.00");
    // With a floor of 9 the sixth clinic joins: median (110 + 120) ÷ 2 = 115, deviations
    // 15, 15, 5, 5, 285, 885 → MAD 15; both 400 (z 12.8) and 1000 (z 39.8) are flagged.
    let p = Policy::from_toml_str("[outlier]\nmin_cases = 9\n").unwrap();
    let f = provider_outliers(&MonitorInput::from_batch(&b), march(), &p);
    let flagged: Vec<&str> = f
        .iter()
        .map(|f| f.fixmedins_code.as_deref().unwrap())
        .collect();
    assert_eq!(flagged, vec!["H33010200005", "H33010200006"]);
    assert_eq!(f[0].evidence.details["peer_median"], "115.00");
}
