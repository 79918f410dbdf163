//! Command-line entry of this crate (wired into the `medfund` binary):
//! `medfund audit [BATCH_DIR] [--out F] [--format jsonl|csv|parquet] [--rules DIR] [--kb FILE|--no-kb]
//! [--store [--from YYYY-MM] [--to YYYY-MM]]`
//! and `medfund rules list|check [--rules DIR]`.

use crate::output::{self, Format};
use crate::rules::{RuleLibrary, Stage};
use crate::{audit_keyed, audit_lines, AuditOptions, AuditStats, Policy};
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// 智能审核 / run the audit rules over a batch directory.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// 批次目录（合同格式的表文件）；省略时须给 --store，审核库中已加载的数据 / batch directory
    /// in the contract layout; without it, --store audits the claims already loaded in the store
    #[arg(required_unless_present = "store")]
    pub batch: Option<PathBuf>,
    /// 输出文件（省略则写到标准输出） / output file (stdout when omitted)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// 输出格式 / output format
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: Format,
    /// 规则库目录（省略则用内置默认规则库） / rule library directory (default: the embedded one)
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// 国家知识库文件（medfund kb 导出的 JSON） / national knowledge base file (JSON)
    #[arg(long, conflicts_with = "no_kb")]
    pub kb: Option<PathBuf>,
    /// 不使用国家知识库（只用批次的 catalog 表） / use only the batch catalog
    #[arg(long)]
    pub no_kb: bool,
    /// 审核阶段 / stage whose rules run
    #[arg(long, value_enum, default_value = "after")]
    pub stage: StageArg,
    /// 工作线程数（0 = 全部核心） / worker threads (0 = all cores)
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// 疑点存入数据目录的库，进入审核流程（重复审核不会重复登记，已有的审核结论保留）；不给批次
    /// 目录时审核库中已加载的数据 / save the findings in the data directory's store for review
    /// (re-auditing adds no duplicates and keeps review decisions); without BATCH_DIR, audit the
    /// claims already loaded in the store
    #[arg(long)]
    pub store: bool,
    /// 只审核库中自此月份起的数据（YYYY-MM，与 --store 同用） / first month of the stored claims
    /// to audit (with --store and no BATCH_DIR)
    #[arg(
        long,
        value_name = "YYYY-MM",
        requires = "store",
        conflicts_with = "batch"
    )]
    pub from: Option<String>,
    /// 只审核库中至此月份止的数据（YYYY-MM） / last month of the stored claims to audit
    #[arg(
        long,
        value_name = "YYYY-MM",
        requires = "store",
        conflicts_with = "batch"
    )]
    pub to: Option<String>,
}

/// Stage names on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StageArg {
    Before,
    During,
    After,
}

impl From<StageArg> for Stage {
    fn from(s: StageArg) -> Stage {
        match s {
            StageArg::Before => Stage::Before,
            StageArg::During => Stage::During,
            StageArg::After => Stage::After,
        }
    }
}

/// Reads the rule library: `--rules DIR`, else the policy's `rules_dir`, else the embedded one.
pub fn load_rules(dir: Option<&Path>, policy: &Policy) -> anyhow::Result<RuleLibrary> {
    match dir.or(policy.rules_dir.as_deref()) {
        Some(d) => RuleLibrary::load_dir(d).map_err(|e| {
            anyhow::anyhow!(
                "{e}请修正后用 `medfund rules check --rules {}` 复查 / fix and re-check",
                d.display()
            )
        }),
        None => Ok(RuleLibrary::builtin()),
    }
}

/// Reads the knowledge base: `--kb FILE`, else the data directory's current one, unless `--no-kb`.
pub fn load_kb(
    data: &Path,
    file: Option<&Path>,
    no_kb: bool,
) -> anyhow::Result<Option<medfund_kb::KnowledgeBase>> {
    if no_kb {
        return Ok(None);
    }
    if let Some(f) = file {
        let text = std::fs::read_to_string(f).with_context(|| {
            format!(
                "无法读取知识库文件 {} / cannot read the knowledge base file",
                f.display()
            )
        })?;
        let kb: medfund_kb::KnowledgeBase = serde_json::from_str(&text).with_context(|| {
            format!(
                "知识库文件 {} 不是 medfund kb 的 JSON 格式 / not a medfund knowledge base JSON",
                f.display()
            )
        })?;
        return Ok(Some(kb));
    }
    Ok(medfund_kb::store::load_current(data))
}

