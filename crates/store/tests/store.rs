//! Store behaviour end to end: CSV batch → medfund-ingest → store → read back, on SQLite and
//! (when `MEDFUND_TEST_PG_URL` is set, as `scripts/test.sh` does) on a real PostgreSQL.

use medfund_contract::finding::{Category, Evidence, Finding, Level};
use medfund_contract::schema::Table;
use medfund_contract::{Fen, Price, Qty, YearMonth};
use medfund_store::{
    AuditRunInfo, ClaimFilter, FindingFilter, FindingStatus, LoadOptions, Store, StoreError,
};
use std::path::{Path, PathBuf};

const H1: &str = "H11010100001";
const H2: &str = "H11010200002";
const P1: &str = "P11010100003";
const DRUG: &str = "XL02BBA326A001010102180";
const ITEM: &str = "003105050010000";
const BED: &str = "001102000010000";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

/// The first month's batch: two hospitals and a pharmacy, three persons (one psn_no with leading
/// zeros), three visits in January and February, their settlements and fee lines.
fn batch1(dir: &Path) {
    write(
        dir,
        "fixmedins.csv",
        &format!(
            "fixmedins_code,fixmedins_name,fixmedins_type,hosp_lv,admdvs\n\
             {H1},市第一人民医院,1,1,110101\n{H2},区中医院,1,2,110102\n{P1},康民大药房,2,,110101\n"
        ),
    );
    write(
        dir,
        "psn.csv",
        "psn_no,gend,brdy,insutype,insuplc_admdvs\n000123,1,1980-05-06,310,110101\n000456,2,2019-01-31,390,\nA789,9,1950-12-31,,\n",
    );
    write(
        dir,
        "catalog.csv",
        &format!(
            "med_list_codg,med_list_name,list_type,med_chrgitm_type,chrgitm_lv,pric_uplmt_amt,lmt_gend,lmt_age_min,lmt_age_max,lmt_hosp_lv,lmt_med_type,lmt_dise,max_cnt_day,max_cnt_mdtrt,excl_codes,incl_codes,rx_only\n\
             {DRUG},二甲双胍片,1,09,1,12.345678,,,,,,E11;E13,3,,,,1\n\
             {ITEM},血常规,3,04,1,20,2,0,14,2,opt,,,,{BED},,0\n\
             {BED},床位费,3,01,1,,,,,,ipt,,1,,,,0\n"
        ),
    );
    write(
        dir,
        "mdtrt.csv",
        &format!(
            "mdtrt_id,psn_no,fixmedins_code,med_type,begntime,endtime,diag_code,dise_codg,atddr_no,emer_flag,refl_fixmedins_code\n\
             M001,000123,{H1},21,2024-01-10 08:00:00,2024-01-15 10:00:00,E11.900,,D110101000123,0,\n\
             M002,000456,{H2},11,2024-01-31 23:59:59,,I10.x00,,,1,{H1}\n\
             M003,A789,{H1},11,2024-02-01 00:00:00,,J06.900,,,,\n"
        ),
    );
    write(
        dir,
        "diag.csv",
        "mdtrt_id,diag_code,maindiag_flag\nM001,E11.900,1\nM001,I10.x00,0\nM003,J06.900,1\n",
    );
    write(
        dir,
        "setl.csv",
        &format!(
            "setl_id,mdtrt_id,psn_no,fixmedins_code,setl_time,medfee_sumamt,hifp_pay,acct_pay,psn_cash_pay,fund_pay_sumamt,drg_codg\n\
             S001,M001,000123,{H1},2024-01-15 11:00:00,1234.56,1000.00,,234.56,1000.00,GZ13\n\
             S002,M002,000456,{H2},2024-02-01 00:10:00,0.01,0,0.01,,,\n\
             S003,M003,A789,{H1},2024-02-01 09:00:00,45.00,30.00,,,,\n"
        ),
    );
    write(
        dir,
        "fee.csv",
        &format!(
            "feedetl_sn,mdtrt_id,setl_id,psn_no,fixmedins_code,fee_ocur_time,med_list_codg,cnt,pric,det_item_fee_sumamt,bilg_dr_codg,hi_rxno,drug_trac_codg\n\
             0001,M001,S001,000123,{H1},2024-01-10 09:00:00,{DRUG},3,12.345678,37.04,D110101000123,,81234567890123456789;81234567890123456790\n\
             0002,M001,S001,000123,{H1},2024-01-11 09:00:00,{BED},5,60,300.00,,,\n\
             0003,M001,S001,000123,{H1},2024-01-12 09:00:00,{ITEM},-1,20,-20.00,,,\n\
             1,M002,S002,000456,{H2},2024-01-31 23:59:59,{ITEM},0.0001,100,0.01,,,\n\
             1,M003,S003,A789,{H1},2024-02-01 08:00:00,{ITEM},2.5,18,45.00,,RX01,\n"
        ),
    );
}

