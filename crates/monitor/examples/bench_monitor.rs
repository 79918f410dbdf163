//! Benchmark of the monthly report on a generated city (figures go to docs/benchmarks.md).
//!
//! ```text
//! cargo run --release -p medfund-monitor --example bench_monitor -- [PERSONS] [WORK_DIR (default /tmp/medfund-monitor-bench)]
//! ```
//! Generates the city (once), loads it into a store (once), then times `medfund monitor` for
//! December (reading the needed months from the store) and the pure report over the whole year
//! held in memory.

use medfund_contract::YearMonth;
use medfund_monitor::cli::{run, MonitorArgs};
use medfund_monitor::{monthly_report, MonitorInput, Policy};
use std::path::PathBuf;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let persons: u64 = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(400_000);
    let work = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "/tmp/medfund-monitor-bench".into()),
    );
    let city = work.join(format!("city-{persons}"));
    let data = work.join(format!("data-{persons}"));
    if !city.join("manifest_summary.json").exists() {
        let t = Instant::now();
        let s = medfund_gen::generate(
            &city,
            &medfund_gen::GenConfig {
                persons,
                seed: 42,
                year: 2025,
                threads: None,
                progress: false,
            },
        )?;
        eprintln!(
            "generated {} fee lines in {:.1}s",
            s.fee_lines,
            t.elapsed().as_secs_f64()
        );
    }
    if !data.exists() {
        let t = Instant::now();
        let mut store = medfund_store::Store::open(&data).map_err(|e| anyhow::anyhow!("{e}"))?;
        let r = store
            .load_batch(&city, &Default::default(), None)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        eprintln!(
            "loaded {} rows in {:.1}s",
            r.total().loaded,
            t.elapsed().as_secs_f64()
        );
    }
    let dec = YearMonth::parse("2025-12")?;
    for (label, json, xlsx) in [
        ("text", false, None),
        ("json+xlsx", true, Some(work.join("bench.xlsx"))),
    ] {
        let t = Instant::now();
        run(
            &data,
            &MonitorArgs {
                month: Some(dec.to_string()),
                json,
                xlsx,
                out: Some(work.join("bench.out")),
                batch: None,
                policy: None,
            },
        )?;
        println!(
            "medfund monitor --month 2025-12 ({label}) from the store: {:.2}s",
            t.elapsed().as_secs_f64()
        );
    }
    let mut store = medfund_store::Store::open(&data).map_err(|e| anyhow::anyhow!("{e}"))?;
    let t = Instant::now();
    let batch = store
        .read_claims(&medfund_store::ClaimFilter::all())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "read the whole year ({} fee lines) from the store: {:.2}s",
        batch.fee.len(),
        t.elapsed().as_secs_f64()
    );
    let input = MonitorInput::from_batch(&batch);
    let policy = Policy::default();
    let t = Instant::now();
    let r = monthly_report(&input, dec, &policy);
    println!(
        "monthly_report over the whole year in memory: {:.2}s ({} institutions, {} outliers)",
        t.elapsed().as_secs_f64(),
        r.institutions.len(),
        r.outliers.len()
    );
    let t = Instant::now();
    let year = medfund_monitor::Period {
        from: YearMonth::parse("2025-01")?,
        to: dec,
    };
    let f = medfund_monitor::provider_outliers(&input, year, &policy);
    println!(
        "provider_outliers over the year: {:.2}s ({} findings)",
        t.elapsed().as_secs_f64(),
        f.len()
    );
    Ok(())
}
