//! Fee lines read compactly for the audit (`Options::compact_fee`): each line must give back
//! exactly the record a plain read gives, with the same quarantine, counts and origins, and a fee
//! table whose order does not prove its keys distinct must be read again as records.

mod common;

use common::*;
use medfund_contract::records::Fee;
use medfund_contract::schema::Table;
use medfund_ingest::{read_batch_with, Ingested, KnownKeys, NoKnownKeys, Options, NO_ROW};
use std::path::Path;

fn read_both(dir: &Path, threads: usize, known: &dyn KnownKeys) -> (Ingested, Ingested) {
    let opts = |compact_fee| Options {
        threads,
        compact_fee,
        ..Options::default()
    };
    (
        read_batch_with(dir, &opts(false), known).unwrap(),
        read_batch_with(dir, &opts(true), known).unwrap(),
    )
}

/// The compact read holds the plain read's fee records, and everything else is the same.
fn assert_same(plain: &Ingested, compact: &Ingested) -> Vec<Fee> {
    let lines = compact
        .fee_lines
        .as_ref()
        .expect("fee lines held compactly");
    assert!(compact.batch.fee.is_empty());
    let back: Vec<Fee> = lines.iter().map(|l| l.to_fee(&compact.batch)).collect();
    assert_eq!(back, plain.batch.fee);
    let mut rest = compact.batch.clone();
    rest.fee = plain.batch.fee.clone();
    assert_eq!(rest, plain.batch);
    assert_eq!(compact.quarantine, plain.quarantine);
    assert_eq!(compact.stats, plain.stats);
    assert_eq!(compact.origins, plain.origins);
    assert_eq!(compact.unknown_catalog_codes, plain.unknown_catalog_codes);
    back
}

#[test]
fn compact_lines_give_back_every_field() {
    let d = good_batch();
    let (plain, compact) = read_both(d.path(), 0, &NoKnownKeys);
    assert!(plain.fee_lines.is_none());
    let fees = assert_same(&plain, &compact);
    assert_eq!(fees.len(), 4);
    let lines = compact.fee_lines.as_ref().unwrap();
    // Line 1: visit M001 (row 0), settlement S001, doctor D110101000001 (pract row 0), and its
    // two traceability codes kept beside it.
    assert_eq!((lines[0].visit, lines[0].setl, lines[0].doctor), (0, 0, 0));
    assert_eq!(lines[0].own_fee(), None);
    assert_eq!(lines[0].drug_trac_codg().len(), 2);
    // Line 2: nothing beside it.
    assert!(lines[1].rest.is_none());
    // The pharmacy line's item ZA01AAB0123010100001 is not in the batch catalog: it keeps its
    // whole record (prescription RX0001 and no doctor included).
    let own = lines[3]
        .own_fee()
        .expect("uncatalogued item keeps its record");
    assert_eq!(own.med_list_codg, "ZA01AAB0123010100001");
    assert_eq!(own.hi_rxno.as_deref(), Some("RX0001"));
    assert_eq!(
        lines[3].med_list_codg(&compact.batch),
        "ZA01AAB0123010100001"
    );
    assert_eq!(lines[3].mdtrt_id(&compact.batch), "M002");
}

#[test]
fn a_line_whose_person_or_doctor_is_not_its_visits_keeps_its_record() {
    let d = good_batch();
    std::fs::write(
        d.path().join("fee.csv"),
        "feedetl_sn,mdtrt_id,setl_id,psn_no,fixmedins_code,fee_ocur_time,med_list_codg,cnt,pric,det_item_fee_sumamt,bilg_dr_codg\n\
         1,M001,S001,0001234,H11010100001,2024-03-01 09:00:00,003105050010000,1,5,5,D110101000001\n\
         2,M001,S001,P002,H11010100001,2024-03-01 09:00:00,003105050010000,1,5,5,D110101000001\n\
         3,M001,S001,0001234,H11010100001,2024-03-01 09:00:00,003105050010000,1,5,5,D110101099999\n\
         4,M001,S001,0001234,H11010100001,2024-03-01 09:00:00,003105050010000,1,5,5,\n",
    )
    .unwrap();
    let (plain, compact) = read_both(d.path(), 0, &NoKnownKeys);
    assert_same(&plain, &compact);
    let lines = compact.fee_lines.as_ref().unwrap();
    let own: Vec<bool> = lines.iter().map(|l| l.own_fee().is_some()).collect();
    // Line 2 bills another person than the visit's; line 3's doctor is not in pract.
    assert_eq!(own, vec![false, true, true, false]);
    assert_eq!(lines[3].doctor, NO_ROW);
}

