//! Import of the national knowledge-point batches (xlsx, read with calamine).
//!
//! The reading (I/O) is [`read_workbook`]; the mapping of rows to knowledge points is the pure
//! [`map_workbook`], driven by each sheet's header row — never by column positions or file
//! names — so a batch whose columns move still imports, and a sheet whose header is not
//! recognised is reported instead of guessed.

use crate::model::*;
use crate::policy::KbPolicy;
use anyhow::Context;
use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDateTime;
use medfund_contract::codes::check_med_list_codg;
use medfund_contract::{Code, Gender, MedTypeLimit, Qty};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// One sheet as text: `(1-based row number, cells)`; cells are trimmed, empty when blank.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sheet {
    /// Sheet name.
    pub name: String,
    /// Rows with their 1-based spreadsheet row numbers.
    pub rows: Vec<(u32, Vec<String>)>,
}

/// Imports the given files, in the order given, into one knowledge base stamped with the
/// current local time.
pub fn import_files(paths: &[PathBuf], policy: &KbPolicy) -> anyhow::Result<KnowledgeBase> {
    use chrono::Timelike;
    let now = chrono::Local::now().naive_local();
    import_files_at(paths, policy, now.with_nanosecond(0).unwrap_or(now))
}

/// Imports every `*.xlsx` of a directory (sorted by file name; Excel lock files `~$…` skipped).
pub fn import_dir(dir: &Path, policy: &KbPolicy) -> anyhow::Result<KnowledgeBase> {
    import_files(&xlsx_in(dir)?, policy)
}

/// The `*.xlsx` files of a directory, sorted by name.
pub fn xlsx_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("无法读取目录 / cannot read directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("xlsx"))
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("~$"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        anyhow::bail!(
            "目录 {} 中没有 .xlsx 文件 / no .xlsx files in the directory",
            dir.display()
        );
    }
    Ok(files)
}

/// [`import_files`] with an explicit import time (tests, reproducible versions).
pub fn import_files_at(
    paths: &[PathBuf],
    policy: &KbPolicy,
    at: NaiveDateTime,
) -> anyhow::Result<KnowledgeBase> {
    if paths.is_empty() {
        anyhow::bail!("没有要导入的文件 / no files to import: give FILE.xlsx… or --dir kb/nhsa");
    }
    let mut kb = KnowledgeBase {
        imported_at: Some(at),
        ..Default::default()
    };
    let mut seen_ids = HashSet::new();
    for path in paths {
        let bytes = std::fs::read(path)
            .with_context(|| format!("无法读取 / cannot read {}", path.display()))?;
        let sheets = read_workbook(&bytes).with_context(|| {
            format!(
                "{} 不是可读取的 xlsx 文件 / is not a readable xlsx workbook",
                path.display()
            )
        })?;
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (mut info, points) = map_workbook(&file, &sheets, policy);
        info.sha256 = hex(&Sha256::digest(&bytes));
        info.imported_at = Some(at);
        for p in points {
            if !seen_ids.insert(p.id.clone()) {
                anyhow::bail!(
                    "知识点编号重复 / duplicate knowledge point id {} — the same file was given twice?",
                    p.id
                );
            }
            kb.points.push(p);
        }
        kb.sources.push(info);
    }
    let mut h = Sha256::new();
    for s in &kb.sources {
        h.update(s.sha256.as_bytes());
    }
    let digest = hex(&h.finalize());
    kb.version = format!("kb-{}-{}", at.format("%Y%m%dT%H%M%S"), &digest[..8]);
    Ok(kb)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Reads every sheet of an xlsx workbook as trimmed text.
pub fn read_workbook(bytes: &[u8]) -> anyhow::Result<Vec<Sheet>> {
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec()))?;
    let mut out = Vec::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name)?;
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let mut rows = Vec::new();
        for (i, row) in range.rows().enumerate() {
            // Cells left of the range start are blank; keep absolute column positions.
            let mut cells = vec![String::new(); c0 as usize];
            cells.extend(row.iter().map(cell_text));
            rows.push((r0 + i as u32 + 1, cells));
        }
        out.push(Sheet { name, rows });
    }
    Ok(out)
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        other => other.to_string().trim().to_string(),
    }
}

/// The layout of a sheet, recognised from its header row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// Drug Sheet1: generic name + limit type + limit value.
    DrugLimits,
    /// Drug Sheet2: generic name + national drug code.
    DrugCodes,
    /// Item sheet with a limit type column: item code + limit type + limit value.
    ItemLimits,
    /// 重复收费: main code + secondary code + period.
    Pairs,
    /// 限定频次: item code + quantity + unit.
    Frequency,
    /// 周期超频次: item code + max times + cycle days.
    Cycle,
    /// Item code + remark (限年龄 / 限支付疗程 of batch 8): the remark carries the limit.
    Remarks,
}

const CODE_HEADERS: &[&str] = &[
    "国标代码",
    "药品代码",
    "项目编码",
    "项目代码",
    "医保编码",
    "国家编码",
];
const VALUE_HEADERS: &[&str] = &["限定对象", "限定值域", "限定性别", "限定值"];
const NAME_HEADERS: &[&str] = &["药品通用名", "项目名称", "通用名", "药品名称"];
const NOTE_HEADERS: &[&str] = &["药品说明", "项目说明", "备注", "说明"];

struct Header {
    row: u32,
    idx: usize,
    cols: HashMap<String, usize>,
}

impl Header {
    fn find(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.cols.get(*n).copied())
    }
}

fn norm_header(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Finds the header row: the first of the first ten rows naming a code or a generic-name column.
fn find_header(sheet: &Sheet) -> Option<Header> {
    for (idx, (row, cells)) in sheet.rows.iter().enumerate().take(10) {
        let cols: HashMap<String, usize> = cells
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.is_empty())
            .map(|(i, c)| (norm_header(c), i))
            .collect();
        let named = |names: &[&str]| names.iter().any(|n| cols.contains_key(*n));
        if named(CODE_HEADERS) || named(&["药品通用名", "主项编码"]) {
            return Some(Header {
                row: *row,
                idx,
                cols,
            });
        }
    }
    None
}

