//! Command-line entry of this crate (wired into the `medfund` binary as `medfund settle …`).
//!
//! ```text
//! medfund settle budget --year 2024 [--input caps.csv] --out budget.csv [--xlsx budget.xlsx]
//! medfund settle drg --year 2024 --budget 400000000 [--input cases.csv] --out drg.csv --cases drg-cases.csv
//! medfund settle dip --year 2024 --budget 300000000 --out dip.csv
//! medfund settle warn --year 2024 --month 6 [--input cumulative.csv] [--out warnings.csv]
//! medfund settle prepay --year 2024 --month 6 [--out prepay.csv]
//! medfund settle runs [--kind budget] [--year 2024] [--status submitted]
//! medfund settle show 3 [--out lines.csv] [--xlsx sheet.xlsx]
//! MEDFUND_PASSWORD=… medfund settle status 3 --to submitted --user auditor
//! ```

use crate::budget::{self, Assessment};
use crate::files;
use crate::points::PointSettlement;
use crate::policy::AssessBy;
use crate::policy::Policy;
use crate::runs::{self, RunData, RunFilter, RunMeta, RunStatus};
use crate::service;
use crate::source::Scheme;
use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use medfund_contract::{Code, Fen};
use medfund_store::Store;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// `medfund settle`: payment settlement (总额控制 and DRG/DIP).
#[derive(Debug, clap::Args)]
pub struct SettleArgs {
    #[command(subcommand)]
    pub command: SettleCommand,
}

/// The settlement subcommands.
#[derive(Debug, Subcommand)]
pub enum SettleCommand {
    /// 总额控制年终结算 / year-end total budget settlement
    Budget(BudgetArgs),
    /// DRG 点数法结算 / DRG point-value settlement
    Drg(PointArgs),
    /// DIP 病种分值结算 / DIP disease-group score settlement
    Dip(PointArgs),
    /// 总额预警 / in-year early warning against the caps
    Warn(WarnArgs),
    /// 月度预付 / monthly prepayment of each institution
    Prepay(PrepayArgs),
    /// 列出已保存的结算批次 / list stored settlement runs
    Runs(RunsArgs),
    /// 查看结算批次明细并导出 / show (and export) a stored run
    Show(ShowArgs),
    /// 变更结算批次审批状态 / move a run through the approval chain
    Status(StatusArgs),
}

/// Options shared by the settling commands.
#[derive(Debug, Args)]
pub struct RunOptions {
    /// 操作人 / user recorded with the stored run
    #[arg(long, env = "MEDFUND_USER")]
    pub user: Option<String>,
    /// 不保存结算批次 / do not store the run in the database
    #[arg(long)]
    pub no_store: bool,
    /// 结算政策文件 / policy file (default: $MEDFUND_POLICY/settle.toml or ./policy/settle.toml)
    #[arg(long)]
    pub policy: Option<PathBuf>,
}

/// `medfund settle budget`.
#[derive(Debug, Args)]
pub struct BudgetArgs {
    /// 结算年度 / year
    #[arg(long)]
    pub year: i32,
    /// 输入 CSV：fixmedins_code, cap_in, cap_out, approved_extra, actual_in, actual_out, indicators[, prepaid]
    /// （缺省从库中读取 / default: read from the store)
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// 考评结果 CSV：fixmedins_code, indicators (all|some|none)，覆盖政策文件 / assessments
    #[arg(long)]
    pub assessment: Option<PathBuf>,
    /// 考评结果来源：policy（政策文件）或 indicators（由本年与上年监测指标按考评目标得出），
    /// 覆盖政策文件的 assess_by / where assessments not given come from (overrides assess_by)
    #[arg(long, value_enum)]
    pub assess_by: Option<AssessByArg>,
    /// 输出 CSV（- 为标准输出） / output CSV (`-` = stdout)
    #[arg(long, default_value = "-")]
    pub out: PathBuf,
    /// Excel 结算表 / Excel settlement sheet
    #[arg(long)]
    pub xlsx: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunOptions,
}

