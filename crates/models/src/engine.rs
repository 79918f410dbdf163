//! Runs models with Apache DataFusion: registers the store's tables, executes each model's SQL
//! and turns every result row into a finding.

use crate::model::{placeholders, Model, KEY_COLUMNS};
use anyhow::{bail, Context};
use arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Int32Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::util::display::array_value_to_string;
use chrono::NaiveDate;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use medfund_contract::finding::Finding;
use medfund_contract::money::{div_round_half_up, Fen};
use medfund_contract::records::{CatalogEntry, Fixmedins, Pract, Psn};
use medfund_contract::schema::Table;
use medfund_contract::Code;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The tables a model can query, and where they come from.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// Parquet files of each claim table (`mdtrt`, `setl`, `fee`, `diag`, `rx`, `inv_purc`,
    /// `inv_stock`, `idv`), in the store's layout.
    pub claims: BTreeMap<Table, Vec<PathBuf>>,
    pub fixmedins: Vec<Fixmedins>,
    pub psn: Vec<Psn>,
    pub pract: Vec<Pract>,
    pub catalog: Vec<CatalogEntry>,
    /// Extra tables from CSV files (e.g. `key_drugs.csv` of the rule library): name → path.
    pub csv: BTreeMap<String, PathBuf>,
}

impl Sources {
    /// Everything in a store: its claim files (exactly the committed ones) and reference tables.
    pub fn from_store(data: &Path) -> anyhow::Result<Sources> {
        anyhow::ensure!(
            data.exists(),
            "数据目录 {} 不存在：先用 medfund load 加载数据 / data directory not found; load a batch first",
            data.display()
        );
        let mut store = medfund_store::Store::open(data).map_err(|e| anyhow::anyhow!("{e}"))?;
        let e = |e: medfund_store::StoreError| anyhow::anyhow!("{e}");
        let mut claims = BTreeMap::new();
        for t in Table::ALL.into_iter().filter(|t| t.is_claim()) {
            claims.insert(t, store.claim_files(t).map_err(e)?);
        }
        Ok(Sources {
            claims,
            fixmedins: store.fixmedins().map_err(e)?,
            psn: store.psn().map_err(e)?,
            pract: store.pract().map_err(e)?,
            catalog: store.catalog().map_err(e)?,
            csv: BTreeMap::new(),
        })
    }

    /// Adds every `*.csv` of the models directory as a table named after the file.
    pub fn with_csv_dir(mut self, dir: &Path) -> anyhow::Result<Sources> {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("无法读取模型目录 {} / cannot read", dir.display()))?;
        for e in entries.filter_map(|e| e.ok()) {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "csv") {
                if let Some(stem) = p.file_stem().and_then(|s| s.to_str()) {
                    self.csv.insert(stem.to_string(), p.clone());
                }
            }
        }
        Ok(self)
    }
}

fn strings<'a>(v: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(StringArray::from_iter(v))
}

fn mem(
    ctx: &SessionContext,
    name: &str,
    fields: Vec<Field>,
    cols: Vec<ArrayRef>,
) -> anyhow::Result<()> {
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), cols)?;
    let t = MemTable::try_new(schema, vec![vec![batch]])?;
    ctx.register_table(name, Arc::new(t))?;
    Ok(())
}

fn days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

