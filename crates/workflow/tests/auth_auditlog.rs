//! Users, passwords, lockout, the permission matrix; the audit log's chain and tamper detection.
mod common;
use common::*;
use medfund_db::Db;
use medfund_workflow::auditlog::{verify, AuditFilter};
use medfund_workflow::auth::{role_perms, NewUser};
use medfund_workflow::review::Opinion;
use medfund_workflow::{Department, Page, Perm, Role, Scope};
use std::path::Path;

fn users_and_passwords(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    let admin = actor(&mut wf, "admin");
    let aud = actor(&mut wf, "auditor");
    let nu = |name: &str, roles: Vec<Role>, scope: Scope, pw: &str| NewUser {
        username: name.into(),
        display_name: name.into(),
        roles,
        scope,
        password: pw.into(),
    };
    assert_eq!(
        code(wf.create_user(
            &aud,
            &nu("x1", vec![Role::Auditor], Scope::City, "abcd1234")
        )),
        "forbidden"
    );
    assert_eq!(
        code(wf.create_user(
            &admin,
            &nu("x1", vec![Role::Hospital], Scope::City, "abcd1234")
        )),
        "validation",
        "hospital needs an institution"
    );
    assert_eq!(
        code(wf.create_user(
            &admin,
            &nu(
                "x1",
                vec![Role::Hospital],
                Scope::Institution(P1.into()),
                "abcd1234"
            )
        )),
        "validation",
        "hospital needs an H code"
    );
    assert_eq!(
        code(wf.create_user(
            &admin,
            &nu(
                "x1",
                vec![Role::Auditor],
                Scope::Institution(H1.into()),
                "abcd1234"
            )
        )),
        "validation"
    );
    assert_eq!(
        code(wf.create_user(
            &admin,
            &nu(
                "x1",
                vec![Role::Partner],
                Scope::Department(Department::Police),
                "short1"
            )
        )),
        "validation",
        "too short"
    );
    assert_eq!(
        code(wf.create_user(
            &admin,
            &nu(
                "x1",
                vec![Role::Partner],
                Scope::Department(Department::Police),
                "onlyletters"
            )
        )),
        "validation"
    );
    assert_eq!(
        code(wf.create_user(
            &admin,
            &nu("x 1", vec![Role::Auditor], Scope::City, "abcd1234")
        )),
        "validation"
    );
    assert_eq!(
        code(wf.create_user(
            &admin,
            &nu("auditor", vec![Role::Auditor], Scope::City, "abcd1234")
        )),
        "validation",
        "duplicate"
    );
    wf.create_user(
        &admin,
        &nu(
            "police1",
            vec![Role::Partner],
            Scope::Department(Department::Police),
            "abcd1234",
        ),
    )
    .unwrap();
    wf.create_user(
        &admin,
        &nu(
            "police2",
            vec![Role::Partner],
            Scope::Department(Department::Police),
            "abcd1234",
        ),
    )
    .unwrap();
    // Argon2id with a salt per user: the same password hashes differently.
    let rows = wf
        .db()
        .query(
            "SELECT password_hash FROM wf_user WHERE username IN ('police1', 'police2')",
            &[],
        )
        .unwrap();
    assert!(rows
        .iter()
        .all(|r| r.text(0).starts_with("$argon2id$v=19$")));
    assert_ne!(rows[0].text(0), rows[1].text(0));
    assert!(wf.verify_login("police1", "abcd1234", IP).is_ok());

    // Password changes.
    let p1 = actor(&mut wf, "police1");
    assert_eq!(
        code(wf.change_password(&p1, "police1", Some("wrong123"), "newpass123")),
        "auth"
    );
    assert_eq!(
        code(wf.change_password(&p1, "police1", Some("abcd1234"), "weak")),
        "validation"
    );
    wf.change_password(&p1, "police1", Some("abcd1234"), "newpass123")
        .unwrap();
    assert_eq!(code(wf.verify_login("police1", "abcd1234", IP)), "auth");
    assert!(wf.verify_login("police1", "newpass123", IP).is_ok());
    assert_eq!(
        code(wf.change_password(&p1, "police2", None, "other1234")),
        "forbidden"
    );
    wf.change_password(&admin, "police2", None, "reset1234")
        .unwrap();
    assert!(wf.verify_login("police2", "reset1234", IP).is_ok());

    // Administrators cannot change their own account, and disabled users cannot log in.
    assert_eq!(
        code(wf.update_user(
            &admin,
            "admin",
            Some(vec![Role::Admin, Role::SectionChief]),
            None,
            None
        )),
        "same_actor"
    );
    wf.update_user(&admin, "police2", None, None, Some(false))
        .unwrap();
    assert_eq!(code(wf.verify_login("police2", "reset1234", IP)), "auth");
    assert_eq!(wf.list_users(&admin, Page::default()).unwrap().total, 13);
    assert_eq!(code(wf.list_users(&aud, Page::default())), "forbidden");
    // The first administrator can be bootstrapped only on an empty system.
    assert_eq!(
        code(wf.bootstrap_admin("root", "root", "root12345", "cli")),
        "forbidden"
    );
}
both!(users_sqlite_pg, "wf_auth_users", super::users_and_passwords);

