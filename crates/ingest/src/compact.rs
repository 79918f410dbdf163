//! Fee lines held compactly for the batch audit.
//!
//! A fee line as a contract record ([`Fee`]) is 256 bytes, most of it codes that repeat the
//! line's visit, settlement, item and doctor. Ten million of them are 2.5 GB of fresh memory, and
//! on the servers measured here taking fresh memory from the kernel costs more than parsing the
//! text that fills it. When a batch is read only to be audited ([`crate::Options::compact_fee`]),
//! each line is parsed straight into a [`FeeLine`] (88 bytes) that points at the rows of the
//! batch's other tables instead ([`FeeCompact`]); the audit reads the lines through those rows,
//! and [`FeeLine::to_fee`] gives back a [`Fee`] equal field for field to what a full parse gives.

use crate::fields::{Problem, Row};
use crate::load::Env;
use crate::tables::{check_fee_amount, Record, RefCache, Refs};
use ahash::RandomState;
use chrono::NaiveDateTime;
use medfund_contract::codes::same_text;
use medfund_contract::records::Fee;
use medfund_contract::schema::Table;
use medfund_contract::{Batch, Code, Fen, Price, Qty};

/// "No row": the line has no billing doctor.
pub const NO_ROW: u32 = u32::MAX;

/// One fee line whose visit, settlement, item and doctor are rows of the batch it was read with.
///
/// Lines whose references the batch cannot give (a visit only the store knows, a person or
/// institution other than the visit's, an item outside the batch catalog, a doctor outside the
/// `pract` table) keep their whole record in [`FeeRest::own`]; [`FeeLine::to_fee`] gives the
/// same [`Fee`] either way.
///
/// ```
/// use medfund_contract::records::*;
/// use medfund_contract::{Batch, Fen, Price, Qty};
/// use medfund_ingest::FeeLine;
/// let t = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
/// let fee = Fee {
///     feedetl_sn: "1".into(), mdtrt_id: "M1".into(), setl_id: "S1".into(), psn_no: "P1".into(),
///     fixmedins_code: "H11010100001".into(), fee_ocur_time: t("2024-03-01 09:00:00"),
///     med_list_codg: "001102000010000".into(), cnt: Qty(10_000), pric: Price(900_000),
///     det_item_fee_sumamt: Fen(900), bilg_dr_codg: None, hi_rxno: None, drug_trac_codg: vec![],
/// };
/// // No visit in the batch: the line keeps its own record.
/// let line = FeeLine::own(fee.clone());
/// assert_eq!(line.to_fee(&Batch::default()), fee);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FeeLine {
    pub feedetl_sn: Code,
    pub fee_ocur_time: NaiveDateTime,
    pub cnt: Qty,
    pub pric: Price,
    pub det_item_fee_sumamt: Fen,
    /// Row of the visit in `batch.mdtrt`; its person and institution are the line's.
    /// [`NO_ROW`] exactly when the line keeps its whole record ([`FeeLine::own`]).
    pub visit: u32,
    /// Row of the settlement in `batch.setl`.
    pub setl: u32,
    /// Row of the item in `batch.catalog`.
    pub item: u32,
    /// Row of the billing doctor in `batch.pract`, or [`NO_ROW`].
    pub doctor: u32,
    /// The fields most lines leave empty, and the whole record of an irregular line.
    pub rest: Option<Box<FeeRest>>,
}

/// What a [`FeeLine`] cannot point at.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FeeRest {
    pub hi_rxno: Option<Code>,
    pub drug_trac_codg: Vec<Code>,
    /// The whole record, when a reference is not a row of the batch (the row fields are then
    /// meaningless).
    pub own: Option<Box<Fee>>,
}

impl FeeLine {
    /// A line that keeps its whole record.
    pub fn own(f: Fee) -> FeeLine {
        FeeLine {
            feedetl_sn: f.feedetl_sn.clone(),
            fee_ocur_time: f.fee_ocur_time,
            cnt: f.cnt,
            pric: f.pric,
            det_item_fee_sumamt: f.det_item_fee_sumamt,
            visit: NO_ROW,
            setl: NO_ROW,
            item: NO_ROW,
            doctor: NO_ROW,
            rest: Some(Box::new(FeeRest {
                own: Some(Box::new(f)),
                ..Default::default()
            })),
        }
    }

    /// The whole record, when the line keeps it.
    #[inline]
    pub fn own_fee(&self) -> Option<&Fee> {
        // A line that points at its visit keeps no record: answered without following `rest`,
        // which every pass over all lines asks first.
        if self.visit != NO_ROW {
            return None;
        }
        self.rest.as_ref().and_then(|r| r.own.as_deref())
    }

