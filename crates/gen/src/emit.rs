//! Writing one block of persons into per-table byte buffers, and the aggregates the static
//! tables at the end need (pharmacy sales, fund spending, institution totals).

use crate::fmt::{self, Days};
use crate::model::*;
use crate::person::{Ctx, Person};
use medfund_contract::schema::Table;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Per-institution totals of a block (summed over blocks at the end).
#[derive(Clone, Copy, Debug, Default)]
pub struct InstAgg {
    pub op_visits: u64,
    pub op_cost: i64,
    pub ip_stays: u64,
    pub ip_cost: i64,
    pub visits: u64,
    pub lines: u64,
    pub drug_cost: i64,
    pub cost: i64,
    /// Fund spending at this institution (in-city part of its budget).
    pub fund_in: i64,
    /// Fund spending at out-of-city institutions on referrals from this one.
    pub fund_out: i64,
}

impl InstAgg {
    /// Adds another block's totals.
    pub fn add(&mut self, o: &InstAgg) {
        self.op_visits += o.op_visits;
        self.op_cost += o.op_cost;
        self.ip_stays += o.ip_stays;
        self.ip_cost += o.ip_cost;
        self.visits += o.visits;
        self.lines += o.lines;
        self.drug_cost += o.drug_cost;
        self.cost += o.cost;
        self.fund_in += o.fund_in;
        self.fund_out += o.fund_out;
    }
}

