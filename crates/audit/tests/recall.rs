//! Recall against the generator's planted violations (the manifest is the oracle): a small city is
//! generated, read through the ingest layer and audited; every planted violation of the
//! deterministic categories must be found with its keys and amount, no clean boundary case may
//! be flagged, and (without the national knowledge base) nothing may be flagged outside the
//! manifest.

use medfund_audit::rules::RuleLibrary;
use medfund_audit::{audit, audit_lines, AuditOptions};
use medfund_contract::{Category, Finding, Level};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Categories decided by models in later issues.
const MODELS: &[&str] = &["provider_outlier", "upcoding"];
/// Categories that need the national knowledge base.
const KB: &[&str] = &[
    "insurance_type_limit",
    "course_limit",
    "cycle_frequency",
    "secondary_surgery_discount",
];

type Key = (String, Option<String>, Option<String>, Option<String>);

fn key_of(category: &str, level: &str, get: impl Fn(&str) -> Option<String>) -> Key {
    let (a, b, c) = match level {
        "fee" => (get("mdtrt_id"), get("feedetl_sn"), None),
        "mdtrt" => (get("mdtrt_id"), None, None),
        "psn" => (get("psn_no"), get("med_list_codg"), None),
        _ => (get("fixmedins_code"), get("med_list_codg"), None),
    };
    (category.to_string(), a, b, c)
}

fn finding_key(f: &Finding) -> Key {
    let get = |k: &str| -> Option<String> {
        match k {
            "mdtrt_id" => f.mdtrt_id.as_ref(),
            "feedetl_sn" => f.feedetl_sn.as_ref(),
            "psn_no" => f.psn_no.as_ref(),
            "med_list_codg" => f.med_list_codg.as_ref(),
            "fixmedins_code" => f.fixmedins_code.as_ref(),
            _ => None,
        }
        .map(|c| c.to_string())
    };
    key_of(f.category.code(), f.level.code(), get)
}

struct Entry {
    key: Key,
    clean: bool,
    amount: Option<String>,
    note: String,
}

fn manifest(dir: &Path) -> Vec<Entry> {
    std::fs::read_to_string(dir.join("manifest.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let get = |k: &str| v[k].as_str().map(str::to_string);
            let cat = v["category"].as_str().unwrap().to_string();
            let level = v["level"].as_str().unwrap_or("fee").to_string();
            Entry {
                key: key_of(&cat, &level, get),
                clean: v["expect"] == "clean",
                amount: v["amount"].as_str().map(str::to_string),
                note: v["note"].as_str().unwrap_or("").to_string(),
            }
        })
        .collect()
}

/// Checks recall, amounts and clean cases for the categories in `cats`; returns the findings of
/// those categories that the manifest does not list.
fn check(findings: &[Finding], man: &[Entry], cats: &HashSet<&str>) -> Vec<String> {
    let mut found: HashMap<Key, Vec<&Finding>> = HashMap::new();
    for f in findings {
        found.entry(finding_key(f)).or_default().push(f);
    }
    let mut errors = Vec::new();
    let mut listed = HashSet::new();
    for e in man.iter().filter(|e| cats.contains(e.key.0.as_str())) {
        listed.insert(e.key.clone());
        match (e.clean, found.get(&e.key)) {
            (true, Some(fs)) => errors.push(format!(
                "clean case flagged: {:?} ({}) — {}",
                e.key, e.note, fs[0].evidence.text
            )),
            (false, None) => errors.push(format!(
                "planted violation missed: {:?} ({})",
                e.key, e.note
            )),
            (false, Some(fs)) => {
                if let Some(a) = &e.amount {
                    let want: medfund_contract::Fen = a.parse().unwrap();
                    if !fs.iter().any(|f| f.amount == Some(want)) {
                        errors.push(format!(
                            "amount of {:?}: manifest {a}, found {:?} ({})",
                            e.key,
                            fs.iter().map(|f| f.amount).collect::<Vec<_>>(),
                            e.note
                        ));
                    }
                }
            }
            (true, None) => {}
        }
    }
    assert!(
        errors.is_empty(),
        "{} disagreement(s) with the manifest:\n{}",
        errors.len(),
        errors.join("\n")
    );
    findings
        .iter()
        .filter(|f| cats.contains(f.category.code()) && !listed.contains(&finding_key(f)))
        .map(|f| format!("{:?}: {}", finding_key(f), f.evidence.text))
        .collect()
}

