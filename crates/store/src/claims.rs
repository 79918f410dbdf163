//! The claim tables (visits, diagnoses, settlements, fee lines, prescriptions, stock, identity
//! checks) as Arrow record batches, the in-memory shape of their Parquet files.
//!
//! Column names are the national field names and the column types come from the contract's
//! column kinds (see [`arrow_type`]), so teammates can query the files with DataFusion SQL:
//! codes `Utf8`, amounts `Decimal128(18,2)`, prices `Decimal128(18,6)`, quantities
//! `Decimal128(18,4)`, date-times `Timestamp(Second)` holding local civil time (no zone),
//! dates `Date32`, flags (`0`/`1` columns) `Boolean`, `;`-separated lists `Utf8` as in the input.

use crate::StoreError;
use arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int32Array, StringArray,
    StringBuilder, TimestampSecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{NaiveDate, NaiveDateTime};
use medfund_contract::codes::split_list;
use medfund_contract::money::{Fen, Price, Qty};
use medfund_contract::schema::{Kind, Table};
use medfund_contract::{
    Batch, Code, Diag, Fee, Idv, InvPurc, InvStock, Mdtrt, Rx, Setl, YearMonth,
};
use std::sync::Arc;

/// Arrow type of a contract column kind in the claim files.
pub fn arrow_type(kind: Kind) -> DataType {
    match kind {
        Kind::Date => DataType::Date32,
        Kind::DateTime => DataType::Timestamp(TimeUnit::Second, None),
        Kind::Amount => DataType::Decimal128(18, Fen::SCALE as i8),
        Kind::Price => DataType::Decimal128(18, Price::SCALE as i8),
        Kind::Qty => DataType::Decimal128(18, Qty::SCALE as i8),
        Kind::Int => DataType::Int32,
        Kind::Enum(v) if v == ["0", "1"] => DataType::Boolean,
        _ => DataType::Utf8,
    }
}

/// The Arrow schema of a claim table's Parquet files: the contract's columns in contract order.
pub fn arrow_schema(table: Table) -> SchemaRef {
    let spec = table.spec();
    let fields: Vec<Field> = spec
        .columns
        .iter()
        .map(|c| Field::new(c.name, arrow_type(c.kind), !c.required))
        .collect();
    Arc::new(Schema::new(fields))
}

/// Canonical bytes of a row for hashing: every value length-prefixed or fixed width, so two
/// different rows never encode the same.
#[derive(Default)]
pub(crate) struct Canon(pub Vec<u8>);

impl Canon {
    fn s(&mut self, v: &str) {
        self.0.extend_from_slice(&(v.len() as u32).to_le_bytes());
        self.0.extend_from_slice(v.as_bytes());
    }
    fn os(&mut self, v: Option<&str>) {
        match v {
            Some(v) => {
                self.0.push(1);
                self.s(v)
            }
            None => self.0.push(0),
        }
    }
    fn i(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn oi(&mut self, v: Option<i64>) {
        match v {
            Some(v) => {
                self.0.push(1);
                self.i(v)
            }
            None => self.0.push(0),
        }
    }
    fn t(&mut self, v: NaiveDateTime) {
        self.i(v.and_utc().timestamp())
    }
    fn ot(&mut self, v: Option<NaiveDateTime>) {
        self.oi(v.map(|v| v.and_utc().timestamp()))
    }
    fn d(&mut self, v: NaiveDate) {
        self.i(days(v) as i64)
    }
    fn b(&mut self, v: bool) {
        self.0.push(v as u8)
    }
    fn list(&mut self, v: &[Code]) {
        self.s(&join(v))
    }
}

fn join(v: &[Code]) -> String {
    v.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(";")
}

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");

fn days(d: NaiveDate) -> i32 {
    (d - EPOCH).num_days() as i32
}

/// One claim table's record type: how it is hashed, partitioned and converted to/from Arrow.
pub(crate) trait ClaimRecord:
    Sized + Send + Sync + Clone + serde::Serialize + 'static
{
    const TABLE: Table;
    /// Natural-key bytes (the whole row for tables without a key).
    fn key(&self, c: &mut Canon);
    /// Every column.
    fn content(&self, c: &mut Canon);
    /// Month partition from the row itself; `None` for `diag`, which follows its visit.
    fn month(&self) -> Option<YearMonth>;
    /// Rows → one record batch in the schema of [`arrow_schema`].
    fn to_arrow(rows: &[&Self]) -> Result<RecordBatch, StoreError>;
    /// A record batch of this table's files → rows.
    fn from_arrow(b: &RecordBatch) -> Result<Vec<Self>, StoreError>;
    /// The table's vector in a batch.
    fn rows(batch: &mut Batch) -> &mut Vec<Self>;
}

// ---- column builders -------------------------------------------------------------------------

fn utf8<'a>(n: usize, it: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(n, n * 16);
    for v in it {
        b.append_option(v);
    }
    Arc::new(b.finish())
}

