//! Visit, person and cross-person rules with hand-worked expected findings (DOMAIN.md §4.1).
mod common;
use common::*;
use medfund_audit::rules::RuleLibrary;
use medfund_contract::*;

const H1: &str = "H11010100001";
const H2: &str = "H11010100002";
const H3: &str = "H11010100003";
const H4: &str = "H32010200004";
const P1: &str = "P11010100001";

fn base() -> Batch {
    Batch {
        psn: vec![
            psn("A", Gender::Male, "1960-05-01"),
            psn("B", Gender::Female, "1970-01-01"),
            psn("C", Gender::Male, "1950-01-01"),
        ],
        fixmedins: vec![
            hosp(H1, Some(1), "110101"),
            hosp(H2, Some(2), "110102"),
            hosp(H3, Some(2), "110105"),
            hosp(H4, Some(1), "320102"),
            pharm(P1, "110101"),
        ],
        ..Default::default()
    }
}

#[test]
fn over_frequency_per_day_across_visits_and_per_visit() {
    let mut b = base();
    let mut c = cat("003700000000001", "雾化吸入", 3);
    c.max_cnt_day = Some(q("2"));
    let mut c2 = cat("003700000000002", "换药", 3);
    c2.max_cnt_mdtrt = Some(q("3"));
    b.catalog.extend([c, c2]);
    let v1 = visit("V1", "A", H1, "11", "2025-03-01 08:00:00", None, "J20.900");
    let v2 = visit("V2", "A", H2, "11", "2025-03-01 09:30:00", None, "J20.900");
    b.fee.push(fee(
        "1",
        &v1,
        "2025-03-01 09:00:00",
        "003700000000001",
        "1",
        "5",
    ));
    b.fee.push(fee(
        "1",
        &v2,
        "2025-03-01 10:00:00",
        "003700000000001",
        "2",
        "5",
    )); // day total 3: 1 above
    b.fee.push(fee(
        "2",
        &v2,
        "2025-03-01 11:00:00",
        "003700000000001",
        "1",
        "5",
    )); // day total 4: 1 above
    b.fee.push(fee(
        "3",
        &v2,
        "2025-03-02 09:00:00",
        "003700000000001",
        "2",
        "5",
    )); // next day, exactly 2
    let v3 = visit(
        "V3",
        "B",
        H1,
        "21",
        "2025-03-01 08:00:00",
        Some("2025-03-05 08:00:00"),
        "S61.000",
    );
    b.fee.push(fee(
        "1",
        &v3,
        "2025-03-01 09:00:00",
        "003700000000002",
        "2",
        "7.5",
    ));
    b.fee.push(fee(
        "2",
        &v3,
        "2025-03-02 09:00:00",
        "003700000000002",
        "1",
        "7.5",
    )); // visit total 3: at limit
    b.fee.push(fee(
        "3",
        &v3,
        "2025-03-03 09:00:00",
        "003700000000002",
        "1.5",
        "7.5",
    )); // 4.5: 1.5 above = 11.25
    b.mdtrt.extend([v1, v2, v3]);
    let fs = run(&b);
    let o = of(&fs, Category::OverFrequency);
    assert_eq!(
        keys(&o),
        vec![
            ("V2".into(), "1".into(), Some(fen("5.00"))),
            ("V2".into(), "2".into(), Some(fen("5.00"))),
            ("V3".into(), "3".into(), Some(fen("11.25"))),
        ]
    );
    assert_eq!(o[0].evidence.details["day_cumulative"], "3");
}

#[test]
fn duplicate_charge_same_code_time_price() {
    let mut b = base();
    b.catalog.push(cat("003800000000001", "血常规", 3));
    let m = visit("V1", "A", H1, "11", "2025-03-01 08:00:00", None, "J20.900");
    b.fee.push(fee(
        "3",
        &m,
        "2025-03-01 09:00:00",
        "003800000000001",
        "1",
        "20",
    ));
    b.fee.push(fee(
        "1",
        &m,
        "2025-03-01 09:00:00",
        "003800000000001",
        "1",
        "20",
    ));
    b.fee.push(fee(
        "2",
        &m,
        "2025-03-01 09:00:00",
        "003800000000001",
        "1",
        "20",
    ));
    b.fee.push(fee(
        "4",
        &m,
        "2025-03-01 09:00:00",
        "003800000000001",
        "1",
        "25",
    )); // other price
    b.fee.push(fee(
        "5",
        &m,
        "2025-03-01 09:00:01",
        "003800000000001",
        "1",
        "20",
    )); // other time
    b.mdtrt.push(m);
    let fs = run(&b);
    assert_eq!(
        keys(&of(&fs, Category::DuplicateCharge)),
        vec![
            ("V1".into(), "2".into(), Some(fen("20.00"))),
            ("V1".into(), "3".into(), Some(fen("20.00")))
        ]
    );
}

