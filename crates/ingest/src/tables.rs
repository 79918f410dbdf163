//! One [`Record`] implementation per contract table: how a row becomes the typed record, its
//! natural key, and the references it must satisfy.
//!
//! Column indices below follow the order of `schema::Table::X.spec().columns`; the tests build a
//! valid row per table and blank each required column in turn to prove every index names the
//! right column.

use crate::fields::{Problem, Row};
use crate::KnownKeys;
use ahash::RandomState;
use medfund_contract::money::{Fen, Price, Qty};
use medfund_contract::records::*;
use medfund_contract::schema::Table;
use medfund_contract::Code;

pub(crate) use crate::keys::KeyIndex as KeySet;

/// Keys that references may point to: the batch's loaded records plus the store's.
pub(crate) struct Refs<'k> {
    pub check: bool,
    pub known: &'k dyn KnownKeys,
    pub psn: KeySet,
    pub fixmedins: KeySet,
    pub mdtrt: KeySet,
    pub setl: KeySet,
    pub catalog: KeySet,
    /// Built only to point compact fee lines at their doctors ([`crate::FeeLine`]).
    pub pract: KeySet,
}

impl<'k> Refs<'k> {
    pub fn new(check: bool, known: &'k dyn KnownKeys) -> Refs<'k> {
        Refs {
            check,
            known,
            psn: KeySet::default(),
            fixmedins: KeySet::default(),
            mdtrt: KeySet::default(),
            setl: KeySet::default(),
            catalog: KeySet::default(),
            pract: KeySet::default(),
        }
    }
}

/// Per chunk, the row each reference resolved to last (claim files list lines in the order of
/// their visits, so the next line's visit is the same row or the next one), and the last
/// reference that only the store knew.
#[derive(Default)]
pub(crate) struct RefCache {
    row: [u32; 4],
    known: [Code; 4],
}

#[derive(Clone, Copy)]
enum RefKind {
    Psn = 0,
    Fixmedins = 1,
    Mdtrt = 2,
    Setl = 3,
}

impl Refs<'_> {
    #[inline]
    fn need(
        &self,
        kind: RefKind,
        col: &'static str,
        v: &str,
        cache: &mut RefCache,
    ) -> Result<(), Problem> {
        let k = kind as usize;
        let ix = match kind {
            RefKind::Psn => &self.psn,
            RefKind::Fixmedins => &self.fixmedins,
            RefKind::Mdtrt => &self.mdtrt,
            RefKind::Setl => &self.setl,
        };
        if let Some(r) = ix.get_near(v, cache.row[k]) {
            cache.row[k] = r;
            return Ok(());
        }
        if !v.is_empty() && cache.known[k].as_str() == v {
            return Ok(());
        }
        let known = match kind {
            RefKind::Psn => self.known.has_psn(v),
            RefKind::Fixmedins => self.known.has_fixmedins(v),
            RefKind::Mdtrt => self.known.has_mdtrt(v),
            RefKind::Setl => self.known.has_setl(v),
        };
        if known {
            cache.known[k] = Code::from(v);
            Ok(())
        } else {
            let (zh, en) = match kind {
                RefKind::Psn => ("参保人", "insured person"),
                RefKind::Fixmedins => ("定点机构", "institution"),
                RefKind::Mdtrt => ("就诊记录", "visit"),
                RefKind::Setl => ("结算记录", "settlement"),
            };
            Err(Problem::unknown_ref(col, zh, en, v))
        }
    }

    pub fn catalog_known(&self, code: &str) -> bool {
        self.catalog.contains(code) || self.known.has_catalog(code)
    }
}

