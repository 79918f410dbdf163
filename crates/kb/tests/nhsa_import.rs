//! Imports each of the 14 national knowledge-point files in `kb/nhsa/` and checks codes, limits
//! and counts that were read by hand from the spreadsheets (sheet, row and value noted).

use chrono::{NaiveDate, NaiveDateTime};
use medfund_contract::{Gender, MedTypeLimit, Qty};
use medfund_kb::*;
use std::collections::HashSet;
use std::path::PathBuf;

fn nhsa(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../kb/nhsa")
        .join(file)
}

fn at() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 1, 2)
        .unwrap()
        .and_hms_opt(3, 4, 5)
        .unwrap()
}

fn one(file: &str) -> KnowledgeBase {
    import_files_at(&[nhsa(file)], &KbPolicy::default(), at()).unwrap()
}

/// The single limit of a code in a one-file knowledge base.
fn limit<'a>(kb: &'a KnowledgeBase, code: &'a str) -> &'a Limit {
    let v: Vec<_> = kb.points_of(code).collect();
    assert_eq!(v.len(), 1, "{code}: {v:?}");
    &v[0].limit
}

fn counts(kb: &KnowledgeBase) -> (u32, u32, u32, usize) {
    let s = &kb.sources[0];
    (s.rows, s.codes, s.points, s.unmapped.len())
}

fn age(label: &str, min: Option<u16>, max: Option<u16>) -> Limit {
    Limit::Age(AgeRange {
        label: label.into(),
        min_years: min,
        max_years: max,
        ..Default::default()
    })
}

#[test]
fn b1_drug_gender() {
    let kb = one("b1-drug-gender.xlsx");
    // Sheet1: 481 generic names; Sheet2: 6472 codes, each mapped through its generic name.
    assert_eq!(counts(&kb), (481 + 6472, 6472, 6472, 0));
    // Sheet1 row 2 阿帕他胺片 男; Sheet2 row 2.
    let p = kb.points_of("XL02BBA326A001010102180").next().unwrap();
    assert_eq!(
        p.limit,
        Limit::Gender {
            gender: Gender::Male
        }
    );
    assert_eq!(p.name, "阿帕他胺片");
    assert_eq!(p.id, "b1-drug-gender:row2:XL02BBA326A001010102180");
    assert_eq!(
        (p.source_row, p.limit_row, p.batch.as_str()),
        (2, Some(2), "b1")
    );
    assert!(p.note.contains("前列腺癌"));
    // 艾附暖宫丸 女 (Sheet1 row 3, Sheet2 row 5); 左炔诺孕酮片 女 (Sheet2 last row 6473).
    assert_eq!(
        limit(&kb, "ZD03AAA0043010100166"),
        &Limit::Gender {
            gender: Gender::Female
        }
    );
    assert_eq!(
        limit(&kb, "XG03ADZ061A001020300225"),
        &Limit::Gender {
            gender: Gender::Female
        }
    );
    let male = kb
        .points
        .iter()
        .filter(|p| {
            p.limit
                == Limit::Gender {
                    gender: Gender::Male,
                }
        })
        .count();
    assert_eq!(male, 1940, "33 male-only generic names carry 1940 codes");
    let s = &kb.sources[0];
    assert_eq!(s.title, "限定性别对象");
    assert_eq!(s.sha256.len(), 64);
    assert_eq!(s.imported_at, Some(at()));
}

