//! `medfund demo`: the main job on the embedded default. It generates a demo city, imports the
//! national knowledge base, loads the city into the data directory, audits it (findings stored
//! for review), runs the SQL risk models, the monitoring report and the settlements (the budget
//! assessed from the indicators), creates the demo accounts, samples findings into the review
//! queue and serves the web UI.
//!
//! Each step runs this same binary as a child process with the public subcommand a user would
//! type, so the demo exercises exactly the commands the README documents and prints their output.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// 参保人数 / insured persons in the demo city
    #[arg(long, default_value_t = 20000)]
    pub persons: u64,
    /// 随机种子 / random seed
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// 演示年份 / year of the demo data
    #[arg(long, default_value_t = 2025)]
    pub year: i32,
    /// 只准备数据，不启动 Web 服务 / prepare the data but do not serve the UI
    #[arg(long)]
    pub no_serve: bool,
    /// Web 服务监听地址 / address the UI is served on
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// 删除整个数据目录后重新生成（只对演示建立的数据目录有效） / delete the whole data directory
    /// and start from scratch (only a directory the demo created)
    #[arg(long)]
    pub fresh: bool,
}

struct Step {
    title: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
}

fn step(title: &'static str, args: Vec<String>) -> Step {
    Step {
        title,
        args,
        env: Vec::new(),
    }
}

fn medfund(data: &Path, args: &[String]) -> anyhow::Result<()> {
    medfund_env(data, args, &[])
}