fn layout_of(h: &Header) -> Option<Layout> {
    let has = |n: &str| h.cols.contains_key(n);
    let code = h.find(CODE_HEADERS).is_some();
    let value = h.find(VALUE_HEADERS).is_some();
    if has("主项编码") && has("从项编码") {
        Some(Layout::Pairs)
    } else if has("频次上限") && has("疗程周期") && code {
        Some(Layout::Cycle)
    } else if has("限制数量") && code {
        Some(Layout::Frequency)
    } else if has("药品通用名") && has("限定类型") && value && !code {
        Some(Layout::DrugLimits)
    } else if has("药品通用名") && code {
        Some(Layout::DrugCodes)
    } else if code && has("限定类型") && value {
        Some(Layout::ItemLimits)
    } else if code && h.find(NOTE_HEADERS).is_some() {
        Some(Layout::Remarks)
    } else {
        None
    }
}

/// Batch label from the file name: `b1-drug-age.xlsx` → `b1`, `b8-3-item-course.xlsx` → `b8-3`,
/// `【第八批-3】项目规则库….xlsx` → `b8-3`; otherwise the file stem.
pub fn batch_label(file: &str) -> String {
    let stem = file
        .strip_suffix(".xlsx")
        .or_else(|| file.strip_suffix(".XLSX"))
        .unwrap_or(file);
    let b = stem.as_bytes();
    if b.first() == Some(&b'b') && b.get(1).is_some_and(|c| c.is_ascii_digit()) {
        let mut end = 1;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        if end + 1 < b.len() && b[end] == b'-' && b[end + 1].is_ascii_digit() {
            let mut e2 = end + 1;
            while e2 < b.len() && b[e2].is_ascii_digit() {
                e2 += 1;
            }
            // `b8-3-item…` carries a part number; `b1-drug…` does not.
            return stem[..e2].to_string();
        }
        return stem[..end].to_string();
    }
    if let Some(pos) = stem.find('第') {
        let rest: Vec<char> = stem[pos + '第'.len_utf8()..].chars().collect();
        let digits = |c: char| "〇一二三四五六七八九十".find(c).map(|i| i / 3);
        let mut n = 0usize;
        let mut i = 0;
        while i < rest.len() {
            match digits(rest[i]) {
                Some(10) => n = if n == 0 { 10 } else { n * 10 },
                Some(d) => {
                    n = if n >= 10 && n.is_multiple_of(10) {
                        n + d
                    } else {
                        n * 10 + d
                    }
                }
                None => break,
            }
            i += 1;
        }
        if n > 0 && rest.get(i) == Some(&'批') {
            let part: String = rest[i + 1..]
                .iter()
                .skip_while(|c| **c == '-' || **c == '－')
                .take_while(|c| c.is_ascii_digit())
                .collect();
            let dashed = rest.get(i + 1).is_some_and(|c| *c == '-' || *c == '－');
            return if dashed && !part.is_empty() {
                format!("b{n}-{part}")
            } else {
                format!("b{n}")
            };
        }
    }
    stem.to_string()
}

/// Maps the sheets of one workbook to knowledge points. `file` is the file name (for ids and
/// the batch label). Returns the per-file report (without hash and time) and the points.
pub fn map_workbook(
    file: &str,
    sheets: &[Sheet],
    policy: &KbPolicy,
) -> (SourceInfo, Vec<KnowledgePoint>) {
    let stem = file
        .rsplit_once('.')
        .map(|(s, _)| s)
        .unwrap_or(file)
        .to_string();
    let mut m = Mapper {
        stem,
        batch: batch_label(file),
        policy,
        points: Vec::new(),
        unmapped: Vec::new(),
        notes: Vec::new(),
        rows: 0,
        titles: BTreeSet::new(),
    };
    let mut drug_limits: Option<(&Sheet, Header)> = None;
    let mut drug_codes: Vec<(&Sheet, Header)> = Vec::new();
    for sheet in sheets {
        let Some(h) = find_header(sheet) else {
            if sheet
                .rows
                .iter()
                .any(|(_, c)| c.iter().any(|x| !x.is_empty()))
            {
                let row = sheet.rows.first().map(|r| r.0).unwrap_or(1);
                m.unmapped(
                    sheet,
                    row,
                    "未找到表头行（应含 国标代码/项目编码/项目代码/药品通用名 等列）".into(),
                );
            }
            continue;
        };
        m.rows += sheet
            .rows
            .iter()
            .skip(h.idx + 1)
            .filter(|(_, c)| !is_blank(c))
            .count() as u32;
        match layout_of(&h) {
            Some(Layout::DrugLimits) => {
                if drug_limits.is_some() {
                    m.unmapped(
                        sheet,
                        h.row,
                        "同一文件中有两个药品限定表，只导入第一个".into(),
                    );
                } else {
                    drug_limits = Some((sheet, h));
                }
            }
            Some(Layout::DrugCodes) => drug_codes.push((sheet, h)),
            Some(Layout::ItemLimits) => m.item_limits(sheet, &h),
            Some(Layout::Pairs) => m.pairs(sheet, &h),
            Some(Layout::Frequency) => m.frequency(sheet, &h),
            Some(Layout::Cycle) => m.cycle(sheet, &h),
            Some(Layout::Remarks) => m.remarks(sheet, &h),
            None => {
                let cols: Vec<&str> = {
                    let mut v: Vec<(&String, &usize)> = h.cols.iter().collect();
                    v.sort_by_key(|(_, i)| **i);
                    v.into_iter().map(|(k, _)| k.as_str()).collect()
                };
                m.unmapped(
                    sheet,
                    h.row,
                    format!("无法识别的表头 / unrecognised header: {}", cols.join("、")),
                );
            }
        }
    }
    match (drug_limits, drug_codes.is_empty()) {
        (Some((s, h)), _) => m.drugs(s, &h, &drug_codes),
        (None, false) => {
            for (s, h) in &drug_codes {
                m.unmapped(
                    s,
                    h.row,
                    "只有药品代码表，没有药品限定表（Sheet1），无法确定限定".into(),
                );
            }
        }
        (None, true) => {}
    }
    let codes: HashSet<&str> = m.points.iter().map(|p| p.med_list_codg.as_str()).collect();
    let mut templates: Vec<String> = Vec::new();
    for p in &m.points {
        let t = p.limit.template();
        if !templates.iter().any(|x| x == t) {
            templates.push(t.to_string());
        }
    }
    let info = SourceInfo {
        file: file.to_string(),
        batch: m.batch.clone(),
        title: m.titles.iter().cloned().collect::<Vec<_>>().join("；"),
        templates,
        sha256: String::new(),
        imported_at: None,
        sheets: sheets.iter().map(|s| s.name.clone()).collect(),
        rows: m.rows,
        codes: codes.len() as u32,
        points: m.points.len() as u32,
        unmapped: m.unmapped,
        notes: m.notes,
    };
    (info, m.points)
}

