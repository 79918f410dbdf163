//! Inspections and evidence, credit grading, complaints and rewards, sharing with departments.
mod common;
use common::*;
use medfund_contract::Fen;
use medfund_db::Db;
use medfund_workflow::cases::{
    CaseFilter, CaseSource, CheckResult, InspectionKind, InspectionResult, InspectionState, Nature,
    NewCase, NewInspection,
};
use medfund_workflow::complaint::{reward_for, Channel, ComplaintState, NewComplaint, Triage};
use medfund_workflow::credit::{grade_from, CreditFacts, CreditList, Grade};
use medfund_workflow::policy::RewardPolicy;
use medfund_workflow::sanction::{ApproveInput, NewSanction, SanctionKind};
use medfund_workflow::{Actor, Department, Page, Policy, Role, Scope, Upload};
use std::path::Path;

/// sha256sum of "stock sheet", computed outside the program.
const SHA_STOCK: &str = "074cdf9ecea1ed1c170f267e3a7206610b6015689b17c69a37b4d0dea76a1dac";

fn inspections(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    let aud = actor(&mut wf, "auditor");
    let aud2 = actor(&mut wf, "auditor2");
    let rev = actor(&mut wf, "reviewer");
    let hosp = actor(&mut wf, "hospital");
    let ni = NewInspection {
        fixmedins_code: H1.into(),
        case_id: None,
        kind: InspectionKind::Stationed,
        planned_on: day("2025-03-05"),
        checklist: None,
    };
    assert_eq!(code(wf.plan_inspection(&hosp, &ni)), "forbidden");
    let i = wf.plan_inspection(&aud, &ni).unwrap();
    let items: Vec<&str> = i.items.iter().map(|x| x.title.as_str()).collect();
    assert_eq!(
        items,
        [
            "住院人员身份核实",
            "住院人数核实",
            "用药数量核实",
            "药品库存核实",
            "电子处方核实"
        ]
    );
    assert_eq!(
        code(wf.record_check(&aud, i.id, "drug_stock", CheckResult::Ok, "")),
        "invalid_transition"
    );
    // On site: at least two distinct inspectors, the actor among them.
    assert_eq!(
        code(wf.start_inspection(&aud, i.id, &["auditor".into(), "auditor".into()])),
        "same_actor"
    );
    assert_eq!(
        code(wf.start_inspection(&aud, i.id, &["auditor2".into(), "reviewer".into()])),
        "validation"
    );
    assert_eq!(
        code(wf.start_inspection(&aud, i.id, &["auditor".into(), "hospital".into()])),
        "validation"
    );
    let i = wf
        .start_inspection(&aud, i.id, &["auditor".into(), "auditor2".into()])
        .unwrap();
    assert_eq!(i.state, InspectionState::InProgress);
    assert_eq!(
        code(wf.record_check(&rev, i.id, "drug_stock", CheckResult::Ok, "")),
        "forbidden",
        "not on site"
    );
    assert_eq!(
        code(wf.record_check(&aud, i.id, "drug_stock", CheckResult::Issue, " ")),
        "validation"
    );
    assert_eq!(
        code(wf.record_check(&aud, i.id, "nope", CheckResult::Ok, "")),
        "not_found"
    );
    wf.record_check(
        &aud,
        i.id,
        "drug_stock",
        CheckResult::Issue,
        "阿莫西林账实不符 120 盒",
    )
    .unwrap();
    let e = wf.complete_inspection(&aud2, i.id, "完成").unwrap_err();
    assert!(e.to_string().contains("住院人员身份核实"), "{e}");
    for c in [
        "inpatient_identity",
        "inpatient_count",
        "medication_quantity",
        "e_prescription",
    ] {
        wf.record_check(&aud2, i.id, c, CheckResult::Ok, "")
            .unwrap();
    }
    let i = wf
        .complete_inspection(&aud2, i.id, "发现药品库存问题")
        .unwrap();
    assert_eq!(
        (i.state, i.result),
        (InspectionState::Completed, Some(InspectionResult::Issues))
    );
    assert_eq!(
        code(wf.cancel_inspection(&aud, i.id, "x")),
        "invalid_transition"
    );
    // Evidence with its SHA-256; a changed file no longer verifies.
    let docs = wf
        .add_evidence(
            &aud,
            "inspection",
            i.id,
            &[Upload {
                file_name: "盘点表.xlsx".into(),
                bytes: b"stock sheet".to_vec(),
            }],
        )
        .unwrap();
    assert_eq!(docs[0].sha256, SHA_STOCK);
    assert_eq!(docs[0].size_bytes, 11);
    assert!(wf.verify_document(&aud, docs[0].id).unwrap());
    std::fs::write(dir.join(&docs[0].stored_path), b"stock sheet!").unwrap();
    assert!(!wf.verify_document(&aud, docs[0].id).unwrap());
    assert_eq!(code(wf.verify_document(&hosp, docs[0].id)), "not_found");
    assert_eq!(
        code(wf.add_evidence(
            &aud,
            "inspection",
            i.id,
            &[Upload {
                file_name: "empty".into(),
                bytes: vec![]
            }]
        )),
        "validation"
    );
    // The hospital sees its inspections, not others'.
    assert_eq!(
        wf.list_inspections(&hosp, None, None, Page::default())
            .unwrap()
            .total,
        1
    );
    let other = wf
        .plan_inspection(
            &aud,
            &NewInspection {
                fixmedins_code: H2.into(),
                ..ni.clone()
            },
        )
        .unwrap();
    assert_eq!(code(wf.get_inspection(&hosp, other.id)), "not_found");
    assert_eq!(
        wf.cancel_inspection(&aud, other.id, "改期").unwrap().state,
        InspectionState::Cancelled
    );
}
both!(
    inspections_sqlite_pg,
    "wf_cc_inspections",
    super::inspections
);

