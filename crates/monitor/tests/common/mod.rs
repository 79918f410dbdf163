//! Builders for small hand-worked data sets.
#![allow(dead_code)]

use medfund_contract::money::{Fen, Price, Qty};
use medfund_contract::records::*;
use medfund_contract::time::{parse_date, parse_datetime};

pub fn dt(s: &str) -> chrono::NaiveDateTime {
    parse_datetime(s).unwrap()
}

pub fn fen(s: &str) -> Fen {
    s.parse().unwrap()
}

pub fn inst(code: &str, name: &str, ty: FixmedinsType, lv: Option<u8>) -> Fixmedins {
    Fixmedins {
        fixmedins_code: code.into(),
        fixmedins_name: name.into(),
        fixmedins_type: ty,
        hosp_lv: lv,
        admdvs: Some(code[1..7].into()),
    }
}

pub fn psn(no: &str, brdy: &str, insutype: &str) -> Psn {
    Psn {
        psn_no: no.into(),
        gend: Gender::Male,
        brdy: parse_date(brdy).unwrap(),
        insutype: Some(insutype.into()),
        insuplc_admdvs: None,
    }
}

pub fn cat(code: &str, list_type: u8, chrgitm_type: &str, lv: u8) -> CatalogEntry {
    CatalogEntry {
        med_list_codg: code.into(),
        med_list_name: code.into(),
        list_type,
        med_chrgitm_type: Some(chrgitm_type.into()),
        chrgitm_lv: Some(lv),
        ..Default::default()
    }
}

pub fn visit(
    id: &str,
    psn: &str,
    inst: &str,
    med_type: &str,
    begn: &str,
    end: Option<&str>,
) -> Mdtrt {
    Mdtrt {
        mdtrt_id: id.into(),
        psn_no: psn.into(),
        fixmedins_code: inst.into(),
        med_type: med_type.into(),
        begntime: dt(begn),
        endtime: end.map(dt),
        diag_code: "J06.900".into(),
        dise_codg: None,
        atddr_no: None,
        emer_flag: false,
        refl_fixmedins_code: None,
    }
}

pub fn setl(id: &str, v: &Mdtrt, time: &str, medfee: &str, hifp: &str) -> Setl {
    Setl {
        setl_id: id.into(),
        mdtrt_id: v.mdtrt_id.clone(),
        psn_no: v.psn_no.clone(),
        fixmedins_code: v.fixmedins_code.clone(),
        setl_time: dt(time),
        medfee_sumamt: fen(medfee),
        hifp_pay: fen(hifp),
        acct_pay: None,
        psn_cash_pay: None,
        fund_pay_sumamt: None,
        drg_codg: None,
    }
}

/// A fee line; the amount is cnt × pric exactly.
pub fn fee(sn: &str, v: &Mdtrt, setl_id: &str, code: &str, cnt: i64, pric: &str) -> Fee {
    let p: Price = pric.parse().unwrap();
    let q = Qty::from_units(cnt);
    Fee {
        feedetl_sn: sn.into(),
        mdtrt_id: v.mdtrt_id.clone(),
        setl_id: setl_id.into(),
        psn_no: v.psn_no.clone(),
        fixmedins_code: v.fixmedins_code.clone(),
        fee_ocur_time: v.begntime,
        med_list_codg: code.into(),
        cnt: q,
        pric: p,
        det_item_fee_sumamt: q.times(p),
        bilg_dr_codg: None,
        hi_rxno: None,
        drug_trac_codg: Vec::new(),
    }
}

pub fn fund(insutype: &str, month: &str, income: &str, expense: &str, balance: &str) -> FundMonth {
    FundMonth {
        insutype: insutype.into(),
        month: medfund_contract::YearMonth::parse(month).unwrap(),
        income: fen(income),
        expense: fen(expense),
        balance: fen(balance),
    }
}

/// Adds one settled outpatient (med_type 11) visit with one service-item line of `amount` yuan.
pub fn add_opt_visit(b: &mut Batch, id: &str, psn: &str, inst: &str, day: &str, amount: &str) {
    let v = visit(id, psn, inst, "11", &format!("{day} 09:00:00"), None);
    let sid = format!("S{id}");
    b.setl
        .push(setl(&sid, &v, &format!("{day} 10:00:00"), amount, "0"));
    b.fee.push(fee("1", &v, &sid, "003105050010000", 1, amount));
    b.mdtrt.push(v);
}

// Codes used by the fixtures.
pub const H1: &str = "H33010200001";
pub const H2: &str = "H33010200002";
pub const H3: &str = "H33010200003";
/// An institution in another city (area 310101), not in the city's fixmedins table.
pub const OUT: &str = "H31010100001";
pub const DRUG_X: &str = "XA01AAA000000000000000A";
pub const DRUG_Z: &str = "ZA01AAB0123010100001";
pub const ITEM: &str = "003105050010000";
pub const BED: &str = "001102000010000";
pub const CONS: &str = "C0101010100000000001";