fn utf8_owned(n: usize, it: impl Iterator<Item = Option<String>>) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(n, n * 16);
    for v in it {
        b.append_option(v);
    }
    Arc::new(b.finish())
}

fn dec(it: impl Iterator<Item = Option<i64>>, scale: u32) -> Result<ArrayRef, StoreError> {
    let a: Decimal128Array = it.map(|v| v.map(|x| x as i128)).collect();
    Ok(Arc::new(a.with_precision_and_scale(18, scale as i8)?))
}

fn ts(it: impl Iterator<Item = Option<NaiveDateTime>>) -> ArrayRef {
    let a: TimestampSecondArray = it.map(|v| v.map(|t| t.and_utc().timestamp())).collect();
    Arc::new(a)
}

fn date32(it: impl Iterator<Item = Option<NaiveDate>>) -> ArrayRef {
    let a: Date32Array = it.map(|v| v.map(days)).collect();
    Arc::new(a)
}

fn boolean(it: impl Iterator<Item = Option<bool>>) -> ArrayRef {
    let a: BooleanArray = it.collect();
    Arc::new(a)
}

fn int32(it: impl Iterator<Item = Option<i32>>) -> ArrayRef {
    let a: Int32Array = it.collect();
    Arc::new(a)
}

fn batch(table: Table, cols: Vec<ArrayRef>) -> Result<RecordBatch, StoreError> {
    Ok(RecordBatch::try_new(arrow_schema(table), cols)?)
}

// ---- column readers --------------------------------------------------------------------------

struct Cols<'a> {
    b: &'a RecordBatch,
    table: Table,
}

impl<'a> Cols<'a> {
    fn get<T: 'static>(&self, name: &str) -> Result<&'a T, StoreError> {
        let col = self.b.column_by_name(name).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{} 文件缺少列 {name} / claim file of {} lacks column {name}",
                self.table.name(),
                self.table.name()
            ))
        })?;
        col.as_any().downcast_ref::<T>().ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{} 文件列 {name} 类型错误 / column {name} of a {} file has type {}",
                self.table.name(),
                self.table.name(),
                col.data_type()
            ))
        })
    }
    fn str(&self, name: &str) -> Result<&'a StringArray, StoreError> {
        self.get(name)
    }
    fn dec(&self, name: &str) -> Result<&'a Decimal128Array, StoreError> {
        self.get(name)
    }
    fn ts(&self, name: &str) -> Result<&'a TimestampSecondArray, StoreError> {
        self.get(name)
    }
    fn date(&self, name: &str) -> Result<&'a Date32Array, StoreError> {
        self.get(name)
    }
    fn bool(&self, name: &str) -> Result<&'a BooleanArray, StoreError> {
        self.get(name)
    }
    fn int(&self, name: &str) -> Result<&'a Int32Array, StoreError> {
        self.get(name)
    }
}

