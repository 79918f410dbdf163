//! Test harness: every suite runs on SQLite and on the real PostgreSQL of scripts/test.sh.
#![allow(dead_code)]

use chrono::{NaiveDate, NaiveDateTime};
use medfund_contract::{Category, Fen, Finding, Level};
use medfund_db::Db;
use medfund_workflow::auth::NewUser;
use medfund_workflow::cases::{CaseSource, Nature, NewCase};
use medfund_workflow::{Actor, Policy, Role, Scope, Workflow};
use std::path::Path;

pub const H1: &str = "H43010000001";
pub const H2: &str = "H43010000002";
pub const P1: &str = "P43010000001";
pub const DOC: &str = "D430100000001";
pub const IP: &str = "10.0.0.8";

pub fn run_sqlite(f: fn(&mut Db, &Path)) {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open(dir.path().join("medfund.sqlite").to_str().unwrap()).unwrap();
    f(&mut db, dir.path());
}

pub fn run_pg(schema: &str, f: fn(&mut Db, &Path)) {
    let Some(url) = medfund_db::test_pg_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut db = Db::open(&medfund_db::test_pg_schema(&url, schema).unwrap()).unwrap();
    f(&mut db, dir.path());
}

/// `both!(name, "pg_schema", body)`: one test per backend.
#[macro_export]
macro_rules! both {
    ($name:ident, $schema:literal, $body:path) => {
        mod $name {
            #[test]
            fn sqlite() {
                $crate::common::run_sqlite($body)
            }
            #[test]
            fn postgres() {
                $crate::common::run_pg($schema, $body)
            }
        }
    };
}

pub fn at(s: &str) -> NaiveDateTime {
    medfund_contract::time::parse_datetime(s).unwrap()
}

pub fn day(s: &str) -> NaiveDate {
    medfund_contract::time::parse_date(s).unwrap()
}

pub fn yuan(s: &str) -> Fen {
    Fen::from_yuan_str(s).unwrap()
}

/// Demo users, then the service with a fixed clock and a data directory.
pub fn start<'a>(db: &'a mut Db, dir: &Path, now: &str) -> Workflow<'a> {
    start_with(db, dir, now, Policy::default())
}

pub fn start_with<'a>(db: &'a mut Db, dir: &Path, now: &str, policy: Policy) -> Workflow<'a> {
    medfund_workflow::auth::seed_demo_users(db, H1, P1).unwrap();
    let mut wf = Workflow::new(db, policy).unwrap().with_data_dir(dir);
    wf.set_now(at(now));
    wf
}

pub fn actor(wf: &mut Workflow, name: &str) -> Actor {
    wf.actor_of(name, IP).unwrap()
}

/// Creates an extra user (as the demo admin).
pub fn add_user(wf: &mut Workflow, name: &str, roles: &[Role], scope: Scope) -> Actor {
    let admin = actor(wf, "admin");
    wf.create_user(
        &admin,
        &NewUser {
            username: name.into(),
            display_name: name.into(),
            roles: roles.to_vec(),
            scope,
            password: format!("{name}@Pass123"),
        },
    )
    .unwrap();
    actor(wf, name)
}

/// A sealed suspended-practitioner finding on a fee line of `code`.
pub fn finding(n: u32, code: &str, pract: &str, amount: &str) -> Finding {
    let mut f = Finding::new(
        "suspended_pract.default",
        Category::SuspendedPract,
        Level::Fee,
    );
    f.mdtrt_id = Some(format!("M{n:06}").as_str().into());
    f.feedetl_sn = Some("1".into());
    f.setl_id = Some(format!("S{n:06}").as_str().into());
    f.psn_no = Some("P000000000001".into());
    f.fixmedins_code = Some(code.into());
    f.pract_code = Some(pract.into());
    f.amount = Some(yuan(amount));
    f.evidence.text = "结算人员资格已暂停，非急诊服务".into();
    f.seal();
    f
}

/// A case opened from a model clue, investigated by `auditor`, decided by `chief`.
pub fn decided_case(wf: &mut Workflow, code: &str, nature: Nature, amount: &str) -> i64 {
    let aud = actor(wf, "auditor");
    let chief = actor(wf, "chief");
    let c = wf
        .open_case(
            &aud,
            &NewCase {
                source: Some(CaseSource::Model),
                source_ref: Some("model:phantom_bed".into()),
                fixmedins_code: Some(code.into()),
                title: "挂床住院线索".into(),
                summary: "模型提示挂床".into(),
                suspect_amount: Some(yuan(amount)),
            },
        )
        .unwrap();
    wf.start_case(&aud, c.id, None, "开始调查").unwrap();
    wf.decide_case(&chief, c.id, nature, yuan(amount), "经调查属实")
        .unwrap();
    c.id
}

/// Number of audit-log entries.
pub fn log_len(wf: &mut Workflow) -> i64 {
    wf.db()
        .query_one("SELECT COUNT(*) FROM audit_log", &[])
        .unwrap()
        .int(0)
}

/// The error code of a result.
pub fn code<T: std::fmt::Debug>(r: medfund_workflow::Result<T>) -> &'static str {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.code(),
    }
}
