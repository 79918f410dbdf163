//! Typed records of the contract's input tables (DOMAIN.md §3), one struct per table, with the
//! national interface field names. Optional columns are `Option`; `;`-separated lists are `Vec`.
//!
//! These are plain values: ingestion builds them, the store persists them, the rule engine,
//! models and settlement read them.

use crate::codes::Code;
use crate::money::{Fen, Price, Qty};
use crate::time::YearMonth;
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// `gend`: 1 male, 2 female, 9 unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Gender {
    #[serde(rename = "1")]
    Male,
    #[serde(rename = "2")]
    Female,
    #[serde(rename = "9")]
    Unknown,
}

impl Gender {
    pub fn parse(s: &str) -> Option<Gender> {
        match s.trim() {
            "1" => Some(Gender::Male),
            "2" => Some(Gender::Female),
            "9" | "0" => Some(Gender::Unknown),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Gender::Male => "1",
            Gender::Female => "2",
            Gender::Unknown => "9",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Gender::Male => "男",
            Gender::Female => "女",
            Gender::Unknown => "未知",
        }
    }
}

/// `fixmedins_type`: 1 medical institution, 2 retail pharmacy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FixmedinsType {
    #[serde(rename = "1")]
    Medical,
    #[serde(rename = "2")]
    Pharmacy,
}

impl FixmedinsType {
    pub fn parse(s: &str) -> Option<FixmedinsType> {
        match s.trim() {
            "1" => Some(FixmedinsType::Medical),
            "2" => Some(FixmedinsType::Pharmacy),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            FixmedinsType::Medical => "1",
            FixmedinsType::Pharmacy => "2",
        }
    }
}

/// `lmt_med_type`: the item is limited to one kind of visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MedTypeLimit {
    /// outpatient only (门诊)
    Opt,
    /// inpatient only (住院)
    Ipt,
}

impl MedTypeLimit {
    pub fn parse(s: &str) -> Option<MedTypeLimit> {
        match s.trim() {
            "opt" => Some(MedTypeLimit::Opt),
            "ipt" => Some(MedTypeLimit::Ipt),
            _ => None,
        }
    }
}

/// `susp_type` of a qualification measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SuspType {
    Suspend,
    Terminate,
}

impl SuspType {
    pub fn parse(s: &str) -> Option<SuspType> {
        match s.trim() {
            "suspend" => Some(SuspType::Suspend),
            "terminate" => Some(SuspType::Terminate),
            _ => None,
        }
    }
}

/// `psn` (1101): an insured person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Psn {
    pub psn_no: Code,
    pub gend: Gender,
    pub brdy: NaiveDate,
    pub insutype: Option<Code>,
    pub insuplc_admdvs: Option<Code>,
}

/// `fixmedins`: a designated institution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fixmedins {
    pub fixmedins_code: Code,
    pub fixmedins_name: String,
    pub fixmedins_type: FixmedinsType,
    /// 1 tertiary, 2 secondary, 3 primary, 9 unrated.
    pub hosp_lv: Option<u8>,
    pub admdvs: Option<Code>,
}

/// `pract`: a person holding payment qualification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pract {
    pub pract_code: Code,
    pub pract_name: String,
    /// 1 doctor, 2 nurse, 3 pharmacist, 4 technician, 5 billing/settlement staff, 6 pharmacy principal.
    pub pract_type: u8,
    pub fixmedins_code: Code,
}

/// `pract_susp`: a suspension or termination of payment qualification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PractSusp {
    pub pract_code: Code,
    pub susp_type: SuspType,
    pub begndate: NaiveDate,
    /// Inclusive; `None` is open-ended.
    pub enddate: Option<NaiveDate>,
}

impl PractSusp {
    /// Whether the measure covers `day`.
    pub fn covers(&self, day: NaiveDate) -> bool {
        day >= self.begndate && self.enddate.is_none_or(|e| day <= e)
    }
}

/// `catalog`: a knowledge-base entry for one national list code.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogEntry {
    pub med_list_codg: Code,
    pub med_list_name: String,
    /// 1 drug, 2 herbal pieces, 3 medical service item, 4 medical consumable.
    pub list_type: u8,
    /// Fee category, `01` bed … `14` other.
    pub med_chrgitm_type: Option<Code>,
    /// 1 class A, 2 class B, 3 self-pay.
    pub chrgitm_lv: Option<u8>,
    pub pric_uplmt_amt: Option<Price>,
    pub lmt_gend: Option<Gender>,
    pub lmt_age_min: Option<u16>,
    pub lmt_age_max: Option<u16>,
    pub lmt_hosp_lv: Option<u8>,
    pub lmt_med_type: Option<MedTypeLimit>,
    /// ICD-10 prefixes; empty = no indication limit.
    pub lmt_dise: Vec<Code>,
    pub max_cnt_day: Option<Qty>,
    pub max_cnt_mdtrt: Option<Qty>,
    pub excl_codes: Vec<Code>,
    pub incl_codes: Vec<Code>,
    pub rx_only: bool,
}

