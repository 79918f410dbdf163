//! # medfund-gen — the synthetic demo city
//!
//! [`generate`] writes a realistic synthetic city in the contract layout (DOMAIN.md §3): one CSV
//! per table with the national column names, institutions of every level (some in a
//! neighbouring city for referrals), personnel, a knowledge-base catalog exercising every limit
//! column, a year of outpatient, inpatient and pharmacy visits with fee lines, settlements,
//! e-prescriptions, identity checks, pharmacy stock and purchases, fund months and budgets —
//! plus a documented set of planted violations of every category of DOMAIN.md §4 and boundary
//! cases that must stay clean, listed in `manifest.jsonl`.
//!
//! Output is byte-identical for a seed whatever the thread count: every person draws from its
//! own random stream, blocks of persons are generated in parallel and written in order, and
//! memory stays flat as the population grows.
//!
//! ```no_run
//! use medfund_gen::{generate, GenConfig};
//! let s = generate(std::path::Path::new("/tmp/city"), &GenConfig { persons: 2_000, ..GenConfig::default() }).unwrap();
//! println!("{} fee lines", s.fee_lines);
//! ```

pub mod catalog;
pub mod city;
pub mod cli;
pub mod emit;
pub mod fmt;
pub mod model;
pub mod person;
pub mod planted;
pub mod rng;

use anyhow::Context as _;
use chrono::{Datelike, NaiveDate};
use emit::{BlockOut, InstAgg};
use medfund_contract::schema::Table;
use person::{Build, Ctx, State};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Settings of a run.
#[derive(Clone, Debug)]
pub struct GenConfig {
    /// Insured persons.
    pub persons: u64,
    /// Random seed: the same seed gives byte-identical files.
    pub seed: u64,
    /// Calendar year of the visits (fund months and budgets also cover the year before).
    pub year: i32,
    /// Worker threads (None = all cores). Does not change the output.
    pub threads: Option<usize>,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            persons: 20_000,
            seed: 42,
            year: 2025,
            threads: None,
            progress: false,
        }
    }
}

/// What a run wrote.
#[derive(Clone, Debug)]
pub struct GenSummary {
    pub out: PathBuf,
    /// Rows per table (by file stem).
    pub rows: BTreeMap<String, u64>,
    /// Planted violations per category.
    pub violations: BTreeMap<String, u64>,
    /// Planted clean boundary cases per category.
    pub clean_cases: BTreeMap<String, u64>,
    pub fee_lines: u64,
    pub seconds: f64,
    /// Fee lines written per second of wall time.
    pub lines_per_sec: f64,
}

/// Persons per block: the unit of parallel work and of in-order writing.
const BLOCK: u64 = 256;

/// The smallest population that holds every planted case.
pub fn min_persons() -> u64 {
    (planted::count(1) as u64) * 3
}

