//! The knowledge-base-only evaluations on hand-worked cases. Knowledge points come from the real
//! national files (the codes quoted are theirs); amounts are worked out by hand.

use chrono::{Days, NaiveDate, NaiveDateTime};
use medfund_contract::finding::{Category, Finding, Outcome};
use medfund_contract::{CatalogEntry, Code, Fee, Fen, Mdtrt, Price, Qty, Setl};
use medfund_kb::eval::{self, KbIndex, LineCtx, PersonLines};
use medfund_kb::*;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

fn national() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../kb/nhsa");
        let files: Vec<PathBuf> = [
            "b2-item-secondary-surgery.xlsx",
            "b3-drug-insurance-type.xlsx",
            "b6-drug-course.xlsx",
            "b7-item-duplicate-pairs.xlsx",
            "b8-3-item-course.xlsx",
            "b8-4-item-cycle.xlsx",
        ]
        .iter()
        .map(|f| dir.join(f))
        .collect();
        import_files(&files, &KbPolicy::default()).unwrap()
    })
}

fn index() -> KbIndex {
    KbIndex::new(national(), &KbPolicy::default())
}

/// Only the points of the given files' batches (to test one source in isolation).
fn index_of(batches: &[&str]) -> KbIndex {
    let mut kb = national().clone();
    kb.points.retain(|p| batches.contains(&p.batch.as_str()));
    KbIndex::new(&kb, &KbPolicy::default())
}

fn t(s: &str) -> NaiveDateTime {
    medfund_contract::time::parse_datetime(s).unwrap()
}

fn d(s: &str) -> NaiveDate {
    medfund_contract::time::parse_date(s).unwrap()
}

/// A person's data: visits, settlements, catalog, lines.
#[derive(Default)]
struct Case {
    mdtrt: Vec<Mdtrt>,
    setl: Vec<Setl>,
    catalog: Vec<CatalogEntry>,
    fee: Vec<Fee>,
}

impl Case {
    fn visit(&mut self, id: &str, med_type: &str, fixmedins: &str) -> &mut Self {
        self.mdtrt.push(Mdtrt {
            mdtrt_id: id.into(),
            psn_no: "P001".into(),
            fixmedins_code: fixmedins.into(),
            med_type: med_type.into(),
            begntime: t("2026-01-01 08:00:00"),
            endtime: None,
            diag_code: "I63.900".into(),
            dise_codg: None,
            atddr_no: Some("D110101000009".into()),
            emer_flag: false,
            refl_fixmedins_code: None,
        });
        self.setl.push(Setl {
            setl_id: format!("S{id}").into(),
            mdtrt_id: id.into(),
            psn_no: "P001".into(),
            fixmedins_code: fixmedins.into(),
            setl_time: t("2026-03-01 08:00:00"),
            medfee_sumamt: Fen(100_000),
            hifp_pay: Fen(60_000),
            acct_pay: None,
            psn_cash_pay: None,
            fund_pay_sumamt: None,
            drg_codg: None,
        });
        self
    }

    fn cap(&mut self, code: &str, name: &str, cap: &str) -> &mut Self {
        self.catalog.push(CatalogEntry {
            med_list_codg: code.into(),
            med_list_name: name.into(),
            list_type: 3,
            pric_uplmt_amt: Some(cap.parse().unwrap()),
            ..Default::default()
        });
        self
    }

    /// A line; amount = cnt × pric.
    fn line(&mut self, visit: &str, time: &str, code: &str, cnt: &str, pric: &str) -> &mut Self {
        let cnt: Qty = cnt.parse().unwrap();
        let pric: Price = pric.parse().unwrap();
        let fixmedins = self
            .mdtrt
            .iter()
            .find(|m| m.mdtrt_id == visit)
            .unwrap()
            .fixmedins_code
            .clone();
        self.fee.push(Fee {
            feedetl_sn: format!("{}", self.fee.len() + 1).into(),
            mdtrt_id: visit.into(),
            setl_id: format!("S{visit}").into(),
            psn_no: "P001".into(),
            fixmedins_code: fixmedins,
            fee_ocur_time: t(time),
            med_list_codg: code.into(),
            cnt,
            pric,
            det_item_fee_sumamt: cnt.times(pric),
            bilg_dr_codg: Some("D110101000001".into()),
            hi_rxno: None,
            drug_trac_codg: vec![],
        });
        self
    }

