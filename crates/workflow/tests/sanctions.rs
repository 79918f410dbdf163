//! Sanctions: penalty ranges, approval levels and separation of duties, collective decisions,
//! recovery tracking (due, paid, overdue), agreement measures, case closing.
mod common;
use common::*;
use medfund_db::Db;
use medfund_workflow::cases::{CaseState, Nature};
use medfund_workflow::credit::AgreementStatus;
use medfund_workflow::sanction::{
    check_multiple, ApproveInput, NewSanction, RecoveryStatus, SanctionFilter, SanctionKind,
    SanctionState, TransferTarget,
};
use medfund_workflow::{Page, Policy, Ratio, Role, Scope};
use std::path::Path;

fn approve(m: Option<&str>, why: Option<&str>) -> ApproveInput {
    ApproveInput {
        multiple: m.map(|x| Ratio::parse(x).unwrap()),
        multiple_reason: why.map(String::from),
        note: "同意".into(),
    }
}

fn ns(case_id: i64, kind: SanctionKind) -> NewSanction {
    NewSanction {
        case_id,
        kind: Some(kind),
        reason: "依据协议和条例".into(),
        ..Default::default()
    }
}

fn penalty(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    let aud = actor(&mut wf, "auditor");
    let chief = actor(&mut wf, "chief");
    let case = decided_case(&mut wf, H1, Nature::Violation, "10000.00");
    let s = wf
        .propose_sanction(&aud, &ns(case, SanctionKind::AdminPenalty))
        .unwrap();
    assert_eq!(
        (s.levels_required, s.major, s.amount, s.basis),
        (1, false, yuan("0"), yuan("10000.00"))
    );
    // The approver must choose within 1–2 × and say why.
    let e = wf
        .approve_sanction(&chief, s.id, &approve(None, None))
        .unwrap_err();
    assert!(e.to_string().contains("10000.00–20000.00"), "{e}");
    assert_eq!(
        code(wf.approve_sanction(&chief, s.id, &approve(Some("2.01"), Some("情节严重")))),
        "validation"
    );
    assert_eq!(
        code(wf.approve_sanction(&chief, s.id, &approve(Some("0.99"), Some("情节轻微")))),
        "validation"
    );
    assert_eq!(
        code(wf.approve_sanction(&chief, s.id, &approve(Some("1.5"), None))),
        "validation"
    );
    let s = wf
        .approve_sanction(
            &chief,
            s.id,
            &approve(Some("1.5"), Some("首次违规，主动退回")),
        )
        .unwrap();
    assert_eq!(
        (s.state, s.amount, s.multiple.unwrap().to_string()),
        (SanctionState::Approved, yuan("15000.00"), "1.5".to_string())
    );
    assert_eq!(
        s.due_date,
        Some(day("2025-04-02")),
        "payment due 30 days after approval"
    );
    assert_eq!(s.recovery_status, Some(RecoveryStatus::Due));
    // Bounds are inclusive.
    let p = Policy::default().sanction;
    for (n, m, ok) in [
        (Nature::Violation, "1", true),
        (Nature::Violation, "2", true),
        (Nature::Fraud, "2", true),
        (Nature::Fraud, "5", true),
        (Nature::Fraud, "1.9999", false),
        (Nature::Fraud, "5.0001", false),
        (Nature::None, "1", false),
    ] {
        assert_eq!(
            check_multiple(&p, n, Ratio::parse(m).unwrap()).is_ok(),
            ok,
            "{n} {m}"
        );
    }
    // A multiple on anything but a penalty is refused.
    let r = wf
        .propose_sanction(
            &aud,
            &NewSanction {
                basis: Some(yuan("100")),
                ..ns(case, SanctionKind::Recovery)
            },
        )
        .unwrap();
    assert_eq!(
        code(wf.approve_sanction(&chief, r.id, &approve(Some("1"), Some("x")))),
        "validation"
    );
}
both!(penalty_sqlite_pg, "wf_san_penalty", super::penalty);

