//! The fee lines an audit reads: contract records, or the compact lines ingestion keeps when it
//! reads a batch only to audit it ([`medfund_ingest::FeeLine`]). The passes read fields through
//! here and build a [`Fee`] only for the lines they check in full.

use chrono::NaiveDateTime;
use medfund_contract::records::Fee;
use medfund_contract::{Batch, Code, Fen, Price, Qty};
use medfund_ingest::FeeLine;
use std::borrow::Cow;

#[derive(Clone, Copy)]
pub(crate) enum Fees<'a> {
    Rows(&'a [Fee]),
    /// Lines pointing at rows of the batch they were read with.
    Lines(&'a [FeeLine], &'a Batch),
}

impl<'a> Fees<'a> {
    pub fn len(&self) -> usize {
        match self {
            Fees::Rows(r) => r.len(),
            Fees::Lines(l, _) => l.len(),
        }
    }

    /// Line `i` as a record: borrowed when it is one, built otherwise.
    pub fn fee(&self, i: usize) -> Cow<'a, Fee> {
        match *self {
            Fees::Rows(r) => Cow::Borrowed(&r[i]),
            Fees::Lines(l, b) => Cow::Owned(l[i].to_fee(b)),
        }
    }

    pub fn mdtrt_id(&self, i: usize) -> &'a str {
        match *self {
            Fees::Rows(r) => &r[i].mdtrt_id,
            Fees::Lines(l, b) => l[i].mdtrt_id(b),
        }
    }

    /// The batch visit row of a compact line that points at one; lines with the same row share
    /// their person and institution, so a pass can skip re-reading them.
    pub fn visit_row(&self, i: usize) -> Option<u32> {
        match *self {
            Fees::Rows(_) => None,
            Fees::Lines(l, _) => (l[i].own_fee().is_none()).then_some(l[i].visit),
        }
    }

    pub fn fixmedins_code(&self, i: usize) -> &'a str {
        match *self {
            Fees::Rows(r) => &r[i].fixmedins_code,
            Fees::Lines(l, b) => l[i].fixmedins_code(b),
        }
    }

    pub fn med_list_codg(&self, i: usize) -> &'a str {
        match *self {
            Fees::Rows(r) => &r[i].med_list_codg,
            Fees::Lines(l, b) => l[i].med_list_codg(b),
        }
    }

    pub fn drug_trac_codg(&self, i: usize) -> &'a [Code] {
        match *self {
            Fees::Rows(r) => &r[i].drug_trac_codg,
            Fees::Lines(l, _) => l[i].drug_trac_codg(),
        }
    }

    pub fn fee_ocur_time(&self, i: usize) -> NaiveDateTime {
        match *self {
            Fees::Rows(r) => r[i].fee_ocur_time,
            Fees::Lines(l, _) => l[i].fee_ocur_time,
        }
    }

    pub fn feedetl_sn(&self, i: usize) -> &'a str {
        match *self {
            Fees::Rows(r) => &r[i].feedetl_sn,
            Fees::Lines(l, _) => &l[i].feedetl_sn,
        }
    }

    pub fn cnt(&self, i: usize) -> Qty {
        match *self {
            Fees::Rows(r) => r[i].cnt,
            Fees::Lines(l, _) => l[i].cnt,
        }
    }

    /// [`crate::engine::fee_cmp`] of lines `a` and `b`, without building them. Each field is
    /// read only when the ones before it tie (the visit id of a compact line is a lookup into
    /// the visit table, and this runs inside a sort).
    pub fn cmp(&self, a: usize, b: usize) -> std::cmp::Ordering {
        self.fee_ocur_time(a)
            .cmp(&self.fee_ocur_time(b))
            .then_with(|| crate::engine::sn_cmp(self.feedetl_sn(a), self.feedetl_sn(b)))
            .then_with(|| self.mdtrt_id(a).cmp(self.mdtrt_id(b)))
    }
}

