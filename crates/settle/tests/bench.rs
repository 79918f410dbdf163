//! Benchmark (ignored by default): settle 1,000,000 synthetic inpatient cases by the point method,
//! through the CSV files, and a city's total budget year from contract records.
//!
//! `cargo test --release -p medfund-settle --test bench -- --ignored --nocapture`

use medfund_contract::records::FixmedinsType;
use medfund_contract::{Budget, Fen, Fixmedins, Mdtrt, Setl};
use medfund_settle::points::{settle_points, Case};
use medfund_settle::policy::{Policy, SpendingField};
use medfund_settle::source::{self, Scheme};
use std::time::Instant;

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn synthetic_cases(n: usize) -> Vec<Case> {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|i| {
            let inst = r.below(200);
            // 650 common groups and 300 rare ones (about 3 cases each: small groups).
            let group = if r.below(1000) == 0 {
                650 + r.below(300)
            } else {
                r.below(650)
            };
            // Group base cost 3,000–90,000 yuan; most cases 0.5×–1.5× of it, 7% far below and
            // 3% far above, so every kind of case occurs.
            let base = 300_000 + (group * 9_000) as i64;
            let spread = match r.below(100) {
                0..=2 => 300 + r.below(500),
                3..=9 => 10 + r.below(30),
                _ => 50 + r.below(100),
            } as i64;
            Case {
                setl_id: format!("S{i:09}").into(),
                fixmedins_code: format!("H3306{:07}", inst).into(),
                hosp_lv: [1, 2, 2, 3][(inst % 4) as usize],
                group: format!("G{group:03}").into(),
                total_cost: Fen(base * spread / 100),
                prepaid: Fen::ZERO,
            }
        })
        .collect()
}

#[test]
#[ignore]
fn settle_one_million_cases() {
    let n = 1_000_000;
    let t = Instant::now();
    let cases = synthetic_cases(n);
    let gen = t.elapsed();

    let t = Instant::now();
    let r = settle_points(
        &cases,
        Fen::from_yuan(5_000_000_000),
        &Policy::default().drg,
    )
    .unwrap();
    let settle = t.elapsed();
    assert_eq!(r.cases, n as u64);

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cases.csv");
    let t = Instant::now();
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
        writeln!(w, "setl_id,fixmedins_code,hosp_lv,drg_codg,total_cost").unwrap();
        for c in &cases {
            writeln!(
                w,
                "{},{},{},{},{}",
                c.setl_id, c.fixmedins_code, c.hosp_lv, c.group, c.total_cost
            )
            .unwrap();
        }
    }
    let write_in = t.elapsed();
    let t = Instant::now();
    let read_back =
        medfund_settle::files::read_cases_csv(&p, Scheme::Drg, Default::default()).unwrap();
    let read = t.elapsed();
    assert_eq!(read_back.len(), n);
    let t = Instant::now();
    medfund_settle::files::write_cases_csv(&dir.path().join("out-cases.csv"), &r, Scheme::Drg)
        .unwrap();
    medfund_settle::files::write_institutions_csv(&dir.path().join("out.csv"), &r).unwrap();
    let write_out = t.elapsed();

    let kinds = |k| r.case_points.iter().filter(|c| c.kind == k).count();
    use medfund_settle::points::CaseKind::*;
    println!(
        "DRG point settlement of {n} cases, {} groups, {} institutions: generate {:?}, settle {:?}, \
         read CSV {:?}, write case+institution CSV {:?} (input CSV written in {:?}); kinds normal {} high {} low {} small {}",
        r.groups.len(),
        r.institutions.len(),
        gen,
        settle,
        read,
        write_out,
        write_in,
        kinds(Normal),
        kinds(High),
        kinds(Low),
        kinds(SmallGroup)
    );
}