fn approval_chain(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    let aud = actor(&mut wf, "auditor");
    let chief = actor(&mut wf, "chief");
    let leader = actor(&mut wf, "leader");
    let director = actor(&mut wf, "director");
    let chief2 = add_user(&mut wf, "chief2", &[Role::SectionChief], Scope::City);
    let both = add_user(
        &mut wf,
        "chiefleader",
        &[Role::SectionChief, Role::Leader],
        Scope::City,
    );
    let case = decided_case(&mut wf, H1, Nature::Violation, "600000.00");

    // 99,999.99 → one level; 100,000.00 → three levels (threshold inclusive).
    let one = wf
        .propose_sanction(
            &aud,
            &NewSanction {
                basis: Some(yuan("99999.99")),
                ..ns(case, SanctionKind::Recovery)
            },
        )
        .unwrap();
    assert_eq!(one.levels_required, 1);
    let three = wf
        .propose_sanction(
            &chief,
            &NewSanction {
                basis: Some(yuan("100000.00")),
                ..ns(case, SanctionKind::Recovery)
            },
        )
        .unwrap();
    assert_eq!((three.levels_required, three.major), (3, false));

    // An approver cannot approve their own proposal.
    assert_eq!(
        code(wf.approve_sanction(&chief, three.id, &approve(None, None))),
        "same_actor"
    );
    // Level 1 is the section chief's.
    assert_eq!(
        code(wf.approve_sanction(&leader, three.id, &approve(None, None))),
        "forbidden"
    );
    let s = wf
        .approve_sanction(&both, three.id, &approve(None, None))
        .unwrap();
    assert_eq!((s.state, s.levels_done), (SanctionState::Proposed, 1));
    // The same person cannot approve the next level, even holding its role.
    assert_eq!(
        code(wf.approve_sanction(&both, three.id, &approve(None, None))),
        "same_actor"
    );
    assert_eq!(
        code(wf.approve_sanction(&chief2, three.id, &approve(None, None))),
        "forbidden"
    );
    assert_eq!(
        code(wf.approve_sanction(&director, three.id, &approve(None, None))),
        "forbidden",
        "level 2 before level 3"
    );
    wf.approve_sanction(&leader, three.id, &approve(None, None))
        .unwrap();
    let s = wf
        .approve_sanction(&director, three.id, &approve(None, None))
        .unwrap();
    assert_eq!(
        (s.state, s.levels_done, s.approvals.len()),
        (SanctionState::Approved, 3, 3)
    );
    let lv: Vec<(i64, &str)> = s
        .approvals
        .iter()
        .map(|a| (a.level, a.approver.as_str()))
        .collect();
    assert_eq!(lv, [(1, "chiefleader"), (2, "leader"), (3, "director")]);
    assert_eq!(
        code(wf.approve_sanction(&director, three.id, &approve(None, None))),
        "invalid_transition"
    );

    // Major (≥ 500,000): a collective decision before the last approval.
    let major = wf
        .propose_sanction(
            &aud,
            &NewSanction {
                basis: Some(yuan("500000.00")),
                ..ns(case, SanctionKind::Recovery)
            },
        )
        .unwrap();
    assert!(major.major);
    wf.approve_sanction(&chief, major.id, &approve(None, None))
        .unwrap();
    wf.approve_sanction(&leader, major.id, &approve(None, None))
        .unwrap();
    let e = wf
        .approve_sanction(&director, major.id, &approve(None, None))
        .unwrap_err();
    assert!(e.to_string().contains("集体讨论"), "{e}");
    let two = vec![
        "局长".to_string(),
        "副局长".to_string(),
        "副局长".to_string(),
    ];
    assert_eq!(
        code(wf.record_collective_decision(&leader, major.id, day("2025-03-03"), &two, "同意")),
        "validation",
        "duplicates count once"
    );
    assert_eq!(
        code(wf.record_collective_decision(&aud, major.id, day("2025-03-03"), &two, "同意")),
        "forbidden"
    );
    let three_p = vec![
        "局长".to_string(),
        "副局长".to_string(),
        "纪检组长".to_string(),
    ];
    assert_eq!(
        code(wf.record_collective_decision(&leader, major.id, day("2025-03-04"), &three_p, "同意")),
        "validation",
        "future meeting"
    );
    wf.record_collective_decision(
        &leader,
        major.id,
        day("2025-03-03"),
        &three_p,
        "局党组会议研究同意",
    )
    .unwrap();
    let s = wf
        .approve_sanction(&director, major.id, &approve(None, None))
        .unwrap();
    assert_eq!(s.state, SanctionState::Approved);
    assert_eq!(s.collective.unwrap().participants.len(), 3);

    // Fraud penalties, terminations and transfers are always major and three-level.
    let t = wf.propose_sanction(
        &aud,
        &NewSanction {
            transfer_to: None,
            ..ns(case, SanctionKind::Transfer)
        },
    );
    assert_eq!(code(t), "validation");
    let t = wf
        .propose_sanction(
            &aud,
            &NewSanction {
                transfer_to: Some(TransferTarget::Police),
                ..ns(case, SanctionKind::Transfer)
            },
        )
        .unwrap();
    assert_eq!((t.levels_required, t.major), (3, true));

    // Reject and cancel.
    let r = wf
        .propose_sanction(&aud, &ns(case, SanctionKind::Interview))
        .unwrap();
    assert_eq!(code(wf.reject_sanction(&chief, r.id, " ")), "validation");
    let r = wf.reject_sanction(&chief, r.id, "证据不足").unwrap();
    assert_eq!(r.state, SanctionState::Rejected);
    assert_eq!(
        code(wf.approve_sanction(&chief2, r.id, &approve(None, None))),
        "invalid_transition"
    );
    let c = wf
        .propose_sanction(&aud, &ns(case, SanctionKind::Interview))
        .unwrap();
    assert_eq!(
        code(wf.cancel_sanction(&chief, c.id, "x")),
        "forbidden",
        "only the proposer withdraws"
    );
    assert_eq!(
        wf.cancel_sanction(&aud, c.id, "重复提出").unwrap().state,
        SanctionState::Cancelled
    );
}
both!(
    approval_chain_sqlite_pg,
    "wf_san_chain",
    super::approval_chain
);

