//! The rule library as data (DOMAIN.md §4.2): a versioned directory of TOML files, each holding
//! `[[rule]]` tables. A rule is a typed template with parameters, a code-set filter, a scenario,
//! stages, a result type, a severity, a national rule code, an effective date range and an
//! enabled flag. The default library (`rules/*.toml` at the repository root) is embedded in the
//! binary; `--rules DIR` replaces it, so a city changes a threshold or disables a rule without a
//! rebuild.
//!
//! ```
//! use medfund_audit::rules::RuleLibrary;
//! let lib = RuleLibrary::builtin();
//! assert!(lib.rules.iter().any(|r| r.id == "over_price.catalog"));
//! let src = r#"
//! [[rule]]
//! id = "split_admission.city"
//! version = 2
//! name_zh = "分解住院（本市 10 天口径）"
//! category = "split_admission"
//! template = "readmission"
//! params = { readmission_days = 10 }
//! "#;
//! let lib = RuleLibrary::from_sources(&[("city.toml".into(), src.into())]).unwrap();
//! assert_eq!(lib.rules[0].params.readmission_days(), 10);
//! ```

use chrono::NaiveDate;
use medfund_contract::finding::{Category, Outcome};
use medfund_contract::money::{parse_scaled, Price, Qty};
use medfund_contract::records::{Gender, MedTypeLimit};
use medfund_contract::Code;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// The default rule files, embedded at build time so the binary works anywhere.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    ("library.toml", include_str!("../../../rules/library.toml")),
    (
        "line_limits.toml",
        include_str!("../../../rules/line_limits.toml"),
    ),
    ("charges.toml", include_str!("../../../rules/charges.toml")),
    (
        "inpatient.toml",
        include_str!("../../../rules/inpatient.toml"),
    ),
    ("person.toml", include_str!("../../../rules/person.toml")),
    (
        "pharmacy.toml",
        include_str!("../../../rules/pharmacy.toml"),
    ),
    (
        "personnel.toml",
        include_str!("../../../rules/personnel.toml"),
    ),
    (
        "national_kb.toml",
        include_str!("../../../rules/national_kb.toml"),
    ),
];

/// A rule template: the typed check a rule instantiates (DOMAIN.md §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    Gender,
    Age,
    HospLevel,
    MedType,
    Indication,
    Price,
    Frequency,
    Duplicate,
    ExclusivePair,
    Package,
    BedDays,
    Readmission,
    Presence,
    Concurrent,
    MultiSource,
    Identity,
    Inventory,
    TraceReuse,
    Prescription,
    Suspension,
    KbInsuranceType,
    KbCourse,
    KbCycle,
    KbSecondarySurgery,
    KbDuplicatePair,
}

