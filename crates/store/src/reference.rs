//! Reference tables in SQL (fixmedins, psn, pract, pract_susp, catalog, fund_month, budget):
//! records ↔ rows, and the natural-key upsert plan of a load.

use crate::StoreError;
use medfund_contract::codes::split_list;
use medfund_contract::money::{Fen, Price, Qty};
use medfund_contract::schema::Table;
use medfund_contract::time::parse_date;
use medfund_contract::{
    Batch, Budget, CatalogEntry, Code, Fixmedins, FixmedinsType, FundMonth, Gender, MedTypeLimit,
    Pract, PractSusp, Psn, SuspType, YearMonth,
};
use medfund_db::{Db, Row, Value};
use std::collections::HashMap;

/// A reference table's SQL shape: table name = contract name, key columns first.
pub(crate) struct RefShape {
    pub table: Table,
    pub cols: &'static [&'static str],
    pub key_len: usize,
}

pub(crate) const REF_TABLES: [RefShape; 7] = [
    RefShape {
        table: Table::Fixmedins,
        cols: &[
            "fixmedins_code",
            "fixmedins_name",
            "fixmedins_type",
            "hosp_lv",
            "admdvs",
        ],
        key_len: 1,
    },
    RefShape {
        table: Table::Psn,
        cols: &["psn_no", "gend", "brdy", "insutype", "insuplc_admdvs"],
        key_len: 1,
    },
    RefShape {
        table: Table::Pract,
        cols: &["pract_code", "pract_name", "pract_type", "fixmedins_code"],
        key_len: 1,
    },
    RefShape {
        table: Table::PractSusp,
        cols: &["pract_code", "begndate", "susp_type", "enddate"],
        key_len: 2,
    },
    RefShape {
        table: Table::Catalog,
        cols: &[
            "med_list_codg",
            "med_list_name",
            "list_type",
            "med_chrgitm_type",
            "chrgitm_lv",
            "pric_uplmt_amt",
            "lmt_gend",
            "lmt_age_min",
            "lmt_age_max",
            "lmt_hosp_lv",
            "lmt_med_type",
            "lmt_dise",
            "max_cnt_day",
            "max_cnt_mdtrt",
            "excl_codes",
            "incl_codes",
            "rx_only",
        ],
        key_len: 1,
    },
    RefShape {
        table: Table::FundMonth,
        cols: &["insutype", "month", "income", "expense", "balance"],
        key_len: 2,
    },
    RefShape {
        table: Table::Budget,
        cols: &[
            "fixmedins_code",
            "year",
            "cap_in",
            "cap_out",
            "approved_extra",
        ],
        key_len: 2,
    },
];

pub(crate) fn shape(t: Table) -> &'static RefShape {
    REF_TABLES
        .iter()
        .find(|s| s.table == t)
        .expect("reference table")
}

fn t(v: &str) -> Value {
    Value::Text(v.to_string())
}
fn ot(v: Option<&str>) -> Value {
    v.map(t).unwrap_or(Value::Null)
}
fn i(v: i64) -> Value {
    Value::Int(v)
}
fn oi(v: Option<i64>) -> Value {
    v.map(Value::Int).unwrap_or(Value::Null)
}
fn list(v: &[Code]) -> Value {
    if v.is_empty() {
        Value::Null
    } else {
        t(&v.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(";"))
    }
}