/// Reads a small CSV (header row, all columns text; empty cells are null).
fn register_csv(ctx: &SessionContext, name: &str, path: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("无法读取 {} / cannot read", path.display()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .ok_or_else(|| anyhow::anyhow!("{} 是空文件 / empty file", path.display()))?
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let mut cols: Vec<Vec<Option<String>>> = vec![Vec::new(); header.len()];
    for (n, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != header.len() {
            bail!(
                "{} 第 {} 行有 {} 列，表头有 {} 列（该文件不支持引号内的逗号） / row has a different column count",
                path.display(),
                n + 2,
                cells.len(),
                header.len()
            );
        }
        for (k, c) in cells.iter().enumerate() {
            let c = c.trim();
            cols[k].push((!c.is_empty()).then(|| c.to_string()));
        }
    }
    let fields = header
        .iter()
        .map(|h| Field::new(h, DataType::Utf8, true))
        .collect();
    let arrays = cols
        .iter()
        .map(|c| strings(c.iter().map(|v| v.as_deref())))
        .collect();
    mem(ctx, name, fields, arrays)
}

/// A DataFusion session with every table of `src` registered under its contract name.
pub fn session(src: &Sources) -> anyhow::Result<SessionContext> {
    let config = SessionConfig::new().with_information_schema(true);
    let ctx = SessionContext::new_with_config(config);
    for (table, files) in &src.claims {
        let name = table.name();
        let schema = medfund_store::claims::arrow_schema(*table);
        if files.is_empty() {
            // An empty table keeps a model runnable on a store that lacks it.
            let t = MemTable::try_new(schema, vec![vec![]])?;
            ctx.register_table(name, Arc::new(t))?;
            continue;
        }
        let urls = files
            .iter()
            .map(|f| ListingTableUrl::parse(f.to_string_lossy()))
            .collect::<Result<Vec<_>, _>>()?;
        let opts =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(opts)
            .with_schema(schema);
        ctx.register_table(name, Arc::new(ListingTable::try_new(config)?))?;
    }
    mem(
        &ctx,
        "fixmedins",
        vec![
            Field::new("fixmedins_code", DataType::Utf8, false),
            Field::new("fixmedins_name", DataType::Utf8, false),
            Field::new("fixmedins_type", DataType::Utf8, false),
            Field::new("hosp_lv", DataType::Int32, true),
            Field::new("admdvs", DataType::Utf8, true),
        ],
        vec![
            strings(
                src.fixmedins
                    .iter()
                    .map(|f| Some(f.fixmedins_code.as_str())),
            ),
            strings(
                src.fixmedins
                    .iter()
                    .map(|f| Some(f.fixmedins_name.as_str())),
            ),
            strings(src.fixmedins.iter().map(|f| Some(f.fixmedins_type.code()))),
            Arc::new(Int32Array::from_iter(
                src.fixmedins.iter().map(|f| f.hosp_lv.map(i32::from)),
            )),
            strings(src.fixmedins.iter().map(|f| f.admdvs.as_deref())),
        ],
    )?;
    mem(
        &ctx,
        "psn",
        vec![
            Field::new("psn_no", DataType::Utf8, false),
            Field::new("gend", DataType::Utf8, false),
            Field::new("brdy", DataType::Date32, false),
            Field::new("insutype", DataType::Utf8, true),
            Field::new("insuplc_admdvs", DataType::Utf8, true),
        ],
        vec![
            strings(src.psn.iter().map(|p| Some(p.psn_no.as_str()))),
            strings(src.psn.iter().map(|p| Some(p.gend.code()))),
            Arc::new(Date32Array::from_iter_values(
                src.psn.iter().map(|p| days(p.brdy)),
            )),
            strings(src.psn.iter().map(|p| p.insutype.as_deref())),
            strings(src.psn.iter().map(|p| p.insuplc_admdvs.as_deref())),
        ],
    )?;
    mem(
        &ctx,
        "pract",
        vec![
            Field::new("pract_code", DataType::Utf8, false),
            Field::new("pract_name", DataType::Utf8, false),
            Field::new("pract_type", DataType::Int32, false),
            Field::new("fixmedins_code", DataType::Utf8, false),
        ],
        vec![
            strings(src.pract.iter().map(|p| Some(p.pract_code.as_str()))),
            strings(src.pract.iter().map(|p| Some(p.pract_name.as_str()))),
            Arc::new(Int32Array::from_iter_values(
                src.pract.iter().map(|p| i32::from(p.pract_type)),
            )),
            strings(src.pract.iter().map(|p| Some(p.fixmedins_code.as_str()))),
        ],
    )?;
    mem(
        &ctx,
        "catalog",
        vec![
            Field::new("med_list_codg", DataType::Utf8, false),
            Field::new("med_list_name", DataType::Utf8, false),
            Field::new("list_type", DataType::Int32, false),
            Field::new("med_chrgitm_type", DataType::Utf8, true),
            Field::new("chrgitm_lv", DataType::Int32, true),
            Field::new("rx_only", DataType::Boolean, false),
        ],
        vec![
            strings(src.catalog.iter().map(|c| Some(c.med_list_codg.as_str()))),
            strings(src.catalog.iter().map(|c| Some(c.med_list_name.as_str()))),
            Arc::new(Int32Array::from_iter_values(
                src.catalog.iter().map(|c| i32::from(c.list_type)),
            )),
            strings(src.catalog.iter().map(|c| c.med_chrgitm_type.as_deref())),
            Arc::new(Int32Array::from_iter(
                src.catalog.iter().map(|c| c.chrgitm_lv.map(i32::from)),
            )),
            Arc::new(BooleanArray::from_iter(
                src.catalog.iter().map(|c| Some(c.rx_only)),
            )),
        ],
    )?;
    for (name, path) in &src.csv {
        register_csv(&ctx, name, path)?;
    }
    Ok(ctx)
}

/// Parses a decimal text (any number of decimals) to fen, rounding half up (away from zero).
pub fn parse_fen_rounded(text: &str) -> Option<Fen> {
    let t = text.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // Keep at most 12 decimals: finer than any money value and far from i128 overflow.
    let frac = &frac[..frac.len().min(12)];
    let scale = frac.len() as u32;
    let digits = format!("{int}{frac}");
    let v: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let fen = if scale >= 2 {
        div_round_half_up(v, 10i128.pow(scale - 2))
    } else {
        v * 10i128.pow(2 - scale)
    };
    let fen = i64::try_from(fen).ok()?;
    Some(Fen(if neg { -fen } else { fen }))
}

fn json_value(col: &ArrayRef, row: usize) -> anyhow::Result<Value> {
    if col.is_null(row) {
        return Ok(Value::Null);
    }
    Ok(match col.data_type() {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => {
            let s = array_value_to_string(col, row)?;
            s.parse::<i64>()
                .map(Value::from)
                .unwrap_or(Value::String(s))
        }
        DataType::Float32 | DataType::Float64 => {
            let s = array_value_to_string(col, row)?;
            s.parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .unwrap_or(Value::String(s))
        }
        DataType::Boolean => Value::Bool(array_value_to_string(col, row)? == "true"),
        _ => Value::String(array_value_to_string(col, row)?),
    })
}

/// Turns a model's result batches into sealed findings.
pub fn rows_to_findings(model: &Model, batches: &[RecordBatch]) -> anyhow::Result<Vec<Finding>> {
    let mut out = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        for c in model.required_columns() {
            if !names.contains(&c.as_str()) {
                bail!(
                    "模型 {} 的结果中没有列 '{c}'（键列、期间列、金额列或证据模板引用） / the result lacks column '{c}'",
                    model.id
                );
            }
        }
        for row in 0..batch.num_rows() {
            let mut text: BTreeMap<&str, Option<String>> = BTreeMap::new();
            let mut details = Map::new();
            for (k, name) in names.iter().enumerate() {
                let c = batch.column(k);
                let v = json_value(c, row)?;
                text.insert(
                    name,
                    if c.is_null(row) {
                        None
                    } else {
                        Some(array_value_to_string(c, row)?)
                    },
                );
                details.insert(name.to_string(), v);
            }
            let period = match &model.period_column {
                Some(p) => Some(text[p.as_str()].clone().ok_or_else(|| {
                    anyhow::anyhow!(
                        "模型 {} 第 {} 行的期间列 {p} 为空 / null period",
                        model.id,
                        row + 1
                    )
                })?),
                None => None,
            };
            let rule_id = match &period {
                Some(p) => format!("{}.{p}", model.id),
                None => model.id.clone(),
            };
            let mut f = Finding::new(rule_id, model.category, model.level);
            f.result = model.result;
            f.severity = model.severity;
            f.nhsa_rule_code = model.nhsa_rule_code.clone();
            if let Some(Some(s)) = text.get("severity") {
                match s.trim().parse::<u8>() {
                    Ok(v) if (1..=4).contains(&v) => f.severity = v,
                    _ => bail!(
                        "模型 {} 第 {} 行的 severity '{s}' 不在 1–4 / severity must be 1–4",
                        model.id,
                        row + 1
                    ),
                }
            }
            for key in KEY_COLUMNS {
                let v: Option<Code> = text.get(key).cloned().flatten().map(Code::from);
                if v.is_none() && model.keys.iter().any(|k| k == key) {
                    bail!(
                        "模型 {} 第 {} 行的键列 {key} 为空 / key column is null",
                        model.id,
                        row + 1
                    );
                }
                match *key {
                    "setl_id" => f.setl_id = v,
                    "mdtrt_id" => f.mdtrt_id = v,
                    "feedetl_sn" => f.feedetl_sn = v,
                    "psn_no" => f.psn_no = v,
                    "fixmedins_code" => f.fixmedins_code = v,
                    "pract_code" => f.pract_code = v,
                    _ => f.med_list_codg = v,
                }
            }
            if let Some(a) = &model.amount_column {
                f.amount = match &text[a.as_str()] {
                    None => None,
                    Some(s) => Some(parse_fen_rounded(s).ok_or_else(|| {
                        anyhow::anyhow!(
                            "模型 {} 第 {} 行的金额 '{s}' 不是数字 / amount is not a number",
                            model.id,
                            row + 1
                        )
                    })?),
                };
            }
            let mut sentence = model.evidence.clone();
            for p in placeholders(&model.evidence) {
                let v = text[p.as_str()].clone().unwrap_or_default();
                sentence = sentence.replacen(&format!("{{{p}}}"), &v, 1);
            }
            details.insert("model".into(), Value::String(model.id.clone()));
            details.insert("model_name".into(), Value::String(model.name.clone()));
            f.evidence.text = sentence;
            f.evidence.details = Value::Object(details);
            f.seal();
            out.push(f);
        }
    }
    Ok(out)
}

