//! Points arithmetic: bands and degrees, yearly reset, the 9 and 12 thresholds, bans, repair,
//! emergency exemption, institution flags, merging with the imported pract_susp table.
mod common;
use common::*;
use medfund_contract::{PractSusp, SuspType};
use medfund_db::Db;
use medfund_workflow::points::{
    institution_flags, points_for, service_payable, status_from, Degree, NewPoints, PractStatus,
    RepairInput, RepairKind,
};
use medfund_workflow::{Ratio, Role, Scope, Workflow};
use std::path::Path;

const D2: &str = "D430100000002";

fn np(pract: &str, band: i64, degree: Degree) -> NewPoints {
    NewPoints {
        pract_code: pract.into(),
        fixmedins_code: H1.into(),
        band,
        degree,
        cause: "参与违规收费".into(),
        case_id: None,
        sanction_id: None,
    }
}

/// Proposes (auditor) and approves (chief); returns (year total after, measure).
fn give(
    wf: &mut Workflow,
    pract: &str,
    band: i64,
    degree: Degree,
    months: Option<u32>,
) -> (i64, Option<medfund_workflow::points::Measure>) {
    let aud = actor(wf, "auditor");
    let chief = actor(wf, "chief");
    let e = wf.propose_points(&aud, &np(pract, band, degree)).unwrap();
    let (e, m) = wf.approve_points(&chief, e.id, months, "同意").unwrap();
    (e.total_after.unwrap(), m)
}

#[test]
fn bands_and_degrees() {
    let mut all = vec![];
    for band in 1..=4 {
        for d in [Degree::General, Degree::Important, Degree::Main] {
            all.push(points_for(band, d).unwrap());
        }
    }
    assert_eq!(all, (1..=12).collect::<Vec<_>>());
    assert!(points_for(0, Degree::Main).is_err());
    assert!(points_for(5, Degree::General).is_err());
}

#[test]
fn emergency_exemption_and_status_precedence() {
    assert!(service_payable(PractStatus::Normal, false));
    assert!(!service_payable(PractStatus::Suspended, false));
    assert!(service_payable(PractStatus::Suspended, true));
    assert!(!service_payable(PractStatus::Terminated, false));
    assert!(service_payable(PractStatus::Terminated, true));
    let ms = vec![
        PractSusp {
            pract_code: DOC.into(),
            susp_type: SuspType::Suspend,
            begndate: day("2025-01-01"),
            enddate: Some(day("2025-12-31")),
        },
        PractSusp {
            pract_code: DOC.into(),
            susp_type: SuspType::Terminate,
            begndate: day("2025-06-01"),
            enddate: None,
        },
    ];
    assert_eq!(
        status_from(&ms, DOC, day("2024-12-31")),
        PractStatus::Normal
    );
    assert_eq!(
        status_from(&ms, DOC, day("2025-05-31")),
        PractStatus::Suspended
    );
    assert_eq!(
        status_from(&ms, DOC, day("2025-06-01")),
        PractStatus::Terminated
    );
    assert_eq!(status_from(&ms, D2, day("2025-06-01")), PractStatus::Normal);
}