fn null_err(table: Table, col: &str) -> StoreError {
    StoreError::Corrupt(format!(
        "{} 文件必填列 {col} 为空 / required column {col} is null in a {} file",
        table.name(),
        table.name()
    ))
}

fn rs(a: &StringArray, i: usize, t: Table, col: &str) -> Result<Code, StoreError> {
    if a.is_valid(i) {
        Ok(Code::from(a.value(i)))
    } else {
        Err(null_err(t, col))
    }
}
fn os(a: &StringArray, i: usize) -> Option<Code> {
    a.is_valid(i).then(|| Code::from(a.value(i)))
}
fn rd(a: &Decimal128Array, i: usize, t: Table, col: &str) -> Result<i64, StoreError> {
    if a.is_valid(i) {
        Ok(a.value(i) as i64)
    } else {
        Err(null_err(t, col))
    }
}
fn od(a: &Decimal128Array, i: usize) -> Option<i64> {
    a.is_valid(i).then(|| a.value(i) as i64)
}
fn secs_to_time(s: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(s, 0)
        .map(|d| d.naive_utc())
        .unwrap_or(NaiveDateTime::MIN)
}
fn rt(
    a: &TimestampSecondArray,
    i: usize,
    t: Table,
    col: &str,
) -> Result<NaiveDateTime, StoreError> {
    if a.is_valid(i) {
        Ok(secs_to_time(a.value(i)))
    } else {
        Err(null_err(t, col))
    }
}
fn ot(a: &TimestampSecondArray, i: usize) -> Option<NaiveDateTime> {
    a.is_valid(i).then(|| secs_to_time(a.value(i)))
}
fn rdate(a: &Date32Array, i: usize, t: Table, col: &str) -> Result<NaiveDate, StoreError> {
    if a.is_valid(i) {
        Ok(EPOCH + chrono::Duration::days(a.value(i) as i64))
    } else {
        Err(null_err(t, col))
    }
}
fn rb(a: &BooleanArray, i: usize) -> bool {
    a.is_valid(i) && a.value(i)
}

fn month_of(t: NaiveDateTime) -> YearMonth {
    YearMonth::of(t.date())
}

// ---- the eight tables ------------------------------------------------------------------------

impl ClaimRecord for Mdtrt {
    const TABLE: Table = Table::Mdtrt;
    fn key(&self, c: &mut Canon) {
        c.s(&self.mdtrt_id);
    }
    fn content(&self, c: &mut Canon) {
        c.s(&self.mdtrt_id);
        c.s(&self.psn_no);
        c.s(&self.fixmedins_code);
        c.s(&self.med_type);
        c.t(self.begntime);
        c.ot(self.endtime);
        c.s(&self.diag_code);
        c.os(self.dise_codg.as_deref());
        c.os(self.atddr_no.as_deref());
        c.b(self.emer_flag);
        c.os(self.refl_fixmedins_code.as_deref());
    }
    fn month(&self) -> Option<YearMonth> {
        Some(month_of(self.begntime))
    }
    fn to_arrow(r: &[&Self]) -> Result<RecordBatch, StoreError> {
        let n = r.len();
        batch(
            Self::TABLE,
            vec![
                utf8(n, r.iter().map(|x| Some(x.mdtrt_id.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.psn_no.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.fixmedins_code.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.med_type.as_str()))),
                ts(r.iter().map(|x| Some(x.begntime))),
                ts(r.iter().map(|x| x.endtime)),
                utf8(n, r.iter().map(|x| Some(x.diag_code.as_str()))),
                utf8(n, r.iter().map(|x| x.dise_codg.as_deref())),
                utf8(n, r.iter().map(|x| x.atddr_no.as_deref())),
                boolean(r.iter().map(|x| Some(x.emer_flag))),
                utf8(n, r.iter().map(|x| x.refl_fixmedins_code.as_deref())),
            ],
        )
    }
    fn from_arrow(b: &RecordBatch) -> Result<Vec<Self>, StoreError> {
        let t = Self::TABLE;
        let c = Cols { b, table: t };
        let (id, psn, fix, mt, bt, et, dc, dise, atd, emer, refl) = (
            c.str("mdtrt_id")?,
            c.str("psn_no")?,
            c.str("fixmedins_code")?,
            c.str("med_type")?,
            c.ts("begntime")?,
            c.ts("endtime")?,
            c.str("diag_code")?,
            c.str("dise_codg")?,
            c.str("atddr_no")?,
            c.bool("emer_flag")?,
            c.str("refl_fixmedins_code")?,
        );
        (0..b.num_rows())
            .map(|i| {
                Ok(Mdtrt {
                    mdtrt_id: rs(id, i, t, "mdtrt_id")?,
                    psn_no: rs(psn, i, t, "psn_no")?,
                    fixmedins_code: rs(fix, i, t, "fixmedins_code")?,
                    med_type: rs(mt, i, t, "med_type")?,
                    begntime: rt(bt, i, t, "begntime")?,
                    endtime: ot(et, i),
                    diag_code: rs(dc, i, t, "diag_code")?,
                    dise_codg: os(dise, i),
                    atddr_no: os(atd, i),
                    emer_flag: rb(emer, i),
                    refl_fixmedins_code: os(refl, i),
                })
            })
            .collect()
    }
    fn rows(batch: &mut Batch) -> &mut Vec<Self> {
        &mut batch.mdtrt
    }
}

