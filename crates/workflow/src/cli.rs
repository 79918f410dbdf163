//! Command-line entry of this crate, flattened into the top level of `medfund`:
//! `medfund user|review|case|inspection|sanction|points|credit|complaint|share|auditlog …`.
//!
//! Every command acts as a user: `--user NAME` (or `MEDFUND_USER`) with the password in
//! `MEDFUND_PASSWORD`; the login is checked (and logged) like any other, the client address is
//! recorded as `cli`. Exceptions: `user init` creates the first administrator of an empty
//! system, `user demo` creates the demo accounts (refused once any other account exists),
//! `complaint submit` is open to the public, and `auditlog verify` only reads. There is
//! no password-less operator mode: every change in the audit log names a real account.
//! Results are printed as JSON.

use crate::auth::NewUser;
use crate::cases::{
    CaseFilter, CaseSource, CaseState, CheckResult, InspectionKind, Nature, NewCase, NewInspection,
};
use crate::complaint::{Channel, ComplaintState, NewComplaint, Triage};
use crate::credit::CreditList;
use crate::points::{Degree, NewPoints, PointsState, RepairInput, RepairKind};
use crate::review::{Opinion, ReviewFilter, ReviewState, SamplingSpec, Verdict};
use crate::sanction::{
    ApproveInput, NewSanction, SanctionFilter, SanctionKind, SanctionState, TransferTarget,
};
use crate::{Actor, Department, Page, Policy, Ratio, Role, Scope, Upload, Workflow};
use anyhow::{bail, Context};
use chrono::NaiveDate;
use medfund_contract::{Fen, Finding};
use medfund_db::Db;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Who runs the command.
#[derive(Debug, Clone, clap::Args)]
pub struct Login {
    /// 登录用户名（密码取自环境变量 MEDFUND_PASSWORD） / user name; the password comes from MEDFUND_PASSWORD
    #[arg(long, env = "MEDFUND_USER", global = true)]
    pub user: Option<String>,
}

/// Pagination of list commands.
#[derive(Debug, Clone, clap::Args)]
pub struct PageArgs {
    /// 跳过条数 / rows to skip
    #[arg(long, default_value_t = 0)]
    pub offset: i64,
    /// 最多条数 / rows to show
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
}

impl PageArgs {
    fn page(&self) -> Page {
        Page {
            offset: self.offset,
            limit: self.limit,
        }
    }
}

/// The workflow commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// 用户与角色 / users and roles
    User {
        #[command(flatten)]
        login: Login,
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// 疑点审核（初审、复审、申诉、调查、处理） / review of suspects
    Review {
        #[command(flatten)]
        login: Login,
        #[command(subcommand)]
        cmd: ReviewCmd,
    },
    /// 案件 / cases
    Case {
        #[command(flatten)]
        login: Login,
        #[command(subcommand)]
        cmd: CaseCmd,
    },
    /// 现场检查（五核实） / on-site inspections
    Inspection {
        #[command(flatten)]
        login: Login,
        #[command(subcommand)]
        cmd: InspectionCmd,
    },
    /// 处理措施、审批与追回 / sanctions, approvals, recovery
    Sanction {
        #[command(flatten)]
        login: Login,
        #[command(subcommand)]
        cmd: SanctionCmd,
    },
    /// 医保支付资格记分 / personnel points
    Points {
        #[command(flatten)]
        login: Login,
        #[command(subcommand)]
        cmd: PointsCmd,
    },
    /// 信用评价、红黑名单、协议状态 / credit, lists, agreements
    Credit {
        #[command(flatten)]
        login: Login,
        #[command(subcommand)]
        cmd: CreditCmd,
    },
    /// 投诉举报与奖励 / complaints and rewards
    Complaint {
        #[command(flatten)]
        login: Login,
        #[command(subcommand)]
        cmd: ComplaintCmd,
    },
    /// 一案多处：案件结果共享 / sharing with partner departments
    Share {
        #[command(flatten)]
        login: Login,
        #[command(subcommand)]
        cmd: ShareCmd,
    },
    /// 审计日志 / audit log
    Auditlog {
        #[command(flatten)]
        login: Login,
        #[command(subcommand)]
        cmd: AuditlogCmd,
    },
}

