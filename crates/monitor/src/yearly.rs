//! The indicators of a whole year from the store, for the year-end assessment of total budget
//! control (DOMAIN.md §6: who bears an overage depends on the indicators met).
//!
//! A year of a city's claims does not fit in memory, so the year is taken month by month: each
//! month's stats are computed exactly as the monthly report computes them (with the same
//! look-back for stays admitted in earlier months) and the months are added up
//! ([`Stats::add`]). Every indicator but `visits_per_head` is a ratio of such sums.

use crate::indicators::{period_stats, Stats};
use crate::input::{MonitorInput, Period};
use crate::policy::Policy;
use anyhow::Context;
use medfund_contract::schema::Table;
use medfund_contract::YearMonth;
use medfund_store::{ClaimFilter, Store};
use std::collections::BTreeMap;

/// Months read before a month so that its inpatient stays find their earlier fee lines; the
/// monthly report uses the same window.
pub const STAY_LOOKBACK_MONTHS: i32 = 3;

/// The summed stats of every institution over calendar `year`, read month by month.
/// Institutions without activity in the year are absent.
pub fn year_stats(
    store: &mut Store,
    year: i32,
    policy: &Policy,
) -> anyhow::Result<BTreeMap<String, Stats>> {
    let mut acc: BTreeMap<String, Stats> = BTreeMap::new();
    for month in 1..=12 {
        let m = YearMonth::new(year, month).context("年份无效 / invalid year")?;
        let batch = store
            .read_claims(&ClaimFilter {
                from: Some(m.plus(-STAY_LOOKBACK_MONTHS)),
                to: Some(m),
                tables: vec![Table::Mdtrt, Table::Setl, Table::Fee],
            })
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("读取 {m} 的数据失败 / cannot read {m} from the store"))?;
        let stats = period_stats(&MonitorInput::from_batch(&batch), Period::month(m), policy);
        for (code, s) in stats {
            acc.entry(code).or_default().add(&s);
        }
    }
    Ok(acc)
}