/// A typed record of one contract table.
pub(crate) trait Record: Sized + Clone + Send + Sync + PartialEq {
    const TABLE: Table;
    /// Builds the record, checking every field.
    fn parse(r: &Row) -> Result<Self, Problem>;
    /// Like [`Record::parse`], for the record following `prev` in the file: a field holding the
    /// same text as `prev`'s (a visit's lines share the visit, person and institution) is taken
    /// from it without checking it again.
    fn parse_after(r: &Row, _prev: Option<&Self>) -> Result<Self, Problem> {
        Self::parse(r)
    }
    /// [`Record::parse_after`] with the batch read so far at hand, for records that point at
    /// its rows.
    fn parse_in(r: &Row, prev: Option<&Self>, _env: &crate::load::Env) -> Result<Self, Problem> {
        Self::parse_after(r, prev)
    }
    /// Hash of the natural key (the whole record for tables without one).
    fn key_hash(&self, s: &RandomState) -> u64;
    fn same_key(&self, o: &Self) -> bool;
    /// Whether this record's key sorts strictly before `o`'s.
    fn key_before(&self, o: &Self) -> bool;
    /// How the first key column compares with `o`'s.
    fn prefix_cmp(&self, o: &Self) -> std::cmp::Ordering;
    /// [`Record::key_before`] for records whose first key columns are equal: only the other
    /// columns are compared (the order check runs it on every record of a sorted extract).
    fn rest_before(&self, o: &Self) -> bool {
        self.key_before(o)
    }
    /// The key for messages: `(a, b)`.
    fn key_text(&self) -> String;
    /// References to other tables (only called when reference checks are on).
    fn check_refs(&self, _refs: &Refs, _cache: &mut RefCache) -> Result<(), Problem> {
        Ok(())
    }
    /// Whether this is a fee line with a code unknown to the catalog.
    fn unknown_catalog(&self, _refs: &Refs) -> bool {
        false
    }
    /// Hands the loaded rows to the batch and registers their keys for later tables' references.
    fn store(rows: Vec<Self>, b: &mut Batch, refs: &mut Refs);
    /// Whether the table can be held as [`crate::FeeLine`]s (fee only).
    const COMPACTS: bool = false;
    /// Writes the compact form of `rows` into `out` (one slot each; see [`crate::compact`]),
    /// emptying `rows`; only called when [`Record::COMPACTS`].
    fn compact(rows: &mut Vec<Self>, out: &mut [std::mem::MaybeUninit<crate::FeeLine>]) {
        let _ = (rows, out);
        unreachable!("{} is not held compactly", Self::TABLE.name())
    }
}

macro_rules! keyed {
    ($first:ident $(, $rest:ident)*) => {
        keyed!(@ $first $(, $rest)*);
        fn prefix_cmp(&self, o: &Self) -> std::cmp::Ordering {
            if medfund_contract::codes::same_text(&self.$first, &o.$first) {
                std::cmp::Ordering::Equal
            } else {
                self.$first.cmp(&o.$first)
            }
        }
        keyed!(@rest $($rest),*);
    };
    (@rest) => {
        // A one-column key: equal first columns are equal keys.
        fn rest_before(&self, _: &Self) -> bool {
            false
        }
    };
    (@rest $($rest:ident),+) => {
        fn rest_before(&self, o: &Self) -> bool {
            ($(&self.$rest,)+) < ($(&o.$rest,)+)
        }
    };
    (@ $($f:ident),+) => {
        fn key_hash(&self, s: &RandomState) -> u64 {
            s.hash_one(($(&self.$f,)+))
        }
        fn same_key(&self, o: &Self) -> bool {
            true $(&& self.$f == o.$f)+
        }
        fn key_before(&self, o: &Self) -> bool {
            ($(&self.$f,)+) < ($(&o.$f,)+)
        }
        fn key_text(&self) -> String {
            let parts: Vec<String> = vec![$(self.$f.to_string()),+];
            format!("({})", parts.join(", "))
        }
    };
}

