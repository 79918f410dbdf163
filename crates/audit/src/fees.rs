//! The fee lines an audit reads: contract records, or the compact lines ingestion keeps when it
//! reads a batch only to audit it ([`medfund_ingest::FeeLine`]). The passes read fields through
//! here and build a [`Fee`] only for the lines they check in full.

use chrono::NaiveDateTime;
use medfund_contract::records::Fee;
use medfund_contract::{Batch, Code, Qty};
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
