//! Every indicator of DOMAIN.md §5 on a hand-worked month, with its baseline and peer median.
#![allow(clippy::field_reassign_with_default, clippy::too_many_arguments)] // fixtures build batches step by step

mod common;
use common::*;
use medfund_contract::records::{Batch, FixmedinsType};
use medfund_contract::YearMonth;
use medfund_monitor::indicators::{period_stats, Indicator, Unit};
use medfund_monitor::{institution_indicators, MonitorInput, Period, Policy};

/// H1's March 2024 (see the comments for each number), its March 2023, and two peers.
fn city() -> Batch {
    let mut b = Batch::default();
    b.fixmedins = vec![
        inst(H1, "一院", FixmedinsType::Medical, Some(1)),
        inst(H2, "二院", FixmedinsType::Medical, Some(1)),
        inst(H3, "三院", FixmedinsType::Medical, Some(1)),
    ];
    b.catalog = vec![
        cat(DRUG_X, 1, "09", 1),
        cat(DRUG_Z, 1, "11", 3), // a self-pay drug
        cat(ITEM, 3, "05", 1),
        cat(BED, 3, "01", 1),
        cat(CONS, 4, "08", 2),
    ];
    // V1: general outpatient, 2 × 10.00 drug + 30.00 item = 50.00.
    let v1 = visit("V1", "A", H1, "11", "2024-03-05 09:00:00", None);
    b.setl
        .push(setl("S1", &v1, "2024-03-05 09:30:00", "50", "30"));
    b.fee.push(fee("1", &v1, "S1", DRUG_X, 2, "10"));
    b.fee.push(fee("2", &v1, "S1", ITEM, 1, "30"));
    // V2: general outpatient, 40.00 self-pay drug + 30.00 item, refunded (−30.00) and billed
    // again (30.00) = 70.00; 3 lines with a positive quantity.
    let v2 = visit("V2", "A", H1, "11", "2024-03-20 09:00:00", None);
    b.setl
        .push(setl("S2", &v2, "2024-03-20 09:30:00", "70", "20"));
    b.fee.push(fee("1", &v2, "S2", DRUG_Z, 1, "40"));
    b.fee.push(fee("2", &v2, "S2", ITEM, 1, "30"));
    b.fee.push(fee("3", &v2, "S2", ITEM, -1, "30"));
    b.fee.push(fee("4", &v2, "S2", ITEM, 1, "30"));
    // V3: chronic outpatient (14): not an outpatient visit for the cost indicator; 3 × 10.00 drug.
    let v3 = visit("V3", "B", H1, "14", "2024-03-10 09:00:00", None);
    b.setl
        .push(setl("S3", &v3, "2024-03-10 09:30:00", "30", "25"));
    b.fee.push(fee("1", &v3, "S3", DRUG_X, 3, "10"));
    // V4: inpatient from 27 Feb (leap year) to 4 March: 6 days; bed 6 × 50 + drug 10 × 10 +
    // consumable 200 = 600.00. Settled in March, so counted in March.
    let v4 = visit(
        "V4",
        "B",
        H1,
        "21",
        "2024-02-27 08:00:00",
        Some("2024-03-04 10:00:00"),
    );
    b.setl
        .push(setl("S4", &v4, "2024-03-04 11:00:00", "600", "480"));
    b.fee.push(fee("1", &v4, "S4", BED, 6, "50"));
    b.fee.push(fee("2", &v4, "S4", DRUG_X, 10, "10"));
    b.fee.push(fee("3", &v4, "S4", CONS, 1, "200"));
    // V5: same-day inpatient stay (1 day), one 400.00 item.
    let v5 = visit(
        "V5",
        "C",
        H1,
        "21",
        "2024-03-10 08:00:00",
        Some("2024-03-10 18:00:00"),
    );
    b.setl
        .push(setl("S5", &v5, "2024-03-10 19:00:00", "400", "300"));
    b.fee.push(fee("1", &v5, "S5", ITEM, 1, "400"));
    // V6: admitted 25 March, not yet discharged nor settled: counted in March by its start.
    b.mdtrt
        .push(visit("V6", "D", H1, "21", "2024-03-25 08:00:00", None));
    // R1: a stay in another city referred by H1 (counts for H1's referral rate).
    let mut r1 = visit(
        "R1",
        "E",
        OUT,
        "21",
        "2024-03-08 08:00:00",
        Some("2024-03-12 08:00:00"),
    );
    r1.refl_fixmedins_code = Some(H1.into());
    b.setl
        .push(setl("SR1", &r1, "2024-03-12 09:00:00", "6000", "5000"));
    // R2: a stay at H2 (same city) referred by H1: not out of the city.
    let mut r2 = visit(
        "R2",
        "F",
        H2,
        "21",
        "2024-03-08 08:00:00",
        Some("2024-03-09 08:00:00"),
    );
    r2.refl_fixmedins_code = Some(H1.into());
    b.mdtrt.extend([v1, v2, v3, v4, v5, r1, r2]);
    // A February outpatient visit of H1: outside the month.
    add_opt_visit(&mut b, "F1", "A", H1, "2024-02-10", "999");
    // Baseline March 2023: two outpatient visits of 50.00.
    add_opt_visit(&mut b, "B1", "A", H1, "2023-03-10", "50");
    add_opt_visit(&mut b, "B2", "G", H1, "2023-03-11", "50");
    // Peers: H2 one outpatient visit of 40.00, H3 one of 100.00.
    add_opt_visit(&mut b, "P2", "H", H2, "2024-03-03", "40");
    add_opt_visit(&mut b, "P3", "I", H3, "2024-03-04", "100");
    b
}