/// Runs one model in a session.
pub async fn run_model(ctx: &SessionContext, model: &Model) -> anyhow::Result<Vec<Finding>> {
    let df = ctx.sql(&model.sql).await.with_context(|| {
        format!(
            "模型 {}（{}）的 SQL 无法执行 / the model's SQL failed",
            model.id,
            model.path.display()
        )
    })?;
    let batches = df
        .collect()
        .await
        .with_context(|| format!("模型 {} 执行失败 / the model failed", model.id))?;
    rows_to_findings(model, &batches)
}

/// Runs models over the sources, in order. Each model's findings follow its result order.
pub fn run_all(src: &Sources, models: &[Model]) -> anyhow::Result<Vec<Finding>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("无法启动查询线程 / cannot start the query runtime")?;
    rt.block_on(async {
        let ctx = session(src)?;
        let mut out = Vec::new();
        for m in models {
            out.extend(run_model(&ctx, m).await?);
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_half_up_to_the_fen() {
        assert_eq!(parse_fen_rounded("12.345"), Some(Fen(1235)));
        assert_eq!(parse_fen_rounded("-12.345"), Some(Fen(-1235)));
        assert_eq!(parse_fen_rounded("12.344999"), Some(Fen(1234)));
        assert_eq!(parse_fen_rounded("7"), Some(Fen(700)));
        assert_eq!(parse_fen_rounded("0.5"), Some(Fen(50)));
        assert_eq!(parse_fen_rounded(".05"), Some(Fen(5)));
        assert_eq!(parse_fen_rounded("1e5"), None);
        assert_eq!(parse_fen_rounded(""), None);
    }
}
