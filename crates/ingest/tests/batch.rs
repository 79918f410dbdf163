//! Reading whole batches: every table from CSV, JSON Lines and Parquet, encodings, references
//! satisfied by the store, empty and missing files, and batch-level errors.

mod common;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int64Array, StringArray,
    TimestampSecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use common::*;
use medfund_contract::money::{Fen, Price, Qty};
use medfund_contract::records::*;
use medfund_contract::schema::Table;
use medfund_contract::time::{parse_date, parse_datetime};
use medfund_ingest::{read_batch, read_batch_with, read_table_file, BatchError, Format, Options};
use parquet::arrow::ArrowWriter;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;

fn dt(s: &str) -> chrono::NaiveDateTime {
    parse_datetime(s).unwrap()
}

/// The valid fixture batch, as worked out by hand from tests/fixtures/good/*.csv.
fn assert_good_batch(b: &Batch) {
    assert_eq!(
        b.fixmedins[0],
        Fixmedins {
            fixmedins_code: "H11010100001".into(),
            fixmedins_name: "北京市第一医院, \"总院\"".into(),
            fixmedins_type: FixmedinsType::Medical,
            hosp_lv: Some(1),
            admdvs: Some("110101".into()),
        }
    );
    assert_eq!(b.fixmedins[1].hosp_lv, None);
    assert_eq!(b.fixmedins[1].fixmedins_type, FixmedinsType::Pharmacy);
    assert_eq!(
        b.psn[0],
        Psn {
            psn_no: "0001234".into(),
            gend: Gender::Male,
            brdy: parse_date("1960-05-01").unwrap(),
            insutype: Some("310".into()),
            insuplc_admdvs: Some("110101".into()),
        }
    );
    assert_eq!(b.psn[1].insuplc_admdvs, None);
    assert_eq!(b.pract.len(), 2);
    assert_eq!(b.pract[1].pract_type, 3);
    assert_eq!(b.pract_susp[0].susp_type, SuspType::Suspend);
    assert_eq!(
        b.pract_susp[0].enddate,
        Some(parse_date("2024-06-30").unwrap())
    );
    let c = &b.catalog[0];
    assert_eq!(c.med_chrgitm_type.as_deref(), Some("09"));
    assert_eq!(c.pric_uplmt_amt, Some(Price(12_345_678)));
    assert_eq!(c.lmt_age_min, Some(18));
    assert_eq!(c.lmt_age_max, None);
    assert_eq!(c.lmt_dise, vec!["E11"]);
    assert_eq!(c.max_cnt_day, Some(Qty(30_000)));
    assert!(c.rx_only);
    let c = &b.catalog[1];
    assert_eq!(c.med_list_codg, "003105050010000");
    assert_eq!(c.lmt_hosp_lv, Some(2));
    assert_eq!(c.lmt_med_type, Some(MedTypeLimit::Ipt));
    assert_eq!(c.excl_codes, vec!["003105050020000"]);
    assert!(!c.rx_only);
    assert_eq!(
        b.mdtrt[0],
        Mdtrt {
            mdtrt_id: "M001".into(),
            psn_no: "0001234".into(),
            fixmedins_code: "H11010100001".into(),
            med_type: "21".into(),
            begntime: dt("2024-03-01 08:00:00"),
            endtime: Some(dt("2024-03-05 10:00:00")),
            diag_code: "E11.900".into(),
            dise_codg: None,
            atddr_no: Some("D110101000001".into()),
            emer_flag: true,
            refl_fixmedins_code: None,
        }
    );
    assert!(!b.mdtrt[1].emer_flag);
    assert_eq!(b.mdtrt[1].endtime, None);
    assert!(b.diag[0].maindiag_flag && !b.diag[1].maindiag_flag);
    let s = &b.setl[0];
    assert_eq!(
        (s.medfee_sumamt, s.hifp_pay, s.acct_pay),
        (Fen(123_456), Fen(90_000), Some(Fen(10_000)))
    );
    assert_eq!(s.drg_codg.as_deref(), Some("KR19"));
    assert_eq!(b.setl[1].drg_codg, None);
    assert_eq!(b.fee.len(), 4);
    let f = &b.fee[0];
    assert_eq!(f.feedetl_sn, "0001");
    assert_eq!(f.cnt, Qty(30_000));
    assert_eq!(f.pric, Price(12_345_678));
    assert_eq!(f.pric.to_string(), "12.345678");
    assert_eq!(f.det_item_fee_sumamt, Fen(3704));
    assert_eq!(
        f.drug_trac_codg,
        vec!["81234567890123456789", "81234567890123456790"]
    );
    assert_eq!(f.hi_rxno, None);
    // The refund line.
    assert_eq!(
        (b.fee[2].cnt, b.fee[2].det_item_fee_sumamt),
        (Qty(-20_000), Fen(-1000))
    );
    assert_eq!(b.fee[3].hi_rxno.as_deref(), Some("RX0001"));
    assert_eq!(b.fee[3].bilg_dr_codg, None);
    assert_eq!(b.rx[0].valid_days, 3);
    assert_eq!(b.inv_purc[0].purc_cnt, Qty(1_000_000));
    assert_eq!(b.inv_stock[0].inv_cnt, Qty(995_000));
    assert_eq!(b.idv[0].vrf_way, "face");
    assert!(b.idv[0].vrf_rslt);
    assert_eq!(b.fund_month[0].month.to_string(), "2024-03");
    assert_eq!(b.fund_month[0].balance, Fen(520_000_000));
    assert_eq!(b.budget[0].year, 2024);
    assert_eq!(b.budget[0].cap_in, Fen(5_000_000_000));
    assert_eq!(b.budget[0].approved_extra, None);
}

