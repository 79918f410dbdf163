//! Dedupe over a file too large for one block, whose keys are increasing for the first blocks
//! (no dedupe map is kept then) and repeat later: the records of the earlier blocks must still be
//! found as the first of their key, exactly as if the maps had been kept all along.

use medfund_contract::schema::Table;
use medfund_ingest::{read_table_file, Options};
use std::fmt::Write;

fn psn_line(s: &mut String, i: usize, gend: u8) {
    writeln!(s, "P{i:09},{gend},1970-01-0{},310,320100", 1 + i % 9).unwrap();
}

#[test]
fn repeats_after_many_increasing_blocks_are_deduplicated() {
    // ~30 bytes a row: 1.2 M rows are ~36 MB, more than one block at any thread count used here.
    const N: usize = 1_200_000;
    let mut s = String::from("psn_no,gend,brdy,insutype,insuplc_admdvs\n");
    for i in 0..N {
        psn_line(&mut s, i, 1);
    }
    // Line numbers (header = line 1): row i is on line i + 2.
    psn_line(&mut s, 5, 1); // exact repeat of the first row 5: dropped
    psn_line(&mut s, 7, 2); // same key, other content: quarantined, row 7 kept
    psn_line(&mut s, N + 1, 1); // a new key after the repeats: kept
    psn_line(&mut s, 1_000_000, 2); // conflicting repeat of a row from a later block
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("psn.csv");
    std::fs::write(&path, &s).unwrap();

    for threads in [1, 2] {
        let ing = read_table_file(
            &path,
            Table::Psn,
            &Options {
                threads,
                ..Options::default()
            },
        )
        .unwrap();
        let st = ing.stats[&Table::Psn];
        assert_eq!(
            (st.read, st.loaded, st.duplicates, st.quarantined),
            (N as u64 + 4, N as u64 + 1, 1, 2),
            "threads {threads}"
        );
        let lines: Vec<u64> = ing.quarantine.iter().map(|q| q.line).collect();
        assert_eq!(lines, vec![N as u64 + 3, N as u64 + 5]);
        assert!(ing.quarantine[0].reason_en.contains("duplicate key"));
        // The refused records' own text, from the block they were read in (absorbed while the
        // next block was parsed).
        assert_eq!(ing.quarantine[0].raw, "P000000007,2,1970-01-08,310,320100");
        assert_eq!(ing.quarantine[1].raw, "P001000000,2,1970-01-02,310,320100");
        // The earlier records are the ones kept, in file order.
        let psn = &ing.batch.psn;
        assert_eq!(psn[7].psn_no, "P000000007");
        assert_eq!(psn[7].gend, medfund_contract::records::Gender::Male);
        assert_eq!(psn[1_000_000].gend, medfund_contract::records::Gender::Male);
        assert_eq!(psn[N].psn_no, format!("P{:09}", N + 1));
    }
}