fn is_blank(cells: &[String]) -> bool {
    cells.iter().all(|c| c.is_empty())
}

fn cell(cells: &[String], i: Option<usize>) -> &str {
    i.and_then(|i| cells.get(i))
        .map(String::as_str)
        .unwrap_or("")
}

/// Canonical form of a generic name for matching Sheet2 to Sheet1 (whitespace and full-width
/// brackets vary between the sheets of some batches).
fn name_key(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c,
        })
        .collect()
}

/// Normalises a code cell; item codes that lost their leading zeros to a numeric cell are padded
/// back to 15 digits.
fn norm_code(raw: &str) -> Result<Code, String> {
    let s: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if s.is_empty() {
        return Err("编码为空".into());
    }
    let s = if s.len() < 15 && s.len() >= 10 && s.bytes().all(|b| b.is_ascii_digit()) {
        format!("{s:0>15}")
    } else {
        s
    };
    check_med_list_codg(&s)?;
    Ok(Code::from(s))
}

/// Why a row without a code is not a knowledge point.
fn no_code_reason(cells: &[String]) -> String {
    let first = cells
        .iter()
        .find(|c| !c.is_empty())
        .map(String::as_str)
        .unwrap_or("");
    if first.starts_with("合计") || first.starts_with("总计") {
        "合计行，不是知识点 / total row".into()
    } else if first.starts_with("备注") || first.starts_with("注") || first.starts_with("说明")
    {
        let short: String = first.chars().take(30).collect();
        format!("说明行，不是知识点 / note row: {short}…")
    } else {
        "缺少编码 / no code in this row".into()
    }
}

struct Mapper<'p> {
    stem: String,
    batch: String,
    policy: &'p KbPolicy,
    points: Vec<KnowledgePoint>,
    unmapped: Vec<Unmapped>,
    notes: Vec<String>,
    rows: u32,
    titles: BTreeSet<String>,
}