/// `medfund audit`.
pub fn run(data: &Path, args: &AuditArgs) -> anyhow::Result<()> {
    let policy = Policy::load()?;
    let lib = load_rules(args.rules.as_deref(), &policy)?;
    let kb = load_kb(data, args.kb.as_deref(), args.no_kb)?;
    let kb_policy = medfund_kb::KbPolicy::load()?;
    if args.threads > 0 {
        // Only the first call configures the global pool; later calls keep it.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(args.threads)
            .build_global();
    }
    let t0 = Instant::now();
    let started_at = local_now();
    let (mut ing, source) = match &args.batch {
        Some(dir) => {
            let opts = medfund_ingest::Options {
                threads: args.threads,
                digests: false,
                // Only the audit reads the lines: hold them compactly (a third of the memory).
                compact_fee: true,
                ..Default::default()
            };
            let ing = medfund_ingest::read_batch(dir, &opts).with_context(|| {
                format!("无法读取批次 {} / cannot read the batch", dir.display())
            })?;
            (ing, dir.display().to_string())
        }
        None => read_store(data, args.from.as_deref(), args.to.as_deref())?,
    };
    // The points ledger's suspensions and terminations count as much as the imported
    // pract_susp table (DOMAIN §7): merge them when the data directory holds a store.
    let ledger = ledger_suspensions(data)?;
    if !ledger.is_empty() {
        eprintln!(
            "已合并记分台账中的暂停/终止资格 {} 条 / merged {} suspensions from the points ledger",
            ledger.len(),
            ledger.len()
        );
        ing.batch.pract_susp.extend(ledger);
    }
    let t_read = t0.elapsed();
    if ing.quarantined() > 0 {
        eprintln!(
            "注意：{} 行不符合数据合同已隔离，未参与审核（用 medfund load 查看隔离报告） / {} rows quarantined",
            ing.quarantined(),
            ing.quarantined()
        );
    }
    // Ingestion's key indexes, when it built them (not for claims read from the store).
    let keys = args.batch.is_some().then_some(&ing.keys);
    let opts = AuditOptions {
        stage: args.stage.into(),
        policy,
        kb_policy,
    };
    let res = match &ing.fee_lines {
        Some(lines) => audit_lines(&ing.batch, lines, keys, &lib, kb.as_ref(), &opts),
        None => audit_keyed(&ing.batch, keys, &lib, kb.as_ref(), &opts),
    };
    let t1 = Instant::now();
    match &args.out {
        Some(p) => {
            let f = std::fs::File::create(p)
                .with_context(|| format!("无法创建输出文件 {} / cannot create", p.display()))?;
            output::write(
                std::io::BufWriter::with_capacity(1 << 20, f),
                args.format,
                &res.findings,
            )?;
        }
        None => {
            let stdout = std::io::stdout();
            output::write(
                std::io::BufWriter::new(stdout.lock()),
                args.format,
                &res.findings,
            )?;
        }
    }
    let t_write = t1.elapsed();
    summary(&res.stats, &lib, t_read, t_write, t0.elapsed());
    if args.store {
        let run = medfund_store::AuditRunInfo {
            source,
            started_at,
            finished_at: local_now(),
            rules: Some(format!("{} ({})", lib.version, lib.origin)),
            note: Some(format!(
                "medfund audit; 知识库 / kb: {}",
                res.stats.kb_version.as_deref().unwrap_or("none")
            )),
        };
        let mut store = medfund_store::Store::open(data).map_err(|e| {
            anyhow::anyhow!(
                "{e}。无法打开数据目录 {} 的库以保存疑点 / cannot open the store to save the findings",
                data.display()
            )
        })?;
        let id = store
            .save_findings(&run, &res.findings)
            .map_err(|e| anyhow::anyhow!("{e}。疑点未入库 / the findings were not stored"))?;
        eprintln!(
            "疑点已入库待审：{} 条（审核批次 #{id}） / {} findings stored for review (audit run #{id})",
            res.findings.len(),
            res.findings.len()
        );
    }
    // The process ends here: freeing millions of records one by one would only delay the exit
    // (half a second for ten million fee lines); the OS takes the memory back at once.
    std::mem::forget(res);
    std::mem::forget(ing);
    Ok(())
}

/// The claims already loaded in the store (months `from..=to`, every month when open), as a
/// batch with every reference table.
fn read_store(
    data: &Path,
    from: Option<&str>,
    to: Option<&str>,
) -> anyhow::Result<(medfund_ingest::Ingested, String)> {
    let month = |m: Option<&str>| -> anyhow::Result<Option<medfund_contract::YearMonth>> {
        m.map(|m| {
            medfund_contract::YearMonth::parse(m).map_err(|e| {
                anyhow::anyhow!("月份 {m} 无法识别（应为 YYYY-MM）/ month {m} not understood: {e}")
            })
        })
        .transpose()
    };
    let filter = medfund_store::ClaimFilter {
        from: month(from)?,
        to: month(to)?,
        tables: Vec::new(),
    };
    let mut store = medfund_store::Store::open(data).map_err(|e| {
        anyhow::anyhow!(
            "{e}。无法打开数据目录 {} 的库 / cannot open the store",
            data.display()
        )
    })?;
    let batch = store
        .read_claims(&filter)
        .map_err(|e| anyhow::anyhow!("{e}。无法读取库中的数据 / cannot read the stored claims"))?;
    anyhow::ensure!(
        !batch.fee.is_empty(),
        "库中{}没有费用明细，请先用 medfund load 加载批次 / the store holds no fee lines{}; load a batch first",
        if from.is_some() || to.is_some() { "所选月份" } else { "" },
        if from.is_some() || to.is_some() { " in those months" } else { "" }
    );
    let source = format!("store {}..{}", from.unwrap_or("*"), to.unwrap_or("*"));
    Ok((
        medfund_ingest::Ingested {
            batch,
            ..Default::default()
        },
        source,
    ))
}

