//! `docs/contract.md` is rendered from the table specs; this test keeps the two in sync.
//! Run with `UPDATE_DOCS=1` to rewrite the document after changing a spec.

use medfund_contract::schema::{Kind, Table};
use medfund_contract::Category;

fn kind_text(k: Kind) -> String {
    match k {
        Kind::Text => "text".into(),
        Kind::Id => "identifier (letters, digits, - _; ≤ 40)".into(),
        Kind::Fixmedins => "institution code (H/P + 11 digits)".into(),
        Kind::Pract => "personnel code (letter + 12 digits)".into(),
        Kind::ListCode => "national list code (X+22, Z+19, C+19 digits, T…, 15-digit item)".into(),
        Kind::Diag => "ICD-10 医保版 code (e.g. E11.900)".into(),
        Kind::Admdvs => "6-digit area code".into(),
        Kind::Date => "date YYYY-MM-DD".into(),
        Kind::DateTime => "local time YYYY-MM-DD HH:MM:SS".into(),
        Kind::Month => "month YYYY-MM".into(),
        Kind::Amount => "yuan, ≤ 2 decimals (exact)".into(),
        Kind::Price => "yuan, ≤ 6 decimals (exact)".into(),
        Kind::Qty => "quantity, ≤ 4 decimals; negative = refund".into(),
        Kind::Int => "whole number".into(),
        Kind::Enum(v) => format!(
            "one of {}",
            v.iter()
                .map(|x| format!("`{x}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Kind::ListCodes => "`;`-separated list codes".into(),
        Kind::DiagPrefixes => "`;`-separated ICD-10 prefixes".into(),
        Kind::TraceCodes => "`;`-separated 20-digit traceability codes (start with 8)".into(),
    }
}

fn render() -> String {
    let mut s = String::from(
        "# The data contract (input tables)\n\n\
         Rendered from `crates/contract/src/schema.rs` by `crates/contract/tests/contract_doc.rs`; \
         DOMAIN.md §3 is the source. A batch is a directory with one file per table: \
         `<table>.csv` (UTF-8, header row, RFC 4180; a BOM, CRLF line ends and GBK-encoded files \
         are read too), `<table>.parquet` or `<table>.jsonl`. Extra columns are ignored; missing \
         optional columns are null. Required columns are in **bold**.\n\n",
    );
    for t in Table::ALL {
        let spec = t.spec();
        s += &format!("## `{}` — {}\n\n", spec.name, t.zh());
        if spec.key.is_empty() {
            s += "Key: none (an event table; an exact duplicate row is loaded once).\n\n";
        } else {
            s += &format!(
                "Key: {}.\n\n",
                spec.key
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(" + ")
            );
        }
        s += "| column | format |\n|---|---|\n";
        for c in spec.columns {
            let name = if c.required {
                format!("**{}**", c.name)
            } else {
                c.name.to_string()
            };
            s += &format!("| {} | {} |\n", name, kind_text(c.kind));
        }
        s += "\n";
    }
    s += "## Finding categories\n\n| code | 规则 | default level |\n|---|---|---|\n";
    for c in Category::ALL {
        s += &format!(
            "| `{}` | {} | {} |\n",
            c.code(),
            c.zh(),
            c.default_level().code()
        );
    }
    s
}

#[test]
fn contract_doc_is_in_sync() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/contract.md");
    let want = render();
    if std::env::var("UPDATE_DOCS").is_ok() {
        std::fs::write(path, &want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(have == want, "docs/contract.md is out of date: run UPDATE_DOCS=1 cargo test --release -p medfund-contract");
}