#[test]
fn exclusive_items_flag_the_later_line() {
    let mut b = base();
    let mut a = cat("003900000000001", "A 项", 3);
    a.excl_codes = vec!["003900000000002".into()];
    b.catalog.extend([a, cat("003900000000002", "B 项", 3)]);
    let m = visit("V1", "A", H1, "11", "2025-03-01 08:00:00", None, "J20.900");
    b.fee.push(fee(
        "1",
        &m,
        "2025-03-01 09:00:00",
        "003900000000002",
        "1",
        "15",
    ));
    b.fee.push(fee(
        "2",
        &m,
        "2025-03-01 10:00:00",
        "003900000000001",
        "1",
        "40",
    ));
    let n = visit("V2", "A", H1, "11", "2025-03-02 08:00:00", None, "J20.900");
    b.fee.push(fee(
        "1",
        &n,
        "2025-03-02 09:00:00",
        "003900000000001",
        "1",
        "40",
    ));
    b.mdtrt.extend([m, n]);
    let fs = run(&b);
    let e = of(&fs, Category::ExclusiveItems);
    assert_eq!(keys(&e), vec![("V1".into(), "2".into(), None)]);
    assert_eq!(e[0].evidence.details["line_amount"], "40.00");
    assert_eq!(e[0].evidence.details["partners"][0]["feedetl_sn"], "1");
}

#[test]
fn split_charge_flags_each_component() {
    let mut b = base();
    let mut pk = cat("004000000000001", "套餐", 3);
    pk.incl_codes = vec!["004000000000002".into(), "004000000000003".into()];
    b.catalog.extend([
        pk,
        cat("004000000000002", "组件一", 3),
        cat("004000000000003", "组件二", 3),
        cat("004000000000004", "其他", 3),
    ]);
    let m = visit("V1", "A", H1, "11", "2025-03-01 08:00:00", None, "J20.900");
    b.fee.push(fee(
        "1",
        &m,
        "2025-03-01 09:00:00",
        "004000000000001",
        "1",
        "100",
    ));
    b.fee.push(fee(
        "2",
        &m,
        "2025-03-01 09:00:00",
        "004000000000002",
        "1",
        "30",
    ));
    b.fee.push(fee(
        "3",
        &m,
        "2025-03-01 09:00:00",
        "004000000000003",
        "2",
        "12.5",
    ));
    b.fee.push(fee(
        "4",
        &m,
        "2025-03-01 09:00:00",
        "004000000000004",
        "1",
        "9",
    ));
    let n = visit("V2", "A", H1, "11", "2025-03-02 08:00:00", None, "J20.900");
    b.fee.push(fee(
        "1",
        &n,
        "2025-03-02 09:00:00",
        "004000000000002",
        "1",
        "30",
    )); // no package here
    b.mdtrt.extend([m, n]);
    let fs = run(&b);
    assert_eq!(
        keys(&of(&fs, Category::SplitCharge)),
        vec![
            ("V1".into(), "2".into(), Some(fen("30.00"))),
            ("V1".into(), "3".into(), Some(fen("25.00")))
        ]
    );
}

fn bed_catalog(b: &mut Batch) {
    let mut bed = cat("001100000000001", "床位费", 3);
    bed.med_chrgitm_type = Some("01".into());
    let mut drug = cat("XC01AAA000A000000000001", "药品", 1);
    drug.med_chrgitm_type = Some("09".into());
    b.catalog.extend([bed, drug]);
}