fn enum_value<T>(r: &Row, i: usize, parse: impl Fn(&str) -> Option<T>) -> Result<T, Problem> {
    let v = r.str(i)?;
    parse(v).ok_or_else(|| {
        let c = r.spec.columns[i].name;
        Problem::new(
            Some(c),
            format!("{c} 取值 '{v}' 无法识别"),
            format!("{c} value '{v}' is not recognised"),
        )
    })
}

impl Record for Fixmedins {
    const TABLE: Table = Table::Fixmedins;
    fn parse(r: &Row) -> Result<Self, Problem> {
        Ok(Fixmedins {
            fixmedins_code: r.code(0)?,
            fixmedins_name: r.text(1)?,
            fixmedins_type: enum_value(r, 2, FixmedinsType::parse)?,
            hosp_lv: r.opt_u8(3)?,
            admdvs: r.opt_code(4)?,
        })
    }
    keyed!(fixmedins_code);
    fn store(rows: Vec<Self>, b: &mut Batch, refs: &mut Refs) {
        refs.fixmedins = KeySet::build_distinct_by(&rows, |r| &r.fixmedins_code);
        b.fixmedins = rows;
    }
}

impl Record for Psn {
    const TABLE: Table = Table::Psn;
    fn parse(r: &Row) -> Result<Self, Problem> {
        Ok(Psn {
            psn_no: r.code(0)?,
            gend: enum_value(r, 1, Gender::parse)?,
            brdy: r.date(2)?,
            insutype: r.opt_code(3)?,
            insuplc_admdvs: r.opt_code(4)?,
        })
    }
    keyed!(psn_no);
    fn store(rows: Vec<Self>, b: &mut Batch, refs: &mut Refs) {
        refs.psn = KeySet::build_distinct_by(&rows, |r| &r.psn_no);
        b.psn = rows;
    }
}

impl Record for Pract {
    const TABLE: Table = Table::Pract;
    fn parse(r: &Row) -> Result<Self, Problem> {
        Ok(Pract {
            pract_code: r.code(0)?,
            pract_name: r.text(1)?,
            pract_type: r.u8(2)?,
            fixmedins_code: r.code(3)?,
        })
    }
    keyed!(pract_code);
    fn check_refs(&self, refs: &Refs, c: &mut RefCache) -> Result<(), Problem> {
        refs.need(
            RefKind::Fixmedins,
            "fixmedins_code",
            &self.fixmedins_code,
            c,
        )
    }
    fn store(rows: Vec<Self>, b: &mut Batch, refs: &mut Refs) {
        refs.pract = KeySet::build_distinct_by(&rows, |r| &r.pract_code);
        b.pract = rows;
    }
}

impl Record for PractSusp {
    const TABLE: Table = Table::PractSusp;
    fn parse(r: &Row) -> Result<Self, Problem> {
        Ok(PractSusp {
            pract_code: r.code(0)?,
            susp_type: enum_value(r, 1, SuspType::parse)?,
            begndate: r.date(2)?,
            enddate: r.opt_date(3)?,
        })
    }
    keyed!(pract_code, begndate);
    fn store(rows: Vec<Self>, b: &mut Batch, _refs: &mut Refs) {
        b.pract_susp = rows;
    }
}

impl Record for CatalogEntry {
    const TABLE: Table = Table::Catalog;
    fn parse(r: &Row) -> Result<Self, Problem> {
        Ok(CatalogEntry {
            med_list_codg: r.code(0)?,
            med_list_name: r.text(1)?,
            list_type: r.u8(2)?,
            med_chrgitm_type: r.opt_code(3)?,
            chrgitm_lv: r.opt_u8(4)?,
            pric_uplmt_amt: r.opt_dec::<Price>(5)?,
            lmt_gend: match r.opt_str(6)? {
                None => None,
                Some(v) => Gender::parse(v),
            },
            lmt_age_min: r.opt_int(7)?,
            lmt_age_max: r.opt_int(8)?,
            lmt_hosp_lv: r.opt_u8(9)?,
            lmt_med_type: match r.opt_str(10)? {
                None => None,
                Some(v) => MedTypeLimit::parse(v),
            },
            lmt_dise: r.list(11)?,
            max_cnt_day: r.opt_dec::<Qty>(12)?,
            max_cnt_mdtrt: r.opt_dec::<Qty>(13)?,
            excl_codes: r.list(14)?,
            incl_codes: r.list(15)?,
            rx_only: r.flag(16)?,
        })
    }
    keyed!(med_list_codg);
    fn store(rows: Vec<Self>, b: &mut Batch, refs: &mut Refs) {
        refs.catalog = KeySet::build_distinct_by(&rows, |r| &r.med_list_codg);
        b.catalog = rows;
    }
}

