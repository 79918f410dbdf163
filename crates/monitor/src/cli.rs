//! Command-line entry of this crate (wired into the `medfund` binary).
use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct MonitorArgs {}

pub fn run(_data: &Path, _args: &MonitorArgs) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