#[test]
fn bed_days_excess_uses_the_highest_bed_price() {
    let mut b = base();
    bed_catalog(&mut b);
    let m = visit(
        "V1",
        "A",
        H1,
        "21",
        "2025-03-01 10:00:00",
        Some("2025-03-05 09:00:00"),
        "I63.900",
    ); // 4 days
    b.fee.push(fee(
        "1",
        &m,
        "2025-03-01 10:00:00",
        "001100000000001",
        "3",
        "50",
    ));
    b.fee.push(fee(
        "2",
        &m,
        "2025-03-04 10:00:00",
        "001100000000001",
        "2",
        "60",
    ));
    let s = visit(
        "V2",
        "B",
        H1,
        "21",
        "2025-03-01 10:00:00",
        Some("2025-03-01 18:00:00"),
        "I63.900",
    ); // same day: 1
    b.fee.push(fee(
        "1",
        &s,
        "2025-03-01 10:00:00",
        "001100000000001",
        "1",
        "50",
    ));
    b.mdtrt.extend([m, s]);
    let fs = run(&b);
    let x = of(&fs, Category::BedDaysExcess);
    assert_eq!(keys(&x), vec![("V1".into(), "".into(), Some(fen("60.00")))]);
    assert_eq!(x[0].level, Level::Mdtrt);
    assert_eq!(x[0].evidence.details["los"], 4);
}

#[test]
fn split_admission_day_15_versus_16() {
    let mut b = base();
    b.mdtrt.push(visit(
        "A1",
        "A",
        H1,
        "21",
        "2025-03-01 09:00:00",
        Some("2025-03-10 10:00:00"),
        "I63.900",
    ));
    b.mdtrt.push(visit(
        "A2",
        "A",
        H1,
        "21",
        "2025-03-25 09:00:00",
        Some("2025-03-30 10:00:00"),
        "I63.800",
    )); // day 15
    b.mdtrt.push(visit(
        "B1",
        "B",
        H1,
        "21",
        "2025-03-01 09:00:00",
        Some("2025-03-10 10:00:00"),
        "I63.900",
    ));
    b.mdtrt.push(visit(
        "B2",
        "B",
        H1,
        "21",
        "2025-03-26 09:00:00",
        Some("2025-03-30 10:00:00"),
        "I63.900",
    )); // day 16
    b.mdtrt.push(visit(
        "C1",
        "C",
        H1,
        "21",
        "2025-03-01 09:00:00",
        Some("2025-03-10 10:00:00"),
        "I63.900",
    ));
    b.mdtrt.push(visit(
        "C2",
        "C",
        H1,
        "22",
        "2025-03-10 15:00:00",
        Some("2025-03-12 10:00:00"),
        "J18.000",
    )); // other category
    b.mdtrt.push(visit(
        "C3",
        "C",
        H2,
        "21",
        "2025-03-13 09:00:00",
        Some("2025-03-15 10:00:00"),
        "J18.000",
    )); // other hospital
    let fs = run(&b);
    let s = of(&fs, Category::SplitAdmission);
    assert_eq!(keys(&s), vec![("A2".into(), "".into(), None)]);
    assert_eq!(s[0].evidence.details["gap_days"], 15);
    // A city that uses 10 days: the same readmission is not flagged.
    let lib = RuleLibrary::from_sources(&[(
        "r.toml".into(),
        "[[rule]]\nid = \"split_admission.city\"\nversion = 1\nname_zh = \"分解住院\"\ncategory = \"split_admission\"\ntemplate = \"readmission\"\nparams = { readmission_days = 10 }\n".into(),
    )])
    .unwrap();
    assert!(run_with(&b, &lib).is_empty());
}