fn recovery(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    let aud = actor(&mut wf, "auditor");
    let chief = actor(&mut wf, "chief");
    let hosp = actor(&mut wf, "hospital");
    let case = decided_case(&mut wf, H1, Nature::Violation, "1000.00");
    let s = wf
        .propose_sanction(&aud, &ns(case, SanctionKind::Recovery))
        .unwrap();
    assert_eq!(
        (s.amount, s.recovery_status),
        (yuan("1000.00"), Some(RecoveryStatus::NotDue))
    );
    assert_eq!(
        code(wf.record_payment(&aud, s.id, yuan("1"), day("2025-03-03"), "x")),
        "invalid_transition"
    );
    let s = wf
        .approve_sanction(&chief, s.id, &approve(None, None))
        .unwrap();
    assert_eq!(s.due_date, Some(day("2025-04-02")));
    assert_eq!(
        code(wf.record_payment(&chief, s.id, yuan("1"), day("2025-03-03"), "x")),
        "forbidden"
    );
    assert_eq!(
        code(wf.record_payment(&aud, s.id, yuan("0"), day("2025-03-03"), "x")),
        "validation"
    );
    assert_eq!(
        code(wf.record_payment(&aud, s.id, yuan("1"), day("2025-03-04"), "x")),
        "validation",
        "future date"
    );
    let s = wf
        .record_payment(&aud, s.id, yuan("400.00"), day("2025-03-03"), "回单 001")
        .unwrap();
    assert_eq!(
        (s.paid, s.state, s.recovery_status),
        (
            yuan("400.00"),
            SanctionState::Approved,
            Some(RecoveryStatus::Due)
        )
    );
    assert_eq!(
        code(wf.record_payment(&aud, s.id, yuan("600.01"), day("2025-03-03"), "x")),
        "validation",
        "overpayment"
    );
    // A case with an unpaid recovery cannot be closed.
    let e = wf.close_case(&chief, case, "结案").unwrap_err();
    assert!(e.to_string().contains("recovery"), "{e}");

    // The due date itself is on time; the next day it is overdue.
    wf.set_now(at("2025-04-02 18:00:00"));
    assert_eq!(
        wf.get_sanction(&aud, s.id).unwrap().recovery_status,
        Some(RecoveryStatus::Due)
    );
    assert!(wf
        .overdue(&aud, false)
        .unwrap()
        .iter()
        .all(|o| o.entity != "sanction"));
    wf.set_now(at("2025-04-03 08:00:00"));
    assert_eq!(
        wf.get_sanction(&aud, s.id).unwrap().recovery_status,
        Some(RecoveryStatus::Overdue)
    );
    let od = wf.overdue(&aud, false).unwrap();
    assert!(
        od.iter().any(|o| o.entity == "sanction" && o.id == s.id),
        "{od:?}"
    );
    let sum = wf.recovery_summary(&aud, Some(2025)).unwrap();
    assert_eq!(
        (
            sum.count,
            sum.due,
            sum.paid,
            sum.outstanding,
            sum.overdue,
            sum.overdue_count
        ),
        (1, yuan("1000"), yuan("400"), yuan("600"), yuan("600"), 1)
    );
    assert_eq!(wf.recovery_summary(&aud, Some(2024)).unwrap().count, 0);
    let f = SanctionFilter {
        overdue_only: true,
        ..Default::default()
    };
    assert_eq!(
        wf.list_sanctions(&aud, &f, Page::default()).unwrap().total,
        1
    );
    // The hospital sees its own sanction.
    assert_eq!(
        wf.list_sanctions(&hosp, &SanctionFilter::default(), Page::default())
            .unwrap()
            .total,
        1
    );

    let s = wf
        .record_payment(&aud, s.id, yuan("600.00"), day("2025-04-03"), "回单 002")
        .unwrap();
    assert_eq!(
        (s.state, s.recovery_status, s.paid),
        (
            SanctionState::Executed,
            Some(RecoveryStatus::Paid),
            yuan("1000")
        )
    );
    assert_eq!(
        code(wf.record_payment(&aud, s.id, yuan("1"), day("2025-04-03"), "x")),
        "invalid_transition"
    );
    assert_eq!(
        code(wf.execute_sanction(&aud, s.id, day("2025-04-03"), "x")),
        "validation"
    );
    let c = wf.close_case(&chief, case, "追回完毕，结案").unwrap();
    assert_eq!(c.state, CaseState::Closed);
    assert_eq!(
        code(wf.propose_sanction(&aud, &ns(case, SanctionKind::Interview))),
        "validation",
        "closed case"
    );
}
both!(recovery_sqlite_pg, "wf_san_recovery", super::recovery);

