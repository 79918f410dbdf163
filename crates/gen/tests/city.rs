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
