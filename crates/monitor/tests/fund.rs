//! Fund analysis: months payable (seed 004's 33 and 7 months), bands, quarters, the forecast
//! and its backtest error, all worked out by hand.
#![allow(clippy::field_reassign_with_default, clippy::too_many_arguments)] // fixtures build batches step by step

mod common;
use common::*;
use medfund_contract::records::FundMonth;
use medfund_contract::YearMonth;
use medfund_monitor::fund::{backtest, fund_analysis, ForecastMethod, PayableBand};
use medfund_monitor::policy::FundPolicy;

fn ym(s: &str) -> YearMonth {
    YearMonth::parse(s).unwrap()
}

/// Seed 004: employee fund balance 24,263万 with 33 months payable, resident 8,598万 with 7.
/// Employee expenses alternate 700万 and 770万 (12 months total 8,820万, average 735万):
/// 24,263 ÷ 735 = 33.01. Resident expenses are 1,228万 a month: 8,598 ÷ 1,228 = 7.00.
fn seed_004() -> Vec<FundMonth> {
    let mut rows = Vec::new();
    for m in 1..=12u32 {
        let month = format!("2024-{m:02}");
        let e = if m % 2 == 1 { "7000000" } else { "7700000" };
        let bal = if m == 12 { "242630000" } else { "240000000" };
        rows.push(fund("310", &month, "8000000", e, bal));
        let bal = if m == 12 { "85980000" } else { "90000000" };
        rows.push(fund("390", &month, "12000000", "12280000", bal));
    }
    rows
}

#[test]
fn months_payable_reproduces_seed_004() {
    let a = fund_analysis(&seed_004(), ym("2024-12"), &FundPolicy::default());
    assert_eq!(a.funds.len(), 2);
    let emp = a.funds[0].latest.as_ref().unwrap();
    assert_eq!(a.funds[0].insutype, "310");
    assert_eq!(emp.avg_expense, Some(fen("7350000")));
    assert_eq!(emp.window_months, 12);
    let mp = emp.months_payable.unwrap();
    assert!((mp - 24263.0 / 735.0).abs() < 1e-9, "{mp}");
    assert_eq!(mp.round(), 33.0);
    assert_eq!(emp.band, Some(PayableBand::Excess));
    let res = a.funds[1].latest.as_ref().unwrap();
    let mp = res.months_payable.unwrap();
    assert!((mp - 8598.0 / 1228.0).abs() < 1e-9, "{mp}");
    assert_eq!(mp.round(), 7.0);
    assert_eq!(res.band, Some(PayableBand::Low));
    // Warnings in Chinese: too large a balance, below the target band.
    assert!(
        a.funds[0].warnings[0].contains("33.0 个月") && a.funds[0].warnings[0].contains("结余过多")
    );
    assert!(
        a.funds[1].warnings[0].contains("7.0 个月") && a.funds[1].warnings[0].contains("合理区间")
    );
    // Resident net = 12,000,000 − 12,280,000 < 0: 收不抵支.
    assert!(a.funds[1]
        .warnings
        .iter()
        .any(|w| w.contains("收不抵支 280000.00 元")));
}

#[test]
fn bands_at_their_boundaries() {
    let p = FundPolicy::default();
    assert_eq!(PayableBand::of(5.99, &p), PayableBand::Risk);
    assert_eq!(PayableBand::of(6.0, &p), PayableBand::Low);
    assert_eq!(PayableBand::of(8.99, &p), PayableBand::Low);
    assert_eq!(PayableBand::of(9.0, &p), PayableBand::Target);
    assert_eq!(PayableBand::of(15.0, &p), PayableBand::Target);
    assert_eq!(PayableBand::of(15.01, &p), PayableBand::Excess);
    let p = FundPolicy {
        risk_below: 3.0,
        ..FundPolicy::default()
    };
    assert_eq!(PayableBand::of(5.0, &p), PayableBand::Low);
}

#[test]
fn short_history_uses_the_months_present() {
    // Three months of 100, 200, 300 → average 200; balance 1,000 → 5 months: a risk.
    let rows = vec![
        fund("390", "2024-01", "0", "100", "1500"),
        fund("390", "2024-02", "0", "200", "1300"),
        fund("390", "2024-03", "0", "300", "1000"),
        fund("390", "2024-04", "0", "300", "700"), // after the report month: ignored
    ];
    let a = fund_analysis(&rows, ym("2024-03"), &FundPolicy::default());
    let f = &a.funds[0];
    assert_eq!(f.months.len(), 3);
    let l = f.latest.as_ref().unwrap();
    assert_eq!((l.window_months, l.avg_expense), (3, Some(fen("200"))));
    assert_eq!(l.months_payable, Some(5.0));
    assert_eq!(l.band, Some(PayableBand::Risk));
    assert!(f.warnings[0].contains("支付风险"));
    // Fewer than 12 months: the forecast is the mean, and there is no backtest.
    let fc = f.forecast.as_ref().unwrap();
    assert_eq!(fc.method, ForecastMethod::Mean);
    assert_eq!(fc.points.len(), 12);
    assert_eq!(fc.points[0].month, ym("2024-04"));
    assert!(fc.points.iter().all(|p| p.expense == fen("200")));
    assert_eq!(fc.total, fen("2400"));
    assert!(fc.backtest.is_none());
    // Zero expense: months payable undefined, not infinite.
    let a = fund_analysis(
        &[fund("310", "2024-01", "5", "0", "5")],
        ym("2024-01"),
        &FundPolicy::default(),
    );
    assert_eq!(a.funds[0].latest.as_ref().unwrap().months_payable, None);
}