/// `--assess-by` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AssessByArg {
    Policy,
    Indicators,
}

/// `medfund settle drg|dip`.
#[derive(Debug, Args)]
pub struct PointArgs {
    /// 结算年度 / year
    #[arg(long)]
    pub year: i32,
    /// 年度基金预算（元） / the year's fund budget for these cases, yuan
    #[arg(long)]
    pub budget: String,
    /// 输入 CSV：setl_id, fixmedins_code, hosp_lv, drg_codg|dip_codg, total_cost[, prepaid|hifp_pay]
    /// （缺省从库中读取 / default: read from the store)
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// 机构结算 CSV（- 为标准输出） / per-institution output (`-` = stdout)
    #[arg(long, default_value = "-")]
    pub out: PathBuf,
    /// 病例点数 CSV / per-case points
    #[arg(long)]
    pub cases: Option<PathBuf>,
    /// 病组点数表 CSV / the point table (base points and level factors)
    #[arg(long)]
    pub groups: Option<PathBuf>,
    /// Excel 结算表 / Excel settlement workbook
    #[arg(long)]
    pub xlsx: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunOptions,
}

/// `medfund settle warn`.
#[derive(Debug, Args)]
pub struct WarnArgs {
    /// 年度 / year
    #[arg(long)]
    pub year: i32,
    /// 截至月份（1–12） / months elapsed
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=12))]
    pub month: u32,
    /// 输入 CSV（与 budget 相同的列，actual_in/actual_out 为截至该月的累计） / budget-shaped CSV with cumulative actuals
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// 输出 CSV（- 为标准输出） / output (`-` = stdout)
    #[arg(long, default_value = "-")]
    pub out: PathBuf,
    /// 结算政策文件 / policy file
    #[arg(long)]
    pub policy: Option<PathBuf>,
}

/// `medfund settle prepay`.
#[derive(Debug, Args)]
pub struct PrepayArgs {
    /// 年度 / year
    #[arg(long)]
    pub year: i32,
    /// 月份（1–12） / month
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=12))]
    pub month: u32,
    /// 输出 CSV（- 为标准输出） / output (`-` = stdout)
    #[arg(long, default_value = "-")]
    pub out: PathBuf,
    /// 结算政策文件 / policy file
    #[arg(long)]
    pub policy: Option<PathBuf>,
}

/// `medfund settle runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// budget | drg | dip
    #[arg(long)]
    pub kind: Option<String>,
    #[arg(long)]
    pub year: Option<i32>,
    /// draft | submitted | approved | rejected
    #[arg(long)]
    pub status: Option<String>,
}

/// `medfund settle show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// 结算批次号 / run id
    pub run_id: i64,
    /// 明细 CSV / the run's lines as CSV
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Excel 结算表 / Excel sheet of the run
    #[arg(long)]
    pub xlsx: Option<PathBuf>,
}

/// `medfund settle status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// 结算批次号 / run id
    pub run_id: i64,
    /// submitted（提交）| approved（审批通过）| rejected（退回）| draft（重新编辑）
    #[arg(long)]
    pub to: String,
    /// 登录用户名（密码取自环境变量 MEDFUND_PASSWORD；审批须科室负责人或分管领导） / user
    /// name; the password comes from MEDFUND_PASSWORD (approval needs a section chief or leader)
    #[arg(long, env = "MEDFUND_USER")]
    pub user: String,
    /// 意见 / reason or remark
    #[arg(long)]
    pub reason: Option<String>,
}

/// Runs `medfund settle …`.
pub fn run(data: &Path, args: &SettleArgs) -> anyhow::Result<()> {
    match &args.command {
        SettleCommand::Budget(a) => run_budget(data, a),
        SettleCommand::Drg(a) => run_points(data, Scheme::Drg, a),
        SettleCommand::Dip(a) => run_points(data, Scheme::Dip, a),
        SettleCommand::Warn(a) => run_warn(data, a),
        SettleCommand::Prepay(a) => run_prepay(data, a),
        SettleCommand::Runs(a) => run_runs(data, a),
        SettleCommand::Show(a) => run_show(data, a),
        SettleCommand::Status(a) => run_status(data, a),
    }
}

