//! Fund operation analysis (基金运行分析研判; seeds 000 §四(四)一, 004; DOMAIN.md §5, §9) from the
//! `fund_month` table: balance, income and expense trends, months payable with its bands, a
//! quarterly summary and a 12-month expense forecast with its error on the last year.
//!
//! Months payable at month m = balance at the end of m ÷ (expense over the `window_months`
//! months ending with m ÷ the number of those months present). Seed 004's 33 and 7 months are
//! reproduced in the tests.

use crate::policy::FundPolicy;
use medfund_contract::money::{div_round_half_up, Fen};
use medfund_contract::records::FundMonth;
use medfund_contract::time::YearMonth;
use serde::Serialize;
use std::collections::BTreeMap;

/// Where months payable falls (DOMAIN.md §9, configurable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PayableBand {
    /// Below `risk_below` (6): a risk.
    Risk,
    /// From `risk_below` up to `target_low` (6–9): below the usual target.
    Low,
    /// `target_low`–`target_high` inclusive (9–15): the usual target.
    Target,
    /// Above `target_high` (15): too large a balance.
    Excess,
}

impl PayableBand {
    /// The band of a months-payable value.
    pub fn of(months: f64, p: &FundPolicy) -> PayableBand {
        if months < p.risk_below {
            PayableBand::Risk
        } else if months < p.target_low {
            PayableBand::Low
        } else if months <= p.target_high {
            PayableBand::Target
        } else {
            PayableBand::Excess
        }
    }
    /// Chinese label.
    pub fn zh(self) -> &'static str {
        match self {
            PayableBand::Risk => "支付风险",
            PayableBand::Low => "偏低",
            PayableBand::Target => "合理",
            PayableBand::Excess => "结余过多",
        }
    }
}

/// One month of one fund.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FundMonthRow {
    pub month: YearMonth,
    pub income: Fen,
    pub expense: Fen,
    /// income − expense.
    pub net: Fen,
    /// Accumulated balance at month end.
    pub balance: Fen,
    /// Expense growth over the same month of the previous year.
    pub expense_yoy: Option<f64>,
    /// Average monthly expense over the window ending with this month (rounded half up).
    pub avg_expense: Option<Fen>,
    /// Months of the window present in the data.
    pub window_months: u32,
    /// balance ÷ average monthly expense.
    pub months_payable: Option<f64>,
    pub band: Option<PayableBand>,
}

/// A calendar quarter of one fund.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuarterRow {
    /// `2024Q1`.
    pub quarter: String,
    /// Months of the quarter present in the data.
    pub months: u32,
    pub income: Fen,
    pub expense: Fen,
    pub net: Fen,
    /// Balance at the end of the last month present.
    pub end_balance: Fen,
    pub months_payable: Option<f64>,
    /// Expense growth over the same quarter of the previous year (same months present).
    pub expense_yoy: Option<f64>,
}

/// How the forecast was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ForecastMethod {
    /// Trend + season: the same month last year × (last 12 months ÷ the 12 before). Needs 24 months.
    SeasonalGrowth,
    /// Seasonal naive: the same month last year. Needs 12 months.
    SeasonalNaive,
    /// The mean of the months available (fewer than 12).
    Mean,
}

impl ForecastMethod {
    /// Chinese description.
    pub fn zh(self) -> &'static str {
        match self {
            ForecastMethod::SeasonalGrowth => "季节×趋势（上年同月 × 近12个月同比增幅）",
            ForecastMethod::SeasonalNaive => "季节朴素（上年同月）",
            ForecastMethod::Mean => "月均值",
        }
    }
    fn needs(self) -> usize {
        match self {
            ForecastMethod::SeasonalGrowth => 24,
            ForecastMethod::SeasonalNaive => 12,
            ForecastMethod::Mean => 1,
        }
    }
}

/// One forecast month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ForecastPoint {
    pub month: YearMonth,
    pub expense: Fen,
}