/// 2022: 100.00 a month; 2023: 110.00; 2024: 121.00 except June 130.00.
fn three_years() -> Vec<FundMonth> {
    let mut rows = Vec::new();
    for (y, e) in [(2022, "100"), (2023, "110"), (2024, "121")] {
        for m in 1..=12 {
            let e = if y == 2024 && m == 6 { "130" } else { e };
            rows.push(fund("310", &format!("{y}-{m:02}"), "150", e, "5000"));
        }
    }
    rows
}

#[test]
fn forecast_trend_and_season_with_its_backtest() {
    let a = fund_analysis(&three_years(), ym("2024-12"), &FundPolicy::default());
    let fc = a.funds[0].forecast.as_ref().unwrap();
    assert_eq!(fc.method, ForecastMethod::SeasonalGrowth);
    // Growth factor = 2024 total ÷ 2023 total = (11 × 121 + 130) ÷ 1,320 = 1,461 ÷ 1,320.
    // January 2025 = 121.00 × 1461 ÷ 1320 = 133.925 → 133.93 (half up);
    // June 2025 = 130.00 × 1461 ÷ 1320 = 143.886… → 143.89.
    assert_eq!(fc.points[0].month, ym("2025-01"));
    assert_eq!(fc.points[0].expense, fen("133.93"));
    assert_eq!(fc.points[5].expense, fen("143.89"));
    assert_eq!(fc.total, medfund_contract::Fen(13393 * 11 + 14389));
    // Backtest from 2023-12: factor 1,320 ÷ 1,200 = 1.1, so 110.00 × 1.1 = 121.00 every month;
    // only June misses (130 − 121 = 9.00): MAE 9 ÷ 12 = 0.75, MAPE (9 ÷ 130) ÷ 12.
    let bt = fc.backtest.as_ref().unwrap();
    assert_eq!(bt.origin, ym("2023-12"));
    assert_eq!(bt.points.len(), 12);
    assert_eq!(bt.points[5].forecast, fen("121"));
    assert_eq!(bt.points[5].error, fen("9"));
    assert_eq!(bt.mae, fen("0.75"));
    assert!((bt.mape.unwrap() - 9.0 / 130.0 / 12.0).abs() < 1e-12);
    // The seasonal-naive benchmark on the same year: 110 vs 121 (11 × 11.00) and 110 vs 130
    // (20.00): MAE (121 + 20) ÷ 12 = 11.75.
    let nb = fc.naive_backtest.as_ref().unwrap();
    assert_eq!(nb.mae, fen("11.75"));
    assert!((nb.mape.unwrap() - (11.0 * 11.0 / 121.0 + 20.0 / 130.0) / 12.0).abs() < 1e-12);
}

#[test]
fn forecast_falls_back_to_seasonal_naive() {
    // 2023 and 2024 only: at 2024-12 the trend needs 24 months (present), but its backtest
    // from 2023-12 would need 36; the naive backtest needs 24 and has them.
    let rows: Vec<FundMonth> = three_years()
        .into_iter()
        .filter(|r| r.month.year >= 2023)
        .collect();
    let a = fund_analysis(&rows, ym("2024-12"), &FundPolicy::default());
    let fc = a.funds[0].forecast.as_ref().unwrap();
    assert_eq!(fc.method, ForecastMethod::SeasonalGrowth);
    assert!(fc.backtest.is_none());
    assert!(fc.naive_backtest.is_some());
    // With only 2024, seasonal naive: next January = last January.
    let rows: Vec<FundMonth> = three_years()
        .into_iter()
        .filter(|r| r.month.year == 2024)
        .collect();
    let a = fund_analysis(&rows, ym("2024-12"), &FundPolicy::default());
    let fc = a.funds[0].forecast.as_ref().unwrap();
    assert_eq!(fc.method, ForecastMethod::SeasonalNaive);
    assert_eq!(fc.points[5].expense, fen("130"));
    // A gap in the history disables the methods that need the missing month.
    let mut series = std::collections::BTreeMap::new();
    for r in three_years()
        .into_iter()
        .filter(|r| r.month != ym("2023-05"))
    {
        series.insert(r.month, r.expense);
    }
    assert!(backtest(&series, ym("2024-12"), ForecastMethod::SeasonalGrowth).is_none());
}

#[test]
fn quarters_and_growth() {
    let a = fund_analysis(&three_years(), ym("2024-12"), &FundPolicy::default());
    let q = &a.funds[0].quarters;
    assert_eq!(q.len(), 12);
    let q2_2024 = q.iter().find(|q| q.quarter == "2024Q2").unwrap();
    // April–June 2024: 121 + 121 + 130 = 372; 2023Q2: 330 → +12.7%.
    assert_eq!(q2_2024.expense, fen("372"));
    assert_eq!(q2_2024.income, fen("450"));
    assert_eq!(q2_2024.net, fen("78"));
    assert_eq!(q2_2024.months, 3);
    assert!((q2_2024.expense_yoy.unwrap() - 42.0 / 330.0).abs() < 1e-12);
    assert_eq!(q.first().unwrap().expense_yoy, None);
    // A partial quarter is not compared with a full one.
    let a = fund_analysis(&three_years(), ym("2024-11"), &FundPolicy::default());
    let q4 = a.funds[0].quarters.last().unwrap();
    assert_eq!((q4.quarter.as_str(), q4.months), ("2024Q4", 2));
    assert_eq!(q4.expense_yoy, None);
    // Monthly growth: June 2024 130 vs 110.
    let june = a.funds[0]
        .months
        .iter()
        .find(|m| m.month == ym("2024-06"))
        .unwrap();
    assert!((june.expense_yoy.unwrap() - 20.0 / 110.0).abs() < 1e-12);
}
