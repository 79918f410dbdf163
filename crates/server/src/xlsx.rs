//! Excel exports of the UI's tables.

use rust_xlsxwriter::{Format, Workbook};
use serde_json::Value;

/// A one-sheet workbook with a bold header row and frozen panes.
pub fn workbook(name: &str, headers: &[String], rows: &[Vec<String>]) -> anyhow::Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    let bold = Format::new().set_bold();
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)?;
        ws.set_column_width(c as u16, 16)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, v)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(wb.save_to_buffer()?)
}

/// Turns a JSON array of objects into header + rows (nested values as JSON text).
pub fn flatten(items: Value) -> (Vec<String>, Vec<Vec<String>>) {
    let arr = items.as_array().cloned().unwrap_or_default();
    let mut headers: Vec<String> = Vec::new();
    for it in &arr {
        if let Some(o) = it.as_object() {
            for k in o.keys() {
                if !headers.contains(k) {
                    headers.push(k.clone());
                }
            }
        }
    }
    let rows = arr
        .iter()
        .map(|it| {
            headers
                .iter()
                .map(|h| match it.get(h) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                })
                .collect()
        })
        .collect();
    (headers, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn flattens_objects() {
        let (h, r) = flatten(serde_json::json!([{"a": 1, "b": "x"}, {"a": 2, "c": [1]}]));
        assert_eq!(h, vec!["a", "b", "c"]);
        assert_eq!(r, vec![vec!["1", "x", ""], vec!["2", "", "[1]"]]);
        let bytes = workbook("t", &h, &r).unwrap();
        assert_eq!(&bytes[..2], b"PK", "an xlsx is a zip file");
    }
}
