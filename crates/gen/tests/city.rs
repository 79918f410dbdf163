//! End-to-end tests of the generated city: layout, formats, arithmetic, references, manifest,
//! determinism and scaling.

use medfund_contract::codes::*;
use medfund_contract::money::{Fen, Price, Qty};
use medfund_contract::schema::Table;
use medfund_contract::time::{age_on, parse_date, parse_datetime};
use medfund_gen::{generate, GenConfig};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::OnceLock;

type Rows = Vec<HashMap<String, String>>;

fn read(dir: &Path, t: Table) -> (Vec<String>, Rows) {
    let mut r = csv::Reader::from_path(dir.join(format!("{}.csv", t.name()))).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            assert_eq!(rec.len(), header.len(), "{}: {:?}", t.name(), rec);
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect();
    (header, rows)
}

struct City {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    t: HashMap<Table, Rows>,
    manifest: Vec<serde_json::Value>,
}

/// One shared city of 3 000 persons for the read-only tests.
fn city() -> &'static City {
    static C: OnceLock<City> = OnceLock::new();
    C.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        generate(
            &path,
            &GenConfig {
                persons: 3_000,
                seed: 11,
                year: 2025,
                threads: Some(2),
                progress: false,
            },
        )
        .unwrap();
        let mut t = HashMap::new();
        for tb in Table::ALL {
            let (header, rows) = read(&path, tb);
            let want: Vec<&str> = tb.spec().columns.iter().map(|c| c.name).collect();
            assert_eq!(header, want, "header of {}", tb.name());
            t.insert(tb, rows);
        }
        let manifest = std::fs::read_to_string(path.join("manifest.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        City {
            _dir: dir,
            path,
            t,
            manifest,
        }
    })
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn same_seed_is_byte_identical_whatever_the_thread_count() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    let cfg = |threads, seed| GenConfig {
        persons: 1_200,
        seed,
        year: 2024,
        threads: Some(threads),
        progress: false,
    };
    generate(a.path(), &cfg(1, 5)).unwrap();
    generate(b.path(), &cfg(3, 5)).unwrap();
    generate(c.path(), &cfg(2, 6)).unwrap();
    let (fa, fb, fc) = (files(a.path()), files(b.path()), files(c.path()));
    assert_eq!(fa.len(), 17);
    for ((na, da), (nb, db)) in fa.iter().zip(&fb) {
        assert_eq!(na, nb);
        assert!(da == db, "{na} differs between 1 and 3 threads");
    }
    let fee =
        |f: &Vec<(String, Vec<u8>)>| f.iter().find(|(n, _)| n == "fee.csv").unwrap().1.clone();
    assert_ne!(fee(&fa), fee(&fc), "another seed gives another city");
}

#[test]
fn codes_dates_and_identifiers_have_national_formats() {
    let c = city();
    for r in &c.t[&Table::Fixmedins] {
        check_fixmedins_code(&r["fixmedins_code"]).unwrap();
        check_admdvs(&r["admdvs"]).unwrap();
    }
    for r in &c.t[&Table::Pract] {
        check_pract_code(&r["pract_code"]).unwrap();
    }
    for r in &c.t[&Table::Catalog] {
        check_med_list_codg(&r["med_list_codg"]).unwrap();
    }
    for r in &c.t[&Table::Psn] {
        check_identifier(&r["psn_no"]).unwrap();
        parse_date(&r["brdy"]).unwrap();
        assert!(["1", "2"].contains(&r["gend"].as_str()));
        assert!(["310", "390"].contains(&r["insutype"].as_str()));
    }
    for r in &c.t[&Table::Mdtrt] {
        check_identifier(&r["mdtrt_id"]).unwrap();
        check_diag_code(&r["diag_code"]).unwrap();
        let b = parse_datetime(&r["begntime"]).unwrap();
        assert_eq!(chrono::Datelike::year(&b), 2025);
        if !r["endtime"].is_empty() {
            assert!(parse_datetime(&r["endtime"]).unwrap() > b);
        }
        check_pract_code(&r["atddr_no"]).unwrap();
    }
    for r in &c.t[&Table::Diag] {
        check_diag_code(&r["diag_code"]).unwrap();
    }
    let mut traces = HashSet::new();
    for r in &c.t[&Table::Fee] {
        check_identifier(&r["feedetl_sn"]).unwrap();
        check_med_list_codg(&r["med_list_codg"]).unwrap();
        parse_datetime(&r["fee_ocur_time"]).unwrap();
        for t in split_list(&r["drug_trac_codg"]) {
            check_trace_code(&t).unwrap();
            traces.insert(t);
        }
    }
    assert!(
        traces.len() > 100,
        "pharmacy lines carry traceability codes"
    );
    for r in &c.t[&Table::Idv] {
        assert!(["face", "vein", "card"].contains(&r["vrf_way"].as_str()));
        parse_datetime(&r["vrf_time"]).unwrap();
    }
    let months: HashSet<&str> = c.t[&Table::FundMonth]
        .iter()
        .map(|r| r["month"].as_str())
        .collect();
    assert_eq!(
        months.len(),
        24,
        "fund months cover the year and the year before"
    );
}

