-- id = "model.false_admission"
-- name = "异常住院率（虚假住院）"
-- category = "provider_outlier"
-- level = "fixmedins"
-- result = "suspect"
-- severity = 3
-- keys = ["fixmedins_code"]
-- period_column = "month"
-- evidence = "{fixmedins_name}（{fixmedins_code}）{month} 收治住院 {admissions} 人次、就诊参保人 {patients} 人，每千名就诊参保人住院 {rate} 人次，为同级同类机构中位数 {peer_median} 的 {ratio} 倍（同级 {peer_count} 家），疑似虚假住院或降低标准收治入院，建议核查在院病人与病历。"
-- #
-- # 虚假住院 (national big-data model): an institution whose admissions per 1,000 insured
-- # patients in a month are far above its peers.
-- #   admissions = inpatient stays (med_type 21, 22, 23, 24, 52, 2101) admitted in the month
-- #   patients   = distinct insured persons with any visit at the institution in the month
-- #   rate       = admissions × 1000 ÷ patients
-- #   peers      = medical institutions of the same hosp_lv (missing = 9) in the same month
-- # Flagged when rate > 2 × the peer median, at least 5 admissions, at least 3 peers.
WITH visits AS (
    SELECT fixmedins_code,
           date_trunc('month', begntime) AS month_start,
           psn_no,
           med_type IN ('21', '22', '23', '24', '52', '2101') AS inpatient
    FROM mdtrt
),
per_inst AS (
    SELECT fixmedins_code,
           month_start,
           SUM(CASE WHEN inpatient THEN 1 ELSE 0 END) AS admissions,
           COUNT(DISTINCT psn_no) AS patients
    FROM visits
    GROUP BY fixmedins_code, month_start
),
rated AS (
    SELECT p.fixmedins_code,
           f.fixmedins_name,
           COALESCE(f.hosp_lv, 9) AS hosp_lv,
           p.month_start,
           p.admissions,
           p.patients,
           CAST(p.admissions AS DOUBLE) * 1000.0 / CAST(p.patients AS DOUBLE) AS rate
    FROM per_inst p
    JOIN fixmedins f ON f.fixmedins_code = p.fixmedins_code
    WHERE f.fixmedins_type = '1'
),
peers AS (
    SELECT hosp_lv, month_start, median(rate) AS peer_median, COUNT(*) AS peer_count
    FROM rated
    GROUP BY hosp_lv, month_start
)
SELECT r.fixmedins_code,
       r.fixmedins_name,
       to_char(r.month_start, '%Y-%m') AS month,
       r.admissions,
       r.patients,
       ROUND(r.rate, 1) AS rate,
       ROUND(p.peer_median, 1) AS peer_median,
       p.peer_count,
       ROUND(r.rate / p.peer_median, 2) AS ratio
FROM rated r
JOIN peers p ON p.hosp_lv = r.hosp_lv AND p.month_start = r.month_start
WHERE p.peer_count >= 3
  AND r.admissions >= 5
  AND p.peer_median > 0
  AND r.rate > 2 * p.peer_median
ORDER BY month, r.fixmedins_code;
