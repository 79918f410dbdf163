//! Findings writers: JSON Lines (default; one [`Finding`] per line in the contract's shape), CSV
//! and Parquet (the flat layout of [`FINDING_COLUMNS`], `evidence` split into the sentence and
//! `evidence_details` JSON text; Parquet `amount` is DECIMAL(18,2), `severity` INT8).

#[cfg(test)]
use arrow::array::Array;
use arrow::array::{ArrayRef, Decimal128Builder, Int8Builder, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use medfund_contract::finding::FINDING_COLUMNS;
use medfund_contract::Finding;
use std::io::Write;
use std::sync::Arc;

/// Output format of findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
    Parquet,
}

/// Writes findings as JSON Lines.
pub fn write_jsonl(w: &mut dyn Write, findings: &[Finding]) -> anyhow::Result<()> {
    let mut buf = Vec::with_capacity(1 << 16);
    for f in findings {
        serde_json::to_writer(&mut buf, f)?;
        buf.push(b'\n');
        if buf.len() > 1 << 20 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)?;
    Ok(())
}

/// Writes findings as CSV with a header row ([`FINDING_COLUMNS`]).
pub fn write_csv(w: &mut dyn Write, findings: &[Finding]) -> anyhow::Result<()> {
    let mut c = csv::Writer::from_writer(w);
    c.write_record(FINDING_COLUMNS)?;
    for f in findings {
        c.write_record(f.to_row())?;
    }
    c.flush()?;
    Ok(())
}

/// The Arrow schema of the flat findings layout.
pub fn schema() -> Schema {
    Schema::new(
        FINDING_COLUMNS
            .iter()
            .map(|c| match *c {
                "severity" => Field::new(*c, DataType::Int8, false),
                "amount" => Field::new(*c, DataType::Decimal128(18, 2), true),
                "finding_id" | "rule_id" | "category" | "result" | "level" | "evidence"
                | "evidence_details" => Field::new(*c, DataType::Utf8, false),
                _ => Field::new(*c, DataType::Utf8, true),
            })
            .collect::<Vec<_>>(),
    )
}

/// Builds one Arrow record batch of findings.
pub fn record_batch(findings: &[Finding]) -> anyhow::Result<RecordBatch> {
    let schema = Arc::new(schema());
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(FINDING_COLUMNS.len());
    for (i, name) in FINDING_COLUMNS.iter().enumerate() {
        match *name {
            "severity" => {
                let mut b = Int8Builder::with_capacity(findings.len());
                for f in findings {
                    b.append_value(f.severity as i8);
                }
                cols.push(Arc::new(b.finish()));
            }
            "amount" => {
                let mut b = Decimal128Builder::with_capacity(findings.len());
                for f in findings {
                    b.append_option(f.amount.map(|a| a.0 as i128));
                }
                cols.push(Arc::new(b.finish().with_precision_and_scale(18, 2)?));
            }
            _ => {
                let nullable = schema.field(i).is_nullable();
                let mut b = StringBuilder::new();
                for f in findings {
                    let row = f.to_row();
                    let v = &row[i];
                    if nullable && v.is_empty() {
                        b.append_null();
                    } else {
                        b.append_value(v);
                    }
                }
                cols.push(Arc::new(b.finish()));
            }
        }
    }
    Ok(RecordBatch::try_new(schema, cols)?)
}

/// Writes findings as one Parquet file (zstd).
pub fn write_parquet<W: Write + Send>(w: W, findings: &[Finding]) -> anyhow::Result<()> {
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
        .build();
    let mut pw = parquet::arrow::ArrowWriter::try_new(w, Arc::new(schema()), Some(props))?;
    for chunk in findings.chunks(65_536) {
        pw.write(&record_batch(chunk)?)?;
    }
    pw.close()?;
    Ok(())
}

/// Writes findings in `format`.
pub fn write<W: Write>(mut w: W, format: Format, findings: &[Finding]) -> anyhow::Result<()> {
    match format {
        Format::Jsonl => write_jsonl(&mut w, findings)?,
        Format::Csv => write_csv(&mut w, findings)?,
        Format::Parquet => {
            // The Parquet writer needs a Send sink; findings are small next to the batch.
            let mut buf = Vec::new();
            write_parquet(&mut buf, findings)?;
            w.write_all(&buf)?;
        }
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use medfund_contract::{Category, Fen, Level};

    fn sample() -> Vec<Finding> {
        let mut a = Finding::new("over_price.catalog", Category::OverPrice, Level::Fee);
        a.mdtrt_id = Some("M1".into());
        a.amount = Some(Fen(1234));
        a.evidence.text = "单价高于限价".into();
        a.seal();
        let mut b = Finding::new("phantom_bed.presence", Category::PhantomBed, Level::Mdtrt);
        b.mdtrt_id = Some("M2".into());
        b.seal();
        vec![a, b]
    }

    #[test]
    fn jsonl_round_trips() {
        let mut buf = Vec::new();
        write_jsonl(&mut buf, &sample()).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let back: Vec<Finding> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(back, sample());
        assert!(text
            .lines()
            .next()
            .unwrap()
            .contains("\"amount\":\"12.34\""));
    }

    #[test]
    fn csv_has_the_contract_columns() {
        let mut buf = Vec::new();
        write_csv(&mut buf, &sample()).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), FINDING_COLUMNS.join(","));
        let first = lines.next().unwrap();
        assert!(first.contains(",12.34,"), "{first}");
    }

    #[test]
    fn parquet_types() {
        let rb = record_batch(&sample()).unwrap();
        assert_eq!(rb.num_rows(), 2);
        let amt = rb
            .column(14)
            .as_any()
            .downcast_ref::<arrow::array::Decimal128Array>()
            .unwrap();
        assert_eq!(amt.value(0), 1234);
        assert!(amt.is_null(1));
        let mut buf = Vec::new();
        write_parquet(&mut buf, &sample()).unwrap();
        assert_eq!(&buf[..4], b"PAR1");
    }
}