fn policy() -> Policy {
    Policy::from_toml_str("[beds]\nH33010200001 = 10\n").unwrap()
}

fn march() -> YearMonth {
    YearMonth::parse("2024-03").unwrap()
}

#[test]
fn raw_stats_of_the_month() {
    let b = city();
    let stats = period_stats(
        &MonitorInput::from_batch(&b),
        Period::month(march()),
        &policy(),
    );
    let s = &stats[H1];
    assert_eq!(s.visits, 6, "V1–V6");
    assert_eq!(s.heads, 4, "A, B, C, D");
    assert_eq!((s.opt_visits, s.opt_cost), (2, fen("120")));
    assert_eq!(
        (s.ipt_stays, s.ipt_fee_stays, s.ipt_cost),
        (3, 2, fen("1000"))
    );
    assert_eq!((s.los_stays, s.los_days), (2, 7));
    assert_eq!(s.referrals_out, 1);
    assert_eq!((s.fee_visits, s.lines), (5, 10));
    assert_eq!(s.fee_total, fen("1150"));
    assert_eq!(s.drug_amount, fen("190"));
    assert_eq!(s.self_pay_amount, fen("40"));
    // March bed-days: V4 1–3 March (3), V5 (1), V6 25–31 March (7).
    assert_eq!(s.bed_days, 11);
    assert_eq!(s.fund_spending, fen("855"));
    assert_eq!(s.medfee, fen("1150"));
    // The out-of-city institution has the stay, not the referral.
    assert_eq!(stats[OUT].referrals_out, 0);
    assert_eq!(stats[OUT].ipt_stays, 1);
    assert_eq!(stats[H2].referrals_out, 0);
}

#[test]
fn every_indicator_with_baseline_and_peers() {
    let b = city();
    let rows = institution_indicators(
        &MonitorInput::from_batch(&b),
        Period::month(march()),
        &policy(),
    );
    let h1 = rows.iter().find(|r| r.fixmedins_code == H1).unwrap();
    let v = |i: Indicator| h1.get(i).value.unwrap();
    let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-9, "{a} != {b}");
    close(v(Indicator::Visits), 6.0);
    close(v(Indicator::VisitsPerHead), 1.5);
    close(v(Indicator::AvgCostOpt), 6000.0); // 60.00 yuan in fen
    close(v(Indicator::AvgCostIpt), 50000.0); // 500.00
    close(v(Indicator::ReferralRate), 1.0 / 3.0);
    close(v(Indicator::DrugShare), 190.0 / 1150.0);
    close(v(Indicator::AvgLos), 3.5);
    close(v(Indicator::BedOccupancy), 11.0 / 310.0);
    close(v(Indicator::SelfPayShare), 40.0 / 1150.0);
    close(v(Indicator::LinesPerVisit), 2.0);
    close(v(Indicator::FundSpending), 85500.0);
    assert_eq!(h1.get(Indicator::AvgCostOpt).unit, Unit::Fen);

    // Baseline March 2023: 2 visits, average outpatient cost 50.00.
    let visits = h1.get(Indicator::Visits);
    assert_eq!(visits.baseline, Some(2.0));
    close(visits.yoy.unwrap(), 2.0); // (6 − 2) ÷ 2: visit growth
    let opt = h1.get(Indicator::AvgCostOpt);
    assert_eq!(opt.baseline, Some(5000.0));
    close(opt.yoy.unwrap(), 0.2);
    // No inpatients in the baseline: no value, no growth.
    assert_eq!(h1.get(Indicator::AvgCostIpt).baseline, None);
    assert_eq!(h1.get(Indicator::AvgCostIpt).yoy, None);

    // Peers (tertiary medical institutions): 60.00, 40.00, 100.00 → median 60.00.
    assert_eq!(opt.peer_median, Some(6000.0));
    assert_eq!(opt.peer_count, 3);
    // Visits: H1 6, H2 2 (P2, R2), H3 1 → median 2.
    assert_eq!(visits.peer_median, Some(2.0));
    // Beds are known only for H1: occupancy is absent elsewhere.
    let h2 = rows.iter().find(|r| r.fixmedins_code == H2).unwrap();
    assert_eq!(h2.get(Indicator::BedOccupancy).value, None);
    assert_eq!(h1.get(Indicator::BedOccupancy).peer_count, 1);
    // The out-of-city institution is listed without a peer group.
    let out = rows.iter().find(|r| r.fixmedins_code == OUT).unwrap();
    assert!(out.peer_group.is_none());
    assert_eq!(out.get(Indicator::Visits).peer_median, None);
}

