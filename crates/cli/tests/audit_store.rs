//! `medfund audit BATCH --store` keeps the findings in the data directory's store for review, and
//! auditing the same batch again adds no duplicate and keeps the review decisions.

use medfund_store::{FindingFilter, FindingStatus, Store};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_medfund");

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn medfund(data: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("MEDFUND_DB_URL")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "medfund {args:?} failed:\n{err}");
    err
}

#[test]
fn audit_store_saves_findings_once_and_keeps_reviews() {
    let root =
        TempDir(std::env::temp_dir().join(format!("medfund-audit-store-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&root.0);
    let (city, data) = (root.0.join("city"), root.0.join("data"));
    std::fs::create_dir_all(&data).unwrap();
    let persons = medfund_gen::min_persons().to_string();
    medfund(
        &data,
        &["gen", city.to_str().unwrap(), "--persons", &persons],
    );
    medfund(&data, &["load", city.to_str().unwrap()]);
    let out = root.0.join("f.jsonl");
    let audit = [
        "audit",
        city.to_str().unwrap(),
        "--no-kb",
        "--out",
        out.to_str().unwrap(),
        "--store",
    ];
    let err = medfund(&data, &audit);
    assert!(err.contains("findings stored for review"), "{err}");
    let lines = std::fs::read_to_string(&out).unwrap().lines().count() as u64;
    assert!(lines > 0);

    let all = FindingFilter::default();
    let mut store = Store::open(&data).unwrap();
    assert_eq!(
        store.count_findings(&all).unwrap(),
        lines,
        "every finding of the file is stored"
    );
    let new = FindingFilter {
        status: Some(FindingStatus::New),
        ..Default::default()
    };
    assert_eq!(
        store.count_findings(&new).unwrap(),
        lines,
        "stored findings start as new"
    );
    let first = store.list_findings(&all).unwrap().remove(0);
    store
        .set_finding_status(
            &first.finding.finding_id,
            FindingStatus::Confirmed,
            "auditor",
            Some("核实属实"),
        )
        .unwrap();
    drop(store);

    // The same batch again: same ids, nothing added, the decision kept.
    medfund(&data, &audit);
    let mut store = Store::open(&data).unwrap();
    assert_eq!(store.count_findings(&all).unwrap(), lines);
    let again = store.finding(&first.finding.finding_id).unwrap().unwrap();
    assert_eq!(again.status, FindingStatus::Confirmed);
    drop(store);

    // Without a batch directory, --store audits what the store holds: the same claims give the
    // same findings, so nothing is added.
    let out2 = root.0.join("f2.jsonl");
    let err = medfund(
        &data,
        &[
            "audit",
            "--store",
            "--no-kb",
            "--out",
            out2.to_str().unwrap(),
        ],
    );
    assert!(err.contains("findings stored for review"), "{err}");
    let ids = |p: &Path| {
        let mut v: Vec<String> = std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["finding_id"].to_string()
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(&out2), ids(&out));
    let mut store = Store::open(&data).unwrap();
    assert_eq!(store.count_findings(&all).unwrap(), lines);
    drop(store);

    // Months with nothing loaded: a clear error, nothing written.
    let fail = Command::new(BIN)
        .arg("--data")
        .arg(&data)
        .args(["audit", "--store", "--from", "1999-01", "--to", "1999-02"])
        .output()
        .unwrap();
    assert!(!fail.status.success());
    let err = String::from_utf8_lossy(&fail.stderr);
    assert!(err.contains("load a batch first"), "{err}");
    // Neither a batch nor --store: clap refuses.
    let none = Command::new(BIN)
        .arg("--data")
        .arg(&data)
        .arg("audit")
        .output()
        .unwrap();
    assert!(!none.status.success());
}