#[test]
fn b1_drug_age() {
    let kb = one("b1-drug-age.xlsx");
    assert_eq!(counts(&kb), (282 + 4398, 4398, 4398, 0));
    // Rows 134, 190, 227 say the label includes adult dosing: imported, with a remark each.
    let notes = &kb.sources[0].notes;
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(notes[0].starts_with("小儿复方磺胺嘧啶颗粒") && notes[0].contains("成人用法用量"));
    // 儿童清肺口服液 儿童 (no explicit range in its text): the policy's 0–14.
    assert_eq!(
        limit(&kb, "ZA04CAE0023010100166"),
        &age("儿童", None, Some(14))
    );
    // 盐酸可乐定缓释片 "限6-17岁儿童和青少年…": the payment text's range wins over 0–14.
    assert_eq!(
        limit(&kb, "XN06BAK062A010010180923"),
        &age("儿童(限6-17岁)", Some(6), Some(17))
    );
    // 玛巴洛沙韦干混悬剂 "限5至12岁以下…": under 12.
    assert_eq!(
        limit(&kb, "XJ05AXM176X006010181735"),
        &age("儿童(限5至12岁以下)", Some(5), Some(11))
    );
    // 硫酸氢司美替尼胶囊 "限3岁及3岁以上…儿童患者": 3 to the child maximum.
    assert_eq!(
        limit(&kb, "XL01EEQ180E001010178241"),
        &age("儿童(限3岁及3岁以上)", Some(3), Some(14))
    );
    // With age_from_text off every 儿童 drug is 0–14.
    let policy = KbPolicy {
        age_from_text: false,
        ..Default::default()
    };
    let kb2 = import_files_at(&[nhsa("b1-drug-age.xlsx")], &policy, at()).unwrap();
    assert_eq!(
        limit(&kb2, "XN06BAK062A010010180923"),
        &age("儿童", None, Some(14))
    );
    // Exactly the 16 codes of the six generic names with an explicit range differ.
    let explicit = kb
        .points
        .iter()
        .filter(|p| matches!(&p.limit, Limit::Age(a) if a.label != "儿童"))
        .count();
    assert_eq!(explicit, 16);
}

#[test]
fn b1_item_age() {
    let kb = one("b1-item-age.xlsx");
    assert_eq!(counts(&kb), (30, 30, 30, 0));
    // Row 12 新生儿测颅压 新生儿: first 28 days of life.
    let Limit::Age(a) = limit(&kb, "003112020020000") else {
        panic!()
    };
    assert_eq!(
        (a.label.as_str(), a.max_days_of_life, a.max_years),
        ("新生儿", Some(28), None)
    );
    let birth = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
    assert!(
        a.allows(birth, NaiveDate::from_ymd_opt(2026, 2, 28).unwrap(), None),
        "day 28"
    );
    assert!(
        !a.allows(birth, NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), None),
        "day 29"
    );
    // Row 2 儿童前牙树脂冠修复 儿童; row 31 婴幼儿健康体检 婴幼儿 (0–3).
    assert_eq!(limit(&kb, "003105120040000"), &age("儿童", None, Some(14)));
    assert_eq!(limit(&kb, "001301000010000"), &age("婴幼儿", None, Some(3)));
    let newborn = kb
        .points
        .iter()
        .filter(|p| matches!(&p.limit, Limit::Age(a) if a.label == "新生儿"))
        .count();
    assert_eq!(newborn, 18);
}

#[test]
fn b1_item_gender() {
    let kb = one("b1-item-gender.xlsx");
    assert_eq!(counts(&kb), (390, 390, 390, 0));
    // Row 2 阴茎海绵体造影 男; row 391 子宫颈管环扎术(Mc-Donald) 女.
    assert_eq!(
        limit(&kb, "002101030280000"),
        &Limit::Gender {
            gender: Gender::Male
        }
    );
    assert_eq!(
        limit(&kb, "003314000190000"),
        &Limit::Gender {
            gender: Gender::Female
        }
    );
    assert_eq!(
        kb.points_of("003314000190000").next().unwrap().source_row,
        391
    );
}

#[test]
fn b2_item_secondary_surgery() {
    let kb = one("b2-item-secondary-surgery.xlsx");
    // 378 rows; 肠粘连松解术 is in 4 groups and 8 more codes in 2, so 368 distinct codes.
    assert_eq!(counts(&kb), (378, 368, 378, 0));
    assert_eq!(
        limit(&kb, "003310010140000"),
        &Limit::SecondarySurgery {
            group: "胃肠手术组".into()
        }
    );
    let groups: Vec<_> = kb
        .points_of("003310030080000")
        .map(|p| match &p.limit {
            Limit::SecondarySurgery { group } => (p.source_row, group.clone()),
            l => panic!("{l:?}"),
        })
        .collect();
    assert_eq!(
        groups,
        vec![
            (58, "胃肠手术组".to_string()),
            (132, "经腹直肠手术组".into()),
            (248, "肝胆手术组".into()),
            (379, "女性生殖系统手术组".into())
        ]
    );
}