impl Template {
    /// Every template.
    pub const ALL: &'static [Template] = &[
        Template::Gender,
        Template::Age,
        Template::HospLevel,
        Template::MedType,
        Template::Indication,
        Template::Price,
        Template::Frequency,
        Template::Duplicate,
        Template::ExclusivePair,
        Template::Package,
        Template::BedDays,
        Template::Readmission,
        Template::Presence,
        Template::Concurrent,
        Template::MultiSource,
        Template::Identity,
        Template::Inventory,
        Template::TraceReuse,
        Template::Prescription,
        Template::Suspension,
        Template::KbInsuranceType,
        Template::KbCourse,
        Template::KbCycle,
        Template::KbSecondarySurgery,
        Template::KbDuplicatePair,
    ];

    /// The template's name as written in rule files.
    pub fn code(self) -> &'static str {
        match self {
            Template::Gender => "gender",
            Template::Age => "age",
            Template::HospLevel => "hosp_level",
            Template::MedType => "med_type",
            Template::Indication => "indication",
            Template::Price => "price",
            Template::Frequency => "frequency",
            Template::Duplicate => "duplicate",
            Template::ExclusivePair => "exclusive_pair",
            Template::Package => "package",
            Template::BedDays => "bed_days",
            Template::Readmission => "readmission",
            Template::Presence => "presence",
            Template::Concurrent => "concurrent",
            Template::MultiSource => "multi_source",
            Template::Identity => "identity",
            Template::Inventory => "inventory",
            Template::TraceReuse => "trace_reuse",
            Template::Prescription => "prescription",
            Template::Suspension => "suspension",
            Template::KbInsuranceType => "kb_insurance_type",
            Template::KbCourse => "kb_course",
            Template::KbCycle => "kb_cycle",
            Template::KbSecondarySurgery => "kb_secondary_surgery",
            Template::KbDuplicatePair => "kb_duplicate_pair",
        }
    }

    /// The finding category a rule of this template reports.
    pub fn category(self) -> Category {
        match self {
            Template::Gender => Category::GenderLimit,
            Template::Age => Category::AgeLimit,
            Template::HospLevel => Category::HospLevelLimit,
            Template::MedType => Category::MedTypeLimit,
            Template::Indication => Category::IndicationLimit,
            Template::Price => Category::OverPrice,
            Template::Frequency => Category::OverFrequency,
            Template::Duplicate => Category::DuplicateCharge,
            Template::ExclusivePair => Category::ExclusiveItems,
            Template::Package => Category::SplitCharge,
            Template::BedDays => Category::BedDaysExcess,
            Template::Readmission => Category::SplitAdmission,
            Template::Presence => Category::PhantomBed,
            Template::Concurrent => Category::ConcurrentVisit,
            Template::MultiSource => Category::DoctorShopping,
            Template::Identity => Category::CardMisuse,
            Template::Inventory => Category::InventoryMismatch,
            Template::TraceReuse => Category::TraceCodeReuse,
            Template::Prescription => Category::RxMissing,
            Template::Suspension => Category::SuspendedPract,
            Template::KbInsuranceType => Category::InsuranceTypeLimit,
            Template::KbCourse => Category::CourseLimit,
            Template::KbCycle => Category::CycleFrequency,
            Template::KbSecondarySurgery => Category::SecondarySurgeryDiscount,
            Template::KbDuplicatePair => Category::ExclusiveItems,
        }
    }

    /// Whether the template checks one fee line against its own limits (indexed by code).
    pub fn is_line_rule(self) -> bool {
        matches!(
            self,
            Template::Gender
                | Template::Age
                | Template::HospLevel
                | Template::MedType
                | Template::Indication
                | Template::Price
                | Template::Suspension
        )
    }

    /// Parameter names the template accepts.
    pub fn allowed_params(self) -> &'static [&'static str] {
        match self {
            Template::Gender => &["gend"],
            Template::Age => &["age_min", "age_max"],
            Template::HospLevel => &["max_hosp_lv"],
            Template::MedType => &["med_type"],
            Template::Indication => &["dise_prefixes"],
            Template::Price => &["price_cap"],
            Template::Frequency => &["max_cnt_day", "max_cnt_mdtrt"],
            Template::Duplicate => &[],
            Template::ExclusivePair => &["period", "pairs"],
            Template::Package => &[],
            Template::BedDays => &["bed_chrgitm_type"],
            Template::Readmission => &["readmission_days", "icd_prefix_len"],
            Template::Presence => &["min_absent_days", "absent_share", "bed_chrgitm_type"],
            Template::Concurrent => &[],
            Template::MultiSource => &["window_days", "min_institutions"],
            Template::Identity => &["form", "distance_admdvs_prefix", "max_hours"],
            Template::Inventory => &[],
            Template::TraceReuse => &[],
            Template::Prescription => &["valid_days_default"],
            Template::Suspension => &["check_attending"],
            Template::KbInsuranceType => &[],
            Template::KbCourse => &[],
            Template::KbCycle => &[],
            Template::KbSecondarySurgery => &[],
            Template::KbDuplicatePair => &[],
        }
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The care setting a rule applies to (DOMAIN.md §4.2 scenario).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// Every visit.
    #[default]
    All,
    /// Outpatient visits at medical institutions (门诊).
    Outpatient,
    /// Inpatient stays (住院).
    Inpatient,
    /// Retail pharmacy sales (定点药店).
    Pharmacy,
    /// Visits at an institution outside the person's insured area (异地就医).
    OutOfArea,
}

impl Scenario {
    /// The scenario's name in rule files.
    pub fn code(self) -> &'static str {
        match self {
            Scenario::All => "all",
            Scenario::Outpatient => "outpatient",
            Scenario::Inpatient => "inpatient",
            Scenario::Pharmacy => "pharmacy",
            Scenario::OutOfArea => "out_of_area",
        }
    }
}

/// When a rule runs: 事前 before (order entry), 事中 during (settlement), 事后 after (batch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Before,
    During,
    After,
}

impl Stage {
    /// The stage's name in rule files.
    pub fn code(self) -> &'static str {
        match self {
            Stage::Before => "before",
            Stage::During => "during",
            Stage::After => "after",
        }
    }
}

/// Which code set a rule applies to. An empty filter matches every code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeFilter {
    /// Exact national list codes.
    #[serde(default)]
    pub codes: Vec<Code>,
    /// Code prefixes (e.g. `XJ01` for systemic antibacterials).
    #[serde(default)]
    pub prefixes: Vec<Code>,
    /// Catalog list types (1 drug, 2 herbal pieces, 3 service item, 4 consumable).
    #[serde(default)]
    pub list_types: Vec<u8>,
}