/// A second month that references persons, visits and settlements of the first.
fn batch2(dir: &Path) {
    write(
        dir,
        "fee.csv",
        &format!(
            "feedetl_sn,mdtrt_id,setl_id,psn_no,fixmedins_code,fee_ocur_time,med_list_codg,cnt,pric,det_item_fee_sumamt,bilg_dr_codg,hi_rxno,drug_trac_codg\n\
             0004,M001,S001,000123,{H1},2024-03-02 09:00:00,{ITEM},1,20,20.00,,,\n"
        ),
    );
    write(
        dir,
        "diag.csv",
        "mdtrt_id,diag_code,maindiag_flag\nM003,R05,0\n",
    );
    write(
        dir,
        "idv.csv",
        &format!("psn_no,fixmedins_code,vrf_time,vrf_way,vrf_rslt\n000123,{H1},2024-03-02 08:59:00,face,1\n"),
    );
}

struct Env {
    _dir: tempfile::TempDir,
    data: PathBuf,
    root: PathBuf,
    db_url: Option<String>,
}

impl Env {
    fn open(&self) -> Store {
        Store::open_with(&self.data, self.db_url.as_deref()).unwrap()
    }
    fn batch(&self, name: &str, f: fn(&Path)) -> PathBuf {
        let d = self.root.join(name);
        f(&d);
        d
    }
}

/// SQLite always; PostgreSQL too when the test server is there. `name` keeps PG schemas apart.
fn envs(name: &str) -> Vec<Env> {
    let mut out = Vec::new();
    let mk = |db_url: Option<String>| {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let root = dir.path().to_path_buf();
        Env {
            _dir: dir,
            data,
            root,
            db_url,
        }
    };
    out.push(mk(None));
    if let Some(url) = medfund_db::test_pg_url() {
        out.push(mk(Some(
            medfund_db::test_pg_schema(&url, &format!("store_{name}")).unwrap(),
        )));
    }
    out
}

fn load(store: &mut Store, dir: &Path) -> medfund_store::LoadReport {
    store
        .load_batch(dir, &LoadOptions::default(), None)
        .unwrap()
}

/// Every file under the data directory's claims/index/quarantine trees, relative.
fn files(data: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(base, &p, out);
                } else {
                    out.push(p.strip_prefix(base).unwrap().display().to_string());
                }
            }
        }
    }
    let mut out = Vec::new();
    for top in ["claims", "index", "quarantine"] {
        walk(data, &data.join(top), &mut out);
    }
    out.sort();
    out
}