impl Record for Mdtrt {
    const TABLE: Table = Table::Mdtrt;
    fn parse(r: &Row) -> Result<Self, Problem> {
        Self::parse_after(r, None)
    }
    fn parse_after(r: &Row, prev: Option<&Self>) -> Result<Self, Problem> {
        Ok(Mdtrt {
            mdtrt_id: r.code(0)?,
            psn_no: r.code_as(1, prev.map(|p| &p.psn_no))?,
            fixmedins_code: r.code_as(2, prev.map(|p| &p.fixmedins_code))?,
            med_type: r.code_as(3, prev.map(|p| &p.med_type))?,
            begntime: r.datetime(4)?,
            endtime: r.opt_datetime(5)?,
            diag_code: r.code(6)?,
            dise_codg: r.opt_code(7)?,
            atddr_no: r.opt_code_as(8, prev.map(|p| &p.atddr_no))?,
            emer_flag: r.flag(9)?,
            refl_fixmedins_code: r.opt_code(10)?,
        })
    }
    keyed!(mdtrt_id);
    fn check_refs(&self, refs: &Refs, c: &mut RefCache) -> Result<(), Problem> {
        refs.need(RefKind::Psn, "psn_no", &self.psn_no, c)?;
        refs.need(
            RefKind::Fixmedins,
            "fixmedins_code",
            &self.fixmedins_code,
            c,
        )
    }
    fn store(rows: Vec<Self>, b: &mut Batch, refs: &mut Refs) {
        refs.mdtrt = KeySet::build_distinct_by(&rows, |r| &r.mdtrt_id);
        b.mdtrt = rows;
    }
}

impl Record for Diag {
    const TABLE: Table = Table::Diag;
    fn parse(r: &Row) -> Result<Self, Problem> {
        Self::parse_after(r, None)
    }
    fn parse_after(r: &Row, prev: Option<&Self>) -> Result<Self, Problem> {
        Ok(Diag {
            mdtrt_id: r.code_as(0, prev.map(|p| &p.mdtrt_id))?,
            diag_code: r.code(1)?,
            maindiag_flag: r.flag(2)?,
        })
    }
    keyed!(mdtrt_id, diag_code);
    fn check_refs(&self, refs: &Refs, c: &mut RefCache) -> Result<(), Problem> {
        refs.need(RefKind::Mdtrt, "mdtrt_id", &self.mdtrt_id, c)
    }
    fn store(rows: Vec<Self>, b: &mut Batch, _refs: &mut Refs) {
        b.diag = rows;
    }
}

