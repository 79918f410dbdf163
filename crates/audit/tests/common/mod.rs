//! Builders of hand-made batches for the category tests.
#![allow(dead_code)]

use chrono::{NaiveDate, NaiveDateTime};
use medfund_audit::rules::RuleLibrary;
use medfund_audit::{audit, AuditOptions};
use medfund_contract::time::{parse_date, parse_datetime};
use medfund_contract::*;

pub fn dt(s: &str) -> NaiveDateTime {
    parse_datetime(s).unwrap()
}
pub fn d(s: &str) -> NaiveDate {
    parse_date(s).unwrap()
}
pub fn fen(s: &str) -> Fen {
    s.parse().unwrap()
}
pub fn q(s: &str) -> Qty {
    s.parse().unwrap()
}
pub fn p(s: &str) -> Price {
    s.parse().unwrap()
}

pub fn psn(no: &str, gend: Gender, brdy: &str) -> Psn {
    Psn {
        psn_no: no.into(),
        gend,
        brdy: d(brdy),
        insutype: Some("310".into()),
        insuplc_admdvs: Some("110101".into()),
    }
}

pub fn hosp(code: &str, lv: Option<u8>, admdvs: &str) -> Fixmedins {
    Fixmedins {
        fixmedins_code: code.into(),
        fixmedins_name: format!("医院{code}"),
        fixmedins_type: FixmedinsType::Medical,
        hosp_lv: lv,
        admdvs: Some(admdvs.into()),
    }
}

pub fn pharm(code: &str, admdvs: &str) -> Fixmedins {
    Fixmedins {
        fixmedins_code: code.into(),
        fixmedins_name: format!("药店{code}"),
        fixmedins_type: FixmedinsType::Pharmacy,
        hosp_lv: None,
        admdvs: Some(admdvs.into()),
    }
}

pub fn cat(code: &str, name: &str, list_type: u8) -> CatalogEntry {
    CatalogEntry {
        med_list_codg: code.into(),
        med_list_name: name.into(),
        list_type,
        ..Default::default()
    }
}

pub fn visit(
    id: &str,
    psn: &str,
    inst: &str,
    med_type: &str,
    begin: &str,
    end: Option<&str>,
    diag: &str,
) -> Mdtrt {
    Mdtrt {
        mdtrt_id: id.into(),
        psn_no: psn.into(),
        fixmedins_code: inst.into(),
        med_type: med_type.into(),
        begntime: dt(begin),
        endtime: end.map(dt),
        diag_code: diag.into(),
        dise_codg: None,
        atddr_no: None,
        emer_flag: false,
        refl_fixmedins_code: None,
    }
}

/// A fee line of visit `m` whose amount is cnt × pric.
pub fn fee(sn: &str, m: &Mdtrt, time: &str, code: &str, cnt: &str, pric: &str) -> Fee {
    let (c, pr) = (q(cnt), p(pric));
    Fee {
        feedetl_sn: sn.into(),
        mdtrt_id: m.mdtrt_id.clone(),
        setl_id: format!("S{}", m.mdtrt_id).into(),
        psn_no: m.psn_no.clone(),
        fixmedins_code: m.fixmedins_code.clone(),
        fee_ocur_time: dt(time),
        med_list_codg: code.into(),
        cnt: c,
        pric: pr,
        det_item_fee_sumamt: c.times(pr),
        bilg_dr_codg: None,
        hi_rxno: None,
        drug_trac_codg: vec![],
    }
}

pub fn run(b: &Batch) -> Vec<Finding> {
    audit(b, &RuleLibrary::builtin(), None, &AuditOptions::default()).findings
}

pub fn run_with(b: &Batch, lib: &RuleLibrary) -> Vec<Finding> {
    audit(b, lib, None, &AuditOptions::default()).findings
}

pub fn of(fs: &[Finding], c: Category) -> Vec<&Finding> {
    fs.iter().filter(|f| f.category == c).collect()
}

/// (mdtrt_id, feedetl_sn, amount) of each finding, for compact assertions.
pub fn keys(fs: &[&Finding]) -> Vec<(String, String, Option<Fen>)> {
    fs.iter()
        .map(|f| {
            (
                f.mdtrt_id.as_deref().unwrap_or("").to_string(),
                f.feedetl_sn.as_deref().unwrap_or("").to_string(),
                f.amount,
            )
        })
        .collect()
}