#[test]
fn credit_grade_rule() {
    let p = Policy::default().credit;
    let g = |f: &CreditFacts| {
        let (s, g, l, _) = grade_from(&p, f);
        (s, g, l)
    };
    assert_eq!(
        g(&CreditFacts::default()),
        (100, Grade::A, Some(CreditList::Red))
    );
    // 10 confirmed findings: 90, still A (boundary) but not red (there are deductions).
    assert_eq!(
        g(&CreditFacts {
            confirmed_findings: 10,
            ..Default::default()
        }),
        (90, Grade::A, None)
    );
    assert_eq!(
        g(&CreditFacts {
            confirmed_findings: 11,
            ..Default::default()
        }),
        (89, Grade::B, None)
    );
    // The findings deduction is capped at 20.
    assert_eq!(
        g(&CreditFacts {
            confirmed_findings: 500,
            ..Default::default()
        })
        .0,
        80
    );
    // 3 findings (−3), a recovery (−2), a violation penalty (−15) = 80; a clean inspection +2 = 82.
    let f = CreditFacts {
        confirmed_findings: 3,
        sanctions: vec![
            (SanctionKind::Recovery, Some(Nature::Violation), None),
            (SanctionKind::AdminPenalty, Some(Nature::Violation), None),
        ],
        inspections_clean: 1,
        ..Default::default()
    };
    assert_eq!(g(&f), (82, Grade::B, None));
    // A fraud penalty: −30 and the black list regardless of the score.
    let f = CreditFacts {
        sanctions: vec![(SanctionKind::AdminPenalty, Some(Nature::Fraud), None)],
        ..Default::default()
    };
    assert_eq!(g(&f), (70, Grade::C, Some(CreditList::Black)));
    // Credit deduction counts its own points; below 60 is D (black).
    let f = CreditFacts {
        sanctions: vec![(
            SanctionKind::CreditDeduction,
            Some(Nature::Violation),
            Some(41),
        )],
        ..Default::default()
    };
    assert_eq!(g(&f), (59, Grade::D, Some(CreditList::Black)));
    // Bonus capped at 6, score capped at 100; issues −5 each.
    let f = CreditFacts {
        confirmed_findings: 20,
        inspections_clean: 9,
        inspections_with_issues: 1,
        ..Default::default()
    };
    assert_eq!(g(&f).0, 100 - 20 - 5 + 6);
    assert_eq!(
        g(&CreditFacts {
            inspections_clean: 9,
            ..Default::default()
        })
        .0,
        100
    );
}

