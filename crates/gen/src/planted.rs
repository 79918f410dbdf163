//! Planted violations and boundary cases (DOMAIN.md §4): who, when, and how each is built.
//!
//! Each case lives in one person's "window" of days that the clean generator leaves empty, so
//! nothing else of that person interferes with it. The manifest records every case with the keys
//! a finding must carry.

use crate::catalog::code;
use crate::city::City;
use crate::model::*;
use crate::person::{at, Build, Person};
use crate::rng::Rng;
use chrono::{Datelike, NaiveDate};
use std::collections::HashMap;

/// Categories planted on persons (the two institution-level ones are planted at the end).
pub const PERSON_CATEGORIES: &[&str] = &[
    "gender_limit",
    "age_limit",
    "hosp_level_limit",
    "med_type_limit",
    "indication_limit",
    "over_price",
    "over_frequency",
    "duplicate_charge",
    "exclusive_items",
    "split_charge",
    "bed_days_excess",
    "split_admission",
    "phantom_bed",
    "concurrent_visit",
    "doctor_shopping",
    "card_misuse",
    "trace_code_reuse",
    "rx_missing",
    "suspended_pract",
    "upcoding",
    "insurance_type_limit",
    "course_limit",
    "cycle_frequency",
    "secondary_surgery_discount",
];

/// Boundary cases that must NOT produce a finding: (category, variant).
pub const CLEAN_CASES: &[(&str, u32)] = &[
    ("age_limit", 0),
    ("age_limit", 1),
    ("hosp_level_limit", 0),
    ("indication_limit", 0),
    ("over_price", 0),
    ("over_frequency", 0),
    ("duplicate_charge", 0),
    ("split_admission", 0),
    ("phantom_bed", 0),
    ("concurrent_visit", 0),
    ("doctor_shopping", 0),
    ("card_misuse", 0),
    ("card_misuse", 1),
    ("rx_missing", 0),
    ("suspended_pract", 0),
    ("suspended_pract", 1),
    ("course_limit", 0),
    ("cycle_frequency", 0),
    ("secondary_surgery_discount", 0),
];

/// Days a case may span after its start; the clean generator keeps `MARGIN` more on each side.
pub const WINDOW: i32 = 40;
/// Free days around a window.
pub const MARGIN: i32 = 36;

/// One planted case.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub category: &'static str,
    pub variant: u32,
    pub clean: bool,
    pub person: u64,
    /// First day of the window.
    pub w0: i32,
    /// Main institution.
    pub inst: u16,
    /// A second, different institution.
    pub inst2: u16,
    /// A third, different institution.
    pub inst3: u16,
    /// The reserved doctor (suspension cases).
    pub pract: Option<u32>,
    /// Suspension rows for `pract`: (type, begin day, end day).
    pub susp: Option<(&'static str, i32, Option<i32>)>,
}

/// All planted person cases of a run.
pub struct Scenarios {
    pub list: Vec<Scenario>,
    by_person: HashMap<u64, usize>,
    /// Violations per category.
    pub per_category: usize,
}

/// Violations per category for `persons` (a handful, growing mildly with the city).
pub fn per_category(persons: u64) -> usize {
    ((persons / 5_000) as usize).max(3)
}

/// Clean copies of each boundary case.
pub fn clean_copies(persons: u64) -> usize {
    1 + per_category(persons) / 8
}

/// Total planted person cases (for sizing).
pub fn count(persons: u64) -> usize {
    per_category(persons) * PERSON_CATEGORIES.len() + clean_copies(persons) * CLEAN_CASES.len()
}

