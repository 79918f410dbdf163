//! Excel export of the monthly report, laid out like the monthly report a bureau sends to its
//! leadership: a cover sheet with the fund position and the counts, then one sheet per table.
//!
//! Money cells are numbers in yuan with a `#,##0.00` format so totals can be summed in Excel;
//! the exact fen values are in the JSON document.

use crate::indicators::{Indicator, Unit};
use crate::input::hosp_lv_zh;
use crate::persons::insutype_zh;
use crate::report::MonthlyReport;
use anyhow::Context;
use medfund_contract::money::Fen;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};
use std::path::Path;

struct Formats {
    title: Format,
    head: Format,
    text: Format,
    wrap: Format,
    money: Format,
    int: Format,
    pct: Format,
    num: Format,
}

impl Formats {
    fn new() -> Formats {
        let cell = || Format::new().set_border(FormatBorder::Thin);
        Formats {
            title: Format::new()
                .set_bold()
                .set_font_size(16)
                .set_align(FormatAlign::Center),
            head: cell()
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_text_wrap()
                .set_background_color(0xD9E1F2),
            text: cell(),
            wrap: cell().set_text_wrap(),
            money: cell().set_num_format("#,##0.00"),
            int: cell().set_num_format("#,##0"),
            pct: cell().set_num_format("0.0%"),
            num: cell().set_num_format("0.00"),
        }
    }
}

fn yuan(f: Fen) -> f64 {
    f.0 as f64 / 100.0
}

fn put_opt(
    ws: &mut Worksheet,
    r: u32,
    c: u16,
    unit: Unit,
    v: Option<f64>,
    fm: &Formats,
) -> Result<(), XlsxError> {
    match v {
        None => {
            ws.write_string_with_format(r, c, "—", &fm.text)?;
        }
        Some(v) => {
            let (x, f) = match unit {
                Unit::Fen => (v / 100.0, &fm.money),
                Unit::Count => (v, &fm.int),
                Unit::Share => (v, &fm.pct),
                Unit::Number => (v, &fm.num),
            };
            ws.write_number_with_format(r, c, x, f)?;
        }
    }
    Ok(())
}

fn headers(ws: &mut Worksheet, r: u32, names: &[&str], fm: &Formats) -> Result<(), XlsxError> {
    for (k, h) in names.iter().enumerate() {
        ws.write_string_with_format(r, k as u16, *h, &fm.head)?;
    }
    Ok(())
}

/// Writes the report to an `.xlsx` file.
pub fn write_xlsx(r: &MonthlyReport, path: &Path) -> anyhow::Result<()> {
    let mut wb = build(r).context("生成 Excel 失败 / cannot build the workbook")?;
    wb.save(path)
        .with_context(|| format!("无法写入 {} / cannot write the Excel file", path.display()))?;
    Ok(())
}

/// Builds the workbook in memory (for the web UI's download).
pub fn to_xlsx_bytes(r: &MonthlyReport) -> anyhow::Result<Vec<u8>> {
    let mut wb = build(r).context("生成 Excel 失败 / cannot build the workbook")?;
    Ok(wb.save_to_buffer()?)
}

fn build(r: &MonthlyReport) -> Result<Workbook, XlsxError> {
    let fm = Formats::new();
    let mut wb = Workbook::new();
    cover(wb.add_worksheet(), r, &fm)?;
    institutions(wb.add_worksheet(), r, &fm)?;
    warnings(wb.add_worksheet(), r, &fm)?;
    outliers(wb.add_worksheet(), r, &fm)?;
    persons(wb.add_worksheet(), r, &fm)?;
    fund_months(wb.add_worksheet(), r, &fm)?;
    quarters_and_forecast(wb.add_worksheet(), r, &fm)?;
    Ok(wb)
}