/// The SQL rows of a batch's reference table, in [`RefShape::cols`] order.
pub(crate) fn rows_of(batch: &Batch, table: Table) -> Vec<Vec<Value>> {
    match table {
        Table::Fixmedins => batch
            .fixmedins
            .iter()
            .map(|r| {
                vec![
                    t(&r.fixmedins_code),
                    t(&r.fixmedins_name),
                    t(r.fixmedins_type.code()),
                    oi(r.hosp_lv.map(i64::from)),
                    ot(r.admdvs.as_deref()),
                ]
            })
            .collect(),
        Table::Psn => batch
            .psn
            .iter()
            .map(|r| {
                vec![
                    t(&r.psn_no),
                    t(r.gend.code()),
                    t(&r.brdy.to_string()),
                    ot(r.insutype.as_deref()),
                    ot(r.insuplc_admdvs.as_deref()),
                ]
            })
            .collect(),
        Table::Pract => batch
            .pract
            .iter()
            .map(|r| {
                vec![
                    t(&r.pract_code),
                    t(&r.pract_name),
                    i(r.pract_type as i64),
                    t(&r.fixmedins_code),
                ]
            })
            .collect(),
        Table::PractSusp => batch
            .pract_susp
            .iter()
            .map(|r| {
                vec![
                    t(&r.pract_code),
                    t(&r.begndate.to_string()),
                    t(match r.susp_type {
                        SuspType::Suspend => "suspend",
                        SuspType::Terminate => "terminate",
                    }),
                    ot(r.enddate.map(|d| d.to_string()).as_deref()),
                ]
            })
            .collect(),
        Table::Catalog => batch
            .catalog
            .iter()
            .map(|r| {
                vec![
                    t(&r.med_list_codg),
                    t(&r.med_list_name),
                    i(r.list_type as i64),
                    ot(r.med_chrgitm_type.as_deref()),
                    oi(r.chrgitm_lv.map(i64::from)),
                    oi(r.pric_uplmt_amt.map(|p| p.0)),
                    ot(r.lmt_gend.map(|g| g.code())),
                    oi(r.lmt_age_min.map(i64::from)),
                    oi(r.lmt_age_max.map(i64::from)),
                    oi(r.lmt_hosp_lv.map(i64::from)),
                    ot(r.lmt_med_type.map(|m| match m {
                        MedTypeLimit::Opt => "opt",
                        MedTypeLimit::Ipt => "ipt",
                    })),
                    list(&r.lmt_dise),
                    oi(r.max_cnt_day.map(|q| q.0)),
                    oi(r.max_cnt_mdtrt.map(|q| q.0)),
                    list(&r.excl_codes),
                    list(&r.incl_codes),
                    i(r.rx_only as i64),
                ]
            })
            .collect(),
        Table::FundMonth => batch
            .fund_month
            .iter()
            .map(|r| {
                vec![
                    t(&r.insutype),
                    t(&r.month.to_string()),
                    i(r.income.0),
                    i(r.expense.0),
                    i(r.balance.0),
                ]
            })
            .collect(),
        Table::Budget => batch
            .budget
            .iter()
            .map(|r| {
                vec![
                    t(&r.fixmedins_code),
                    i(r.year as i64),
                    i(r.cap_in.0),
                    oi(r.cap_out.map(|f| f.0)),
                    oi(r.approved_extra.map(|f| f.0)),
                ]
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// What a load does to one reference table.
#[derive(Debug, Default)]
pub(crate) struct RefPlan {
    /// Rows to insert or update (natural-key upsert).
    pub upserts: Vec<Vec<Value>>,
    pub new: u64,
    pub updated: u64,
    pub same: u64,
}

/// Compares a batch's rows with what the table holds. Within the batch, the last row of a key wins.
pub(crate) fn plan(
    db: &mut Db,
    table: Table,
    rows: Vec<Vec<Value>>,
) -> Result<RefPlan, StoreError> {
    let s = shape(table);
    let mut plan = RefPlan::default();
    if rows.is_empty() {
        return Ok(plan);
    }
    let sql = format!("SELECT {} FROM {}", s.cols.join(", "), table.name());
    let mut existing: HashMap<Vec<Value>, Vec<Value>> = HashMap::new();
    for r in db.query(&sql, &[])? {
        existing.insert(r.values[..s.key_len].to_vec(), r.values);
    }
    let mut seen: HashMap<Vec<Value>, usize> = HashMap::new();
    for row in rows {
        let key = row[..s.key_len].to_vec();
        match existing.get(&key) {
            Some(old) if *old == row => plan.same += 1,
            Some(_) => {
                plan.updated += 1;
                push_unique(&mut plan.upserts, &mut seen, key, row);
            }
            None => {
                plan.new += 1;
                push_unique(&mut plan.upserts, &mut seen, key, row);
            }
        }
    }
    Ok(plan)
}

fn push_unique(
    out: &mut Vec<Vec<Value>>,
    seen: &mut HashMap<Vec<Value>, usize>,
    key: Vec<Value>,
    row: Vec<Value>,
) {
    match seen.get(&key) {
        Some(&i) => out[i] = row,
        None => {
            seen.insert(key, out.len());
            out.push(row);
        }
    }
}

/// Runs the upserts of a plan (inside the load's transaction).
pub(crate) fn apply(
    db: &mut Db,
    table: Table,
    plan: &RefPlan,
    load_id: i64,
) -> Result<(), StoreError> {
    let s = shape(table);
    let ncols = s.cols.len() + 1;
    let per = (4000 / ncols).max(1);
    let keys = &s.cols[..s.key_len];
    let set: Vec<String> = s.cols[s.key_len..]
        .iter()
        .chain(std::iter::once(&"load_id"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    for chunk in plan.upserts.chunks(per) {
        let mut params = Vec::with_capacity(chunk.len() * ncols);
        let mut tuples = Vec::with_capacity(chunk.len());
        for row in chunk {
            let start = params.len();
            params.extend(row.iter().cloned());
            params.push(Value::Int(load_id));
            let ph: Vec<String> = (start + 1..=params.len())
                .map(|n| format!("${n}"))
                .collect();
            tuples.push(format!("({})", ph.join(", ")));
        }
        let sql = format!(
            "INSERT INTO {} ({}, load_id) VALUES {} ON CONFLICT ({}) DO UPDATE SET {}",
            table.name(),
            s.cols.join(", "),
            tuples.join(", "),
            keys.join(", "),
            set.join(", ")
        );
        db.execute(&sql, &params)?;
    }
    Ok(())
}

// ---- reading back ----------------------------------------------------------------------------

fn bad(table: Table, col: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!(
        "{} 表 {col} 列的值 '{v}' 无法解析 / cannot read {col} '{v}' of table {}",
        table.zh(),
        table.name()
    ))
}

fn code(r: &Row, i: usize) -> Code {
    Code::from(r.text(i))
}
fn ocode(r: &Row, i: usize) -> Option<Code> {
    r.opt_text(i).map(Code::from)
}
fn date(table: Table, col: &str, v: &str) -> Result<chrono::NaiveDate, StoreError> {
    parse_date(v).map_err(|_| bad(table, col, v))
}
fn small<T: TryFrom<i64>>(
    table: Table,
    col: &str,
    v: Option<i64>,
) -> Result<Option<T>, StoreError> {
    v.map(|x| T::try_from(x).map_err(|_| bad(table, col, &x.to_string())))
        .transpose()
}

pub(crate) fn select(
    db: &mut Db,
    table: Table,
    filter: &str,
    params: &[Value],
) -> Result<Vec<Row>, StoreError> {
    let s = shape(table);
    let sql = format!(
        "SELECT {} FROM {} {} ORDER BY {}",
        s.cols.join(", "),
        table.name(),
        filter,
        s.cols[..s.key_len].join(", ")
    );
    Ok(db.query(&sql, params)?)
}

pub(crate) fn fixmedins(rows: Vec<Row>) -> Result<Vec<Fixmedins>, StoreError> {
    let tb = Table::Fixmedins;
    rows.iter()
        .map(|r| {
            Ok(Fixmedins {
                fixmedins_code: code(r, 0),
                fixmedins_name: r.text(1),
                fixmedins_type: FixmedinsType::parse(&r.text(2))
                    .ok_or_else(|| bad(tb, "fixmedins_type", &r.text(2)))?,
                hosp_lv: small(tb, "hosp_lv", r.opt_int(3))?,
                admdvs: ocode(r, 4),
            })
        })
        .collect()
}

pub(crate) fn psn(rows: Vec<Row>) -> Result<Vec<Psn>, StoreError> {
    let tb = Table::Psn;
    rows.iter()
        .map(|r| {
            Ok(Psn {
                psn_no: code(r, 0),
                gend: Gender::parse(&r.text(1)).ok_or_else(|| bad(tb, "gend", &r.text(1)))?,
                brdy: date(tb, "brdy", &r.text(2))?,
                insutype: ocode(r, 3),
                insuplc_admdvs: ocode(r, 4),
            })
        })
        .collect()
}

pub(crate) fn pract(rows: Vec<Row>) -> Result<Vec<Pract>, StoreError> {
    let tb = Table::Pract;
    rows.iter()
        .map(|r| {
            Ok(Pract {
                pract_code: code(r, 0),
                pract_name: r.text(1),
                pract_type: small(tb, "pract_type", r.opt_int(2))?.unwrap_or(0),
                fixmedins_code: code(r, 3),
            })
        })
        .collect()
}

pub(crate) fn pract_susp(rows: Vec<Row>) -> Result<Vec<PractSusp>, StoreError> {
    let tb = Table::PractSusp;
    rows.iter()
        .map(|r| {
            Ok(PractSusp {
                pract_code: code(r, 0),
                begndate: date(tb, "begndate", &r.text(1))?,
                susp_type: SuspType::parse(&r.text(2))
                    .ok_or_else(|| bad(tb, "susp_type", &r.text(2)))?,
                enddate: r.opt_text(3).map(|d| date(tb, "enddate", &d)).transpose()?,
            })
        })
        .collect()
}

pub(crate) fn catalog(rows: Vec<Row>) -> Result<Vec<CatalogEntry>, StoreError> {
    let tb = Table::Catalog;
    let lst = |r: &Row, i: usize| r.opt_text(i).map(|s| split_list(&s)).unwrap_or_default();
    rows.iter()
        .map(|r| {
            Ok(CatalogEntry {
                med_list_codg: code(r, 0),
                med_list_name: r.text(1),
                list_type: small(tb, "list_type", r.opt_int(2))?.unwrap_or(0),
                med_chrgitm_type: ocode(r, 3),
                chrgitm_lv: small(tb, "chrgitm_lv", r.opt_int(4))?,
                pric_uplmt_amt: r.opt_int(5).map(Price),
                lmt_gend: r
                    .opt_text(6)
                    .map(|g| Gender::parse(&g).ok_or_else(|| bad(tb, "lmt_gend", &g)))
                    .transpose()?,
                lmt_age_min: small(tb, "lmt_age_min", r.opt_int(7))?,
                lmt_age_max: small(tb, "lmt_age_max", r.opt_int(8))?,
                lmt_hosp_lv: small(tb, "lmt_hosp_lv", r.opt_int(9))?,
                lmt_med_type: r
                    .opt_text(10)
                    .map(|m| MedTypeLimit::parse(&m).ok_or_else(|| bad(tb, "lmt_med_type", &m)))
                    .transpose()?,
                lmt_dise: lst(r, 11),
                max_cnt_day: r.opt_int(12).map(Qty),
                max_cnt_mdtrt: r.opt_int(13).map(Qty),
                excl_codes: lst(r, 14),
                incl_codes: lst(r, 15),
                rx_only: r.int(16) != 0,
            })
        })
        .collect()
}

pub(crate) fn fund_month(rows: Vec<Row>) -> Result<Vec<FundMonth>, StoreError> {
    let tb = Table::FundMonth;
    rows.iter()
        .map(|r| {
            Ok(FundMonth {
                insutype: code(r, 0),
                month: YearMonth::parse(&r.text(1)).map_err(|_| bad(tb, "month", &r.text(1)))?,
                income: Fen(r.int(2)),
                expense: Fen(r.int(3)),
                balance: Fen(r.int(4)),
            })
        })
        .collect()
}

pub(crate) fn budget(rows: Vec<Row>) -> Result<Vec<Budget>, StoreError> {
    rows.iter()
        .map(|r| {
            Ok(Budget {
                fixmedins_code: code(r, 0),
                year: r.int(1) as i32,
                cap_in: Fen(r.int(2)),
                cap_out: r.opt_int(3).map(Fen),
                approved_extra: r.opt_int(4).map(Fen),
            })
        })
        .collect()
}

/// Every reference table into `batch`.
pub(crate) fn fill(db: &mut Db, batch: &mut Batch) -> Result<(), StoreError> {
    batch.fixmedins = fixmedins(select(db, Table::Fixmedins, "", &[])?)?;
    batch.psn = psn(select(db, Table::Psn, "", &[])?)?;
    batch.pract = pract(select(db, Table::Pract, "", &[])?)?;
    batch.pract_susp = pract_susp(select(db, Table::PractSusp, "", &[])?)?;
    batch.catalog = catalog(select(db, Table::Catalog, "", &[])?)?;
    batch.fund_month = fund_month(select(db, Table::FundMonth, "", &[])?)?;
    batch.budget = budget(select(db, Table::Budget, "", &[])?)?;
    Ok(())
}
