//! Parquet: each column is turned into exact text, then validated like a CSV field.
//!
//! Strings are taken as they are; integers and decimals by their exact decimal text (a decimal's
//! unscaled integer and scale, never through `f64`); floats by their shortest round-trip text
//! (the value written by the exporter, when it had at most 15 significant digits); booleans as
//! `1`/`0`; dates as `YYYY-MM-DD`; timestamps as `YYYY-MM-DD HH:MM:SS` local wall-clock time
//! (a time zone, when present, is applied first; a fraction of a second is kept and then refused,
//! since the contract has whole seconds).

use crate::csvfast::hex;
use crate::fields::{Layout, Row};
use crate::load::{ChunkOut, Env, Sink, Span};
use crate::tables::Record;
use crate::{BatchError, Format, SourceFile};
use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Date32Type, Date64Type, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use chrono::NaiveDateTime;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

const ROWS_PER_TASK: usize = 8192;

fn undecodable(path: &Path, e: impl std::fmt::Display) -> BatchError {
    BatchError::Undecodable {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn fmt_datetime(t: NaiveDateTime) -> String {
    if t.and_utc().timestamp_subsec_nanos() == 0 {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S%.f").to_string()
    }
}

macro_rules! timestamps {
    ($a:expr, $t:ty, $tz:expr) => {{
        let a = $a.as_primitive::<$t>();
        let tz: Option<arrow::array::timezone::Tz> = $tz;
        (0..a.len())
            .map(|i| {
                if a.is_null(i) {
                    return None;
                }
                match &tz {
                    Some(tz) => a.value_as_datetime_with_tz(i, *tz).map(|t| t.naive_local()),
                    None => a.value_as_datetime(i),
                }
                .map(fmt_datetime)
            })
            .collect::<StringArray>()
    }};
}

/// Converts one Arrow column to exact text.
fn to_strings(a: &ArrayRef, path: &Path) -> Result<StringArray, BatchError> {
    Ok(match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().clone(),
        DataType::Boolean => a
            .as_boolean()
            .iter()
            .map(|v| v.map(|x| if x { "1" } else { "0" }))
            .collect(),
        DataType::Date32 => {
            let d = a.as_primitive::<Date32Type>();
            (0..d.len())
                .map(|i| {
                    d.is_valid(i)
                        .then(|| d.value_as_date(i))
                        .flatten()
                        .map(|x| x.to_string())
                })
                .collect()
        }
        DataType::Date64 => {
            let d = a.as_primitive::<Date64Type>();
            (0..d.len())
                .map(|i| {
                    d.is_valid(i)
                        .then(|| d.value_as_datetime(i))
                        .flatten()
                        .map(fmt_datetime)
                })
                .collect()
        }
        DataType::Timestamp(unit, tz) => {
            // A zoned column is read as the civil time of its own zone (DOMAIN: local civil
            // time). A zone that cannot be understood is refused: reading the instant as if it
            // were civil time would shift every time silently.
            let tz: Option<arrow::array::timezone::Tz> = match tz.as_deref() {
                None => None,
                Some(z) => Some(z.parse().map_err(|_| BatchError::Undecodable {
                    path: path.to_path_buf(),
                    message: format!(
                        "时间列的时区 '{z}' 无法识别，请写成不带时区的本地时间或 +08:00 / the timestamp column's time zone '{z}' is not understood: write local civil time without a zone, or +08:00"
                    ),
                })?),
            };
            match unit {
                TimeUnit::Second => timestamps!(a, TimestampSecondType, tz),
                TimeUnit::Millisecond => timestamps!(a, TimestampMillisecondType, tz),
                TimeUnit::Microsecond => timestamps!(a, TimestampMicrosecondType, tz),
                TimeUnit::Nanosecond => timestamps!(a, TimestampNanosecondType, tz),
            }
        }
        _ => {
            // Integers, decimals (exact: unscaled integer and scale), floats, large/view strings,
            // dictionaries: Arrow's own cast to text.
            let s = cast(a, &DataType::Utf8).map_err(|e| undecodable(path, e))?;
            s.as_string::<i32>().clone()
        }
    })
}

/// A row as a JSON object of its contract columns, for the quarantine.
fn raw_json(cols: &[Option<StringArray>], names: &[&str], row: usize) -> String {
    let mut m = serde_json::Map::new();
    for (c, n) in cols.iter().zip(names) {
        let v = match c {
            Some(a) if a.is_valid(row) => serde_json::Value::String(a.value(row).to_string()),
            _ => serde_json::Value::Null,
        };
        m.insert(n.to_string(), v);
    }
    serde_json::Value::Object(m).to_string()
}

fn sha256_file(path: &Path) -> Result<String, BatchError> {
    let mut f = std::fs::File::open(path).map_err(|e| BatchError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| BatchError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
    }
    Ok(hex(&sha.finalize()))
}

/// Reads a Parquet file into the sink.
pub(crate) fn read_parquet<R: Record>(
    env: &Env,
    sink: &mut Sink<R>,
) -> Result<SourceFile, BatchError> {
    let path = env.file;
    let spec = env.table.spec();
    let sha256 = if env.digests {
        sha256_file(path)?
    } else {
        String::new()
    };
    let file = std::fs::File::open(path).map_err(|e| BatchError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| undecodable(path, e))?;
    let schema = builder.schema().clone();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let numeric: Vec<bool> = schema
        .fields()
        .iter()
        .map(|f| f.data_type().is_numeric())
        .collect();
    let layout = Layout::from_names(spec, &names, &numeric);
    // Columns are handed to rows in spec order.
    let ordered = Layout {
        idx: layout
            .idx
            .iter()
            .enumerate()
            .map(|(i, x)| x.map(|_| i))
            .collect(),
        numeric: layout.numeric.clone(),
        missing: layout.missing.clone(),
    };
    let col_names: Vec<&str> = spec.columns.iter().map(|c| c.name).collect();
    let total = builder.metadata().file_metadata().num_rows().max(0) as usize;
    sink.reserve(total);
    let reader = builder
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| undecodable(path, e))?;
    let mut row_base = 1u64;
    for batch in reader {
        let batch = batch.map_err(|e| undecodable(path, e))?;
        let n = batch.num_rows();
        let cols: Vec<Option<StringArray>> = layout
            .idx
            .iter()
            .map(|i| i.map(|j| to_strings(batch.column(j), path)).transpose())
            .collect::<Result<_, _>>()?;
        let ranges: Vec<(usize, usize)> = (0..n)
            .step_by(ROWS_PER_TASK)
            .map(|s| (s, (s + ROWS_PER_TASK).min(n)))
            .collect();
        let pool = &sink.pool;
        let outs: Vec<ChunkOut<R>> = ranges
            .par_iter()
            .map(|&(s, e)| {
                let mut out = pool.take(e - s);
                let mut vals: Vec<Cow<str>> = Vec::with_capacity(cols.len());
                for row in s..e {
                    vals.clear();
                    vals.extend(cols.iter().map(|c| match c {
                        Some(a) if a.is_valid(row) => Cow::Borrowed(a.value(row)),
                        _ => Cow::Borrowed(""),
                    }));
                    let r = Row {
                        vals: &vals,
                        idx: &ordered.idx,
                        numeric: &ordered.numeric,
                        spec,
                    };
                    let span = Span {
                        start: row,
                        end: row,
                        line: (row - s) as u64,
                    };
                    out.record(env, &r, &ordered, span, || raw_json(&cols, &col_names, row));
                }
                out.lines = (e - s) as u64;
                out
            })
            .collect();
        let mut bases = Vec::with_capacity(outs.len());
        let mut base = row_base;
        for out in &outs {
            bases.push(base);
            base += out.lines;
        }
        sink.absorb(outs, env, &bases, &|_: usize, s: Span| {
            raw_json(&cols, &col_names, s.start)
        });
        row_base += n as u64;
    }
    Ok(SourceFile {
        table: env.table,
        path: path.to_path_buf(),
        format: Format::Parquet,
        encoding: "binary".into(),
        bytes,
        sha256,
    })
}