impl Mapper<'_> {
    fn unmapped(&mut self, sheet: &Sheet, row: u32, reason: String) {
        self.unmapped.push(Unmapped {
            sheet: sheet.name.clone(),
            row,
            reason,
        });
    }

    /// The rule name of a sheet titled `“医疗服务项目限定频次”规则对应知识点明细` is the quoted part.
    fn title_from_sheet(&mut self, sheet: &Sheet) {
        let n = &sheet.name;
        let quoted = n.find('“').and_then(|a| {
            let rest = &n[a + '“'.len_utf8()..];
            rest.find('”').map(|b| rest[..b].to_string())
        });
        let t = quoted.unwrap_or_else(|| {
            n.chars()
                .filter(|c| !matches!(c, '“' | '”' | '"'))
                .collect()
        });
        self.titles.insert(t);
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        sheet: &Sheet,
        row: u32,
        code: Code,
        name: &str,
        limit: Limit,
        limit_row: Option<u32>,
        note: &str,
        id_suffix: Option<&str>,
    ) {
        let id = match id_suffix {
            Some(s) => format!("{}:row{row}:{code}>{s}", self.stem),
            None => format!("{}:row{row}:{code}", self.stem),
        };
        self.points.push(KnowledgePoint {
            id,
            batch: self.batch.clone(),
            med_list_codg: code,
            name: name.to_string(),
            limit,
            source_sheet: sheet.name.clone(),
            source_row: row,
            limit_row,
            note: note.to_string(),
        });
    }

    /// Rows after the header, skipping blank rows.
    fn data<'s>(sheet: &'s Sheet, h: &Header) -> impl Iterator<Item = (u32, &'s [String])> + 's {
        sheet
            .rows
            .iter()
            .skip(h.idx + 1)
            .filter(|(_, c)| !is_blank(c))
            .map(|(r, c)| (*r, c.as_slice()))
    }

    fn drugs(&mut self, limits: &Sheet, lh: &Header, code_sheets: &[(&Sheet, Header)]) {
        let name_col = lh.find(&["药品通用名"]);
        let type_col = lh.find(&["限定类型"]);
        let value_col = lh.find(VALUE_HEADERS);
        let note_col = lh.find(NOTE_HEADERS);
        let mut by_name: HashMap<String, DrugLimitRow> = HashMap::new();
        let mut order = Vec::new();
        for (row, cells) in Self::data(limits, lh) {
            let name = cell(cells, name_col);
            let ltype = cell(cells, type_col);
            let value = cell(cells, value_col);
            let note = cell(cells, note_col);
            if name.is_empty() {
                let reason = no_code_reason(cells);
                self.unmapped(limits, row, reason);
                continue;
            }
            if !ltype.is_empty() {
                self.titles.insert(ltype.to_string());
            }
            let key = name_key(name);
            if let Some(first) = by_name.get(&key) {
                let reason = format!(
                    "药品通用名 {name} 重复（首见第{}行），本行未导入",
                    first.row
                );
                self.unmapped(limits, row, reason);
                continue;
            }
            let limit = self.map_limit(ltype, value, note, true, name);
            if let Err(e) = &limit {
                self.unmapped(limits, row, format!("{name}：{e}"));
            }
            let d = DrugLimitRow {
                row,
                limit,
                name: name.into(),
                note: note.into(),
                ltype: ltype.into(),
            };
            by_name.insert(key.clone(), d);
            order.push(key);
        }
        let mut used: HashSet<String> = HashSet::new();
        for (sheet, h) in code_sheets {
            let name_col = h.find(&["药品通用名"]);
            let code_col = h.find(CODE_HEADERS);
            let type_col = h.find(&["限定类型"]);
            let mut seen: HashMap<Code, u32> = HashMap::new();
            for (row, cells) in Self::data(sheet, h) {
                let name = cell(cells, name_col);
                let raw = cell(cells, code_col);
                if raw.is_empty() {
                    let reason = no_code_reason(cells);
                    self.unmapped(sheet, row, reason);
                    continue;
                }
                let code = match norm_code(raw) {
                    Ok(c) if c.starts_with('X') || c.starts_with('Z') => c,
                    Ok(c) => {
                        self.unmapped(sheet, row, format!("{c} 不是药品编码（应以 X 或 Z 开头）"));
                        continue;
                    }
                    Err(e) => {
                        self.unmapped(sheet, row, e);
                        continue;
                    }
                };
                let key = name_key(name);
                let Some(d) = by_name.get(&key) else {
                    self.unmapped(
                        sheet,
                        row,
                        format!("药品通用名 {name} 在限定表中不存在，无法确定限定"),
                    );
                    continue;
                };
                used.insert(key.clone());
                let lrow = d.row;
                let limit = match &d.limit {
                    Ok(l) => l.clone(),
                    Err(_) => {
                        self.unmapped(
                            sheet,
                            row,
                            format!("{name} 的限定无法映射（见限定表第{lrow}行）"),
                        );
                        continue;
                    }
                };
                if let Some(first) = seen.get(&code) {
                    self.unmapped(
                        sheet,
                        row,
                        format!("药品代码 {code} 重复（首见第{first}行）"),
                    );
                    continue;
                }
                seen.insert(code.clone(), row);
                let t2 = cell(cells, type_col);
                let (dname, note) = (d.name.clone(), d.note.clone());
                if !t2.is_empty() && t2 != d.ltype {
                    self.notes.push(format!(
                        "{}第{row}行 限定类型 {t2} 与限定表第{lrow}行 {} 不一致，按限定表导入",
                        sheet.name, d.ltype
                    ));
                }
                self.push(sheet, row, code, &dname, limit, Some(lrow), &note, None);
            }
        }
        for key in order {
            if !used.contains(&key) {
                let d = &by_name[&key];
                if d.limit.is_ok() {
                    let reason = format!("{} 在药品代码表中没有任何药品代码", d.name);
                    self.unmapped(limits, d.row, reason);
                }
            }
        }
    }

    fn item_limits(&mut self, sheet: &Sheet, h: &Header) {
        let code_col = h.find(CODE_HEADERS);
        let name_col = h.find(NAME_HEADERS);
        let type_col = h.find(&["限定类型"]);
        let value_col = h.find(VALUE_HEADERS);
        let note_col = h.find(NOTE_HEADERS);
        let mut seen: HashMap<(Code, String), u32> = HashMap::new();
        for (row, cells) in Self::data(sheet, h) {
            let raw = cell(cells, code_col);
            if raw.is_empty() {
                let reason = no_code_reason(cells);
                self.unmapped(sheet, row, reason);
                continue;
            }
            let code = match norm_code(raw) {
                Ok(c) => c,
                Err(e) => {
                    self.unmapped(sheet, row, e);
                    continue;
                }
            };
            let (name, ltype, value, note) = (
                cell(cells, name_col),
                cell(cells, type_col),
                cell(cells, value_col),
                cell(cells, note_col),
            );
            if !ltype.is_empty() {
                self.titles.insert(ltype.to_string());
            }
            let limit = match self.map_limit(ltype, value, note, false, name) {
                Ok(l) => l,
                Err(e) => {
                    self.unmapped(sheet, row, format!("{name}({code})：{e}"));
                    continue;
                }
            };
            let dup_key = (code.clone(), format!("{limit:?}"));
            if let Some(first) = seen.get(&dup_key) {
                self.unmapped(
                    sheet,
                    row,
                    format!("{code} 的同一限定重复（首见第{first}行）"),
                );
                continue;
            }
            seen.insert(dup_key, row);
            self.push(sheet, row, code, name, limit, None, note, None);
        }
    }

    fn pairs(&mut self, sheet: &Sheet, h: &Header) {
        self.title_from_sheet(sheet);
        let period_col = h.find(&["频度", "周期", "时限"]);
        let main_col = h.find(&["主项编码"]);
        let main_name_col = h.find(&["主项名称"]);
        let sec_col = h.find(&["从项编码"]);
        let sec_name_col = h.find(&["从项名称"]);
        let note_col = h.find(NOTE_HEADERS);
        let mut seen: HashMap<(Code, Code, String), u32> = HashMap::new();
        for (row, cells) in Self::data(sheet, h) {
            let (mraw, sraw) = (cell(cells, main_col), cell(cells, sec_col));
            if mraw.is_empty() && sraw.is_empty() {
                let reason = no_code_reason(cells);
                self.unmapped(sheet, row, reason);
                continue;
            }
            let (main, sec) = match (norm_code(mraw), norm_code(sraw)) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) => {
                    self.unmapped(sheet, row, format!("主项编码：{e}"));
                    continue;
                }
                (_, Err(e)) => {
                    self.unmapped(sheet, row, format!("从项编码：{e}"));
                    continue;
                }
            };
            if main == sec {
                self.unmapped(sheet, row, format!("主项与从项编码相同（{main}）"));
                continue;
            }
            let ptext = cell(cells, period_col);
            let period = match parse_period(ptext) {
                Some(p) => p,
                None => {
                    self.unmapped(
                        sheet,
                        row,
                        format!("无法识别的频度 '{ptext}'（支持 单日、单次就诊、N小时、同一小时）"),
                    );
                    continue;
                }
            };
            let key = (main.clone(), sec.clone(), ptext.to_string());
            if let Some(first) = seen.get(&key) {
                self.unmapped(
                    sheet,
                    row,
                    format!("主项 {main} × 从项 {sec} 重复（首见第{first}行）"),
                );
                continue;
            }
            seen.insert(key, row);
            let limit = Limit::DuplicatePair {
                secondary: sec.clone(),
                secondary_name: cell(cells, sec_name_col).to_string(),
                period,
            };
            let sec_s = sec.to_string();
            self.push(
                sheet,
                row,
                main,
                cell(cells, main_name_col),
                limit,
                None,
                cell(cells, note_col),
                Some(&sec_s),
            );
        }
    }

    fn frequency(&mut self, sheet: &Sheet, h: &Header) {
        self.title_from_sheet(sheet);
        let code_col = h.find(CODE_HEADERS);
        let name_col = h.find(NAME_HEADERS);
        let max_col = h.find(&["限制数量"]);
        let unit_col = h.find(&["数量单位", "单位"]);
        let note_col = h.find(NOTE_HEADERS);
        for (row, cells) in Self::data(sheet, h) {
            let raw = cell(cells, code_col);
            if raw.is_empty() {
                let reason = no_code_reason(cells);
                self.unmapped(sheet, row, reason);
                continue;
            }
            let code = match norm_code(raw) {
                Ok(c) => c,
                Err(e) => {
                    self.unmapped(sheet, row, e);
                    continue;
                }
            };
            let (maxt, unit) = (cell(cells, max_col), cell(cells, unit_col));
            let max: Qty = match maxt.parse::<Qty>() {
                Ok(q) if q.0 > 0 => q,
                _ => {
                    self.unmapped(sheet, row, format!("限制数量 '{maxt}' 不是正数"));
                    continue;
                }
            };
            // Every published unit is a per-day limit: 1 日/天 per day, or 24 小时 (hours) per day.
            let per_day = match unit {
                "日" | "天" => true,
                "小时" => max.0 <= Qty::from_units(24).0,
                _ => false,
            };
            if !per_day {
                self.unmapped(
                    sheet,
                    row,
                    format!("数量单位 '{unit}'（{maxt}）无法换算为每日限量"),
                );
                continue;
            }
            let limit = Limit::FrequencyPerDay {
                max,
                unit: unit.to_string(),
            };
            self.push(
                sheet,
                row,
                code,
                cell(cells, name_col),
                limit,
                None,
                cell(cells, note_col),
                None,
            );
        }
    }

    fn cycle(&mut self, sheet: &Sheet, h: &Header) {
        self.title_from_sheet(sheet);
        let code_col = h.find(CODE_HEADERS);
        let name_col = h.find(NAME_HEADERS);
        let times_col = h.find(&["频次上限"]);
        let days_col = h.find(&["疗程周期"]);
        let note_col = h.find(NOTE_HEADERS);
        for (row, cells) in Self::data(sheet, h) {
            let raw = cell(cells, code_col);
            if raw.is_empty() {
                let reason = no_code_reason(cells);
                self.unmapped(sheet, row, reason);
                continue;
            }
            let code = match norm_code(raw) {
                Ok(c) => c,
                Err(e) => {
                    self.unmapped(sheet, row, e);
                    continue;
                }
            };
            let (t, d) = (cell(cells, times_col), cell(cells, days_col));
            let (Some(max_times), Some(cycle_days)) = (parse_count(t), parse_days(d)) else {
                self.unmapped(
                    sheet,
                    row,
                    format!("频次上限 '{t}' 或疗程周期 '{d}' 不是正整数"),
                );
                continue;
            };
            let limit = Limit::CycleFrequency {
                max_times,
                cycle_days,
            };
            self.push(
                sheet,
                row,
                code,
                cell(cells, name_col),
                limit,
                None,
                cell(cells, note_col),
                None,
            );
        }
    }

    /// Item sheets whose limit is written in the remark (batch 8 限年龄 and 限支付疗程).
    fn remarks(&mut self, sheet: &Sheet, h: &Header) {
        self.title_from_sheet(sheet);
        let code_col = h.find(CODE_HEADERS);
        let name_col = h.find(NAME_HEADERS);
        let note_col = h.find(NOTE_HEADERS);
        let age_sheet = sheet.name.contains("年龄");
        let course_sheet = sheet.name.contains("疗程");
        for (row, cells) in Self::data(sheet, h) {
            let raw = cell(cells, code_col);
            if raw.is_empty() {
                let reason = no_code_reason(cells);
                self.unmapped(sheet, row, reason);
                continue;
            }
            let code = match norm_code(raw) {
                Ok(c) => c,
                Err(e) => {
                    self.unmapped(sheet, row, e);
                    continue;
                }
            };
            let (name, note) = (cell(cells, name_col), cell(cells, note_col));
            let limit = if note.contains("就业年龄") {
                Ok(self.working_age())
            } else if age_sheet && !course_sheet {
                self.age_limit(note, name, false)
            } else if course_sheet || note.contains("支付不超过") || note.contains("总时间")
            {
                parse_course(note, note).map(Limit::ItemCourse)
            } else {
                Err(format!("备注 '{note}' 中找不到可映射的限定（年龄或疗程）"))
            };
            match limit {
                Ok(l) => self.push(sheet, row, code, name, l, None, note, None),
                Err(e) => self.unmapped(sheet, row, format!("{name}({code})：{e}")),
            }
        }
    }

    fn working_age(&self) -> Limit {
        Limit::Age(AgeRange {
            label: "法定就业年龄".into(),
            min_years: Some(self.policy.working_age_min_years),
            max_years: Some(self.policy.working_age_max_years_male),
            max_years_female: Some(self.policy.working_age_max_years_female),
            max_days_of_life: None,
        })
    }

    /// Age group by its published name.
    fn age_limit(&mut self, value: &str, name: &str, drug: bool) -> Result<Limit, String> {
        let p = self.policy;
        let v = value.trim();
        if v.contains("新生儿") {
            return Ok(Limit::Age(AgeRange {
                label: "新生儿".into(),
                max_days_of_life: Some(p.newborn_max_days),
                ..Default::default()
            }));
        }
        if v.contains("婴幼儿") {
            return Ok(Limit::Age(AgeRange {
                label: "婴幼儿".into(),
                max_years: Some(p.infant_max_years),
                ..Default::default()
            }));
        }
        if v.contains("就业年龄") {
            return Ok(self.working_age());
        }
        if v.contains("儿童") || v.contains("小儿") {
            let _ = (name, drug);
            return Ok(Limit::Age(AgeRange {
                label: "儿童".into(),
                max_years: Some(p.child_max_years),
                ..Default::default()
            }));
        }
        Err(format!(
            "无法识别的年龄对象 '{v}'（支持 儿童、新生儿、婴幼儿、法定就业年龄）"
        ))
    }

    /// Maps a (限定类型, 限定对象/限定值域, 说明) triple to a limit.
    fn map_limit(
        &mut self,
        ltype: &str,
        value: &str,
        note: &str,
        drug: bool,
        name: &str,
    ) -> Result<Limit, String> {
        let t = ltype.trim();
        let v = value.trim();
        if v.is_empty() {
            return Err(format!("限定类型 {t} 缺少限定对象/限定值域"));
        }
        if t.contains("性别") {
            return match v {
                "男" | "男性" => Ok(Limit::Gender {
                    gender: Gender::Male,
                }),
                "女" | "女性" => Ok(Limit::Gender {
                    gender: Gender::Female,
                }),
                _ => Err(format!("无法识别的性别 '{v}'")),
            };
        }
        if t.contains("年龄") {
            let mut l = self.age_limit(v, name, drug)?;
            if note.contains("成人用法用量") {
                self.notes.push(format!(
                    "{name}：限定{v}，但说明注明药品说明书包含成人用法用量，成人使用的限年龄结果宜人工复核"
                ));
            }
            if drug && self.policy.age_from_text {
                if let Limit::Age(a) = &mut l {
                    if a.label == "儿童" {
                        if let Some((min, max, text)) = ages_in_text(note) {
                            a.min_years = min;
                            if let Some(max) = max {
                                a.max_years = Some(max);
                            }
                            a.label = format!("儿童({text})");
                        }
                    }
                }
            }
            return Ok(l);
        }
        if t.contains("保险类型") {
            return if v.contains("工伤") {
                Ok(Limit::InsuranceType {
                    kind: InsuranceKind::WorkInjury,
                })
            } else if v.contains("生育") {
                Ok(Limit::InsuranceType {
                    kind: InsuranceKind::Maternity,
                })
            } else {
                Err(format!("无法识别的保险类型 '{v}'（支持 工伤、生育）"))
            };
        }
        if t.contains("就医方式") {
            // "限急诊或住院患者": the published value is 住院 but the payment text admits
            // emergency visits too.
            let emergency_ok = note.contains("急诊");
            return match v {
                "住院" => Ok(Limit::VisitType {
                    med_type: MedTypeLimit::Ipt,
                    emergency_ok,
                }),
                "门诊" => Ok(Limit::VisitType {
                    med_type: MedTypeLimit::Opt,
                    emergency_ok,
                }),
                _ => Err(format!("无法识别的就医方式 '{v}'（支持 住院、门诊）")),
            };
        }
        if t.contains("机构等级") {
            let lv = match v.trim_end_matches("及以上") {
                "三级" => 1,
                "二级" => 2,
                "一级" => 3,
                _ => return Err(format!("无法识别的机构等级 '{v}'（支持 一级、二级、三级）")),
            };
            return Ok(Limit::HospLevel {
                lmt_hosp_lv: lv,
                label: v.trim_end_matches("及以上").to_string(),
            });
        }
        if t.contains("疗程") {
            let c = parse_course(v, note)?;
            if let Some(stated) = stated_days(note) {
                if stated != c.max_days {
                    self.notes.push(format!(
                        "{name}：限定值域 {v} 与说明中的 {stated} 天不一致，按限定值域 {} 天导入",
                        c.max_days
                    ));
                }
            }
            return Ok(if drug {
                Limit::DrugCourse(c)
            } else {
                Limit::ItemCourse(c)
            });
        }
        if t.contains("主次操作") {
            return Ok(Limit::SecondarySurgery {
                group: v.to_string(),
            });
        }
        Err(format!("未知的限定类型 '{t}'，没有对应的规则模板"))
    }
}

