//! Converts a CSV batch to Parquet: the claim tables become `<table>.parquet` in the store's
//! schema, the reference tables are copied as they are. Used for the load benchmark from Parquet
//! (docs/store.md).
//!
//! `cargo run --release -p medfund-store --example parquet_batch -- IN_DIR OUT_DIR`

use medfund_contract::schema::Table;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [input, out] = args.as_slice() else {
        anyhow::bail!("用法 / usage: parquet_batch IN_DIR OUT_DIR");
    };
    let ing = medfund_ingest::read_batch(input, &medfund_ingest::Options::default())?;
    anyhow::ensure!(
        ing.quarantine.is_empty(),
        "the input batch has quarantined rows; convert a clean batch"
    );
    std::fs::create_dir_all(out)?;
    for t in Table::ALL {
        if t.is_claim() {
            let bytes = medfund_store::export_parquet(
                &ing.batch,
                t,
                &out.join(format!("{}.parquet", t.name())),
            )?;
            eprintln!("{}.parquet: {bytes} bytes", t.name());
        } else {
            let src = input.join(format!("{}.csv", t.name()));
            if src.exists() {
                std::fs::copy(&src, out.join(format!("{}.csv", t.name())))?;
            }
        }
    }
    Ok(())
}
