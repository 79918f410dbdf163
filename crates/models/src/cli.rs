//! `medfund models`: list the risk models of the rule library or run them over the store.

use crate::{load_models, models_dir_or_builtin, run_models};
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `medfund models`.
#[derive(Debug, clap::Args)]
pub struct ModelsArgs {
    /// 模型目录（默认 $MEDFUND_MODELS 或 ./rules/models，都没有时用内置模型） / the models directory (default: $MEDFUND_MODELS or ./rules/models, else the built-in models)
    #[arg(long, value_name = "DIR")]
    pub models_dir: Option<PathBuf>,
    /// 只列出模型，不运行 / list the models without running them
    #[arg(long)]
    pub list: bool,
    /// 发现写入此文件（JSON Lines），默认标准输出 / write findings (JSON Lines) to FILE
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `medfund models`.
pub fn run(data: &Path, args: &ModelsArgs) -> anyhow::Result<()> {
    let dir = match &args.models_dir {
        Some(d) => d.clone(),
        None => models_dir_or_builtin(data)?,
    };
    if args.list {
        for m in load_models(&dir)? {
            println!(
                "{}\t{}\t{}\t{}",
                m.id,
                m.category.code(),
                m.level.code(),
                m.name
            );
        }
        return Ok(());
    }
    let t0 = std::time::Instant::now();
    let findings = run_models(data, &dir)?;
    let mut text = String::new();
    for f in &findings {
        text.push_str(&serde_json::to_string(f)?);
        text.push('\n');
    }
    match &args.out {
        Some(p) => std::fs::write(p, text)
            .with_context(|| format!("无法写入 {} / cannot write", p.display()))?,
        None => {
            if let Err(e) = std::io::stdout().lock().write_all(text.as_bytes()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(e.into());
                }
            }
        }
    }
    eprintln!(
        "风险模型：{} 条发现，用时 {:.2}s / {} findings in {:.2}s",
        findings.len(),
        t0.elapsed().as_secs_f64(),
        findings.len(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