/// One row of a drug limit sheet (Sheet1).
struct DrugLimitRow {
    row: u32,
    /// The mapped limit, or why it could not be mapped.
    limit: Result<Limit, String>,
    name: String,
    note: String,
    ltype: String,
}

/// `单日` / `单次就诊` / `6小时` / `同一小时`.
fn parse_period(s: &str) -> Option<Period> {
    let s = s.trim();
    match s {
        "单日" | "同日" | "同一日" | "当日" | "每日" => return Some(Period::SameDay),
        "单次就诊" | "同一次就诊" | "单次住院" | "每次就诊" => {
            return Some(Period::SameVisit)
        }
        "同一小时" | "单小时" => return Some(Period::Hours(1)),
        _ => {}
    }
    let n = s.strip_suffix("小时")?;
    n.parse::<u32>().ok().filter(|n| *n > 0).map(Period::Hours)
}

fn parse_count(s: &str) -> Option<u32> {
    s.trim().parse::<u32>().ok().filter(|n| *n > 0)
}

/// `7`, `14天`, `2周`, `12个月`, `1年`, `一年` → days.
fn parse_days(s: &str) -> Option<u32> {
    let s = s.trim();
    if let Some(n) = parse_count(s) {
        return Some(n);
    }
    let (num, unit) = split_number(s)?;
    let n = match unit.trim() {
        "天" | "日" => num,
        "周" => num * 7,
        "个月" | "月" => {
            if num.is_multiple_of(12) {
                num / 12 * 365
            } else {
                num * 30
            }
        }
        "年" => num * 365,
        _ => return None,
    };
    (n > 0).then_some(n)
}