/// The fields of one fee line the person checks read, borrowed from a record or from a compact
/// line and the rows it points at.
///
/// Rebuilding every compact line as a [`Fee`] for the person pass copied ten codes per line: a
/// fifth of the pass on a city's month. A finding needs the whole record ([`LineFee::fee`]), and
/// findings are rare.
#[derive(Clone, Copy)]
pub(crate) struct LineFee<'a> {
    pub feedetl_sn: &'a Code,
    pub mdtrt_id: &'a Code,
    pub fixmedins_code: &'a Code,
    pub med_list_codg: &'a Code,
    pub bilg_dr_codg: Option<&'a Code>,
    pub fee_ocur_time: NaiveDateTime,
    pub cnt: Qty,
    pub pric: Price,
    pub det_item_fee_sumamt: Fen,
    src: Src<'a>,
}

#[derive(Clone, Copy)]
enum Src<'a> {
    Record(&'a Fee),
    /// A compact line that points at its visit ([`FeeLine::own_fee`] is `None`).
    Line(&'a FeeLine, &'a Batch),
}

impl<'a> LineFee<'a> {
    pub fn of(f: &'a Fee) -> LineFee<'a> {
        LineFee {
            feedetl_sn: &f.feedetl_sn,
            mdtrt_id: &f.mdtrt_id,
            fixmedins_code: &f.fixmedins_code,
            med_list_codg: &f.med_list_codg,
            bilg_dr_codg: f.bilg_dr_codg.as_ref(),
            fee_ocur_time: f.fee_ocur_time,
            cnt: f.cnt,
            pric: f.pric,
            det_item_fee_sumamt: f.det_item_fee_sumamt,
            src: Src::Record(f),
        }
    }

    /// Line `l` of batch `b` (the batch it was read with).
    pub fn of_line(l: &'a FeeLine, b: &'a Batch) -> LineFee<'a> {
        if let Some(f) = l.own_fee() {
            return LineFee::of(f);
        }
        let m = &b.mdtrt[l.visit as usize];
        LineFee {
            feedetl_sn: &l.feedetl_sn,
            mdtrt_id: &m.mdtrt_id,
            fixmedins_code: &m.fixmedins_code,
            med_list_codg: &b.catalog[l.item as usize].med_list_codg,
            bilg_dr_codg: (l.doctor != medfund_ingest::NO_ROW)
                .then(|| &b.pract[l.doctor as usize].pract_code),
            fee_ocur_time: l.fee_ocur_time,
            cnt: l.cnt,
            pric: l.pric,
            det_item_fee_sumamt: l.det_item_fee_sumamt,
            src: Src::Line(l, b),
        }
    }

    pub fn setl_id(&self) -> &'a Code {
        match self.src {
            Src::Record(f) => &f.setl_id,
            Src::Line(l, b) => &b.setl[l.setl as usize].setl_id,
        }
    }

    pub fn psn_no(&self) -> &'a Code {
        match self.src {
            Src::Record(f) => &f.psn_no,
            Src::Line(l, b) => &b.mdtrt[l.visit as usize].psn_no,
        }
    }

    pub fn hi_rxno(&self) -> Option<&'a Code> {
        match self.src {
            Src::Record(f) => f.hi_rxno.as_ref(),
            Src::Line(l, _) => l.rest.as_ref().and_then(|r| r.hi_rxno.as_ref()),
        }
    }

    pub fn drug_trac_codg(&self) -> &'a [Code] {
        match self.src {
            Src::Record(f) => &f.drug_trac_codg,
            Src::Line(l, _) => l.drug_trac_codg(),
        }
    }

    /// The whole record: borrowed when the line is one, built otherwise.
    pub fn fee(&self) -> Cow<'a, Fee> {
        match self.src {
            Src::Record(f) => Cow::Borrowed(f),
            Src::Line(l, b) => Cow::Owned(l.to_fee(b)),
        }
    }
}
