//! The monthly monitoring report: one value holding everything the terminal, the JSON document
//! for the web UI and the Excel export show.

use crate::fund::{fund_analysis, FundAnalysis};
use crate::indicators::{institution_indicators, Indicator, InstitutionIndicators, Unit};
use crate::input::{hosp_lv_zh, MonitorInput, Period};
use crate::outlier::{outliers_from_indicators, show};
use crate::persons::{insutype_zh, top_persons, TopPerson};
use crate::policy::Policy;
use crate::warnings::{budget_status, warnings, BudgetStatus, Warning};
use medfund_contract::finding::Finding;
use medfund_contract::money::Fen;
use medfund_contract::time::YearMonth;
use serde::Serialize;
use std::fmt::Write as _;

/// Version of the JSON document's shape; bumped when a field changes meaning.
pub const REPORT_SCHEMA: &str = "medfund.monitor.monthly/1";

/// City-wide totals of the month.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Institutions with activity in the month.
    pub institutions: usize,
    pub visits: u64,
    pub visits_baseline: u64,
    pub fund_spending: Fen,
    pub fund_spending_baseline: Fen,
    pub medfee: Fen,
    pub fee_lines: u64,
    pub warnings: usize,
    pub outliers: usize,
}

/// The monthly report (`medfund monitor --month YYYY-MM`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MonthlyReport {
    /// [`REPORT_SCHEMA`].
    pub schema: &'static str,
    pub month: YearMonth,
    /// The same month of the previous year.
    pub baseline_month: YearMonth,
    pub summary: Summary,
    /// Every institution active in the month or its baseline, by code.
    pub institutions: Vec<InstitutionIndicators>,
    /// Total-budget use to the end of the month, for institutions with a budget.
    pub budgets: Vec<BudgetStatus>,
    pub warnings: Vec<Warning>,
    /// `provider_outlier` findings of the month (sealed; the same shape as the audit's).
    pub outliers: Vec<Finding>,
    pub top_persons: Vec<TopPerson>,
    pub fund: FundAnalysis,
}

/// Builds the report of `month`. Pure: reads only `data`.
pub fn monthly_report(data: &MonitorInput, month: YearMonth, policy: &Policy) -> MonthlyReport {
    let period = Period::month(month);
    let institutions = institution_indicators(data, period, policy);
    let outliers = outliers_from_indicators(&institutions, period, policy);
    let budgets = budget_status(data, month);
    let warnings = warnings(&institutions, &budgets, policy);
    let top_persons = top_persons(data, month, policy);
    let fund = fund_analysis(data.fund_month, month, &policy.fund);
    let active = institutions
        .iter()
        .filter(|r| r.stats.visits > 0 || r.stats.fund_spending.0 != 0)
        .count();
    let summary = Summary {
        institutions: active,
        visits: institutions.iter().map(|r| r.stats.visits).sum(),
        visits_baseline: institutions
            .iter()
            .filter_map(|r| r.baseline_stats.as_ref())
            .map(|s| s.visits)
            .sum(),
        fund_spending: institutions.iter().map(|r| r.stats.fund_spending).sum(),
        fund_spending_baseline: institutions
            .iter()
            .filter_map(|r| r.baseline_stats.as_ref())
            .map(|s| s.fund_spending)
            .sum(),
        medfee: institutions.iter().map(|r| r.stats.medfee).sum(),
        fee_lines: institutions.iter().map(|r| r.stats.lines).sum(),
        warnings: warnings.len(),
        outliers: outliers.len(),
    };
    MonthlyReport {
        schema: REPORT_SCHEMA,
        month,
        baseline_month: month.plus(-12),
        summary,
        institutions,
        budgets,
        warnings,
        outliers,
        top_persons,
        fund,
    }
}

/// Formats an optional value of an indicator for tables (`—` when absent).
pub fn cell(unit: Unit, v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(v) => match unit {
            Unit::Fen => Fen(v.round() as i64).to_string(),
            other => show(other, v),
        },
    }
}

