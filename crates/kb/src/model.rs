//! The knowledge base as plain values: knowledge points, their limits, and where each came from.

use chrono::{NaiveDate, NaiveDateTime};
use medfund_contract::time::{age_on, day_of_life};
use medfund_contract::{Code, Gender, MedTypeLimit, Qty};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// An imported knowledge base: every knowledge point of every imported file, and one
/// [`SourceInfo`] per file (what was loaded, what was not and why).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeBase {
    /// Version name, `kb-YYYYMMDDTHHMMSS-<sha8>` (the sha8 covers the imported files' hashes).
    pub version: String,
    /// Local time of the import.
    pub imported_at: Option<NaiveDateTime>,
    /// The knowledge points, in file order then row order.
    pub points: Vec<KnowledgePoint>,
    /// One entry per imported file.
    pub sources: Vec<SourceInfo>,
}

/// One knowledge point: one national code with one limit, traced to its file and row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KnowledgePoint {
    /// Stable id `<file stem>:row<row>:<code>`, e.g. `b1-drug-gender:row2:XL02BBA326A001010102180`
    /// (row = the spreadsheet row that lists the code; for duplicate pairs the secondary code is
    /// appended, `…:<main>><secondary>`).
    pub id: String,
    /// Batch label, `b1` … `b8-4`.
    pub batch: String,
    /// National list code (23/20-character drug code or 15-digit item code).
    pub med_list_codg: Code,
    /// Generic drug name or item name as published.
    pub name: String,
    /// The limit.
    pub limit: Limit,
    /// Sheet of the row that lists the code.
    pub source_sheet: String,
    /// 1-based spreadsheet row that lists the code.
    pub source_row: u32,
    /// For drug batches: the Sheet1 row holding the limit of this generic name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_row: Option<u32>,
    /// The published explanation (药品说明 / 项目说明 / 备注), if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// What a knowledge point limits. Each variant is one rule template of the audit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Limit {
    /// 限定性别对象: payable only for persons of this gender.
    Gender {
        /// The only gender the code is paid for.
        gender: Gender,
    },
    /// 限定年龄对象 / 限年龄: payable only within this age range.
    Age(AgeRange),
    /// 限定保险类型: payable only by work-injury or maternity insurance.
    InsuranceType {
        /// The insurance that alone may pay.
        kind: InsuranceKind,
    },
    /// 限定就医方式: payable only in this kind of visit.
    VisitType {
        /// The only kind of visit the code is paid in.
        med_type: MedTypeLimit,
        /// Emergency visits are allowed too (安宫牛黄丸: 限急诊或住院患者). The catalog's
        /// `lmt_med_type` cannot say so, so such points are evaluated by
        /// [`crate::eval::visit_type_limit`] instead of being merged into the catalog.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        emergency_ok: bool,
    },
    /// 限定机构等级: payable only at institutions whose `hosp_lv` number is ≤ `lmt_hosp_lv`
    /// (二级 = 2, secondary or above; 三级 = 1, tertiary).
    HospLevel {
        /// Highest `hosp_lv` number allowed.
        lmt_hosp_lv: u8,
        /// As published (二级, 三级).
        label: String,
    },
    /// 限定支付疗程 (drugs): the fund pays at most a course of this length.
    DrugCourse(Course),
    /// 限支付疗程 (items): course length and minimum interval between services.
    ItemCourse(Course),
    /// 限定主次操作: an operation of this surgery group; the second and later operations of the
    /// group through the same incision must be charged at the discounted rate (policy
    /// `secondary_surgery_pct`; the national file does not publish the rate).
    SecondarySurgery {
        /// Surgery group as published (胃肠手术组 …).
        group: String,
    },
    /// 重复收费: this code (主项) includes `secondary` (从项); both must not be charged within
    /// `period`.
    DuplicatePair {
        /// The secondary item's code (从项编码).
        secondary: Code,
        /// Its name (从项名称).
        secondary_name: String,
        /// 频度.
        period: Period,
    },
    /// 限定频次: at most `max` units per person per calendar day (`unit` as published: 日, 天, 小时).
    FrequencyPerDay {
        /// Most units per day.
        max: Qty,
        /// Unit as published.
        unit: String,
    },
    /// 周期超频次: at most `max_times` services within any `cycle_days` consecutive days.
    CycleFrequency {
        /// 频次上限.
        max_times: u32,
        /// 疗程周期 in days.
        cycle_days: u32,
    },
}

