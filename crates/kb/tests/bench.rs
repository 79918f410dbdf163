//! Throughput figures (run with `cargo test --release -p medfund-kb --test bench -- --ignored --nocapture`).

use chrono::{Days, NaiveDate};
use medfund_contract::{Fee, Fen, Mdtrt, Price, Qty, Setl};
use medfund_kb::eval::{eval_person, KbIndex, LineCtx, PersonLines};
use medfund_kb::*;
use std::path::PathBuf;
use std::time::Instant;

#[test]
#[ignore]
fn bench_import_store_and_eval() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../kb/nhsa");
    let t0 = Instant::now();
    let kb = import_dir(&dir, &KbPolicy::default()).unwrap();
    let import = t0.elapsed();
    let data = tempfile::tempdir().unwrap();
    let path = store::save(data.path(), &kb).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    let t1 = Instant::now();
    let loaded = load_current(data.path()).unwrap();
    let load = t1.elapsed();
    assert_eq!(loaded.points.len(), kb.points.len());
    let ix = KbIndex::new(&kb, &KbPolicy::default());

    // 100,000 persons × 20 lines: a third of the lines carry knowledge-base codes.
    let codes = [
        "XB01AXA223B004010180963", // 14-day course drug
        "002503020030000",         // HbA1c, cycle 1/15
        "003310010140000",         // 胃肠手术组
        "003310010160000",         // 胃肠手术组
        "ZH01AAB0066010100716",    // work-injury drug
        "001103000010000",         // 急诊监护费 (pair main)
        "001102000030000",         // 急诊诊查费 (pair secondary)
    ];
    let persons = 100_000usize;
    let per = 20usize;
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let mut mdtrt = Vec::with_capacity(persons);
    let mut setl = Vec::with_capacity(persons);
    let mut fee = Vec::with_capacity(persons * per);
    for p in 0..persons {
        let psn = format!("P{p:07}");
        let m = format!("M{p:07}");
        mdtrt.push(Mdtrt {
            mdtrt_id: m.as_str().into(),
            psn_no: psn.as_str().into(),
            fixmedins_code: "H11010100001".into(),
            med_type: "21".into(),
            begntime: start.and_hms_opt(8, 0, 0).unwrap(),
            endtime: None,
            diag_code: "I63.900".into(),
            dise_codg: None,
            atddr_no: None,
            emer_flag: false,
            refl_fixmedins_code: None,
        });
        setl.push(Setl {
            setl_id: format!("S{p:07}").into(),
            mdtrt_id: m.as_str().into(),
            psn_no: psn.as_str().into(),
            fixmedins_code: "H11010100001".into(),
            setl_time: start.and_hms_opt(8, 0, 0).unwrap(),
            medfee_sumamt: Fen(1),
            hifp_pay: Fen(1),
            acct_pay: None,
            psn_cash_pay: None,
            fund_pay_sumamt: None,
            drg_codg: None,
        });
        for k in 0..per {
            let code = if k % 3 == 0 {
                codes[(p + k) % codes.len()]
            } else {
                "001201000030000"
            };
            let day = start + Days::new((k / 2) as u64);
            fee.push(Fee {
                feedetl_sn: format!("{k}").into(),
                mdtrt_id: m.as_str().into(),
                setl_id: format!("S{p:07}").into(),
                psn_no: psn.as_str().into(),
                fixmedins_code: "H11010100001".into(),
                fee_ocur_time: day.and_hms_opt(9 + (k % 8) as u32, 0, 0).unwrap(),
                med_list_codg: code.into(),
                cnt: Qty::from_units(1),
                pric: Price::from_fen(Fen(5000)),
                det_item_fee_sumamt: Fen(5000),
                bilg_dr_codg: None,
                hi_rxno: None,
                drug_trac_codg: vec![],
            });
        }
    }
    let t2 = Instant::now();
    let mut out = Vec::new();
    for p in 0..persons {
        let lines = fee[p * per..(p + 1) * per]
            .iter()
            .map(|f| LineCtx {
                fee: f,
                mdtrt: Some(&mdtrt[p]),
                setl: Some(&setl[p]),
                catalog: None,
            })
            .collect();
        eval_person(&ix, &PersonLines::new(lines), &mut out);
    }
    let eval = t2.elapsed();
    println!(
        "import 14 files: {:.2?}; {} points; version file {:.1} MB, load {:.2?}",
        import,
        kb.points.len(),
        size as f64 / 1e6,
        load
    );
    println!(
        "eval: {} lines of {} persons in {:.2?} ({:.1} M lines/s, one core), {} findings",
        fee.len(),
        persons,
        eval,
        fee.len() as f64 / eval.as_secs_f64() / 1e6,
        out.len()
    );
    assert!(!out.is_empty());
}