/// `mdtrt` (2201/2203/2401): a visit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mdtrt {
    pub mdtrt_id: Code,
    pub psn_no: Code,
    pub fixmedins_code: Code,
    pub med_type: Code,
    pub begntime: NaiveDateTime,
    pub endtime: Option<NaiveDateTime>,
    pub diag_code: Code,
    pub dise_codg: Option<Code>,
    pub atddr_no: Option<Code>,
    pub emer_flag: bool,
    pub refl_fixmedins_code: Option<Code>,
}

impl Mdtrt {
    pub fn is_inpatient(&self) -> bool {
        crate::codes::is_inpatient(&self.med_type)
    }
    /// Emergency visit (med_type 13) or emergency/rescue flag.
    pub fn is_emergency(&self) -> bool {
        self.emer_flag || self.med_type == "13"
    }
}

/// `diag`: a further diagnosis of a visit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diag {
    pub mdtrt_id: Code,
    pub diag_code: Code,
    pub maindiag_flag: bool,
}

/// `setl` (2207/2304): a settlement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Setl {
    pub setl_id: Code,
    pub mdtrt_id: Code,
    pub psn_no: Code,
    pub fixmedins_code: Code,
    pub setl_time: NaiveDateTime,
    pub medfee_sumamt: Fen,
    pub hifp_pay: Fen,
    pub acct_pay: Option<Fen>,
    pub psn_cash_pay: Option<Fen>,
    pub fund_pay_sumamt: Option<Fen>,
    pub drg_codg: Option<Code>,
}

/// `fee` (2204/2301): a fee detail line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fee {
    pub feedetl_sn: Code,
    pub mdtrt_id: Code,
    pub setl_id: Code,
    pub psn_no: Code,
    pub fixmedins_code: Code,
    pub fee_ocur_time: NaiveDateTime,
    pub med_list_codg: Code,
    pub cnt: Qty,
    pub pric: Price,
    pub det_item_fee_sumamt: Fen,
    pub bilg_dr_codg: Option<Code>,
    pub hi_rxno: Option<Code>,
    /// 20-digit traceability codes, one per box sold.
    pub drug_trac_codg: Vec<Code>,
}

/// `rx`: an electronic external prescription line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rx {
    pub hi_rxno: Code,
    pub fixmedins_code: Code,
    pub pract_code: Code,
    pub psn_no: Code,
    pub issue_time: NaiveDateTime,
    pub med_list_codg: Code,
    pub cnt: Qty,
    /// Default 3 when the column is empty.
    pub valid_days: u16,
}

/// `inv_purc` (3503): a purchase into stock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvPurc {
    pub fixmedins_code: Code,
    pub med_list_codg: Code,
    pub purc_cnt: Qty,
    pub purc_time: NaiveDateTime,
}

/// `inv_stock` (3501): a stocktake.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvStock {
    pub fixmedins_code: Code,
    pub med_list_codg: Code,
    pub inv_cnt: Qty,
    pub inv_date: NaiveDate,
}

/// `idv`: an identity verification event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Idv {
    pub psn_no: Code,
    pub fixmedins_code: Code,
    pub vrf_time: NaiveDateTime,
    /// `face`, `vein` or `card`.
    pub vrf_way: Code,
    /// true = passed.
    pub vrf_rslt: bool,
}

/// `fund_month`: a fund's month.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FundMonth {
    /// 310 employee, 390 resident.
    pub insutype: Code,
    pub month: YearMonth,
    pub income: Fen,
    pub expense: Fen,
    /// Accumulated balance at month end.
    pub balance: Fen,
}

/// `budget`: an institution's yearly total-budget cap.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    pub fixmedins_code: Code,
    pub year: i32,
    pub cap_in: Fen,
    pub cap_out: Option<Fen>,
    pub approved_extra: Option<Fen>,
}

/// A whole batch in memory: every table of the contract. Tables absent from the batch are empty.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub psn: Vec<Psn>,
    pub fixmedins: Vec<Fixmedins>,
    pub pract: Vec<Pract>,
    pub pract_susp: Vec<PractSusp>,
    pub catalog: Vec<CatalogEntry>,
    pub mdtrt: Vec<Mdtrt>,
    pub diag: Vec<Diag>,
    pub setl: Vec<Setl>,
    pub fee: Vec<Fee>,
    pub rx: Vec<Rx>,
    pub inv_purc: Vec<InvPurc>,
    pub inv_stock: Vec<InvStock>,
    pub idv: Vec<Idv>,
    pub fund_month: Vec<FundMonth>,
    pub budget: Vec<Budget>,
}
