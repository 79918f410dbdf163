//! Typed access to one record's fields, whatever the file format, with the contract's checks.
//!
//! Every reader (CSV, JSON Lines, Parquet) turns a record into text fields; [`Row`] reads them by
//! spec column index and validates each against its [`Kind`]. A failure is a [`Problem`] that
//! names the column and says what is wrong in Chinese and English.

use medfund_contract::money::DecimalError;
use medfund_contract::schema::{Kind, TableSpec};
use medfund_contract::time::{parse_date, parse_datetime};
use medfund_contract::{codes, Code, YearMonth};
use std::borrow::Cow;
use std::str::FromStr;

/// Why a record is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub column: Option<&'static str>,
    pub zh: String,
    pub en: String,
}

impl Problem {
    pub fn new(
        column: Option<&'static str>,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Problem {
        Problem {
            column,
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// Splits the contract's `"中文 / English"` messages.
    pub fn bilingual(column: Option<&'static str>, msg: &str) -> Problem {
        match msg.split_once(" / ") {
            Some((zh, en)) => Problem::new(column, zh, en),
            None => Problem::new(column, msg, msg),
        }
    }

    pub fn missing_column(col: &'static str) -> Problem {
        Problem::new(
            Some(col),
            format!("表头缺少必填列 {col}，本文件的行均无法加载"),
            format!("the header lacks required column {col}; no row of this file can load"),
        )
    }

    pub fn unknown_ref(col: &'static str, what_zh: &str, what_en: &str, v: &str) -> Problem {
        Problem::new(
            Some(col),
            format!("引用了不存在的{what_zh} {col}='{v}'（本批次和已入库数据中均没有）"),
            format!("reference to an unknown {what_en} {col} '{v}' (neither in this batch nor in the store)"),
        )
    }
}

/// Where each spec column sits among a record's fields.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// Spec column → field index (None when the file lacks the column).
    pub idx: Vec<Option<usize>>,
    /// Spec column → the file holds it as numbers (JSON numbers, Parquet numeric types), so a code
    /// may have lost its leading zeros.
    pub numeric: Vec<bool>,
    /// Set when a required column is absent: every record of the file is refused with it.
    pub missing: Option<Problem>,
}

impl Layout {
    /// Maps header names (already trimmed; compared case-insensitively) to the spec.
    pub fn from_names(spec: &'static TableSpec, names: &[String], numeric: &[bool]) -> Layout {
        let lower: Vec<String> = names
            .iter()
            .map(|n| n.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let mut idx = Vec::with_capacity(spec.columns.len());
        let mut num = Vec::with_capacity(spec.columns.len());
        let mut missing = None;
        for c in spec.columns {
            // The first occurrence wins when a header repeats a name.
            let i = lower.iter().position(|n| n == c.name);
            if i.is_none() && c.required && missing.is_none() {
                missing = Some(Problem::missing_column(c.name));
            }
            num.push(i.is_some_and(|i| numeric.get(i).copied().unwrap_or(false)));
            idx.push(i);
        }
        Layout {
            idx,
            numeric: num,
            missing,
        }
    }

    /// Fields already in spec order (JSON Lines, Parquet).
    pub fn identity(spec: &'static TableSpec) -> Layout {
        Layout {
            idx: (0..spec.columns.len()).map(Some).collect(),
            numeric: vec![false; spec.columns.len()],
            missing: None,
        }
    }
}

/// Trims surrounding whitespace; the common case (no space at either end) costs two byte tests.
pub(crate) use medfund_contract::codes::trim;

/// One record's fields seen through the table spec.
pub(crate) struct Row<'r, 'a> {
    pub vals: &'r [Cow<'a, str>],
    pub idx: &'r [Option<usize>],
    pub numeric: &'r [bool],
    pub spec: &'static TableSpec,
}

fn name(spec: &'static TableSpec, i: usize) -> &'static str {
    spec.columns[i].name
}

/// Checks a code against its column kind; `Err` carries the contract's bilingual message.
fn check_kind(kind: Kind, v: &str) -> Result<(), String> {
    match kind {
        Kind::Id => codes::check_identifier(v),
        Kind::Fixmedins => codes::check_fixmedins_code(v),
        Kind::Pract => codes::check_pract_code(v),
        Kind::ListCode => codes::check_med_list_codg(v),
        Kind::Diag => codes::check_diag_code(v),
        Kind::Admdvs => codes::check_admdvs(v),
        _ => Ok(()),
    }
}

/// An ICD-10 prefix as used in `lmt_dise`: a capital letter then up to 7 digits, `.` or `x`.
fn check_diag_prefix(v: &str) -> Result<(), String> {
    let b = v.as_bytes();
    if !b.is_empty()
        && b.len() <= 8
        && b[0].is_ascii_uppercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_digit() || *c == b'.' || *c == b'x' || *c == b'X')
    {
        Ok(())
    } else {
        Err(format!(
            "诊断编码前缀格式错误 / malformed ICD-10 prefix '{v}' (e.g. E11 or I10.x)"
        ))
    }
}

impl<'r, 'a> Row<'r, 'a> {
    /// The trimmed text of spec column `i`; `None` when absent or empty.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&str> {
        let h = self.idx[i]?;
        let v = trim(self.vals.get(h)?);
        if v.is_empty() {
            None
        } else {
            Some(v)
        }
    }