fn load_policy(path: Option<&Path>) -> anyhow::Result<Policy> {
    match path {
        Some(p) => {
            if !p.exists() {
                bail!(
                    "结算政策文件不存在 / policy file not found: {}",
                    p.display()
                );
            }
            Policy::load_file(p)
        }
        None => Policy::load(),
    }
}

fn user_of(o: &RunOptions) -> String {
    o.user
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "cli".to_string())
}

/// Stores a run as a draft and writes its creation to the hash-chained audit log in the same
/// transaction. The creator is the `--user` label (a draft pays nothing; every status change
/// after it needs a logged-in user, see [`crate::approval`]).
fn store_logged(store: &mut Store, meta: &RunMeta, data: RunData) -> anyhow::Result<i64> {
    let kind = data.kind();
    let actor = medfund_workflow::Actor {
        user_id: 0,
        username: meta.user.to_string(),
        roles: Vec::new(),
        scope: medfund_workflow::Scope::City,
        ip: "cli".into(),
    };
    let policy = medfund_workflow::Policy::load()?;
    store.db().transaction(|db| -> anyhow::Result<i64> {
        let id = runs::store_run(db, meta, data)?;
        medfund_workflow::Workflow::new(db, policy)?.record_external(
            &actor,
            "settlement.created",
            "settle_run",
            &id.to_string(),
            serde_json::json!({"kind": kind, "year": meta.year, "source": meta.source}),
        )?;
        Ok(id)
    })
}

fn open_store(data: &Path) -> anyhow::Result<Store> {
    Store::open(data).with_context(|| {
        format!(
            "无法打开数据目录 / cannot open the store at {}",
            data.display()
        )
    })
}

fn read_assessments(path: &Path) -> anyhow::Result<HashMap<Code, Assessment>> {
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("无法读取考评结果文件 / cannot read {}", path.display()))?;
    let h = r.headers()?.clone();
    let col = |n: &str| h.iter().position(|c| c.trim_start_matches('\u{feff}') == n);
    let (Some(c), Some(i)) = (col("fixmedins_code"), col("indicators")) else {
        bail!(
            "{} 需要列 fixmedins_code 与 indicators / needs columns fixmedins_code and indicators",
            path.display()
        );
    };
    let mut out = HashMap::new();
    for rec in r.records() {
        let rec = rec?;
        let a: Assessment = rec.get(i).unwrap_or("").parse().map_err(|e: String| {
            anyhow::anyhow!(
                "{} 第 {} 行: {e}",
                path.display(),
                rec.position().map_or(0, |p| p.line())
            )
        })?;
        out.insert(Code::from(rec.get(c).unwrap_or("")), a);
    }
    Ok(out)
}

fn params_json(policy: &Policy, kind: &str) -> serde_json::Value {
    match kind {
        "budget" => serde_json::to_value(&policy.budget),
        "drg" => serde_json::to_value(&policy.drg),
        _ => serde_json::to_value(&policy.dip),
    }
    .unwrap_or(serde_json::Value::Null)
}

fn say(line: String) {
    eprintln!("{line}");
}

