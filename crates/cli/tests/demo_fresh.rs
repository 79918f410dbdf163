//! `medfund demo --fresh` deletes the data directory only when the demo created it.

use std::process::Command;

#[test]
fn fresh_never_deletes_a_real_data_directory() {
    let data = std::env::temp_dir().join(format!("medfund-demo-fresh-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("medfund.sqlite"), b"a real store").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_medfund"))
        .arg("--data")
        .arg(&data)
        .args(["demo", "--fresh", "--no-serve"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("was not created by the demo"), "{err}");
    assert_eq!(
        std::fs::read(data.join("medfund.sqlite")).unwrap(),
        b"a real store"
    );
    std::fs::remove_dir_all(&data).unwrap();
}
