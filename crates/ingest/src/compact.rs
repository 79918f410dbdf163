//! Fee lines held compactly for the batch audit.
//!
//! A fee line as a contract record ([`Fee`]) is 256 bytes, most of it codes that repeat the
//! line's visit, settlement, item and doctor. Ten million of them are 2.5 GB of fresh memory, and
//! on the servers measured here taking fresh memory from the kernel costs more than parsing the
//! text that fills it. When a batch is read only to be audited ([`crate::Options::compact_fee`]),
//! each block of parsed lines is turned into [`FeeLine`]s (88 bytes) that point at the rows of
//! the batch's other tables instead, and the block's records are dropped; the audit turns a
//! person's lines back into [`Fee`] values, equal field for field to the parsed ones, as it
//! checks them.

use crate::tables::Refs;
use chrono::NaiveDateTime;
use medfund_contract::records::Fee;
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

/// Writes the [`FeeLine`] of each parsed fee record into the slot beside it, against the batch
/// read so far, and empties `rows` (which go back to the chunk pool next). Each record is
/// dropped as soon as its line is written, while it is still in cache: dropped later with the
/// whole chunk, the records had to be fetched from memory again.
pub(crate) fn compact_fees(
    rows: &mut Vec<Fee>,
    refs: &Refs,
    b: &Batch,
    out: &mut [std::mem::MaybeUninit<FeeLine>],
) {
    assert_eq!(rows.len(), out.len(), "one slot per record");
    // Previous rows of the visit, settlement and doctor.
    let mut hint = [0u32; 3];
    let mut items = ItemCache::new();
    for (d, f) in out.iter_mut().zip(rows.drain(..)) {
        d.write(compact_one(f, refs, b, &mut hint, &mut items));
    }
}

/// Catalog rows found lately, by a cheap hash of the code. Consecutive lines rarely share an
/// item, so the previous-row hint of the other references does not help here, but most lines
/// bill a small set of common items (consultations, beds, common drugs): those lookups are
/// answered without hashing the whole code, and a miss falls back to the catalog index.
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
        if r != NO_ROW
            && medfund_contract::codes::same_text(&b.catalog[r as usize].med_list_codg, code)
        {
            return Some(r);
        }
        let r = refs.catalog.get(code)?;
        self.0[s] = r;
        Some(r)
    }
}

fn compact_one(
    mut f: Fee,
    refs: &Refs,
    b: &Batch,
    hint: &mut [u32; 3],
    items: &mut ItemCache,
) -> FeeLine {
    let mut find = |ix: &crate::KeyIndex, k: usize, key: &str| {
        let r = ix.get_near(key, hint[k]);
        if let Some(r) = r {
            hint[k] = r;
        }
        r
    };
    let visit = find(&refs.mdtrt, 0, &f.mdtrt_id);
    let setl = find(&refs.setl, 1, &f.setl_id);
    let item = items.find(&f.med_list_codg, refs, b);
    let doctor = match &f.bilg_dr_codg {
        None => Some(NO_ROW),
        Some(d) => find(&refs.pract, 2, d),
    };
    let regular = match (visit, setl, item, doctor) {
        (Some(v), Some(_), Some(_), Some(_)) => {
            let m = &b.mdtrt[v as usize];
            m.psn_no == f.psn_no && m.fixmedins_code == f.fixmedins_code
        }
        _ => false,
    };
    if !regular {
        return FeeLine::own(f);
    }
    let rest = (f.hi_rxno.is_some() || !f.drug_trac_codg.is_empty()).then(|| {
        Box::new(FeeRest {
            hi_rxno: f.hi_rxno.take(),
            drug_trac_codg: std::mem::take(&mut f.drug_trac_codg),
            own: None,
        })
    });
    FeeLine {
        feedetl_sn: std::mem::take(&mut f.feedetl_sn),
        fee_ocur_time: f.fee_ocur_time,
        cnt: f.cnt,
        pric: f.pric,
        det_item_fee_sumamt: f.det_item_fee_sumamt,
        visit: visit.unwrap_or(NO_ROW),
        setl: setl.unwrap_or(NO_ROW),
        item: item.unwrap_or(NO_ROW),
        doctor: doctor.unwrap_or(NO_ROW),
        rest,
    }
}
