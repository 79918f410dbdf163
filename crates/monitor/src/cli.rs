//! `medfund monitor`: the monthly monitoring report from the store (or a batch directory) as
//! terminal tables, a JSON document for the web UI, and an Excel workbook.
//!
//! ```text
//! medfund monitor --month 2024-03                 # tables in the terminal
//! medfund monitor --month 2024-03 --json          # JSON document on stdout
//! medfund monitor --month 2024-03 --xlsx 月报.xlsx # Excel monthly report
//! medfund monitor --batch ./batch-2024 --month 2024-03
//! ```

use crate::input::MonitorInput;
use crate::policy::Policy;
use crate::report::{monthly_report, render_text};
use anyhow::Context;
use medfund_contract::records::Batch;
use medfund_contract::schema::Table;
use medfund_contract::time::YearMonth;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `medfund monitor`.
#[derive(Debug, clap::Args)]
pub struct MonitorArgs {
    /// 报告月份 YYYY-MM（默认：数据中最近有结算的月份） / report month (default: the latest month with settlements)
    #[arg(long)]
    pub month: Option<String>,
    /// 输出 JSON 文档（供 Web 界面使用） / print the JSON document instead of tables
    #[arg(long)]
    pub json: bool,
    /// 导出 Excel 月报到此文件 / also write the Excel monthly report to FILE
    #[arg(long, value_name = "FILE")]
    pub xlsx: Option<PathBuf>,
    /// 写入此文件而非标准输出 / write the text or JSON to FILE instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// 直接读取批次目录而非数据存储 / read a batch directory instead of the store
    #[arg(long, value_name = "DIR")]
    pub batch: Option<PathBuf>,
    /// 监测参数文件（默认 $MEDFUND_POLICY/monitor.toml 或 ./policy/monitor.toml） / policy file
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// Runs `medfund monitor`.
pub fn run(data: &Path, args: &MonitorArgs) -> anyhow::Result<()> {
    let policy = match &args.policy {
        Some(p) => {
            anyhow::ensure!(
                p.is_file(),
                "监测参数文件不存在：{} / policy file not found",
                p.display()
            );
            Policy::load_file_or_default(p)?
        }
        None => Policy::load()?,
    };
    let requested = args
        .month
        .as_deref()
        .map(|m| YearMonth::parse(m).map_err(|e| anyhow::anyhow!("--month 应为 YYYY-MM / {e}")))
        .transpose()?;
    let t0 = Instant::now();
    let (batch, month) = match &args.batch {
        Some(dir) => load_batch_dir(dir, requested)?,
        None => load_store(data, requested)?,
    };
    let t_load = t0.elapsed();
    let t1 = Instant::now();
    let report = monthly_report(&MonitorInput::from_batch(&batch), month, &policy);
    let t_report = t1.elapsed();
    eprintln!(
        "监测月报 {month}：读取 {} 条费用明细、{} 条结算，用时 {:.2}s；计算 {:.2}s / read {} fee lines in {:.2}s, computed in {:.2}s",
        batch.fee.len(),
        batch.setl.len(),
        t_load.as_secs_f64(),
        t_report.as_secs_f64(),
        batch.fee.len(),
        t_load.as_secs_f64(),
        t_report.as_secs_f64()
    );
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&report)?;
        s.push('\n');
        s
    } else {
        render_text(&report)
    };
    match &args.out {
        Some(p) => std::fs::write(p, text)
            .with_context(|| format!("无法写入 {} / cannot write", p.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a stack of messages.
            if let Err(e) = out.write_all(text.as_bytes()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(e.into());
                }
            }
        }
    }
    if let Some(x) = &args.xlsx {
        crate::xlsx::write_xlsx(&report, x)?;
        eprintln!("Excel 月报已写入 {} / Excel report written", x.display());
    }
    Ok(())
}

fn load_batch_dir(dir: &Path, month: Option<YearMonth>) -> anyhow::Result<(Batch, YearMonth)> {
    let ingested = medfund_ingest::read_batch(dir, &medfund_ingest::Options::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let q = ingested.quarantined();
    if q > 0 {
        eprintln!(
            "注意：批次中 {q} 行不合规已跳过（用 medfund load 查看隔离明细） / {q} rows refused (see medfund load for the quarantine)"
        );
    }
    let batch = ingested.batch;
    let month = match month {
        Some(m) => m,
        None => latest(&batch).ok_or_else(|| {
            anyhow::anyhow!("批次中没有结算数据，请用 --month 指定月份 / no settlements in the batch; give --month")
        })?,
    };
    Ok((batch, month))
}

fn latest(batch: &Batch) -> Option<YearMonth> {
    batch
        .setl
        .iter()
        .map(|s| YearMonth::of(s.setl_time.date()))
        .max()
}

/// Reads from the store only what the month's report needs: the claims of the month and the
/// three before it (stays that began earlier and were settled this month), the same four months
/// a year earlier (the baseline), and the settlements and visits from January on (budget use).
fn load_store(data: &Path, month: Option<YearMonth>) -> anyhow::Result<(Batch, YearMonth)> {
    use medfund_store::{ClaimFilter, Store};
    anyhow::ensure!(
        data.exists(),
        "数据目录 {} 不存在：先用 medfund load 加载数据，或用 --batch 指定批次目录 / data directory not found; load a batch first or pass --batch",
        data.display()
    );
    let mut store = Store::open(data).map_err(|e| anyhow::anyhow!("{e}"))?;
    let month = match month {
        Some(m) => m,
        None => store
            .months(Table::Setl)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .into_iter()
            .max()
            .ok_or_else(|| {
                anyhow::anyhow!("数据存储中没有结算数据，请先用 medfund load 加载 / the store holds no settlements; load a batch first")
            })?,
    };
    let claims = vec![Table::Mdtrt, Table::Setl, Table::Fee];
    let read = |store: &mut Store, from: YearMonth, to: YearMonth, tables: Vec<Table>| {
        store
            .read_claims(&ClaimFilter {
                from: Some(from),
                to: Some(to),
                tables,
            })
            .map_err(|e| anyhow::anyhow!("{e}"))
    };
    let mut batch = read(
        &mut store,
        month.plus(-crate::yearly::STAY_LOOKBACK_MONTHS),
        month,
        claims.clone(),
    )?;
    let base = read(&mut store, month.plus(-15), month.plus(-12), claims)?;
    batch.mdtrt.extend(base.mdtrt);
    batch.setl.extend(base.setl);
    batch.fee.extend(base.fee);
    let jan = YearMonth {
        year: month.year,
        month: 1,
    };
    if jan <= month.plus(-4) {
        let early = read(
            &mut store,
            jan,
            month.plus(-4),
            vec![Table::Mdtrt, Table::Setl],
        )?;
        batch.mdtrt.extend(early.mdtrt);
        batch.setl.extend(early.setl);
    }
    Ok((batch, month))
}