#[test]
fn every_table_from_csv() {
    let d = good_batch();
    let ing = read(d.path());
    assert!(ing.quarantine.is_empty(), "{:?}", ing.quarantine);
    assert_good_batch(&ing.batch);
    assert_balanced(&ing);
    assert_eq!(ing.stats.len(), 15);
    assert_eq!(ing.stats[&Table::Fee].loaded, 4);
    // ZA01AAB0123010100001 is not in the catalog: counted, not refused.
    assert_eq!(ing.unknown_catalog_codes, 1);
    assert_eq!(ing.sources.len(), 15);
    let fee = ing.sources.iter().find(|s| s.table == Table::Fee).unwrap();
    let bytes = std::fs::read(d.path().join("fee.csv")).unwrap();
    assert_eq!(fee.bytes, bytes.len() as u64);
    assert_eq!(fee.sha256, format!("{:x}", Sha256::digest(&bytes)));
    assert_eq!((fee.format, fee.encoding.as_str()), (Format::Csv, "UTF-8"));
}

#[test]
fn single_threaded_reads_the_same() {
    let d = good_batch();
    let a = read(d.path());
    let b = read_batch(
        d.path(),
        &Options {
            threads: 1,
            check_refs: true,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(a.batch, b.batch);
}

/// Writes each fixture table as JSON Lines: numbers for the money columns and counts, strings
/// elsewhere, nulls for empty fields.
fn to_jsonl(dir: &Path) {
    for t in Table::ALL {
        let csv_path = dir.join(format!("{}.csv", t.name()));
        let mut r = csv::Reader::from_path(&csv_path).unwrap();
        let heads: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        let mut out = String::new();
        for rec in r.records() {
            let rec = rec.unwrap();
            let mut parts = Vec::new();
            for (h, v) in heads.iter().zip(rec.iter()) {
                let is_num = [
                    "cnt",
                    "pric",
                    "det_item_fee_sumamt",
                    "medfee_sumamt",
                    "income",
                    "year",
                ]
                .contains(&h.as_str());
                let val = if v.is_empty() {
                    "null".to_string()
                } else if is_num {
                    v.to_string()
                } else {
                    serde_json::to_string(v).unwrap()
                };
                parts.push(format!("{}:{val}", serde_json::to_string(h).unwrap()));
            }
            out.push_str(&format!("{{{}}}\n", parts.join(",")));
        }
        std::fs::remove_file(&csv_path).unwrap();
        std::fs::write(dir.join(format!("{}.jsonl", t.name())), out).unwrap();
    }
}

#[test]
fn every_table_from_jsonl_with_exact_numbers() {
    let d = good_batch();
    to_jsonl(d.path());
    let ing = read(d.path());
    assert!(ing.quarantine.is_empty(), "{:?}", ing.quarantine);
    assert_good_batch(&ing.batch);
    assert_eq!(ing.batch, read(good_batch().path()).batch);
    assert!(ing.sources.iter().all(|s| s.format == Format::Jsonl));
}

#[test]
fn jsonl_codes_as_numbers_and_bad_lines() {
    let d = good_batch();
    std::fs::remove_file(d.path().join("catalog.csv")).unwrap();
    std::fs::write(
        d.path().join("catalog.jsonl"),
        concat!(
            // Arrays are accepted for `;`-lists; a numeric area code keeps its text.
            r#"{"med_list_codg":"003105050010000","med_list_name":"输液","list_type":3,"excl_codes":["003105050020000","003105050030000"],"pric_uplmt_amt":0.000001}"#,
            "\n",
            // 09 sent as the number 9 lost its leading zero.
            r#"{"med_list_codg":"XL02BBA326A001010102180","med_list_name":"x","list_type":1,"med_chrgitm_type":9}"#,
            "\n\n",
            "{not json\n",
            r#"{"med_list_codg":"X1","med_list_name":"x","list_type":1}"#,
            "\n"
        ),
    )
    .unwrap();
    let ing = read(d.path());
    assert_balanced(&ing);
    assert_eq!(
        where_(&ing.quarantine),
        vec![
            (Table::Catalog, 2, Some("med_chrgitm_type")),
            (Table::Catalog, 4, None),
            (Table::Catalog, 5, Some("med_list_codg"))
        ]
    );
    assert!(ing.quarantine[0].reason_zh.contains("前导零"));
    assert!(ing.quarantine[1].reason_zh.starts_with("JSON 行无法解析"));
    assert_eq!(ing.quarantine[1].raw, "{not json");
    let c = &ing.batch.catalog[0];
    assert_eq!(c.excl_codes, vec!["003105050020000", "003105050030000"]);
    assert_eq!(c.pric_uplmt_amt, Some(Price(1)));
    assert_eq!(c.list_type, 3);
}

/// Writes each fixture table as Parquet with every column as a nullable string.
fn to_parquet_strings(dir: &Path) {
    for t in Table::ALL {
        let csv_path = dir.join(format!("{}.csv", t.name()));
        let mut r = csv::Reader::from_path(&csv_path).unwrap();
        let heads: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        let recs: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
        let fields: Vec<Field> = heads
            .iter()
            .map(|h| Field::new(h, DataType::Utf8, true))
            .collect();
        let cols: Vec<ArrayRef> = (0..heads.len())
            .map(|i| {
                Arc::new(
                    recs.iter()
                        .map(|r| Some(&r[i]).filter(|v| !v.is_empty()))
                        .collect::<StringArray>(),
                ) as ArrayRef
            })
            .collect();
        write_parquet(&dir.join(format!("{}.parquet", t.name())), fields, cols);
        std::fs::remove_file(&csv_path).unwrap();
    }
}

fn write_parquet(path: &Path, fields: Vec<Field>, cols: Vec<ArrayRef>) {
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn every_table_from_parquet() {
    let d = good_batch();
    to_parquet_strings(d.path());
    let ing = read(d.path());
    assert!(ing.quarantine.is_empty(), "{:?}", ing.quarantine);
    assert_good_batch(&ing.batch);
    assert!(ing
        .sources
        .iter()
        .all(|s| s.format == Format::Parquet && s.encoding == "binary"));
}

#[test]
fn parquet_typed_columns_convert_exactly() {
    let d = good_batch();
    std::fs::remove_file(d.path().join("fee.csv")).unwrap();
    let s = |v: Vec<Option<&str>>| Arc::new(StringArray::from(v)) as ArrayRef;
    let fields = vec![
        Field::new("feedetl_sn", DataType::Utf8, false),
        Field::new("mdtrt_id", DataType::Utf8, false),
        Field::new("setl_id", DataType::Utf8, false),
        Field::new("psn_no", DataType::Utf8, false),
        Field::new("fixmedins_code", DataType::Utf8, false),
        Field::new(
            "fee_ocur_time",
            DataType::Timestamp(TimeUnit::Second, None),
            false,
        ),
        Field::new("med_list_codg", DataType::Utf8, false),
        Field::new("cnt", DataType::Int64, false),
        Field::new("pric", DataType::Decimal128(18, 6), false),
        Field::new("det_item_fee_sumamt", DataType::Decimal128(18, 2), false),
        Field::new("extra_flag", DataType::Boolean, true),
        Field::new("extra_day", DataType::Date32, true),
    ];
    let t0 = dt("2024-03-01 09:00:00").and_utc().timestamp();
    let cols: Vec<ArrayRef> = vec![
        s(vec![Some("0001"), Some("0002"), Some("0003")]),
        s(vec![Some("M001"); 3]),
        s(vec![Some("S001"); 3]),
        s(vec![Some("0001234"); 3]),
        s(vec![Some("H11010100001"); 3]),
        Arc::new(TimestampSecondArray::from(vec![t0, t0 + 600, t0 + 86400])),
        s(vec![
            Some("XL02BBA326A001010102180"),
            Some("003105050010000"),
            Some("003105050010000"),
        ]),
        Arc::new(Int64Array::from(vec![3, 2, -2])),
        Arc::new(
            Decimal128Array::from(vec![12_345_678, 5_000_000, 5_000_000])
                .with_precision_and_scale(18, 6)
                .unwrap(),
        ),
        // Row 3 is billed 10.00 for a refund of −10.00: refused.
        Arc::new(
            Decimal128Array::from(vec![3704, 1000, 1000])
                .with_precision_and_scale(18, 2)
                .unwrap(),
        ),
        Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])),
        Arc::new(Date32Array::from(vec![Some(19_783), None, None])),
    ];
    write_parquet(&d.path().join("fee.parquet"), fields, cols);
    let ing = read(d.path());
    assert_balanced(&ing);
    assert_eq!(
        where_(&ing.quarantine),
        vec![(Table::Fee, 3, Some("det_item_fee_sumamt"))]
    );
    assert!(ing.quarantine[0]
        .raw
        .contains("\"det_item_fee_sumamt\":\"10.00\""));
    let f = &ing.batch.fee;
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].fee_ocur_time, dt("2024-03-01 09:00:00"));
    assert_eq!(f[1].fee_ocur_time, dt("2024-03-01 09:10:00"));
    assert_eq!(
        (f[0].cnt, f[0].pric, f[0].det_item_fee_sumamt),
        (Qty(30_000), Price(12_345_678), Fen(3704))
    );
    assert_eq!(f[0].psn_no, "0001234");
}