impl ClaimRecord for Diag {
    const TABLE: Table = Table::Diag;
    fn key(&self, c: &mut Canon) {
        c.s(&self.mdtrt_id);
        c.s(&self.diag_code);
    }
    fn content(&self, c: &mut Canon) {
        c.s(&self.mdtrt_id);
        c.s(&self.diag_code);
        c.b(self.maindiag_flag);
    }
    fn month(&self) -> Option<YearMonth> {
        None
    }
    fn to_arrow(r: &[&Self]) -> Result<RecordBatch, StoreError> {
        let n = r.len();
        batch(
            Self::TABLE,
            vec![
                utf8(n, r.iter().map(|x| Some(x.mdtrt_id.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.diag_code.as_str()))),
                boolean(r.iter().map(|x| Some(x.maindiag_flag))),
            ],
        )
    }
    fn from_arrow(b: &RecordBatch) -> Result<Vec<Self>, StoreError> {
        let t = Self::TABLE;
        let c = Cols { b, table: t };
        let (id, dc, main) = (
            c.str("mdtrt_id")?,
            c.str("diag_code")?,
            c.bool("maindiag_flag")?,
        );
        (0..b.num_rows())
            .map(|i| {
                Ok(Diag {
                    mdtrt_id: rs(id, i, t, "mdtrt_id")?,
                    diag_code: rs(dc, i, t, "diag_code")?,
                    maindiag_flag: rb(main, i),
                })
            })
            .collect()
    }
    fn rows(batch: &mut Batch) -> &mut Vec<Self> {
        &mut batch.diag
    }
}

