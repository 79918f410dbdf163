//! Versioned SQL schema of the store (component `store` in `schema_migration`).
//!
//! Conventions (see `crates/db`): `BIGINT` for integers, flags (0/1) and scaled amounts —
//! amounts in fen (0.01 yuan), prices in millionths of a yuan, quantities in ten-thousandths —
//! and `TEXT` for codes, dates (`YYYY-MM-DD`), months (`YYYY-MM`) and times
//! (`YYYY-MM-DD HH:MM:SS`, local). A shipped migration is never edited: add a new version.

/// The store's migrations, oldest first.
pub const MIGRATIONS: &[(u32, &str)] = &[(1, V1), (2, V2)];

/// Reference data, load history, quarantine and the claim-file manifest.
const V1: &str = "
CREATE TABLE fixmedins (
    fixmedins_code TEXT PRIMARY KEY, fixmedins_name TEXT NOT NULL, fixmedins_type TEXT NOT NULL,
    hosp_lv BIGINT, admdvs TEXT, load_id BIGINT NOT NULL);
CREATE TABLE psn (
    psn_no TEXT PRIMARY KEY, gend TEXT NOT NULL, brdy TEXT NOT NULL, insutype TEXT,
    insuplc_admdvs TEXT, load_id BIGINT NOT NULL);
CREATE TABLE pract (
    pract_code TEXT PRIMARY KEY, pract_name TEXT NOT NULL, pract_type BIGINT NOT NULL,
    fixmedins_code TEXT NOT NULL, load_id BIGINT NOT NULL);
CREATE TABLE pract_susp (
    pract_code TEXT NOT NULL, begndate TEXT NOT NULL, susp_type TEXT NOT NULL, enddate TEXT,
    load_id BIGINT NOT NULL, PRIMARY KEY (pract_code, begndate));
CREATE TABLE catalog (
    med_list_codg TEXT PRIMARY KEY, med_list_name TEXT NOT NULL, list_type BIGINT NOT NULL,
    med_chrgitm_type TEXT, chrgitm_lv BIGINT, pric_uplmt_amt BIGINT, lmt_gend TEXT,
    lmt_age_min BIGINT, lmt_age_max BIGINT, lmt_hosp_lv BIGINT, lmt_med_type TEXT, lmt_dise TEXT,
    max_cnt_day BIGINT, max_cnt_mdtrt BIGINT, excl_codes TEXT, incl_codes TEXT,
    rx_only BIGINT NOT NULL, load_id BIGINT NOT NULL);
CREATE TABLE fund_month (
    insutype TEXT NOT NULL, month TEXT NOT NULL, income BIGINT NOT NULL, expense BIGINT NOT NULL,
    balance BIGINT NOT NULL, load_id BIGINT NOT NULL, PRIMARY KEY (insutype, month));
CREATE TABLE budget (
    fixmedins_code TEXT NOT NULL, year BIGINT NOT NULL, cap_in BIGINT NOT NULL, cap_out BIGINT,
    approved_extra BIGINT, load_id BIGINT NOT NULL, PRIMARY KEY (fixmedins_code, year));
CREATE TABLE load_run (
    id BIGINT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
    batch_dir TEXT NOT NULL, status TEXT NOT NULL, rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL, rows_skipped BIGINT NOT NULL, rows_updated BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL, unknown_catalog_codes BIGINT NOT NULL, quarantine_csv TEXT);
CREATE TABLE load_file (
    load_id BIGINT NOT NULL REFERENCES load_run(id), file TEXT NOT NULL, sha256 TEXT NOT NULL,
    bytes BIGINT NOT NULL, PRIMARY KEY (load_id, file));
CREATE TABLE load_table_stat (
    load_id BIGINT NOT NULL REFERENCES load_run(id), table_name TEXT NOT NULL,
    rows_read BIGINT NOT NULL, rows_loaded BIGINT NOT NULL, rows_skipped BIGINT NOT NULL,
    rows_updated BIGINT NOT NULL, rows_quarantined BIGINT NOT NULL,
    PRIMARY KEY (load_id, table_name));
CREATE TABLE quarantine (
    id {{ID}}, load_id BIGINT NOT NULL REFERENCES load_run(id), table_name TEXT,
    file TEXT NOT NULL, line BIGINT NOT NULL, column_name TEXT, reason_zh TEXT NOT NULL,
    reason_en TEXT NOT NULL, raw TEXT);
CREATE INDEX quarantine_load ON quarantine (load_id);
CREATE TABLE claim_file (
    path TEXT PRIMARY KEY, load_id BIGINT NOT NULL REFERENCES load_run(id),
    table_name TEXT NOT NULL, month TEXT NOT NULL, kind TEXT NOT NULL, row_count BIGINT NOT NULL,
    bytes BIGINT NOT NULL);
CREATE INDEX claim_file_table ON claim_file (table_name, kind, month);
";

/// Audit runs, stored findings and their review history.
const V2: &str = "
CREATE TABLE audit_run (
    id {{ID}}, started_at TEXT NOT NULL, finished_at TEXT NOT NULL, source TEXT NOT NULL,
    rules TEXT, note TEXT, findings BIGINT NOT NULL DEFAULT 0);
CREATE TABLE finding (
    finding_id TEXT PRIMARY KEY, run_id BIGINT NOT NULL REFERENCES audit_run(id),
    first_run_id BIGINT NOT NULL, rule_id TEXT NOT NULL, nhsa_rule_code TEXT,
    category TEXT NOT NULL, result TEXT NOT NULL, severity BIGINT NOT NULL, level TEXT NOT NULL,
    setl_id TEXT, mdtrt_id TEXT, feedetl_sn TEXT, psn_no TEXT, fixmedins_code TEXT,
    pract_code TEXT, med_list_codg TEXT, amount BIGINT, evidence TEXT NOT NULL,
    evidence_details TEXT NOT NULL, month TEXT, status TEXT NOT NULL DEFAULT 'new',
    reviewed_by TEXT, review_note TEXT, reviewed_at TEXT);
CREATE INDEX finding_category ON finding (category);
CREATE INDEX finding_fixmedins ON finding (fixmedins_code);
CREATE INDEX finding_status ON finding (status);
CREATE INDEX finding_month ON finding (month);
CREATE TABLE finding_review (
    id {{ID}}, finding_id TEXT NOT NULL REFERENCES finding(finding_id), status TEXT NOT NULL,
    reviewed_by TEXT NOT NULL, note TEXT, reviewed_at TEXT NOT NULL);
CREATE INDEX finding_review_finding ON finding_review (finding_id);
";
