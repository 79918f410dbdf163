//! Cross-check with the national knowledge points: the kb crate's evaluations (insurance type,
//! course, cycle, secondary surgery, timed duplicate pairs), fed with the real batches in
//! `kb/nhsa/`, fire on exactly the planted cases of those categories and on no clean line.

use medfund_contract::codes::{split_list, Code};
use medfund_contract::records::{CatalogEntry, Fee, Mdtrt, Setl};
use medfund_contract::time::parse_datetime;
use medfund_gen::{generate, GenConfig};
use medfund_kb::{eval_person, KbIndex, KbPolicy, LineCtx, PersonLines};
use std::collections::{HashMap, HashSet};
use std::path::Path;

fn rows(dir: &Path, name: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(dir.join(format!("{name}.csv"))).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|x| {
            h.iter()
                .cloned()
                .zip(x.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

fn opt(s: &str) -> Option<Code> {
    (!s.is_empty()).then(|| Code::from(s))
}

#[test]
fn national_points_fire_only_on_planted_cases() {
    let dir = tempfile::tempdir().unwrap();
    generate(
        dir.path(),
        &GenConfig {
            persons: 3_000,
            seed: 23,
            year: 2025,
            threads: None,
            progress: false,
        },
    )
    .unwrap();
    let kb_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../kb/nhsa");
    let policy = KbPolicy::default();
    let kb = medfund_kb::import_dir(&kb_dir, &policy).unwrap();
    let ix = KbIndex::new(&kb, &policy);

    let fees: Vec<Fee> = rows(dir.path(), "fee")
        .iter()
        .map(|r| Fee {
            feedetl_sn: r["feedetl_sn"].as_str().into(),
            mdtrt_id: r["mdtrt_id"].as_str().into(),
            setl_id: r["setl_id"].as_str().into(),
            psn_no: r["psn_no"].as_str().into(),
            fixmedins_code: r["fixmedins_code"].as_str().into(),
            fee_ocur_time: parse_datetime(&r["fee_ocur_time"]).unwrap(),
            med_list_codg: r["med_list_codg"].as_str().into(),
            cnt: r["cnt"].parse().unwrap(),
            pric: r["pric"].parse().unwrap(),
            det_item_fee_sumamt: r["det_item_fee_sumamt"].parse().unwrap(),
            bilg_dr_codg: opt(&r["bilg_dr_codg"]),
            hi_rxno: opt(&r["hi_rxno"]),
            drug_trac_codg: split_list(&r["drug_trac_codg"]),
        })
        .collect();
    let visits: HashMap<String, Mdtrt> = rows(dir.path(), "mdtrt")
        .iter()
        .map(|r| {
            let m = Mdtrt {
                mdtrt_id: r["mdtrt_id"].as_str().into(),
                psn_no: r["psn_no"].as_str().into(),
                fixmedins_code: r["fixmedins_code"].as_str().into(),
                med_type: r["med_type"].as_str().into(),
                begntime: parse_datetime(&r["begntime"]).unwrap(),
                endtime: (!r["endtime"].is_empty()).then(|| parse_datetime(&r["endtime"]).unwrap()),
                diag_code: r["diag_code"].as_str().into(),
                dise_codg: None,
                atddr_no: opt(&r["atddr_no"]),
                emer_flag: r["emer_flag"] == "1",
                refl_fixmedins_code: opt(&r["refl_fixmedins_code"]),
            };
            (r["mdtrt_id"].clone(), m)
        })
        .collect();
    let setls: HashMap<String, Setl> = rows(dir.path(), "setl")
        .iter()
        .map(|r| {
            let s = Setl {
                setl_id: r["setl_id"].as_str().into(),
                mdtrt_id: r["mdtrt_id"].as_str().into(),
                psn_no: r["psn_no"].as_str().into(),
                fixmedins_code: r["fixmedins_code"].as_str().into(),
                setl_time: parse_datetime(&r["setl_time"]).unwrap(),
                medfee_sumamt: r["medfee_sumamt"].parse().unwrap(),
                hifp_pay: r["hifp_pay"].parse().unwrap(),
                acct_pay: r["acct_pay"].parse().ok(),
                psn_cash_pay: r["psn_cash_pay"].parse().ok(),
                fund_pay_sumamt: r["fund_pay_sumamt"].parse().ok(),
                drg_codg: opt(&r["drg_codg"]),
            };
            (r["setl_id"].clone(), s)
        })
        .collect();
    let catalog: HashMap<String, CatalogEntry> = rows(dir.path(), "catalog")
        .iter()
        .map(|r| {
            let c = CatalogEntry {
                med_list_codg: r["med_list_codg"].as_str().into(),
                med_list_name: r["med_list_name"].clone(),
                list_type: r["list_type"].parse().unwrap(),
                med_chrgitm_type: opt(&r["med_chrgitm_type"]),
                chrgitm_lv: r["chrgitm_lv"].parse().ok(),
                pric_uplmt_amt: r["pric_uplmt_amt"].parse().ok(),
                lmt_gend: None,
                lmt_age_min: None,
                lmt_age_max: None,
                lmt_hosp_lv: None,
                lmt_med_type: None,
                lmt_dise: vec![],
                max_cnt_day: None,
                max_cnt_mdtrt: None,
                excl_codes: vec![],
                incl_codes: vec![],
                rx_only: r["rx_only"] == "1",
            };
            (r["med_list_codg"].clone(), c)
        })
        .collect();

    let mut by_psn: HashMap<&str, Vec<LineCtx>> = HashMap::new();
    for f in &fees {
        by_psn.entry(f.psn_no.as_str()).or_default().push(LineCtx {
            fee: f,
            mdtrt: visits.get(f.mdtrt_id.as_str()),
            setl: setls.get(f.setl_id.as_str()),
            catalog: catalog.get(f.med_list_codg.as_str()),
        });
    }
    let mut findings = Vec::new();
    for (_, lines) in by_psn {
        eval_person(&ix, &PersonLines::new(lines), &mut findings);
    }
    let found: HashSet<(String, String, String)> = findings
        .iter()
        .map(|f| {
            (
                f.category.code().to_string(),
                f.mdtrt_id.as_deref().unwrap_or("").to_string(),
                f.feedetl_sn.as_deref().unwrap_or("").to_string(),
            )
        })
        .collect();

    let kb_categories = [
        "insurance_type_limit",
        "course_limit",
        "cycle_frequency",
        "secondary_surgery_discount",
    ];
    let manifest: Vec<serde_json::Value> =
        std::fs::read_to_string(dir.path().join("manifest.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    let key = |e: &serde_json::Value| {
        (
            e["category"].as_str().unwrap().to_string(),
            e["mdtrt_id"].as_str().unwrap_or("").to_string(),
            e["feedetl_sn"].as_str().unwrap_or("").to_string(),
        )
    };
    let planted: HashSet<_> = manifest
        .iter()
        .filter(|e| {
            e["expect"] == "violation"
                && (kb_categories.contains(&e["category"].as_str().unwrap())
                    || e["category"] == "exclusive_items")
        })
        .map(key)
        .collect();
    let clean: HashSet<_> = manifest
        .iter()
        .filter(|e| e["expect"] == "clean")
        .map(key)
        .collect();
    for p in planted
        .iter()
        .filter(|p| kb_categories.contains(&p.0.as_str()))
    {
        assert!(
            found.contains(p),
            "planted {p:?} does not fire; findings: {}",
            findings.len()
        );
    }
    for f in &found {
        let text = findings
            .iter()
            .find(|x| x.feedetl_sn.as_deref() == Some(f.2.as_str()) && x.category.code() == f.0)
            .map(|x| x.evidence.text.clone())
            .unwrap_or_default();
        assert!(
            planted.contains(f),
            "finding {f:?} on a line the manifest does not list: {text}"
        );
        assert!(!clean.contains(f), "boundary case {f:?} fired");
    }
    // The planted exclusive pair is a national b7 pair too: the kb's pair rule finds it.
    assert!(found.iter().any(|f| f.0 == "exclusive_items"));
}