impl ClaimRecord for Setl {
    const TABLE: Table = Table::Setl;
    fn key(&self, c: &mut Canon) {
        c.s(&self.setl_id);
    }
    fn content(&self, c: &mut Canon) {
        c.s(&self.setl_id);
        c.s(&self.mdtrt_id);
        c.s(&self.psn_no);
        c.s(&self.fixmedins_code);
        c.t(self.setl_time);
        c.i(self.medfee_sumamt.0);
        c.i(self.hifp_pay.0);
        c.oi(self.acct_pay.map(|x| x.0));
        c.oi(self.psn_cash_pay.map(|x| x.0));
        c.oi(self.fund_pay_sumamt.map(|x| x.0));
        c.os(self.drg_codg.as_deref());
    }
    fn month(&self) -> Option<YearMonth> {
        Some(month_of(self.setl_time))
    }
    fn to_arrow(r: &[&Self]) -> Result<RecordBatch, StoreError> {
        let n = r.len();
        batch(
            Self::TABLE,
            vec![
                utf8(n, r.iter().map(|x| Some(x.setl_id.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.mdtrt_id.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.psn_no.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.fixmedins_code.as_str()))),
                ts(r.iter().map(|x| Some(x.setl_time))),
                dec(r.iter().map(|x| Some(x.medfee_sumamt.0)), Fen::SCALE)?,
                dec(r.iter().map(|x| Some(x.hifp_pay.0)), Fen::SCALE)?,
                dec(r.iter().map(|x| x.acct_pay.map(|v| v.0)), Fen::SCALE)?,
                dec(r.iter().map(|x| x.psn_cash_pay.map(|v| v.0)), Fen::SCALE)?,
                dec(r.iter().map(|x| x.fund_pay_sumamt.map(|v| v.0)), Fen::SCALE)?,
                utf8(n, r.iter().map(|x| x.drg_codg.as_deref())),
            ],
        )
    }
    fn from_arrow(b: &RecordBatch) -> Result<Vec<Self>, StoreError> {
        let t = Self::TABLE;
        let c = Cols { b, table: t };
        let (sid, mid, psn, fix, st) = (
            c.str("setl_id")?,
            c.str("mdtrt_id")?,
            c.str("psn_no")?,
            c.str("fixmedins_code")?,
            c.ts("setl_time")?,
        );
        let (sum, hifp, acct, cash, fund, drg) = (
            c.dec("medfee_sumamt")?,
            c.dec("hifp_pay")?,
            c.dec("acct_pay")?,
            c.dec("psn_cash_pay")?,
            c.dec("fund_pay_sumamt")?,
            c.str("drg_codg")?,
        );
        (0..b.num_rows())
            .map(|i| {
                Ok(Setl {
                    setl_id: rs(sid, i, t, "setl_id")?,
                    mdtrt_id: rs(mid, i, t, "mdtrt_id")?,
                    psn_no: rs(psn, i, t, "psn_no")?,
                    fixmedins_code: rs(fix, i, t, "fixmedins_code")?,
                    setl_time: rt(st, i, t, "setl_time")?,
                    medfee_sumamt: Fen(rd(sum, i, t, "medfee_sumamt")?),
                    hifp_pay: Fen(rd(hifp, i, t, "hifp_pay")?),
                    acct_pay: od(acct, i).map(Fen),
                    psn_cash_pay: od(cash, i).map(Fen),
                    fund_pay_sumamt: od(fund, i).map(Fen),
                    drg_codg: os(drg, i),
                })
            })
            .collect()
    }
    fn rows(batch: &mut Batch) -> &mut Vec<Self> {
        &mut batch.setl
    }
}