/// Leading number (Arabic or a single Chinese numeral) and the rest.
fn split_number(s: &str) -> Option<(u32, &str)> {
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    if !digits.is_empty() {
        return Some((digits.parse().ok()?, &s[digits.len()..]));
    }
    let c = s.chars().next()?;
    let n = "〇一二三四五六七八九十".find(c).map(|i| (i / 3) as u32)?;
    Some((n, &s[c.len_utf8()..]))
}

/// The number of days a payment text states (`支付不超过14天`, `最多支付14天`), if any.
fn stated_days(note: &str) -> Option<u32> {
    for key in ["不超过", "最多支付"] {
        let mut rest = note;
        while let Some(pos) = rest.find(key) {
            let after = &rest[pos + key.len()..];
            if let Some((n, unit)) = split_number(after) {
                if unit.starts_with('天') {
                    return Some(n);
                }
            }
            rest = after;
        }
    }
    None
}

/// A course from its value (`14天`, or a remark such as `总时间不超过90天，评定间隔时间不短于14天。`)
/// and explanation text.
fn parse_course(value: &str, note: &str) -> Result<Course, String> {
    let max_days = parse_days(value).or_else(|| {
        // Remark form: the length follows 不超过.
        let pos = value.find("不超过")?;
        let after = &value[pos + "不超过".len()..];
        let end = after.find(['，', '。', ',', '；']).unwrap_or(after.len());
        parse_days(&after[..end])
    });
    let Some(max_days) = max_days else {
        return Err(format!("无法从 '{value}' 读出疗程天数"));
    };
    let text = format!("{value} {note}");
    let elapsed =
        text.contains("总时间") || text.contains("个月") || text.contains('年') || max_days >= 365;
    let min_interval_days = if text.contains("每周最多支付一次") || text.contains("每周最多一次")
    {
        Some(7)
    } else if let Some(pos) = text.find("不短于") {
        split_number(&text[pos + "不短于".len()..])
            .filter(|(_, u)| u.starts_with('天'))
            .map(|(n, _)| n)
    } else {
        None
    };
    Ok(Course {
        max_days,
        basis: if elapsed {
            CourseBasis::Elapsed
        } else {
            CourseBasis::FeeDays
        },
        per_stay: text.contains("单次住院"),
        min_interval_days,
    })
}