    /// The line as the contract record it was read from. `b` must be the batch it was read with.
    pub fn to_fee(&self, b: &Batch) -> Fee {
        if let Some(f) = self.own_fee() {
            return f.clone();
        }
        let m = &b.mdtrt[self.visit as usize];
        let (hi_rxno, drug_trac_codg) = match &self.rest {
            Some(r) => (r.hi_rxno.clone(), r.drug_trac_codg.clone()),
            None => (None, Vec::new()),
        };
        Fee {
            feedetl_sn: self.feedetl_sn.clone(),
            mdtrt_id: m.mdtrt_id.clone(),
            setl_id: b.setl[self.setl as usize].setl_id.clone(),
            psn_no: m.psn_no.clone(),
            fixmedins_code: m.fixmedins_code.clone(),
            fee_ocur_time: self.fee_ocur_time,
            med_list_codg: b.catalog[self.item as usize].med_list_codg.clone(),
            cnt: self.cnt,
            pric: self.pric,
            det_item_fee_sumamt: self.det_item_fee_sumamt,
            bilg_dr_codg: (self.doctor != NO_ROW)
                .then(|| b.pract[self.doctor as usize].pract_code.clone()),
            hi_rxno,
            drug_trac_codg,
        }
    }

    /// `mdtrt_id`, without building the record.
    pub fn mdtrt_id<'a>(&'a self, b: &'a Batch) -> &'a str {
        match self.own_fee() {
            Some(f) => &f.mdtrt_id,
            None => &b.mdtrt[self.visit as usize].mdtrt_id,
        }
    }

    /// `fixmedins_code`, without building the record.
    pub fn fixmedins_code<'a>(&'a self, b: &'a Batch) -> &'a str {
        match self.own_fee() {
            Some(f) => &f.fixmedins_code,
            None => &b.mdtrt[self.visit as usize].fixmedins_code,
        }
    }

    /// `med_list_codg`, without building the record.
    pub fn med_list_codg<'a>(&'a self, b: &'a Batch) -> &'a str {
        match self.own_fee() {
            Some(f) => &f.med_list_codg,
            None => &b.catalog[self.item as usize].med_list_codg,
        }
    }

    /// `drug_trac_codg`, without building the record.
    pub fn drug_trac_codg(&self) -> &[Code] {
        match &self.rest {
            Some(r) => match &r.own {
                Some(f) => &f.drug_trac_codg,
                None => &r.drug_trac_codg,
            },
            None => &[],
        }
    }
}

/// A fee line as the compact read parses it: the [`FeeLine`] plus its visit id, the first key
/// column, for the order check that stands in for dedupe (see `Sink::absorb`).
///
/// A line whose references all resolve to rows of the batch read so far is parsed straight into
/// its compact form: its visit, settlement, person, institution, item and doctor columns hold the
/// text of rows already checked under the same column kinds, so only the other columns are
/// checked, in column order, and no [`Fee`] is built. Any other line is parsed as a [`Fee`] in
/// full, with the same checks and messages, and keeps it ([`FeeLine::own`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FeeCompact {
    pub mdtrt_id: Code,
    pub line: FeeLine,
}

impl FeeCompact {
    fn own(f: Fee) -> FeeCompact {
        FeeCompact {
            mdtrt_id: f.mdtrt_id.clone(),
            line: FeeLine::own(f),
        }
    }

    /// The line in compact form when every reference is a row of the batch read so far
    /// (`Ok(None)` otherwise: the line is then parsed in full). `prev`'s rows are tried first.
    fn regular(
        r: &Row,
        prev: Option<&FeeCompact>,
        env: &Env,
    ) -> Result<Option<FeeCompact>, Problem> {
        let (refs, b) = (env.refs, env.batch);
        let hint = |f: fn(&FeeLine) -> u32| prev.map_or(0, |p| f(&p.line));
        let (Some(mdtrt_id), Some(setl_id), Some(psn_no), Some(fixmedins_code), Some(item)) =
            (r.get(1), r.get(2), r.get(3), r.get(4), r.get(6))
        else {
            return Ok(None);
        };
        let Some(visit) = refs.mdtrt.get_near(mdtrt_id, hint(|l| l.visit)) else {
            return Ok(None);
        };
        let m = &b.mdtrt[visit as usize];
        if !same_text(&m.psn_no, psn_no) || !same_text(&m.fixmedins_code, fixmedins_code) {
            return Ok(None);
        }
        let Some(setl) = refs.setl.get_near(setl_id, hint(|l| l.setl)) else {
            return Ok(None);
        };
        let Some(item) = ITEMS.with(|c| c.borrow_mut().find(item, refs, b)) else {
            return Ok(None);
        };
        let doctor = match r.get(10) {
            None => NO_ROW,
            Some(d) => match refs.pract.get_near(d, hint(|l| l.doctor)) {
                Some(row) => row,
                None => return Ok(None),
            },
        };
        // Columns 1–4, 6 and 10 equal checked rows; the others are checked in column order,
        // as `Fee`'s parse does, so the first failing column is the same.
        let feedetl_sn = r.code(0)?;
        let fee_ocur_time = r.datetime(5)?;
        let cnt = r.dec::<Qty>(7)?;
        let pric = r.dec::<Price>(8)?;
        let det_item_fee_sumamt = r.dec::<Fen>(9)?;
        let hi_rxno = r.opt_code(11)?;
        let drug_trac_codg = r.list(12)?;
        check_fee_amount(cnt, pric, det_item_fee_sumamt)?;
        let rest = (hi_rxno.is_some() || !drug_trac_codg.is_empty()).then(|| {
            Box::new(FeeRest {
                hi_rxno,
                drug_trac_codg,
                own: None,
            })
        });
        Ok(Some(FeeCompact {
            mdtrt_id: m.mdtrt_id.clone(),
            line: FeeLine {
                feedetl_sn,
                fee_ocur_time,
                cnt,
                pric,
                det_item_fee_sumamt,
                visit,
                setl,
                item,
                doctor,
                rest,
            },
        }))
    }
}