/// One month of the backtest: the forecast made 12 months earlier and what happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BacktestPoint {
    pub month: YearMonth,
    pub forecast: Fen,
    pub actual: Fen,
    /// actual − forecast.
    pub error: Fen,
}

/// The error of a method on the last 12 months, forecast from the month 12 months before the
/// report month with only the data known then.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Backtest {
    pub method: ForecastMethod,
    pub origin: YearMonth,
    pub points: Vec<BacktestPoint>,
    /// Mean absolute error, rounded half up to the fen.
    pub mae: Fen,
    /// Mean absolute percentage error (a share; months with zero actual expense are left out).
    pub mape: Option<f64>,
}

/// The 12-month expense forecast.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Forecast {
    pub method: ForecastMethod,
    pub method_zh: &'static str,
    /// The last month of data used.
    pub origin: YearMonth,
    pub points: Vec<ForecastPoint>,
    /// Sum of the 12 forecast months.
    pub total: Fen,
    /// The method's error on the last year, when there is enough history.
    pub backtest: Option<Backtest>,
    /// The seasonal-naive benchmark's error on the same year, for comparison.
    pub naive_backtest: Option<Backtest>,
}

/// One fund's analysis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FundSeries {
    /// 310 employee, 390 resident.
    pub insutype: String,
    pub insutype_zh: String,
    /// Every month up to the report month, oldest first.
    pub months: Vec<FundMonthRow>,
    /// The report month's row (when present).
    pub latest: Option<FundMonthRow>,
    pub quarters: Vec<QuarterRow>,
    pub forecast: Option<Forecast>,
    /// Chinese warnings (months payable below the floor, above the target, expense growth).
    pub warnings: Vec<String>,
}

/// The analysis of every fund as of a month.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FundAnalysis {
    pub as_of: YearMonth,
    pub funds: Vec<FundSeries>,
}

/// Analyses every fund in `fund_month` using the months up to and including `as_of`.
/// A duplicated (insutype, month) row keeps the last one, as a reload would.
pub fn fund_analysis(
    fund_month: &[FundMonth],
    as_of: YearMonth,
    policy: &FundPolicy,
) -> FundAnalysis {
    let mut by_fund: BTreeMap<&str, BTreeMap<YearMonth, &FundMonth>> = BTreeMap::new();
    for r in fund_month.iter().filter(|r| r.month <= as_of) {
        by_fund
            .entry(r.insutype.as_str())
            .or_default()
            .insert(r.month, r);
    }
    let funds = by_fund
        .into_iter()
        .map(|(insutype, rows)| fund_series(insutype, &rows, as_of, policy))
        .collect();
    FundAnalysis { as_of, funds }
}

fn months_payable(balance: Fen, window: &[Fen]) -> (Option<Fen>, Option<f64>) {
    let n = window.len() as i128;
    let sum: i64 = window.iter().map(|e| e.0).sum();
    if n == 0 || sum <= 0 {
        return (None, None);
    }
    let avg = Fen(div_round_half_up(sum as i128, n) as i64);
    // balance ÷ (sum ÷ n) = balance × n ÷ sum: one division, no rounded average in between.
    (Some(avg), Some(balance.0 as f64 * n as f64 / sum as f64))
}

