-- id = "model.drug_resale"
-- name = "倒卖医保药品（同一参保人高频购同一药品）"
-- category = "doctor_shopping"
-- level = "psn"
-- result = "suspect"
-- severity = 2
-- keys = ["psn_no", "med_list_codg"]
-- period_column = "month"
-- amount_column = "amount"
-- evidence = "参保人 {psn_no} 于 {month} 在 {institutions} 家机构购买 {med_list_name}（{med_list_codg}）{purchases} 次、共 {quantity} 个单位，金额 {amount} 元；其中 {reused_codes} 个药品追溯码被重复结算（回流药嫌疑），疑似倒卖医保药品，建议核查购药记录与追溯码流向。"
-- #
-- # 倒卖医保药品 (national big-data model): the same person buying the same drug at high
-- # frequency, combined with the traceability codes (药品追溯码) of the boxes sold.
-- #   drug lines   = fee lines of catalog list_type 1 or 2 with a positive quantity
-- #   purchases    = distinct visits with the drug in the calendar month (by fee_ocur_time)
-- #   reused_codes = the person's traceability codes of that drug and month that appear on more
-- #                  than one fee line anywhere in the store (a box settled twice: 回流药)
-- # Flagged when purchases ≥ 4, or purchases ≥ 2 with a reused code. Severity 3 with a reused
-- # code, else 2. Amount = the amount of those drug lines.
WITH lines AS (
    SELECT f.psn_no,
           f.med_list_codg,
           f.fixmedins_code,
           f.mdtrt_id,
           f.cnt,
           f.det_item_fee_sumamt,
           f.drug_trac_codg,
           to_char(date_trunc('month', f.fee_ocur_time), '%Y-%m') AS month
    FROM fee f
    JOIN catalog c ON c.med_list_codg = f.med_list_codg
    WHERE c.list_type IN (1, 2) AND f.cnt > 0
),
-- Distinct counts are taken in two steps (group by the counted column, then count the groups):
-- DataFusion's COUNT(DISTINCT) keeps a hash set per group and ran out of 24 GB at 10 M lines.
visits AS (
    SELECT psn_no, med_list_codg, month, mdtrt_id,
           SUM(cnt) AS quantity,
           SUM(det_item_fee_sumamt) AS amount
    FROM lines
    GROUP BY psn_no, med_list_codg, month, mdtrt_id
),
per AS (
    SELECT psn_no, med_list_codg, month,
           COUNT(*) AS purchases,
           SUM(quantity) AS quantity,
           SUM(amount) AS amount
    FROM visits
    GROUP BY psn_no, med_list_codg, month
),
insts AS (
    SELECT psn_no, med_list_codg, month, COUNT(*) AS institutions
    FROM (SELECT DISTINCT psn_no, med_list_codg, month, fixmedins_code FROM lines) d
    GROUP BY psn_no, med_list_codg, month
),
all_codes AS (
    SELECT code
    FROM (SELECT unnest(string_to_array(drug_trac_codg, ';')) AS code
          FROM fee
          WHERE drug_trac_codg IS NOT NULL AND drug_trac_codg <> '') u
    WHERE code <> ''
    GROUP BY code
    HAVING COUNT(*) > 1
),
person_codes AS (
    SELECT DISTINCT psn_no, med_list_codg, month, code
    FROM (SELECT psn_no, med_list_codg, month, unnest(string_to_array(drug_trac_codg, ';')) AS code
          FROM lines
          WHERE drug_trac_codg IS NOT NULL AND drug_trac_codg <> '') u
    WHERE code <> ''
),
reused AS (
    SELECT pc.psn_no, pc.med_list_codg, pc.month, COUNT(*) AS reused_codes
    FROM person_codes pc
    JOIN all_codes a ON a.code = pc.code
    GROUP BY pc.psn_no, pc.med_list_codg, pc.month
)
SELECT p.psn_no,
       p.med_list_codg,
       c.med_list_name,
       p.month,
       p.purchases,
       i.institutions,
       CAST(p.quantity AS DOUBLE) AS quantity,
       p.amount,
       COALESCE(r.reused_codes, 0) AS reused_codes,
       CASE WHEN COALESCE(r.reused_codes, 0) > 0 THEN 3 ELSE 2 END AS severity
FROM per p
JOIN catalog c ON c.med_list_codg = p.med_list_codg
JOIN insts i ON i.psn_no = p.psn_no AND i.med_list_codg = p.med_list_codg AND i.month = p.month
LEFT JOIN reused r ON r.psn_no = p.psn_no AND r.med_list_codg = p.med_list_codg AND r.month = p.month
WHERE p.purchases >= 4
   OR (p.purchases >= 2 AND COALESCE(r.reused_codes, 0) > 0)
ORDER BY p.month, p.psn_no, p.med_list_codg;