fn run_budget(data: &Path, a: &BudgetArgs) -> anyhow::Result<()> {
    let mut policy = load_policy(a.run.policy.as_deref())?;
    match a.assess_by {
        Some(AssessByArg::Policy) => policy.budget.assess_by = AssessBy::Policy,
        Some(AssessByArg::Indicators) => policy.budget.assess_by = AssessBy::Indicators,
        None => {}
    }
    anyhow::ensure!(
        !(a.input.is_some() && policy.budget.assess_by == AssessBy::Indicators),
        "--assess-by indicators 需要库中的监测数据，不能与 --input 同用 / assessing by indicators reads the store: not with --input"
    );
    let given = match &a.assessment {
        Some(p) => read_assessments(p)?,
        None => HashMap::new(),
    };
    let mut store = None;
    let outcome = match &a.input {
        Some(p) => {
            let mut inputs = files::read_budget_csv(p, &policy)?;
            for i in inputs.iter_mut() {
                if let Some(g) = given.get(&i.fixmedins_code) {
                    i.assessment = *g;
                }
            }
            let lines = budget::settle_all(&inputs, &policy.budget)?;
            service::BudgetOutcome {
                totals: budget::totals(&lines),
                lines,
                city: None,
                without_budget: Vec::new(),
                assessments: Vec::new(),
            }
        }
        None => {
            let s = store.insert(open_store(data)?);
            service::budget_from_store(s, a.year, &policy, &given)?
        }
    };
    files::write_budget_csv(&a.out, &outcome.lines)?;
    let t = &outcome.totals;
    say(format!(
        "{} 年度总额控制结算：{} 家机构，年度总额 {} 元，基金支出 {} 元，节约奖励 {} 元，超支 {} 元（机构承担 {} 元，基金承担 {} 元），应拨付 {} 元",
        a.year, t.institutions, t.cap, t.actual, t.reward, t.overage, t.institution_bears, t.fund_pays_overage, t.payable
    ));
    if let Some(c) = &outcome.city {
        say(format!("本市行政区划前缀 / city area prefix: {c}"));
    }
    if !outcome.assessments.is_empty() {
        say("考评结果（由监测指标得出，输入文件与政策文件另有规定者从之） / assessments from the indicators:".into());
        for (code, ia, used) in &outcome.assessments {
            let (met, assessed) = ia.counts();
            let why: Vec<String> = ia
                .results
                .iter()
                .map(|r| {
                    let mark = match r.met {
                        Some(true) => "达标",
                        Some(false) => "未达标",
                        None => "无法考评",
                    };
                    format!("{}{}", r.name, mark)
                })
                .collect();
            say(format!(
                "  {code}: {}/{} 项达标 → {}（采用 {}）  {}",
                met,
                assessed,
                ia.assessment.map(|x| x.zh()).unwrap_or("无可考评指标"),
                used.zh(),
                why.join("，")
            ));
        }
    }
    if !outcome.without_budget.is_empty() {
        say(format!(
            "注意：{} 家机构有基金支出但没有 {} 年度总额预算，未纳入结算 / institutions with spending but no budget: {}",
            outcome.without_budget.len(),
            a.year,
            outcome.without_budget.iter().take(10).map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    let need_store = !a.run.no_store || a.xlsx.is_some();
    if need_store && store.is_none() {
        store = Some(open_store(data)?);
    }
    if let Some(x) = &a.xlsx {
        let names = store
            .as_mut()
            .map(|s| s.fixmedins().map(|f| service::names(&f)))
            .transpose()?
            .unwrap_or_default();
        files::write_budget_xlsx(x, a.year, &outcome.lines, t, &names)?;
        say(format!("Excel 结算表 / sheet: {}", x.display()));
    }
    if !a.run.no_store {
        let s = store.as_mut().expect("opened above");
        let source = a
            .input
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "store".into());
        let user = user_of(&a.run);
        let mut params = params_json(&policy, "budget");
        if !outcome.assessments.is_empty() {
            // The run keeps why each institution was assessed as it was.
            params["indicator_assessments"] = serde_json::json!(outcome
                .assessments
                .iter()
                .map(|(c, ia, used)| serde_json::json!({
                    "fixmedins_code": c.as_str(),
                    "from_indicators": ia.assessment.map(|x| x.code()),
                    "used": used.code(),
                    "targets": ia.results,
                }))
                .collect::<Vec<_>>());
        }
        let meta = RunMeta {
            year: a.year,
            user: &user,
            source: &source,
            params,
        };
        let id = store_logged(s, &meta, RunData::Budget(&outcome.lines))?;
        say(format!("已保存结算批次 #{id}（草稿），提交审批：MEDFUND_PASSWORD=… medfund settle status {id} --to submitted --user 用户名 / stored as run #{id} (draft)"));
    }
    Ok(())
}

fn run_points(data: &Path, scheme: Scheme, a: &PointArgs) -> anyhow::Result<()> {
    let policy = load_policy(a.run.policy.as_deref())?;
    let budget: Fen = a.budget.replace(',', "").parse().map_err(|e| {
        anyhow::anyhow!(
            "--budget '{}' 不是金额（元，最多 2 位小数） / not an amount in yuan: {e}",
            a.budget
        )
    })?;
    let pp = match scheme {
        Scheme::Drg => &policy.drg,
        Scheme::Dip => &policy.dip,
    };
    let mut store = None;
    let (result, skipped): (PointSettlement, Option<(usize, usize)>) = match &a.input {
        Some(p) => {
            let cases = files::read_cases_csv(p, scheme, pp.prepay_ratio)?;
            (crate::points::settle_points(&cases, budget, pp)?, None)
        }
        None => {
            let s = store.insert(open_store(data)?);
            let o = service::points_from_store(s, scheme, a.year, budget, &policy)?;
            (o.result, Some((o.without_group, o.non_positive)))
        }
    };
    files::write_institutions_csv(&a.out, &result)?;
    if let Some(c) = &a.cases {
        files::write_cases_csv(c, &result, scheme)?;
    }
    if let Some(g) = &a.groups {
        files::write_groups_csv(g, &result, scheme)?;
    }
    let pz = scheme.points_zh();
    say(format!(
        "{} 年度 {}：{} 例，{} 个分组，{} 家机构，总{pz} {}，{pz}单价 {} 元，拨付合计 {} 元（预算 {} 元，尾差 {} 元）",
        a.year,
        scheme.zh(),
        result.cases,
        result.groups.len(),
        result.institutions.len(),
        result.total_points,
        result.point_value,
        result.paid,
        result.budget,
        result.residual
    ));
    let kinds = [
        crate::points::CaseKind::Normal,
        crate::points::CaseKind::High,
        crate::points::CaseKind::Low,
        crate::points::CaseKind::SmallGroup,
    ];
    let counts: Vec<String> = kinds
        .iter()
        .map(|k| {
            format!(
                "{} {}",
                k.zh(),
                result.case_points.iter().filter(|c| c.kind == *k).count()
            )
        })
        .collect();
    say(format!("病例类型 / case kinds: {}", counts.join("，")));
    if let Some((ng, np)) = skipped.filter(|s| s.0 + s.1 > 0) {
        say(format!("未纳入：无分组编码的住院结算 {ng} 条，冲销或零费用结算 {np} 条 / left out: {ng} without group, {np} reversals"));
    }
    let need_store = !a.run.no_store || a.xlsx.is_some();
    if need_store && store.is_none() {
        store = Some(open_store(data)?);
    }
    if let Some(x) = &a.xlsx {
        let names = store
            .as_mut()
            .map(|s| s.fixmedins().map(|f| service::names(&f)))
            .transpose()?
            .unwrap_or_default();
        files::write_points_xlsx(x, scheme, a.year, &result, &names, pp)?;
        say(format!("Excel 结算表 / workbook: {}", x.display()));
    }
    if !a.run.no_store {
        let s = store.as_mut().expect("opened above");
        let source = a
            .input
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "store".into());
        let user = user_of(&a.run);
        let meta = RunMeta {
            year: a.year,
            user: &user,
            source: &source,
            params: params_json(&policy, scheme.code()),
        };
        let id = store_logged(s, &meta, RunData::Points(scheme, &result))?;
        say(format!("已保存结算批次 #{id}（草稿），提交审批：MEDFUND_PASSWORD=… medfund settle status {id} --to submitted --user 用户名 / stored as run #{id} (draft)"));
    }
    Ok(())
}

fn run_warn(data: &Path, a: &WarnArgs) -> anyhow::Result<()> {
    let policy = load_policy(a.policy.as_deref())?;
    let warnings = match &a.input {
        Some(p) => {
            let inputs = files::read_budget_csv(p, &policy)?;
            let mut w: Vec<_> = inputs
                .iter()
                .filter_map(|i| {
                    budget::early_warning(
                        &i.fixmedins_code,
                        i.cap_in + i.approved_extra + i.cap_out,
                        i.actual_in + i.actual_out,
                        a.month,
                        &policy.budget,
                    )
                })
                .collect();
            service::sort_warnings(&mut w);
            w
        }
        None => service::warnings_from_store(&mut open_store(data)?, a.year, a.month, &policy)?,
    };
    files::write_warnings_csv(&a.out, &warnings)?;
    say(format!(
        "{} 年截至 {} 月：{} 家机构触发总额预警 / institutions warned",
        a.year,
        a.month,
        warnings.len()
    ));
    Ok(())
}

fn run_prepay(data: &Path, a: &PrepayArgs) -> anyhow::Result<()> {
    let policy = load_policy(a.policy.as_deref())?;
    let list = service::prepayments_from_store(&mut open_store(data)?, a.year, a.month, &policy)?;
    files::write_prepayments_csv(&a.out, &list)?;
    let total: Fen = list.iter().map(|p| p.prepayment).sum();
    say(format!(
        "{} 年 {} 月预付：{} 家机构，合计 {} 元 / monthly prepayment",
        a.year,
        a.month,
        list.len(),
        total
    ));
    Ok(())
}

fn run_runs(data: &Path, a: &RunsArgs) -> anyhow::Result<()> {
    let status = match &a.status {
        Some(s) => Some(RunStatus::parse(s).with_context(|| {
            format!("状态 '{s}' 无效，应为 draft、submitted、approved 或 rejected / unknown status")
        })?),
        None => None,
    };
    let mut store = open_store(data)?;
    let list = runs::list_runs(
        store.db(),
        &RunFilter {
            kind: a.kind.clone(),
            year: a.year,
            status,
        },
    )?;
    if list.is_empty() {
        println!("没有结算批次 / no settlement runs");
        return Ok(());
    }
    println!("批次\t类型\t年度\t状态\t机构数\t应拨付(元)\t点值\t创建人\t创建时间\t来源");
    for r in list {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.id,
            r.kind,
            r.year,
            r.status.zh(),
            r.institutions,
            r.total_payable,
            r.point_value.map(|v| v.to_string()).unwrap_or_default(),
            r.created_by,
            r.created_at,
            r.source
        );
    }
    Ok(())
}

