//! `medfund demo`: the main job on the embedded default.
use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

pub fn run(_data: &Path, _args: &DemoArgs) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
