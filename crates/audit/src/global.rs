//! Cross-person passes: traceability code reuse (one code settled on more than one line, whoever
//! the persons) and pharmacy purchase–stock–sale balance (per pharmacy, drug and month). They are
//! hash/sort passes over all lines, run in parallel with the per-person pass.

use crate::evidence::{fee_finding_bare, list_more};
use crate::fees::Fees;
use crate::know::Knowledge;
use crate::rules::Template;
use ahash::AHashMap;
use medfund_contract::records::{FixmedinsType, InvPurc, InvStock};
use medfund_contract::time::format_datetime;
use medfund_contract::{Code, Evidence, Finding, Level, Qty, YearMonth};
use rayon::prelude::*;
use serde_json::json;

/// `trace_code_reuse`: for each traceability code, lines in (fee time, serial, visit) order; the
/// first is the original sale and every later line carrying the code is flagged once, with its
/// amount. Refund lines (negative quantity) are returns, not sales, and are ignored.
///
/// `rest_lines`, for compact lines, lists the lines with a [`medfund_ingest::FeeRest`]: only
/// they can carry traceability codes, so only they are read.
pub(crate) fn trace_reuse<'a>(
    k: &Knowledge,
    fees: Fees<'a>,
    rest_lines: Option<&[u32]>,
) -> Vec<Finding> {
    let rules: Vec<_> = k.rules_of(Template::TraceReuse).collect();
    if rules.is_empty() {
        return Vec::new();
    }
    // The sort only has to bring equal codes together (the hits are sorted again below), so it
    // sorts by each code's last 16 bytes as a number first: codes are 20 digits and differ in
    // their serial at the end, while their first 16 bytes are often one product's prefix.
    let tail = |c: &str| {
        let b = c.as_bytes();
        let n = b.len().min(16);
        let mut w = [0u8; 16];
        w[16 - n..].copy_from_slice(&b[b.len() - n..]);
        (u128::from_be_bytes(w), b.len() as u32)
    };
    let sold = |i: usize| !fees.drug_trac_codg(i).is_empty() && fees.cnt(i).0 > 0;
    let codes = |i: usize| {
        fees.drug_trac_codg(i).iter().map(move |c| {
            let (t, n) = tail(c);
            (t, n, c.as_str(), i as u32)
        })
    };
    let mut entries: Vec<(u128, u32, &'a str, u32)> = match rest_lines {
        Some(r) => r
            .par_iter()
            .map(|&i| i as usize)
            .filter(|&i| sold(i))
            .flat_map_iter(codes)
            .collect(),
        None => (0..fees.len())
            .into_par_iter()
            .filter(|&i| sold(i))
            .flat_map_iter(codes)
            .collect(),
    };
    entries.par_sort_unstable_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| a.2.cmp(b.2))
            .then_with(|| fees.cmp(a.3 as usize, b.3 as usize))
    });
    // (flagged line, code, original line)
    let mut hits: Vec<(u32, &str, u32)> = Vec::new();
    let mut s = 0;
    while s < entries.len() {
        let mut e = s + 1;
        while e < entries.len()
            && (entries[e].0, entries[e].1) == (entries[s].0, entries[s].1)
            && entries[e].2 == entries[s].2
        {
            e += 1;
        }
        let orig = entries[s].3;
        for x in &entries[s + 1..e] {
            // The same line listing a code twice is not an earlier line.
            if x.3 != orig {
                hits.push((x.3, x.2, orig));
            }
        }
        s = e;
    }
    hits.par_sort_unstable();
    hits.dedup();
    let groups: Vec<&[(u32, &str, u32)]> = hits.chunk_by(|a, b| a.0 == b.0).collect();
    groups
        .par_iter()
        .flat_map_iter(|g| {
            let f = fees.fee(g[0].0 as usize);
            let f = &*f;
            rules
                .iter()
                .filter(|r| r.in_force(f.fee_ocur_time.date()) && r.codes.matches(&f.med_list_codg, None))
                .map(|r| {
                    let first = fees.fee(g[0].2 as usize);
                    let text = format!(
                        "药品追溯码 {} 已于 {} 在 {} 结算（就诊 {}，明细 {}），本行再次结算：{}，金额 {} 元，疑似回流药/倒卖医保药品。",
                        list_more(g.iter().map(|x| x.1.to_string()), k.policy.evidence_max_items),
                        format_datetime(first.fee_ocur_time),
                        first.fixmedins_code,
                        first.mdtrt_id,
                        first.feedetl_sn,
                        f.med_list_codg,
                        f.det_item_fee_sumamt
                    );
                    let d = json!({"reused": g.iter().map(|x| {
                        let o = fees.fee(x.2 as usize);
                        json!({"drug_trac_codg": x.1, "first_mdtrt_id": o.mdtrt_id.as_str(),
                               "first_feedetl_sn": o.feedetl_sn.as_str(), "first_psn_no": o.psn_no.as_str(),
                               "first_fixmedins_code": o.fixmedins_code.as_str(),
                               "first_fee_ocur_time": format_datetime(o.fee_ocur_time)})
                    }).collect::<Vec<_>>()});
                    fee_finding_bare(r, f, Some(f.det_item_fee_sumamt), text, d)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

type Key<'a> = (&'a str, &'a str, YearMonth);

/// `inventory_mismatch`: per pharmacy, drug and calendar month, units sold on fee lines >
/// the stocktake on the first day of the month + purchases in the month. One finding per
/// pharmacy and drug, listing the months.
pub(crate) fn inventory(
    k: &Knowledge,
    fees: Fees,
    fee_ci: &[u32],
    purc: &[InvPurc],
    stock: &[InvStock],
) -> Vec<Finding> {
    let rules: Vec<_> = k.rules_of(Template::Inventory).collect();
    if rules.is_empty() {
        return Vec::new();
    }
    // Pharmacies by code; the sales are summed by sorting compact keys rather than merging hash
    // maps (which would grow with the number of parallel splits).
    let pharm: AHashMap<&str, u32> = k
        .inst
        .values()
        .filter(|i| i.fixmedins_type == FixmedinsType::Pharmacy)
        .map(|i| i.fixmedins_code.as_str())
        .zip(0u32..)
        .collect();
    if pharm.is_empty() {
        return Vec::new();
    }
    // Compact lines point at their visit's row: the pharmacy of every visit row is found once,
    // in one pass over the visits, instead of once per line.
    let pharm_ref = &pharm;
    const NONE: u32 = u32::MAX;
    const BLOCK: usize = 16_384;
    let visit_pharm: Vec<u32> = match fees {
        Fees::Rows(_) => Vec::new(),
        Fees::Lines(_, b) => b
            .mdtrt
            .par_chunks(BLOCK)
            .flat_map_iter(|ms| {
                let mut last: (&str, u32) = ("\u{0}", NONE);
                ms.iter().map(move |m| {
                    if m.fixmedins_code != last.0 {
                        last = (
                            m.fixmedins_code.as_str(),
                            pharm_ref
                                .get(m.fixmedins_code.as_str())
                                .copied()
                                .unwrap_or(NONE),
                        );
                    }
                    last.1
                })
            })
            .collect(),
    };
    // (pharmacy, month, catalog index, line, units). Lines of one visit share their institution:
    // other lines remember the last answer per block.
    let (visit_pharm, fee_ci) = (&visit_pharm, fee_ci);
    let mut sales: Vec<(u32, i32, u32, u32, i64)> = (0..fees.len().div_ceil(BLOCK))
        .into_par_iter()
        .flat_map_iter(|b| {
            let mut last: (&str, u32) = ("\u{0}", NONE);
            (b * BLOCK..((b + 1) * BLOCK).min(fees.len())).filter_map(move |i| {
                let p = match fees.visit_row(i) {
                    Some(v) => visit_pharm[v as usize],
                    None => {
                        let code = fees.fixmedins_code(i);
                        if code != last.0 {
                            last = (code, pharm_ref.get(code).copied().unwrap_or(NONE));
                        }
                        last.1
                    }
                };
                if p == NONE {
                    return None;
                }
                let m = YearMonth::of(fees.fee_ocur_time(i).date());
                Some((
                    p,
                    m.year * 12 + m.month as i32,
                    fee_ci[i],
                    i as u32,
                    fees.cnt(i).0,
                ))
            })
        })
        .collect();
    // By pharmacy, month and drug: a drug is its catalog index, or its code when the catalog
    // lacks it (only then are codes compared).
    sales.par_sort_unstable_by(|a, b| {
        (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)).then_with(|| {
            if a.2 == NONE {
                fees.med_list_codg(a.3 as usize)
                    .cmp(fees.med_list_codg(b.3 as usize))
            } else {
                std::cmp::Ordering::Equal
            }
        })
    });
    let code_of: Vec<&str> = {
        let mut v = vec![""; pharm.len()];
        for (c, i) in &pharm {
            v[*i as usize] = c;
        }
        v
    };
    let mut sold: AHashMap<Key, Qty> = AHashMap::new();
    let same_drug = |a: &(u32, i32, u32, u32, i64), b: &(u32, i32, u32, u32, i64)| {
        a.2 == b.2
            && (a.2 != NONE || fees.med_list_codg(a.3 as usize) == fees.med_list_codg(b.3 as usize))
    };
    for g in sales.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1 && same_drug(a, b)) {
        let (p, m, _, first, _) = g[0];
        let code = fees.med_list_codg(first as usize);
        let ym = YearMonth {
            year: (m - 1).div_euclid(12),
            month: ((m - 1).rem_euclid(12) + 1) as u32,
        };
        sold.insert(
            (code_of[p as usize], code, ym),
            Qty(g.iter().map(|x| x.4).sum()),
        );
    }
    let mut bought: AHashMap<Key, Qty> = AHashMap::new();
    for p in purc {
        *bought
            .entry((
                p.fixmedins_code.as_str(),
                p.med_list_codg.as_str(),
                YearMonth::of(p.purc_time.date()),
            ))
            .or_default() += p.purc_cnt;
    }
    let mut opening: AHashMap<Key, Qty> = AHashMap::new();
    for s in stock {
        let m = YearMonth::of(s.inv_date);
        if s.inv_date == m.first_day() {
            *opening
                .entry((s.fixmedins_code.as_str(), s.med_list_codg.as_str(), m))
                .or_default() += s.inv_cnt;
        }
    }
    let mut bad: Vec<(Key, Qty, Qty, Qty)> = sold
        .iter()
        .filter_map(|(key, q)| {
            let o = opening.get(key).copied().unwrap_or_default();
            let b = bought.get(key).copied().unwrap_or_default();
            (q.0 > o.0 + b.0).then_some((*key, *q, o, b))
        })
        .collect();
    bad.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::new();
    for g in bad.chunk_by(|a, b| a.0 .0 == b.0 .0 && a.0 .1 == b.0 .1) {
        let (inst, code, _) = g[0].0;
        let name = k
            .code(code)
            .map(|i| k.catalog[i as usize].med_list_name.as_str())
            .unwrap_or("目录未收录");
        for r in &rules {
            let months: Vec<_> = g
                .iter()
                .filter(|x| r.in_force(x.0 .2.first_day()) && r.codes.matches(code, None))
                .collect();
            if months.is_empty() {
                continue;
            }
            let text = format!(
                "定点药店 {inst} 的 {name}（{code}）医保销售数量超过期初库存与当月采购之和：{}，疑似串换或虚假销售。",
                list_more(
                    months.iter().map(|x| format!("{} 月销售 {}，期初库存 {}，采购 {}", x.0 .2, x.1, x.2, x.3)),
                    k.policy.evidence_max_items
                )
            );
            let d = json!({"months": months.iter().map(|x| json!({"month": x.0.2.to_string(), "sold": x.1,
                            "opening_stock": x.2, "purchased": x.3, "excess": Qty(x.1.0 - x.2.0 - x.3.0)})).collect::<Vec<_>>(),
                           "rule_version": r.version});
            let mut f = Finding::new(r.id.clone(), r.category, Level::Fixmedins);
            crate::evidence::stamp(&mut f, r);
            f.fixmedins_code = Some(Code::from(inst));
            f.med_list_codg = Some(Code::from(code));
            f.evidence = Evidence { text, details: d };
            f.seal();
            out.push(f);
        }
    }
    out
}
