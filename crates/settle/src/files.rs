//! File formats at the edge: the CSV inputs and outputs of `medfund settle`, and the Excel
//! settlement sheets laid out like a bureau's (Chinese headers, one row per institution, totals).
//!
//! Amounts are written as yuan with 2 decimals, points with 4 and the point value with 6, from
//! the exact integers. Excel cells are numbers (so the sheet can be summed); each is converted from
//! its exact decimal text to the sheet's number only when written, and the totals rows are the
//! exact sums computed here, not Excel formulas.

use crate::budget::{Assessment, BudgetInput, BudgetLine, BudgetTotals, Warning};
use crate::points::{Case, PointSettlement};
use crate::policy::Policy;
use crate::rate::Rate;
use crate::source::Scheme;
use anyhow::{bail, Context};
use medfund_contract::{Code, Fen};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

/// Columns of the budget output, required ones first in the order of the issue.
pub const BUDGET_COLUMNS: [&str; 19] = [
    "fixmedins_code",
    "cap",
    "actual",
    "reward",
    "overage",
    "overage_in",
    "overage_out",
    "institution_bears",
    "fund_pays_overage",
    "payable",
    "cap_in",
    "cap_out",
    "actual_in",
    "actual_out",
    "indicators",
    "bears_in",
    "bears_out",
    "prepaid",
    "balance",
];

/// Columns of the per-institution point output.
pub const INSTITUTION_COLUMNS: [&str; 6] = [
    "fixmedins_code",
    "cases",
    "points",
    "payment",
    "prepaid",
    "balance",
];