/// Generates the city into `out` (created if missing; existing files are overwritten).
pub fn generate(out: &Path, cfg: &GenConfig) -> anyhow::Result<GenSummary> {
    let started = Instant::now();
    anyhow::ensure!(
        cfg.persons >= min_persons(),
        "人数太少：至少需要 {} 人才能放下全部预置违规案例 / --persons must be at least {}",
        min_persons(),
        min_persons()
    );
    anyhow::ensure!(
        (2000..=2100).contains(&cfg.year),
        "年份应在 2000–2100 之间 / --year must be in 2000..=2100"
    );
    std::fs::create_dir_all(out)
        .with_context(|| format!("无法创建输出目录 / cannot create {}", out.display()))?;
    let ctx = context(cfg);
    let threads = cfg
        .threads
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        })
        .max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;

    let mut files: Vec<BufWriter<File>> = Vec::with_capacity(15);
    for t in Table::ALL {
        let path = out.join(format!("{}.csv", t.name()));
        let f = File::create(&path)
            .with_context(|| format!("无法写入 / cannot write {}", path.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        let header: Vec<&str> = t.spec().columns.iter().map(|c| c.name).collect();
        writeln!(w, "{}", header.join(","))?;
        files.push(w);
    }
    let mpath = out.join("manifest.jsonl");
    let mut manifest = BufWriter::new(
        File::create(&mpath).with_context(|| format!("cannot write {}", mpath.display()))?,
    );

    // Static tables first.
    let mut rows = [0u64; 15];
    let mut stat = BlockOut::new(ctx.city.insts.len());
    static_tables(&ctx, &mut stat);
    for t in [
        Table::Fixmedins,
        Table::Pract,
        Table::PractSusp,
        Table::Catalog,
    ] {
        files[t as usize].write_all(&stat.bufs[t as usize])?;
        rows[t as usize] += stat.rows[t as usize];
    }

    // Persons, in parallel blocks written in order by a writer thread.
    let nblocks = cfg.persons.div_ceil(BLOCK);
    let chunk = (threads as u64 * 4).max(4);
    let bar = if cfg.progress {
        let b = indicatif::ProgressBar::new(cfg.persons);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} 生成中 {bar:40} {pos}/{len} 人 ({per_sec}, 剩余 {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let mut agg = Aggregate::new(ctx.city.insts.len());
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<BlockOut>>(2);
        let files = &mut files;
        let manifest = &mut manifest;
        let agg = &mut agg;
        let rows = &mut rows;
        let writer = scope.spawn(move || -> std::io::Result<()> {
            for chunk in rx {
                for b in chunk {
                    for t in Table::ALL {
                        files[t as usize].write_all(&b.bufs[t as usize])?;
                        rows[t as usize] += b.rows[t as usize];
                    }
                    manifest.write_all(&b.manifest)?;
                    agg.merge(b);
                }
            }
            Ok(())
        });
        let mut start = 0;
        while start < nblocks {
            let end = (start + chunk).min(nblocks);
            let outs: Vec<BlockOut> = pool.install(|| {
                (start..end)
                    .into_par_iter()
                    .map(|bi| block(&ctx, bi))
                    .collect()
            });
            let persons_done = (end * BLOCK).min(cfg.persons);
            if tx.send(outs).is_err() {
                break;
            }
            if let Some(b) = &bar {
                b.set_position(persons_done);
            }
            start = end;
        }
        drop(tx);
        writer
            .join()
            .map_err(|_| anyhow::anyhow!("writer thread panicked"))??;
        Ok(())
    })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }

    // Tables that depend on the whole year: stock, purchases, fund months, budgets.
    let mut tail = BlockOut::new(ctx.city.insts.len());
    inventory(&ctx, &agg, &mut tail);
    fund_months(&ctx, &agg, &mut tail);
    budgets(&ctx, &agg, &mut tail);
    outlier_entry(&ctx, &agg, &mut tail);
    for t in [
        Table::InvPurc,
        Table::InvStock,
        Table::FundMonth,
        Table::Budget,
    ] {
        files[t as usize].write_all(&tail.bufs[t as usize])?;
        rows[t as usize] += tail.rows[t as usize];
    }
    manifest.write_all(&tail.manifest)?;
    for (k, v) in tail.counts {
        *agg.counts.entry(k).or_insert(0) += v;
    }
    for mut f in files {
        f.flush()?;
    }
    manifest.flush()?;

    let mut violations = BTreeMap::new();
    let mut clean_cases = BTreeMap::new();
    for c in medfund_contract::Category::ALL {
        violations.insert(
            c.code().to_string(),
            *agg.counts.get(&(c.code(), false)).unwrap_or(&0),
        );
        let n = *agg.counts.get(&(c.code(), true)).unwrap_or(&0);
        if n > 0 {
            clean_cases.insert(c.code().to_string(), n);
        }
    }
    let rows_map: BTreeMap<String, u64> = Table::ALL
        .iter()
        .map(|t| (t.name().to_string(), rows[*t as usize]))
        .collect();
    let summary_json = serde_json::json!({
        "seed": cfg.seed,
        "persons": cfg.persons,
        "year": cfg.year,
        "violations_per_category": ctx.scenarios.per_category,
        "violations": violations,
        "clean_cases": clean_cases,
        "rows": rows_map,
        "institutions": ctx.city.insts.len(),
        "provider_outlier": ctx.city.insts[ctx.city.outlier as usize].code,
    });
    std::fs::write(
        out.join("manifest_summary.json"),
        serde_json::to_string_pretty(&summary_json)? + "\n",
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let fee_lines = rows[Table::Fee as usize];
    Ok(GenSummary {
        out: out.to_path_buf(),
        rows: rows_map,
        violations,
        clean_cases,
        fee_lines,
        seconds,
        lines_per_sec: fee_lines as f64 / seconds.max(1e-9),
    })
}

/// Builds the shared context of a run (catalog, city, planted plan).
pub fn context(cfg: &GenConfig) -> Ctx {
    let start = NaiveDate::from_ymd_opt(cfg.year, 1, 1).expect("valid year");
    let ndays = (NaiveDate::from_ymd_opt(cfg.year + 1, 1, 1).expect("valid year") - start)
        .num_days() as i32;
    let cat = catalog::build();
    let city = city::build(cfg.seed, cfg.persons, reserve_per_hospital(cfg.persons));
    let days = fmt::Days::new(start, ndays as usize + 64);
    let scenarios = planted::Scenarios::plan(cfg.seed, cfg.persons, ndays, start, &city);
    // Where people have their home clinic: weights by level, equal within a level so peers see
    // the same mix of patients.
    let mut home_pool = Vec::new();
    for (list, w) in [
        (&city.tertiary, 20 * 12 / city.tertiary.len().max(1)),
        (&city.secondary, 35 * 12 / city.secondary.len().max(1)),
        (&city.primary, 37 * 12 / city.primary.len().max(1)),
        (&city.unrated, 2 * 12 / city.unrated.len().max(1)),
        (&city.other_city, 6 * 12 / city.other_city.len().max(1)),
    ] {
        for &i in list {
            for _ in 0..w.max(1) {
                home_pool.push(i);
            }
        }
    }
    let ix = person::Named::new(&cat);
    Ctx {
        seed: cfg.seed,
        persons: cfg.persons,
        year: cfg.year,
        ndays,
        days,
        cat,
        city,
        ix,
        home_pool,
        scenarios,
    }
}

/// Reserved doctors per admitting hospital: enough for every suspension case to get its own.
fn reserve_per_hospital(persons: u64) -> usize {
    let [n1, n2, ..] = city::sizes(persons);
    let need = planted::per_category(persons) + 2 * planted::clean_copies(persons);
    need.div_ceil((n1 + n2).saturating_sub(1).max(1)) + 1
}

/// Generates one block of persons.
fn block(ctx: &Ctx, bi: u64) -> BlockOut {
    let mut out = BlockOut::new(ctx.city.insts.len());
    let lo = bi * BLOCK;
    let hi = ((bi + 1) * BLOCK).min(ctx.persons);
    let mut visits = Vec::new();
    for idx in lo..hi {
        let mut rng = planted::person_rng(ctx.seed, idx);
        let mut p = ctx.person(idx, &mut rng);
        let sc = ctx.scenarios.for_person(idx);
        if let Some(s) = sc {
            planted::adjust(s, &mut p, ctx);
        }
        let mut st = State::new(ctx.ndays);
        if let Some(s) = sc {
            st.take(
                s.w0 - planted::MARGIN,
                s.w0 + planted::WINDOW + planted::MARGIN,
            );
        }
        visits.clear();
        let mut b = Build {
            ctx,
            p: &p,
            st: &mut st,
            rng: &mut rng,
        };
        person::clean_year(&mut b, &mut visits);
        if let Some(s) = sc {
            planted::build(s, &mut b, &mut visits);
        }
        emit::person(ctx, &p, &mut visits, &mut out);
    }
    out
}

/// Sums of all blocks.
pub struct Aggregate {
    pub sales: HashMap<(u16, u16, u8), i64>,
    pub fund: [[i64; 12]; 2],
    pub inst: Vec<InstAgg>,
    pub counts: HashMap<(&'static str, bool), u64>,
}

impl Aggregate {
    fn new(n: usize) -> Aggregate {
        Aggregate {
            sales: HashMap::new(),
            fund: [[0; 12]; 2],
            inst: vec![InstAgg::default(); n],
            counts: HashMap::new(),
        }
    }
    fn merge(&mut self, b: BlockOut) {
        for (k, v) in b.sales {
            *self.sales.entry(k).or_insert(0) += v;
        }
        for i in 0..2 {
            for m in 0..12 {
                self.fund[i][m] += b.fund[i][m];
            }
        }
        for (a, o) in self.inst.iter_mut().zip(&b.inst) {
            a.add(o);
        }
        for (k, v) in b.counts {
            *self.counts.entry(k).or_insert(0) += v;
        }
    }
}

fn line(b: &mut Vec<u8>, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        fmt::field(b, f);
    }
    b.push(b'\n');
}

fn push(out: &mut BlockOut, t: Table, fields: &[&str]) {
    out.rows[t as usize] += 1;
    line(&mut out.bufs[t as usize], fields);
}

fn static_tables(ctx: &Ctx, out: &mut BlockOut) {
    for i in &ctx.city.insts {
        let lv = if i.kind == 2 {
            String::new()
        } else {
            i.lv.to_string()
        };
        push(
            out,
            Table::Fixmedins,
            &[&i.code, &i.name, &i.kind.to_string(), &lv, i.admdvs],
        );
    }
    for p in &ctx.city.practs {
        push(
            out,
            Table::Pract,
            &[
                &p.code,
                &p.name,
                &p.typ.to_string(),
                &ctx.city.insts[p.inst as usize].code,
            ],
        );
    }
    let date = |d: i32| {
        let mut b = Vec::new();
        fmt::date(
            &mut b,
            ctx.days.date_of(0) + chrono::Duration::days(d as i64),
        );
        String::from_utf8(b).expect("ascii")
    };
    for s in &ctx.scenarios.list {
        if let (Some(r), Some((kind, a, e))) = (s.pract, s.susp) {
            let end = e.map(date).unwrap_or_default();
            push(
                out,
                Table::PractSusp,
                &[&ctx.city.practs[r as usize].code, kind, &date(a), &end],
            );
        }
    }
    // Two historical measures that ended before the year (no effect on the year's claims).
    for (k, &h) in ctx.city.tertiary.iter().take(2).enumerate() {
        let nurse = ctx.city.insts[h as usize].nurses[k];
        push(
            out,
            Table::PractSusp,
            &[
                &ctx.city.practs[nurse as usize].code,
                "suspend",
                &date(-200),
                &date(-20),
            ],
        );
    }
    for it in &ctx.cat.items {
        let o = |v: Option<u8>| v.map(|x| x.to_string()).unwrap_or_default();
        let n0 = |v: u32| if v == 0 { String::new() } else { v.to_string() };
        let mut cap = Vec::new();
        fmt::fen(&mut cap, it.cap);
        push(
            out,
            Table::Catalog,
            &[
                &it.code,
                &it.name,
                &it.list_type.to_string(),
                it.fee_cat,
                &it.chrgitm_lv.to_string(),
                std::str::from_utf8(&cap).expect("ascii"),
                &if it.gend == 0 {
                    String::new()
                } else {
                    it.gend.to_string()
                },
                &o(it.age_min),
                &o(it.age_max),
                &if it.hosp_lv == 0 {
                    String::new()
                } else {
                    it.hosp_lv.to_string()
                },
                it.med_type,
                it.dise,
                &n0(it.max_day),
                &n0(it.max_mdtrt),
                it.excl,
                it.incl,
                if it.rx_only { "1" } else { "0" },
            ],
        );
    }
}

/// Stock takes on the first of each month and purchases that cover sales, except for the
/// planted `inventory_mismatch` cells.
fn inventory(ctx: &Ctx, agg: &Aggregate, out: &mut BlockOut) {
    let mut cells: Vec<((u16, u16), [i64; 12])> = {
        let mut m: HashMap<(u16, u16), [i64; 12]> = HashMap::new();
        for (&(ph, it, mo), &n) in &agg.sales {
            m.entry((ph, it)).or_insert([0; 12])[mo as usize] += n;
        }
        m.into_iter().collect()
    };
    cells.sort_by_key(|(k, _)| *k);
    // Planted cells: the best-selling (pharmacy, drug, month) cells, one per pharmacy–drug pair.
    let mut cand: Vec<(i64, u16, u16, usize)> = Vec::new();
    for ((ph, it), s) in &cells {
        let (m, &best) = s
            .iter()
            .enumerate()
            .max_by_key(|(m, &n)| (n, std::cmp::Reverse(*m)))
            .expect("12 months");
        if best >= 2 {
            cand.push((best, *ph, *it, m));
        }
    }
    cand.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let k = ctx.scenarios.per_category;
    let planted: Vec<(u16, u16, usize)> = cand
        .iter()
        .take(k)
        .map(|&(_, ph, it, m)| (ph, it, m))
        .collect();
    let first = ctx.days.date_of(0);
    for ((ph, it), sold) in &cells {
        let mut rng = rng::Rng::new(ctx.seed, 0x1_0000 + (*ph as u64) * 65_536 + *it as u64);
        let total: i64 = sold.iter().sum();
        let mut stock = 20 + rng.range(0, 30) + total / 24;
        let code = &ctx.city.insts[*ph as usize].code;
        let item = &ctx.cat.get(*it).code;
        #[allow(clippy::needless_range_loop)] // m is also the month number
        for m in 0..12usize {
            let month = first.with_month0(m as u32).expect("month");
            let is_planted = planted.contains(&(*ph, *it, m));
            let (take, purc) = if is_planted {
                let excess = (sold[m] / 5).max(1);
                (0, sold[m] - excess)
            } else {
                (
                    stock,
                    (sold[m] - stock).max(0) + (sold[m] * 3 + 9) / 10 + rng.range(0, 10),
                )
            };
            let mut d = Vec::new();
            fmt::date(&mut d, month);
            let ds = String::from_utf8(d).expect("ascii");
            push(out, Table::InvStock, &[code, item, &take.to_string(), &ds]);
            if purc > 0 {
                let first_part = purc / 2 + purc % 2;
                for (day, n) in [(2u32, first_part), (15, purc - first_part)] {
                    if n > 0 {
                        let t = format!(
                            "{}-{:02}-{:02} 10:{:02}:00",
                            ctx.year,
                            m + 1,
                            day,
                            rng.range(0, 59)
                        );
                        push(out, Table::InvPurc, &[code, item, &n.to_string(), &t]);
                    }
                }
            }
            if is_planted {
                let note = format!(
                    "{}-{:02} 月售出 {} 盒，月初盘点 0 + 当月采购 {} = {}，售出超出 {} 盒",
                    ctx.year,
                    m + 1,
                    sold[m],
                    purc,
                    purc,
                    sold[m] - purc
                );
                let mk = model::Mark {
                    category: "inventory_mismatch",
                    level: "fixmedins",
                    clean: false,
                    amount: None,
                    item: None,
                    note,
                };
                let e = emit::entry(
                    &mk,
                    emit::Keys {
                        fixmedins_code: Some(code),
                        med_list_codg: Some(item),
                        ..Default::default()
                    },
                );
                out.manifest.extend_from_slice(e.to_string().as_bytes());
                out.manifest.push(b'\n');
                *out.counts.entry(("inventory_mismatch", false)).or_insert(0) += 1;
            }
            stock = (take + purc - sold[m]).max(0);
        }
    }
}

/// Fund months for the year before and the year: expense of the year = the pooled fund paid
/// in the generated settlements; balances set so that months payable end near 33 (employee)
/// and 7 (resident) as seed 004 quotes.
fn fund_months(ctx: &Ctx, agg: &Aggregate, out: &mut BlockOut) {
    let mut rng = rng::Rng::new(ctx.seed, 0xF0D);
    for (i, (insutype, target)) in [("310", 33i64), ("390", 7)].into_iter().enumerate() {
        let cur: Vec<i64> = agg.fund[i].iter().map(|&x| x.max(10_000)).collect();
        let prev: Vec<i64> = cur.iter().map(|&x| x * 94 / 100).collect();
        let exp: Vec<i64> = prev.iter().chain(&cur).copied().collect();
        let year_total: i64 = cur.iter().sum();
        let inc: Vec<i64> = (0..24)
            .map(|m| {
                if i == 0 {
                    exp[m] * (104 + rng.range(0, 8)) / 100
                } else {
                    // Resident premiums are collected mostly at the start of the year.
                    let base = if m < 12 {
                        year_total * 94 / 100
                    } else {
                        year_total
                    } * 102
                        / 100;
                    let share = [30, 25, 15, 5, 3, 3, 3, 3, 3, 3, 3, 4][m % 12];
                    base * share / 100
                }
            })
            .collect();
        let avg12 = year_total / 12;
        let net: i64 = inc.iter().zip(&exp).map(|(a, b)| a - b).sum();
        let mut bal = (target * avg12 - net).max(avg12);
        for m in 0..24 {
            bal += inc[m] - exp[m];
            let ym = medfund_contract::YearMonth {
                year: ctx.year - 1,
                month: 1,
            }
            .plus(m as i32);
            let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
            fmt::fen(&mut a, inc[m]);
            fmt::fen(&mut b, exp[m]);
            fmt::fen(&mut c, bal);
            let s = |v: Vec<u8>| String::from_utf8(v).expect("ascii");
            push(
                out,
                Table::FundMonth,
                &[insutype, &ym.to_string(), &s(a), &s(b), &s(c)],
            );
        }
    }
}

/// Yearly budgets of the local hospitals for the year and the year before.
fn budgets(ctx: &Ctx, agg: &Aggregate, out: &mut BlockOut) {
    let mut rng = rng::Rng::new(ctx.seed, 0xB0D);
    for (i, inst) in ctx.city.insts.iter().enumerate() {
        if inst.kind != 1 || !inst.local {
            continue;
        }
        let a = &agg.inst[i];
        let f = 92 + rng.range(0, 20);
        let round = |x: i64, unit: i64| ((x + unit / 2) / unit) * unit;
        let cap_in = round(a.fund_in * f / 100, 1_000_000).max(1_000_000);
        let cap_out = if a.fund_out > 0 {
            round(a.fund_out * (90 + rng.range(0, 30)) / 100, 100_000).max(100_000)
        } else {
            0
        };
        let extra = if i % 4 == 0 {
            round(cap_in / 20, 100_000)
        } else {
            0
        };
        for (year, scale) in [(ctx.year - 1, 95), (ctx.year, 100)] {
            let (mut x, mut y, mut z) = (Vec::new(), Vec::new(), Vec::new());
            fmt::fen(&mut x, cap_in * scale / 100);
            fmt::fen(&mut y, cap_out * scale / 100);
            fmt::fen(&mut z, if year == ctx.year { extra } else { 0 });
            let s = |v: Vec<u8>| String::from_utf8(v).expect("ascii");
            push(
                out,
                Table::Budget,
                &[&inst.code, &year.to_string(), &s(x), &s(y), &s(z)],
            );
        }
    }
}

/// Peer statistics on average outpatient cost per visit, used for the outlier's manifest note.
pub fn peer_ratio(ctx: &Ctx, inst: &[InstAgg], target: u16) -> f64 {
    let t = &ctx.city.insts[target as usize];
    let mut vals: Vec<f64> = ctx
        .city
        .insts
        .iter()
        .enumerate()
        .filter(|(i, x)| {
            x.kind == t.kind && x.lv == t.lv && *i != target as usize && inst[*i].op_visits > 0
        })
        .map(|(i, _)| inst[i].op_cost as f64 / inst[i].op_visits as f64)
        .collect();
    vals.sort_by(f64::total_cmp);
    let med = if vals.is_empty() {
        0.0
    } else {
        vals[vals.len() / 2]
    };
    let own = inst[target as usize].op_cost as f64 / inst[target as usize].op_visits.max(1) as f64;
    if med > 0.0 {
        own / med
    } else {
        0.0
    }
}

fn outlier_entry(ctx: &Ctx, agg: &Aggregate, out: &mut BlockOut) {
    let o = ctx.city.outlier;
    let ratio = peer_ratio(ctx, &agg.inst, o);
    let a = &agg.inst[o as usize];
    let note = format!(
        "二级医院门诊次均费用 {} 元，约为同级医院中位数的 {:.1} 倍(每次门诊均加做头颅磁共振、胸部 CT、腹部 B 超)",
        fmt::fen_string(a.op_cost / a.op_visits.max(1) as i64),
        ratio
    );
    let m = model::Mark {
        category: "provider_outlier",
        level: "fixmedins",
        clean: false,
        amount: None,
        item: None,
        note,
    };
    let code = &ctx.city.insts[o as usize].code;
    let e = emit::entry(
        &m,
        emit::Keys {
            fixmedins_code: Some(code),
            ..Default::default()
        },
    );
    out.manifest.extend_from_slice(e.to_string().as_bytes());
    out.manifest.push(b'\n');
    *out.counts.entry(("provider_outlier", false)).or_insert(0) += 1;
}
