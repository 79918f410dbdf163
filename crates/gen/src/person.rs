//! One insured person's year: attributes and the clean visits (no rule of DOMAIN §4.1 fires on
//! them). Planted cases are added by [`crate::planted`] inside a window kept free here.

use crate::catalog::{code, Catalog, Item};
use crate::city::{City, CITY_AREAS};
use crate::fmt::Days;
use crate::model::*;
use crate::rng::Rng;
use chrono::NaiveDate;
use medfund_contract::time::age_on;

/// Shared read-only context of a run.
pub struct Ctx {
    pub seed: u64,
    pub persons: u64,
    pub year: i32,
    /// Days in the year.
    pub ndays: i32,
    pub days: Days,
    pub cat: Catalog,
    pub city: City,
    pub ix: Named,
    /// Home-hospital choices with repetition as weights.
    pub home_pool: Vec<u16>,
    pub scenarios: crate::planted::Scenarios,
}

/// Catalog indices used by name.
pub struct Named {
    pub opt_consult: u16,
    pub emer_consult: u16,
    pub ipt_consult: u16,
    pub bed: u16,
    pub bed_double: u16,
    pub nursing1: u16,
    pub nursing2: u16,
    pub infusion: u16,
    pub infusion_set: u16,
    pub hba1c: u16,
    pub ozagrel: u16,
    pub omega3: u16,
    pub outlier_extra: Vec<u16>,
    /// Codes the clean generator never bills (kept for planted cases): national course, cycle,
    /// insurance-type and pair items whose limits the catalog columns cannot express.
    pub planted_only: Vec<u16>,
}

impl Named {
    /// Resolves the named entries.
    pub fn new(c: &Catalog) -> Named {
        use code::*;
        Named {
            opt_consult: c.ix(OPT_CONSULT),
            emer_consult: c.ix(EMER_CONSULT),
            ipt_consult: c.ix(IPT_CONSULT),
            bed: c.ix(BED),
            bed_double: c.ix(BED_DOUBLE),
            nursing1: c.ix(NURSING1),
            nursing2: c.ix(NURSING2),
            infusion: c.ix(INFUSION),
            infusion_set: c.ix(INFUSION_SET),
            hba1c: c.ix(HBA1C),
            ozagrel: c.ix(OZAGREL),
            omega3: c.ix(OMEGA3),
            outlier_extra: vec![c.ix(MRI_HEAD), c.ix(CT_CHEST), c.ix(ULTRASOUND_ABD)],
            planted_only: [
                RABIES,
                HAND_EVAL,
                WEIGHT_SUPPORT,
                EMER_MONITOR,
                SEMEN,
                ALT,
                AST,
            ]
            .iter()
            .map(|x| c.ix(x))
            .collect(),
        }
    }
}

/// An insured person.
#[derive(Clone, Debug)]
pub struct Person {
    pub idx: u64,
    pub no: String,
    /// 1 male, 2 female.
    pub gend: u8,
    pub birth: NaiveDate,
    /// 310 employee, 390 resident.
    pub insutype: u16,
    pub area: &'static str,
    pub home: u16,
    pub pharmacy: Option<u16>,
    /// Chronic profile indices.
    pub chronic: Vec<usize>,
}

/// Per-person bookkeeping that keeps the clean data clean.
pub struct State {
    /// Days already taken by an event (one event per day keeps per-day limits and the
    /// two-area rule trivially satisfied).
    busy: Vec<bool>,
    /// (drug, day, institution) dispensed, for the 3-institutions-in-30-days rule.
    pub drug_log: Vec<(u16, i32, u16)>,
    /// Days with an HbA1c test (national cycle: at most 1 in 15 days; clean keeps 60).
    pub hba1c: Vec<i32>,
    /// Inpatient stays (admission day, discharge day).
    pub stays: Vec<(i32, i32)>,
    pub rx_no: u32,
    pub trace_no: u64,
}