impl CodeFilter {
    /// Whether no restriction is set.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty() && self.prefixes.is_empty() && self.list_types.is_empty()
    }

    /// Whether `code` (with its catalog list type, when known) is in the set.
    pub fn matches(&self, code: &str, list_type: Option<u8>) -> bool {
        if !self.list_types.is_empty() && !list_type.is_some_and(|t| self.list_types.contains(&t)) {
            return false;
        }
        if self.codes.is_empty() && self.prefixes.is_empty() {
            return true;
        }
        self.codes.iter().any(|c| c == code)
            || self.prefixes.iter().any(|p| code.starts_with(p.as_str()))
    }
}

/// `identity` template forms (card_misuse, DOMAIN.md §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityForm {
    /// (a) failed identity verification at the institution that day and never passed there.
    FailedVerification,
    /// (b) two visits in distant areas starting less than `max_hours` apart.
    DistantPlaces,
}

/// `exclusive_pair` period: the pair must not be charged within one visit or one calendar day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PairPeriod {
    #[default]
    Visit,
    Day,
}

/// Typed rule parameters. Every field is optional in the file; the accessor methods return the
/// DOMAIN.md §4.1 default when it is absent.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// gender: the only gender the code set may be billed for (`1` male, `2` female), instead of
    /// the catalog's `lmt_gend`.
    pub gend: Option<String>,
    /// age: inclusive lower bound in whole years (overrides the catalog).
    pub age_min: Option<u16>,
    /// age: inclusive upper bound in whole years (overrides the catalog).
    pub age_max: Option<u16>,
    /// hosp_level: the highest hosp_lv number allowed (1 tertiary … 3 primary).
    pub max_hosp_lv: Option<u8>,
    /// med_type: `ipt` (inpatient only) or `opt` (outpatient only).
    pub med_type: Option<String>,
    /// indication: allowed ICD-10 prefixes.
    pub dise_prefixes: Option<Vec<Code>>,
    /// price: the unit price cap in yuan (decimal text, up to 6 decimals).
    pub price_cap: Option<String>,
    /// frequency: quantity limit per person and calendar day.
    pub max_cnt_day: Option<toml::Value>,
    /// frequency: quantity limit per visit.
    pub max_cnt_mdtrt: Option<toml::Value>,
    /// exclusive_pair: `visit` (default) or `day`.
    pub period: Option<PairPeriod>,
    /// exclusive_pair: extra A×B pairs besides the catalog's `excl_codes`.
    pub pairs: Option<Vec<[Code; 2]>>,
    /// bed_days, presence: the catalog fee category of bed fees (default `01`).
    pub bed_chrgitm_type: Option<Code>,
    /// readmission: days after discharge (default 15, inclusive).
    pub readmission_days: Option<i64>,
    /// readmission: leading characters of the main diagnosis compared (default 3).
    pub icd_prefix_len: Option<usize>,
    /// presence: minimum absent days (default 3).
    pub min_absent_days: Option<i64>,
    /// presence: minimum absent share of the stay (default 0.5, decimal text or number).
    pub absent_share: Option<toml::Value>,
    /// multi_source: window length in days (default 30).
    pub window_days: Option<i64>,
    /// multi_source: distinct institutions within the window (default 3).
    pub min_institutions: Option<usize>,
    /// identity: which form of card misuse.
    pub form: Option<IdentityForm>,
    /// identity (distant places): leading admdvs digits that must differ (default 4).
    pub distance_admdvs_prefix: Option<usize>,
    /// identity (distant places): visits starting less than this many hours apart (default 3).
    pub max_hours: Option<i64>,
    /// prescription: validity when the prescription carries none (default 3 days).
    pub valid_days_default: Option<u16>,
    /// suspension: also check the visit's attending doctor when the line has a billing doctor.
    pub check_attending: Option<bool>,
}