fn cover(ws: &mut Worksheet, r: &MonthlyReport, fm: &Formats) -> Result<(), XlsxError> {
    ws.set_name("月报概况")?;
    ws.merge_range(
        0,
        0,
        0,
        7,
        &format!(
            "医疗保障基金监测月报（{}年{}月）",
            r.month.year, r.month.month
        ),
        &fm.title,
    )?;
    ws.write_string(
        1,
        0,
        format!(
            "基线：上年同期 {}；数据口径见 docs/monitoring.md",
            r.baseline_month
        ),
    )?;
    let s = &r.summary;
    headers(ws, 3, &["项目", "本月", "上年同期", "同比"], fm)?;
    let rows: [(&str, f64, f64, bool); 2] = [
        ("就医人次", s.visits as f64, s.visits_baseline as f64, false),
        (
            "统筹基金支出（元）",
            yuan(s.fund_spending),
            yuan(s.fund_spending_baseline),
            true,
        ),
    ];
    for (k, (name, v, b, money)) in rows.iter().enumerate() {
        let row = 4 + k as u32;
        let f = if *money { &fm.money } else { &fm.int };
        ws.write_string_with_format(row, 0, *name, &fm.text)?;
        ws.write_number_with_format(row, 1, *v, f)?;
        ws.write_number_with_format(row, 2, *b, f)?;
        put_opt(ws, row, 3, Unit::Share, (*b > 0.0).then(|| (v - b) / b), fm)?;
    }
    let mut row = 7;
    for (name, v) in [
        ("活跃定点机构（家）", s.institutions as f64),
        ("医疗总费用（元）", yuan(s.medfee)),
        ("费用明细条数", s.fee_lines as f64),
        ("预警（条）", s.warnings as f64),
        ("统计指标异常机构发现（条）", s.outliers as f64),
    ] {
        ws.write_string_with_format(row, 0, name, &fm.text)?;
        ws.write_number_with_format(
            row,
            1,
            v,
            if name.contains('元') {
                &fm.money
            } else {
                &fm.int
            },
        )?;
        row += 1;
    }
    row += 1;
    ws.write_string(row, 0, "基金运行情况")?;
    row += 1;
    headers(
        ws,
        row,
        &[
            "险种",
            "当月收入（元）",
            "当月支出（元）",
            "支出同比",
            "累计结余（元）",
            "月均支出（元）",
            "可支付月数",
            "评价",
        ],
        fm,
    )?;
    for f in &r.fund.funds {
        let Some(l) = &f.latest else { continue };
        row += 1;
        ws.write_string_with_format(row, 0, &f.insutype_zh, &fm.text)?;
        ws.write_number_with_format(row, 1, yuan(l.income), &fm.money)?;
        ws.write_number_with_format(row, 2, yuan(l.expense), &fm.money)?;
        put_opt(ws, row, 3, Unit::Share, l.expense_yoy, fm)?;
        ws.write_number_with_format(row, 4, yuan(l.balance), &fm.money)?;
        put_opt(ws, row, 5, Unit::Fen, l.avg_expense.map(|a| a.0 as f64), fm)?;
        put_opt(ws, row, 6, Unit::Number, l.months_payable, fm)?;
        ws.write_string_with_format(row, 7, l.band.map(|b| b.zh()).unwrap_or("—"), &fm.text)?;
    }
    row += 2;
    ws.write_string(row, 0, "风险提示")?;
    for w in r.fund.funds.iter().flat_map(|f| f.warnings.iter()) {
        row += 1;
        ws.write_string(row, 0, w)?;
    }
    ws.set_column_width(0, 28)?;
    for c in 1..=7 {
        ws.set_column_width(c, 16)?;
    }
    Ok(())
}

const COLS: &[Indicator] = &[
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
    Indicator::Medfee,
];

