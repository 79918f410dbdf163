//! Command-line entry of this crate (wired into the `medfund` binary).
use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct KbArgs {}

pub fn run(_data: &Path, _args: &KbArgs) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