impl State {
    pub fn new(ndays: i32) -> State {
        State {
            busy: vec![false; ndays as usize + 64],
            drug_log: vec![],
            hba1c: vec![],
            stays: vec![],
            rx_no: 0,
            trace_no: 0,
        }
    }
    /// Whether every day of `a..=b` is free and inside the year.
    pub fn free(&self, a: i32, b: i32, ndays: i32) -> bool {
        a >= 0 && b < ndays && (a..=b).all(|d| !self.busy[d as usize])
    }
    /// Marks `a..=b` taken (clamped to the buffer).
    pub fn take(&mut self, a: i32, b: i32) {
        for d in a.max(0)..=b.min(self.busy.len() as i32 - 1) {
            self.busy[d as usize] = true;
        }
    }
    /// Whether dispensing `item` at `inst` on `day` keeps the person below 3 institutions in
    /// any 30-day window (checked conservatively over ±30 days).
    pub fn shopping_ok(&self, item: u16, day: i32, inst: u16) -> bool {
        let mut seen: [u16; 2] = [inst, u16::MAX];
        let mut n = 1;
        for &(it, d, i) in &self.drug_log {
            if it == item && (d - day).abs() <= 30 && !seen[..n].contains(&i) {
                if n == 2 {
                    return false;
                }
                seen[1] = i;
                n = 2;
            }
        }
        true
    }
}

impl Ctx {
    /// Age in whole years on day `d`.
    pub fn age(&self, p: &Person, d: i32) -> i32 {
        age_on(p.birth, self.days.date_of(d))
    }
    /// The unit price (micro-yuan) `inst` charges for `item`: drugs at the cap in hospitals
    /// (zero mark-up policy) and 92% at pharmacies; services at the cap in tertiary hospitals,
    /// 90% in secondary and 80% below.
    pub fn price(&self, item: u16, inst: u16) -> i64 {
        let it = self.cat.get(item);
        let ins = &self.city.insts[inst as usize];
        let pct = if ins.kind == 2 {
            92
        } else if it.is_drug() {
            100
        } else {
            match ins.lv {
                1 => 100,
                2 => 90,
                _ => 80,
            }
        };
        (it.cap * pct / 100) * 10_000
    }
    /// Whether billing `item` to `p` at `inst` on day `d` respects every catalog limit.
    pub fn allowed(
        &self,
        item: &Item,
        p: &Person,
        d: i32,
        inst: u16,
        inpatient: bool,
        diags: &[&str],
    ) -> bool {
        let ins = &self.city.insts[inst as usize];
        if item.gend != 0 && item.gend != p.gend {
            return false;
        }
        if item.age_min.is_some() || item.age_max.is_some() {
            let a = self.age(p, d);
            if item.age_min.is_some_and(|m| a < m as i32)
                || item.age_max.is_some_and(|m| a > m as i32)
            {
                return false;
            }
        }
        if item.hosp_lv != 0 && (ins.kind != 1 || ins.lv > item.hosp_lv) {
            return false;
        }
        match item.med_type {
            "opt" if inpatient => return false,
            "ipt" if !inpatient => return false,
            _ => {}
        }
        if !item.dise.is_empty()
            && !item
                .dise
                .split(';')
                .any(|pre| diags.iter().any(|d| d.starts_with(pre)))
        {
            return false;
        }
        true
    }
    /// A doctor of `inst` for ordinary billing.
    pub fn doctor(&self, rng: &mut Rng, inst: u16) -> u32 {
        *rng.pick(&self.city.insts[inst as usize].doctors)
    }
    /// A nurse of `inst` (falls back to a doctor).
    pub fn nurse(&self, rng: &mut Rng, inst: u16) -> u32 {
        let i = &self.city.insts[inst as usize];
        if i.nurses.is_empty() {
            self.doctor(rng, inst)
        } else {
            *rng.pick(&i.nurses)
        }
    }
    /// The person's attributes (before any scenario adjusts them).
    pub fn person(&self, idx: u64, rng: &mut Rng) -> Person {
        let gend = if rng.chance(0.49) { 1 } else { 2 };
        // Age pyramid roughly like a Chinese city: fewer children, many middle-aged, many retirees.
        let age = match rng.below(100) {
            0..=14 => rng.range(0, 14),
            15..=24 => rng.range(15, 29),
            25..=59 => rng.range(30, 59),
            60..=89 => rng.range(60, 79),
            _ => rng.range(80, 95),
        } as i32;
        let birth = self.days.start
            - chrono::Duration::days((age as i64) * 365 + rng.range(0, 364) + age as i64 / 4);
        let employee = (18..=75).contains(&age) && rng.chance(if age < 60 { 0.62 } else { 0.45 });
        let area = *rng.pick(CITY_AREAS);
        let home = *rng.pick(&self.home_pool);
        let local = self.city.insts[home as usize].local;
        let pharmacy = if local && rng.chance(0.8) {
            Some(*rng.pick(&self.city.pharmacies))
        } else {
            None
        };
        let mut chronic = Vec::new();
        // Profile indices of chronic diseases, with prevalence rising with age.
        let chronic_set: [(usize, f64, i32); 6] = [
            (3, 0.10, 35),
            (4, 0.22, 35),
            (5, 0.07, 45),
            (15, 0.05, 50),
            (11, 0.20, 55),
            (12, 0.02, 60),
        ];
        for (pi, prev, min_age) in chronic_set {
            let pr = &self.cat.profiles[pi];
            if age >= min_age
                && (pr.gend == 0 || pr.gend == gend)
                && age <= pr.age_max
                && rng.chance(prev * if age >= 60 { 2.0 } else { 1.0 })
            {
                chronic.push(pi);
            }
        }
        Person {
            idx,
            no: format!("3201{:012}", idx + 1),
            gend,
            birth,
            insutype: if employee { 310 } else { 390 },
            area,
            home,
            pharmacy,
            chronic,
        }
    }
}