    /// One line per day from `first` for `n` days at 10:00.
    fn daily(&mut self, visit: &str, first: &str, n: u64, code: &str, pric: &str) -> &mut Self {
        for k in 0..n {
            let day = d(first) + Days::new(k);
            self.line(visit, &format!("{day} 10:00:00"), code, "1", pric);
        }
        self
    }

    fn run(
        &self,
        ix: &KbIndex,
        f: fn(&KbIndex, &PersonLines<'_>, &mut Vec<Finding>),
    ) -> Vec<Finding> {
        let m: HashMap<&str, &Mdtrt> = self
            .mdtrt
            .iter()
            .map(|x| (x.mdtrt_id.as_str(), x))
            .collect();
        let s: HashMap<&str, &Setl> = self.setl.iter().map(|x| (x.setl_id.as_str(), x)).collect();
        let c: HashMap<&str, &CatalogEntry> = self
            .catalog
            .iter()
            .map(|x| (x.med_list_codg.as_str(), x))
            .collect();
        let lines = self
            .fee
            .iter()
            .map(|fee| LineCtx {
                fee,
                mdtrt: m.get(fee.mdtrt_id.as_str()).copied(),
                setl: s.get(fee.setl_id.as_str()).copied(),
                catalog: c.get(fee.med_list_codg.as_str()).copied(),
            })
            .collect();
        let mut out = Vec::new();
        f(ix, &PersonLines::new(lines), &mut out);
        out
    }
}

fn sns(f: &[Finding]) -> Vec<String> {
    f.iter()
        .map(|x| x.feedetl_sn.as_deref().unwrap_or("").to_string())
        .collect()
}

fn yuan(s: &str) -> Fen {
    s.parse().unwrap()
}

// ---------------------------------------------------------------- insurance_type_limit

const WORK_INJURY_DRUG: &str = "ZH01AAB0066010100716"; // 疤痕止痒软化膏 工伤
const MATERNITY_DRUG: &str = "ZD01BAY0323030202065"; // 益母草注射液 生育

#[test]
fn work_injury_drug_settled_by_the_medical_fund() {
    let mut c = Case::default();
    c.visit("M1", "11", "H11010100001").line(
        "M1",
        "2026-01-05 09:00:00",
        WORK_INJURY_DRUG,
        "2",
        "18.5",
    );
    let f = c.run(&index(), eval::insurance_type_limit);
    assert_eq!(f.len(), 1);
    let x = &f[0];
    assert_eq!(x.category, Category::InsuranceTypeLimit);
    assert_eq!(x.rule_id, "kb.insurance_type_limit");
    assert_eq!(x.nhsa_rule_code.as_deref(), Some("GZ10000101001000"));
    assert_eq!(x.result, Outcome::Violation);
    assert_eq!(x.amount, Some(yuan("37.00")));
    assert_eq!(x.setl_id.as_deref(), Some("SM1"));
    assert_eq!(x.pract_code.as_deref(), Some("D110101000001"));
    assert_eq!(x.med_list_codg.as_deref(), Some(WORK_INJURY_DRUG));
    assert_eq!(x.finding_id.len(), 16);
    assert!(
        x.evidence
            .text
            .starts_with("该药品限工伤保险支付，本次由基本医疗保险基金结算："),
        "{}",
        x.evidence.text
    );
    assert!(x.evidence.text.contains("疤痕止痒软化膏"));
    assert_eq!(x.evidence.details["batch"], "b3");
    assert_eq!(x.evidence.details["observed"]["med_type"], "11");
}

#[test]
fn maternity_drug_is_exempt_in_maternity_visits_only() {
    let mut c = Case::default();
    c.visit("M51", "51", "H11010100001")
        .visit("M52", "52", "H11010100001")
        .visit("M21", "21", "H11010100001")
        .line("M51", "2026-01-05 09:00:00", MATERNITY_DRUG, "1", "30")
        .line("M52", "2026-01-06 09:00:00", MATERNITY_DRUG, "1", "30")
        .line("M21", "2026-01-07 09:00:00", MATERNITY_DRUG, "3", "30");
    let f = c.run(&index(), eval::insurance_type_limit);
    assert_eq!(sns(&f), ["3"]);
    assert_eq!(f[0].nhsa_rule_code.as_deref(), Some("GZ10000101002000"));
    assert_eq!(f[0].amount, Some(yuan("90")));
    assert!(f[0].evidence.text.contains("限生育保险支付"));
}

#[test]
fn lines_the_fund_did_not_pay_or_that_were_refunded_are_not_findings() {
    let mut c = Case::default();
    c.visit("M1", "11", "H11010100001")
        .visit("M2", "11", "H11010100001")
        .visit("M3", "11", "H11010100001");
    c.setl[1].hifp_pay = Fen::ZERO; // M2 settled without fund payment
    c.line("M1", "2026-01-05 09:00:00", WORK_INJURY_DRUG, "2", "10")
        .line("M1", "2026-01-05 09:30:00", WORK_INJURY_DRUG, "-2", "10") // full refund
        .line("M2", "2026-01-06 09:00:00", WORK_INJURY_DRUG, "1", "10")
        .line("M3", "2026-01-07 09:00:00", WORK_INJURY_DRUG, "3", "10")
        .line("M3", "2026-01-07 10:00:00", WORK_INJURY_DRUG, "-1", "10"); // partial refund
    let f = c.run(&index(), eval::insurance_type_limit);
    assert_eq!(sns(&f), ["4"]);
    assert_eq!(f[0].amount, Some(yuan("20")), "3 − 1 refunded = 2 × 10");
    // A self-pay catalog entry (chrgitm_lv 3) is never fund-paid.
    c.catalog.push(CatalogEntry {
        med_list_codg: WORK_INJURY_DRUG.into(),
        med_list_name: "疤痕止痒软化膏".into(),
        list_type: 1,
        chrgitm_lv: Some(3),
        ..Default::default()
    });
    assert!(c.run(&index(), eval::insurance_type_limit).is_empty());
    // Empty input.
    assert!(Case::default()
        .run(&index(), eval::insurance_type_limit)
        .is_empty());
}

// ---------------------------------------------------------------- course_limit

const DRUG_14: &str = "XB01AXA223B004010180963"; // 奥扎格雷氨丁三醇注射用浓溶液 支付不超过14天
const DRUG_STAY_3: &str = "XC01EBC109B001010102049"; // 注射用重组人脑利钠肽 单次住院支付不超过3天
const DRUG_12_MONTHS: &str = "XL01FDP138B002010181735"; // 帕妥珠单抗注射液 365天 (12个月)
const HAND_ASSESSMENT: &str = "003402000050000"; // 手功能评定 总时间不超过90天，间隔不短于14天
const WEIGHT_SUPPORT: &str = "003402000210000"; // 减重支持系统训练 支付不超过30天

#[test]
fn drug_course_exactly_14_days_is_paid_the_15th_is_not() {
    let mut c = Case::default();
    c.visit("M1", "21", "H11010100001")
        .daily("M1", "2026-01-01", 14, DRUG_14, "50");
    assert!(
        c.run(&index(), eval::course_limit).is_empty(),
        "14 fee days = the course"
    );
    // Day 15 carries two lines: both are beyond the course.
    c.line("M1", "2026-01-15 10:00:00", DRUG_14, "1", "50")
        .line("M1", "2026-01-15 16:00:00", DRUG_14, "2", "50");
    let f = c.run(&index(), eval::course_limit);
    assert_eq!(sns(&f), ["15", "16"]);
    assert_eq!(
        f.iter().map(|x| x.amount.unwrap()).sum::<Fen>(),
        yuan("150")
    );
    let x = &f[0];
    assert_eq!(
        (x.category, x.result),
        (Category::CourseLimit, Outcome::Suspect)
    );
    assert_eq!(x.nhsa_rule_code.as_deref(), Some("GZ10000101010000"));
    assert!(
        x.evidence.text.contains("第 15 个收费日"),
        "{}",
        x.evidence.text
    );
    assert_eq!(x.evidence.details["observed"]["fee_days_in_course"], 15);
    assert_eq!(x.evidence.details["observed"]["course_start"], "2026-01-01");
}

#[test]
fn a_gap_longer_than_the_policy_starts_a_new_course() {
    // 10 days, then 10 more starting 31 days after the last: a new course, nothing flagged.
    let mut c = Case::default();
    c.visit("M1", "21", "H11010100001")
        .visit("M2", "21", "H11010100002");
    c.daily("M1", "2026-01-01", 10, DRUG_14, "50")
        .daily("M2", "2026-02-10", 10, DRUG_14, "50");
    assert!(c.run(&index(), eval::course_limit).is_empty());
    // Starting 30 days after the last (gap = course_gap_days): the same course, across
    // institutions; fee days 15–20 (2026-02-13 … 02-18) are beyond it.
    let mut c = Case::default();
    c.visit("M1", "21", "H11010100001")
        .visit("M2", "21", "H11010100002");
    c.daily("M1", "2026-01-01", 10, DRUG_14, "50")
        .daily("M2", "2026-02-09", 10, DRUG_14, "50");
    let f = c.run(&index(), eval::course_limit);
    assert_eq!(sns(&f), ["15", "16", "17", "18", "19", "20"]);
    assert_eq!(f[0].fixmedins_code.as_deref(), Some("H11010100002"));
    assert!(f[0].evidence.text.contains("2026-02-13"));
}

#[test]
fn per_stay_course_counts_each_inpatient_stay() {
    let mut c = Case::default();
    c.visit("A", "21", "H11010100001")
        .visit("B", "21", "H11010100001");
    c.daily("A", "2026-01-01", 3, DRUG_STAY_3, "500").daily(
        "B",
        "2026-01-05",
        3,
        DRUG_STAY_3,
        "500",
    );
    assert!(
        c.run(&index(), eval::course_limit).is_empty(),
        "3 days in each of two stays"
    );
    c.line("A", "2026-01-04 09:00:00", DRUG_STAY_3, "1", "500");
    let f = c.run(&index(), eval::course_limit);
    assert_eq!(sns(&f), ["7"]);
    assert_eq!(
        f[0].result,
        Outcome::Violation,
        "a stay is not a heuristic course"
    );
    assert_eq!(f[0].amount, Some(yuan("500")));
}

#[test]
fn elapsed_course_of_twelve_months() {
    // Doses every 21 days from 2025-01-01 up to 2025-12-24 (day 358), then 2025-12-31 (day 365)
    // is still within 365 days; 2026-01-01 (day 366) is not.
    let mut c = Case::default();
    c.visit("M1", "14", "H11010100001");
    for k in 0..18u64 {
        let day = d("2025-01-01") + Days::new(21 * k);
        c.line(
            "M1",
            &format!("{day} 10:00:00"),
            DRUG_12_MONTHS,
            "1",
            "4000",
        );
    }
    c.line("M1", "2025-12-31 10:00:00", DRUG_12_MONTHS, "1", "4000");
    assert!(c.run(&index(), eval::course_limit).is_empty());
    c.line("M1", "2026-01-01 10:00:00", DRUG_12_MONTHS, "1", "4000");
    let f = c.run(&index(), eval::course_limit);
    assert_eq!(sns(&f), ["20"]);
    assert_eq!(f[0].evidence.details["observed"]["elapsed_days"], 366);
}

#[test]
fn item_interval_alone_and_when_a_cycle_point_covers_it() {
    // Only batch 8-3: 手功能评定 must be ≥ 14 days apart. Day 1 → day 14 is 13 days: flagged;
    // the flagged line does not move the reference, so 2026-01-15 (14 days after day 1) is fine.
    let ix = index_of(&["b8-3"]);
    let mut c = Case::default();
    c.visit("M1", "11", "H11010100001")
        .line("M1", "2026-01-01 10:00:00", HAND_ASSESSMENT, "1", "20")
        .line("M1", "2026-01-14 10:00:00", HAND_ASSESSMENT, "1", "20")
        .line("M1", "2026-01-15 10:00:00", HAND_ASSESSMENT, "1", "20");
    let f = c.run(&ix, eval::course_limit);
    assert_eq!(sns(&f), ["2"]);
    assert_eq!(f[0].result, Outcome::Violation);
    assert_eq!(f[0].nhsa_rule_code.as_deref(), Some("GZ10000102010000"));
    assert!(
        f[0].evidence.text.contains("仅 13 天"),
        "{}",
        f[0].evidence.text
    );
    // With batch 8-4 (手功能评定 1 per 14 days) the same line is the cycle rule's, once.
    let ix = index_of(&["b8-3", "b8-4"]);
    assert!(c.run(&ix, eval::course_limit).is_empty());
    assert_eq!(sns(&c.run(&ix, eval::cycle_frequency)), ["2"]);
}

#[test]
fn item_course_of_thirty_fee_days_and_ninety_elapsed_days() {
    let mut c = Case::default();
    c.visit("M1", "21", "H11010100001")
        .daily("M1", "2026-03-01", 31, WEIGHT_SUPPORT, "40");
    let f = c.run(&index(), eval::course_limit);
    assert_eq!(sns(&f), ["31"]);
    // 手功能评定 every 14 days: 2026-01-01 + 14k up to day 85 (k = 6), then day 99 is beyond
    // 总时间 90 天.
    let mut c = Case::default();
    c.visit("M1", "11", "H11010100001");
    for k in 0..8u64 {
        let day = d("2026-01-01") + Days::new(14 * k);
        c.line("M1", &format!("{day} 10:00:00"), HAND_ASSESSMENT, "1", "20");
    }
    let f = c.run(&index(), eval::course_limit);
    assert_eq!(sns(&f), ["8"]);
    assert_eq!(f[0].evidence.details["observed"]["elapsed_days"], 99);
}

// ---------------------------------------------------------------- cycle_frequency

const HBA1C: &str = "002503020030000"; // 糖化血红蛋白测定 1 次 / 15 天

#[test]
fn cycle_exactly_at_the_limit_is_fine_one_day_short_is_not() {
    let mut c = Case::default();
    c.visit("M1", "11", "H11010100001")
        .visit("M2", "11", "H11010100002");
    c.line("M1", "2026-01-01 10:00:00", HBA1C, "1", "60").line(
        "M2",
        "2026-01-16 10:00:00",
        HBA1C,
        "1",
        "60",
    );
    assert!(
        c.run(&index(), eval::cycle_frequency).is_empty(),
        "15 days apart: separate cycles"
    );
    let mut c = Case::default();
    c.visit("M1", "11", "H11010100001")
        .visit("M2", "11", "H11010100002");
    c.line("M1", "2026-01-01 10:00:00", HBA1C, "1", "60").line(
        "M2",
        "2026-01-15 10:00:00",
        HBA1C,
        "1",
        "60",
    );
    let f = c.run(&index(), eval::cycle_frequency);
    assert_eq!(sns(&f), ["2"]);
    let x = &f[0];
    assert_eq!(
        (x.category, x.result, x.amount),
        (
            Category::CycleFrequency,
            Outcome::Violation,
            Some(yuan("60"))
        )
    );
    assert_eq!(
        x.fixmedins_code.as_deref(),
        Some("H11010100002"),
        "counted across institutions"
    );
    assert!(
        x.evidence.text.contains("15 天内最多支付 1 次"),
        "{}",
        x.evidence.text
    );
    assert_eq!(x.evidence.details["observed"]["window_start"], "2026-01-01");
}

#[test]
fn cycle_counts_units_and_flagged_units_do_not_count_later() {
    let mut c = Case::default();
    c.visit("M1", "11", "H11010100001")
        .line("M1", "2026-01-01 10:00:00", HBA1C, "2", "60") // 1 unit over: 60.00
        .line("M1", "2026-01-10 10:00:00", HBA1C, "1", "60") // over: 60.00
        .line("M1", "2026-01-16 10:00:00", HBA1C, "1", "60"); // window 01-02…01-16 has no paid unit
    let f = c.run(&index(), eval::cycle_frequency);
    assert_eq!(sns(&f), ["1", "2"]);
    assert_eq!(f[0].amount, Some(yuan("60")));
    assert_eq!(f[0].evidence.details["observed"]["excess"], "1");
    assert_eq!(f[1].amount, Some(yuan("60")));
}

#[test]
fn cycle_with_a_limit_above_one() {
    let mut kb = KnowledgeBase::default();
    kb.points.push(KnowledgePoint {
        id: "local:row2:002503020030000".into(),
        batch: "local".into(),
        med_list_codg: HBA1C.into(),
        name: "糖化血红蛋白测定".into(),
        limit: Limit::CycleFrequency {
            max_times: 2,
            cycle_days: 7,
        },
        source_sheet: "Sheet1".into(),
        source_row: 2,
        limit_row: None,
        note: String::new(),
    });
    let ix = KbIndex::new(&kb, &KbPolicy::default());
    let mut c = Case::default();
    c.visit("M1", "11", "H11010100001")
        .line("M1", "2026-01-01 10:00:00", HBA1C, "1", "60")
        .line("M1", "2026-01-07 10:00:00", HBA1C, "1", "60");
    assert!(
        c.run(&ix, eval::cycle_frequency).is_empty(),
        "2 in 7 days is the limit"
    );
    c.line("M1", "2026-01-07 11:00:00", HBA1C, "1", "60").line(
        "M1",
        "2026-01-08 10:00:00",
        HBA1C,
        "1",
        "60",
    );
    // 01-07 11:00 is the third in 01-01…01-07; 01-08's window 01-02…01-08 holds only 01-07 10:00.
    assert_eq!(sns(&c.run(&ix, eval::cycle_frequency)), ["3"]);
}

// ---------------------------------------------------------------- secondary_surgery_discount

const GI_A: &str = "003310010140000"; // 食管癌根治+结肠代食管术 胃肠手术组
const GI_B: &str = "003310010160000"; // 食管胃吻合口狭窄切开成形术 胃肠手术组
const ADHESIOLYSIS: &str = "003310030080000"; // 肠粘连松解术: 胃肠/经腹直肠/肝胆/女性生殖系统
const LIVER: &str = "003310050010000"; // 肝胆手术组
const BLADDER: &str = "003311030010000"; // 膀胱尿道手术组

fn surgery_case() -> Case {
    let mut c = Case::default();
    c.visit("M1", "21", "H11010100001")
        .cap(GI_A, "食管癌根治+结肠代食管术", "5000")
        .cap(GI_B, "食管胃吻合口狭窄切开成形术", "2000");
    c
}

#[test]
fn second_operation_at_full_price_is_flagged_with_the_overcharge() {
    let mut c = surgery_case();
    c.line("M1", "2026-01-03 09:00:00", GI_A, "1", "5000").line(
        "M1",
        "2026-01-03 11:00:00",
        GI_B,
        "1",
        "2000",
    );
    let f = c.run(&index(), eval::secondary_surgery_discount);
    assert_eq!(sns(&f), ["2"]);
    let x = &f[0];
    assert_eq!(x.amount, Some(yuan("1000")), "2000 charged − 50% × 2000");
    assert_eq!(
        (x.category, x.result),
        (Category::SecondarySurgeryDiscount, Outcome::Suspect)
    );
    assert_eq!(x.nhsa_rule_code.as_deref(), Some("GZ10000102002000"));
    assert_eq!(x.evidence.details["observed"]["main_med_list_codg"], GI_A);
    assert!(
        x.evidence.text.contains("胃肠手术组"),
        "{}",
        x.evidence.text
    );
    assert!(
        x.evidence.text.contains("多收 1000.00 元"),
        "{}",
        x.evidence.text
    );
}

#[test]
fn correctly_discounted_second_operation_is_fine() {
    let mut c = surgery_case();
    c.line("M1", "2026-01-03 09:00:00", GI_A, "1", "5000").line(
        "M1",
        "2026-01-03 11:00:00",
        GI_B,
        "1",
        "1000",
    );
    assert!(c.run(&index(), eval::secondary_surgery_discount).is_empty());
    // Half quantity at the full price is the same 50%.
    let mut c = surgery_case();
    c.line("M1", "2026-01-03 09:00:00", GI_A, "1", "5000").line(
        "M1",
        "2026-01-03 11:00:00",
        GI_B,
        "0.5",
        "2000",
    );
    assert!(c.run(&index(), eval::secondary_surgery_discount).is_empty());
    // The main operation billed after the secondary one is still the main one (highest price).
    let mut c = surgery_case();
    c.line("M1", "2026-01-03 09:00:00", GI_B, "1", "1000").line(
        "M1",
        "2026-01-03 11:00:00",
        GI_A,
        "1",
        "5000",
    );
    assert!(c.run(&index(), eval::secondary_surgery_discount).is_empty());
}

#[test]
fn other_days_other_groups_and_other_visits_are_not_same_incision() {
    let mut c = surgery_case();
    c.visit("M2", "21", "H11010100001");
    c.line("M1", "2026-01-03 09:00:00", GI_A, "1", "5000")
        .line("M1", "2026-01-04 09:00:00", GI_B, "1", "2000") // next day
        .line("M1", "2026-01-03 10:00:00", BLADDER, "1", "3000") // another group
        .line("M2", "2026-01-03 10:00:00", GI_B, "1", "2000"); // another visit
    assert!(c.run(&index(), eval::secondary_surgery_discount).is_empty());
}

#[test]
fn groups_join_through_a_code_in_several_groups_and_price_falls_back_to_the_line() {
    // 肠粘连松解术 is in 胃肠 and 肝胆: with a 胃肠 and a 肝胆 operation the three are one
    // cluster. No caps: each line's price is taken as its full price. Main: GI_A at 6000.
    let mut c = Case::default();
    c.visit("M1", "21", "H11010100001")
        .line("M1", "2026-01-03 09:00:00", GI_A, "1", "6000")
        .line("M1", "2026-01-03 09:30:00", ADHESIOLYSIS, "1", "800")
        .line("M1", "2026-01-03 10:00:00", LIVER, "1", "3000.01");
    let f = c.run(&index(), eval::secondary_surgery_discount);
    assert_eq!(sns(&f), ["2", "3"]);
    assert_eq!(f[0].amount, Some(yuan("400")));
    // 3000.01 × 50% = 1500.005 → 1500.01 allowed (half up); over = 1500.00.
    assert_eq!(f[1].amount, Some(yuan("1500")));
    assert_eq!(
        f[1].evidence.details["observed"]["full_price_source"],
        "pric"
    );
    assert_eq!(f[1].evidence.details["observed"]["operations"], 3);
    // Charged exactly the rounded half: fine; one fen more: flagged for one fen.
    let mut c = Case::default();
    c.visit("M1", "21", "H11010100001")
        .cap(LIVER, "肝胆手术", "3000.01")
        .line("M1", "2026-01-03 09:00:00", GI_A, "1", "6000")
        .line("M1", "2026-01-03 09:30:00", ADHESIOLYSIS, "1", "0")
        .line("M1", "2026-01-03 10:00:00", LIVER, "1", "1500.01");
    assert!(c.run(&index(), eval::secondary_surgery_discount).is_empty());
    c.fee[2].pric = "1500.02".parse().unwrap();
    c.fee[2].det_item_fee_sumamt = yuan("1500.02");
    let f = c.run(&index(), eval::secondary_surgery_discount);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].amount, Some(yuan("0.01")));
}

