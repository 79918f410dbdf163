//! One bad fixture file per quarantine reason (tests/fixtures/bad/<reason>/), each put over the
//! valid batch: the bad record goes to the quarantine with its line, column and a reason in both
//! languages; everything else still loads; references to a refused record cascade.

mod common;

use common::*;
use medfund_contract::money::{Fen, Qty};
use medfund_contract::schema::Table;
use medfund_ingest::Quarantined;

fn only(q: &[Quarantined], t: Table) -> Vec<&Quarantined> {
    q.iter().filter(|x| x.table == t).collect()
}

#[test]
fn missing_required_column_quarantines_every_row_of_the_file() {
    let d = batch_with_bad("missing_column");
    let ing = read(d.path());
    assert_balanced(&ing);
    let fee = only(&ing.quarantine, Table::Fee);
    assert_eq!(fee.len(), 4);
    for (q, line) in fee.iter().zip(2..) {
        assert_eq!(q.line, line);
        assert_eq!(q.column.as_deref(), Some("det_item_fee_sumamt"));
        assert!(
            q.reason_zh.contains("表头缺少必填列 det_item_fee_sumamt"),
            "{}",
            q.reason_zh
        );
        assert!(q
            .reason_en
            .contains("lacks required column det_item_fee_sumamt"));
    }
    assert_eq!(ing.quarantine[0].raw.split(',').next(), Some("0001"));
    assert!(ing.batch.fee.is_empty());
    // The other tables are untouched.
    assert_eq!(ing.batch.mdtrt.len(), 2);
    assert_eq!(ing.stats[&Table::Fee].read, 4);
}

#[test]
fn missing_required_field_cascades_through_references() {
    let d = batch_with_bad("missing_field");
    let ing = read(d.path());
    assert_balanced(&ing);
    // P002 lacks gend (line 3). Its visit M002, the visit's settlement S002, the fee line of M002
    // (line 5), the prescription and the identity check for P002 reference it in turn.
    assert_eq!(
        where_(&ing.quarantine),
        vec![
            (Table::Psn, 3, Some("gend")),
            (Table::Mdtrt, 3, Some("psn_no")),
            (Table::Setl, 3, Some("mdtrt_id")),
            (Table::Fee, 5, Some("mdtrt_id")),
            (Table::Rx, 2, Some("psn_no")),
            (Table::Idv, 2, Some("psn_no")),
        ]
    );
    assert_eq!(ing.quarantine[0].reason_zh, "必填字段 gend 为空");
    assert_eq!(ing.quarantine[0].reason_en, "required field gend is empty");
    assert_eq!(ing.quarantine[0].raw, "P002,,2019-02-28,390,");
    assert!(ing.quarantine[1]
        .reason_zh
        .contains("不存在的参保人 psn_no='P002'"));
    assert!(ing.quarantine[3]
        .reason_en
        .contains("unknown visit mdtrt_id 'M002'"));
    assert_eq!(ing.batch.psn.len(), 1);
    assert_eq!(ing.batch.fee.len(), 3);
    // Diagnoses of M001 are unaffected.
    assert_eq!(ing.batch.diag.len(), 2);
}

#[test]
fn unparseable_number() {
    let ing = read(batch_with_bad("bad_number").path());
    assert_balanced(&ing);
    assert_eq!(where_(&ing.quarantine), vec![(Table::Fee, 3, Some("cnt"))]);
    assert!(ing.quarantine[0]
        .reason_zh
        .contains("cnt 不是合法数字：'2x'"));
    assert!(ing.quarantine[0]
        .reason_en
        .contains("'2x' is not a decimal number"));
    assert_eq!(ing.batch.fee.len(), 3);
}

#[test]
fn too_many_decimals_and_its_cascade() {
    let ing = read(batch_with_bad("too_many_decimals").path());
    assert_balanced(&ing);
    assert_eq!(
        where_(&ing.quarantine),
        vec![
            (Table::Setl, 3, Some("medfee_sumamt")),
            (Table::Fee, 5, Some("setl_id"))
        ]
    );
    assert!(ing.quarantine[0]
        .reason_zh
        .contains("小数位数超过 2 位：'37.045'"));
    assert!(ing.quarantine[1]
        .reason_zh
        .contains("不存在的结算记录 setl_id='S002'"));
}

#[test]
fn unparseable_date() {
    let ing = read(batch_with_bad("bad_date").path());
    assert_balanced(&ing);
    assert_eq!(
        where_(&ing.quarantine),
        vec![(Table::PractSusp, 2, Some("begndate"))]
    );
    assert!(ing.quarantine[0].reason_zh.contains("日期格式错误"));
    assert!(ing.quarantine[0]
        .reason_en
        .contains("'2024/01/01' is not a valid date"));
    assert!(ing.batch.pract_susp.is_empty());
}

#[test]
fn unparseable_datetime() {
    let ing = read(batch_with_bad("bad_datetime").path());
    assert_balanced(&ing);
    assert_eq!(
        where_(&ing.quarantine),
        vec![(Table::Idv, 2, Some("vrf_time"))]
    );
    assert!(ing.quarantine[0]
        .reason_en
        .contains("not a valid date-time"));
}