#[test]
fn planted_violations_are_found_and_clean_cases_stay_clean() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = medfund_gen::GenConfig {
        persons: medfund_gen::min_persons().max(3_000),
        ..Default::default()
    };
    medfund_gen::generate(dir.path(), &cfg).unwrap();
    let ing = medfund_ingest::read_batch(dir.path(), &Default::default()).unwrap();
    assert_eq!(ing.quarantined(), 0, "the generated batch is clean input");
    let man = manifest(dir.path());

    // Catalog only: every deterministic category, and nothing outside the manifest.
    let res = audit(
        &ing.batch,
        &RuleLibrary::builtin(),
        None,
        &AuditOptions::default(),
    );
    let cats: HashSet<&str> = Category::ALL
        .iter()
        .map(|c| c.code())
        .filter(|c| !MODELS.contains(c) && !KB.contains(c))
        .collect();
    for c in &cats {
        assert!(
            man.iter().any(|e| !e.clean && e.key.0 == *c),
            "the generator plants {c}"
        );
    }
    let extra = check(&res.findings, &man, &cats);
    assert!(
        extra.is_empty(),
        "{} finding(s) outside the manifest:\n{}",
        extra.len(),
        extra.join("\n")
    );
    // Levels follow the contract.
    for f in &res.findings {
        assert_eq!(f.level, f.category.default_level(), "{}", f.rule_id);
    }
    // A rerun gives the same ids in the same order.
    let again = audit(
        &ing.batch,
        &RuleLibrary::builtin(),
        None,
        &AuditOptions::default(),
    );
    assert_eq!(
        res.findings
            .iter()
            .map(|f| &f.finding_id)
            .collect::<Vec<_>>(),
        again
            .findings
            .iter()
            .map(|f| &f.finding_id)
            .collect::<Vec<_>>()
    );

    // With the national knowledge base: the national-only categories are found too.
    let files =
        medfund_kb::import::xlsx_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../kb/nhsa"))
            .unwrap();
    assert_eq!(files.len(), 14);
    let kb = medfund_kb::import_files(&files, &medfund_kb::KbPolicy::default()).unwrap();
    let res = audit(
        &ing.batch,
        &RuleLibrary::builtin(),
        Some(&kb),
        &AuditOptions::default(),
    );
    let kb_cats: HashSet<&str> = KB.iter().copied().collect();
    check(&res.findings, &man, &kb_cats);
    // The catalog categories keep their recall with the national limits merged in.
    check(&res.findings, &man, &cats);
    assert!(res
        .findings
        .iter()
        .any(|f| f.level == Level::Fee && f.rule_id == "course_limit.nhsa"));

    // Read compactly for the audit (as `medfund audit` does), the batch gives the same findings.
    let compact = medfund_ingest::read_batch(
        dir.path(),
        &medfund_ingest::Options {
            compact_fee: true,
            ..Default::default()
        },
    )
    .unwrap();
    let lines = compact
        .fee_lines
        .as_ref()
        .expect("fee lines held compactly");
    assert_eq!(lines.len(), ing.batch.fee.len());
    for kb in [None, Some(&kb)] {
        let plain = audit(
            &ing.batch,
            &RuleLibrary::builtin(),
            kb,
            &AuditOptions::default(),
        );
        let from_lines = audit_lines(
            &compact.batch,
            lines,
            Some(&compact.keys),
            &RuleLibrary::builtin(),
            kb,
            &AuditOptions::default(),
        );
        assert!(!plain.findings.is_empty());
        assert_eq!(from_lines.findings, plain.findings);
        assert_eq!(from_lines.stats.lines, plain.stats.lines);
        assert_eq!(
            from_lines.stats.uncatalogued_lines,
            plain.stats.uncatalogued_lines
        );
    }
}
