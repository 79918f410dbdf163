//! Times the shipped risk models over a store (figures go to docs/monitoring.md).
//!
//! ```text
//! cargo run --release -p medfund-models --example bench_models -- DATA_DIR [MODELS_DIR]
//! ```

use std::path::PathBuf;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let data = PathBuf::from(
        args.next()
            .ok_or_else(|| anyhow::anyhow!("usage: bench_models DATA_DIR [MODELS_DIR]"))?,
    );
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(medfund_models::default_models_dir);
    let models = medfund_models::load_models(&dir)?;
    let t = Instant::now();
    let src = medfund_models::Sources::from_store(&data)?.with_csv_dir(&dir)?;
    println!(
        "reference tables and file lists: {:.2}s",
        t.elapsed().as_secs_f64()
    );
    for m in &models {
        let t = Instant::now();
        let f = medfund_models::run_all(&src, std::slice::from_ref(m))?;
        println!(
            "{}: {} findings in {:.2}s",
            m.id,
            f.len(),
            t.elapsed().as_secs_f64()
        );
    }
    let t = Instant::now();
    let f = medfund_models::run_all(&src, &models)?;
    println!(
        "all {} models: {} findings in {:.2}s",
        models.len(),
        f.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
