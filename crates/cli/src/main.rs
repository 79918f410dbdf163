//! `medfund`: the command line of the medical insurance fund supervision platform.
//!
//! Each subcommand belongs to the crate that owns the capability; this file only wires them.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

mod demo;

/// medfund 医保基金智能监管平台 — medical insurance fund supervision.
#[derive(Debug, Parser)]
#[command(name = "medfund", version, about, long_about = None)]
struct Cli {
    /// 数据目录 / data directory (SQLite store + Parquet claim files)
    #[arg(
        long,
        global = true,
        env = "MEDFUND_DATA",
        default_value = "./medfund-data"
    )]
    data: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// 生成演示城市数据 / generate a synthetic demo city in the contract layout
    Gen(medfund_gen::cli::GenArgs),
    /// 加载批次数据（校验、隔离） / load a batch into the store (validate, quarantine)
    Load(medfund_store::cli::LoadArgs),
    /// 智能审核 / run the audit rules over a batch or the store
    Audit(medfund_audit::cli::AuditArgs),
    /// 规则库 / list and check the rule library
    Rules(medfund_audit::cli::RulesArgs),
    /// 国家知识库导入 / import the national knowledge-point batches
    Kb(medfund_kb::cli::KbArgs),
    /// 监测指标与基金分析 / monitoring indicators, risk models and fund analysis
    Monitor(medfund_monitor::cli::MonitorArgs),
    /// 大数据风险模型（SQL，DataFusion） / big-data risk models as SQL on DataFusion
    Models(medfund_models::cli::ModelsArgs),
    /// 支付结算（总额控制、DRG/DIP） / payment settlement
    Settle(medfund_settle::cli::SettleArgs),
    /// 启动 Web 服务 / serve the web UI and the API
    Serve(medfund_server::cli::ServeArgs),
    /// 一键演示 / generate, load, audit, report and serve a demo city
    Demo(demo::DemoArgs),
    #[command(flatten)]
    Workflow(medfund_workflow::cli::Command),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let data = cli.data.as_path();
    match &cli.command {
        Command::Gen(a) => medfund_gen::cli::run(data, a),
        Command::Load(a) => medfund_store::cli::run(data, a),
        Command::Audit(a) => medfund_audit::cli::run(data, a),
        Command::Rules(a) => medfund_audit::cli::run_rules(data, a),
        Command::Kb(a) => medfund_kb::cli::run(data, a),
        Command::Monitor(a) => medfund_monitor::cli::run(data, a),
        Command::Models(a) => medfund_models::cli::run(data, a),
        Command::Settle(a) => medfund_settle::cli::run(data, a),
        Command::Serve(a) => medfund_server::cli::run(data, a),
        Command::Demo(a) => demo::run(data, a),
        Command::Workflow(c) => medfund_workflow::cli::run(data, c),
    }
}