impl Params {
    /// readmission window in days (default 15).
    pub fn readmission_days(&self) -> i64 {
        self.readmission_days.unwrap_or(15)
    }
    /// Diagnosis category length (default 3).
    pub fn icd_prefix_len(&self) -> usize {
        self.icd_prefix_len.unwrap_or(3)
    }
    /// Minimum absent days (default 3).
    pub fn min_absent_days(&self) -> i64 {
        self.min_absent_days.unwrap_or(3)
    }
    /// Absent share as parts per 10,000 (default 5,000 = 0.5).
    pub fn absent_share_bp(&self) -> i64 {
        self.absent_share
            .as_ref()
            .and_then(|v| decimal_value(v, 4))
            .unwrap_or(5_000)
    }
    /// multi_source window (default 30 days).
    pub fn window_days(&self) -> i64 {
        self.window_days.unwrap_or(30)
    }
    /// multi_source distinct institutions (default 3).
    pub fn min_institutions(&self) -> usize {
        self.min_institutions.unwrap_or(3)
    }
    /// identity admdvs prefix length (default 4).
    pub fn distance_admdvs_prefix(&self) -> usize {
        self.distance_admdvs_prefix.unwrap_or(4)
    }
    /// identity hour gap (default 3).
    pub fn max_hours(&self) -> i64 {
        self.max_hours.unwrap_or(3)
    }
    /// prescription validity default (3 days).
    pub fn valid_days_default(&self) -> u16 {
        self.valid_days_default.unwrap_or(3)
    }
    /// Bed fee category (default `01`).
    pub fn bed_chrgitm_type(&self) -> &str {
        self.bed_chrgitm_type.as_deref().unwrap_or("01")
    }
    /// Gender override.
    pub fn gender(&self) -> Option<Gender> {
        self.gend
            .as_deref()
            .and_then(Gender::parse)
            .filter(|g| *g != Gender::Unknown)
    }
    /// Visit-type override.
    pub fn med_type_limit(&self) -> Option<MedTypeLimit> {
        self.med_type.as_deref().and_then(MedTypeLimit::parse)
    }
    /// Price cap override.
    pub fn price_cap(&self) -> Option<Price> {
        self.price_cap.as_deref().and_then(|s| s.parse().ok())
    }
    /// Per-day quantity override.
    pub fn max_cnt_day(&self) -> Option<Qty> {
        self.max_cnt_day
            .as_ref()
            .and_then(|v| decimal_value(v, 4))
            .map(Qty)
    }
    /// Per-visit quantity override.
    pub fn max_cnt_mdtrt(&self) -> Option<Qty> {
        self.max_cnt_mdtrt
            .as_ref()
            .and_then(|v| decimal_value(v, 4))
            .map(Qty)
    }
}

/// Reads a TOML integer, float-free decimal string, or float (through its shortest text) scaled.
fn decimal_value(v: &toml::Value, scale: u32) -> Option<i64> {
    match v {
        toml::Value::Integer(i) => i.checked_mul(10i64.pow(scale)),
        toml::Value::String(s) => parse_scaled(s, scale).ok(),
        toml::Value::Float(f) => parse_scaled(&format!("{f}"), scale).ok(),
        _ => None,
    }
}

/// Where a rule was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// File name (relative to the library directory, or the embedded name).
    pub file: String,
    /// 1-based line of the `[[rule]]` table.
    pub line: usize,
}

/// One rule of the library.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Stable id, e.g. `gender_limit.catalog`; part of every finding id.
    pub id: String,
    /// Rule version (bumped when its meaning changes).
    pub version: u32,
    /// Chinese name shown to auditors.
    pub name_zh: String,
    /// What the rule is for, in a sentence.
    pub description: Option<String>,
    pub category: Category,
    pub template: Template,
    pub params: Params,
    /// Code set the rule applies to (empty = all codes the knowledge base limits).
    pub codes: CodeFilter,
    pub scenario: Scenario,
    pub stages: Vec<Stage>,
    pub result: Outcome,
    /// 1 (low) – 4 (high).
    pub severity: u8,
    pub nhsa_rule_code: Option<String>,
    /// First day the rule applies (inclusive).
    pub effective_from: Option<NaiveDate>,
    /// Last day the rule applies (inclusive).
    pub effective_to: Option<NaiveDate>,
    pub enabled: bool,
    pub source: Source,
}

impl Rule {
    /// Whether the rule is in force on `day`.
    pub fn in_force(&self, day: NaiveDate) -> bool {
        self.effective_from.is_none_or(|f| day >= f) && self.effective_to.is_none_or(|t| day <= t)
    }
    /// Whether the rule runs at `stage`.
    pub fn runs_at(&self, stage: Stage) -> bool {
        self.stages.contains(&stage)
    }
}

/// A problem in the rule library, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    pub file: String,
    /// 1-based line (0 when the problem is about the whole library).
    pub line: usize,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

/// All problems found while reading a library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleErrors(pub Vec<RuleError>);

impl fmt::Display for RuleErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "规则库有 {} 处错误 / rule library has {} error(s):",
            self.0.len(),
            self.0.len()
        )?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RuleErrors {}