impl Scenarios {
    /// Plans the cases: persons spread evenly over the population, windows spread over the year.
    pub fn plan(seed: u64, persons: u64, ndays: i32, start: NaiveDate, city: &City) -> Scenarios {
        let k = per_category(persons);
        let mut raw: Vec<(&'static str, u32, bool)> = Vec::new();
        for &c in PERSON_CATEGORIES {
            for v in 0..k as u32 {
                raw.push((c, v, false));
            }
        }
        for copy in 0..clean_copies(persons) as u32 {
            for &(c, v) in CLEAN_CASES {
                let _ = copy;
                raw.push((c, v, true));
            }
        }
        let s = raw.len() as u64;
        let mut rng = Rng::new(seed, 0x5CE7);
        let regular = city.admitting_regular();
        let mut reserved: Vec<u32> = Vec::new();
        for &h in &regular {
            reserved.extend(city.insts[h as usize].reserved.iter().copied());
        }
        let mut next_reserved = 0usize;
        let mut list = Vec::with_capacity(raw.len());
        for (j, (category, variant, clean)) in raw.into_iter().enumerate() {
            let person = ((2 * j as u64 + 1) * persons) / (2 * s);
            let mut w0 =
                rng.range((MARGIN + 2) as i64, (ndays - WINDOW - MARGIN - 2) as i64) as i32;
            let d = start + chrono::Duration::days(w0 as i64);
            if d.month() == 2 && d.day() == 29 {
                w0 += 1;
            }
            let n = regular.len();
            let a = rng.below(n as u64) as usize;
            let mut sc = Scenario {
                category,
                variant,
                clean,
                person,
                w0,
                inst: regular[a],
                inst2: regular[(a + 1) % n],
                inst3: regular[(a + 2) % n],
                pract: None,
                susp: None,
            };
            match category {
                "hosp_level_limit" if !clean => {
                    sc.inst = if variant % 3 == 2 {
                        *rng.pick(&city.unrated)
                    } else {
                        *rng.pick(&city.primary)
                    };
                }
                "hosp_level_limit" => {
                    sc.inst = *rng.pick(&city.secondary[..city.secondary.len() - 1])
                }
                "secondary_surgery_discount" => sc.inst = *rng.pick(&city.tertiary),
                "card_misuse" => sc.inst2 = *rng.pick(&city.other_city),
                "suspended_pract" => {
                    let r = reserved[next_reserved % reserved.len()];
                    next_reserved += 1;
                    sc.pract = Some(r);
                    sc.inst = city.practs[r as usize].inst;
                    sc.susp = Some(match (clean, variant) {
                        (false, v) if v % 2 == 1 => ("terminate", w0 - 10, None),
                        (true, 1) => ("suspend", w0 - 40, Some(w0 - 1)),
                        _ => ("suspend", w0 - 10, Some(w0 + 20)),
                    });
                }
                _ => {}
            }
            list.push(sc);
        }
        let by_person = list
            .iter()
            .enumerate()
            .map(|(i, s)| (s.person, i))
            .collect();
        Scenarios {
            list,
            by_person,
            per_category: k,
        }
    }
    /// The case planted on person `idx`, if any.
    pub fn for_person(&self, idx: u64) -> Option<&Scenario> {
        self.by_person.get(&idx).map(|&i| &self.list[i])
    }
}

fn ymd_minus_years(d: NaiveDate, years: i32) -> NaiveDate {
    d.with_year(d.year() - years)
        .expect("not 29 February (windows avoid it)")
}

/// Adjusts the person's attributes for the case (before the clean year is generated).
pub fn adjust(s: &Scenario, p: &mut Person, ctx: &crate::person::Ctx) {
    let wd = ctx.days.date_of(s.w0);
    if !ctx.city.insts[p.home as usize].local {
        p.home = s.inst2;
    }
    if p.pharmacy.is_none() {
        p.pharmacy =
            Some(ctx.city.pharmacies[(s.person % ctx.city.pharmacies.len() as u64) as usize]);
    }
    let set_birth = |p: &mut Person, b: NaiveDate| {
        p.birth = b;
        p.chronic.clear();
        let age = medfund_contract::time::age_on(b, ctx.days.date_of(ctx.ndays / 2));
        if age < 18 {
            p.insutype = 390;
        }
    };
    match (s.category, s.clean, s.variant % 2) {
        ("gender_limit", _, 0) => p.gend = 1,
        ("gender_limit", _, _) => p.gend = 2,
        ("age_limit", false, 0) => set_birth(p, ymd_minus_years(wd, 15)),
        ("age_limit", false, _) => {
            set_birth(p, ymd_minus_years(wd, 18) + chrono::Duration::days(1))
        }
        ("age_limit", true, 0) => set_birth(p, ymd_minus_years(wd, 15) + chrono::Duration::days(1)),
        ("age_limit", true, _) => set_birth(p, ymd_minus_years(wd, 18)),
        ("course_limit", _, _) | ("secondary_surgery_discount", _, _) | ("upcoding", _, _) => {
            set_birth(p, ymd_minus_years(wd, 62) - chrono::Duration::days(40))
        }
        _ => {}
    }
}

fn mark(
    category: &'static str,
    level: &'static str,
    clean: bool,
    amount: Option<i64>,
    note: String,
) -> Mark {
    Mark {
        category,
        level,
        clean,
        amount,
        item: None,
        note,
    }
}

impl Build<'_> {
    /// A plain visit: identity check and a consultation line.
    fn plain(&mut self, inst: u16, med_type: &'static str, t0: i64, diag: &'static str) -> Visit {
        let dr = self.ctx.doctor(self.rng, inst);
        let mut v = Visit::new(inst, med_type, t0, diag, dr);
        self.idv_pass(&mut v, t0 - 120);
        let consult = if med_type == "13" {
            self.ctx.ix.emer_consult
        } else {
            self.ctx.ix.opt_consult
        };
        self.line(&mut v, t0 + 300, consult, 1, dr);
        v
    }
    fn add(&mut self, v: &mut Visit, t: i64, c: &str, units: i64) {
        let item = self.ctx.cat.ix(c);
        let dr = v.atddr;
        self.line(v, t, item, units, dr);
    }
    fn name(&self, c: &str) -> &str {
        &self.ctx.cat.get(self.ctx.cat.ix(c)).name
    }
}