fn local_now() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

fn summary(
    s: &AuditStats,
    lib: &RuleLibrary,
    read: std::time::Duration,
    write: std::time::Duration,
    total: std::time::Duration,
) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(
        e,
        "审核完成 / audit done: {} 人, {} 次就诊, {} 行费用明细; 规则库 {} ({}) 启用 {} 条; 知识库 {}",
        s.persons,
        s.visits,
        s.lines,
        lib.version,
        lib.origin,
        s.rules,
        s.kb_version.as_deref().unwrap_or("未使用 / none")
    );
    if s.uncatalogued_lines > 0 {
        let _ = writeln!(
            e,
            "  目录未收录编码的明细 / lines with codes not in the catalog: {}",
            s.uncatalogued_lines
        );
    }
    let _ = writeln!(
        e,
        "  {:<28} {:>10} {:>16}",
        "类别 category", "疑点数", "金额(元)"
    );
    for (c, cs) in &s.by_category {
        let _ = writeln!(
            e,
            "  {:<28} {:>10} {:>16}  {}",
            c.code(),
            cs.findings,
            cs.amount.to_string(),
            c.zh()
        );
    }
    let total_amt: medfund_contract::Fen = s.by_category.values().map(|c| c.amount).sum();
    let _ = writeln!(
        e,
        "  {:<28} {:>10} {:>16}",
        "合计 total",
        s.findings(),
        total_amt.to_string()
    );
    let _ = writeln!(
        e,
        "  读取 read {:.2}s, 审核 audit {:.2}s ({:.0} 行/秒 lines/s), 写出 write {:.2}s, 全程 total {:.2}s ({:.0} 行/秒)",
        read.as_secs_f64(),
        s.elapsed.as_secs_f64(),
        s.lines_per_second(),
        write.as_secs_f64(),
        total.as_secs_f64(),
        s.lines as f64 / total.as_secs_f64().max(1e-9)
    );
}

/// 规则库 / list and check the rule library.
#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: RulesCommand,
}

/// `medfund rules` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum RulesCommand {
    /// 列出规则 / list the rules
    List {
        /// 规则库目录（省略则用内置默认规则库） / rule library directory
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// 校验规则库，报告错误所在文件和行 / validate the library, report errors with file and line
    Check {
        /// 规则库目录（省略则用内置默认规则库） / rule library directory
        #[arg(long)]
        rules: Option<PathBuf>,
    },
}

/// `medfund rules`.
pub fn run_rules(_data: &Path, args: &RulesArgs) -> anyhow::Result<()> {
    let policy = Policy::load()?;
    match &args.command {
        RulesCommand::List { rules } => {
            let lib = load_rules(rules.as_deref(), &policy)?;
            let mut o = std::io::stdout().lock();
            writeln!(
                o,
                "规则库 / rule library {} ({}), {} 条规则",
                lib.version,
                lib.origin,
                lib.rules.len()
            )?;
            writeln!(
                o,
                "{:<36} {:<4} {:<26} {:<20} {:<9} {:<3} {:<18} {:<6} 名称",
                "id", "ver", "category", "template", "result", "sev", "nhsa_rule_code", "on"
            )?;
            for r in &lib.rules {
                writeln!(
                    o,
                    "{:<36} {:<4} {:<26} {:<20} {:<9} {:<3} {:<18} {:<6} {}",
                    r.id,
                    r.version,
                    r.category.code(),
                    r.template.code(),
                    match r.result {
                        medfund_contract::Outcome::Suspect => "suspect",
                        medfund_contract::Outcome::Violation => "violation",
                    },
                    r.severity,
                    r.nhsa_rule_code.as_deref().unwrap_or("-"),
                    if r.enabled { "yes" } else { "no" },
                    r.name_zh
                )?;
            }
            Ok(())
        }
        RulesCommand::Check { rules } => {
            let lib = load_rules(rules.as_deref(), &policy)?;
            let enabled = lib.enabled().count();
            println!(
                "规则库校验通过 / rule library OK: {} 版本 {}，{} 条规则（启用 {}）",
                lib.origin,
                lib.version,
                lib.rules.len(),
                enabled
            );
            Ok(())
        }
    }
}

/// Suspensions and terminations decided in the workflow's points ledger, read from the data
/// directory's operational store (`MEDFUND_DB_URL` or `<data>/medfund.sqlite`); none when there
/// is no store.
fn ledger_suspensions(data: &Path) -> anyhow::Result<Vec<medfund_contract::PractSusp>> {
    let url = match std::env::var("MEDFUND_DB_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            let f = data.join("medfund.sqlite");
            if !f.exists() {
                return Ok(Vec::new());
            }
            f.display().to_string()
        }
    };
    let mut db = medfund_db::Db::open(&url).map_err(|e| anyhow::anyhow!("{e}"))?;
    medfund_workflow::migrate(&mut db).map_err(|e| anyhow::anyhow!("{e}"))?;
    medfund_workflow::points::suspensions(&mut db).map_err(|e| anyhow::anyhow!("{e}"))
}
