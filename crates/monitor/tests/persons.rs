//! The top insured persons of a month: ranking, ties and the comparison with their group.
#![allow(clippy::field_reassign_with_default, clippy::too_many_arguments)] // fixtures build batches step by step

mod common;
use common::*;
use medfund_contract::records::{Batch, FixmedinsType};
use medfund_contract::YearMonth;
use medfund_monitor::persons::age_band;
use medfund_monitor::{top_persons, MonitorInput, Policy};

fn march() -> YearMonth {
    YearMonth::parse("2024-03").unwrap()
}

/// One settled visit of `psn` at `inst` with `medfee`/`hifp` and optional drug lines.
fn settle(
    b: &mut Batch,
    id: &str,
    psn: &str,
    inst: &str,
    day: &str,
    medfee: &str,
    hifp: &str,
    drugs: &[&str],
) {
    let v = visit(id, psn, inst, "11", &format!("{day} 09:00:00"), None);
    let sid = format!("S{id}");
    b.setl
        .push(setl(&sid, &v, &format!("{day} 10:00:00"), medfee, hifp));
    for (k, d) in drugs.iter().enumerate() {
        b.fee.push(fee(&(k + 1).to_string(), &v, &sid, d, 1, "1"));
    }
    b.mdtrt.push(v);
}

#[test]
fn ranking_and_tie_breaking() {
    // Fund spending 500, 500, 500, 100 (P4), 50 in February (ignored).
    // Ties: higher total fees first (P2 700 = P3 700 > P1 600), then psn_no (P2 < P3).
    let mut b = Batch::default();
    b.fixmedins = vec![inst(H1, "一院", FixmedinsType::Medical, Some(1))];
    settle(&mut b, "1", "P1", H1, "2024-03-02", "600", "500", &[]);
    settle(&mut b, "3", "P3", H1, "2024-03-02", "700", "500", &[]);
    settle(&mut b, "2", "P2", H1, "2024-03-02", "700", "500", &[]);
    settle(&mut b, "4", "P4", H1, "2024-03-02", "200", "100", &[]);
    settle(&mut b, "5", "P5", H1, "2024-02-02", "9000", "9000", &[]);
    let p = Policy::from_toml_str("[top_persons]\ncount = 3\n").unwrap();
    let top = top_persons(&MonitorInput::from_batch(&b), march(), &p);
    let order: Vec<(usize, &str)> = top.iter().map(|t| (t.rank, t.psn_no.as_str())).collect();
    assert_eq!(order, vec![(1, "P2"), (2, "P3"), (3, "P1")]);
    // Default count 30 lists everyone settled in March (4), never February's P5.
    let all = top_persons(&MonitorInput::from_batch(&b), march(), &Policy::default());
    assert_eq!(all.len(), 4);
    assert!(all.iter().all(|t| t.psn_no != "P5"));
    // Persons missing from the psn table are compared within "年龄未知".
    assert_eq!(all[0].group.age_band, "年龄未知");
    assert_eq!(all[0].age, None);
}

#[test]
fn what_makes_a_person_unusual() {
    // Group 45–59 employees settled in March: X (3 visits at 3 institutions, 2 drugs) and four
    // others with one visit of 100.00 each. Group medians: fund 100.00, visits 1,
    // institutions 1, drugs 0 (floored at 1 for the comparison).
    let mut b = Batch::default();
    b.fixmedins = vec![
        inst(H1, "一院", FixmedinsType::Medical, Some(1)),
        inst(H2, "二院", FixmedinsType::Medical, Some(1)),
        inst(H3, "三院", FixmedinsType::Medical, Some(1)),
    ];
    b.catalog = vec![
        cat(DRUG_X, 1, "09", 1),
        cat(DRUG_Z, 1, "11", 1),
        cat(ITEM, 3, "05", 1),
    ];
    // Born 1974-03-31: 50 on 31 March 2024 (the month's last day).
    b.psn.push(psn("X", "1974-03-31", "310"));
    settle(&mut b, "x1", "X", H1, "2024-03-02", "400", "400", &[DRUG_X]);
    settle(
        &mut b,
        "x2",
        "X",
        H2,
        "2024-03-03",
        "300",
        "300",
        &[DRUG_Z, ITEM],
    );
    settle(&mut b, "x3", "X", H3, "2024-03-04", "300", "300", &[DRUG_X]);
    for k in 1..=4 {
        let no = format!("O{k}");
        b.psn.push(psn(&no, "1970-01-01", "310"));
        settle(
            &mut b,
            &format!("o{k}"),
            &no,
            H1,
            "2024-03-05",
            "100",
            "100",
            &[],
        );
    }
    // A resident of the same age spends more but is in another group (and ranks first).
    b.psn.push(psn("R", "1970-01-01", "390"));
    settle(&mut b, "r", "R", H1, "2024-03-05", "5000", "5000", &[]);
    let top = top_persons(&MonitorInput::from_batch(&b), march(), &Policy::default());
    assert_eq!(top[0].psn_no, "R");
    assert!(
        top[0].reasons.is_empty(),
        "alone in its group: {:?}",
        top[0].reasons
    );
    let x = &top[1];
    assert_eq!(x.psn_no, "X");
    assert_eq!(x.age, Some(50));
    assert_eq!(x.group.age_band, "45–59岁");
    assert_eq!(x.group.insutype, "310");
    assert_eq!(x.group.size, 5);
    assert_eq!(x.group.fund_spending, fen("100"));
    assert_eq!(
        (x.month.visits, x.month.institutions, x.month.drugs),
        (3, 3, 2)
    );
    assert_eq!(x.month.fund_spending, fen("1000"));
    assert_eq!(x.month.drug_amount, fen("3"));
    assert_eq!(
        x.reasons,
        vec![
            "基金支出 1000.00 元，为同组（45–59岁，职工医保）中位数 100.00 元的 10.0 倍"
                .to_string(),
            "就诊 3 次，同组中位数 1 次".to_string(),
            "就诊机构 3 家，同组中位数 1 家".to_string(),
        ]
    );
}

#[test]
fn age_bands() {
    let b = [15, 45, 60, 75];
    assert_eq!(age_band(Some(0), &b), "0–14岁");
    assert_eq!(age_band(Some(14), &b), "0–14岁");
    assert_eq!(age_band(Some(15), &b), "15–44岁");
    assert_eq!(age_band(Some(74), &b), "60–74岁");
    assert_eq!(age_band(Some(75), &b), "75岁及以上");
    assert_eq!(age_band(None, &b), "年龄未知");
    assert_eq!(age_band(Some(3), &[]), "0岁及以上");
}

#[test]
fn empty_month() {
    let b = Batch::default();
    assert!(top_persons(&MonitorInput::from_batch(&b), march(), &Policy::default()).is_empty());
}