/// `medfund user …`
#[derive(Debug, clap::Subcommand)]
pub enum UserCmd {
    /// 创建首个管理员（仅限空系统，密码取自 MEDFUND_PASSWORD） / first administrator of an empty system
    Init {
        #[arg(long, default_value = "admin")]
        username: String,
        #[arg(long, default_value = "系统管理员")]
        name: String,
    },
    /// 新增用户（新密码取自 MEDFUND_NEW_PASSWORD） / add a user (password from MEDFUND_NEW_PASSWORD)
    Add {
        username: String,
        /// 显示名 / display name
        #[arg(long)]
        name: String,
        /// 角色，逗号分隔 / roles, comma separated: auditor, reviewer, section_chief, leader, director, hospital, pharmacy, partner, third_party, admin
        #[arg(long)]
        roles: String,
        /// 范围 / scope: city | institution:H… | department:health
        #[arg(long, default_value = "city")]
        scope: String,
    },
    /// 用户列表 / list users
    List {
        #[command(flatten)]
        page: PageArgs,
    },
    /// 修改密码（新密码取自 MEDFUND_NEW_PASSWORD；他人密码须管理员） / change a password
    Passwd {
        /// 默认为本人 / default: yourself
        username: Option<String>,
    },
    /// 停用或启用 / disable or enable a user
    Disable {
        username: String,
        /// 重新启用 / enable again
        #[arg(long)]
        enable: bool,
    },
    /// 创建演示用户（每个角色一个） / create the demo users (one per role)
    Demo {
        #[arg(long, default_value = "H43010000001")]
        hospital: String,
        #[arg(long, default_value = "P43010000001")]
        pharmacy: String,
    },
}

