-- id = "model.key_drug_spike"
-- name = "重点药品用量环比异常增长"
-- category = "provider_outlier"
-- level = "fixmedins"
-- result = "suspect"
-- severity = 2
-- keys = ["fixmedins_code", "med_list_codg"]
-- period_column = "month"
-- amount_column = "amount"
-- evidence = "{fixmedins_name}（{fixmedins_code}）{month} 重点监控药品 {med_list_name}（{med_list_codg}，{drug_name}）用量 {quantity}，上月 {prev_quantity}，环比为上月的 {ratio} 倍，金额 {amount} 元，建议核查用药合理性。"
-- #
-- # 重点药品监控 (national big-data model): month-on-month volume spikes of the drugs on the
-- # key-monitoring list (key_drugs.csv in this directory: drug_name, and optionally a
-- # med_list_codg to pin a code). A catalog drug is on the list when its code is listed or its
-- # name contains a listed drug_name.
-- #   quantity = Σ cnt of the drug's fee lines at the institution in the month (by fee_ocur_time)
-- # Flagged when the previous month had volume, quantity ≥ 2 × the previous month's and the
-- # increase is at least 50 units. Amount = the month's amount of the drug at the institution.
WITH kd AS (
    SELECT c.med_list_codg, c.med_list_name, MIN(k.drug_name) AS drug_name
    FROM catalog c
    JOIN key_drugs k
      ON (k.med_list_codg IS NOT NULL AND c.med_list_codg = k.med_list_codg)
      OR strpos(c.med_list_name, k.drug_name) > 0
    WHERE c.list_type IN (1, 2)
    GROUP BY c.med_list_codg, c.med_list_name
),
vol AS (
    SELECT f.fixmedins_code,
           f.med_list_codg,
           date_trunc('month', f.fee_ocur_time) AS month_start,
           SUM(f.cnt) AS quantity,
           SUM(f.det_item_fee_sumamt) AS amount
    FROM fee f
    JOIN kd ON kd.med_list_codg = f.med_list_codg
    GROUP BY f.fixmedins_code, f.med_list_codg, date_trunc('month', f.fee_ocur_time)
)
SELECT cur.fixmedins_code,
       COALESCE(fm.fixmedins_name, cur.fixmedins_code) AS fixmedins_name,
       cur.med_list_codg,
       kd.med_list_name,
       kd.drug_name,
       to_char(cur.month_start, '%Y-%m') AS month,
       CAST(cur.quantity AS DOUBLE) AS quantity,
       CAST(prev.quantity AS DOUBLE) AS prev_quantity,
       ROUND(CAST(cur.quantity AS DOUBLE) / CAST(prev.quantity AS DOUBLE), 2) AS ratio,
       cur.amount
FROM vol cur
JOIN vol prev
  ON prev.fixmedins_code = cur.fixmedins_code
 AND prev.med_list_codg = cur.med_list_codg
 AND prev.month_start = cur.month_start - INTERVAL '1 month'
JOIN kd ON kd.med_list_codg = cur.med_list_codg
LEFT JOIN fixmedins fm ON fm.fixmedins_code = cur.fixmedins_code
WHERE prev.quantity > 0
  AND cur.quantity >= 2 * prev.quantity
  AND cur.quantity - prev.quantity >= 50
ORDER BY month, cur.fixmedins_code, cur.med_list_codg;
