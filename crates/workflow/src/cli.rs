//! Command-line entry of this crate (wired into the `medfund` binary, flattened at top level).
use std::path::Path;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// 审计日志 / audit log
    Auditlog {},
}

/// Runs a workflow command.
pub fn run(_data: &Path, _cmd: &Command) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
