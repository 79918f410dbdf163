//! End-to-end tests of `medfund settle …` through `cli::run`, with temporary files and a
//! temporary data directory (a real store: SQLite + Parquet).

use clap::Parser;
use medfund_settle::cli::{run, SettleArgs};
use std::path::Path;

#[derive(Parser)]
struct Cmd {
    #[command(flatten)]
    args: SettleArgs,
}

fn settle(data: &Path, argv: &[&str]) -> anyhow::Result<()> {
    let mut full = vec!["settle"];
    full.extend_from_slice(argv);
    let cmd = Cmd::try_parse_from(full).map_err(|e| anyhow::anyhow!("{e}"))?;
    run(data, &cmd.args)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn budget_from_csv_round_trip_with_storage_and_excel() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    // Row 1: DOMAIN.md §6 over-cap example; row 2: the under-cap example; row 3: none met.
    let input = write(
        d.path(),
        "caps.csv",
        "fixmedins_code,cap_in,cap_out,approved_extra,actual_in,actual_out,indicators\n\
         H33060400001,1000000,200000,,1050000,250000,some\n\
         H33060400002,1000000,200000,0,900000,150000,some\n\
         H33060400003,100,100,,100.05,100.05,none\n",
    );
    let out = d.path().join("out.csv");
    let xlsx = d.path().join("budget.xlsx");
    settle(
        &data,
        &[
            "budget",
            "--year",
            "2024",
            "--input",
            &input,
            "--out",
            out.to_str().unwrap(),
            "--xlsx",
            xlsx.to_str().unwrap(),
            "--user",
            "张三",
        ],
    )
    .unwrap();
    let text = read(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with(
        "fixmedins_code,cap,actual,reward,overage,overage_in,overage_out,institution_bears,fund_pays_overage,payable"
    ));
    assert!(lines[1].starts_with(
        "H33060400001,1200000.00,1300000.00,0.00,100000.00,50000.00,50000.00,20000.00,80000.00,1280000.00"
    ));
    assert!(lines[2].starts_with(
        "H33060400002,1200000.00,1050000.00,45000.00,0.00,0.00,0.00,0.00,0.00,1095000.00"
    ));
    // O = 0.10: 0.05 each; none met: bears all 0.10; paid 200.10 − 0.10 = 200.00.
    assert!(lines[3].starts_with("H33060400003,200.00,200.10,0.00,0.10,0.05,0.05,0.10,0.00,200.00"));
    assert_eq!(lines.len(), 4);
    let x = std::fs::read(&xlsx).unwrap();
    assert!(
        x.len() > 1000 && x.starts_with(b"PK"),
        "an xlsx is a zip file"
    );
    // The sheet reads back with its title, Chinese headers, lines and the exact totals row.
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let r = wb.worksheet_range("总额结算").unwrap();
    let cell = |row: u32, col: u32| r.get_value((row, col)).cloned().unwrap_or(Data::Empty);
    assert_eq!(
        cell(0, 0),
        Data::String("2024 年度定点医疗机构医保基金总额控制年终结算表".into())
    );
    assert_eq!(cell(2, 0), Data::String("机构编码".into()));
    assert_eq!(cell(2, 15), Data::String("年度应拨付".into()));
    assert_eq!(cell(3, 0), Data::String("H33060400001".into()));
    assert_eq!(cell(3, 8), Data::String("部分达标".into()));
    assert_eq!(cell(3, 13), Data::Float(20000.0));
    assert_eq!(cell(3, 15), Data::Float(1280000.0));
    assert_eq!(cell(6, 0), Data::String("合计".into()));
    assert_eq!(cell(6, 15), Data::Float(2375200.0));

    // The run is stored as a draft and goes through the approval chain.
    let mut store = medfund_store::Store::open(&data).unwrap();
    let runs = medfund_settle::runs::list_runs(store.db(), &Default::default()).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].created_by, "张三");
    assert_eq!(runs[0].total_payable, "2375200.00".parse().unwrap());
    let id = runs[0].id.to_string();
    drop(store);
    // (The approval chain, which needs logged-in users, is tested in tests/approval.rs.)
    let again = d.path().join("again.csv");
    let again_x = d.path().join("again.xlsx");
    settle(
        &data,
        &[
            "show",
            &id,
            "--out",
            again.to_str().unwrap(),
            "--xlsx",
            again_x.to_str().unwrap(),
        ],
    )
    .unwrap();
    assert_eq!(read(&again), text, "the stored run exports the same lines");
    settle(&data, &["runs", "--status", "draft"]).unwrap();
    assert!(settle(&data, &["runs", "--status", "done"]).is_err());
}