/// The rule library: every rule read (enabled or not) and the library version.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleLibrary {
    /// `version` from `library.toml` (e.g. `2026.1`), or `unversioned`.
    pub version: String,
    /// Where it came from (a directory, or `builtin`).
    pub origin: String,
    /// Rules in file order (files sorted by name).
    pub rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    library: Option<RawHeader>,
    #[serde(default)]
    rule: Vec<toml::Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    version: String,
    #[allow(dead_code)]
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StageSpec {
    One(Stage),
    Many(Vec<Stage>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    version: u32,
    name_zh: String,
    #[serde(default)]
    description: Option<String>,
    category: String,
    template: Template,
    #[serde(default)]
    params: Option<toml::Spanned<toml::Table>>,
    #[serde(default)]
    codes: CodeFilter,
    #[serde(default)]
    scenario: Scenario,
    #[serde(default)]
    stage: Option<StageSpec>,
    #[serde(default)]
    result: Option<Outcome>,
    #[serde(default)]
    severity: Option<u8>,
    #[serde(default)]
    nhsa_rule_code: Option<String>,
    #[serde(default)]
    effective_from: Option<toml::value::Datetime>,
    #[serde(default)]
    effective_to: Option<toml::value::Datetime>,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn toml_date(d: &toml::value::Datetime) -> Option<NaiveDate> {
    let date = d.date?;
    if d.time.is_some() {
        return None;
    }
    NaiveDate::from_ymd_opt(date.year as i32, date.month as u32, date.day as u32)
}

impl RuleLibrary {
    /// The embedded default library (`rules/*.toml` of this source tree).
    pub fn builtin() -> RuleLibrary {
        let mut sources: Vec<(String, String)> = BUILTIN_FILES
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        // Same order as a directory load (file names sorted).
        sources.sort();
        let mut lib = RuleLibrary::from_sources(&sources)
            .expect("the embedded rule library is valid (tested)");
        lib.origin = "builtin".into();
        lib
    }

    /// Reads every `*.toml` file of `dir` (sorted by name). Errors carry file and line.
    pub fn load_dir(dir: &Path) -> Result<RuleLibrary, RuleErrors> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
                .collect(),
            Err(e) => {
                return Err(RuleErrors(vec![RuleError {
                    file: dir.display().to_string(),
                    line: 0,
                    message: format!("无法读取规则目录 / cannot read the rule directory: {e}"),
                }]))
            }
        };
        files.sort();
        let mut sources = Vec::new();
        let mut errors = Vec::new();
        for p in files {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            match std::fs::read_to_string(&p) {
                Ok(t) => sources.push((name, t)),
                Err(e) => errors.push(RuleError {
                    file: name,
                    line: 0,
                    message: format!(
                        "无法读取文件（需 UTF-8） / cannot read the file (UTF-8 expected): {e}"
                    ),
                }),
            }
        }
        if sources.is_empty() && errors.is_empty() {
            errors.push(RuleError {
                file: dir.display().to_string(),
                line: 0,
                message: "目录中没有 .toml 规则文件 / no .toml rule files in the directory".into(),
            });
        }
        let mut lib = match RuleLibrary::from_sources(&sources) {
            Ok(l) if errors.is_empty() => l,
            Ok(_) => return Err(RuleErrors(errors)),
            Err(RuleErrors(mut e)) => {
                errors.append(&mut e);
                return Err(RuleErrors(errors));
            }
        };
        lib.origin = dir.display().to_string();
        Ok(lib)
    }

    /// Parses and validates `(file name, text)` pairs; returns every problem found, not just
    /// the first.
    pub fn from_sources(sources: &[(String, String)]) -> Result<RuleLibrary, RuleErrors> {
        let mut errors = Vec::new();
        let mut rules = Vec::new();
        let mut version: Option<String> = None;
        for (file, text) in sources {
            let raw: RawFile = match toml::from_str(text) {
                Ok(r) => r,
                Err(e) => {
                    let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
                    errors.push(RuleError {
                        file: file.clone(),
                        line,
                        message: format!("TOML 格式错误 / TOML error: {}", e.message().trim()),
                    });
                    continue;
                }
            };
            if let Some(h) = raw.library {
                if let Some(v) = &version {
                    errors.push(RuleError {
                        file: file.clone(),
                        line: 1,
                        message: format!(
                            "[library] 重复声明（已有版本 {v}） / [library] declared twice"
                        ),
                    });
                } else {
                    version = Some(h.version);
                }
            }
            for spanned in raw.rule {
                let line = line_of(text, spanned.span().start);
                let params_line = spanned
                    .get_ref()
                    .params
                    .as_ref()
                    .map(|p| line_of(text, p.span().start))
                    .unwrap_or(line);
                let r = spanned.into_inner();
                match compile(r, file, line, params_line) {
                    Ok(rule) => rules.push(rule),
                    Err(msgs) => {
                        for (l, m) in msgs {
                            errors.push(RuleError {
                                file: file.clone(),
                                line: if l == 0 { line } else { l },
                                message: m,
                            });
                        }
                    }
                }
            }
        }
        // Ids are part of every finding id: they must be unique across the library.
        let mut seen: std::collections::HashMap<&str, &Source> = std::collections::HashMap::new();
        for r in &rules {
            if let Some(prev) = seen.insert(&r.id, &r.source) {
                errors.push(RuleError {
                    file: r.source.file.clone(),
                    line: r.source.line,
                    message: format!(
                        "规则编号 {} 重复（首次出现于 {}:{}） / duplicate rule id",
                        r.id, prev.file, prev.line
                    ),
                });
            }
        }
        if errors.is_empty() {
            Ok(RuleLibrary {
                version: version.unwrap_or_else(|| "unversioned".into()),
                origin: String::new(),
                rules,
            })
        } else {
            Err(RuleErrors(errors))
        }
    }

    /// The rules that are enabled.
    pub fn enabled(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.enabled)
    }

    /// Finds a rule by id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// Turns a raw rule into a checked one; errors are `(line, message)` with line 0 = the rule's.