#[test]
fn phantom_bed_absent_days() {
    let mut b = base();
    bed_catalog(&mut b);
    // 10 stay days (03-01 … 03-10); present on 03-01..03-03 (drug lines) and 03-04, 03-05 (face
    // verification): 5 absent ≥ 3 and ≥ half → flagged.
    let m = visit(
        "V1",
        "A",
        H1,
        "21",
        "2025-03-01 09:00:00",
        Some("2025-03-11 09:00:00"),
        "I63.900",
    );
    for day in 1..=10 {
        b.fee.push(fee(
            &format!("{day}"),
            &m,
            &format!("2025-03-{day:02} 08:00:00"),
            "001100000000001",
            "1",
            "50",
        ));
    }
    for day in 1..=3 {
        b.fee.push(fee(
            &format!("1{day}"),
            &m,
            &format!("2025-03-{day:02} 10:00:00"),
            "XC01AAA000A000000000001",
            "1",
            "5",
        ));
    }
    for day in [4, 5] {
        b.idv.push(Idv {
            psn_no: "A".into(),
            fixmedins_code: H1.into(),
            vrf_time: dt(&format!("2025-03-{day:02} 10:00:00")),
            vrf_way: "face".into(),
            vrf_rslt: true,
        });
    }
    // A failed verification is no presence; a pass elsewhere is none either.
    b.idv.push(Idv {
        psn_no: "A".into(),
        fixmedins_code: H1.into(),
        vrf_time: dt("2025-03-06 10:00:00"),
        vrf_way: "face".into(),
        vrf_rslt: false,
    });
    b.idv.push(Idv {
        psn_no: "A".into(),
        fixmedins_code: H2.into(),
        vrf_time: dt("2025-03-07 10:00:00"),
        vrf_way: "face".into(),
        vrf_rslt: true,
    });
    // Same shape, one more present day: 4 absent of 10 < half → clean.
    let n = visit(
        "V2",
        "B",
        H1,
        "21",
        "2025-03-01 09:00:00",
        Some("2025-03-11 09:00:00"),
        "I63.900",
    );
    for day in 1..=6 {
        b.fee.push(fee(
            &format!("1{day}"),
            &n,
            &format!("2025-03-{day:02} 10:00:00"),
            "XC01AAA000A000000000001",
            "1",
            "5",
        ));
    }
    b.mdtrt.extend([m, n]);
    let fs = run(&b);
    let x = of(&fs, Category::PhantomBed);
    assert_eq!(keys(&x), vec![("V1".into(), "".into(), None)]);
    assert_eq!(x[0].evidence.details["absent_days"], 5);
    assert_eq!(x[0].evidence.details["stay_days"], 10);
}

#[test]
fn concurrent_visit_strictly_inside_the_stay_except_emergencies() {
    let mut b = base();
    b.mdtrt.push(visit(
        "S",
        "A",
        H1,
        "21",
        "2025-03-01 09:00:00",
        Some("2025-03-10 09:00:00"),
        "I63.900",
    ));
    b.mdtrt.push(visit(
        "O1",
        "A",
        H2,
        "11",
        "2025-03-05 09:00:00",
        None,
        "J20.900",
    )); // inside: flagged
    b.mdtrt.push(visit(
        "O2",
        "A",
        H2,
        "11",
        "2025-03-01 15:00:00",
        None,
        "J20.900",
    )); // admission date
    b.mdtrt.push(visit(
        "O3",
        "A",
        H2,
        "11",
        "2025-03-10 15:00:00",
        None,
        "J20.900",
    )); // discharge date
    b.mdtrt.push(visit(
        "O4",
        "A",
        H2,
        "13",
        "2025-03-06 09:00:00",
        None,
        "S06.000",
    )); // emergency
    let mut e = visit("O5", "A", H2, "11", "2025-03-07 09:00:00", None, "S06.000");
    e.emer_flag = true;
    b.mdtrt.push(e);
    b.mdtrt.push(visit(
        "O6",
        "A",
        H1,
        "11",
        "2025-03-08 09:00:00",
        None,
        "J20.900",
    )); // same hospital
    let fs = run(&b);
    assert_eq!(
        keys(&of(&fs, Category::ConcurrentVisit)),
        vec![("O1".into(), "".into(), None)]
    );
}

#[test]
fn doctor_shopping_thirty_day_window() {
    let mut b = base();
    b.catalog.extend([
        cat("XD01AAA000A000000000001", "药一", 1),
        cat("XD01AAA000A000000000002", "药二", 1),
        cat("004100000000001", "项目", 3),
    ]);
    let rows = [
        ("XD01AAA000A000000000001", H1, "2025-03-01"),
        ("XD01AAA000A000000000001", H2, "2025-03-15"),
        ("XD01AAA000A000000000001", H3, "2025-03-31"), // 30 days after the first: inside
        ("XD01AAA000A000000000002", H1, "2025-03-01"),
        ("XD01AAA000A000000000002", H2, "2025-03-15"),
        ("XD01AAA000A000000000002", H3, "2025-04-01"), // 31 days: outside
        ("004100000000001", H1, "2025-03-01"),         // not a drug
        ("004100000000001", H2, "2025-03-02"),
        ("004100000000001", H3, "2025-03-03"),
    ];
    for (i, (code, h, day)) in rows.iter().enumerate() {
        let m = visit(
            &format!("V{i}"),
            "A",
            h,
            "11",
            &format!("{day} 09:00:00"),
            None,
            "J20.900",
        );
        b.fee
            .push(fee("1", &m, &format!("{day} 09:10:00"), code, "1", "3"));
        b.mdtrt.push(m);
    }
    let fs = run(&b);
    let x = of(&fs, Category::DoctorShopping);
    assert_eq!(x.len(), 1, "{x:#?}");
    assert_eq!(x[0].level, Level::Psn);
    assert_eq!(x[0].psn_no.as_deref(), Some("A"));
    assert_eq!(
        x[0].med_list_codg.as_deref(),
        Some("XD01AAA000A000000000001")
    );
    assert!(x[0].mdtrt_id.is_none() && x[0].fixmedins_code.is_none());
}