fn run_show(data: &Path, a: &ShowArgs) -> anyhow::Result<()> {
    let mut store = open_store(data)?;
    let run = runs::get_run(store.db(), a.run_id)?;
    println!(
        "结算批次 #{}：{} {} 年，状态 {}，{} 家机构，应拨付合计 {} 元，创建 {} {}，最近变更 {} {}",
        run.id,
        run.kind,
        run.year,
        run.status.zh(),
        run.institutions,
        run.total_payable,
        run.created_by,
        run.created_at,
        run.status_by,
        run.status_at
    );
    for c in runs::status_history(store.db(), run.id)? {
        println!(
            "  {} {} → {}{}",
            c.at,
            c.actor,
            c.to.zh(),
            c.reason.map(|r| format!("（{r}）")).unwrap_or_default()
        );
    }
    let names = service::names(&store.fixmedins()?);
    if run.kind == "budget" {
        let lines = runs::budget_lines(store.db(), run.id)?;
        if let Some(o) = &a.out {
            files::write_budget_csv(o, &lines)?;
        }
        if let Some(x) = &a.xlsx {
            files::write_budget_xlsx(x, run.year, &lines, &budget::totals(&lines), &names)?;
        }
    } else {
        let scheme = if run.kind == "drg" {
            Scheme::Drg
        } else {
            Scheme::Dip
        };
        let lines = runs::point_lines(store.db(), run.id)?;
        let groups = runs::point_groups(store.db(), run.id)?;
        let result = stored_point_settlement(&run, lines, groups);
        if let Some(o) = &a.out {
            files::write_institutions_csv(o, &result)?;
        }
        if let Some(x) = &a.xlsx {
            let pp: crate::policy::PointPolicy =
                serde_json::from_value(run.params.clone()).unwrap_or_default();
            files::write_points_xlsx(x, scheme, run.year, &result, &names, &pp)?;
        }
    }
    Ok(())
}

