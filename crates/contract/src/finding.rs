//! The findings shape (DOMAIN.md §4): one shape for every rule and model, stable across versions.
//!
//! ```
//! use medfund_contract::finding::{Category, Finding, Level, Outcome};
//! let mut f = Finding::new("gender_limit.default", Category::GenderLimit, Level::Fee);
//! f.mdtrt_id = Some("M1".into());
//! f.feedetl_sn = Some("1".into());
//! f.seal();
//! assert_eq!(f.finding_id.len(), 16);
//! assert_eq!(f.result, Outcome::Violation);
//! ```

use crate::codes::Code;
use crate::money::Fen;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

macro_rules! categories {
    ($($variant:ident = $code:literal, $zh:literal, $level:ident;)*) => {
        /// Finding categories: stable codes (DOMAIN.md §4).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Category {
            $(#[serde(rename = $code)] $variant,)*
        }
        impl Category {
            /// Every category in contract order.
            pub const ALL: &'static [Category] = &[$(Category::$variant,)*];
            /// The stable code, e.g. `gender_limit`.
            pub fn code(self) -> &'static str {
                match self { $(Category::$variant => $code,)* }
            }
            /// The Chinese rule name, e.g. 限性别.
            pub fn zh(self) -> &'static str {
                match self { $(Category::$variant => $zh,)* }
            }
            /// The level findings of this category are reported at by default.
            pub fn default_level(self) -> Level {
                match self { $(Category::$variant => Level::$level,)* }
            }
            pub fn from_code(s: &str) -> Option<Category> {
                match s { $($code => Some(Category::$variant),)* _ => None }
            }
        }
    };
}

categories! {
    GenderLimit = "gender_limit", "限性别", Fee;
    AgeLimit = "age_limit", "限年龄", Fee;
    HospLevelLimit = "hosp_level_limit", "限医疗机构级别", Fee;
    MedTypeLimit = "med_type_limit", "限就医方式", Fee;
    IndicationLimit = "indication_limit", "限适应症", Fee;
    OverPrice = "over_price", "超限定单价收费", Fee;
    OverFrequency = "over_frequency", "限定频次", Fee;
    DuplicateCharge = "duplicate_charge", "重复收费", Fee;
    ExclusiveItems = "exclusive_items", "互斥项目重复收费", Fee;
    SplitCharge = "split_charge", "分解收费", Fee;
    BedDaysExcess = "bed_days_excess", "计费与住院时间不符", Mdtrt;
    SplitAdmission = "split_admission", "分解住院", Mdtrt;
    PhantomBed = "phantom_bed", "挂床住院", Mdtrt;
    ConcurrentVisit = "concurrent_visit", "住院期间他院就诊", Mdtrt;
    DoctorShopping = "doctor_shopping", "频繁购药/多处开药", Psn;
    CardMisuse = "card_misuse", "冒名就医/套刷", Mdtrt;
    InventoryMismatch = "inventory_mismatch", "药品进销存异常", Fixmedins;
    TraceCodeReuse = "trace_code_reuse", "追溯码重复", Fee;
    RxMissing = "rx_missing", "无处方/超处方", Fee;
    SuspendedPract = "suspended_pract", "暂停/终止资格人员", Fee;
    ProviderOutlier = "provider_outlier", "统计指标监测异常", Fixmedins;
    Upcoding = "upcoding", "高套分组/低码高编", Mdtrt;
    InsuranceTypeLimit = "insurance_type_limit", "限工伤/生育保险", Fee;
    CourseLimit = "course_limit", "限支付疗程", Fee;
    CycleFrequency = "cycle_frequency", "周期超频次", Fee;
    SecondarySurgeryDiscount = "secondary_surgery_discount", "手术项目未按规定折价收费", Fee;
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// `result`: suspect (可疑) or violation (明确违规).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Suspect,
    Violation,
}

impl Outcome {
    pub fn zh(self) -> &'static str {
        match self {
            Outcome::Suspect => "可疑",
            Outcome::Violation => "明确违规",
        }
    }
}

/// `level`: what the finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Fee,
    Mdtrt,
    Psn,
    Fixmedins,
    Pract,
}

impl Level {
    pub fn code(self) -> &'static str {
        match self {
            Level::Fee => "fee",
            Level::Mdtrt => "mdtrt",
            Level::Psn => "psn",
            Level::Fixmedins => "fixmedins",
            Level::Pract => "pract",
        }
    }
}

/// The evidence of a finding: a sentence an auditor can act on and the facts behind it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Chinese sentence, e.g. "患者男，项目限女性使用：…".
    pub text: String,
    /// Machine-readable facts (limit, observed value, related lines …).
    #[serde(default)]
    pub details: serde_json::Value,
}

/// One finding. Field order is the contract's column order (CSV and Parquet follow it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub finding_id: String,
    pub rule_id: String,
    pub nhsa_rule_code: Option<String>,
    pub category: Category,
    pub result: Outcome,
    /// 1 (low) – 4 (high).
    pub severity: u8,
    pub level: Level,
    pub setl_id: Option<Code>,
    pub mdtrt_id: Option<Code>,
    pub feedetl_sn: Option<Code>,
    pub psn_no: Option<Code>,
    pub fixmedins_code: Option<Code>,
    pub pract_code: Option<Code>,
    pub med_list_codg: Option<Code>,
    /// Suspect fund amount in yuan (2 decimals); `None` where the rule defines none.
    pub amount: Option<Fen>,
    pub evidence: Evidence,
}