impl ClaimRecord for Fee {
    const TABLE: Table = Table::Fee;
    fn key(&self, c: &mut Canon) {
        c.s(&self.mdtrt_id);
        c.s(&self.feedetl_sn);
    }
    fn content(&self, c: &mut Canon) {
        c.s(&self.feedetl_sn);
        c.s(&self.mdtrt_id);
        c.s(&self.setl_id);
        c.s(&self.psn_no);
        c.s(&self.fixmedins_code);
        c.t(self.fee_ocur_time);
        c.s(&self.med_list_codg);
        c.i(self.cnt.0);
        c.i(self.pric.0);
        c.i(self.det_item_fee_sumamt.0);
        c.os(self.bilg_dr_codg.as_deref());
        c.os(self.hi_rxno.as_deref());
        c.list(&self.drug_trac_codg);
    }
    fn month(&self) -> Option<YearMonth> {
        Some(month_of(self.fee_ocur_time))
    }
    fn to_arrow(r: &[&Self]) -> Result<RecordBatch, StoreError> {
        let n = r.len();
        batch(
            Self::TABLE,
            vec![
                utf8(n, r.iter().map(|x| Some(x.feedetl_sn.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.mdtrt_id.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.setl_id.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.psn_no.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.fixmedins_code.as_str()))),
                ts(r.iter().map(|x| Some(x.fee_ocur_time))),
                utf8(n, r.iter().map(|x| Some(x.med_list_codg.as_str()))),
                dec(r.iter().map(|x| Some(x.cnt.0)), Qty::SCALE)?,
                dec(r.iter().map(|x| Some(x.pric.0)), Price::SCALE)?,
                dec(r.iter().map(|x| Some(x.det_item_fee_sumamt.0)), Fen::SCALE)?,
                utf8(n, r.iter().map(|x| x.bilg_dr_codg.as_deref())),
                utf8(n, r.iter().map(|x| x.hi_rxno.as_deref())),
                utf8_owned(
                    n,
                    r.iter()
                        .map(|x| (!x.drug_trac_codg.is_empty()).then(|| join(&x.drug_trac_codg))),
                ),
            ],
        )
    }
    fn from_arrow(b: &RecordBatch) -> Result<Vec<Self>, StoreError> {
        let t = Self::TABLE;
        let c = Cols { b, table: t };
        let (sn, mid, sid, psn, fix, ft, code) = (
            c.str("feedetl_sn")?,
            c.str("mdtrt_id")?,
            c.str("setl_id")?,
            c.str("psn_no")?,
            c.str("fixmedins_code")?,
            c.ts("fee_ocur_time")?,
            c.str("med_list_codg")?,
        );
        let (cnt, pric, amt, dr, rx, trac) = (
            c.dec("cnt")?,
            c.dec("pric")?,
            c.dec("det_item_fee_sumamt")?,
            c.str("bilg_dr_codg")?,
            c.str("hi_rxno")?,
            c.str("drug_trac_codg")?,
        );
        (0..b.num_rows())
            .map(|i| {
                Ok(Fee {
                    feedetl_sn: rs(sn, i, t, "feedetl_sn")?,
                    mdtrt_id: rs(mid, i, t, "mdtrt_id")?,
                    setl_id: rs(sid, i, t, "setl_id")?,
                    psn_no: rs(psn, i, t, "psn_no")?,
                    fixmedins_code: rs(fix, i, t, "fixmedins_code")?,
                    fee_ocur_time: rt(ft, i, t, "fee_ocur_time")?,
                    med_list_codg: rs(code, i, t, "med_list_codg")?,
                    cnt: Qty(rd(cnt, i, t, "cnt")?),
                    pric: Price(rd(pric, i, t, "pric")?),
                    det_item_fee_sumamt: Fen(rd(amt, i, t, "det_item_fee_sumamt")?),
                    bilg_dr_codg: os(dr, i),
                    hi_rxno: os(rx, i),
                    drug_trac_codg: if trac.is_valid(i) {
                        split_list(trac.value(i))
                    } else {
                        Vec::new()
                    },
                })
            })
            .collect()
    }
    fn rows(batch: &mut Batch) -> &mut Vec<Self> {
        &mut batch.fee
    }
}

