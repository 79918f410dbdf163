//! JSON Lines: one JSON object per line, keys are the column names.
//!
//! Values are taken from their JSON text: strings as they are, numbers by their exact literal
//! (never through `f64`), `true`/`false` as `1`/`0`, `null` as empty, arrays of codes joined with
//! `;`. A code sent as a JSON number is accepted when it still passes its format check and
//! refused with a leading-zeros warning otherwise.

use crate::fields::{Layout, Problem, Row};
use crate::load::{ChunkOut, Env, Pool, Span};
use crate::tables::Record;
use medfund_contract::schema::TableSpec;
use memchr::memchr_iter;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashMap;

/// One JSON value as field text; the flag says it was a number.
fn cell<'a>(col: &'static str, raw: &'a RawValue) -> Result<(Cow<'a, str>, bool), Problem> {
    let s = raw.get().trim();
    let bad = || {
        Problem::new(
            Some(col),
            format!("{col} 的 JSON 值类型不受支持：{s}"),
            format!("{col}: unsupported JSON value {s}"),
        )
    };
    match s.as_bytes().first() {
        Some(b'"') if !s.contains('\\') => Ok((Cow::Borrowed(&s[1..s.len() - 1]), false)),
        Some(b'"') => serde_json::from_str::<String>(s)
            .map(|v| (Cow::Owned(v), false))
            .map_err(|_| bad()),
        Some(b'n') => Ok((Cow::Borrowed(""), false)),
        Some(b't') => Ok((Cow::Borrowed("1"), false)),
        Some(b'f') => Ok((Cow::Borrowed("0"), false)),
        Some(b'-' | b'0'..=b'9') => Ok((Cow::Borrowed(s), true)),
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(s).map_err(|_| bad())?;
            let mut parts = Vec::with_capacity(items.len());
            for it in items {
                let (v, _) = cell(col, it)?;
                parts.push(v.into_owned());
            }
            Ok((Cow::Owned(parts.join(";")), false))
        }
        _ => Err(bad()),
    }
}

/// One JSON object line, keyed by column name.
enum Obj<'a> {
    Borrowed(HashMap<&'a str, &'a RawValue>),
    Owned(HashMap<String, &'a RawValue>),
}

impl<'a> Obj<'a> {
    fn get(&self, k: &str) -> Option<&'a RawValue> {
        match self {
            Obj::Borrowed(m) => m.get(k).copied(),
            Obj::Owned(m) => m.get(k).copied(),
        }
    }
}

/// Fills `vals`/`numeric` in spec order from one JSON object line.
fn parse_line<'a>(
    line: &'a str,
    spec: &'static TableSpec,
    vals: &mut Vec<Cow<'a, str>>,
    numeric: &mut [bool],
) -> Result<(), Problem> {
    let invalid = |e: serde_json::Error| {
        Problem::new(
            None,
            format!("JSON 行无法解析：{e}"),
            format!("invalid JSON object line: {e}"),
        )
    };
    // Borrowed keys are the rule; a key written with escapes needs the owned form.
    let obj = match serde_json::from_str(line) {
        Ok(m) => Obj::Borrowed(m),
        Err(_) => Obj::Owned(serde_json::from_str(line).map_err(invalid)?),
    };
    vals.clear();
    for (i, c) in spec.columns.iter().enumerate() {
        match obj.get(c.name) {
            None => {
                vals.push(Cow::Borrowed(""));
                numeric[i] = false;
            }
            Some(raw) => {
                let (v, num) = cell(c.name, raw)?;
                vals.push(v);
                numeric[i] = num;
            }
        }
    }
    Ok(())
}

/// Parses a chunk of whole lines.
pub(crate) fn parse_chunk<R: Record>(env: &Env, pool: &Pool<R>, text: &str) -> ChunkOut<R> {
    let spec = env.table.spec();
    let layout = Layout::identity(spec);
    let b = text.as_bytes();
    let mut out = pool.take(b.len() / 200 + 1);
    let mut vals: Vec<Cow<str>> = Vec::with_capacity(spec.columns.len());
    let mut numeric = vec![false; spec.columns.len()];
    let mut start = 0;
    let mut line = 0u64;
    let ends =
        memchr_iter(b'\n', b).chain((b.last() != Some(&b'\n') && !b.is_empty()).then_some(b.len()));
    for p in ends {
        let end = if p > start && b[p - 1] == b'\r' {
            p - 1
        } else {
            p
        };
        let l = &text[start..end];
        if !l.trim().is_empty() {
            match parse_line(l, spec, &mut vals, &mut numeric) {
                Ok(()) => {
                    let row = Row {
                        vals: &vals,
                        idx: &layout.idx,
                        numeric: &numeric,
                        spec,
                    };
                    out.record(env, &row, &layout, Span { start, end, line }, || {
                        l.to_string()
                    });
                }
                Err(p) => out.refuse(env, line, p, l.to_string()),
            }
        }
        line += 1;
        start = p + 1;
    }
    out.lines = line;
    out
}