#[test]
fn b3_drug_insurance_type() {
    let kb = one("b3-drug-insurance-type.xlsx");
    assert_eq!(counts(&kb), (12 + 112, 112, 112, 0));
    // 疤痕止痒软化膏 工伤 (Sheet2 row 2); 益母草注射液 生育 (Sheet2 last row 113).
    assert_eq!(
        limit(&kb, "ZH01AAB0066010100716"),
        &Limit::InsuranceType {
            kind: InsuranceKind::WorkInjury
        }
    );
    assert_eq!(
        limit(&kb, "ZD01BAY0323030202065"),
        &Limit::InsuranceType {
            kind: InsuranceKind::Maternity
        }
    );
    let maternity = kb
        .points
        .iter()
        .filter(|p| {
            p.limit
                == Limit::InsuranceType {
                    kind: InsuranceKind::Maternity,
                }
        })
        .count();
    assert_eq!(maternity, 27);
}

#[test]
fn b4_drug_visit_type() {
    let kb = one("b4-drug-visit-type.xlsx");
    assert_eq!(counts(&kb), (35 + 736, 736, 736, 0));
    let ipt = |emergency_ok| Limit::VisitType {
        med_type: MedTypeLimit::Ipt,
        emergency_ok,
    };
    assert_eq!(limit(&kb, "XB05BAU012B002010102180"), &ipt(false));
    // Sheet1 row 5 安宫牛黄丸 住院, "限急诊或住院患者。": emergency visits are allowed too.
    assert_eq!(limit(&kb, "ZA07AAA0061010100166"), &ipt(true));
    let emergency = kb.points.iter().filter(|p| p.limit == ipt(true)).count();
    assert_eq!(emergency, 207, "the 207 codes of 安宫牛黄丸");
    assert!(kb
        .points
        .iter()
        .all(|p| p.limit == ipt(false) || p.limit == ipt(true)));
}

#[test]
fn b5_drug_hospital_level() {
    let kb = one("b5-drug-hospital-level.xlsx");
    assert_eq!(counts(&kb), (61 + 962, 962, 962, 0));
    // 艾迪注射液 二级 → hosp_lv ≤ 2; 雷珠单抗注射液 三级 → hosp_lv 1 only.
    assert_eq!(
        limit(&kb, "ZC01AAA0042010105549"),
        &Limit::HospLevel {
            lmt_hosp_lv: 2,
            label: "二级".into()
        }
    );
    assert_eq!(
        limit(&kb, "XS01LAL328B002020278679"),
        &Limit::HospLevel {
            lmt_hosp_lv: 1,
            label: "三级".into()
        }
    );
    let tertiary = kb
        .points
        .iter()
        .filter(|p| matches!(p.limit, Limit::HospLevel { lmt_hosp_lv: 1, .. }))
        .count();
    assert_eq!(tertiary, 10);
}

#[test]
fn b6_drug_course() {
    let kb = one("b6-drug-course.xlsx");
    assert_eq!(counts(&kb), (30 + 1147, 1147, 1147, 0));
    let course = |max_days, basis, per_stay| {
        Limit::DrugCourse(Course {
            max_days,
            basis,
            per_stay,
            min_interval_days: None,
        })
    };
    // 奥扎格雷氨丁三醇注射用浓溶液 14天.
    assert_eq!(
        limit(&kb, "XB01AXA223B004010180963"),
        &course(14, CourseBasis::FeeDays, false)
    );
    // 注射用重组人脑利钠肽 "单次住院支付不超过3天": per stay.
    assert_eq!(
        limit(&kb, "XC01EBC109B001010102049"),
        &course(3, CourseBasis::FeeDays, true)
    );
    // 帕妥珠单抗注射液 365天 "支付不超过12个月": elapsed time.
    assert_eq!(
        limit(&kb, "XL01FDP138B002010181735"),
        &course(365, CourseBasis::Elapsed, false)
    );
    // 注射用益气复脉(冻干): 限定值域 15天 but the text says 14 — imported as published, with a note.
    assert_eq!(
        limit(&kb, "ZA09HAZ0413010100940"),
        &course(15, CourseBasis::FeeDays, true)
    );
    let notes = &kb.sources[0].notes;
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].contains("注射用益气复脉(冻干)")
            && notes[0].contains("15")
            && notes[0].contains("14")
    );
    let fourteen = kb
        .points
        .iter()
        .filter(|p| matches!(&p.limit, Limit::DrugCourse(c) if c.max_days == 14))
        .count();
    assert_eq!(fourteen, 1072);
}