#[test]
#[ignore]
fn budget_year_of_a_city() {
    // 300 institutions with budgets, 2,000,000 settlements in the year, 10% of them referrals
    // out of the city.
    let mut r = Rng(42);
    let fixmedins: Vec<Fixmedins> = (0..330)
        .map(|i| Fixmedins {
            fixmedins_code: format!("H{}{:05}", if i < 300 { "330604" } else { "330102" }, i)
                .into(),
            fixmedins_name: format!("医院{i}"),
            fixmedins_type: FixmedinsType::Medical,
            hosp_lv: Some([1, 2, 3][i % 3]),
            admdvs: None,
        })
        .collect();
    let time = medfund_contract::time::parse_datetime("2024-01-01 00:00:00").unwrap();
    let mut mdtrt = Vec::new();
    let mut setl = Vec::new();
    for i in 0..2_000_000u64 {
        let out = r.below(10) == 0;
        let home = r.below(300) as usize;
        let at = if out {
            300 + r.below(30) as usize
        } else {
            home
        };
        let id: medfund_contract::Code = format!("M{i}").into();
        let when = time + chrono::Duration::minutes(r.below(525_600) as i64);
        mdtrt.push(Mdtrt {
            mdtrt_id: id.clone(),
            psn_no: "P1".into(),
            fixmedins_code: fixmedins[at].fixmedins_code.clone(),
            med_type: if out { "21" } else { "11" }.into(),
            begntime: when,
            endtime: None,
            diag_code: "I10.x00".into(),
            dise_codg: None,
            atddr_no: None,
            emer_flag: false,
            refl_fixmedins_code: out.then(|| fixmedins[home].fixmedins_code.clone()),
        });
        setl.push(Setl {
            setl_id: format!("S{i}").into(),
            mdtrt_id: id,
            psn_no: "P1".into(),
            fixmedins_code: fixmedins[at].fixmedins_code.clone(),
            setl_time: when,
            medfee_sumamt: Fen(10_000 + r.below(1_000_000) as i64),
            hifp_pay: Fen(5_000 + r.below(500_000) as i64),
            acct_pay: None,
            psn_cash_pay: None,
            fund_pay_sumamt: None,
            drg_codg: None,
        });
    }
    let budgets: Vec<Budget> = fixmedins[..300]
        .iter()
        .map(|f| Budget {
            fixmedins_code: f.fixmedins_code.clone(),
            year: 2024,
            cap_in: Fen::from_yuan(8_000_000),
            cap_out: Some(Fen::from_yuan(800_000)),
            approved_extra: None,
        })
        .collect();
    let policy = Policy::default();
    let t = Instant::now();
    let city = source::city_prefix(None, &budgets, &fixmedins).unwrap();
    let sp = source::year_spending(
        2024,
        &city,
        &setl,
        &mdtrt,
        &fixmedins,
        SpendingField::HifpPay,
    );
    let inputs = source::budget_inputs(2024, &budgets, &sp, &Default::default(), &policy.budget);
    let lines = medfund_settle::budget::settle_all(&inputs, &policy.budget).unwrap();
    let took = t.elapsed();
    let t = medfund_settle::budget::totals(&lines);
    println!(
        "Total budget year: 300 institutions, 2,000,000 settlements (10% referrals out of the city): {took:?}; \
         cap {} actual {} payable {}",
        t.cap, t.actual, t.payable
    );
}

/// The demo city's year end to end: generate (20,000 persons by default, `MEDFUND_BENCH_PERSONS`
/// to change), load into a store, then time each settlement from the store.
#[test]
#[ignore]
fn demo_city_year() {
    let persons: u64 = std::env::var("MEDFUND_BENCH_PERSONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let d = tempfile::tempdir().unwrap();
    let batch = d.path().join("city");
    let cfg = medfund_gen::GenConfig {
        persons,
        year: 2025,
        ..Default::default()
    };
    let t = Instant::now();
    let summary = medfund_gen::generate(&batch, &cfg).unwrap();
    let gen = t.elapsed();
    let data = d.path().join("data");
    let t = Instant::now();
    let mut store = medfund_store::Store::open(&data).unwrap();
    store.load_batch(&batch, &Default::default(), None).unwrap();
    let load = t.elapsed();
    let policy = Policy::default();

    let t = Instant::now();
    let b =
        medfund_settle::service::budget_from_store(&mut store, 2025, &policy, &Default::default())
            .unwrap();
    let budget = t.elapsed();
    let t = Instant::now();
    let drg = medfund_settle::service::points_from_store(
        &mut store,
        Scheme::Drg,
        2025,
        Fen::from_yuan(100_000_000),
        &policy,
    )
    .unwrap();
    let drg_t = t.elapsed();
    let t = Instant::now();
    let dip = medfund_settle::service::points_from_store(
        &mut store,
        Scheme::Dip,
        2025,
        Fen::from_yuan(100_000_000),
        &policy,
    );
    let dip_t = t.elapsed();
    let t = Instant::now();
    let w = medfund_settle::service::warnings_from_store(&mut store, 2025, 6, &policy).unwrap();
    let warn_t = t.elapsed();
    println!(
        "Demo city ({persons} persons, {} settlements): generate {gen:?}, load {load:?}; budget settlement of {} \
         institutions {budget:?} (payable {}, overage {}, reward {}; {} without budget); DRG {} cases {} groups \
         {drg_t:?} (V {}); DIP {} ({dip_t:?}); June warnings {} ({warn_t:?})",
        summary.rows.get("setl").copied().unwrap_or(0),
        b.lines.len(),
        b.totals.payable,
        b.totals.overage,
        b.totals.reward,
        b.without_budget.len(),
        drg.result.cases,
        drg.result.groups.len(),
        drg.result.point_value,
        match &dip {
            Ok(o) => format!("{} cases {} groups", o.result.cases, o.result.groups.len()),
            Err(e) => format!("not settled: {e:#}"),
        },
        w.len(),
    );
    assert!(!b.lines.is_empty());
    assert!(
        b.lines.iter().any(|l| l.actual_out > Fen::ZERO),
        "the demo city has out-of-city referrals"
    );
}