/// Formats a growth share as a signed percentage.
pub fn growth(v: Option<f64>) -> String {
    v.map(|g| format!("{:+.1}%", g * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// Display width in terminal columns (CJK characters take two).
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let u = c as u32;
            let wide = (0x1100..=0x115F).contains(&u)
                || (0x2E80..=0xA4CF).contains(&u)
                || (0xAC00..=0xD7A3).contains(&u)
                || (0xF900..=0xFAFF).contains(&u)
                || (0xFE30..=0xFE4F).contains(&u)
                || (0xFF00..=0xFF60).contains(&u)
                || (0xFFE0..=0xFFE6).contains(&u);
            if wide {
                2
            } else {
                1
            }
        })
        .sum()
}

/// Renders rows as an aligned plain-text table.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let n = header.len();
    let mut w: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for r in rows {
        for (k, c) in r.iter().enumerate().take(n) {
            w[k] = w[k].max(width(c));
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        for (k, c) in cells.iter().enumerate().take(n) {
            let pad = w[k] - width(c);
            if k > 0 {
                out.push_str("  ");
            }
            out.push_str(c);
            out.push_str(&" ".repeat(pad));
        }
        while out.ends_with(' ') {
            out.pop();
        }
        out.push('\n');
    };
    line(
        &mut out,
        &header.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
    );
    line(
        &mut out,
        &w.iter().map(|k| "-".repeat(*k)).collect::<Vec<_>>(),
    );
    for r in rows {
        line(&mut out, r);
    }
    out
}

