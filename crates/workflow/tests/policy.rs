//! The shipped policy file states exactly the built-in defaults, and bad values are refused
//! with the parameter named.
use medfund_workflow::Policy;
use std::path::Path;

#[test]
fn shipped_file_equals_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy/workflow.toml");
    let p = Policy::load_file(&path).unwrap();
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        serde_json::to_value(Policy::default()).unwrap()
    );
}

#[test]
fn refuses_bad_values() {
    let e = Policy::from_toml_str("[points]\nsuspend_at = 12\nterminate_at = 9").unwrap_err();
    assert!(format!("{e:#}").contains("suspend_at"), "{e:#}");
    assert!(Policy::from_toml_str("[sanction]\nfraud_multiple_min = \"6\"").is_err());
    assert!(Policy::from_toml_str("[sanction]\nviolation_multiple_max = \"-1\"").is_err());
    assert!(
        Policy::from_toml_str("[nonsense]\nx = 1").is_err(),
        "unknown sections are typos"
    );
    assert!(Policy::from_toml_str("[credit]\ngrade_a = 70").is_err());
    let p = Policy::from_toml_str("[sanction]\nliquidated_damages_multiple = 1.5").unwrap();
    assert_eq!(
        p.sanction.liquidated_damages_multiple.0.to_string(),
        "1.5",
        "a TOML float is read through its decimal text"
    );
}
