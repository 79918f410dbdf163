//! What the server derives from the store once (at start and after each load) instead of on
//! every request: the monitoring report of every month with settlements, the monthly spending
//! trend, the pre-check context and each person's recent history.

use medfund_audit::{PersonHistory, PrecheckContext};
use medfund_contract::schema::Table;
use medfund_contract::{Code, Fen, Fixmedins, YearMonth};
use medfund_monitor::MonitorInput;
use medfund_store::{ClaimFilter, Store};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Derived, read-only view of the store.
pub struct Snapshot {
    /// Months with settlements, oldest first.
    pub months: Vec<YearMonth>,
    /// The monitoring report of each month (JSON, the monitor crate's schema).
    pub reports: BTreeMap<YearMonth, serde_json::Value>,
    /// Fund spending (hifp_pay) and total cost per month.
    pub trend: Vec<(YearMonth, Fen, Fen)>,
    pub fixmedins: Vec<Fixmedins>,
    pub precheck: PrecheckContext,
    pub history: HashMap<Code, PersonHistory>,
}

impl Snapshot {
    /// Builds the snapshot from everything the store holds.
    pub fn build(data: &Path, store: &mut Store) -> anyhow::Result<Snapshot> {
        let batch = store
            .read_claims(&ClaimFilter::all())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut months: Vec<YearMonth> = store
            .months(Table::Setl)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        months.sort();
        let mpolicy = medfund_monitor::Policy::load()?;
        let input = MonitorInput::from_batch(&batch);
        let mut reports = BTreeMap::new();
        for m in &months {
            let r = medfund_monitor::monthly_report(&input, *m, &mpolicy);
            reports.insert(*m, serde_json::to_value(&r)?);
        }
        let mut by_month: BTreeMap<YearMonth, (Fen, Fen)> = BTreeMap::new();
        for s in &batch.setl {
            let e = by_month
                .entry(YearMonth::of(s.setl_time.date()))
                .or_default();
            e.0 += s.hifp_pay;
            e.1 += s.medfee_sumamt;
        }
        let trend = by_month.into_iter().map(|(m, (a, b))| (m, a, b)).collect();

        let apolicy = medfund_audit::Policy::load()?;
        let lib = medfund_audit::cli::load_rules(None, &apolicy)?;
        let kb = medfund_kb::load_current(data);
        let kbp = medfund_kb::policy::KbPolicy::load()?;
        let mut precheck = PrecheckContext::new(
            batch.catalog.clone(),
            &batch.fixmedins,
            &batch.pract_susp,
            &lib,
            kb.as_ref().map(|k| (k, &kbp)),
            apolicy,
        );
        precheck.remember_trace_codes(batch.fee.iter());

        let mut history: HashMap<Code, PersonHistory> = HashMap::new();
        for p in &batch.psn {
            history.entry(p.psn_no.clone()).or_default().psn = Some(p.clone());
        }
        let mut visit_psn: HashMap<&str, &Code> = HashMap::new();
        for m in &batch.mdtrt {
            visit_psn.insert(m.mdtrt_id.as_str(), &m.psn_no);
            history
                .entry(m.psn_no.clone())
                .or_default()
                .visits
                .push(m.clone());
        }
        for f in &batch.fee {
            history
                .entry(f.psn_no.clone())
                .or_default()
                .fees
                .push(f.clone());
        }
        for d in &batch.diag {
            if let Some(p) = visit_psn.get(d.mdtrt_id.as_str()) {
                history
                    .entry((*p).clone())
                    .or_default()
                    .diags
                    .push(d.clone());
            }
        }
        for v in &batch.idv {
            history
                .entry(v.psn_no.clone())
                .or_default()
                .idv
                .push(v.clone());
        }
        for r in &batch.rx {
            history
                .entry(r.psn_no.clone())
                .or_default()
                .rx
                .push(r.clone());
        }
        Ok(Snapshot {
            months,
            reports,
            trend,
            fixmedins: batch.fixmedins,
            precheck,
            history,
        })
    }

    /// The latest month with settlements.
    pub fn latest(&self) -> Option<YearMonth> {
        self.months.last().copied()
    }
}