// ---------------------------------------------------------------- timed duplicate pairs

const EMERG_MONITOR: &str = "001103000010000"; // 急诊监护费 (主项)
const EMERG_CONSULT: &str = "001102000030000"; // 急诊诊查费 (从项, 单日)
const DELIVERY: &str = "003314000020000"; // 单胎顺产接生 (主项)
const RECTAL_EXAM: &str = "003109040040000"; // 肛门指检 (从项, 6小时)

#[test]
fn same_day_pair_at_the_same_institution() {
    let mut c = Case::default();
    c.visit("E1", "13", "H11010100001")
        .visit("E2", "13", "H11010100001")
        .visit("O1", "11", "H11010100009")
        .line("E1", "2026-01-03 23:00:00", EMERG_MONITOR, "1", "40")
        .line("E2", "2026-01-03 08:00:00", EMERG_CONSULT, "1", "12") // same day, same institution
        .line("E2", "2026-01-04 08:00:00", EMERG_CONSULT, "1", "12") // next day
        .line("O1", "2026-01-03 09:00:00", EMERG_CONSULT, "1", "12"); // other institution
    let f = c.run(&index(), eval::duplicate_pairs);
    assert_eq!(sns(&f), ["2"]);
    let x = &f[0];
    assert_eq!(
        (x.category, x.amount),
        (Category::ExclusiveItems, Some(yuan("12")))
    );
    assert_eq!(x.nhsa_rule_code.as_deref(), Some("GZ10000102012000"));
    assert!(
        x.evidence.text.contains("同一日内不得另行收费"),
        "{}",
        x.evidence.text
    );
}