fn fund_series(
    insutype: &str,
    rows: &BTreeMap<YearMonth, &FundMonth>,
    as_of: YearMonth,
    policy: &FundPolicy,
) -> FundSeries {
    let expense: BTreeMap<YearMonth, Fen> = rows.iter().map(|(m, r)| (*m, r.expense)).collect();
    let w = policy.window_months as i32;
    let month_rows: Vec<FundMonthRow> = rows
        .values()
        .map(|r| {
            let window: Vec<Fen> = (0..w)
                .filter_map(|k| expense.get(&r.month.plus(-k)).copied())
                .collect();
            let (avg, mp) = months_payable(r.balance, &window);
            let yoy = expense
                .get(&r.month.plus(-12))
                .filter(|b| b.0 > 0)
                .map(|b| (r.expense.0 - b.0) as f64 / b.0 as f64);
            FundMonthRow {
                month: r.month,
                income: r.income,
                expense: r.expense,
                net: r.income - r.expense,
                balance: r.balance,
                expense_yoy: yoy,
                avg_expense: avg,
                window_months: window.len() as u32,
                months_payable: mp,
                band: mp.map(|m| PayableBand::of(m, policy)),
            }
        })
        .collect();
    let latest = month_rows.iter().find(|r| r.month == as_of).cloned();
    let quarters = quarters(&month_rows);
    let forecast = forecast(&expense, as_of);
    let mut warnings = Vec::new();
    let name = crate::persons::insutype_zh(insutype);
    if let Some(l) = &latest {
        if let (Some(mp), Some(b)) = (l.months_payable, l.band) {
            match b {
                PayableBand::Risk => warnings.push(format!(
                    "{name}基金可支付月数 {mp:.1} 个月，低于 {} 个月的警戒线，存在支付风险。",
                    policy.risk_below
                )),
                PayableBand::Low => warnings.push(format!(
                    "{name}基金可支付月数 {mp:.1} 个月，低于 {}–{} 个月的合理区间。",
                    policy.target_low, policy.target_high
                )),
                PayableBand::Excess => warnings.push(format!(
                    "{name}基金可支付月数 {mp:.1} 个月，高于 {} 个月，结余过多。",
                    policy.target_high
                )),
                PayableBand::Target => {}
            }
        }
        if l.net.0 < 0 {
            warnings.push(format!(
                "{name}基金 {} 当期收不抵支 {} 元。",
                l.month, -l.net
            ));
        }
    }
    FundSeries {
        insutype: insutype.to_string(),
        insutype_zh: name,
        months: month_rows,
        latest,
        quarters,
        forecast,
        warnings,
    }
}

fn quarters(rows: &[FundMonthRow]) -> Vec<QuarterRow> {
    let mut q: BTreeMap<(i32, u32), Vec<&FundMonthRow>> = BTreeMap::new();
    for r in rows {
        q.entry((r.month.year, (r.month.month - 1) / 3 + 1))
            .or_default()
            .push(r);
    }
    let sums: BTreeMap<(i32, u32), (Vec<u32>, Fen)> = q
        .iter()
        .map(|(k, rs)| {
            (
                *k,
                (
                    rs.iter().map(|r| r.month.month).collect(),
                    rs.iter().map(|r| r.expense).sum(),
                ),
            )
        })
        .collect();
    q.iter()
        .map(|(&(y, n), rs)| {
            let last = rs.last().expect("non-empty quarter");
            let expense: Fen = rs.iter().map(|r| r.expense).sum();
            let (months, _) = &sums[&(y, n)];
            let yoy = sums.get(&(y - 1, n)).and_then(|(pm, pe)| {
                // Compare like with like: only when the same months are present both years.
                (pm == months && pe.0 > 0).then(|| (expense.0 - pe.0) as f64 / pe.0 as f64)
            });
            QuarterRow {
                quarter: format!("{y}Q{n}"),
                months: rs.len() as u32,
                income: rs.iter().map(|r| r.income).sum(),
                expense,
                net: rs.iter().map(|r| r.net).sum(),
                end_balance: last.balance,
                months_payable: last.months_payable,
                expense_yoy: yoy,
            }
        })
        .collect()
}