/// Builds the visits of case `s` into `out`.
pub fn build(s: &Scenario, b: &mut Build, out: &mut Vec<Visit>) {
    use code::*;
    let w0 = s.w0;
    let c = s.category;
    let cl = s.clean;
    let v2 = s.variant % 2;
    let (h, h2, h3) = (s.inst, s.inst2, s.inst3);
    match c {
        "gender_limit" => {
            let t0 = at(b.rng, w0, 8, 12);
            let (diag, item) = if v2 == 0 {
                ("K29.700", TVUS)
            } else {
                ("I10.x00", EPRISTERIDE)
            };
            let mut v = b.plain(h, "11", t0, diag);
            b.add(&mut v, t0 + 900, item, 1);
            let who = if v2 == 0 { "男性" } else { "女性" };
            let note = format!(
                "{who}患者收取限{}性别项目「{}」",
                if v2 == 0 { "女" } else { "男" },
                b.name(item)
            );
            v.mark_last_line(mark(c, "fee", false, None, note));
            out.push(v);
        }
        "age_limit" => {
            let t0 = at(b.rng, w0, 8, 12);
            let item = if v2 == 0 { CHILD_LUNG } else { LEVOFLOXACIN };
            let mut v = b.plain(h, "11", t0, "J06.900");
            b.add(&mut v, t0 + 900, item, 1);
            let note = match (cl, v2) {
                (false, 0) => "15 周岁生日当天使用限儿童(0–14 岁)药品，年龄按生日已到计 15 岁",
                (false, _) => "18 周岁生日前一天(17 岁)使用限 18 岁及以上药品",
                (true, 0) => "边界：15 周岁生日前一天(14 岁)使用限儿童药品，应不报",
                (true, _) => "边界：18 周岁生日当天使用限 18 岁及以上药品，应不报",
            };
            v.mark_last_line(mark(c, "fee", cl, None, note.to_string()));
            out.push(v);
        }
        "hosp_level_limit" => {
            let t0 = at(b.rng, w0, 8, 12);
            let mut v = b.plain(h, "11", t0, "I25.100");
            b.add(&mut v, t0 + 900, SHENMAI, 1);
            let lv = b.ctx.city.insts[h as usize].lv;
            let note = if cl {
                "边界：二级医院使用限二级及以上药品(等于限定级别)，应不报".to_string()
            } else {
                format!("hosp_lv {lv} 的机构使用限二级及以上医疗机构药品「参麦注射液」")
            };
            v.mark_last_line(mark(c, "fee", cl, None, note));
            out.push(v);
        }
        "med_type_limit" => {
            if v2 == 0 {
                let t0 = at(b.rng, w0, 8, 12);
                let mut v = b.plain(h, "11", t0, "K80.200");
                b.add(&mut v, t0 + 900, OMEGA3, 1);
                v.mark_last_line(mark(
                    c,
                    "fee",
                    false,
                    None,
                    "门诊收取限住院药品「ω-3鱼油脂肪乳注射液」".into(),
                ));
                out.push(v);
            } else {
                let mut v = b.stay(h, 7, w0, 4);
                let t = (w0 + 1) as i64 * DAY + 15 * 3600;
                b.add(&mut v, t, OPT_CONSULT, 1);
                v.mark_last_line(mark(
                    c,
                    "fee",
                    false,
                    None,
                    "住院期间收取限门诊项目「普通门诊诊查费」".into(),
                ));
                out.push(v);
            }
        }
        "indication_limit" => {
            let t0 = at(b.rng, w0, 8, 12);
            let mut v = b.plain(h, "11", t0, "J06.900");
            if cl {
                v.further.push("I25.100");
            }
            b.add(&mut v, t0 + 900, CLOPIDOGREL, 1);
            let note = if cl {
                "边界：主诊断 J06.900 不符，但副诊断 I25.100 前缀匹配 I25，应不报"
            } else {
                "主诊断 J06.900、无副诊断，不符合「氯吡格雷」限定适应症 I20;I21;I25;I63"
            };
            v.mark_last_line(mark(c, "fee", cl, None, note.into()));
            out.push(v);
        }
        "over_price" => {
            let t0 = at(b.rng, w0, 8, 12);
            let (diag, item_code, units, over) = if cl {
                ("K29.700", ULTRASOUND_ABD, 1, 0)
            } else if v2 == 0 {
                (
                    "K29.700",
                    ULTRASOUND_ABD,
                    1,
                    800 + 100 * (s.variant as i64 % 5),
                )
            } else {
                ("E11.900", METFORMIN, 2, 150)
            };
            let mut v = b.plain(h, "11", t0, diag);
            let item = b.ctx.cat.ix(item_code);
            let cap = b.ctx.cat.get(item).cap;
            let dr = v.atddr;
            b.line(&mut v, t0 + 900, item, units, dr);
            v.lines.last_mut().unwrap().pric = (cap + over) * 10_000;
            let amount = over * units;
            let note = if cl {
                format!("边界：单价等于限价 {}，应不报", crate::fmt::fen_string(cap))
            } else {
                format!(
                    "单价 {} 超过限价 {}，数量 {units}",
                    crate::fmt::fen_string(cap + over),
                    crate::fmt::fen_string(cap)
                )
            };
            v.mark_last_line(mark(c, "fee", cl, (!cl).then_some(amount), note));
            out.push(v);
        }
        "over_frequency" => {
            if cl {
                // 1 box at a hospital and 2 at a pharmacy the same day: exactly the daily limit 3.
                let t0 = at(b.rng, w0, 8, 10);
                let mut v = b.plain(h, "11", t0, "J06.900");
                b.add(&mut v, t0 + 900, PARACETAMOL, 1);
                out.push(v);
                let ph = b.p.pharmacy.expect("planted persons have a pharmacy");
                let item = b.ctx.cat.ix(PARACETAMOL);
                let mut pv = b.pharmacy(ph, w0, "J06.900", &[(item, 2, None)]);
                pv.begn = pv.begn.max(t0 + 5 * 3600);
                pv.lines[0].t = pv.begn;
                pv.idv[0].t = pv.begn - 60;
                pv.mark_last_line(mark(
                    c,
                    "fee",
                    true,
                    None,
                    "边界：同日两处合计 3 盒，等于每日限量 3，应不报".into(),
                ));
                out.push(pv);
            } else if v2 == 0 {
                let mut v = b.stay(h, 7, w0, 5);
                let day2 = (w0 + 2) as i64 * DAY;
                let ipt = b.ctx.ix.ipt_consult;
                let l = v
                    .lines
                    .iter_mut()
                    .find(|l| l.item == ipt && l.t / DAY == day2 / DAY)
                    .expect("consult line");
                l.cnt = 20_000;
                let amount = l.pric / 10_000;
                l.mark = 0;
                let k = v
                    .lines
                    .iter()
                    .position(|l| l.item == ipt && l.t / DAY == day2 / DAY)
                    .unwrap();
                v.marks.push(mark(
                    c,
                    "fee",
                    false,
                    Some(amount),
                    "住院诊查费同日收取 2 次，每日限 1 次".into(),
                ));
                v.lines[k].mark = v.marks.len() as u8;
                out.push(v);
            } else {
                let t0 = at(b.rng, w0, 8, 9);
                let v1 = b.plain(h, "11", t0, "J06.900");
                out.push(v1);
                let mut v = b.plain(h2, "11", t0 + 5 * 3600, "J06.900");
                let amount = v.lines[0].amount();
                v.marks.push(mark(
                    c,
                    "fee",
                    false,
                    Some(amount),
                    "同一天在两家医院各收普通门诊诊查费，合计 2 次，每日限 1 次".into(),
                ));
                v.lines[0].mark = 1;
                out.push(v);
            }
        }
        "duplicate_charge" => {
            let t0 = at(b.rng, w0, 8, 12);
            let mut v = b.plain(h, "11", t0, "K29.700");
            b.add(&mut v, t0 + 900, GLUCOSE, 1);
            let t2 = if cl { t0 + 7200 } else { t0 + 900 };
            b.add(&mut v, t2, GLUCOSE, 1);
            let amount = v.lines.last().unwrap().amount();
            let note = if cl {
                "边界：同一项目同价但收费时间不同(相隔 2 小时)，应不报"
            } else {
                "同一就诊同一项目、同一时间、同一单价收取两次"
            };
            v.mark_last_line(mark(c, "fee", cl, (!cl).then_some(amount), note.into()));
            out.push(v);
        }
        "exclusive_items" => {
            // 急诊监护费 first, 急诊诊查费 later: the later line of the pair (§4.1) is also the
            // 从项 line the national b7 pair flags, so both readings point at the same line.
            let t0 = at(b.rng, w0, 8, 20);
            let dr = b.ctx.doctor(b.rng, h);
            let mut v = Visit::new(h, "13", t0, "J18.900", dr);
            b.idv_pass(&mut v, t0 - 120);
            b.add(&mut v, t0 + 300, EMER_MONITOR, 1);
            b.add(&mut v, t0 + 1200, EMER_CONSULT, 1);
            v.mark_last_line(mark(
                c,
                "fee",
                false,
                None,
                "急诊监护费已含急诊诊查费，同一就诊又收急诊诊查费(互斥项目的后收一项)".into(),
            ));
            out.push(v);
        }
        "split_charge" => {
            let t0 = at(b.rng, w0, 8, 12);
            let mut v = b.plain(h, "11", t0, "K29.700");
            b.add(&mut v, t0 + 900, LIVER_PKG, 1);
            b.add(&mut v, t0 + 900, ALT, 1);
            let amount = v.lines.last().unwrap().amount();
            v.mark_last_line(mark(
                c,
                "fee",
                false,
                Some(amount),
                "肝功能组套已含丙氨酸氨基转移酶测定，又单独收取".into(),
            ));
            out.push(v);
        }
        "bed_days_excess" => {
            let los = 5 + (s.variant % 3) as i32;
            let mut v = b.stay(h, 2, w0, los);
            let beds = [b.ctx.ix.bed, b.ctx.ix.bed_double];
            let bed_line = v
                .lines
                .iter()
                .find(|l| beds.contains(&l.item))
                .unwrap()
                .clone();
            let excess = 1 + (s.variant % 2) as i64;
            for e in 0..excess {
                let mut l = bed_line.clone();
                l.t = (w0 + los + e as i32) as i64 * DAY + 12 * 3600;
                v.lines.push(l);
            }
            let price = bed_line.pric;
            let amount = excess * price / 10_000;
            v.mark_visit(mark(
                c,
                "mdtrt",
                false,
                Some(amount),
                format!("住院 {los} 天，床位费计 {} 天", los as i64 + excess),
            ));
            out.push(v);
        }
        "split_admission" => {
            let v1 = b.stay(h, 2, w0, 6);
            out.push(v1);
            let gap = if cl { 16 } else { 3 + (s.variant % 10) as i32 };
            let mut v = b.stay(h, 2, w0 + 6 + gap, 5);
            let note = if cl {
                "边界：出院后第 16 天同院同类目(J18)再入院，超过 15 天，应不报".to_string()
            } else {
                format!("出院后 {gap} 天同院再次入院，主诊断同为 J18 类目")
            };
            v.mark_visit(mark(c, "mdtrt", cl, None, note));
            out.push(v);
        }
        "phantom_bed" => {
            let los = if cl { 4 } else { 10 };
            let mut v = b.stay(h, 2, w0, los);
            let absent = if cl {
                (w0 + 1)..=(w0 + 2)
            } else {
                (w0 + 1)..=(w0 + los - 2)
            };
            let beds = [b.ctx.ix.bed, b.ctx.ix.bed_double];
            v.lines
                .retain(|l| beds.contains(&l.item) || !absent.contains(&((l.t / DAY) as i32)));
            v.idv.retain(|i| !absent.contains(&((i.t / DAY) as i32)));
            let n_abs = absent.end() - absent.start() + 1;
            let note = if cl {
                format!("边界：住院 {los} 天，仅 {n_abs} 天无核验无费用(少于 3 天)，应不报")
            } else {
                format!("住院 {los} 天，其中 {n_abs} 天只有床位费，无身份核验、无其他费用")
            };
            v.mark_visit(mark(c, "mdtrt", cl, None, note));
            out.push(v);
        }
        "concurrent_visit" => {
            let st = b.stay(h, 2, w0, 8);
            out.push(st);
            let t0 = at(b.rng, w0 + 3, 9, 15);
            let mut v = if cl {
                b.plain(h2, "13", t0, "K29.700")
            } else {
                b.plain(h2, "11", t0, "K29.700")
            };
            let note = if cl {
                "边界：住院期间在他院急诊就诊，急诊除外，应不报"
            } else {
                "住院期间(第 4 天)在他院普通门诊就诊"
            };
            v.mark_visit(mark(c, "mdtrt", cl, None, note.into()));
            out.push(v);
        }
        "doctor_shopping" => {
            let offsets = if cl { [0, 15, 31] } else { [0, 8, 16] };
            let insts = [h, h2, h3];
            let item = b.ctx.cat.ix(ESTAZOLAM);
            for (k, (&off, &inst)) in offsets.iter().zip(&insts).enumerate() {
                let t0 = at(b.rng, w0 + off, 8, 16);
                let mut v = b.plain(inst, "11", t0, "G47.000");
                b.add(&mut v, t0 + 900, ESTAZOLAM, 1);
                if k == 2 {
                    let note = if cl {
                        "边界：三家机构开同一药品，但首末相隔 31 天，任何 30 天窗口内不足 3 家，应不报"
                    } else {
                        "16 天内在 3 家不同机构开具同一药品「艾司唑仑片」"
                    };
                    let mut m = mark(c, "psn", cl, None, note.into());
                    m.item = Some(item);
                    v.mark_visit(m);
                }
                out.push(v);
            }
        }
        "card_misuse" => {
            let t0 = at(b.rng, w0, 8, 10);
            if v2 == 0 || (cl && s.variant == 0) {
                let dr = b.ctx.doctor(b.rng, h);
                let mut v = Visit::new(h, "11", t0, "J06.900", dr);
                v.idv.push(Idv {
                    t: t0 - 300,
                    way: 0,
                    pass: false,
                });
                if cl {
                    v.idv.push(Idv {
                        t: t0 - 120,
                        way: 2,
                        pass: true,
                    });
                }
                let consult = b.ctx.ix.opt_consult;
                b.line(&mut v, t0 + 300, consult, 1, dr);
                let note = if cl {
                    "边界：人脸核验失败后当日同机构再次核验通过，应不报"
                } else {
                    "就诊当日本机构人脸核验失败且未再通过"
                };
                v.mark_visit(mark(c, "mdtrt", cl, None, note.into()));
                out.push(v);
            } else {
                let v1 = b.plain(h, "11", t0, "J06.900");
                out.push(v1);
                let gap = if cl { 3 * 3600 + 5 * 60 } else { 90 * 60 };
                let mut v = b.plain(h2, "13", t0 + gap, "J06.900");
                let note = if cl {
                    "边界：两地(区划前四位不同)就诊相隔 3 小时 5 分，不少于 3 小时，应不报"
                        .to_string()
                } else {
                    "同一人 90 分钟内先后在南京、无锡两地就诊".to_string()
                };
                v.mark_visit(mark(c, "mdtrt", cl, None, note));
                out.push(v);
            }
        }
        "trace_code_reuse" => {
            let ph = b.p.pharmacy.expect("pharmacy");
            let item = b.ctx.cat.otc[(s.variant as usize) % b.ctx.cat.otc.len()];
            let v1 = b.pharmacy(ph, w0, "Z76.000", &[(item, 1, None)]);
            let reused = v1.lines[0].trace[0];
            out.push(v1);
            let mut v = b.pharmacy(ph, w0 + 10, "Z76.000", &[(item, 1, None)]);
            v.lines[0].trace[0] = reused;
            v.mark_last_line(mark(
                c,
                "fee",
                false,
                None,
                "10 天前已结算过的同一追溯码再次结算(回流药)".into(),
            ));
            out.push(v);
        }
        "rx_missing" => {
            let t0 = at(b.rng, w0, 9, 10);
            let mut v = b.plain(h, "11", t0 - 1800, "I10.x00");
            let item = b.ctx.cat.ix(AMLODIPINE);
            let variant = if cl { 9 } else { s.variant % 3 };
            let rx_units = 2;
            let rxno = if variant == 0 {
                None
            } else {
                Some(b.prescribe(&mut v, item, rx_units, t0))
            };
            out.push(v);
            let ph = b.p.pharmacy.expect("pharmacy");
            let (day, units) = match variant {
                0 => (w0 + 1, 2),
                1 => (w0 + 1, 3),
                2 => (w0 + 5, 2),
                _ => (w0 + 3, 2),
            };
            let mut pv = b.pharmacy(ph, day, "I10.x00", &[(item, units, rxno)]);
            if variant == 9 {
                // 3 days minus one hour after issue: still valid.
                pv.begn = t0 + 3 * DAY - 3600;
                pv.lines[0].t = pv.begn;
                pv.idv[0].t = pv.begn - 60;
            }
            let pric = pv.lines[0].pric;
            let unpres = match variant {
                1 => units - rx_units,
                _ => units,
            };
            let amount = unpres * pric / 10_000;
            let note = match variant {
                0 => "处方药无电子处方(hi_rxno 为空)",
                1 => "处方开 2 盒，药店售出 3 盒(超处方 1 盒)",
                2 => "处方有效期 3 天，第 5 天购药(处方已过期)",
                _ => "边界：开方后 71 小时购药，仍在 3 天有效期内，应不报",
            };
            pv.mark_last_line(mark(c, "fee", cl, (!cl).then_some(amount), note.into()));
            out.push(pv);
        }
        "suspended_pract" => {
            let r = s.pract.expect("reserved doctor");
            let t0 = at(b.rng, w0, 8, 12);
            let code = b.ctx.city.practs[r as usize].code.clone();
            if !cl {
                let mut v = b.plain(h, "11", t0, "K29.700");
                let item = b.ctx.cat.ix(ULTRASOUND_ABD);
                b.line(&mut v, t0 + 900, item, 1, r);
                let kind = if s.variant % 2 == 1 {
                    "终止"
                } else {
                    "暂停"
                };
                v.mark_last_line(mark(
                    c,
                    "fee",
                    false,
                    None,
                    format!("医保支付资格{kind}期间的人员 {code} 开具非急诊项目"),
                ));
                out.push(v);
            } else {
                let med_type = if s.variant == 0 { "13" } else { "11" };
                let mut v = Visit::new(h, med_type, t0, "J18.900", r);
                b.idv_pass(&mut v, t0 - 120);
                let consult = if med_type == "13" {
                    b.ctx.ix.emer_consult
                } else {
                    b.ctx.ix.opt_consult
                };
                b.line(&mut v, t0 + 300, consult, 1, r);
                let note = if s.variant == 0 {
                    format!("边界：暂停期间的人员 {code} 接诊急诊(急诊、抢救除外)，应不报")
                } else {
                    format!("边界：人员 {code} 暂停期于前一日结束，应不报")
                };
                v.mark_last_line(mark(c, "fee", true, None, note));
                out.push(v);
            }
        }
        "upcoding" => {
            let mut v = b.stay(h, 2, w0, 3);
            v.further.clear();
            v.drg = Some("ES21".into());
            let total = crate::fmt::fen_string(v.total());
            v.mark_visit(mark(
                c,
                "mdtrt",
                false,
                None,
                format!("单纯肺炎、无副诊断、住院 3 天、总费用 {total}，却入组 ES21(伴严重并发症或合并症)"),
            ));
            out.push(v);
        }
        "insurance_type_limit" => {
            let t0 = at(b.rng, w0, 8, 16);
            let mut v = b.plain(h, "11", t0, "T14.100");
            b.add(&mut v, t0 + 900, RABIES, 1);
            v.mark_last_line(mark(
                c,
                "fee",
                false,
                None,
                "限工伤保险支付的狂犬病疫苗由基本医疗保险结算".into(),
            ));
            out.push(v);
        }
        "course_limit" => {
            if cl || v2 == 0 {
                let (los, days) = if cl { (16, 14) } else { (20, 18) };
                let mut v = b.stay(h, 6, w0, los);
                let oz = b.ctx.ix.ozagrel;
                let dr = v.atddr;
                for d in (w0 + 10)..(w0 + days) {
                    b.line(&mut v, d as i64 * DAY + 11 * 3600, oz, 1, dr);
                }
                v.lines.sort_by_key(|l| l.t);
                // Every line past the course is a violation; the boundary's 14th line is the
                // last one paid.
                let oz_lines: Vec<usize> = v
                    .lines
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.item == oz)
                    .map(|(k, _)| k)
                    .collect();
                let targets: Vec<usize> = if cl {
                    vec![oz_lines[13]]
                } else {
                    oz_lines[14..].to_vec()
                };
                for (n, k) in targets.into_iter().enumerate() {
                    let note = if cl {
                        "边界：奥扎格雷钠连续使用 14 天，等于限定支付疗程 14 天(标记第 14 天)，应不报".to_string()
                    } else {
                        format!(
                            "奥扎格雷钠连续使用 18 天，超过限定支付疗程 14 天(第 {} 天)",
                            15 + n
                        )
                    };
                    v.marks.push(mark(c, "fee", cl, None, note));
                    v.lines[k].mark = v.marks.len() as u8;
                }
                out.push(v);
            } else {
                let mut v = b.stay(h, 16, w0, 34);
                let ws = b.ctx.cat.ix(WEIGHT_SUPPORT);
                let nurse = b.ctx.nurse(b.rng, h);
                for d in (w0 + 2)..(w0 + 34) {
                    b.line(&mut v, d as i64 * DAY + 15 * 3600, ws, 1, nurse);
                }
                v.lines.sort_by_key(|l| l.t);
                let ws_lines: Vec<usize> = v
                    .lines
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.item == ws)
                    .map(|(k, _)| k)
                    .collect();
                for (n, &k) in ws_lines[30..].iter().enumerate() {
                    let note = format!(
                        "减重支持系统训练连续 32 天，超过支付上限 30 天(第 {} 天)",
                        31 + n
                    );
                    v.marks.push(mark(c, "fee", false, None, note));
                    v.lines[k].mark = v.marks.len() as u8;
                }
                out.push(v);
            }
        }
        "cycle_frequency" => {
            let gap = if cl { 20 } else { 10 };
            for k in 0..2 {
                let d = w0 + k * gap;
                let t0 = at(b.rng, d, 8, 12);
                let mut v = b.plain(h, "14", t0, "E11.900");
                b.add(&mut v, t0 + 900, HBA1C, 1);
                if k == 1 {
                    let note = if cl {
                        "边界：糖化血红蛋白两次相隔 20 天，超过 15 天周期，应不报".to_string()
                    } else {
                        format!("糖化血红蛋白 {gap} 天内测 2 次，限 15 天 1 次")
                    };
                    v.mark_last_line(mark(c, "fee", cl, None, note));
                }
                out.push(v);
            }
        }
        "secondary_surgery_discount" => {
            let mut v = b.stay(h, 10, w0, 12);
            let main = b.ctx.cat.ix(COLON_RADICAL);
            let t = v
                .lines
                .iter()
                .find(|l| l.item == main)
                .map(|l| l.t)
                .unwrap();
            b.add(&mut v, t, APPENDECTOMY, 1);
            if cl {
                let l = v.lines.last_mut().unwrap();
                l.pric /= 2;
            }
            let note = if cl {
                "边界：同一切口第二项手术(阑尾切除术)按 50% 收费，应不报"
            } else {
                "同一切口(胃肠手术组)第二项手术阑尾切除术按全价收费"
            };
            v.mark_last_line(mark(c, "fee", cl, None, note.into()));
            out.push(v);
        }
        other => unreachable!("no builder for {other}"),
    }
}

/// Used by the lib to seed each person's stream.
pub fn person_rng(seed: u64, idx: u64) -> Rng {
    Rng::new(seed, idx.wrapping_mul(2).wrapping_add(1))
}

#[allow(dead_code)]
fn _unused(_: &Person) {}