impl ClaimRecord for Rx {
    const TABLE: Table = Table::Rx;
    fn key(&self, c: &mut Canon) {
        c.s(&self.hi_rxno);
        c.s(&self.med_list_codg);
    }
    fn content(&self, c: &mut Canon) {
        c.s(&self.hi_rxno);
        c.s(&self.fixmedins_code);
        c.s(&self.pract_code);
        c.s(&self.psn_no);
        c.t(self.issue_time);
        c.s(&self.med_list_codg);
        c.i(self.cnt.0);
        c.i(self.valid_days as i64);
    }
    fn month(&self) -> Option<YearMonth> {
        Some(month_of(self.issue_time))
    }
    fn to_arrow(r: &[&Self]) -> Result<RecordBatch, StoreError> {
        let n = r.len();
        batch(
            Self::TABLE,
            vec![
                utf8(n, r.iter().map(|x| Some(x.hi_rxno.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.fixmedins_code.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.pract_code.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.psn_no.as_str()))),
                ts(r.iter().map(|x| Some(x.issue_time))),
                utf8(n, r.iter().map(|x| Some(x.med_list_codg.as_str()))),
                dec(r.iter().map(|x| Some(x.cnt.0)), Qty::SCALE)?,
                int32(r.iter().map(|x| Some(x.valid_days as i32))),
            ],
        )
    }
    fn from_arrow(b: &RecordBatch) -> Result<Vec<Self>, StoreError> {
        let t = Self::TABLE;
        let c = Cols { b, table: t };
        let (rxno, fix, pr, psn, it, code, cnt, vd) = (
            c.str("hi_rxno")?,
            c.str("fixmedins_code")?,
            c.str("pract_code")?,
            c.str("psn_no")?,
            c.ts("issue_time")?,
            c.str("med_list_codg")?,
            c.dec("cnt")?,
            c.int("valid_days")?,
        );
        (0..b.num_rows())
            .map(|i| {
                Ok(Rx {
                    hi_rxno: rs(rxno, i, t, "hi_rxno")?,
                    fixmedins_code: rs(fix, i, t, "fixmedins_code")?,
                    pract_code: rs(pr, i, t, "pract_code")?,
                    psn_no: rs(psn, i, t, "psn_no")?,
                    issue_time: rt(it, i, t, "issue_time")?,
                    med_list_codg: rs(code, i, t, "med_list_codg")?,
                    cnt: Qty(rd(cnt, i, t, "cnt")?),
                    valid_days: if vd.is_valid(i) {
                        vd.value(i) as u16
                    } else {
                        3
                    },
                })
            })
            .collect()
    }
    fn rows(batch: &mut Batch) -> &mut Vec<Self> {
        &mut batch.rx
    }
}

impl ClaimRecord for InvPurc {
    const TABLE: Table = Table::InvPurc;
    fn key(&self, c: &mut Canon) {
        self.content(c)
    }
    fn content(&self, c: &mut Canon) {
        c.s(&self.fixmedins_code);
        c.s(&self.med_list_codg);
        c.i(self.purc_cnt.0);
        c.t(self.purc_time);
    }
    fn month(&self) -> Option<YearMonth> {
        Some(month_of(self.purc_time))
    }
    fn to_arrow(r: &[&Self]) -> Result<RecordBatch, StoreError> {
        let n = r.len();
        batch(
            Self::TABLE,
            vec![
                utf8(n, r.iter().map(|x| Some(x.fixmedins_code.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.med_list_codg.as_str()))),
                dec(r.iter().map(|x| Some(x.purc_cnt.0)), Qty::SCALE)?,
                ts(r.iter().map(|x| Some(x.purc_time))),
            ],
        )
    }
    fn from_arrow(b: &RecordBatch) -> Result<Vec<Self>, StoreError> {
        let t = Self::TABLE;
        let c = Cols { b, table: t };
        let (fix, code, cnt, pt) = (
            c.str("fixmedins_code")?,
            c.str("med_list_codg")?,
            c.dec("purc_cnt")?,
            c.ts("purc_time")?,
        );
        (0..b.num_rows())
            .map(|i| {
                Ok(InvPurc {
                    fixmedins_code: rs(fix, i, t, "fixmedins_code")?,
                    med_list_codg: rs(code, i, t, "med_list_codg")?,
                    purc_cnt: Qty(rd(cnt, i, t, "purc_cnt")?),
                    purc_time: rt(pt, i, t, "purc_time")?,
                })
            })
            .collect()
    }
    fn rows(batch: &mut Batch) -> &mut Vec<Self> {
        &mut batch.inv_purc
    }
}

