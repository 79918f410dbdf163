//! `medfund gen OUT_DIR --persons N --seed S --year Y`: writes the synthetic demo city.
use std::path::{Path, PathBuf};

/// 生成演示城市数据 / generate a synthetic demo city in the contract layout.
#[derive(Debug, clap::Args)]
pub struct GenArgs {
    /// 输出目录 / output directory (one CSV per table + manifest.jsonl + manifest_summary.json)
    pub out: PathBuf,
    /// 参保人数 / number of insured persons
    #[arg(long, default_value_t = 20_000)]
    pub persons: u64,
    /// 随机种子（相同种子输出完全一致） / random seed (same seed, byte-identical output)
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// 就诊年份 / year of the visits
    #[arg(long, default_value_t = 2025)]
    pub year: i32,
    /// 线程数（不影响输出） / worker threads (does not change the output)
    #[arg(long)]
    pub threads: Option<usize>,
    /// 不显示进度条 / no progress bar
    #[arg(long)]
    pub quiet: bool,
}

/// Runs the generator (the data directory is not used: the city goes to `OUT_DIR`).
pub fn run(_data: &Path, args: &GenArgs) -> anyhow::Result<()> {
    let cfg = crate::GenConfig {
        persons: args.persons,
        seed: args.seed,
        year: args.year,
        threads: args.threads,
        progress: !args.quiet && args.persons >= 50_000,
    };
    let s = crate::generate(&args.out, &cfg)?;
    let planted: u64 = s.violations.values().sum();
    let clean: u64 = s.clean_cases.values().sum();
    eprintln!(
        "已生成 {} 人 / wrote {} persons to {}: {} fee lines, {} visits, {planted} planted violations ({} categories), {clean} clean boundary cases",
        args.persons,
        args.persons,
        s.out.display(),
        s.fee_lines,
        s.rows.get("mdtrt").copied().unwrap_or(0),
        s.violations.values().filter(|&&n| n > 0).count(),
    );
    eprintln!("{:.2} s, {:.0} fee lines/s", s.seconds, s.lines_per_sec);
    Ok(())
}
