//! Merging the knowledge base into the contract's `catalog` table, so the audit engine's catalog
//! rules (gender, age, hospital level, visit type, daily quantity, exclusive pairs) see the
//! national limits.

use crate::model::*;
use medfund_contract::{CatalogEntry, Code};
use std::collections::HashMap;

/// What [`KnowledgeBase::apply_to_catalog`] changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// Existing entries that received at least one limit.
    pub updated: usize,
    /// Entries created for codes the catalog did not list.
    pub created: usize,
}

impl KnowledgeBase {
    /// Merges the catalog-expressible limits into `catalog`, creating entries for codes it does
    /// not list (name from the knowledge point, `list_type` 1 for drug codes X…/Z…, 3 for
    /// 15-digit items). Where the catalog already has a limit, the stricter one is kept:
    ///
    /// | limit | catalog column |
    /// |---|---|
    /// | gender | `lmt_gend` (the national value wins over none) |
    /// | age | `lmt_age_min` / `lmt_age_max` in whole years; 新生儿 → max 0 (the day-precise test is [`AgeRange::allows`]); working age → men's maximum (the women's is in the point) |
    /// | visit type | `lmt_med_type` (not the points that also admit emergency visits: see [`crate::eval::visit_type_limit`]) |
    /// | hospital level | `lmt_hosp_lv` (smaller number = stricter) |
    /// | frequency per day | `max_cnt_day` (smaller) |
    /// | duplicate pair with period 单次就诊 | main code's `excl_codes` += secondary |
    ///
    /// Course, cycle, insurance type, secondary-surgery and timed-pair points have no catalog
    /// column; [`crate::eval`] evaluates them.
    pub fn apply_to_catalog(&self, catalog: &mut Vec<CatalogEntry>) -> MergeStats {
        let mut pos: HashMap<Code, usize> = catalog
            .iter()
            .enumerate()
            .map(|(i, c)| (c.med_list_codg.clone(), i))
            .collect();
        let mut stats = MergeStats::default();
        let mut touched = vec![false; catalog.len()];
        for p in &self.points {
            let expressible = match &p.limit {
                Limit::Gender { .. }
                | Limit::Age(_)
                | Limit::VisitType {
                    emergency_ok: false,
                    ..
                }
                | Limit::HospLevel { .. }
                | Limit::FrequencyPerDay { .. } => true,
                Limit::DuplicatePair { period, .. } => *period == Period::SameVisit,
                _ => false,
            };
            if !expressible {
                continue;
            }
            let i = match pos.get(&p.med_list_codg) {
                Some(i) => *i,
                None => {
                    catalog.push(CatalogEntry {
                        med_list_codg: p.med_list_codg.clone(),
                        med_list_name: p.name.clone(),
                        list_type: if p.med_list_codg.starts_with(['X', 'Z']) {
                            1
                        } else {
                            3
                        },
                        ..Default::default()
                    });
                    touched.push(true);
                    stats.created += 1;
                    pos.insert(p.med_list_codg.clone(), catalog.len() - 1);
                    catalog.len() - 1
                }
            };
            if !touched[i] {
                touched[i] = true;
                stats.updated += 1;
            }
            let c = &mut catalog[i];
            match &p.limit {
                Limit::Gender { gender } => c.lmt_gend = Some(*gender),
                Limit::Age(a) => {
                    let min = a.min_years;
                    let max = if a.max_days_of_life.is_some() {
                        Some(0)
                    } else {
                        a.max_years
                    };
                    if let Some(min) = min {
                        c.lmt_age_min = Some(c.lmt_age_min.map_or(min, |m| m.max(min)));
                    }
                    if let Some(max) = max {
                        c.lmt_age_max = Some(c.lmt_age_max.map_or(max, |m| m.min(max)));
                    }
                }
                Limit::VisitType { med_type, .. } => c.lmt_med_type = Some(*med_type),
                Limit::HospLevel { lmt_hosp_lv, .. } => {
                    c.lmt_hosp_lv =
                        Some(c.lmt_hosp_lv.map_or(*lmt_hosp_lv, |l| l.min(*lmt_hosp_lv)));
                }
                Limit::FrequencyPerDay { max, .. } => {
                    c.max_cnt_day = Some(c.max_cnt_day.map_or(*max, |m| m.min(*max)));
                }
                Limit::DuplicatePair { secondary, .. } if !c.excl_codes.contains(secondary) => {
                    c.excl_codes.push(secondary.clone());
                }
                _ => {}
            }
        }
        stats
    }
}