fn thresholds(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    let aud = actor(&mut wf, "auditor");
    let chief = actor(&mut wf, "chief");
    // 6 points: nothing happens; suspension months are refused below 9.
    let e = wf.propose_points(&aud, &np(DOC, 2, Degree::Main)).unwrap();
    assert_eq!(e.points, 6);
    assert_eq!(
        code(wf.approve_points(&chief, e.id, Some(3), "x")),
        "validation"
    );
    let (e2, m) = wf.approve_points(&chief, e.id, None, "同意").unwrap();
    assert_eq!((e2.total_after, e2.year, m), (Some(6), Some(2025), None));
    assert_eq!(
        code(wf.approve_points(&chief, e.id, None, "again")),
        "invalid_transition"
    );

    // +3 = 9: the approver must choose 1–6 months.
    let e = wf.propose_points(&aud, &np(DOC, 1, Degree::Main)).unwrap();
    assert_eq!(
        code(wf.approve_points(&chief, e.id, None, "x")),
        "validation"
    );
    assert_eq!(
        code(wf.approve_points(&chief, e.id, Some(0), "x")),
        "validation"
    );
    assert_eq!(
        code(wf.approve_points(&chief, e.id, Some(7), "x")),
        "validation"
    );
    let (e, m) = wf
        .approve_points(&chief, e.id, Some(3), "暂停三个月")
        .unwrap();
    let m = m.unwrap();
    assert_eq!(e.total_after, Some(9));
    assert_eq!(
        (m.kind, m.begndate, m.enddate, m.months),
        (
            SuspType::Suspend,
            day("2025-03-03"),
            Some(day("2025-06-02")),
            Some(3)
        )
    );
    assert_eq!(
        wf.pract_status_on(DOC, day("2025-03-02")).unwrap(),
        PractStatus::Normal
    );
    assert_eq!(
        wf.pract_status_on(DOC, day("2025-03-03")).unwrap(),
        PractStatus::Suspended
    );
    assert_eq!(
        wf.pract_status_on(DOC, day("2025-06-02")).unwrap(),
        PractStatus::Suspended
    );
    assert_eq!(
        wf.pract_status_on(DOC, day("2025-06-03")).unwrap(),
        PractStatus::Normal
    );
    assert!(!wf
        .is_service_payable(DOC, day("2025-04-01"), false)
        .unwrap());
    assert!(
        wf.is_service_payable(DOC, day("2025-04-01"), true).unwrap(),
        "emergencies are paid"
    );

    // +2 = 11: already past 9 this year, no second suspension.
    assert_eq!(give(&mut wf, DOC, 1, Degree::Important, None), (11, None));
    // +1 = 12: terminated by accumulation, 1-year ban.
    let (t, m) = give(&mut wf, DOC, 1, Degree::General, None);
    let m = m.unwrap();
    assert_eq!(
        (t, m.kind, m.enddate, m.ban_until),
        (12, SuspType::Terminate, None, Some(day("2026-03-03")))
    );
    assert_eq!(
        wf.pract_status_on(DOC, day("2030-01-01")).unwrap(),
        PractStatus::Terminated
    );
    // Further points are recorded but trigger nothing.
    assert_eq!(give(&mut wf, DOC, 1, Degree::General, None), (13, None));
    // Re-registration only when the ban is over.
    assert_eq!(
        code(wf.reregister(&chief, DOC, day("2026-03-02"), "申请恢复")),
        "validation"
    );
    assert_eq!(
        code(wf.reregister(&aud, DOC, day("2026-03-03"), "申请恢复")),
        "forbidden"
    );
    let m = wf
        .reregister(&chief, DOC, day("2026-03-03"), "禁止期满重新登记备案")
        .unwrap();
    assert_eq!(m.enddate, Some(day("2026-03-02")));
    assert_eq!(
        wf.pract_status_on(DOC, day("2026-03-02")).unwrap(),
        PractStatus::Terminated
    );
    assert_eq!(
        wf.pract_status_on(DOC, day("2026-03-03")).unwrap(),
        PractStatus::Normal
    );

    // A single 12-point event: 3-year ban.
    let (t, m) = give(&mut wf, D2, 4, Degree::Main, None);
    let m = m.unwrap();
    assert_eq!(
        (t, m.kind, m.ban_until),
        (12, SuspType::Terminate, Some(day("2028-03-03")))
    );
    assert!(m.reason.contains("一次性"));

    // The ledger's measures as pract_susp records for the audit engine.
    let s = medfund_workflow::points::suspensions(wf.db()).unwrap();
    assert_eq!(s.len(), 3);
    assert!(s.iter().any(|x| x.pract_code == DOC
        && x.susp_type == SuspType::Suspend
        && x.enddate == Some(day("2025-06-02"))));

    // Two-person rule on points.
    let dual = add_user(
        &mut wf,
        "dualpoints",
        &[Role::Auditor, Role::SectionChief],
        Scope::City,
    );
    let e = wf
        .propose_points(&dual, &np("D430100000003", 1, Degree::General))
        .unwrap();
    assert_eq!(
        code(wf.approve_points(&dual, e.id, None, "x")),
        "same_actor"
    );
    assert_eq!(code(wf.reject_points(&dual, e.id, "x")), "same_actor");
    assert_eq!(
        wf.reject_points(&chief, e.id, "事实不清").unwrap().state,
        medfund_workflow::points::PointsState::Rejected
    );
    assert_eq!(
        code(wf.propose_points(&aud, &np("X12", 1, Degree::General))),
        "validation"
    );
    assert_eq!(
        code(wf.propose_points(&chief, &np(DOC, 1, Degree::General))),
        "forbidden"
    );
}
both!(thresholds_sqlite_pg, "wf_pts_thresholds", super::thresholds);

