//! The end-to-end scenario of issue 5: a demo finding is reviewed twice (the same person is
//! refused), appealed with a document, investigated, decided; a case is opened and sanctioned
//! with a recovery that is paid; the billing doctor gets points, the 9th point suspends them,
//! and their next non-emergency line falls under the suspension while an emergency line does not.
mod common;
use common::*;
use medfund_contract::records::{Fee, Mdtrt};
use medfund_contract::{Category, Finding, Level, PractSusp, Price, Qty, SuspType};
use medfund_db::Db;
use medfund_workflow::cases::{CaseSource, CaseState, Nature, NewCase};
use medfund_workflow::points::{Degree, NewPoints, PractStatus};
use medfund_workflow::review::{Opinion, ReviewState, Verdict};
use medfund_workflow::sanction::{
    ApproveInput, NewSanction, RecoveryStatus, SanctionKind, SanctionState,
};
use medfund_workflow::{Role, Scope, Upload};
use std::path::Path;

fn visit(id: &str, med_type: &str, emer: bool, t: &str) -> Mdtrt {
    Mdtrt {
        mdtrt_id: id.into(),
        psn_no: "P000000000001".into(),
        fixmedins_code: H1.into(),
        med_type: med_type.into(),
        begntime: at(t),
        endtime: None,
        diag_code: "J06.900".into(),
        dise_codg: None,
        atddr_no: Some(DOC.into()),
        emer_flag: emer,
        refl_fixmedins_code: None,
    }
}

fn line(mdtrt: &str, t: &str) -> Fee {
    let cnt = Qty::from_units(1);
    let pric: Price = "25".parse().unwrap();
    Fee {
        feedetl_sn: "1".into(),
        mdtrt_id: mdtrt.into(),
        setl_id: format!("S{mdtrt}").as_str().into(),
        psn_no: "P000000000001".into(),
        fixmedins_code: H1.into(),
        fee_ocur_time: at(t),
        med_list_codg: "110200001000000".into(),
        cnt,
        pric,
        det_item_fee_sumamt: cnt.times(pric),
        bilg_dr_codg: Some(DOC.into()),
        hi_rxno: None,
        drug_trac_codg: vec![],
    }
}

/// The `suspended_pract` rule of DOMAIN.md §4.1 over the ledger's measures: a line whose billing
/// doctor (or the visit's attending doctor) is under a measure covering the fee date, unless the
/// visit is an emergency or rescue. (The audit engine applies the same rule to the merged list.)
fn flagged<'a>(fees: &'a [Fee], visits: &[Mdtrt], measures: &[PractSusp]) -> Vec<&'a str> {
    fees.iter()
        .filter(|f| {
            let v = visits.iter().find(|v| v.mdtrt_id == f.mdtrt_id).unwrap();
            let who = f.bilg_dr_codg.clone().or(v.atddr_no.clone()).unwrap();
            !v.is_emergency()
                && measures
                    .iter()
                    .any(|m| m.pract_code == who && m.covers(f.fee_ocur_time.date()))
        })
        .map(|f| f.mdtrt_id.as_str())
        .collect()
}

/// Runs `medfund_audit::audit` (built-in rule library) over a batch holding the visits and lines,
/// with the ledger's measures as the batch's `pract_susp`; returns the visits of the
/// `suspended_pract` findings.
fn engine_flags(visits: &[Mdtrt], fees: &[Fee], measures: &[PractSusp]) -> Vec<String> {
    use medfund_contract::records::{
        Batch, CatalogEntry, Fixmedins, FixmedinsType, Gender, Pract, Psn, Setl,
    };
    let mut b = Batch::default();
    b.psn.push(Psn {
        psn_no: "P000000000001".into(),
        gend: Gender::Male,
        brdy: day("1970-01-01"),
        insutype: Some("310".into()),
        insuplc_admdvs: Some("430100".into()),
    });
    b.fixmedins.push(Fixmedins {
        fixmedins_code: H1.into(),
        fixmedins_name: "演示医院".into(),
        fixmedins_type: FixmedinsType::Medical,
        hosp_lv: Some(2),
        admdvs: Some("430100".into()),
    });
    b.pract.push(Pract {
        pract_code: DOC.into(),
        pract_name: "演示医师".into(),
        pract_type: 1,
        fixmedins_code: H1.into(),
    });
    b.pract_susp = measures.to_vec();
    let cat = CatalogEntry {
        med_list_codg: "110200001000000".into(),
        med_list_name: "普通门诊诊查费".into(),
        list_type: 3,
        med_chrgitm_type: Some("02".into()),
        chrgitm_lv: Some(1),
        pric_uplmt_amt: None,
        lmt_gend: None,
        lmt_age_min: None,
        lmt_age_max: None,
        lmt_hosp_lv: None,
        lmt_med_type: None,
        lmt_dise: vec![],
        max_cnt_day: None,
        max_cnt_mdtrt: None,
        excl_codes: vec![],
        incl_codes: vec![],
        rx_only: false,
    };
    b.catalog.push(cat);
    b.mdtrt = visits.to_vec();
    for f in fees {
        b.setl.push(Setl {
            setl_id: f.setl_id.clone(),
            mdtrt_id: f.mdtrt_id.clone(),
            psn_no: f.psn_no.clone(),
            fixmedins_code: f.fixmedins_code.clone(),
            setl_time: f.fee_ocur_time,
            medfee_sumamt: f.det_item_fee_sumamt,
            hifp_pay: f.det_item_fee_sumamt,
            acct_pay: None,
            psn_cash_pay: None,
            fund_pay_sumamt: None,
            drg_codg: None,
        });
    }
    b.fee = fees.to_vec();
    let r = medfund_audit::audit(
        &b,
        &medfund_audit::rules::RuleLibrary::builtin(),
        None,
        &medfund_audit::AuditOptions::default(),
    );
    r.findings
        .iter()
        .filter(|f| f.category == Category::SuspendedPract)
        .filter_map(|f| f.mdtrt_id.as_ref().map(|m| m.to_string()))
        .collect()
}

