//! `medfund load BATCH_DIR`: validate a batch, quarantine bad rows, store the rest.

use crate::{LoadOptions, LoadReport, Progress, Stage, Store, StoreError};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use medfund_contract::schema::Table;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Arguments of `medfund load`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// 批次目录（每表一个 CSV/Parquet/JSONL 文件） / batch directory (one CSV, Parquet or JSONL file per table)
    pub batch_dir: PathBuf,
    /// 关系数据库：postgres://… 或 SQLite 文件路径；默认 <数据目录>/medfund.sqlite /
    /// SQL database: postgres://… or a SQLite file; default <data>/medfund.sqlite
    #[arg(long, env = "MEDFUND_DB_URL")]
    pub db_url: Option<String>,
    /// 解析线程数（0 = 全部核心） / parser threads (0 = all cores)
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// 以 JSON 输出加载报告 / print the load report as JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs `medfund load`. Exits with an error only when the batch cannot be read at all (or the
/// store cannot be written); quarantined rows are reported, not fatal.
pub fn run(data: &Path, args: &LoadArgs) -> anyhow::Result<()> {
    let mut store = Store::open_with(data, args.db_url.as_deref().filter(|s| !s.is_empty())).map_err(|e| {
        anyhow::anyhow!("无法打开数据目录 {}：{e}。请检查路径与权限（或 --db-url）。/ cannot open the store in {}", data.display(), data.display())
    })?;
    let opts = LoadOptions {
        ingest: medfund_ingest::Options {
            threads: args.threads,
            ..Default::default()
        },
    };
    let bars = Bars::new(args.json);
    let cb = |p: Progress| bars.update(p);
    let report = store.load_batch(&args.batch_dir, &opts, Some(&cb));
    bars.finish();
    let report = match report {
        Ok(r) => r,
        Err(StoreError::Unreadable(m)) => anyhow::bail!("{m}"),
        Err(e) => {
            anyhow::bail!("加载失败，数据未改动 / the load failed and the store is unchanged: {e}")
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", summary(&report));
    }
    Ok(())
}

/// One progress bar per table, drawn only on a terminal.
struct Bars {
    multi: MultiProgress,
    reading: ProgressBar,
    tables: RefCell<HashMap<Table, ProgressBar>>,
    hidden: bool,
}

impl Bars {
    fn new(hidden: bool) -> Bars {
        let multi = MultiProgress::new();
        if hidden {
            multi.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        let reading = multi.add(ProgressBar::new_spinner());
        reading.set_message("读取并校验批次 / reading and validating the batch");
        reading.enable_steady_tick(std::time::Duration::from_millis(200));
        Bars {
            multi,
            reading,
            tables: RefCell::new(HashMap::new()),
            hidden,
        }
    }
    fn update(&self, p: Progress) {
        if self.hidden {
            return;
        }
        match (p.stage, p.table) {
            (Stage::Read, _) => {}
            (Stage::Commit, _) => {
                self.reading.set_message("提交 / committing");
            }
            (stage, Some(t)) => {
                self.reading.finish_and_clear();
                let mut tables = self.tables.borrow_mut();
                let bar = tables.entry(t).or_insert_with(|| {
                    let b = self.multi.add(ProgressBar::new(p.total));
                    b.set_style(
                        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("=> "),
                    );
                    b.set_prefix(t.name());
                    b
                });
                bar.set_length(p.total);
                bar.set_position(p.done);
                bar.set_message(match stage {
                    Stage::Check => "查重 / checking",
                    _ => "写入 / writing",
                });
            }
            _ => {}
        }
    }
    fn finish(&self) {
        self.reading.finish_and_clear();
        for b in self.tables.borrow().values() {
            b.finish_and_clear();
        }
    }
}

/// Display width: CJK characters take two columns in a terminal.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| if c as u32 >= 0x1100 { 2 } else { 1 })
        .sum()
}

fn right(s: &str, w: usize) -> String {
    format!("{}{s}", " ".repeat(w.saturating_sub(width(s))))
}

fn row(cells: [&str; 7]) -> String {
    let mut line = format!("{:<11}", cells[0]);
    for (c, w) in cells[1..6].iter().zip([12, 12, 13, 11, 12]) {
        line.push(' ');
        line.push_str(&right(c, w));
    }
    line.push_str("  ");
    line.push_str(cells[6]);
    line.push('\n');
    line
}

/// The summary printed after a load.
pub fn summary(r: &LoadReport) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "加载批次 #{} 完成，用时 {:.1} 秒 / load #{} done in {:.1} s\n\n",
        r.load_id, r.seconds, r.load_id, r.seconds
    ));
    s.push_str(&row([
        "table",
        "读取 read",
        "入库 loaded",
        "重复 skipped",
        "更新 upd.",
        "隔离 quar.",
        "表名",
    ]));
    let n = |v: u64| v.to_string();
    for t in r
        .tables
        .iter()
        .filter(|t| t.read + t.loaded + t.quarantined > 0)
    {
        let name = t.table.map(|x| x.name()).unwrap_or("");
        let zh = t.table.map(|x| x.zh()).unwrap_or("");
        s.push_str(&row([
            name,
            &n(t.read),
            &n(t.loaded),
            &n(t.skipped),
            &n(t.updated),
            &n(t.quarantined),
            zh,
        ]));
    }
    let tot = r.total();
    s.push_str(&row([
        "total",
        &n(tot.read),
        &n(tot.loaded),
        &n(tot.skipped),
        &n(tot.updated),
        &n(tot.quarantined),
        "合计",
    ]));
    s.push('\n');
    match &r.quarantine_csv {
        Some(p) => s.push_str(&format!(
            "隔离记录 {} 条，报告 / {} quarantined rows, report: {}\n",
            tot.quarantined,
            tot.quarantined,
            p.display()
        )),
        None => s.push_str("无隔离记录 / nothing quarantined\n"),
    }
    let t = &r.timings;
    s.push_str(&format!(
        "用时 / time: 读取校验 read {:.1} s, 参考表 reference {:.1} s, 查重写入 claims {:.1} s, 提交 commit {:.1} s\n",
        t.read, t.reference, t.claims, t.commit
    ));
    s.push_str(&format!(
        "目录未收录的医保编码（已加载、仅计数） / fee lines with codes not in the catalog (loaded, counted): {}\n",
        r.unknown_catalog_codes
    ));
    s
}
