//! The command line, run in-process: bootstrap, demo users, the review steps, audit-log verify
//! (and its failure after an edit behind the system's back).
use clap::Parser;
use medfund_contract::{Category, Finding, Level};
use medfund_workflow::cli::{run, Command};
use std::path::Path;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    c: Command,
}

fn go(data: &Path, user: Option<&str>, args: &[&str]) -> anyhow::Result<()> {
    // One test function sets the environment, so threads do not race on it.
    if let Some(u) = user {
        std::env::set_var("MEDFUND_USER", u);
        std::env::set_var("MEDFUND_PASSWORD", format!("{u}@Medfund1"));
    }
    let mut v = vec!["medfund"];
    v.extend_from_slice(args);
    let cli = Cli::try_parse_from(v).map_err(|e| anyhow::anyhow!("{e}"))?;
    run(data, &cli.c)
}

#[test]
fn cli_end_to_end() {
    std::env::remove_var("MEDFUND_DB_URL");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // Bootstrapping the first administrator works once, on an empty system; a real system then
    // refuses the demo accounts (their passwords are public).
    let real = tempfile::tempdir().unwrap();
    std::env::set_var("MEDFUND_PASSWORD", "root@Medfund1");
    go(real.path(), None, &["user", "init", "--username", "root"]).unwrap();
    assert!(go(real.path(), None, &["user", "init", "--username", "root2"]).is_err());
    let e = go(real.path(), None, &["user", "demo"]).unwrap_err();
    assert!(e.to_string().contains("non-demo accounts exist"), "{e}");
    // A demo system: the demo accounts, and `user init` refused since users exist.
    go(data, None, &["user", "demo"]).unwrap();
    go(data, None, &["user", "demo"]).unwrap();
    assert!(go(data, None, &["user", "init", "--username", "root"]).is_err());
    std::env::set_var("MEDFUND_NEW_PASSWORD", "Newuser123");
    go(
        data,
        Some("admin"),
        &[
            "user",
            "add",
            "wang",
            "--name",
            "王",
            "--roles",
            "auditor,reviewer",
        ],
    )
    .unwrap();
    assert!(
        go(
            data,
            Some("auditor"),
            &["user", "add", "li", "--name", "李", "--roles", "auditor"]
        )
        .is_err(),
        "not an administrator"
    );

    let mut f = Finding::new("over_price.default", Category::OverPrice, Level::Fee);
    f.mdtrt_id = Some("M1".into());
    f.fixmedins_code = Some("H43010000001".into());
    f.amount = Some("10.00".parse().unwrap());
    f.seal();
    let path = data.join("findings.jsonl");
    std::fs::write(&path, format!("{}\n\n", serde_json::to_string(&f).unwrap())).unwrap();
    go(
        data,
        Some("auditor"),
        &["review", "register", path.to_str().unwrap()],
    )
    .unwrap();
    go(
        data,
        Some("auditor"),
        &["review", "first", "1", "--note", "成立"],
    )
    .unwrap();
    assert!(go(
        data,
        Some("auditor"),
        &["review", "second", "1", "--note", "同意"]
    )
    .is_err());
    go(
        data,
        Some("reviewer"),
        &["review", "second", "1", "--note", "同意"],
    )
    .unwrap();
    let doc = data.join("appeal.txt");
    std::fs::write(&doc, "申诉材料").unwrap();
    go(
        data,
        Some("hospital"),
        &[
            "review",
            "appeal",
            "1",
            "--text",
            "有物价批文",
            "--doc",
            doc.to_str().unwrap(),
        ],
    )
    .unwrap();
    assert!(data.join("evidence").read_dir().unwrap().count() == 1);
    go(data, Some("auditor"), &["review", "investigate", "1"]).unwrap();
    go(
        data,
        Some("chief"),
        &[
            "review",
            "decide",
            "1",
            "--confirmed",
            "10.00",
            "--note",
            "认定",
        ],
    )
    .unwrap();
    assert!(
        go(
            data,
            Some("chief"),
            &["review", "decide", "1", "--note", "x"]
        )
        .is_err(),
        "neither --confirmed nor --cleared"
    );
    go(
        data,
        Some("auditor"),
        &[
            "case",
            "open",
            "--source",
            "review",
            "--source-ref",
            "1",
            "--title",
            "超限价",
        ],
    )
    .unwrap();
    go(
        data,
        Some("auditor"),
        &[
            "points",
            "add",
            "D430100000001",
            "--institution",
            "H43010000001",
            "--band",
            "3",
            "--degree",
            "main",
            "--cause",
            "超限价",
        ],
    )
    .unwrap();
    assert!(
        go(data, Some("chief"), &["points", "approve", "1"]).is_err(),
        "9 points need --months"
    );
    go(
        data,
        Some("chief"),
        &["points", "approve", "1", "--months", "2"],
    )
    .unwrap();
    go(
        data,
        None,
        &[
            "complaint",
            "submit",
            "--anonymous",
            "--target",
            "某药店",
            "--content",
            "药店用医保卡刷生活用品和化妆品",
        ],
    )
    .unwrap();
    go(data, Some("leader"), &["auditlog", "show", "--limit", "5"]).unwrap();
    assert!(go(data, Some("auditor"), &["auditlog", "show"]).is_err());
    // A wrong password is refused.
    std::env::set_var("MEDFUND_USER", "auditor");
    std::env::set_var("MEDFUND_PASSWORD", "wrong");
    assert!(run(
        data,
        &Cli::try_parse_from(["medfund", "review", "list"])
            .unwrap()
            .c
    )
    .is_err());

    go(data, None, &["auditlog", "verify"]).unwrap();
    // Edit a row behind the system's back: verify fails and names the entry.
    let mut db = medfund_db::Db::open_sqlite(&data.join("medfund.sqlite")).unwrap();
    db.execute("UPDATE audit_log SET actor = 'nobody' WHERE seq = 20", &[])
        .unwrap();
    let e = go(data, None, &["auditlog", "verify"])
        .unwrap_err()
        .to_string();
    assert!(e.contains("entry 20") || e.contains("第 20 条"), "{e}");
}

#[test]
fn clap_definition_is_consistent() {
    use clap::CommandFactory;
    Cli::command().debug_assert();
}