/// Forecasts the 12 months after `origin` using only `series` months ≤ `origin`.
/// `None` when the method lacks history (a missing month in the needed span counts as lacking).
pub fn forecast_with(
    series: &BTreeMap<YearMonth, Fen>,
    origin: YearMonth,
    method: ForecastMethod,
) -> Option<Vec<ForecastPoint>> {
    let get = |m: YearMonth| series.get(&m).copied();
    let span =
        |from: i32, to: i32| -> Option<Fen> { (from..=to).map(|k| get(origin.plus(-k))).sum() };
    match method {
        ForecastMethod::SeasonalGrowth => {
            let recent = span(0, 11)?;
            let before = span(12, 23)?;
            if before.0 <= 0 {
                return None;
            }
            (1..=12)
                .map(|h| {
                    let m = origin.plus(h);
                    let e = get(m.plus(-12))?.mul_ratio(recent.0, before.0);
                    Some(ForecastPoint {
                        month: m,
                        expense: e,
                    })
                })
                .collect()
        }
        ForecastMethod::SeasonalNaive => (1..=12)
            .map(|h| {
                let m = origin.plus(h);
                Some(ForecastPoint {
                    month: m,
                    expense: get(m.plus(-12))?,
                })
            })
            .collect(),
        ForecastMethod::Mean => {
            let known: Vec<Fen> = series.range(..=origin).map(|(_, e)| *e).collect();
            if known.is_empty() {
                return None;
            }
            let sum: i64 = known.iter().map(|e| e.0).sum();
            let mean = Fen(div_round_half_up(sum as i128, known.len() as i128) as i64);
            Some(
                (1..=12)
                    .map(|h| ForecastPoint {
                        month: origin.plus(h),
                        expense: mean,
                    })
                    .collect(),
            )
        }
    }
}

/// Backtests a method: forecast from `origin` − 12 with the data known then, compared with the
/// actual expense of the 12 months up to `origin`.
pub fn backtest(
    series: &BTreeMap<YearMonth, Fen>,
    origin: YearMonth,
    method: ForecastMethod,
) -> Option<Backtest> {
    let start = origin.plus(-12);
    let known: BTreeMap<YearMonth, Fen> = series.range(..=start).map(|(m, e)| (*m, *e)).collect();
    if known.len() < method.needs() {
        return None;
    }
    let f = forecast_with(&known, start, method)?;
    let points: Vec<BacktestPoint> = f
        .into_iter()
        .map(|p| {
            let actual = series.get(&p.month).copied()?;
            Some(BacktestPoint {
                month: p.month,
                forecast: p.expense,
                actual,
                error: actual - p.expense,
            })
        })
        .collect::<Option<_>>()?;
    let abs_sum: i64 = points.iter().map(|p| p.error.0.abs()).sum();
    let mae = Fen(div_round_half_up(abs_sum as i128, points.len() as i128) as i64);
    let pct: Vec<f64> = points
        .iter()
        .filter(|p| p.actual.0 != 0)
        .map(|p| p.error.0.abs() as f64 / p.actual.0.abs() as f64)
        .collect();
    let mape = (!pct.is_empty()).then(|| pct.iter().sum::<f64>() / pct.len() as f64);
    Some(Backtest {
        method,
        origin: start,
        points,
        mae,
        mape,
    })
}

/// The forecast from `as_of` with the best-supported method: trend + season with 24 months of
/// history, seasonal naive with 12, else the mean.
fn forecast(series: &BTreeMap<YearMonth, Fen>, as_of: YearMonth) -> Option<Forecast> {
    let known: BTreeMap<YearMonth, Fen> = series.range(..=as_of).map(|(m, e)| (*m, *e)).collect();
    for method in [
        ForecastMethod::SeasonalGrowth,
        ForecastMethod::SeasonalNaive,
        ForecastMethod::Mean,
    ] {
        if let Some(points) = forecast_with(&known, as_of, method) {
            let total = points.iter().map(|p| p.expense).sum();
            return Some(Forecast {
                method,
                method_zh: method.zh(),
                origin: as_of,
                points,
                total,
                backtest: backtest(&known, as_of, method),
                naive_backtest: backtest(&known, as_of, ForecastMethod::SeasonalNaive),
            });
        }
    }
    None
}