#[test]
fn parquet_time_zones_give_civil_time_or_a_clear_refusal() {
    // 2024-03-01 01:00:00 UTC is 09:00:00 in Beijing (+08:00): the column says its zone, so
    // the civil time of that zone is read. An unknown zone is refused, never read as UTC.
    let write = |dir: &Path, zone: &str| {
        let s = |v: Vec<Option<&str>>| Arc::new(StringArray::from(v)) as ArrayRef;
        let fields = vec![
            Field::new("feedetl_sn", DataType::Utf8, false),
            Field::new("mdtrt_id", DataType::Utf8, false),
            Field::new("setl_id", DataType::Utf8, false),
            Field::new("psn_no", DataType::Utf8, false),
            Field::new("fixmedins_code", DataType::Utf8, false),
            Field::new(
                "fee_ocur_time",
                DataType::Timestamp(TimeUnit::Second, Some(zone.into())),
                false,
            ),
            Field::new("med_list_codg", DataType::Utf8, false),
            Field::new("cnt", DataType::Utf8, false),
            Field::new("pric", DataType::Utf8, false),
            Field::new("det_item_fee_sumamt", DataType::Utf8, false),
        ];
        let t = dt("2024-03-01 01:00:00").and_utc().timestamp();
        let cols: Vec<ArrayRef> = vec![
            s(vec![Some("0001")]),
            s(vec![Some("M001")]),
            s(vec![Some("S001")]),
            s(vec![Some("0001234")]),
            s(vec![Some("H11010100001")]),
            Arc::new(TimestampSecondArray::from(vec![t]).with_timezone(zone)),
            s(vec![Some("003105050010000")]),
            s(vec![Some("1")]),
            s(vec![Some("5")]),
            s(vec![Some("5.00")]),
        ];
        write_parquet(&dir.join("fee.parquet"), fields, cols);
    };
    let d = good_batch();
    std::fs::remove_file(d.path().join("fee.csv")).unwrap();
    write(d.path(), "+08:00");
    let ing = read(d.path());
    assert_eq!(ing.batch.fee[0].fee_ocur_time, dt("2024-03-01 09:00:00"));
    let d = good_batch();
    std::fs::remove_file(d.path().join("fee.csv")).unwrap();
    write(d.path(), "Mars/Olympus");
    let e = read_batch(d.path(), &Options::default()).unwrap_err();
    assert!(e.to_string().contains("Mars/Olympus"), "{e}");
}

