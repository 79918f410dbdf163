//! The workflow's tables in the operational store (component `workflow` of
//! [`medfund_db::Db::migrate`]). Money is BIGINT fen, dates are ISO text, booleans 0/1.
//! Shipped migrations are never edited: add a new version.

pub(crate) const MIGRATIONS: &[(u32, &str)] = &[(
    1,
    "
CREATE TABLE wf_user (
  id {{ID}}, username TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL, roles TEXT NOT NULL,
  scope TEXT NOT NULL, password_hash TEXT NOT NULL, active BIGINT NOT NULL,
  failed_count BIGINT NOT NULL, first_failed_at TEXT, locked_until TEXT,
  created_at TEXT NOT NULL, password_changed_at TEXT NOT NULL);
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, ip TEXT NOT NULL,
  action TEXT NOT NULL, entity TEXT NOT NULL, entity_id TEXT NOT NULL, detail_json TEXT NOT NULL,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
CREATE TABLE audit_head (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE wf_event (
  id {{ID}}, entity TEXT NOT NULL, entity_id BIGINT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,
  from_state TEXT, to_state TEXT NOT NULL, note TEXT);
CREATE INDEX wf_event_entity ON wf_event (entity, entity_id);
CREATE TABLE wf_document (
  id {{ID}}, entity TEXT NOT NULL, entity_id BIGINT NOT NULL, kind TEXT NOT NULL, file_name TEXT NOT NULL,
  stored_path TEXT NOT NULL, sha256 TEXT NOT NULL, size_bytes BIGINT NOT NULL,
  uploaded_by TEXT NOT NULL, uploaded_at TEXT NOT NULL);
CREATE INDEX wf_document_entity ON wf_document (entity, entity_id);
CREATE TABLE wf_review (
  id {{ID}}, finding_id TEXT NOT NULL UNIQUE, rule_id TEXT NOT NULL, category TEXT NOT NULL,
  fixmedins_code TEXT, pract_code TEXT, psn_no TEXT, mdtrt_id TEXT, amount_fen BIGINT,
  finding_json TEXT NOT NULL, sample_reason TEXT NOT NULL, state TEXT NOT NULL, assigned_to TEXT,
  first_reviewer TEXT, first_opinion TEXT, first_note TEXT, first_at TEXT,
  second_reviewer TEXT, second_note TEXT, second_at TEXT,
  appeal_by TEXT, appeal_text TEXT, appeal_at TEXT,
  investigator TEXT, investigation_note TEXT, investigation_at TEXT,
  decided_by TEXT, decision TEXT, confirmed_amount_fen BIGINT, decision_note TEXT, decided_at TEXT,
  state_since TEXT NOT NULL, due_at TEXT, created_by TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX wf_review_state ON wf_review (state);
CREATE INDEX wf_review_inst ON wf_review (fixmedins_code);
CREATE TABLE wf_case (
  id {{ID}}, case_no TEXT NOT NULL UNIQUE, source TEXT NOT NULL, source_ref TEXT, fixmedins_code TEXT,
  title TEXT NOT NULL, summary TEXT NOT NULL, state TEXT NOT NULL, suspect_amount_fen BIGINT,
  confirmed_amount_fen BIGINT, nature TEXT, decision_note TEXT, decided_by TEXT, decided_at TEXT,
  opened_by TEXT NOT NULL, opened_at TEXT NOT NULL, assigned_to TEXT, state_since TEXT NOT NULL,
  due_at TEXT, closed_at TEXT);
CREATE TABLE wf_inspection (
  id {{ID}}, case_id BIGINT, fixmedins_code TEXT NOT NULL, kind TEXT NOT NULL, planned_on TEXT NOT NULL,
  state TEXT NOT NULL, inspectors TEXT NOT NULL, result TEXT, summary TEXT, created_by TEXT NOT NULL,
  created_at TEXT NOT NULL, started_at TEXT, completed_at TEXT);
CREATE TABLE wf_check_item (
  id {{ID}}, inspection_id BIGINT NOT NULL, code TEXT NOT NULL, title TEXT NOT NULL, result TEXT NOT NULL,
  note TEXT, checked_by TEXT, checked_at TEXT, UNIQUE (inspection_id, code));
CREATE TABLE wf_sanction (
  id {{ID}}, case_id BIGINT NOT NULL, fixmedins_code TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
  nature TEXT, basis_fen BIGINT NOT NULL, multiple_num BIGINT, multiple_den BIGINT, multiple_reason TEXT,
  amount_fen BIGINT NOT NULL, months BIGINT, credit_points BIGINT, transfer_to TEXT, deadline TEXT,
  due_date TEXT, levels_required BIGINT NOT NULL, levels_done BIGINT NOT NULL, major BIGINT NOT NULL,
  collective_json TEXT, reason TEXT NOT NULL, proposed_by TEXT NOT NULL, proposed_at TEXT NOT NULL,
  approved_at TEXT, executed_at TEXT, executed_note TEXT, state_since TEXT NOT NULL);
CREATE INDEX wf_sanction_case ON wf_sanction (case_id);
CREATE TABLE wf_approval (
  id {{ID}}, sanction_id BIGINT NOT NULL, level BIGINT NOT NULL, approver TEXT NOT NULL,
  decision TEXT NOT NULL, note TEXT, at TEXT NOT NULL);
CREATE TABLE wf_payment (
  id {{ID}}, sanction_id BIGINT NOT NULL, amount_fen BIGINT NOT NULL, paid_on TEXT NOT NULL,
  reference TEXT, recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE TABLE wf_points (
  id {{ID}}, pract_code TEXT NOT NULL, fixmedins_code TEXT NOT NULL, band BIGINT NOT NULL,
  degree TEXT NOT NULL, points BIGINT NOT NULL, cause TEXT NOT NULL, case_id BIGINT, sanction_id BIGINT,
  state TEXT NOT NULL, proposed_by TEXT NOT NULL, proposed_at TEXT NOT NULL, approved_by TEXT,
  approved_at TEXT, year BIGINT, total_after BIGINT, note TEXT);
CREATE INDEX wf_points_pract ON wf_points (pract_code);
CREATE TABLE wf_points_repair (
  id {{ID}}, pract_code TEXT NOT NULL, year BIGINT NOT NULL, kind TEXT NOT NULL, points BIGINT NOT NULL,
  days BIGINT NOT NULL, measure_id BIGINT, reason TEXT NOT NULL, approved_by TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE wf_pract_measure (
  id {{ID}}, pract_code TEXT NOT NULL, kind TEXT NOT NULL, begndate TEXT NOT NULL, enddate TEXT,
  original_enddate TEXT, ban_until TEXT, months BIGINT, points_id BIGINT, reason TEXT NOT NULL,
  decided_by TEXT NOT NULL, decided_at TEXT NOT NULL);
CREATE INDEX wf_pract_measure_pract ON wf_pract_measure (pract_code);
CREATE TABLE wf_agreement_measure (
  id {{ID}}, fixmedins_code TEXT NOT NULL, kind TEXT NOT NULL, begndate TEXT NOT NULL, enddate TEXT,
  sanction_id BIGINT, reason TEXT NOT NULL, decided_by TEXT NOT NULL, decided_at TEXT NOT NULL);
CREATE TABLE wf_credit (
  id {{ID}}, fixmedins_code TEXT NOT NULL, year BIGINT NOT NULL, score BIGINT NOT NULL, grade TEXT NOT NULL,
  list TEXT, detail_json TEXT NOT NULL, computed_by TEXT NOT NULL, computed_at TEXT NOT NULL,
  UNIQUE (fixmedins_code, year));
CREATE TABLE wf_credit_list (
  id {{ID}}, fixmedins_code TEXT NOT NULL, list TEXT NOT NULL, reason TEXT NOT NULL, added_by TEXT NOT NULL,
  added_at TEXT NOT NULL, removed_by TEXT, removed_at TEXT, removed_reason TEXT);
CREATE TABLE wf_complaint (
  id {{ID}}, complaint_no TEXT NOT NULL UNIQUE, anonymous BIGINT NOT NULL, reporter_name TEXT,
  reporter_contact TEXT, claim_code_hash TEXT, fixmedins_code TEXT, target TEXT NOT NULL,
  content TEXT NOT NULL, channel TEXT NOT NULL, state TEXT NOT NULL, case_id BIGINT, case_value_fen BIGINT,
  reward_fen BIGINT, reward_proposed_by TEXT, reward_approved_by TEXT, reward_paid_by TEXT,
  reward_paid_at TEXT, reward_reference TEXT, note TEXT, received_by TEXT NOT NULL, received_at TEXT NOT NULL,
  state_since TEXT NOT NULL, due_at TEXT);
CREATE TABLE wf_share (
  id {{ID}}, case_id BIGINT NOT NULL, department TEXT NOT NULL, doc_json TEXT NOT NULL, sha256 TEXT NOT NULL,
  exported_by TEXT NOT NULL, exported_at TEXT NOT NULL);
CREATE TABLE wf_share_followup (
  id {{ID}}, share_id BIGINT NOT NULL, department TEXT NOT NULL, action TEXT NOT NULL, note TEXT NOT NULL,
  recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL);
",
)];
