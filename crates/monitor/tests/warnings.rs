//! Each warning at and just past its threshold, with hand-worked numbers.
#![allow(clippy::field_reassign_with_default, clippy::too_many_arguments)] // fixtures build batches step by step

mod common;
use common::*;
use medfund_contract::records::{Batch, Budget, FixmedinsType};
use medfund_contract::YearMonth;
use medfund_monitor::warnings::{budget_status, WarningKind};
use medfund_monitor::{
    institution_indicators, monthly_report, warnings, MonitorInput, Period, Policy,
};

fn march() -> YearMonth {
    YearMonth::parse("2024-03").unwrap()
}

fn kinds(b: &Batch, p: &Policy) -> Vec<(String, WarningKind)> {
    let input = MonitorInput::from_batch(b);
    let rows = institution_indicators(&input, Period::month(march()), p);
    let budgets = budget_status(&input, march());
    warnings(&rows, &budgets, p)
        .into_iter()
        .map(|w| (w.fixmedins_code, w.kind))
        .collect()
}

/// `n` outpatient visits of `amount` yuan each at `inst` on `day`, with `hifp` fund payment each.
fn visits(b: &mut Batch, inst: &str, prefix: &str, day: &str, n: usize, amount: &str, hifp: &str) {
    for k in 0..n {
        let id = format!("{prefix}{k}");
        add_opt_visit(b, &id, &format!("P{prefix}{k}"), inst, day, amount);
        b.setl.last_mut().unwrap().hifp_pay = fen(hifp);
    }
}

fn base() -> Batch {
    let mut b = Batch::default();
    b.fixmedins = vec![
        inst(H1, "一院", FixmedinsType::Medical, Some(1)),
        inst(H2, "二院", FixmedinsType::Medical, Some(1)),
    ];
    b
}

#[test]
fn visit_growth_exactly_at_ten_percent_does_not_warn() {
    // 30 baseline visits, 33 now: +10.0% is not "above 10%"; 34 (+13.3%) is.
    let mut b = base();
    visits(&mut b, H1, "B", "2023-03-10", 30, "100", "80");
    visits(&mut b, H1, "C", "2024-03-10", 33, "100", "80");
    visits(&mut b, H2, "D", "2023-03-10", 30, "100", "80");
    visits(&mut b, H2, "E", "2024-03-10", 34, "100", "80");
    let p = Policy::default();
    let k = kinds(&b, &p);
    assert!(!k.contains(&(H1.into(), WarningKind::VisitGrowth)));
    assert!(k.contains(&(H2.into(), WarningKind::VisitGrowth)));
    // Fund spending grew the same way (30 × 80 → 33 × 80 / 34 × 80).
    assert!(!k.contains(&(H1.into(), WarningKind::SpendingGrowth)));
    assert!(k.contains(&(H2.into(), WarningKind::SpendingGrowth)));
    // Average cost unchanged (100.00): the zero-growth target is met.
    assert!(!k.iter().any(|(_, w)| *w == WarningKind::AvgCostOptGrowth));
}

#[test]
fn growth_needs_enough_baseline_visits() {
    // 29 baseline visits → 40 now (+38%): below min_baseline_visits = 30, no growth warning.
    let mut b = base();
    visits(&mut b, H1, "B", "2023-03-10", 29, "100", "80");
    visits(&mut b, H1, "C", "2024-03-10", 40, "100", "80");
    assert!(kinds(&b, &Policy::default()).is_empty());
    let p = Policy::from_toml_str("[warnings]\nmin_baseline_visits = 29\n").unwrap();
    let k = kinds(&b, &p);
    assert!(k.contains(&(H1.into(), WarningKind::VisitGrowth)));
}