#[test]
fn every_row_keeps_its_file_and_line() {
    // A fee file with a quarantined row and a quoted line break: the loaded rows still know
    // their own physical lines.
    let d = good_batch();
    let fee = std::fs::read_to_string(d.path().join("fee.csv")).unwrap();
    let mut lines: Vec<&str> = fee.lines().collect();
    let header = lines.remove(0);
    let first = lines[0].to_string();
    let bad = first.replacen(",", ",X", 1); // a malformed serial/visit: refused
    let text = format!("{header}\n{bad}\n{}\n", lines.join("\n"));
    std::fs::write(d.path().join("fee.csv"), text).unwrap();
    let ing = read(d.path());
    let o = &ing.origins[&Table::Fee];
    assert_eq!(o.lines.len(), ing.batch.fee.len());
    let (file, line) = o.of(0).unwrap();
    assert_eq!(file, d.path().join("fee.csv").as_path());
    assert_eq!(
        line, 3,
        "line 2 was refused, the first loaded row is on line 3"
    );
    let last = ing.batch.fee.len() - 1;
    assert_eq!(o.of(last).unwrap().1, (last + 3) as u64);
}

#[test]
fn bom_and_crlf_read_like_plain_utf8() {
    let d = good_batch();
    for e in std::fs::read_dir(d.path()).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap().replace('\n', "\r\n");
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(text.as_bytes());
        std::fs::write(&p, bytes).unwrap();
    }
    let ing = read(d.path());
    assert!(ing.quarantine.is_empty(), "{:?}", ing.quarantine);
    assert_eq!(ing.batch, read(good_batch().path()).batch);
    assert!(ing.sources.iter().all(|s| s.encoding == "UTF-8-BOM"));
}

