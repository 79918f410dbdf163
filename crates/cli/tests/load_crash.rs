//! A `medfund load` killed with SIGKILL in the middle leaves the store exactly as it was before
//! that load, and a re-run then loads everything.
//!
//! The binary has a test hook, `MEDFUND_TEST_PAUSE_AT=<step>`: at that step it prints
//! `MEDFUND_TEST_PAUSED <step>` on stderr and waits, so the kill lands at a known point:
//! `files` (Parquet and index files written under temporary names), `renamed` (files at their
//! final names, not yet listed in the manifest), `sql` (inside the open SQL transaction).
//! One more case kills at the first temporary file seen on disk, without the hook.

use medfund_contract::schema::Table;
use medfund_store::{ClaimFilter, Store};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_medfund");

struct TempDir(PathBuf);
impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("medfund-crash-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes a batch of `visits` visits (`lines` fee lines each) in months `month0..`, with the
/// persons and institutions they reference. Visit ids start at `first`.
fn synth(dir: &Path, first: usize, visits: usize, lines: usize, month0: u32) {
    std::fs::create_dir_all(dir).unwrap();
    let fix = ["H11010100001", "H11010200002", "H11010300003"];
    let mut f = String::from("fixmedins_code,fixmedins_name,fixmedins_type,hosp_lv,admdvs\n");
    for (i, c) in fix.iter().enumerate() {
        f.push_str(&format!("{c},医院{i},1,{},110101\n", i + 1));
    }
    std::fs::write(dir.join("fixmedins.csv"), f).unwrap();
    let mut psn = String::from("psn_no,gend,brdy,insutype\n");
    for p in 0..500 {
        psn.push_str(&format!(
            "{:08},{},19{:02}-03-04,310\n",
            p,
            1 + p % 2,
            40 + p % 50
        ));
    }
    std::fs::write(dir.join("psn.csv"), psn).unwrap();
    let mut m = String::from("mdtrt_id,psn_no,fixmedins_code,med_type,begntime,diag_code\n");
    let mut s =
        String::from("setl_id,mdtrt_id,psn_no,fixmedins_code,setl_time,medfee_sumamt,hifp_pay\n");
    let mut fee = String::from(
        "feedetl_sn,mdtrt_id,setl_id,psn_no,fixmedins_code,fee_ocur_time,med_list_codg,cnt,pric,det_item_fee_sumamt\n",
    );
    for v in first..first + visits {
        let month = month0 + (v % 3) as u32;
        let day = 1 + v % 28;
        let (p, h) = (v % 500, fix[v % 3]);
        m.push_str(&format!(
            "V{v},{p:08},{h},11,2024-{month:02}-{day:02} 08:00:00,E11.900\n"
        ));
        let mut total = 0i64;
        for l in 0..lines {
            let cents = 100 + ((v * 7 + l * 13) % 5000) as i64;
            total += cents * 2;
            fee.push_str(&format!(
                "{l},V{v},S{v},{p:08},{h},2024-{month:02}-{day:02} 09:{:02}:00,003105050010000,2,{}.{:02},{}.{:02}\n",
                l % 60,
                cents / 100,
                cents % 100,
                cents * 2 / 100,
                cents * 2 % 100
            ));
        }
        s.push_str(&format!(
            "S{v},V{v},{p:08},{h},2024-{month:02}-{day:02} 18:00:00,{}.{:02},{}.{:02}\n",
            total / 100,
            total % 100,
            total * 7 / 10 / 100,
            total * 7 / 10 % 100
        ));
    }
    std::fs::write(dir.join("mdtrt.csv"), m).unwrap();
    std::fs::write(dir.join("setl.csv"), s).unwrap();
    std::fs::write(dir.join("fee.csv"), fee).unwrap();
}

/// Everything observable about a store: files on disk, manifest, history, row counts.
#[derive(Debug, PartialEq)]
struct Snapshot {
    files: Vec<String>,
    manifest: Vec<(String, i64, u64)>,
    loads: Vec<(i64, u64)>,
    rows: (usize, usize, usize, usize),
    quarantine_rows: usize,
}

fn disk_files(data: &Path) -> Vec<String> {
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

fn snapshot(data: &Path) -> Snapshot {
    // Opening the store is what sweeps a crashed load's files; take the file list after it.
    let mut store = Store::open_with(data, None).unwrap();
    let mut manifest = Vec::new();
    for t in [Table::Mdtrt, Table::Setl, Table::Fee] {
        for f in store.claim_file_list(t).unwrap() {
            manifest.push((f.path.display().to_string(), f.load_id, f.rows));
        }
    }
    let loads = store
        .load_runs()
        .unwrap()
        .iter()
        .map(|r| (r.id, r.rows_loaded))
        .collect();
    let b = store.read_claims(&ClaimFilter::all()).unwrap();
    let quarantine_rows = store
        .db()
        .query_one("SELECT COUNT(*) FROM quarantine", &[])
        .unwrap()
        .int(0) as usize;
    Snapshot {
        files: disk_files(data),
        manifest,
        loads,
        rows: (b.psn.len(), b.mdtrt.len(), b.setl.len(), b.fee.len()),
        quarantine_rows,
    }
}

fn load_cmd(data: &Path, batch: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--data")
        .arg(data)
        .arg("load")
        .arg(batch)
        .env_remove("MEDFUND_DB_URL")
        .env_remove("MEDFUND_TEST_PAUSE_AT");
    c
}

fn load_ok(data: &Path, batch: &Path) -> String {
    let out = load_cmd(data, batch).output().unwrap();
    assert!(
        out.status.success(),
        "load failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Starts a load that pauses at `step`, waits for the announcement, and SIGKILLs it.
fn kill_at(data: &Path, batch: &Path, step: &str) {
    let mut child = load_cmd(data, batch)
        .env("MEDFUND_TEST_PAUSE_AT", step)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("MEDFUND_TEST_PAUSED") {
                let _ = tx.send(line);
                return;
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(120));
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    let line = line.unwrap_or_else(|_| panic!("the load never reached step {step}"));
    assert_eq!(line.trim(), format!("MEDFUND_TEST_PAUSED {step}"));
    assert!(!status.success());
}

#[test]
fn a_killed_load_leaves_the_store_as_before() {
    let tmp = TempDir::new("hook");
    let data = tmp.0.join("data");
    let (a, b) = (tmp.0.join("a"), tmp.0.join("b"));
    synth(&a, 0, 300, 4, 1);
    synth(&b, 300, 20_000, 10, 3);

    let out = load_ok(&data, &a);
    assert!(out.contains("fee"), "{out}");
    let before = snapshot(&data);
    assert_eq!(before.rows, (500, 300, 300, 1200));
    assert_eq!(before.loads.len(), 1);

    for step in ["files", "renamed", "sql"] {
        kill_at(&data, &b, step);
        if step == "renamed" {
            // The dead load left complete files that no manifest row lists…
            assert!(
                disk_files(&data).len() > before.files.len(),
                "files of the killed load are on disk"
            );
        }
        // …and opening the store shows exactly the state before the load.
        assert_eq!(snapshot(&data), before, "after a kill at {step}");
    }

    // The same batch then loads fully, once.
    let out = load_ok(&data, &b);
    assert!(
        out.contains("加载批次 #2"),
        "the killed loads left no history: {out}"
    );
    let after = snapshot(&data);
    assert_eq!(after.rows, (500, 20_300, 20_300, 201_200));
    assert_eq!(
        after.loads,
        vec![(1, before.loads[0].1), (2, 20_000 + 20_000 + 200_000)]
    );
    assert_eq!(after.quarantine_rows, 0);
    load_ok(&data, &b);
    assert_eq!(
        snapshot(&data).rows,
        after.rows,
        "a third run changes nothing"
    );
}

#[test]
fn a_load_killed_at_its_first_file_leaves_no_trace() {
    let tmp = TempDir::new("race");
    let data = tmp.0.join("data");
    let (a, b) = (tmp.0.join("a"), tmp.0.join("b"));
    synth(&a, 0, 50, 2, 1);
    synth(&b, 50, 20_000, 10, 3);
    load_ok(&data, &a);
    let before = snapshot(&data);

    let mut child = load_cmd(&data, &b)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut killed = false;
    while start.elapsed() < Duration::from_secs(120) {
        if disk_files(&data).iter().any(|f| f.ends_with(".tmp")) {
            child.kill().unwrap();
            killed = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let status = child.wait().unwrap();
    eprintln!("killed at the first temporary file: {killed}");
    if killed {
        assert!(!status.success());
        assert_eq!(snapshot(&data), before);
    } else {
        // The machine was faster than the poll: then the load must be complete, not partial.
        assert!(status.success());
        assert_eq!(snapshot(&data).rows.3, 100 + 200_000);
    }
}