#[test]
fn card_misuse_failed_verification_and_distant_places() {
    let mut b = base();
    let idv = |t: &str, h: &str, ok: bool| Idv {
        psn_no: "A".into(),
        fixmedins_code: h.into(),
        vrf_time: dt(t),
        vrf_way: "face".into(),
        vrf_rslt: ok,
    };
    b.mdtrt.push(visit(
        "F1",
        "A",
        H1,
        "11",
        "2025-03-02 09:00:00",
        None,
        "J20.900",
    ));
    b.idv.push(idv("2025-03-02 08:55:00", H1, false)); // failed, never passed: flagged
    b.mdtrt.push(visit(
        "F2",
        "A",
        H1,
        "11",
        "2025-03-03 09:00:00",
        None,
        "J20.900",
    ));
    b.idv.push(idv("2025-03-03 08:55:00", H1, false));
    b.idv.push(idv("2025-03-03 08:58:00", H1, true)); // passed later: clean
                                                      // Distant places: Beijing H1 at 09:00, Nanjing H4 at 11:59:59 (< 3 h): the later one.
    b.mdtrt.push(visit(
        "D1",
        "A",
        H1,
        "11",
        "2025-03-10 09:00:00",
        None,
        "J20.900",
    ));
    b.mdtrt.push(visit(
        "D2",
        "A",
        H4,
        "11",
        "2025-03-10 11:59:59",
        None,
        "J20.900",
    ));
    // Exactly 3 hours apart: clean.
    b.mdtrt.push(visit(
        "E1",
        "A",
        H1,
        "11",
        "2025-03-12 09:00:00",
        None,
        "J20.900",
    ));
    b.mdtrt.push(visit(
        "E2",
        "A",
        H4,
        "11",
        "2025-03-12 12:00:00",
        None,
        "J20.900",
    ));
    // Same city, different district (1101 vs 1101): clean.
    b.mdtrt.push(visit(
        "G1",
        "A",
        H1,
        "11",
        "2025-03-14 09:00:00",
        None,
        "J20.900",
    ));
    b.mdtrt.push(visit(
        "G2",
        "A",
        H2,
        "11",
        "2025-03-14 09:30:00",
        None,
        "J20.900",
    ));
    let fs = run(&b);
    let x = of(&fs, Category::CardMisuse);
    assert_eq!(
        keys(&x),
        vec![
            ("D2".into(), "".into(), None),
            ("F1".into(), "".into(), None)
        ]
    );
    assert_eq!(x[0].rule_id, "card_misuse.distant_places");
    assert_eq!(x[1].rule_id, "card_misuse.failed_verification");
}