#[test]
fn b7_item_duplicate_pairs() {
    let kb = one("b7-item-duplicate-pairs.xlsx");
    let s = &kb.sources[0];
    // 900 numbered rows (the trailing merged blank row 902 is not data); 157 distinct main items.
    assert_eq!(counts(&kb), (900, 157, 900, 0));
    assert_eq!(s.title, "医疗服务项目重复收费");
    assert_eq!(s.templates, ["duplicate_pair"]);
    let pair = |main: &str, sec: &str| -> Period {
        kb.points_of(main)
            .find_map(|p| match &p.limit {
                Limit::DuplicatePair {
                    secondary, period, ..
                } if secondary == sec => Some(*period),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{main} × {sec}"))
    };
    // Row 2: 急诊监护费 × 急诊诊查费 单日.
    assert_eq!(pair("001103000010000", "001102000030000"), Period::SameDay);
    // Row 292: 冷加压试验 × 动态血压监测 同一小时.
    assert_eq!(pair("003102070040000", "003107010210000"), Period::Hours(1));
    // Row 788: 单胎顺产接生 × 肛门指检 6小时.
    assert_eq!(pair("003314000020000", "003109040040000"), Period::Hours(6));
    // Row 900: 肛周坏死性筋膜炎清创术 × 化脓性肛周大汗腺炎切开清创引流术 单次就诊.
    assert_eq!(
        pair("004600000170000", "004600000160000"),
        Period::SameVisit
    );
    let p = kb.points.iter().find(|p| p.source_row == 2).unwrap();
    assert_eq!(
        p.id,
        "b7-item-duplicate-pairs:row2:001103000010000>001102000030000"
    );
    let by = |per: Period| {
        kb.points
            .iter()
            .filter(|p| matches!(&p.limit, Limit::DuplicatePair { period, .. } if *period == per))
            .count()
    };
    assert_eq!(
        (
            by(Period::SameDay),
            by(Period::SameVisit),
            by(Period::Hours(6)),
            by(Period::Hours(1))
        ),
        (446, 429, 18, 7)
    );
}

#[test]
fn b8_1_item_frequency() {
    let kb = one("b8-1-item-frequency.xlsx");
    let s = &kb.sources[0];
    assert_eq!(counts(&kb), (69, 67, 67, 2));
    // Rows 69 (合计) and 70 (备注) are not knowledge points, and say so.
    assert_eq!(s.unmapped[0].row, 69);
    assert!(s.unmapped[0].reason.contains("合计"));
    assert_eq!(s.unmapped[1].row, 70);
    assert!(s.unmapped[1].reason.contains("说明行"));
    // Row 3 住院诊查费 1 日; row 33 呼吸机辅助呼吸 24 小时.
    assert_eq!(
        limit(&kb, "001102000050000"),
        &Limit::FrequencyPerDay {
            max: Qty::from_units(1),
            unit: "日".into()
        }
    );
    assert_eq!(
        limit(&kb, "003106030010000"),
        &Limit::FrequencyPerDay {
            max: Qty::from_units(24),
            unit: "小时".into()
        }
    );
}

#[test]
fn b8_2_item_age() {
    let kb = one("b8-2-item-age.xlsx");
    assert_eq!(counts(&kb), (1, 1, 1, 0));
    // 职业功能训练: 参保人年龄超出法定就业年龄限制.
    let Limit::Age(a) = limit(&kb, "003402000320000") else {
        panic!()
    };
    assert_eq!(
        (
            a.min_years,
            a.max_years,
            a.max_years_female,
            a.label.as_str()
        ),
        (Some(16), Some(60), Some(55), "法定就业年龄")
    );
    let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
    // A woman born 1970-06-01 turns 56 on 2026-06-01; a man of the same age is within 60.
    assert!(a.allows(d(1970, 6, 1), d(2026, 5, 31), Some(Gender::Female)));
    assert!(!a.allows(d(1970, 6, 1), d(2026, 6, 1), Some(Gender::Female)));
    assert!(a.allows(d(1970, 6, 1), d(2026, 6, 1), Some(Gender::Male)));
    assert!(
        !a.allows(d(2011, 1, 1), d(2026, 12, 31), Some(Gender::Male)),
        "15 is below 16"
    );
}

#[test]
fn b8_3_item_course() {
    let kb = one("b8-3-item-course.xlsx");
    assert_eq!(counts(&kb), (11, 11, 11, 0));
    // Row 2 手功能评定: 总时间不超过90天，评定间隔时间不短于14天。
    assert_eq!(
        limit(&kb, "003402000050000"),
        &Limit::ItemCourse(Course {
            max_days: 90,
            basis: CourseBasis::Elapsed,
            per_stay: false,
            min_interval_days: Some(14)
        })
    );
    // Row 5 减重支持系统训练: 支付不超过30天。
    assert_eq!(
        limit(&kb, "003402000210000"),
        &Limit::ItemCourse(Course {
            max_days: 30,
            basis: CourseBasis::FeeDays,
            per_stay: false,
            min_interval_days: None
        })
    );
    // Row 12 儿童听力障碍语言训练: 支付不超过一年，每周最多支付一次。
    assert_eq!(
        limit(&kb, "003402000350000"),
        &Limit::ItemCourse(Course {
            max_days: 365,
            basis: CourseBasis::Elapsed,
            per_stay: false,
            min_interval_days: Some(7)
        })
    );
}

#[test]
fn b8_4_item_cycle() {
    let kb = one("b8-4-item-cycle.xlsx");
    assert_eq!(counts(&kb), (14, 14, 14, 0));
    // Row 3 糖化血红蛋白测定 1 / 15; row 2 血清果糖胺测定 1 / 7; row 15 康复评定 1 / 14.
    assert_eq!(
        limit(&kb, "002503020030000"),
        &Limit::CycleFrequency {
            max_times: 1,
            cycle_days: 15
        }
    );
    assert_eq!(
        limit(&kb, "002503020020000"),
        &Limit::CycleFrequency {
            max_times: 1,
            cycle_days: 7
        }
    );
    assert_eq!(
        limit(&kb, "003402000390000"),
        &Limit::CycleFrequency {
            max_times: 1,
            cycle_days: 14
        }
    );
}

#[test]
fn all_fourteen_together() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../kb/nhsa");
    let kb = import_dir(&dir, &KbPolicy::default()).unwrap();
    assert_eq!(kb.sources.len(), 14);
    let batches: Vec<&str> = kb.sources.iter().map(|s| s.batch.as_str()).collect();
    assert_eq!(
        batches,
        [
            "b1", "b1", "b1", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8-1", "b8-2", "b8-3",
            "b8-4"
        ]
    );
    let total: u32 = kb.sources.iter().map(|s| s.points).sum();
    assert_eq!(total as usize, kb.points.len());
    assert_eq!(
        kb.points.len(),
        6472 + 4398 + 30 + 390 + 378 + 112 + 736 + 962 + 1147 + 900 + 67 + 1 + 11 + 14
    );
    let ids: HashSet<&str> = kb.points.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), kb.points.len(), "knowledge point ids are unique");
    assert!(
        kb.version.starts_with("kb-") && kb.version.len() == "kb-20260102T030405-12345678".len()
    );
    // Every limit template of the issue appears.
    let templates: HashSet<&str> = kb.points.iter().map(|p| p.limit.template()).collect();
    for t in [
        "gender",
        "age",
        "insurance_type",
        "visit_type",
        "hosp_level",
        "drug_course",
        "secondary_surgery",
        "duplicate_pair",
        "frequency_per_day",
        "item_course",
        "cycle_frequency",
    ] {
        assert!(templates.contains(t), "{t}");
    }
    // The same bytes give the same version hash; a different import time only changes the stamp.
    let a = import_files_at(&[nhsa("b8-2-item-age.xlsx")], &KbPolicy::default(), at()).unwrap();
    let b = import_files_at(&[nhsa("b8-2-item-age.xlsx")], &KbPolicy::default(), at()).unwrap();
    assert_eq!(a.version, b.version);
    // Giving a file twice would make duplicate ids: refused with a message.
    let err = import_files(
        &[nhsa("b8-2-item-age.xlsx"), nhsa("b8-2-item-age.xlsx")],
        &KbPolicy::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("重复"), "{err}");
}

#[test]
fn unreadable_input_is_refused_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.xlsx");
    std::fs::write(&bad, b"not a zip").unwrap();
    let err = format!(
        "{:#}",
        import_files(&[bad], &KbPolicy::default()).unwrap_err()
    );
    assert!(err.contains("不是可读取的 xlsx"), "{err}");
    assert!(import_files(&[], &KbPolicy::default()).is_err());
    assert!(import_dir(dir.path().join("none").as_path(), &KbPolicy::default()).is_err());
}