impl Record for Setl {
    const TABLE: Table = Table::Setl;
    fn parse(r: &Row) -> Result<Self, Problem> {
        Self::parse_after(r, None)
    }
    fn parse_after(r: &Row, prev: Option<&Self>) -> Result<Self, Problem> {
        Ok(Setl {
            setl_id: r.code(0)?,
            mdtrt_id: r.code(1)?,
            psn_no: r.code_as(2, prev.map(|p| &p.psn_no))?,
            fixmedins_code: r.code_as(3, prev.map(|p| &p.fixmedins_code))?,
            setl_time: r.datetime(4)?,
            medfee_sumamt: r.dec::<Fen>(5)?,
            hifp_pay: r.dec::<Fen>(6)?,
            acct_pay: r.opt_dec::<Fen>(7)?,
            psn_cash_pay: r.opt_dec::<Fen>(8)?,
            fund_pay_sumamt: r.opt_dec::<Fen>(9)?,
            drg_codg: r.opt_code(10)?,
        })
    }
    keyed!(setl_id);
    fn check_refs(&self, refs: &Refs, c: &mut RefCache) -> Result<(), Problem> {
        refs.need(RefKind::Mdtrt, "mdtrt_id", &self.mdtrt_id, c)
    }
    fn store(rows: Vec<Self>, b: &mut Batch, refs: &mut Refs) {
        refs.setl = KeySet::build_distinct_by(&rows, |r| &r.setl_id);
        b.setl = rows;
    }
}

/// The fee line's amount must not differ from `cnt × pric` by more than 0.01 yuan (DOMAIN.md
/// §3; refund lines have both negative). Compared exactly: the product has 10 decimals (Qty 4,
/// Price 6), so the amount is scaled by 10⁸ rather than the product rounded first.
pub(crate) fn check_fee_amount(cnt: Qty, pric: Price, amt: Fen) -> Result<(), Problem> {
    const FEN_TO_PRODUCT: i128 = 100_000_000;
    let exact = cnt.0 as i128 * pric.0 as i128;
    let calc = cnt.times(pric);
    if (exact - amt.0 as i128 * FEN_TO_PRODUCT).abs() > FEN_TO_PRODUCT {
        Err(Problem::new(
            Some("det_item_fee_sumamt"),
            format!("数量×单价 = {cnt} × {pric} = {calc} 元，与明细金额 {amt} 元相差超过 0.01 元"),
            format!("cnt × pric = {cnt} × {pric} = {calc} differs from det_item_fee_sumamt {amt} by more than 0.01 yuan"),
        ))
    } else {
        Ok(())
    }
}

impl Record for Fee {
    const TABLE: Table = Table::Fee;
    fn parse(r: &Row) -> Result<Self, Problem> {
        Self::parse_after(r, None)
    }
    fn parse_after(r: &Row, prev: Option<&Self>) -> Result<Self, Problem> {
        let fee = Fee {
            feedetl_sn: r.code(0)?,
            mdtrt_id: r.code_as(1, prev.map(|p| &p.mdtrt_id))?,
            setl_id: r.code_as(2, prev.map(|p| &p.setl_id))?,
            psn_no: r.code_as(3, prev.map(|p| &p.psn_no))?,
            fixmedins_code: r.code_as(4, prev.map(|p| &p.fixmedins_code))?,
            fee_ocur_time: r.datetime(5)?,
            med_list_codg: r.code(6)?,
            cnt: r.dec::<Qty>(7)?,
            pric: r.dec::<Price>(8)?,
            det_item_fee_sumamt: r.dec::<Fen>(9)?,
            bilg_dr_codg: r.opt_code_as(10, prev.map(|p| &p.bilg_dr_codg))?,
            hi_rxno: r.opt_code(11)?,
            drug_trac_codg: r.list(12)?,
        };
        check_fee_amount(fee.cnt, fee.pric, fee.det_item_fee_sumamt)?;
        Ok(fee)
    }
    keyed!(mdtrt_id, feedetl_sn);
    fn check_refs(&self, refs: &Refs, c: &mut RefCache) -> Result<(), Problem> {
        refs.need(RefKind::Mdtrt, "mdtrt_id", &self.mdtrt_id, c)?;
        refs.need(RefKind::Setl, "setl_id", &self.setl_id, c)?;
        refs.need(RefKind::Psn, "psn_no", &self.psn_no, c)?;
        refs.need(
            RefKind::Fixmedins,
            "fixmedins_code",
            &self.fixmedins_code,
            c,
        )
    }
    fn unknown_catalog(&self, refs: &Refs) -> bool {
        !refs.catalog_known(&self.med_list_codg)
    }
    fn store(rows: Vec<Self>, b: &mut Batch, _refs: &mut Refs) {
        b.fee = rows;
    }
}