fn to_gbk(p: &Path) {
    let text = std::fs::read_to_string(p).unwrap();
    let (bytes, _, bad) = encoding_rs::GBK.encode(&text);
    assert!(!bad);
    std::fs::write(p, bytes).unwrap();
}

#[test]
fn gbk_files_are_detected_and_decoded() {
    let d = good_batch();
    to_gbk(&d.path().join("fixmedins.csv"));
    to_gbk(&d.path().join("pract.csv"));
    let ing = read(d.path());
    assert!(ing.quarantine.is_empty(), "{:?}", ing.quarantine);
    assert_eq!(
        ing.batch.fixmedins[0].fixmedins_name,
        "北京市第一医院, \"总院\""
    );
    assert_eq!(ing.batch.pract[0].pract_name, "张医生");
    let enc: Vec<(Table, &str)> = ing
        .sources
        .iter()
        .take(3)
        .map(|s| (s.table, s.encoding.as_str()))
        .collect();
    assert_eq!(
        enc,
        vec![
            (Table::Fixmedins, "GBK"),
            (Table::Psn, "UTF-8"),
            (Table::Pract, "GBK")
        ]
    );
}

#[test]
fn gbk_found_only_after_the_first_block_restarts_the_table() {
    // With one thread a block is 16 MB: the GBK name sits in the second block.
    let d = tempfile::tempdir().unwrap();
    let mut text = String::from("psn_no,gend,brdy\n");
    let mut n = 0u64;
    while text.len() < 17 << 20 {
        text.push_str(&format!("P{n:010},1,1990-01-01\n"));
        n += 1;
    }
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"PX,1,1990-01-01,");
    bytes.extend_from_slice(&encoding_rs::GBK.encode("张三").0);
    bytes.push(b'\n');
    std::fs::write(d.path().join("psn.csv"), bytes).unwrap();
    let ing = read_batch(
        d.path(),
        &Options {
            threads: 1,
            check_refs: true,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(ing.sources[0].encoding, "GBK");
    assert_eq!(ing.batch.psn.len() as u64, n);
    // The last row has one field too many (the extra name column was never in the header).
    assert_eq!(where_(&ing.quarantine), vec![(Table::Psn, n + 2, None)]);
    assert_eq!(ing.quarantine[0].raw, "PX,1,1990-01-01,张三");
}

#[test]
fn undecodable_text_is_refused_naming_the_encoding() {
    let d = good_batch();
    std::fs::write(
        d.path().join("psn.csv"),
        b"psn_no,gend,brdy\nP1,1,\x80\xff\n",
    )
    .unwrap();
    match read_batch(d.path(), &Options::default()) {
        Err(BatchError::Encoding { path, detected }) => {
            assert!(path.ends_with("psn.csv"));
            assert!(detected.contains("GBK"), "{detected}");
        }
        other => panic!("{other:?}"),
    }
    std::fs::write(d.path().join("psn.csv"), b"\xff\xfep\x00s\x00").unwrap();
    let e = read_batch(d.path(), &Options::default()).unwrap_err();
    assert!(
        matches!(&e, BatchError::Encoding { detected, .. } if detected == "UTF-16"),
        "{e:?}"
    );
    assert!(e.to_string().contains("请另存为 UTF-8"));
}

#[test]
fn references_satisfied_by_known_keys() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("fee.csv"),
        "feedetl_sn,mdtrt_id,setl_id,psn_no,fixmedins_code,fee_ocur_time,med_list_codg,cnt,pric,det_item_fee_sumamt\n\
         1,OLD-M,OLD-S,OLD-P,H99999900001,2024-03-01 09:00:00,003105050010000,1,5,5\n\
         2,OLD-M,OLD-S,OLD-P,H99999900001,2024-03-01 09:00:00,003105050020000,1,5,5\n\
         3,NEW-M,OLD-S,OLD-P,H99999900001,2024-03-01 09:00:00,003105050010000,1,5,5\n",
    )
    .unwrap();
    let ing = read_batch_with(d.path(), &Options::default(), &Store).unwrap();
    assert_eq!(
        where_(&ing.quarantine),
        vec![(Table::Fee, 4, Some("mdtrt_id"))]
    );
    assert_eq!(ing.batch.fee.len(), 2);
    // Line 2's code is known to neither the batch nor the store.
    assert_eq!(ing.unknown_catalog_codes, 1);
    // Without the store every line is refused; without reference checks every line loads.
    assert_eq!(read(d.path()).quarantine.len(), 3);
    let all = read_batch(
        d.path(),
        &Options {
            threads: 0,
            check_refs: false,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(all.batch.fee.len(), 3);
}

#[test]
fn empty_and_missing_files() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("fixmedins.csv"),
        "fixmedins_code,fixmedins_name,fixmedins_type\n",
    )
    .unwrap();
    std::fs::write(d.path().join("psn.csv"), "").unwrap();
    std::fs::write(d.path().join("idv.jsonl"), "\n").unwrap();
    std::fs::write(d.path().join("notes.txt"), "ignored").unwrap();
    let ing = read(d.path());
    assert!(ing.quarantine.is_empty());
    assert_eq!(ing.batch, Batch::default());
    assert_eq!(ing.stats.len(), 3);
    assert!(ing.stats.values().all(|s| *s == Default::default()));
    assert_eq!(ing.sources.len(), 3);
}