fn compile(
    r: RawRule,
    file: &str,
    line: usize,
    params_line: usize,
) -> Result<Rule, Vec<(usize, String)>> {
    let mut errs: Vec<(usize, String)> = Vec::new();
    let id = r.id.trim().to_string();
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        errs.push((0, format!("规则编号 '{id}' 只能含字母、数字、_ . - / rule id must be ASCII letters, digits, _ . -")));
    }
    let category = match Category::from_code(r.category.trim()) {
        Some(c) => Some(c),
        None => {
            errs.push((
                0,
                format!(
                    "未知类别 '{}' / unknown category (see DOMAIN.md §4)",
                    r.category
                ),
            ));
            None
        }
    };
    if let Some(c) = category {
        if c != r.template.category() {
            errs.push((
                0,
                format!(
                    "模板 {} 只能产生类别 {}，而规则写的是 {} / template {} reports category {}",
                    r.template,
                    r.template.category(),
                    c,
                    r.template,
                    r.template.category()
                ),
            ));
        }
    }
    let severity = r.severity.unwrap_or(2);
    if !(1..=4).contains(&severity) {
        errs.push((
            0,
            format!("严重程度应为 1–4，实际 {severity} / severity must be 1–4"),
        ));
    }
    let from = r.effective_from.as_ref().map(|d| (toml_date(d), d));
    let to = r.effective_to.as_ref().map(|d| (toml_date(d), d));
    for (name, v) in [("effective_from", &from), ("effective_to", &to)] {
        if let Some((None, d)) = v {
            errs.push((
                0,
                format!("{name} 应为日期 YYYY-MM-DD，实际 {d} / {name} must be a date"),
            ));
        }
    }
    let effective_from = from.and_then(|x| x.0);
    let effective_to = to.and_then(|x| x.0);
    if let (Some(f), Some(t)) = (effective_from, effective_to) {
        if t < f {
            errs.push((
                0,
                format!("生效截止 {t} 早于生效起始 {f} / effective_to is before effective_from"),
            ));
        }
    }
    if let Some(code) = &r.nhsa_rule_code {
        let ok = (code.starts_with("GZ") || code.starts_with("ZB"))
            && code.len() >= 4
            && code[2..].chars().all(|c| c.is_ascii_digit() || c == 'x');
        if !ok {
            errs.push((0, format!("国家规则编码 '{code}' 应为 GZ…/ZB… 加数字 / nhsa_rule_code must be GZ… or ZB… digits")));
        }
    }
    // Parameters: only the template's names, each of the right type.
    let allowed = r.template.allowed_params();
    let table = r.params.map(|p| p.into_inner()).unwrap_or_default();
    let mut unknown = false;
    for k in table.keys() {
        if !allowed.contains(&k.as_str()) {
            unknown = true;
            errs.push((
                params_line,
                format!(
                    "模板 {} 不接受参数 '{k}'（可用：{}） / unknown parameter for this template",
                    r.template,
                    if allowed.is_empty() {
                        "无".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ),
            ));
        }
    }
    let params: Params = match table.try_into() {
        Ok(p) => p,
        Err(_) if unknown => Params::default(),
        Err(e) => {
            errs.push((
                params_line,
                format!(
                    "参数类型错误 / parameter type error: {}",
                    e.message().trim()
                ),
            ));
            Params::default()
        }
    };
    check_params(r.template, &params, &r.codes, &mut errs, params_line);
    let stages = match r.stage {
        None => vec![Stage::After],
        Some(StageSpec::One(s)) => vec![s],
        Some(StageSpec::Many(v)) => v,
    };
    if stages.is_empty() {
        errs.push((
            0,
            "stage 不能为空 / stage must list at least one of before, during, after".into(),
        ));
    }
    if r.name_zh.trim().is_empty() {
        errs.push((0, "name_zh 不能为空 / name_zh is required".into()));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Rule {
        id,
        version: r.version,
        name_zh: r.name_zh,
        description: r.description,
        category: category.expect("checked"),
        template: r.template,
        params,
        codes: r.codes,
        scenario: r.scenario,
        stages,
        result: r.result.unwrap_or(Outcome::Violation),
        severity,
        nhsa_rule_code: r.nhsa_rule_code,
        effective_from,
        effective_to,
        enabled: r.enabled,
        source: Source {
            file: file.to_string(),
            line,
        },
    })
}

