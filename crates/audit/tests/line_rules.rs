//! Line rules with hand-worked expected findings and amounts (DOMAIN.md §4.1).
mod common;
use common::*;
use medfund_contract::*;

const H1: &str = "H11010100001";

fn base() -> Batch {
    Batch {
        psn: vec![
            psn("M1", Gender::Male, "1980-05-01"),
            psn("F1", Gender::Female, "1985-07-01"),
            psn("U1", Gender::Unknown, "1990-01-01"),
        ],
        fixmedins: vec![hosp(H1, Some(2), "110101")],
        ..Default::default()
    }
}

#[test]
fn gender_limit_flags_the_other_gender_only() {
    let mut b = base();
    let mut c = cat("003100000000001", "阴道镜检查", 3);
    c.lmt_gend = Some(Gender::Female);
    b.catalog.push(c);
    for who in ["M1", "F1", "U1"] {
        let m = visit(
            &format!("V{who}"),
            who,
            H1,
            "11",
            "2025-03-01 09:00:00",
            None,
            "N76.000",
        );
        b.fee.push(fee(
            "1",
            &m,
            "2025-03-01 09:10:00",
            "003100000000001",
            "1",
            "35.5",
        ));
        b.mdtrt.push(m);
    }
    let fs = run(&b);
    let g = of(&fs, Category::GenderLimit);
    assert_eq!(
        keys(&g),
        vec![("VM1".into(), "1".into(), Some(fen("35.50")))]
    );
    assert!(
        g[0].evidence
            .text
            .starts_with("患者男，项目限女性使用：阴道镜检查（003100000000001）"),
        "{}",
        g[0].evidence.text
    );
    assert_eq!(g[0].evidence.details["lmt_gend"], "2");
    assert_eq!(g[0].rule_id, "gender_limit.catalog");
    assert_eq!(g[0].level, Level::Fee);
    assert_eq!(g[0].psn_no.as_deref(), Some("M1"));
    assert_eq!(g[0].setl_id.as_deref(), Some("SVM1"));
    assert_eq!(fs.len(), 1, "nothing else fires: {fs:#?}");
}

#[test]
fn age_limit_boundaries_on_the_birthday() {
    let mut b = base();
    b.psn.push(psn("C1", Gender::Male, "2010-03-15"));
    b.psn.push(psn("A1", Gender::Female, "2007-03-15"));
    let mut child = cat("XA01AAA000A000000000001", "儿童专用药", 1);
    child.lmt_age_max = Some(14);
    let mut adult = cat("XA01AAA000A000000000002", "成人药", 1);
    adult.lmt_age_min = Some(18);
    b.catalog.extend([child, adult]);
    let m = visit("V1", "C1", H1, "11", "2025-03-14 09:00:00", None, "J06.900");
    b.fee.push(fee(
        "1",
        &m,
        "2025-03-14 09:00:00",
        "XA01AAA000A000000000001",
        "1",
        "10",
    )); // age 14: allowed
    b.fee.push(fee(
        "2",
        &m,
        "2025-03-15 09:00:00",
        "XA01AAA000A000000000001",
        "2",
        "10",
    )); // birthday: 15
    b.mdtrt.push(m);
    let m = visit("V2", "A1", H1, "11", "2025-03-14 09:00:00", None, "J06.900");
    b.fee.push(fee(
        "1",
        &m,
        "2025-03-14 23:59:59",
        "XA01AAA000A000000000002",
        "1",
        "8",
    )); // 17: flagged
    b.fee.push(fee(
        "2",
        &m,
        "2025-03-15 00:00:00",
        "XA01AAA000A000000000002",
        "1",
        "8",
    )); // 18: allowed
    b.mdtrt.push(m);
    let fs = run(&b);
    let a = of(&fs, Category::AgeLimit);
    assert_eq!(
        keys(&a),
        vec![
            ("V2".into(), "1".into(), Some(fen("8.00"))),
            ("V1".into(), "2".into(), Some(fen("20.00")))
        ]
    );
    let v1 = a
        .iter()
        .find(|f| f.mdtrt_id.as_deref() == Some("V1"))
        .unwrap();
    assert_eq!(v1.evidence.details["age"], 15);
    assert!(
        v1.evidence.text.contains("年龄 15 周岁"),
        "{}",
        v1.evidence.text
    );
}