#[test]
fn average_cost_zero_growth_target() {
    // Baseline 30 visits of 100.00; now 30 visits of 100.00 and one of 100.31:
    // average (3000 + 100.31) ÷ 31 = 100.01 → misses zero growth by one fen.
    let mut b = base();
    visits(&mut b, H1, "B", "2023-03-10", 30, "100", "0");
    visits(&mut b, H1, "C", "2024-03-10", 30, "100", "0");
    add_opt_visit(&mut b, "X", "PX", H1, "2024-03-11", "100.31");
    // H2: average exactly equal to the baseline.
    visits(&mut b, H2, "D", "2023-03-10", 30, "100", "0");
    visits(&mut b, H2, "E", "2024-03-10", 30, "100", "0");
    let input = MonitorInput::from_batch(&b);
    let rows = institution_indicators(&input, Period::month(march()), &Policy::default());
    let h1 = rows.iter().find(|r| r.fixmedins_code == H1).unwrap();
    assert_eq!(
        h1.get(medfund_monitor::Indicator::AvgCostOpt).value,
        Some(10001.0)
    );
    let k = kinds(&b, &Policy::default());
    assert_eq!(k, vec![(H1.to_string(), WarningKind::AvgCostOptGrowth)]);
    // A 1% tolerance accepts it.
    let p = Policy::from_toml_str("[warnings]\navg_cost_growth_max = 0.01\n").unwrap();
    assert!(kinds(&b, &p).is_empty());
}

#[test]
fn referral_rate_above_fifteen_percent() {
    // H1: 20 own stays, 3 referred out of the city = 15% (no warning).
    // H2: 20 own stays, 4 referred = 20% (warning).
    let mut b = base();
    for (h, n_ref) in [(H1, 3), (H2, 4)] {
        for k in 0..20 {
            let v = visit(
                &format!("{h}-{k}"),
                &format!("Q{k}"),
                h,
                "21",
                "2024-03-01 08:00:00",
                Some("2024-03-05 08:00:00"),
            );
            b.setl.push(setl(
                &format!("S{h}-{k}"),
                &v,
                "2024-03-05 09:00:00",
                "1000",
                "800",
            ));
            b.mdtrt.push(v);
        }
        for k in 0..n_ref {
            let mut v = visit(
                &format!("R{h}-{k}"),
                &format!("R{k}"),
                OUT,
                "21",
                "2024-03-02 08:00:00",
                Some("2024-03-06 08:00:00"),
            );
            v.refl_fixmedins_code = Some(h.into());
            b.mdtrt.push(v);
        }
    }
    let k = kinds(&b, &Policy::default());
    assert_eq!(k, vec![(H2.to_string(), WarningKind::ReferralRate)]);
    let input = MonitorInput::from_batch(&b);
    let rows = institution_indicators(&input, Period::month(march()), &Policy::default());
    let w = warnings(&rows, &[], &Policy::default());
    assert!((w[0].value - 0.2).abs() < 1e-12);
    assert!(
        w[0].message.contains("转市外住院率 20.0%"),
        "{}",
        w[0].message
    );
}

fn budget(code: &str, cap_in: &str, cap_out: Option<&str>, extra: Option<&str>) -> Budget {
    Budget {
        fixmedins_code: code.into(),
        year: 2024,
        cap_in: fen(cap_in),
        cap_out: cap_out.map(fen),
        approved_extra: extra.map(fen),
    }
}

/// One settlement of `hifp` yuan at `inst` in `month`.
fn spend(b: &mut Batch, id: &str, inst: &str, day: &str, hifp: &str) {
    let v = visit(
        id,
        &format!("P{id}"),
        inst,
        "11",
        &format!("{day} 09:00:00"),
        None,
    );
    b.setl.push(setl(
        &format!("S{id}"),
        &v,
        &format!("{day} 10:00:00"),
        hifp,
        hifp,
    ));
    b.mdtrt.push(v);
}