/// Explicit age ranges in a drug's payment text (only texts that state a limit, i.e. start with
/// 限): `限2岁至11岁儿童…` → (2, 11); `限5至12岁以下…` → (5, 11) (以下 after a range is
/// exclusive, as on drug labels); `限3岁及3岁以上…` → (3, none); several ranges are joined.
/// Returns (min, max, the matched text).
pub fn ages_in_text(note: &str) -> Option<(Option<u16>, Option<u16>, String)> {
    let t = note.trim();
    if !t.starts_with('限') {
        return None;
    }
    let c: Vec<char> = t.chars().collect();
    let num_at = |i: usize| -> Option<(u16, usize)> {
        let mut j = i;
        while j < c.len() && c[j].is_ascii_digit() {
            j += 1;
        }
        if j == i {
            return None;
        }
        let s: String = c[i..j].iter().collect();
        Some((s.parse().ok()?, j))
    };
    let starts = |i: usize, s: &str| -> bool {
        let w: Vec<char> = s.chars().collect();
        c.len() >= i + w.len() && c[i..i + w.len()] == w[..]
    };
    let mut ranges: Vec<(Option<u16>, Option<u16>, String)> = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if !c[i].is_ascii_digit() || (i > 0 && c[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        let Some((n, mut j)) = num_at(i) else {
            i += 1;
            continue;
        };
        let begin = i;
        let mut sui = false;
        if starts(j, "周岁") {
            j += 2;
            sui = true;
        } else if starts(j, "岁") {
            j += 1;
            sui = true;
        }
        let is_sep =
            |k: usize| k < c.len() && matches!(c[k], '-' | '至' | '~' | '～' | '到' | '—' | '－');
        if is_sep(j) {
            if let Some((m, mut k)) = num_at(j + 1) {
                if starts(k, "周岁") {
                    k += 2;
                } else if starts(k, "岁") {
                    k += 1;
                } else {
                    i = j;
                    continue;
                }
                let mut max = m;
                if starts(k, "以下") {
                    max = m.saturating_sub(1);
                    k += 2;
                }
                ranges.push((Some(n), Some(max), c[begin..k].iter().collect()));
                i = k;
                continue;
            }
        }
        if sui && (starts(j, "及以上") || starts(j, "以上")) {
            let end = j + if starts(j, "及以上") { 3 } else { 2 };
            ranges.push((Some(n), None, c[begin..end].iter().collect()));
            i = end;
            continue;
        }
        if sui && starts(j, "及") {
            // 3岁及3岁以上
            if let Some((m, k)) = num_at(j + 1) {
                if m == n && starts(k, "岁以上") {
                    ranges.push((Some(n), None, c[begin..k + 3].iter().collect()));
                    i = k + 3;
                    continue;
                }
            }
        }
        if sui && starts(j, "以下") {
            ranges.push((
                None,
                Some(n.saturating_sub(1)),
                c[begin..j + 2].iter().collect(),
            ));
            i = j + 2;
            continue;
        }
        i = j.max(i + 1);
    }
    if ranges.is_empty() {
        return None;
    }
    let min = if ranges.iter().all(|r| r.0.is_some()) {
        ranges.iter().filter_map(|r| r.0).min()
    } else {
        None
    };
    let max = if ranges.iter().all(|r| r.1.is_some()) {
        ranges.iter().filter_map(|r| r.1).max()
    } else {
        None
    };
    let text = ranges
        .iter()
        .map(|r| r.2.as_str())
        .collect::<Vec<_>>()
        .join("、");
    Some((min, max, format!("限{text}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_labels() {
        assert_eq!(batch_label("b1-drug-age.xlsx"), "b1");
        assert_eq!(batch_label("b8-3-item-course.xlsx"), "b8-3");
        assert_eq!(batch_label("b2-item-secondary-surgery.xlsx"), "b2");
        assert_eq!(
            batch_label("【第八批-3】项目规则库（限定疗程）.xlsx"),
            "b8-3"
        );
        assert_eq!(batch_label("【第七批 】项目规则库（重复收费）.xlsx"), "b7");
        assert_eq!(batch_label("【第一批】药品规则库(限定年龄对象).xlsx"), "b1");
        assert_eq!(batch_label("第十二批.xlsx"), "b12");
        assert_eq!(batch_label("local.xlsx"), "local");
    }

    #[test]
    fn ages_from_payment_text() {
        assert_eq!(
            ages_in_text("限2岁至11岁儿童慢性便秘。").map(|a| (a.0, a.1)),
            Some((Some(2), Some(11)))
        );
        assert_eq!(
            ages_in_text("限3-12岁特发性或先天性肺动脉高压患者。").map(|a| (a.0, a.1)),
            Some((Some(3), Some(12)))
        );
        assert_eq!(
            ages_in_text("限5至12岁以下单纯性甲型和乙型流感儿童患者。").map(|a| (a.0, a.1)),
            Some((Some(5), Some(11)))
        );
        assert_eq!(
            ages_in_text("限3岁及3岁以上伴有症状、无法手术的丛状神经纤维瘤").map(|a| (a.0, a.1)),
            Some((Some(3), None))
        );
        assert_eq!(
            ages_in_text("限6-17岁儿童和青少年的注意缺陷多动障碍(ADHD)。").map(|a| (a.0, a.1)),
            Some((Some(6), Some(17)))
        );
        let m = ages_in_text(
            "限：1.1岁至14岁儿童哮喘的预防和长期治疗；2.2岁至14岁儿童季节性过敏性鼻炎",
        )
        .unwrap();
        assert_eq!((m.0, m.1), (Some(1), Some(14)));
        assert_eq!(m.2, "限1岁至14岁、2岁至14岁");
        // Label texts (not payment limits) and texts without ages are ignored.
        assert_eq!(
            ages_in_text("适用于接受肠外营养的11周岁以下患者维生素缺乏的预防。"),
            None
        );
        assert_eq!(
            ages_in_text("限新发的急性血栓性脑梗死，支付不超过14天。"),
            None
        );
    }

    #[test]
    fn courses() {
        let c = parse_course("14天", "限新发的急性血栓性脑梗死，支付不超过14天。").unwrap();
        assert_eq!(
            (c.max_days, c.basis, c.per_stay, c.min_interval_days),
            (14, CourseBasis::FeeDays, false, None)
        );
        let c = parse_course("3天", "单次住院支付不超过3天。").unwrap();
        assert!(c.per_stay);
        let c = parse_course("365天", "且支付不超过12个月").unwrap();
        assert_eq!((c.max_days, c.basis), (365, CourseBasis::Elapsed));
        let c = parse_course("总时间不超过90天，评定间隔时间不短于14天。", "").unwrap();
        assert_eq!(
            (c.max_days, c.basis, c.min_interval_days),
            (90, CourseBasis::Elapsed, Some(14))
        );
        let c = parse_course("支付不超过一年，每周最多支付一次。", "").unwrap();
        assert_eq!(
            (c.max_days, c.basis, c.min_interval_days),
            (365, CourseBasis::Elapsed, Some(7))
        );
        let c = parse_course("一个疾病过程支付不超过90天。", "").unwrap();
        assert_eq!((c.max_days, c.basis), (90, CourseBasis::FeeDays));
        assert!(parse_course("视病情而定", "").is_err());
        assert_eq!(stated_days("单次住院最多支付14天。"), Some(14));
    }

    #[test]
    fn periods() {
        assert_eq!(parse_period("单日"), Some(Period::SameDay));
        assert_eq!(parse_period("单次就诊"), Some(Period::SameVisit));
        assert_eq!(parse_period("6小时"), Some(Period::Hours(6)));
        assert_eq!(parse_period("同一小时"), Some(Period::Hours(1)));
        assert_eq!(parse_period("每周"), None);
        assert_eq!(parse_period("0小时"), None);
    }

    #[test]
    fn codes_are_normalised() {
        assert_eq!(norm_code(" 3402000320000").unwrap(), "003402000320000");
        assert!(norm_code("ABC").is_err());
        assert!(norm_code("").is_err());
    }

    fn sheet(name: &str, rows: &[&[&str]]) -> Sheet {
        Sheet {
            name: name.into(),
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, r)| (i as u32 + 1, r.iter().map(|s| s.to_string()).collect()))
                .collect(),
        }
    }

    /// Headers are found by name wherever the columns are, and bad rows are reported.
    #[test]
    fn maps_by_header_not_position() {
        let s1 = sheet(
            "Sheet1",
            &[
                &["限定对象", "限定类型", "药品通用名", "药品说明"],
                &["男", "限定性别对象", "甲药片", "说明"],
                &["未知", "限定性别对象", "乙药片", ""],
                &["女", "限定性别对象", "丙药片", ""],
            ],
        );
        let s2 = sheet(
            "Sheet2",
            &[
                &["序号", "药品代码", "药品通用名"],
                &["1", "XL02BBA326A001010102180", "甲药片"],
                &["2", "XL02BBA326A001010178537", "乙药片"],
                &["3", "BAD", "甲药片"],
                &["4", "XL02BBA326A001020278537", "丁药片"],
            ],
        );
        let (info, pts) = map_workbook("t-drug.xlsx", &[s1, s2], &KbPolicy::default());
        assert_eq!(pts.len(), 1);
        assert_eq!(pts[0].id, "t-drug:row2:XL02BBA326A001010102180");
        assert_eq!(
            pts[0].limit,
            Limit::Gender {
                gender: Gender::Male
            }
        );
        assert_eq!(pts[0].limit_row, Some(2));
        let reasons: Vec<(u32, &str)> = info
            .unmapped
            .iter()
            .map(|u| (u.row, u.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 5, "{reasons:?}");
        assert!(reasons[0].1.contains("无法识别的性别 '未知'"));
        assert!(reasons
            .iter()
            .any(|(r, s)| *r == 3 && s.contains("乙药片 的限定无法映射")));
        assert!(reasons
            .iter()
            .any(|(r, s)| *r == 4 && s.contains("医保目录编码格式错误")));
        assert!(reasons
            .iter()
            .any(|(r, s)| *r == 5 && s.contains("丁药片 在限定表中不存在")));
        assert!(reasons
            .iter()
            .any(|(r, s)| *r == 4 && s.contains("丙药片 在药品代码表中没有任何药品代码")));
        assert_eq!(info.rows, 7);
        assert_eq!((info.codes, info.points), (1, 1));
    }

    #[test]
    fn unknown_header_is_reported() {
        let s = sheet("X", &[&["项目编码", "价格"], &["001102000040000", "3"]]);
        let (info, pts) = map_workbook("x.xlsx", &[s], &KbPolicy::default());
        assert!(pts.is_empty());
        assert_eq!(info.unmapped.len(), 1);
        assert!(info.unmapped[0].reason.contains("无法识别的表头"));
    }
}
