//! Online pre-check of a 50-line visit against a person's 90-day history (30 earlier visits,
//! 300 lines) with every default rule of the `before` and `during` stages.
//! `cargo bench -p medfund-audit --bench precheck` prints criterion's estimate and, first, the
//! p50/p99 of 20,000 timed calls (the latency the HTTP endpoint will see).
use criterion::{criterion_group, Criterion};
use medfund_audit::rules::RuleLibrary;
use medfund_audit::{precheck, PersonHistory, Policy, PrecheckContext};
use medfund_contract::time::parse_datetime;
use medfund_contract::*;
use std::hint::black_box;
use std::time::Instant;

fn code(i: usize) -> String {
    format!("00{:013}", 1_000 + i)
}

fn setup() -> (PrecheckContext, Mdtrt, Vec<Fee>, PersonHistory) {
    // 400 catalog codes exercising every limit column.
    let mut catalog = Vec::new();
    for i in 0..400 {
        let mut e = CatalogEntry {
            med_list_codg: code(i).into(),
            med_list_name: format!("项目{i}"),
            list_type: 3,
            ..Default::default()
        };
        match i % 8 {
            0 => e.lmt_gend = Some(Gender::Female),
            1 => e.lmt_age_max = Some(14),
            2 => e.lmt_hosp_lv = Some(2),
            3 => e.pric_uplmt_amt = Some("20".parse().unwrap()),
            4 => e.max_cnt_day = Some(Qty::from_units(3)),
            5 => e.excl_codes = vec![code(i + 1).into()],
            6 => e.lmt_dise = vec!["I10".into(), "E11".into()],
            _ => e.med_chrgitm_type = Some("01".into()),
        }
        catalog.push(e);
    }
    let inst = vec![Fixmedins {
        fixmedins_code: "H32010100001".into(),
        fixmedins_name: "市第一医院".into(),
        fixmedins_type: FixmedinsType::Medical,
        hosp_lv: Some(1),
        admdvs: Some("320101".into()),
    }];
    let susp = vec![PractSusp {
        pract_code: "D320101000009".into(),
        susp_type: SuspType::Suspend,
        begndate: "2025-01-01".parse().unwrap(),
        enddate: None,
    }];
    let ctx = PrecheckContext::new(
        catalog,
        &inst,
        &susp,
        &RuleLibrary::builtin(),
        None,
        Policy::default(),
    );
    let psn = Psn {
        psn_no: "P1".into(),
        gend: Gender::Male,
        brdy: "1970-01-01".parse().unwrap(),
        insutype: Some("310".into()),
        insuplc_admdvs: Some("320101".into()),
    };
    let visit = |id: String, t: &str| Mdtrt {
        mdtrt_id: id.into(),
        psn_no: "P1".into(),
        fixmedins_code: "H32010100001".into(),
        med_type: "11".into(),
        begntime: parse_datetime(t).unwrap(),
        endtime: None,
        diag_code: "I10.x00".into(),
        dise_codg: None,
        atddr_no: Some("D320101000001".into()),
        emer_flag: false,
        refl_fixmedins_code: None,
    };
    let line = |m: &Mdtrt, sn: usize, i: usize| Fee {
        feedetl_sn: format!("{sn}").into(),
        mdtrt_id: m.mdtrt_id.clone(),
        setl_id: "S".into(),
        psn_no: "P1".into(),
        fixmedins_code: m.fixmedins_code.clone(),
        fee_ocur_time: m.begntime,
        med_list_codg: code(i).into(),
        cnt: Qty::from_units(1),
        pric: "18.5".parse().unwrap(),
        det_item_fee_sumamt: Fen(1850),
        bilg_dr_codg: Some("D320101000001".into()),
        hi_rxno: None,
        drug_trac_codg: vec![],
    };
    let mut history = PersonHistory {
        psn: Some(psn),
        ..Default::default()
    };
    for d in 0..30 {
        let m = visit(
            format!("H{d}"),
            &format!("2025-02-{:02} 09:00:00", d % 28 + 1),
        );
        for j in 0..10 {
            history.fees.push(line(&m, j, (d * 13 + j * 7) % 400));
        }
        history.visits.push(m);
    }
    let v = visit("NEW".into(), "2025-03-02 10:00:00");
    let lines: Vec<Fee> = (0..50).map(|j| line(&v, j, (j * 11) % 400)).collect();
    (ctx, v, lines, history)
}

fn bench(c: &mut Criterion) {
    let (ctx, v, lines, history) = setup();
    c.bench_function("precheck_50_lines_30_visit_history", |b| {
        b.iter(|| precheck(black_box(&v), black_box(&lines), &history, &ctx))
    });
}

criterion_group!(benches, bench);

fn main() {
    let (ctx, v, lines, history) = setup();
    let found = precheck(&v, &lines, &history, &ctx);
    assert!(!found.is_empty(), "the benchmark visit trips some rules");
    for _ in 0..2_000 {
        black_box(precheck(&v, &lines, &history, &ctx));
    }
    let mut ns: Vec<u128> = (0..20_000)
        .map(|_| {
            let t = Instant::now();
            black_box(precheck(black_box(&v), black_box(&lines), &history, &ctx));
            t.elapsed().as_nanos()
        })
        .collect();
    ns.sort_unstable();
    let pct = |p: f64| ns[((ns.len() as f64 * p) as usize).min(ns.len() - 1)] as f64 / 1000.0;
    println!(
        "precheck 50 lines + 30-visit history: {} findings; p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs ({} calls)",
        found.len(),
        pct(0.50),
        pct(0.99),
        pct(1.0),
        ns.len()
    );
    benches();
    Criterion::default().configure_from_args().final_summary();
}
