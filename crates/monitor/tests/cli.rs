//! End to end: a CSV batch → (store) → `medfund monitor` → JSON, text and Excel.
#![allow(clippy::field_reassign_with_default, clippy::too_many_arguments)] // fixtures build batches step by step

use medfund_monitor::cli::{run, MonitorArgs};
use std::fmt::Write as _;
use std::path::Path;

/// Five tertiary hospitals, ten outpatient visits each; the fifth bills 400.00 a visit
/// against 100–120 elsewhere. Fund months for the employee fund.
fn write_batch(dir: &Path) {
    let mut fixmedins =
        String::from("fixmedins_code,fixmedins_name,fixmedins_type,hosp_lv,admdvs\n");
    let mut psn = String::from("psn_no,gend,brdy,insutype\n");
    let mut mdtrt =
        String::from("mdtrt_id,psn_no,fixmedins_code,med_type,begntime,endtime,diag_code\n");
    let mut setl =
        String::from("setl_id,mdtrt_id,psn_no,fixmedins_code,setl_time,medfee_sumamt,hifp_pay\n");
    let mut fee = String::from(
        "feedetl_sn,mdtrt_id,setl_id,psn_no,fixmedins_code,fee_ocur_time,med_list_codg,cnt,pric,det_item_fee_sumamt\n",
    );
    let amounts = ["100.00", "100.00", "110.00", "120.00", "400.00"];
    for (k, a) in amounts.iter().enumerate() {
        let h = format!("H3301020000{}", k + 1);
        writeln!(fixmedins, "{h},第{}医院,1,1,330102", k + 1).unwrap();
        for v in 0..10 {
            let id = format!("M{k}{v}");
            let p = format!("P{k}{v}");
            let d = v + 1;
            writeln!(psn, "{p},1,1980-05-{d:02},310").unwrap();
            writeln!(mdtrt, "{id},{p},{h},11,2024-03-{d:02} 09:00:00,,J06.900").unwrap();
            writeln!(setl, "S{id},{id},{p},{h},2024-03-{d:02} 10:00:00,{a},50.00").unwrap();
            let line =
                format!("1,{id},S{id},{p},{h},2024-03-{d:02} 09:10:00,003105050010000,1,{a},{a}");
            writeln!(fee, "{line}").unwrap();
        }
    }
    let mut fund = String::from("insutype,month,income,expense,balance\n");
    for m in 1..=3 {
        writeln!(fund, "310,2024-{m:02},800.00,700.00,{}", 2000 + 100 * m).unwrap();
    }
    for (name, text) in [
        ("fixmedins", fixmedins),
        ("psn", psn),
        ("mdtrt", mdtrt),
        ("setl", setl),
        ("fee", fee),
        ("fund_month", fund),
    ] {
        std::fs::write(dir.join(format!("{name}.csv")), text).unwrap();
    }
}

fn args(out: &Path, json: bool, xlsx: Option<&Path>) -> MonitorArgs {
    MonitorArgs {
        month: Some("2024-03".into()),
        json,
        xlsx: xlsx.map(Path::to_path_buf),
        out: Some(out.to_path_buf()),
        batch: None,
        policy: None,
    }
}

#[test]
fn report_from_the_store_and_from_a_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let batch = tmp.path().join("batch");
    std::fs::create_dir(&batch).unwrap();
    write_batch(&batch);
    let data = tmp.path().join("data");
    let mut store = medfund_store::Store::open(&data).unwrap();
    store.load_batch(&batch, &Default::default(), None).unwrap();
    drop(store);

    let json = tmp.path().join("r.json");
    let xlsx = tmp.path().join("月报.xlsx");
    run(&data, &args(&json, true, Some(&xlsx))).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["schema"], "medfund.monitor.monthly/1");
    assert_eq!(v["month"], "2024-03");
    assert_eq!(v["summary"]["visits"], 50);
    assert_eq!(v["summary"]["fund_spending"], "2500.00");
    let outliers = v["outliers"].as_array().unwrap();
    assert_eq!(outliers.len(), 1);
    assert_eq!(outliers[0]["fixmedins_code"], "H33010200005");
    assert_eq!(outliers[0]["category"], "provider_outlier");
    // 2,300.00 ÷ 700.00 = 3.29 months: a risk.
    let fund = &v["fund"]["funds"][0]["latest"];
    assert_eq!(fund["band"], "risk");
    assert!((fund["months_payable"].as_f64().unwrap() - 2300.0 / 700.0).abs() < 1e-9);
    assert_eq!(v["top_persons"].as_array().unwrap().len(), 30);
    assert_eq!(v["top_persons"][0]["psn_no"], "P40");
    let bytes = std::fs::read(&xlsx).unwrap();
    assert_eq!(&bytes[..2], b"PK", "an xlsx file is a zip archive");

    // The text report, from the batch directly.
    let text = tmp.path().join("r.txt");
    let mut a = args(&text, false, None);
    a.batch = Some(batch.clone());
    a.month = None; // the latest month with settlements
    run(&tmp.path().join("nowhere"), &a).unwrap();
    let t = std::fs::read_to_string(&text).unwrap();
    assert!(t.contains("医保基金监测月报 2024-03"), "{t}");
    assert!(t.contains("H33010200005"), "{t}");
    assert!(t.contains("支付风险"), "{t}");
}

#[test]
fn helpful_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let e = run(
        &tmp.path().join("missing"),
        &args(&tmp.path().join("x"), true, None),
    )
    .unwrap_err();
    assert!(e.to_string().contains("medfund load"), "{e}");
    let mut a = args(&tmp.path().join("x"), true, None);
    a.month = Some("2024-13".into());
    let e = run(tmp.path(), &a).unwrap_err();
    assert!(e.to_string().contains("YYYY-MM"), "{e}");
}
