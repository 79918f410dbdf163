//! Throughput of the CSV path on a synthetic batch (ignored by default; run with
//! `MEDFUND_BENCH_LINES=10000000 cargo test --release -p medfund-ingest --test bench -- --ignored --nocapture`).
//!
//! The batch has one fee line per ~140 bytes, 10 lines per visit and settlement, so every
//! reference resolves, as in a real month.

use medfund_ingest::{read_batch, Options};
use std::io::{BufWriter, Write};
use std::time::Instant;

fn write_batch(dir: &std::path::Path, lines: u64) -> u64 {
    let visits = lines.div_ceil(10);
    let persons = (visits / 5).max(1);
    let mut w = BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(dir.join("fixmedins.csv")).unwrap(),
    );
    writeln!(
        w,
        "fixmedins_code,fixmedins_name,fixmedins_type,hosp_lv,admdvs"
    )
    .unwrap();
    for h in 0..50 {
        writeln!(w, "H110101{h:05},医院{h},1,2,110101").unwrap();
    }
    drop(w);
    let mut w =
        BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join("psn.csv")).unwrap());
    writeln!(w, "psn_no,gend,brdy,insutype,insuplc_admdvs").unwrap();
    for p in 0..persons {
        writeln!(
            w,
            "P{p:09},{},1980-01-{:02},310,110101",
            1 + p % 2,
            1 + p % 28
        )
        .unwrap();
    }
    drop(w);
    let mut m = BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(dir.join("mdtrt.csv")).unwrap(),
    );
    let mut s = BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(dir.join("setl.csv")).unwrap(),
    );
    writeln!(
        m,
        "mdtrt_id,psn_no,fixmedins_code,med_type,begntime,endtime,diag_code"
    )
    .unwrap();
    writeln!(
        s,
        "setl_id,mdtrt_id,psn_no,fixmedins_code,setl_time,medfee_sumamt,hifp_pay"
    )
    .unwrap();
    for v in 0..visits {
        let (p, h) = (v % persons, v % 50);
        writeln!(
            m,
            "M{v:010},P{p:09},H110101{h:05},11,2024-03-01 08:00:00,,E11.900"
        )
        .unwrap();
        writeln!(
            s,
            "S{v:010},M{v:010},P{p:09},H110101{h:05},2024-03-01 10:00:00,100.00,70.00"
        )
        .unwrap();
    }
    drop((m, s));
    let mut f =
        BufWriter::with_capacity(1 << 22, std::fs::File::create(dir.join("fee.csv")).unwrap());
    writeln!(f, "feedetl_sn,mdtrt_id,setl_id,psn_no,fixmedins_code,fee_ocur_time,med_list_codg,cnt,pric,det_item_fee_sumamt,bilg_dr_codg,hi_rxno,drug_trac_codg").unwrap();
    for i in 0..lines {
        let v = i / 10;
        let (p, h) = (v % persons, v % 50);
        let cnt = 1 + i % 3;
        let pric_fen = 100 + (i * 37) % 9000;
        writeln!(
            f,
            "{:04},M{v:010},S{v:010},P{p:09},H110101{h:05},2024-03-01 09:{:02}:00,XL02BBA326A0010101021{:02},{cnt},{}.{:02}0000,{}.{:02},D110101000123,,",
            i % 10,
            i % 60,
            i % 100,
            pric_fen / 100,
            pric_fen % 100,
            cnt * pric_fen / 100,
            cnt * pric_fen % 100
        )
        .unwrap();
    }
    f.flush().unwrap();
    std::fs::metadata(dir.join("fee.csv")).unwrap().len()
}

/// CPU seconds (user + system) this process has used so far, from /proc/self/stat (Linux), so
/// the figures can be read even when other processes share the cores.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

#[test]
#[ignore]
fn fee_csv_throughput() {
    let lines: u64 = std::env::var("MEDFUND_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    // MEDFUND_BENCH_REUSE=DIR keeps the generated batch in DIR across runs (for profiling).
    let tmp;
    let dir: &std::path::Path = match std::env::var_os("MEDFUND_BENCH_REUSE") {
        Some(d) => {
            std::fs::create_dir_all(&d).unwrap();
            Box::leak(std::path::PathBuf::from(d).into_boxed_path())
        }
        None => {
            tmp = tempfile::tempdir_in(
                std::env::var("MEDFUND_BENCH_DIR").unwrap_or_else(|_| "/tmp".into()),
            )
            .unwrap();
            tmp.path()
        }
    };
    let t = Instant::now();
    let bytes = match std::fs::metadata(dir.join("fee.csv")) {
        Ok(m) if std::env::var_os("MEDFUND_BENCH_REUSE").is_some() => m.len(),
        _ => write_batch(dir, lines),
    };
    eprintln!(
        "batch of {lines} fee lines ({:.0} MB) ready in {:.1}s",
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    for threads in [0, 1] {
        let (t, cpu) = (Instant::now(), cpu_secs());
        let ing = read_batch(
            dir,
            &Options {
                threads,
                ..Options::default()
            },
        )
        .unwrap();
        let secs = t.elapsed().as_secs_f64();
        let cpu = cpu_secs() - cpu;
        assert_eq!(
            ing.batch.fee.len() as u64,
            lines,
            "{:?}",
            ing.quarantine.first()
        );
        assert_eq!(ing.quarantine.len(), 0);
        let all: u64 = ing.stats.values().map(|s| s.read).sum();
        eprintln!(
            "threads={threads}: whole batch ({all} records) in {secs:.2}s wall, {cpu:.2}s CPU; fee.csv {:.0} MB/s, {:.2} M lines/s; {:.0} MB per CPU-second",
            bytes as f64 / 1e6 / secs,
            lines as f64 / 1e6 / secs,
            bytes as f64 / 1e6 / cpu
        );
    }
    let (t, cpu) = (Instant::now(), cpu_secs());
    let fee_only = medfund_ingest::read_table_file(
        &dir.join("fee.csv"),
        medfund_contract::schema::Table::Fee,
        &Options::default(),
    )
    .unwrap();
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu;
    eprintln!(
        "fee.csv alone (no reference checks): {secs:.2}s wall, {cpu:.2}s CPU, {:.0} MB/s, {:.2} M lines/s; {:.0} MB per CPU-second",
        bytes as f64 / 1e6 / secs,
        fee_only.batch.fee.len() as f64 / 1e6 / secs,
        bytes as f64 / 1e6 / cpu
    );
}