    fn missing(&self, i: usize) -> Problem {
        let c = name(self.spec, i);
        Problem::new(
            Some(c),
            format!("必填字段 {c} 为空"),
            format!("required field {c} is empty"),
        )
    }

    /// Required raw text.
    #[inline]
    pub fn req(&self, i: usize) -> Result<&str, Problem> {
        self.get(i).ok_or_else(|| self.missing(i))
    }

    /// Optional code, checked against the column's kind (code format or enum list).
    #[inline]
    pub fn opt_str(&self, i: usize) -> Result<Option<&str>, Problem> {
        let Some(v) = self.get(i) else {
            return Ok(None);
        };
        let col = &self.spec.columns[i];
        let res = match col.kind {
            Kind::Enum(list) => {
                if list.contains(&v) {
                    Ok(())
                } else {
                    Err(None)
                }
            }
            k => check_kind(k, v).map_err(Some),
        };
        match res {
            Ok(()) => Ok(Some(v)),
            Err(_) if self.numeric[i] => Err(Problem::new(
                Some(col.name),
                format!("{} 以数字形式给出，可能丢失了前导零：'{v}'，请以文本提供编码", col.name),
                format!("{} '{v}' was given as a number and may have lost leading zeros; supply codes as text", col.name),
            )),
            Err(Some(msg)) => Err(Problem::bilingual(Some(col.name), &msg)),
            Err(None) => {
                let allowed = match col.kind {
                    Kind::Enum(list) => list.join("/"),
                    _ => String::new(),
                };
                Err(Problem::new(
                    Some(col.name),
                    format!("{} 取值 '{v}' 不在允许范围 {allowed} 内", col.name),
                    format!("{} value '{v}' is not one of {allowed}", col.name),
                ))
            }
        }
    }

    /// Required code or enum value (checked).
    #[inline]
    pub fn str(&self, i: usize) -> Result<&str, Problem> {
        self.opt_str(i)?.ok_or_else(|| self.missing(i))
    }

    #[inline]
    pub fn code(&self, i: usize) -> Result<Code, Problem> {
        self.str(i).map(Code::from)
    }

    #[inline]
    pub fn opt_code(&self, i: usize) -> Result<Option<Code>, Problem> {
        Ok(self.opt_str(i)?.map(Code::from))
    }

    /// Whether spec column `i` holds exactly `prev`'s text, a value already checked for this
    /// column (so it would pass again, untrimmed and non-empty as it is).
    #[inline]
    fn same_as(&self, i: usize, prev: Option<&Code>) -> bool {
        match (prev, self.idx[i]) {
            (Some(p), Some(h)) => self.vals.get(h).is_some_and(|v| codes::same_text(v, p)),
            _ => false,
        }
    }

    /// [`Row::code`], reusing the previous record's checked value when the text is the same.
    #[inline]
    pub fn code_as(&self, i: usize, prev: Option<&Code>) -> Result<Code, Problem> {
        match prev {
            Some(p) if self.same_as(i, Some(p)) => Ok(p.clone()),
            _ => self.code(i),
        }
    }