/// Column names of the flat (CSV/Parquet) findings layout, in order. `evidence` is split into
/// `evidence` (the sentence) and `evidence_details` (JSON text).
pub const FINDING_COLUMNS: &[&str] = &[
    "finding_id",
    "rule_id",
    "nhsa_rule_code",
    "category",
    "result",
    "severity",
    "level",
    "setl_id",
    "mdtrt_id",
    "feedetl_sn",
    "psn_no",
    "fixmedins_code",
    "pract_code",
    "med_list_codg",
    "amount",
    "evidence",
    "evidence_details",
];

impl Finding {
    /// A blank finding of a rule; fill the keys, amount and evidence, then [`Finding::seal`].
    pub fn new(rule_id: impl Into<String>, category: Category, level: Level) -> Finding {
        Finding {
            finding_id: String::new(),
            rule_id: rule_id.into(),
            nhsa_rule_code: None,
            category,
            result: Outcome::Violation,
            severity: 2,
            level,
            setl_id: None,
            mdtrt_id: None,
            feedetl_sn: None,
            psn_no: None,
            fixmedins_code: None,
            pract_code: None,
            med_list_codg: None,
            amount: None,
            evidence: Evidence::default(),
        }
    }

    /// Computes the finding id from the rule and the keys, so a rerun over the same data yields
    /// the same ids (review state attaches to them).
    pub fn seal(&mut self) {
        self.finding_id = finding_id(
            &self.rule_id,
            self.level,
            [
                &self.setl_id,
                &self.mdtrt_id,
                &self.feedetl_sn,
                &self.psn_no,
                &self.fixmedins_code,
                &self.pract_code,
                &self.med_list_codg,
            ],
        );
    }

    /// The flat row of [`FINDING_COLUMNS`].
    pub fn to_row(&self) -> Vec<String> {
        let s = |o: &Option<Code>| o.as_ref().map(|c| c.to_string()).unwrap_or_default();
        vec![
            self.finding_id.clone(),
            self.rule_id.clone(),
            self.nhsa_rule_code.clone().unwrap_or_default(),
            self.category.code().to_string(),
            match self.result {
                Outcome::Suspect => "suspect".into(),
                Outcome::Violation => "violation".into(),
            },
            self.severity.to_string(),
            self.level.code().to_string(),
            s(&self.setl_id),
            s(&self.mdtrt_id),
            s(&self.feedetl_sn),
            s(&self.psn_no),
            s(&self.fixmedins_code),
            s(&self.pract_code),
            s(&self.med_list_codg),
            self.amount.map(|a| a.to_string()).unwrap_or_default(),
            self.evidence.text.clone(),
            self.evidence.details.to_string(),
        ]
    }
}

/// 16 hex digits of SHA-256 over the rule id, level and keys (unit-separator joined).
pub fn finding_id(rule_id: &str, level: Level, keys: [&Option<Code>; 7]) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0x1f]);
    h.update(level.code().as_bytes());
    for k in keys {
        h.update([0x1f]);
        if let Some(k) = k {
            h.update(k.as_bytes());
        }
    }
    let d = h.finalize();
    d[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_key_sensitive() {
        let mut a = Finding::new("r1", Category::OverPrice, Level::Fee);
        a.mdtrt_id = Some("M1".into());
        a.feedetl_sn = Some("2".into());
        a.seal();
        let mut b = a.clone();
        b.seal();
        assert_eq!(a.finding_id, b.finding_id);
        b.feedetl_sn = Some("3".into());
        b.seal();
        assert_ne!(a.finding_id, b.finding_id);
        // Moving a key to another field changes the id (no ambiguity from concatenation).
        let mut c = Finding::new("r1", Category::OverPrice, Level::Fee);
        c.mdtrt_id = Some("M12".into());
        c.seal();
        let mut d = Finding::new("r1", Category::OverPrice, Level::Fee);
        d.mdtrt_id = Some("M1".into());
        d.feedetl_sn = Some("2".into());
        d.seal();
        assert_ne!(c.finding_id, d.finding_id);
    }

    #[test]
    fn json_shape() {
        let mut f = Finding::new("over_price.default", Category::OverPrice, Level::Fee);
        f.amount = Some(Fen(1234));
        f.seal();
        let v: serde_json::Value = serde_json::to_value(&f).unwrap();
        assert_eq!(v["category"], "over_price");
        assert_eq!(v["result"], "violation");
        assert_eq!(v["level"], "fee");
        assert_eq!(v["amount"], "12.34");
        assert!(v["psn_no"].is_null());
        assert_eq!(Category::ALL.len(), 26);
        for c in Category::ALL {
            assert_eq!(Category::from_code(c.code()), Some(*c));
        }
        assert_eq!(FINDING_COLUMNS.len(), f.to_row().len());
    }
}