impl Limit {
    /// Short Chinese description of the limit, for reports and evidence.
    pub fn describe(&self) -> String {
        match self {
            Limit::Gender { gender } => format!("限{}性", gender.zh()),
            Limit::Age(a) => format!("限{}", a.describe()),
            Limit::InsuranceType { kind } => format!("限{}保险支付", kind.zh()),
            Limit::VisitType {
                med_type,
                emergency_ok,
            } => {
                let base = match med_type {
                    MedTypeLimit::Ipt => "住院",
                    MedTypeLimit::Opt => "门诊",
                };
                if *emergency_ok {
                    format!("限急诊或{base}")
                } else {
                    format!("限{base}")
                }
            }
            Limit::HospLevel { label, .. } => format!("限{label}及以上医疗机构"),
            Limit::DrugCourse(c) | Limit::ItemCourse(c) => c.describe(),
            Limit::SecondarySurgery { group } => format!("{group}：同一切口第二及以后手术折价收费"),
            Limit::DuplicatePair {
                secondary,
                secondary_name,
                period,
            } => {
                format!(
                    "{}内不得同时收取从项 {secondary_name}({secondary})",
                    period.zh()
                )
            }
            Limit::FrequencyPerDay { max, unit } => format!("每日最多 {max} {unit}"),
            Limit::CycleFrequency {
                max_times,
                cycle_days,
            } => format!("{cycle_days} 天内最多 {max_times} 次"),
        }
    }

    /// The rule template name (stable, English) — the mapping table key.
    pub fn template(&self) -> &'static str {
        match self {
            Limit::Gender { .. } => "gender",
            Limit::Age(_) => "age",
            Limit::InsuranceType { .. } => "insurance_type",
            Limit::VisitType { .. } => "visit_type",
            Limit::HospLevel { .. } => "hosp_level",
            Limit::DrugCourse(_) => "drug_course",
            Limit::ItemCourse(_) => "item_course",
            Limit::SecondarySurgery { .. } => "secondary_surgery",
            Limit::DuplicatePair { .. } => "duplicate_pair",
            Limit::FrequencyPerDay { .. } => "frequency_per_day",
            Limit::CycleFrequency { .. } => "cycle_frequency",
        }
    }
}

/// An age range. Every bound is inclusive; `None` means unbounded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeRange {
    /// As published: 儿童, 新生儿, 婴幼儿, 法定就业年龄 …; with an explicit range from the
    /// drug's payment text appended, e.g. `儿童(限6-17岁)`.
    pub label: String,
    /// Minimum whole years of age on the service date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_years: Option<u16>,
    /// Maximum whole years of age on the service date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_years: Option<u16>,
    /// Maximum for women when it differs (legal working age ends earlier for women).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_years_female: Option<u16>,
    /// Maximum day of life, the birth date being day 1 (新生儿: 28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_days_of_life: Option<u32>,
}

impl AgeRange {
    /// Whether a person born on `birth`, of gender `gend`, may receive the item on `day`.
    ///
    /// ```
    /// use medfund_kb::AgeRange;
    /// use chrono::NaiveDate;
    /// let newborn = AgeRange { label: "新生儿".into(), max_days_of_life: Some(28), ..Default::default() };
    /// let birth = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    /// assert!(newborn.allows(birth, NaiveDate::from_ymd_opt(2025, 1, 28).unwrap(), None));
    /// assert!(!newborn.allows(birth, NaiveDate::from_ymd_opt(2025, 1, 29).unwrap(), None));
    /// ```
    pub fn allows(&self, birth: NaiveDate, day: NaiveDate, gend: Option<Gender>) -> bool {
        if let Some(max) = self.max_days_of_life {
            if day_of_life(birth, day) > max as i64 {
                return false;
            }
        }
        let age = age_on(birth, day);
        if let Some(min) = self.min_years {
            if age < min as i32 {
                return false;
            }
        }
        let max = match (gend, self.max_years_female) {
            (Some(Gender::Female), Some(f)) => Some(f),
            _ => self.max_years,
        };
        if let Some(max) = max {
            if age > max as i32 {
                return false;
            }
        }
        true
    }

    /// Chinese description, e.g. `儿童(0-14岁)`.
    pub fn describe(&self) -> String {
        let mut s = self.label.clone();
        if let Some(d) = self.max_days_of_life {
            s.push_str(&format!("(出生{d}天内)"));
        } else if self.label.contains('(') {
            // The label already carries the published range.
        } else {
            match (self.min_years, self.max_years, self.max_years_female) {
                (min, Some(m), Some(f)) if m != f => {
                    s.push_str(&format!("({}-{m}岁，女性至{f}岁)", min.unwrap_or(0)));
                }
                (min, Some(m), _) => s.push_str(&format!("({}-{m}岁)", min.unwrap_or(0))),
                (Some(min), None, _) => s.push_str(&format!("({min}岁及以上)")),
                (None, None, _) => {}
            }
        }
        s
    }
}