    /// [`Row::opt_code`], reusing the previous record's checked value when the text is the same.
    #[inline]
    pub fn opt_code_as(
        &self,
        i: usize,
        prev: Option<&Option<Code>>,
    ) -> Result<Option<Code>, Problem> {
        match prev {
            Some(Some(p)) if self.same_as(i, Some(p)) => Ok(Some(p.clone())),
            _ => self.opt_code(i),
        }
    }

    /// Required free text.
    pub fn text(&self, i: usize) -> Result<String, Problem> {
        self.req(i).map(str::to_string)
    }

    /// Optional enum value that is a small number (levels, types).
    pub fn opt_u8(&self, i: usize) -> Result<Option<u8>, Problem> {
        match self.opt_str(i)? {
            None => Ok(None),
            Some(v) => v.parse::<u8>().map(Some).map_err(|_| self.bad_int(i, v)),
        }
    }

    pub fn u8(&self, i: usize) -> Result<u8, Problem> {
        self.opt_u8(i)?.ok_or_else(|| self.missing(i))
    }

    /// A `0`/`1` flag; empty is false.
    pub fn flag(&self, i: usize) -> Result<bool, Problem> {
        Ok(self.opt_str(i)? == Some("1"))
    }

    pub fn opt_date(&self, i: usize) -> Result<Option<chrono::NaiveDate>, Problem> {
        match self.get(i) {
            None => Ok(None),
            Some(v) => parse_date(v).map(Some).map_err(|_| {
                let c = name(self.spec, i);
                Problem::new(
                    Some(c),
                    format!("{c} 日期格式错误（应为 YYYY-MM-DD）：'{v}'"),
                    format!("{c} '{v}' is not a valid date (YYYY-MM-DD)"),
                )
            }),
        }
    }

    pub fn date(&self, i: usize) -> Result<chrono::NaiveDate, Problem> {
        self.opt_date(i)?.ok_or_else(|| self.missing(i))
    }

    pub fn opt_datetime(&self, i: usize) -> Result<Option<chrono::NaiveDateTime>, Problem> {
        match self.get(i) {
            None => Ok(None),
            Some(v) => parse_datetime(v).map(Some).map_err(|_| {
                let c = name(self.spec, i);
                Problem::new(
                    Some(c),
                    format!("{c} 时间格式错误（应为 YYYY-MM-DD HH:MM:SS）：'{v}'"),
                    format!("{c} '{v}' is not a valid date-time (YYYY-MM-DD HH:MM:SS)"),
                )
            }),
        }
    }

    pub fn datetime(&self, i: usize) -> Result<chrono::NaiveDateTime, Problem> {
        self.opt_datetime(i)?.ok_or_else(|| self.missing(i))
    }

    pub fn month(&self, i: usize) -> Result<YearMonth, Problem> {
        let v = self.req(i)?;
        YearMonth::parse(v).map_err(|_| {
            let c = name(self.spec, i);
            Problem::new(
                Some(c),
                format!("{c} 月份格式错误（应为 YYYY-MM）：'{v}'"),
                format!("{c} '{v}' is not a valid month (YYYY-MM)"),
            )
        })
    }

    /// Optional exact decimal (`Fen`, `Price`, `Qty`).
    pub fn opt_dec<T: FromStr<Err = DecimalError>>(&self, i: usize) -> Result<Option<T>, Problem> {
        match self.get(i) {
            None => Ok(None),
            Some(v) => v.parse::<T>().map(Some).map_err(|e| {
                let c = name(self.spec, i);
                match e {
                    DecimalError::TooPrecise(_, n) => Problem::new(
                        Some(c),
                        format!("{c} 小数位数超过 {n} 位：'{v}'"),
                        format!("{c} '{v}' has more than {n} decimals"),
                    ),
                    DecimalError::Overflow(_) => Problem::new(
                        Some(c),
                        format!("{c} 数值超出范围：'{v}'"),
                        format!("{c} '{v}' is out of range"),
                    ),
                    DecimalError::Empty | DecimalError::Syntax(_) => Problem::new(
                        Some(c),
                        format!("{c} 不是合法数字：'{v}'"),
                        format!("{c} '{v}' is not a decimal number"),
                    ),
                }
            }),
        }
    }

    pub fn dec<T: FromStr<Err = DecimalError>>(&self, i: usize) -> Result<T, Problem> {
        self.opt_dec(i)?.ok_or_else(|| self.missing(i))
    }