#[test]
fn first_load_stores_everything_and_reload_changes_nothing() {
    for env in envs("idem") {
        let b1 = env.batch("b1", batch1);
        let mut store = env.open();
        let r = load(&mut store, &b1);
        assert_eq!(r.load_id, 1);
        let fee = r.table(Table::Fee);
        assert_eq!(
            (fee.read, fee.loaded, fee.skipped, fee.quarantined),
            (5, 5, 0, 0)
        );
        assert_eq!(r.table(Table::Mdtrt).loaded, 3);
        assert_eq!(r.table(Table::Psn).loaded, 3);
        assert_eq!(r.table(Table::Catalog).loaded, 3);
        assert_eq!(r.total().quarantined, 0);
        assert!(r.quarantine_csv.is_none());
        let files1 = files(&env.data);
        // fee: Jan + Feb, mdtrt: Jan + Feb, diag: Jan + Feb, setl: Jan + Feb, + one index each.
        assert_eq!(
            files1.iter().filter(|f| f.ends_with(".parquet")).count(),
            8,
            "{files1:?}"
        );
        assert_eq!(
            files1.iter().filter(|f| f.ends_with(".bin")).count(),
            4,
            "{files1:?}"
        );

        let r2 = load(&mut store, &b1);
        assert_eq!(r2.load_id, 2);
        assert_eq!(r2.total().loaded, 0, "{r2:?}");
        assert_eq!(r2.total().updated, 0);
        assert_eq!(r2.total().quarantined, 0);
        assert_eq!(r2.total().skipped, r.total().read);
        assert_eq!(r2.files_written, 0);
        assert_eq!(files(&env.data), files1, "a re-load writes no file");

        let all = store.read_claims(&ClaimFilter::all()).unwrap();
        assert_eq!(
            (
                all.fee.len(),
                all.mdtrt.len(),
                all.diag.len(),
                all.setl.len()
            ),
            (5, 3, 3, 3)
        );
        assert_eq!(
            (all.psn.len(), all.fixmedins.len(), all.catalog.len()),
            (3, 3, 3)
        );
        let runs = store.load_runs().unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].rows_loaded, r.total().loaded);
        assert_eq!(runs[1].rows_loaded, 0);
        assert_eq!(runs[1].files.len(), 7, "sha256 of each input file recorded");
        assert!(runs[1].files.iter().all(|f| f.sha256.len() == 64));
        assert_eq!(
            runs[0].files.iter().map(|f| &f.sha256).collect::<Vec<_>>(),
            runs[1].files.iter().map(|f| &f.sha256).collect::<Vec<_>>()
        );
    }
}

#[test]
fn read_back_is_exact() {
    for env in envs("exact") {
        let b1 = env.batch("b1", batch1);
        let want = medfund_ingest::read_batch(&b1, &Default::default())
            .unwrap()
            .batch;
        let mut store = env.open();
        load(&mut store, &b1);
        drop(store);
        let mut store = env.open();
        let mut got = store.read_claims(&ClaimFilter::all()).unwrap();
        let key = |f: &medfund_contract::Fee| (f.mdtrt_id.clone(), f.feedetl_sn.clone());
        got.fee.sort_by_key(key);
        let mut wfee = want.fee.clone();
        wfee.sort_by_key(key);
        assert_eq!(got.fee, wfee);
        got.mdtrt.sort_by_key(|m| m.mdtrt_id.clone());
        assert_eq!(got.mdtrt, want.mdtrt);
        got.setl.sort_by_key(|s| s.setl_id.clone());
        assert_eq!(got.setl, want.setl);
        assert_eq!(got.psn, want.psn);
        assert_eq!(
            got.catalog.iter().find(|c| c.med_list_codg == DRUG),
            want.catalog.iter().find(|c| c.med_list_codg == DRUG)
        );
        let mut wcat = want.catalog.clone();
        wcat.sort_by_key(|c| c.med_list_codg.clone());
        assert_eq!(got.catalog, wcat);
        // Values worked out by hand from the CSV text.
        let f1 = got.fee.iter().find(|f| f.feedetl_sn == "0001").unwrap();
        assert_eq!(f1.pric, Price(12_345_678));
        assert_eq!(f1.det_item_fee_sumamt, Fen(3704));
        assert_eq!(f1.drug_trac_codg.len(), 2);
        let refund = got.fee.iter().find(|f| f.feedetl_sn == "0003").unwrap();
        assert_eq!(
            (refund.cnt, refund.det_item_fee_sumamt),
            (Qty(-10_000), Fen(-2000))
        );
        let tiny = got.fee.iter().find(|f| f.mdtrt_id == "M002").unwrap();
        assert_eq!(tiny.cnt, Qty(1));
        let s1 = got.setl.iter().find(|s| s.setl_id == "S001").unwrap();
        assert_eq!(
            (s1.medfee_sumamt, s1.acct_pay, s1.psn_cash_pay),
            (Fen(123_456), None, Some(Fen(23_456)))
        );
        assert_eq!(got.psn[0].psn_no, "000123", "leading zeros survive");
        assert_eq!(
            got.mdtrt
                .iter()
                .find(|m| m.mdtrt_id == "M002")
                .unwrap()
                .endtime,
            None
        );
        let p1 = got
            .fixmedins
            .iter()
            .find(|f| f.fixmedins_code == P1)
            .unwrap();
        assert_eq!(p1.hosp_lv, None);
        let item = got
            .catalog
            .iter()
            .find(|c| c.med_list_codg == ITEM)
            .unwrap();
        assert_eq!(item.pric_uplmt_amt, Some(Price(20_000_000)));
        assert_eq!(item.excl_codes, vec![BED]);
    }
}