#[test]
fn every_fee_line_is_cnt_times_pric_and_settlements_add_up() {
    let c = city();
    let mut per_visit: HashMap<&str, Fen> = HashMap::new();
    for r in &c.t[&Table::Fee] {
        let cnt: Qty = r["cnt"].parse().unwrap();
        let pric: Price = r["pric"].parse().unwrap();
        let amt: Fen = r["det_item_fee_sumamt"].parse().unwrap();
        assert_eq!(cnt.times(pric), amt, "{r:?}");
        // Exact to the fen, no rounding involved.
        assert_eq!(
            cnt.0 as i128 * pric.0 as i128,
            amt.0 as i128 * 100_000_000,
            "{r:?}"
        );
        *per_visit.entry(&r["mdtrt_id"]).or_default() += amt;
    }
    assert_eq!(c.t[&Table::Setl].len(), c.t[&Table::Mdtrt].len());
    for s in &c.t[&Table::Setl] {
        let sum: Fen = s["medfee_sumamt"].parse().unwrap();
        assert_eq!(
            per_visit
                .get(s["mdtrt_id"].as_str())
                .copied()
                .unwrap_or_default(),
            sum,
            "{s:?}"
        );
        let parts: Vec<Fen> = ["hifp_pay", "acct_pay", "psn_cash_pay"]
            .iter()
            .map(|k| s[*k].parse().unwrap())
            .collect();
        assert_eq!(parts[0] + parts[1] + parts[2], sum, "{s:?}");
        assert_eq!(s["fund_pay_sumamt"], s["hifp_pay"]);
    }
}

#[test]
fn references_resolve() {
    let c = city();
    let keys =
        |t: Table, k: &str| -> HashSet<String> { c.t[&t].iter().map(|r| r[k].clone()).collect() };
    let psn = keys(Table::Psn, "psn_no");
    let inst = keys(Table::Fixmedins, "fixmedins_code");
    let pract = keys(Table::Pract, "pract_code");
    let cat = keys(Table::Catalog, "med_list_codg");
    let mdtrt = keys(Table::Mdtrt, "mdtrt_id");
    let setl = keys(Table::Setl, "setl_id");
    let rx: HashSet<(String, String)> = c.t[&Table::Rx]
        .iter()
        .map(|r| (r["hi_rxno"].clone(), r["med_list_codg"].clone()))
        .collect();
    for r in &c.t[&Table::Mdtrt] {
        assert!(
            psn.contains(&r["psn_no"])
                && inst.contains(&r["fixmedins_code"])
                && pract.contains(&r["atddr_no"])
        );
        assert!(r["refl_fixmedins_code"].is_empty() || inst.contains(&r["refl_fixmedins_code"]));
    }
    for r in &c.t[&Table::Fee] {
        assert!(
            mdtrt.contains(&r["mdtrt_id"])
                && setl.contains(&r["setl_id"])
                && psn.contains(&r["psn_no"])
        );
        assert!(
            inst.contains(&r["fixmedins_code"])
                && cat.contains(&r["med_list_codg"])
                && pract.contains(&r["bilg_dr_codg"])
        );
    }
    let mut with_rx = 0;
    for r in &c.t[&Table::Fee] {
        if !r["hi_rxno"].is_empty() {
            with_rx += 1;
            assert!(
                rx.contains(&(r["hi_rxno"].clone(), r["med_list_codg"].clone())),
                "{r:?}"
            );
        }
    }
    assert!(with_rx > 50);
    for r in &c.t[&Table::Diag] {
        assert!(mdtrt.contains(&r["mdtrt_id"]));
    }
    for t in [
        Table::Rx,
        Table::InvPurc,
        Table::InvStock,
        Table::Idv,
        Table::Budget,
    ] {
        for r in &c.t[&t] {
            assert!(inst.contains(&r["fixmedins_code"]), "{}: {r:?}", t.name());
        }
    }
    for r in c.t[&Table::Rx].iter() {
        assert!(pract.contains(&r["pract_code"]) && psn.contains(&r["psn_no"]));
    }
    for r in &c.t[&Table::PractSusp] {
        assert!(pract.contains(&r["pract_code"]));
    }
    // Out-of-city institutions exist (first four digits of the area differ) and receive referrals.
    let other: HashSet<&str> = c.t[&Table::Fixmedins]
        .iter()
        .filter(|r| !r["admdvs"].starts_with("3201"))
        .map(|r| r["fixmedins_code"].as_str())
        .collect();
    assert!(!other.is_empty());
}