fn yearly_reset(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-12-31 16:00:00");
    // 8 points on 31 December …
    assert_eq!(give(&mut wf, DOC, 3, Degree::Important, None), (8, None));
    // … and 1 on 1 January start a new year: 1, no suspension.
    wf.set_now(at("2026-01-01 09:00:00"));
    assert_eq!(give(&mut wf, DOC, 1, Degree::General, None), (1, None));
    // The same two entries within one year suspend.
    wf.set_now(at("2025-12-31 16:00:00"));
    give(&mut wf, D2, 3, Degree::Important, None);
    let aud = actor(&mut wf, "auditor");
    let chief = actor(&mut wf, "chief");
    let e = wf
        .propose_points(&aud, &np(D2, 1, Degree::General))
        .unwrap();
    let (_, m) = wf.approve_points(&chief, e.id, Some(1), "x").unwrap();
    assert_eq!(
        m.unwrap().enddate,
        Some(day("2026-01-30")),
        "one month from 31 Dec ends 30 Jan"
    );
    wf.set_now(at("2026-01-01 09:00:00"));
    let f = wf.person_file(&aud, DOC).unwrap();
    assert_eq!(f.points_this_year, 1);
    let ys: Vec<(i64, i64)> = f.years.iter().map(|y| (y.year, y.total)).collect();
    assert_eq!(ys, [(2026, 1), (2025, 8)]);
    assert_eq!(f.status_today, PractStatus::Normal);
}
both!(yearly_reset_sqlite_pg, "wf_pts_reset", super::yearly_reset);