#[test]
fn budget_input_errors_are_actionable() {
    let d = tempfile::tempdir().unwrap();
    let input = write(
        d.path(),
        "caps.csv",
        "fixmedins_code,cap_in,actual_in\nH1,10,abc\n",
    );
    let e = settle(
        d.path(),
        &["budget", "--year", "2024", "--input", &input, "--no-store"],
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("actual_in") && e.to_string().contains("第 2 行"),
        "{e}"
    );
    let dup = write(
        d.path(),
        "dup.csv",
        "fixmedins_code,cap_in,actual_in\nH1,10,1\nH1,10,1\n",
    );
    let e = settle(
        d.path(),
        &["budget", "--year", "2024", "--input", &dup, "--no-store"],
    )
    .unwrap_err();
    assert!(e.to_string().contains("H1"), "{e}");
    let e = settle(d.path(), &["budget", "--year", "2024", "--no-store"]).unwrap_err();
    assert!(format!("{e:#}").contains("budget"), "{e:#}");
}

#[test]
fn drg_from_csv_writes_institutions_cases_and_groups() {
    let d = tempfile::tempdir().unwrap();
    // The hand-computed set of the drg module's tests (see src/drg.rs for every number).
    let mut csv = String::from("setl_id,fixmedins_code,hosp_lv,drg_codg,total_cost\n");
    let t = "H33060400001";
    let s = "H33060400002";
    let mut n = 0;
    let mut add = |inst: &str, lv: u8, g: &str, y: i64| {
        n += 1;
        csv.push_str(&format!("S{n:03},{inst},{lv},{g},{y}\n"));
    };
    for y in [35_000, 25_000, 3_000, 10_000, 10_000, 10_000] {
        add(t, 1, "GZ13", y);
    }
    add(s, 2, "GZ13", 25_000);
    for _ in 0..8 {
        add(s, 2, "GZ13", 4_000);
    }
    for (i, l, y) in [
        (t, 1, 24_000),
        (t, 1, 18_000),
        (s, 2, 16_000),
        (s, 2, 22_000),
        (s, 2, 20_000),
    ] {
        add(i, l, "ES31", y);
    }
    for (i, l, y) in [
        (t, 1, 50_000),
        (t, 1, 70_000),
        (s, 2, 40_000),
        (s, 2, 10_000),
    ] {
        add(i, l, "XX11", y);
    }
    let input = write(d.path(), "cases.csv", &csv);
    let out = d.path().join("drg.csv");
    let cases = d.path().join("drg-cases.csv");
    let groups = d.path().join("drg-groups.csv");
    let xlsx = d.path().join("drg.xlsx");
    settle(
        d.path(),
        &[
            "drg",
            "--year",
            "2024",
            "--budget",
            "400,000",
            "--input",
            &input,
            "--out",
            out.to_str().unwrap(),
            "--cases",
            cases.to_str().unwrap(),
            "--groups",
            groups.to_str().unwrap(),
            "--xlsx",
            xlsx.to_str().unwrap(),
        ],
    )
    .unwrap();
    assert_eq!(
        read(&out),
        "fixmedins_code,cases,points,payment,prepaid,balance\n\
         H33060400001,10,1414.2861,237126.32,0.00,237126.32\n\
         H33060400002,14,971.4231,162873.68,0.00,162873.68\n"
    );
    let c = read(&cases);
    let c: Vec<&str> = c.lines().collect();
    assert_eq!(
        c[0],
        "setl_id,drg_codg,kind,points,fixmedins_code,hosp_lv,total_cost"
    );
    assert!(c[1].starts_with("S001,GZ13,high,117.1429,"));
    assert!(c[2].starts_with("S002,GZ13,normal,88.5715,"));
    assert!(c[3].starts_with("S003,GZ13,low,17.1429,"));
    assert!(c[7].starts_with("S007,GZ13,high,64.7600,"));
    assert!(c[21].starts_with("S021,XX11,small_group,285.7143,"));
    let g = read(&groups);
    assert!(
        g.contains("GZ13,15,10000.00,57.1429,0,1,6,15500.00,1.5500,"),
        "{g}"
    );
    assert!(
        g.contains("GZ13,15,10000.00,57.1429,0,2,9,6333.33,0.6333,"),
        "{g}"
    );
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
    assert_eq!(wb.sheet_names(), vec!["机构结算", "病组点数表", "结算参数"]);
    let r = wb.worksheet_range("机构结算").unwrap();
    let cell = |row: u32, col: u32| r.get_value((row, col)).cloned().unwrap_or(Data::Empty);
    assert_eq!(cell(2, 3), Data::String("总点数".into()));
    assert_eq!(cell(3, 4), Data::Float(237126.32));
    assert_eq!(cell(5, 0), Data::String("合计".into()));
    assert_eq!(cell(5, 2), Data::Float(24.0));
    assert_eq!(cell(5, 4), Data::Float(400000.0));
    let p = wb.worksheet_range("结算参数").unwrap();
    let v = (1..20)
        .find(|&i| p.get_value((i, 0)) == Some(&Data::String("点数单价 V（元）".into())))
        .unwrap();
    assert_eq!(
        p.get_value((v, 1)),
        Some(&Data::String("167.665028".into()))
    );

    let mut store = medfund_store::Store::open(d.path()).unwrap();
    let runs = medfund_settle::runs::list_runs(store.db(), &Default::default()).unwrap();
    assert_eq!(runs[0].kind, "drg");
    assert_eq!(runs[0].point_value.unwrap().to_string(), "167.665028");
    drop(store);
    let shown = d.path().join("shown.csv");
    settle(
        d.path(),
        &[
            "show",
            &runs[0].id.to_string(),
            "--out",
            shown.to_str().unwrap(),
            "--xlsx",
            d.path().join("s.xlsx").to_str().unwrap(),
        ],
    )
    .unwrap();
    assert_eq!(read(&shown), read(&out));

    let e = settle(
        d.path(),
        &[
            "drg",
            "--year",
            "2024",
            "--budget",
            "1.234",
            "--input",
            &input,
            "--no-store",
        ],
    )
    .unwrap_err();
    assert!(e.to_string().contains("--budget"), "{e}");
}