/// Opens a CSV for reading; a UTF-8 byte-order mark (Excel exports) is skipped.
fn csv_reader(path: &Path) -> anyhow::Result<csv::Reader<Box<dyn Read>>> {
    let mut f = std::fs::File::open(path).with_context(|| {
        format!(
            "无法打开输入文件 / cannot open input file {}",
            path.display()
        )
    })?;
    let mut head = [0u8; 3];
    let mut n = 0;
    while n < 3 {
        let k = f.read(&mut head[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    let prefix: Vec<u8> = if head[..n] == [0xEF, 0xBB, 0xBF] {
        Vec::new()
    } else {
        head[..n].to_vec()
    };
    let reader: Box<dyn Read> =
        Box::new(std::io::Cursor::new(prefix).chain(std::io::BufReader::new(f)));
    Ok(csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(reader))
}

/// Column positions by header name.
struct Header {
    cols: HashMap<String, usize>,
    file: String,
}

impl Header {
    fn new(r: &mut csv::Reader<Box<dyn Read>>, path: &Path) -> anyhow::Result<Header> {
        let h = r.headers().with_context(|| {
            format!(
                "无法读取表头 / cannot read the header of {}",
                path.display()
            )
        })?;
        Ok(Header {
            cols: h
                .iter()
                .enumerate()
                .map(|(i, c)| (c.trim().to_ascii_lowercase(), i))
                .collect(),
            file: path.display().to_string(),
        })
    }
    fn required(&self, name: &str) -> anyhow::Result<usize> {
        self.cols.get(name).copied().ok_or_else(|| {
            anyhow::anyhow!(
                "输入文件 {} 缺少必需列 {name} / missing required column '{name}'",
                self.file
            )
        })
    }
    fn optional(&self, name: &str) -> Option<usize> {
        self.cols.get(name).copied()
    }
}

/// A field's text, its line number (header = line 1) and the file, for error messages.
fn field(rec: &csv::StringRecord, i: usize) -> &str {
    rec.get(i).unwrap_or("").trim()
}

fn line_of(rec: &csv::StringRecord) -> u64 {
    rec.position().map(|p| p.line()).unwrap_or(0)
}

fn money(
    h: &Header,
    rec: &csv::StringRecord,
    i: Option<usize>,
    name: &str,
    required: bool,
) -> anyhow::Result<Fen> {
    let text = i.map(|i| field(rec, i)).unwrap_or("");
    if text.is_empty() {
        if required {
            bail!(
                "{} 第 {} 行: {name} 为空 / {name} is empty (line {})",
                h.file,
                line_of(rec),
                line_of(rec)
            );
        }
        return Ok(Fen::ZERO);
    }
    text.parse::<Fen>().map_err(|e| {
        anyhow::anyhow!(
            "{} 第 {} 行: {name} = '{text}' 不是金额（元，最多 2 位小数） / not an amount in yuan: {e}",
            h.file,
            line_of(rec)
        )
    })
}

/// Reads the budget input CSV: `fixmedins_code, cap_in, cap_out, approved_extra, actual_in,
/// actual_out, indicators` (`all`/`some`/`none`; empty = the policy's) and an optional `prepaid`.
pub fn read_budget_csv(path: &Path, policy: &Policy) -> anyhow::Result<Vec<BudgetInput>> {
    let mut r = csv_reader(path)?;
    let h = Header::new(&mut r, path)?;
    let code = h.required("fixmedins_code")?;
    let cap_in = h.required("cap_in")?;
    let actual_in = h.required("actual_in")?;
    let (cap_out, extra, actual_out) = (
        h.optional("cap_out"),
        h.optional("approved_extra"),
        h.optional("actual_out"),
    );
    let (ind, prepaid) = (h.optional("indicators"), h.optional("prepaid"));
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.with_context(|| format!("{} 格式错误 / malformed CSV", h.file))?;
        let c = field(&rec, code);
        if c.is_empty() {
            bail!(
                "{} 第 {} 行: fixmedins_code 为空 / fixmedins_code is empty",
                h.file,
                line_of(&rec)
            );
        }
        let indicators = ind.map(|i| field(&rec, i)).unwrap_or("");
        let assessment = if indicators.is_empty() {
            policy.budget.assessment_of(c)
        } else {
            indicators
                .parse::<Assessment>()
                .map_err(|e| anyhow::anyhow!("{} 第 {} 行: {e}", h.file, line_of(&rec)))?
        };
        let prepaid = match prepaid.map(|i| field(&rec, i)).filter(|t| !t.is_empty()) {
            Some(_) => Some(money(&h, &rec, prepaid, "prepaid", true)?),
            None => None,
        };
        out.push(BudgetInput {
            fixmedins_code: c.into(),
            cap_in: money(&h, &rec, Some(cap_in), "cap_in", true)?,
            cap_out: money(&h, &rec, cap_out, "cap_out", false)?,
            approved_extra: money(&h, &rec, extra, "approved_extra", false)?,
            actual_in: money(&h, &rec, Some(actual_in), "actual_in", true)?,
            actual_out: money(&h, &rec, actual_out, "actual_out", false)?,
            assessment,
            prepaid,
        });
    }
    Ok(out)
}

/// Reads a point-method case CSV: `setl_id, fixmedins_code, hosp_lv, <group column>, total_cost`
/// with the group column `drg_codg` (DRG) or `dip_codg` / `dise_codg` (DIP), and optional
/// `prepaid` or `hifp_pay` (prepaid = prepay_ratio × hifp_pay when `prepaid` is absent).
pub fn read_cases_csv(
    path: &Path,
    scheme: Scheme,
    prepay_ratio: Rate,
) -> anyhow::Result<Vec<Case>> {
    let mut r = csv_reader(path)?;
    let h = Header::new(&mut r, path)?;
    let id = h.required("setl_id")?;
    let inst = h.required("fixmedins_code")?;
    let lv = h.optional("hosp_lv");
    let group = match scheme {
        Scheme::Drg => h.required("drg_codg")?,
        Scheme::Dip => match h.optional("dip_codg").or_else(|| h.optional("dise_codg")) {
            Some(i) => i,
            None => bail!(
                "输入文件 {} 缺少必需列 dip_codg（或 dise_codg） / missing column 'dip_codg'",
                h.file
            ),
        },
    };
    let cost = h.required("total_cost")?;
    let (prepaid, hifp) = (h.optional("prepaid"), h.optional("hifp_pay"));
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    while r
        .read_record(&mut rec)
        .with_context(|| format!("{} 格式错误 / malformed CSV", h.file))?
    {
        let lv_text = lv.map(|i| field(&rec, i)).unwrap_or("");
        let hosp_lv = match lv_text {
            "" => 9,
            t => match t.parse::<u8>() {
                Ok(v @ (1 | 2 | 3 | 9)) => v,
                _ => bail!(
                    "{} 第 {} 行: hosp_lv = '{t}' 应为 1（三级）、2（二级）、3（一级）或 9（未定级） / hosp_lv must be 1, 2, 3 or 9",
                    h.file,
                    line_of(&rec)
                ),
            },
        };
        let pre = if prepaid.is_some_and(|i| !field(&rec, i).is_empty()) {
            money(&h, &rec, prepaid, "prepaid", true)?
        } else if hifp.is_some_and(|i| !field(&rec, i).is_empty()) {
            Fen(prepay_ratio.apply(money(&h, &rec, hifp, "hifp_pay", true)?.0))
        } else {
            Fen::ZERO
        };
        let setl_id = field(&rec, id);
        if setl_id.is_empty() {
            bail!(
                "{} 第 {} 行: setl_id 为空 / setl_id is empty",
                h.file,
                line_of(&rec)
            );
        }
        let g = field(&rec, group);
        if g.is_empty() {
            bail!(
                "{} 第 {} 行: 病例 {setl_id} 没有分组编码 {} / the case has no group code",
                h.file,
                line_of(&rec),
                scheme.group_column()
            );
        }
        out.push(Case {
            setl_id: setl_id.into(),
            fixmedins_code: field(&rec, inst).into(),
            hosp_lv,
            group: g.into(),
            total_cost: money(&h, &rec, Some(cost), "total_cost", true)?,
            prepaid: pre,
        });
    }
    Ok(out)
}

fn csv_writer(path: &Path) -> anyhow::Result<csv::Writer<Box<dyn Write>>> {
    let w: Box<dyn Write> = if path.as_os_str() == "-" {
        Box::new(std::io::BufWriter::new(std::io::stdout()))
    } else {
        if let Some(d) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d)
                .with_context(|| format!("无法创建目录 / cannot create {}", d.display()))?;
        }
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("无法写入输出文件 / cannot write {}", path.display()))?,
        ))
    };
    Ok(csv::Writer::from_writer(w))
}

