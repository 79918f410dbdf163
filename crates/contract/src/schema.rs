//! The shape of each input table: file name, natural key, columns and their kinds. Ingestion
//! validates against it, the store derives its Parquet and SQL schemas from it, and the docs
//! print it.
//!
//! ```
//! use medfund_contract::schema::Table;
//! let fee = Table::Fee.spec();
//! assert_eq!(fee.key, &["mdtrt_id", "feedetl_sn"]);
//! assert!(fee.column("det_item_fee_sumamt").unwrap().required);
//! ```

/// How a column's text is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Free text (names).
    Text,
    /// An identifier without a national shape (psn_no, mdtrt_id, …).
    Id,
    /// `fixmedins_code` format.
    Fixmedins,
    /// Personnel code format.
    Pract,
    /// National list code format.
    ListCode,
    /// ICD-10 diagnosis.
    Diag,
    /// 6-digit area code.
    Admdvs,
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DD HH:MM:SS`.
    DateTime,
    /// `YYYY-MM`.
    Month,
    /// Yuan, 2 decimals.
    Amount,
    /// Yuan, 6 decimals.
    Price,
    /// Quantity, 4 decimals.
    Qty,
    /// Non-negative integer.
    Int,
    /// One of a fixed set of values.
    Enum(&'static [&'static str]),
    /// `;`-separated list of list codes.
    ListCodes,
    /// `;`-separated list of ICD-10 prefixes.
    DiagPrefixes,
    /// `;`-separated traceability codes.
    TraceCodes,
}

/// One column of a table.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub name: &'static str,
    pub required: bool,
    pub kind: Kind,
}

/// One input table.
#[derive(Clone, Copy, Debug)]
pub struct TableSpec {
    pub table: Table,
    /// File stem: `fee` is read from `fee.csv`, `fee.parquet` or `fee.jsonl`.
    pub name: &'static str,
    /// Natural key columns (empty for event tables without a key).
    pub key: &'static [&'static str],
    pub columns: &'static [Column],
}

impl TableSpec {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// The fifteen tables of the contract, in load order (referenced tables first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Fixmedins,
    Psn,
    Pract,
    PractSusp,
    Catalog,
    Mdtrt,
    Diag,
    Setl,
    Fee,
    Rx,
    InvPurc,
    InvStock,
    Idv,
    FundMonth,
    Budget,
}

const fn r(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        required: true,
        kind,
    }
}
const fn o(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        required: false,
        kind,
    }
}

use Kind::*;

const GEND: Kind = Enum(&["1", "2", "9"]);
const FLAG: Kind = Enum(&["0", "1"]);

static SPECS: [TableSpec; 15] = [
    TableSpec {
        table: Table::Fixmedins,
        name: "fixmedins",
        key: &["fixmedins_code"],
        columns: &[
            r("fixmedins_code", Fixmedins),
            r("fixmedins_name", Text),
            r("fixmedins_type", Enum(&["1", "2"])),
            o("hosp_lv", Enum(&["1", "2", "3", "9"])),
            o("admdvs", Admdvs),
        ],
    },
    TableSpec {
        table: Table::Psn,
        name: "psn",
        key: &["psn_no"],
        columns: &[
            r("psn_no", Id),
            r("gend", GEND),
            r("brdy", Date),
            o("insutype", Enum(&["310", "390"])),
            o("insuplc_admdvs", Admdvs),
        ],
    },
    TableSpec {
        table: Table::Pract,
        name: "pract",
        key: &["pract_code"],
        columns: &[
            r("pract_code", Pract),
            r("pract_name", Text),
            r("pract_type", Enum(&["1", "2", "3", "4", "5", "6"])),
            r("fixmedins_code", Fixmedins),
        ],
    },
    TableSpec {
        table: Table::PractSusp,
        name: "pract_susp",
        key: &["pract_code", "begndate"],
        columns: &[
            r("pract_code", Pract),
            r("susp_type", Enum(&["suspend", "terminate"])),
            r("begndate", Date),
            o("enddate", Date),
        ],
    },
    TableSpec {
        table: Table::Catalog,
        name: "catalog",
        key: &["med_list_codg"],
        columns: &[
            r("med_list_codg", ListCode),
            r("med_list_name", Text),
            r("list_type", Enum(&["1", "2", "3", "4"])),
            o(
                "med_chrgitm_type",
                Enum(&[
                    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13",
                    "14",
                ]),
            ),
            o("chrgitm_lv", Enum(&["1", "2", "3"])),
            o("pric_uplmt_amt", Price),
            o("lmt_gend", Enum(&["1", "2"])),
            o("lmt_age_min", Int),
            o("lmt_age_max", Int),
            o("lmt_hosp_lv", Enum(&["1", "2", "3", "9"])),
            o("lmt_med_type", Enum(&["opt", "ipt"])),
            o("lmt_dise", DiagPrefixes),
            o("max_cnt_day", Qty),
            o("max_cnt_mdtrt", Qty),
            o("excl_codes", ListCodes),
            o("incl_codes", ListCodes),
            o("rx_only", FLAG),
        ],
    },
    TableSpec {
        table: Table::Mdtrt,
        name: "mdtrt",
        key: &["mdtrt_id"],
        columns: &[
            r("mdtrt_id", Id),
            r("psn_no", Id),
            r("fixmedins_code", Fixmedins),
            r(
                "med_type",
                Enum(&[
                    "11", "12", "13", "14", "21", "22", "23", "24", "41", "51", "52", "2101",
                ]),
            ),
            r("begntime", DateTime),
            o("endtime", DateTime),
            r("diag_code", Diag),
            o("dise_codg", Text),
            o("atddr_no", Pract),
            o("emer_flag", FLAG),
            o("refl_fixmedins_code", Fixmedins),
        ],
    },
    TableSpec {
        table: Table::Diag,
        name: "diag",
        key: &["mdtrt_id", "diag_code"],
        columns: &[
            r("mdtrt_id", Id),
            r("diag_code", Diag),
            o("maindiag_flag", FLAG),
        ],
    },
    TableSpec {
        table: Table::Setl,
        name: "setl",
        key: &["setl_id"],
        columns: &[
            r("setl_id", Id),
            r("mdtrt_id", Id),
            r("psn_no", Id),
            r("fixmedins_code", Fixmedins),
            r("setl_time", DateTime),
            r("medfee_sumamt", Amount),
            r("hifp_pay", Amount),
            o("acct_pay", Amount),
            o("psn_cash_pay", Amount),
            o("fund_pay_sumamt", Amount),
            o("drg_codg", Text),
        ],
    },
    TableSpec {
        table: Table::Fee,
        name: "fee",
        key: &["mdtrt_id", "feedetl_sn"],
        columns: &[
            r("feedetl_sn", Id),
            r("mdtrt_id", Id),
            r("setl_id", Id),
            r("psn_no", Id),
            r("fixmedins_code", Fixmedins),
            r("fee_ocur_time", DateTime),
            r("med_list_codg", ListCode),
            r("cnt", Qty),
            r("pric", Price),
            r("det_item_fee_sumamt", Amount),
            o("bilg_dr_codg", Pract),
            o("hi_rxno", Id),
            o("drug_trac_codg", TraceCodes),
        ],
    },
    TableSpec {
        table: Table::Rx,
        name: "rx",
        key: &["hi_rxno", "med_list_codg"],
        columns: &[
            r("hi_rxno", Id),
            r("fixmedins_code", Fixmedins),
            r("pract_code", Pract),
            r("psn_no", Id),
            r("issue_time", DateTime),
            r("med_list_codg", ListCode),
            r("cnt", Qty),
            o("valid_days", Int),
        ],
    },
    TableSpec {
        table: Table::InvPurc,
        name: "inv_purc",
        key: &[],
        columns: &[
            r("fixmedins_code", Fixmedins),
            r("med_list_codg", ListCode),
            r("purc_cnt", Qty),
            r("purc_time", DateTime),
        ],
    },
    TableSpec {
        table: Table::InvStock,
        name: "inv_stock",
        key: &["fixmedins_code", "med_list_codg", "inv_date"],
        columns: &[
            r("fixmedins_code", Fixmedins),
            r("med_list_codg", ListCode),
            r("inv_cnt", Qty),
            r("inv_date", Date),
        ],
    },
    TableSpec {
        table: Table::Idv,
        name: "idv",
        key: &[],
        columns: &[
            r("psn_no", Id),
            r("fixmedins_code", Fixmedins),
            r("vrf_time", DateTime),
            r("vrf_way", Enum(&["face", "vein", "card"])),
            r("vrf_rslt", FLAG),
        ],
    },
    TableSpec {
        table: Table::FundMonth,
        name: "fund_month",
        key: &["insutype", "month"],
        columns: &[
            r("insutype", Enum(&["310", "390"])),
            r("month", Month),
            r("income", Amount),
            r("expense", Amount),
            r("balance", Amount),
        ],
    },
    TableSpec {
        table: Table::Budget,
        name: "budget",
        key: &["fixmedins_code", "year"],
        columns: &[
            r("fixmedins_code", Fixmedins),
            r("year", Int),
            r("cap_in", Amount),
            o("cap_out", Amount),
            o("approved_extra", Amount),
        ],
    },
];

impl Table {
    /// Every table, in load order.
    pub const ALL: [Table; 15] = [
        Table::Fixmedins,
        Table::Psn,
        Table::Pract,
        Table::PractSusp,
        Table::Catalog,
        Table::Mdtrt,
        Table::Diag,
        Table::Setl,
        Table::Fee,
        Table::Rx,
        Table::InvPurc,
        Table::InvStock,
        Table::Idv,
        Table::FundMonth,
        Table::Budget,
    ];

    pub fn spec(self) -> &'static TableSpec {
        &SPECS[self as usize]
    }
    /// File stem of the table.
    pub fn name(self) -> &'static str {
        self.spec().name
    }
    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }
    /// Claim tables live in Parquet partitioned by month; the rest are reference data in SQL.
    pub fn is_claim(self) -> bool {
        matches!(
            self,
            Table::Mdtrt
                | Table::Diag
                | Table::Setl
                | Table::Fee
                | Table::Rx
                | Table::InvPurc
                | Table::InvStock
                | Table::Idv
        )
    }
    /// Chinese name for reports.
    pub fn zh(self) -> &'static str {
        match self {
            Table::Fixmedins => "定点医药机构",
            Table::Psn => "参保人员",
            Table::Pract => "医保支付资格人员",
            Table::PractSusp => "暂停/终止资格",
            Table::Catalog => "知识库目录",
            Table::Mdtrt => "就诊记录",
            Table::Diag => "诊断信息",
            Table::Setl => "结算记录",
            Table::Fee => "费用明细",
            Table::Rx => "电子外配处方",
            Table::InvPurc => "药品采购",
            Table::InvStock => "药品库存盘点",
            Table::Idv => "身份核验",
            Table::FundMonth => "基金月度收支",
            Table::Budget => "总额预算",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn specs_are_indexed_by_table() {
        for t in Table::ALL {
            assert_eq!(t.spec().table, t);
            assert_eq!(Table::from_name(t.name()), Some(t));
            for k in t.spec().key {
                assert!(t.spec().column(k).unwrap().required, "{k} of {}", t.name());
            }
        }
    }
}
