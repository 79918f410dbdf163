//! The top insured persons of a month by pooled-fund spending (seed 002: 每月初……对上月……前三十位
//! 参保个体的异常情况进行分析), each compared with the people of the same age band and insurance
//! type who were settled that month.

use crate::indicators::median;
use crate::input::{is_drug, MonitorInput};
use crate::policy::Policy;
use medfund_contract::money::Fen;
use medfund_contract::records::{CatalogEntry, Psn};
use medfund_contract::time::{age_on, YearMonth};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One person's month.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PersonMonth {
    /// Pooled-fund payments (hifp_pay) of the person's settlements in the month.
    pub fund_spending: Fen,
    /// Total medical fees (medfee_sumamt) of those settlements.
    pub medfee: Fen,
    /// Distinct visits settled.
    pub visits: u64,
    /// Distinct institutions that settled them.
    pub institutions: u64,
    /// Distinct drug codes on the fee lines of those settlements.
    pub drugs: u64,
    /// Amount of those drug lines.
    pub drug_amount: Fen,
}

/// The medians of a comparison group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupMedians {
    /// Age band label, e.g. `45–59岁`.
    pub age_band: String,
    /// Insurance type (310 employee, 390 resident; empty when unknown).
    pub insutype: String,
    /// Persons settled in the month in this group.
    pub size: usize,
    pub fund_spending: Fen,
    pub visits: f64,
    pub institutions: f64,
    pub drugs: f64,
}

/// One of the top persons.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopPerson {
    /// 1-based rank.
    pub rank: usize,
    pub psn_no: String,
    /// 男 / 女 / 未知 (empty when the person is not in the psn table).
    pub gend: String,
    /// Age on the last day of the month.
    pub age: Option<i32>,
    #[serde(flatten)]
    pub month: PersonMonth,
    /// The person's comparison group and its medians.
    pub group: GroupMedians,
    /// Why the person stands out, in Chinese (each measure at least `unusual_multiple` × the
    /// group median).
    pub reasons: Vec<String>,
}

/// Age band label of an age given the band lower bounds (after 0).
pub fn age_band(age: Option<i32>, bounds: &[u16]) -> String {
    let Some(age) = age else {
        return "年龄未知".into();
    };
    let mut lo = 0i32;
    for &b in bounds {
        if age < b as i32 {
            return format!("{lo}–{}岁", b as i32 - 1);
        }
        lo = b as i32;
    }
    format!("{lo}岁及以上")
}