/// Rebuilds the exportable part of a point settlement from a stored run (the per-case points are
/// not stored; they are in the `--cases` file of the original command).
fn stored_point_settlement(
    run: &runs::RunInfo,
    lines: Vec<crate::points::InstitutionLine>,
    groups: Vec<runs::StoredGroup>,
) -> PointSettlement {
    use crate::points::{GroupLine, LevelFactor, Points};
    let mut gl: Vec<GroupLine> = Vec::new();
    for g in groups {
        let f = LevelFactor {
            hosp_lv: g.hosp_lv,
            cases: g.level_cases,
            mean_cost: g.level_mean_cost,
            factor: g.factor,
        };
        match gl.last_mut().filter(|l| l.group == g.group.as_str()) {
            Some(l) => l.factors.push(f),
            None => gl.push(GroupLine {
                group: g.group.as_str().into(),
                cases: g.cases,
                total_cost: Fen::ZERO,
                mean_cost: g.mean_cost,
                base_points: g.base_points,
                small_group: g.small_group,
                factors: vec![f],
                points: Points::default(),
            }),
        }
    }
    let cases = run.cases.unwrap_or_default();
    let total_cost = run.total_cost.unwrap_or_default();
    PointSettlement {
        budget: run.budget.unwrap_or_default(),
        cases,
        total_cost,
        // Rounded half up, as the settlement computed it (points.rs), not truncated.
        mean_cost: if cases > 0 {
            Fen(
                medfund_contract::money::div_round_half_up(total_cost.0 as i128, cases as i128)
                    as i64,
            )
        } else {
            Fen::ZERO
        },
        total_points: run.total_points.unwrap_or_default(),
        point_value: run.point_value.unwrap_or_default(),
        paid: run.total_payable,
        residual: run.residual.unwrap_or_default(),
        groups: gl,
        institutions: lines,
        case_points: Vec::new(),
    }
}