#[test]
fn hosp_level_ranks_numbers() {
    let mut b = base();
    b.fixmedins = vec![
        hosp("H11010100003", Some(3), "110101"),
        hosp("H11010100002", Some(2), "110101"),
        hosp("H11010100009", Some(9), "110101"),
        hosp("H11010100000", None, "110101"),
    ];
    let mut c = cat("XB01AAA000A000000000001", "二级以上用药", 1);
    c.lmt_hosp_lv = Some(2);
    b.catalog.push(c);
    for (i, h) in [
        "H11010100003",
        "H11010100002",
        "H11010100009",
        "H11010100000",
    ]
    .iter()
    .enumerate()
    {
        let m = visit(
            &format!("V{i}"),
            "M1",
            h,
            "11",
            "2025-03-01 09:00:00",
            None,
            "I10.x00",
        );
        b.fee.push(fee(
            "1",
            &m,
            "2025-03-01 09:00:00",
            "XB01AAA000A000000000001",
            "1",
            "30",
        ));
        b.mdtrt.push(m);
    }
    let fs = run(&b);
    let h = of(&fs, Category::HospLevelLimit);
    // Primary (3) and unrated (9) are below secondary; secondary and unknown level are not flagged.
    assert_eq!(
        keys(&h),
        vec![
            ("V0".into(), "1".into(), Some(fen("30.00"))),
            ("V2".into(), "1".into(), Some(fen("30.00")))
        ]
    );
    assert!(h[0].evidence.text.contains("机构等级为一级"));
    assert_eq!(h[0].nhsa_rule_code.as_deref(), Some("GZ10000102011000"));
}

#[test]
fn med_type_limit_both_directions() {
    let mut b = base();
    let mut ipt = cat("003300000000001", "住院项目", 3);
    ipt.lmt_med_type = Some(MedTypeLimit::Ipt);
    let mut opt = cat("003300000000002", "门诊项目", 3);
    opt.lmt_med_type = Some(MedTypeLimit::Opt);
    b.catalog.extend([ipt, opt]);
    let o = visit("VO", "M1", H1, "11", "2025-03-01 09:00:00", None, "I10.x00");
    let i = visit(
        "VI",
        "M1",
        H1,
        "21",
        "2025-03-02 09:00:00",
        Some("2025-03-03 09:00:00"),
        "I10.x00",
    );
    b.fee.push(fee(
        "1",
        &o,
        "2025-03-01 09:00:00",
        "003300000000001",
        "1",
        "12",
    ));
    b.fee.push(fee(
        "2",
        &o,
        "2025-03-01 09:00:00",
        "003300000000002",
        "1",
        "13",
    ));
    b.fee.push(fee(
        "1",
        &i,
        "2025-03-02 10:00:00",
        "003300000000001",
        "1",
        "12",
    ));
    b.fee.push(fee(
        "2",
        &i,
        "2025-03-02 10:00:00",
        "003300000000002",
        "1",
        "13",
    ));
    b.mdtrt.extend([o, i]);
    let fs = run(&b);
    assert_eq!(
        keys(&of(&fs, Category::MedTypeLimit)),
        vec![
            ("VI".into(), "2".into(), Some(fen("13.00"))),
            ("VO".into(), "1".into(), Some(fen("12.00")))
        ]
    );
}

#[test]
fn indication_limit_reads_further_diagnoses() {
    let mut b = base();
    let mut c = cat("XJ01DDA000A000000000001", "头孢类", 1);
    c.lmt_dise = vec!["J18".into(), "J15".into()];
    b.catalog.push(c);
    let ok = visit("V1", "M1", H1, "11", "2025-03-01 09:00:00", None, "E11.900");
    let bad = visit("V2", "M1", H1, "11", "2025-03-02 09:00:00", None, "E11.900");
    b.diag.push(Diag {
        mdtrt_id: "V1".into(),
        diag_code: "J18.000".into(),
        maindiag_flag: false,
    });
    b.fee.push(fee(
        "1",
        &ok,
        "2025-03-01 09:00:00",
        "XJ01DDA000A000000000001",
        "2",
        "4.5",
    ));
    b.fee.push(fee(
        "1",
        &bad,
        "2025-03-02 09:00:00",
        "XJ01DDA000A000000000001",
        "2",
        "4.5",
    ));
    b.mdtrt.extend([ok, bad]);
    let fs = run(&b);
    let i = of(&fs, Category::IndicationLimit);
    assert_eq!(keys(&i), vec![("V2".into(), "1".into(), Some(fen("9.00")))]);
    assert_eq!(i[0].result, Outcome::Suspect);
    assert!(
        i[0].evidence
            .text
            .contains("E11.900 均不符合项目限定适应症（J18、J15）"),
        "{}",
        i[0].evidence.text
    );
}

