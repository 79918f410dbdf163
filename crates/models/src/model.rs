//! A risk model: one SQL file of the rule library with a TOML header in `-- ` comments.
//!
//! ```text
//! -- id = "model.false_admission"
//! -- name = "异常住院率（虚假住院）"
//! -- category = "provider_outlier"
//! -- level = "fixmedins"              # optional: the category's default level
//! -- result = "suspect"               # optional: suspect (default) or violation
//! -- severity = 3                     # optional: 1–4, default 2; a `severity` column overrides it
//! -- keys = ["fixmedins_code"]        # key columns every row must fill
//! -- period_column = "month"          # optional: appended to the rule id (one finding per period)
//! -- amount_column = "amount"         # optional: the suspect amount in yuan
//! -- evidence = "{fixmedins_name}在 {month} 住院 {admissions} 人次……"
//! -- # prose lines are TOML comments
//! SELECT … ;
//! ```
//!
//! Result columns named like the finding keys (`setl_id`, `mdtrt_id`, `feedetl_sn`, `psn_no`,
//! `fixmedins_code`, `pract_code`, `med_list_codg`) fill them; every column goes into the
//! evidence details and may be used as a `{placeholder}` in the evidence template.

use anyhow::{bail, Context};
use medfund_contract::finding::{Category, Level, Outcome};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The finding key columns a model's result may fill.
pub const KEY_COLUMNS: &[&str] = &[
    "setl_id",
    "mdtrt_id",
    "feedetl_sn",
    "psn_no",
    "fixmedins_code",
    "pract_code",
    "med_list_codg",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    id: String,
    name: String,
    category: String,
    level: Option<String>,
    result: Option<String>,
    severity: Option<u8>,
    nhsa_rule_code: Option<String>,
    keys: Vec<String>,
    period_column: Option<String>,
    amount_column: Option<String>,
    evidence: String,
}

/// A parsed model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Model {
    /// Stable id, e.g. `model.false_admission` (the findings' rule id, plus the period).
    pub id: String,
    /// Chinese name.
    pub name: String,
    pub category: Category,
    pub level: Level,
    pub result: Outcome,
    /// 1–4 (a `severity` result column overrides it per row).
    pub severity: u8,
    pub nhsa_rule_code: Option<String>,
    /// Key columns that must be present and non-null in every row.
    pub keys: Vec<String>,
    pub period_column: Option<String>,
    pub amount_column: Option<String>,
    /// Evidence sentence with `{column}` placeholders.
    pub evidence: String,
    /// The SQL query (the whole file; the header is SQL comments).
    pub sql: String,
    /// Where it was read from.
    pub path: PathBuf,
}

fn level_of(s: &str) -> Option<Level> {
    Some(match s {
        "fee" => Level::Fee,
        "mdtrt" => Level::Mdtrt,
        "psn" => Level::Psn,
        "fixmedins" => Level::Fixmedins,
        "pract" => Level::Pract,
        _ => return None,
    })
}

/// The `{name}` placeholders of a template, in order.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                out.push(after[..close].to_string());
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    out
}

