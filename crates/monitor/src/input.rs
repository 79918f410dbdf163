//! What the monitor reads: borrowed slices of contract records, and the periods it reports on.

use chrono::{NaiveDate, NaiveDateTime};
use medfund_contract::records::{
    Batch, Budget, CatalogEntry, Fee, Fixmedins, FixmedinsType, FundMonth, Mdtrt, Psn, Setl,
};
use medfund_contract::time::YearMonth;
use std::collections::HashMap;

/// The records the monitor needs. Borrowed, so a caller holding a [`Batch`] (or rows read from
/// the store for a few months) passes them without copying.
///
/// For a monthly report on month `m` the claim tables (`mdtrt`, `setl`, `fee`) should cover
/// January of `m`'s year − 1 through `m` (the baseline is `m` − 12 and the budget is cumulative
/// from January); fewer months simply leave those comparisons empty.
#[derive(Clone, Copy, Debug, Default)]
pub struct MonitorInput<'a> {
    pub fixmedins: &'a [Fixmedins],
    pub psn: &'a [Psn],
    pub catalog: &'a [CatalogEntry],
    pub mdtrt: &'a [Mdtrt],
    pub setl: &'a [Setl],
    pub fee: &'a [Fee],
    pub fund_month: &'a [FundMonth],
    pub budget: &'a [Budget],
}

impl<'a> MonitorInput<'a> {
    /// Borrows every table the monitor uses from a whole batch.
    pub fn from_batch(b: &'a Batch) -> MonitorInput<'a> {
        MonitorInput {
            fixmedins: &b.fixmedins,
            psn: &b.psn,
            catalog: &b.catalog,
            mdtrt: &b.mdtrt,
            setl: &b.setl,
            fee: &b.fee,
            fund_month: &b.fund_month,
            budget: &b.budget,
        }
    }

    /// The months covered by the claims (by settlement time, else visit start), if any.
    pub fn claim_months(&self) -> Option<Period> {
        let months = self
            .setl
            .iter()
            .map(|s| YearMonth::of(s.setl_time.date()))
            .chain(self.mdtrt.iter().map(|m| YearMonth::of(m.begntime.date())));
        let mut lo: Option<YearMonth> = None;
        let mut hi: Option<YearMonth> = None;
        for m in months {
            lo = Some(lo.map_or(m, |l| l.min(m)));
            hi = Some(hi.map_or(m, |h| h.max(m)));
        }
        Some(Period { from: lo?, to: hi? })
    }
}

/// An inclusive range of months.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Period {
    pub from: YearMonth,
    pub to: YearMonth,
}

impl Period {
    /// A single month.
    pub fn month(m: YearMonth) -> Period {
        Period { from: m, to: m }
    }
    /// Whether `m` lies in the period.
    pub fn contains(&self, m: YearMonth) -> bool {
        self.from <= m && m <= self.to
    }
    /// The same period `n` months later (negative: earlier).
    pub fn shift(&self, n: i32) -> Period {
        Period {
            from: self.from.plus(n),
            to: self.to.plus(n),
        }
    }
    /// First day of the period.
    pub fn first_day(&self) -> NaiveDate {
        self.from.first_day()
    }
    /// The day after the period.
    pub fn end_exclusive(&self) -> NaiveDate {
        self.to.plus(1).first_day()
    }
    /// Number of days in the period.
    pub fn days(&self) -> i64 {
        (self.end_exclusive() - self.first_day()).num_days()
    }
    /// `2024-03` for one month, `2024-01~2024-03` for a range.
    pub fn label(&self) -> String {
        if self.from == self.to {
            self.from.to_string()
        } else {
            format!("{}~{}", self.from, self.to)
        }
    }
}

/// When a visit counts: its earliest settlement time (the month the fund paid it, as the
/// bureau's monthly reimbursement reports count), else its discharge time for an inpatient stay,
/// else its start time.
pub(crate) fn visit_times<'a>(input: &MonitorInput<'a>) -> HashMap<&'a str, NaiveDateTime> {
    let mut first_setl: HashMap<&'a str, NaiveDateTime> = HashMap::with_capacity(input.setl.len());
    for s in input.setl {
        first_setl
            .entry(s.mdtrt_id.as_str())
            .and_modify(|t| {
                if s.setl_time < *t {
                    *t = s.setl_time
                }
            })
            .or_insert(s.setl_time);
    }
    first_setl
}