impl Record for Rx {
    const TABLE: Table = Table::Rx;
    fn parse(r: &Row) -> Result<Self, Problem> {
        Ok(Rx {
            hi_rxno: r.code(0)?,
            fixmedins_code: r.code(1)?,
            pract_code: r.code(2)?,
            psn_no: r.code(3)?,
            issue_time: r.datetime(4)?,
            med_list_codg: r.code(5)?,
            cnt: r.dec::<Qty>(6)?,
            // DOMAIN.md §3: a prescription is valid 3 days unless it says otherwise.
            valid_days: r.opt_int(7)?.unwrap_or(3),
        })
    }
    keyed!(hi_rxno, med_list_codg);
    fn check_refs(&self, refs: &Refs, c: &mut RefCache) -> Result<(), Problem> {
        refs.need(RefKind::Psn, "psn_no", &self.psn_no, c)?;
        refs.need(
            RefKind::Fixmedins,
            "fixmedins_code",
            &self.fixmedins_code,
            c,
        )
    }
    fn store(rows: Vec<Self>, b: &mut Batch, _refs: &mut Refs) {
        b.rx = rows;
    }
}

impl Record for InvPurc {
    const TABLE: Table = Table::InvPurc;
    fn parse(r: &Row) -> Result<Self, Problem> {
        Ok(InvPurc {
            fixmedins_code: r.code(0)?,
            med_list_codg: r.code(1)?,
            purc_cnt: r.dec::<Qty>(2)?,
            purc_time: r.datetime(3)?,
        })
    }
    keyed!(fixmedins_code, med_list_codg, purc_cnt, purc_time);
    fn check_refs(&self, refs: &Refs, c: &mut RefCache) -> Result<(), Problem> {
        refs.need(
            RefKind::Fixmedins,
            "fixmedins_code",
            &self.fixmedins_code,
            c,
        )
    }
    fn store(rows: Vec<Self>, b: &mut Batch, _refs: &mut Refs) {
        b.inv_purc = rows;
    }
}

impl Record for InvStock {
    const TABLE: Table = Table::InvStock;
    fn parse(r: &Row) -> Result<Self, Problem> {
        Ok(InvStock {
            fixmedins_code: r.code(0)?,
            med_list_codg: r.code(1)?,
            inv_cnt: r.dec::<Qty>(2)?,
            inv_date: r.date(3)?,
        })
    }
    keyed!(fixmedins_code, med_list_codg, inv_date);
    fn check_refs(&self, refs: &Refs, c: &mut RefCache) -> Result<(), Problem> {
        refs.need(
            RefKind::Fixmedins,
            "fixmedins_code",
            &self.fixmedins_code,
            c,
        )
    }
    fn store(rows: Vec<Self>, b: &mut Batch, _refs: &mut Refs) {
        b.inv_stock = rows;
    }
}

impl Record for Idv {
    const TABLE: Table = Table::Idv;
    fn parse(r: &Row) -> Result<Self, Problem> {
        Self::parse_after(r, None)
    }
    fn parse_after(r: &Row, prev: Option<&Self>) -> Result<Self, Problem> {
        Ok(Idv {
            psn_no: r.code_as(0, prev.map(|p| &p.psn_no))?,
            fixmedins_code: r.code_as(1, prev.map(|p| &p.fixmedins_code))?,
            vrf_time: r.datetime(2)?,
            vrf_way: r.code_as(3, prev.map(|p| &p.vrf_way))?,
            vrf_rslt: r.str(4)? == "1",
        })
    }
    keyed!(psn_no, fixmedins_code, vrf_time, vrf_way, vrf_rslt);
    fn check_refs(&self, refs: &Refs, c: &mut RefCache) -> Result<(), Problem> {
        refs.need(RefKind::Psn, "psn_no", &self.psn_no, c)?;
        refs.need(
            RefKind::Fixmedins,
            "fixmedins_code",
            &self.fixmedins_code,
            c,
        )
    }
    fn store(rows: Vec<Self>, b: &mut Batch, _refs: &mut Refs) {
        b.idv = rows;
    }
}