#[test]
fn batch_errors_say_what_to_do() {
    let e = read_batch(Path::new("/nonexistent/batch"), &Options::default()).unwrap_err();
    assert!(matches!(e, BatchError::NoDirectory(_)));
    assert!(e.to_string().contains("请检查路径"));
    let d = tempfile::tempdir().unwrap();
    assert!(matches!(
        read_batch(d.path(), &Options::default()),
        Err(BatchError::NoTables(_))
    ));
    std::fs::write(d.path().join("fee.parquet"), b"not a parquet file").unwrap();
    let e = read_batch(d.path(), &Options::default()).unwrap_err();
    assert!(matches!(e, BatchError::Undecodable { .. }), "{e:?}");
    assert!(read_table_file(&d.path().join("fee.txt"), Table::Fee, &Options::default()).is_err());
}

#[test]
fn read_table_file_reads_one_file_without_references() {
    let p = fixtures().join("good/fee.csv");
    let ing = read_table_file(&p, Table::Fee, &Options::default()).unwrap();
    assert_eq!(ing.batch.fee.len(), 4);
    assert!(ing.quarantine.is_empty());
    assert_eq!(ing.sources.len(), 1);
}

#[test]
fn multi_chunk_file_keeps_line_numbers_and_quoted_newlines() {
    // ~20 MB of fee lines over three 8 MB chunks; every 1000th record has a quoted field with a
    // line break inside, every 7919th a bad amount. Line numbers must come out exact.
    let d = good_batch();
    let mut text = String::from(
        "feedetl_sn,mdtrt_id,setl_id,psn_no,fixmedins_code,fee_ocur_time,med_list_codg,cnt,pric,det_item_fee_sumamt,bilg_dr_codg,hi_rxno,drug_trac_codg,note\n",
    );
    let mut line = 2u64;
    let mut expect_bad = Vec::new();
    let mut n = 0u64;
    while text.len() < 20 << 20 {
        let amt = if n % 7919 == 5 {
            expect_bad.push(line);
            "99.99"
        } else {
            "10.00"
        };
        let note = if n % 1000 == 3 {
            "\"two\nlines, \"\"quoted\"\"\""
        } else {
            "plain"
        };
        text.push_str(&format!(
            "{n},M001,S001,0001234,H11010100001,2024-03-01 09:10:00,003105050010000,2,5.00,{amt},,,,{note}\n"
        ));
        line += if n % 1000 == 3 { 2 } else { 1 };
        n += 1;
    }
    std::fs::write(d.path().join("fee.csv"), text).unwrap();
    let ing = read_batch(
        d.path(),
        &Options {
            threads: 2,
            check_refs: true,
            ..Options::default()
        },
    )
    .unwrap();
    assert_balanced(&ing);
    let lines: Vec<u64> = ing.quarantine.iter().map(|q| q.line).collect();
    assert_eq!(lines, expect_bad);
    assert_eq!(ing.batch.fee.len() as u64, n - expect_bad.len() as u64);
    assert_eq!(ing.batch.fee[3].feedetl_sn, "3");
    assert_eq!(ing.stats[&Table::Fee].read, n);
}