#[test]
fn six_hour_pair_boundary() {
    let mut c = Case::default();
    c.visit("M1", "52", "H11010100001")
        .line("M1", "2026-01-03 08:00:00", DELIVERY, "1", "1200")
        .line("M1", "2026-01-03 14:00:00", RECTAL_EXAM, "1", "5") // exactly 6 hours: within
        .line("M1", "2026-01-03 14:00:01", RECTAL_EXAM, "1", "5"); // 6 h 1 s: outside
    assert_eq!(sns(&c.run(&index(), eval::duplicate_pairs)), ["2"]);
}

#[test]
fn same_visit_pairs_are_left_to_the_catalog() {
    // 肛周坏死性筋膜炎清创术 × 化脓性肛周大汗腺炎切开清创引流术 is a 单次就诊 pair.
    let mut c = Case::default();
    c.visit("M1", "21", "H11010100001")
        .line("M1", "2026-01-03 08:00:00", "004600000170000", "1", "900")
        .line("M1", "2026-01-03 09:00:00", "004600000160000", "1", "300");
    assert!(c.run(&index(), eval::duplicate_pairs).is_empty());
    let mut catalog = Vec::new();
    national().apply_to_catalog(&mut catalog);
    let main = catalog
        .iter()
        .find(|e| e.med_list_codg == "004600000170000")
        .unwrap();
    assert!(main.excl_codes.contains(&Code::from("004600000160000")));
    let monitor = catalog.iter().find(|e| e.med_list_codg == EMERG_MONITOR);
    assert!(
        monitor.is_none_or(|e| !e.excl_codes.contains(&Code::from(EMERG_CONSULT))),
        "单日 pairs are not visit pairs"
    );
}

