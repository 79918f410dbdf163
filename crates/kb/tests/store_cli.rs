//! Versioned storage, the catalog merge and the `medfund kb` commands.

use chrono::NaiveDate;
use medfund_contract::{CatalogEntry, Code, Gender, MedTypeLimit, Qty};
use medfund_kb::cli::{self, ImportArgs, KbArgs, KbCommand};
use medfund_kb::*;
use std::path::PathBuf;

fn nhsa(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../kb/nhsa")
        .join(file)
}

fn at(h: u32) -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 1, 2)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

#[test]
fn versions_are_stored_listed_and_switched() {
    let data = tempfile::tempdir().unwrap();
    assert!(load_current(data.path()).is_none());
    assert!(store::list(data.path()).unwrap().is_empty());
    let a = import_files_at(&[nhsa("b8-4-item-cycle.xlsx")], &KbPolicy::default(), at(1)).unwrap();
    let b = import_files_at(
        &[nhsa("b8-3-item-course.xlsx"), nhsa("b8-4-item-cycle.xlsx")],
        &KbPolicy::default(),
        at(2),
    )
    .unwrap();
    let pa = store::save(data.path(), &a).unwrap();
    assert_eq!(
        pa,
        data.path().join("kb").join(format!("{}.json", a.version))
    );
    store::save(data.path(), &b).unwrap();
    assert_eq!(
        load_current(data.path()).unwrap(),
        b,
        "the last import is current and round-trips"
    );
    let list = store::list(data.path()).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        (list[0].version.as_str(), list[0].points, list[0].current),
        (a.version.as_str(), 14, false)
    );
    assert_eq!((list[1].points, list[1].current), (25, true));
    assert_eq!(list[1].sources[0].batch, "b8-3");
    store::set_current(data.path(), &a.version).unwrap();
    assert_eq!(load_current(data.path()).unwrap().version, a.version);
    assert!(store::set_current(data.path(), "kb-nope").is_err());
    // A damaged version is an error for try_load_current (None for load_current).
    std::fs::write(
        data.path().join("kb").join(format!("{}.json", a.version)),
        b"{",
    )
    .unwrap();
    let err = format!("{:#}", try_load_current(data.path()).unwrap_err());
    assert!(err.contains("已损坏"), "{err}");
    assert!(load_current(data.path()).is_none());
}