/// 限定保险类型 values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InsuranceKind {
    /// 工伤保险
    WorkInjury,
    /// 生育保险
    Maternity,
}

impl InsuranceKind {
    /// 工伤 / 生育.
    pub fn zh(self) -> &'static str {
        match self {
            InsuranceKind::WorkInjury => "工伤",
            InsuranceKind::Maternity => "生育",
        }
    }
}

/// How a course length is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CourseBasis {
    /// Distinct calendar days on which the code was charged (支付不超过14天 for daily drugs).
    FeeDays,
    /// Calendar days elapsed since the course's first charge, that day being day 1
    /// (总时间不超过90天, 支付不超过12个月).
    Elapsed,
}

/// A course limit (限定支付疗程 / 限支付疗程).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Course {
    /// Longest course the fund pays, in days (12个月 = 365, 一年 = 365).
    pub max_days: u32,
    /// How `max_days` is counted.
    pub basis: CourseBasis,
    /// The course is one inpatient stay (单次住院最多支付…): counted per visit, not per person.
    pub per_stay: bool,
    /// Minimum days between two services (评定间隔时间不短于14天 = 14, 每周最多支付一次 = 7):
    /// the day of a service minus the day of the previous paid one must be ≥ this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_interval_days: Option<u32>,
}

impl Course {
    /// Chinese description.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{}支付不超过{}天{}",
            if self.per_stay { "单次住院" } else { "" },
            self.max_days,
            match self.basis {
                CourseBasis::FeeDays => "(按收费天数)",
                CourseBasis::Elapsed => "(自首次收费起算)",
            }
        );
        if let Some(i) = self.min_interval_days {
            s.push_str(&format!("，间隔不短于{i}天"));
        }
        s
    }
}

/// The period within which a duplicate pair must not both be charged (频度).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "n", rename_all = "snake_case")]
pub enum Period {
    /// 单日: the same calendar day (same institution).
    SameDay,
    /// 单次就诊: the same visit (`mdtrt_id`).
    SameVisit,
    /// 6小时 (n = 6), 同一小时 (n = 1): fee times at most n hours apart (same institution).
    Hours(u32),
}

impl Period {
    /// Chinese name.
    pub fn zh(self) -> String {
        match self {
            Period::SameDay => "同一日".into(),
            Period::SameVisit => "同一次就诊".into(),
            Period::Hours(1) => "同一小时".into(),
            Period::Hours(n) => format!("{n}小时"),
        }
    }
}

/// What was imported from one file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// File name as given.
    pub file: String,
    /// Batch label (`b1` … `b8-4`).
    pub batch: String,
    /// Published title inferred from the file (限定类型 or the sheet title).
    pub title: String,
    /// Rule templates the file's points map to ([`Limit::template`]), in first-seen order.
    #[serde(default)]
    pub templates: Vec<String>,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// Local time of the import.
    pub imported_at: Option<NaiveDateTime>,
    /// Sheets read.
    pub sheets: Vec<String>,
    /// Data rows read (header rows excluded), over all sheets.
    pub rows: u32,
    /// Distinct national codes that received at least one knowledge point.
    pub codes: u32,
    /// Knowledge points loaded.
    pub points: u32,
    /// Rows that could not be mapped, with the reason.
    pub unmapped: Vec<Unmapped>,
    /// Remarks about rows that were mapped but deserve a look (e.g. the limit value and the
    /// explanation text disagree).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// A row that could not be mapped to a rule template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmapped {
    /// Sheet name.
    pub sheet: String,
    /// 1-based spreadsheet row.
    pub row: u32,
    /// Why (Chinese, with the offending value).
    pub reason: String,
}

impl KnowledgeBase {
    /// The knowledge points of each code.
    pub fn by_code(&self) -> HashMap<&str, Vec<&KnowledgePoint>> {
        let mut m: HashMap<&str, Vec<&KnowledgePoint>> = HashMap::new();
        for p in &self.points {
            m.entry(p.med_list_codg.as_str()).or_default().push(p);
        }
        m
    }

    /// The knowledge points of one code.
    pub fn points_of<'a>(&'a self, code: &'a str) -> impl Iterator<Item = &'a KnowledgePoint> + 'a {
        self.points.iter().filter(move |p| p.med_list_codg == code)
    }

    /// The source of a batch label.
    pub fn source(&self, batch: &str) -> Option<&SourceInfo> {
        self.sources.iter().find(|s| s.batch == batch)
    }
}