fn credit_from_record(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    let aud = actor(&mut wf, "auditor");
    let chief = actor(&mut wf, "chief");
    let leader = actor(&mut wf, "leader");
    let hosp = actor(&mut wf, "hospital");
    let case = decided_case(&mut wf, H1, Nature::Violation, "1000.00");
    let s = wf
        .propose_sanction(
            &aud,
            &NewSanction {
                case_id: case,
                kind: Some(SanctionKind::Interview),
                reason: "约谈院长".into(),
                ..Default::default()
            },
        )
        .unwrap();
    wf.approve_sanction(&chief, s.id, &ApproveInput::default())
        .unwrap();
    let rep = wf.evaluate_credit(&chief, H1, 2025).unwrap();
    assert_eq!(
        (rep.score, rep.grade, rep.list, rep.inspections_per_year),
        (98, Grade::A, None, 1)
    );
    assert_eq!(
        wf.evaluate_credit(&chief, H1, 2024).unwrap().score,
        100,
        "another year has no record"
    );
    assert_eq!(code(wf.evaluate_credit(&aud, H1, 2025)), "forbidden");
    // A manual black list entry wins; removal by another person.
    let e = wf
        .add_list_entry(&chief, H1, CreditList::Black, "拒不配合检查")
        .unwrap();
    assert_eq!(
        code(wf.add_list_entry(&chief, H1, CreditList::Black, "again")),
        "validation"
    );
    assert_eq!(
        wf.evaluate_credit(&chief, H1, 2025).unwrap().list,
        Some(CreditList::Black)
    );
    assert_eq!(
        code(wf.remove_list_entry(&chief, e.id, "已整改")),
        "same_actor"
    );
    wf.remove_list_entry(&leader, e.id, "已整改").unwrap();
    assert_eq!(wf.evaluate_credit(&chief, H1, 2025).unwrap().list, None);
    assert_eq!(
        wf.evaluate_credit(&chief, H2, 2025).unwrap().list,
        Some(CreditList::Red)
    );
    // Institutions see their own evaluation only.
    let own = wf.credit_reports(&hosp, 2025).unwrap();
    assert_eq!((own.len(), own[0].fixmedins_code.as_str()), (1, H1));
    assert_eq!(wf.credit_reports(&chief, 2025).unwrap().len(), 2);
    // Graded supervision: never inspected = due now.
    let plan = wf.inspection_plan(&chief, 2025).unwrap();
    assert_eq!(plan.len(), 2);
    assert!(plan
        .iter()
        .all(|l| l.overdue && l.per_year == 1 && l.next_due == day("2025-03-03")));
}
both!(credit_sqlite_pg, "wf_cc_credit", super::credit_from_record);