#[test]
fn inventory_mismatch_per_pharmacy_drug_month() {
    let mut b = base();
    b.catalog.extend([
        cat("XE01AAA000A000000000001", "药一", 1),
        cat("XE01AAA000A000000000002", "药二", 1),
    ]);
    let x1 = "XE01AAA000A000000000001";
    let x2 = "XE01AAA000A000000000002";
    for (code, n) in [(x1, 10), (x2, 10)] {
        b.inv_stock.push(InvStock {
            fixmedins_code: P1.into(),
            med_list_codg: code.into(),
            inv_cnt: Qty::from_units(n),
            inv_date: d("2025-03-01"),
        });
        b.inv_purc.push(InvPurc {
            fixmedins_code: P1.into(),
            med_list_codg: code.into(),
            purc_cnt: Qty::from_units(5),
            purc_time: dt("2025-03-10 10:00:00"),
        });
    }
    // A stocktake on another day is not the opening stock.
    b.inv_stock.push(InvStock {
        fixmedins_code: P1.into(),
        med_list_codg: x1.into(),
        inv_cnt: Qty::from_units(100),
        inv_date: d("2025-03-02"),
    });
    let m = visit("V1", "A", P1, "41", "2025-03-20 09:00:00", None, "J20.900");
    b.fee
        .push(fee("1", &m, "2025-03-20 09:00:00", x1, "16", "2")); // 16 > 10 + 5
    b.fee
        .push(fee("2", &m, "2025-03-20 09:00:00", x2, "15", "2")); // 15 = 10 + 5
    b.mdtrt.push(m);
    let fs = run(&b);
    let x = of(&fs, Category::InventoryMismatch);
    assert_eq!(x.len(), 1);
    assert_eq!(x[0].level, Level::Fixmedins);
    assert_eq!(
        (
            x[0].fixmedins_code.as_deref(),
            x[0].med_list_codg.as_deref()
        ),
        (Some(P1), Some(x1))
    );
    assert_eq!(x[0].evidence.details["months"][0]["excess"], "1");
}

/// Persons A, B and C each buy drug `XF01AAA000A000000000001` at 30.00 in one pharmacy visit
/// (VA on 1 March, VB on 5 March, VC on 6 March), `(cnt, traceability codes)` per visit; the
/// audit's findings.
fn trace_run(lines: [(&str, &[&str]); 3]) -> Vec<Finding> {
    let mut b = base();
    let code = "XF01AAA000A000000000001";
    b.catalog.push(cat(code, "药", 1));
    let days = [
        ("VA", "A", "2025-03-01 09:00:00"),
        ("VB", "B", "2025-03-05 09:00:00"),
        ("VC", "C", "2025-03-06 09:00:00"),
    ];
    for ((id, psn, t), (cnt, codes)) in days.into_iter().zip(lines) {
        let m = visit(id, psn, P1, "41", t, None, "J20.900");
        let mut l = fee("1", &m, t, code, cnt, "30");
        l.drug_trac_codg = codes.iter().map(|&c| c.into()).collect();
        b.fee.push(l);
        b.mdtrt.push(m);
    }
    run(&b)
}

#[test]
fn trace_code_reuse_across_persons() {
    let t1 = "81000000000000000001";
    let t2 = "81000000000000000002";
    let fs = trace_run([("1", &[t1]), ("2", &[t1, t2]), ("1", &[t2])]);
    let x = of(&fs, Category::TraceCodeReuse);
    assert_eq!(
        keys(&x),
        vec![
            ("VB".into(), "1".into(), Some(fen("60.00"))),
            ("VC".into(), "1".into(), Some(fen("30.00")))
        ]
    );
    assert_eq!(x[1].evidence.details["reused"][0]["first_mdtrt_id"], "VB");
}

#[test]
fn trace_codes_are_compared_whole() {
    // The pass sorts codes by their last 16 bytes first: codes sharing those but not their
    // prefix are different codes, short codes work, and one line listing a code twice is not a
    // reuse.
    let fs = trace_run([
        ("1", &["81000000000000000001"]),
        ("1", &["91000000000000000001", "T7", "T7"]),
        ("2", &["T7"]),
    ]);
    let x = of(&fs, Category::TraceCodeReuse);
    assert_eq!(
        keys(&x),
        vec![("VC".into(), "1".into(), Some(fen("60.00")))]
    );
    assert_eq!(x[0].evidence.details["reused"][0]["drug_trac_codg"], "T7");
    assert_eq!(x[0].evidence.details["reused"][0]["first_mdtrt_id"], "VB");
}