/// Renders the report for the terminal.
pub fn render_text(r: &MonthlyReport) -> String {
    let mut o = String::new();
    let s = &r.summary;
    let _ = writeln!(
        o,
        "医保基金监测月报 {}（基线：{}）\n",
        r.month, r.baseline_month
    );
    let yoy = |a: i64, b: i64| {
        if b > 0 {
            growth(Some((a - b) as f64 / b as f64))
        } else {
            "—".into()
        }
    };
    let _ = writeln!(
        o,
        "活跃机构 {} 家；就医 {} 人次（同比 {}）；统筹基金支出 {} 元（同比 {}）；医疗总费用 {} 元；预警 {} 条；统计异常机构发现 {} 条。\n",
        s.institutions,
        s.visits,
        yoy(s.visits as i64, s.visits_baseline as i64),
        s.fund_spending,
        yoy(s.fund_spending.0, s.fund_spending_baseline.0),
        s.medfee,
        s.warnings,
        s.outliers
    );

    let _ = writeln!(o, "一、基金运行");
    let rows: Vec<Vec<String>> = r
        .fund
        .funds
        .iter()
        .filter_map(|f| {
            let l = f.latest.as_ref()?;
            Some(vec![
                f.insutype_zh.clone(),
                l.income.to_string(),
                l.expense.to_string(),
                growth(l.expense_yoy),
                l.balance.to_string(),
                l.months_payable
                    .map(|m| format!("{m:.1}"))
                    .unwrap_or_else(|| "—".into()),
                l.band
                    .map(|b| b.zh().to_string())
                    .unwrap_or_else(|| "—".into()),
                f.forecast
                    .as_ref()
                    .map(|fc| fc.total.to_string())
                    .unwrap_or_else(|| "—".into()),
                f.forecast
                    .as_ref()
                    .and_then(|fc| fc.backtest.as_ref())
                    .and_then(|b| b.mape)
                    .map(|m| format!("{:.1}%", m * 100.0))
                    .unwrap_or_else(|| "—".into()),
            ])
        })
        .collect();
    if rows.is_empty() {
        let _ = writeln!(o, "（本月无 fund_month 数据）");
    } else {
        o.push_str(&table(
            &[
                "险种",
                "当月收入",
                "当月支出",
                "支出同比",
                "累计结余",
                "可支付月数",
                "评价",
                "未来12月支出预测",
                "预测误差(MAPE)",
            ],
            &rows,
        ));
    }
    for f in &r.fund.funds {
        for w in &f.warnings {
            let _ = writeln!(o, "  ⚠ {w}");
        }
    }

    let _ = writeln!(o, "\n二、预警（{} 条）", r.warnings.len());
    if r.warnings.is_empty() {
        let _ = writeln!(o, "（无）");
    }
    for w in &r.warnings {
        let _ = writeln!(o, "  [{}] {}", w.kind_zh, w.message);
    }

    let _ = writeln!(
        o,
        "\n三、统计指标异常机构（provider_outlier，{} 条）",
        r.outliers.len()
    );
    if r.outliers.is_empty() {
        let _ = writeln!(o, "（无）");
    }
    for f in &r.outliers {
        let _ = writeln!(
            o,
            "  {} {}",
            f.fixmedins_code.as_deref().unwrap_or(""),
            f.evidence.text
        );
    }

    let _ = writeln!(o, "\n四、定点机构监测指标（当月值 / 同比 / 同级中位数）");
    let cols = [
        Indicator::Visits,
        Indicator::VisitsPerHead,
        Indicator::AvgCostOpt,
        Indicator::AvgCostIpt,
        Indicator::ReferralRate,
        Indicator::DrugShare,
        Indicator::AvgLos,
        Indicator::BedOccupancy,
        Indicator::SelfPayShare,
        Indicator::LinesPerVisit,
        Indicator::FundSpending,
    ];
    let mut header = vec!["机构编码", "机构名称", "等级"];
    header.extend(cols.iter().map(|c| c.zh()));
    let rows: Vec<Vec<String>> = r
        .institutions
        .iter()
        .filter(|i| i.stats.visits > 0)
        .map(|i| {
            let mut row = vec![
                i.fixmedins_code.clone(),
                i.fixmedins_name.clone(),
                hosp_lv_zh(i.hosp_lv).to_string(),
            ];
            for c in cols {
                let x = i.get(c);
                row.push(format!(
                    "{} / {} / {}",
                    cell(x.unit, x.value),
                    growth(x.yoy),
                    cell(x.unit, x.peer_median)
                ));
            }
            row
        })
        .collect();
    o.push_str(&table(&header, &rows));

    let _ = writeln!(o, "\n五、统筹基金支出前 {} 位参保人", r.top_persons.len());
    let rows: Vec<Vec<String>> = r
        .top_persons
        .iter()
        .map(|p| {
            vec![
                p.rank.to_string(),
                p.psn_no.clone(),
                p.gend.clone(),
                p.age.map(|a| a.to_string()).unwrap_or_default(),
                insutype_zh(&p.group.insutype),
                p.month.fund_spending.to_string(),
                p.month.visits.to_string(),
                p.month.institutions.to_string(),
                p.month.drugs.to_string(),
                if p.reasons.is_empty() {
                    "—".into()
                } else {
                    p.reasons.join("；")
                },
            ]
        })
        .collect();
    o.push_str(&table(
        &[
            "排名",
            "个人编号",
            "性别",
            "年龄",
            "险种",
            "统筹支出",
            "就诊次数",
            "就诊机构数",
            "药品种数",
            "异常说明（与同年龄段同险种人群比较）",
        ],
        &rows,
    ));
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_chinese_and_dashes() {
        // CJK characters take two columns, the em dash one.
        assert_eq!(width("医院"), 4);
        assert_eq!(width("—"), 1);
        let t = table(
            &["机构", "值"],
            &[
                vec!["一院".into(), "—".into()],
                vec!["H1".into(), "12.50".into()],
            ],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "机构  值");
        assert_eq!(lines[1], "----  -----");
        assert_eq!(lines[2], "一院  —");
        assert_eq!(lines[3], "H1    12.50");
    }

    #[test]
    fn cells_and_growth() {
        assert_eq!(cell(Unit::Fen, Some(12345.0)), "123.45");
        assert_eq!(cell(Unit::Share, Some(0.1534)), "15.3%");
        assert_eq!(cell(Unit::Count, None), "—");
        assert_eq!(growth(Some(-0.05)), "-5.0%");
        assert_eq!(growth(Some(0.2)), "+20.0%");
    }
}