    fn bad_int(&self, i: usize, v: &str) -> Problem {
        let c = name(self.spec, i);
        Problem::new(
            Some(c),
            format!("{c} 应为非负整数：'{v}'"),
            format!("{c} '{v}' is not a non-negative integer"),
        )
    }

    /// Optional non-negative integer that must fit `T`.
    pub fn opt_int<T: TryFrom<u64>>(&self, i: usize) -> Result<Option<T>, Problem> {
        match self.get(i) {
            None => Ok(None),
            Some(v) => {
                // Parquet decimals and JSON numbers may write an integer as `3.0`.
                let digits = v.strip_suffix(".0").unwrap_or(v);
                digits
                    .parse::<u64>()
                    .ok()
                    .filter(|_| digits.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|n| T::try_from(n).ok())
                    .map(Some)
                    .ok_or_else(|| self.bad_int(i, v))
            }
        }
    }

    pub fn int<T: TryFrom<u64>>(&self, i: usize) -> Result<T, Problem> {
        self.opt_int(i)?.ok_or_else(|| self.missing(i))
    }

    /// A `;`-separated list; each element is checked against the column's kind.
    pub fn list(&self, i: usize) -> Result<Vec<Code>, Problem> {
        let Some(v) = self.get(i) else {
            return Ok(Vec::new());
        };
        let items = codes::split_list(v);
        let c = name(self.spec, i);
        for it in &items {
            let res = match self.spec.columns[i].kind {
                Kind::ListCodes => codes::check_med_list_codg(it),
                Kind::TraceCodes => codes::check_trace_code(it),
                Kind::DiagPrefixes => check_diag_prefix(it),
                _ => Ok(()),
            };
            if let Err(msg) = res {
                return Err(Problem::bilingual(Some(c), &msg));
            }
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use medfund_contract::money::{Fen, Price};
    use medfund_contract::schema::Table;

    fn row<'a>(vals: &'a [Cow<'a, str>], layout: &'a Layout) -> Row<'a, 'a> {
        Row {
            vals,
            idx: &layout.idx,
            numeric: &layout.numeric,
            spec: Table::Fee.spec(),
        }
    }

    #[test]
    fn layout_maps_case_insensitively_and_flags_missing() {
        let names: Vec<String> = ["MDTRT_ID", " feedetl_sn ", "extra"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let l = Layout::from_names(Table::Fee.spec(), &names, &[]);
        assert_eq!(l.idx[0], Some(1));
        assert_eq!(l.idx[1], Some(0));
        assert_eq!(l.idx[2], None);
        // setl_id is the first required column absent.
        assert_eq!(l.missing.unwrap().column, Some("setl_id"));
    }

    #[test]
    fn decimals_and_codes() {
        let l = Layout::identity(Table::Fee.spec());
        let vals: Vec<Cow<str>> = vec![
            " 001 ".into(),
            "M-1".into(),
            "".into(),
            "1.234".into(),
            "x".into(),
        ];
        let r = row(&vals, &l);
        // Leading zeros and surrounding spaces: the code is kept as text, trimmed.
        assert_eq!(r.code(0).unwrap(), "001");
        assert_eq!(r.req(2).unwrap_err().column, Some("setl_id"));
        let e = r.dec::<Fen>(3).unwrap_err();
        assert!(e.zh.contains("小数位数超过 2 位"), "{e:?}");
        assert!(r.dec::<Price>(3).is_ok());
        assert!(r
            .dec::<Fen>(4)
            .unwrap_err()
            .en
            .contains("not a decimal number"));
    }

    #[test]
    fn numeric_codes_warn_about_leading_zeros() {
        let mut l = Layout::identity(Table::Catalog.spec());
        l.numeric[3] = true; // med_chrgitm_type "09" arrived as the number 9
        let vals: Vec<Cow<str>> = vec!["".into(), "".into(), "".into(), "9".into()];
        let r = Row {
            vals: &vals,
            idx: &l.idx,
            numeric: &l.numeric,
            spec: Table::Catalog.spec(),
        };
        let e = r.opt_str(3).unwrap_err();
        assert!(e.zh.contains("前导零"), "{e:?}");
    }
}
