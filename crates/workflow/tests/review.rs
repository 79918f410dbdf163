//! The review procedure: every transition allowed and refused, the two-person rule, time limits,
//! scope, sampling.
mod common;
use common::*;
use medfund_contract::{Category, Finding, Level};
use medfund_db::Db;
use medfund_workflow::review::{
    random_draw, sample, Opinion, ReviewFilter, ReviewState, SamplingSpec, Verdict, VisitCost,
};
use medfund_workflow::{Page, Ratio, Role, Scope, StateMachine, Upload};
use std::path::Path;

fn procedure(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    let aud = actor(&mut wf, "auditor");
    let rev = actor(&mut wf, "reviewer");
    let chief = actor(&mut wf, "chief");
    let hosp = actor(&mut wf, "hospital");
    let pharm = actor(&mut wf, "pharmacy");
    let dual = add_user(
        &mut wf,
        "dual",
        &[Role::Auditor, Role::Reviewer],
        Scope::City,
    );

    let f = finding(1, H1, DOC, "1234.56");
    let r = wf
        .register_findings(&aud, &[(f.clone(), "人工选取".into())])
        .unwrap();
    assert_eq!(r.len(), 1);
    let id = r[0].id;
    assert_eq!(r[0].state, ReviewState::Pending);
    assert_eq!(
        r[0].due_at,
        Some(at("2025-03-10 09:00:00")),
        "first review: 7 days"
    );
    // Registering the same finding again changes nothing.
    assert!(wf
        .register_findings(&aud, &[(f.clone(), "again".into())])
        .unwrap()
        .is_empty());
    // Institutions are not told about suspects still in internal review.
    assert_eq!(code(wf.get_review(&hosp, id)), "not_found");
    assert_eq!(
        wf.list_reviews(&hosp, &ReviewFilter::default(), Page::default())
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        code(wf.register_findings(&hosp, &[(f.clone(), "x".into())])),
        "forbidden"
    );

    // Roles.
    assert_eq!(
        code(wf.first_review(&rev, id, Opinion::Confirm, "x")),
        "forbidden"
    );
    assert_eq!(code(wf.second_review(&hosp, id, true, "x")), "forbidden");
    // Second review before the first: refused by the state machine.
    assert_eq!(
        code(wf.second_review(&rev, id, true, "x")),
        "invalid_transition"
    );
    assert_eq!(
        code(wf.first_review(&aud, id, Opinion::Confirm, "  ")),
        "validation"
    );

    let r = wf
        .first_review(&aud, id, Opinion::Confirm, "结算人员处于暂停期")
        .unwrap();
    assert_eq!(r.state, ReviewState::FirstReviewed);
    assert_eq!(
        r.due_at,
        Some(at("2025-03-08 09:00:00")),
        "second review: 5 days"
    );
    assert_eq!(
        code(wf.first_review(&aud, id, Opinion::Confirm, "again")),
        "invalid_transition"
    );

    // Returned to first review.
    let r = wf
        .second_review(&rev, id, false, "证据不足，请补充")
        .unwrap();
    assert_eq!(r.state, ReviewState::Pending);
    assert_eq!(r.first_reviewer, None);

    // Two-person rule: the first reviewer cannot also do the second review.
    wf.first_review(&dual, id, Opinion::Confirm, "补充证据后成立")
        .unwrap();
    assert_eq!(
        code(wf.second_review(&dual, id, true, "同意")),
        "same_actor"
    );
    let r = wf.second_review(&rev, id, true, "同意初审意见").unwrap();
    assert_eq!(r.state, ReviewState::Notified);
    assert_eq!(
        r.due_at,
        Some(at("2025-03-13 09:00:00")),
        "appeal window: 10 days"
    );

    // Now the hospital sees it; another institution does not.
    assert_eq!(
        wf.list_reviews(&hosp, &ReviewFilter::default(), Page::default())
            .unwrap()
            .total,
        1
    );
    assert_eq!(code(wf.appeal(&pharm, id, "申诉", &[])), "not_found");
    // Investigation cannot start while the appeal window is open.
    assert_eq!(code(wf.start_investigation(&aud, id, "x")), "validation");
    assert_eq!(code(wf.appeal(&aud, id, "x", &[])), "forbidden");

    let doc = Upload {
        file_name: "../急诊记录.pdf".into(),
        bytes: b"%PDF-1.4 emergency record".to_vec(),
    };
    let r = wf
        .appeal(&hosp, id, "该次就诊为急诊抢救", std::slice::from_ref(&doc))
        .unwrap();
    assert_eq!(r.state, ReviewState::Appealed);
    assert_eq!(
        code(wf.appeal(&hosp, id, "再次申诉", &[])),
        "invalid_transition"
    );
    assert_eq!(
        code(wf.accept_finding(&hosp, id, "认可")),
        "invalid_transition"
    );
    let det = wf.get_review(&hosp, id).unwrap();
    assert_eq!(det.documents.len(), 1);
    assert_eq!(
        det.documents[0].file_name, "急诊记录.pdf",
        "path components are dropped"
    );
    use sha2::Digest;
    let sha: String = sha2::Sha256::digest(&doc.bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(det.documents[0].sha256, sha);
    assert!(dir.join(&det.documents[0].stored_path).exists());

    assert_eq!(
        code(wf.decide_review(&chief, id, Verdict::Confirmed, Some(yuan("1")), "x")),
        "invalid_transition"
    );
    let r = wf.start_investigation(&aud, id, "调取急诊记录").unwrap();
    assert_eq!(r.state, ReviewState::Investigating);
    assert_eq!(
        r.due_at,
        Some(at("2025-04-02 09:00:00")),
        "investigation: 30 days"
    );
    assert_eq!(code(wf.note_investigation(&dual, id, "x")), "forbidden");
    wf.note_investigation(&aud, id, "急诊记录与结算时间不符")
        .unwrap();

    // Decision: not by the investigator's role, amount required and non-negative.
    assert_eq!(
        code(wf.decide_review(&aud, id, Verdict::Confirmed, Some(yuan("1")), "x")),
        "forbidden"
    );
    assert_eq!(
        code(wf.decide_review(&chief, id, Verdict::Confirmed, None, "认定")),
        "validation"
    );
    assert_eq!(
        code(wf.decide_review(&chief, id, Verdict::Confirmed, Some(yuan("-1")), "认定")),
        "validation"
    );
    let r = wf
        .decide_review(
            &chief,
            id,
            Verdict::Confirmed,
            Some(yuan("1234.56")),
            "申诉不成立，认定违规",
        )
        .unwrap();
    assert_eq!(r.state, ReviewState::Decided);
    assert_eq!(r.confirmed_amount, Some(yuan("1234.56")));
    assert_eq!(r.due_at, None);
    assert_eq!(
        code(wf.decide_review(&chief, id, Verdict::Cleared, None, "again")),
        "invalid_transition"
    );

    let det = wf.get_review(&aud, id).unwrap();
    let path: Vec<String> = det.events.iter().map(|e| e.to_state.clone()).collect();
    assert_eq!(
        path,
        [
            "pending",
            "first_reviewed",
            "pending",
            "first_reviewed",
            "notified",
            "appealed",
            "investigating",
            "decided"
        ]
    );
    assert!(det.next_states.is_empty());
}
both!(procedure_sqlite_pg, "wf_rev_procedure", super::procedure);

fn dismiss_and_accept(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    let aud = actor(&mut wf, "auditor");
    let rev = actor(&mut wf, "reviewer");
    let chief = actor(&mut wf, "chief");
    let hosp = actor(&mut wf, "hospital");
    let r = wf
        .register_findings(
            &aud,
            &[
                (finding(1, H1, DOC, "10"), "r".into()),
                (finding(2, H1, DOC, "20"), "r".into()),
            ],
        )
        .unwrap();
    let (a, b) = (r[0].id, r[1].id);
    // Dismissed: first says not a violation, second agrees; terminal.
    wf.first_review(&aud, a, Opinion::Dismiss, "急诊，不属违规")
        .unwrap();
    let r = wf.second_review(&rev, a, true, "同意").unwrap();
    assert_eq!(r.state, ReviewState::Dismissed);
    assert_eq!(r.due_at, None);
    assert_eq!(
        code(wf.appeal(&hosp, a, "x", &[])),
        "not_found",
        "dismissed suspects are never shown to the institution"
    );
    // Accepted by the institution, then decided without investigation.
    wf.first_review(&aud, b, Opinion::Confirm, "成立").unwrap();
    wf.second_review(&rev, b, true, "同意").unwrap();
    let r = wf.accept_finding(&hosp, b, "认可，同意退回").unwrap();
    assert_eq!(r.state, ReviewState::Accepted);
    assert_eq!(
        r.due_at,
        Some(at("2025-03-13 09:00:00")),
        "decision: 10 days"
    );
    let r = wf
        .decide_review(&chief, b, Verdict::Confirmed, Some(yuan("20")), "机构认可")
        .unwrap();
    assert_eq!(r.state, ReviewState::Decided);
}
both!(
    dismiss_and_accept_sqlite_pg,
    "wf_rev_dismiss",
    super::dismiss_and_accept
);

fn appeal_window_and_overdue(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    let aud = actor(&mut wf, "auditor");
    let rev = actor(&mut wf, "reviewer");
    let hosp = actor(&mut wf, "hospital");
    let id = wf
        .register_findings(&aud, &[(finding(1, H1, DOC, "10"), "r".into())])
        .unwrap()[0]
        .id;

    // First review due 2025-03-10 09:00:00: at the limit it is not overdue, one second later it is.
    wf.set_now(at("2025-03-10 09:00:00"));
    assert!(wf.overdue(&aud, false).unwrap().is_empty());
    let soon = wf.overdue(&aud, true).unwrap();
    assert_eq!(soon.len(), 1);
    assert_eq!(soon[0].days_over, 0);
    wf.set_now(at("2025-03-10 09:00:01"));
    let od = wf.overdue(&aud, false).unwrap();
    assert_eq!(od.len(), 1);
    assert_eq!(
        (od[0].entity.as_str(), od[0].id, od[0].days_over),
        ("review", id, 1)
    );
    assert_eq!(
        wf.list_reviews(
            &aud,
            &ReviewFilter {
                overdue_only: true,
                ..Default::default()
            },
            Page::default()
        )
        .unwrap()
        .total,
        1
    );
    assert!(
        wf.overdue(&hosp, false).unwrap().is_empty(),
        "internal review steps are not shown to the institution"
    );
    // Due soon: 2 days ahead.
    wf.set_now(at("2025-03-08 09:00:01"));
    assert!(wf.overdue(&aud, false).unwrap().is_empty());
    assert_eq!(wf.overdue(&aud, true).unwrap()[0].days_over, -2);

    wf.set_now(at("2025-03-11 10:00:00"));
    wf.first_review(&aud, id, Opinion::Confirm, "成立").unwrap();
    wf.second_review(&rev, id, true, "同意").unwrap(); // appeal window until 2025-03-21 10:00:00
    wf.set_now(at("2025-03-21 10:00:00"));
    assert_eq!(
        code(wf.start_investigation(&aud, id, "x")),
        "validation",
        "the window is still open at its last second"
    );
    wf.set_now(at("2025-03-21 10:00:01"));
    let e = wf.appeal(&hosp, id, "逾期申诉", &[]).unwrap_err();
    assert_eq!(e.code(), "validation");
    assert!(e.to_string().contains("申诉期"), "{e}");
    // The hospital sees its own overdue item (it is the one that should have acted).
    let od = wf.overdue(&hosp, false).unwrap();
    assert_eq!(od.len(), 1);
    assert_eq!(od[0].responsible.as_deref(), Some(H1));
    // After the window, the bureau investigates without an appeal.
    let r = wf.start_investigation(&aud, id, "申诉期满未申诉").unwrap();
    assert_eq!(r.state, ReviewState::Investigating);
}
both!(
    appeal_window_sqlite_pg,
    "wf_rev_window",
    super::appeal_window_and_overdue
);

fn third_party_scope(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    let aud = actor(&mut wf, "auditor");
    let chief = actor(&mut wf, "chief");
    let tp = actor(&mut wf, "thirdparty");
    let r = wf
        .register_findings(
            &aud,
            &[
                (finding(1, H1, DOC, "10"), "r".into()),
                (finding(2, H2, DOC, "20"), "r".into()),
            ],
        )
        .unwrap();
    let (a, b) = (r[0].id, r[1].id);
    assert_eq!(code(wf.assign_review(&aud, a, "thirdparty")), "forbidden");
    assert_eq!(
        code(wf.assign_review(&chief, a, "hospital")),
        "validation",
        "hospital users cannot review"
    );
    wf.assign_review(&chief, a, "thirdparty").unwrap();
    // Third party sees only what is assigned to it.
    let l = wf
        .list_reviews(&tp, &ReviewFilter::default(), Page::default())
        .unwrap();
    assert_eq!((l.total, l.items[0].id), (1, a));
    assert_eq!(code(wf.get_review(&tp, b)), "not_found");
    assert_eq!(
        code(wf.first_review(&tp, b, Opinion::Confirm, "x")),
        "not_found"
    );
    // Once assigned, only the assignee does the first review.
    assert_eq!(
        code(wf.first_review(&aud, a, Opinion::Confirm, "x")),
        "forbidden"
    );
    wf.first_review(&tp, a, Opinion::Confirm, "第三方初审成立")
        .unwrap();
    assert_eq!(
        code(wf.assign_review(&chief, a, "auditor")),
        "invalid_transition"
    );
    // Filters.
    let f = ReviewFilter {
        fixmedins_code: Some(H2.into()),
        ..Default::default()
    };
    assert_eq!(
        wf.list_reviews(&aud, &f, Page::default()).unwrap().items[0].id,
        b
    );
    let f = ReviewFilter {
        state: Some(ReviewState::FirstReviewed),
        ..Default::default()
    };
    assert_eq!(wf.list_reviews(&aud, &f, Page::default()).unwrap().total, 1);
    let p = wf
        .list_reviews(
            &aud,
            &ReviewFilter::default(),
            Page {
                offset: 1,
                limit: 1,
            },
        )
        .unwrap();
    assert_eq!((p.total, p.items.len(), p.items[0].id), (2, 1, b));
    // Administrators do not read business records.
    let admin = actor(&mut wf, "admin");
    assert_eq!(
        code(wf.list_reviews(&admin, &ReviewFilter::default(), Page::default())),
        "forbidden"
    );
}
both!(third_party_sqlite_pg, "wf_rev_tp", super::third_party_scope);

#[test]
fn transition_table_is_closed() {
    // Terminal states have no way out; every state is reachable from pending.
    assert!(ReviewState::Decided.next_states().is_empty());
    assert!(ReviewState::Dismissed.next_states().is_empty());
    let mut seen = vec![ReviewState::Pending];
    let mut i = 0;
    while i < seen.len() {
        for n in seen[i].next_states() {
            if !seen.contains(&n) {
                seen.push(n);
            }
        }
        i += 1;
    }
    assert_eq!(seen.len(), ReviewState::ALL.len());
    assert!(
        !ReviewState::Appealed.can_go(ReviewState::Decided),
        "an appeal is always investigated"
    );
}

fn f(id: &str, mdtrt: &str, amount: Option<&str>) -> Finding {
    let mut f = Finding::new("r", Category::OverPrice, Level::Fee);
    f.finding_id = id.into();
    f.mdtrt_id = Some(mdtrt.into());
    f.amount = amount.map(yuan);
    f
}

fn v(m: &str, diag: &str, cost: &str) -> VisitCost {
    VisitCost {
        mdtrt_id: m.into(),
        diag_code: diag.into(),
        cost: yuan(cost),
    }
}

#[test]
fn sampling_threshold_variance_random() {
    let spec = SamplingSpec {
        random_percent: Ratio::whole(0),
        seed: "s".into(),
        amount_threshold: Some(yuan("1000")),
        variance_ratio: Some(Ratio::whole(2)),
        variance_min_peers: 3,
    };
    let findings = vec![
        f("a", "V9", Some("1000.00")), // threshold, boundary included
        f("b", "V8", Some("999.99")),  // below
        f("c", "V5", None),            // 401 > 2 × median 200
        f("d", "V4", None),            // 400 = 2 × 200: not above
        f("e", "W1", None),            // category with too few visits
        f("g", "V0", None),            // no visit cost known
    ];
    let visits = vec![
        v("V1", "E11.900", "100"),
        v("V2", "E11.901", "200"),
        v("V3", "E11.902", "200"),
        v("V4", "E11.900", "400"),
        v("V5", "E11.900", "401"),
        v("W1", "I10.x00", "10000"),
        v("W2", "I10.x00", "100"),
    ];
    let s = sample(&findings, &visits, &spec);
    let idx: Vec<usize> = s.iter().map(|x| x.index).collect();
    assert_eq!(idx, [0, 2]);
    assert!(s[0].reason.contains("阈值"));
    assert!(
        s[1].reason.contains("E11") && s[1].reason.contains("200.00"),
        "{}",
        s[1].reason
    );
    // Random share: 0% none, 100% all, 50% about half and reproducible.
    let many: Vec<Finding> = (0..2000)
        .map(|i| f(&format!("{i:016x}"), "X", None))
        .collect();
    let mut spec = SamplingSpec {
        amount_threshold: None,
        variance_ratio: None,
        ..spec
    };
    assert!(sample(&many, &[], &spec).is_empty());
    spec.random_percent = Ratio::whole(100);
    assert_eq!(sample(&many, &[], &spec).len(), 2000);
    spec.random_percent = Ratio::parse("50").unwrap();
    let a = sample(&many, &[], &spec);
    assert!((900..1100).contains(&a.len()), "{}", a.len());
    assert_eq!(a, sample(&many, &[], &spec));
    spec.seed = "other".into();
    assert_ne!(a, sample(&many, &[], &spec));
    assert!(!random_draw("s", "x", Ratio::whole(0)));
    assert!(random_draw("s", "x", Ratio::whole(100)));
}