fn run_status(data: &Path, a: &StatusArgs) -> anyhow::Result<()> {
    let to = RunStatus::parse(&a.to).with_context(|| {
        format!(
            "状态 '{}' 无效，应为 submitted、approved、rejected 或 draft / unknown status",
            a.to
        )
    })?;
    let mut store = open_store(data)?;
    // A status change is an internal-control decision: the user logs in like on the web (the
    // attempt is logged and counts towards the lockout), and the change goes to the audit log.
    let password = std::env::var("MEDFUND_PASSWORD").map_err(|_| {
        anyhow::anyhow!(
            "请在环境变量 MEDFUND_PASSWORD 中提供 {} 的密码 / set the password of {} in MEDFUND_PASSWORD",
            a.user,
            a.user
        )
    })?;
    let policy = medfund_workflow::Policy::load()?;
    let actor = medfund_workflow::Workflow::new(store.db(), policy.clone())?
        .verify_login(&a.user, &password, "cli")?;
    let r = crate::approval::change_status(
        store.db(),
        &policy,
        &actor,
        a.run_id,
        to,
        a.reason.as_deref(),
    )?;
    println!(
        "结算批次 #{} 已变更为「{}」（{}，{}） / run #{} is now {}",
        r.id,
        r.status.zh(),
        r.status_by,
        r.status_at,
        r.id,
        r.status.code()
    );
    Ok(())
}