#[test]
fn manifest_covers_every_category_with_keys_that_exist() {
    let c = city();
    let cats: HashSet<&str> = c
        .manifest
        .iter()
        .filter(|e| e["expect"] == "violation")
        .map(|e| e["category"].as_str().unwrap())
        .collect();
    for cat in medfund_contract::Category::ALL {
        assert!(cats.contains(cat.code()), "no planted {}", cat.code());
    }
    assert_eq!(cats.len(), 26);
    let fee: HashMap<(String, String), &HashMap<String, String>> = c.t[&Table::Fee]
        .iter()
        .map(|r| ((r["mdtrt_id"].clone(), r["feedetl_sn"].clone()), r))
        .collect();
    let mdtrt: HashSet<&str> = c.t[&Table::Mdtrt]
        .iter()
        .map(|r| r["mdtrt_id"].as_str())
        .collect();
    for e in &c.manifest {
        match e["level"].as_str().unwrap() {
            "fee" => {
                let k = (
                    e["mdtrt_id"].as_str().unwrap().to_string(),
                    e["feedetl_sn"].as_str().unwrap().to_string(),
                );
                let line = fee
                    .get(&k)
                    .unwrap_or_else(|| panic!("manifest line {e} has no fee line"));
                assert_eq!(line["med_list_codg"], e["med_list_codg"].as_str().unwrap());
                assert_eq!(line["psn_no"], e["psn_no"].as_str().unwrap());
            }
            "mdtrt" => assert!(mdtrt.contains(e["mdtrt_id"].as_str().unwrap())),
            "psn" => assert!(e["psn_no"].is_string() && e["med_list_codg"].is_string()),
            "fixmedins" => assert!(e["fixmedins_code"].is_string()),
            other => panic!("unknown level {other}"),
        }
        if let Some(a) = e["amount"].as_str() {
            let f: Fen = a.parse().unwrap();
            assert!(
                f.0 > 0 && a.split('.').nth(1).map(str::len) == Some(2),
                "{e}"
            );
        }
    }
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(c.path.join("manifest_summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["persons"], 3000);
    assert_eq!(
        summary["rows"]["fee"].as_u64().unwrap() as usize,
        c.t[&Table::Fee].len()
    );
}

#[test]
fn manifest_amounts_follow_the_domain_definitions() {
    let c = city();
    let cat: HashMap<&str, &HashMap<String, String>> = c.t[&Table::Catalog]
        .iter()
        .map(|r| (r["med_list_codg"].as_str(), r))
        .collect();
    let fee: HashMap<(&str, &str), &HashMap<String, String>> = c.t[&Table::Fee]
        .iter()
        .map(|r| ((r["mdtrt_id"].as_str(), r["feedetl_sn"].as_str()), r))
        .collect();
    let mut checked = 0;
    for e in c.manifest.iter().filter(|e| e["expect"] == "violation") {
        let cat_code = e["category"].as_str().unwrap();
        let amount = e["amount"].as_str().map(|a| a.parse::<Fen>().unwrap());
        if e["level"] == "fee" {
            let l = fee[&(
                e["mdtrt_id"].as_str().unwrap(),
                e["feedetl_sn"].as_str().unwrap(),
            )];
            let cnt: Qty = l["cnt"].parse().unwrap();
            let pric: Price = l["pric"].parse().unwrap();
            let line_amt: Fen = l["det_item_fee_sumamt"].parse().unwrap();
            match cat_code {
                "over_price" => {
                    let cap: Price = cat[l["med_list_codg"].as_str()]["pric_uplmt_amt"]
                        .parse()
                        .unwrap();
                    assert!(pric > cap);
                    assert_eq!(amount.unwrap(), cnt.times(Price(pric.0 - cap.0)));
                    checked += 1;
                }
                "duplicate_charge" | "split_charge" => {
                    assert_eq!(amount.unwrap(), line_amt);
                    checked += 1;
                }
                "over_frequency" => {
                    let lim: Qty = cat[l["med_list_codg"].as_str()]["max_cnt_day"]
                        .parse()
                        .unwrap();
                    assert!(
                        amount.unwrap().0 > 0
                            && amount.unwrap() <= Qty(cnt.0.max(lim.0)).times(pric)
                    );
                    checked += 1;
                }
                "rx_missing" => {
                    assert!(amount.unwrap() <= line_amt && amount.unwrap().0 > 0);
                    checked += 1;
                }
                _ => assert!(amount.is_none(), "{e}"),
            }
        } else if cat_code == "bed_days_excess" {
            let mid = e["mdtrt_id"].as_str().unwrap();
            let m = c.t[&Table::Mdtrt]
                .iter()
                .find(|r| r["mdtrt_id"] == mid)
                .unwrap();
            let los = (parse_datetime(&m["endtime"]).unwrap().date()
                - parse_datetime(&m["begntime"]).unwrap().date())
            .num_days();
            let beds: Vec<&&HashMap<String, String>> = fee
                .iter()
                .filter(|((id, _), r)| {
                    *id == mid && cat[r["med_list_codg"].as_str()]["med_chrgitm_type"] == "01"
                })
                .map(|(_, r)| r)
                .collect();
            let days: i64 = beds
                .iter()
                .map(|r| r["cnt"].parse::<Qty>().unwrap().0 / Qty::ONE)
                .sum();
            let top = beds
                .iter()
                .map(|r| r["pric"].parse::<Price>().unwrap())
                .max()
                .unwrap();
            assert!(days > los);
            assert_eq!(amount.unwrap(), Qty::from_units(days - los).times(top));
            checked += 1;
        }
    }
    assert!(checked >= 18, "checked {checked} amounts");
}

#[test]
fn boundary_cases_sit_exactly_on_their_limits() {
    let c = city();
    let psn: HashMap<&str, &HashMap<String, String>> = c.t[&Table::Psn]
        .iter()
        .map(|r| (r["psn_no"].as_str(), r))
        .collect();
    let fee: HashMap<(&str, &str), &HashMap<String, String>> = c.t[&Table::Fee]
        .iter()
        .map(|r| ((r["mdtrt_id"].as_str(), r["feedetl_sn"].as_str()), r))
        .collect();
    let cat: HashMap<&str, &HashMap<String, String>> = c.t[&Table::Catalog]
        .iter()
        .map(|r| (r["med_list_codg"].as_str(), r))
        .collect();
    let mut seen = HashSet::new();
    for e in c.manifest.iter().filter(|e| e["expect"] == "clean") {
        let cc = e["category"].as_str().unwrap();
        seen.insert(cc);
        if e["level"] != "fee" {
            continue;
        }
        let l = fee[&(
            e["mdtrt_id"].as_str().unwrap(),
            e["feedetl_sn"].as_str().unwrap(),
        )];
        let it = cat[l["med_list_codg"].as_str()];
        match cc {
            "age_limit" => {
                let b = parse_date(&psn[l["psn_no"].as_str()]["brdy"]).unwrap();
                let age = age_on(b, parse_datetime(&l["fee_ocur_time"]).unwrap().date());
                let ok_max = it["lmt_age_max"]
                    .parse::<i32>()
                    .map(|m| age == m)
                    .unwrap_or(false);
                let ok_min = it["lmt_age_min"]
                    .parse::<i32>()
                    .map(|m| age == m)
                    .unwrap_or(false);
                assert!(
                    ok_max || ok_min,
                    "age {age} is on the limit of {}",
                    it["med_list_name"]
                );
            }
            "over_price" => assert_eq!(
                l["pric"].parse::<Price>().unwrap(),
                it["pric_uplmt_amt"].parse::<Price>().unwrap()
            ),
            _ => {}
        }
    }
    assert!(seen.len() >= 15, "boundary categories: {seen:?}");
}

#[test]
fn ten_times_the_persons_gives_about_ten_times_the_lines() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let cfg = |n| GenConfig {
        persons: n,
        seed: 3,
        year: 2025,
        threads: None,
        progress: false,
    };
    let sa = generate(a.path(), &cfg(1_000)).unwrap();
    let sb = generate(b.path(), &cfg(10_000)).unwrap();
    let r = sb.fee_lines as f64 / sa.fee_lines as f64;
    assert!((8.0..12.0).contains(&r), "ratio {r}");
    assert!(sb.lines_per_sec > 0.0);
}

#[test]
fn too_small_a_city_is_refused_with_a_reason() {
    let d = tempfile::tempdir().unwrap();
    let e = generate(
        d.path(),
        &GenConfig {
            persons: 10,
            ..GenConfig::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("--persons"), "{e}");
}

/// Re-applies the default rules of DOMAIN.md §4.1 to the generated data and checks that what
/// fires is exactly the planted violations (and never a boundary case).
#[test]
fn only_planted_cases_fire_under_the_default_rules() {
    use chrono::{Duration, NaiveDate};
    let c = city();
    type Row = HashMap<String, String>;
    let t = |tb: Table| -> &Rows { &c.t[&tb] };
    let cat: HashMap<&str, &Row> = t(Table::Catalog)
        .iter()
        .map(|r| (r["med_list_codg"].as_str(), r))
        .collect();
    let inst: HashMap<&str, &Row> = t(Table::Fixmedins)
        .iter()
        .map(|r| (r["fixmedins_code"].as_str(), r))
        .collect();
    let psn: HashMap<&str, &Row> = t(Table::Psn)
        .iter()
        .map(|r| (r["psn_no"].as_str(), r))
        .collect();
    let mdtrt: HashMap<&str, &Row> = t(Table::Mdtrt)
        .iter()
        .map(|r| (r["mdtrt_id"].as_str(), r))
        .collect();
    let mut diags: HashMap<&str, Vec<&str>> = HashMap::new();
    for r in t(Table::Diag) {
        diags
            .entry(r["mdtrt_id"].as_str())
            .or_default()
            .push(r["diag_code"].as_str());
    }
    let mut susp: HashMap<&str, Vec<(NaiveDate, NaiveDate)>> = HashMap::new();
    for r in t(Table::PractSusp) {
        let e = if r["enddate"].is_empty() {
            NaiveDate::MAX
        } else {
            parse_date(&r["enddate"]).unwrap()
        };
        susp.entry(r["pract_code"].as_str())
            .or_default()
            .push((parse_date(&r["begndate"]).unwrap(), e));
    }
    let rx: HashMap<(&str, &str), &Row> = t(Table::Rx)
        .iter()
        .map(|r| ((r["hi_rxno"].as_str(), r["med_list_codg"].as_str()), r))
        .collect();
    let mut idv: HashMap<(&str, &str, NaiveDate), Vec<bool>> = HashMap::new();
    for r in t(Table::Idv) {
        let d = parse_datetime(&r["vrf_time"]).unwrap().date();
        idv.entry((r["psn_no"].as_str(), r["fixmedins_code"].as_str(), d))
            .or_default()
            .push(r["vrf_rslt"] == "1");
    }
    let mut lines: Vec<&Row> = t(Table::Fee).iter().collect();
    lines.sort_by(|a, b| {
        (&a["fee_ocur_time"], &a["mdtrt_id"], &a["feedetl_sn"]).cmp(&(
            &b["fee_ocur_time"],
            &b["mdtrt_id"],
            &b["feedetl_sn"],
        ))
    });
    let mut by_visit: HashMap<&str, Vec<&Row>> = HashMap::new();
    for l in &lines {
        by_visit.entry(l["mdtrt_id"].as_str()).or_default().push(l);
    }
    let q = |s: &str| s.parse::<Qty>().unwrap().0;
    let pr = |s: &str| s.parse::<Price>().unwrap().0;
    let drug = |code: &str| matches!(cat[code]["med_chrgitm_type"].as_str(), "09" | "10" | "11");
    let mut found: HashSet<(String, String)> = HashSet::new();
    let mut fire = |category: &str, key: String| {
        found.insert((category.to_string(), key));
    };
    let fee_key = |l: &Row| format!("{}/{}", l["mdtrt_id"], l["feedetl_sn"]);

    let mut per_day: HashMap<(&str, &str, NaiveDate), i64> = HashMap::new();
    let mut per_visit: HashMap<(&str, &str), i64> = HashMap::new();
    let mut seen_dup: HashSet<(&str, &str, &str, &str)> = HashSet::new();
    let mut traces: HashSet<&str> = HashSet::new();
    let mut rx_used: HashMap<(&str, &str), i64> = HashMap::new();
    let mut sales: HashMap<(&str, &str, String), i64> = HashMap::new();
    let mut shopping: HashMap<(&str, &str), Vec<(NaiveDate, &str)>> = HashMap::new();
    for l in &lines {
        let m = mdtrt[l["mdtrt_id"].as_str()];
        let it = cat[l["med_list_codg"].as_str()];
        let p = psn[l["psn_no"].as_str()];
        let ins = inst[l["fixmedins_code"].as_str()];
        let when = parse_datetime(&l["fee_ocur_time"]).unwrap();
        let day = when.date();
        let ipt = is_inpatient(&m["med_type"]);
        let key = fee_key(l);
        if !it["lmt_gend"].is_empty() && it["lmt_gend"] != p["gend"] {
            fire("gender_limit", key.clone());
        }
        let age = age_on(parse_date(&p["brdy"]).unwrap(), day);
        if it["lmt_age_min"].parse::<i32>().is_ok_and(|a| age < a)
            || it["lmt_age_max"].parse::<i32>().is_ok_and(|a| age > a)
        {
            fire("age_limit", key.clone());
        }
        if let Ok(lv) = it["lmt_hosp_lv"].parse::<u8>() {
            if ins["hosp_lv"].parse::<u8>().map_or(true, |h| h > lv) {
                fire("hosp_level_limit", key.clone());
            }
        }
        if (it["lmt_med_type"] == "opt" && ipt) || (it["lmt_med_type"] == "ipt" && !ipt) {
            fire("med_type_limit", key.clone());
        }
        if !it["lmt_dise"].is_empty() {
            let ds = &diags[l["mdtrt_id"].as_str()];
            if !split_list(&it["lmt_dise"])
                .iter()
                .any(|pre| ds.iter().any(|d| d.starts_with(pre.as_str())))
            {
                fire("indication_limit", key.clone());
            }
        }
        if !it["pric_uplmt_amt"].is_empty() && pr(&l["pric"]) > pr(&it["pric_uplmt_amt"]) {
            fire("over_price", key.clone());
        }
        if !seen_dup.insert((
            &l["mdtrt_id"],
            &l["med_list_codg"],
            &l["fee_ocur_time"],
            &l["pric"],
        )) {
            fire("duplicate_charge", key.clone());
        }
        let d = per_day
            .entry((&l["psn_no"], &l["med_list_codg"], day))
            .or_insert(0);
        *d += q(&l["cnt"]);
        if !it["max_cnt_day"].is_empty() && *d > q(&it["max_cnt_day"]) {
            fire("over_frequency", key.clone());
        }
        let v = per_visit
            .entry((&l["mdtrt_id"], &l["med_list_codg"]))
            .or_insert(0);
        *v += q(&l["cnt"]);
        if !it["max_cnt_mdtrt"].is_empty() && *v > q(&it["max_cnt_mdtrt"]) {
            fire("over_frequency", key.clone());
        }
        for tc in l["drug_trac_codg"].split(';').filter(|s| !s.is_empty()) {
            if !traces.insert(tc) {
                fire("trace_code_reuse", key.clone());
            }
        }
        if drug(&l["med_list_codg"]) {
            shopping
                .entry((&l["psn_no"], &l["med_list_codg"]))
                .or_default()
                .push((day, &l["fixmedins_code"]));
        }
        if ins["fixmedins_type"] == "2" && drug(&l["med_list_codg"]) {
            *sales
                .entry((
                    &l["fixmedins_code"],
                    &l["med_list_codg"],
                    l["fee_ocur_time"][..7].to_string(),
                ))
                .or_insert(0) += q(&l["cnt"]);
            if it["rx_only"] == "1" {
                let r = rx.get(&(l["hi_rxno"].as_str(), l["med_list_codg"].as_str()));
                let ok = r.is_some_and(|r| {
                    let issued = parse_datetime(&r["issue_time"]).unwrap();
                    let used = rx_used
                        .entry((&r["hi_rxno"], &r["med_list_codg"]))
                        .or_insert(0);
                    *used += q(&l["cnt"]);
                    r["psn_no"] == l["psn_no"]
                        && when >= issued
                        && when <= issued + Duration::days(r["valid_days"].parse().unwrap())
                        && *used <= q(&r["cnt"])
                });
                if !ok {
                    fire("rx_missing", key.clone());
                }
            }
        }
        let emergency = m["med_type"] == "13" || m["emer_flag"] == "1";
        for who in [&l["bilg_dr_codg"], &m["atddr_no"]] {
            if !emergency
                && susp
                    .get(who.as_str())
                    .is_some_and(|v| v.iter().any(|(a, b)| *a <= day && day <= *b))
            {
                fire("suspended_pract", key.clone());
            }
        }
    }
    for (mid, ls) in &by_visit {
        let codes: HashSet<&str> = ls.iter().map(|l| l["med_list_codg"].as_str()).collect();
        for code in &codes {
            for x in split_list(&cat[code]["excl_codes"]) {
                if codes.contains(x.as_str()) {
                    let later = ls
                        .iter()
                        .rev()
                        .find(|l| l["med_list_codg"] == *code || l["med_list_codg"] == x)
                        .unwrap();
                    fire("exclusive_items", fee_key(later));
                }
            }
            for x in split_list(&cat[code]["incl_codes"]) {
                for l in ls.iter().filter(|l| l["med_list_codg"] == x) {
                    fire("split_charge", fee_key(l));
                }
            }
        }
        let m = mdtrt[mid];
        if is_inpatient(&m["med_type"]) {
            let a = parse_datetime(&m["begntime"]).unwrap().date();
            let e = parse_datetime(&m["endtime"]).unwrap().date();
            let los = (e - a).num_days().max(1);
            let beds: i64 = ls
                .iter()
                .filter(|l| cat[l["med_list_codg"].as_str()]["med_chrgitm_type"] == "01")
                .map(|l| q(&l["cnt"]))
                .sum();
            if beds > los * Qty::ONE {
                fire("bed_days_excess", mid.to_string());
            }
            let stay_days = (e - a).num_days();
            let absent = (0..stay_days)
                .filter(|k| {
                    let d = a + Duration::days(*k);
                    let checked = idv
                        .get(&(m["psn_no"].as_str(), m["fixmedins_code"].as_str(), d))
                        .is_some_and(|v| v.iter().any(|x| *x));
                    let billed = ls.iter().any(|l| {
                        parse_datetime(&l["fee_ocur_time"]).unwrap().date() == d
                            && cat[l["med_list_codg"].as_str()]["med_chrgitm_type"] != "01"
                    });
                    !checked && !billed
                })
                .count() as i64;
            if absent >= 3 && absent * 2 >= stay_days {
                fire("phantom_bed", mid.to_string());
            }
        }
    }
    let mut visits_of: HashMap<&str, Vec<&Row>> = HashMap::new();
    for m in t(Table::Mdtrt) {
        visits_of.entry(m["psn_no"].as_str()).or_default().push(m);
    }
    for (pn, vs) in visits_of.iter_mut() {
        vs.sort_by(|a, b| a["begntime"].cmp(&b["begntime"]));
        let stays: Vec<&&Row> = vs.iter().filter(|m| is_inpatient(&m["med_type"])).collect();
        let date = |s: &str| parse_datetime(s).unwrap().date();
        for (i, s2) in stays.iter().enumerate() {
            for s1 in &stays[..i] {
                let gap = (date(&s2["begntime"]) - date(&s1["endtime"])).num_days();
                if s1["fixmedins_code"] == s2["fixmedins_code"]
                    && (0..=15).contains(&gap)
                    && s1["diag_code"][..3] == s2["diag_code"][..3]
                {
                    fire("split_admission", s2["mdtrt_id"].clone());
                }
            }
        }
        for s in &stays {
            let (a, e) = (date(&s["begntime"]), date(&s["endtime"]));
            for v in vs.iter() {
                let vd = date(&v["begntime"]);
                if v["fixmedins_code"] != s["fixmedins_code"]
                    && a < vd
                    && vd < e
                    && v["med_type"] != "13"
                    && v["emer_flag"] != "1"
                {
                    fire("concurrent_visit", v["mdtrt_id"].clone());
                }
            }
        }
        for (i, v) in vs.iter().enumerate() {
            let res = idv.get(&(*pn, v["fixmedins_code"].as_str(), date(&v["begntime"])));
            if res.is_some_and(|r| !r.iter().any(|x| *x)) {
                fire("card_misuse", v["mdtrt_id"].clone());
            }
            for w in &vs[i + 1..] {
                let dt = parse_datetime(&w["begntime"]).unwrap()
                    - parse_datetime(&v["begntime"]).unwrap();
                let a1 = &inst[v["fixmedins_code"].as_str()]["admdvs"][..4];
                let a2 = &inst[w["fixmedins_code"].as_str()]["admdvs"][..4];
                if dt < Duration::hours(3) && a1 != a2 {
                    fire("card_misuse", w["mdtrt_id"].clone());
                }
            }
        }
    }
    for ((pn, code), hist) in &shopping {
        for (d0, _) in hist {
            let places: HashSet<&str> = hist
                .iter()
                .filter(|(d, _)| *d >= *d0 && *d < *d0 + Duration::days(30))
                .map(|(_, i)| *i)
                .collect();
            if places.len() >= 3 {
                fire("doctor_shopping", format!("{pn}/{code}"));
            }
        }
    }
    let stock: HashMap<(&str, &str, &str), i64> = t(Table::InvStock)
        .iter()
        .map(|r| {
            (
                (
                    r["fixmedins_code"].as_str(),
                    r["med_list_codg"].as_str(),
                    &r["inv_date"][..7],
                ),
                q(&r["inv_cnt"]),
            )
        })
        .collect();
    let mut purc: HashMap<(&str, &str, &str), i64> = HashMap::new();
    for r in t(Table::InvPurc) {
        *purc
            .entry((
                &r["fixmedins_code"],
                &r["med_list_codg"],
                &r["purc_time"][..7],
            ))
            .or_insert(0) += q(&r["purc_cnt"]);
    }
    for ((ph, code, month), sold) in &sales {
        let k = (*ph, *code, month.as_str());
        if *sold > stock.get(&k).copied().unwrap_or(0) + purc.get(&k).copied().unwrap_or(0) {
            fire("inventory_mismatch", format!("{ph}/{code}"));
        }
    }

    // The manifest, keyed the same way.
    let key_of = |e: &serde_json::Value| -> String {
        let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
        match e["level"].as_str().unwrap() {
            "fee" => format!("{}/{}", s("mdtrt_id"), s("feedetl_sn")),
            "mdtrt" => s("mdtrt_id"),
            "psn" => format!("{}/{}", s("psn_no"), s("med_list_codg")),
            _ if e["category"] == "inventory_mismatch" => {
                format!("{}/{}", s("fixmedins_code"), s("med_list_codg"))
            }
            _ => s("fixmedins_code"),
        }
    };
    let checked: HashSet<&str> = found.iter().map(|(c, _)| c.as_str()).collect();
    let mut expected = HashSet::new();
    let mut clean = HashSet::new();
    for e in &c.manifest {
        let k = (e["category"].as_str().unwrap().to_string(), key_of(e));
        if e["expect"] == "clean" {
            clean.insert(k);
        } else if checked.contains(k.0.as_str())
            || ![
                "provider_outlier",
                "upcoding",
                "insurance_type_limit",
                "course_limit",
                "cycle_frequency",
                "secondary_surgery_discount",
            ]
            .contains(&k.0.as_str())
        {
            expected.insert(k);
        }
    }
    let extra: Vec<_> = found.difference(&expected).collect();
    let missed: Vec<_> = expected.difference(&found).collect();
    let clean_fired: Vec<_> = found.intersection(&clean).collect();
    assert!(extra.is_empty(), "findings on clean data: {extra:?}");
    assert!(missed.is_empty(), "planted but not firing: {missed:?}");
    assert!(
        clean_fired.is_empty(),
        "boundary cases firing: {clean_fired:?}"
    );
    assert!(found.len() >= 19 * 3, "{} findings", found.len());
}
