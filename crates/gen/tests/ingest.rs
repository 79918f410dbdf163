//! The generated city loads through the ingest crate (the contract's validator) with nothing
//! quarantined, no duplicate keys and no code missing from its catalog.

use medfund_gen::{generate, GenConfig};
use medfund_ingest::{read_batch, Options};

#[test]
fn the_city_passes_contract_validation_without_a_single_quarantined_row() {
    let dir = tempfile::tempdir().unwrap();
    let s = generate(
        dir.path(),
        &GenConfig {
            persons: 2_000,
            seed: 99,
            year: 2024,
            threads: None,
            progress: false,
        },
    )
    .unwrap();
    let got = read_batch(dir.path(), &Options::default()).unwrap();
    let q: Vec<String> = got
        .quarantine
        .iter()
        .take(5)
        .map(|q| {
            format!(
                "{} line {}: {} ({})",
                q.table.name(),
                q.line,
                q.reason_en,
                q.raw
            )
        })
        .collect();
    assert_eq!(got.quarantined(), 0, "quarantined: {q:#?}");
    for (t, st) in &got.stats {
        assert_eq!(st.duplicates, 0, "{} has duplicate keys", t.name());
        assert_eq!(st.loaded, s.rows[t.name()], "{} rows", t.name());
    }
    assert_eq!(got.stats.len(), 15);
    assert_eq!(got.unknown_catalog_codes, 0);
}