fn repair(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    let aud = actor(&mut wf, "auditor");
    let chief = actor(&mut wf, "chief");
    give(&mut wf, DOC, 2, Degree::Main, None);
    let (_, m) = give(&mut wf, DOC, 1, Degree::Main, Some(3)); // 9 → 2025-03-03..2025-06-02 (92 days)
    let m = m.unwrap();
    let rp = |kind, points, days, mid: Option<i64>| RepairInput {
        pract_code: DOC.into(),
        kind,
        points,
        measure_id: mid,
        days,
        reason: "参加医保政策培训并整改".into(),
    };
    assert_eq!(
        code(wf.repair(&aud, &rp(RepairKind::ReducePoints, 1, 0, None))),
        "forbidden"
    );
    assert_eq!(
        code(wf.repair(
            &chief,
            &RepairInput {
                reason: " ".into(),
                ..rp(RepairKind::ReducePoints, 1, 0, None)
            }
        )),
        "validation"
    );
    assert_eq!(
        code(wf.repair(&chief, &rp(RepairKind::ReducePoints, 10, 0, None))),
        "validation",
        "more than the year's 9"
    );
    let r = wf
        .repair(&chief, &rp(RepairKind::ReducePoints, 2, 0, None))
        .unwrap();
    assert_eq!(
        (r.points, r.year, r.approved_by.as_str()),
        (2, 2025, "chief")
    );
    assert_eq!(
        medfund_workflow::points::year_total(wf.db(), DOC, 2025).unwrap(),
        7
    );
    assert_eq!(
        code(wf.repair(&chief, &rp(RepairKind::ReducePoints, 2, 0, None))),
        "validation",
        "at most 3 a year"
    );
    wf.repair(&chief, &rp(RepairKind::ReducePoints, 1, 0, None))
        .unwrap();
    assert_eq!(
        medfund_workflow::points::year_total(wf.db(), DOC, 2025).unwrap(),
        6
    );
    // Removing points does not lift the suspension already imposed.
    assert_eq!(
        wf.pract_status_on(DOC, day("2025-04-30")).unwrap(),
        PractStatus::Suspended
    );

    // Shortening: at most half of 92 days = 46.
    assert_eq!(
        code(wf.repair(
            &chief,
            &rp(RepairKind::ShortenSuspension, 0, 47, Some(m.id))
        )),
        "validation"
    );
    wf.repair(
        &chief,
        &rp(RepairKind::ShortenSuspension, 0, 40, Some(m.id)),
    )
    .unwrap();
    assert_eq!(
        wf.pract_status_on(DOC, day("2025-04-23")).unwrap(),
        PractStatus::Suspended
    );
    assert_eq!(
        wf.pract_status_on(DOC, day("2025-04-24")).unwrap(),
        PractStatus::Normal
    );
    assert_eq!(
        code(wf.repair(&chief, &rp(RepairKind::ShortenSuspension, 0, 7, Some(m.id)))),
        "validation",
        "40 + 7 > 46"
    );
    wf.repair(&chief, &rp(RepairKind::ShortenSuspension, 0, 6, Some(m.id)))
        .unwrap();
    assert_eq!(
        wf.pract_status_on(DOC, day("2025-04-18")).unwrap(),
        PractStatus::Normal
    );
    assert_eq!(
        wf.pract_status_on(DOC, day("2025-04-17")).unwrap(),
        PractStatus::Suspended
    );
    // A finished suspension cannot be shortened.
    wf.set_now(at("2025-05-01 09:00:00"));
    assert_eq!(
        code(wf.repair(&chief, &rp(RepairKind::ShortenSuspension, 0, 1, Some(m.id)))),
        "validation"
    );
    let f = wf.person_file(&chief, DOC).unwrap();
    assert_eq!(
        (
            f.repairs.len(),
            f.measures[0].original_enddate,
            f.measures[0].enddate
        ),
        (4, Some(day("2025-06-02")), Some(day("2025-04-17")))
    );
}
both!(repair_sqlite_pg, "wf_pts_repair", super::repair);