fn agreement_and_scope(db: &mut Db, dir: &Path) {
    let mut policy = Policy::default();
    policy.sanction.liquidated_damages_multiple =
        medfund_workflow::util::RatioText(Ratio::parse("1.5").unwrap());
    let mut wf = start_with(db, dir, "2025-03-03 09:00:00", policy);
    let aud = actor(&mut wf, "auditor");
    let chief = actor(&mut wf, "chief");
    let leader = actor(&mut wf, "leader");
    let director = actor(&mut wf, "director");
    let hosp = actor(&mut wf, "hospital");
    let case = decided_case(&mut wf, H1, Nature::Violation, "333.33");
    let other = decided_case(&mut wf, H2, Nature::Violation, "10.00");

    // Liquidated damages: 333.33 × 1.5 = 499.995 → 500.00 (half up).
    let ld = wf
        .propose_sanction(&aud, &ns(case, SanctionKind::LiquidatedDamages))
        .unwrap();
    assert_eq!(ld.amount, yuan("500.00"));

    // Agreement suspension 3 months from 2025-04-01: through 2025-06-30.
    assert_eq!(
        code(wf.propose_sanction(
            &aud,
            &NewSanction {
                months: Some(13),
                ..ns(case, SanctionKind::SuspendAgreement)
            }
        )),
        "validation"
    );
    let s = wf
        .propose_sanction(
            &aud,
            &NewSanction {
                months: Some(3),
                ..ns(case, SanctionKind::SuspendAgreement)
            },
        )
        .unwrap();
    assert_eq!(
        code(wf.execute_sanction(&aud, s.id, day("2025-04-01"), "x")),
        "invalid_transition"
    );
    wf.approve_sanction(&chief, s.id, &approve(None, None))
        .unwrap();
    let s = wf
        .execute_sanction(&aud, s.id, day("2025-04-01"), "已发中止协议通知")
        .unwrap();
    assert_eq!(s.state, SanctionState::Executed);
    assert_eq!(
        wf.agreement(&aud, H1, day("2025-03-31")).unwrap().0,
        AgreementStatus::Active
    );
    assert_eq!(
        wf.agreement(&aud, H1, day("2025-04-01")).unwrap().0,
        AgreementStatus::Suspended
    );
    assert_eq!(
        wf.agreement(&aud, H1, day("2025-06-30")).unwrap().0,
        AgreementStatus::Suspended
    );
    assert_eq!(
        wf.agreement(&aud, H1, day("2025-07-01")).unwrap().0,
        AgreementStatus::Active
    );
    assert_eq!(
        wf.agreement(&hosp, H1, day("2025-05-01")).unwrap().0,
        AgreementStatus::Suspended
    );
    assert_eq!(
        code(wf.agreement(&hosp, H2, day("2025-05-01"))),
        "not_found"
    );
    let ms = medfund_workflow::credit::agreement_measures(wf.db()).unwrap();
    assert_eq!((ms.len(), ms[0].enddate), (1, Some(day("2025-06-30"))));

    // Termination: three levels and a collective decision; open-ended.
    let t = wf
        .propose_sanction(&aud, &ns(case, SanctionKind::TerminateAgreement))
        .unwrap();
    wf.approve_sanction(&chief, t.id, &approve(None, None))
        .unwrap();
    wf.approve_sanction(&leader, t.id, &approve(None, None))
        .unwrap();
    let p = vec!["甲".to_string(), "乙".to_string(), "丙".to_string()];
    wf.record_collective_decision(&director, t.id, day("2025-03-03"), &p, "同意解除协议")
        .unwrap();
    wf.approve_sanction(&director, t.id, &approve(None, None))
        .unwrap();
    wf.execute_sanction(&aud, t.id, day("2025-08-01"), "解除协议")
        .unwrap();
    assert_eq!(
        wf.agreement(&aud, H1, day("2030-01-01")).unwrap().0,
        AgreementStatus::Terminated
    );

    // Rectification needs a future deadline; its deadline is tracked as a time limit.
    assert_eq!(
        code(wf.propose_sanction(
            &aud,
            &NewSanction {
                deadline: Some(day("2025-03-03")),
                ..ns(case, SanctionKind::Rectification)
            }
        )),
        "validation"
    );
    let r = wf
        .propose_sanction(
            &aud,
            &NewSanction {
                deadline: Some(day("2025-03-20")),
                ..ns(case, SanctionKind::Rectification)
            },
        )
        .unwrap();
    wf.approve_sanction(&chief, r.id, &approve(None, None))
        .unwrap();
    wf.set_now(at("2025-03-21 08:00:00"));
    assert!(wf
        .overdue(&aud, false)
        .unwrap()
        .iter()
        .any(|o| o.entity == "sanction" && o.id == r.id));
    assert_eq!(
        code(wf.propose_sanction(
            &aud,
            &NewSanction {
                credit_points: Some(0),
                ..ns(case, SanctionKind::CreditDeduction)
            }
        )),
        "validation"
    );

    // Scope: the other hospital's sanctions do not exist for this hospital user.
    let o = wf
        .propose_sanction(&aud, &ns(other, SanctionKind::Interview))
        .unwrap();
    assert_eq!(code(wf.get_sanction(&hosp, o.id)), "not_found");
    assert_eq!(code(wf.get_case(&hosp, other)), "not_found");
    assert!(wf.get_case(&hosp, case).is_ok());
    // A case must be decided before sanctions.
    let aud2 = actor(&mut wf, "auditor2");
    let open = wf
        .open_case(
            &aud2,
            &medfund_workflow::cases::NewCase {
                source: Some(medfund_workflow::cases::CaseSource::Referral),
                fixmedins_code: Some(H1.into()),
                title: "移送线索".into(),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        code(wf.propose_sanction(&aud, &ns(open.id, SanctionKind::Interview))),
        "validation"
    );
    // Decision not by the case handler.
    wf.start_case(&aud2, open.id, None, "调查").unwrap();
    let both = add_user(&mut wf, "handlerchief", &[Role::SectionChief], Scope::City);
    let open2 = wf
        .open_case(
            &both,
            &medfund_workflow::cases::NewCase {
                source: Some(medfund_workflow::cases::CaseSource::Referral),
                fixmedins_code: Some(H1.into()),
                title: "线索".into(),
                ..Default::default()
            },
        )
        .unwrap();
    wf.start_case(&both, open2.id, None, "调查").unwrap();
    assert_eq!(
        code(wf.decide_case(&both, open2.id, Nature::Violation, yuan("1"), "x")),
        "same_actor"
    );
    assert_eq!(
        code(wf.decide_case(&chief, open2.id, Nature::None, yuan("1"), "x")),
        "validation"
    );
    assert_eq!(
        code(wf.close_case(&chief, open2.id, "x")),
        "invalid_transition"
    );
    assert_eq!(
        wf.drop_case(&chief, open2.id, "查无实据").unwrap().state,
        CaseState::Dropped
    );
    assert_eq!(
        code(wf.start_case(&both, open2.id, None, "x")),
        "invalid_transition"
    );
}
both!(
    agreement_sqlite_pg,
    "wf_san_agreement",
    super::agreement_and_scope
);
