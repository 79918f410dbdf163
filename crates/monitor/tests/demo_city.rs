//! On the generated demo city the planted provider outlier is flagged and no other institution.

use medfund_contract::YearMonth;
use medfund_monitor::{monthly_report, provider_outliers, MonitorInput, Period, Policy};
use std::collections::BTreeSet;

#[test]
fn the_planted_outlier_and_no_other() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = medfund_gen::GenConfig {
        persons: medfund_gen::min_persons().max(20_000),
        seed: 42,
        year: 2025,
        threads: Some(2),
        progress: false,
    };
    medfund_gen::generate(tmp.path(), &cfg).unwrap();
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("manifest_summary.json")).unwrap(),
    )
    .unwrap();
    let planted = summary["provider_outlier"].as_str().unwrap().to_string();
    let ingested = medfund_ingest::read_batch(tmp.path(), &Default::default()).unwrap();
    let input = MonitorInput::from_batch(&ingested.batch);
    let policy = Policy::default();

    // The whole year (what the audit runs over a yearly batch).
    let year = Period {
        from: YearMonth::parse("2025-01").unwrap(),
        to: YearMonth::parse("2025-12").unwrap(),
    };
    let f = provider_outliers(&input, year, &policy);
    let flagged: BTreeSet<String> = f
        .iter()
        .filter_map(|f| f.fixmedins_code.as_ref().map(|c| c.to_string()))
        .collect();
    assert_eq!(
        flagged,
        BTreeSet::from([planted.clone()]),
        "{:#?}",
        f.iter().map(|f| &f.evidence.text).collect::<Vec<_>>()
    );

    // Every month's report flags it, and nobody else.
    for m in 1..=12 {
        let month = YearMonth {
            year: 2025,
            month: m,
        };
        let r = monthly_report(&input, month, &policy);
        let flagged: BTreeSet<String> = r
            .outliers
            .iter()
            .filter_map(|f| f.fixmedins_code.as_ref().map(|c| c.to_string()))
            .collect();
        assert_eq!(
            flagged,
            BTreeSet::from([planted.clone()]),
            "{month}: {:#?}",
            r.outliers
                .iter()
                .map(|f| &f.evidence.text)
                .collect::<Vec<_>>()
        );
    }
}