fn scenario(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-02-10 10:00:00");
    let aud = actor(&mut wf, "auditor");
    let rev = actor(&mut wf, "reviewer");
    let chief = actor(&mut wf, "chief");
    let hosp = actor(&mut wf, "hospital");
    let dual = add_user(
        &mut wf,
        "wang",
        &[Role::Auditor, Role::Reviewer],
        Scope::City,
    );

    // Earlier this year the doctor already received 3 points in another matter.
    let e = wf
        .propose_points(
            &aud,
            &NewPoints {
                pract_code: DOC.into(),
                fixmedins_code: H1.into(),
                band: 1,
                degree: Degree::Main,
                cause: "违约金案件负有责任".into(),
                case_id: None,
                sanction_id: None,
            },
        )
        .unwrap();
    wf.approve_points(&chief, e.id, None, "同意").unwrap();

    // The demo finding: an over-priced item billed by the doctor.
    wf.set_now(at("2025-04-01 09:00:00"));
    let mut f = Finding::new("over_price.default", Category::OverPrice, Level::Fee);
    f.setl_id = Some("S0001".into());
    f.mdtrt_id = Some("M0001".into());
    f.feedetl_sn = Some("3".into());
    f.psn_no = Some("P000000000001".into());
    f.fixmedins_code = Some(H1.into());
    f.pract_code = Some(DOC.into());
    f.med_list_codg = Some("110200001000000".into());
    f.amount = Some(yuan("8600.00"));
    f.evidence.text = "单价 120.00 元，超过限价 20.00 元".into();
    f.seal();
    let id = wf
        .register_findings(&aud, &[(f.clone(), "金额超过阈值".into())])
        .unwrap()[0]
        .id;

    // Reviewed twice, by two people.
    wf.first_review(&dual, id, Opinion::Confirm, "超限价收费成立")
        .unwrap();
    assert_eq!(
        code(wf.second_review(&dual, id, true, "同意")),
        "same_actor"
    );
    wf.set_now(at("2025-04-02 09:00:00"));
    assert_eq!(
        wf.second_review(&rev, id, true, "同意初审").unwrap().state,
        ReviewState::Notified
    );

    // Appealed with a document, investigated, decided.
    wf.set_now(at("2025-04-05 15:00:00"));
    let doc = Upload {
        file_name: "物价核准文件.pdf".into(),
        bytes: b"%PDF price approval".to_vec(),
    };
    assert_eq!(
        wf.appeal(&hosp, id, "该项目经物价部门核准", &[doc])
            .unwrap()
            .state,
        ReviewState::Appealed
    );
    wf.set_now(at("2025-04-08 09:00:00"));
    wf.start_investigation(&aud, id, "核对物价文件").unwrap();
    wf.note_investigation(&aud, id, "核准文件为 2019 年版，已废止")
        .unwrap();
    wf.set_now(at("2025-04-20 09:00:00"));
    let r = wf
        .decide_review(
            &chief,
            id,
            Verdict::Confirmed,
            Some(yuan("8600.00")),
            "申诉不成立",
        )
        .unwrap();
    assert_eq!(
        (r.state, r.confirmed_amount),
        (ReviewState::Decided, Some(yuan("8600.00")))
    );

    // A case from the review, decided, sanctioned with a recovery that is paid.
    let case = wf
        .open_case(
            &aud,
            &NewCase {
                source: Some(CaseSource::Review),
                source_ref: Some(id.to_string()),
                title: "超限价收费".into(),
                summary: f.evidence.text.clone(),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        (case.fixmedins_code.as_deref(), case.suspect_amount),
        (Some(H1), Some(yuan("8600.00")))
    );
    wf.start_case(&aud, case.id, None, "立案调查").unwrap();
    wf.decide_case(
        &chief,
        case.id,
        Nature::Violation,
        yuan("8600.00"),
        "认定违规收费 8600.00 元，追回并对责任医师记分",
    )
    .unwrap();
    let s = wf
        .propose_sanction(
            &aud,
            &NewSanction {
                case_id: case.id,
                kind: Some(SanctionKind::Recovery),
                reason: "追回违规费用".into(),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((s.amount, s.levels_required), (yuan("8600.00"), 1));
    assert_eq!(
        code(wf.approve_sanction(&aud, s.id, &ApproveInput::default())),
        "forbidden"
    );
    let s = wf
        .approve_sanction(
            &chief,
            s.id,
            &ApproveInput {
                note: "同意".into(),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        (s.state, s.due_date),
        (SanctionState::Approved, Some(day("2025-05-20")))
    );

    // Points for the billing doctor: 3 + 6 = 9 → suspended; the approver picks 3 months.
    wf.set_now(at("2025-05-06 09:00:00"));
    let p = wf
        .propose_points(
            &aud,
            &NewPoints {
                pract_code: DOC.into(),
                fixmedins_code: H1.into(),
                band: 2,
                degree: Degree::Main,
                cause: "超限价收费，负主要责任".into(),
                case_id: Some(case.id),
                sanction_id: Some(s.id),
            },
        )
        .unwrap();
    let (p, m) = wf
        .approve_points(&chief, p.id, Some(3), "暂停医保支付资格 3 个月")
        .unwrap();
    let m = m.unwrap();
    assert_eq!(p.total_after, Some(9));
    assert_eq!(
        (m.kind, m.begndate, m.enddate),
        (
            SuspType::Suspend,
            day("2025-05-06"),
            Some(day("2025-08-05"))
        )
    );
    assert_eq!(
        wf.pract_status_on(DOC, day("2025-05-07")).unwrap(),
        PractStatus::Suspended
    );
    assert_eq!(
        wf.pract_status_on(DOC, day("2025-05-05")).unwrap(),
        PractStatus::Normal
    );

    // The derived pract_susp list covers the next day; the next non-emergency line falls under
    // it, an emergency line the same day does not.
    let measures = medfund_workflow::points::suspensions(wf.db()).unwrap();
    assert!(measures
        .iter()
        .any(|m| m.pract_code == DOC && m.covers(day("2025-05-07"))));
    let visits = vec![
        visit("M0100", "11", false, "2025-05-07 10:00:00"),
        visit("M0101", "13", false, "2025-05-07 22:00:00"),
        visit("M0102", "21", true, "2025-05-07 23:00:00"),
    ];
    let fees = vec![
        line("M0100", "2025-05-07 10:05:00"),
        line("M0101", "2025-05-07 22:05:00"),
        line("M0102", "2025-05-07 23:05:00"),
    ];
    assert_eq!(flagged(&fees, &visits, &measures), ["M0100"]);
    // The day before the suspension nothing is flagged.
    let before = vec![line("M0100", "2025-05-05 10:05:00")];
    assert!(flagged(&before, &visits, &measures).is_empty());
    // The real audit engine, fed the ledger's suspensions, flags the same line.
    assert_eq!(engine_flags(&visits, &fees, &measures), ["M0100"]);

    // The hospital pays; the case is closed; the doctor's file shows it all.
    let s = wf
        .record_payment(
            &aud,
            s.id,
            yuan("8600.00"),
            day("2025-05-06"),
            "退回 20250506",
        )
        .unwrap();
    assert_eq!(
        (s.state, s.recovery_status),
        (SanctionState::Executed, Some(RecoveryStatus::Paid))
    );
    assert_eq!(
        wf.close_case(&chief, case.id, "追回到账，记分已执行")
            .unwrap()
            .state,
        CaseState::Closed
    );
    let file = wf.person_file(&hosp, DOC).unwrap();
    assert_eq!(
        (
            file.points_this_year,
            file.status_today,
            file.entries.len(),
            file.measures.len()
        ),
        (9, PractStatus::Suspended, 2, 1)
    );

    // Every step is in the audit log and the chain verifies.
    let v = medfund_workflow::auditlog::verify(wf.db()).unwrap();
    let actions: Vec<String> = wf
        .db()
        .query(
            "SELECT action FROM audit_log WHERE seq > 12 ORDER BY seq",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.text(0))
        .collect();
    assert_eq!(
        actions,
        [
            "points.propose",
            "points.approve",
            "review.register",
            "review.first",
            "review.second",
            "review.appeal",
            "review.investigate",
            "review.note",
            "review.decide",
            "case.open",
            "case.start",
            "case.decide",
            "sanction.propose",
            "sanction.approve",
            "points.propose",
            "points.approve",
            "sanction.payment",
            "case.close"
        ]
    );
    assert_eq!(v.entries, 12 + actions.len() as i64);
}
both!(scenario_sqlite_pg, "wf_scenario", super::scenario);