#[test]
fn a_field_like_the_previous_records_is_read_exactly_as_it_would_be_alone() {
    // Consecutive visits of one person: the reuse of the previous record's checked value must
    // give what checking the field again gives, including trimming, emptiness and refusals.
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("mdtrt.csv");
    std::fs::write(
        &p,
        "mdtrt_id,psn_no,fixmedins_code,med_type,begntime,endtime,diag_code,dise_codg,atddr_no,emer_flag,refl_fixmedins_code\n\
         M1,P1,H32010600018,11,2025-01-02 08:00:00,,E11,,D320106001274,0,\n\
         M2, P1 ,H32010600018,11,2025-01-03 08:00:00,,E11,,,0,\n\
         M3,P1,H32010600018,11,2025-01-04 08:00:00,,E11,,D320106001274,0,\n\
         M4,P1#,H32010600018,11,2025-01-05 08:00:00,,E11,,D320106001274,0,\n\
         M5,P1,H32010600018,11,2025-01-06 08:00:00,,E11,,D320106001274 ,0,\n",
    )
    .unwrap();
    let ing = read_table_file(&p, Table::Mdtrt, &Options::default()).unwrap();
    let m = &ing.batch.mdtrt;
    let ids: Vec<&str> = m.iter().map(|m| m.mdtrt_id.as_str()).collect();
    assert_eq!(ids, ["M1", "M2", "M3", "M5"], "{:?}", ing.quarantine);
    assert!(m.iter().all(|m| m.psn_no == "P1"));
    let atddr: Vec<Option<&str>> = m.iter().map(|m| m.atddr_no.as_deref()).collect();
    assert_eq!(
        atddr,
        [
            Some("D320106001274"),
            None,
            Some("D320106001274"),
            Some("D320106001274")
        ]
    );
    assert_eq!(ing.quarantine.len(), 1);
    assert_eq!(ing.quarantine[0].line, 5);
    assert_eq!(ing.quarantine[0].column.as_deref(), Some("psn_no"));
}
