//! `medfund serve`.
use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// 监听地址 / address to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// 关系数据库：postgres://… 或 SQLite 文件 / SQL database URL (default: <data>/medfund.sqlite)
    #[arg(long, env = "MEDFUND_DB_URL")]
    pub db_url: Option<String>,
    /// 启动时打印演示账号 / print the demo accounts on start
    #[arg(long)]
    pub print_accounts: bool,
    /// 不给会话 Cookie 加 Secure 标记（仅在 TLS 代理后使用） / do not mark the session cookie Secure
    #[arg(long)]
    pub insecure_cookies: bool,
}

pub fn run(data: &Path, a: &ServeArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        data.join("medfund.sqlite").exists() || a.db_url.is_some(),
        "数据目录 {} 中没有数据：先运行 medfund demo --no-serve 或 medfund load / no store in {}: run `medfund demo --no-serve` or `medfund load` first",
        data.display(),
        data.display()
    );
    let opts = crate::Options {
        db_url: a.db_url.clone(),
        secure_cookies: !a.insecure_cookies,
        ..Default::default()
    };
    let state = std::sync::Arc::new(crate::AppState::open(data, &opts)?);
    eprintln!("\n  medfund 已启动 / serving on  http://{}/\n", a.addr);
    if a.print_accounts {
        eprintln!("  演示账号 / demo accounts (用户名 / 密码 / 角色):");
        for (user, pass, role) in crate::DEMO_ACCOUNTS_HINT {
            eprintln!("    {user:<14} {pass:<22} {role}");
        }
        eprintln!();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(crate::serve(state, a.addr))
}