/// The output of one block of persons.
pub struct BlockOut {
    pub bufs: Vec<Vec<u8>>,
    pub rows: [u64; 15],
    pub manifest: Vec<u8>,
    /// (category, clean) → count.
    pub counts: HashMap<(&'static str, bool), u64>,
    /// (pharmacy, item, month 0–11) → units sold (whole units).
    pub sales: HashMap<(u16, u16, u8), i64>,
    /// Fund (hifp) spending by insutype (0 = 310, 1 = 390) and month.
    pub fund: [[i64; 12]; 2],
    pub inst: Vec<InstAgg>,
}

impl BlockOut {
    /// An empty block for `ninst` institutions.
    pub fn new(ninst: usize) -> BlockOut {
        BlockOut {
            bufs: (0..15).map(|_| Vec::new()).collect(),
            rows: [0; 15],
            manifest: Vec::new(),
            counts: HashMap::new(),
            sales: HashMap::new(),
            fund: [[0; 12]; 2],
            inst: vec![InstAgg::default(); ninst],
        }
    }
    fn buf(&mut self, t: Table) -> &mut Vec<u8> {
        self.rows[t as usize] += 1;
        &mut self.bufs[t as usize]
    }
}

fn id(b: &mut Vec<u8>, prefix: &[u8], person: u64, k: u32) {
    b.extend_from_slice(prefix);
    fmt::padded(b, person, 10);
    fmt::padded(b, k as u64, 3);
}

fn s(b: Vec<u8>) -> String {
    String::from_utf8(b).expect("ascii ids")
}

/// Writes a person and their visits.
pub fn person(ctx: &Ctx, p: &Person, visits: &mut [Visit], out: &mut BlockOut) {
    let days = &ctx.days;
    {
        let b = out.buf(Table::Psn);
        b.extend_from_slice(p.no.as_bytes());
        b.push(b',');
        fmt::uint(b, p.gend as u64);
        b.push(b',');
        fmt::date(b, p.birth);
        b.push(b',');
        fmt::uint(b, p.insutype as u64);
        b.push(b',');
        b.extend_from_slice(p.area.as_bytes());
        b.push(b'\n');
    }
    visits.sort_by_key(|v| v.begn);
    for (k, v) in visits.iter_mut().enumerate() {
        visit(ctx, days, p, v, k as u32 + 1, out);
    }
}

fn visit(ctx: &Ctx, days: &Days, p: &Person, v: &mut Visit, k: u32, out: &mut BlockOut) {
    let inst = &ctx.city.insts[v.inst as usize];
    let mut mdtrt_id = Vec::with_capacity(16);
    id(&mut mdtrt_id, b"MD", p.idx, k);
    let mut setl_id = Vec::with_capacity(16);
    id(&mut setl_id, b"ST", p.idx, k);
    let atddr = &ctx.city.practs[v.atddr as usize].code;
    // mdtrt
    {
        let b = out.buf(Table::Mdtrt);
        b.extend_from_slice(&mdtrt_id);
        b.push(b',');
        b.extend_from_slice(p.no.as_bytes());
        b.push(b',');
        b.extend_from_slice(inst.code.as_bytes());
        b.push(b',');
        b.extend_from_slice(v.med_type.as_bytes());
        b.push(b',');
        days.time(b, v.begn);
        b.push(b',');
        if let Some(e) = v.end {
            days.time(b, e);
        }
        b.push(b',');
        b.extend_from_slice(v.diag.as_bytes());
        b.push(b',');
        b.push(b',');
        b.extend_from_slice(atddr.as_bytes());
        b.push(b',');
        b.push(if v.emer { b'1' } else { b'0' });
        b.push(b',');
        if let Some(r) = v.refl {
            b.extend_from_slice(ctx.city.insts[r as usize].code.as_bytes());
        }
        b.push(b'\n');
    }
    // diag: the main diagnosis (flag 1) and the further ones (flag 0)
    for (j, d) in std::iter::once(&v.diag).chain(v.further.iter()).enumerate() {
        let b = out.buf(Table::Diag);
        b.extend_from_slice(&mdtrt_id);
        b.push(b',');
        b.extend_from_slice(d.as_bytes());
        b.push(b',');
        b.push(if j == 0 { b'1' } else { b'0' });
        b.push(b'\n');
    }
    // fee lines in time order
    v.lines.sort_by_key(|l| l.t);
    let mut total = 0i64;
    let mut drug = 0i64;
    let mut last_t = v.begn;
    let month_of = |t: i64| -> u8 {
        use chrono::Datelike;
        let d = days.date_of((t / DAY) as i32);
        if d.year() != ctx.year {
            if d.year() < ctx.year {
                0
            } else {
                11
            }
        } else {
            d.month0() as u8
        }
    };
    let mut line_keys: Vec<(usize, Vec<u8>)> = Vec::new();
    for (n, l) in v.lines.iter().enumerate() {
        let amount = l.amount();
        total += amount;
        let item = ctx.cat.get(l.item);
        if item.is_drug() {
            drug += amount;
        }
        last_t = last_t.max(l.t);
        let mut sn = Vec::with_capacity(20);
        sn.extend_from_slice(b"FD");
        fmt::padded(&mut sn, p.idx, 10);
        fmt::padded(&mut sn, k as u64, 3);
        fmt::padded(&mut sn, n as u64 + 1, 4);
        let b = out.buf(Table::Fee);
        b.extend_from_slice(&sn);
        b.push(b',');
        b.extend_from_slice(&mdtrt_id);
        b.push(b',');
        b.extend_from_slice(&setl_id);
        b.push(b',');
        b.extend_from_slice(p.no.as_bytes());
        b.push(b',');
        b.extend_from_slice(inst.code.as_bytes());
        b.push(b',');
        days.time(b, l.t);
        b.push(b',');
        b.extend_from_slice(item.code.as_bytes());
        b.push(b',');
        fmt::qty(b, l.cnt);
        b.push(b',');
        fmt::price(b, l.pric);
        b.push(b',');
        fmt::fen(b, amount);
        b.push(b',');
        b.extend_from_slice(ctx.city.practs[l.dr as usize].code.as_bytes());
        b.push(b',');
        if let Some(no) = l.rxno {
            id(b, b"RX", p.idx, no);
        }
        b.push(b',');
        for (j, t) in l.trace.iter().enumerate() {
            if j > 0 {
                b.push(b';');
            }
            b.push(b'8');
            fmt::padded(b, *t, 19);
        }
        b.push(b'\n');
        if inst.kind == 2 && item.is_drug() {
            *out.sales
                .entry((v.inst, l.item, month_of(l.t)))
                .or_insert(0) += l.cnt / 10_000;
        }
        if l.mark != 0 {
            line_keys.push((n, sn));
        }
    }
    // settlement: pooled fund share by visit type and insurance type; the employee's personal
    // account pays part of the rest outside hospital stays.
    let employee = p.insutype == 310;
    let inpatient = v.inpatient();
    let (fund_pct, acct_pct) = match (inpatient, v.med_type, employee) {
        (true, _, true) => (85, 0),
        (true, _, false) => (65, 0),
        (false, "41", true) => (
            if v.lines.iter().any(|l| l.rxno.is_some()) {
                50
            } else {
                0
            },
            100,
        ),
        (false, "41", false) => (
            if v.lines.iter().any(|l| l.rxno.is_some()) {
                40
            } else {
                0
            },
            0,
        ),
        (false, _, true) => (60, 50),
        (false, _, false) => (50, 0),
    };
    let hifp = medfund_contract::money::Fen(total)
        .mul_ratio(fund_pct, 100)
        .0;
    let acct = medfund_contract::money::Fen(total - hifp)
        .mul_ratio(acct_pct, 100)
        .0;
    let cash = total - hifp - acct;
    let setl_t = v.end.unwrap_or(last_t + 600);
    {
        let b = out.buf(Table::Setl);
        b.extend_from_slice(&setl_id);
        b.push(b',');
        b.extend_from_slice(&mdtrt_id);
        b.push(b',');
        b.extend_from_slice(p.no.as_bytes());
        b.push(b',');
        b.extend_from_slice(inst.code.as_bytes());
        b.push(b',');
        days.time(b, setl_t);
        b.push(b',');
        fmt::fen(b, total);
        b.push(b',');
        fmt::fen(b, hifp);
        b.push(b',');
        fmt::fen(b, acct);
        b.push(b',');
        fmt::fen(b, cash);
        b.push(b',');
        fmt::fen(b, hifp);
        b.push(b',');
        if let Some(d) = &v.drg {
            b.extend_from_slice(d.as_bytes());
        }
        b.push(b'\n');
    }
    out.fund[if employee { 0 } else { 1 }][month_of(setl_t) as usize] += hifp;
    let a = &mut out.inst[v.inst as usize];
    a.visits += 1;
    a.lines += v.lines.len() as u64;
    a.cost += total;
    a.drug_cost += drug;
    if inpatient {
        a.ip_stays += 1;
        a.ip_cost += total;
    } else {
        a.op_visits += 1;
        a.op_cost += total;
    }
    match v.refl {
        Some(r) if !inst.local => out.inst[r as usize].fund_out += hifp,
        _ => out.inst[v.inst as usize].fund_in += hifp,
    }
    // identity checks
    for i in &v.idv {
        let b = out.buf(Table::Idv);
        b.extend_from_slice(p.no.as_bytes());
        b.push(b',');
        b.extend_from_slice(inst.code.as_bytes());
        b.push(b',');
        days.time(b, i.t);
        b.push(b',');
        b.extend_from_slice(match i.way {
            0 => b"face",
            1 => b"vein",
            _ => b"card",
        });
        b.push(b',');
        b.push(if i.pass { b'1' } else { b'0' });
        b.push(b'\n');
    }
    // e-prescriptions issued at this visit
    for r in &v.rx {
        let b = out.buf(Table::Rx);
        id(b, b"RX", p.idx, r.no);
        b.push(b',');
        b.extend_from_slice(inst.code.as_bytes());
        b.push(b',');
        b.extend_from_slice(ctx.city.practs[r.pract as usize].code.as_bytes());
        b.push(b',');
        b.extend_from_slice(p.no.as_bytes());
        b.push(b',');
        days.time(b, r.t);
        b.push(b',');
        b.extend_from_slice(ctx.cat.get(r.item).code.as_bytes());
        b.push(b',');
        fmt::qty(b, r.cnt);
        b.push(b',');
        fmt::uint(b, r.valid_days as u64);
        b.push(b'\n');
    }
    // manifest entries
    if v.marks.is_empty() {
        return;
    }
    let mdtrt = s(mdtrt_id);
    let setl = s(setl_id);
    for (n, sn) in line_keys {
        let l = &v.lines[n];
        let m = &v.marks[l.mark as usize - 1];
        let pract =
            (m.category == "suspended_pract").then(|| ctx.city.practs[l.dr as usize].code.clone());
        let e = entry(
            m,
            Keys {
                mdtrt_id: Some(&mdtrt),
                setl_id: Some(&setl),
                feedetl_sn: Some(&s(sn)),
                psn_no: Some(&p.no),
                fixmedins_code: Some(&inst.code),
                pract_code: pract.as_deref(),
                med_list_codg: Some(&ctx.cat.get(l.item).code),
            },
        );
        push_manifest(out, m, e);
    }
    for &mi in &v.visit_marks {
        let m = &v.marks[mi as usize - 1];
        let keys = if m.level == "psn" {
            Keys {
                psn_no: Some(&p.no),
                med_list_codg: m.item.map(|i| ctx.cat.get(i).code.as_str()),
                ..Keys::default()
            }
        } else {
            Keys {
                mdtrt_id: Some(&mdtrt),
                setl_id: Some(&setl),
                psn_no: Some(&p.no),
                fixmedins_code: Some(&inst.code),
                ..Keys::default()
            }
        };
        let e = entry(m, keys);
        push_manifest(out, m, e);
    }
}

/// The keys of one manifest entry (absent keys are written as null).
#[derive(Default)]
pub struct Keys<'a> {
    pub mdtrt_id: Option<&'a str>,
    pub setl_id: Option<&'a str>,
    pub feedetl_sn: Option<&'a str>,
    pub psn_no: Option<&'a str>,
    pub fixmedins_code: Option<&'a str>,
    pub pract_code: Option<&'a str>,
    pub med_list_codg: Option<&'a str>,
}

/// One manifest line as JSON.
pub fn entry(m: &Mark, k: Keys) -> Value {
    json!({
        "category": m.category,
        "level": m.level,
        "expect": if m.clean { "clean" } else { "violation" },
        "mdtrt_id": k.mdtrt_id,
        "setl_id": k.setl_id,
        "feedetl_sn": k.feedetl_sn,
        "psn_no": k.psn_no,
        "fixmedins_code": k.fixmedins_code,
        "pract_code": k.pract_code,
        "med_list_codg": k.med_list_codg,
        "amount": m.amount.map(fmt::fen_string),
        "note": m.note,
    })
}

fn push_manifest(out: &mut BlockOut, m: &Mark, e: Value) {
    out.manifest.extend_from_slice(e.to_string().as_bytes());
    out.manifest.push(b'\n');
    *out.counts.entry((m.category, m.clean)).or_insert(0) += 1;
}