impl ClaimRecord for InvStock {
    const TABLE: Table = Table::InvStock;
    fn key(&self, c: &mut Canon) {
        c.s(&self.fixmedins_code);
        c.s(&self.med_list_codg);
        c.d(self.inv_date);
    }
    fn content(&self, c: &mut Canon) {
        c.s(&self.fixmedins_code);
        c.s(&self.med_list_codg);
        c.i(self.inv_cnt.0);
        c.d(self.inv_date);
    }
    fn month(&self) -> Option<YearMonth> {
        Some(YearMonth::of(self.inv_date))
    }
    fn to_arrow(r: &[&Self]) -> Result<RecordBatch, StoreError> {
        let n = r.len();
        batch(
            Self::TABLE,
            vec![
                utf8(n, r.iter().map(|x| Some(x.fixmedins_code.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.med_list_codg.as_str()))),
                dec(r.iter().map(|x| Some(x.inv_cnt.0)), Qty::SCALE)?,
                date32(r.iter().map(|x| Some(x.inv_date))),
            ],
        )
    }
    fn from_arrow(b: &RecordBatch) -> Result<Vec<Self>, StoreError> {
        let t = Self::TABLE;
        let c = Cols { b, table: t };
        let (fix, code, cnt, d) = (
            c.str("fixmedins_code")?,
            c.str("med_list_codg")?,
            c.dec("inv_cnt")?,
            c.date("inv_date")?,
        );
        (0..b.num_rows())
            .map(|i| {
                Ok(InvStock {
                    fixmedins_code: rs(fix, i, t, "fixmedins_code")?,
                    med_list_codg: rs(code, i, t, "med_list_codg")?,
                    inv_cnt: Qty(rd(cnt, i, t, "inv_cnt")?),
                    inv_date: rdate(d, i, t, "inv_date")?,
                })
            })
            .collect()
    }
    fn rows(batch: &mut Batch) -> &mut Vec<Self> {
        &mut batch.inv_stock
    }
}

impl ClaimRecord for Idv {
    const TABLE: Table = Table::Idv;
    fn key(&self, c: &mut Canon) {
        self.content(c)
    }
    fn content(&self, c: &mut Canon) {
        c.s(&self.psn_no);
        c.s(&self.fixmedins_code);
        c.t(self.vrf_time);
        c.s(&self.vrf_way);
        c.b(self.vrf_rslt);
    }
    fn month(&self) -> Option<YearMonth> {
        Some(month_of(self.vrf_time))
    }
    fn to_arrow(r: &[&Self]) -> Result<RecordBatch, StoreError> {
        let n = r.len();
        batch(
            Self::TABLE,
            vec![
                utf8(n, r.iter().map(|x| Some(x.psn_no.as_str()))),
                utf8(n, r.iter().map(|x| Some(x.fixmedins_code.as_str()))),
                ts(r.iter().map(|x| Some(x.vrf_time))),
                utf8(n, r.iter().map(|x| Some(x.vrf_way.as_str()))),
                boolean(r.iter().map(|x| Some(x.vrf_rslt))),
            ],
        )
    }
    fn from_arrow(b: &RecordBatch) -> Result<Vec<Self>, StoreError> {
        let t = Self::TABLE;
        let c = Cols { b, table: t };
        let (psn, fix, vt, way, ok) = (
            c.str("psn_no")?,
            c.str("fixmedins_code")?,
            c.ts("vrf_time")?,
            c.str("vrf_way")?,
            c.bool("vrf_rslt")?,
        );
        (0..b.num_rows())
            .map(|i| {
                Ok(Idv {
                    psn_no: rs(psn, i, t, "psn_no")?,
                    fixmedins_code: rs(fix, i, t, "fixmedins_code")?,
                    vrf_time: rt(vt, i, t, "vrf_time")?,
                    vrf_way: rs(way, i, t, "vrf_way")?,
                    vrf_rslt: rb(ok, i),
                })
            })
            .collect()
    }
    fn rows(batch: &mut Batch) -> &mut Vec<Self> {
        &mut batch.idv
    }
}