fn opt(f: Option<Fen>) -> String {
    f.map(|v| v.to_string()).unwrap_or_default()
}

/// Writes the budget settlement CSV (`-` = standard output).
pub fn write_budget_csv(path: &Path, lines: &[BudgetLine]) -> anyhow::Result<()> {
    let mut w = csv_writer(path)?;
    w.write_record(BUDGET_COLUMNS)?;
    for l in lines {
        w.write_record([
            l.fixmedins_code.to_string(),
            l.cap.to_string(),
            l.actual.to_string(),
            l.reward.to_string(),
            l.overage.to_string(),
            l.overage_in.to_string(),
            l.overage_out.to_string(),
            l.institution_bears.to_string(),
            l.fund_pays_overage.to_string(),
            l.payable.to_string(),
            l.cap_in.to_string(),
            l.cap_out.to_string(),
            l.actual_in.to_string(),
            l.actual_out.to_string(),
            l.assessment.code().to_string(),
            l.bears_in.to_string(),
            l.bears_out.to_string(),
            opt(l.prepaid),
            opt(l.balance),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Writes the per-institution point settlement CSV.
pub fn write_institutions_csv(path: &Path, r: &PointSettlement) -> anyhow::Result<()> {
    let mut w = csv_writer(path)?;
    w.write_record(INSTITUTION_COLUMNS)?;
    for i in &r.institutions {
        w.write_record([
            i.fixmedins_code.to_string(),
            i.cases.to_string(),
            i.points.to_string(),
            i.payment.to_string(),
            i.prepaid.to_string(),
            i.balance.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Writes each case's points: `setl_id, <group column>, kind, points, fixmedins_code, hosp_lv, total_cost`.
pub fn write_cases_csv(path: &Path, r: &PointSettlement, scheme: Scheme) -> anyhow::Result<()> {
    let mut w = csv_writer(path)?;
    w.write_record([
        "setl_id",
        scheme.group_column(),
        "kind",
        "points",
        "fixmedins_code",
        "hosp_lv",
        "total_cost",
    ])?;
    for c in &r.case_points {
        w.write_record([
            c.setl_id.as_str(),
            c.group.as_str(),
            c.kind.code(),
            &c.points.to_string(),
            c.fixmedins_code.as_str(),
            &c.hosp_lv.to_string(),
            &c.total_cost.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Writes the point table: one row per group and hospital level with BP_g and f_{g,l}.
pub fn write_groups_csv(path: &Path, r: &PointSettlement, scheme: Scheme) -> anyhow::Result<()> {
    let mut w = csv_writer(path)?;
    w.write_record([
        scheme.group_column(),
        "cases",
        "mean_cost",
        "base_points",
        "small_group",
        "hosp_lv",
        "level_cases",
        "level_mean_cost",
        "factor",
        "group_points",
    ])?;
    for g in &r.groups {
        for f in &g.factors {
            w.write_record([
                g.group.to_string(),
                g.cases.to_string(),
                g.mean_cost.to_string(),
                g.base_points.to_string(),
                (g.small_group as u8).to_string(),
                f.hosp_lv.to_string(),
                f.cases.to_string(),
                f.mean_cost.to_string(),
                format!("{:.4}", FactorText(f.factor)),
                g.points.to_string(),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// A factor always shown with 4 decimals (`1.5500`).
struct FactorText(Rate);
impl std::fmt::Display for FactorText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", crate::points::Points(self.0 .0))
    }
}

/// Writes early warnings: `fixmedins_code, month, cap, cumulative, used, pace_limit, kind, message`.
pub fn write_warnings_csv(path: &Path, warnings: &[Warning]) -> anyhow::Result<()> {
    let mut w = csv_writer(path)?;
    w.write_record([
        "fixmedins_code",
        "month",
        "cap",
        "cumulative",
        "used",
        "pace_limit",
        "kind",
        "message",
    ])?;
    for x in warnings {
        w.write_record([
            x.fixmedins_code.to_string(),
            x.month.to_string(),
            x.cap.to_string(),
            x.cumulative.to_string(),
            x.used
                .map(|u| FactorText(u).to_string())
                .unwrap_or_default(),
            FactorText(x.pace_limit).to_string(),
            x.kind.code().to_string(),
            x.message.clone(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Writes monthly prepayments: `fixmedins_code, month, cap, quota, spending, prepayment, cumulative`.
pub fn write_prepayments_csv(
    path: &Path,
    list: &[crate::service::Prepayment],
) -> anyhow::Result<()> {
    let mut w = csv_writer(path)?;
    w.write_record([
        "fixmedins_code",
        "month",
        "cap",
        "quota",
        "spending",
        "prepayment",
        "cumulative",
    ])?;
    for p in list {
        w.write_record([
            p.fixmedins_code.to_string(),
            p.month.to_string(),
            p.cap.to_string(),
            p.quota.to_string(),
            p.spending.to_string(),
            p.prepayment.to_string(),
            p.cumulative.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

// ---- Excel ----------------------------------------------------------------------------------

/// The number a sheet cell holds, from the exact decimal text (the only place a float appears).
fn cell_number(text: &str) -> f64 {
    text.parse().unwrap_or(0.0)
}

struct Formats {
    title: Format,
    header: Format,
    text: Format,
    money: Format,
    points: Format,
    int: Format,
    total_text: Format,
    total_money: Format,
    total_points: Format,
    total_int: Format,
    note: Format,
}

fn formats() -> Formats {
    let base = Format::new().set_border(FormatBorder::Thin);
    let total = base.clone().set_bold().set_background_color(0xF2F2F2);
    Formats {
        title: Format::new()
            .set_bold()
            .set_font_size(16)
            .set_align(FormatAlign::Center),
        header: base
            .clone()
            .set_bold()
            .set_align(FormatAlign::Center)
            .set_text_wrap()
            .set_background_color(0xDDEBF7),
        text: base.clone(),
        money: base.clone().set_num_format("#,##0.00"),
        points: base.clone().set_num_format("#,##0.0000"),
        int: base.clone().set_num_format("#,##0"),
        total_text: total.clone(),
        total_money: total.clone().set_num_format("#,##0.00"),
        total_points: total.clone().set_num_format("#,##0.0000"),
        total_int: total.set_num_format("#,##0"),
        note: Format::new().set_italic(),
    }
}

#[derive(Clone, Copy)]
enum Cell<'a> {
    Text(&'a str),
    Money(Fen),
    Points(crate::points::Points),
    Int(u64),
}

fn write_row(
    ws: &mut Worksheet,
    row: u32,
    cells: &[Cell],
    f: &Formats,
    total: bool,
) -> anyhow::Result<()> {
    for (c, cell) in cells.iter().enumerate() {
        let col = c as u16;
        match *cell {
            Cell::Text(t) => {
                ws.write_string_with_format(
                    row,
                    col,
                    t,
                    if total { &f.total_text } else { &f.text },
                )?;
            }
            Cell::Money(m) => {
                let fmt = if total { &f.total_money } else { &f.money };
                ws.write_number_with_format(row, col, cell_number(&m.to_string()), fmt)?;
            }
            Cell::Points(p) => {
                let fmt = if total { &f.total_points } else { &f.points };
                ws.write_number_with_format(row, col, cell_number(&p.to_string()), fmt)?;
            }
            Cell::Int(n) => {
                let fmt = if total { &f.total_int } else { &f.int };
                ws.write_number_with_format(row, col, cell_number(&n.to_string()), fmt)?;
            }
        }
    }
    Ok(())
}

fn headers(ws: &mut Worksheet, row: u32, names: &[&str], f: &Formats) -> anyhow::Result<()> {
    for (c, n) in names.iter().enumerate() {
        ws.write_string_with_format(row, c as u16, *n, &f.header)?;
        ws.set_column_width(c as u16, if c < 2 { 18 } else { 15 })?;
    }
    ws.set_row_height(row, 32)?;
    ws.set_freeze_panes(row + 1, 1)?;
    Ok(())
}

/// Names of institutions for the sheets (code → name); missing names are left empty.
pub type Names = HashMap<Code, String>;

/// Writes the year-end total budget settlement sheet (年度总额控制结算表).
pub fn write_budget_xlsx(
    path: &Path,
    year: i32,
    lines: &[BudgetLine],
    t: &BudgetTotals,
    names: &Names,
) -> anyhow::Result<()> {
    let f = formats();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("总额结算")?;
    let cols = [
        "机构编码",
        "机构名称",
        "市内总额\n(含新增)",
        "市外转诊总额",
        "年度总额",
        "市内基金支出",
        "市外转诊支出",
        "基金支出合计",
        "考评结果",
        "节约奖励",
        "超支额",
        "市内超支",
        "市外超支",
        "机构承担",
        "基金承担超支",
        "年度应拨付",
        "月度已预付",
        "年终结算差额",
    ];
    let title = format!("{year} 年度定点医疗机构医保基金总额控制年终结算表");
    ws.merge_range(0, 0, 0, cols.len() as u16 - 1, &title, &f.title)?;
    ws.write_string_with_format(1, 0, "单位：元", &f.note)?;
    headers(ws, 2, &cols, &f)?;
    let mut row = 3;
    for l in lines {
        let name = names
            .get(&l.fixmedins_code)
            .map(String::as_str)
            .unwrap_or("");
        write_row(
            ws,
            row,
            &[
                Cell::Text(&l.fixmedins_code),
                Cell::Text(name),
                Cell::Money(l.cap_in),
                Cell::Money(l.cap_out),
                Cell::Money(l.cap),
                Cell::Money(l.actual_in),
                Cell::Money(l.actual_out),
                Cell::Money(l.actual),
                Cell::Text(l.assessment.zh()),
                Cell::Money(l.reward),
                Cell::Money(l.overage),
                Cell::Money(l.overage_in),
                Cell::Money(l.overage_out),
                Cell::Money(l.institution_bears),
                Cell::Money(l.fund_pays_overage),
                Cell::Money(l.payable),
                l.prepaid.map(Cell::Money).unwrap_or(Cell::Text("")),
                l.balance.map(Cell::Money).unwrap_or(Cell::Text("")),
            ],
            &f,
            false,
        )?;
        row += 1;
    }
    let cap_in: Fen = lines.iter().map(|l| l.cap_in).sum();
    let cap_out: Fen = lines.iter().map(|l| l.cap_out).sum();
    let a_in: Fen = lines.iter().map(|l| l.actual_in).sum();
    let a_out: Fen = lines.iter().map(|l| l.actual_out).sum();
    let count = format!("{} 家", t.institutions);
    let any_prepaid = lines.iter().any(|l| l.prepaid.is_some());
    write_row(
        ws,
        row,
        &[
            Cell::Text("合计"),
            Cell::Text(&count),
            Cell::Money(cap_in),
            Cell::Money(cap_out),
            Cell::Money(t.cap),
            Cell::Money(a_in),
            Cell::Money(a_out),
            Cell::Money(t.actual),
            Cell::Text(""),
            Cell::Money(t.reward),
            Cell::Money(t.overage),
            Cell::Money(t.overage_in),
            Cell::Money(t.overage_out),
            Cell::Money(t.institution_bears),
            Cell::Money(t.fund_pays_overage),
            Cell::Money(t.payable),
            if any_prepaid {
                Cell::Money(t.prepaid)
            } else {
                Cell::Text("")
            },
            if any_prepaid {
                Cell::Money(t.balance)
            } else {
                Cell::Text("")
            },
        ],
        &f,
        true,
    )?;
    ws.write_string_with_format(
        row + 2,
        0,
        "说明：支出在总额内的按差额 30% 奖励；超支部分按考评结果分担（全部达标由基金弥补；部分达标市内超支机构承担 30%、市外转诊超支承担 10%；均未达标全部由机构承担）。比例以结算政策参数为准。",
        &f.note,
    )?;
    wb.save(path)
        .with_context(|| format!("无法写入 Excel 文件 / cannot write {}", path.display()))?;
    Ok(())
}

/// Writes the DRG/DIP settlement workbook: institutions with totals, the point table, parameters.
pub fn write_points_xlsx(
    path: &Path,
    scheme: Scheme,
    year: i32,
    r: &PointSettlement,
    names: &Names,
    policy: &crate::policy::PointPolicy,
) -> anyhow::Result<()> {
    let f = formats();
    let pz = scheme.points_zh();
    let mut wb = Workbook::new();
    {
        let ws = wb.add_worksheet();
        ws.set_name("机构结算")?;
        let c_points = format!("总{pz}");
        let cols = [
            "机构编码",
            "机构名称",
            "病例数",
            c_points.as_str(),
            "应拨付金额",
            "已预付",
            "结算差额",
        ];
        let title = format!("{year} 年度 {} 付费年终清算表", scheme.zh());
        ws.merge_range(0, 0, 0, cols.len() as u16 - 1, &title, &f.title)?;
        let note = format!(
            "{pz}单价（点值）：{} 元/{}；年度基金预算 {} 元；单位：元",
            r.point_value,
            if scheme == Scheme::Drg { "点" } else { "分" },
            r.budget
        );
        ws.write_string_with_format(1, 0, &note, &f.note)?;
        headers(ws, 2, &cols, &f)?;
        let mut row = 3;
        for i in &r.institutions {
            let name = names
                .get(&i.fixmedins_code)
                .map(String::as_str)
                .unwrap_or("");
            write_row(
                ws,
                row,
                &[
                    Cell::Text(&i.fixmedins_code),
                    Cell::Text(name),
                    Cell::Int(i.cases),
                    Cell::Points(i.points),
                    Cell::Money(i.payment),
                    Cell::Money(i.prepaid),
                    Cell::Money(i.balance),
                ],
                &f,
                false,
            )?;
            row += 1;
        }
        let prepaid: Fen = r.institutions.iter().map(|i| i.prepaid).sum();
        let balance: Fen = r.institutions.iter().map(|i| i.balance).sum();
        let count = format!("{} 家", r.institutions.len());
        write_row(
            ws,
            row,
            &[
                Cell::Text("合计"),
                Cell::Text(&count),
                Cell::Int(r.cases),
                Cell::Points(r.total_points),
                Cell::Money(r.paid),
                Cell::Money(prepaid),
                Cell::Money(balance),
            ],
            &f,
            true,
        )?;
        let resid = format!(
            "预算与拨付合计的尾差（点值与金额四舍五入所致）：{} 元",
            r.residual
        );
        ws.write_string_with_format(row + 2, 0, &resid, &f.note)?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name(format!("病组{pz}表"))?;
        let c_base = format!("基准{pz}");
        let cols = [
            if scheme == Scheme::Drg {
                "DRG 编码"
            } else {
                "病种编码"
            },
            "病例数",
            "例均费用",
            c_base.as_str(),
            "特病单议",
            "医院级别",
            "该级别病例数",
            "该级别例均费用",
            "级别调整系数",
        ];
        headers(ws, 0, &cols, &f)?;
        let mut row = 1;
        for g in &r.groups {
            for l in &g.factors {
                let lv = level_zh(l.hosp_lv);
                write_row(
                    ws,
                    row,
                    &[
                        Cell::Text(&g.group),
                        Cell::Int(g.cases),
                        Cell::Money(g.mean_cost),
                        Cell::Points(g.base_points),
                        Cell::Text(if g.small_group { "是" } else { "否" }),
                        Cell::Text(lv),
                        Cell::Int(l.cases),
                        Cell::Money(l.mean_cost),
                        Cell::Points(crate::points::Points(l.factor.0)),
                    ],
                    &f,
                    false,
                )?;
                row += 1;
            }
        }
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name("结算参数")?;
        headers(ws, 0, &["参数", "取值"], &f)?;
        let rows: Vec<(String, String)> = vec![
            ("年度".into(), year.to_string()),
            ("年度基金预算（元）".into(), r.budget.to_string()),
            ("病例数".into(), r.cases.to_string()),
            ("总费用（元）".into(), r.total_cost.to_string()),
            ("全部病例例均费用 M（元）".into(), r.mean_cost.to_string()),
            (format!("总{pz}"), r.total_points.to_string()),
            (format!("{pz}单价 V（元）"), r.point_value.to_string()),
            ("拨付合计（元）".into(), r.paid.to_string()),
            ("尾差（元）".into(), r.residual.to_string()),
            ("基准刻度".into(), policy.points_scale.to_string()),
            (
                "高倍率 k（三级）".into(),
                policy.high_k_tertiary.to_string(),
            ),
            ("高倍率 k（其他）".into(), policy.high_k_other.to_string()),
            ("低倍率界限".into(), policy.low_ratio.to_string()),
            (
                "特病单议病例数下限".into(),
                policy.small_group_min_cases.to_string(),
            ),
        ];
        for (i, (k, v)) in rows.iter().enumerate() {
            ws.write_string_with_format(i as u32 + 1, 0, k, &f.text)?;
            ws.write_string_with_format(i as u32 + 1, 1, v, &f.text)?;
        }
        ws.set_column_width(0, 28)?;
        ws.set_column_width(1, 22)?;
    }
    wb.save(path)
        .with_context(|| format!("无法写入 Excel 文件 / cannot write {}", path.display()))?;
    Ok(())
}

/// Chinese name of a hospital level.
pub fn level_zh(lv: u8) -> &'static str {
    match lv {
        1 => "三级",
        2 => "二级",
        3 => "一级",
        _ => "未定级",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_budget_csv_with_bom_defaults_and_policy_assessment() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "b.csv",
            "\u{feff}fixmedins_code,cap_in,cap_out,approved_extra,actual_in,actual_out,indicators\r\n\
             H33060400001,1000000,200000,,1050000,250000,some\r\n\
             H33060400002,500000,,,400000,,\r\n",
        );
        let mut pol = Policy::default();
        pol.budget
            .assessment
            .insert("H33060400002".into(), Assessment::None);
        let v = read_budget_csv(&p, &pol).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].assessment, Assessment::Some);
        assert_eq!(v[0].cap_out, Fen::from_yuan(200_000));
        assert_eq!(v[1].cap_out, Fen::ZERO);
        assert_eq!(v[1].assessment, Assessment::None);
        assert_eq!(v[1].prepaid, None);
    }

    #[test]
    fn budget_csv_errors_name_the_line_and_column() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "b.csv",
            "fixmedins_code,cap_in,actual_in,indicators\nH1,1.234,5,all\n",
        );
        let e = read_budget_csv(&p, &Policy::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("第 2 行") && e.contains("cap_in"), "{e}");
        let p = write(
            d.path(),
            "c.csv",
            "fixmedins_code,cap_in,actual_in,indicators\nH1,1,5,most\n",
        );
        let e = format!("{:#}", read_budget_csv(&p, &Policy::default()).unwrap_err());
        assert!(e.contains("most"), "{e}");
        let p = write(d.path(), "d.csv", "fixmedins_code,cap_in\nH1,1\n");
        let e = read_budget_csv(&p, &Policy::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("actual_in"), "{e}");
    }

    #[test]
    fn reads_cases_csv_with_prepaid_rules() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "c.csv",
            "setl_id,fixmedins_code,hosp_lv,drg_codg,total_cost,hifp_pay,prepaid\n\
             S1,H1,1,GZ13,100.50,80,\n\
             S2,H1,,GZ13,200,80,10\n",
        );
        let v = read_cases_csv(&p, Scheme::Drg, Rate::percent(85)).unwrap();
        assert_eq!(v[0].prepaid, Fen::from_yuan(68));
        assert_eq!(v[1].prepaid, Fen::from_yuan(10));
        assert_eq!(v[1].hosp_lv, 9);
        assert_eq!(v[0].total_cost, "100.50".parse().unwrap());
        // DIP reads dip_codg, or dise_codg.
        let p = write(
            d.path(),
            "dip.csv",
            "setl_id,fixmedins_code,hosp_lv,dise_codg,total_cost\nS1,H1,2,K80.2,1\n",
        );
        assert_eq!(
            read_cases_csv(&p, Scheme::Dip, Rate::ZERO).unwrap()[0].group,
            "K80.2"
        );
        assert!(read_cases_csv(&p, Scheme::Drg, Rate::ZERO).is_err());
        let p = write(
            d.path(),
            "bad.csv",
            "setl_id,fixmedins_code,hosp_lv,drg_codg,total_cost\nS1,H1,4,G,1\n",
        );
        assert!(read_cases_csv(&p, Scheme::Drg, Rate::ZERO)
            .unwrap_err()
            .to_string()
            .contains("hosp_lv"));
        let p = write(
            d.path(),
            "nog.csv",
            "setl_id,fixmedins_code,hosp_lv,drg_codg,total_cost\nS1,H1,1,,1\n",
        );
        assert!(read_cases_csv(&p, Scheme::Drg, Rate::ZERO)
            .unwrap_err()
            .to_string()
            .contains("分组"));
    }
}