fn check_params(
    t: Template,
    p: &Params,
    codes: &CodeFilter,
    errs: &mut Vec<(usize, String)>,
    line: usize,
) {
    let mut bad = |m: String| errs.push((line, m));
    let overrides = p.gend.is_some()
        || p.age_min.is_some()
        || p.age_max.is_some()
        || p.max_hosp_lv.is_some()
        || p.med_type.is_some()
        || p.dise_prefixes.is_some()
        || p.price_cap.is_some()
        || p.max_cnt_day.is_some()
        || p.max_cnt_mdtrt.is_some();
    if overrides && codes.codes.is_empty() && codes.prefixes.is_empty() {
        bad("规则自带限定值时必须用 codes.codes 或 codes.prefixes 指明适用编码 / a rule that sets its own limit needs a code set".into());
    }
    if let Some(g) = &p.gend {
        if p.gender().is_none() {
            bad(format!("gend 应为 \"1\"（男）或 \"2\"（女），实际 '{g}'"));
        }
    }
    if let (Some(a), Some(b)) = (p.age_min, p.age_max) {
        if a > b {
            bad(format!("age_min {a} 大于 age_max {b}"));
        }
    }
    if let Some(l) = p.max_hosp_lv {
        if ![1, 2, 3, 9].contains(&l) {
            bad(format!("max_hosp_lv 应为 1、2、3 或 9，实际 {l}"));
        }
    }
    if let Some(m) = &p.med_type {
        if p.med_type_limit().is_none() {
            bad(format!("med_type 应为 ipt 或 opt，实际 '{m}'"));
        }
    }
    if let Some(c) = &p.price_cap {
        match c.parse::<Price>() {
            Ok(v) if v.0 >= 0 => {}
            _ => bad(format!(
                "price_cap '{c}' 不是不超过 6 位小数的非负金额 / not a price"
            )),
        }
    }
    for (n, v) in [
        ("max_cnt_day", &p.max_cnt_day),
        ("max_cnt_mdtrt", &p.max_cnt_mdtrt),
    ] {
        if let Some(v) = v {
            if decimal_value(v, 4).is_none_or(|x| x <= 0) {
                bad(format!("{n} 应为正数（最多 4 位小数），实际 {v}"));
            }
        }
    }
    if let Some(v) = &p.absent_share {
        if decimal_value(v, 4).is_none_or(|x| !(1..=10_000).contains(&x)) {
            bad(format!("absent_share 应在 (0, 1] 之间，实际 {v}"));
        }
    }
    let positive = [
        ("readmission_days", p.readmission_days.map(|x| x + 1)),
        ("min_absent_days", p.min_absent_days),
        ("window_days", p.window_days),
        ("max_hours", p.max_hours),
    ];
    for (n, v) in positive {
        if v.is_some_and(|x| x <= 0) {
            bad(format!("{n} 必须为正 / {n} must be positive"));
        }
    }
    if p.icd_prefix_len.is_some_and(|x| x == 0 || x > 8) {
        bad("icd_prefix_len 应在 1–8 之间".into());
    }
    if p.min_institutions.is_some_and(|x| x < 2) {
        bad("min_institutions 至少为 2".into());
    }
    if p.distance_admdvs_prefix.is_some_and(|x| x == 0 || x > 6) {
        bad("distance_admdvs_prefix 应在 1–6 之间".into());
    }
    if t == Template::Identity && p.form.is_none() {
        bad("identity 模板需要参数 form = \"failed_verification\" 或 \"distant_places\" / identity needs a form".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Result<RuleLibrary, RuleErrors> {
        RuleLibrary::from_sources(&[("t.toml".into(), src.into())])
    }

    #[test]
    fn builtin_library_is_valid_and_complete() {
        let lib = RuleLibrary::builtin();
        assert!(lib.version != "unversioned");
        // Every category of issue 3 has at least one enabled rule.
        for c in Category::ALL {
            if matches!(c, Category::ProviderOutlier | Category::Upcoding) {
                continue;
            }
            assert!(lib.enabled().any(|r| r.category == *c), "no rule for {c}");
        }
    }

    #[test]
    fn builtin_matches_the_rules_directory() {
        // Every file in rules/ must be embedded (and vice versa), or the binary would differ
        // from the shipped library.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = BUILTIN_FILES.iter().map(|(n, _)| n.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
        let from_dir = RuleLibrary::load_dir(&dir).unwrap();
        let builtin = RuleLibrary::builtin();
        let ids = |l: &RuleLibrary| l.rules.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&from_dir), ids(&builtin));
        assert!(
            from_dir.rules == builtin.rules,
            "the embedded library differs from rules/"
        );
    }

    #[test]
    fn errors_carry_file_and_line() {
        let src = "[[rule]]\nid = \"a\"\nversion = 1\nname_zh = \"甲\"\ncategory = \"gender_limit\"\ntemplate = \"age\"\n\n[[rule]]\nid = \"b\"\nversion = 1\nname_zh = \"乙\"\ncategory = \"split_admission\"\ntemplate = \"readmission\"\nseverity = 7\nparams = { readmission_days = 10, bogus = 1 }\n";
        let e = one(src).unwrap_err().0;
        assert_eq!(e.len(), 3, "{e:?}");
        assert_eq!((e[0].file.as_str(), e[0].line), ("t.toml", 1));
        assert!(e[0].message.contains("age"));
        assert_eq!(e[1].line, 8);
        assert!(e[1].message.contains("1–4"));
        assert_eq!(e[2].line, 15);
        assert!(e[2].message.contains("bogus"));
    }

    #[test]
    fn syntax_errors_point_at_the_line() {
        let e = one("[[rule]]\nid = \"a\"\nversion = \n").unwrap_err().0;
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].line, 3);
        let e = one("[[rule]]\nid = \"a\"\nversion = 1\nname_zh = \"x\"\ncategory = \"over_price\"\ntemplate = \"nonsense\"\n")
            .unwrap_err()
            .0;
        assert!(e[0].message.contains("nonsense"), "{e:?}");
    }

    #[test]
    fn duplicate_ids_and_dates() {
        let r = |id: &str, extra: &str| {
            format!("[[rule]]\nid = \"{id}\"\nversion = 1\nname_zh = \"x\"\ncategory = \"over_price\"\ntemplate = \"price\"\n{extra}\n")
        };
        let src = r("p", "")
            + &r(
                "q",
                "effective_from = 2025-01-01\neffective_to = 2024-12-31",
            )
            + &r("p", "");
        let e = one(&src).unwrap_err().0;
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].message.contains("早于"));
        assert_eq!(e[0].line, 8);
        assert!(e[1].message.contains("重复"));
        assert_eq!(e[1].line, 16);
        let lib = one(&r(
            "p",
            "effective_from = 2025-01-01\neffective_to = 2025-12-31\nenabled = false",
        ))
        .unwrap();
        let rule = &lib.rules[0];
        assert!(!rule.enabled);
        assert!(rule.in_force(NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()));
        assert!(!rule.in_force(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()));
        assert!(!rule.in_force(NaiveDate::from_ymd_opt(2024, 12, 31).unwrap()));
        assert_eq!(rule.stages, vec![Stage::After]);
    }

    #[test]
    fn overrides_need_a_code_set() {
        let src = "[[rule]]\nid = \"p\"\nversion = 1\nname_zh = \"x\"\ncategory = \"over_price\"\ntemplate = \"price\"\nparams = { price_cap = \"12.5\" }\n";
        let e = one(src).unwrap_err().0;
        assert!(e[0].message.contains("code set"));
        let ok = src.replace("params =", "codes = { codes = [\"001\"] }\nparams =");
        let lib = one(&ok).unwrap();
        assert_eq!(lib.rules[0].params.price_cap(), Some(Price(12_500_000)));
    }

    #[test]
    fn code_filter() {
        let f = CodeFilter {
            codes: vec!["A1".into()],
            prefixes: vec!["XJ01".into()],
            list_types: vec![],
        };
        assert!(f.matches("A1", None));
        assert!(f.matches("XJ01CA", Some(1)));
        assert!(!f.matches("XJ02", Some(1)));
        let f = CodeFilter {
            list_types: vec![1],
            ..Default::default()
        };
        assert!(f.matches("X", Some(1)));
        assert!(!f.matches("X", Some(3)));
        assert!(!f.matches("X", None));
        assert!(CodeFilter::default().matches("anything", None));
    }
}