fn person_file_and_imports(db: &mut Db, dir: &Path) {
    let mut wf = start(db, dir, "2025-03-03 09:00:00");
    let hosp = actor(&mut wf, "hospital");
    let aud = actor(&mut wf, "auditor");
    give(&mut wf, DOC, 1, Degree::General, None);
    let e = wf
        .propose_points(
            &aud,
            &NewPoints {
                fixmedins_code: H2.into(),
                ..np(D2, 1, Degree::General)
            },
        )
        .unwrap();
    // The hospital sees its own staff's file, not another hospital's.
    assert_eq!(wf.person_file(&hosp, DOC).unwrap().entries.len(), 1);
    // The same doctor also scored at another hospital: the total counts both, the hospital
    // reads only its own entry, the bureau both.
    let chief = actor(&mut wf, "chief");
    let other = wf
        .propose_points(
            &aud,
            &NewPoints {
                fixmedins_code: H2.into(),
                ..np(DOC, 1, Degree::General)
            },
        )
        .unwrap();
    wf.approve_points(&chief, other.id, None, "同意").unwrap();
    let f = wf.person_file(&hosp, DOC).unwrap();
    assert_eq!(f.entries.len(), 1);
    assert!(f.entries.iter().all(|e| e.fixmedins_code == H1));
    assert_eq!(f.points_this_year, 2);
    assert_eq!(wf.person_file(&aud, DOC).unwrap().entries.len(), 2);
    assert_eq!(code(wf.person_file(&hosp, D2)), "not_found");
    assert_eq!(code(wf.approve_points(&hosp, e.id, None, "x")), "forbidden");
    // The imported national table counts too (the store's pract_susp layout).
    wf.db()
        .batch("CREATE TABLE pract_susp (pract_code TEXT NOT NULL, begndate TEXT NOT NULL, susp_type TEXT NOT NULL, enddate TEXT, load_id BIGINT NOT NULL, PRIMARY KEY (pract_code, begndate))")
        .unwrap();
    wf.db().execute("INSERT INTO pract_susp VALUES ('D430100000009', '2025-01-01', 'suspend', '2025-03-31', 1)", &[]).unwrap();
    assert_eq!(
        wf.pract_status_on("D430100000009", day("2025-03-31"))
            .unwrap(),
        PractStatus::Suspended
    );
    assert_eq!(
        wf.person_file(&aud, "D430100000009").unwrap().status_today,
        PractStatus::Suspended
    );
    // Institution flags from the store's roster.
    wf.db().batch("CREATE TABLE pract (pract_code TEXT PRIMARY KEY, pract_name TEXT NOT NULL, pract_type BIGINT NOT NULL, fixmedins_code TEXT NOT NULL, load_id BIGINT NOT NULL)").unwrap();
    for i in 1..=10 {
        let code = format!("D4301000000{i:02}");
        wf.db()
            .execute(
                "INSERT INTO pract VALUES ($1, '医生', 1, $2, 1)",
                &[code.as_str().into(), H1.into()],
            )
            .unwrap();
    }
    let flags = wf.institution_flags(&aud, 2025, None).unwrap();
    // D430100000009 (imported) of 10 → 10% > 5%.
    assert_eq!(
        (
            flags[0].staff,
            flags[0].affected,
            flags[0].flagged,
            flags[0].share_percent.as_str()
        ),
        (10, 1, true, "10.00")
    );
    assert_eq!(code(wf.institution_flags(&hosp, 2025, None)), "forbidden");
}
both!(
    person_file_sqlite_pg,
    "wf_pts_file",
    super::person_file_and_imports
);

#[test]
fn institution_flag_threshold() {
    let roster: Vec<(String, String)> = (0..20)
        .map(|i| (H1.to_string(), format!("D4301000001{i:02}")))
        .chain((0..3).map(|i| (H2.to_string(), format!("D4301000002{i:02}"))))
        .collect();
    let m = |p: &str, b: &str, e: Option<&str>| PractSusp {
        pract_code: p.into(),
        susp_type: SuspType::Suspend,
        begndate: day(b),
        enddate: e.map(day),
    };
    let five = Ratio::parse("0.05").unwrap();
    // 1 of 20 = 5%: not above the threshold.
    let f = institution_flags(
        2025,
        &roster,
        &[m("D430100000100", "2025-05-01", Some("2025-06-30"))],
        five,
    );
    assert_eq!(
        (f[0].affected, f[0].flagged, f[0].share_percent.as_str()),
        (1, false, "5.00")
    );
    // 2 of 20 = 10%: flagged. Measures outside the year do not count; one touching 1 January does.
    let ms = vec![
        m("D430100000100", "2025-05-01", Some("2025-06-30")),
        m("D430100000101", "2024-06-01", Some("2025-01-01")),
        m("D430100000102", "2024-01-01", Some("2024-12-31")),
        m("D430100000103", "2026-01-01", None),
    ];
    let f = institution_flags(2025, &roster, &ms, five);
    assert_eq!(
        (f[0].fixmedins_code.as_str(), f[0].affected, f[0].flagged),
        (H1, 2, true)
    );
    assert_eq!(f[0].affected_practs, ["D430100000100", "D430100000101"]);
    assert_eq!(
        (
            f[1].fixmedins_code.as_str(),
            f[1].staff,
            f[1].affected,
            f[1].flagged
        ),
        (H2, 3, 0, false)
    );
    assert!(institution_flags(2025, &[], &ms, five).is_empty());
}