#[test]
fn reward_bounds() {
    let p = RewardPolicy::default();
    assert_eq!(
        reward_for(&p, Fen::from_yuan(5_000)),
        Some(Fen::from_yuan(200)),
        "4% = 200: exactly the minimum"
    );
    assert_eq!(
        reward_for(&p, Fen::from_yuan(4_999)),
        Some(Fen::from_yuan(200)),
        "199.96 → raised to 200"
    );
    assert_eq!(
        reward_for(&p, Fen::from_yuan(100_000)),
        Some(Fen::from_yuan(4_000))
    );
    assert_eq!(
        reward_for(&p, Fen::from_yuan_str("100000.01").unwrap()),
        Some(Fen::from_yuan(4_000)),
        "0.0002 yuan rounds away"
    );
    assert_eq!(
        reward_for(&p, Fen::from_yuan(1_000_000)),
        Some(Fen::from_yuan(22_000))
    );
    assert_eq!(
        reward_for(&p, Fen::from_yuan(18_800_000)),
        Some(Fen::from_yuan(200_000)),
        "22,000 + 178,000 = 200,000"
    );
    assert_eq!(
        reward_for(&p, Fen::from_yuan(18_800_100)),
        Some(Fen::from_yuan(200_000)),
        "capped"
    );
    assert_eq!(reward_for(&p, Fen(-1)), None);
    // A local scale outside the national bounds is refused when the policy loads.
    assert!(Policy::from_toml_str("[reward]\nmin_yuan = 100").is_err());
    assert!(Policy::from_toml_str("[reward]\nmax_yuan = 300000").is_err());
    assert!(Policy::from_toml_str("[reward]\nmin_yuan = 500\nmax_yuan = 100000").is_ok());
    let local = Policy::from_toml_str(
        "[reward]\nmin_yuan = 500\nmax_yuan = 100000\nbrackets = [{ rate = \"0.1\" }]",
    )
    .unwrap()
    .reward;
    assert_eq!(
        reward_for(&local, Fen::from_yuan(3_000)),
        Some(Fen::from_yuan(500))
    );
    assert_eq!(
        reward_for(&local, Fen::from_yuan(3_000_000)),
        Some(Fen::from_yuan(100_000))
    );
    assert!(
        Policy::from_toml_str("[reward]\nbrackets = [{ upto_yuan = 10, rate = \"0.1\" }]").is_err(),
        "last bracket open-ended"
    );
}