// ---------------------------------------------------------------- all together

#[test]
fn eval_person_runs_every_evaluation_and_findings_are_stable() {
    let mut c = surgery_case();
    c.line("M1", "2026-01-03 09:00:00", GI_A, "1", "5000")
        .line("M1", "2026-01-03 11:00:00", GI_B, "1", "2000")
        .line("M1", "2026-01-03 12:00:00", WORK_INJURY_DRUG, "1", "10")
        .line("M1", "2026-01-03 12:00:00", HBA1C, "1", "60")
        .line("M1", "2026-01-05 12:00:00", HBA1C, "1", "60");
    let a = c.run(&index(), eval::eval_person);
    let cats: Vec<Category> = a.iter().map(|f| f.category).collect();
    assert_eq!(
        cats,
        [
            Category::InsuranceTypeLimit,
            Category::CycleFrequency,
            Category::SecondarySurgeryDiscount
        ]
    );
    let b = c.run(&index(), eval::eval_person);
    assert_eq!(a, b, "deterministic, same finding ids");
    assert!(KbIndex::new(&KnowledgeBase::default(), &KbPolicy::default()).is_empty());
    assert!(!index().is_empty());
}

#[test]
fn a_hand_edited_zero_day_cycle_is_ignored_not_a_crash() {
    let mut kb = KnowledgeBase::default();
    kb.points.push(KnowledgePoint {
        id: "local:row2:002503020030000".into(),
        batch: "local".into(),
        med_list_codg: HBA1C.into(),
        name: "糖化血红蛋白测定".into(),
        limit: Limit::CycleFrequency {
            max_times: 1,
            cycle_days: 0,
        },
        source_sheet: "Sheet1".into(),
        source_row: 2,
        limit_row: None,
        note: String::new(),
    });
    let ix = KbIndex::new(&kb, &KbPolicy::default());
    assert!(ix.is_empty());
    let mut c = Case::default();
    c.visit("M1", "11", "H11010100001")
        .line("M1", "2026-01-01 10:00:00", HBA1C, "1", "60")
        .line("M1", "2026-01-01 11:00:00", HBA1C, "1", "60");
    assert!(c.run(&ix, eval::eval_person).is_empty());
}

