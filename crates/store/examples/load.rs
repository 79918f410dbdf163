//! `medfund load` on its own: the same code path (`medfund_store::cli::run`) without building
//! the whole `medfund` binary. Used for the load benchmarks in docs/store.md.
//!
//! `cargo run --release -p medfund-store --example load -- --data DIR BATCH_DIR [--json]`

use clap::Parser;
use std::path::PathBuf;

/// medfund load
#[derive(Debug, Parser)]
struct Cli {
    /// 数据目录 / data directory
    #[arg(long, env = "MEDFUND_DATA", default_value = "./medfund-data")]
    data: PathBuf,
    #[command(flatten)]
    load: medfund_store::cli::LoadArgs,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    medfund_store::cli::run(&cli.data, &cli.load)
}
