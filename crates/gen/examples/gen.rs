//! Runs the generator without the full `medfund` binary:
//! `cargo run --release -p medfund-gen --example gen -- OUT_DIR --persons 200000`.
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: medfund_gen::cli::GenArgs,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    medfund_gen::cli::run(std::path::Path::new("."), &cli.args)
}