#[test]
fn faults_on_lines_of_batch_visits_are_refused_as_the_full_parse_refuses_them() {
    // Every line points at batch rows, so it is parsed straight into compact form; each carries
    // a fault in one column that form checks itself (line 9 in two, where the first column's
    // message must win, as in the full parse). The plain read is the oracle.
    let d = good_batch();
    std::fs::write(
        d.path().join("fee.csv"),
        "feedetl_sn,mdtrt_id,setl_id,psn_no,fixmedins_code,fee_ocur_time,med_list_codg,cnt,pric,det_item_fee_sumamt,bilg_dr_codg,hi_rxno,drug_trac_codg\n\
         1,M001,S001,0001234,H11010100001,2024-03-01 09:00:00,003105050010000,1,5,5,D110101000001,,\n\
         2 x,M001,S001,0001234,H11010100001,2024-03-01 09:00:00,003105050010000,1,5,5,D110101000001,,\n\
         3,M001,S001,0001234,H11010100001,2024-03-01 9:00,003105050010000,1,5,5,D110101000001,,\n\
         4,M001,S001,0001234,H11010100001,2024-03-01 09:00:00,003105050010000,x,5,5,D110101000001,,\n\
         5,M001,S001,0001234,H11010100001,2024-03-01 09:00:00,003105050010000,1,5.0000001,5,D110101000001,,\n\
         6,M001,S001,0001234,H11010100001,2024-03-01 09:00:00,003105050010000,1,5,5.001,D110101000001,,\n\
         7,M001,S001,0001234,H11010100001,2024-03-01 09:00:00,003105050010000,2,5,5,D110101000001,,\n\
         8,M001,S001,0001234,H11010100001,2024-03-01 09:00:00,003105050010000,1,5,5,D110101000001,RX 1,\n\
         9,M001,S001,0001234,H11010100001,bad,003105050010000,1,5,6,D110101000001,,12\n\
         10,M001,S001,0001234,H11010100001,2024-03-01 09:00:00,003105050010000,1,5,5,D110101000001,,12\n\
         ,M001,S001,0001234,H11010100001,2024-03-01 09:00:00,003105050010000,1,5,5,D110101000001,,\n\
         12,M001,S001,0001234,H11010100001,,003105050010000,1,5,5,D110101000001,,\n",
    )
    .unwrap();
    let (plain, compact) = read_both(d.path(), 0, &NoKnownKeys);
    assert_same(&plain, &compact);
    let lines = compact.fee_lines.as_ref().unwrap();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].own_fee().is_none());
    let cols: Vec<(u64, Option<&str>)> = compact
        .quarantine
        .iter()
        .map(|q| (q.line, q.column.as_deref()))
        .collect();
    assert_eq!(
        cols,
        vec![
            (3, Some("feedetl_sn")),
            (4, Some("fee_ocur_time")),
            (5, Some("cnt")),
            (6, Some("pric")),
            (7, Some("det_item_fee_sumamt")),
            (8, Some("det_item_fee_sumamt")),
            (9, Some("hi_rxno")),
            (10, Some("fee_ocur_time")),
            (11, Some("drug_trac_codg")),
            (12, Some("feedetl_sn")),
            (13, Some("fee_ocur_time")),
        ]
    );
}