impl Record for FundMonth {
    const TABLE: Table = Table::FundMonth;
    fn parse(r: &Row) -> Result<Self, Problem> {
        Ok(FundMonth {
            insutype: r.code(0)?,
            month: r.month(1)?,
            income: r.dec::<Fen>(2)?,
            expense: r.dec::<Fen>(3)?,
            balance: r.dec::<Fen>(4)?,
        })
    }
    keyed!(insutype, month);
    fn store(rows: Vec<Self>, b: &mut Batch, _refs: &mut Refs) {
        b.fund_month = rows;
    }
}

impl Record for Budget {
    const TABLE: Table = Table::Budget;
    fn parse(r: &Row) -> Result<Self, Problem> {
        Ok(Budget {
            fixmedins_code: r.code(0)?,
            year: r.int::<i32>(1)?,
            cap_in: r.dec::<Fen>(2)?,
            cap_out: r.opt_dec::<Fen>(3)?,
            approved_extra: r.opt_dec::<Fen>(4)?,
        })
    }
    keyed!(fixmedins_code, year);
    fn check_refs(&self, refs: &Refs, c: &mut RefCache) -> Result<(), Problem> {
        refs.need(
            RefKind::Fixmedins,
            "fixmedins_code",
            &self.fixmedins_code,
            c,
        )
    }
    fn store(rows: Vec<Self>, b: &mut Batch, _refs: &mut Refs) {
        b.budget = rows;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Layout;
    use std::borrow::Cow;

    /// A valid value for every column of every table, by column name.
    fn sample(col: &str) -> &'static str {
        match col {
            "fixmedins_code" | "refl_fixmedins_code" => "H11010100001",
            "psn_no" => "P0001",
            "pract_code" | "atddr_no" | "bilg_dr_codg" => "D110101000123",
            "med_list_codg" => "XL02BBA326A001010102180",
            "diag_code" => "E11.900",
            "admdvs" | "insuplc_admdvs" => "110101",
            "gend" | "fixmedins_type" | "list_type" | "chrgitm_lv" | "lmt_gend" | "hosp_lv"
            | "lmt_hosp_lv" | "pract_type" => "1",
            "insutype" => "310",
            "susp_type" => "suspend",
            "med_chrgitm_type" => "09",
            "med_type" => "11",
            "lmt_med_type" => "opt",
            "lmt_dise" => "E11;I10.x",
            "excl_codes" | "incl_codes" => "003105050010000",
            "drug_trac_codg" => "81234567890123456789",
            "vrf_way" => "face",
            "rx_only" | "emer_flag" | "maindiag_flag" | "vrf_rslt" => "1",
            "month" => "2024-03",
            "year" | "lmt_age_min" | "lmt_age_max" | "valid_days" => "7",
            "cnt" | "purc_cnt" | "inv_cnt" | "max_cnt_day" | "max_cnt_mdtrt" => "2",
            "pric" | "pric_uplmt_amt" => "1.5",
            "det_item_fee_sumamt" => "3.00",
            "brdy" | "begndate" | "enddate" | "inv_date" => "2000-01-31",
            c if c.ends_with("time") => "2024-03-01 08:00:00",
            c if c.ends_with("_id") || c == "feedetl_sn" || c == "hi_rxno" => "ID-1",
            "medfee_sumamt" | "hifp_pay" | "acct_pay" | "psn_cash_pay" | "fund_pay_sumamt"
            | "income" | "expense" | "balance" | "cap_in" | "cap_out" | "approved_extra" => "10.5",
            _ => "name",
        }
    }