/// `medfund review …`
#[derive(Debug, clap::Subcommand)]
pub enum ReviewCmd {
    /// 登记疑点（JSON Lines 疑点文件；--sample 按政策抽样） / register findings for review
    Register {
        findings: PathBuf,
        /// 按抽样规则（随机比例、金额阈值）选取 / apply the sampling policy
        #[arg(long)]
        sample: bool,
        /// 登记原因 / reason
        #[arg(long, default_value = "人工选取")]
        reason: String,
    },
    /// 列表 / list
    List {
        #[arg(long)]
        state: Option<ReviewState>,
        #[arg(long)]
        institution: Option<String>,
        #[arg(long)]
        overdue: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// 详情 / show
    Show { id: i64 },
    /// 分派初审 / assign the first review
    Assign { id: i64, to: String },
    /// 初审 / first review
    First {
        id: i64,
        /// 疑点不成立 / not a violation
        #[arg(long)]
        dismiss: bool,
        #[arg(long)]
        note: String,
    },
    /// 复审 / second review
    Second {
        id: i64,
        /// 退回初审 / return to the first review
        #[arg(long = "return")]
        send_back: bool,
        #[arg(long)]
        note: String,
    },
    /// 机构申诉 / appeal
    Appeal {
        id: i64,
        #[arg(long)]
        text: String,
        /// 申诉材料 / documents
        #[arg(long)]
        doc: Vec<PathBuf>,
    },
    /// 机构认可 / accept
    Accept {
        id: i64,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 开始调查核实 / start the investigation
    Investigate {
        id: i64,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 处理决定 / decision
    Decide {
        id: i64,
        /// 认定金额（元） / confirmed amount in yuan
        #[arg(long)]
        confirmed: Option<String>,
        /// 不予认定 / cleared
        #[arg(long)]
        cleared: bool,
        #[arg(long)]
        note: String,
    },
    /// 超时提醒 / overdue items (all kinds)
    Overdue {
        /// 包括即将到期 / include due soon
        #[arg(long)]
        soon: bool,
    },
}

/// `medfund case …`
#[derive(Debug, clap::Subcommand)]
pub enum CaseCmd {
    /// 立案 / open a case
    Open {
        /// review | finding | model | referral | inspection
        #[arg(long)]
        source: CaseSource,
        /// 来源编号 / source reference (review id for --source review)
        #[arg(long)]
        source_ref: Option<String>,
        #[arg(long)]
        institution: Option<String>,
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        summary: String,
        /// 涉嫌金额（元） / suspect amount
        #[arg(long)]
        amount: Option<String>,
    },
    /// 列表 / list
    List {
        #[arg(long)]
        state: Option<CaseState>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// 详情 / show
    Show { id: i64 },
    /// 开始调查 / start the investigation
    Start {
        id: i64,
        /// 承办人（默认本人） / handler
        #[arg(long)]
        handler: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 处理决定 / decide
    Decide {
        id: i64,
        /// violation | fraud | none
        #[arg(long)]
        nature: Nature,
        /// 认定金额（元） / confirmed amount
        #[arg(long)]
        amount: String,
        #[arg(long)]
        note: String,
    },
    /// 结案 / close
    Close {
        id: i64,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 撤销 / drop
    Drop {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// 上传证据 / attach evidence files
    Evidence { id: i64, files: Vec<PathBuf> },
}

/// `medfund inspection …`
#[derive(Debug, clap::Subcommand)]
pub enum InspectionCmd {
    /// 计划检查（默认五核实清单） / plan (default checklist: the five verifications)
    Plan {
        #[arg(long)]
        institution: String,
        #[arg(long)]
        case: Option<i64>,
        /// routine | special | flight | stationed
        #[arg(long, default_value = "routine")]
        kind: InspectionKind,
        /// YYYY-MM-DD
        #[arg(long)]
        date: String,
    },
    /// 开始现场检查 / start on site
    Start {
        id: i64,
        /// 检查人员，逗号分隔 / inspectors, comma separated
        #[arg(long)]
        inspectors: String,
    },
    /// 记录检查项 / record an item
    Check {
        id: i64,
        item: String,
        /// ok | issue | na
        result: CheckResult,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 完成检查 / complete
    Complete {
        id: i64,
        #[arg(long)]
        summary: String,
    },
    /// 上传证据 / attach evidence
    Evidence { id: i64, files: Vec<PathBuf> },
    /// 详情 / show
    Show { id: i64 },
    /// 列表 / list
    List {
        #[arg(long)]
        institution: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
}

/// `medfund sanction …`
#[derive(Debug, clap::Subcommand)]
pub enum SanctionCmd {
    /// 提出处理措施 / propose
    Propose {
        #[arg(long)]
        case: i64,
        /// interview | rectification | recovery | liquidated_damages | suspend_agreement | terminate_agreement | admin_penalty | credit_deduction | transfer
        #[arg(long)]
        kind: SanctionKind,
        /// 计算基数（元，默认案件认定金额） / basis amount
        #[arg(long)]
        basis: Option<String>,
        /// 中止协议月数 / months of agreement suspension
        #[arg(long)]
        months: Option<u32>,
        /// 信用扣分 / credit points
        #[arg(long)]
        points: Option<i64>,
        /// police | procuratorate | court | discipline
        #[arg(long)]
        transfer_to: Option<TransferTarget>,
        /// 整改期限 YYYY-MM-DD / rectification deadline
        #[arg(long)]
        deadline: Option<String>,
        #[arg(long)]
        reason: String,
    },
    /// 审批（本级） / approve the next level
    Approve {
        id: i64,
        /// 罚款倍数（行政处罚） / penalty multiple
        #[arg(long)]
        multiple: Option<String>,
        /// 倍数理由 / why this multiple
        #[arg(long)]
        why: Option<String>,
        #[arg(long, default_value = "同意")]
        note: String,
    },
    /// 驳回 / reject
    Reject {
        id: i64,
        #[arg(long)]
        note: String,
    },
    /// 记录集体讨论决定 / record the collective decision
    Collective {
        id: i64,
        #[arg(long)]
        date: String,
        /// 参会人员，逗号分隔 / participants
        #[arg(long)]
        participants: String,
        #[arg(long)]
        conclusion: String,
    },
    /// 执行（非缴款类） / mark executed
    Execute {
        id: i64,
        /// 生效日期 / effective date
        #[arg(long)]
        effective: String,
        #[arg(long)]
        note: String,
    },
    /// 登记缴款 / record a payment
    Pay {
        id: i64,
        #[arg(long)]
        amount: String,
        #[arg(long)]
        date: String,
        #[arg(long, default_value = "")]
        reference: String,
    },
    /// 列表 / list
    List {
        #[arg(long)]
        state: Option<SanctionState>,
        #[arg(long)]
        overdue: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// 详情 / show
    Show { id: i64 },
    /// 追回汇总 / recovery totals
    Summary {
        #[arg(long)]
        year: Option<i32>,
    },
}

/// `medfund points …`
#[derive(Debug, clap::Subcommand)]
pub enum PointsCmd {
    /// 提出记分 / propose points
    Add {
        pract: String,
        #[arg(long)]
        institution: String,
        /// 1 (1–3) | 2 (4–6) | 3 (7–9) | 4 (10–12)
        #[arg(long)]
        band: i64,
        /// general | important | main
        #[arg(long)]
        degree: Degree,
        #[arg(long)]
        cause: String,
        #[arg(long)]
        case: Option<i64>,
        #[arg(long)]
        sanction: Option<i64>,
    },
    /// 审核记分（达到暂停分值时须 --months） / approve points
    Approve {
        id: i64,
        /// 暂停月数 1–6 / suspension months
        #[arg(long)]
        months: Option<u32>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 驳回 / reject
    Reject {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// 一人一档 / a person's file
    Show { pract: String },
    /// 修复：--reduce N 减分，或 --shorten DAYS --measure ID 缩短暂停 / repair
    Repair {
        pract: String,
        #[arg(long)]
        reduce: Option<i64>,
        #[arg(long)]
        shorten: Option<i64>,
        #[arg(long)]
        measure: Option<i64>,
        #[arg(long)]
        reason: String,
    },
    /// 终止期满重新登记 / re-registration after termination
    Reregister {
        pract: String,
        #[arg(long)]
        date: String,
        #[arg(long)]
        note: String,
    },
    /// 暂停/终止人员占比超标机构 / institutions above the staff share
    Flags {
        #[arg(long)]
        year: i32,
    },
    /// 记分列表 / list entries
    List {
        #[arg(long)]
        state: Option<PointsState>,
        #[command(flatten)]
        page: PageArgs,
    },
}

/// `medfund credit …`
#[derive(Debug, clap::Subcommand)]
pub enum CreditCmd {
    /// 信用评价 / evaluate an institution
    Eval {
        institution: String,
        #[arg(long)]
        year: i32,
    },
    /// 评价结果 / evaluations of a year
    List {
        #[arg(long)]
        year: i32,
    },
    /// 分级检查计划 / graded inspection plan
    Plan {
        #[arg(long)]
        year: i32,
    },
    /// 列入红/黑名单 / add to a list
    ListAdd {
        institution: String,
        /// red | black
        #[arg(long)]
        list: CreditList,
        #[arg(long)]
        reason: String,
    },
    /// 移出名单 / remove a list entry
    ListRemove {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// 协议状态 / agreement status
    Agreement {
        institution: String,
        /// 日期（默认今天） / day (default today)
        #[arg(long)]
        date: Option<String>,
    },
}

/// `medfund complaint …`
#[derive(Debug, clap::Subcommand)]
pub enum ComplaintCmd {
    /// 登记投诉举报（公众可用，无需登录） / submit (open to the public)
    Submit {
        #[arg(long)]
        anonymous: bool,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        contact: Option<String>,
        #[arg(long)]
        institution: Option<String>,
        #[arg(long)]
        target: String,
        #[arg(long)]
        content: String,
        /// phone | letter | visit | online | 12345
        #[arg(long, default_value = "online")]
        channel: Channel,
    },
    /// 分办：--open-case 标题 | --link-case ID | --reject 理由 / triage
    Triage {
        id: i64,
        #[arg(long)]
        open_case: Option<String>,
        #[arg(long)]
        link_case: Option<i64>,
        #[arg(long)]
        reject: Option<String>,
    },
    /// 根据案件结论办结 / conclude from the case
    Conclude { id: i64 },
    /// 计算并提出奖励 / propose the reward
    Reward { id: i64 },
    /// 审批奖励 / approve the reward
    ApproveReward { id: i64 },
    /// 发放奖励 / pay the reward
    Pay {
        id: i64,
        /// 匿名举报的领取码 / claim code
        #[arg(long)]
        claim_code: Option<String>,
        #[arg(long)]
        reference: String,
    },
    /// 列表 / list
    List {
        #[arg(long)]
        state: Option<ComplaintState>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// 详情 / show
    Show { id: i64 },
}

/// `medfund share …`
#[derive(Debug, clap::Subcommand)]
pub enum ShareCmd {
    /// 导出案件结果给协作部门 / export a case to a department
    Export {
        case: i64,
        /// health | market | police | procuratorate | court | audit
        #[arg(long)]
        dept: Department,
        #[arg(long)]
        json: Option<PathBuf>,
        #[arg(long)]
        xlsx: Option<PathBuf>,
    },
    /// 协作部门记录跟进 / record a follow-up
    Followup {
        share: i64,
        #[arg(long)]
        action: String,
        #[arg(long)]
        note: String,
    },
    /// 共享列表 / list shares
    List,
}

/// `medfund auditlog …`
#[derive(Debug, clap::Subcommand)]
pub enum AuditlogCmd {
    /// 校验哈希链 / verify the hash chain
    Verify,
    /// 查看日志 / show entries (newest first)
    Show {
        #[arg(long)]
        entity: Option<String>,
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        actor: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
}

/// Opens the operational store: `MEDFUND_DB_URL` when set, else `<data>/medfund.sqlite`.
pub fn open_db(data: &Path) -> anyhow::Result<Db> {
    match std::env::var("MEDFUND_DB_URL") {
        Ok(u) if !u.is_empty() => Ok(Db::open(&u)?),
        _ => Ok(Db::open_sqlite(&data.join("medfund.sqlite"))?),
    }
}

fn print<T: Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn money(s: &str) -> anyhow::Result<Fen> {
    Fen::from_yuan_str(s).map_err(|e| anyhow::anyhow!("金额 '{s}' 无效 / invalid amount: {e}"))
}

fn date(s: &str) -> anyhow::Result<NaiveDate> {
    Ok(medfund_contract::time::parse_date(s)?)
}

fn password(var: &str) -> anyhow::Result<String> {
    std::env::var(var)
        .map_err(|_| anyhow::anyhow!("请在环境变量 {var} 中提供密码 / set the password in {var}"))
}

fn login(wf: &mut Workflow, l: &Login) -> anyhow::Result<Actor> {
    let user = l.user.as_deref().context(
        "请用 --user 或 MEDFUND_USER 指定登录用户 / give --user (password in MEDFUND_PASSWORD)",
    )?;
    Ok(wf.verify_login(user, &password("MEDFUND_PASSWORD")?, "cli")?)
}

fn uploads(files: &[PathBuf]) -> anyhow::Result<Vec<Upload>> {
    files
        .iter()
        .map(|p| Upload::from_path(p).map_err(Into::into))
        .collect()
}

fn split(s: &str) -> Vec<String> {
    s.split([',', '，'])
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// Runs a workflow command against the store in `data`.
pub fn run(data: &Path, cmd: &Command) -> anyhow::Result<()> {
    let mut db = open_db(data)?;
    let policy = Policy::load()?;
    // `user demo` seeds before a service exists; everything else goes through one service.
    if let Command::User {
        cmd: UserCmd::Demo { hospital, pharmacy },
        ..
    } = cmd
    {
        let users = crate::auth::seed_demo_users(&mut db, hospital, pharmacy)?;
        return print(&users);
    }
    let mut wf = Workflow::new(&mut db, policy)?.with_data_dir(data);
    match cmd {
        Command::User { login: l, cmd } => user(&mut wf, l, cmd),
        Command::Review { login: l, cmd } => review(&mut wf, l, cmd),
        Command::Case { login: l, cmd } => case(&mut wf, l, cmd),
        Command::Inspection { login: l, cmd } => inspection(&mut wf, l, cmd),
        Command::Sanction { login: l, cmd } => sanction(&mut wf, l, cmd),
        Command::Points { login: l, cmd } => points(&mut wf, l, cmd),
        Command::Credit { login: l, cmd } => credit(&mut wf, l, cmd),
        Command::Complaint { login: l, cmd } => complaint(&mut wf, l, cmd),
        Command::Share { login: l, cmd } => share(&mut wf, l, cmd),
        Command::Auditlog { login: l, cmd } => auditlog(&mut wf, l, cmd),
    }
}

fn user(wf: &mut Workflow, l: &Login, cmd: &UserCmd) -> anyhow::Result<()> {
    if let UserCmd::Init { username, name } = cmd {
        let u = wf.bootstrap_admin(username, name, &password("MEDFUND_PASSWORD")?, "cli")?;
        return print(&u);
    }
    let a = login(wf, l)?;
    match cmd {
        UserCmd::Add {
            username,
            name,
            roles,
            scope,
        } => {
            let roles: Vec<Role> = split(roles)
                .iter()
                .map(|r| r.parse())
                .collect::<Result<_, _>>()?;
            let u = wf.create_user(
                &a,
                &NewUser {
                    username: username.clone(),
                    display_name: name.clone(),
                    roles,
                    scope: Scope::parse(scope)?,
                    password: password("MEDFUND_NEW_PASSWORD")?,
                },
            )?;
            print(&u)
        }
        UserCmd::List { page } => print(&wf.list_users(&a, page.page())?),
        UserCmd::Passwd { username } => {
            let target = username.clone().unwrap_or(a.username.clone());
            let old = (target == a.username)
                .then(|| password("MEDFUND_PASSWORD"))
                .transpose()?;
            wf.change_password(
                &a,
                &target,
                old.as_deref(),
                &password("MEDFUND_NEW_PASSWORD")?,
            )?;
            println!("密码已修改 / password changed: {target}");
            Ok(())
        }
        UserCmd::Disable { username, enable } => {
            print(&wf.update_user(&a, username, None, None, Some(*enable))?)
        }
        UserCmd::Init { .. } | UserCmd::Demo { .. } => unreachable!("handled above"),
    }
}

fn read_findings(path: &Path) -> anyhow::Result<Vec<Finding>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("无法读取 / cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| {
                format!(
                    "{} 第 {} 行不是疑点 JSON / line {} is not a finding",
                    path.display(),
                    i + 1,
                    i + 1
                )
            })
        })
        .collect()
}

fn review(wf: &mut Workflow, l: &Login, cmd: &ReviewCmd) -> anyhow::Result<()> {
    let a = login(wf, l)?;
    match cmd {
        ReviewCmd::Register {
            findings,
            sample,
            reason,
        } => {
            let all = read_findings(findings)?;
            let chosen: Vec<(Finding, String)> = if *sample {
                let spec = SamplingSpec::from_policy(&wf.policy().sampling);
                crate::review::sample(&all, &[], &spec)
                    .into_iter()
                    .map(|s| (all[s.index].clone(), s.reason))
                    .collect()
            } else {
                all.into_iter().map(|f| (f, reason.clone())).collect()
            };
            let r = wf.register_findings(&a, &chosen)?;
            eprintln!(
                "登记 {} 条疑点（{} 条已在审核中） / registered {}",
                r.len(),
                chosen.len() - r.len(),
                r.len()
            );
            print(
                &r.iter()
                    .map(|x| (x.id, x.finding_id.clone()))
                    .collect::<Vec<_>>(),
            )
        }
        ReviewCmd::List {
            state,
            institution,
            overdue,
            page,
        } => {
            let f = ReviewFilter {
                state: *state,
                fixmedins_code: institution.clone(),
                overdue_only: *overdue,
                ..Default::default()
            };
            print(&wf.list_reviews(&a, &f, page.page())?)
        }
        ReviewCmd::Show { id } => print(&wf.get_review(&a, *id)?),
        ReviewCmd::Assign { id, to } => print(&wf.assign_review(&a, *id, to)?),
        ReviewCmd::First { id, dismiss, note } => print(&wf.first_review(
            &a,
            *id,
            if *dismiss {
                Opinion::Dismiss
            } else {
                Opinion::Confirm
            },
            note,
        )?),
        ReviewCmd::Second {
            id,
            send_back,
            note,
        } => print(&wf.second_review(&a, *id, !*send_back, note)?),
        ReviewCmd::Appeal { id, text, doc } => print(&wf.appeal(&a, *id, text, &uploads(doc)?)?),
        ReviewCmd::Accept { id, note } => print(&wf.accept_finding(&a, *id, note)?),
        ReviewCmd::Investigate { id, note } => print(&wf.start_investigation(&a, *id, note)?),
        ReviewCmd::Decide {
            id,
            confirmed,
            cleared,
            note,
        } => {
            let (v, amt) = match (confirmed, cleared) {
                (Some(x), false) => (Verdict::Confirmed, Some(money(x)?)),
                (None, true) => (Verdict::Cleared, None),
                _ => bail!("请给出 --confirmed 金额 或 --cleared 之一 / give --confirmed AMOUNT or --cleared"),
            };
            print(&wf.decide_review(&a, *id, v, amt, note)?)
        }
        ReviewCmd::Overdue { soon } => print(&wf.overdue(&a, *soon)?),
    }
}

fn case(wf: &mut Workflow, l: &Login, cmd: &CaseCmd) -> anyhow::Result<()> {
    let a = login(wf, l)?;
    match cmd {
        CaseCmd::Open {
            source,
            source_ref,
            institution,
            title,
            summary,
            amount,
        } => {
            let n = NewCase {
                source: Some(*source),
                source_ref: source_ref.clone(),
                fixmedins_code: institution.clone(),
                title: title.clone(),
                summary: summary.clone(),
                suspect_amount: amount.as_deref().map(money).transpose()?,
            };
            print(&wf.open_case(&a, &n)?)
        }
        CaseCmd::List { state, page } => print(&wf.list_cases(
            &a,
            &CaseFilter {
                state: *state,
                ..Default::default()
            },
            page.page(),
        )?),
        CaseCmd::Show { id } => print(&wf.get_case(&a, *id)?),
        CaseCmd::Start { id, handler, note } => {
            print(&wf.start_case(&a, *id, handler.as_deref(), note)?)
        }
        CaseCmd::Decide {
            id,
            nature,
            amount,
            note,
        } => print(&wf.decide_case(&a, *id, *nature, money(amount)?, note)?),
        CaseCmd::Close { id, note } => print(&wf.close_case(&a, *id, note)?),
        CaseCmd::Drop { id, reason } => print(&wf.drop_case(&a, *id, reason)?),
        CaseCmd::Evidence { id, files } => {
            print(&wf.add_evidence(&a, "case", *id, &uploads(files)?)?)
        }
    }
}

fn inspection(wf: &mut Workflow, l: &Login, cmd: &InspectionCmd) -> anyhow::Result<()> {
    let a = login(wf, l)?;
    match cmd {
        InspectionCmd::Plan {
            institution,
            case,
            kind,
            date: d,
        } => {
            let n = NewInspection {
                fixmedins_code: institution.clone(),
                case_id: *case,
                kind: *kind,
                planned_on: date(d)?,
                checklist: None,
            };
            print(&wf.plan_inspection(&a, &n)?)
        }
        InspectionCmd::Start { id, inspectors } => {
            print(&wf.start_inspection(&a, *id, &split(inspectors))?)
        }
        InspectionCmd::Check {
            id,
            item,
            result,
            note,
        } => print(&wf.record_check(&a, *id, item, *result, note)?),
        InspectionCmd::Complete { id, summary } => {
            print(&wf.complete_inspection(&a, *id, summary)?)
        }
        InspectionCmd::Evidence { id, files } => {
            print(&wf.add_evidence(&a, "inspection", *id, &uploads(files)?)?)
        }
        InspectionCmd::Show { id } => print(&wf.get_inspection(&a, *id)?),
        InspectionCmd::List { institution, page } => {
            print(&wf.list_inspections(&a, institution.as_deref(), None, page.page())?)
        }
    }
}

fn sanction(wf: &mut Workflow, l: &Login, cmd: &SanctionCmd) -> anyhow::Result<()> {
    let a = login(wf, l)?;
    match cmd {
        SanctionCmd::Propose {
            case,
            kind,
            basis,
            months,
            points,
            transfer_to,
            deadline,
            reason,
        } => {
            let n = NewSanction {
                case_id: *case,
                kind: Some(*kind),
                basis: basis.as_deref().map(money).transpose()?,
                months: *months,
                credit_points: *points,
                transfer_to: *transfer_to,
                deadline: deadline.as_deref().map(date).transpose()?,
                reason: reason.clone(),
            };
            print(&wf.propose_sanction(&a, &n)?)
        }
        SanctionCmd::Approve {
            id,
            multiple,
            why,
            note,
        } => {
            let input = ApproveInput {
                multiple: multiple.as_deref().map(Ratio::parse).transpose()?,
                multiple_reason: why.clone(),
                note: note.clone(),
            };
            print(&wf.approve_sanction(&a, *id, &input)?)
        }
        SanctionCmd::Reject { id, note } => print(&wf.reject_sanction(&a, *id, note)?),
        SanctionCmd::Collective {
            id,
            date: d,
            participants,
            conclusion,
        } => print(&wf.record_collective_decision(
            &a,
            *id,
            date(d)?,
            &split(participants),
            conclusion,
        )?),
        SanctionCmd::Execute {
            id,
            effective,
            note,
        } => print(&wf.execute_sanction(&a, *id, date(effective)?, note)?),
        SanctionCmd::Pay {
            id,
            amount,
            date: d,
            reference,
        } => print(&wf.record_payment(&a, *id, money(amount)?, date(d)?, reference)?),
        SanctionCmd::List {
            state,
            overdue,
            page,
        } => print(&wf.list_sanctions(
            &a,
            &SanctionFilter {
                state: *state,
                overdue_only: *overdue,
                ..Default::default()
            },
            page.page(),
        )?),
        SanctionCmd::Show { id } => print(&wf.get_sanction(&a, *id)?),
        SanctionCmd::Summary { year } => print(&wf.recovery_summary(&a, *year)?),
    }
}

fn points(wf: &mut Workflow, l: &Login, cmd: &PointsCmd) -> anyhow::Result<()> {
    let a = login(wf, l)?;
    match cmd {
        PointsCmd::Add {
            pract,
            institution,
            band,
            degree,
            cause,
            case,
            sanction,
        } => {
            let n = NewPoints {
                pract_code: pract.clone(),
                fixmedins_code: institution.clone(),
                band: *band,
                degree: *degree,
                cause: cause.clone(),
                case_id: *case,
                sanction_id: *sanction,
            };
            print(&wf.propose_points(&a, &n)?)
        }
        PointsCmd::Approve { id, months, note } => {
            print(&wf.approve_points(&a, *id, *months, note)?)
        }
        PointsCmd::Reject { id, reason } => print(&wf.reject_points(&a, *id, reason)?),
        PointsCmd::Show { pract } => print(&wf.person_file(&a, pract)?),
        PointsCmd::Repair {
            pract,
            reduce,
            shorten,
            measure,
            reason,
        } => {
            let r = match (reduce, shorten) {
                (Some(p), None) => RepairInput { pract_code: pract.clone(), kind: RepairKind::ReducePoints, points: *p, measure_id: None, days: 0, reason: reason.clone() },
                (None, Some(d)) => RepairInput { pract_code: pract.clone(), kind: RepairKind::ShortenSuspension, points: 0, measure_id: *measure, days: *d, reason: reason.clone() },
                _ => bail!("请给出 --reduce 分值 或 --shorten 天数 --measure 编号 之一 / give --reduce N or --shorten DAYS --measure ID"),
            };
            print(&wf.repair(&a, &r)?)
        }
        PointsCmd::Reregister {
            pract,
            date: d,
            note,
        } => print(&wf.reregister(&a, pract, date(d)?, note)?),
        PointsCmd::Flags { year } => print(&wf.institution_flags(&a, *year, None)?),
        PointsCmd::List { state, page } => {
            print(&wf.list_points(&a, *state, None, None, page.page())?)
        }
    }
}

fn credit(wf: &mut Workflow, l: &Login, cmd: &CreditCmd) -> anyhow::Result<()> {
    let a = login(wf, l)?;
    match cmd {
        CreditCmd::Eval { institution, year } => {
            print(&wf.evaluate_credit(&a, institution, *year)?)
        }
        CreditCmd::List { year } => print(&wf.credit_reports(&a, *year)?),
        CreditCmd::Plan { year } => print(&wf.inspection_plan(&a, *year)?),
        CreditCmd::ListAdd {
            institution,
            list,
            reason,
        } => print(&wf.add_list_entry(&a, institution, *list, reason)?),
        CreditCmd::ListRemove { id, reason } => print(&wf.remove_list_entry(&a, *id, reason)?),
        CreditCmd::Agreement {
            institution,
            date: d,
        } => {
            let day = match d {
                Some(d) => date(d)?,
                None => wf.today(),
            };
            let (status, measures) = wf.agreement(&a, institution, day)?;
            print(
                &serde_json::json!({"fixmedins_code": institution, "date": day, "status": status, "status_zh": status.zh(), "measures": measures}),
            )
        }
    }
}

fn complaint(wf: &mut Workflow, l: &Login, cmd: &ComplaintCmd) -> anyhow::Result<()> {
    if let ComplaintCmd::Submit {
        anonymous,
        name,
        contact,
        institution,
        target,
        content,
        channel,
    } = cmd
    {
        let a = match &l.user {
            Some(_) => login(wf, l)?,
            None => Actor::public("cli"),
        };
        let n = NewComplaint {
            anonymous: *anonymous,
            reporter_name: name.clone(),
            reporter_contact: contact.clone(),
            fixmedins_code: institution.clone(),
            target: target.clone(),
            content: content.clone(),
            channel: *channel,
        };
        let r = wf.submit_complaint(&a, &n)?;
        if let Some(c) = &r.claim_code {
            eprintln!(
                "请妥善保存领取码（仅显示一次）：{c} / keep this claim code, it is shown once"
            );
        }
        return print(&r);
    }
    let a = login(wf, l)?;
    match cmd {
        ComplaintCmd::Triage {
            id,
            open_case,
            link_case,
            reject,
        } => {
            let t = match (open_case, link_case, reject) {
                (Some(t), None, None) => Triage::OpenCase { title: t.clone() },
                (None, Some(c), None) => Triage::LinkCase { case_id: *c },
                (None, None, Some(r)) => Triage::Reject { reason: r.clone() },
                _ => bail!(
                    "请给出 --open-case、--link-case、--reject 之一 / give exactly one of them"
                ),
            };
            print(&wf.triage_complaint(&a, *id, &t)?)
        }
        ComplaintCmd::Conclude { id } => print(&wf.conclude_complaint(&a, *id)?),
        ComplaintCmd::Reward { id } => print(&wf.propose_reward(&a, *id)?),
        ComplaintCmd::ApproveReward { id } => print(&wf.approve_reward(&a, *id)?),
        ComplaintCmd::Pay {
            id,
            claim_code,
            reference,
        } => print(&wf.pay_reward(&a, *id, claim_code.as_deref(), reference)?),
        ComplaintCmd::List { state, page } => {
            print(&wf.list_complaints(&a, *state, page.page())?)
        }
        ComplaintCmd::Show { id } => print(&wf.get_complaint(&a, *id)?),
        ComplaintCmd::Submit { .. } => unreachable!("handled above"),
    }
}

fn share(wf: &mut Workflow, l: &Login, cmd: &ShareCmd) -> anyhow::Result<()> {
    let a = login(wf, l)?;
    match cmd {
        ShareCmd::Export {
            case,
            dept,
            json,
            xlsx,
        } => {
            let (rec, doc) = wf.share_case(&a, *case, *dept)?;
            if let Some(p) = json {
                crate::share::write_share_json(&doc, p)?;
                eprintln!("已写出 / wrote {}", p.display());
            }
            if let Some(p) = xlsx {
                crate::share::write_share_xlsx(&doc, p)?;
                eprintln!("已写出 / wrote {}", p.display());
            }
            print(&rec)
        }
        ShareCmd::Followup {
            share,
            action,
            note,
        } => print(&wf.record_followup(&a, *share, action, note)?),
        ShareCmd::List => print(&wf.list_shares(&a)?),
    }
}

fn auditlog(wf: &mut Workflow, l: &Login, cmd: &AuditlogCmd) -> anyhow::Result<()> {
    match cmd {
        AuditlogCmd::Verify => match crate::auditlog::verify(wf.db()) {
            Ok(v) => {
                println!(
                    "审计日志完整 / audit log OK: {} 条 entries, 末条哈希 head {}",
                    v.entries, v.head_hash
                );
                Ok(())
            }
            Err(e) => bail!("{e}"),
        },
        AuditlogCmd::Show {
            entity,
            id,
            actor,
            page,
        } => {
            let a = login(wf, l)?;
            let f = crate::auditlog::AuditFilter {
                actor: actor.clone(),
                entity: entity.clone(),
                entity_id: id.clone(),
                action_prefix: None,
            };
            print(&wf.audit_entries(&a, &f, page.page())?)
        }
    }
}