#[test]
fn lines_of_visits_only_the_store_knows_keep_their_record() {
    let d = good_batch();
    std::fs::write(
        d.path().join("fee.csv"),
        "feedetl_sn,mdtrt_id,setl_id,psn_no,fixmedins_code,fee_ocur_time,med_list_codg,cnt,pric,det_item_fee_sumamt\n\
         1,M001,S001,0001234,H11010100001,2024-03-01 09:00:00,003105050010000,1,5,5\n\
         1,OLD-M,OLD-S,OLD-P,H99999900001,2024-03-01 09:00:00,003105050010000,1,5,5\n",
    )
    .unwrap();
    let (plain, compact) = read_both(d.path(), 0, &Store);
    assert_same(&plain, &compact);
    let lines = compact.fee_lines.as_ref().unwrap();
    assert!(lines[0].own_fee().is_none());
    assert_eq!(lines[1].own_fee().unwrap().mdtrt_id, "OLD-M");
}

/// ~20 MB of one visit's lines, read on one thread so the file takes two 16 MB blocks; every
/// 7919th line has a bad amount. `sn` gives each line's serial.
fn long_visit(dir: &Path, sn: impl Fn(u64) -> String) -> (u64, Vec<u64>) {
    let mut text = String::from(
        "feedetl_sn,mdtrt_id,setl_id,psn_no,fixmedins_code,fee_ocur_time,med_list_codg,cnt,pric,det_item_fee_sumamt,bilg_dr_codg,hi_rxno,drug_trac_codg\n",
    );
    let mut bad = Vec::new();
    let mut n = 0u64;
    while text.len() < 20 << 20 {
        let amt = if n % 7919 == 5 {
            bad.push(n + 2);
            "99.99"
        } else {
            "10.00"
        };
        let trac = if n.is_multiple_of(3) {
            format!("8{:019}", n)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "{},M001,S001,0001234,H11010100001,2024-03-01 09:10:00,003105050010000,2,5.00,{amt},D110101000001,,{trac}\n",
            sn(n)
        ));
        n += 1;
    }
    std::fs::write(dir.join("fee.csv"), text).unwrap();
    (n, bad)
}

#[test]
fn a_visit_across_blocks_is_compacted_line_for_line() {
    let d = good_batch();
    let (n, bad) = long_visit(d.path(), |n| format!("{n:09}"));
    let (plain, compact) = read_both(d.path(), 1, &NoKnownKeys);
    let fees = assert_same(&plain, &compact);
    assert_eq!(fees.len() as u64, n - bad.len() as u64);
    let lines: Vec<u64> = compact.quarantine.iter().map(|q| q.line).collect();
    assert_eq!(lines, bad);
    assert_eq!(compact.origins[&Table::Fee].of(0).unwrap().1, 2);
}

#[test]
fn a_fee_table_whose_order_proves_nothing_is_read_again_as_records() {
    // Serials 0, 1, … 10, … in one visit are not in text order, and the visit is far longer than
    // the pairwise check: only the dedupe maps can show the keys distinct.
    let d = good_batch();
    let (n, bad) = long_visit(d.path(), |n| n.to_string());
    let (plain, compact) = read_both(d.path(), 1, &NoKnownKeys);
    assert!(compact.fee_lines.is_none());
    assert_eq!(compact.batch, plain.batch);
    assert_eq!(compact.quarantine, plain.quarantine);
    assert_eq!(compact.stats, plain.stats);
    assert_eq!(compact.batch.fee.len() as u64, n - bad.len() as u64);

    // A repeated line: dropped as a duplicate either way.
    let d = good_batch();
    let fee = std::fs::read_to_string(d.path().join("fee.csv")).unwrap();
    let first = fee.lines().nth(1).unwrap();
    std::fs::write(d.path().join("fee.csv"), format!("{fee}{first}\n")).unwrap();
    let (plain, compact) = read_both(d.path(), 0, &NoKnownKeys);
    assert!(compact.fee_lines.is_none());
    assert_eq!(compact.stats[&Table::Fee].duplicates, 1);
    assert_eq!(compact.batch, plain.batch);
}