fn complaints(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    let aud = actor(&mut wf, "auditor");
    let chief = actor(&mut wf, "chief");
    let public = Actor::public("203.0.113.9");
    let nc = NewComplaint {
        anonymous: true,
        reporter_name: None,
        reporter_contact: None,
        fixmedins_code: Some(H1.into()),
        target: "某医院".into(),
        content: "住院病人白天不在病房，晚上才回来，疑似挂床住院".into(),
        channel: Channel::Online,
    };
    assert_eq!(
        code(wf.submit_complaint(
            &public,
            &NewComplaint {
                anonymous: false,
                ..nc.clone()
            }
        )),
        "validation",
        "named needs name and contact"
    );
    assert_eq!(
        code(wf.submit_complaint(
            &public,
            &NewComplaint {
                content: "太短".into(),
                ..nc.clone()
            }
        )),
        "validation"
    );
    let r = wf.submit_complaint(&public, &nc).unwrap();
    let claim = r.claim_code.clone().unwrap();
    assert_eq!(
        (r.complaint.complaint_no.as_str(), r.complaint.state),
        ("JB2025-00001", ComplaintState::Received)
    );
    assert_eq!(
        r.complaint.due_at,
        Some(at("2025-03-18 09:00:00")),
        "triage within 15 days"
    );
    let id = r.complaint.id;
    assert_eq!(
        code(wf.list_complaints(&public, None, Page::default())),
        "forbidden"
    );
    let hosp = actor(&mut wf, "hospital");
    assert_eq!(code(wf.get_complaint(&hosp, id)), "not_found");
    // Named complaints: the identity stays out of the audit log.
    let named = wf
        .submit_complaint(
            &public,
            &NewComplaint {
                anonymous: false,
                reporter_name: Some("张三".into()),
                reporter_contact: Some("13800000000".into()),
                ..nc.clone()
            },
        )
        .unwrap();
    assert!(named.claim_code.is_none());
    assert_eq!(
        named.complaint.reporter_name, None,
        "the public does not get the identity back"
    );
    let leak = wf.db().query("SELECT COUNT(*) FROM audit_log WHERE detail_json LIKE '%张三%' OR detail_json LIKE '%13800000000%'", &[]).unwrap()[0].int(0);
    assert_eq!(leak, 0);
    wf.triage_complaint(
        &aud,
        named.complaint.id,
        &Triage::Reject {
            reason: "与已立案件重复".into(),
        },
    )
    .unwrap();
    assert_eq!(
        code(wf.triage_complaint(
            &aud,
            named.complaint.id,
            &Triage::Reject { reason: "x".into() }
        )),
        "invalid_transition"
    );

    // Triage opens a case; its decision verifies the complaint.
    let c = wf
        .triage_complaint(
            &aud,
            id,
            &Triage::OpenCase {
                title: "举报挂床住院".into(),
            },
        )
        .unwrap();
    assert_eq!(c.state, ComplaintState::Triaged);
    let case_id = c.case_id.unwrap();
    // The hospital concerned may see the case, but not the complaint's words (which could
    // identify the whistle-blower): the case only points to the complaint.
    let case = wf.get_case(&aud, case_id).unwrap().case;
    assert!(!case.summary.contains("挂床"), "{}", case.summary);
    assert!(case.summary.contains("JB2025-00001"), "{}", case.summary);
    assert_eq!(
        code(wf.conclude_complaint(&aud, id)),
        "validation",
        "case not decided"
    );
    wf.start_case(&aud, case_id, None, "调查").unwrap();
    wf.decide_case(
        &chief,
        case_id,
        Nature::Violation,
        yuan("50000.00"),
        "查实挂床住院",
    )
    .unwrap();
    let c = wf.conclude_complaint(&aud, id).unwrap();
    assert_eq!(
        (c.state, c.case_value),
        (ComplaintState::Verified, Some(yuan("50000")))
    );
    assert_eq!(code(wf.approve_reward(&chief, id)), "invalid_transition");
    let c = wf.propose_reward(&aud, id).unwrap();
    assert_eq!(c.reward, Some(yuan("2000.00")), "4% of 50,000");
    assert_eq!(code(wf.approve_reward(&aud, id)), "forbidden");
    let dual = add_user(
        &mut wf,
        "dualreward",
        &[Role::Auditor, Role::SectionChief],
        Scope::City,
    );
    let _ = dual;
    wf.approve_reward(&chief, id).unwrap();
    assert_eq!(
        code(wf.pay_reward(&aud, id, Some("WRONG"), "转账 01")),
        "validation"
    );
    assert_eq!(code(wf.pay_reward(&aud, id, None, "转账 01")), "validation");
    let c = wf
        .pay_reward(&aud, id, Some(&claim.to_lowercase()), "转账 01")
        .unwrap();
    assert_eq!(
        (c.state, c.reward_paid_by.as_deref()),
        (ComplaintState::RewardPaid, Some("auditor"))
    );
    assert_eq!(
        code(wf.pay_reward(&aud, id, Some(&claim), "转账 02")),
        "invalid_transition",
        "paid once"
    );

    // Separation: the reward proposer cannot approve it.
    let r2 = wf.submit_complaint(&public, &nc).unwrap();
    wf.triage_complaint(&aud, r2.complaint.id, &Triage::LinkCase { case_id })
        .unwrap();
    wf.conclude_complaint(&aud, r2.complaint.id).unwrap();
    let dual = actor(&mut wf, "dualreward");
    wf.propose_reward(&dual, r2.complaint.id).unwrap();
    assert_eq!(
        code(wf.approve_reward(&dual, r2.complaint.id)),
        "same_actor"
    );
    // Unfounded when the case finds nothing.
    let r3 = wf.submit_complaint(&public, &nc).unwrap();
    let c3 = wf
        .triage_complaint(
            &aud,
            r3.complaint.id,
            &Triage::OpenCase {
                title: "举报".into(),
            },
        )
        .unwrap();
    wf.start_case(&aud, c3.case_id.unwrap(), None, "调查")
        .unwrap();
    wf.decide_case(
        &chief,
        c3.case_id.unwrap(),
        Nature::None,
        Fen(0),
        "查无实据",
    )
    .unwrap();
    assert_eq!(
        wf.conclude_complaint(&aud, r3.complaint.id).unwrap().state,
        ComplaintState::Unfounded
    );
    assert_eq!(
        code(wf.propose_reward(&aud, r3.complaint.id)),
        "invalid_transition"
    );
    assert_eq!(
        wf.list_complaints(&aud, Some(ComplaintState::RewardPaid), Page::default())
            .unwrap()
            .total,
        1
    );
}
both!(complaints_sqlite_pg, "wf_cc_complaints", super::complaints);