/// A time of day in `h0..h1` hours on day `d` (seconds since day 0).
pub fn at(rng: &mut Rng, d: i32, h0: i64, h1: i64) -> i64 {
    d as i64 * DAY + rng.range(h0 * 3600, h1 * 3600 - 1)
}

/// Builder helpers shared by clean and planted visits.
pub struct Build<'a> {
    pub ctx: &'a Ctx,
    pub p: &'a Person,
    pub st: &'a mut State,
    pub rng: &'a mut Rng,
}

impl Build<'_> {
    /// Pushes a line priced at `inst`'s normal price.
    pub fn line(&mut self, v: &mut Visit, t: i64, item: u16, units: i64, dr: u32) {
        let pric = self.ctx.price(item, v.inst);
        v.lines.push(Line {
            t,
            item,
            cnt: units * 10_000,
            pric,
            dr,
            rxno: None,
            trace: vec![],
            mark: 0,
        });
        if self.ctx.cat.get(item).is_drug() {
            self.st.drug_log.push((item, (t / DAY) as i32, v.inst));
        }
    }
    /// 1–3 boxes, never above the item's daily limit.
    pub fn units(&mut self, item: u16) -> i64 {
        let lim = self.ctx.cat.get(item).max_day;
        let hi = if lim == 0 { 3 } else { (lim as i64).min(3) };
        self.rng.range(1, hi)
    }
    /// A passing identity check shortly before `t`.
    pub fn idv_pass(&mut self, v: &mut Visit, t: i64) {
        let way = match self.rng.below(10) {
            0..=5 => 0,
            6..=8 => 2,
            _ => 1,
        };
        v.idv.push(Idv { t, way, pass: true });
    }
    /// Whether a clean visit may bill `item` (limits, planted-only codes, no repeats).
    fn ok(&self, v: &Visit, item: u16, d: i32) -> bool {
        let it = self.ctx.cat.get(item);
        if self.ctx.ix.planted_only.contains(&item) || v.has(item) || item == self.ctx.ix.hba1c {
            return false;
        }
        let mut diags: Vec<&str> = Vec::with_capacity(1 + v.further.len());
        diags.push(v.diag);
        diags.extend(v.further.iter().copied());
        if !self
            .ctx
            .allowed(it, self.p, d, v.inst, v.inpatient(), &diags)
        {
            return false;
        }
        !it.is_drug() || self.st.shopping_ok(item, d, v.inst)
    }

    /// A clean outpatient visit (11 general, 13 emergency, 14 chronic) for profile `pi` on day `d`.
    pub fn outpatient(&mut self, inst: u16, med_type: &'static str, pi: usize, d: i32) -> Visit {
        let ctx = self.ctx;
        let pr = &ctx.cat.profiles[pi];
        let t0 = at(self.rng, d, 8, 17);
        let dr = ctx.doctor(self.rng, inst);
        let mut v = Visit::new(inst, med_type, t0, pr.icd, dr);
        // Further diagnoses: the person's other chronic conditions (outpatient chronic visits).
        if med_type == "14" {
            for &c in &self.p.chronic {
                let icd = ctx.cat.profiles[c].icd;
                if icd != pr.icd && v.further.len() < 2 {
                    v.further.push(icd);
                }
            }
        }
        if self.rng.chance(0.02) {
            // A failed face match followed by a pass the same day: not card misuse.
            v.idv.push(Idv {
                t: t0 - 400,
                way: 0,
                pass: false,
            });
        }
        self.idv_pass(&mut v, t0 - 120);
        let consult = if med_type == "13" {
            ctx.ix.emer_consult
        } else {
            ctx.ix.opt_consult
        };
        self.line(&mut v, t0 + 300, consult, 1, dr);
        let ntests = self.rng.below(3) as usize;
        for k in 0..ntests {
            let item = *self.rng.pick(&pr.op_tests);
            if self.ok(&v, item, d) {
                self.line(&mut v, t0 + 900 + 60 * k as i64, item, 1, dr);
            }
        }
        if self.rng.chance(0.2) {
            let item = *self.rng.pick(&ctx.cat.filler_tests);
            if self.ok(&v, item, d) {
                self.line(&mut v, t0 + 1200, item, 1, dr);
            }
        }
        if pi == 3 && med_type == "14" && self.st.hba1c.iter().all(|&h| (h - d).abs() >= 60) {
            self.st.hba1c.push(d);
            self.line(&mut v, t0 + 1300, ctx.ix.hba1c, 1, dr);
        }
        let ndrugs = 1 + self.rng.below(if med_type == "14" { 3 } else { 2 }) as usize;
        for k in 0..ndrugs {
            let item = *self.rng.pick(&pr.op_drugs);
            if self.ok(&v, item, d) {
                let units = self.units(item);
                self.line(&mut v, t0 + 1800 + 30 * k as i64, item, units, dr);
            }
        }
        if self.rng.chance(0.15) {
            let item = *self.rng.pick(&ctx.cat.filler_drugs);
            if self.ok(&v, item, d) {
                self.line(&mut v, t0 + 1900, item, 1, dr);
            }
        }
        if inst == ctx.city.outlier {
            // The planted provider outlier: every outpatient visit gets an imaging work-up.
            for (k, &item) in ctx.ix.outlier_extra.iter().enumerate() {
                if !v.has(item) {
                    self.line(&mut v, t0 + 2400 + 60 * k as i64, item, 1, dr);
                }
            }
        }
        v
    }

    /// A clean inpatient stay for profile `pi`, admitted on day `a` for `los` days.
    pub fn stay(&mut self, inst: u16, pi: usize, a: i32, los: i32) -> Visit {
        let ctx = self.ctx;
        let pr = &ctx.cat.profiles[pi];
        let dis = a + los;
        let t0 = at(self.rng, a, 8, 16);
        let dr = ctx.doctor(self.rng, inst);
        let mut v = Visit::new(inst, pr.ip_med_type, t0, pr.icd, dr);
        v.emer = pr.ip_med_type == "24";
        v.end = Some(at(self.rng, dis, 9, 11));
        for &c in &self.p.chronic {
            let icd = ctx.cat.profiles[c].icd;
            if icd != pr.icd && v.further.len() < 3 {
                v.further.push(icd);
            }
        }
        let suffix = match v.further.len() {
            0 => '5',
            1 => '3',
            _ => '1',
        };
        v.drg = Some(format!("{}{}", pr.adrg, suffix));
        self.idv_pass(&mut v, t0 - 600);
        for (k, &item) in pr.ip_tests.iter().enumerate() {
            if self.ok(&v, item, a) {
                self.line(&mut v, t0 + 3600 + 120 * k as i64, item, 1, dr);
            }
        }
        let surgical = !pr.surgery.is_empty();
        if surgical {
            let ts = at(self.rng, a + 1, 8, 12);
            for &item in &pr.surgery {
                self.line(&mut v, ts, item, 1, dr);
            }
        }
        let bed = if self.rng.chance(0.3) {
            ctx.ix.bed_double
        } else {
            ctx.ix.bed
        };
        let nurse = ctx.nurse(self.rng, inst);
        let drugs: Vec<u16> = pr
            .ip_drugs
            .iter()
            .copied()
            .filter(|&i| {
                let it = ctx.cat.get(i);
                let diags: Vec<&str> = std::iter::once(v.diag)
                    .chain(v.further.iter().copied())
                    .collect();
                !ctx.ix.planted_only.contains(&i) && ctx.allowed(it, self.p, a, inst, true, &diags)
            })
            .collect();
        for d in a..dis {
            let day0 = d as i64 * DAY;
            if d > a {
                v.idv.push(Idv {
                    t: day0 + 8 * 3600 + self.rng.range(0, 1800),
                    way: 1,
                    pass: true,
                });
            }
            self.line(&mut v, day0 + 12 * 3600, bed, 1, nurse);
            self.line(&mut v, day0 + 9 * 3600, ctx.ix.ipt_consult, 1, dr);
            let nursing = if surgical && d <= a + 2 {
                ctx.ix.nursing1
            } else {
                ctx.ix.nursing2
            };
            self.line(&mut v, day0 + 10 * 3600, nursing, 1, nurse);
            let mut any = false;
            for (k, &item) in drugs.iter().enumerate() {
                // The national 14-day course of ozagrel: clean stays use it for at most 10 days;
                // parenteral nutrition only in the days after an operation.
                if (item == ctx.ix.ozagrel && d >= a + 10)
                    || (item == ctx.ix.omega3 && !(d >= a + 2 && d <= a + 5))
                {
                    continue;
                }
                self.line(&mut v, day0 + 10 * 3600 + 1800 + 60 * k as i64, item, 1, dr);
                any = true;
            }
            if any {
                self.line(&mut v, day0 + 10 * 3600 + 1700, ctx.ix.infusion, 1, nurse);
                self.line(
                    &mut v,
                    day0 + 10 * 3600 + 1710,
                    ctx.ix.infusion_set,
                    1,
                    nurse,
                );
            }
        }
        v
    }

    /// A pharmacy purchase on day `d` of drugs `(item, units, rx number)`.
    pub fn pharmacy(
        &mut self,
        ph: u16,
        d: i32,
        diag: &'static str,
        drugs: &[(u16, i64, Option<u32>)],
    ) -> Visit {
        let ctx = self.ctx;
        let t0 = at(self.rng, d, 9, 20);
        let pharmacist = *self.rng.pick(&ctx.city.insts[ph as usize].pharmacists);
        let mut v = Visit::new(ph, "41", t0, diag, pharmacist);
        self.idv_pass(&mut v, t0 - 60);
        for (k, &(item, units, rxno)) in drugs.iter().enumerate() {
            let mut l = Line {
                t: t0 + 60 * k as i64,
                item,
                cnt: units * 10_000,
                pric: ctx.price(item, ph),
                dr: pharmacist,
                rxno,
                trace: Vec::with_capacity(units as usize),
                mark: 0,
            };
            for _ in 0..units {
                l.trace.push(self.next_trace());
            }
            v.lines.push(l);
            self.st.drug_log.push((item, d, ph));
        }
        v
    }

    /// The next traceability code of this person (unique across the run: 8 + person + serial).
    pub fn next_trace(&mut self) -> u64 {
        self.st.trace_no += 1;
        // 19 digits after the leading 8: 11 for the person, 8 for the serial.
        (self.p.idx % 100_000_000_000) * 100_000_000 + self.st.trace_no
    }

    /// Issues an e-prescription line at visit `v` and returns its number.
    pub fn prescribe(&mut self, v: &mut Visit, item: u16, units: i64, t: i64) -> u32 {
        self.st.rx_no += 1;
        let no = self.st.rx_no;
        v.rx.push(RxLine {
            no,
            t,
            item,
            cnt: units * 10_000,
            pract: v.atddr,
            valid_days: 3,
        });
        no
    }
}