#[test]
fn empty_input_and_empty_denominators() {
    let b = Batch::default();
    let rows = institution_indicators(
        &MonitorInput::from_batch(&b),
        Period::month(march()),
        &Policy::default(),
    );
    assert!(rows.is_empty());
    // An institution whose only visit has no fee lines: cost indicators are absent, not zero.
    let mut b = Batch::default();
    b.fixmedins = vec![inst(H1, "一院", FixmedinsType::Medical, Some(2))];
    b.mdtrt
        .push(visit("V1", "A", H1, "11", "2024-03-05 09:00:00", None));
    let rows = institution_indicators(
        &MonitorInput::from_batch(&b),
        Period::month(march()),
        &Policy::default(),
    );
    let r = &rows[0];
    assert_eq!(r.get(Indicator::Visits).value, Some(1.0));
    for i in [
        Indicator::AvgCostOpt,
        Indicator::AvgCostIpt,
        Indicator::ReferralRate,
        Indicator::DrugShare,
        Indicator::AvgLos,
        Indicator::BedOccupancy,
        Indicator::SelfPayShare,
        Indicator::LinesPerVisit,
    ] {
        assert_eq!(r.get(i).value, None, "{i:?}");
    }
}

#[test]
fn average_cost_rounds_half_up_to_the_fen() {
    // 0.01 + 0.02 over 2 visits = 0.015 → 0.02.
    let mut b = Batch::default();
    b.fixmedins = vec![inst(H1, "一院", FixmedinsType::Medical, Some(2))];
    add_opt_visit(&mut b, "V1", "A", H1, "2024-03-05", "0.01");
    add_opt_visit(&mut b, "V2", "B", H1, "2024-03-06", "0.02");
    let rows = institution_indicators(
        &MonitorInput::from_batch(&b),
        Period::month(march()),
        &Policy::default(),
    );
    assert_eq!(rows[0].get(Indicator::AvgCostOpt).value, Some(2.0));
}

#[test]
fn outpatient_types_are_policy() {
    let b = city();
    let p =
        Policy::from_toml_str("[indicators]\noutpatient_med_types = [\"11\", \"14\"]\n").unwrap();
    let stats = period_stats(&MonitorInput::from_batch(&b), Period::month(march()), &p);
    // V3 (chronic, 30.00) now counts: (50 + 70 + 30) ÷ 3.
    assert_eq!((stats[H1].opt_visits, stats[H1].opt_cost), (3, fen("150")));
}

#[test]
fn a_quarter_is_a_period_too() {
    let b = city();
    let q1 = Period {
        from: YearMonth::parse("2024-01").unwrap(),
        to: march(),
    };
    let stats = period_stats(&MonitorInput::from_batch(&b), q1, &policy());
    // February's visit F1 joins: 7 visits, outpatient cost 120 + 999.
    assert_eq!(stats[H1].visits, 7);
    assert_eq!(stats[H1].opt_cost, fen("1119"));
    // Bed-days over Q1 (91 days): V4 27 Feb–3 Mar (6), V5 (1), V6 (7).
    assert_eq!(stats[H1].bed_days, 14);
}
