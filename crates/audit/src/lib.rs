//! # medfund-audit — the smart audit engine (智能审核)
//!
//! Every settled fee line is checked against a rule library ([`rules`]) and a knowledge base
//! (the batch's `catalog` table, plus the national knowledge points of `medfund-kb`); every
//! finding says what, where, how much and why, in the shape of DOMAIN.md §4.
//!
//! - [`audit`]: the batch audit (事后), pure: a [`Batch`] in, findings out. The work is
//!   partitioned by person and run in parallel (rayon); traceability and stock balance run as
//!   cross-person hash/sort passes.
//! - [`precheck()`]: the online pre-check (事前提醒/事中控制) of one visit against the person's
//!   recent history, with a prebuilt [`PrecheckContext`].
//! - [`output`]: JSON Lines, CSV and Parquet writers of findings.
//!
//! ```
//! use medfund_audit::{audit, AuditOptions, rules::RuleLibrary};
//! use medfund_contract::Batch;
//! let r = audit(&Batch::default(), &RuleLibrary::builtin(), None, &AuditOptions::default());
//! assert!(r.findings.is_empty());
//! ```

pub mod cli;
mod engine;
mod evidence;
mod fees;
mod global;
pub mod kbrules;
mod know;
pub mod output;
pub mod policy;
pub mod precheck;
pub mod rules;

pub use kbrules::KbIndex;
pub use policy::Policy;
pub use precheck::{precheck, PersonHistory, PrecheckContext};

use ahash::AHashMap;
use engine::{Case, Line, Visit};
use fees::{Fees, LineFee};
use know::Knowledge;
use medfund_contract::records::CatalogEntry;
use medfund_contract::{Batch, Category, Fen, Finding};
use medfund_ingest::{BatchKeys, FeeLine, KeyIndex};
use rayon::prelude::*;
use rules::{RuleLibrary, Stage};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Options of a batch audit.
#[derive(Clone, Debug)]
pub struct AuditOptions {
    /// The stage whose rules run (default: after, 事后).
    pub stage: Stage,
    pub policy: Policy,
    /// How the national knowledge points are read (child ages, course gaps, surgery discount).
    pub kb_policy: medfund_kb::KbPolicy,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            stage: Stage::After,
            policy: Policy::default(),
            kb_policy: medfund_kb::KbPolicy::default(),
        }
    }
}

/// Counts of one category.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CategoryStats {
    pub findings: u64,
    /// Sum of the findings' amounts.
    pub amount: Fen,
}

/// What an audit did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditStats {
    pub persons: u64,
    pub visits: u64,
    pub lines: u64,
    /// Lines whose visit is not in the batch (ingestion quarantines them, so normally 0): only
    /// the cross-person passes see them.
    pub lines_without_visit: u64,
    /// Lines whose code the knowledge base does not list.
    pub uncatalogued_lines: u64,
    /// Active rules.
    pub rules: usize,
    pub rule_library_version: String,
    pub kb_version: Option<String>,
    pub by_category: BTreeMap<Category, CategoryStats>,
    pub elapsed: Duration,
}