impl Model {
    /// Parses a model file's text. `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> anyhow::Result<Model> {
        let where_ = || format!("模型文件 {} / model file", path.display());
        let mut header = String::new();
        for line in text.lines() {
            let t = line.trim_start();
            if let Some(rest) = t.strip_prefix("--") {
                header.push_str(rest.strip_prefix(' ').unwrap_or(rest));
                header.push('\n');
            } else if t.is_empty() {
                continue;
            } else {
                break;
            }
        }
        let h: Header = toml::from_str(&header)
            .map_err(|e| {
                anyhow::anyhow!("文件头（-- 注释中的 TOML）格式错误 / invalid header: {e}")
            })
            .with_context(where_)?;
        let category = Category::from_code(&h.category)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "未知的类别 '{}' / unknown category (see DOMAIN.md §4)",
                    h.category
                )
            })
            .with_context(where_)?;
        let level = match &h.level {
            Some(l) => level_of(l)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "未知的层级 '{l}'（fee/mdtrt/psn/fixmedins/pract） / unknown level"
                    )
                })
                .with_context(where_)?,
            None => category.default_level(),
        };
        let result = match h.result.as_deref() {
            None | Some("suspect") => Outcome::Suspect,
            Some("violation") => Outcome::Violation,
            Some(o) => bail!(
                "{}: result 应为 suspect 或 violation，而不是 '{o}'",
                where_()
            ),
        };
        let severity = h.severity.unwrap_or(2);
        if !(1..=4).contains(&severity) {
            bail!("{}: severity 应在 1–4 / severity must be 1–4", where_());
        }
        for k in &h.keys {
            if !KEY_COLUMNS.contains(&k.as_str()) {
                bail!(
                    "{}: keys 中的 '{k}' 不是发现的键列（{}）",
                    where_(),
                    KEY_COLUMNS.join(", ")
                );
            }
        }
        if h.keys.is_empty() {
            bail!(
                "{}: keys 不能为空：每条发现至少需要一个键列 / give at least one key column",
                where_()
            );
        }
        if !h
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
            || h.id.is_empty()
        {
            bail!(
                "{}: id '{}' 只能包含字母、数字和 . _ - / id must be ASCII letters, digits, . _ -",
                where_(),
                h.id
            );
        }
        let sql = text.trim_end().trim_end_matches(';').to_string();
        if !sql
            .lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
        {
            bail!(
                "{}: 文件中没有 SQL 查询 / no SQL query after the header",
                where_()
            );
        }
        Ok(Model {
            id: h.id,
            name: h.name,
            category,
            level,
            result,
            severity,
            nhsa_rule_code: h.nhsa_rule_code.filter(|s| !s.is_empty()),
            keys: h.keys,
            period_column: h.period_column,
            amount_column: h.amount_column,
            evidence: h.evidence,
            sql,
            path: path.to_path_buf(),
        })
    }

    /// The columns the model needs in its result: keys, period, amount and placeholders.
    pub fn required_columns(&self) -> Vec<String> {
        let mut cols: Vec<String> = self.keys.clone();
        cols.extend(self.period_column.iter().cloned());
        cols.extend(self.amount_column.iter().cloned());
        for p in placeholders(&self.evidence) {
            if !cols.contains(&p) {
                cols.push(p);
            }
        }
        cols
    }
}

/// Reads every `*.sql` file of a directory (sorted by file name). Duplicate ids are refused.
pub fn load_models(dir: &Path) -> anyhow::Result<Vec<Model>> {
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!("无法读取模型目录 {}（用 --models-dir 指定规则库中的 models 目录） / cannot read the models directory", dir.display())
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    paths.sort();
    let mut models: Vec<Model> = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(&p)
            .with_context(|| format!("无法读取 {} / cannot read", p.display()))?;
        let m = Model::parse(&text, &p)?;
        if let Some(other) = models.iter().find(|o| o.id == m.id) {
            bail!(
                "模型 id '{}' 在 {} 和 {} 中重复 / duplicate model id",
                m.id,
                other.path.display(),
                p.display()
            );
        }
        models.push(m);
    }
    Ok(models)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"-- id = "model.x"
-- name = "测试"
-- category = "doctor_shopping"
-- keys = ["psn_no"]
-- period_column = "month"
-- evidence = "{psn_no} 在 {month} 购药 {n} 次"
-- # a prose comment
SELECT 'P1' AS psn_no, '2024-03' AS month, 5 AS n;
"#;

    #[test]
    fn parses_header_and_defaults() {
        let m = Model::parse(GOOD, Path::new("x.sql")).unwrap();
        assert_eq!(m.id, "model.x");
        assert_eq!(m.category, Category::DoctorShopping);
        assert_eq!(m.level, Level::Psn);
        assert_eq!(m.result, Outcome::Suspect);
        assert_eq!(m.severity, 2);
        assert!(m.sql.ends_with("5 AS n"));
        assert_eq!(m.required_columns(), vec!["psn_no", "month", "n"]);
        assert_eq!(placeholders("{a}x{b}{"), vec!["a", "b"]);
    }

    #[test]
    fn refuses_bad_headers() {
        let bad = |from: &str, to: &str| {
            format!(
                "{:#}",
                Model::parse(&GOOD.replace(from, to), Path::new("x.sql")).unwrap_err()
            )
        };
        assert!(bad("doctor_shopping", "nonsense").contains("未知的类别"));
        assert!(bad("[\"psn_no\"]", "[\"month\"]").contains("不是发现的键列"));
        assert!(bad("[\"psn_no\"]", "[]").contains("keys 不能为空"));
        assert!(bad("-- name", "-- nmae").contains("文件头"));
        assert!(bad("SELECT 'P1' AS psn_no, '2024-03' AS month, 5 AS n;", "").contains("没有 SQL"));
        assert!(bad("model.x", "model x").contains("id"));
    }
}