fn medfund_env(data: &Path, args: &[String], env: &[(&'static str, String)]) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find the medfund executable")?;
    let status = Command::new(&exe)
        .arg("--data")
        .arg(data)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .status()
        .with_context(|| format!("cannot run {} {}", exe.display(), args.join(" ")))?;
    if !status.success() {
        bail!("`medfund {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Finds the national knowledge-point files: next to the current directory (a clone of the
/// repository) or next to the executable.
fn kb_dir() -> Option<PathBuf> {
    let mut candidates = vec![PathBuf::from("kb/nhsa")];
    if let Ok(exe) = std::env::current_exe() {
        for up in exe.ancestors().skip(1).take(4) {
            candidates.push(up.join("kb/nhsa"));
        }
    }
    candidates
        .into_iter()
        .find(|p| p.join("b1-drug-gender.xlsx").exists())
}

pub fn run(data: &Path, a: &DemoArgs) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let city = data.join("demo-city");
    let ready = data.join("demo-ready");
    if a.fresh && data.exists() {
        // Deleting a directory is only safe when it is the demo's own: a data directory with
        // real loads, users and an audit log must never go because of a demo flag.
        let empty = std::fs::read_dir(data)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !(empty || city.exists() || ready.exists()) {
            bail!(
                "--fresh 只删除演示建立的数据目录，{} 不是（没有 demo-city）；请换一个 --data 目录 / {} was not created by the demo: not deleting it; choose another --data",
                data.display(),
                data.display()
            );
        }
        std::fs::remove_dir_all(data)
            .with_context(|| format!("cannot clear {}", data.display()))?;
    }
    std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    let s = |x: &str| x.to_string();
    let year = a.year.to_string();

    if ready.exists() {
        eprintln!("== 数据目录已有演示城市（--fresh 重新生成） / the data directory already holds the demo city (use --fresh to rebuild)");
    } else {
        eprintln!("\n== 生成演示城市 / generating the demo city");
        medfund(
            data,
            &[
                s("gen"),
                city.display().to_string(),
                s("--persons"),
                a.persons.to_string(),
                s("--seed"),
                a.seed.to_string(),
                s("--year"),
                year.clone(),
                s("--quiet"),
            ],
        )?;
        let city_ref = CityRef::read(&city)?;
        let mut steps = Vec::new();
        if let Some(kb) = kb_dir() {
            steps.push(step(
                "导入国家知识库（两库知识点第1–8批） / importing the national knowledge base",
                vec![s("kb"), s("import"), s("--dir"), kb.display().to_string()],
            ));
        } else {
            eprintln!("== 未找到 kb/nhsa（国家知识点文件），跳过导入 / kb/nhsa not found: the audit uses the batch catalog only");
        }
        steps.push(step(
            "加载批次（校验、隔离） / loading the batch (validate, quarantine)",
            vec![s("load"), city.display().to_string()],
        ));
        steps.push(step(
            "智能审核（全量规则，结果入库待审） / auditing every line, findings stored for review",
            vec![
                s("audit"),
                city.display().to_string(),
                s("--out"),
                data.join("findings.jsonl").display().to_string(),
                s("--store"),
            ],
        ));
        steps.push(step(
            "大数据风险模型（SQL） / big-data risk models (SQL on DataFusion)",
            vec![
                s("models"),
                s("--out"),
                data.join("model-findings.jsonl").display().to_string(),
            ],
        ));
        steps.push(step(
            "监测月报 / monthly monitoring report",
            vec![
                s("monitor"),
                s("--xlsx"),
                data.join("monitor.xlsx").display().to_string(),
                s("--out"),
                data.join("monitor.txt").display().to_string(),
            ],
        ));
        steps.push(step(
            "总额预算年终结算 / year-end total budget settlement",
            vec![
                s("settle"),
                s("budget"),
                s("--year"),
                year.clone(),
                s("--assess-by"),
                s("indicators"),
                s("--out"),
                data.join("settle-budget.csv").display().to_string(),
            ],
        ));
        steps.push(step(
            "DRG 点数法结算 / DRG point-value settlement",
            vec![
                s("settle"),
                s("drg"),
                s("--year"),
                year.clone(),
                s("--budget"),
                city_ref.drg_budget.to_string(),
                s("--out"),
                data.join("settle-drg.csv").display().to_string(),
            ],
        ));
        steps.push(step(
            "创建演示账号 / creating the demo accounts",
            vec![
                s("user"),
                s("demo"),
                s("--hospital"),
                city_ref.hospital.clone(),
                s("--pharmacy"),
                city_ref.pharmacy.clone(),
            ],
        ));
        steps.push(Step {
            title: "疑点按抽样规则登记审核 / sampling findings into the review queue",
            args: vec![
                s("review"),
                s("--user"),
                s("auditor"),
                s("register"),
                data.join("findings.jsonl").display().to_string(),
                s("--sample"),
            ],
            env: vec![("MEDFUND_PASSWORD", s("auditor@Medfund1"))],
        });
        let n = steps.len();
        for (i, st) in steps.iter().enumerate() {
            eprintln!("\n== [{}/{}] {}", i + 1, n, st.title);
            medfund_env(data, &st.args, &st.env)?;
            if st.args.first().map(String::as_str) == Some("models") {
                let n = store_findings(data, &data.join("model-findings.jsonl"))?;
                eprintln!("模型线索已入库 / {n} model findings stored");
            }
        }
        std::fs::write(
            &ready,
            format!("persons={} seed={} year={}\n", a.persons, a.seed, a.year),
        )?;
    }
    eprintln!(
        "\n== 演示数据就绪，用时 {:.1} 秒 / demo data ready in {:.1} s",
        t0.elapsed().as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    let show = |zh: &str, en: &str, f: &str| {
        let p = data.join(f);
        if p.exists() {
            eprintln!("  {zh:<14} {en:<30} {}", p.display());
        }
    };
    eprintln!("\n== 演示结果 / what the demo produced");
    show("审核疑点", "audit findings (JSON Lines)", "findings.jsonl");
    show("模型线索", "risk-model findings", "model-findings.jsonl");
    show("监测月报", "monitoring report (text)", "monitor.txt");
    show(
        "监测月报 Excel",
        "monitoring report (Excel)",
        "monitor.xlsx",
    );
    show("总额预算结算", "budget settlement", "settle-budget.csv");
    show("DRG 点数法结算", "DRG settlement", "settle-drg.csv");
    if let Ok(t) = std::fs::read_to_string(data.join("monitor.txt")) {
        eprintln!();
        for l in t.lines().take(3) {
            eprintln!("  {l}");
        }
    }
    if a.no_serve {
        return Ok(());
    }
    medfund(
        data,
        &[
            s("serve"),
            s("--addr"),
            a.addr.clone(),
            s("--print-accounts"),
        ],
    )
}

/// What the demo needs to know about the generated city: the institutions the hospital and
/// pharmacy demo users belong to, and a DRG budget (the year's fund spending on DRG cases).
struct CityRef {
    hospital: String,
    pharmacy: String,
    drg_budget: medfund_contract::Fen,
}

impl CityRef {
    fn read(city: &Path) -> anyhow::Result<CityRef> {
        let mut hospital = None;
        let mut pharmacy = None;
        let mut r = csv_rows(&city.join("fixmedins.csv"))?;
        while let Some(row) = r.next() {
            let code = row.get("fixmedins_code");
            if code.starts_with('H') && row.get("hosp_lv") == "1" && hospital.is_none() {
                hospital = Some(code.to_string());
            }
            if code.starts_with('P') && pharmacy.is_none() {
                pharmacy = Some(code.to_string());
            }
        }
        let mut drg_budget = medfund_contract::Fen(0);
        let mut r = csv_rows(&city.join("setl.csv"))?;
        while let Some(row) = r.next() {
            if !row.get("drg_codg").is_empty() {
                drg_budget += row.get("hifp_pay").parse().unwrap_or_default();
            }
        }
        Ok(CityRef {
            hospital: hospital.context("the demo city has no tertiary hospital")?,
            pharmacy: pharmacy.context("the demo city has no pharmacy")?,
            drg_budget,
        })
    }
}

/// A minimal reader of the generator's own CSV (no quoted fields in the columns used here).
struct CsvRows {
    header: Vec<String>,
    lines: std::io::Lines<std::io::BufReader<std::fs::File>>,
    cur: Vec<String>,
}

struct RowRef<'a> {
    header: &'a [String],
    cur: &'a [String],
}

impl RowRef<'_> {
    fn get(&self, col: &str) -> &str {
        self.header
            .iter()
            .position(|h| h == col)
            .and_then(|i| self.cur.get(i))
            .map(|s| s.as_str())
            .unwrap_or("")
    }
}

impl CsvRows {
    fn next(&mut self) -> Option<RowRef<'_>> {
        let line = self.lines.next()?.ok()?;
        self.cur = line
            .split(',')
            .map(|x| x.trim_matches('"').to_string())
            .collect();
        Some(RowRef {
            header: &self.header,
            cur: &self.cur,
        })
    }
}

fn csv_rows(path: &Path) -> anyhow::Result<CsvRows> {
    use std::io::BufRead;
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut lines = std::io::BufReader::new(f).lines();
    let header = lines
        .next()
        .transpose()?
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim_start_matches('\u{feff}').to_string())
        .collect();
    Ok(CsvRows {
        header,
        lines,
        cur: Vec::new(),
    })
}

/// Keeps the models' findings in the store, where the review workflow and the UI read them.
fn store_findings(data: &Path, file: &Path) -> anyhow::Result<usize> {
    use std::io::BufRead;
    let mut findings = Vec::new();
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let finding: medfund_contract::Finding = serde_json::from_str(&line)
            .with_context(|| format!("{} line {}: not a finding", file.display(), i + 1))?;
        findings.push(finding);
    }
    let mut store = medfund_store::Store::open(data).map_err(|e| anyhow::anyhow!("{e}"))?;
    store
        .save_findings(
            &medfund_store::AuditRunInfo {
                source: file.display().to_string(),
                started_at: String::new(),
                finished_at: String::new(),
                rules: None,
                note: Some("medfund demo".into()),
            },
            &findings,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(findings.len())
}