// ---------------------------------------------------------------- visit type with emergencies

const ANGONG: &str = "ZA07AAA0061010100166"; // 安宫牛黄丸 限急诊或住院患者

#[test]
fn emergency_or_inpatient_drug_in_a_plain_outpatient_visit() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../kb/nhsa");
    let kb = import_files(&[dir.join("b4-drug-visit-type.xlsx")], &KbPolicy::default()).unwrap();
    let ix = KbIndex::new(&kb, &KbPolicy::default());
    let mut c = Case::default();
    c.visit("O", "11", "H11010100001")
        .visit("E", "13", "H11010100001")
        .visit("F", "11", "H11010100001")
        .visit("I", "21", "H11010100001");
    c.mdtrt[2].emer_flag = true; // outpatient visit flagged as a rescue
    c.line("O", "2026-01-03 09:00:00", ANGONG, "1", "380")
        .line("E", "2026-01-03 10:00:00", ANGONG, "1", "380")
        .line("F", "2026-01-03 11:00:00", ANGONG, "1", "380")
        .line("I", "2026-01-03 12:00:00", ANGONG, "1", "380");
    let f = c.run(&ix, eval::visit_type_limit);
    assert_eq!(sns(&f), ["1"]);
    assert_eq!(
        (f[0].category, f[0].amount),
        (Category::MedTypeLimit, Some(yuan("380")))
    );
    assert!(
        f[0].evidence.text.contains("限急诊或住院"),
        "{}",
        f[0].evidence.text
    );
    // The catalog gets no lmt_med_type for it (it would flag emergencies) but does for the rest.
    let mut catalog = Vec::new();
    kb.apply_to_catalog(&mut catalog);
    assert!(catalog.iter().all(|e| e.med_list_codg != ANGONG));
    let other = catalog
        .iter()
        .find(|e| e.med_list_codg == "XB05BAU012B002010102180")
        .unwrap();
    assert_eq!(
        other.lmt_med_type,
        Some(medfund_contract::MedTypeLimit::Ipt)
    );
}