#[test]
fn claims_are_partitioned_by_month() {
    for env in envs("months") {
        let b1 = env.batch("b1", batch1);
        let mut store = env.open();
        load(&mut store, &b1);
        let months = |s: &mut Store, t| {
            s.months(t)
                .unwrap()
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(months(&mut store, Table::Fee), ["2024-01", "2024-02"]);
        // S002 settles a January visit on 1 February: settlements follow setl_time.
        assert_eq!(months(&mut store, Table::Setl), ["2024-01", "2024-02"]);
        let feb = YearMonth::parse("2024-02").unwrap();
        let only_feb = store.read_claims(&ClaimFilter::months(feb, feb)).unwrap();
        assert_eq!(only_feb.fee.len(), 1);
        assert_eq!(only_feb.fee[0].mdtrt_id, "M003");
        assert_eq!(
            only_feb
                .setl
                .iter()
                .map(|s| s.setl_id.as_str())
                .collect::<Vec<_>>()
                .len(),
            2
        );
        // Diagnoses follow their visit: M003 (February) has one, M001 (January) two.
        assert_eq!(only_feb.diag.len(), 1);
        assert_eq!(only_feb.diag[0].mdtrt_id, "M003");
        let jan_files = store.claim_files(Table::Fee).unwrap();
        assert_eq!(jan_files.len(), 2);
        assert!(
            jan_files[0].ends_with("claims/fee/2024-01/part-1-0.parquet"),
            "{jan_files:?}"
        );
        let only_fee = store
            .read_claims(&ClaimFilter {
                from: None,
                to: None,
                tables: vec![Table::Fee],
            })
            .unwrap();
        assert_eq!((only_fee.fee.len(), only_fee.mdtrt.len()), (5, 0));
    }
}

#[test]
fn later_loads_may_reference_earlier_ones() {
    for env in envs("refs") {
        let (b1, b2) = (env.batch("b1", batch1), env.batch("b2", batch2));
        let mut store = env.open();
        load(&mut store, &b1);
        let r = load(&mut store, &b2);
        assert_eq!(
            r.total().quarantined,
            0,
            "{:?}",
            store.quarantine(r.load_id).unwrap()
        );
        assert_eq!(r.table(Table::Fee).loaded, 1);
        assert_eq!(r.table(Table::Diag).loaded, 1);
        assert_eq!(r.table(Table::Idv).loaded, 1);
        // The new diagnosis of the February visit M003 lands in February, not in March.
        let diag_files = store.claim_file_list(Table::Diag).unwrap();
        let d2: Vec<_> = diag_files.iter().filter(|f| f.load_id == 2).collect();
        assert_eq!(d2.len(), 1);
        assert_eq!(d2[0].month.to_string(), "2024-02");
        assert_eq!(store.months(Table::Fee).unwrap().len(), 3);

        // Without the first load the same references are unknown and quarantined.
        drop(store);
        let env2 = &envs("refs_empty")[0];
        let b2b = env2.batch("b2", batch2);
        let mut empty = env2.open();
        let r = load(&mut empty, &b2b);
        assert_eq!(r.table(Table::Fee).quarantined, 1);
        assert_eq!(r.table(Table::Fee).loaded, 0);
        assert_eq!(r.table(Table::Diag).quarantined, 1);
    }
}

#[test]
fn conflicting_duplicates_and_bad_rows_are_quarantined_and_kept() {
    for env in envs("conflict") {
        let b1 = env.batch("b1", batch1);
        let mut store = env.open();
        load(&mut store, &b1);
        // Same key (M001, 0002) with another amount, one bad line (2 × 10 ≠ 25), one good line.
        let b3 = env.root.join("b3");
        write(
            &b3,
            "fee.csv",
            &format!(
                "feedetl_sn,mdtrt_id,setl_id,psn_no,fixmedins_code,fee_ocur_time,med_list_codg,cnt,pric,det_item_fee_sumamt\n\
                 0002,M001,S001,000123,{H1},2024-01-11 09:00:00,{BED},6,60,360.00\n\
                 0005,M001,S001,000123,{H1},2024-01-13 09:00:00,{ITEM},2,10,25.00\n\
                 0006,M001,S001,000123,{H1},2024-01-13 09:00:00,{ITEM},2,10,20.00\n"
            ),
        );
        let r = load(&mut store, &b3);
        let fee = r.table(Table::Fee);
        assert_eq!(
            (fee.read, fee.loaded, fee.skipped, fee.quarantined),
            (3, 1, 0, 2),
            "{r:?}"
        );
        let q = store.quarantine(r.load_id).unwrap();
        assert_eq!(q.len(), 2);
        let bad = q
            .iter()
            .find(|q| q.line == 3)
            .expect("line 3 = the second data row");
        assert_eq!(bad.file, "fee.csv");
        assert!(!bad.reason_zh.is_empty() && !bad.reason_en.is_empty());
        let conflict = q
            .iter()
            .find(|q| q.reason_en.contains("load #1"))
            .expect("conflict with load 1");
        assert!(
            conflict.reason_zh.contains("0002"),
            "{}",
            conflict.reason_zh
        );
        assert_eq!(conflict.column.as_deref(), Some("mdtrt_id+feedetl_sn"));
        // Refused against the store, yet still reported where it is: fee.csv line 2.
        assert_eq!((conflict.file.as_str(), conflict.line), ("fee.csv", 2));
        // The stored line is untouched.
        let all = store.read_claims(&ClaimFilter::all()).unwrap();
        let bed = all.fee.iter().find(|f| f.feedetl_sn == "0002").unwrap();
        assert_eq!(bed.det_item_fee_sumamt, Fen(30_000));
        assert_eq!(all.fee.len(), 6);
        // The CSV report and the SQL rows survive a reopen.
        let csv = r.quarantine_csv.clone().unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert_eq!(text.lines().count(), 3, "header + 2 rows");
        drop(store);
        let mut store = env.open();
        assert_eq!(store.quarantine(r.load_id).unwrap(), q);
        assert!(csv.exists());
        assert_eq!(store.load_runs().unwrap()[1].rows_quarantined, 2);
    }
}

#[test]
fn reference_rows_are_upserted_by_natural_key() {
    for env in envs("upsert") {
        let b1 = env.batch("b1", batch1);
        let mut store = env.open();
        load(&mut store, &b1);
        let b4 = env.root.join("b4");
        write(
            &b4,
            "fixmedins.csv",
            &format!("fixmedins_code,fixmedins_name,fixmedins_type,hosp_lv,admdvs\n{H2},区中医院,1,1,110102\n{H1},市第一人民医院,1,1,110101\n"),
        );
        write(
            &b4,
            "budget.csv",
            &format!(
                "fixmedins_code,year,cap_in,cap_out,approved_extra\n{H1},2024,1000000,200000,\n"
            ),
        );
        write(
            &b4,
            "fund_month.csv",
            "insutype,month,income,expense,balance\n310,2024-01,100.00,80.50,1000.00\n",
        );
        let r = load(&mut store, &b4);
        let f = r.table(Table::Fixmedins);
        assert_eq!((f.read, f.loaded, f.updated, f.skipped), (2, 0, 1, 1));
        let h2 = store
            .fixmedins()
            .unwrap()
            .into_iter()
            .find(|x| x.fixmedins_code == H2)
            .unwrap();
        assert_eq!(h2.hosp_lv, Some(1));
        let b = store.budgets(2024).unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(
            (b[0].cap_in, b[0].cap_out, b[0].approved_extra),
            (Fen(100_000_000), Some(Fen(20_000_000)), None)
        );
        assert!(store.budgets(2023).unwrap().is_empty());
        let fm = store.fund_months().unwrap();
        assert_eq!(
            (fm[0].expense, fm[0].month.to_string()),
            (Fen(8050), "2024-01".to_string())
        );
    }
}

fn finding(
    rule: &str,
    cat: Category,
    mdtrt: Option<&str>,
    fix: &str,
    amount: Option<i64>,
) -> Finding {
    let mut f = Finding::new(rule, cat, Level::Fee);
    f.mdtrt_id = mdtrt.map(Into::into);
    f.fixmedins_code = Some(fix.into());
    f.amount = amount.map(Fen);
    f.evidence = Evidence {
        text: "测试证据".into(),
        details: serde_json::json!({"limit": 1}),
    };
    f.seal();
    f
}

#[test]
fn findings_are_saved_listed_and_reviewed() {
    for env in envs("findings") {
        let b1 = env.batch("b1", batch1);
        let mut store = env.open();
        load(&mut store, &b1);
        let fs = vec![
            finding(
                "over_price.default",
                Category::OverPrice,
                Some("M001"),
                H1,
                Some(1234),
            ),
            finding(
                "gender_limit.default",
                Category::GenderLimit,
                Some("M003"),
                H1,
                None,
            ),
            finding(
                "over_price.default",
                Category::OverPrice,
                Some("M002"),
                H2,
                Some(99),
            ),
        ];
        let run = AuditRunInfo {
            source: "test".into(),
            ..Default::default()
        };
        let run1 = store.save_findings(&run, &fs).unwrap();
        let all = store.list_findings(&FindingFilter::default()).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(
            all[0].finding, fs[0],
            "largest amount first, stored exactly"
        );
        assert_eq!(all[2].finding.amount, None);
        assert!(all
            .iter()
            .all(|f| f.status == FindingStatus::New && f.run_id == run1));
        assert_eq!(
            all[0].month.map(|m| m.to_string()).as_deref(),
            Some("2024-01"),
            "month of visit M001"
        );
        assert_eq!(
            all[2].month.map(|m| m.to_string()).as_deref(),
            Some("2024-02"),
            "month of visit M003"
        );

        let by = |f: FindingFilter, s: &mut Store| s.list_findings(&f).unwrap().len();
        assert_eq!(
            by(
                FindingFilter {
                    category: Some(Category::OverPrice),
                    ..Default::default()
                },
                &mut store
            ),
            2
        );
        assert_eq!(
            by(
                FindingFilter {
                    fixmedins_code: Some(H2.into()),
                    ..Default::default()
                },
                &mut store
            ),
            1
        );
        let jan = YearMonth::parse("2024-01").unwrap();
        assert_eq!(
            by(
                FindingFilter {
                    month: Some(jan),
                    ..Default::default()
                },
                &mut store
            ),
            2
        );
        let page = store
            .list_findings(&FindingFilter {
                limit: Some(1),
                offset: 1,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(page[0].finding, fs[2]);
        assert_eq!(
            store
                .list_findings(&FindingFilter {
                    offset: 2,
                    ..Default::default()
                })
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store
                .count_findings(&FindingFilter {
                    category: Some(Category::OverPrice),
                    limit: Some(1),
                    ..Default::default()
                })
                .unwrap(),
            2
        );

        let id = fs[0].finding_id.clone();
        store
            .set_finding_status(
                &id,
                FindingStatus::Confirmed,
                "审核员甲",
                Some("单价超过限价"),
            )
            .unwrap();
        assert!(matches!(
            store.set_finding_status("nope", FindingStatus::Dismissed, "x", None),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.set_finding_status(&id, FindingStatus::Dismissed, " ", None),
            Err(StoreError::Invalid(_))
        ));
        let confirmed = store
            .list_findings(&FindingFilter {
                status: Some(FindingStatus::Confirmed),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(confirmed.len(), 1);
        assert_eq!(confirmed[0].reviewed_by.as_deref(), Some("审核员甲"));
        assert_eq!(confirmed[0].note.as_deref(), Some("单价超过限价"));

        // A re-run yields the same ids: review state stays, run id moves on.
        let run2 = store.save_findings(&run, &fs).unwrap();
        assert!(run2 > run1);
        let again = store.finding(&id).unwrap().unwrap();
        assert_eq!(
            (again.status, again.run_id),
            (FindingStatus::Confirmed, run2)
        );
        assert_eq!(
            store
                .list_findings(&FindingFilter::default())
                .unwrap()
                .len(),
            3
        );
        assert_eq!(
            store
                .list_findings(&FindingFilter {
                    run_id: Some(run2),
                    ..Default::default()
                })
                .unwrap()
                .len(),
            3
        );
        store
            .set_finding_status(&id, FindingStatus::Dismissed, "复核员乙", None)
            .unwrap();
        let h = store.finding_history(&id).unwrap();
        assert_eq!(
            h.iter().map(|r| r.status).collect::<Vec<_>>(),
            [FindingStatus::Confirmed, FindingStatus::Dismissed]
        );
        assert_eq!(h[1].reviewed_by, "复核员乙");
        // An unsealed finding is refused, not stored under an empty id.
        let unsealed = Finding::new("r", Category::OverPrice, Level::Fee);
        assert!(matches!(
            store.save_findings(&run, &[unsealed]),
            Err(StoreError::Invalid(_))
        ));
    }
}

#[test]
fn an_old_schema_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    {
        // A store written by version 1 of the schema (before findings existed).
        let mut db = medfund_db::Db::open_sqlite(&data.join("medfund.sqlite")).unwrap();
        db.migrate("store", &medfund_store::schema::MIGRATIONS[..1])
            .unwrap();
        db.execute(
            "INSERT INTO fixmedins (fixmedins_code, fixmedins_name, fixmedins_type, hosp_lv, admdvs, load_id) VALUES ($1, $2, $3, $4, $5, $6)",
            &[H1.into(), "老医院".into(), "1".into(), 2i64.into(), medfund_db::Value::Null, 0i64.into()],
        )
        .unwrap();
        assert_eq!(db.schema_version("store").unwrap(), 1);
        assert!(db.query("SELECT COUNT(*) FROM finding", &[]).is_err());
    }
    let mut store = Store::open_with(&data, None).unwrap();
    assert_eq!(
        store.db().schema_version("store").unwrap(),
        medfund_store::schema::MIGRATIONS.last().unwrap().0 as i64
    );
    assert_eq!(store.fixmedins().unwrap()[0].fixmedins_name, "老医院");
    let f = finding("r1", Category::OverPrice, None, H1, Some(1));
    store.save_findings(&AuditRunInfo::default(), &[f]).unwrap();
    assert_eq!(
        store.list_findings(&FindingFilter::default()).unwrap()[0].month,
        None
    );
}

#[test]
fn files_of_an_uncommitted_load_are_swept_on_open() {
    for env in envs("sweep") {
        let b1 = env.batch("b1", batch1);
        let mut store = env.open();
        load(&mut store, &b1);
        let before = files(&env.data);
        drop(store);
        for stray in [
            "claims/fee/2024-01/part-2-0.parquet",
            "claims/fee/2024-05/part-2-0.parquet.tmp",
            "index/fee/keys-2.bin",
            "quarantine/load-2.csv",
        ] {
            let p = env.data.join(stray);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, b"half-written").unwrap();
        }
        let mut store = env.open();
        assert_eq!(files(&env.data), before);
        assert!(
            !env.data.join("claims/fee/2024-05").exists(),
            "empty month directory removed"
        );
        assert_eq!(store.read_claims(&ClaimFilter::all()).unwrap().fee.len(), 5);
    }
}

#[test]
fn one_load_at_a_time() {
    let env = &envs("lock")[0];
    let b1 = env.batch("b1", batch1);
    let mut store = env.open();
    let lock = std::fs::File::open(env.data.join(".load.lock")).unwrap();
    lock.lock().unwrap();
    let err = store
        .load_batch(&b1, &LoadOptions::default(), None)
        .unwrap_err();
    assert!(matches!(err, StoreError::Busy(_)), "{err}");
    assert!(err.to_string().contains("另一个加载"));
    drop(lock);
    assert_eq!(
        load(&mut store, &b1).total().loaded,
        3 + 3 + 3 + 3 + 3 + 3 + 5
    );
}

#[test]
fn an_unreadable_batch_is_an_error_and_changes_nothing() {
    let env = &envs("unreadable")[0];
    let mut store = env.open();
    let err = store
        .load_batch(&env.root.join("missing"), &LoadOptions::default(), None)
        .unwrap_err();
    assert!(matches!(err, StoreError::Unreadable(_)), "{err}");
    let empty = env.root.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(matches!(
        store.load_batch(&empty, &LoadOptions::default(), None),
        Err(StoreError::Unreadable(_))
    ));
    assert!(store.load_runs().unwrap().is_empty());
}