#[test]
fn over_price_amount_to_the_fen_and_equal_cap_is_fine() {
    let mut b = base();
    let mut c = cat("003400000000001", "检查", 3);
    c.pric_uplmt_amt = Some(p("10"));
    b.catalog.push(c);
    let m = visit("V1", "M1", H1, "11", "2025-03-01 09:00:00", None, "I10.x00");
    b.fee.push(fee(
        "1",
        &m,
        "2025-03-01 09:00:00",
        "003400000000001",
        "3",
        "12.345678",
    )); // (2.345678×3)=7.037034 → 7.04
    b.fee.push(fee(
        "2",
        &m,
        "2025-03-01 09:01:00",
        "003400000000001",
        "1",
        "10",
    )); // equal to the cap
    b.fee.push(fee(
        "3",
        &m,
        "2025-03-01 09:02:00",
        "003400000000001",
        "-1",
        "12",
    )); // refund
    b.fee.push(fee(
        "4",
        &m,
        "2025-03-01 09:03:00",
        "003400000000001",
        "0.5",
        "10.01",
    )); // 0.005 → 0.01
    b.mdtrt.push(m);
    let fs = run(&b);
    assert_eq!(
        keys(&of(&fs, Category::OverPrice)),
        vec![
            ("V1".into(), "1".into(), Some(fen("7.04"))),
            ("V1".into(), "4".into(), Some(fen("0.01")))
        ]
    );
}

#[test]
fn suspended_personnel_except_emergencies() {
    let mut b = base();
    b.catalog.push(cat("003500000000001", "治疗", 3));
    b.pract_susp.push(PractSusp {
        pract_code: "D110101000001".into(),
        susp_type: SuspType::Suspend,
        begndate: d("2025-03-01"),
        enddate: Some(d("2025-03-10")),
    });
    b.pract_susp.push(PractSusp {
        pract_code: "D110101000002".into(),
        susp_type: SuspType::Terminate,
        begndate: d("2025-03-05"),
        enddate: None,
    });
    let mut m = visit("V1", "M1", H1, "11", "2025-03-01 09:00:00", None, "I10.x00");
    m.atddr_no = Some("D110101000002".into());
    let mut l1 = fee("1", &m, "2025-03-10 09:00:00", "003500000000001", "1", "20"); // last day of suspension
    l1.bilg_dr_codg = Some("D110101000001".into());
    let mut l2 = fee("2", &m, "2025-03-11 09:00:00", "003500000000001", "1", "20"); // after it: fine
    l2.bilg_dr_codg = Some("D110101000001".into());
    let l3 = fee("3", &m, "2025-03-04 09:00:00", "003500000000001", "1", "20"); // attending, before termination
    let l4 = fee("4", &m, "2025-03-05 09:00:00", "003500000000001", "1", "21"); // attending, terminated
    b.fee.extend([l1, l2, l3, l4]);
    let mut e = visit("V2", "M1", H1, "13", "2025-03-05 09:00:00", None, "S06.000");
    let mut l = fee("1", &e, "2025-03-05 09:00:00", "003500000000001", "1", "20");
    l.bilg_dr_codg = Some("D110101000001".into());
    b.fee.push(l);
    b.mdtrt.push(e.clone());
    e.mdtrt_id = "V3".into();
    e.med_type = "21".into();
    e.emer_flag = true;
    let mut l = fee("1", &e, "2025-03-05 09:00:00", "003500000000001", "1", "20");
    l.bilg_dr_codg = Some("D110101000001".into());
    b.fee.push(l);
    b.mdtrt.extend([m, e]);
    let fs = run(&b);
    let s = of(&fs, Category::SuspendedPract);
    assert_eq!(
        keys(&s),
        vec![
            ("V1".into(), "1".into(), Some(fen("20.00"))),
            ("V1".into(), "4".into(), Some(fen("21.00")))
        ]
    );
    assert_eq!(s[0].pract_code.as_deref(), Some("D110101000001"));
    assert_eq!(s[1].pract_code.as_deref(), Some("D110101000002"));
    assert!(
        s[1].evidence.text.contains("终止"),
        "{}",
        s[1].evidence.text
    );
    assert_eq!(s[0].severity, 4);
}

#[test]
fn uncatalogued_codes_and_empty_batches() {
    assert!(run(&Batch::default()).is_empty());
    let mut b = base();
    let m = visit("V1", "M1", H1, "11", "2025-03-01 09:00:00", None, "I10.x00");
    b.fee.push(fee(
        "1",
        &m,
        "2025-03-01 09:00:00",
        "003600000000001",
        "1",
        "20",
    ));
    b.mdtrt.push(m);
    let r = medfund_audit::audit(
        &b,
        &medfund_audit::rules::RuleLibrary::builtin(),
        None,
        &Default::default(),
    );
    assert!(r.findings.is_empty());
    assert_eq!(r.stats.uncatalogued_lines, 1);
    assert_eq!(r.stats.lines, 1);
}