fn institutions(ws: &mut Worksheet, r: &MonthlyReport, fm: &Formats) -> Result<(), XlsxError> {
    ws.set_name("机构监测指标")?;
    for (k, h) in ["机构编码", "机构名称", "同级分组", "等级"]
        .iter()
        .enumerate()
    {
        ws.merge_range(0, k as u16, 1, k as u16, h, &fm.head)?;
    }
    for (j, ind) in COLS.iter().enumerate() {
        let c = 4 + 4 * j as u16;
        let unit = if ind.unit() == Unit::Fen {
            "（元）"
        } else {
            ""
        };
        ws.merge_range(0, c, 0, c + 3, &format!("{}{unit}", ind.zh()), &fm.head)?;
        for (k, s) in ["本月", "上年同期", "同比", "同级中位数"]
            .iter()
            .enumerate()
        {
            ws.write_string_with_format(1, c + k as u16, *s, &fm.head)?;
        }
    }
    for (i, inst) in r.institutions.iter().enumerate() {
        let row = 2 + i as u32;
        ws.write_string_with_format(row, 0, &inst.fixmedins_code, &fm.text)?;
        ws.write_string_with_format(row, 1, &inst.fixmedins_name, &fm.text)?;
        ws.write_string_with_format(
            row,
            2,
            inst.peer_group.map(|g| g.zh()).unwrap_or_default(),
            &fm.text,
        )?;
        ws.write_string_with_format(row, 3, hosp_lv_zh(inst.hosp_lv), &fm.text)?;
        for (j, ind) in COLS.iter().enumerate() {
            let c = 4 + 4 * j as u16;
            let x = inst.get(*ind);
            put_opt(ws, row, c, x.unit, x.value, fm)?;
            put_opt(ws, row, c + 1, x.unit, x.baseline, fm)?;
            put_opt(ws, row, c + 2, Unit::Share, x.yoy, fm)?;
            put_opt(ws, row, c + 3, x.unit, x.peer_median, fm)?;
        }
    }
    ws.set_freeze_panes(2, 2)?;
    ws.set_column_width(0, 15)?;
    ws.set_column_width(1, 24)?;
    ws.set_column_width(2, 14)?;
    Ok(())
}

fn warnings(ws: &mut Worksheet, r: &MonthlyReport, fm: &Formats) -> Result<(), XlsxError> {
    ws.set_name("预警明细")?;
    headers(
        ws,
        0,
        &[
            "序号",
            "机构编码",
            "机构名称",
            "预警类型",
            "指标值",
            "预警线",
            "说明",
        ],
        fm,
    )?;
    for (i, w) in r.warnings.iter().enumerate() {
        let row = 1 + i as u32;
        ws.write_number_with_format(row, 0, (i + 1) as f64, &fm.int)?;
        ws.write_string_with_format(row, 1, &w.fixmedins_code, &fm.text)?;
        ws.write_string_with_format(row, 2, &w.fixmedins_name, &fm.text)?;
        ws.write_string_with_format(row, 3, w.kind_zh, &fm.text)?;
        ws.write_number_with_format(row, 4, w.value, &fm.pct)?;
        ws.write_number_with_format(row, 5, w.threshold, &fm.pct)?;
        ws.write_string_with_format(row, 6, &w.message, &fm.wrap)?;
    }
    ws.set_column_width(1, 15)?;
    ws.set_column_width(2, 24)?;
    ws.set_column_width(3, 22)?;
    ws.set_column_width(6, 80)?;
    Ok(())
}