fn lockout(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    // Unknown users and wrong passwords read the same.
    let a = wf.verify_login("nobody", "x", IP).unwrap_err().to_string();
    let b = wf
        .verify_login("auditor", "wrong", IP)
        .unwrap_err()
        .to_string();
    assert_eq!(a, b);
    // Failures outside the 15-minute window start over.
    for _ in 0..3 {
        wf.verify_login("auditor", "wrong", IP).unwrap_err();
    }
    wf.set_now(at("2025-03-03 09:16:00"));
    for _ in 0..4 {
        wf.verify_login("auditor", "wrong", IP).unwrap_err();
    }
    assert!(
        wf.verify_login("auditor", "auditor@Medfund1", IP).is_ok(),
        "4 failures in the window do not lock"
    );
    // 5 within the window lock for 30 minutes, even with the right password.
    for i in 0..5 {
        let e = wf
            .verify_login("auditor", "wrong", IP)
            .unwrap_err()
            .to_string();
        assert_eq!(e.contains("锁定"), i == 4, "{e}");
    }
    assert!(wf
        .verify_login("auditor", "auditor@Medfund1", IP)
        .unwrap_err()
        .to_string()
        .contains("锁定"));
    wf.set_now(at("2025-03-03 09:45:59"));
    assert!(wf.verify_login("auditor", "auditor@Medfund1", IP).is_err());
    wf.set_now(at("2025-03-03 09:46:01"));
    let a = wf.verify_login("auditor", "auditor@Medfund1", IP).unwrap();
    assert_eq!(
        (a.roles.as_slice(), a.ip.as_str()),
        ([Role::Auditor].as_slice(), IP)
    );
    // Every attempt is in the audit log, with where it came from.
    let leader = actor(&mut wf, "leader");
    let f = AuditFilter {
        action_prefix: Some("login.failed".into()),
        ..Default::default()
    };
    let l = wf.audit_entries(&leader, &f, Page::default()).unwrap();
    assert_eq!(l.total, 1 + 1 + 3 + 4 + 5 + 1 + 1);
    assert!(l.items.iter().all(|e| e.ip == IP));
}
both!(lockout_sqlite_pg, "wf_auth_lockout", super::lockout);

#[test]
fn permission_matrix() {
    // Every permission belongs to some role; administrators hold no business permission;
    // outside parties hold only their own.
    for p in Perm::ALL {
        assert!(
            Role::ALL.iter().any(|r| role_perms(*r).contains(p)),
            "{p} has no role"
        );
    }
    assert_eq!(
        role_perms(Role::Admin),
        &[Perm::UserAdmin, Perm::AuditLogRead]
    );
    assert_eq!(role_perms(Role::Hospital), &[Perm::Appeal]);
    assert_eq!(role_perms(Role::Partner), &[Perm::ShareFollowUp]);
    assert_eq!(role_perms(Role::ThirdParty), &[Perm::ReviewFirst]);
    // The three approval levels are three different roles.
    let holders = |p: Perm| {
        Role::ALL
            .iter()
            .filter(|r| role_perms(**r).contains(&p))
            .copied()
            .collect::<Vec<_>>()
    };
    assert_eq!(holders(Perm::SanctionApprove1), [Role::SectionChief]);
    assert_eq!(holders(Perm::SanctionApprove2), [Role::Leader]);
    assert_eq!(holders(Perm::SanctionApprove3), [Role::Director]);
    // Proposing and approving sanctions are never the same single role except the chief, who
    // is then stopped by the same-actor check.
    assert!(!role_perms(Role::Auditor).contains(&Perm::SanctionApprove1));
    assert!(!role_perms(Role::Auditor).contains(&Perm::Decide));
}