/// Ranks the persons settled in `month` and returns the top `policy.top_persons.count`.
/// Order: fund spending descending, then total fees descending, then psn_no ascending.
pub fn top_persons(input: &MonitorInput, month: YearMonth, policy: &Policy) -> Vec<TopPerson> {
    let tp = &policy.top_persons;
    let catalog: HashMap<&str, &CatalogEntry> = input
        .catalog
        .iter()
        .map(|c| (c.med_list_codg.as_str(), c))
        .collect();
    let psn: HashMap<&str, &Psn> = input.psn.iter().map(|p| (p.psn_no.as_str(), p)).collect();

    let mut months: HashMap<&str, PersonMonth> = HashMap::new();
    let mut visits: HashSet<(&str, &str)> = HashSet::new();
    let mut insts: HashSet<(&str, &str)> = HashSet::new();
    let mut setl_ids: HashMap<&str, &str> = HashMap::new();
    for s in input.setl {
        if YearMonth::of(s.setl_time.date()) != month {
            continue;
        }
        let p = s.psn_no.as_str();
        let e = months.entry(p).or_default();
        e.fund_spending += s.hifp_pay;
        e.medfee += s.medfee_sumamt;
        if visits.insert((p, s.mdtrt_id.as_str())) {
            e.visits += 1;
        }
        if insts.insert((p, s.fixmedins_code.as_str())) {
            e.institutions += 1;
        }
        setl_ids.insert(s.setl_id.as_str(), p);
    }
    let mut drugs: HashSet<(&str, &str)> = HashSet::new();
    for f in input.fee {
        let Some(&p) = setl_ids.get(f.setl_id.as_str()) else {
            continue;
        };
        let code = f.med_list_codg.as_str();
        if !is_drug(code, &catalog) {
            continue;
        }
        let e = months.get_mut(p).expect("settled person");
        e.drug_amount += f.det_item_fee_sumamt;
        if drugs.insert((p, code)) {
            e.drugs += 1;
        }
    }

    let last_day = month.plus(1).first_day() - chrono::Days::new(1);
    let group_of = |p: &str| -> (String, String, Option<i32>) {
        match psn.get(p) {
            Some(r) => {
                let age = Some(age_on(r.brdy, last_day));
                (
                    age_band(age, &tp.age_bands),
                    r.insutype.as_deref().unwrap_or("").to_string(),
                    age,
                )
            }
            None => (age_band(None, &tp.age_bands), String::new(), None),
        }
    };
    let mut groups: BTreeMap<(String, String), Vec<&PersonMonth>> = BTreeMap::new();
    for (p, m) in &months {
        let (band, insutype, _) = group_of(p);
        groups.entry((band, insutype)).or_default().push(m);
    }
    let medians: BTreeMap<(String, String), GroupMedians> = groups
        .into_iter()
        .map(|((band, insutype), ms)| {
            let med = |f: &dyn Fn(&PersonMonth) -> f64| {
                let mut v: Vec<f64> = ms.iter().map(|m| f(m)).collect();
                median(&mut v).unwrap_or(0.0)
            };
            let g = GroupMedians {
                age_band: band.clone(),
                insutype: insutype.clone(),
                size: ms.len(),
                fund_spending: Fen(med(&|m| m.fund_spending.0 as f64).round() as i64),
                visits: med(&|m| m.visits as f64),
                institutions: med(&|m| m.institutions as f64),
                drugs: med(&|m| m.drugs as f64),
            };
            ((band, insutype), g)
        })
        .collect();

    let mut ranked: Vec<(&str, &PersonMonth)> = months.iter().map(|(p, m)| (*p, m)).collect();
    ranked.sort_by(|a, b| {
        b.1.fund_spending
            .cmp(&a.1.fund_spending)
            .then(b.1.medfee.cmp(&a.1.medfee))
            .then(a.0.cmp(b.0))
    });
    ranked
        .into_iter()
        .take(tp.count)
        .enumerate()
        .map(|(k, (p, m))| {
            let (band, insutype, age) = group_of(p);
            let g = medians[&(band, insutype)].clone();
            let reasons = reasons(m, &g, tp.unusual_multiple);
            TopPerson {
                rank: k + 1,
                psn_no: p.to_string(),
                gend: psn
                    .get(p)
                    .map(|r| r.gend.zh().to_string())
                    .unwrap_or_default(),
                age,
                month: m.clone(),
                group: g,
                reasons,
            }
        })
        .collect()
}

/// The measures at least `k` × the group median. Counts compare with the median floored at 1
/// (a median of 0 drugs would make any purchase "infinitely" unusual).
fn reasons(m: &PersonMonth, g: &GroupMedians, k: f64) -> Vec<String> {
    let mut out = Vec::new();
    let gm = g.fund_spending.0 as f64;
    if gm > 0.0 && m.fund_spending.0 as f64 >= k * gm {
        out.push(format!(
            "基金支出 {} 元，为同组（{}，{}）中位数 {} 元的 {:.1} 倍",
            m.fund_spending,
            g.age_band,
            insutype_zh(&g.insutype),
            g.fund_spending,
            m.fund_spending.0 as f64 / gm
        ));
    }
    for (what, unit, v, med) in [
        ("就诊", "次", m.visits, g.visits),
        ("就诊机构", "家", m.institutions, g.institutions),
        ("药品", "种", m.drugs, g.drugs),
    ] {
        let base = med.max(1.0);
        if v as f64 >= k * base {
            out.push(format!("{what} {v} {unit}，同组中位数 {med} {unit}"));
        }
    }
    out
}

/// 职工 / 居民 / the code itself.
pub fn insutype_zh(code: &str) -> String {
    match code {
        "310" => "职工医保".into(),
        "390" => "居民医保".into(),
        "" => "险种未知".into(),
        c => format!("险种 {c}"),
    }
}