    fn parse_with<R: Record>(vals: &[Cow<str>]) -> Result<R, Problem> {
        let l = Layout::identity(R::TABLE.spec());
        R::parse(&Row {
            vals,
            idx: &l.idx,
            numeric: &l.numeric,
            spec: R::TABLE.spec(),
        })
    }

    fn each_required_column_is_named<R: Record>() {
        let spec = R::TABLE.spec();
        let vals: Vec<Cow<str>> = spec
            .columns
            .iter()
            .map(|c| Cow::Borrowed(sample(c.name)))
            .collect();
        assert!(
            parse_with::<R>(&vals).is_ok(),
            "{}: {:?}",
            spec.name,
            parse_with::<R>(&vals).err()
        );
        for (i, c) in spec.columns.iter().enumerate() {
            let mut v = vals.clone();
            v[i] = Cow::Borrowed("");
            let res = parse_with::<R>(&v);
            if c.required {
                assert_eq!(
                    res.err().and_then(|p| p.column),
                    Some(c.name),
                    "{}.{}",
                    spec.name,
                    c.name
                );
            } else {
                assert!(res.is_ok(), "{}.{} is optional", spec.name, c.name);
            }
            // A value no kind accepts (except free text) names the column too.
            v[i] = Cow::Borrowed("??");
            if !matches!(c.kind, medfund_contract::schema::Kind::Text) {
                assert_eq!(
                    parse_with::<R>(&v).err().and_then(|p| p.column),
                    Some(c.name),
                    "{}.{}",
                    spec.name,
                    c.name
                );
            }
        }
    }

    #[test]
    fn column_indices_match_the_spec() {
        each_required_column_is_named::<Fixmedins>();
        each_required_column_is_named::<Psn>();
        each_required_column_is_named::<Pract>();
        each_required_column_is_named::<PractSusp>();
        each_required_column_is_named::<CatalogEntry>();
        each_required_column_is_named::<Mdtrt>();
        each_required_column_is_named::<Diag>();
        each_required_column_is_named::<Setl>();
        each_required_column_is_named::<Fee>();
        each_required_column_is_named::<Rx>();
        each_required_column_is_named::<InvPurc>();
        each_required_column_is_named::<InvStock>();
        each_required_column_is_named::<Idv>();
        each_required_column_is_named::<FundMonth>();
        each_required_column_is_named::<Budget>();
    }

    #[test]
    fn fee_amount_differs_by_at_most_0_01_exactly() {
        let q = |s: &str| s.parse::<Qty>().unwrap();
        let p = |s: &str| s.parse::<Price>().unwrap();
        let f = |s: &str| s.parse::<Fen>().unwrap();
        // 3 × 12.345678 = 37.037034 exactly: 37.04 (0.002966 off) and 37.03 (0.007034) are
        // within 0.01; 37.05 (0.012966) and 37.02 (0.017034) are not.
        assert!(check_fee_amount(q("3"), p("12.345678"), f("37.04")).is_ok());
        assert!(check_fee_amount(q("3"), p("12.345678"), f("37.03")).is_ok());
        assert!(check_fee_amount(q("3"), p("12.345678"), f("37.05")).is_err());
        assert!(check_fee_amount(q("3"), p("12.345678"), f("37.02")).is_err());
        // Exactly 0.01 off is still within: 2 × 5.005 = 10.01, billed 10.00 or 10.02.
        assert!(check_fee_amount(q("2"), p("5.005"), f("10.00")).is_ok());
        assert!(check_fee_amount(q("2"), p("5.005"), f("10.02")).is_ok());
        assert!(check_fee_amount(q("2"), p("5.005"), f("10.03")).is_err());
        // Refund: −2 × 5.00 = −10.00.
        assert!(check_fee_amount(q("-2"), p("5"), f("-10.00")).is_ok());
        assert!(check_fee_amount(q("-2"), p("5"), f("10.00")).is_err());
    }
}