#[test]
fn value_outside_an_enum() {
    let ing = read(batch_with_bad("bad_enum").path());
    assert_balanced(&ing);
    assert_eq!(
        where_(&ing.quarantine),
        vec![(Table::Catalog, 2, Some("list_type"))]
    );
    assert_eq!(
        ing.quarantine[0].reason_zh,
        "list_type 取值 '5' 不在允许范围 1/2/3/4 内"
    );
    // The drug's catalog entry is refused, so its fee line now counts as an unknown code (not
    // bad input: the line loads).
    assert_eq!(ing.unknown_catalog_codes, 2);
    assert_eq!(ing.batch.fee.len(), 4);
}

#[test]
fn malformed_code() {
    let ing = read(batch_with_bad("malformed_code").path());
    assert_balanced(&ing);
    assert_eq!(
        where_(&ing.quarantine),
        vec![(Table::Pract, 3, Some("pract_code"))]
    );
    assert!(ing.quarantine[0].reason_zh.starts_with("人员编码格式错误"));
    assert!(ing.quarantine[0]
        .reason_en
        .contains("malformed pract_code 'Y11010100000'"));
}

#[test]
fn fee_amount_must_match_cnt_times_pric() {
    let ing = read(batch_with_bad("amount_mismatch").path());
    assert_balanced(&ing);
    // 2 × 5.00 = 10.00 but 10.02 is billed: off by 0.02 > 0.01. The refund −2 × 5.00 = −10.00
    // billed as −10.01 is within 0.01 and loads.
    assert_eq!(
        where_(&ing.quarantine),
        vec![(Table::Fee, 3, Some("det_item_fee_sumamt"))]
    );
    assert!(ing.quarantine[0]
        .reason_zh
        .contains("2 × 5.00 = 10.00 元，与明细金额 10.02 元相差超过 0.01 元"));
    let refund = ing
        .batch
        .fee
        .iter()
        .find(|f| f.feedetl_sn == "0003")
        .unwrap();
    assert_eq!(refund.cnt, Qty(-20_000));
    assert_eq!(refund.det_item_fee_sumamt, Fen(-1001));
}

#[test]
fn unknown_references() {
    let ing = read(batch_with_bad("unknown_reference").path());
    assert_balanced(&ing);
    assert_eq!(
        where_(&ing.quarantine),
        vec![
            (Table::Fee, 6, Some("mdtrt_id")),
            (Table::Fee, 7, Some("setl_id"))
        ]
    );
    assert!(ing.quarantine[0]
        .reason_zh
        .contains("就诊记录 mdtrt_id='M999'"));
    assert!(ing.quarantine[1]
        .reason_en
        .contains("unknown settlement setl_id 'S999'"));
}

#[test]
fn duplicates_exact_are_dropped_and_conflicting_are_quarantined() {
    let ing = read(batch_with_bad("duplicate_key").path());
    assert_balanced(&ing);
    let s = ing.stats[&Table::Fee];
    assert_eq!(
        (s.read, s.loaded, s.duplicates, s.quarantined),
        (6, 4, 1, 1)
    );
    assert_eq!(where_(&ing.quarantine), vec![(Table::Fee, 7, None)]);
    assert!(ing.quarantine[0]
        .reason_zh
        .contains("主键 (mdtrt_id, feedetl_sn) = (M001, 0003) 重复"));
    assert!(ing.quarantine[0].raw.contains("2024-03-02 09:11:00"));
    // The first row of the key is the one kept.
    let kept = ing
        .batch
        .fee
        .iter()
        .find(|f| f.feedetl_sn == "0003")
        .unwrap();
    assert_eq!(kept.fee_ocur_time.to_string(), "2024-03-02 09:10:00");
}

#[test]
fn csv_structure_errors_quarantine_the_record_and_the_rest_loads() {
    let ing = read(batch_with_bad("csv_structure").path());
    assert_balanced(&ing);
    assert_eq!(
        where_(&ing.quarantine),
        vec![
            (Table::Fee, 3, None),
            (Table::Fee, 4, None),
            (Table::Fee, 6, None)
        ]
    );
    assert_eq!(ing.quarantine[0].reason_zh, "字段数 9 与表头列数 13 不一致");
    assert!(ing.quarantine[1].reason_zh.contains("引号未闭合"));
    assert!(ing.quarantine[1].raw.starts_with("0004,"));
    assert!(ing.quarantine[2]
        .reason_en
        .contains("after the closing quote"));
    let sns: Vec<&str> = ing
        .batch
        .fee
        .iter()
        .map(|f| f.feedetl_sn.as_str())
        .collect();
    assert_eq!(sns, vec!["0001", "0003", "0001"]);
}

#[test]
fn quarantine_csv_round_trips() {
    let ing = read(batch_with_bad("csv_structure").path());
    let out = tempfile::tempdir().unwrap();
    let p = out.path().join("q.csv");
    medfund_ingest::write_quarantine_csv(&p, &ing.quarantine).unwrap();
    let mut r = csv::Reader::from_path(&p).unwrap();
    assert_eq!(
        r.headers().unwrap(),
        &medfund_ingest::QUARANTINE_COLUMNS[..]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[1][0], "fee");
    assert_eq!(&rows[1][2], "4");
    assert_eq!(&rows[1][3], "");
    assert_eq!(&rows[1][6], ing.quarantine[1].raw);
    assert!(rows[1][1].ends_with("fee.csv"));
}