impl AuditStats {
    /// Total findings.
    pub fn findings(&self) -> u64 {
        self.by_category.values().map(|c| c.findings).sum()
    }
    /// Lines per second of the audit itself.
    pub fn lines_per_second(&self) -> f64 {
        self.lines as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The findings (sorted deterministically) and the statistics.
#[derive(Clone, Debug, Default)]
pub struct AuditResult {
    pub findings: Vec<Finding>,
    pub stats: AuditStats,
}

/// The batch catalog with the knowledge base's catalog-expressible limits merged in.
pub(crate) fn merged_catalog(
    catalog: &[CatalogEntry],
    kb: Option<&medfund_kb::KnowledgeBase>,
) -> Vec<CatalogEntry> {
    let mut catalog = catalog.to_vec();
    if let Some(kb) = kb {
        kb.apply_to_catalog(&mut catalog);
    }
    catalog
}

/// Runs the batch audit: every enabled rule of `opts.stage` over every fee line of the batch.
/// Pure: no I/O. Findings are sorted by category, rule, person, visit, line.
pub fn audit(
    batch: &Batch,
    lib: &RuleLibrary,
    kb: Option<&medfund_kb::KnowledgeBase>,
    opts: &AuditOptions,
) -> AuditResult {
    audit_keyed(batch, None, lib, kb, opts)
}

/// [`audit`] with the key indexes ingestion built for `batch` ([`medfund_ingest::Ingested::keys`]),
/// so they are not built a second time. `keys` must have been built for this very batch.
pub fn audit_keyed(
    batch: &Batch,
    keys: Option<&BatchKeys>,
    lib: &RuleLibrary,
    kb: Option<&medfund_kb::KnowledgeBase>,
    opts: &AuditOptions,
) -> AuditResult {
    audit_fees(batch, Fees::Rows(&batch.fee), keys, lib, kb, opts)
}

/// [`audit_keyed`] over fee lines read in compact form ([`medfund_ingest::Options::compact_fee`]):
/// `lines` are [`medfund_ingest::Ingested::fee_lines`] and `batch` the rest of the same
/// [`medfund_ingest::Ingested`] (its `fee` table is not read). The findings are the same as for
/// the batch with those lines as records.
pub fn audit_lines(
    batch: &Batch,
    lines: &[FeeLine],
    keys: Option<&BatchKeys>,
    lib: &RuleLibrary,
    kb: Option<&medfund_kb::KnowledgeBase>,
    opts: &AuditOptions,
) -> AuditResult {
    audit_fees(batch, Fees::Lines(lines, batch), keys, lib, kb, opts)
}

fn audit_fees(
    batch: &Batch,
    fees: Fees,
    keys: Option<&BatchKeys>,
    lib: &RuleLibrary,
    kb: Option<&medfund_kb::KnowledgeBase>,
    opts: &AuditOptions,
) -> AuditResult {
    let start = Instant::now();
    // MEDFUND_AUDIT_TIMING=1 prints the phase times (for tuning; no effect on results).
    let timing = std::env::var_os("MEDFUND_AUDIT_TIMING").is_some();
    let phase = |what: &str| {
        if timing {
            eprintln!("  [audit] {what}: {:.3}s", start.elapsed().as_secs_f64());
        }
    };
    let kbi = kb.map(|kb| KbIndex::new(kb, &opts.kb_policy));
    let k = Knowledge::build(
        merged_catalog(&batch.catalog, kb),
        &batch.fixmedins,
        &batch.pract_susp,
        lib,
        &[opts.stage],
        kbi,
        opts.policy.clone(),
    );
    let mut stats = AuditStats {
        rules: k.rules.len(),
        rule_library_version: lib.version.clone(),
        kb_version: kb.map(|k| k.version.clone()),
        lines: fees.len() as u64,
        visits: batch.mdtrt.len() as u64,
        ..Default::default()
    };

    phase("knowledge");
    // Visit index and person grouping: reuse ingestion's key indexes when given.
    let built;
    let (visit_ix, psn_ix) = match keys {
        Some(k) => (&k.mdtrt, &k.psn),
        None => {
            built = rayon::join(
                || KeyIndex::build_by(&batch.mdtrt, |m| &m.mdtrt_id),
                || KeyIndex::build_by(&batch.psn, |p| &p.psn_no),
            );
            (&built.0, &built.1)
        }
    };
    // Persons: the psn table, then psn_no values that only appear on visits.
    let mut person_no: Vec<&str> = batch.psn.iter().map(|p| p.psn_no.as_str()).collect();
    let mut visit_person: Vec<u32> = lookup_runs(
        &batch.mdtrt,
        |m| m.psn_no.as_str(),
        |k, hint| psn_ix.get_near(k, hint),
    );
    let mut extra_psn: AHashMap<&str, u32> = AHashMap::new();
    for (vp, m) in visit_person.iter_mut().zip(&batch.mdtrt) {
        if *vp == NONE {
            *vp = *extra_psn.entry(m.psn_no.as_str()).or_insert_with(|| {
                person_no.push(m.psn_no.as_str());
                (person_no.len() - 1) as u32
            });
        }
    }
    let person_of = |k: &str, hint: u32| {
        psn_ix
            .get_near(k, hint)
            .or_else(|| extra_psn.get(k).copied())
    };
    let n_persons = person_no.len();

    // Lines → visit and catalog index, in parallel.
    const NONE: u32 = u32::MAX;
    // Lines of one visit are usually contiguous: a one-entry cache skips most hash probes.
    // Zeroed allocations come from the kernel untouched; every slot is written below.
    let n_fees = fees.len();
    let mut fee_visit: Vec<u32> = vec![0; n_fees];
    let mut fee_ci: Vec<u32> = vec![0; n_fees];
    // Compact lines name their item by batch catalog row: one lookup per row, not per line.
    let item_ci: Vec<u32> = batch
        .catalog
        .iter()
        .map(|c| k.code(&c.med_list_codg).unwrap_or(NONE))
        .collect();
    const BLOCK: usize = 16_384;
    // Compact lines with a `rest` (traceability codes, a prescription, or a whole record of
    // their own) are collected on the way: the traceability pass reads only those, instead of
    // every line again.
    let rest_lines: Vec<Vec<u32>> = fee_visit
        .par_chunks_mut(BLOCK)
        .zip(fee_ci.par_chunks_mut(BLOCK))
        .enumerate()
        .map(|(b, (visit, ci))| {
            let mut rest = Vec::new();
            let mut last = 0u32;
            let mut lookup = |f: &medfund_contract::Fee| {
                let v = match visit_ix.get_near(f.mdtrt_id.as_str(), last) {
                    Some(v) => {
                        last = v;
                        v
                    }
                    None => NONE,
                };
                (v, k.code(&f.med_list_codg).unwrap_or(NONE))
            };
            for (j, (v, c)) in visit.iter_mut().zip(ci.iter_mut()).enumerate() {
                let i = b * BLOCK + j;
                (*v, *c) = match fees {
                    Fees::Rows(r) => lookup(&r[i]),
                    Fees::Lines(l, _) => {
                        if l[i].rest.is_some() {
                            rest.push(i as u32);
                        }
                        match l[i].own_fee() {
                            Some(f) => lookup(f),
                            None => (l[i].visit, item_ci[l[i].item as usize]),
                        }
                    }
                };
            }
            rest
        })
        .collect();
    let rest_lines: Vec<u32> = rest_lines.concat();
    stats.lines_without_visit = fee_visit.par_iter().filter(|&&v| v == NONE).count() as u64;
    stats.uncatalogued_lines = fee_ci.par_iter().filter(|&&c| c == NONE).count() as u64;

    phase("index lines");
    let visit_of = |k: &str, hint: u32| visit_ix.get_near(k, hint);
    // The prescription index is built on one core while the other groups the tables.
    let (rx, groups) = rayon::join(
        || engine::RxIndex::new(&batch.rx),
        || {
            let diag_visit = lookup_runs(&batch.diag, |d| d.mdtrt_id.as_str(), visit_of);
            let setl_visit = lookup_runs(&batch.setl, |s| s.mdtrt_id.as_str(), visit_of);
            let idv_person = lookup_runs(&batch.idv, |i| i.psn_no.as_str(), person_of);
            let (visits, persons) = rayon::join(
                || group(batch.mdtrt.len(), &fee_visit),
                || group(n_persons, &visit_person),
            );
            let (diags, (setls, idvs)) = rayon::join(
                || group(batch.mdtrt.len(), &diag_visit),
                || {
                    rayon::join(
                        || group(batch.mdtrt.len(), &setl_visit),
                        || group(n_persons, &idv_person),
                    )
                },
            );
            (visits, persons, diags, setls, idvs)
        },
    );
    let (
        (visit_start, visit_lines),
        (person_start, person_visits),
        (diag_start, diag_rows),
        (setl_start, setl_rows),
        (idv_start, idv_rows),
    ) = groups;

    phase("group");
    // Compact lines without a `rest` carry no traceability code.
    let rest_lines = matches!(fees, Fees::Lines(..)).then_some(rest_lines.as_slice());
    let person = |p: usize| -> Vec<Finding> {
        let vs = &person_visits[person_start[p] as usize..person_start[p + 1] as usize];
        // One buffer per person for lines, diagnoses and settlements; visits are slices of it.
        let n_lines: usize = vs
            .iter()
            .map(|&vi| (visit_start[vi as usize + 1] - visit_start[vi as usize]) as usize)
            .sum();
        let mut lines: Vec<Line> = Vec::with_capacity(n_lines);
        let mut diags: Vec<&str> = Vec::new();
        let mut setls: Vec<&medfund_contract::Setl> = Vec::new();
        let mut spans: Vec<(u32, [u32; 6])> = Vec::with_capacity(vs.len());
        for &vi in vs {
            let v = vi as usize;
            let m = &batch.mdtrt[v];
            let l0 = lines.len();
            for &li in &visit_lines[visit_start[v] as usize..visit_start[v + 1] as usize] {
                let f = match fees {
                    Fees::Rows(r) => LineFee::of(&r[li as usize]),
                    Fees::Lines(l, b) => LineFee::of_line(&l[li as usize], b),
                };
                let ci = fee_ci[li as usize];
                lines.push(Line {
                    f,
                    cat: (ci != NONE).then(|| &k.catalog[ci as usize]),
                    ci,
                    day: f.fee_ocur_time.date(),
                });
            }
            lines[l0..].sort_by(|a, b| engine::fee_cmp(&a.f, &b.f));
            let d0 = diags.len();
            diags.extend(
                diag_rows[diag_start[v] as usize..diag_start[v + 1] as usize]
                    .iter()
                    .map(|&d| batch.diag[d as usize].diag_code.as_str())
                    .filter(|d| *d != m.diag_code.as_str()),
            );
            let s0 = setls.len();
            setls.extend(
                setl_rows[setl_start[v] as usize..setl_start[v + 1] as usize]
                    .iter()
                    .map(|&s| &batch.setl[s as usize]),
            );
            spans.push((
                vi,
                [
                    l0 as u32,
                    lines.len() as u32,
                    d0 as u32,
                    diags.len() as u32,
                    s0 as u32,
                    setls.len() as u32,
                ],
            ));
        }
        let mut visits: Vec<Visit> = spans
            .iter()
            .map(|(vi, r)| {
                let m = &batch.mdtrt[*vi as usize];
                Visit {
                    m,
                    inst: k.inst.get(m.fixmedins_code.as_str()),
                    diags: &diags[r[2] as usize..r[3] as usize],
                    lines: &lines[r[0] as usize..r[1] as usize],
                    setls: &setls[r[4] as usize..r[5] as usize],
                    report: true,
                }
            })
            .collect();
        visits.sort_by(|a, b| {
            a.m.begntime
                .cmp(&b.m.begntime)
                .then_with(|| a.m.mdtrt_id.cmp(&b.m.mdtrt_id))
        });
        let idv = idv_rows[idv_start[p] as usize..idv_start[p + 1] as usize]
            .iter()
            .map(|&i| &batch.idv[i as usize])
            .collect();
        let case = Case {
            psn_no: person_no[p],
            psn: (p < batch.psn.len()).then(|| &batch.psn[p]),
            visits,
            idv,
        };
        let mut out = Vec::new();
        engine::check_person(&k, &case, &rx, &mut out);
        out
    };

    let ((mut findings, trace), inv) = rayon::join(
        || {
            rayon::join(
                || {
                    (0..n_persons)
                        .into_par_iter()
                        .with_min_len(256)
                        .flat_map_iter(person)
                        .collect::<Vec<Finding>>()
                },
                || global::trace_reuse(&k, fees, rest_lines),
            )
        },
        || global::inventory(&k, fees, &fee_ci, &batch.inv_purc, &batch.inv_stock),
    );
    phase("passes");
    findings.extend(trace);
    findings.extend(inv);
    sort_findings(&mut findings);
    for f in &findings {
        let s = stats.by_category.entry(f.category).or_default();
        s.findings += 1;
        s.amount += f.amount.unwrap_or_default();
    }
    phase("sort");
    stats.persons = n_persons as u64;
    stats.elapsed = start.elapsed();
    AuditResult { findings, stats }
}

/// The deterministic order of findings: category, rule, person, visit, line, then the id.
pub fn sort_findings(f: &mut [Finding]) {
    f.par_sort_unstable_by(|a, b| {
        a.category
            .cmp(&b.category)
            .then_with(|| a.rule_id.cmp(&b.rule_id))
            .then_with(|| a.psn_no.cmp(&b.psn_no))
            .then_with(|| a.fixmedins_code.cmp(&b.fixmedins_code))
            .then_with(|| a.mdtrt_id.cmp(&b.mdtrt_id))
            .then_with(|| {
                engine::sn_cmp(
                    a.feedetl_sn.as_deref().unwrap_or(""),
                    b.feedetl_sn.as_deref().unwrap_or(""),
                )
            })
            .then_with(|| a.med_list_codg.cmp(&b.med_list_codg))
            .then_with(|| a.finding_id.cmp(&b.finding_id))
    });
}

/// The index of each row's key by `ix(key, hint)` (`u32::MAX` when absent), in parallel; the hint
/// is the previous row's answer, since rows of one visit or person are usually contiguous and in
/// the order of the table they point to.
fn lookup_runs<'a, T: Sync>(
    rows: &'a [T],
    key: impl Fn(&'a T) -> &'a str + Sync,
    ix: impl Fn(&str, u32) -> Option<u32> + Sync,
) -> Vec<u32> {
    let mut out = vec![u32::MAX; rows.len()];
    out.par_chunks_mut(16_384)
        .zip(rows.par_chunks(16_384))
        .for_each(|(o, rs)| {
            let mut hint = 0u32;
            for (o, r) in o.iter_mut().zip(rs) {
                *o = match ix(key(r), hint) {
                    Some(i) => {
                        hint = i;
                        i
                    }
                    None => u32::MAX,
                };
            }
        });
    out
}

/// Counting sort: `(start offsets of n+1 groups, member indices grouped)` for a key per row;
/// rows whose key is `u32::MAX` are left out. Members stay in row order.
fn group(n: usize, keys: &[u32]) -> (Vec<u32>, Vec<u32>) {
    // Extracts list lines, diagnoses and settlements in the order of their visits: then the
    // groups are runs already and only their bounds are needed, found in one pass without the
    // scatter (whose random writes cost more than the counting).
    let ascending = keys
        .par_windows(2)
        .all(|w| w[0] <= w[1] && w[1] != u32::MAX)
        && keys.first().is_none_or(|&k| k != u32::MAX);
    if ascending {
        let mut start = vec![0u32; n + 1];
        let mut next = 0usize;
        for (i, &k) in keys.iter().enumerate() {
            let k = k as usize;
            if k >= next {
                start[next..=k].fill(i as u32);
                next = k + 1;
            }
        }
        start[next..].fill(keys.len() as u32);
        let rows = (0..keys.len() as u32).into_par_iter().collect();
        return (start, rows);
    }
    let mut start = vec![0u32; n + 1];
    for &k in keys {
        if k != u32::MAX {
            start[k as usize + 1] += 1;
        }
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut pos = start.clone();
    let mut rows = vec![0u32; start[n] as usize];
    for (i, &k) in keys.iter().enumerate() {
        if k != u32::MAX {
            rows[pos[k as usize] as usize] = i as u32;
            pos[k as usize] += 1;
        }
    }
    (start, rows)
}

#[cfg(test)]
mod tests {
    use super::group;

    #[test]
    fn groups_of_rows_in_key_order_are_their_runs() {
        // Keys in order, with keys 0, 3 and 5 (of 6) holding no row.
        let (start, rows) = group(6, &[1, 1, 2, 4, 4, 4]);
        assert_eq!(start, vec![0, 0, 2, 3, 3, 6, 6]);
        assert_eq!(rows, vec![0, 1, 2, 3, 4, 5]);
        // Out of order, and a row without a key (u32::MAX): counted and scattered.
        let (start, rows) = group(3, &[2, 0, u32::MAX, 2, 0]);
        assert_eq!(start, vec![0, 2, 2, 4]);
        assert_eq!(rows, vec![1, 4, 0, 3]);
        // In order but ending with a row without a key.
        let (start, rows) = group(2, &[0, 1, u32::MAX]);
        assert_eq!(start, vec![0, 1, 2]);
        assert_eq!(rows, vec![0, 1]);
        let (start, rows) = group(2, &[]);
        assert_eq!(start, vec![0, 0, 0]);
        assert!(rows.is_empty());
    }
}