#[test]
fn warn_from_csv() {
    let d = tempfile::tempdir().unwrap();
    let input = write(
        d.path(),
        "cum.csv",
        "fixmedins_code,cap_in,cap_out,approved_extra,actual_in,actual_out\n\
         H1,1000000,200000,,600000,60000.01\n\
         H2,1000000,200000,,600000,60000\n\
         H3,1000000,200000,,1000000,200000.01\n",
    );
    let out = d.path().join("w.csv");
    settle(
        d.path(),
        &[
            "warn",
            "--year",
            "2024",
            "--month",
            "6",
            "--input",
            &input,
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .unwrap();
    let t = read(&out);
    let l: Vec<&str> = t.lines().collect();
    assert_eq!(l.len(), 3, "{t}");
    assert!(
        l[1].starts_with("H3,6,1200000.00,1200000.01,1.0000,0.5500,over_cap,"),
        "{t}"
    );
    assert!(
        l[2].starts_with("H1,6,1200000.00,660000.01,0.5500,0.5500,pace,"),
        "{t}"
    );
    assert!(settle(
        d.path(),
        &["warn", "--year", "2024", "--month", "13", "--input", &input]
    )
    .is_err());
}

/// A small city in the contract layout: two in-city hospitals (tertiary and secondary) with
/// budgets, one out-of-city hospital receiving a referral.
fn city_batch(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    write(
        dir,
        "fixmedins.csv",
        "fixmedins_code,fixmedins_name,fixmedins_type,hosp_lv,admdvs\n\
         H33060400001,市人民医院,1,1,330604\n\
         H33060400002,市中医院,1,2,330604\n\
         H33010200001,省城医院,1,1,330102\n",
    );
    write(
        dir,
        "psn.csv",
        "psn_no,gend,brdy,insutype,insuplc_admdvs\nP0001,1,1960-01-01,390,330604\n",
    );
    let mut mdtrt = String::from(
        "mdtrt_id,psn_no,fixmedins_code,med_type,begntime,endtime,diag_code,dise_codg,refl_fixmedins_code\n",
    );
    let mut setl = String::from(
        "setl_id,mdtrt_id,psn_no,fixmedins_code,setl_time,medfee_sumamt,hifp_pay,drg_codg\n",
    );
    // Five GZ13 stays at each hospital, 10,000 yuan each (fund pays 7,000), in March 2024.
    for (h, inst) in ["H33060400001", "H33060400002"].iter().enumerate() {
        for i in 0..5 {
            let id = format!("M{h}{i}");
            mdtrt.push_str(&format!(
                "{id},P0001,{inst},21,2024-03-0{} 08:00:00,2024-03-1{} 08:00:00,I10.x00,D001,\n",
                i + 1,
                i + 1
            ));
            setl.push_str(&format!(
                "S{h}{i},{id},P0001,{inst},2024-03-1{} 10:00:00,10000,7000,GZ13\n",
                i + 1
            ));
        }
    }
    // A referral from the tertiary hospital to the out-of-city one: fund pays 50,000.
    mdtrt.push_str("MX1,P0001,H33010200001,21,2024-05-01 08:00:00,2024-05-20 08:00:00,I10.x00,D001,H33060400001\n");
    setl.push_str("SX1,MX1,P0001,H33010200001,2024-05-20 10:00:00,60000,50000,GZ13\n");
    write(dir, "mdtrt.csv", &mdtrt);
    write(dir, "setl.csv", &setl);
    write(
        dir,
        "budget.csv",
        "fixmedins_code,year,cap_in,cap_out,approved_extra\n\
         H33060400001,2024,30000,40000,\n\
         H33060400002,2024,40000,,\n",
    );
}

#[test]
fn settles_from_the_store() {
    let d = tempfile::tempdir().unwrap();
    let batch = d.path().join("batch");
    city_batch(&batch);
    let data = d.path().join("data");
    let mut store = medfund_store::Store::open(&data).unwrap();
    let rep = store.load_batch(&batch, &Default::default(), None).unwrap();
    assert_eq!(rep.total().quarantined, 0, "{rep:?}");
    drop(store);

    let out = d.path().join("budget.csv");
    settle(
        &data,
        &[
            "budget",
            "--year",
            "2024",
            "--out",
            out.to_str().unwrap(),
            "--xlsx",
            d.path().join("b.xlsx").to_str().unwrap(),
        ],
    )
    .unwrap();
    let t = read(&out);
    let l: Vec<&str> = t.lines().collect();
    // Tertiary: A_in = 5 × 7,000 = 35,000 > C_in 30,000 by 5,000; A_out = 50,000 > C_out 40,000 by
    // 10,000; O = 15,000 (5,000 in-city, 10,000 out); assessment defaults to all: fund pays all.
    // Prepaid: quota 70,000 ÷ 12 = 5,833.33; March min(5,833.33, 35,000), May min(5,833.33,
    // 50,000) → 11,666.66; balance 85,000 − 11,666.66 = 73,333.34.
    assert_eq!(
        l[1],
        "H33060400001,70000.00,85000.00,0.00,15000.00,5000.00,10000.00,0.00,15000.00,85000.00,30000.00,40000.00,35000.00,50000.00,all,0.00,0.00,11666.66,73333.34"
    );
    // Secondary: A = 35,000 ≤ C = 40,000: reward 30% × 5,000 = 1,500; paid 36,500; prepaid
    // min(3,333.33, 35,000) = 3,333.33 in March.
    assert_eq!(
        l[2],
        "H33060400002,40000.00,35000.00,1500.00,0.00,0.00,0.00,0.00,0.00,36500.00,40000.00,0.00,35000.00,0.00,all,0.00,0.00,3333.33,33166.67"
    );
    assert_eq!(l.len(), 3);

    // Assessed from the monitoring indicators instead (seed 002 targets). 2024 has no fee lines
    // and 2023 no activity, so the average-cost growth targets cannot be assessed; the referral
    // rate can: the tertiary hospital referred 1 stay out of the city against 5 stays of its own
    // = 20% > 15% (0 of 1 met → none: it bears the whole overage of 15,000 and is paid 70,000,
    // balance 70,000 − 11,666.66 prepaid = 58,333.34); the secondary referred none = 0% (1 of 1 →
    // all).
    let out2 = d.path().join("budget-ind.csv");
    settle(
        &data,
        &[
            "budget",
            "--year",
            "2024",
            "--assess-by",
            "indicators",
            "--no-store",
            "--out",
            out2.to_str().unwrap(),
        ],
    )
    .unwrap();
    let t2 = read(&out2);
    let l2: Vec<&str> = t2.lines().collect();
    assert_eq!(
        l2[1],
        "H33060400001,70000.00,85000.00,0.00,15000.00,5000.00,10000.00,15000.00,0.00,70000.00,30000.00,40000.00,35000.00,50000.00,none,5000.00,10000.00,11666.66,58333.34"
    );
    assert_eq!(
        l2[2], l[2],
        "the secondary hospital is assessed all, as by default"
    );
    // With --input the indicators are not at hand: refused with the reason.
    let e = settle(
        &data,
        &[
            "budget",
            "--year",
            "2024",
            "--assess-by",
            "indicators",
            "--input",
            out.to_str().unwrap(),
            "--no-store",
        ],
    )
    .unwrap_err();
    assert!(e.to_string().contains("not with --input"), "{e}");

    let w = d.path().join("warn.csv");
    settle(
        &data,
        &[
            "warn",
            "--year",
            "2024",
            "--month",
            "3",
            "--out",
            w.to_str().unwrap(),
        ],
    )
    .unwrap();
    let wt = read(&w);
    // By March the tertiary hospital spent 35,000 of 70,000 (50% > 3/12 × 1.1 = 27.5%): pace;
    // the secondary 35,000 of 40,000 = 87.5%: pace (below the 90% near-cap line).
    assert!(
        wt.contains("H33060400001,3,70000.00,35000.00,0.5000,0.2750,pace,"),
        "{wt}"
    );
    assert!(
        wt.contains("H33060400002,3,40000.00,35000.00,0.8750,0.2750,pace,"),
        "{wt}"
    );

    let pre = d.path().join("prepay.csv");
    settle(
        &data,
        &[
            "prepay",
            "--year",
            "2024",
            "--month",
            "5",
            "--out",
            pre.to_str().unwrap(),
        ],
    )
    .unwrap();
    // May: the tertiary hospital's quota 5,833.33 against 50,000 of referral spending; the
    // secondary spent nothing in May. Cumulative includes March.
    assert_eq!(
        read(&pre),
        "fixmedins_code,month,cap,quota,spending,prepayment,cumulative\n\
         H33060400001,5,70000.00,5833.33,50000.00,5833.33,11666.66\n\
         H33060400002,5,40000.00,3333.33,0.00,0.00,3333.33\n"
    );

    let drg = d.path().join("drg.csv");
    settle(
        &data,
        &[
            "drg",
            "--year",
            "2024",
            "--budget",
            "110000",
            "--out",
            drg.to_str().unwrap(),
        ],
    )
    .unwrap();
    // 11 GZ13 cases (10 in the city and the referral), S = 160,000: M = m_g = 14,545.45…, so
    // BP = 100.0000. Level 1 holds the 5 city tertiary cases and the out-of-city tertiary case:
    // mean 110,000 ÷ 6 = 18,333.33…, f1 = 18,333.33 ÷ 14,545.45 = 1.260416… → 1.2604; level 2:
    // 10,000 ÷ 14,545.45 = 0.6875. The 60,000 case > 3 × 14,545.45 = 43,636.36: high,
    // 126.0400 + (60,000 − 43,636.36) ÷ 14,545.45 × 100 = 126.04 + 112.5000 = 238.5400. The others
    // are normal: 126.0400 (tertiary) and 68.7500 (secondary).
    // Σ = 5 × 126.04 + 238.54 + 5 × 68.75 = 1,212.4900; V = 110,000 ÷ 1,212.49 = 90.7223977… →
    // 90.722398; payments 630.2 × V = 57,173.255… → 57,173.26; 343.75 × V = 31,185.8243… →
    // 31,185.82; 238.54 × V = 21,640.9208… → 21,640.92.
    let dt = read(&drg);
    assert!(dt.contains("H33010200001,1,238.5400,21640.92,"), "{dt}");
    assert!(dt.contains("H33060400001,5,630.2000,57173.26,"), "{dt}");
    assert!(dt.contains("H33060400002,5,343.7500,31185.82,"), "{dt}");
    let dip = d.path().join("dip.csv");
    settle(
        &data,
        &[
            "dip",
            "--year",
            "2024",
            "--budget",
            "110000",
            "--out",
            dip.to_str().unwrap(),
        ],
    )
    .unwrap();
    assert_eq!(
        read(&dip),
        dt,
        "every visit has dise_codg D001, so DIP groups like the single DRG"
    );

    let mut store = medfund_store::Store::open(&data).unwrap();
    let runs = medfund_settle::runs::list_runs(store.db(), &Default::default()).unwrap();
    let kinds: Vec<&str> = runs.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, vec!["dip", "drg", "budget"]);
}
