//! `medfund settle status` as the internal control requires: a logged-in bureau user submits, a
//! section chief or leader other than the submitter approves, and every change is in the
//! hash-chained audit log. One test in this binary, since it sets MEDFUND_PASSWORD per call.

use clap::Parser;
use medfund_settle::cli::{run, SettleArgs};
use medfund_settle::runs::RunStatus;
use std::path::Path;

#[derive(Parser)]
struct Cmd {
    #[command(flatten)]
    args: SettleArgs,
}

/// `medfund settle status RUN --to TO --user USER` with USER's demo password.
fn status(data: &Path, run_id: &str, to: &str, user: &str, password: &str) -> anyhow::Result<()> {
    std::env::set_var("MEDFUND_PASSWORD", password);
    let argv = [
        "settle", "status", run_id, "--to", to, "--user", user, "--reason", "意见",
    ];
    let cmd = Cmd::try_parse_from(argv).map_err(|e| anyhow::anyhow!("{e}"))?;
    run(data, &cmd.args)
}

#[test]
fn approval_needs_login_role_and_another_person_and_is_audit_logged() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let input = d.path().join("caps.csv");
    std::fs::write(
        &input,
        "fixmedins_code,cap_in,actual_in,indicators\nH33060400001,1000000,900000,all\n",
    )
    .unwrap();
    let cmd = Cmd::try_parse_from([
        "settle",
        "budget",
        "--year",
        "2024",
        "--input",
        input.to_str().unwrap(),
        "--out",
        d.path().join("out.csv").to_str().unwrap(),
        "--user",
        "张三",
    ])
    .unwrap();
    run(&data, &cmd.args).unwrap();
    let mut store = medfund_store::Store::open(&data).unwrap();
    medfund_workflow::auth::seed_demo_users(store.db(), "H33060400001", "P33060400001").unwrap();
    let id = medfund_settle::runs::list_runs(store.db(), &Default::default()).unwrap()[0]
        .id
        .to_string();
    drop(store);

    // No login, no change: a wrong password is refused.
    let e = status(&data, &id, "submitted", "chief", "wrong").unwrap_err();
    assert!(
        format!("{e:#}").contains("密码") || format!("{e:#}").to_lowercase().contains("password"),
        "{e:#}"
    );
    // A hospital account is not bureau staff.
    let e = status(&data, &id, "submitted", "hospital", "hospital@Medfund1").unwrap_err();
    assert!(e.to_string().contains("bureau staff only"), "{e}");
    // The section chief submits; an auditor may not approve; the chief may not approve his own.
    status(&data, &id, "submitted", "chief", "chief@Medfund1").unwrap();
    let e = status(&data, &id, "approved", "auditor", "auditor@Medfund1").unwrap_err();
    assert!(e.to_string().contains("section chief or leader"), "{e}");
    let e = status(&data, &id, "approved", "chief", "chief@Medfund1").unwrap_err();
    assert!(e.to_string().contains("审批人不能是提交人"), "{e}");
    status(&data, &id, "approved", "leader", "leader@Medfund1").unwrap();

    let mut store = medfund_store::Store::open(&data).unwrap();
    let runs = medfund_settle::runs::list_runs(store.db(), &Default::default()).unwrap();
    assert_eq!(runs[0].status, RunStatus::Approved);
    assert_eq!(runs[0].status_by, "leader");
    // The creation and exactly the two accepted changes are in the audit log, and the chain
    // verifies.
    let rows = store
        .db()
        .query(
            "SELECT action, actor FROM audit_log WHERE entity = 'settle_run' ORDER BY seq",
            &[],
        )
        .unwrap();
    let got: Vec<(String, String)> = rows.iter().map(|r| (r.text(0), r.text(1))).collect();
    assert_eq!(
        got,
        vec![
            ("settlement.created".to_string(), "张三".to_string()),
            ("settlement.submitted".to_string(), "chief".to_string()),
            ("settlement.approved".to_string(), "leader".to_string()),
        ]
    );
    assert!(medfund_workflow::auditlog::verify(store.db()).is_ok());
}