#[test]
fn rx_missing_all_forms() {
    let mut b = base();
    let mut c = cat("XG01AAA000A000000000001", "处方药", 1);
    c.rx_only = true;
    b.catalog
        .extend([c, cat("XG01AAA000A000000000002", "非处方药", 1)]);
    let code = "XG01AAA000A000000000001";
    b.rx.push(Rx {
        hi_rxno: "R1".into(),
        fixmedins_code: H1.into(),
        pract_code: "D110101000001".into(),
        psn_no: "A".into(),
        issue_time: dt("2025-03-01 08:00:00"),
        med_list_codg: code.into(),
        cnt: q("2"),
        valid_days: 3,
    });
    b.rx.push(Rx {
        hi_rxno: "R2".into(),
        fixmedins_code: H1.into(),
        pract_code: "D110101000001".into(),
        psn_no: "B".into(),
        issue_time: dt("2025-03-01 08:00:00"),
        med_list_codg: code.into(),
        cnt: q("2"),
        valid_days: 3,
    });
    let m = visit("V1", "A", P1, "41", "2025-03-02 09:00:00", None, "J20.900");
    let rxl = |sn: &str, t: &str, cnt: &str, no: Option<&str>| {
        let mut l = fee(sn, &m, t, code, cnt, "20");
        l.hi_rxno = no.map(Into::into);
        l
    };
    b.fee.push(rxl("1", "2025-03-02 09:00:00", "1", Some("R1"))); // fine (1 of 2)
    b.fee.push(rxl("2", "2025-03-03 09:00:00", "2", Some("R1"))); // cumulative 3: 1 unprescribed = 20.00
    b.fee.push(rxl("3", "2025-03-04 08:00:00", "1", Some("R1"))); // issue + 3 days exactly: counts, 1 over = 20.00
    b.fee.push(rxl("4", "2025-03-04 08:00:01", "1", Some("R1"))); // expired: whole 20.00
    b.fee.push(rxl("5", "2025-03-02 10:00:00", "1", None)); // no prescription
    b.fee.push(rxl("6", "2025-03-02 11:00:00", "1", Some("R2"))); // someone else's
    b.fee.push(rxl("7", "2025-03-02 12:00:00", "1", Some("R9"))); // unknown
    b.fee.push(fee(
        "8",
        &m,
        "2025-03-02 13:00:00",
        "XG01AAA000A000000000002",
        "1",
        "20",
    )); // not rx_only
    b.mdtrt.push(m);
    // The same drug without prescription at a hospital is not a pharmacy sale.
    let h = visit("V2", "A", H1, "11", "2025-03-02 09:00:00", None, "J20.900");
    b.fee
        .push(fee("1", &h, "2025-03-02 09:00:00", code, "1", "20"));
    b.mdtrt.push(h);
    let fs = run(&b);
    let x = of(&fs, Category::RxMissing);
    let twenty = Some(fen("20.00"));
    assert_eq!(
        keys(&x),
        ["2", "3", "4", "5", "6", "7"]
            .iter()
            .map(|s| ("V1".to_string(), s.to_string(), twenty))
            .collect::<Vec<_>>()
    );
    let reasons: Vec<&str> = x
        .iter()
        .map(|f| f.evidence.details["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "over_quantity",
            "over_quantity",
            "expired",
            "no_rxno",
            "other_person",
            "unknown_rxno"
        ]
    );
}

#[test]
fn reruns_give_the_same_ids_and_disabled_rules_are_silent() {
    let mut b = base();
    let mut c = cat("004200000000001", "检查", 3);
    c.pric_uplmt_amt = Some(p("10"));
    c.lmt_gend = Some(Gender::Female);
    b.catalog.push(c);
    let m = visit("V1", "A", H1, "11", "2025-03-01 09:00:00", None, "J20.900");
    b.fee.push(fee(
        "1",
        &m,
        "2025-03-01 09:00:00",
        "004200000000001",
        "1",
        "11",
    ));
    b.mdtrt.push(m);
    let a = run(&b);
    let again = run(&b);
    assert_eq!(a.len(), 2);
    assert_eq!(
        a.iter().map(|f| &f.finding_id).collect::<Vec<_>>(),
        again.iter().map(|f| &f.finding_id).collect::<Vec<_>>()
    );
    // Disable the gender rule in a copy of the library: no rebuild, no gender finding.
    let files: Vec<(String, String)> = medfund_audit::rules::BUILTIN_FILES
        .iter()
        .map(|(n, t)| {
            let mut t = t.to_string();
            if let Some(i) = t.find("id = \"gender_limit.catalog\"") {
                let j = i + t[i..].find("enabled = true").unwrap();
                t.replace_range(j..j + "enabled = true".len(), "enabled = false");
            }
            (n.to_string(), t)
        })
        .collect();
    let lib = RuleLibrary::from_sources(&files).unwrap();
    let fs = run_with(&b, &lib);
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0].category, Category::OverPrice);
}