impl Record for FeeCompact {
    const TABLE: Table = Table::Fee;
    fn parse(r: &Row) -> Result<Self, Problem> {
        Fee::parse(r).map(FeeCompact::own)
    }
    fn parse_in(r: &Row, prev: Option<&Self>, env: &Env) -> Result<Self, Problem> {
        match Self::regular(r, prev, env)? {
            Some(c) => Ok(c),
            None => Self::parse(r),
        }
    }
    fn key_hash(&self, s: &RandomState) -> u64 {
        s.hash_one((&self.mdtrt_id, &self.line.feedetl_sn))
    }
    fn same_key(&self, o: &Self) -> bool {
        self.mdtrt_id == o.mdtrt_id && self.line.feedetl_sn == o.line.feedetl_sn
    }
    fn key_before(&self, o: &Self) -> bool {
        (&self.mdtrt_id, &self.line.feedetl_sn) < (&o.mdtrt_id, &o.line.feedetl_sn)
    }
    fn rest_before(&self, o: &Self) -> bool {
        self.line.feedetl_sn < o.line.feedetl_sn
    }
    fn prefix_cmp(&self, o: &Self) -> std::cmp::Ordering {
        if same_text(&self.mdtrt_id, &o.mdtrt_id) {
            std::cmp::Ordering::Equal
        } else {
            self.mdtrt_id.cmp(&o.mdtrt_id)
        }
    }
    fn key_text(&self) -> String {
        format!("({}, {})", self.mdtrt_id, self.line.feedetl_sn)
    }
    fn check_refs(&self, refs: &Refs, c: &mut RefCache) -> Result<(), Problem> {
        // A compact line's references are batch rows, found while it was parsed.
        match self.line.own_fee() {
            Some(f) => f.check_refs(refs, c),
            None => Ok(()),
        }
    }
    fn unknown_catalog(&self, refs: &Refs) -> bool {
        self.line.own_fee().is_some_and(|f| f.unknown_catalog(refs))
    }
    /// Only when the table could not stay compact (its keys repeat): the lines become records.
    fn store(rows: Vec<Self>, b: &mut Batch, _refs: &mut Refs) {
        b.fee = rows.into_iter().map(|r| r.line.to_fee(b)).collect();
    }
    const COMPACTS: bool = true;
    fn compact(rows: &mut Vec<Self>, out: &mut [std::mem::MaybeUninit<FeeLine>]) {
        assert_eq!(rows.len(), out.len(), "one slot per record");
        for (d, r) in out.iter_mut().zip(rows.drain(..)) {
            d.write(r.line);
        }
    }
}

thread_local! {
    /// Catalog rows found lately on this thread (see [`ItemCache`]).
    static ITEMS: std::cell::RefCell<ItemCache> = std::cell::RefCell::new(ItemCache::new());
}

/// Catalog rows found lately, by a cheap hash of the code. Consecutive lines rarely share an
/// item, so the previous line's row does not help here, but most lines bill a small set of
/// common items (consultations, beds, common drugs): those lookups are answered without hashing
/// the whole code, and a miss falls back to the catalog index. An entry is only used when the
/// row it names holds the code, so entries left from another batch are harmless.
struct ItemCache([u32; ItemCache::SLOTS]);

impl ItemCache {
    const SLOTS: usize = 1024;

    fn new() -> Self {
        ItemCache([NO_ROW; Self::SLOTS])
    }

    fn slot(code: &str) -> usize {
        let b = code.as_bytes();
        let word = |s: &[u8]| {
            let mut w = [0u8; 8];
            w[..s.len()].copy_from_slice(s);
            u64::from_le_bytes(w)
        };
        let n = b.len();
        let (head, tail) = if n >= 8 {
            (word(&b[..8]), word(&b[n - 8..]))
        } else {
            (word(b), 0)
        };
        let h = (head ^ tail.rotate_left(29) ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> 54) as usize
    }

    fn find(&mut self, code: &str, refs: &Refs, b: &Batch) -> Option<u32> {
        let s = Self::slot(code);
        let r = self.0[s];
        if b.catalog
            .get(r as usize)
            .is_some_and(|c| same_text(&c.med_list_codg, code))
        {
            return Some(r);
        }
        let r = refs.catalog.get(code)?;
        self.0[s] = r;
        Some(r)
    }
}