fn sharing(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    let aud = actor(&mut wf, "auditor");
    let partner = actor(&mut wf, "partner");
    let police = add_user(
        &mut wf,
        "police",
        &[Role::Partner],
        Scope::Department(Department::Police),
    );
    let open = wf
        .open_case(
            &aud,
            &NewCase {
                source: Some(CaseSource::Referral),
                fixmedins_code: Some(H1.into()),
                title: "卫健移送".into(),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        code(wf.share_case(&aud, open.id, Department::Health)),
        "validation",
        "not decided"
    );
    let case = decided_case(&mut wf, H1, Nature::Fraud, "80000.00");
    wf.add_evidence(
        &aud,
        "case",
        case,
        &[Upload {
            file_name: "询问笔录.pdf".into(),
            bytes: b"record".to_vec(),
        }],
    )
    .unwrap();
    assert_eq!(
        code(wf.share_case(&partner, case, Department::Health)),
        "forbidden"
    );
    let (rec, doc) = wf.share_case(&aud, case, Department::Health).unwrap();
    assert_eq!(
        (
            doc.department_name.as_str(),
            doc.case.id,
            doc.evidence.len()
        ),
        ("卫生健康委员会", case, 1)
    );
    let json = dir.join("share.json");
    let xlsx = dir.join("share.xlsx");
    medfund_workflow::share::write_share_json(&doc, &json).unwrap();
    medfund_workflow::share::write_share_xlsx(&doc, &xlsx).unwrap();
    let back: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(back["case"]["confirmed_amount"], "80000.00");
    assert_eq!(back["case"]["nature"], "fraud");
    assert_eq!(
        &std::fs::read(&xlsx).unwrap()[..2],
        b"PK",
        "an xlsx is a zip"
    );
    // The department sees the case shared with it, and only that.
    assert_eq!(
        wf.list_cases(&partner, &CaseFilter::default(), Page::default())
            .unwrap()
            .total,
        1
    );
    assert!(wf.get_case(&partner, case).is_ok());
    assert_eq!(code(wf.get_case(&partner, open.id)), "not_found");
    assert_eq!(code(wf.get_case(&police, case)), "not_found");
    assert_eq!(
        wf.list_cases(&police, &CaseFilter::default(), Page::default())
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        code(wf.record_followup(&police, rec.id, "立案侦查", "x")),
        "not_found"
    );
    assert_eq!(
        code(wf.record_followup(&aud, rec.id, "x", "x")),
        "forbidden"
    );
    let r = wf
        .record_followup(&partner, rec.id, "暂停执业活动", "对涉事医师暂停执业六个月")
        .unwrap();
    assert_eq!(r.followups.len(), 1);
    let det = wf.get_case(&aud, case).unwrap();
    assert_eq!(det.shares[0].followups[0].action, "暂停执业活动");
    assert_eq!(
        wf.share_document(&partner, rec.id).unwrap().case.case_no,
        doc.case.case_no
    );
    assert_eq!(wf.list_shares(&police).unwrap().len(), 0);
}
both!(sharing_sqlite_pg, "wf_cc_sharing", super::sharing);