/// Generates the clean part of a person's year, avoiding the days in `blocked`.
pub fn clean_year(b: &mut Build, out: &mut Vec<Visit>) {
    let ctx = b.ctx;
    let n = ctx.ndays;
    let p = b.p;
    let age_mid = ctx.age(p, n / 2);
    let home = p.home;
    let home_lv = ctx.city.insts[home as usize].lv;
    let admitting = ctx.city.admitting();

    // Inpatient stays first: they need long free spans and ≥31 days between each other.
    let lambda_ip = match age_mid {
        0..=14 => 0.04,
        15..=44 => 0.05,
        45..=64 => 0.10,
        _ => 0.22,
    } + 0.04 * p.chronic.len() as f64;
    let nstays = b.rng.poisson(lambda_ip).min(3);
    for _ in 0..nstays {
        // Chronic exacerbation or an acute condition.
        // Acute admissions weighted like a city hospital's case mix: pneumonia and gastritis
        // common, cancer surgery rare (it also keeps the hospitals' monthly averages steady).
        let acute = [2usize, 2, 2, 2, 2, 2, 2, 7, 7, 7, 7, 6, 6, 8, 8, 9, 16, 10];
        let pi = if !p.chronic.is_empty() && b.rng.chance(0.5) {
            *b.rng.pick(&p.chronic)
        } else {
            *b.rng.pick(&acute)
        };
        let pr = &ctx.cat.profiles[pi];
        if pr.ip_med_type.is_empty()
            || age_mid < pr.age_min
            || age_mid > pr.age_max
            || (pr.gend != 0 && pr.gend != p.gend)
        {
            continue;
        }
        let los = b.rng.range(pr.los.0 as i64, pr.los.1 as i64) as i32;
        for _try in 0..6 {
            let a = b.rng.range(2, (n - los - 3) as i64) as i32;
            if !b.st.free(a - 1, a + los + 1, n)
                || b.st
                    .stays
                    .iter()
                    .any(|&(sa, sd)| a - sd < 31 && sa - (a + los) < 31)
            {
                continue;
            }
            let (inst, refl) = if home_lv == 1 || home_lv == 2 {
                if ctx.city.insts[home as usize].local && home_lv == 2 && b.rng.chance(0.04) {
                    (*b.rng.pick(&ctx.city.other_city), Some(home))
                } else {
                    (home, None)
                }
            } else {
                (*b.rng.pick(&ctx.city.secondary), None)
            };
            let mut v = b.stay(inst, pi, a, los);
            v.refl = refl;
            b.st.take(a - 1, a + los + 1);
            b.st.stays.push((a, a + los));
            out.push(v);
            break;
        }
    }
    let _ = admitting;

    // Chronic follow-up visits, roughly monthly, some with an external prescription filled at
    // the person's pharmacy one or two days later.
    for &pi in &p.chronic {
        let pr = &ctx.cat.profiles[pi];
        let med_type = if matches!(pi, 3 | 4 | 5 | 12) {
            "14"
        } else {
            "11"
        };
        for m in 0..12 {
            if !b.rng.chance(0.45) {
                continue;
            }
            let first = (ctx.days.date_of(0).with_month0(m).expect("month") - ctx.days.start)
                .num_days() as i32;
            let d = first + b.rng.range(2, 25) as i32;
            if !b.st.free(d, d, n) {
                continue;
            }
            let external = p.pharmacy.is_some() && b.rng.chance(0.45);
            let gap = b.rng.range(1, 2) as i32;
            if external && !b.st.free(d + gap, d + gap, n) {
                continue;
            }
            let mut v = b.outpatient(home, med_type, pi, d);
            b.st.take(d, d);
            if external {
                let ph = p.pharmacy.expect("pharmacy");
                let mut drugs = Vec::new();
                for k in 0..2 {
                    let item = *b.rng.pick(&pr.op_drugs);
                    let it = ctx.cat.get(item);
                    let diags = [pr.icd];
                    if !it.rx_only
                        || it.hosp_lv != 0
                        || !it.med_type.is_empty()
                        || drugs.iter().any(|&(i, _, _)| i == item)
                        || v.has(item)
                        || !ctx.allowed(it, p, d + gap, ph, false, &diags)
                        || !b.st.shopping_ok(item, d + gap, ph)
                    {
                        continue;
                    }
                    let units = b.units(item);
                    let rx_units = units + if b.rng.chance(0.2) { 1 } else { 0 };
                    let t_issue = v.begn + 1500 + 10 * k;
                    let no = b.prescribe(&mut v, item, rx_units, t_issue);
                    drugs.push((item, units, Some(no)));
                }
                if !drugs.is_empty() {
                    let pv = b.pharmacy(ph, d + gap, pr.icd, &drugs);
                    b.st.take(d + gap, d + gap);
                    out.push(pv);
                }
            }
            out.push(v);
        }
    }

    // Acute outpatient visits.
    let lambda_op = match age_mid {
        0..=6 => 3.5,
        7..=14 => 2.2,
        15..=44 => 2.0,
        45..=64 => 2.6,
        _ => 3.4,
    };
    let acute_op = [0usize, 1, 2, 7, 13, 14, 17];
    for _ in 0..b.rng.poisson(lambda_op) {
        let d = b.rng.range(0, (n - 1) as i64) as i32;
        if !b.st.free(d, d, n) {
            continue;
        }
        let age = ctx.age(p, d);
        let pi = *b.rng.pick(&acute_op);
        let pr = &ctx.cat.profiles[pi];
        if age < pr.age_min || age > pr.age_max || (pr.gend != 0 && pr.gend != p.gend) {
            continue;
        }
        let inst = if !ctx.city.insts[home as usize].local || b.rng.chance(0.75) {
            home
        } else {
            let pool = if b.rng.chance(0.5) {
                &ctx.city.primary
            } else {
                &ctx.city.secondary
            };
            *b.rng.pick(pool)
        };
        out.push(b.outpatient(inst, "11", pi, d));
        b.st.take(d, d);
    }

    // Emergency visits.
    for _ in 0..b.rng.poisson(0.12) {
        let d = b.rng.range(0, (n - 1) as i64) as i32;
        if !b.st.free(d, d, n) {
            continue;
        }
        let age = ctx.age(p, d);
        let pi = *b.rng.pick(&[0usize, 1, 2, 7, 17]);
        let pr = &ctx.cat.profiles[pi];
        if age < pr.age_min || age > pr.age_max {
            continue;
        }
        let inst = if home_lv == 1 || home_lv == 2 {
            home
        } else {
            *b.rng.pick(&ctx.city.secondary)
        };
        let mut v = b.outpatient(inst, "13", pi, d);
        v.emer = true;
        out.push(v);
        b.st.take(d, d);
    }

    // Over-the-counter purchases at the person's pharmacy.
    if let Some(ph) = p.pharmacy {
        for _ in 0..b.rng.poisson(1.6) {
            let d = b.rng.range(0, (n - 1) as i64) as i32;
            if !b.st.free(d, d, n) {
                continue;
            }
            let mut drugs = Vec::new();
            for _ in 0..1 + b.rng.below(2) {
                let item = *b.rng.pick(&ctx.cat.otc);
                if drugs.iter().any(|&(i, _, _)| i == item) || !b.st.shopping_ok(item, d, ph) {
                    continue;
                }
                drugs.push((item, b.rng.range(1, 2), None));
            }
            if !drugs.is_empty() {
                out.push(b.pharmacy(ph, d, "Z76.000", &drugs));
                b.st.take(d, d);
            }
        }
    }
}

use chrono::Datelike;