fn outliers(ws: &mut Worksheet, r: &MonthlyReport, fm: &Formats) -> Result<(), XlsxError> {
    ws.set_name("统计异常机构")?;
    headers(
        ws,
        0,
        &[
            "序号",
            "发现编号",
            "机构编码",
            "指标",
            "本机构值",
            "同级中位数",
            "稳健z值",
            "同级机构数",
            "证据",
        ],
        fm,
    )?;
    for (i, f) in r.outliers.iter().enumerate() {
        let row = 1 + i as u32;
        let d = &f.evidence.details;
        let s = |k: &str| match &d[k] {
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        ws.write_number_with_format(row, 0, (i + 1) as f64, &fm.int)?;
        ws.write_string_with_format(row, 1, &f.finding_id, &fm.text)?;
        ws.write_string_with_format(row, 2, f.fixmedins_code.as_deref().unwrap_or(""), &fm.text)?;
        ws.write_string_with_format(row, 3, s("indicator_zh"), &fm.text)?;
        ws.write_string_with_format(row, 4, s("value"), &fm.text)?;
        ws.write_string_with_format(row, 5, s("peer_median"), &fm.text)?;
        ws.write_number_with_format(row, 6, d["z"].as_f64().unwrap_or(0.0), &fm.num)?;
        ws.write_number_with_format(row, 7, d["peer_count"].as_f64().unwrap_or(0.0), &fm.int)?;
        ws.write_string_with_format(row, 8, &f.evidence.text, &fm.wrap)?;
    }
    ws.set_column_width(1, 18)?;
    ws.set_column_width(2, 15)?;
    ws.set_column_width(3, 16)?;
    ws.set_column_width(8, 90)?;
    Ok(())
}

fn persons(ws: &mut Worksheet, r: &MonthlyReport, fm: &Formats) -> Result<(), XlsxError> {
    ws.set_name("参保人前30位")?;
    headers(
        ws,
        0,
        &[
            "排名",
            "个人编号",
            "性别",
            "年龄",
            "年龄段",
            "险种",
            "统筹基金支出（元）",
            "医疗总费用（元）",
            "就诊次数",
            "就诊机构数",
            "药品种数",
            "药品费用（元）",
            "同组人数",
            "同组统筹支出中位数（元）",
            "异常说明",
        ],
        fm,
    )?;
    for (i, p) in r.top_persons.iter().enumerate() {
        let row = 1 + i as u32;
        let m = &p.month;
        ws.write_number_with_format(row, 0, p.rank as f64, &fm.int)?;
        ws.write_string_with_format(row, 1, &p.psn_no, &fm.text)?;
        ws.write_string_with_format(row, 2, &p.gend, &fm.text)?;
        put_opt(ws, row, 3, Unit::Count, p.age.map(|a| a as f64), fm)?;
        ws.write_string_with_format(row, 4, &p.group.age_band, &fm.text)?;
        ws.write_string_with_format(row, 5, insutype_zh(&p.group.insutype), &fm.text)?;
        ws.write_number_with_format(row, 6, yuan(m.fund_spending), &fm.money)?;
        ws.write_number_with_format(row, 7, yuan(m.medfee), &fm.money)?;
        ws.write_number_with_format(row, 8, m.visits as f64, &fm.int)?;
        ws.write_number_with_format(row, 9, m.institutions as f64, &fm.int)?;
        ws.write_number_with_format(row, 10, m.drugs as f64, &fm.int)?;
        ws.write_number_with_format(row, 11, yuan(m.drug_amount), &fm.money)?;
        ws.write_number_with_format(row, 12, p.group.size as f64, &fm.int)?;
        ws.write_number_with_format(row, 13, yuan(p.group.fund_spending), &fm.money)?;
        ws.write_string_with_format(row, 14, p.reasons.join("；"), &fm.wrap)?;
    }
    ws.set_column_width(1, 20)?;
    ws.set_column_width(14, 70)?;
    Ok(())
}

fn fund_months(ws: &mut Worksheet, r: &MonthlyReport, fm: &Formats) -> Result<(), XlsxError> {
    ws.set_name("基金运行")?;
    headers(
        ws,
        0,
        &[
            "险种",
            "月份",
            "收入（元）",
            "支出（元）",
            "当期结余（元）",
            "累计结余（元）",
            "支出同比",
            "月均支出（元）",
            "可支付月数",
            "评价",
        ],
        fm,
    )?;
    let mut row = 1;
    for f in &r.fund.funds {
        for m in &f.months {
            ws.write_string_with_format(row, 0, &f.insutype_zh, &fm.text)?;
            ws.write_string_with_format(row, 1, m.month.to_string(), &fm.text)?;
            ws.write_number_with_format(row, 2, yuan(m.income), &fm.money)?;
            ws.write_number_with_format(row, 3, yuan(m.expense), &fm.money)?;
            ws.write_number_with_format(row, 4, yuan(m.net), &fm.money)?;
            ws.write_number_with_format(row, 5, yuan(m.balance), &fm.money)?;
            put_opt(ws, row, 6, Unit::Share, m.expense_yoy, fm)?;
            put_opt(ws, row, 7, Unit::Fen, m.avg_expense.map(|a| a.0 as f64), fm)?;
            put_opt(ws, row, 8, Unit::Number, m.months_payable, fm)?;
            ws.write_string_with_format(row, 9, m.band.map(|b| b.zh()).unwrap_or("—"), &fm.text)?;
            row += 1;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    for c in 0..10 {
        ws.set_column_width(c, 16)?;
    }
    Ok(())
}

fn quarters_and_forecast(
    ws: &mut Worksheet,
    r: &MonthlyReport,
    fm: &Formats,
) -> Result<(), XlsxError> {
    ws.set_name("季度分析与预测")?;
    let mut row = 0;
    ws.write_string(row, 0, "一、季度分析")?;
    row += 1;
    headers(
        ws,
        row,
        &[
            "险种",
            "季度",
            "月数",
            "收入（元）",
            "支出（元）",
            "当期结余（元）",
            "期末累计结余（元）",
            "期末可支付月数",
            "支出同比",
        ],
        fm,
    )?;
    for f in &r.fund.funds {
        for q in &f.quarters {
            row += 1;
            ws.write_string_with_format(row, 0, &f.insutype_zh, &fm.text)?;
            ws.write_string_with_format(row, 1, &q.quarter, &fm.text)?;
            ws.write_number_with_format(row, 2, q.months as f64, &fm.int)?;
            ws.write_number_with_format(row, 3, yuan(q.income), &fm.money)?;
            ws.write_number_with_format(row, 4, yuan(q.expense), &fm.money)?;
            ws.write_number_with_format(row, 5, yuan(q.net), &fm.money)?;
            ws.write_number_with_format(row, 6, yuan(q.end_balance), &fm.money)?;
            put_opt(ws, row, 7, Unit::Number, q.months_payable, fm)?;
            put_opt(ws, row, 8, Unit::Share, q.expense_yoy, fm)?;
        }
    }
    row += 2;
    ws.write_string(
        row,
        0,
        "二、未来 12 个月支出预测（预测方法及其在最近一年的回测误差）",
    )?;
    for f in &r.fund.funds {
        let Some(fc) = &f.forecast else { continue };
        row += 1;
        let err =
            fc.backtest
                .as_ref()
                .map(|b| {
                    format!(
                    "回测（自 {} 起预测最近 12 个月）：平均绝对误差 {} 元，平均绝对百分比误差 {}",
                    b.origin,
                    b.mae,
                    b.mape.map(|m| format!("{:.1}%", m * 100.0)).unwrap_or_else(|| "—".into())
                )
                })
                .unwrap_or_else(|| "历史数据不足，无法回测".into());
        ws.write_string(
            row,
            0,
            format!("{}：{}；{}", f.insutype_zh, fc.method_zh, err),
        )?;
        row += 1;
        headers(
            ws,
            row,
            &[
                "月份",
                "预测支出（元）",
                "回测月份",
                "回测预测（元）",
                "实际（元）",
                "误差（元）",
            ],
            fm,
        )?;
        let back = fc
            .backtest
            .as_ref()
            .map(|b| b.points.as_slice())
            .unwrap_or(&[]);
        for k in 0..fc.points.len().max(back.len()) {
            row += 1;
            if let Some(p) = fc.points.get(k) {
                ws.write_string_with_format(row, 0, p.month.to_string(), &fm.text)?;
                ws.write_number_with_format(row, 1, yuan(p.expense), &fm.money)?;
            }
            if let Some(b) = back.get(k) {
                ws.write_string_with_format(row, 2, b.month.to_string(), &fm.text)?;
                ws.write_number_with_format(row, 3, yuan(b.forecast), &fm.money)?;
                ws.write_number_with_format(row, 4, yuan(b.actual), &fm.money)?;
                ws.write_number_with_format(row, 5, yuan(b.error), &fm.money)?;
            }
        }
        row += 1;
    }
    for c in 0..9 {
        ws.set_column_width(c, 18)?;
    }
    Ok(())
}