fn tamper(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    let aud = actor(&mut wf, "auditor");
    let rev = actor(&mut wf, "reviewer");
    let hosp = actor(&mut wf, "hospital");
    let n0 = log_len(&mut wf);
    assert_eq!(n0, 11, "one entry per demo user created");
    let id = wf
        .register_findings(&aud, &[(finding(1, H1, DOC, "10"), "r".into())])
        .unwrap()[0]
        .id;
    wf.first_review(&aud, id, Opinion::Confirm, "成立").unwrap();
    // A refused call writes nothing; each successful call writes exactly one entry.
    assert!(wf.second_review(&hosp, id, true, "x").is_err());
    assert_eq!(log_len(&mut wf), n0 + 2);
    wf.second_review(&rev, id, true, "同意").unwrap();
    assert_eq!(log_len(&mut wf), n0 + 3);
    let v = verify(wf.db()).unwrap();
    assert_eq!(v.entries, 14);
    let leader = actor(&mut wf, "leader");
    let all = wf
        .audit_entries(
            &leader,
            &AuditFilter::default(),
            Page {
                offset: 0,
                limit: 1000,
            },
        )
        .unwrap()
        .items;
    let last = &all[0];
    assert_eq!(
        (
            last.seq,
            last.actor.as_str(),
            last.ip.as_str(),
            last.action.as_str(),
            last.entity.as_str()
        ),
        (14, "reviewer", IP, "review.second", "review")
    );
    assert_eq!(last.entity_id, id.to_string());
    assert_eq!(last.prev_hash, all[1].hash);
    assert_eq!(v.head_hash, last.hash);
    assert_eq!(
        code(wf.audit_entries(&aud, &AuditFilter::default(), Page::default())),
        "forbidden"
    );
    let trail = wf.audit_trail(&leader, "review", &id.to_string()).unwrap();
    assert_eq!(
        trail.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["review.register", "review.first", "review.second"]
    );
    let by_seq = |s: i64| all.iter().find(|e| e.seq == s).unwrap().clone();
    let db = wf.db();
    let restore = |db: &mut Db, e: &medfund_workflow::auditlog::AuditEntry| {
        db.execute("DELETE FROM audit_log WHERE seq = $1", &[e.seq.into()])
            .unwrap();
        db.execute(
            "INSERT INTO audit_log (seq, at, actor, ip, action, entity, entity_id, detail_json, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                e.seq.into(),
                medfund_contract::time::format_datetime(e.at).into(),
                e.actor.as_str().into(),
                e.ip.as_str().into(),
                e.action.as_str().into(),
                e.entity.as_str().into(),
                e.entity_id.as_str().into(),
                e.detail_json.as_str().into(),
                e.prev_hash.as_str().into(),
                e.hash.as_str().into(),
            ],
        )
        .unwrap();
    };
    let tampered = |db: &mut Db| match verify(db) {
        Err(medfund_workflow::WfError::Tampered { seq, reason }) => (seq, reason),
        other => panic!("expected tampering to be detected, got {other:?}"),
    };

    // An edit behind the system's back: verify names the entry.
    db.execute(
        "UPDATE audit_log SET detail_json = $1 WHERE seq = 13",
        &[r#"{"opinion":"dismiss"}"#.into()],
    )
    .unwrap();
    let (seq, reason) = tampered(db);
    assert_eq!(seq, 13);
    assert!(
        reason.contains("修改") && reason.contains("auditor"),
        "{reason}"
    );
    restore(db, &by_seq(13));
    assert!(verify(db).is_ok());
    db.execute("UPDATE audit_log SET actor = 'chief' WHERE seq = 5", &[])
        .unwrap();
    assert_eq!(tampered(db).0, 5);
    db.execute(
        "UPDATE audit_log SET actor = $1, at = '2025-03-03 09:00:01' WHERE seq = 5",
        &[by_seq(5).actor.as_str().into()],
    )
    .unwrap();
    assert_eq!(tampered(db).0, 5, "a changed time is a change");
    restore(db, &by_seq(5));
    // Rewriting the entry's own hash too breaks the link from the next entry.
    let e = by_seq(12);
    let h = medfund_workflow::auditlog::entry_hash(
        &e.prev_hash,
        12,
        &medfund_contract::time::format_datetime(e.at),
        "chief",
        &e.ip,
        &e.action,
        &e.entity,
        &e.entity_id,
        &e.detail_json,
    );
    db.execute(
        "UPDATE audit_log SET actor = 'chief', hash = $1 WHERE seq = 12",
        &[h.into()],
    )
    .unwrap();
    let (seq, reason) = tampered(db);
    assert_eq!(seq, 13);
    assert!(reason.contains("12"), "{reason}");
    restore(db, &by_seq(12));
    assert!(verify(db).is_ok());

    // A deletion in the middle.
    db.execute("DELETE FROM audit_log WHERE seq = 7", &[])
        .unwrap();
    let (seq, reason) = tampered(db);
    assert_eq!(seq, 7);
    assert!(reason.contains("缺失"), "{reason}");
    restore(db, &by_seq(7));
    assert!(verify(db).is_ok());
    // Reordering two entries.
    db.execute("UPDATE audit_log SET seq = -1 WHERE seq = 2", &[])
        .unwrap();
    db.execute("UPDATE audit_log SET seq = 2 WHERE seq = 3", &[])
        .unwrap();
    db.execute("UPDATE audit_log SET seq = 3 WHERE seq = -1", &[])
        .unwrap();
    assert_eq!(tampered(db).0, 2);
    restore(db, &by_seq(2));
    restore(db, &by_seq(3));
    assert!(verify(db).is_ok());
    // Deleting the newest entry.
    db.execute("DELETE FROM audit_log WHERE seq = 14", &[])
        .unwrap();
    let (seq, reason) = tampered(db);
    assert_eq!(seq, 14);
    assert!(reason.contains("删除"), "{reason}");
    restore(db, &by_seq(14));
    assert_eq!(verify(db).unwrap().entries, 14);
}
both!(tamper_sqlite_pg, "wf_auditlog_tamper", super::tamper);
