//! Command-line entry of this crate (wired into the `medfund` binary).
use std::path::Path;

/// `medfund settle`.
#[derive(Debug, clap::Args)]
pub struct SettleArgs {}

/// Runs `medfund settle`.
pub fn run(_data: &Path, _args: &SettleArgs) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