#[test]
fn budget_ahead_of_the_calendar() {
    // Cap C = 1,000,000 + 150,000 approved + 50,000 out-of-city = 1,200,000. In March the
    // calendar allows 3 ÷ 12 × 1.1 = 27.5% = 330,000.00.
    let mut b = base();
    b.budget = vec![
        budget(H1, "1000000", Some("50000"), Some("150000")),
        budget(H2, "1000000", Some("50000"), Some("150000")),
    ];
    // H1: exactly 330,000.00 (January 100,000 + March 200,000 + a referred out-of-city stay
    // 30,000); December 2023 and April 2024 do not count.
    spend(&mut b, "a", H1, "2024-01-15", "100000");
    spend(&mut b, "b", H1, "2024-03-15", "200000");
    spend(&mut b, "c", H1, "2023-12-15", "500000");
    spend(&mut b, "d", H1, "2024-04-01", "500000");
    let mut r = visit(
        "r",
        "Pr",
        OUT,
        "21",
        "2024-02-01 08:00:00",
        Some("2024-02-03 08:00:00"),
    );
    r.refl_fixmedins_code = Some(H1.into());
    b.setl
        .push(setl("Sr", &r, "2024-02-03 09:00:00", "30000", "30000"));
    b.mdtrt.push(r);
    // H2: one fen more.
    spend(&mut b, "e", H2, "2024-02-15", "330000.01");
    let st = budget_status(&MonitorInput::from_batch(&b), march());
    assert_eq!(st[0].cap, fen("1200000"));
    assert_eq!(
        (st[0].spent_in, st[0].spent_out, st[0].spent),
        (fen("300000"), fen("30000"), fen("330000"))
    );
    assert_eq!(st[0].elapsed_months, 3);
    let k = kinds(&b, &Policy::default());
    assert_eq!(k, vec![(H2.to_string(), WarningKind::BudgetAhead)]);
}

#[test]
fn budget_nearly_used_up() {
    // 90% of 1,000,000 = 900,000.00 warns (≥); 899,999.99 does not (in December the calendar
    // allows 110%, so only the near-cap warning can fire).
    let mut b = base();
    b.budget = vec![
        budget(H1, "1000000", None, None),
        budget(H2, "1000000", None, None),
    ];
    spend(&mut b, "a", H1, "2024-06-15", "900000");
    spend(&mut b, "b", H2, "2024-06-15", "899999.99");
    let input = MonitorInput::from_batch(&b);
    let dec = YearMonth::parse("2024-12").unwrap();
    let rows = institution_indicators(&input, Period::month(dec), &Policy::default());
    let w = warnings(&rows, &budget_status(&input, dec), &Policy::default());
    let k: Vec<_> = w
        .iter()
        .map(|w| (w.fixmedins_code.as_str(), w.kind))
        .collect();
    assert_eq!(k, vec![(H1, WarningKind::BudgetNearCap)]);
    assert!(w[0].message.contains("90.0%"), "{}", w[0].message);
    // By June the calendar allows 6 ÷ 12 × 1.1 = 55%: both are far ahead of it too.
    let r = monthly_report(
        &input,
        YearMonth::parse("2024-06").unwrap(),
        &Policy::default(),
    );
    let k: Vec<_> = r
        .warnings
        .iter()
        .map(|w| (w.fixmedins_code.as_str(), w.kind))
        .collect();
    assert!(
        k.contains(&(H1, WarningKind::BudgetAhead))
            && k.contains(&(H1, WarningKind::BudgetNearCap))
    );
    assert!(
        k.contains(&(H2, WarningKind::BudgetAhead))
            && !k.contains(&(H2, WarningKind::BudgetNearCap))
    );
}

#[test]
fn no_budget_or_zero_cap_gives_no_budget_warning() {
    let mut b = base();
    b.budget = vec![budget(H1, "0", None, None)];
    spend(&mut b, "a", H1, "2024-01-15", "100");
    spend(&mut b, "b", H2, "2024-01-15", "100");
    assert!(kinds(&b, &Policy::default()).is_empty());
}