#[test]
fn catalog_merge_keeps_the_stricter_limit_and_creates_missing_codes() {
    let kb = import_files_at(
        &[
            nhsa("b1-drug-gender.xlsx"),
            nhsa("b1-item-age.xlsx"),
            nhsa("b4-drug-visit-type.xlsx"),
            nhsa("b5-drug-hospital-level.xlsx"),
            nhsa("b8-1-item-frequency.xlsx"),
            nhsa("b8-2-item-age.xlsx"),
            nhsa("b8-4-item-cycle.xlsx"),
        ],
        &KbPolicy::default(),
        at(3),
    )
    .unwrap();
    let mut catalog = vec![
        // Local entry already stricter on level (tertiary only) than the national 二级.
        CatalogEntry {
            med_list_codg: "ZC01AAA0042010105549".into(),
            med_list_name: "艾迪注射液".into(),
            list_type: 1,
            lmt_hosp_lv: Some(1),
            ..Default::default()
        },
        // Local daily limit looser than the national 1 per day.
        CatalogEntry {
            med_list_codg: "001102000050000".into(),
            med_list_name: "住院诊查费".into(),
            list_type: 3,
            max_cnt_day: Some(Qty::from_units(2)),
            pric_uplmt_amt: Some("25".parse().unwrap()),
            ..Default::default()
        },
        // Unrelated entry stays as it is.
        CatalogEntry {
            med_list_codg: "C0101010100000000001".into(),
            list_type: 4,
            ..Default::default()
        },
    ];
    let stats = kb.apply_to_catalog(&mut catalog);
    assert_eq!(stats.updated, 2);
    let get = |c: &str| {
        catalog
            .iter()
            .find(|e| e.med_list_codg == c)
            .unwrap()
            .clone()
    };
    assert_eq!(get("ZC01AAA0042010105549").lmt_hosp_lv, Some(1));
    let consult = get("001102000050000");
    assert_eq!(consult.max_cnt_day, Some(Qty::from_units(1)));
    assert_eq!(
        consult.pric_uplmt_amt,
        Some("25".parse().unwrap()),
        "other columns untouched"
    );
    let apa = get("XL02BBA326A001010102180");
    assert_eq!(
        (apa.lmt_gend, apa.list_type, apa.med_list_name.as_str()),
        (Some(Gender::Male), 1, "阿帕他胺片")
    );
    assert_eq!(
        get("XB05BAU012B002010102180").lmt_med_type,
        Some(MedTypeLimit::Ipt)
    );
    assert_eq!(get("XS01LAL328B002020278679").lmt_hosp_lv, Some(1));
    let newborn = get("003112020020000");
    assert_eq!(
        (newborn.lmt_age_min, newborn.lmt_age_max, newborn.list_type),
        (None, Some(0), 3)
    );
    let work = get("003402000320000");
    assert_eq!((work.lmt_age_min, work.lmt_age_max), (Some(16), Some(60)));
    assert_eq!(
        get("003106030010000").max_cnt_day,
        Some(Qty::from_units(24))
    );
    // Cycle points have no catalog column: no entry is created for them.
    assert!(catalog.iter().all(|e| e.med_list_codg != "002503020030000"));
    assert_eq!(
        get("C0101010100000000001"),
        CatalogEntry {
            med_list_codg: "C0101010100000000001".into(),
            list_type: 4,
            ..Default::default()
        }
    );
    let national_codes: std::collections::HashSet<Code> = kb
        .points
        .iter()
        // Neither cycle points nor the emergency-admitting visit type (安宫牛黄丸) go to the catalog.
        .filter(|p| {
            p.limit.template() != "cycle_frequency"
                && !matches!(
                    p.limit,
                    Limit::VisitType {
                        emergency_ok: true,
                        ..
                    }
                )
        })
        .map(|p| p.med_list_codg.clone())
        .collect();
    assert_eq!(stats.created, national_codes.len() - 2);
    assert_eq!(catalog.len(), 3 + stats.created);
    // Applying twice changes nothing more.
    let before = catalog.clone();
    let again = kb.apply_to_catalog(&mut catalog);
    assert_eq!(again.created, 0);
    assert_eq!(catalog, before);
}

#[test]
fn kb_commands_end_to_end() {
    let data = tempfile::tempdir().unwrap();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../kb/nhsa");
    let import = KbArgs {
        command: KbCommand::Import(ImportArgs {
            files: vec![],
            dir: Some(dir),
            dry_run: false,
            json: false,
        }),
    };
    cli::run(data.path(), &import).unwrap();
    let kb = load_current(data.path()).unwrap();
    assert_eq!(kb.sources.len(), 14);
    let text = cli::report(&kb);
    assert!(text.contains("b1-drug-gender.xlsx"));
    assert!(text.contains("合计 total"));
    assert!(text.contains("未映射的行"));
    assert!(text.contains("合计行，不是知识点"));
    assert!(text.contains("注射用益气复脉(冻干)"));
    cli::run(
        data.path(),
        &KbArgs {
            command: KbCommand::List,
        },
    )
    .unwrap();
    cli::run(
        data.path(),
        &KbArgs {
            command: KbCommand::Show {
                code: "XL02BBA326A001010102180".into(),
            },
        },
    )
    .unwrap();
    // A dry run stores nothing.
    let before = store::list(data.path()).unwrap().len();
    let dry = KbArgs {
        command: KbCommand::Import(ImportArgs {
            files: vec![nhsa("b8-2-item-age.xlsx")],
            dir: None,
            dry_run: true,
            json: true,
        }),
    };
    cli::run(data.path(), &dry).unwrap();
    assert_eq!(store::list(data.path()).unwrap().len(), before);
    let bad = KbArgs {
        command: KbCommand::Use {
            version: "kb-missing".into(),
        },
    };
    assert!(cli::run(data.path(), &bad).is_err());
}