/// The month a visit counts in (see [`visit_times`]).
pub(crate) fn visit_month(m: &Mdtrt, first_setl: &HashMap<&str, NaiveDateTime>) -> YearMonth {
    let t = first_setl
        .get(m.mdtrt_id.as_str())
        .copied()
        .unwrap_or_else(|| {
            if m.is_inpatient() {
                m.endtime.unwrap_or(m.begntime)
            } else {
                m.begntime
            }
        });
    YearMonth::of(t.date())
}

/// Peer group of an institution: type and hosp_lv (missing level = 9 unrated).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct PeerGroup {
    /// `1` medical institution, `2` retail pharmacy.
    pub fixmedins_type: &'static str,
    /// 1 tertiary, 2 secondary, 3 primary, 9 unrated.
    pub hosp_lv: u8,
}

impl PeerGroup {
    /// The group of an institution.
    pub fn of(f: &Fixmedins) -> PeerGroup {
        PeerGroup {
            fixmedins_type: f.fixmedins_type.code(),
            hosp_lv: f.hosp_lv.unwrap_or(9),
        }
    }
    /// Chinese label, e.g. 医疗机构·三级.
    pub fn zh(&self) -> String {
        let t = if self.fixmedins_type == FixmedinsType::Pharmacy.code() {
            "零售药店"
        } else {
            "医疗机构"
        };
        format!("{t}·{}", hosp_lv_zh(Some(self.hosp_lv)))
    }
}

/// 三级 / 二级 / 一级 / 未定级.
pub fn hosp_lv_zh(lv: Option<u8>) -> &'static str {
    match lv {
        Some(1) => "三级",
        Some(2) => "二级",
        Some(3) => "一级",
        _ => "未定级",
    }
}

/// The 4-digit area (prefecture) of an institution: its admdvs, else the area inside its code
/// (characters 2–5 of `H`/`P` + 6-digit area + 5 digits).
pub(crate) fn city_of<'a>(
    code: &'a str,
    fixmedins: &HashMap<&str, &'a Fixmedins>,
) -> Option<&'a str> {
    if let Some(a) = fixmedins.get(code).and_then(|f| f.admdvs.as_deref()) {
        if a.len() >= 4 {
            return Some(&a[..4]);
        }
    }
    (code.len() == 12 && code.is_char_boundary(1) && code.is_char_boundary(5)).then(|| &code[1..5])
}

/// Whether a list code is a drug: the catalog's list_type 1 (drug) or 2 (herbal pieces); for a
/// code the catalog does not list, the national code shape (X western, Z Chinese patent, T herbal).
pub(crate) fn is_drug(code: &str, catalog: &HashMap<&str, &CatalogEntry>) -> bool {
    match catalog.get(code) {
        Some(c) => c.list_type == 1 || c.list_type == 2,
        None => matches!(code.as_bytes().first(), Some(b'X' | b'Z' | b'T')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        let m = YearMonth::parse("2024-02").unwrap();
        let p = Period::month(m);
        assert_eq!(p.days(), 29);
        assert_eq!(p.shift(-12).label(), "2023-02");
        let q = Period {
            from: m,
            to: m.plus(2),
        };
        assert_eq!(q.days(), 29 + 31 + 30);
        assert!(q.contains(m.plus(1)) && !q.contains(m.plus(3)));
        assert_eq!(q.label(), "2024-02~2024-04");
    }

    #[test]
    fn drug_classification() {
        let c = CatalogEntry {
            med_list_codg: "XA01".into(),
            list_type: 3,
            ..Default::default()
        };
        let cat: HashMap<&str, &CatalogEntry> = [("XA01", &c)].into_iter().collect();
        // The catalog wins over the code shape.
        assert!(!is_drug("XA01", &cat));
        assert!(is_drug("ZA01AAB0123010100001", &cat));
        assert!(is_drug("T001700001", &cat));
        assert!(!is_drug("003105050010000", &cat));
        assert!(!is_drug("C0101010100000000001", &cat));
    }

    #[test]
    fn city_from_admdvs_or_code() {
        let f = Fixmedins {
            fixmedins_code: "H33010200001".into(),
            fixmedins_name: "x".into(),
            fixmedins_type: FixmedinsType::Medical,
            hosp_lv: Some(1),
            admdvs: Some("310101".into()),
        };
        let map: HashMap<&str, &Fixmedins> = [("H33010200001", &f)].into_iter().collect();
        assert_eq!(city_of("H33010200001", &map), Some("3101"));
        assert_eq!(city_of("H44030100001", &map), Some("4403"));
        assert_eq!(city_of("short", &map), None);
    }
}
