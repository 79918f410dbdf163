//! Times the batch audit alone (the batch is read once, then audited several times):
//! `cargo run --release -p medfund-audit --example audit_timing -- BATCH_DIR [RUNS]`.
//! With `MEDFUND_AUDIT_TIMING=1` each run prints its phase times.
use medfund_audit::{audit, rules::RuleLibrary, AuditOptions};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: audit_timing BATCH_DIR [RUNS]"))?;
    let runs: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(3);
    let t = Instant::now();
    let ing = medfund_ingest::read_batch(std::path::Path::new(&dir), &Default::default())?;
    eprintln!(
        "read {} lines in {:.2}s",
        ing.batch.fee.len(),
        t.elapsed().as_secs_f64()
    );
    let lib = RuleLibrary::builtin();
    for _ in 0..runs {
        let t = Instant::now();
        let r = audit(&ing.batch, &lib, None, &AuditOptions::default());
        let s = t.elapsed().as_secs_f64();
        eprintln!(
            "audit: {} findings in {:.3}s = {:.0} lines/s",
            r.findings.len(),
            s,
            ing.batch.fee.len() as f64 / s
        );
    }
    Ok(())
}
